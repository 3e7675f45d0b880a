"""Follow-up records: every conversation with a customer, so nothing is lost when a rep leaves."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.errors import ValidationError


class InteractionChannel(str, enum.Enum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    VISIT = "visit"
    ONLINE = "online"
    MESSAGING = "messaging"


@attrs.frozen(kw_only=True)
class Interaction(Entity):
    """One follow-up: what was said, what the customer objected to and promised, what comes next.

    A ``next_action_due`` without a ``next_action`` is rejected: a date with nothing to do is
    a reminder nobody can act on.
    """

    ENTITY_TYPE: ClassVar[str] = "interaction"
    ID_PREFIX: ClassVar[str] = "int"

    customer_id: str = attrs.field(converter=conv.text(64))
    channel: InteractionChannel = attrs.field(converter=conv.choice(InteractionChannel))
    occurred_at: datetime = attrs.field(converter=conv.aware_datetime())
    summary: str = attrs.field(converter=conv.text(4000))
    contact_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    recorded_by: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    needs: tuple[str, ...] = attrs.field(factory=tuple, converter=conv.text_tuple())
    objections: tuple[str, ...] = attrs.field(factory=tuple, converter=conv.text_tuple())
    commitments: tuple[str, ...] = attrs.field(factory=tuple, converter=conv.text_tuple())
    result: str | None = attrs.field(default=None, converter=conv.optional_text(400))
    next_action: str | None = attrs.field(default=None, converter=conv.optional_text(400))
    next_action_due: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())

    def __attrs_post_init__(self) -> None:
        if self.next_action_due is not None and self.next_action is None:
            raise ValidationError("next_action", "is required when next_action_due is set")
