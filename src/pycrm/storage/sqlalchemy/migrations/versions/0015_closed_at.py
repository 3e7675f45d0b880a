"""When each deal closed, stored and indexed, so reports count a period's won deals in SQL.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22

``opportunities.closed_at`` is when a deal reached its outcome: its first entry into a won
stage, or its entry into the lost stage. From now on the pipeline sets it on every move; here
it is filled in for the deals already closed, from their stage visits. Which stages are won is
the pipeline's to say, and pipelines live in the host's code, not the database, so this
revision takes as won the stages some won deal of the same pipeline is in now. A lost deal's
moment is exact (a lost stage is terminal: it is the current visit). A won deal's is its
first visit to such a stage: exact unless it passed through a won stage that no won deal is
in today, in which case the next won stage's entry stands in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _settings() -> tuple[str, str | None]:
    attributes = context.config.attributes
    return attributes["table_prefix"], attributes.get("schema")


def _datetime() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    p, schema = _settings()
    deals = f"{p}opportunities"
    op.add_column(deals, sa.Column("closed_at", _datetime(), nullable=True), schema=schema)
    _fill_closed_at(deals, f"{p}opportunity_stage_visits", schema)
    op.create_index(
        op.f(f"{p}opportunities_outcome_ix"), deals, ["outcome", "closed_at"], schema=schema
    )


def _fill_closed_at(deals_name: str, visits_name: str, schema: str | None) -> None:
    # Times are copied as the driver returns them, so every dialect keeps its own format.
    deals = sa.table(
        deals_name,
        sa.column("id", sa.String()),
        sa.column("pipeline", sa.String()),
        sa.column("stage", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("closed_at"),
        schema=schema,
    )
    visits = sa.table(
        visits_name,
        sa.column("opportunity_id", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("stage", sa.String()),
        sa.column("entered_at"),
        schema=schema,
    )
    bind = op.get_bind()
    won_stages: dict[str, set[str]] = defaultdict(set)
    for pipeline, stage in bind.execute(
        sa.select(deals.c.pipeline, deals.c.stage).where(deals.c.outcome == "won").distinct()
    ):
        won_stages[pipeline].add(stage)
    after = ""
    while True:
        batch = bind.execute(
            sa.select(deals.c.id, deals.c.pipeline, deals.c.outcome)
            .where(deals.c.outcome.is_not(None), deals.c.id > after)
            .order_by(deals.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        history: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for deal_id, stage, entered_at in bind.execute(
            sa.select(visits.c.opportunity_id, visits.c.stage, visits.c.entered_at)
            .where(visits.c.opportunity_id.in_([row[0] for row in batch]))
            .order_by(visits.c.opportunity_id, visits.c.seq)
        ):
            history[deal_id].append((stage, entered_at))
        updates = []
        for deal_id, pipeline, outcome in batch:
            stays = history.get(deal_id)
            if not stays:
                continue
            closed = stays[-1][1]
            if outcome == "won":
                won = won_stages[pipeline]
                closed = next((at for stage, at in stays if stage in won), closed)
            updates.append({"deal_id": deal_id, "closed": closed})
        if updates:
            bind.execute(
                deals.update()
                .where(deals.c.id == sa.bindparam("deal_id"))
                .values(closed_at=sa.bindparam("closed")),
                updates,
            )
        after = batch[-1][0]


def downgrade() -> None:
    p, schema = _settings()
    deals = f"{p}opportunities"
    op.drop_index(op.f(f"{p}opportunities_outcome_ix"), table_name=deals, schema=schema)
    op.drop_column(deals, "closed_at", schema=schema)
