"""What only the SQL store has to get right: schema, types, dialects, migrations, bulk paths
and transactions joined to a host's connection.

Runs on SQLite (a temporary file) and, when their URLs are set, on PostgreSQL
(``PYCRM_TEST_POSTGRES_URL``) and MariaDB/MySQL (``PYCRM_TEST_MYSQL_URL``). Every test works
on tables with a prefix of its own and drops them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.pool import NullPool

from conftest import sql_url
from pycrm.contracts import (
    ApprovalPolicy,
    PaymentPlan,
    approve,
    draft_contract,
    submit_for_approval,
)
from pycrm.domain import (
    AuditEntry,
    ChangeKind,
    Contact,
    Customer,
    Interaction,
    LifecycleStatus,
    Money,
    Order,
    OrderLine,
    Task,
)
from pycrm.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    SessionClosed,
    ValidationError,
)
from pycrm.pipeline import advance_opportunity, default_pipeline, deliver, open_opportunity
from pycrm.storage.sqlalchemy import SqlStore, Tables, current_revision, define_tables, upgrade
from pycrm.storage.sqlalchemy.migrate import MIGRATIONS, alembic_config, head_revision
from pycrm.storage.sqlalchemy.types import Amount, UtcDateTime

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
CST = timezone(timedelta(hours=8))


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sql_url(request.param, tmp_path)


@pytest.fixture
def prefix() -> str:
    return f"t{uuid4().hex[:8]}_"


def drop_pycrm_tables(url: str, prefix: str, schema: str | None = None) -> None:
    """Drop one prefix's tables (and version table) on a connection of its own."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            # Never hang on locks a failed test may have left behind.
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '10s'")
            elif conn.dialect.name == "mysql":
                conn.exec_driver_sql("SET SESSION lock_wait_timeout = 10")
            metadata = sa.MetaData()
            tables = define_tables(metadata, prefix=prefix, schema=schema)
            sa.Table(tables.version_table, metadata, schema=schema)
            metadata.drop_all(conn, checkfirst=True)
    finally:
        engine.dispose()


@pytest.fixture
def store(url: str, prefix: str) -> Iterator[SqlStore]:
    instance = SqlStore.from_url(url, table_prefix=prefix)
    try:
        instance.ensure_schema()
        yield instance
    finally:
        instance.close()
        drop_pycrm_tables(url, prefix)


@pytest.fixture
def host_engine(url: str) -> Iterator[sa.Engine]:
    """An engine as a host application would make it: nothing of pycrm's installed on it."""
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def company(name: str = "华东精密制造有限公司", **fields: Any) -> Customer:
    fields.setdefault("created_at", NOW)
    fields.setdefault("updated_at", NOW)
    return Customer.company(name, **fields)


def order(customer_id: str, number: str, *prices: str, quantity: int = 2) -> Order:
    lines = [
        OrderLine(description=f"item {i}", quantity=quantity, unit_price=Money(price, "CNY"))
        for i, price in enumerate(prices, 1)
    ]
    return Order.from_lines(
        number=number, customer_id=customer_id, placed_at=NOW, lines=lines, created_at=NOW
    )


def stored(store: SqlStore, entity_type: str, entity_id: str) -> Any:
    tx = store.begin()
    try:
        return tx.table(entity_type).get(entity_id)
    finally:
        tx.rollback()


class Statements:
    """Records the SQL an engine sends to the driver, with whether it was an executemany."""

    def __init__(self, engine: sa.Engine) -> None:
        self.seen: list[tuple[str, bool]] = []
        self._engine = engine

    def _record(self, *args: Any) -> None:
        statement, executemany = args[2], args[5]
        self.seen.append((statement.split()[0].upper(), executemany))

    def __enter__(self) -> Statements:
        sa.event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._record)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.seen if kind not in ("SAVEPOINT", "RELEASE")]


# -- tables ----------------------------------------------------------------------------------


