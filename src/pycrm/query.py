"""Filter values beyond equality: ``s.tasks.list(due_at=Range(end=now), status="open")``.

A repository's ``list``, ``stream`` and ``count`` compare a field with a plain value for
equality; a :class:`Range` asks for values inside bounds, a :class:`OneOf` for any of several
values. Both stores answer them in their queries (SQL ``WHERE``), so set-based work reads
only the rows it needs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from pycrm.errors import ValidationError

MAX_ONE_OF = 1000
"""The most values a :class:`OneOf` may hold: a query's parameter list must stay bounded."""


@attrs.frozen
class Range:
    """Values ``v`` with ``start <= v < end``; either bound may be ``None`` (open).

    Half-open, so consecutive ranges (days, weeks) never count a value twice. A field with no
    value (``None``) is in no range. Only fields a repository lists as ordered accept one.
    """

    start: Any = None
    end: Any = None

    def __attrs_post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise ValidationError("range", "needs a start, an end or both")

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is inside the range (``None`` never is)."""
        if value is None:
            return False
        if self.start is not None and value < self.start:
            return False
        return not (self.end is not None and value >= self.end)


@attrs.frozen(init=False)
class OneOf:
    """Any of ``values`` (at most :data:`MAX_ONE_OF`); ``OneOf()`` of nothing matches nothing."""

    values: tuple[Any, ...] = attrs.field(converter=tuple)

    def __init__(self, *values: Any) -> None:
        if len(values) == 1 and _is_collection(values[0]):
            values = tuple(values[0])
        if len(values) > MAX_ONE_OF:
            raise ValidationError(
                "one_of", f"at most {MAX_ONE_OF} values, got {len(values)}; query in batches"
            )
        self.__attrs_init__(values)


def _is_collection(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


def plain(value: Any) -> Any:
    """A filter value as a store holds it: an enum by its value, anything else as it is."""
    return value.value if isinstance(value, enum.Enum) else value


def matcher(wanted: Any) -> Callable[[Any], bool]:
    """A filter value as a test of a field's value, for stores that filter in Python: a
    :class:`Range`, a :class:`OneOf`, or equality. Enums compare by value on both sides
    (an enum's hash is its name's, so a set of them would not find the value's text)."""
    if isinstance(wanted, Range):
        return wanted.contains
    if isinstance(wanted, OneOf):
        options = {plain(v) for v in wanted.values}
        return lambda found: plain(found) in options
    expected = plain(wanted)
    return lambda found: bool(plain(found) == expected)
