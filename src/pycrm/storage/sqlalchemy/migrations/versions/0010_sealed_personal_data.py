"""Personal data ready for encryption at rest, and the customer's address.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22

Phone, email and ID number columns of customers and contacts become ``TEXT`` on PostgreSQL and
MySQL/MariaDB, wide enough for an encrypted token; SQLite never enforces a declared length, so
its columns stay as they are (changing a type there means rebuilding the table). The indexes on
the customers' raw phone and email go: lookups use the identity hashes, and an encrypted value
cannot be looked up anyway. Existing values are not touched; with encryption keys configured,
``CRM.reencrypt()`` encrypts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WIDENED = {"customers": ("phone", "email", "id_number"), "contacts": ("phone", "email")}
_LENGTHS = {"phone": 40, "email": 254, "id_number": 40, "address": 500}


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def _sealed(column: str) -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(sa.String(_LENGTHS[column]), "sqlite")


def _on_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    p, schema = _settings()
    customers = f"{p}customers"
    for column in ("email", "phone"):
        op.drop_index(op.f(f"{p}customers_{column}_ix"), table_name=customers, schema=schema)
    if not _on_sqlite():
        for table, columns in _WIDENED.items():
            for column in columns:
                op.alter_column(
                    f"{p}{table}",
                    column,
                    type_=sa.Text(),
                    existing_type=sa.String(_LENGTHS[column]),
                    existing_nullable=True,
                    schema=schema,
                )
    op.add_column(customers, sa.Column("address", _sealed("address"), nullable=True), schema=schema)


def downgrade() -> None:
    p, schema = _settings()
    customers = f"{p}customers"
    op.drop_column(customers, "address", schema=schema)
    if not _on_sqlite():
        for table, columns in _WIDENED.items():
            for column in columns:
                op.alter_column(
                    f"{p}{table}",
                    column,
                    type_=sa.String(_LENGTHS[column]),
                    existing_type=sa.Text(),
                    existing_nullable=True,
                    schema=schema,
                )
    for column in ("phone", "email"):
        op.create_index(op.f(f"{p}customers_{column}_ix"), customers, [column, "id"], schema=schema)
