"""The merge log: enough of a merge's before and after to undo it exactly.

A merge removes the duplicates and moves their records to the survivor; the log keeps the
duplicates' full snapshots, the survivor's values before and after, and per duplicate the ids
of the records that moved, so an unmerge restores those and nothing added since. Snapshots are
JSON values (see :func:`entity_to_data`), so the log is one row in any store; they hold
personal data and are left out of ``repr``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.audit import to_jsonable
from pycrm.domain.entity import Entity
from pycrm.domain.money import Money
from pycrm.errors import ValidationError

EntityT = TypeVar("EntityT", bound=Entity)


def entity_to_data(entity: Entity) -> dict[str, Any]:
    """Every field of ``entity`` as a JSON value (money as amount and currency)."""
    return {a.name: to_jsonable(getattr(entity, a.name)) for a in attrs.fields(type(entity))}


def _money_fields(cls: type[Any]) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    return frozenset(
        name for name, hint in hints.items() if hint is Money or Money in typing.get_args(hint)
    )


def entity_from_data(cls: type[EntityT], data: Mapping[str, Any]) -> EntityT:
    """The entity :func:`entity_to_data` made ``data`` from, validated like any other."""
    if not isinstance(data, Mapping):
        raise ValidationError(cls.ENTITY_TYPE, f"expected a snapshot mapping, got {data!r}")
    values = dict(data)
    for name in _money_fields(cls):
        money = values.get(name)
        if isinstance(money, Mapping):
            values[name] = Money(money.get("amount"), money.get("currency"))
    known = {a.name for a in attrs.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValidationError(sorted(unknown)[0], f"is not a {cls.ENTITY_TYPE} field")
    return cls(**values)


def _snapshot(value: Any, field: attrs.Attribute) -> dict[str, Any]:  # type: ignore[type-arg]
    data = conv.check_json_object(value, field.name)
    if "id" not in data:
        raise ValidationError(field.name, "a snapshot needs the record's id")
    return data


def _snapshots(value: Any, field: attrs.Attribute) -> tuple[dict[str, Any], ...]:  # type: ignore[type-arg]
    if isinstance(value, Mapping | str) or not isinstance(value, Sequence):
        raise ValidationError(field.name, f"expected a list of snapshots, got {value!r}")
    return tuple(_snapshot(item, field) for item in value)


@attrs.frozen(kw_only=True)
class MovedRecords:
    """Records of ``entity_type`` a merge pointed (through ``field``) from ``duplicate_id``
    to the survivor."""

    duplicate_id: str = attrs.field(converter=conv.text(64))
    entity_type: str = attrs.field(converter=conv.text(40))
    field: str = attrs.field(converter=conv.text(64))
    ids: tuple[str, ...] = attrs.field(converter=conv.text_tuple())

    def to_data(self) -> dict[str, Any]:
        return {
            "duplicate_id": self.duplicate_id,
            "entity_type": self.entity_type,
            "field": self.field,
            "ids": list(self.ids),
        }


def _moved(value: Any, field: attrs.Attribute) -> tuple[MovedRecords, ...]:  # type: ignore[type-arg]
    if isinstance(value, Mapping | str) or not isinstance(value, Sequence):
        raise ValidationError(field.name, f"expected a list of moved records, got {value!r}")
    moved = []
    for item in value:
        if isinstance(item, MovedRecords):
            moved.append(item)
        elif isinstance(item, Mapping):
            moved.append(MovedRecords(**item))
        else:
            raise ValidationError(field.name, f"expected moved records, got {item!r}")
    return tuple(moved)


def _dropped(value: Any, field: attrs.Attribute) -> tuple[dict[str, Any], ...]:  # type: ignore[type-arg]
    items = _snapshots(value, field) if value else ()
    for item in items:
        if not isinstance(item.get("entity_type"), str) or not isinstance(
            item.get("data"), Mapping
        ):
            raise ValidationError(field.name, "each dropped record has entity_type and data")
    return items


@attrs.frozen(kw_only=True)
class MergeLog(Entity):
    """One merge of ``duplicates`` into the customer ``customer_id`` (the survivor, named like
    every record's customer so a sharded database keeps the log beside the customer's rows),
    and whether it was undone.

    ``survivor_before``/``survivor_after`` and ``duplicates`` are customer snapshots;
    ``moved`` lists the records that moved, per duplicate and type; ``dropped`` holds records
    the merge removed because the survivor already had one of their kind (a grade under the
    same scheme), as ``{"entity_type": ..., "id": ..., "data": snapshot}``.
    """

    ENTITY_TYPE: ClassVar[str] = "merge_log"
    ID_PREFIX: ClassVar[str] = "mrg"

    customer_id: str = attrs.field(converter=conv.text(64))
    survivor_before: dict[str, Any] = attrs.field(
        converter=attrs.Converter(_snapshot, takes_field=True), repr=False, hash=False
    )
    survivor_after: dict[str, Any] = attrs.field(
        converter=attrs.Converter(_snapshot, takes_field=True), repr=False, hash=False
    )
    duplicates: tuple[dict[str, Any], ...] = attrs.field(
        converter=attrs.Converter(_snapshots, takes_field=True), repr=False, hash=False
    )
    moved: tuple[MovedRecords, ...] = attrs.field(
        default=(), converter=attrs.Converter(_moved, takes_field=True)
    )
    dropped: tuple[dict[str, Any], ...] = attrs.field(
        default=(), converter=attrs.Converter(_dropped, takes_field=True), repr=False, hash=False
    )
    merged_at: datetime = attrs.field(converter=conv.aware_datetime())
    merged_by: str = attrs.field(converter=conv.text(120))
    undone_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    undone_by: str | None = attrs.field(default=None, converter=conv.optional_text(120))

    def __attrs_post_init__(self) -> None:
        if not self.duplicates:
            raise ValidationError("duplicates", "a merge has at least one duplicate")
        if (self.undone_at is None) != (self.undone_by is None):
            raise ValidationError("undone_by", "is given together with undone_at")

    @property
    def duplicate_ids(self) -> tuple[str, ...]:
        return tuple(str(d["id"]) for d in self.duplicates)

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
