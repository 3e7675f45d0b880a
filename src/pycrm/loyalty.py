"""Loyalty points inside a session: read a customer's ledger, apply the domain, write entries.

Entries go through the session's ``points`` repository, so each one is checked, audited
and announced (``points_entry.created``) like any other record, and every decision is made
before the first write: a refused redemption leaves the store as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pycrm.domain import Customer, Order
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.loyalty import (
    EarnRule,
    PointsEntry,
    available_points,
    earn_for_order,
    expiry,
    redemption,
)
from pycrm.query import MAX_ONE_OF, OneOf

if TYPE_CHECKING:
    from pycrm.session import Session

HOLDERS_BATCH = MAX_ONE_OF
"""Customer ids read per query when expiring points (their ledgers are read by a
:class:`~pycrm.OneOf` of them, which holds at most this many)."""


def _customer_id(customer: Customer | str) -> str:
    if isinstance(customer, Customer):
        return customer.id
    checked = conv.check_text(customer, "customer", max_length=64, required=True)
    assert checked is not None
    return checked


def _as_of(session: Session, as_of: datetime | None) -> datetime:
    if as_of is None:
        return session.now
    checked = conv.check_datetime(as_of, "as_of", required=True)
    assert checked is not None
    return checked


def _ledger(session: Session, customer_id: str) -> list[PointsEntry]:
    """One customer's entries: a ledger is per customer, so it stays small."""
    return list(session.points.stream(customer_id=customer_id))


def earn_points(session: Session, order: Order, rule: EarnRule | None = None) -> PointsEntry | None:
    """Write the points ``order`` earns under ``rule`` (``EarnRule()`` when not given).

    Idempotent: an order's entry carries the source ``order:<id>``, and when one is already
    stored it is returned instead of a second one. ``None`` when the order earns nothing (see
    :func:`pycrm.earn_for_order`).
    """
    entry = earn_for_order(order, EarnRule() if rule is None else rule, now=session.now)
    if entry is None:
        return None
    stored = session.points.list(limit=1, source=entry.source).items
    if stored:
        return stored[0]
    return session.points.add(entry)


def points_balance(
    session: Session, customer: Customer | str, *, as_of: datetime | None = None
) -> int:
    """What the customer can spend at ``as_of`` (now when not given): the ledger's sum less
    the earned points past their expiry, whether or not their expire entry is written yet."""
    customer_id = _customer_id(customer)
    return available_points(_ledger(session, customer_id), as_of=_as_of(session, as_of))


def redeem_points(
    session: Session, customer: Customer | str, points: int, *, reason: str | None = None
) -> PointsEntry:
    """Spend ``points`` of the customer's now, and return the stored redeem entry.

    Points past their expiry are written off first (an expire entry), so they cannot be
    spent; when the rest is short, ``ValidationError("points", ...)`` is raised before
    anything is written.
    """
    customer_id = _customer_id(customer)
    if session.customers.get_or_none(customer_id) is None:
        raise ValidationError("customer", f"no customer with id {customer_id!r}")
    now = session.now
    entries = _ledger(session, customer_id)
    spend = redemption(
        customer_id,
        points,
        available=available_points(entries, as_of=now),
        now=now,
        reason=reason,
    )
    expired = expiry(customer_id, entries, as_of=now)
    if expired is not None:
        session.points.add(expired)
    return session.points.add(spend)


def expire_points(session: Session, *, as_of: datetime | None = None) -> int:
    """Write off every customer's points due by ``as_of`` (now when not given).

    Walks only the customers that have points, a page of ids at a time: a page's ledgers
    are read together (one paged query, not one per customer) and its expire entries
    stored together through ``add_many``, one audit entry each and one
    ``points_entry.bulk_created`` event a page. Memory stays bounded by one page's ledgers.
    Returns the number of points expired.
    """
    moment = _as_of(session, as_of)
    total = 0
    after: str | None = None
    while True:
        holders = session._analytics.points_holders(after=after, limit=HOLDERS_BATCH)
        ledgers: dict[str, list[PointsEntry]] = {customer_id: [] for customer_id in holders}
        if holders:
            for held in session.points.stream(customer_id=OneOf(holders)):
                ledgers[held.customer_id].append(held)
        due = [expiry(customer_id, ledger, as_of=moment) for customer_id, ledger in ledgers.items()]
        written = [entry for entry in due if entry is not None]
        session.points.add_many(written)
        total -= sum(entry.points for entry in written)
        if len(holders) < HOLDERS_BATCH:
            return total
        after = holders[-1]
