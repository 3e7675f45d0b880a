"""Embedding in a host: pycrm on the host's engine, inside the host's own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from pycrm import CRM, Customer, DomainEvent, FixedClock, hookimpl

if TYPE_CHECKING:
    from conftest import SqlBackend


class Boom(Exception):
    pass


class Events:
    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl
    def pycrm_event(self, event: DomainEvent) -> None:
        self.names.append(event.name)


@pytest.fixture
def host_orders(sql: SqlBackend) -> Iterator[sa.Table]:
    """The host application's own table, next to pycrm's."""
    table = sa.Table(
        f"{sql.prefix}host_orders",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer_ref", sa.String(64), nullable=False),
    )
    with sql.store.engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
    yield table
    with sql.store.engine.begin() as conn:
        table.drop(conn)


def _counts(crm: CRM, engine: sa.Engine, table: sa.Table) -> tuple[int, int]:
    with crm.session() as s:
        customers = s.customers.count()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return customers, rows


def test_host_transaction_commits_both(
    sql: SqlBackend, host_orders: sa.Table, clock: FixedClock
) -> None:
    events = Events()
    engine = sql.store.engine
    crm = CRM.open(engine, table_prefix=sql.prefix, clock=clock, plugins=[events])
    with engine.connect() as conn, conn.begin():
        with crm.session(actor="shop", connection=conn) as s:
            customer = s.customers.add(Customer.person("Emily Carter"))
        conn.execute(host_orders.insert().values(id=1, customer_ref=customer.id))
        assert events.names == []  # the host has not committed yet
    assert events.names == ["customer.created"]
    assert _counts(crm, engine, host_orders) == (1, 1)


def test_host_rollback_takes_pycrm_records_with_it(
    sql: SqlBackend, host_orders: sa.Table, clock: FixedClock
) -> None:
    events = Events()
    engine = sql.store.engine
    crm = CRM.open(engine, table_prefix=sql.prefix, clock=clock, plugins=[events])
    with pytest.raises(Boom), engine.connect() as conn, conn.begin():
        conn.execute(host_orders.insert().values(id=1, customer_ref="pending"))
        with crm.session(actor="shop", connection=conn) as s:
            s.customers.add(Customer.person("张伟"))
        raise Boom  # the host fails after pycrm's session finished
    assert events.names == []
    assert _counts(crm, engine, host_orders) == (0, 0)


def test_failed_pycrm_session_leaves_host_work_to_the_host(
    sql: SqlBackend, host_orders: sa.Table, clock: FixedClock
) -> None:
    engine = sql.store.engine
    crm = CRM.open(engine, table_prefix=sql.prefix, clock=clock)
    with engine.connect() as conn, conn.begin():
        conn.execute(host_orders.insert().values(id=1, customer_ref="kept"))
        with pytest.raises(Boom), crm.session(connection=conn) as s:
            s.customers.add(Customer.person("Rolled Back"))
            raise Boom
    assert _counts(crm, engine, host_orders) == (0, 1)


def test_open_by_url_creates_schema_and_reopens(tmp_path: Path, clock: FixedClock) -> None:
    url = f"sqlite:///{tmp_path}/embedded.db"
    with CRM.open(url, clock=clock) as crm, crm.session() as s:
        s.customers.add(Customer.company("Acme"))
    with CRM.open(url, clock=clock) as crm, crm.session() as s:
        assert [c.name for c in s.customers.list()] == ["Acme"]
