"""Engagement events: what became of a message a channel sent (delivered, opened, clicked,
replied), on the customer's timeline.

An event lands as an :class:`pycrm.Interaction` of the customer (its ``result`` is the
event's kind), so the timeline of follow-ups and the timeline of messages are one list and
no table of its own is needed. The interaction's id is derived from the event's identity
(channel, message key, kind and the provider's event id, if any), so a channel reporting the
same event twice (webhooks are retried) lands it once. Plugins hear of new events through
``pycrm_engagement`` once the session has committed.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from pycrm.domain import Interaction
from pycrm.domain import _convert as conv
from pycrm.domain.interaction import InteractionChannel
from pycrm.errors import ValidationError
from pycrm.pipeline.history import check_key
from pycrm.plugins import call_each

if TYPE_CHECKING:
    from pycrm.crm import CRM
    from pycrm.session import Session

log = logging.getLogger("pycrm.engagement")

ENGAGEMENT_KINDS = ("delivered", "opened", "clicked", "replied")
"""The kinds every channel may report; the set is open: any key (``bounced``,
``unsubscribed``) is accepted."""


def _kind(value: str) -> str:
    return check_key(value, "kind")


def _customer_id(value: str) -> str:
    return conv.required_text(value, "customer_id", 64)


def _channel(value: str) -> str:
    return conv.required_text(value, "channel", 60)


def _message_key(value: str) -> str:
    return conv.required_text(value, "message_key", 128)


def _occurred_at(value: datetime | str) -> datetime:
    moment = conv.check_datetime(value, "occurred_at", required=True)
    assert moment is not None  # required=True never returns None
    return moment


def _medium(value: InteractionChannel | str) -> InteractionChannel:
    return conv.check_enum(value, "medium", InteractionChannel)


def _event_id(value: str | None) -> str | None:
    return conv.check_text(value, "event_id", max_length=128, required=False)


def _detail(value: str | None) -> str | None:
    return conv.check_text(value, "detail", max_length=2000, required=False)


@attrs.frozen(kw_only=True)
class EngagementEvent:
    """A channel's report that message ``message_key`` (the notification's idempotency key)
    to customer ``customer_id`` was ``kind`` at ``occurred_at``.

    ``channel`` is the notification channel that sent it, ``medium`` how it reached the
    customer (the interaction's channel). Without ``event_id`` an event is one per message
    and kind (the first open counts); a channel that reports every open or click gives each
    its provider's ``event_id``. ``detail`` is what the provider adds (the link clicked, the
    first line of a reply).
    """

    kind: str = attrs.field(converter=_kind)
    customer_id: str = attrs.field(converter=_customer_id)
    channel: str = attrs.field(converter=_channel)
    message_key: str = attrs.field(converter=_message_key)
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    medium: InteractionChannel = attrs.field(default=InteractionChannel.EMAIL, converter=_medium)
    event_id: str | None = attrs.field(default=None, converter=_event_id)
    detail: str | None = attrs.field(default=None, converter=_detail)

    @property
    def interaction_id(self) -> str:
        """The id its interaction is stored under: the same for every report of the event."""
        identity = "\0".join((self.channel, self.message_key, self.kind, self.event_id or ""))
        return "int_" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]

    def to_interaction(self) -> Interaction:
        summary = f"Message {self.message_key} {self.kind} ({self.channel})"
        if self.detail is not None:
            summary = f"{summary}: {self.detail}"
        return Interaction(
            id=self.interaction_id,
            customer_id=self.customer_id,
            channel=self.medium,
            occurred_at=self.occurred_at,
            summary=summary,
            result=self.kind,
            recorded_by=self.channel,
        )


@attrs.frozen
class RecordedEngagement:
    """The event's interaction, and whether it had been recorded before (``duplicate``:
    nothing was written and no hook fires)."""

    interaction: Interaction
    duplicate: bool


def record_engagement(session: Session, event: EngagementEvent) -> RecordedEngagement:
    """Land ``event`` on its customer's timeline in ``session``, once however often reported.

    A report of an event already recorded for another customer is refused
    (:class:`pycrm.ValidationError` on ``customer_id``): one message went to one customer.
    ``pycrm_engagement`` fires after the session commits, for new events only.
    """
    if not isinstance(event, EngagementEvent):
        raise ValidationError("event", f"expected EngagementEvent, got {type(event).__name__}")
    existing = session.interactions.get_or_none(event.interaction_id)
    if existing is not None:
        if existing.customer_id != event.customer_id:
            raise ValidationError(
                "customer_id",
                "this event was recorded for another customer",
                value=event.customer_id,
            )
        return RecordedEngagement(existing, duplicate=True)
    stored = session.interactions.add(event.to_interaction())
    crm = session.crm
    session._tx.after_commit(lambda: deliver_engagement(crm, event))
    return RecordedEngagement(stored, duplicate=False)


def deliver_engagement(crm: CRM, event: EngagementEvent) -> None:
    """Tell every ``pycrm_engagement`` implementation; one failing does not stop the others
    (the event is already committed)."""
    call_each(crm.plugins.hook.pycrm_engagement, {"event": event, "crm": crm}, event.kind)
