"""The diagnosis: every metric against the period before, bad changes beyond the threshold
and the floor flagged, the same on every store; and the change calculator's properties."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Actor,
    Customer,
    Metric,
    Money,
    Order,
    Period,
    Role,
    Session,
    ValidationError,
)
from pycrm.analytics import Aggregation, Count
from pycrm.analytics.diagnosis import DiagnosisRow, compare, diagnose, findings, show

NOVEMBER = Period.parse("2026-11", tz="Asia/Shanghai")


def paid_orders(session: Session, period: Period) -> Decimal:
    return Decimal(session.orders.count(status="paid", placed_at=period.moments))


def cancelled_by_region(session: Session, period: Period) -> dict[str, Decimal | None]:
    rows = session.aggregate(
        Aggregation(
            entity="order",
            group_by=("customer.region",),
            measures=(Count(),),
            filters={"status": "cancelled", "placed_at": period.moments},
        )
    )
    return {region: Decimal(count) for region, count in rows}


def nothing(session: Session, period: Period) -> None:
    return None


METRICS = (
    Metric(name="paid_orders", title="Paid orders", compute=paid_orders, better="up"),
    Metric(
        name="cancelled_orders",
        title="cancelled orders",
        compute=cancelled_by_region,
        better="down",
    ),
    Metric(name="nothing_yet", title="Nothing yet", compute=nothing, better="up"),
)
OURS = {metric.name for metric in METRICS}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# (region, placed at in UTC, status). November in Shanghai starts at 2026-10-31T16:00Z.
BOOK = [
    # October: paid north 6, south 4 (10); cancelled north 2, south 1.
    *[("north", at(f"2026-10-{d:02d}T03:00"), "paid") for d in (2, 5, 9, 14, 20, 30)],
    *[("south", at(f"2026-10-{d:02d}T03:00"), "paid") for d in (3, 8, 21, 31)],
    ("north", at("2026-10-04T03:00"), "cancelled"),
    ("north", at("2026-10-31T15:59"), "cancelled"),  # 23:59 on 31 October in Shanghai
    ("south", at("2026-10-12T03:00"), "cancelled"),
    # November: paid north 5, south 3 (8); cancelled north 4, south 1.
    ("north", at("2026-10-31T17:00"), "paid"),  # 01:00 on 1 November in Shanghai
    *[("north", at(f"2026-11-{d:02d}T03:00"), "paid") for d in (4, 10, 18, 29)],
    *[("south", at(f"2026-11-{d:02d}T03:00"), "paid") for d in (2, 15, 30)],
    *[("north", at(f"2026-11-{d:02d}T03:00"), "cancelled") for d in (3, 7, 19, 26)],
    ("south", at("2026-11-11T03:00"), "cancelled"),
    # After November in Shanghai: counts for neither period.
    ("south", at("2026-11-30T16:00"), "cancelled"),
]


def add_book(crm: CRM) -> None:
    for metric in METRICS:
        crm.reports.add(metric)
    with crm.session() as s:
        customers = {
            region: s.customers.add(
                Customer.company(f"{region} Co", region=region, owner=f"{region}.rep")
            )
            for region in ("north", "south")
        }
        for n, (region, placed, status) in enumerate(BOOK):
            s.orders.add(
                Order(
                    number=f"o{n}",
                    customer_id=customers[region].id,
                    placed_at=placed,
                    total=Money(Decimal(100), "CNY"),
                    status=status,
                )
            )


def ours(rows: object) -> list[DiagnosisRow]:
    return [row for row in rows if row.metric in OURS]  # type: ignore[attr-defined]


def test_a_drop_beyond_the_threshold_is_flagged_on_every_store(crm: CRM) -> None:
    add_book(crm)
    table = crm.report("diagnosis", NOVEMBER)
    assert table.period == NOVEMBER
    assert ours(table) == [
        # 10 -> 8: (8 - 10) / 10 = -0.2, a fall of 20% > 10%, the floor of 0 is passed.
        DiagnosisRow(
            "paid_orders",
            None,
            Decimal(10),
            Decimal(8),
            Decimal("-0.2000"),
            True,
            "paid orders fell 20% vs 2026-10 (10 \u2192 8)",
        ),
        # north 2 -> 4: (4 - 2) / 2 = +1.0, a rise of what should go down: flagged.
        DiagnosisRow(
            "cancelled_orders",
            "north",
            Decimal(2),
            Decimal(4),
            Decimal("1.0000"),
            True,
            "north cancelled orders rose 100% vs 2026-10 (2 \u2192 4)",
        ),
        # south 1 -> 1: no change.
        DiagnosisRow(
            "cancelled_orders",
            "south",
            Decimal(1),
            Decimal(1),
            Decimal("0.0000"),
            False,
            "south cancelled orders held vs 2026-10 (1 \u2192 1)",
        ),
        # Nothing to measure in either period: no change, no finding.
        DiagnosisRow("nothing_yet", None, None, None, None, False, None),
    ]
    assert "paid orders fell 20% vs 2026-10 (10 \u2192 8)" in findings(table)


def test_an_actor_is_diagnosed_on_their_own_records(crm: CRM) -> None:
    add_book(crm)
    rep = Actor("north.rep", role=Role.REP)
    table = crm.report("diagnosis", NOVEMBER, actor=rep)
    assert [(r.metric, r.key, r.previous, r.current, r.change, r.flagged) for r in ours(table)] == [
        # North's paid orders only: 6 -> 5, (5 - 6) / 6 = -0.1667, beyond 10%.
        ("paid_orders", None, Decimal(6), Decimal(5), Decimal("-0.1667"), True),
        # North's cancellations only; south's are not theirs to see.
        ("cancelled_orders", "north", Decimal(2), Decimal(4), Decimal("1.0000"), True),
        ("nothing_yet", None, None, None, None, False),
    ]


def test_a_floor_or_a_higher_threshold_keeps_a_drop_quiet(crm: CRM) -> None:
    add_book(crm)
    with crm.session() as s:
        # |8 - 10| = 2 is below a floor of 3 orders.
        floored = ours(diagnose(s, NOVEMBER, floors={"paid_orders": Decimal(3)}))
        # 20% is within a threshold of 25%; north's 100% rise is not.
        lenient = ours(diagnose(s, NOVEMBER, threshold=Decimal("0.25")))
        # A floor for every metric not named: 2 more cancellations (north) reach 2.
        general = ours(diagnose(s, NOVEMBER, floor=Decimal(2)))
    assert [(r.metric, r.key, r.flagged) for r in floored][:2] == [
        ("paid_orders", None, False),
        ("cancelled_orders", "north", True),
    ]
    assert [(r.metric, r.key, r.flagged) for r in lenient][:2] == [
        ("paid_orders", None, False),
        ("cancelled_orders", "north", True),
    ]
    assert [(r.metric, r.key, r.flagged) for r in general][:2] == [
        ("paid_orders", None, True),
        ("cancelled_orders", "north", True),
    ]


def test_an_empty_period_flags_nothing(crm: CRM) -> None:
    for metric in METRICS:
        crm.reports.add(metric)
    table = crm.report("diagnosis", "2026-11", tz="Asia/Shanghai")
    assert ours(table) == [
        # 0 -> 0: no relative change from zero.
        DiagnosisRow("paid_orders", None, Decimal(0), Decimal(0), None, False, None),
        DiagnosisRow("nothing_yet", None, None, None, None, False, None),
    ]
    assert findings(table) == []


def test_bad_settings_are_refused_naming_the_field(crm: CRM) -> None:
    with crm.session() as s:
        for kwargs, field in [
            ({"threshold": Decimal(-1)}, "threshold"),
            ({"threshold": 0.1}, "threshold"),
            ({"floor": Decimal("NaN")}, "floor"),
            ({"floors": {"paid_orders": "3"}}, "floors"),
        ]:
            with pytest.raises(ValidationError) as caught:
                diagnose(s, NOVEMBER, **kwargs)  # type: ignore[arg-type]
            assert caught.value.field == field
        with pytest.raises(ValidationError) as period:
            diagnose(s, "2026-11")  # type: ignore[arg-type]
        assert period.value.field == "period"


figures = st.decimals(min_value=-1000, max_value=1000, places=2)
positive = st.decimals(min_value=0, max_value=5, places=2)


@given(
    previous=figures,
    current=figures,
    better=st.sampled_from(["up", "down"]),
    threshold=positive,
    floor=positive,
)
def test_the_change_calculator(
    previous: Decimal, current: Decimal, better: str, threshold: Decimal, floor: Decimal
) -> None:
    change = compare(previous, current, better=better, threshold=threshold, floor=floor)
    delta = current - previous
    assert change.worse == (delta < 0 if better == "up" else delta > 0)
    if previous == 0:
        assert change.change is None
        assert not change.flagged
        return
    assert change.change is not None
    assert abs(change.change - delta / abs(previous)) <= Decimal("0.00005")
    if change.flagged:
        # Only the bad direction, beyond the threshold and the floor.
        assert change.worse
        assert abs(delta) > threshold * abs(previous)
        assert abs(delta) >= floor
    # A stricter threshold or floor never flags more; the mirror image improves instead.
    assert (
        change.flagged
        >= compare(previous, current, better=better, threshold=threshold + 1, floor=floor).flagged
    )
    assert (
        change.flagged
        >= compare(previous, current, better=better, threshold=threshold, floor=floor + 1).flagged
    )
    mirrored = "down" if better == "up" else "up"
    mirror = 2 * previous - current  # the same distance the other way
    assert (
        change.flagged
        == compare(previous, mirror, better=mirrored, threshold=threshold, floor=floor).flagged
    )
    if change.flagged:
        assert not compare(
            previous, current, better=mirrored, threshold=threshold, floor=floor
        ).flagged


@given(st.one_of(st.none(), figures), st.none())
def test_nothing_to_compare_is_never_flagged(previous: Decimal | None, current: None) -> None:
    for a, b in ((previous, current), (current, previous)):
        change = compare(a, b, better="up")
        assert change.change is None
        assert not change.flagged
        assert not change.worse


@given(st.decimals(min_value=0, max_value=10**9, places=4))
def test_figures_are_shown_without_trailing_zeros(value: Decimal) -> None:
    text = show(value)
    assert "E" not in text
    assert Decimal(text.replace(",", "")) == value
    assert not ("." in text and text.endswith("0"))


def test_a_built_in_metric_is_flagged_past_its_floor(crm: CRM) -> None:
    def capture(count: int, moment: datetime) -> None:
        with crm.session() as s:
            s.customers.add_many(
                [Customer.person(f"P{moment:%m%d}-{n}", captured_at=moment) for n in range(count)]
            )

    capture(10, at("2026-10-10T03:00"))
    capture(8, at("2026-11-10T03:00"))

    def new_customers() -> tuple[object, ...]:
        table = crm.report("diagnosis", NOVEMBER)
        (row,) = [r for r in table if r.metric == "new_customers"]
        return (row.previous, row.current, row.change, row.flagged)

    # 10 -> 8: a 20% fall, but by 2 customers, under the floor of 3: not flagged.
    assert new_customers() == (Decimal(10), Decimal(8), Decimal("-0.2000"), False)
    capture(3, at("2026-10-20T03:00"))
    # 13 -> 8: (8 - 13) / 13 = -0.3846, by 5 customers: flagged.
    assert new_customers() == (Decimal(13), Decimal(8), Decimal("-0.3846"), True)


# -- a failing metric ----------------------------------------------------------------------


def python_error(session: Session, period: Period) -> Decimal:
    raise ZeroDivisionError("a plugin's bug")


def failing_sql(session: Session, period: Period) -> Decimal:
    # Writes first, so the test sees the failure's changes undone, then runs a statement
    # the database refuses; on PostgreSQL that aborts the transaction but for the savepoint.
    session.customers.add(Customer.company("Written by a failing metric"))
    connection = getattr(session._tx, "connection", None)
    if connection is None:  # the memory store runs no SQL: fail as a refused query would
        raise LookupError("no such table: crm_no_such_table")
    connection.execute(sa.text("SELECT * FROM crm_no_such_table"))
    return Decimal(1)


def wrong_type(session: Session, period: Period) -> object:
    return 0.5  # a float: refused, as a bug of the metric


BROKEN = (
    Metric(name="python_error", title="Python error", compute=python_error),
    Metric(name="failing_sql", title="Failing SQL", compute=failing_sql),
    Metric(name="wrong_type", title="Wrong type", compute=wrong_type),  # type: ignore[arg-type]
)


def test_a_failing_metric_costs_only_its_own_row_on_every_store(
    crm: CRM, caplog: pytest.LogCaptureFixture
) -> None:
    for metric in BROKEN:  # registered before ours: they must run after the failures
        crm.reports.add(metric)
    add_book(crm)
    with crm.session() as s:
        healthy = diagnose(s, NOVEMBER)
        customers = s.customers.count()
    for metric in BROKEN:
        crm.reports.add(attrs.evolve(metric, compute=nothing), replace=True)
    expected = [row for row in healthy if row.metric not in {m.name for m in BROKEN}]

    for metric in BROKEN:
        crm.reports.add(metric, replace=True)
    with (
        caplog.at_level(logging.WARNING, logger="pycrm.analytics.diagnosis"),
        crm.session() as s,
    ):
        table = diagnose(s, NOVEMBER)
        # The failing metric's write was undone, and the session still works.
        assert s.customers.count() == customers
        s.customers.add(Customer.company("Written after the diagnosis"))
    with crm.session() as s:
        assert s.customers.count() == customers + 1

    failed = {row.metric: row for row in table if row.metric in {m.name for m in BROKEN}}
    assert set(failed) == {"python_error", "failing_sql", "wrong_type"}
    for row in failed.values():
        assert (row.key, row.previous, row.current, row.change, row.flagged) == (
            None,
            None,
            None,
            None,
            False,
        )
    assert failed["python_error"].finding == (
        "python error failed for 2026-11: ZeroDivisionError: a plugin's bug"
    )
    assert "failed for 2026-11" in (failed["failing_sql"].finding or "")
    assert "crm_no_such_table" in (failed["failing_sql"].finding or "")
    assert "expected" not in (failed["wrong_type"].finding or "")
    assert "0.5" in (failed["wrong_type"].finding or "")
    # Every other metric, built-in and ours, reads as if the broken ones were not there.
    assert [row for row in table if row.metric not in failed] == expected
    assert table.notes[-1] == (
        "Could not be computed (see their rows): python_error, failing_sql, wrong_type."
    )
    assert not any(row.metric in failed for row in table if row.flagged)
    logged = {r.args[0] for r in caplog.records if r.name == "pycrm.analytics.diagnosis"}  # type: ignore[index]
    assert logged == {"python_error", "failing_sql", "wrong_type"}
    assert all(r.exc_info for r in caplog.records if r.name == "pycrm.analytics.diagnosis")
