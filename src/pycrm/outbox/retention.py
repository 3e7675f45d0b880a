"""Outbox retention: delete sent and dead messages once they are old enough.

A message's ``key`` is what makes enqueuing idempotent (and the automation tick with it): as
long as the message is stored, queuing the same key again returns it. Once it is purged, a
producer whose occasion is still open queues the notice again and it goes out a second time.
So the default keeps :data:`DEFAULT_KEEP_DAYS` days, longer than any occasion the built-in
rules key on stays open, and dead messages (which someone may still want to read or retry)
are named apart from sent ones. Pending and sending messages are never purged.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pycrm.domain import AuditEntry, ChangeKind
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.outbox.message import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from pycrm.crm import CRM

DEFAULT_KEEP_DAYS = 90
"""How long :func:`purge_outbox` keeps final messages by default: a quarter, so the keys of
the occasions still open (a follow-up cycle, a renewal window) stay to deduplicate."""

PURGEABLE = (OutboxStatus.SENT, OutboxStatus.DEAD)
"""The statuses a purge may delete: final ones, which no dispatcher touches again."""


def purgeable_statuses(statuses: object) -> frozenset[OutboxStatus]:
    """``statuses`` (a status or a collection of them, as enums or names) checked: each one
    known and final, at least one."""
    if isinstance(statuses, (str, OutboxStatus)):
        statuses = (statuses,)
    if not isinstance(statuses, Collection):
        raise ValidationError(
            "statuses", f"expected a collection of statuses, got {type(statuses).__name__}"
        )
    checked: set[OutboxStatus] = set()
    for status in statuses:
        try:
            found = OutboxStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in PURGEABLE)
            raise ValidationError(
                "statuses", f"unknown status {status!r} (purgeable: {known})", value=statuses
            ) from None
        if found not in PURGEABLE:
            raise ValidationError(
                "statuses",
                f"{found.value} messages are still being delivered and are never purged",
                value=statuses,
            )
        checked.add(found)
    if not checked:
        raise ValidationError("statuses", "name at least one status to purge", value=statuses)
    return frozenset(checked)


def purge_cutoff(older_than: object, now: datetime) -> datetime:
    """The moment before which final messages go: ``older_than`` itself (an aware datetime
    not after ``now``), ``now - older_than`` (a timedelta not below zero), or by default
    :data:`DEFAULT_KEEP_DAYS` days before ``now``."""
    if older_than is None:
        return now - timedelta(days=DEFAULT_KEEP_DAYS)
    if isinstance(older_than, timedelta):
        if older_than < timedelta(0):
            raise ValidationError("older_than", "an age cannot be negative", value=older_than)
        return now - older_than
    if not isinstance(older_than, datetime):
        raise ValidationError(
            "older_than",
            f"expected a datetime or a timedelta, got {type(older_than).__name__}",
            value=older_than,
        )
    cutoff = conv.check_datetime(older_than, "older_than", required=True)
    assert cutoff is not None
    if cutoff > now:
        raise ValidationError(
            "older_than", f"{cutoff.isoformat()} is in the future", value=older_than
        )
    return cutoff


def purge_outbox(
    crm: CRM,
    *,
    older_than: datetime | timedelta | None = None,
    statuses: Collection[OutboxStatus | str] = ("sent", "dead"),
    actor: str = "system",
) -> int:
    """Delete the messages in ``statuses`` last changed before the cut-off (see
    :func:`purge_cutoff`) in one statement; returns how many went. The purge is audited."""
    wanted = purgeable_statuses(statuses)
    now = crm.clock.now()
    cutoff = purge_cutoff(older_than, now)
    with crm.session(actor=actor) as s:
        purged = s._tx.outbox.purge(before=cutoff, statuses=wanted)
        s._tx.audit.append(
            [
                AuditEntry(
                    at=now,
                    actor=s.actor,
                    action=ChangeKind.REMOVED,
                    entity_type=OutboxMessage.ENTITY_TYPE,
                    entity_id="outbox",
                    changes={
                        "purged": [purged, None],
                        "older_than": [cutoff.isoformat(), None],
                        "statuses": [sorted(status.value for status in wanted), None],
                    },
                )
            ]
        )
    return purged