def test_define_tables_on_a_host_metadata_with_prefix_and_schema() -> None:
    metadata = sa.MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})
    sa.Table("host_invoices", metadata, sa.Column("id", sa.Integer, primary_key=True))
    tables = define_tables(metadata, prefix="erp_crm_", schema="sales")

    assert isinstance(tables, Tables)
    ours = {t.name for t in tables}
    assert ours == {
        "erp_crm_customers",
        "erp_crm_customer_tags",
        "erp_crm_contacts",
        "erp_crm_interactions",
        "erp_crm_tasks",
        "erp_crm_orders",
        "erp_crm_order_lines",
        "erp_crm_opportunities",
        "erp_crm_opportunity_stage_visits",
        "erp_crm_contracts",
        "erp_crm_contract_lines",
        "erp_crm_contract_instalments",
        "erp_crm_contract_approval_visits",
        "erp_crm_receipts",
        "erp_crm_rep_assignments",
        "erp_crm_team_supervisors",
        "erp_crm_exchange_rates",
        "erp_crm_resource_requests",
        "erp_crm_points_entries",
        "erp_crm_customer_grades",
        "erp_crm_segments",
        "erp_crm_tickets",
        "erp_crm_ticket_status_visits",
        "erp_crm_agent_turns",
        "erp_crm_calendars",
        "erp_crm_merge_logs",
        "erp_crm_outbox_messages",
        "erp_crm_sales_targets",
        "erp_crm_audit_log",
    }
    assert set(metadata.tables) == {"host_invoices"} | {f"sales.{name}" for name in ours}
    for table in tables:
        assert table.schema == "sales"
        # Rep assignments, team supervisors and agents' turns belong to reps, teams and
        # service groups, exchange rates and calendars are reference data, sales targets
        # belong to reps and teams, none of them to a customer: small tables a sharded
        # database would replicate to every node rather than distribute.
        keyed_elsewhere = (
            tables.customers,
            tables.rep_assignments,
            tables.team_supervisors,
            tables.exchange_rates,
            tables.segments,
            tables.agent_turns,
            tables.calendars,
            tables.sales_targets,
        )
        assert "customer_id" in table.c or table in keyed_elsewhere
        names = [c.name for c in table.constraints] + [i.name for i in table.indexes]
        # Every constraint and index is named, with the prefix, despite the host's convention.
        assert all(name and name.startswith("erp_crm_") for name in names), names
    assert tables.tasks.c.customer_id.nullable
    assert tables.customers.c.member_id.unique is None  # a named constraint, not a flag
    assert {c.name for c in tables.customers.constraints if isinstance(c, sa.UniqueConstraint)} == {
        "erp_crm_customers_member_id_uq"
    }
    assert {fk.target_fullname for fk in tables.interactions.foreign_keys} == {
        "sales.erp_crm_customers.id",
        "sales.erp_crm_contacts.id",
    }
    # Asking again returns the same tables, so a host and a store can share the MetaData.
    again = define_tables(metadata, prefix="erp_crm_", schema="sales")
    assert again.customers is tables.customers


def test_define_tables_refuses_bad_prefixes_and_half_defined_sets() -> None:
    with pytest.raises(ConfigurationError):
        define_tables(sa.MetaData(), prefix="crm-")
    with pytest.raises(ConfigurationError):
        define_tables(sa.MetaData(), prefix="x" * 21)
    metadata = sa.MetaData()
    sa.Table("crm_customers", metadata, sa.Column("id", sa.String(64), primary_key=True))
    with pytest.raises(ConfigurationError):
        define_tables(metadata)


def test_constraint_names_in_the_database_are_the_explicit_ones(store: SqlStore) -> None:
    inspector = sa.inspect(store.engine)
    is_mysql = store.engine.dialect.name == "mysql"
    for table in store.tables:
        foreign = {fk["name"] for fk in inspector.get_foreign_keys(table.name)}
        assert foreign == {c.name for c in table.foreign_key_constraints}
        unique = {uq["name"] for uq in inspector.get_unique_constraints(table.name)}
        if is_mysql:  # MySQL reports a unique index as a unique constraint as well
            unique -= {i.name for i in table.indexes if i.unique}
        assert unique == {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
        indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
        expected = {i.name for i in table.indexes}
        assert expected <= indexes
        # Unique constraints may be reported as indexes too; nothing else may appear.
        assert indexes - expected <= unique
        primary = inspector.get_pk_constraint(table.name)["name"]
        # MySQL names every primary key PRIMARY, whatever the DDL said.
        assert primary in ((None, "PRIMARY") if is_mysql else (table.primary_key.name,))


# -- migrations ------------------------------------------------------------------------------


def _compare(connection: sa.Connection, tables: Tables) -> list[Any]:
    def include_name(name: str | None, type_: str, parents: Any) -> bool:
        if type_ == "table":
            return bool(name) and str(name).startswith(tables.prefix)
        return type_ != "schema" or name == tables.schema

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": include_name,
            "include_schemas": tables.schema is not None,
        },
    )
    # The version table is Alembic's, not part of define_tables.
    return [
        diff
        for diff in compare_metadata(context, tables.metadata)
        if not (diff[0] == "remove_table" and diff[1].name == tables.version_table)
    ]


