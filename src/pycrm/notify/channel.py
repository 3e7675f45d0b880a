"""Notification channels: where messages to people go (memory, log, e-mail, webhooks, …)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from pycrm.domain import _convert as conv


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
    """A channel has a unique ``name`` and delivers one notification at a time."""

    @property
    def name(self) -> str: ...

    def send(self, notification: Notification) -> None:
        """Deliver ``notification``; raise on failure so the caller can retry."""
        ...
