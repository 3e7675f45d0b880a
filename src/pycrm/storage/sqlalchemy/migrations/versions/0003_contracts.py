"""Contracts with their approval visits, and receipts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Written out by hand, like ``0001`` and ``0002``, with the same storage types per dialect.
Lines, instalments and approval visits are ``WITHOUT ROWID`` tables on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0003"
down_revision: str | None = "0002"
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

    def bookkeeping() -> list[sa.Column[Any]]:
        return [
            sa.Column("id", _id(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", _datetime(), nullable=True),
            sa.Column("updated_at", _datetime(), nullable=True),
        ]

    op.create_table(
        f"{p}contracts",
        *bookkeeping(),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("number_year", sa.Integer(), nullable=True),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("opportunity_id", _id(), nullable=True),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("signer", sa.String(120), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("delivery_status", sa.String(16), nullable=False),
        sa.Column("approval_stage", sa.String(64), nullable=False),
        sa.Column("approval_levels", sa.JSON(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}contracts_pk")),
        sa.UniqueConstraint("number", name=op.f(f"{p}contracts_number_uq")),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}contracts_customer_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            [ref("opportunities")],
            name=op.f(f"{p}contracts_opportunity_id_fk"),
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("contracts", "customer_id", "id")
    index("contracts", "opportunity_id")
    index("contracts", "status", "id")
    index("contracts", "approval_stage", "id")
    index("contracts", "number_year")
    index("contracts", "end_on")

    op.create_table(
        f"{p}contract_lines",
        sa.Column("contract_id", _id(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("description", sa.String(400), nullable=False),
        sa.Column("quantity", _amount(), nullable=False),
        sa.Column("unit_price_amount", _amount(), nullable=False),
        sa.Column("unit_price_currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "line_no", name=op.f(f"{p}contract_lines_pk")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            [ref("contracts")],
            name=op.f(f"{p}contract_lines_contract_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}contract_lines_customer_id_fk")
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("contract_lines", "customer_id")

    op.create_table(
        f"{p}contract_instalments",
        sa.Column("contract_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "seq", name=op.f(f"{p}contract_instalments_pk")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            [ref("contracts")],
            name=op.f(f"{p}contract_instalments_contract_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            [ref("customers")],
            name=op.f(f"{p}contract_instalments_customer_id_fk"),
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("contract_instalments", "customer_id")
    index("contract_instalments", "due_on")

    op.create_table(
        f"{p}contract_approval_visits",
        sa.Column("contract_id", _id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("entered_at", _datetime(), nullable=False),
        sa.Column("entered_by", sa.String(120), nullable=False),
        sa.Column("left_at", _datetime(), nullable=True),
        sa.Column("left_by", sa.String(120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("contract_id", "seq", name=op.f(f"{p}contract_approval_visits_pk")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            [ref("contracts")],
            name=op.f(f"{p}contract_approval_visits_contract_id_fk"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            [ref("customers")],
            name=op.f(f"{p}contract_approval_visits_customer_id_fk"),
        ),
        schema=schema,
        sqlite_with_rowid=False,
        **MYSQL_OPTIONS,
    )
    index("contract_approval_visits", "customer_id")
    index("contract_approval_visits", "stage", "entered_at")

    op.create_table(
        f"{p}receipts",
        *bookkeeping(),
        sa.Column("contract_id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("received_at", _datetime(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("handler", sa.String(120), nullable=True),
        sa.Column("account", sa.String(120), nullable=True),
        sa.Column("reference", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"{p}receipts_pk")),
        sa.ForeignKeyConstraint(
            ["contract_id"], [ref("contracts")], name=op.f(f"{p}receipts_contract_id_fk")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], [ref("customers")], name=op.f(f"{p}receipts_customer_id_fk")
        ),
        schema=schema,
        **MYSQL_OPTIONS,
    )
    index("receipts", "contract_id", "received_at")
    index("receipts", "customer_id", "received_at")


def downgrade() -> None:
    p, schema = _settings()
    for table in (
        "receipts",
        "contract_approval_visits",
        "contract_instalments",
        "contract_lines",
        "contracts",
    ):
        op.drop_table(f"{p}{table}", schema=schema)
