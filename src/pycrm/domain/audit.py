"""Audit entries: who changed what, when, field by field, with personal data masked."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import BOOKKEEPING_FIELDS, Entity
from pycrm.domain.events import ChangeKind
from pycrm.domain.ids import new_id
from pycrm.domain.money import Money
from pycrm.domain.personal import mask_value


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One change of one entity. ``changes`` maps field -> ``[old, new]`` as JSON values.

    A ``created`` entry carries no values (the entity's first saved state is the base its later
    changes build on); a ``removed`` entry keeps the last state as ``[old, None]`` pairs, since
    the row itself is gone.
    """

    ID_PREFIX: ClassVar[str] = "aud"

    id: str = attrs.field(factory=lambda: new_id(AuditEntry.ID_PREFIX))
    at: datetime = attrs.field(converter=conv.aware_datetime())
    actor: str = attrs.field(converter=conv.text(120))
    action: ChangeKind = attrs.field(converter=conv.choice(ChangeKind))
    entity_type: str = attrs.field(converter=conv.text(40))
    entity_id: str = attrs.field(converter=conv.text(64))
    customer_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    changes: Mapping[str, list[Any]] | None = attrs.field(default=None, hash=False)


def to_jsonable(value: Any) -> Any:
    """A JSON-compatible rendering of a domain value (for audit entries and exports)."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, (frozenset, set)):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if attrs.has(type(value)):
        return {k: to_jsonable(v) for k, v in attrs.asdict(value, recurse=False).items()}
    return str(value)


def diff(before: Entity, after: Entity) -> dict[str, tuple[Any, Any]]:
    """Changed fields as ``{field: (old, new)}``, bookkeeping fields left out."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field in attrs.fields(type(after)):
        # Derived fields (identity hashes) only restate fields that are audited themselves.
        if field.name in BOOKKEEPING_FIELDS or field.metadata.get("derived"):
            continue
        old, new = getattr(before, field.name), getattr(after, field.name)
        if old != new:
            changes[field.name] = (old, new)
    return changes


def masked_changes(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """``changes`` as JSON values with personal data masked, ready for the audit log."""
    return {
        field: [to_jsonable(mask_value(field, old)), to_jsonable(mask_value(field, new))]
        for field, (old, new) in changes.items()
    }


def snapshot(entity: Entity) -> dict[str, tuple[Any, Any]]:
    """Every non-empty field as ``(value, None)``: the removal record of ``entity``."""
    result: dict[str, tuple[Any, Any]] = {}
    for field in attrs.fields(type(entity)):
        if field.name in BOOKKEEPING_FIELDS or field.metadata.get("derived"):
            continue
        value = getattr(entity, field.name)
        if value not in (None, (), {}, frozenset()):
            result[field.name] = (value, None)
    return result
