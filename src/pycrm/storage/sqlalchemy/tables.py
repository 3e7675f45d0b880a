"""pycrm's tables, put on a ``MetaData`` the caller owns (the host's, so its Alembic sees them).

Every constraint and index is named explicitly with the table prefix (wrapped in ``conv`` so a
host's naming convention cannot rename them), which keeps names stable for migrations and lets
several prefixed table sets share one database. Every table carries the customer id (the
customers table as its ``id``; tasks may have none), so a distributed database sharded by
customer can co-locate a customer's rows.

The small-row tables (tags, order and contract lines, instalments, stage, approval and
ticket status visits, the audit log) are
``WITHOUT ROWID`` on SQLite: rows live in the primary-key tree itself, which saves an index
write per row on the bulk paths.
On MySQL/MariaDB the tables are InnoDB, ``utf8mb4`` with a binary collation; every index
stays under 400 characters, well inside the 3,072-byte key limit of InnoDB's ``DYNAMIC`` row
format (the default since MySQL 5.7 and MariaDB 10.2).

The migrations in ``migrations/versions/`` spell out the same schema by hand; a test compares
the two on every supported database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem, conv

from pycrm.errors import ConfigurationError
from pycrm.storage.sqlalchemy.types import Amount, UtcDateTime, id_type, json_type, sealed_text

_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,19}$|^$")

MYSQL_OPTIONS: Mapping[str, str] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    # Binary collation: equality and ordering as in Python (case-sensitive, by code point),
    # so MySQL/MariaDB agree with the other stores on filters, unique keys and paging.
    "mysql_collate": "utf8mb4_bin",
}
"""Table options for MySQL/MariaDB (ignored elsewhere)."""

TABLE_NAMES = (
    "customers",
    "customer_tags",
    "contacts",
    "interactions",
    "tasks",
    "orders",
    "order_lines",
    "opportunities",
    "opportunity_stage_visits",
    "contracts",
    "contract_lines",
    "contract_instalments",
    "contract_approval_visits",
    "receipts",
    "rep_assignments",
    "team_supervisors",
    "exchange_rates",
    "resource_requests",
    "points_entries",
    "customer_grades",
    "segments",
    "tickets",
    "ticket_status_visits",
    "agent_turns",
    "calendars",
    "merge_logs",
    "outbox_messages",
    "sales_targets",
    "audit_log",
)
"""Unprefixed table names in creation order (parents before children)."""


@attrs.frozen
class Tables:
    """The ``Table`` objects of one pycrm table set (one prefix and schema)."""

    metadata: sa.MetaData
    prefix: str
    schema: str | None
    customers: sa.Table
    customer_tags: sa.Table
    contacts: sa.Table
    interactions: sa.Table
    tasks: sa.Table
    orders: sa.Table
    order_lines: sa.Table
    opportunities: sa.Table
    opportunity_stage_visits: sa.Table
    contracts: sa.Table
    contract_lines: sa.Table
    contract_instalments: sa.Table
    contract_approval_visits: sa.Table
    receipts: sa.Table
    rep_assignments: sa.Table
    team_supervisors: sa.Table
    exchange_rates: sa.Table
    resource_requests: sa.Table
    points_entries: sa.Table
    customer_grades: sa.Table
    segments: sa.Table
    tickets: sa.Table
    ticket_status_visits: sa.Table
    agent_turns: sa.Table
    calendars: sa.Table
    merge_logs: sa.Table
    outbox_messages: sa.Table
    sales_targets: sa.Table
    audit_log: sa.Table

    def __iter__(self) -> Iterator[sa.Table]:
        """The tables in creation order (parents first)."""
        return (getattr(self, name) for name in TABLE_NAMES)

    @property
    def version_table(self) -> str:
        """Name of the table where pycrm's migrations record their revision."""
        return f"{self.prefix}alembic_version"


