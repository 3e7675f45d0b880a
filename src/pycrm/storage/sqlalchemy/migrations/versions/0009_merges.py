"""Merge logs: what each customer merge moved, so it can be undone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0009"
down_revision: str | None = "0008"
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
    op.create_table(
        f"{p}merge_logs",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("survivor_before", sa.JSON(), nullable=False),
        sa.Column("survivor_after", sa.JSON(), nullable=False),
        sa.Column("duplicates", sa.JSON(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=True),
        sa.Column("dropped", sa.JSON(), nullable=True),
        sa.Column("merged_at", _datetime(), nullable=False),
        sa.Column("merged_by", sa.String(120), nullable=False),
        sa.Column("undone_at", _datetime(), nullable=True),
        sa.Column("undone_by", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}merge_logs_pk")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    op.create_index(
        op.f(f"{p}merge_logs_customer_id_ix"),
        f"{p}merge_logs",
        ["customer_id", "id"],
        schema=schema,
    )


def downgrade() -> None:
    p, schema = _settings()
    op.drop_table(f"{p}merge_logs", schema=schema)
