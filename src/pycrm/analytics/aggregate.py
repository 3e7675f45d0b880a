"""Grouped counts and sums over one kind of record: what every report is built from.

An :class:`Aggregation` names an entity type, the fields to group by (its own, or its
customer's as ``"customer.<field>"``), the :data:`Measure` s to compute per group and the
filters (equality, :class:`pycrm.Range`, :class:`pycrm.OneOf`, as repositories take them).
SQL stores answer it with one ``GROUP BY`` query; the memory store computes the same rows.
Time series are a query per period with a ``Range`` filter, so periods follow the caller's
calendar and time zone rather than each database's date functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pycrm.errors import ValidationError

CUSTOMER_PREFIX = "customer."
"""Group keys and filters starting with this read the record's customer (``customer_id``)."""


def _field_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("field", f"expected a field name, got {value!r}")
    return value


@attrs.frozen
class Count:
    """How many records are in the group."""

    label: str = "count"


@attrs.frozen
class CountDistinct:
    """How many distinct values ``field`` takes in the group (``None`` not counted)."""

    field: str = attrs.field(converter=_field_name)
    label: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", f"distinct_{self.field}")


@attrs.frozen
class Sum:
    """The sum of ``field`` over the group (``None`` when every value is ``None``)."""

    field: str = attrs.field(converter=_field_name)
    label: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", f"sum_{self.field}")


@attrs.frozen
class Min:
    """The smallest value of ``field`` in the group."""

    field: str = attrs.field(converter=_field_name)
    label: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", f"min_{self.field}")


@attrs.frozen
class Max:
    """The largest value of ``field`` in the group."""

    field: str = attrs.field(converter=_field_name)
    label: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", f"max_{self.field}")


Measure = Count | CountDistinct | Sum | Min | Max
"""What an aggregation computes per group."""

MEASURES = (Count, CountDistinct, Sum, Min, Max)


def _group_by(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(_field_name(v) for v in value)


def _measures(value: Any) -> tuple[Measure, ...]:
    measures = tuple(value)
    if not measures:
        raise ValidationError("measures", "name at least one measure, e.g. Count()")
    labels: set[str] = set()
    for measure in measures:
        if not isinstance(measure, MEASURES):
            raise ValidationError(
                "measures", f"expected Count, CountDistinct, Sum, Min or Max, got {measure!r}"
            )
        if measure.label in labels:
            raise ValidationError("measures", f"two measures are labelled {measure.label!r}")
        labels.add(measure.label)
    return measures


def _filters(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError("filters", f"expected a mapping, got {type(value).__name__}")
    return dict(value)


@attrs.frozen(kw_only=True)
class Aggregation:
    """Group ``entity`` records (an entity type, e.g. ``"order"``) by ``group_by`` and
    compute ``measures`` per group, over the records matching ``filters``.

    Without ``group_by`` the answer is one row over every matching record (a count of 0 and
    sums of ``None`` when nothing matches); with it, one row per group that has records.
    """

    entity: str = attrs.field(converter=_field_name)
    measures: tuple[Measure, ...] = attrs.field(converter=_measures)
    group_by: tuple[str, ...] = attrs.field(default=(), converter=_group_by)
    filters: Mapping[str, Any] = attrs.field(factory=dict, converter=_filters)

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of a row's values: the group keys, then the measures' labels."""
        return (*self.group_by, *(m.label for m in self.measures))


def sort_key(row: tuple[Any, ...], width: int) -> tuple[Any, ...]:
    """Rows in group order, ``None`` first, the same on every store."""
    return tuple((value is not None, value) for value in row[:width])
