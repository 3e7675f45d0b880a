"""The examples run as a user would run them, and the README's example works as printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_python(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``python ARGS`` with this interpreter; fail with its output if it fails."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"python {' '.join(args)} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


def test_quickstart(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "quickstart.py")], cwd=tmp_path)
    assert "plugin: welcome, Acme Tools" in out
    assert "customer: Acme Tools, version 2, phone 138****5678" in out
    assert "orders: 1, total 3,580.00 CNY" in out
    assert "open tasks: 1" in out
    assert "audit: alice created" in out
    assert "audit: bob changed {'priority': ['medium', 'high']}" in out
    assert out.rstrip().endswith("quickstart: ok")
    assert list(tmp_path.iterdir()) == [], "the quickstart must clean up its database"


def test_encryption_at_rest(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "encryption_at_rest.py")], cwd=tmp_path)
    assert "application reads: 13812345678, 北京市朝阳区建国路88号" in out
    assert "logs and exports see: 138****5678, 北京市朝阳区****" in out
    assert "found by phone: ['Zhang Wei']" in out
    assert out.count("database holds: $e1$") == 2
    assert "$e1$2026-01$" in out
    assert "$e1$2026-06$" in out
    assert "re-encrypted rows: 1" in out
    assert "with the new key alone: zhang.wei@example.com" in out
    assert "personal values in the raw file: []" in out
    assert out.rstrip().endswith("encryption_at_rest: ok")
    assert list(tmp_path.iterdir()) == []


def test_embed_host_transaction(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "embed_host_transaction.py")], cwd=tmp_path)
    assert "failed checkout: rolled back" in out
    assert "after failure: host orders=0, crm customers=0, crm orders=0, events=[]" in out
    assert "events before the host committed: []" in out
    assert (
        "after success: host orders=1, crm customers=1, crm orders=1, "
        "events=['customer.created', 'order.created']"
    ) in out
    assert out.rstrip().endswith("embed_host_transaction: ok")


def test_lead_to_cash(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "lead_to_cash.py")], cwd=tmp_path)
    assert "opportunity: MES rollout, plant 2 -> contract_signed" in out
    assert "opportunity: Spare-parts portal -> lost (budget frozen)" in out
    assert "contract: HT-2026-00001, 360,000.00 CNY, needs ('sales', 'finance')" in out
    assert "approval: finance by zhao -> approved" in out
    assert "overdue on 2026-08-10: 252,000.00 CNY" in out
    assert "receipt: 252,000.00 CNY, outstanding 0.00 CNY" in out
    assert "renewal reminder: 2027-02-28" in out
    assert out.rstrip().endswith("lead_to_cash: ok")
    assert list(tmp_path.iterdir()) == [], "the example must clean up its database"


def test_intake(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "intake.py")], cwd=tmp_path)
    assert "channels: csv, web_form" in out
    assert "web form: Acme Tools (new: True), deal '20 CNC machines' graded high" in out
    assert "owner alice" in out
    assert "expo_2026: 3 rows read; 2 taken in (1 new customers, 0 opportunities)" in out
    assert "refused row 3: E-mail not an email address (w***@@example)" in out
    assert "'visit: Spindle options'" in out  # the same visitor, matched at the expo
    assert out.count("plugin heard: opened of quote-follow-up:acme") == 1
    assert "report 1: duplicate=False" in out
    assert "report 2: duplicate=True" in out
    assert "engagement entries: 1" in out
    assert out.rstrip().endswith("intake: ok")
    assert list(tmp_path.iterdir()) == [], "the example must clean up its database"


def test_readme_example_runs_as_printed(tmp_path: Path) -> None:
    """The README's Python block, pasted into a file and run twice in an empty directory."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert block, "README.md has no python example"
    script = tmp_path / "example.py"
    script.write_text(block.group(1), encoding="utf-8")
    for _ in range(2):
        out = run_python([str(script)], cwd=tmp_path)
        assert out.count("welcome, Acme Tools") == 1, out
        assert re.search(r" alice created None$", out, flags=re.MULTILINE), out
        assert re.search(r" bob changed \{'priority': \['medium', 'high'\]\}$", out, re.M), out
    assert (tmp_path / "crm.db").exists()


