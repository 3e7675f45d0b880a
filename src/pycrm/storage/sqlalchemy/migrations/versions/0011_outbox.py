"""The outbox: notifications written with the change that caused them, sent by dispatchers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0011"
down_revision: str | None = "0010"
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


def _sealed(length: int) -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(sa.String(length), "sqlite")


def upgrade() -> None:
    p, schema = _settings()
    table = f"{p}outbox_messages"
    op.create_table(
        table,
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("channel", sa.String(60), nullable=False),
        sa.Column("recipient", _sealed(254), nullable=False),
        sa.Column("subject", _sealed(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("customer_id", _id(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _datetime(), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("claim", sa.String(40), nullable=True),
        sa.Column("claimed_until", _datetime(), nullable=True),
        sa.Column("sent_at", _datetime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}outbox_messages_pk")),
        sa.UniqueConstraint("key", name=op.f(f"{p}outbox_messages_key_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    for columns in (("status", "next_attempt_at", "id"), ("claim",), ("customer_id", "id")):
        op.create_index(
            op.f(f"{p}outbox_messages_{columns[0]}_ix"), table, list(columns), schema=schema
        )


def downgrade() -> None:
    p, schema = _settings()
    op.drop_table(f"{p}outbox_messages", schema=schema)
