"""The outbox inside a session: notifications saved with the change that caused them.

``s.outbox.enqueue(notification)`` (or ``s.outbox.notify(template, values, ...)``, which
renders a template first) adds the message to the session's unit of work: it is stored when
the session commits and never if it rolls back. :meth:`pycrm.CRM.dispatch` sends it later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.notify import Notification, NotificationChannel, sees_personal_data
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.repository import Repository


class OutboxRepository(Repository[OutboxMessage]):
    """Outbox messages in a session: :meth:`enqueue`, :meth:`notify`, dead letters."""

    def enqueue(
        self,
        notification: Notification,
        *,
        customer: Customer | str | None = None,
        send_at: datetime | None = None,
    ) -> OutboxMessage:
        """Store ``notification`` for delivery, from ``send_at`` on (default: now).

        The notification's ``key`` identifies it: if a message with that key exists (this
        rule ran before, or another session queued it), that one is returned and nothing is
        added, which is what makes re-running the producer harmless. The channel must be
        registered on the CRM.
        """
        if not isinstance(notification, Notification):
            raise ValidationError(
                "notification", f"expected a pycrm.Notification, got {type(notification).__name__}"
            )
        self._channel(notification.channel)
        start = conv.check_datetime(send_at, "send_at", required=False) or self._session.now
        existing = self.list(limit=1, key=notification.key).items
        if existing:
            return existing[0]
        customer_id = customer.id if isinstance(customer, Customer) else customer
        return self.add(OutboxMessage.of(notification, send_at=start, customer_id=customer_id))

    def notify(
        self,
        template: str,
        values: Mapping[str, Any],
        *,
        channel: str,
        recipient: str,
        key: str,
        locale: str | None = None,
        customer: Customer | str | None = None,
        send_at: datetime | None = None,
    ) -> OutboxMessage:
        """Render ``template`` with ``values`` for ``channel`` and :meth:`enqueue` it.

        Personal values are masked unless the channel may see personal data (see
        :func:`pycrm.sees_personal_data`).
        """
        sees = sees_personal_data(self._channel(channel))
        rendered = self._session.crm.templates.render(
            template, values, locale=locale, personal_data=sees
        )
        return self.enqueue(
            rendered.notification(channel=channel, recipient=recipient, key=key),
            customer=customer,
            send_at=send_at,
        )

    def _channel(self, name: str) -> NotificationChannel:
        channels = self._session.crm.channels
        found = channels.get(name)
        if found is None:
            known = ", ".join(sorted(channels))
            raise ValidationError("channel", f"no notification channel named {name!r} ({known})")
        return found

    def dead(self, *, batch_size: int = 1000) -> Iterator[OutboxMessage]:
        """Messages given up on, each with its ``last_error``."""
        return self.stream(batch_size=batch_size, status=OutboxStatus.DEAD)

    def retry(self, message: OutboxMessage | str) -> OutboxMessage:
        """Give a dead message a fresh set of attempts, due now."""
        current = self.get(message.id if isinstance(message, OutboxMessage) else message)
        if current.status is not OutboxStatus.DEAD:
            raise ValidationError(
                "status", f"only dead messages are retried, not {current.status.value} ones"
            )
        return self.update(
            current.evolve(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=self._session.now
            )
        )
