"""An optional progress bar: ``tqdm`` (the ``progress`` extra) in terminals and notebooks.

Library calls show none unless asked; without ``tqdm`` installed, asking is quietly a no-op,
since a missing bar should never stop an import.
"""

from __future__ import annotations

from collections.abc import Iterator
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
