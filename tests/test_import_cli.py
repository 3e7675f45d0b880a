"""``pycrm import`` and ``pycrm export`` on real SQLite files, run in-process."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

from pycrm import CRM
from pycrm.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_reimport_with_a_key_then_export(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    source = write(
        tmp_path / "in.csv",
        "Member,kind,Name,phone,Notes\nM1,company,Acme,13812345678,x\nM2,person,Li,,y\n",
    )
    args = ["import", "customers", str(source), "--db", db, "--map", "Member=member_id"]
    args += ["--map", "Name=name", "--map", "Notes=", "--key", "member_id"]
    code, out, err = run(*args)
    assert code == 0, err
    assert "2 created" in out
    code, out, _ = run(*args)
    assert code == 0
    assert "0 created, 0 updated, 2 unchanged" in out
    target = tmp_path / "out.csv"
    code, _, err = run("export", "customers", str(target), "--db", db)
    assert code == 0
    assert "exported 2 customers (personal data masked)" in err
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["phone"] for r in rows] == ["138****5678", ""]
    code, _, _ = run("export", "customers", str(target), "--db", db, "--unmasked")
    assert "13812345678" in target.read_text(encoding="utf-8")
    with CRM.open(db) as crm, crm.session() as s:
        assert s.customers.count() == 2


def test_refused_rows_exit_1_and_go_to_the_errors_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    source = write(tmp_path / "in.csv", "kind,name,employees\ncompany,Acme,12\nrobot,R2,\n")
    errors = tmp_path / "errors.csv"
    code, out, err = run("import", "customers", str(source), "--db", db, "--errors", str(errors))
    assert code == 1
    assert "nothing stored" in out
    assert str(errors) in err
    (line,) = csv.DictReader(errors.open(encoding="utf-8"))
    assert (line["row"], line["field"]) == ("2", "kind")
    code, out, err = run("import", "customers", str(source), "--db", db, "--mode", "skip_bad_rows")
    assert code == 1
    assert "1 created" in out
    assert "row 2: kind (column kind): must be one of" in err


def test_import_usage_errors(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "kind,name\ncompany,Acme\n")
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    assert run("import", "customers", str(source), "--db", db, "--map", "nofield")[0] == 2
    assert run("import", "widgets", str(source), "--db", db)[0] == 2
    code, _, err = run("import", "customers", str(source), "--db", db, "--key", "name")
    assert code == 1
    assert "error: key: customers can be matched on member_id, phone, email" in err
    code, _, err = run("import", "customers", str(tmp_path / "missing.csv"), "--db", db)
    assert code == 1
    assert "error:" in err


def test_times_without_an_offset_take_the_zone_given(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    source = write(
        tmp_path / "in.csv", "kind,name,captured_at,tags\nperson,Li,2026-01-05 09:00,a;b\n"
    )
    code, _, err = run("import", "customers", str(source), "--db", db)
    assert code == 1
    assert "timezone-aware" in err
    args = ["import", "customers", str(source), "--db", db, "--tz", "Asia/Shanghai"]
    code, _, err = run(*args, "--tag-separator", ";")
    assert code == 0, err
    with CRM.open(db) as crm, crm.session() as s:
        (li,) = s.customers.stream()
    assert li.captured_at is not None
    assert li.captured_at.isoformat() == "2026-01-05T01:00:00+00:00"
    assert li.tags == frozenset({"a", "b"})
    assert run("import", "customers", str(source), "--db", db, "--tz", "Mars/Olympus")[0] == 2
