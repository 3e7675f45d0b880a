"""Stage visits counted where they are stored: what the stage flow and calibration reports
are built from.

A deal's stage history is a child table on SQL stores (``opportunity_stage_visits``), so the
visits begun or ended in a period, and the stages the deals closed in it went through, are
counted with one ``GROUP BY`` each, without reading the deals. Lengths are whole
microseconds, which every store computes exactly (SQLite from its text timestamps,
PostgreSQL from an interval's epoch, MariaDB with ``TIMESTAMPDIFF``), so averages agree to
the last digit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import attrs

from pycrm.errors import ValidationError


class StageEntries(NamedTuple):
    """Visits to ``stage`` of ``pipeline`` begun in the window, by the stage entered next
    (``None`` while the visit is the deal's current one)."""

    pipeline: str
    stage: str
    next_stage: str | None
    visits: int


class StageStays(NamedTuple):
    """Visits to ``stage`` of ``pipeline`` ended in the window and their total length."""

    pipeline: str
    stage: str
    visits: int
    microseconds: int


class StageClosures(NamedTuple):
    """Deals of ``pipeline`` closed in the window (their ``closed_at`` in it) with
    ``outcome`` (``"won"`` or ``"lost"``) that visited ``stage`` at least once."""

    pipeline: str
    stage: str
    outcome: str
    deals: int


def _moment(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, f"expected an aware datetime, got {value!r}")
    return value


def _start(value: object) -> datetime:
    return _moment(value, "start")


def _end(value: object) -> datetime:
    return _moment(value, "end")


@attrs.frozen
class Window:
    """The instants from ``start`` (included) to ``end`` (excluded)."""

    start: datetime = attrs.field(converter=_start)
    end: datetime = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError("end", "is before start")

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def microseconds(length: timedelta) -> int:
    """``length`` in whole microseconds (exact: a timedelta holds no less)."""
    return (length.days * 86400 + length.seconds) * 1_000_000 + length.microseconds


def entry_order(row: StageEntries) -> tuple[object, ...]:
    """Entries in pipeline, stage, next stage order (``None`` first), the same on every store."""
    return (row.pipeline, row.stage, row.next_stage is not None, row.next_stage or "")
