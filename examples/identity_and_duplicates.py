"""One customer across channels: resolve, find duplicates, and report data quality.

Customers arrive from the website, the app, a shop and the service desk, typed differently
each time. The example stores them in a temporary SQLite file, resolves a caller by phone and
email (one customer, and a conflict), lists the likely duplicates with their reasons, merges
one pair, and prints the data-quality report before and after.

Run: ``python examples/identity_and_duplicates.py``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pycrm import CRM, Customer, FixedClock

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
KEY = "example-identity-key-keep-me-in-a-secret-store"


def arrivals() -> list[Customer]:
    return [
        Customer.person("Zhang Wei", phone="138 1234 5678", source_channel="web", member_id="M1"),
        Customer.person("ZHANG  WEI", phone="+86 13812345678", source_channel="app"),
        Customer.person("Li Na", email="li.na@example.com", source_channel="store"),
        Customer.person("Li Na", email="LI.NA@Example.com ", employer="Acme Co., Ltd."),
        Customer.person("Wang Fang", phone="12345", source_channel="service"),
        Customer.company("深圳市腾达科技有限公司", industry="electronics", region="华南"),
        Customer.company("深圳市腾达科技", source_channel="exhibition"),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'identity.db'}"
        crm = CRM.open(url, clock=FixedClock(NOW), identity_key=KEY)
        try:
            with crm.session(actor="import") as s:
                s.customers.add_many(arrivals())

            with crm.session() as s:
                by_member = s.customers.resolve(member_id="M1", phone="13812345678")
                print(f"resolve member M1 + phone: ambiguous={by_member.ambiguous}")
                print(f"  candidates: {len(by_member.candidate_ids)}")
                by_email = s.customers.resolve(email=" li.na@EXAMPLE.com")
                print(f"resolve email: found={by_email.found}, {len(by_email.candidate_ids)} match")

                candidates = list(s.customers.duplicates())
                for candidate in candidates:
                    names = [s.customers.get(i).name for i in candidate.customer_ids]
                    reasons = ", ".join(candidate.descriptions)
                    print(f"duplicate: {' / '.join(names)} score {candidate.score:.2f} ({reasons})")

                before = s.customers.quality_report()
                print(f"quality before: {before.score:.2f}, issues {dict(before.issue_counts)}")

            with crm.session(actor="data-steward") as s:
                first = candidates[0]
                survivor, duplicate = first.customer_ids
                s.customers.merge(survivor, [duplicate])
                resolved = s.customers.resolve(member_id="M1", phone="13812345678")
                print(f"after merge: resolve found={resolved.found} on {resolved.matched_on}")
                after = s.customers.quality_report()
                print(f"quality after: {after.score:.2f}, customers {after.customers}")
        finally:
            crm.close()
    print("identity_and_duplicates: ok")


if __name__ == "__main__":
    main()