def test_migration_creates_exactly_what_define_tables_describes(url: str, prefix: str) -> None:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        assert current_revision(engine, table_prefix=prefix) is None
        upgrade(url, table_prefix=prefix)
        assert current_revision(url, table_prefix=prefix) == head_revision()
        inspector = sa.inspect(engine)
        assert inspector.has_table(f"{prefix}alembic_version")
        tables = define_tables(sa.MetaData(), prefix=prefix)
        with engine.connect() as conn:
            assert _compare(conn, tables) == []
            if conn.dialect.name == "sqlite":  # table options autogenerate does not compare
                query = "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                created = dict(list(conn.exec_driver_sql(query)))
                for table in tables:
                    described = str(sa.schema.CreateTable(table).compile(conn))
                    assert ("WITHOUT ROWID" in created[table.name]) == (
                        "WITHOUT ROWID" in described
                    )
                assert "WITHOUT ROWID" in created[tables.audit_log.name]
        upgrade(engine, table_prefix=prefix)  # already at head: nothing to do
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn, table_prefix=prefix), "base")
        remaining = [t for t in sa.inspect(engine).get_table_names() if t.startswith(prefix)]
        assert remaining == [f"{prefix}alembic_version"]
    finally:
        engine.dispose()
        drop_pycrm_tables(url, prefix)


def test_schema_on_postgres(prefix: str, tmp_path: Path) -> None:
    url = sql_url("postgres", tmp_path)
    schema = f"s{uuid4().hex[:8]}"
    admin = sa.create_engine(url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    store = SqlStore.from_url(url, table_prefix=prefix, schema=schema)
    try:
        store.ensure_schema()
        assert store.current_revision() == head_revision()
        inspector = sa.inspect(store.engine)
        names = set(inspector.get_table_names(schema=schema))
        assert {t.name for t in store.tables} | {store.tables.version_table} == names
        assert not any(n.startswith(prefix) for n in inspector.get_table_names())
        with store.engine.connect() as conn:
            assert _compare(conn, define_tables(sa.MetaData(), prefix=prefix, schema=schema)) == []
        customer = company(tags={"vip"})
        tx = store.begin()
        tx.table("customer").insert(customer)
        tx.table("order").insert(order(customer.id, "SO-1", "10.00"))
        tx.commit()
        assert stored(store, "customer", customer.id) == customer
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


def test_ensure_schema_is_idempotent_and_refuses_unrecorded_tables(store: SqlStore) -> None:
    store.ensure_schema()
    assert store.current_revision() == head_revision()
    tables = sa.inspect(store.engine).get_table_names()
    assert f"{store.tables.prefix}alembic_version" in tables
    assert "alembic_version" not in tables  # a host's own version table stays untouched

    version_table = sa.table(store.tables.version_table, sa.column("version_num"))
    with store.engine.begin() as conn:
        conn.execute(version_table.update().values(version_num="9999"))
    with pytest.raises(ConfigurationError, match="9999"):
        store.ensure_schema()
    with store.engine.begin() as conn:
        conn.execute(version_table.update().values(version_num=head_revision()))

    other_prefix = f"u{uuid4().hex[:8]}_"
    url = store.engine.url.render_as_string(hide_password=False)
    other = SqlStore(store.engine, table_prefix=other_prefix)
    other.tables.metadata.create_all(store.engine)
    try:
        # Tables a host's own migrations made: the way out is not to migrate them again.
        with pytest.raises(ConfigurationError, match="create_schema=False"):
            other.ensure_schema()
    finally:
        drop_pycrm_tables(url, other_prefix)


def test_a_database_at_0001_is_upgraded_to_opportunities(url: str, prefix: str) -> None:
    upgrade(url, revision="0001", table_prefix=prefix)
    store = SqlStore.from_url(url, table_prefix=prefix)
    try:
        assert store.current_revision() == "0001"
        store.ensure_schema()
        assert store.current_revision() == head_revision()
        with store.engine.connect() as conn:
            assert _compare(conn, define_tables(sa.MetaData(), prefix=prefix)) == []
    finally:
        store.close()
        drop_pycrm_tables(url, prefix)


def test_a_database_at_0002_is_upgraded_to_contracts(url: str, prefix: str) -> None:
    upgrade(url, revision="0002", table_prefix=prefix)
    store = SqlStore.from_url(url, table_prefix=prefix)
    try:
        assert store.current_revision() == "0002"
        assert not sa.inspect(store.engine).has_table(store.tables.contracts.name)
        store.ensure_schema()
        assert store.current_revision() == head_revision()
        with store.engine.connect() as conn:
            assert _compare(conn, define_tables(sa.MetaData(), prefix=prefix)) == []
    finally:
        store.close()
        drop_pycrm_tables(url, prefix)


def test_stage_visits_are_one_row_each_for_plain_sql(store: SqlStore) -> None:
    machine = default_pipeline()
    customer = company()
    deal, _ = open_opportunity(
        customer_id=customer.id,
        title="MES",
        amount=Money("10.00", "CNY"),
        owner="alice",
        now=NOW,
        by="alice",
    )
    deal, _ = deliver(deal, "needs_document", now=NOW)
    for day, stage in enumerate(("needs_confirmed", "proposal"), 1):
        deal, _ = advance_opportunity(
            deal, stage, now=NOW + timedelta(days=day), by="bob", machine=machine
        )
    deal, _ = advance_opportunity(
        deal, "lost", now=NOW + timedelta(days=5), by="bob", machine=machine, reason="price"
    )
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.table("opportunity").insert(deal)
    tx.commit()
    visits = store.tables.opportunity_stage_visits
    opportunities = store.tables.opportunities
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(opportunities.c.stage)).scalar_one() == "lost"
        rows = conn.execute(sa.select(visits).order_by(visits.c.seq)).mappings().all()
    assert [(r["seq"], r["stage"], r["customer_id"]) for r in rows] == [
        (1, "initial_contact", customer.id),
        (2, "needs_confirmed", customer.id),
        (3, "proposal", customer.id),
        (4, "lost", customer.id),
    ]
    assert rows[1]["entered_at"] == NOW + timedelta(days=1)
    assert rows[1]["left_at"] == NOW + timedelta(days=2)
    assert rows[3]["reason"] == "price"
    assert rows[3]["left_at"] is None
    assert stored(store, "opportunity", deal.id) == deal


