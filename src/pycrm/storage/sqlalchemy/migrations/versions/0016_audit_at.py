"""An ``(at, id)`` index on the audit log, for exports and purges by time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22

An audit export reads the log a page at a time in ``(at, id)`` order from a moment on, and a
purge deletes what is older than a cutoff. Without an index on ``at`` each page was a scan of
the whole log, so exporting a log of millions of entries took time in proportion to its
length squared. Entries are written in time order, so the index grows at its end.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def upgrade() -> None:
    p, schema = _settings()
    op.create_index(op.f(f"{p}audit_log_at_ix"), f"{p}audit_log", ["at", "id"], schema=schema)


def downgrade() -> None:
    p, schema = _settings()
    op.drop_index(op.f(f"{p}audit_log_at_ix"), table_name=f"{p}audit_log", schema=schema)