def check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ConfigurationError(
            f"table prefix {prefix!r}: use up to 20 letters, digits and underscores, "
            "not starting with a digit"
        )
    return prefix


def define_tables(
    metadata: sa.MetaData, *, prefix: str = "crm_", schema: str | None = None
) -> Tables:
    """Put pycrm's tables on ``metadata`` and return them.

    Calling it again with the same prefix and schema returns the tables already defined, so a
    host and a ``SqlStore`` can share one ``MetaData``.
    """
    check_prefix(prefix)
    keys = [f"{schema}.{prefix}{name}" if schema else f"{prefix}{name}" for name in TABLE_NAMES]
    present = [key for key in keys if key in metadata.tables]
    if present:
        if len(present) != len(keys):
            raise ConfigurationError(
                f"MetaData holds only some of pycrm's tables with prefix {prefix!r}: {present}"
            )
        found = {name: metadata.tables[key] for name, key in zip(TABLE_NAMES, keys, strict=True)}
        return Tables(metadata, prefix, schema, **found)
    return _define(metadata, prefix, schema)


def _define(metadata: sa.MetaData, p: str, schema: str | None) -> Tables:
    def name(suffix: str) -> conv:
        return conv(f"{p}{suffix}")

    options: dict[str, Any] = dict(MYSQL_OPTIONS)

    def table(short: str, *items: SchemaItem, rowid: bool = True) -> sa.Table:
        kw: dict[str, Any] = dict(options) if rowid else {**options, "sqlite_with_rowid": False}
        return sa.Table(f"{p}{short}", metadata, *items, schema=schema, **kw)

    def bookkeeping(short: str) -> list[SchemaItem]:
        return [
            sa.Column("id", id_type(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", UtcDateTime(), nullable=True),
            sa.Column("updated_at", UtcDateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id", name=name(f"{short}_pk")),
        ]

    def child_of(short: str, parent_column: str, parent: sa.Table, seq: str) -> list[SchemaItem]:
        """The key every child table shares: its parent, a position, and the customer."""
        return [
            sa.Column(parent_column, id_type(), nullable=False),
            sa.Column(seq, sa.Integer(), nullable=False),
            sa.Column("customer_id", id_type(), nullable=False),
            sa.PrimaryKeyConstraint(parent_column, seq, name=name(f"{short}_pk")),
            fk(short, parent_column, parent, ondelete="CASCADE"),
            fk(short, "customer_id", customers),
            ix(short, "customer_id"),
        ]

    def line_columns() -> list[SchemaItem]:
        """A product line of an order or a contract."""
        return [
            sa.Column("sku", sa.String(64), nullable=True),
            sa.Column("description", sa.String(400), nullable=False),
            sa.Column("quantity", Amount(min_places=0), nullable=False),
            sa.Column("unit_price_amount", Amount(), nullable=False),
            sa.Column("unit_price_currency", sa.String(3), nullable=False),
        ]

    def visit_columns() -> list[SchemaItem]:
        """One visit of a stage history (opportunity stages, contract approvals)."""
        return [
            sa.Column("stage", sa.String(64), nullable=False),
            sa.Column("entered_at", UtcDateTime(), nullable=False),
            sa.Column("entered_by", sa.String(120), nullable=False),
            sa.Column("left_at", UtcDateTime(), nullable=True),
            sa.Column("left_by", sa.String(120), nullable=True),
            sa.Column("reason", sa.Text(), nullable=True),
        ]

    def fk(short: str, column: str, target: sa.Table, **kw: Any) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            [column], [target.c.id], name=name(f"{short}_{column}_fk"), **kw
        )

    def ix(short: str, *columns: str) -> sa.Index:
        return sa.Index(name(f"{short}_{columns[0]}_ix"), *columns)

    customers = table(
        "customers",
        *bookkeeping("customers"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("industry", sa.String(80), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("yearly_revenue_amount", Amount(), nullable=True),
        sa.Column("yearly_revenue_currency", sa.String(3), nullable=True),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column("website", sa.String(200), nullable=True),
        sa.Column("honorific", sa.String(40), nullable=True),
        sa.Column("gender", sa.String(16), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("employer", sa.String(200), nullable=True),
        sa.Column("position", sa.String(120), nullable=True),
        sa.Column("region", sa.String(120), nullable=True),
        sa.Column("phone", sealed_text(40), nullable=True),
        sa.Column("email", sealed_text(254), nullable=True),
        sa.Column("source_channel", sa.String(60), nullable=True),
        sa.Column("captured_at", UtcDateTime(), nullable=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("churn_reason", sa.String(400), nullable=True),
        sa.Column("member_id", sa.String(64), nullable=True),
        sa.Column("custom_fields", json_type(), nullable=True),
        sa.Column("id_number", sealed_text(40), nullable=True),
        sa.Column("address", sealed_text(500), nullable=True),
        # Derived identity fields (pycrm.identity): keyed hashes and the company name key,
        # sorting by code point like ids so stores agree on block order.
        sa.Column("phone_hash", id_type(64), nullable=True),
        sa.Column("email_hash", id_type(64), nullable=True),
        sa.Column("id_number_hash", id_type(64), nullable=True),
        sa.Column("company_key", id_type(200), nullable=True),
        # Customer.birth_month_day, derived from birthday: birthday care filters by it.
        sa.Column("birth_month_day", sa.String(5), nullable=True),
        sa.UniqueConstraint("member_id", name=name("customers_member_id_uq")),
        ix("customers", "owner", "id"),
        ix("customers", "team", "id"),
        ix("customers", "region", "id"),
        ix("customers", "industry", "id"),
        ix("customers", "status", "id"),
        ix("customers", "source_channel", "id"),
        # Identity resolution and duplicate blocking look customers up by these.
        ix("customers", "phone_hash", "id"),
        ix("customers", "email_hash", "id"),
        ix("customers", "id_number_hash", "id"),
        ix("customers", "company_key", "kind", "id"),
        ix("customers", "birth_month_day", "id"),
    )
    customer_tags = table(
        "customer_tags",
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("tag", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=name("customer_tags_pk")),
        fk("customer_tags", "customer_id", customers, ondelete="CASCADE"),
        ix("customer_tags", "tag", "customer_id"),
        rowid=False,
    )
    contacts = table(
        "contacts",
        *bookkeeping("contacts"),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(120), nullable=True),
        sa.Column("is_decision_maker", sa.Boolean(), nullable=False),
        sa.Column("phone", sealed_text(40), nullable=True),
        sa.Column("email", sealed_text(254), nullable=True),
        sa.Column("messaging_ids", json_type(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        fk("contacts", "customer_id", customers),
        ix("contacts", "customer_id", "id"),
    )
    interactions = table(
        "interactions",
        *bookkeeping("interactions"),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contact_id", id_type(), nullable=True),
        sa.Column("recorded_by", sa.String(120), nullable=True),
        sa.Column("needs", json_type(), nullable=True),
        sa.Column("objections", json_type(), nullable=True),
        sa.Column("commitments", json_type(), nullable=True),
        sa.Column("result", sa.String(400), nullable=True),
        sa.Column("next_action", sa.String(400), nullable=True),
        sa.Column("next_action_due", UtcDateTime(), nullable=True),
        fk("interactions", "customer_id", customers),
        fk("interactions", "contact_id", contacts),
        # (customer_id, occurred_at) also answers "no interaction since ..." per customer.
        ix("interactions", "customer_id", "occurred_at"),
        ix("interactions", "contact_id", "id"),
        ix("interactions", "recorded_by", "id"),
    )
    tasks = table(
        "tasks",
        *bookkeeping("tasks"),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("customer_id", id_type(), nullable=True),
        sa.Column("about", id_type(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("key", sa.String(128), nullable=True),
        fk("tasks", "customer_id", customers),
        # A unique index rather than a constraint: SQLite adds one without rebuilding.
        sa.Index(name("tasks_key_ix"), "key", unique=True),
        ix("tasks", "customer_id", "id"),
        ix("tasks", "assignee", "id"),
        # (status, due_at): the automation tick looks for open tasks falling due.
        ix("tasks", "status", "due_at"),
        ix("tasks", "about", "id"),
    )
    orders = table(
        "orders",
        *bookkeeping("orders"),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("total_amount", Amount(), nullable=False),
        sa.Column("total_currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("number", name=name("orders_number_uq")),
        fk("orders", "customer_id", customers),
        # (customer_id, placed_at): recency and frequency per customer for RFM.
        ix("orders", "customer_id", "placed_at"),
        ix("orders", "status", "id"),
    )
    order_lines = table(
        "order_lines",
        *child_of("order_lines", "order_id", orders, "line_no"),
        *line_columns(),
        rowid=False,
    )
    opportunities = table(
        "opportunities",
        *bookkeeping("opportunities"),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("assigned_at", UtcDateTime(), nullable=True),
        # The UTC date of assigned_at and whether the deal is open, kept as columns so a
        # rep's assignments of a day and open deals are counted without reading history.
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        # The current stage's outcome (won, lost; NULL while open), from the pipeline.
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.Column("grade", sa.String(16), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("source_channel", sa.String(60), nullable=True),
        sa.Column("pipeline", sa.String(80), nullable=False),
        # The current stage, kept beside the visits so filters and counts need no join.
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("deliverables", json_type(), nullable=True),
        sa.Column("manual_probability", Amount(min_places=0), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("custom_fields", json_type(), nullable=True),
        # Added by revision 0005, hence last: the review of a won deal as one JSON object.
        sa.Column("review", json_type(), nullable=True),
        # Added by revision 0015: when the deal reached its outcome (NULL while open).
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        fk("opportunities", "customer_id", customers),
        ix("opportunities", "customer_id", "id"),
        ix("opportunities", "owner", "assigned_on"),
        ix("opportunities", "team", "id"),
        # (pipeline, stage): the pipeline board and the per-stage counts.
        ix("opportunities", "pipeline", "stage"),
        ix("opportunities", "stage", "id"),
        ix("opportunities", "is_open", "owner"),
        # (outcome, closed_at): the deals won or lost in a period, without their histories.
        ix("opportunities", "outcome", "closed_at"),
    )
    opportunity_stage_visits = table(
        "opportunity_stage_visits",
        *child_of("opportunity_stage_visits", "opportunity_id", opportunities, "seq"),
        *visit_columns(),
        # (stage, entered_at): stage durations and conversion over a period, in plain SQL.
        ix("opportunity_stage_visits", "stage", "entered_at"),
        rowid=False,
    )
    contracts = table(
        "contracts",
        *bookkeeping("contracts"),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("number_year", sa.Integer(), nullable=True),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("opportunity_id", id_type(), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("signer", sa.String(120), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("delivery_status", sa.String(16), nullable=False),
        # The current approval stage, kept beside the visits so filters need no join.
        sa.Column("approval_stage", sa.String(64), nullable=False),
        sa.Column("approval_levels", json_type(), nullable=True),
        # References to the host's files: read and written only with their contract.
        sa.Column("attachments", json_type(), nullable=True),
        sa.UniqueConstraint("number", name=name("contracts_number_uq")),
        fk("contracts", "customer_id", customers),
        fk("contracts", "opportunity_id", opportunities),
        ix("contracts", "customer_id", "id"),
        ix("contracts", "opportunity_id"),
        ix("contracts", "status", "id"),
        ix("contracts", "approval_stage", "id"),
        # (number_year): counting a year's contracts to number the next one.
        ix("contracts", "number_year"),
        # (end_on): renewal reminders over contracts ending soon.
        ix("contracts", "end_on"),
    )
    contract_lines = table(
        "contract_lines",
        *child_of("contract_lines", "contract_id", contracts, "line_no"),
        *line_columns(),
        rowid=False,
    )
    contract_instalments = table(
        "contract_instalments",
        *child_of("contract_instalments", "contract_id", contracts, "seq"),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        # (due_on): what falls due in a period, for collection lists, in plain SQL.
        ix("contract_instalments", "due_on"),
        rowid=False,
    )
    contract_approval_visits = table(
        "contract_approval_visits",
        *child_of("contract_approval_visits", "contract_id", contracts, "seq"),
        *visit_columns(),
        # (stage, entered_at): how long each approval level takes, in plain SQL.
        ix("contract_approval_visits", "stage", "entered_at"),
        rowid=False,
    )
    receipts = table(
        "receipts",
        *bookkeeping("receipts"),
        sa.Column("contract_id", id_type(), nullable=False),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("handler", sa.String(120), nullable=True),
        sa.Column("account", sa.String(120), nullable=True),
        sa.Column("reference", sa.String(120), nullable=True),
        fk("receipts", "contract_id", contracts),
        fk("receipts", "customer_id", customers),
        # (contract_id, received_at): a contract's receipts in order, summed for what is owed.
        ix("receipts", "contract_id", "received_at"),
        ix("receipts", "customer_id", "received_at"),
    )
    rep_assignments = table(
        "rep_assignments",
        *bookkeeping("rep_assignments"),
        sa.Column("rep", sa.String(120), nullable=False),
        sa.Column("last_assigned_at", UtcDateTime(), nullable=False),
        sa.Column("last_opportunity_id", id_type(), nullable=True),
        # No foreign key to the opportunity: removing a deal must not be blocked by it.
        sa.UniqueConstraint("rep", name=name("rep_assignments_rep_uq")),
    )
    team_supervisors = table(
        "team_supervisors",
        *bookkeeping("team_supervisors"),
        sa.Column("team", sa.String(120), nullable=False),
        sa.Column("supervisor", sa.String(120), nullable=False),
        sa.UniqueConstraint("team", name=name("team_supervisors_team_uq")),
        ix("team_supervisors", "supervisor", "id"),
    )
    exchange_rates = table(
        "exchange_rates",
        *bookkeeping("exchange_rates"),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("base", sa.String(3), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        # Text, not Amount: rates need more than four places (JPY in CNY is 0.0478...), are
        # never summed in SQL, and text keeps every digit exact on SQLite too.
        sa.Column("rate", sa.String(40), nullable=False),
        sa.UniqueConstraint("key", name=name("exchange_rates_key_uq")),
        ix("exchange_rates", "base", "id"),
    )
    resource_requests = table(
        "resource_requests",
        *bookkeeping("resource_requests"),
        sa.Column("opportunity_id", id_type(), nullable=False),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("respond_by", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        fk("resource_requests", "customer_id", customers),
        fk("resource_requests", "opportunity_id", opportunities),
        ix("resource_requests", "customer_id", "id"),
        ix("resource_requests", "opportunity_id", "id"),
        # (owner, status): a department member's open requests.
        ix("resource_requests", "owner", "status"),
        # (status, respond_by): the open requests past their deadline.
        ix("resource_requests", "status", "respond_by"),
        ix("resource_requests", "department", "status"),
    )
    points_entries = table(
        "points_entries",
        *bookkeeping("points_entries"),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("order_id", id_type(), nullable=True),
        # The idempotency key ("order:<id>"): the same earning is refused, not doubled.
        sa.Column("source", sa.String(120), nullable=True),
        sa.Column("reason", sa.String(400), nullable=True),
        sa.UniqueConstraint("source", name=name("points_entries_source_uq")),
        fk("points_entries", "customer_id", customers),
        fk("points_entries", "order_id", orders),
        # (customer_id, occurred_at): a customer's ledger in time order, for balances.
        ix("points_entries", "customer_id", "occurred_at"),
        ix("points_entries", "order_id"),
    )
    customer_grades = table(
        "customer_grades",
        *bookkeeping("customer_grades"),
        # scheme/customer_id: 80 + 1 + 64 characters.
        sa.Column("key", sa.String(145), nullable=False),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("scheme", sa.String(80), nullable=False),
        sa.Column("grade", sa.String(40), nullable=True),
        sa.Column("graded_at", UtcDateTime(), nullable=False),
        sa.Column("next_follow_up_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("key", name=name("customer_grades_key_uq")),
        fk("customer_grades", "customer_id", customers),
        # (scheme, next_follow_up_at): the tick lists the follow-ups falling due per scheme.
        ix("customer_grades", "scheme", "next_follow_up_at"),
        ix("customer_grades", "customer_id", "scheme"),
    )
    segments = table(
        "segments",
        *bookkeeping("segments"),
        sa.Column("name", sa.String(120), nullable=False),
        # The rule's data (``Expr.to_data()``), checked again when it is read back.
        sa.Column("rule", json_type(), nullable=False),
        sa.Column("description", sa.String(400), nullable=True),
        sa.UniqueConstraint("name", name=name("segments_name_uq")),
    )
    tickets = table(
        "tickets",
        *bookkeeping("tickets"),
        sa.Column("customer_id", id_type(), nullable=False),
        sa.Column("contact_id", id_type(), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("category", sa.String(120), nullable=True),
        sa.Column("group", sa.String(120), nullable=True),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("assigned_at", UtcDateTime(), nullable=True),
        # The current status, whether the ticket is open and when it was opened, kept beside
        # the visits so the desk's lists and counts and reports over a period need no join.
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("first_response_at", UtcDateTime(), nullable=True),
        sa.Column("first_response_by", sa.String(120), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("linked_ticket_ids", json_type(), nullable=True),
        # The customer's rating: all three set, or all NULL while unrated.
        sa.Column("satisfaction_score", sa.SmallInteger(), nullable=True),
        sa.Column("satisfaction_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", UtcDateTime(), nullable=True),
        sa.Column("survey_requested_at", UtcDateTime(), nullable=True),
        sa.Column("custom_fields", json_type(), nullable=True),
        fk("tickets", "customer_id", customers),
        fk("tickets", "contact_id", contacts),
        ix("tickets", "customer_id", "id"),
        ix("tickets", "contact_id"),
        # (assignee, is_open): an agent's open tickets, and the load of each for dispatch.
        ix("tickets", "assignee", "is_open"),
        ix("tickets", "group", "id"),
        ix("tickets", "status", "id"),
        # (type, category): repeat complaints per category.
        ix("tickets", "type", "category"),
    )
    ticket_status_visits = table(
        "ticket_status_visits",
        *child_of("ticket_status_visits", "ticket_id", tickets, "seq"),
        *visit_columns(),
        # (stage, entered_at): time spent in each status over a period, in plain SQL.
        ix("ticket_status_visits", "stage", "entered_at"),
        rowid=False,
    )
    agent_turns = table(
        "agent_turns",
        *bookkeeping("agent_turns"),
        # group/agent: 120 + 1 + 120 characters.
        sa.Column("key", sa.String(241), nullable=False),
        sa.Column("group", sa.String(120), nullable=False),
        sa.Column("agent", sa.String(120), nullable=False),
        sa.Column("last_assigned_at", UtcDateTime(), nullable=False),
        # No foreign key to the ticket: removing a ticket must not be blocked by it.
        sa.Column("last_ticket_id", id_type(), nullable=True),
        sa.UniqueConstraint("key", name=name("agent_turns_key_uq")),
        ix("agent_turns", "group", "agent"),
    )
    calendars = table(
        "calendars",
        *bookkeeping("calendars"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        # Weekday -> [[start, end], ...] as "HH:MM" text; JSON keys are text ("0" is Monday).
        sa.Column("week", json_type(), nullable=False),
        sa.Column("country", sa.String(8), nullable=True),
        sa.Column("subdiv", sa.String(16), nullable=True),
        # Sorted ISO dates; make-up days map to their own hours or null for the standard ones.
        sa.Column("holidays", json_type(), nullable=True),
        sa.Column("workdays", json_type(), nullable=True),
        sa.UniqueConstraint("name", name=name("calendars_name_uq")),
    )
    merge_logs = table(
        "merge_logs",
        *bookkeeping("merge_logs"),
        # No foreign key: the log outlives its survivor, should a later merge remove it.
        sa.Column("customer_id", id_type(), nullable=False),
        # Customer snapshots and moved ids as JSON (pycrm.merge.log), read back whole.
        sa.Column("survivor_before", json_type(), nullable=False),
        sa.Column("survivor_after", json_type(), nullable=False),
        sa.Column("duplicates", json_type(), nullable=False),
        sa.Column("moved", json_type(), nullable=True),
        sa.Column("dropped", json_type(), nullable=True),
        sa.Column("merged_at", UtcDateTime(), nullable=False),
        sa.Column("merged_by", sa.String(120), nullable=False),
        sa.Column("undone_at", UtcDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(120), nullable=True),
        ix("merge_logs", "customer_id", "id"),
    )
    outbox_messages = table(
        "outbox_messages",
        *bookkeeping("outbox_messages"),
        sa.Column("channel", sa.String(60), nullable=False),
        sa.Column("recipient", sealed_text(254), nullable=False),
        sa.Column("subject", sealed_text(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        # No foreign key: a message already sent outlives the record it was about.
        sa.Column("customer_id", id_type(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("claim", sa.String(40), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("key", name=name("outbox_messages_key_uq")),
        # Dispatchers claim by (status, next attempt); the claim column finds a round's rows.
        ix("outbox_messages", "status", "next_attempt_at", "id"),
        ix("outbox_messages", "claim"),
        ix("outbox_messages", "customer_id", "id"),
    )
    sales_targets = table(
        "sales_targets",
        *bookkeeping("sales_targets"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("rep", sa.String(120), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.UniqueConstraint("key", name=name("sales_targets_key_uq")),
        # A period's targets, read by the targets report and the leaderboard.
        ix("sales_targets", "period", "id"),
    )
    audit_log = table(
        "audit_log",
        sa.Column("id", id_type(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", id_type(), nullable=False),
        sa.Column("customer_id", id_type(), nullable=True),
        sa.Column("changes", json_type(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=name("audit_log_pk")),
        # No foreign keys: the log outlives what it describes.
        ix("audit_log", "entity_type", "entity_id", "at"),
        ix("audit_log", "customer_id", "at"),
        # Exports page through the log in (at, id) order; purges delete by at.
        ix("audit_log", "at", "id"),
        rowid=False,
    )
    return Tables(
        metadata,
        p,
        schema,
        customers=customers,
        customer_tags=customer_tags,
        contacts=contacts,
        interactions=interactions,
        tasks=tasks,
        orders=orders,
        order_lines=order_lines,
        opportunities=opportunities,
        opportunity_stage_visits=opportunity_stage_visits,
        contracts=contracts,
        contract_lines=contract_lines,
        contract_instalments=contract_instalments,
        contract_approval_visits=contract_approval_visits,
        receipts=receipts,
        rep_assignments=rep_assignments,
        team_supervisors=team_supervisors,
        exchange_rates=exchange_rates,
        resource_requests=resource_requests,
        points_entries=points_entries,
        customer_grades=customer_grades,
        segments=segments,
        tickets=tickets,
        ticket_status_visits=ticket_status_visits,
        agent_turns=agent_turns,
        calendars=calendars,
        merge_logs=merge_logs,
        outbox_messages=outbox_messages,
        sales_targets=sales_targets,
        audit_log=audit_log,
    )
