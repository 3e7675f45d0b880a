"""The sales-side automation rules, on every store: follow-ups due by grade cadence, visit
reports, nurture touches, stale deals, stage deadlines and pending contract approvals."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation_books import ENTERED, SUBMITTED, deal, pending, supervise
from pycrm import (
    CRM,
    Contact,
    Customer,
    CustomerGrade,
    FixedClock,
    Interaction,
    Money,
    Task,
    ValidationError,
    advance_opportunity,
    approve_contract,
    default_pipeline,
    open_opportunity,
)
from pycrm.automation.rule import AutomationRule
from pycrm.automation.rules._sales import EPOCH, occasion_key, period_start
from pycrm.automation.rules.follow_ups import FollowUpDue, NurtureProspects, VisitReportDue
from pycrm.automation.rules.pipeline import (
    PendingApprovals,
    StageDeadlines,
    StaleOpportunities,
    reminder_round,
)
from pycrm.domain import cancel_task, complete_task
from pycrm.storage import MemoryStore

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
"""The ``clock`` fixture's moment: when the test's records are stored."""
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SALES = default_pipeline()


# -- helpers --------------------------------------------------------------------------------


def tick(crm: CRM, rule: AutomationRule, now: datetime) -> Any:
    """Run ``rule`` alone at ``now`` (registered with these settings)."""
    crm.automation.add(rule, replace=True)
    report = crm.tick(now, rules=[rule.name])
    assert report.ok, report
    return report


def counts(crm: CRM) -> tuple[int, int]:
    """How many tasks and outbox messages there are."""
    with crm.session(actor="test") as s:
        return s.tasks.count(), s.outbox.count()


def delivered(crm: CRM) -> list[Any]:
    """Send what the tick queued through the memory channel and return what it got."""
    crm.dispatch()
    return list(crm.channels["memory"].sent)  # type: ignore[attr-defined]


def add_customer(crm: CRM, name: str = "Acme", **fields: Any) -> Customer:
    fields.setdefault("owner", "alice")
    with crm.session(actor="test") as s:
        return s.customers.add(Customer.company(name, **fields))


def tasks(crm: CRM, **filters: Any) -> list[Task]:
    with crm.session(actor="test") as s:
        return list(s.tasks.stream(**filters))


@pytest.fixture
def memory(crm: CRM) -> CRM:
    crm.automation.staff_channel = "memory"
    return crm


# -- follow_up_due --------------------------------------------------------------------------

DUE = START + 3 * DAY


def graded(crm: CRM, customer: Customer, scheme: str = "abc", due: datetime = DUE) -> None:
    with crm.session(actor="test") as s:
        s.customer_grades.add(
            CustomerGrade(
                customer_id=customer.id,
                scheme=scheme,
                grade="A",
                graded_at=START,
                next_follow_up_at=due,
            )
        )


def test_follow_up_fires_when_due_and_once(memory: CRM) -> None:
    customer = add_customer(memory, phone="13812345678")
    graded(memory, customer)
    tick(memory, FollowUpDue(), DUE - HOUR)
    assert counts(memory) == (0, 0)
    report = tick(memory, FollowUpDue(), DUE + HOUR)
    assert (report.tasks_created, report.messages_queued) == (1, 1)
    assert counts(memory) == (1, 1)
    again = tick(memory, FollowUpDue(), DUE + HOUR)
    assert (again.tasks_created, again.messages_queued, again.skipped) == (0, 0, 2)
    tick(memory, FollowUpDue(), DUE + 5 * DAY)
    assert counts(memory) == (1, 1)
    [task] = tasks(memory)
    assert (task.assignee, task.kind, task.due_at, task.customer_id) == (
        "alice",
        "follow_up",
        DUE,
        customer.id,
    )
    assert task.key == f"follow_up_due:{customer.id}:abc:{DUE.date().isoformat()}:task"
    [message] = delivered(memory)
    assert message.recipient == "alice"
    assert "Acme" in message.subject
    assert "2026-03-05 09:30 UTC" in message.body
    assert "13812345678" not in message.body  # personal data masked on the staff channel
    assert "5678" in message.body


def test_follow_up_lead_time_fires_early(crm: CRM) -> None:
    graded(crm, add_customer(crm))
    tick(crm, FollowUpDue(lead_time=timedelta(hours=2)), DUE - HOUR)
    assert counts(crm) == (1, 1)


TICK = DUE + 14 * DAY + timedelta.resolution
"""A moment just over the default look-back (14 days) past ``DUE``."""


def test_follow_up_overdue_longer_than_look_back_is_not_raised(crm: CRM) -> None:
    long_overdue, on_the_edge, recent = (add_customer(crm, name) for name in "ABC")
    graded(crm, long_overdue)  # 14 days and a microsecond overdue at TICK
    graded(crm, on_the_edge, due=DUE + timedelta.resolution)  # exactly 14 days
    graded(crm, recent, due=DUE + 10 * DAY)
    first = tick(crm, FollowUpDue(), TICK)
    assert (first.tasks_created, first.messages_queued, first.skipped) == (2, 2, 0)
    assert {t.customer_id for t in tasks(crm)} == {on_the_edge.id, recent.id}
    # An hour on, the edge has left the window: only the recent grade is read, its keys taken.
    again = tick(crm, FollowUpDue(), TICK + HOUR)
    assert (again.tasks_created, again.messages_queued, again.skipped) == (0, 0, 2)
    # A wider look-back (a whole number reads as days) reaches the long-overdue one.
    wider = tick(crm, FollowUpDue(look_back=30), TICK + HOUR)
    assert (wider.tasks_created, wider.messages_queued, wider.skipped) == (1, 1, 4)
    assert counts(crm) == (3, 3)


def test_follow_up_ticks_look_back_apart_see_each_follow_up_once(crm: CRM) -> None:
    graded(crm, add_customer(crm))
    rule = FollowUpDue(look_back=timedelta(days=2))
    due_now = tick(crm, rule, DUE)  # the window ends before the tick's moment
    assert (due_now.tasks_created, due_now.skipped) == (0, 0)
    edge = tick(crm, rule, DUE + 2 * DAY)  # and starts exactly look_back before it
    assert (edge.tasks_created, edge.messages_queued) == (1, 1)
    gone = tick(crm, rule, DUE + 4 * DAY)
    assert (gone.tasks_created, gone.messages_queued, gone.skipped) == (0, 0, 0)


@given(
    due=st.timedeltas(min_value=-40 * DAY, max_value=10 * DAY),
    look_back=st.timedeltas(min_value=timedelta.resolution, max_value=30 * DAY),
    lead_time=st.timedeltas(min_value=timedelta(0), max_value=5 * DAY),
)
def test_follow_up_fires_inside_its_half_open_window(
    due: timedelta, look_back: timedelta, lead_time: timedelta
) -> None:
    with CRM(MemoryStore(), clock=FixedClock(START)) as crm:
        graded(crm, add_customer(crm), due=DUE + due)
        report = tick(crm, FollowUpDue(look_back=look_back, lead_time=lead_time), DUE)
    assert report.tasks_created == int(-look_back <= due < lead_time)


def test_follow_up_skips_a_customer_contacted_since_the_date_was_set(crm: CRM) -> None:
    contacted = add_customer(crm, "Contacted")
    quiet = add_customer(crm, "Quiet")
    graded(crm, contacted)
    graded(crm, quiet)
    with crm.session(actor="test") as s:
        for customer, at in ((contacted, START + DAY), (quiet, START - DAY)):
            s.interactions.add(
                Interaction(customer_id=customer.id, channel="phone", occurred_at=at, summary="hi")
            )
    tick(crm, FollowUpDue(), DUE + HOUR)
    assert [t.customer_id for t in tasks(crm)] == [quiet.id]


def test_follow_up_needs_an_owner_and_a_live_customer(crm: CRM) -> None:
    graded(crm, add_customer(crm, "Nobody's", owner=None))
    graded(crm, add_customer(crm, "Gone", status="churned"))
    graded(crm, add_customer(crm, "Lost", status="lost"))
    tick(crm, FollowUpDue(), DUE + HOUR)
    assert counts(crm) == (0, 0)


def test_follow_up_settings(crm: CRM) -> None:
    customer = add_customer(crm)
    graded(crm, customer, scheme="abc")
    graded(crm, customer, scheme="value")
    tick(crm, FollowUpDue(scheme="other"), DUE + HOUR)
    assert counts(crm) == (0, 0)
    tick(crm, FollowUpDue(scheme="value", notices=False), DUE + HOUR)
    assert counts(crm) == (1, 0)
    # Every scheme: value's task exists, so that occasion is done and its notice stays
    # unsent; abc's notice goes.
    tick(crm, FollowUpDue(tasks=False), DUE + HOUR)
    assert counts(crm) == (1, 1)
    tick(crm, FollowUpDue(), DUE + HOUR)  # abc's task; value's notice stays unsent
    assert counts(crm) == (2, 1)


def test_rules_read_page_by_page(crm: CRM) -> None:
    for n in range(5):
        customer = add_customer(crm, f"Customer {n}", status="prospect")
        graded(crm, customer)
        deal(crm, customer)
    crm.automation.add(FollowUpDue(), replace=True)
    report = crm.tick(ENTERED + 8 * DAY, limit=2)
    assert report.ok, report
    by_rule = {rule.name: rule for rule in report.rules}
    assert by_rule["follow_up_due"].tasks_created == 5
    assert by_rule["follow_up_due"].pages >= 3
    assert by_rule["stale_opportunities"].tasks_created == 5
    assert by_rule["stage_deadlines"].tasks_created == 5
    assert len(tasks(crm, kind="follow_up")) == 5


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"lead_time": timedelta(hours=-1)}, "lead_time"),
        ({"lead_time": "soon"}, "lead_time"),
        ({"look_back": timedelta(0)}, "look_back"),
        ({"look_back": 0}, "look_back"),
        ({"look_back": -DAY}, "look_back"),
        ({"look_back": "14 days"}, "look_back"),
        ({"look_back": True}, "look_back"),
        ({"look_back": 367}, "look_back"),
        ({"scheme": 5}, "scheme"),
        ({"tasks": "yes"}, "tasks"),
        ({"next_action": "x" * 401}, "next_action"),
    ],
)
def test_follow_up_bad_settings(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FollowUpDue(**settings)
    assert caught.value.field == field


def test_a_disabled_rule_does_nothing(crm: CRM) -> None:
    graded(crm, add_customer(crm))
    crm.automation.add(FollowUpDue(), replace=True)
    crm.automation.disable("follow_up_due")
    report = crm.tick(DUE + HOUR)
    assert "follow_up_due" not in [rule.name for rule in report.rules]
    assert tasks(crm, kind="follow_up") == []
    crm.automation.enable("follow_up_due")
    crm.tick(DUE + HOUR)
    assert len(tasks(crm, kind="follow_up")) == 1


# -- visit_report_due -----------------------------------------------------------------------

VISIT = START + DAY


def visit(crm: CRM, customer: Customer, at: datetime = VISIT, *, done: bool = False) -> Task:
    task = Task(subject="Visit", due_at=at, assignee="bob", customer_id=customer.id, kind="visit")
    if done:
        task = complete_task(task, now=at + HOUR)
    with crm.session(actor="test") as s:
        return s.tasks.add(task)


def test_visit_report_due_a_day_after_the_visit_once(memory: CRM) -> None:
    customer = add_customer(memory)
    planned = visit(memory, customer, done=True)
    tick(memory, VisitReportDue(), VISIT + 23 * HOUR)
    assert counts(memory) == (1, 0)
    tick(memory, VisitReportDue(), VISIT + 25 * HOUR)
    assert counts(memory) == (2, 1)
    tick(memory, VisitReportDue(), VISIT + 25 * HOUR)
    tick(memory, VisitReportDue(), VISIT + 3 * DAY)
    assert counts(memory) == (2, 1)
    [report] = tasks(memory, kind="visit_report")
    assert (report.assignee, report.about, report.due_at) == ("bob", planned.id, VISIT + DAY)
    [message] = delivered(memory)
    assert message.recipient == "bob"
    assert "2026-03-03 09:30 UTC" in message.body  # the visit
    assert "2026-03-04 09:30 UTC" in message.body  # the report's due time


def test_a_logged_visit_is_the_report(crm: CRM) -> None:
    reported = add_customer(crm, "Reported")
    phoned = add_customer(crm, "Phoned")
    visit(crm, reported)
    visit(crm, phoned)
    with crm.session(actor="test") as s:
        s.interactions.add(
            Interaction(
                customer_id=reported.id, channel="visit", occurred_at=VISIT, summary="report"
            )
        )
        s.interactions.add(
            Interaction(customer_id=phoned.id, channel="phone", occurred_at=VISIT, summary="call")
        )
    tick(crm, VisitReportDue(), VISIT + 2 * DAY)
    assert [t.customer_id for t in tasks(crm, kind="visit_report")] == [phoned.id]


def test_visit_report_window_and_settings(crm: CRM) -> None:
    customer = add_customer(crm)
    with crm.session(actor="test") as s:
        s.tasks.add(
            cancel_task(
                Task(
                    subject="Off",
                    due_at=VISIT,
                    assignee="bob",
                    customer_id=customer.id,
                    kind="visit",
                ),
                now=START,
            )
        )
    visit(crm, customer, VISIT - 20 * DAY)  # older than the look-back
    tick(crm, VisitReportDue(), VISIT + 2 * DAY)
    assert tasks(crm, kind="visit_report") == []
    tick(crm, VisitReportDue(look_back=timedelta(days=30), tasks=False), VISIT + 2 * DAY)
    assert counts(crm) == (2, 1)
    recent = visit(crm, customer, VISIT + 2 * DAY)
    tick(crm, VisitReportDue(due_after=2 * HOUR), VISIT + 2 * DAY + 3 * HOUR)
    assert [t.about for t in tasks(crm, kind="visit_report")] == [recent.id]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"due_after": timedelta(days=20)}, "look_back"),
        ({"look_back": timedelta(0)}, "look_back"),
        ({"due_after": -1}, "due_after"),
        ({"notices": None}, "notices"),
    ],
)
def test_visit_report_bad_settings(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        VisitReportDue(**settings)
    assert caught.value.field == field


# -- nurture_prospects ----------------------------------------------------------------------


def test_nurture_quiet_prospects_once_per_period(memory: CRM) -> None:
    customer = add_customer(memory, status="prospect")
    add_customer(memory, "Buyer", status="active")
    add_customer(memory, "Unowned", status="prospect", owner=None)
    with memory.session(actor="test") as s:
        s.contacts.add(Contact(customer_id=customer.id, name="Ms Li", is_decision_maker=True))
        s.contacts.add(Contact(customer_id=customer.id, name="Mr Wu"))
    tick(memory, NurtureProspects(), START + 13 * DAY)
    assert counts(memory) == (0, 0)
    every = timedelta(days=14)
    now = START + 15 * DAY
    start = period_start(now, every)
    tick(memory, NurtureProspects(topic="spring offers"), now)
    assert counts(memory) == (1, 1)
    tick(memory, NurtureProspects(), start + every - HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, NurtureProspects(), start + every + HOUR)
    assert counts(memory) == (2, 2)
    first = tasks(memory, kind="nurture")[0]
    assert (first.assignee, first.customer_id) == ("alice", customer.id)
    assert (
        first.key
        == occasion_key("nurture_prospects", customer.id, start.strftime("%Y%m%dT%H%M")) + ":task"
    )
    messages = delivered(memory)
    assert [m.recipient for m in messages] == ["alice", "alice"]
    assert "Ms Li" in messages[0].body
    assert "spring offers" in messages[0].body


def test_nurture_skips_recently_contacted_and_names_the_customer_without_a_contact(
    memory: CRM,
) -> None:
    talked = add_customer(memory, "Talked", status="prospect")
    silent = add_customer(memory, "Silent", status="prospect")
    now = START + 20 * DAY
    with memory.session(actor="test") as s:
        s.interactions.add(
            Interaction(customer_id=talked.id, channel="email", occurred_at=now - DAY, summary="x")
        )
    tick(memory, NurtureProspects(every=timedelta(days=7), notices=True), now)
    assert [t.customer_id for t in tasks(memory)] == [silent.id]
    [message] = delivered(memory)
    assert "Silent" in message.body


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"every": timedelta(0)}, "every"), ({"topic": 3}, "topic"), ({"every": "weekly"}, "every")],
)
def test_nurture_bad_settings(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        NurtureProspects(**settings)
    assert caught.value.field == field


# -- stale_opportunities and stage_deadlines ------------------------------------------------


def test_stale_deal_reminds_the_owner_then_the_supervisor(memory: CRM) -> None:
    customer = add_customer(memory)
    opportunity = deal(memory, customer)
    supervise(memory)
    tick(memory, StaleOpportunities(), ENTERED + 7 * DAY - HOUR)
    assert counts(memory) == (0, 0)
    tick(memory, StaleOpportunities(), ENTERED + 7 * DAY + HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, StaleOpportunities(), ENTERED + 7 * DAY + HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, StaleOpportunities(), ENTERED + 14 * DAY + 2 * HOUR)
    assert counts(memory) == (1, 2)  # still stale a week on: the supervisor hears
    tick(memory, StaleOpportunities(), ENTERED + 20 * DAY)
    assert counts(memory) == (1, 2)
    [task] = tasks(memory)
    assert (task.assignee, task.about, task.kind) == ("alice", opportunity.id, "stale_opportunity")
    messages = delivered(memory)
    assert [m.recipient for m in messages] == ["alice", "carol"]
    assert "Big deal" in messages[0].body
    assert "Hello carol" in messages[1].body or "carol" in messages[1].body


def test_activity_postpones_staleness_and_days_overrides_the_stage(crm: CRM) -> None:
    customer = add_customer(crm)
    deal(crm, customer)
    with crm.session(actor="test") as s:
        s.interactions.add(
            Interaction(
                customer_id=customer.id, channel="phone", occurred_at=ENTERED + 5 * DAY, summary="x"
            )
        )
    tick(crm, StaleOpportunities(), ENTERED + 8 * DAY)
    assert counts(crm) == (0, 0)
    tick(crm, StaleOpportunities(), ENTERED + 12 * DAY + HOUR)
    assert counts(crm) == (1, 1)
    other = add_customer(crm, "Other")
    deal(crm, other)
    tick(crm, StaleOpportunities(days=3, escalate=False), ENTERED + 3 * DAY + HOUR)
    assert [t.customer_id for t in tasks(crm)][-1] == other.id


def test_an_unassigned_stale_deal_goes_to_the_supervisor(crm: CRM) -> None:
    deal(crm, add_customer(crm, owner=None), owner=None)
    supervise(crm)
    tick(crm, StaleOpportunities(), ENTERED + 8 * DAY)
    [task] = tasks(crm)
    assert task.assignee == "carol"
    with crm.session(actor="test") as s:
        assert s.outbox.count() == 1


def test_stage_deadline_escalates_to_the_supervisor(memory: CRM) -> None:
    customer = add_customer(memory)
    opportunity = deal(memory, customer)
    supervise(memory)
    deadline = ENTERED + 3 * DAY
    tick(memory, StageDeadlines(), deadline - HOUR)
    assert counts(memory) == (0, 0)
    tick(memory, StageDeadlines(), deadline + HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, StageDeadlines(), deadline + HOUR)
    tick(memory, StageDeadlines(), deadline + 2 * DAY)
    assert counts(memory) == (1, 1)
    [task] = tasks(memory)
    assert (task.assignee, task.about, task.kind) == ("alice", opportunity.id, "stage_deadline")
    [message] = delivered(memory)
    assert message.recipient == "carol"
    assert "alice" in message.body
    assert "2026-03-06 09:30 UTC" in message.body


def test_stage_deadline_without_a_supervisor_tells_the_owner(crm: CRM) -> None:
    deal(crm, add_customer(crm), team="west")
    supervise(crm)  # east's, not west's
    tick(crm, StageDeadlines(tasks=False), ENTERED + 4 * DAY)
    assert counts(crm) == (0, 1)
    with crm.session(actor="test") as s:
        [message] = s.outbox.list().items
    assert message.recipient == "alice"
    # Addressed to the owner as the owner, not as a supervisor.
    assert message.subject.startswith(("Past stage deadline:", "商机逾期："))  # noqa: RUF001
    assert message.body.startswith(("Hello alice,", "alice 您好"))


def test_closed_deals_are_left_alone(crm: CRM) -> None:
    customer = add_customer(crm)
    opportunity, _ = open_opportunity(
        customer_id=customer.id,
        title="Lost one",
        amount=Money(1000, "CNY"),
        owner="alice",
        now=START,
        by="alice",
    )
    opportunity, _ = advance_opportunity(
        opportunity, "lost", now=START, by="alice", machine=SALES, reason="price"
    )
    with crm.session(actor="test") as s:
        s.opportunities.add(opportunity)
    for rule in (StaleOpportunities(), StageDeadlines()):
        tick(crm, rule, START + 60 * DAY)
    assert counts(crm) == (0, 0)


@pytest.mark.parametrize(
    ("rule", "settings", "field"),
    [
        (StaleOpportunities, {"days": 0}, "days"),
        (StaleOpportunities, {"escalate_after": -1}, "escalate_after"),
        (StaleOpportunities, {"escalate": "no"}, "escalate"),
        (StageDeadlines, {"tasks": 1.5}, "tasks"),
    ],
)
def test_pipeline_bad_settings(rule: Any, settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rule(**settings)
    assert caught.value.field == field


# -- pending_approvals ----------------------------------------------------------------------


def test_pending_approval_reminds_the_approver_every_day(memory: CRM) -> None:
    contract = pending(memory, add_customer(memory))
    rule = PendingApprovals(approvers={"sales": "dave"})
    tick(memory, rule, SUBMITTED + DAY - HOUR)
    assert counts(memory) == (0, 0)
    tick(memory, rule, SUBMITTED + DAY + HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, rule, SUBMITTED + DAY + 2 * HOUR)
    assert counts(memory) == (1, 1)
    tick(memory, rule, SUBMITTED + 2 * DAY + HOUR)
    assert counts(memory) == (1, 2)  # a second reminder, the same task
    [task] = tasks(memory)
    assert (task.assignee, task.about, task.kind) == ("dave", contract.id, "approval")
    messages = delivered(memory)
    assert [m.recipient for m in messages] == ["dave", "dave"]
    assert "HT-2026-00001" in messages[0].subject
    assert "alice" in messages[0].body
    assert "50,000.00 CNY" in messages[0].body


def test_approved_contracts_and_unmapped_levels_get_no_reminder(
    crm: CRM, caplog: pytest.LogCaptureFixture
) -> None:
    customer = add_customer(crm)
    contract = pending(crm, customer)
    with crm.session(actor="test") as s:
        approved, _ = approve_contract(
            s.contracts.get(contract.id), level="sales", now=SUBMITTED + HOUR, by="dave"
        )
        s.contracts.update(approved)
    pending(crm, customer, "HT-2026-00002")
    with caplog.at_level(logging.WARNING, logger="pycrm.automation"):
        tick(crm, PendingApprovals(), SUBMITTED + 3 * DAY)
    assert counts(crm) == (0, 0)
    assert "HT-2026-00002" in caplog.text
    tick(crm, PendingApprovals(approvers={"sales": "dave"}, every=HOUR * 12), SUBMITTED + 3 * DAY)
    assert counts(crm) == (1, 1)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"approvers": ["dave"]}, "approvers"),
        ({"approvers": {"sales": ""}}, "approvers"),
        ({"every": timedelta(0)}, "every"),
        ({"after": timedelta(days=-1)}, "after"),
    ],
)
def test_pending_approval_bad_settings(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PendingApprovals(**settings)
    assert caught.value.field == field


# -- registration and the pure calculators --------------------------------------------------


def test_every_rule_is_an_automation_rule_with_a_distinct_name() -> None:
    from pycrm.automation.rules import follow_ups, pipeline

    rules = (*follow_ups.RULES, *pipeline.RULES)
    assert all(isinstance(rule, AutomationRule) for rule in rules)
    assert [rule.name for rule in rules] == [
        "follow_up_due",
        "visit_report_due",
        "nurture_prospects",
        "stale_opportunities",
        "stage_deadlines",
        "pending_approvals",
    ]


MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
)
SPANS = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=400))


@given(MOMENTS, SPANS, st.data())
def test_period_start_holds_every_moment_of_its_period(
    moment: datetime, every: timedelta, data: st.DataObject
) -> None:
    start = period_start(moment, every)
    assert start <= moment < start + every
    assert (start - EPOCH) % every == timedelta(0)
    inside = data.draw(
        st.timedeltas(min_value=timedelta(0), max_value=every - timedelta.resolution)
    )
    assert period_start(start + inside, every) == start
    assert period_start(start + every, every) == start + every


@given(MOMENTS, MOMENTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)), SPANS)
def test_reminder_round_counts_whole_periods_after_the_wait(
    since: datetime, now: datetime, after: timedelta, every: timedelta
) -> None:
    found = reminder_round(since, now, after=after, every=every)
    first = since + after
    if now < first:
        assert found is None
    else:
        assert found is not None
        assert first + found * every <= now < first + (found + 1) * every


@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=90),
        min_size=1,
        max_size=4,
    )
)
def test_occasion_keys_leave_room_for_a_suffix_and_are_stable(parts: list[str]) -> None:
    key = occasion_key("rule", *parts)
    assert len(key) <= 112
    assert key == occasion_key("rule", *parts)
    assert key.startswith("rule:")
