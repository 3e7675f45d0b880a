"""Opportunities and their stage visits (one row per stay in a stage).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Written out by hand, like ``0001``, with the same storage types per dialect. Stage visits are
a ``WITHOUT ROWID`` table on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0002"
down_revision: str | None = "0001"
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

    def ref(table: str) -> str:
        return f"{schema}.{p}{table}.id" if schema else f"{p}{table}.id"

    def index(table: str, *columns: str) -> None:
        op.create_index(
            op.f(f"{p}{table}_{columns[0]}_ix"), f"{p}{table}", list(columns), schema=schema
        )

    op.create_table(
        f"{p}opportunities",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("assigned_at", _datetime(), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.Column("grade", sa.String(16), nullable=True),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("source_channel", sa.String(60), nullable=True),
        sa.Column("pipeline", sa.String(80), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("deliverables", sa.JSON(), nullable=True),
        sa.Column("manual_probability", _amount(), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}opportunities_pk")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}opportunities_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("opportunities", "customer_id", "id")
    index("opportunities", "owner", "assigned_on")
    index("opportunities", "team", "id")
    index("opportunities", "pipeline", "stage")
    index("opportunities", "stage", "id")
    index("opportunities", "is_open", "owner")

    op.create_table(
        f"{p}opportunity_stage_visits",
        sa.Column("opportunity_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("entered_at", _datetime(), nullable=False),
        sa.Column("entered_by", sa.String(120), nullable=False),
        sa.Column("left_at", _datetime(), nullable=True),
        sa.Column("left_by", sa.String(120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "opportunity_id", "seq", name=op.f(f"{p}opportunity_stage_visits_pk")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            [ref("opportunities")],
            name=op.f(f"{p}opportunity_stage_visits_opportunity_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            [ref("customers")],
            name=op.f(f"{p}opportunity_stage_visits_customer_id_fk"),
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("opportunity_stage_visits", "customer_id")
    index("opportunity_stage_visits", "stage", "entered_at")


def downgrade() -> None:
    p, schema = _settings()
    for table in ("opportunity_stage_visits", "opportunities"):
        op.drop_table(f"{p}{table}", schema=schema)
