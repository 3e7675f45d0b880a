"""The loyalty points ledger: earning on orders, redeeming, FIFO expiry, on every backend."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    AlreadyExists,
    Customer,
    EarnRule,
    FixedClock,
    Money,
    Order,
    OrderStatus,
    PointsEntry,
    PointsKind,
    ValidationError,
    available_points,
    earn_for_order,
    ledger_balance,
    points_to_expire,
)
from pycrm.grading.loyalty import expiry, redemption
from pycrm.storage.sqlalchemy.translators import points_entry_from_row, points_entry_row

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def order(
    total: str = "123.90",
    *,
    currency: str = "CNY",
    customer_id: str = "cus_1",
    placed_at: datetime = START,
    status: OrderStatus = OrderStatus.PAID,
    number: str = "SO-1",
) -> Order:
    return Order(
        number=number,
        customer_id=customer_id,
        placed_at=placed_at,
        total=Money(total, currency),
        status=status,
    )


def earned(points: int, at: datetime, expires: datetime | None = None) -> PointsEntry:
    return PointsEntry(
        customer_id="cus_1", points=points, kind="earn", occurred_at=at, expires_at=expires
    )


def spent(points: int, at: datetime, kind: str = "redeem") -> PointsEntry:
    return PointsEntry(customer_id="cus_1", points=-points, kind=kind, occurred_at=at)


# -- the entry and the rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"points": 0}, "points"),
        ({"points": -5}, "points"),  # an earn entry is positive
        ({"points": True}, "points"),
        ({"points": 10**16}, "points"),
        ({"kind": "gift"}, "kind"),
        ({"customer_id": " "}, "customer_id"),
        ({"occurred_at": datetime(2026, 1, 1)}, "occurred_at"),
        ({"expires_at": START}, "expires_at"),  # not after occurred_at
        ({"kind": "adjust", "expires_at": START + DAY}, "expires_at"),
        ({"kind": "redeem", "points": 5}, "points"),
        ({"kind": "expire", "points": 5}, "points"),
        ({"source": "x" * 121}, "source"),
        ({"reason": "x" * 401}, "reason"),
    ],
)
def test_an_entry_is_validated_field_by_field(fields: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "customer_id": "cus_1",
        "points": 5,
        "kind": "earn",
        "occurred_at": START,
        "expires_at": START + DAY,
    }
    values.update(fields)
    with pytest.raises(ValidationError) as info:
        PointsEntry(**values)  # type: ignore[arg-type]
    assert info.value.field == field


def test_adjustments_take_either_sign_and_entries_round_trip_their_row() -> None:
    for points in (7, -7):
        entry = PointsEntry(
            customer_id="cus_1", points=points, kind=PointsKind.ADJUST, occurred_at=START
        )
        assert points_entry_from_row(points_entry_row(entry)) == entry
    entry = earn_for_order(order(), EarnRule(), now=START)
    assert entry is not None
    assert points_entry_from_row(points_entry_row(entry)) == entry


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"points_per_unit": 0}, "points_per_unit"),
        ({"points_per_unit": 1.5}, "points_per_unit"),
        ({"currency": "yuan"}, "currency"),
        ({"valid_for": timedelta(days=1)}, "valid_for"),
        ({"valid_for": relativedelta(months=-1)}, "valid_for"),
        ({"valid_for": relativedelta()}, "valid_for"),
        ({"valid_for": relativedelta(day=31)}, "valid_for"),
    ],
)
def test_an_earn_rule_is_validated(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        EarnRule(**fields)  # type: ignore[arg-type]
    assert info.value.field == field


def test_an_order_earns_whole_points_per_unit_dated_at_its_purchase() -> None:
    placed = datetime(2024, 2, 29, 12, tzinfo=timezone.utc)
    entry = earn_for_order(order("123.90", placed_at=placed), EarnRule(), now=START)
    assert entry is not None
    assert entry.points == 123  # rounded down
    assert entry.kind is PointsKind.EARN
    assert entry.occurred_at == placed
    assert entry.expires_at == datetime(2025, 2, 28, 12, tzinfo=timezone.utc)  # dateutil
    assert entry.source == f"order:{entry.order_id}"
    double = EarnRule(points_per_unit=Decimal("2.5"), currency="CNY", valid_for=None)
    entry = earn_for_order(order("10.30"), double, now=START)
    assert entry is not None
    assert (entry.points, entry.expires_at) == (25, None)


def test_no_points_for_refunds_other_currencies_tiny_orders_or_future_orders() -> None:
    rule = EarnRule(currency="CNY")
    assert earn_for_order(order(status=OrderStatus.REFUNDED), rule, now=START) is None
    assert earn_for_order(order(status=OrderStatus.CANCELLED), rule, now=START) is None
    assert earn_for_order(order(currency="USD"), rule, now=START) is None
    assert earn_for_order(order("0.99"), rule, now=START) is None
    with pytest.raises(ValidationError) as info:
        earn_for_order(order(placed_at=START + DAY), rule, now=START)
    assert info.value.field == "order"
    with pytest.raises(ValidationError) as info:
        earn_for_order(order(), rule, now=datetime(2026, 1, 1))
    assert info.value.field == "now"


# -- the arithmetic ---------------------------------------------------------------------------


def test_fifo_expiry_uses_redemptions_against_the_soonest_expiring_points() -> None:
    # 100 points expiring in 30 days, 50 in 60 days; 120 spent on day 10.
    entries = [
        earned(100, START, START + 30 * DAY),
        earned(50, START + DAY, START + 60 * DAY),
        spent(120, START + 10 * DAY),
    ]
    assert ledger_balance(entries, as_of=START + 10 * DAY) == 30
    assert points_to_expire(entries, as_of=START + 30 * DAY) == 0  # the first 100 were spent
    assert points_to_expire(entries, as_of=START + 60 * DAY) == 30  # 20 of them were spent
    assert available_points(entries, as_of=START + 60 * DAY) == 0
    written = expiry("cus_1", entries, as_of=START + 60 * DAY)
    assert written is not None
    assert (written.points, written.kind) == (-30, PointsKind.EXPIRE)
    assert points_to_expire([*entries, written], as_of=START + 90 * DAY) == 0
    assert expiry("cus_1", [*entries, written], as_of=START + 90 * DAY) is None


def test_a_redemption_never_overdraws() -> None:
    entry = redemption("cus_1", 30, available=30, now=START, reason="gift card")
    assert (entry.points, entry.kind, entry.reason) == (-30, PointsKind.REDEEM, "gift card")
    with pytest.raises(ValidationError, match="only 29 points available") as info:
        redemption("cus_1", 30, available=29, now=START)
    assert info.value.field == "points"
    for bad in (0, -1, "5"):
        with pytest.raises(ValidationError) as info:
            redemption("cus_1", bad, available=100, now=START)  # type: ignore[arg-type]
        assert info.value.field == "points"


def _fifo_due(entries: list[PointsEntry], as_of: datetime) -> int:
    """The naive model: lots of earned points, used up one point at a time, soonest first."""
    seen = [e for e in entries if e.occurred_at <= as_of]
    lots = [[e.expires_at, e.points] for e in seen if e.points > 0 and e.expires_at is not None]
    lots.sort(key=lambda lot: lot[0])  # type: ignore[arg-type, return-value]
    for entry in seen:
        need = -entry.points
        for lot in lots:
            while need > 0 and lot[1] > 0:  # type: ignore[operator]
                lot[1] -= 1  # type: ignore[operator]
                need -= 1
    return sum(p for at, p in lots if at <= as_of)  # type: ignore[misc, operator]


_OFFSETS = st.integers(min_value=0, max_value=100)
_ENTRY = st.one_of(
    st.builds(
        lambda p, at, life: earned(
            p, START + at * DAY, None if life is None else START + (at + life) * DAY
        ),
        st.integers(1, 50),
        _OFFSETS,
        st.none() | st.integers(1, 60),
    ),
    st.builds(lambda p, at: spent(p, START + at * DAY), st.integers(1, 50), _OFFSETS),
    st.builds(lambda p, at: spent(p, START + at * DAY, "expire"), st.integers(1, 50), _OFFSETS),
    st.builds(
        lambda p, at: PointsEntry(
            customer_id="cus_1", points=p, kind="adjust", occurred_at=START + at * DAY
        ),
        st.integers(-30, 30).filter(bool),
        _OFFSETS,
    ),
)


@given(st.lists(_ENTRY, max_size=12), _OFFSETS)
def test_points_to_expire_agrees_with_a_lot_by_lot_fifo(
    entries: list[PointsEntry], as_of_day: int
) -> None:
    as_of = START + as_of_day * DAY
    assert points_to_expire(entries, as_of=as_of) == _fifo_due(entries, as_of)


@given(
    st.lists(
        st.tuples(st.sampled_from(["earn", "redeem", "expire"]), st.integers(1, 40)),
        max_size=15,
    ),
    st.integers(1, 40),
)
def test_a_run_ledger_matches_its_lots_as_time_passes(
    steps: list[tuple[str, int]], life: int
) -> None:
    # A day per step; points last ``life`` days; as in the session, a redemption first writes
    # off what is due, then spends only what is there. Lots track what is left of each
    # earning, spent soonest-expiring first. (Without the write-off, a redemption after an
    # expiry date would be counted against the expired points; that is why the session
    # writes it.)
    entries: list[PointsEntry] = []
    lots: list[list[object]] = []
    for day, (step, points) in enumerate(steps):
        now = START + day * DAY
        for lot in lots:  # lots past their expiry are gone
            if lot[0] <= now:  # type: ignore[operator]
                lot[1] = 0
        live = sum(p for _, p in lots)  # type: ignore[misc]
        assert available_points(entries, as_of=now) == live
        if step == "earn":
            entries.append(earned(points, now, now + life * DAY))
            lots.append([now + life * DAY, points])
        elif step == "redeem":
            want = min(points, live)
            if want:
                written = expiry("cus_1", entries, as_of=now)
                if written is not None:
                    entries.append(written)
                entries.append(redemption("cus_1", want, available=live, now=now))
                for lot in lots:
                    used = min(lot[1], want)  # type: ignore[type-var]
                    lot[1] -= used  # type: ignore[operator]
                    want -= used  # type: ignore[operator]
        else:
            written = expiry("cus_1", entries, as_of=now)
            if written is not None:
                entries.append(written)
            assert ledger_balance(entries, as_of=now) == live


# -- in the session, on every backend ------------------------------------------------------------


def _setup(crm: CRM) -> tuple[str, Order]:
    with crm.session(actor="shop") as s:
        customer = s.customers.add(Customer(kind="person", name="Li Lei"))
        placed = s.orders.add(order("250.00", customer_id=customer.id, placed_at=START - DAY))
    return customer.id, placed


def test_earning_is_stored_audited_announced_and_idempotent(crm: CRM) -> None:
    customer_id, placed = _setup(crm)
    with crm.session(actor="shop") as s:
        entry = s.earn_points(placed)
        assert entry is not None
        assert [e.name for e in s.pending_events] == ["points_entry.created"]
        assert s.earn_points(placed) == entry  # asked twice in one session
    with crm.session(actor="shop") as s:
        assert s.earn_points(placed, EarnRule(points_per_unit=3)) == entry  # and again later
        assert s.points.count(customer_id=customer_id) == 1
        assert s.points_balance(customer_id) == 250
        assert [a.action.value for a in s.audit.for_entity(entry)] == ["created"]
        assert s.points.list(source=f"order:{placed.id}").items == [entry]
        refunded = s.orders.add(
            order(customer_id=customer_id, status=OrderStatus.REFUNDED, number="SO-2")
        )
        assert s.earn_points(refunded) is None
    # The unique source refuses a second entry for the order, whoever writes it.
    with pytest.raises(AlreadyExists), crm.session(actor="shop") as s:
        s.points.add(entry.evolve(id="pts_other"))
    with pytest.raises(ValidationError) as info, crm.session(actor="shop") as s:
        s.points.add(entry.evolve(id="pts_x", source=None, order_id="ord_missing"))
    assert info.value.field == "order_id"


def test_redeeming_expires_due_points_first_and_a_refusal_writes_nothing(
    crm: CRM, clock: FixedClock
) -> None:
    customer_id, placed = _setup(crm)
    rule = EarnRule(valid_for=relativedelta(days=30))
    with crm.session(actor="shop") as s:
        s.earn_points(placed, rule)
        s.points.add(
            PointsEntry(customer_id=customer_id, points=40, kind="adjust", occurred_at=START)
        )
        assert s.points_balance(customer_id) == 290
        spend = s.redeem_points(customer_id, 200, reason="voucher")
        assert (spend.points, spend.kind, spend.reason) == (-200, PointsKind.REDEEM, "voucher")
        assert s.points_balance(customer_id) == 90
    clock.advance(timedelta(days=40))  # the earned 250 were due after 30 days; 50 of them left
    with crm.session(actor="shop") as s:
        assert s.points_balance(customer_id) == 40
        assert s.points_balance(customer_id, as_of=START) == 90
        with pytest.raises(ValidationError, match="only 40 points available") as info:
            s.redeem_points(customer_id, 41)
        assert info.value.field == "points"
        assert s.points.count(customer_id=customer_id) == 3  # nothing written, not even expiry
        s.redeem_points(customer_id, 40)
        kinds = [e.kind for e in s.points.stream(customer_id=customer_id)]
        assert sorted(k.value for k in kinds) == ["adjust", "earn", "expire", "redeem", "redeem"]
        assert s.points_balance(customer_id) == 0
        with pytest.raises(ValidationError) as info:
            s.redeem_points("cus_nobody", 1)
        assert info.value.field == "customer"


def test_expire_points_writes_off_every_customer_due(
    crm: CRM, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pycrm.loyalty.HOLDERS_BATCH", 1)  # a page per customer with points
    rule = EarnRule(valid_for=relativedelta(months=1))
    with crm.session(actor="shop") as s:
        ids = []
        for n in range(3):
            customer = s.customers.add(Customer(kind="person", name=f"Customer {n}"))
            ids.append(customer.id)
            if n < 2:
                placed = s.orders.add(
                    order(f"{(n + 1) * 100}", customer_id=customer.id, number=f"SO-{n}")
                )
                s.earn_points(placed, rule)
        s.redeem_points(ids[0], 30)
        assert s.expire_points() == 0
    clock.advance(timedelta(days=45))
    with crm.session(actor="tick") as s:
        assert s.expire_points() == 70 + 200
        # A page a customer: one bulk event each, naming its expire entry.
        events = [e for e in s.pending_events if e.entity_type == "points_entry"]
        assert [e.name for e in events] == ["points_entry.bulk_created"] * 2
        expired = {e.customer_id: e.id for e in s.points.stream(kind="expire")}
        assert sorted(events[0].entity_ids + events[1].entity_ids) == sorted(expired.values())
        assert set(expired) == set(ids[:2])
        assert s.expire_points() == 0  # already written off
        assert [s.points_balance(i) for i in ids] == [0, 0, 0]
        assert s.points.count(kind="expire") == 2
        assert s._tx.analytics.points_holders(after=None, limit=10) == sorted(ids[:2])
        assert s._tx.analytics.points_holders(after=min(ids[:2]), limit=10) == [max(ids[:2])]
    with crm.session(actor="tick") as s:
        assert s.expire_points(as_of=START) == 0


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["earn", "redeem", "tick"]), st.integers(1, 300)),
        min_size=1,
        max_size=8,
    )
)
def test_session_balance_follows_the_pure_ledger(
    crm: CRM, clock: FixedClock, steps: list[tuple[str, int]]
) -> None:
    # One store for every example: each example is a new customer, a little later.
    rule = EarnRule(valid_for=relativedelta(days=3))
    with crm.session(actor="shop") as s:
        customer_id = s.customers.add(Customer(kind="person", name="Han Meimei")).id
    for step, amount in steps:
        clock.advance(DAY)
        with crm.session(actor="shop") as s:
            if step == "earn":
                placed = s.orders.add(
                    order(
                        f"{amount}",
                        customer_id=customer_id,
                        placed_at=s.now,
                        number=f"SO-{uuid.uuid4().hex}",
                    )
                )
                s.earn_points(placed, rule)
            elif step == "redeem":
                if amount > s.points_balance(customer_id):
                    with pytest.raises(ValidationError):
                        s.redeem_points(customer_id, amount)
                else:
                    s.redeem_points(customer_id, amount)
            else:
                s.expire_points()
        with crm.session(actor="shop") as s:
            ledger = list(s.points.stream(customer_id=customer_id))
            balance = s.points_balance(customer_id)
            assert balance == available_points(ledger, as_of=s.now)
            assert balance >= 0
