"""A host application that owns its SQLAlchemy ``Engine`` and its own ``orders`` table.

In one host transaction it writes its own row and, through
``crm.session(actor=..., connection=conn)``, pycrm's records. Both commit together or
neither does; plugins hear of pycrm's changes only after the host has committed.

Run it with ``python examples/embed_host_transaction.py`` (SQLite in a temporary directory).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

import pycrm
from pycrm import CRM, Customer, Money, Order

# The host's own schema, on the host's own MetaData. pycrm's tables are prefixed ``crm_``,
# so the host's ``orders`` table and pycrm's ``crm_orders`` live side by side.
host_metadata = sa.MetaData()
shop_orders = sa.Table(
    "orders",
    host_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(40), nullable=False, unique=True),
    sa.Column("crm_customer_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
)


class Heard:
    """Collects the events plugins receive, to show when they arrive."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @pycrm.hookimpl
    def pycrm_event(self, event: pycrm.DomainEvent) -> None:
        self.names.append(event.name)


class PaymentDeclined(Exception):
    """The host's own failure, raised after pycrm has written its part."""


def checkout(
    engine: sa.Engine,
    crm: CRM,
    heard: Heard,
    *,
    reference: str,
    buyer: str,
    amount: str,
    fail: bool,
) -> list[str]:
    """Record a sale: the host's order row and pycrm's customer and order, atomically.

    Returns the events plugins had received just before the host committed.
    """
    with engine.begin() as conn:  # the host's transaction
        with crm.session(actor="shop", connection=conn) as s:
            customer = s.customers.add(Customer.person(buyer, source_channel="web shop"))
            s.orders.add(
                Order(
                    number=reference,
                    customer_id=customer.id,
                    placed_at=s.now,
                    total=Money(amount, "EUR"),
                    status="paid",
                )
            )
        conn.execute(
            shop_orders.insert().values(
                reference=reference, crm_customer_id=customer.id, amount=amount
            )
        )
        if fail:
            raise PaymentDeclined(reference)
        # Taken before leaving the block, that is before the host commits.
        return list(heard.names)


def counts(engine: sa.Engine, crm: CRM) -> tuple[int, int, int]:
    with engine.connect() as conn:
        host_rows = conn.execute(sa.select(sa.func.count()).select_from(shop_orders)).scalar_one()
    with crm.session() as s:
        return host_rows, s.customers.count(), s.orders.count()


def main(directory: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{directory / 'shop.db'}")
    host_metadata.create_all(engine)
    heard = Heard()
    with CRM.open(engine, plugins=[heard]) as crm:
        # A failure after pycrm wrote its records: the host rolls back, and so does pycrm.
        try:
            checkout(
                engine, crm, heard, reference="WEB-1", buyer="Li Na", amount="40.00", fail=True
            )
        except PaymentDeclined:
            print("failed checkout: rolled back")
        after_failure = counts(engine, crm)
        print(
            f"after failure: host orders={after_failure[0]}, crm customers="
            f"{after_failure[1]}, crm orders={after_failure[2]}, events={heard.names}"
        )
        assert after_failure == (0, 0, 0), after_failure
        assert heard.names == [], heard.names

        # Success: both sides commit together, then plugins hear about it.
        before_commit = checkout(
            engine, crm, heard, reference="WEB-2", buyer="Wang Fang", amount="125.50", fail=False
        )
        print(f"events before the host committed: {before_commit}")
        assert before_commit == [], before_commit
        after_success = counts(engine, crm)
        print(
            f"after success: host orders={after_success[0]}, crm customers="
            f"{after_success[1]}, crm orders={after_success[2]}, events={heard.names}"
        )
        assert after_success == (1, 1, 1), after_success
        assert heard.names == ["customer.created", "order.created"], heard.names

    engine.dispose()
    print("embed_host_transaction: ok")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))
