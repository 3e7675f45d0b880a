"""Why a customer churned or was lost, for the churn-reasons report.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22

A nullable column: customers already churned have no reason on record, and the report counts
them under their status alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def upgrade() -> None:
    p, schema = _settings()
    op.add_column(
        f"{p}customers", sa.Column("churn_reason", sa.String(400), nullable=True), schema=schema
    )


def downgrade() -> None:
    p, schema = _settings()
    op.drop_column(f"{p}customers", "churn_reason", schema=schema)
