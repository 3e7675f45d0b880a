"""A page of results with the cursor for the next one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """``items`` in id order; pass ``next_after`` as ``after=`` to get the following page.

    ``next_after`` is ``None`` when the page came back short, so certainly the last; a full
    last page still names a cursor, and the page after it is empty (keyset paging cannot know
    without reading one row more).
    """

    items: Sequence[T]
    next_after: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
