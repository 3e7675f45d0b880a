"""Notification channels: where messages to people go (memory, log, e-mail, webhooks, …)."""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


@attrs.frozen(kw_only=True)
class Notification:
    """A message for one recipient. ``key`` is an idempotency key: a channel that sees the same
    key twice may drop the second delivery."""

    channel: str = attrs.field(converter=conv.text(60))
    recipient: str = attrs.field(converter=conv.text(254))
    subject: str = attrs.field(converter=conv.text(200))
    body: str = attrs.field(converter=conv.text(100_000))
    key: str = attrs.field(converter=conv.text(128))


@runtime_checkable
class NotificationChannel(Protocol):
    """A channel has a unique ``name`` and delivers one notification at a time.

    A channel may also set ``personal_data = True`` to say its readers may see personal data
    unmasked (an internal mailbox); one that says nothing is sent masked values.
    """

    @property
    def name(self) -> str: ...

    def send(self, notification: Notification) -> None:
        """Deliver ``notification``; raise on failure so the caller can retry."""
        ...


def sees_personal_data(channel: object) -> bool:
    """Whether messages for ``channel`` may carry personal data unmasked: only when it says so
    with ``personal_data = True``, so a channel that forgets to say gets masked values."""
    return getattr(channel, "personal_data", False) is True


def check_channel_name(name: Any) -> str:
    """A channel's name as notifications refer to it (``Notification.channel``)."""
    return conv.required_text(name, "name", 60)


def check_timeout(seconds: Any, field: str = "timeout") -> float:
    """A network timeout in seconds: a positive, finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValidationError(field, f"expected seconds as a number, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValidationError(field, "must be a positive number of seconds", value=seconds)
    return float(seconds)


def check_notification(notification: Any) -> Notification:
    """What a channel's ``send`` was given, refused unless it is a :class:`Notification`."""
    if not isinstance(notification, Notification):
        raise ValidationError(
            "notification", f"expected a Notification, got {type(notification).__name__}"
        )
    return notification
