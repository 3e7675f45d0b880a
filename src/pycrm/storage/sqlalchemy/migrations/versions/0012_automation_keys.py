"""What the automation tick looks records up by: task keys and birthdays by month and day.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

``tasks.key`` names the occasion an automated task is for, unique, so a second tick finds
the task instead of adding another (a unique index: SQLite adds one without rebuilding the
table, and every dialect lets many rows have none). ``customers.birth_month_day`` holds a
birthday's ``MM-DD``, indexed, so the day's birthdays are found whatever the year; existing
birthdays are copied into it here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def upgrade() -> None:
    p, schema = _settings()
    tasks, customers = f"{p}tasks", f"{p}customers"
    op.add_column(tasks, sa.Column("key", sa.String(128), nullable=True), schema=schema)
    op.create_index(op.f(f"{p}tasks_key_ix"), tasks, ["key"], unique=True, schema=schema)
    op.add_column(
        customers, sa.Column("birth_month_day", sa.String(5), nullable=True), schema=schema
    )
    _fill_birth_month_day(customers, schema)
    op.create_index(
        op.f(f"{p}customers_birth_month_day_ix"),
        customers,
        ["birth_month_day", "id"],
        schema=schema,
    )


def _fill_birth_month_day(name: str, schema: str | None) -> None:
    table = sa.table(
        name,
        sa.column("id", sa.String()),
        sa.column("birthday", sa.Date()),
        sa.column("birth_month_day", sa.String()),
        schema=schema,
    )
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.birthday)
            .where(table.c.birthday.is_not(None), table.c.id > after)
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(birth_month_day=sa.bindparam("month_day")),
            [{"row_id": i, "month_day": f"{b.month:02d}-{b.day:02d}"} for i, b in rows],
        )
        after = rows[-1][0]


def downgrade() -> None:
    p, schema = _settings()
    tasks, customers = f"{p}tasks", f"{p}customers"
    op.drop_index(op.f(f"{p}customers_birth_month_day_ix"), table_name=customers, schema=schema)
    op.drop_column(customers, "birth_month_day", schema=schema)
    op.drop_index(op.f(f"{p}tasks_key_ix"), table_name=tasks, schema=schema)
    op.drop_column(tasks, "key", schema=schema)
