"""Whose turn it is in a service group: each agent's latest ticket assignment, stored.

Round robin needs every agent's last assignment time. Tickets can only be paged by id, so
finding it there would mean reading all of an agent's tickets; one row per group and agent
answers it with a lookup by the unique ``key``. Every assignment rewrites the row
(version-checked), so two sessions handing out the same turn at once conflict instead of
both succeeding, and the rotation survives restarts because nothing lives in memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv


@attrs.frozen(kw_only=True)
class AgentTurn(Entity):
    """``agent``'s most recent assignment in service ``group``."""

    ENTITY_TYPE: ClassVar[str] = "agent_turn"
    ID_PREFIX: ClassVar[str] = "agt"

    group: str = attrs.field(converter=conv.text(120))
    agent: str = attrs.field(converter=conv.text(120))
    last_assigned_at: datetime = attrs.field(converter=conv.aware_datetime())
    last_ticket_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))

    @property
    def key(self) -> str:
        """``group/agent``: unique, so each agent has one turn per group."""
        return f"{self.group}/{self.agent}"