def test_instalments_and_approvals_are_rows_for_plain_sql(store: SqlStore) -> None:
    customer = company()
    contract, _ = draft_contract(
        number="HT-2026-00001",
        customer_id=customer.id,
        lines=[OrderLine(description="MES", quantity=Decimal(3), unit_price=Money("10.00", "CNY"))],
        start_on="2026-04-01",
        end_on="2027-03-31",
        payment_plan=PaymentPlan.of(
            ("2026-06-30", Money("20.00", "CNY")), ("2026-04-30", Money("10.00", "CNY"))
        ),
        now=NOW,
        by="alice",
    )
    contract, _ = submit_for_approval(
        contract, policy=ApprovalPolicy.default(), now=NOW, by="alice"
    )
    contract, _ = approve(contract, level="sales", now=NOW + timedelta(hours=2), by="li")
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.table("contract").insert(contract)
    tx.commit()
    tables = store.tables
    due = tables.contract_instalments
    with store.engine.connect() as conn:
        # What falls due by the end of May, straight from the rows.
        owed = conn.execute(
            sa.select(sa.func.sum(due.c.amount)).where(due.c.due_on <= date(2026, 5, 31))
        ).scalar_one()
        stages = conn.execute(
            sa.select(tables.contract_approval_visits.c.stage).order_by(
                tables.contract_approval_visits.c.seq
            )
        ).scalars()
        assert list(stages) == ["draft", "pending_sales", "approved"]
        assert conn.execute(sa.select(tables.contracts.c.approval_stage)).scalar_one() == (
            "approved"
        )
    assert Decimal(owed) == Decimal("10.00")
    assert stored(store, "contract", contract.id) == contract


def test_migrations_ship_their_template() -> None:
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "env.py").is_file()
    assert head_revision() == "0016"


# -- types -----------------------------------------------------------------------------------


def test_amounts_are_exact_when_stored_and_summed(store: SqlStore) -> None:
    big = Decimal("123456789012.3456")
    customer = company(yearly_revenue=Money(big, "CNY"))
    prices = ["0.1000", "0.2", "99999999.9999", "89.50", "0.0001"]
    orders = [order(customer.id, f"SO-{i}", price, quantity=3) for i, price in enumerate(prices)]
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.table("order").insert_many(orders)
    tx.commit()

    assert stored(store, "customer", customer.id).yearly_revenue == Money(big, "CNY")
    tables = store.tables
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(tables.orders.c.total_amount))).scalar_one()
        line_total = conn.execute(
            sa.select(sa.func.sum(tables.order_lines.c.unit_price_amount))
        ).scalar_one()
        if conn.dialect.name == "sqlite":
            raw = conn.exec_driver_sql(
                f"SELECT typeof(total_amount) FROM {tables.orders.name}"
            ).scalars()
            assert set(raw) == {"integer"}
    assert isinstance(total, Decimal)
    assert total == sum(Decimal(p) * 3 for p in prices)
    assert line_total == sum(Decimal(p) for p in prices)
    # Read values keep at least the two places money is written with.
    read = stored(store, "order", orders[3].id)
    assert str(read.total.amount) == "268.50"
    assert str(read.lines[0].quantity) == "3"
    assert str(stored(store, "order", orders[4].id).total.amount) == "0.0003"


