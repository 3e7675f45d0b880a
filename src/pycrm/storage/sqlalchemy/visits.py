"""Stage visits of the SQL store's deals: one ``GROUP BY`` over the visit table for the
visits begun in a window, one for those ended in it, one for the stages the deals closed in
it went through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pycrm.analytics.visits import StageClosures, StageEntries, StageStays, Window, entry_order

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pycrm.storage.sqlalchemy.repository import SqlEntityTable
    from pycrm.storage.sqlalchemy.tables import Tables


def _microseconds(dialect: str, start: Any, end: Any) -> sa.ColumnElement[int]:
    """``end - start`` in whole microseconds, exactly, in ``dialect``'s own terms."""
    if dialect == "sqlite":
        # Stored as text, 'YYYY-MM-DD HH:MM:SS.ffffff' (see UtcDateTime).
        def micros(column: Any) -> Any:
            seconds = sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
            fraction = sa.cast(sa.func.substr(column, 21, 6), sa.BigInteger)
            return seconds * 1_000_000 + fraction

        length: sa.ColumnElement[int] = micros(end) - micros(start)
        return length
    if dialect == "postgresql":
        epoch = sa.extract("epoch", end - start)
        return sa.cast(sa.func.round(epoch * 1_000_000), sa.BigInteger)
    return sa.func.timestampdiff(sa.text("MICROSECOND"), start, end)


def stage_entries(
    connection: Connection, tables: Tables, deals: SqlEntityTable[Any], window: Window
) -> list[StageEntries]:
    visit = tables.opportunity_stage_visits
    after = visit.alias("next_visit")
    o = tables.opportunities
    query = (
        sa.select(o.c.pipeline, visit.c.stage, after.c.stage, sa.func.count())
        .select_from(
            visit.join(o, o.c.id == visit.c.opportunity_id).outerjoin(
                after,
                sa.and_(
                    after.c.opportunity_id == visit.c.opportunity_id,
                    after.c.seq == visit.c.seq + 1,
                ),
            )
        )
        .where(visit.c.entered_at >= window.start, visit.c.entered_at < window.end)
        .group_by(o.c.pipeline, visit.c.stage, after.c.stage)
    )
    rows = connection.execute(deals._scoped(query)).all()
    return sorted((StageEntries(p, s, n, int(c)) for p, s, n, c in rows), key=entry_order)


def stage_stays(
    connection: Connection, tables: Tables, deals: SqlEntityTable[Any], window: Window
) -> list[StageStays]:
    visit = tables.opportunity_stage_visits
    o = tables.opportunities
    length = _microseconds(connection.dialect.name, visit.c.entered_at, visit.c.left_at)
    query = (
        sa.select(o.c.pipeline, visit.c.stage, sa.func.count(), sa.func.sum(length))
        .select_from(visit.join(o, o.c.id == visit.c.opportunity_id))
        .where(visit.c.left_at >= window.start, visit.c.left_at < window.end)
        .group_by(o.c.pipeline, visit.c.stage)
    )
    rows = connection.execute(deals._scoped(query)).all()
    return sorted(StageStays(p, s, int(c), int(m)) for p, s, c, m in rows)


def stage_closures(
    connection: Connection, tables: Tables, deals: SqlEntityTable[Any], window: Window
) -> list[StageClosures]:
    visit = tables.opportunity_stage_visits
    o = tables.opportunities
    query = (
        sa.select(o.c.pipeline, visit.c.stage, o.c.outcome, sa.func.count(sa.distinct(o.c.id)))
        .select_from(o.join(visit, visit.c.opportunity_id == o.c.id))
        .where(o.c.outcome.is_not(None), o.c.closed_at >= window.start, o.c.closed_at < window.end)
        .group_by(o.c.pipeline, visit.c.stage, o.c.outcome)
    )
    rows = connection.execute(deals._scoped(query)).all()
    return sorted(StageClosures(p, s, outcome, int(c)) for p, s, outcome, c in rows)
