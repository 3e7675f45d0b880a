"""An optional progress bar: ``tqdm`` (the ``progress`` extra) in terminals and notebooks.

Library calls show none unless asked; without ``tqdm`` installed, asking is quietly a no-op,
since a missing bar should never stop an import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def with_progress(
    items: Iterator[T], *, enabled: bool, total: int | None, description: str
) -> Iterator[T]:
    """``items``, shown advancing on a bar when ``enabled`` and ``tqdm`` is installed."""
    if not enabled:
        return items
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return items
    bar: Any = tqdm(items, total=total, desc=description, unit=" rows", disable=None)
    return iter(bar)


class ProgressCounter:
    """A bar that follows a running total (messages dispatched, rows done), for work that
    reports progress by callback instead of being an iterator."""

    def __init__(self, *, enabled: bool, description: str, unit: str) -> None:
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(desc=description, unit=unit, disable=None)

    @property
    def update_to(self) -> Callable[[int], None] | None:
        """Moves the bar to a new total; ``None`` when no bar is shown."""
        if self._bar is None:
            return None
        bar = self._bar

        def move(total: int) -> None:
            bar.update(total - bar.n)

        return move

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
