"""Each rep's last assignment, and customer lookups by email and phone for lead capture.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
The opportunity columns for assignment (``assigned_at``, ``assigned_on``, ``is_open``,
``grade``) were added to ``0002`` directly, since no release has shipped that revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0004"
down_revision: str | None = "0003"
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

    op.create_table(
        f"{p}rep_assignments",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("rep", sa.String(120), nullable=False),
        sa.Column("last_assigned_at", _datetime(), nullable=False),
        sa.Column("last_opportunity_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}rep_assignments_pk")),
        sa.UniqueConstraint("rep", name=op.f(f"{p}rep_assignments_rep_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("customers", "email", "id")
    index("customers", "phone", "id")


def downgrade() -> None:
    p, schema = _settings()
    for column in ("phone", "email"):
        op.drop_index(op.f(f"{p}customers_{column}_ix"), f"{p}customers", schema=schema)
    op.drop_table(f"{p}rep_assignments", schema=schema)
