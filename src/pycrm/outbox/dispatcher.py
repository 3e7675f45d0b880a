"""Delivering the outbox: claim a batch, send each message, record each outcome.

Each claim and each outcome is a transaction of its own, and nothing is sent inside a
transaction, so a slow channel holds no locks. The order for every message is: claim (commit),
send, mark (commit). A process that dies after sending and before marking leaves the message
claimed; once the claim's lease lapses another dispatcher sends it again with the same
idempotency key, which is the one repeat the outbox allows, and which a channel (or its
receiver) can drop by key. A dispatcher that finds its mark refused (its lease lapsed and
another took the message over) leaves the message to that one.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.domain import ChangeKind, DomainEvent
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.outbox.policy import DeliveryPolicy, delivered, failed
from pycrm.storage.units import own_transaction

if TYPE_CHECKING:
    from pycrm.crm import CRM
    from pycrm.notify import NotificationChannel


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :func:`dispatch` run did. ``superseded`` counts messages whose outcome could
    not be recorded because another dispatcher had taken them over (a lapsed lease)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    superseded: int = 0

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}, sent {self.sent}, retry later {self.retried}, "
            f"dead {self.dead}, taken over {self.superseded}"
        )


def default_worker() -> str:
    """``host:pid:thread``: who holds a claim, for people reading the outbox."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def send_with_timeout(
    channel: NotificationChannel, message: OutboxMessage, timeout: float | None
) -> None:
    """``channel.send`` for ``message``, given up on after ``timeout`` seconds.

    The send runs in a daemon thread that is abandoned if it hangs: Python cannot stop a
    thread, and a channel stuck in I/O must not stop the dispatcher or the process from
    exiting. If the abandoned send completes later, the retry repeats it with the same key.
    """
    notification = message.notification
    if timeout is None:
        channel.send(notification)
        return
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            channel.send(notification)
        except BaseException as exc:  # handed to the dispatcher's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, name=f"pycrm-send-{message.key[:40]}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise TimeoutError(f"{channel.name} did not finish sending within {timeout:g} s")
    error = outcome[0]
    if error is not None:
        raise error


def _attempt(crm: CRM, message: OutboxMessage, policy: DeliveryPolicy) -> str | None:
    """Send ``message``; the error that stopped it, or ``None`` once delivered."""
    channel = crm.channels.get(message.channel)
    if channel is None:
        return f"no notification channel named {message.channel!r} is registered"
    try:
        send_with_timeout(channel, message, policy.timeout)
    except Exception as exc:  # any failure of a channel is the message's failure
        return f"{type(exc).__name__}: {exc}"
    return None


def _record(crm: CRM, message: OutboxMessage, outcome: OutboxMessage) -> bool:
    """Save ``outcome`` over the claimed ``message``; ``False`` if the claim was lost."""
    with own_transaction(crm.store) as tx:
        saved = tx.table(OutboxMessage.ENTITY_TYPE).update(
            outcome.evolve(version=message.version + 1), message.version
        )
    return bool(saved)


def _claim(crm: CRM, *, worker: str, policy: DeliveryPolicy, limit: int) -> list[OutboxMessage]:
    with own_transaction(crm.store) as tx:
        return tx.outbox.claim(
            worker=worker,
            claim=uuid.uuid4().hex,
            now=crm.clock.now(),
            lease=policy.lease,
            limit=limit,
        )


def dispatch(
    crm: CRM,
    *,
    limit: int | None = None,
    batch_size: int = 100,
    policy: DeliveryPolicy | None = None,
    worker: str | None = None,
    progress: Any = None,
) -> DispatchReport:
    """Send due outbox messages until none is left (or ``limit`` have been claimed).

    ``policy`` defaults to ``crm.delivery_policy``. Safe to run in several processes or
    threads at once: each message is claimed by one of them. A message that goes dead raises
    an ``outbox_message.changed`` event (status ``sending`` -> ``dead``) for plugins.
    ``progress`` is called with the report after each batch (a progress bar's update, say).
    """
    conv.check_int(batch_size, "batch_size", minimum=1, required=True)
    conv.check_int(limit, "limit", minimum=1, required=False)
    if policy is None:
        policy = crm.delivery_policy
    if not isinstance(policy, DeliveryPolicy):
        raise ValidationError("policy", f"expected a DeliveryPolicy, got {policy!r}")
    holder = conv.check_text(worker, "worker", max_length=120, required=False) or default_worker()
    counts = {"claimed": 0, "sent": 0, "retried": 0, "dead": 0, "superseded": 0}
    while limit is None or counts["claimed"] < limit:
        wanted = batch_size if limit is None else min(batch_size, limit - counts["claimed"])
        batch = _claim(crm, worker=holder, policy=policy, limit=wanted)
        if not batch:
            break
        counts["claimed"] += len(batch)
        for message in batch:
            error = _attempt(crm, message, policy)
            now = crm.clock.now()
            if error is None:
                outcome = delivered(message, now=now)
            else:
                outcome = failed(message, error, now=now, policy=policy)
            if not _record(crm, message, outcome):
                counts["superseded"] += 1
            elif outcome.status is OutboxStatus.SENT:
                counts["sent"] += 1
            elif outcome.status is OutboxStatus.DEAD:
                counts["dead"] += 1
                crm._deliver([_dead_event(outcome, holder)])
            else:
                counts["retried"] += 1
        if progress is not None:
            progress(DispatchReport(**counts))
    return DispatchReport(**counts)


def _dead_event(message: OutboxMessage, worker: str) -> DomainEvent:
    return DomainEvent(
        kind=ChangeKind.CHANGED,
        entity_type=OutboxMessage.ENTITY_TYPE,
        entity_id=message.id,
        at=message.updated_at or message.next_attempt_at,
        actor=worker,
        entity=message,
        changes={"status": (OutboxStatus.SENDING.value, OutboxStatus.DEAD.value)},
    )
