"""Domain events: what happened, raised inside a session and delivered after it commits."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from pycrm.domain.entity import Entity


class ChangeKind(str, enum.Enum):
    CREATED = "created"
    CHANGED = "changed"
    REMOVED = "removed"
    BULK_CREATED = "bulk_created"
    MERGED = "merged"
    UNMERGED = "unmerged"
    ERASED = "erased"
    DENIED = "denied"
    """A refused read or write (audit entries only: nothing changed, so no event)."""


@attrs.frozen(kw_only=True)
class DomainEvent:
    """A committed change, e.g. ``customer.created`` or ``interaction.changed``.

    ``entity`` is the entity after the change (before it, for ``removed``); ``changes`` maps
    each changed field to ``(old, new)`` with raw values, since hooks run in-process. A bulk
    add raises one ``<type>.bulk_created`` event carrying ``entity_ids`` instead of one event
    per row.
    """

    kind: ChangeKind
    entity_type: str
    entity_id: str | None
    at: datetime
    actor: str
    entity: Entity | None = None
    changes: Mapping[str, tuple[Any, Any]] = attrs.field(factory=dict, hash=False)
    entity_ids: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.entity_type}.{self.kind.value}"

    @property
    def customer_id(self) -> str | None:
        """The customer this event concerns, if any (the entity itself or its owner)."""
        if self.entity is None:
            return None
        if self.entity_type == "customer":
            return self.entity.id
        return getattr(self.entity, "customer_id", None)
