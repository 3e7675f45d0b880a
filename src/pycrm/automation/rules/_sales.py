"""What the sales-side rules share: settings checks, occasion keys, the cadence period a
moment falls in, and reading a page's latest interactions set-based."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pycrm.automation.effects import KEY_LENGTH
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.query import MAX_ONE_OF, OneOf, Range

if TYPE_CHECKING:
    from pycrm.automation.rule import TickContext

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""Where cadence periods are counted from: a fixed point, so every tick agrees on them."""

SUFFIX_ROOM = 16
"""Characters a key keeps free for its effect suffix (``:task``, ``:supervisor``)."""

PAGE_READ = 1000
"""Rows per query when a rule reads the records about a page."""


def boolean(field: str) -> Any:
    def convert(value: Any) -> bool:
        return conv.check_bool(value, field)

    return convert


def text(field: str, max_length: int = 200) -> Any:
    def convert(value: Any) -> str:
        return conv.required_text(value, field, max_length)

    return convert


def duration(field: str, *, positive: bool, maximum: timedelta = timedelta(days=3660)) -> Any:
    """A converter for a :class:`~datetime.timedelta` setting: zero or more (``positive``:
    more than zero), at most ``maximum``; a whole number is read as days."""

    def convert(value: Any) -> timedelta:
        if isinstance(value, int) and not isinstance(value, bool):
            value = timedelta(days=value)
        if not isinstance(value, timedelta):
            raise ValidationError(field, f"expected a timedelta, got {type(value).__name__}")
        if value < timedelta(0) or (positive and value == timedelta(0)):
            raise ValidationError(
                field, "must be more than zero" if positive else "must not be negative"
            )
        if value > maximum:
            raise ValidationError(field, f"must be at most {maximum.days} days")
        return value

    return convert


def occasion_key(*parts: str) -> str:
    """``rule:part:part``: the key of one occasion, before its effect suffix. A key that would
    not leave :data:`SUFFIX_ROOM` under :data:`KEY_LENGTH` keeps the rule's name and a digest
    of the rest, still the same for the same occasion."""
    key = ":".join(parts)
    if len(key) <= KEY_LENGTH - SUFFIX_ROOM:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{parts[0]}:{digest}"


def period_start(moment: datetime, every: timedelta) -> datetime:
    """The start of the ``every``-long period ``moment`` falls in, counted from :data:`EPOCH`
    (UTC): ``period_start(m) <= m < period_start(m) + every``, and every moment in one
    period gives the same start, so it can key "once per period"."""
    if every <= timedelta(0):
        raise ValidationError("every", "must be more than zero")
    periods = (moment - EPOCH) // every
    return EPOCH + periods * every


def stamp(moment: datetime) -> str:
    """A moment as keys and messages show it: ``2026-03-02 09:30 UTC``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def latest_interactions(
    context: TickContext,
    since: Mapping[str, datetime],
    *,
    channel: str | None = None,
) -> dict[str, datetime]:
    """Customer id -> the latest interaction at or after ``since[customer id]`` (of
    ``channel`` if given); customers without one are absent.

    One query per :data:`PAGE_READ` rows for the whole page, from the earliest moment asked
    about, so a page of customers costs a few queries, not one each.
    """
    latest: dict[str, datetime] = {}
    ids = sorted(since)
    for first in range(0, len(ids), MAX_ONE_OF):
        chunk = ids[first : first + MAX_ONE_OF]
        filters: dict[str, Any] = {
            "customer_id": OneOf(chunk),
            "occurred_at": Range(start=min(since[customer_id] for customer_id in chunk)),
        }
        if channel is not None:
            filters["channel"] = channel
        for interaction in context.session.interactions.stream(batch_size=PAGE_READ, **filters):
            customer_id = interaction.customer_id
            if interaction.occurred_at < since[customer_id]:
                continue
            known = latest.get(customer_id)
            if known is None or interaction.occurred_at > known:
                latest[customer_id] = interaction.occurred_at
    return latest


def locale_of(context: TickContext) -> str:
    """The locale the tick's notices are written in: labels (a stage's name) follow it."""
    chosen = getattr(getattr(context.crm, "automation", None), "locale", None)
    return str(chosen or context.crm.templates.default_locale)
