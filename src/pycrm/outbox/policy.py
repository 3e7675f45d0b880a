"""How the outbox retries: exponential backoff, a last attempt, and how long a claim lasts.

Pure functions of a message and the time: what a claim, a delivery and a failure make of it.
The dispatcher applies them; keeping them here lets property tests check the schedule without
a store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.outbox.message import OutboxMessage, OutboxStatus

_ERROR_LIMIT = 2000


def _positive_delta(value: object, field: attrs.Attribute) -> timedelta:  # type: ignore[type-arg]
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(field.name, f"expected a positive timedelta, got {value!r}")
    return value


def _optional_timeout(value: object, field: attrs.Attribute) -> float | None:  # type: ignore[type-arg]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(field.name, f"expected a positive number of seconds, got {value!r}")
    return float(value)


@attrs.frozen(kw_only=True)
class DeliveryPolicy:
    """Retry schedule and claim lease of the outbox.

    Attempt ``n`` (1-based) that fails is retried after ``first_delay * factor ** (n - 1)``,
    at most ``max_delay``; after ``max_attempts`` attempts the message is dead. A dispatcher
    holds a claimed message for ``lease``: one that dies mid-send loses it then, and the
    message goes out again with the same idempotency key, so set the lease longer than a send
    can take. ``timeout`` (seconds, optional) bounds each send; a channel that hangs past it
    counts as a failed attempt.
    """

    max_attempts: int = attrs.field(default=8, converter=conv.integer(minimum=1))
    first_delay: timedelta = attrs.field(
        default=timedelta(seconds=30), converter=attrs.Converter(_positive_delta, takes_field=True)
    )
    factor: int = attrs.field(default=2, converter=conv.integer(minimum=1))
    max_delay: timedelta = attrs.field(
        default=timedelta(hours=1), converter=attrs.Converter(_positive_delta, takes_field=True)
    )
    lease: timedelta = attrs.field(
        default=timedelta(minutes=5), converter=attrs.Converter(_positive_delta, takes_field=True)
    )
    timeout: float | None = attrs.field(
        default=None, converter=attrs.Converter(_optional_timeout, takes_field=True)
    )

    def delay(self, attempt: int) -> timedelta:
        """How long after failed attempt ``attempt`` (1-based) the next one may start."""
        if attempt < 1:
            raise ValidationError("attempt", "attempts count from 1")
        # Grow step by step and stop at the cap, so a large attempt number never builds a
        # huge multiplier.
        delay = self.first_delay
        for _ in range(attempt - 1):
            if delay >= self.max_delay:
                break
            delay *= self.factor
        return min(delay, self.max_delay)


def claimed(
    message: OutboxMessage, *, worker: str, claim: str, now: datetime, lease: timedelta
) -> OutboxMessage:
    """``message`` taken by ``worker`` for one attempt, until ``now + lease``."""
    return message.evolve(
        status=OutboxStatus.SENDING,
        attempts=message.attempts + 1,
        claimed_by=worker,
        claim=claim,
        claimed_until=now + lease,
        version=message.version + 1,
        updated_at=now,
    )


def delivered(message: OutboxMessage, *, now: datetime) -> OutboxMessage:
    """``message`` after its channel accepted it."""
    return message.evolve(
        status=OutboxStatus.SENT,
        sent_at=now,
        claimed_by=None,
        claim=None,
        claimed_until=None,
        last_error=None,
        updated_at=now,
    )


def failed(
    message: OutboxMessage, error: str, *, now: datetime, policy: DeliveryPolicy
) -> OutboxMessage:
    """``message`` after an attempt failed with ``error``: pending again after the backoff,
    or dead once it has had ``policy.max_attempts`` attempts."""
    error = (error.strip() or "delivery failed")[:_ERROR_LIMIT]
    released = {"claimed_by": None, "claim": None, "claimed_until": None, "updated_at": now}
    if message.attempts >= policy.max_attempts:
        return message.evolve(status=OutboxStatus.DEAD, last_error=error, **released)
    return message.evolve(
        status=OutboxStatus.PENDING,
        next_attempt_at=now + policy.delay(max(message.attempts, 1)),
        last_error=error,
        **released,
    )


def is_due(message: OutboxMessage, now: datetime) -> bool:
    """Whether a dispatcher may claim ``message`` at ``now``: pending and due, or claimed by a
    dispatcher whose lease ran out."""
    if message.status is OutboxStatus.PENDING:
        return message.next_attempt_at <= now
    if message.status is OutboxStatus.SENDING:
        return message.claimed_until is None or message.claimed_until < now
    return False
