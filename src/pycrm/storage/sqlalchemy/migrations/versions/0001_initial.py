"""pycrm's first schema: customers and tags, contacts, interactions, tasks, orders and lines,
and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-03-01

Written out by hand (not by calling ``define_tables``) so that later changes to
``define_tables`` never rewrite this history. Types are the storage types of
``pycrm.storage.sqlalchemy.types`` spelled per dialect: ids ``VARCHAR(64)`` (``COLLATE "C"``
on PostgreSQL), datetimes ``DATETIME(6)`` on MySQL/MariaDB, amounts ``NUMERIC(19, 4)`` (an
integer of ten-thousandths on SQLite). Tags, order lines and the audit log are
``WITHOUT ROWID`` tables on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def _id() -> sa.types.TypeEngine[Any]:
    return sa.String(64).with_variant(postgresql.VARCHAR(64, collation="C"), "postgresql")


def _datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _amount() -> sa.types.TypeEngine[Any]:
    return sa.Numeric(19, 4).with_variant(sa.BigInteger(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON()


def upgrade() -> None:
    p, schema = _settings()

    def ref(table: str) -> str:
        return f"{schema}.{p}{table}.id" if schema else f"{p}{table}.id"

    def bookkeeping(table: str) -> list[Any]:
        return [
            sa.Column("id", _id(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", _datetime(), nullable=True),
            sa.Column("updated_at", _datetime(), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f(f"{p}{table}_pk")),
        ]

    def index(table: str, *columns: str) -> None:
        op.create_index(
            op.f(f"{p}{table}_{columns[0]}_ix"), f"{p}{table}", list(columns), schema=schema
        )

    op.create_table(
        f"{p}customers",
        *bookkeeping("customers"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("industry", sa.String(80), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("yearly_revenue_amount", _amount(), nullable=True),
        sa.Column("yearly_revenue_currency", sa.String(3), nullable=True),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column("website", sa.String(200), nullable=True),
        sa.Column("honorific", sa.String(40), nullable=True),
        sa.Column("gender", sa.String(16), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("employer", sa.String(200), nullable=True),
        sa.Column("position", sa.String(120), nullable=True),
        sa.Column("region", sa.String(120), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("source_channel", sa.String(60), nullable=True),
        sa.Column("captured_at", _datetime(), nullable=True),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=True),
        sa.Column("custom_fields", _json(), nullable=True),
        sa.UniqueConstraint("member_id", name=op.f(f"{p}customers_member_id_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    for column in ("owner", "team", "region", "industry", "status", "source_channel"):
        index("customers", column, "id")

    op.create_table(
        f"{p}customer_tags",
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("tag", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f(f"{p}customer_tags_pk")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            [ref("customers")],
            name=op.f(f"{p}customer_tags_customer_id_fk"),
            ondelete="CASCADE",
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("customer_tags", "tag", "customer_id")

    op.create_table(
        f"{p}contacts",
        *bookkeeping("contacts"),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.String(120), nullable=True),
        sa.Column("is_decision_maker", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("messaging_ids", _json(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}contacts_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("contacts", "customer_id", "id")

    op.create_table(
        f"{p}interactions",
        *bookkeeping("interactions"),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("occurred_at", _datetime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contact_id", _id(), nullable=True),
        sa.Column("recorded_by", sa.String(120), nullable=True),
        sa.Column("needs", _json(), nullable=True),
        sa.Column("objections", _json(), nullable=True),
        sa.Column("commitments", _json(), nullable=True),
        sa.Column("result", sa.String(400), nullable=True),
        sa.Column("next_action", sa.String(400), nullable=True),
        sa.Column("next_action_due", _datetime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}interactions_customer_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], [ref("contacts")], name=op.f(f"{p}interactions_contact_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("interactions", "customer_id", "occurred_at")
    index("interactions", "contact_id", "id")
    index("interactions", "recorded_by", "id")

    op.create_table(
        f"{p}tasks",
        *bookkeeping("tasks"),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("customer_id", _id(), nullable=True),
        sa.Column("about", _id(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", _datetime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}tasks_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("tasks", "customer_id", "id")
    index("tasks", "assignee", "id")
    index("tasks", "status", "due_at")
    index("tasks", "about", "id")

    op.create_table(
        f"{p}orders",
        *bookkeeping("orders"),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("placed_at", _datetime(), nullable=False),
        sa.Column("total_amount", _amount(), nullable=False),
        sa.Column("total_currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("number", name=op.f(f"{p}orders_number_uq")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}orders_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("orders", "customer_id", "placed_at")
    index("orders", "status", "id")

    op.create_table(
        f"{p}order_lines",
        sa.Column("order_id", _id(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("description", sa.String(400), nullable=False),
        sa.Column("quantity", _amount(), nullable=False),
        sa.Column("unit_price_amount", _amount(), nullable=False),
        sa.Column("unit_price_currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f(f"{p}order_lines_pk")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            [ref("orders")],
            name=op.f(f"{p}order_lines_order_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}order_lines_customer_id_fk")
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("order_lines", "customer_id")

    op.create_table(
        f"{p}audit_log",
        sa.Column("id", _id(), nullable=False),
        sa.Column("at", _datetime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=True),
        sa.Column("changes", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}audit_log_pk")),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("audit_log", "entity_type", "entity_id", "at")
    index("audit_log", "customer_id", "at")


def downgrade() -> None:
    p, schema = _settings()
    for table in (
        "audit_log",
        "order_lines",
        "orders",
        "tasks",
        "interactions",
        "contacts",
        "customer_tags",
        "customers",
    ):
        op.drop_table(f"{p}{table}", schema=schema)