def install_example(package: str, tmp_path: Path) -> dict[str, str]:
    """Install the example package ``examples/<package>`` into a directory of its own, as a
    user would with pip; returns the environment under which Python sees it."""
    source = tmp_path / package
    shutil.copytree(EXAMPLES / package, source)
    target = tmp_path / "site"
    run_python(
        ["-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        cwd=tmp_path,
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    return env


def test_plugin_example_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """Install the example plugin package and let ``load_entrypoints=True`` discover it."""
    env = install_example("plugin_example", tmp_path)
    check = """
import pycrm_welcome
from pycrm import CRM, ENTRY_POINT_GROUP, Customer

with CRM.memory() as crm:
    assert crm.plugins.get_plugin("welcome") is None
with CRM.memory(load_entrypoints=True) as crm:
    assert crm.plugin_errors == [], crm.plugin_errors
    assert crm.plugins.get_plugin("welcome") is pycrm_welcome.plugin
    with crm.session(actor="alice") as s:
        s.customers.add(Customer.person("Li Na"))
    assert pycrm_welcome.plugin.greeted == ["Li Na"], pycrm_welcome.plugin.greeted
print("loaded from entry-point group", ENTRY_POINT_GROUP)
"""
    out = run_python(["-c", check], cwd=tmp_path, env=env)
    assert "loaded from entry-point group pycrm" in out


def test_segments_and_grades(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "segments_and_grades.py")], cwd=tmp_path)
    assert "segment: ['北方重工']" in out
    assert "saved segment 'quiet makers': 1 customer(s)" in out
    assert "3 graded, 3 new, 0 changed, 0 rescheduled (A: 1, B: 1, C: 1)" in out
    # Weekly from the visit 120 days ago: overdue since March.
    assert "北方重工: A, next follow-up 2026-03-09" in out
    assert "[yes] (F.spend(days=365) >= 100000)  (F.spend(days=365) = 180000.00)" in out
    assert "churn risk: Corner Shop: no interaction or purchase for 300 days" in out


def test_service_desk(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "service_desk.py")], cwd=tmp_path)
    # Dispatch by type; round robin starts with the first agent, least loaded with the idle one.
    assert "Scanner app crashes on login     fault     -> tech/wu.hao" in out
    assert "Charged twice for order 1043     complaint -> complaints/tang.li" in out
    # Urgent: half an hour to respond, four working hours to resolve.
    assert "response running (due Fri 13 15:30), resolution running (due Fri 13 19:00)" in out
    # The complaint's hour ran out at 16:00; the waiting fault's resolution clock stands still.
    assert "response breached (due Fri 13 16:00)" in out
    assert "response met (due Fri 13 15:30), resolution paused" in out
    # The pause moved the due time by its working time only: Saturday works, Sunday does not,
    # and Monday is the company's stored day off.
    assert "resolution due after it:         Tue 17 13:40" in out
    assert "the pause covered 15:40:00 of working time" in out
    assert "repeat complaint: True" in out
    assert "Acme Logistics: satisfaction 5.0 from 1 rating" in out


def test_import_customers(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "import_customers.py")], cwd=tmp_path)
    assert "all or nothing: customers: 4 rows read; nothing stored; 1 refused" in out
    assert "row 3, Joined: day is out of range for month" in out
    assert "skipping bad rows: customers: 4 rows read; 3 created" in out
    assert "corrections: customers: 2 rows read; 1 created, 1 updated" in out
    assert "Li Na: tags ['newsletter', 'vip'], version 2" in out
    assert "138****5678" in out
    assert "13812345678" not in out
    assert "export: '=cmd|" in out
    assert out.rstrip().endswith("import_customers: ok")
    assert list(tmp_path.iterdir()) == [], "the example must clean up after itself"


def test_identity_and_duplicates(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "identity_and_duplicates.py")], cwd=tmp_path)
    assert "resolve member M1 + phone: ambiguous=True" in out
    assert "resolve email: found=False, 2 match" in out
    assert "duplicate: Zhang Wei / ZHANG  WEI score 0.90 (same phone hash)" in out
    assert "duplicate: Li Na / Li Na score 0.80 (same email)" in out
    assert "score 0.70 (same company name key)" in out
    assert "after merge: resolve found=True on ('member_id', 'phone')" in out
    assert "quality after: 0.70, customers 6" in out
    assert out.rstrip().endswith("identity_and_duplicates: ok")
    assert list(tmp_path.iterdir()) == []


def test_notifications(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "notifications.py")], cwd=tmp_path)
    assert "[zh-CN] 跟进提醒\uff1aAcme Tools" in out
    assert "[en] Follow-up due: Acme Tools" in out
    assert "log: pycrm.notify: notification follow-up:acme:2026-03-02 via log to wang.fang" in out
    assert "Next action: send the revised quote {x.__class__}" in out
    assert "memory body: Phone: 138****5678" in out
    assert "inbox body: Phone: 13812345678" in out
    assert out.count("13812345678") == 1, "only the channel allowed to see it gets the number"
    assert out.rstrip().endswith("notifications: ok")
    assert list(tmp_path.iterdir()) == []


