"""Grade schemes, their cadences, the regrade run on every store, and the plugin hook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from dateutil.rrule import WEEKLY, rrule
from hypothesis import given
from hypothesis import strategies as st

import pycrm
from pycrm import (
    CRM,
    Customer,
    DomainEvent,
    FixedClock,
    Interaction,
    Money,
    Order,
    PluginError,
    ValidationError,
)
from pycrm.grading.defaults import abc_scheme, purchase_frequency_scheme, tier_scheme
from pycrm.grading.expr import F
from pycrm.grading.schemes import Grade, GradeScheme, check_cadence, next_occurrence
from pycrm.storage import Store

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def order(customer: Customer, amount: str, days_ago: int, n: int) -> Order:
    return Order(
        number=f"SO-{customer.name}-{n}",
        customer_id=customer.id,
        placed_at=NOW - timedelta(days=days_ago),
        total=Money(amount, "CNY"),
        status="paid",
    )


# -- schemes and cadences ------------------------------------------------------------------


def test_cadence_accepts_rrule_text_or_objects_and_drops_their_start() -> None:
    assert check_cadence("freq=weekly") == "FREQ=WEEKLY"
    assert check_cadence(rrule(WEEKLY, dtstart=datetime(2020, 1, 1))) == "FREQ=WEEKLY"
    assert check_cadence("RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15") == "FREQ=MONTHLY;BYMONTHDAY=1,15"
    with pytest.raises(ValidationError, match="not a recurrence rule"):
        check_cadence("FREQ=SOMETIMES")
    with pytest.raises(ValidationError, match="never recurs"):
        check_cadence("FREQ=DAILY;COUNT=1")
    with pytest.raises(ValidationError, match="exactly one"):
        check_cadence("FREQ=DAILY\nFREQ=WEEKLY")


@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1), timezones=st.just(timezone.utc)),
    st.sampled_from(["FREQ=WEEKLY", "FREQ=MONTHLY;BYMONTHDAY=1,15", "FREQ=MONTHLY"]),
)
def test_next_follow_up_is_after_the_anchor_and_within_one_period(
    anchor: datetime, cadence: str
) -> None:
    due = next_occurrence(cadence, anchor)
    assert due is not None
    assert anchor.replace(microsecond=0) < due <= anchor + timedelta(days=31)
    if cadence == "FREQ=WEEKLY":
        assert due == anchor.replace(microsecond=0) + timedelta(days=7)
    if "BYMONTHDAY" in cadence:
        assert due.day in (1, 15)


def test_scheme_is_checked_when_built() -> None:
    with pytest.raises(ValidationError, match="appears twice") as caught:
        GradeScheme("x", [Grade("A", F.always()), Grade("A", F.always())])
    assert caught.value.field == "grades[1].name"
    with pytest.raises(ValidationError, match="at least one grade"):
        GradeScheme("x", [])
    with pytest.raises(ValidationError, match="highest grade down"):
        abc_scheme(key_spend=10, regular_spend=20)
    with pytest.raises(ValidationError) as caught:
        GradeScheme("x", [{"name": "A", "rule": {"bad": 1}}])
    assert caught.value.field == "rule"


def test_scheme_round_trips_through_data() -> None:
    scheme = tier_scheme(by="points", gold=50_000)
    assert GradeScheme.from_data(scheme.to_data()) == scheme
    assert scheme.grade_named("gold").benefits == (
        "dedicated account manager",
        "priority service",
        "double points",
    )


def test_scheme_grades_one_customer_with_reasons() -> None:
    acme = Customer.company("Acme", priority="high")
    result = abc_scheme().grade(acme, as_of=NOW)
    assert result.grade == "B"
    assert [str(r.rule) for r in result.reasons] == ["(F.priority == 'high')"]
    assert [name for name, _ in result.tried] == ["A", "B"]
    nobody = tier_scheme().grade(acme, as_of=NOW)
    assert nobody.grade is None
    assert nobody.reasons == []


# -- regrade on every store ----------------------------------------------------------------


def test_regrade_stores_grades_follow_ups_audit_and_events(
    store_factory: Callable[[], Store],
) -> None:
    events: list[DomainEvent] = []

    class Listener:
        @pycrm.hookimpl
        def pycrm_event(self, event: DomainEvent) -> None:
            events.append(event)

    clock = FixedClock(NOW)
    crm = CRM(store_factory(), clock=clock, plugins=[Listener()])
    with crm.session() as s:
        key = s.customers.add(Customer.company("Key"))
        regular = s.customers.add(Customer.company("Regular"))
        quiet = s.customers.add(Customer.person("Quiet"))
        s.orders.add_many(
            [
                order(key, "1000000", 3, 1),
                order(regular, "99999.99", 3, 2),
                order(regular, "0.01", 400, 3),
            ]
        )
        s.interactions.add(
            Interaction(
                customer_id=key.id,
                channel="visit",
                occurred_at=NOW - timedelta(days=2),
                summary="visit",
            )
        )
    first = crm.regrade("abc")
    assert (first.graded, first.assigned, first.changed) == (3, 3, 0)
    assert dict(first.distribution) == {"A": 1, "C": 2}
    with crm.session() as s:
        stored = {g.customer_id: g for g in s.customer_grades.stream(scheme="abc")}
    assert stored[key.id].grade == "A"
    # Weekly from the last visit; monthly from now for those never contacted.
    assert stored[key.id].next_follow_up_at == NOW - timedelta(days=2) + timedelta(days=7)
    assert stored[quiet.id].next_follow_up_at == datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
    assert stored[regular.id].grade == "C"

    again = crm.regrade("abc")
    assert (again.assigned, again.changed, again.rescheduled) == (0, 0, 0)

    events.clear()
    with crm.session() as s:
        s.orders.add(order(regular, "0.01", 1, 4))  # now exactly 100 000 this year
        s.interactions.add(
            Interaction(
                customer_id=quiet.id,
                channel="phone",
                occurred_at=NOW + timedelta(minutes=30),
                summary="call",
            )
        )
    clock.advance(timedelta(hours=1))
    third = crm.regrade("abc", actor="nightly")
    assert (third.changed, third.rescheduled) == (1, 1)
    changes = {e.entity_id: e.changes for e in events if e.name == "customer_grade.changed"}
    assert changes[stored[regular.id].id]["grade"] == ("C", "B")
    assert changes[stored[quiet.id].id] == {
        "next_follow_up_at": (
            datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc),
            datetime(2026, 7, 1, 9, 30, tzinfo=timezone.utc),
        )
    }
    # Customers never contacted keep the follow-up counted from when they were graded.
    fourth = crm.regrade("abc")
    assert (fourth.changed, fourth.rescheduled) == (0, 0)
    with crm.session() as s:
        trail = s.audit.for_entity(stored[regular.id].id, "customer_grade")
        assert trail[-1].actor == "nightly"
        assert trail[-1].changes is not None
        assert trail[-1].changes["grade"] == ["C", "B"]
        regraded = s.customer_grades.get(stored[regular.id].id)
        assert regraded.graded_at == NOW + timedelta(hours=1)
        explained = s.explain_grade(regular, "abc")
        assert explained.grade == "B"
        assert explained.reasons[0].values == {"F.spend(days=365)": Decimal("100000.00")}
    crm.close()


def test_a_failed_regrade_writes_nothing(store_factory: Callable[[], Store]) -> None:
    crm = CRM(store_factory(), clock=FixedClock(NOW))
    with crm.session() as s:
        s.customers.add_many([Customer.company(f"C{i}") for i in range(5)])
    with pytest.raises(RuntimeError), crm.session() as s:
        s.regrade(purchase_frequency_scheme(), batch_size=2)
        raise RuntimeError("host failed after grading")
    with crm.session() as s:
        assert s.customer_grades.count() == 0
    crm.close()


def test_tiers_by_points_follow_the_ledger(store_factory: Callable[[], Store]) -> None:
    crm = CRM(store_factory(), clock=FixedClock(NOW))
    with crm.session() as s:
        loyal = s.customers.add(Customer.person("Loyal"))
        placed = s.orders.add(order(loyal, "2500", 5, 1))
        s.earn_points(placed)
    report = crm.regrade(tier_scheme(by="points", gold=10_000, silver=2_000, bronze=1))
    assert dict(report.distribution) == {"silver": 1}
    crm.close()


# -- plugins -------------------------------------------------------------------------------


def test_plugins_add_and_replace_schemes() -> None:
    class Schemes:
        @pycrm.hookimpl
        def pycrm_grading_schemes(self, register: Callable[..., None]) -> None:
            register(abc_scheme(key_spend=5_000_000), replace=True)
            register(GradeScheme("credit", [Grade("watch", F.tags.has_tag("late-payer"))]))

    crm = CRM.memory(plugins=[Schemes()])
    assert set(crm.grading_schemes) == {
        "abc",
        "tier",
        "spending_power",
        "purchase_frequency",
        "credit",
    }
    assert crm.grading_scheme("abc") == abc_scheme(key_spend=5_000_000)
    with pytest.raises(ValidationError, match="registered: abc"):
        crm.grading_scheme("nope")

    class Clash:
        @pycrm.hookimpl
        def pycrm_grading_schemes(self, register: Callable[..., None]) -> None:
            register(abc_scheme())

    with pytest.raises(PluginError, match="replace=True"):
        CRM.memory(plugins=[Clash()])
