"""Stage visits of the memory store's deals, counted as the SQL store's queries count them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from pycrm.analytics.visits import (
    StageClosures,
    StageEntries,
    StageStays,
    Window,
    entry_order,
    microseconds,
)

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTable


def stage_entries(deals: MemoryTable[Any], window: Window) -> list[StageEntries]:
    counts: Counter[tuple[str, str, str | None]] = Counter()
    for deal in deals._matching({}):
        visits = deal.stage_state.history
        for i, visit in enumerate(visits):
            if window.contains(visit.entered_at):
                after = visits[i + 1].stage if i + 1 < len(visits) else None
                counts[(deal.pipeline, visit.stage, after)] += 1
    return sorted((StageEntries(*key, n) for key, n in counts.items()), key=entry_order)


def stage_stays(deals: MemoryTable[Any], window: Window) -> list[StageStays]:
    counts: Counter[tuple[str, str]] = Counter()
    lengths: Counter[tuple[str, str]] = Counter()
    for deal in deals._matching({}):
        for visit in deal.stage_state.history:
            if visit.left_at is not None and window.contains(visit.left_at):
                key = (deal.pipeline, visit.stage)
                counts[key] += 1
                lengths[key] += microseconds(visit.left_at - visit.entered_at)
    return [StageStays(*key, counts[key], lengths[key]) for key in sorted(counts)]


def stage_closures(deals: MemoryTable[Any], window: Window) -> list[StageClosures]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for deal in deals._matching({}):
        if deal.outcome is None or not window.contains(deal.closed_at):
            continue
        for stage in {visit.stage for visit in deal.stage_state.history}:
            counts[(deal.pipeline, stage, deal.outcome.value)] += 1
    return [StageClosures(*key, counts[key]) for key in sorted(counts)]
