"""One shopper, two records: merge them, undo the merge, merge again, then erase the person.

Zhang Wei signed up on the website with his email and later gave his phone number in a store,
where a clerk typed his name differently. Each record has its own order and interaction. The
merge moves everything to the web record, which keeps its values and gains the phone; the
merge log undoes it exactly; finally, Zhang Wei asks to be forgotten, and the erasure keeps
his orders (and so the revenue) while no trace of his name, phone or email remains.

Runs on a temporary SQLite file with a fixed clock, so the output is the same on every run
but for the pseudonym, which comes from the record's id.

Run: ``python examples/merge_duplicates.py``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pycrm import CRM, Customer, FixedClock, Interaction, Money, Order, mask_phone

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'crm.db'}"
        crm = CRM.open(url, clock=FixedClock(NOW), identity_key="example key, not for real data")
        try:
            run(crm)
        finally:
            crm.close()
    print("merge_duplicates: ok")


def run(crm: CRM) -> None:
    with crm.session(actor="import") as s:
        web = s.customers.add(
            Customer.person(
                "Zhang Wei",
                email="zhang.wei@example.com",
                source_channel="web",
                tags=["newsletter"],
            )
        )
        store = s.customers.add(
            Customer.person(
                "Wei Zhang", phone="13812345678", source_channel="store", region="Shanghai"
            )
        )
        for number, customer, amount in (("W-1", web, "199.00"), ("S-1", store, "88.00")):
            s.orders.add(
                Order(
                    number=number,
                    customer_id=customer.id,
                    placed_at=NOW,
                    total=Money(amount, "CNY"),
                    status="paid",
                )
            )
        s.interactions.add(
            Interaction(
                customer_id=store.id,
                channel="visit",
                occurred_at=NOW,
                summary="Wei Zhang tried the blue jacket; call 13812345678 when size L is in",
            )
        )

    with crm.session(actor="ops") as s:
        log = s.customers.merge(web, [store])
        kept = s.customers.get(web.id)
        print(f"merged: {kept.name}, phone {mask_phone(kept.phone)}, region {kept.region}")
        print(f"merged: tags {sorted(kept.tags)}, orders {s.orders.count(customer_id=kept.id)}")
        moved = {m.entity_type: len(m.ids) for m in log.moved}
        print(f"moved: {moved}")

    with crm.session(actor="ops") as s:
        s.customers.unmerge(log)
        print(
            f"unmerged: customers {s.customers.count()}, web orders "
            f"{s.orders.count(customer_id=web.id)}"
        )

    with crm.session(actor="ops") as s:
        s.customers.merge(web.id, [store.id])
        scores = s.rfm()

    with crm.session(actor="dpo") as s:
        erased = s.customers.erase(web.id, "erasure request 2026-17")
        interaction = s.interactions.list(customer_id=erased.id).items[0]
        print(f"erased: {erased.name}, phone {erased.phone}, email {erased.email}")
        print(f"erased: {interaction.summary}")
        total = sum(o.total.amount for o in s.orders.stream(customer_id=erased.id))
        print(f"erased: orders kept, total {total} CNY, RFM unchanged {s.rfm() == scores}")
        last = s.audit.for_entity(erased)[-1]
        print(f"audit: {last.actor} {last.action.value} {last.changes}")


if __name__ == "__main__":
    main()
