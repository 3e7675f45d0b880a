"""The README example, runnable: a CRM on a SQLite file in a temporary directory.

Run it with ``python examples/quickstart.py``. It prints what a plugin saw and the audit
trail of one customer, and checks both before it exits.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pycrm
from pycrm import CRM, Contact, Customer, Interaction, Money, Order, OrderLine, Task


class Welcome:
    """A plugin: it hears about every committed change and reacts to new customers."""

    def __init__(self) -> None:
        self.greeted: list[str] = []

    @pycrm.hookimpl
    def pycrm_event(self, event: pycrm.DomainEvent) -> None:
        if event.name == "customer.created" and isinstance(event.entity, Customer):
            self.greeted.append(event.entity.name)
            print(f"plugin: welcome, {event.entity.name}")


def main(directory: Path) -> int:
    welcome = Welcome()
    with CRM.open(f"sqlite:///{directory / 'crm.db'}", plugins=[welcome]) as crm:
        with crm.session(actor="alice") as s:
            acme = s.customers.add(
                Customer.company("Acme Tools", industry="manufacturing", phone="13812345678")
            )
            wei = s.contacts.add(
                Contact(customer_id=acme.id, name="Zhang Wei", is_decision_maker=True)
            )
            call = s.interactions.add(
                Interaction(
                    customer_id=acme.id,
                    contact_id=wei.id,
                    channel="phone",
                    occurred_at=s.now,
                    summary="Wants a quote for 40 drills",
                    next_action="Send the quote",
                    next_action_due=s.now + timedelta(days=2),
                )
            )
            s.tasks.add(
                Task(
                    subject="Send the quote",
                    due_at=s.now + timedelta(days=2),
                    customer_id=acme.id,
                    about=call.id,
                    assignee="alice",
                )
            )
            s.orders.add(
                Order.from_lines(
                    number="SO-1001",
                    customer_id=acme.id,
                    placed_at=s.now,
                    lines=[
                        OrderLine(
                            description="Cordless drill",
                            quantity=40,
                            unit_price=Money("89.50", "CNY"),
                        )
                    ],
                )
            )

        with crm.session(actor="bob") as s:
            acme = s.customers.get(acme.id)
            acme = s.customers.update(acme.evolve(priority="high"))
            phone = pycrm.mask_phone(acme.phone)
            print(f"customer: {acme.name}, version {acme.version}, phone {phone}")
            orders = s.orders.list(customer_id=acme.id)
            print(f"orders: {len(orders)}, total {orders.items[0].total}")
            print(f"open tasks: {s.tasks.count(customer_id=acme.id, status='open')}")
            trail = s.audit.for_entity(acme)
            for entry in trail:
                print(f"audit: {entry.actor} {entry.action.value} {entry.changes or ''}")

    assert welcome.greeted == ["Acme Tools"], welcome.greeted
    assert [(e.actor, e.action.value) for e in trail] == [("alice", "created"), ("bob", "changed")]
    assert trail[1].changes == {"priority": ["medium", "high"]}
    print("quickstart: ok")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))