def test_amounts_that_would_be_rounded_are_refused(store: SqlStore) -> None:
    tx = store.begin()
    customer = company()
    tx.table("customer").insert(customer)
    with pytest.raises(ValidationError, match="decimal places"):
        tx.table("order").insert(order(customer.id, "SO-1", "0.12345"))
    with pytest.raises(ValidationError, match="too large"):
        tx.table("order").insert(order(customer.id, "SO-2", "1000000000000000"))
    tx.table("order").insert(order(customer.id, "SO-3", "1.5"))
    tx.commit()
    assert stored(store, "customer", customer.id) == customer
    assert tx.rollback() is None  # a no-op once ended


def test_datetimes_keep_zone_and_microseconds(store: SqlStore) -> None:
    local = datetime(2026, 3, 2, 17, 30, 15, 987654, tzinfo=CST)
    task = Task(subject="call back", due_at=local, created_at=NOW, updated_at=NOW)
    tx = store.begin()
    tx.table("task").insert(task)
    tx.commit()

    back = stored(store, "task", task.id)
    assert back == task
    assert back.due_at.tzinfo is timezone.utc
    assert back.due_at == local
    assert back.due_at.microsecond == 987654
    with store.engine.connect() as conn:
        raw = conn.execute(sa.text(f"SELECT due_at FROM {store.tables.tasks.name}")).scalar_one()
    expected = datetime(2026, 3, 2, 9, 30, 15, 987654)  # naive UTC
    assert raw == (str(expected) if store.engine.dialect.name == "sqlite" else expected)


def test_naive_datetimes_are_refused() -> None:
    dialect = sa.create_engine("sqlite://").dialect
    with pytest.raises(ValidationError):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), dialect)
    amount = Amount()
    assert amount.process_bind_param(Decimal("1.25"), dialect) == 12500
    assert amount.process_result_value(12500, dialect) == Decimal("1.25")


def test_sqlite_file_runs_in_wal_mode_with_foreign_keys(tmp_path: Path, prefix: str) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    store = SqlStore.from_url(url, table_prefix=prefix)
    try:
        store.ensure_schema()
        tx = store.begin()
        conn = tx.connection
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        tx.rollback()
    finally:
        store.close()


# -- writing ---------------------------------------------------------------------------------


def test_update_and_delete_are_version_checked(store: SqlStore) -> None:
    customer = company(tags={"vip", "new"})
    tx = store.begin()
    table = tx.table("customer")
    table.insert(customer)
    changed = customer.evolve(name="Acme 2", version=2, tags={"vip", "gold"})
    assert table.update(changed, 1) is True
    assert table.update(customer.evolve(name="stale", version=2), 1) is False
    assert table.get(customer.id) == changed
    assert table.delete(customer.id, 1) is False
    assert table.get(customer.id) == changed
    assert table.update(company(name="ghost"), 1) is False
    tx.commit()

    assert stored(store, "customer", customer.id).tags == frozenset({"vip", "gold"})
    tx = store.begin()
    assert tx.table("customer").delete(customer.id, 2) is True
    assert tx.table("customer").get(customer.id) is None
    tx.commit()
    with store.engine.connect() as conn:
        tags = conn.execute(sa.select(sa.func.count()).select_from(store.tables.customer_tags))
        assert tags.scalar_one() == 0


def test_a_concurrent_change_is_a_conflict_not_an_overwrite(store: SqlStore) -> None:
    customer = company()
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.commit()

    first = store.begin()
    assert first.table("customer").get(customer.id) == customer
    second = store.begin()
    assert second.table("customer").update(customer.evolve(name="second", version=2), 1)
    second.commit()
    try:
        assert first.table("customer").update(customer.evolve(name="first", version=2), 1) is False
    except ConcurrencyConflict:
        # SQLite's WAL snapshot of the first transaction predates the second's commit.
        assert store.engine.dialect.name == "sqlite"
    first.rollback()
    assert stored(store, "customer", customer.id).name == "second"


def test_order_lines_are_replaced_on_update(store: SqlStore) -> None:
    customer = company()
    first = order(customer.id, "SO-1", "10.00", "20.00", "30.00")
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.table("order").insert(first)
    fewer = order(customer.id, "SO-1", "5.00")
    fewer = fewer.evolve(id=first.id, version=2)
    assert tx.table("order").update(fewer, 1)
    tx.commit()
    back = stored(store, "order", first.id)
    assert back == fewer
    assert [line.unit_price.amount for line in back.lines] == [Decimal("5.00")]


