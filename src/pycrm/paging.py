"""A page of results with the cursor for the next one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """``items`` in id order; pass ``next_after`` as ``after=`` to get the following page.
    ``next_after`` is ``None`` on the last page."""

    items: Sequence[T]
    next_after: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
