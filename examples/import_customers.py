"""Importing a member list from another system, fixing it, and exporting it again.

Run it with ``python examples/import_customers.py``. It writes a small CSV file the way a
shop system might export it (its own column names, day-first dates, tags split on ``|``,
one broken row), imports it, imports a corrected file over it, adds orders that name their
customer by member number, and exports the customers with personal data masked.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from pycrm import CRM
from pycrm.io import Column, export_csv, import_records, parse_datetime, split_on

MEMBERS = """\
Member no,Type,Name,Mobile,E-mail,Joined,Labels,Till note
VIP-1001,company,Acme Tools,138 1234 5678,buyer@acme.example,03/01/2025,vip|b2b,called twice
VIP-1002,person,Li Na,139-0000-1111,,15/02/2025,newsletter,
VIP-1003,person,,137 0000 2222,nobody@example.com,31/02/2025,,
VIP-1004,company,=cmd|' /C calc'!A0,,,01/03/2025,,pasted from a spreadsheet
"""

CORRECTIONS = """\
Member no,Type,Name,Mobile,E-mail,Joined,Labels,Till note
VIP-1002,person,Li Na,139-0000-1111,li.na@example.com,15/02/2025,newsletter|vip,
VIP-1003,person,Wang Fang,137 0000 2222,nobody@example.com,28/02/2025,,
"""

ORDERS = """\
number,customer_member_id,placed_at,total_amount
SO-1,VIP-1001,2025-03-02T10:00:00+08:00,12800.00
SO-2,VIP-1003,2025-03-05T15:30:00+08:00,399.00
"""

MAPPING = {
    "Member no": "member_id",
    "Type": "kind",
    "Name": "name",
    "Mobile": "phone",
    "E-mail": "email",
    # Day-first dates, in the shop's own time zone.
    "Joined": Column("captured_at", parse_datetime("%d/%m/%Y", tz=ZoneInfo("Asia/Shanghai"))),
    "Labels": Column("tags", split_on("|")),
    "Till note": None,
}


def main(tmp: Path) -> int:
    (tmp / "members.csv").write_text(MEMBERS, encoding="utf-8")
    (tmp / "corrections.csv").write_text(CORRECTIONS, encoding="utf-8")
    (tmp / "orders.csv").write_text(ORDERS, encoding="utf-8")
    with CRM.open(f"sqlite:///{tmp / 'crm.db'}") as crm:
        first = import_records(
            crm, "customers", tmp / "members.csv", mapping=MAPPING, key="member_id"
        )
        print(f"all or nothing: {first.summary()}")
        for error in first:
            print(f"  row {error.row}, {error.column}: {error.problem}")

        report = import_records(
            crm,
            "customers",
            tmp / "members.csv",
            mapping=MAPPING,
            key="member_id",
            mode="skip_bad_rows",
        )
        print(f"skipping bad rows: {report.summary()}")
        fixed = import_records(
            crm, "customers", tmp / "corrections.csv", mapping=MAPPING, key="member_id"
        )
        print(f"corrections: {fixed.summary()}")
        orders = import_records(crm, "orders", tmp / "orders.csv", currency="CNY", key="number")
        print(f"orders: {orders.summary()}")

        with crm.session() as s:
            li = s.customers.list(member_id="VIP-1002").items[0]
            print(f"Li Na: tags {sorted(li.tags)}, version {li.version}")
            stored = s.customers.count()

        count = export_csv(crm, "customers", tmp / "customers.csv")
        with (tmp / "customers.csv").open(encoding="utf-8", newline="") as exported:
            rows = list(csv.DictReader(exported))
        for row in rows:
            print(f"export: {row['name']:<22} {row['phone']:<12} {row['member_id']}")

    assert not first.committed
    assert [e.row for e in first] == [3]
    assert (report.created, report.skipped) == (3, 1)
    assert (fixed.created, fixed.updated) == (1, 1)
    assert orders.created == 2
    assert stored == count == 4
    assert all("1234" not in row["member_id"] for row in rows)
    assert any(row["name"].startswith("'=") for row in rows), "formulas are defused"
    print("import_customers: ok")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))