def test_duplicates_raise_already_exists_and_the_transaction_goes_on(store: SqlStore) -> None:
    first = company(member_id="M-1")
    tx = store.begin()
    customers = tx.table("customer")
    customers.insert(first)
    with pytest.raises(AlreadyExists) as taken_id:
        customers.insert(company(name="same id", id=first.id))
    assert taken_id.value.key == first.id
    with pytest.raises(AlreadyExists) as taken_member:
        customers.insert(company(name="same member", member_id="M-1"))
    assert taken_member.value.key == "member_id=M-1"
    orders = tx.table("order")
    orders.insert(order(first.id, "SO-1", "1.00"))
    with pytest.raises(AlreadyExists) as taken_number:
        orders.insert(order(first.id, "SO-1", "2.00"))
    assert taken_number.value.key == "number=SO-1"
    second = company(name="second", member_id="M-2")
    customers.insert(second)
    with pytest.raises(AlreadyExists):
        customers.update(second.evolve(member_id="M-1", version=2), 1)
    batch = [company(name=f"bulk {i}", member_id=f"B-{i}") for i in range(3)]
    with pytest.raises(AlreadyExists) as in_batch:
        customers.insert_many([*batch, company(name="dup", member_id="B-1")])
    assert in_batch.value.key == "member_id=B-1"
    with pytest.raises(AlreadyExists) as in_store:
        customers.insert_many([company(name="new"), company(name="old", member_id="M-2")])
    assert in_store.value.key == "member_id=M-2"
    tx.commit()

    tx = store.begin()
    assert tx.table("customer").count({}) == 2
    assert tx.table("order").count({}) == 1
    assert stored(store, "customer", second.id) == second
    tx.rollback()


def test_insert_many_is_set_based(store: SqlStore) -> None:
    n = 3000
    customers = [
        company(
            name=f"customer {i}",
            owner=("alice", "bob", "王芳")[i % 3],
            status=LifecycleStatus.ACTIVE if i % 2 else LifecycleStatus.PROSPECT,
            member_id=f"M{i:05d}",
            tags={"vip", f"batch:{i % 7}"} if i % 4 else set(),
            custom_fields={"erp": i} if i % 5 == 0 else {},
        )
        for i in range(n)
    ]
    orders = [
        order(c.id, f"SO-{i:05d}", *(["12.34", "0.5", "7"][: 1 + i % 3]))
        for i, c in enumerate(customers)
    ]
    tx = store.begin()
    with Statements(store.engine) as sql:
        tx.table("customer").insert_many(customers)
        tx.table("order").insert_many(orders)
    tx.commit()
    # One executemany per table (customers, tags, orders, lines), no per-row round trips.
    assert sql.kinds() == ["INSERT"] * 4
    assert all(many for kind, many in sql.seen if kind == "INSERT")

    tx = store.begin()
    table = tx.table("customer")
    assert table.count({}) == n
    read: list[Customer] = []
    after = None
    with Statements(store.engine) as paging:
        while batch := table.page(after=after, limit=1000, filters={}):
            read.extend(batch)
            after = batch[-1].id
    # Each page: one query for the customers, one for all of their tags.
    assert paging.kinds() == ["SELECT"] * 7
    assert read == sorted(customers, key=lambda c: c.id)
    order_page = tx.table("order").page(after=None, limit=n, filters={})
    assert order_page == sorted(orders, key=lambda o: o.id)
    tx.rollback()


def test_insert_many_with_an_unknown_customer_stores_nothing(store: SqlStore) -> None:
    if store.engine.dialect.name == "sqlite":
        tx = store.begin()
        assert tx.connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        tx.rollback()
    customer = company()
    tx = store.begin()
    tx.table("customer").insert(customer)
    contacts = [Contact(customer_id=customer.id, name="Li"), Contact(customer_id="cus_x", name="X")]
    with pytest.raises(LookupError):  # NotFound
        tx.table("contact").insert_many(contacts)
    assert tx.table("contact").count({}) == 0
    tx.commit()


# -- reading ---------------------------------------------------------------------------------


