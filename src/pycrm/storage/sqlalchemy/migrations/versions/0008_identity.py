"""Customer identity: ID numbers, keyed identity hashes and the company name key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

Written out by hand, like the revisions before it, with the same storage types per dialect.
The new columns start empty: the hashes need the CRM's identity key, which a migration does
not have, so after upgrading a database that holds customers run
``s.customers.rehash()`` once (see the identity docs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("id_number", "phone_hash", "email_hash", "id_number_hash", "company_key")


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def _key(length: int) -> sa.types.TypeEngine[Any]:
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def upgrade() -> None:
    p, schema = _settings()
    table = f"{p}customers"

    def index(*columns: str) -> None:
        op.create_index(op.f(f"{p}customers_{columns[0]}_ix"), table, list(columns), schema=schema)

    op.add_column(table, sa.Column("id_number", sa.String(40), nullable=True), schema=schema)
    op.add_column(table, sa.Column("phone_hash", _key(64), nullable=True), schema=schema)
    op.add_column(table, sa.Column("email_hash", _key(64), nullable=True), schema=schema)
    op.add_column(table, sa.Column("id_number_hash", _key(64), nullable=True), schema=schema)
    op.add_column(table, sa.Column("company_key", _key(200), nullable=True), schema=schema)
    index("phone_hash", "id")
    index("email_hash", "id")
    index("id_number_hash", "id")
    index("company_key", "kind", "id")


def downgrade() -> None:
    p, schema = _settings()
    table = f"{p}customers"
    for column in ("phone_hash", "email_hash", "id_number_hash", "company_key"):
        op.drop_index(op.f(f"{p}customers_{column}_ix"), table_name=table, schema=schema)
    for column in reversed(_COLUMNS):
        op.drop_column(table, column, schema=schema)
