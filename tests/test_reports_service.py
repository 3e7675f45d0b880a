"""Service reports against hand-computed books on every store: business-hour response and
resolution times, SLA targets met and breached in the period, satisfaction, repeat
complaints and ticket counts, per service group and overall."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from pycrm import CRM, Actor, Customer, FixedClock, Role
from pycrm.analytics import Period
from pycrm.analytics.service import (
    ALL,
    NO_GROUP,
    RepeatComplaintsRow,
    SatisfactionRow,
    ServiceTimesRow,
    SlaRow,
    TicketsByTypeRow,
    average_hours,
    average_score,
    rate,
)

BEIJING = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.parse("2026-11", BEIJING)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=BEIJING)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Beijing time, 2026 (the default SLA calendar: Mon-Fri 09-12, 13:30-18)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


class Desk:
    """Tickets written step by step at the moments given, as the desk would record them."""

    def __init__(self, crm: CRM, clock: FixedClock) -> None:
        self.crm, self.clock = crm, clock
        clock.set(at(10, 1, 9))
        with crm.session() as s:
            self.customers = [s.customers.add(Customer.person(f"P{i}")).id for i in range(3)]

    def ticket(
        self,
        opened: datetime,
        *,
        who: int = 0,
        group: str | None = None,
        type: str = "inquiry",
        category: str | None = None,
        respond: datetime | None = None,
        resolve: datetime | None = None,
        rate: tuple[datetime, int] | None = None,
    ) -> str:
        self.clock.set(opened)
        fields: dict[str, object] = {"type": type, "category": category, "group": group}
        with self.crm.session() as s:
            ticket_id = s.service.open(self.customers[who], "help", **fields).id
        if respond is not None:
            self.clock.set(respond)
            with self.crm.session() as s:
                s.service.respond(ticket_id)
        if resolve is not None:
            self.clock.set(resolve)
            with self.crm.session() as s:
                s.service.resolve(ticket_id, "fixed")
        if rate is not None:
            self.clock.set(rate[0])
            with self.crm.session() as s:
                s.service.rate(ticket_id, rate[1])
        return ticket_id

    def book(self) -> None:
        """Five tickets; November 2026 starts on a Sunday, the 2nd is a Monday."""
        # A: Mon 2nd 09:00, answered 10:30 (1.5 h), resolved 15:00 (3 h + 1.5 h = 4.5 h).
        self.ticket(
            at(11, 2, 9),
            group="billing",
            respond=at(11, 2, 10, 30),
            resolve=at(11, 2, 15),
            rate=(at(11, 3, 9), 4),
        )
        # B: Mon 2nd 17:00, answered Tue 09:30 (1 h + 0.5 h = 1.5 h), never resolved; its 24
        # working hours run out Fri 6th 09:30 (1 + 7.5 * 3 + 0.5), in November: breached.
        self.ticket(
            at(11, 2, 17),
            group="billing",
            type="complaint",
            category="delivery",
            respond=at(11, 3, 9, 30),
        )
        # C: Wed 4th 11:00, answered 11:15 (0.25 h), resolved 14:00 (1 h + 0.5 h = 1.5 h).
        self.ticket(
            at(11, 4, 11),
            respond=at(11, 4, 11, 15),
            resolve=at(11, 4, 14),
            rate=(at(11, 5, 10), 5),
        )
        # D: Fri Oct 30th 17:00, never answered: the response (2 h) falls due Mon 2nd 10:00,
        # the resolution (24 h) Thu 5th 09:30, both breached in November.
        self.ticket(at(10, 30, 17), group="billing")
        # E: October, decided in October, rated in November (2).
        self.ticket(
            at(10, 26, 9),
            group="billing",
            type="complaint",
            category="Delivery",
            respond=at(10, 26, 9, 10),
            resolve=at(10, 26, 10),
            rate=(at(11, 1, 12), 2),
        )
        self.clock.set(LATER)


def test_service_times_in_business_hours(crm: CRM, clock: FixedClock) -> None:
    Desk(crm, clock).book()
    table = crm.report("service_times", NOVEMBER)
    assert table.rows == (
        # billing: A and B answered in 1.5 h each; only A resolved, in 4.5 h.
        ServiceTimesRow("billing", 2, 2, Decimal("1.50"), 1, Decimal("4.50")),
        ServiceTimesRow(NO_GROUP, 1, 1, Decimal("0.25"), 1, Decimal("1.50")),
        # (1.5 + 1.5 + 0.25) / 3 = 1.0833; (4.5 + 1.5) / 2 = 3.
        ServiceTimesRow(ALL, 3, 3, Decimal("1.08"), 2, Decimal("3.00")),
    )
    assert crm.reports.metrics["first_response_hours"].compute is not None
    with crm.session() as s:
        assert crm.reports.metrics["first_response_hours"].compute(s, NOVEMBER) == Decimal("1.08")
        assert crm.reports.metrics["resolution_hours"].compute(s, NOVEMBER) == Decimal("3.00")


def test_sla_targets_met_and_breached_in_the_period(crm: CRM, clock: FixedClock) -> None:
    Desk(crm, clock).book()
    table = crm.report("sla_attainment", NOVEMBER)
    assert table.rows == (
        # Responses: A, B met, D breached (2 / 3); resolutions: A met, B and D breached (1 / 3).
        SlaRow("billing", 2, 1, Decimal("0.6667"), 1, 2, Decimal("0.3333")),
        SlaRow(NO_GROUP, 1, 0, Decimal("1.0000"), 1, 0, Decimal("1.0000")),
        SlaRow(ALL, 3, 1, Decimal("0.7500"), 2, 2, Decimal("0.5000")),
    )
    with crm.session() as s:
        # Both clocks pooled: 5 met of 8.
        rate_ = crm.reports.metrics["sla_attainment_rate"].compute(s, NOVEMBER)
    assert rate_ == Decimal("0.6250")


def test_satisfaction_by_ratings_given_in_the_period(crm: CRM, clock: FixedClock) -> None:
    Desk(crm, clock).book()
    table = crm.report("satisfaction", NOVEMBER)
    assert table.rows == (
        # A rated 4, E (an October ticket) rated 2 in November: (4 + 2) / 2 = 3.
        SatisfactionRow("billing", 2, Decimal("3.00"), 0, 1, 0, 1, 0),
        SatisfactionRow(NO_GROUP, 1, Decimal("5.00"), 0, 0, 0, 0, 1),
        # (4 + 5 + 2) / 3 = 3.6667.
        SatisfactionRow(ALL, 3, Decimal("3.67"), 0, 1, 0, 1, 1),
    )
    with crm.session() as s:
        assert crm.reports.metrics["csat_average"].compute(s, NOVEMBER) == Decimal("3.67")


def test_repeat_complaints_look_back_one_window(crm: CRM, clock: FixedClock) -> None:
    desk = Desk(crm, clock)
    desk.book()
    # F: another customer's delivery complaint: not a repeat of B.
    desk.ticket(at(11, 10, 9), who=1, group="support", type="complaint", category="delivery")
    # G: P0 about delivery again, 28 days after B: repeats B.
    desk.ticket(at(11, 30, 9), group="support", type="complaint", category="DELIVERY")
    # H: P0 about billing: a first complaint of its category.
    desk.ticket(at(11, 30, 10), group="support", type="complaint", category="billing")
    clock.set(LATER)
    table = crm.report("repeat_complaints", NOVEMBER)
    assert table.rows == (
        # B repeats E (October 26th, 7 days before).
        RepeatComplaintsRow("billing", 1, 1, Decimal("1.0000")),
        RepeatComplaintsRow("support", 3, 1, Decimal("0.3333")),
        RepeatComplaintsRow(ALL, 4, 2, Decimal("0.5000")),
    )
    with crm.session() as s:
        assert crm.reports.metrics["repeat_complaint_rate"].compute(s, NOVEMBER) == Decimal(
            "0.5000"
        )


def test_tickets_by_type_and_group(crm: CRM, clock: FixedClock) -> None:
    Desk(crm, clock).book()
    table = crm.report("tickets_by_type", NOVEMBER)
    # November: A, B (billing), C (no group); A and C resolved.
    assert table.rows == (
        TicketsByTypeRow("complaint", "billing", 1, 0),
        TicketsByTypeRow("inquiry", "billing", 1, 1),
        TicketsByTypeRow("inquiry", NO_GROUP, 1, 1),
    )
    with crm.session() as s:
        family = crm.reports.metrics["tickets_per_group"].compute(s, NOVEMBER)
    assert family == {"billing": Decimal(2), NO_GROUP: Decimal(1)}


def test_an_empty_period_has_only_empty_overall_rows(crm: CRM) -> None:
    empty = Period.parse("2026-02", BEIJING)
    assert crm.report("service_times", empty).rows == (ServiceTimesRow(ALL, 0, 0, None, 0, None),)
    assert crm.report("sla_attainment", empty).rows == (SlaRow(ALL, 0, 0, None, 0, 0, None),)
    assert crm.report("satisfaction", empty).rows == (SatisfactionRow(ALL, 0, None, 0, 0, 0, 0, 0),)
    assert crm.report("repeat_complaints", empty).rows == (RepeatComplaintsRow(ALL, 0, 0, None),)
    assert crm.report("tickets_by_type", empty).rows == ()
    with crm.session() as s:
        values = {name: m.compute(s, empty) for name, m in crm.reports.metrics.items()}
    for name in (
        "first_response_hours",
        "resolution_hours",
        "sla_attainment_rate",
        "csat_average",
        "repeat_complaint_rate",
    ):
        assert values[name] is None
    assert values["tickets_per_group"] == {}


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_rate_is_a_rounded_fraction(part: int, extra: int) -> None:
    whole = part + extra
    found = rate(part, whole)
    if whole == 0:
        assert found is None
        return
    assert found is not None
    assert Decimal(0) <= found <= Decimal(1)
    assert found.as_tuple().exponent == -4
    assert abs(found - Decimal(part) / Decimal(whole)) <= Decimal("0.00005")


@given(st.lists(st.integers(0, 10**12), max_size=20))
def test_average_hours_is_the_mean_to_two_places(microseconds: list[int]) -> None:
    total = sum((timedelta(microseconds=m) for m in microseconds), timedelta(0))
    found = average_hours(total, len(microseconds))
    if not microseconds:
        assert found is None
        return
    assert found is not None
    exact = Decimal(sum(microseconds)) / 3_600_000_000 / len(microseconds)
    assert abs(found - exact) <= Decimal("0.005")
    assert min(microseconds) / 3.6e9 - 0.01 <= found <= max(microseconds) / 3.6e9 + 0.01


@given(st.dictionaries(st.integers(1, 5), st.integers(0, 1000)))
def test_average_score_lies_within_the_scores_given(scores: dict[int, int]) -> None:
    found = average_score(scores)
    given_scores = [s for s, n in scores.items() if n]
    if not given_scores:
        assert found is None
        return
    assert found is not None
    assert min(given_scores) <= found <= max(given_scores)


def test_a_rep_sees_the_figures_of_their_customers_tickets(crm: CRM, clock: FixedClock) -> None:
    clock.set(at(11, 2, 9))
    with crm.session() as s:
        mine = s.customers.add(Customer.person("Mine", owner="rep0"))
        theirs = s.customers.add(Customer.person("Theirs", owner="rep1"))
        s.service.open(mine, "help", group="billing")
        s.service.open(theirs, "help", group="billing")
        s.service.open(theirs, "help", group="support")
    clock.set(LATER)
    rep = Actor("rep0", role=Role.REP)
    assert crm.report("tickets_by_type", NOVEMBER, actor=rep).rows == (
        TicketsByTypeRow("inquiry", "billing", 1, 0),
    )
    assert [r.tickets for r in crm.report("service_times", NOVEMBER, actor=rep)] == [1, 1]
    assert [r.tickets for r in crm.report("service_times", NOVEMBER)] == [2, 1, 3]