def test_paging_counts_and_filters(store: SqlStore) -> None:
    # Ids that different collations would sort differently: the store sorts like Python.
    ids = ["B", "a", "_x", "Z9", "é", "中", "b", "A-1", "a b"]
    customers = [
        company(
            name=f"customer {i}",
            id=entity_id,
            owner="alice" if i % 2 else None,
            status=LifecycleStatus.ACTIVE if i % 3 else LifecycleStatus.DORMANT,
        )
        for i, entity_id in enumerate(ids)
    ]
    tx = store.begin()
    table = tx.table("customer")
    table.insert_many(customers)
    assert [c.id for c in table.page(after=None, limit=100, filters={})] == sorted(ids)
    assert [c.id for c in table.page(after="a", limit=3, filters={})] == sorted(ids)[
        sorted(ids).index("a") + 1 :
    ][:3]
    assert table.page(after=None, limit=0, filters={}) == []
    alice = [c for c in customers if c.owner == "alice"]
    assert table.count({"owner": "alice"}) == len(alice)
    assert table.count({"owner": None}) == len(customers) - len(alice)
    assert table.count({"owner": "Alice"}) == 0  # case-sensitive everywhere
    active = {c.id for c in customers if c.status is LifecycleStatus.ACTIVE}
    by_enum = table.page(after=None, limit=100, filters={"status": LifecycleStatus.ACTIVE})
    by_text = table.page(after=None, limit=100, filters={"status": "active"})
    assert {c.id for c in by_enum} == {c.id for c in by_text} == active
    assert table.count({"owner": "alice", "status": "dormant"}) == len(
        [c for c in alice if c.status is LifecycleStatus.DORMANT]
    )
    with pytest.raises(ValidationError):
        table.count({"name": "x"})

    contact = Contact(customer_id="a", name="Li", is_decision_maker=True, created_at=NOW)
    tx.table("contact").insert(contact)
    assert tx.table("contact").page(
        after=None, limit=10, filters={"customer_id": "a", "is_decision_maker": True}
    ) == [contact]
    tx.rollback()


def test_existing_takes_large_id_sets(store: SqlStore) -> None:
    customers = [company(name=f"c{i}") for i in range(300)]
    tx = store.begin()
    table = tx.table("customer")
    table.insert_many(customers)
    asked = [c.id for c in customers] + [f"cus_missing_{i}" for i in range(20_500)]
    with Statements(store.engine) as sql:
        found = table.existing(asked)
    assert found == {c.id for c in customers}
    assert len(sql.kinds()) <= 3  # chunked IN lists, not one query per id
    assert table.existing([]) == set()
    tx.rollback()


def test_interactions_and_audit_round_trip(store: SqlStore) -> None:
    customer = company()
    contact = Contact(customer_id=customer.id, name="Wang", messaging_ids={"wechat": "w1"})
    interaction = Interaction(
        customer_id=customer.id,
        contact_id=contact.id,
        channel="visit",
        occurred_at=NOW,
        summary="Site visit",
        needs=("ERP integration", "training"),
        commitments=("send quote",),
        next_action="call",
        next_action_due=NOW + timedelta(days=2),
    )
    entries = [
        AuditEntry(
            at=NOW + timedelta(seconds=s),
            actor="alice",
            action=ChangeKind.CHANGED,
            entity_type="customer",
            entity_id=customer.id,
            customer_id=customer.id,
            changes={"name": ["a", "b"]} if s else None,
        )
        for s in (2, 0, 1)
    ]
    tx = store.begin()
    tx.table("customer").insert(customer)
    tx.table("contact").insert(contact)
    tx.table("interaction").insert(interaction)
    tx.audit.append(entries)
    tx.commit()
    assert stored(store, "interaction", interaction.id) == interaction
    assert stored(store, "contact", contact.id) == contact
    tx = store.begin()
    assert tx.audit.for_entity("customer", customer.id) == sorted(entries, key=lambda e: e.at)
    assert tx.audit.for_entity("customer", "other") == []
    tx.rollback()


# -- transactions ----------------------------------------------------------------------------


def test_owned_transactions_return_their_connection_and_run_callbacks(store: SqlStore) -> None:
    pool: Any = store.engine.pool
    calls: list[str] = []
    tx = store.begin()
    tx.table("customer").insert(company())
    tx.after_commit(lambda: calls.append("committed"))
    assert calls == []
    tx.commit()
    assert calls == ["committed"]
    assert pool.checkedout() == 0
    with pytest.raises(SessionClosed):
        tx.table("customer")

    tx = store.begin()
    customer = company(name="never stored")
    tx.table("customer").insert(customer)
    tx.after_commit(lambda: calls.append("rolled back"))
    tx.rollback()
    assert calls == ["committed"]
    assert pool.checkedout() == 0
    assert stored(store, "customer", customer.id) is None


@pytest.fixture
def host_table(host_engine: sa.Engine, prefix: str) -> Iterator[sa.Table]:
    metadata = sa.MetaData()
    table = sa.Table(
        f"{prefix}host_invoices",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("note", sa.String(40)),
    )
    metadata.create_all(host_engine)
    yield table
    metadata.drop_all(host_engine)


