"""Read-only analytics results a session computes once.

One review needs the same intermediate result more than once: the diagnosis' retention and
churn rates both read every buyer's first and last purchase over two periods; the RFM
segments and the traits of high-value customers both score every buyer per currency; a
report and the metric beside it run the same aggregation. A session therefore keeps the
answers of its aggregations (keyed by the checked :class:`Aggregation`, so two equal
questions share an answer whoever asks) and of its RFM scorings (``as_of``, bins,
currency), and hands them out again while its data is unchanged.

Never stale: the memo is emptied, not patched, before anything is written through the
session (see :mod:`pycrm.storage.watched`), when a savepoint is rolled back, and when the
session ends. A session joined to a host's transaction keeps nothing, since the host may
write on that connection behind pycrm's back. Reads within one session are one look at the
data: a new session sees what others have committed since.

Bounded: at most :data:`ROW_BUDGET` rows are kept in all, the least recently used dropped
first; a bigger answer is handed out but not kept. What is kept is immutable (rows are
tuples, handed out in a new list each time; an :class:`RfmTable` is read-only).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from pycrm.analytics.aggregate import Aggregation
from pycrm.grading.rfm import RfmTable

T = TypeVar("T")

ROW_BUDGET = 250_000
"""Rows (aggregation rows, RFM rows) a session keeps at most: two currencies' RFM scores of
a hundred thousand buyers, or a few buyer-level aggregations."""


def aggregation_key(aggregation: Aggregation) -> Hashable | None:
    """What identifies ``aggregation``'s answer (its filters already checked); ``None`` when
    a filter value cannot be hashed, and the answer is then not kept."""
    filters = tuple(sorted(aggregation.filters.items(), key=lambda item: item[0]))
    key = ("aggregate", aggregation.entity, aggregation.group_by, aggregation.measures, filters)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def rfm_key(as_of: datetime, bins: int, currency: str | None) -> Hashable:
    return ("rfm", as_of, bins, currency)


class ReadMemo:
    """Answers by key, least recently used first, within a budget of rows."""

    def __init__(self, *, enabled: bool = True, budget: int = ROW_BUDGET) -> None:
        self._enabled = enabled
        self._budget = budget
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._rows = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything: the data may have changed."""
        self._entries.clear()
        self._rows = 0

    def rows(
        self, key: Hashable | None, compute: Callable[[], list[tuple[Any, ...]]]
    ) -> list[tuple[Any, ...]]:
        """Aggregation rows, a new list each time, so a caller may change its own."""
        kept: tuple[tuple[Any, ...], ...] = self.value(key, lambda: tuple(compute()), len)
        return list(kept)

    def rfm(self, key: Hashable, compute: Callable[[], RfmTable]) -> RfmTable:
        return self.value(key, compute, len)

    def value(self, key: Hashable | None, compute: Callable[[], T], size: Callable[[T], int]) -> T:
        if not self._enabled or key is None:
            return compute()
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            kept: T = found[0]
            return kept
        value = compute()
        rows = size(value)
        if rows <= self._budget:
            self._entries[key] = (value, rows)
            self._rows += rows
            while self._rows > self._budget:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self._rows -= dropped
        return value
