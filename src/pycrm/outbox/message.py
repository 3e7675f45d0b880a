"""A notification waiting in the outbox: written with the change that caused it, sent later.

The message is stored in the same transaction as the change, so a rolled-back change leaves
no message and a committed one always has its message, whatever happens to the process
after the commit. :func:`pycrm.outbox.dispatch` then delivers it, retrying with backoff, until
it is sent or, after the last attempt, dead with its last error. Its ``key`` is the
idempotency key handed to the channel; it is unique, so enqueuing the same key twice (a rule
run twice at the same moment) stores one message.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.domain.personal import mask_text, masked_repr
from pycrm.notify import Notification


class OutboxStatus(str, enum.Enum):
    """Where a message is: waiting (``pending``), claimed by a dispatcher (``sending``),
    delivered (``sent``) or given up on after its last attempt (``dead``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@attrs.frozen(kw_only=True)
class OutboxMessage(Entity):
    """One notification for one recipient, and its delivery state.

    ``next_attempt_at`` is when a dispatcher may take it; ``claimed_by``, ``claim`` and
    ``claimed_until`` say which dispatcher holds it and until when (a dispatcher that dies
    mid-send loses the claim when it runs out, and the message is sent again with the same
    key). ``attempts`` counts claims, ``last_error`` keeps the latest failure.
    """

    ENTITY_TYPE: ClassVar[str] = "outbox_message"
    ID_PREFIX: ClassVar[str] = "msg"

    channel: str = attrs.field(converter=conv.text(60))
    recipient: str = attrs.field(converter=conv.text(254), repr=masked_repr(mask_text))
    subject: str = attrs.field(converter=conv.text(200), repr=False)
    body: str = attrs.field(converter=conv.text(100_000), repr=False)
    key: str = attrs.field(converter=conv.text(128))
    customer_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    status: OutboxStatus = attrs.field(
        default=OutboxStatus.PENDING, converter=conv.choice(OutboxStatus)
    )
    attempts: int = attrs.field(default=0, converter=conv.integer(minimum=0))
    next_attempt_at: datetime = attrs.field(converter=conv.aware_datetime())
    claimed_by: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    claim: str | None = attrs.field(default=None, converter=conv.optional_text(40))
    claimed_until: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    sent_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    last_error: str | None = attrs.field(default=None, converter=conv.optional_text(2000))

    @classmethod
    def of(
        cls, notification: Notification, *, send_at: datetime, customer_id: str | None = None
    ) -> OutboxMessage:
        """The pending message that delivers ``notification`` from ``send_at`` on."""
        return cls(
            channel=notification.channel,
            recipient=notification.recipient,
            subject=notification.subject,
            body=notification.body,
            key=notification.key,
            customer_id=customer_id,
            next_attempt_at=send_at,
        )

    @property
    def notification(self) -> Notification:
        """What the channel is given."""
        return Notification(
            channel=self.channel,
            recipient=self.recipient,
            subject=self.subject,
            body=self.body,
            key=self.key,
        )

    @property
    def is_final(self) -> bool:
        """Sent or dead: no dispatcher will touch it again."""
        return self.status in (OutboxStatus.SENT, OutboxStatus.DEAD)