def test_wecom_channel_example_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """Install the example channel package; with its URL set, ``load_entrypoints=True``
    registers the channel, which posts to a bot (a loopback server here)."""
    env = install_example("wecom_channel", tmp_path)
    env.pop("PYCRM_WECOM_WEBHOOK_URL", None)
    check = """
import json, os, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
import pycrm_wecom
from pycrm import CRM, DeliveryError, sees_personal_data

posted, answers = [], [{"errcode": 0, "errmsg": "ok"}, {"errcode": 93000, "errmsg": "bad key"}]

class Bot(BaseHTTPRequestHandler):
    def do_POST(self):
        posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps(answers.pop(0)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Bot)
threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()

with CRM.memory(load_entrypoints=True, identity_key="example-only-identity-key") as crm:
    assert crm.plugin_errors == [], crm.plugin_errors
    assert "wecom" not in crm.channels, "no URL, no channel"
os.environ["PYCRM_WECOM_WEBHOOK_URL"] = f"http://127.0.0.1:{server.server_address[1]}/send"
with CRM.memory(load_entrypoints=True, identity_key="example-only-identity-key") as crm:
    assert crm.plugins.get_plugin("wecom") is pycrm_wecom
    channel = crm.channels["wecom"]
    assert not sees_personal_data(channel)
    values = {"rep": "Wang", "customer": "Acme", "product": "toner", "last_purchase": "2026-01-05",
              "phone": "13812345678"}
    message = crm.templates.render("repurchase_reminder", values, locale="en",
                                   personal_data=sees_personal_data(channel))
    channel.send(message.notification(channel="wecom", recipient="sales-group", key="r:1"))
    try:
        channel.send(message.notification(channel="wecom", recipient="sales-group", key="r:2"))
    except DeliveryError as exc:
        print("refused:", exc)
server.shutdown()
(first, _) = posted
assert first["msgtype"] == "text", first
print("content:", json.dumps(first["text"]["content"]))
"""
    out = run_python(["-c", check], cwd=tmp_path, env=env)
    assert 'content: "Repurchase reminder: Acme\\n\\nHello Wang,' in out
    assert "Phone: 138****5678" in out
    assert "13812345678" not in out
    assert "refused: channel 'wecom': WeCom bot refused: 93000 bad key" in out


def test_cron_host(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "cron_host.py")], cwd=tmp_path)
    first, second = (line for line in out.splitlines() if line.startswith("["))
    assert first.startswith("[08:00] tick: 2 tasks, 4 messages, 0 already there")
    assert "sent 4" in first
    assert "mail to wang.fang@acme.example: Follow-up due: Acme Tools" in out
    assert "mail to li.lei@acme.example: Escalation: Spindle retrofit" in out
    assert "mail to wang.fang@acme.example: Daily activity report: wang.fang (2026-03-01)" in out
    assert second.startswith("[08:01] tick: 0 tasks, 0 messages, 6 already there")
    assert "claimed 0, sent 0" in second
    assert "sent in all: 4" in out
    assert out.rstrip().endswith("cron_host: ok")
    assert list(tmp_path.iterdir()) == []


def test_notebook_review(tmp_path: Path) -> None:
    out = run_python([str(EXAMPLES / "notebook_review.py")], cwd=tmp_path)
    assert "imported customers: 200 rows read; 200 created" in out
    assert "imported orders: 1,029 rows read; 1,029 created" in out
    assert "regrade: abc as of 2026-07-01T09:00:00+00:00: 200 graded" in out
    assert "RFM: 198 customers scored as of 2026-06-30" in out
    assert "segment at risk: 25 customers exported to at-risk.csv" in out
    for title in ("Order value", "Sales by month", "New customers", "Retention and churn"):
        assert f"{title} (2026-06)" in out
    assert "to_pandas: 6 months, revenue 1,356,394.66" in out
    assert "finding: retention rate fell 13% vs 2026-05 (0.6182 \u2192 0.5385)" in out
    assert "figures: sales_trend.png, rfm.png" in out
    assert "13800000001" not in out
    assert out.rstrip().endswith("notebook_review: ok")
    assert list(tmp_path.iterdir()) == [], "the example must clean up after itself"
