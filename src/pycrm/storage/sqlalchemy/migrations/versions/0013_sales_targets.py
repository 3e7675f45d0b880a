"""Sales targets: the amount a rep or a team is expected to win in a period.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
``key`` (subject/name/period) is unique: one target per rep or team and period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0013"
down_revision: str | None = "0012"
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


def upgrade() -> None:
    p, schema = _settings()
    table = f"{p}sales_targets"
    op.create_table(
        table,
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("rep", sa.String(120), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}sales_targets_pk")),
        sa.UniqueConstraint("key", name=op.f(f"{p}sales_targets_key_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f(f"{p}sales_targets_period_ix"), table, ["period", "id"], schema=schema)


def downgrade() -> None:
    p, schema = _settings()
    op.drop_table(f"{p}sales_targets", schema=schema)
