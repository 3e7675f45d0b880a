"""What every stored entity has: a domain-made id, a version for optimistic locking, timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.ids import new_id

EntityT = TypeVar("EntityT", bound="Entity")

BOOKKEEPING_FIELDS = frozenset({"id", "version", "created_at", "updated_at"})
"""Fields the session maintains; they never appear as changes in audit entries."""


def _default_id(self: Entity) -> str:
    return new_id(self.ID_PREFIX)


@attrs.frozen(kw_only=True)
class Entity:
    """Base of stored entities. ``version`` starts at 1 and grows by one with each saved change;
    ``created_at``/``updated_at`` are stamped by the session from its clock."""

    ENTITY_TYPE: ClassVar[str] = "entity"
    ID_PREFIX: ClassVar[str] = "ent"

    id: str = attrs.field(
        default=attrs.Factory(_default_id, takes_self=True), converter=conv.text(64)
    )
    version: int = attrs.field(default=1, converter=conv.integer(minimum=1))
    created_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    updated_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())

    def evolve(self: EntityT, **changes: Any) -> EntityT:
        """A copy with ``changes`` applied and validated (``attrs.evolve``)."""
        return attrs.evolve(self, **changes)


def field_names(cls: type[Entity]) -> tuple[str, ...]:
    return tuple(a.name for a in attrs.fields(cls))
