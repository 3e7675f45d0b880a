"""Claiming outbox messages on SQL databases: row locks skipped, then a conditional update.

The candidates are picked with ``FOR UPDATE SKIP LOCKED`` where the database has it
(PostgreSQL, MySQL 8, MariaDB 10.6), so concurrent dispatchers take different rows instead of
queueing behind each other. The claiming ``UPDATE`` repeats the due condition, which is what
makes a claim exclusive on every database: a row another dispatcher claimed first no longer
matches and is left out. SQLite serialises writers and has no row locks, so there the claim
is one ``UPDATE`` whose subquery picks the rows: a transaction that read first and wrote
second could find its snapshot stale and fail with "database is locked" instead of waiting
its turn. The rows this round claimed are then read back by their claim token.

A purge is one ``DELETE`` of the final messages last changed before the cut-off; its rows
are ones no dispatcher claims, so it takes no part in the claiming above.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.outbox.retention import purgeable_statuses
from pycrm.storage.sqlalchemy.repository import TableSet


class SqlOutboxQueue:
    """The outbox claims and purges of one SQL transaction."""

    def __init__(self, connection: Connection, tables: TableSet) -> None:
        self._conn = connection
        self._table: sa.Table = tables.tables.outbox_messages
        self._from_row = tables.entities["outbox_message"].mapping.from_row

    def claim(
        self, *, worker: str, claim: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        t = self._table
        due = sa.or_(
            sa.and_(t.c.status == OutboxStatus.PENDING.value, t.c.next_attempt_at <= now),
            sa.and_(t.c.status == OutboxStatus.SENDING.value, t.c.claimed_until < now),
        )
        pick = sa.select(t.c.id).where(due).order_by(t.c.next_attempt_at, t.c.id).limit(limit)
        chosen: Any
        if self._conn.dialect.name == "sqlite":
            chosen = pick.scalar_subquery()
        else:
            chosen = list(self._conn.execute(pick.with_for_update(skip_locked=True)).scalars())
            if not chosen:
                return []
        self._conn.execute(
            sa.update(t)
            .where(t.c.id.in_(chosen), due)
            .values(
                status=OutboxStatus.SENDING.value,
                attempts=t.c.attempts + 1,
                claimed_by=worker,
                claim=claim,
                claimed_until=now + lease,
                version=t.c.version + 1,
                updated_at=now,
            )
        )
        rows = self._conn.execute(
            sa.select(t).where(t.c.claim == claim).order_by(t.c.next_attempt_at, t.c.id)
        ).mappings()
        return [self._from_row(row) for row in rows]

    def purge(self, *, before: datetime, statuses: Collection[OutboxStatus]) -> int:
        t = self._table
        values = sorted(status.value for status in purgeable_statuses(statuses))
        statement = t.delete().where(
            t.c.status.in_(values), t.c.updated_at < sa.literal(before, t.c.updated_at.type)
        )
        return int(self._conn.execute(statement).rowcount)
