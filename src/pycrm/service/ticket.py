"""Service tickets: one customer problem, from the first message to the customer's rating.

A ticket keeps its whole status history (a :class:`~pycrm.pipeline.StageState` on the
``"tickets"`` machine), so the SLA clocks can be recomputed from the ticket alone, at any
time and under any policy. The ticket's type is an open set of keys (``inquiry``,
``complaint`` and ``fault`` are built in) so a host can add ``return`` or ``invoice``
without a schema change; its priority is a closed set, because SLA policies are keyed on it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity, InteractionChannel
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import StageState, check_key
from pycrm.service.status import PAUSED_STATUSES, TICKETS, TicketStatus

TICKET_TYPES = ("inquiry", "complaint", "fault")
"""The built-in ticket types; any other key (``"return"``) is accepted as a host's own."""

SATISFACTION_SCORES = range(1, 6)
"""A satisfaction score is 1 (very dissatisfied) to 5 (very satisfied)."""


class TicketPriority(str, enum.Enum):
    """How fast a ticket must be answered; SLA policies are chosen by it."""

    URGENT = "urgent"
    NORMAL = "normal"
    LOW = "low"


CLOSED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
"""Statuses in which nobody is working on the ticket any more."""


def _ticket_type(value: str) -> str:
    return check_key(value, "type")


def _priority(value: TicketPriority | str) -> TicketPriority:
    return conv.check_enum(value, "priority", TicketPriority)


def _channel(value: InteractionChannel | str | None) -> InteractionChannel | None:
    return None if value is None else conv.check_enum(value, "channel", InteractionChannel)


def _status_state(value: StageState) -> StageState:
    if not isinstance(value, StageState):
        raise ValidationError("status_state", f"expected StageState, got {type(value).__name__}")
    known = {status.value for status in TicketStatus}
    for visit in value.history:
        if visit.stage not in known:
            raise ValidationError(
                "status_state", f"{visit.stage!r} is not a status of the {TICKETS!r} machine"
            )
    return value


def _linked(value: Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("linked_ticket_ids", "expected a collection of ticket ids")
    linked = set()
    for item in value:
        checked = conv.check_text(item, "linked_ticket_ids", max_length=64, required=True)
        assert checked is not None  # required=True never returns None
        linked.add(checked)
    return frozenset(linked)


def _score(value: int) -> int:
    if type(value) is not int:
        raise ValidationError("score", f"expected a whole number, got {type(value).__name__}")
    if value not in SATISFACTION_SCORES:
        raise ValidationError("score", "must be 1 to 5", value=value)
    return value


@attrs.frozen(kw_only=True)
class Satisfaction:
    """The customer's rating of how a ticket was handled."""

    score: int = attrs.field(converter=_score)
    rated_at: datetime = attrs.field(converter=conv.aware_datetime())
    comment: str | None = attrs.field(default=None, converter=conv.optional_text(2000))


def _satisfaction(value: Satisfaction | None) -> Satisfaction | None:
    if value is not None and not isinstance(value, Satisfaction):
        raise ValidationError("satisfaction", f"expected Satisfaction, got {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class Ticket(Entity):
    """A customer's request, complaint or fault report and how the service desk handled it.

    ``category`` is what the ticket is about (``"delivery"``, ``"billing"``); repeat
    complaints are counted per customer and category. ``first_response_at`` is when the
    customer first heard back (an explicit response, or the first move to waiting on the
    customer or to resolved); it stops the response clock. ``resolved_at`` is the latest
    resolution and is cleared when the ticket is reopened. ``survey_requested_at`` is when
    the customer was last asked for a rating: every resolution asks again, and a rating
    older than it does not answer it.
    """

    ENTITY_TYPE: ClassVar[str] = "ticket"
    ID_PREFIX: ClassVar[str] = "tkt"

    customer_id: str = attrs.field(converter=conv.text(64))
    subject: str = attrs.field(converter=conv.text(200))
    status_state: StageState = attrs.field(converter=_status_state)
    type: str = attrs.field(default="inquiry", converter=_ticket_type)
    priority: TicketPriority = attrs.field(default=TicketPriority.NORMAL, converter=_priority)
    channel: InteractionChannel | None = attrs.field(default=None, converter=_channel)
    contact_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    description: str | None = attrs.field(default=None, converter=conv.optional_text(10_000))
    category: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    group: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    assignee: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    assigned_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    first_response_at: datetime | None = attrs.field(
        default=None, converter=conv.optional_datetime()
    )
    first_response_by: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    resolved_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    solution: str | None = attrs.field(default=None, converter=conv.optional_text(4000))
    linked_ticket_ids: frozenset[str] = attrs.field(factory=frozenset, converter=_linked)
    satisfaction: Satisfaction | None = attrs.field(default=None, converter=_satisfaction)
    survey_requested_at: datetime | None = attrs.field(
        default=None, converter=conv.optional_datetime()
    )
    custom_fields: dict[str, Any] = attrs.field(
        factory=dict, converter=conv.json_object(), hash=False
    )

    def __attrs_post_init__(self) -> None:
        if (self.first_response_at is None) != (self.first_response_by is None):
            raise ValidationError("first_response_by", "is set exactly when first_response_at is")
        if self.first_response_at is not None and self.first_response_at < self.opened_at:
            raise ValidationError("first_response_at", "is before the ticket was opened")
        if (self.resolved_at is None) == (self.status in CLOSED_STATUSES):
            raise ValidationError(
                "resolved_at", "is set exactly when the ticket is resolved or closed"
            )
        if self.id in self.linked_ticket_ids:
            raise ValidationError("linked_ticket_ids", "a ticket cannot be linked to itself")

    @property
    def status(self) -> TicketStatus:
        return TicketStatus(self.status_state.stage)

    @property
    def opened_at(self) -> datetime:
        """When the ticket was opened: the start of both SLA clocks."""
        return self.status_state.history[0].entered_at

    @property
    def satisfaction_score(self) -> int | None:
        """The customer's score, if rated: what reports group and average by."""
        return None if self.satisfaction is None else self.satisfaction.score

    @property
    def rated_at(self) -> datetime | None:
        """When the customer rated the ticket, if they did: what reports filter by."""
        return None if self.satisfaction is None else self.satisfaction.rated_at

    @property
    def is_open(self) -> bool:
        """Still being worked on: neither resolved nor closed."""
        return self.status not in CLOSED_STATUSES

    @property
    def is_paused(self) -> bool:
        """Waiting on the customer, so the SLA clocks stand still."""
        return self.status in PAUSED_STATUSES
