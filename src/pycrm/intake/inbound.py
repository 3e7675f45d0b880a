"""What arrived through an intake channel, as a pure value: who, what was said, whether a lead.

A channel only reads; it never touches the store. Keeping the reading pure lets a plugin's
channel be tested without a CRM, and lets the session apply every channel's output the same
way (see :mod:`pycrm.intake.apply`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.interaction import InteractionChannel
from pycrm.errors import ValidationError
from pycrm.pipeline import Lead

SUMMARY_MAX = 4000
"""The message becomes the interaction's summary, so it is held to a summary's length."""


def _enquiry(value: Lead) -> Lead:
    if not isinstance(value, Lead):
        raise ValidationError("enquiry", f"expected Lead, got {type(value).__name__}")
    return value


def _message(value: str) -> str:
    return conv.required_text(value, "message", SUMMARY_MAX)


def _medium(value: InteractionChannel | str) -> InteractionChannel:
    return conv.check_enum(value, "medium", InteractionChannel)


def _needs(value: Any) -> tuple[str, ...]:
    return conv.check_text_tuple(value, "needs")


def _is_lead(value: bool) -> bool:
    return conv.check_bool(value, "is_lead")


@attrs.frozen(kw_only=True)
class Inbound:
    """One inbound payload, read and validated.

    ``enquiry`` says who got in touch (name, company, phone, email, member id, region,
    industry), through which intake channel and when, and, for a lead, what they need and
    may spend. ``medium`` is how they reached us (the interaction's channel), ``message``
    what they said, ``needs`` the needs they named. ``is_lead`` says whether the payload
    opens an opportunity; only a lead may carry a budget.
    """

    enquiry: Lead = attrs.field(converter=_enquiry)
    message: str = attrs.field(converter=_message)
    medium: InteractionChannel = attrs.field(default=InteractionChannel.ONLINE, converter=_medium)
    needs: tuple[str, ...] = attrs.field(factory=tuple, converter=_needs)
    is_lead: bool = attrs.field(default=False, converter=_is_lead)

    def __attrs_post_init__(self) -> None:
        if self.enquiry.budget is not None and not self.is_lead:
            raise ValidationError("budget", "only a lead has a budget (lead is false)")

    @property
    def channel(self) -> str:
        """The intake channel it came through (also the new customer's source channel)."""
        return self.enquiry.channel

    @property
    def received_at(self) -> datetime:
        return self.enquiry.received_at


@runtime_checkable
class IntakeChannel(Protocol):
    """A way in for customers: a web form, a CSV row, an email, a chat message.

    ``name`` is how callers pick it (``s.intake(name, payload)``) and becomes the source
    channel of customers and leads it creates. ``read`` turns one payload into an
    :class:`Inbound` or raises :class:`pycrm.ValidationError` naming the payload field at
    fault; ``received_at`` is the session's time, for payloads that do not say when.
    """

    @property
    def name(self) -> str: ...

    def read(self, payload: Any, *, received_at: datetime) -> Inbound:
        """The validated description of ``payload``; never writes anything."""
        ...


def check_payload_object(payload: Any) -> Mapping[Any, Any]:
    """``payload`` if it is a mapping (a JSON object, a CSV row), else a named refusal."""
    if not isinstance(payload, Mapping):
        raise ValidationError(
            "payload", f"expected an object of fields, got {type(payload).__name__}"
        )
    return payload
