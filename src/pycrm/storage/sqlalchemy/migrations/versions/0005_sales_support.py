"""Sales support: team supervisors, exchange rates, deal reviews and resource requests.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0005"
down_revision: str | None = "0004"
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
        f"{p}team_supervisors",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("team", sa.String(120), nullable=False),
        sa.Column("supervisor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}team_supervisors_pk")),
        sa.UniqueConstraint("team", name=op.f(f"{p}team_supervisors_team_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("team_supervisors", "supervisor", "id")

    op.create_table(
        f"{p}exchange_rates",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("base", sa.String(3), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}exchange_rates_pk")),
        sa.UniqueConstraint("key", name=op.f(f"{p}exchange_rates_key_uq")),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("exchange_rates", "base", "id")

    op.add_column(f"{p}opportunities", sa.Column("review", sa.JSON(), nullable=True), schema=schema)

    def ref(table: str) -> str:
        return f"{schema}.{p}{table}.id" if schema else f"{p}{table}.id"

    op.create_table(
        f"{p}resource_requests",
        sa.Column("id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=True),
        sa.Column("opportunity_id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("respond_by", _datetime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", _datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}resource_requests_pk")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}resource_requests_customer_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            [ref("opportunities")],
            name=op.f(f"{p}resource_requests_opportunity_id_fk"),
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("resource_requests", "customer_id", "id")
    index("resource_requests", "opportunity_id", "id")
    index("resource_requests", "owner", "status")
    index("resource_requests", "status", "respond_by")
    index("resource_requests", "department", "status")


def downgrade() -> None:
    p, schema = _settings()
    op.drop_table(f"{p}resource_requests", schema=schema)
    op.drop_column(f"{p}opportunities", "review", schema=schema)
    op.drop_table(f"{p}exchange_rates", schema=schema)
    op.drop_table(f"{p}team_supervisors", schema=schema)