def _host_ids(engine: sa.Engine, table: sa.Table) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(table.c.id)).scalars())


def test_joined_transaction_follows_the_host(
    store: SqlStore, host_engine: sa.Engine, host_table: sa.Table
) -> None:
    calls: list[Any] = []

    # The host rolls back: neither its row nor pycrm's survives; no callback.
    with host_engine.connect() as conn:
        conn.begin()
        tx = store.begin(connection=conn)  # pycrm writes first in the host's transaction
        lost = company(name="rolled back")
        tx.table("customer").insert(lost)
        tx.after_commit(lambda: calls.append("lost"))
        tx.commit()
        conn.execute(host_table.insert(), {"id": 1, "note": "rolled back"})
        assert conn.in_transaction()
        conn.rollback()
    assert calls == []
    assert stored(store, "customer", lost.id) is None
    assert _host_ids(host_engine, host_table) == set()

    # The host commits: both survive, and the callback runs once the data is visible to
    # other connections.
    kept = company(name="kept")
    with host_engine.connect() as conn:
        conn.begin()
        conn.execute(host_table.insert(), {"id": 2, "note": "kept"})
        tx = store.begin(connection=conn)
        tx.table("customer").insert(kept)
        tx.after_commit(lambda: calls.append(stored(store, "customer", kept.id)))
        tx.commit()
        assert calls == []
        conn.commit()
    assert calls == [kept]
    assert _host_ids(host_engine, host_table) == {2}

    # pycrm rolls back inside the host's transaction: only pycrm's work is undone.
    undone = company(name="undone")
    with host_engine.connect() as conn:
        conn.begin()
        tx = store.begin(connection=conn)
        tx.table("customer").insert(undone)
        tx.after_commit(lambda: calls.append("undone"))
        tx.rollback()
        conn.execute(host_table.insert(), {"id": 3, "note": "kept too"})
        conn.commit()
    assert stored(store, "customer", undone.id) is None
    assert _host_ids(host_engine, host_table) == {2, 3}
    assert calls == [kept]


def test_joined_transaction_inside_a_host_savepoint(
    store: SqlStore, host_engine: sa.Engine, host_table: sa.Table
) -> None:
    calls: list[str] = []
    inner = company(name="inside a savepoint the host rolls back")
    outer = company(name="after it")
    with host_engine.connect() as conn:
        conn.begin()
        conn.execute(host_table.insert(), {"id": 1, "note": "kept"})
        savepoint = conn.begin_nested()
        tx = store.begin(connection=conn)
        tx.table("customer").insert(inner)
        tx.after_commit(lambda: calls.append("inner"))
        tx.commit()
        savepoint.rollback()
        tx = store.begin(connection=conn)
        tx.table("customer").insert(outer)
        tx.after_commit(lambda: calls.append("outer"))
        tx.commit()
        conn.commit()
    assert calls == ["outer"]
    assert stored(store, "customer", inner.id) is None
    assert stored(store, "customer", outer.id) == outer
    assert _host_ids(host_engine, host_table) == {1}


def test_a_failing_callback_never_fails_the_hosts_commit(
    store: SqlStore, host_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("plugin bug")

    customer = company()
    with host_engine.connect() as conn:
        tx = store.begin(connection=conn)  # the host has not begun; it commits below
        tx.table("customer").insert(customer)
        tx.after_commit(broken)
        tx.after_commit(lambda: calls.append("second"))
        tx.commit()
        conn.commit()
    assert calls == ["second"]
    assert "plugin bug" in caplog.text
    assert stored(store, "customer", customer.id) == customer


def test_store_on_a_host_engine(url: str, prefix: str, host_engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    store = SqlStore(host_engine, table_prefix=prefix, metadata=metadata)
    try:
        assert store.tables.metadata is metadata
        upgrade(host_engine, table_prefix=prefix)
        customer = company(tags={"vip"})
        tx = store.begin()
        tx.table("customer").insert(customer)
        tx.rollback()
        assert stored(store, "customer", customer.id) is None
        tx = store.begin()
        tx.table("customer").insert(customer)
        tx.commit()
        assert stored(store, "customer", customer.id) == customer
        store.close()  # leaves the host's engine usable
        with host_engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(store.tables.customers))
    finally:
        drop_pycrm_tables(url, prefix)


def test_bad_arguments_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        SqlStore("sqlite://")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        SqlStore.from_url("nosuchdb://x")
    store = SqlStore.from_url("sqlite://")
    with pytest.raises(ConfigurationError):
        store.begin(connection=object())
    store.close()
