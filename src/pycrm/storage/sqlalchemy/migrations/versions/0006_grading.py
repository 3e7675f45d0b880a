"""Grading: the loyalty points ledger, customers' stored grades and saved segments.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0006"
down_revision: str | None = "0005"
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
        f"{p}points_entries",
        *bookkeeping(),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("occurred_at", _datetime(), nullable=False),
        sa.Column("expires_at", _datetime(), nullable=True),
        sa.Column("order_id", _id(), nullable=True),
        sa.Column("source", sa.String(120), nullable=True),
        sa.Column("reason", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}points_entries_pk")),
        sa.UniqueConstraint("source", name=op.f(f"{p}points_entries_source_uq")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}points_entries_customer_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], [ref("orders")], name=op.f(f"{p}points_entries_order_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("points_entries", "customer_id", "occurred_at")
    index("points_entries", "order_id")

    op.create_table(
        f"{p}customer_grades",
        *bookkeeping(),
        sa.Column("key", sa.String(145), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("scheme", sa.String(80), nullable=False),
        sa.Column("grade", sa.String(40), nullable=True),
        sa.Column("graded_at", _datetime(), nullable=False),
        sa.Column("next_follow_up_at", _datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}customer_grades_pk")),
        sa.UniqueConstraint("key", name=op.f(f"{p}customer_grades_key_uq")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}customer_grades_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("customer_grades", "scheme", "next_follow_up_at")
    index("customer_grades", "customer_id", "scheme")

    op.create_table(
        f"{p}segments",
        *bookkeeping(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}segments_pk")),
        sa.UniqueConstraint("name", name=op.f(f"{p}segments_name_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    p, schema = _settings()
    op.drop_table(f"{p}segments", schema=schema)
    op.drop_table(f"{p}customer_grades", schema=schema)
    op.drop_table(f"{p}points_entries", schema=schema)
