"""Customer service: tickets and their status visits, agents' turns and stored calendars.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
Status visits are a ``WITHOUT ROWID`` table on SQLite, like the other stage histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0007"
down_revision: str | None = "0006"
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


def upgrade() -> None:
    p, schema = _settings()

    def index(table: str, *columns: str) -> None:
        op.create_index(
            op.f(f"{p}{table}_{columns[0]}_ix"), f"{p}{table}", list(columns), schema=schema
        )

    def ref(table: str) -> str:
        return f"{schema}.{p}{table}.id" if schema else f"{p}{table}.id"

    def bookkeeping() -> list[sa.Column[Any]]:
        return [
            sa.Column("id", _id(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", _datetime(), nullable=True),
            sa.Column("updated_at", _datetime(), nullable=True),
        ]

    op.create_table(
        f"{p}tickets",
        *bookkeeping(),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("contact_id", _id(), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("category", sa.String(120), nullable=True),
        sa.Column("group", sa.String(120), nullable=True),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("assigned_at", _datetime(), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("opened_at", _datetime(), nullable=False),
        sa.Column("first_response_at", _datetime(), nullable=True),
        sa.Column("first_response_by", sa.String(120), nullable=True),
        sa.Column("resolved_at", _datetime(), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("linked_ticket_ids", sa.JSON(), nullable=True),
        sa.Column("satisfaction_score", sa.SmallInteger(), nullable=True),
        sa.Column("satisfaction_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", _datetime(), nullable=True),
        sa.Column("survey_requested_at", _datetime(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}tickets_pk")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}tickets_customer_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], [ref("contacts")], name=op.f(f"{p}tickets_contact_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("tickets", "customer_id", "id")
    index("tickets", "contact_id")
    index("tickets", "assignee", "is_open")
    index("tickets", "group", "id")
    index("tickets", "status", "id")
    index("tickets", "type", "category")

    op.create_table(
        f"{p}ticket_status_visits",
        sa.Column("ticket_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("entered_at", _datetime(), nullable=False),
        sa.Column("entered_by", sa.String(120), nullable=False),
        sa.Column("left_at", _datetime(), nullable=True),
        sa.Column("left_by", sa.String(120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", "seq", name=op.f(f"{p}ticket_status_visits_pk")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            [ref("tickets")],
            name=op.f(f"{p}ticket_status_visits_ticket_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            [ref("customers")],
            name=op.f(f"{p}ticket_status_visits_customer_id_fk"),
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("ticket_status_visits", "customer_id")
    index("ticket_status_visits", "stage", "entered_at")

    op.create_table(
        f"{p}agent_turns",
        *bookkeeping(),
        sa.Column("key", sa.String(241), nullable=False),
        sa.Column("group", sa.String(120), nullable=False),
        sa.Column("agent", sa.String(120), nullable=False),
        sa.Column("last_assigned_at", _datetime(), nullable=False),
        sa.Column("last_ticket_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}agent_turns_pk")),
        sa.UniqueConstraint("key", name=op.f(f"{p}agent_turns_key_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("agent_turns", "group", "agent")

    op.create_table(
        f"{p}calendars",
        *bookkeeping(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(8), nullable=True),
        sa.Column("subdiv", sa.String(16), nullable=True),
        sa.Column("holidays", sa.JSON(), nullable=True),
        sa.Column("workdays", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}calendars_pk")),
        sa.UniqueConstraint("name", name=op.f(f"{p}calendars_name_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    p, schema = _settings()
    for table in ("calendars", "agent_turns", "ticket_status_visits", "tickets"):
        op.drop_table(f"{p}{table}", schema=schema)
