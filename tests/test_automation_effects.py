"""Every built-in rule's effects, field by field and in order: the tasks and notices one page
hands the tick for each occasion. The behaviour tests say what a rule does over time; these
pin exactly what it asks for (keys, subjects, due times, assignees, templates, values,
recipients, send times), so reshaping how the rules build their effects cannot change them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from pycrm import (
    CRM,
    ApprovalPolicy,
    Contact,
    Contract,
    Customer,
    CustomerGrade,
    FixedClock,
    Money,
    Opportunity,
    Order,
    OrderLine,
    PaymentPlan,
    Task,
    TeamSupervisor,
    activate_contract,
    advance_opportunity,
    approve_contract,
    default_pipeline,
    draft_contract,
    open_opportunity,
    receive_payment,
    submit_for_approval,
)
from pycrm.automation.effects import Notice, Staff
from pycrm.automation.rule import AutomationRule, Effect, TickContext
from pycrm.automation.rules._sales import occasion_key, period_start
from pycrm.automation.rules.care import BirthdayCare, RepurchaseReminders, WinBack
from pycrm.automation.rules.follow_ups import FollowUpDue, NurtureProspects, VisitReportDue
from pycrm.automation.rules.payments import OverduePayments, RenewalReminders
from pycrm.automation.rules.pipeline import PendingApprovals, StageDeadlines, StaleOpportunities
from pycrm.automation.rules.service import SlaAlerts
from pycrm.domain import complete_task
from pycrm.service.policy import default_policies
from pycrm.storage import MemoryStore

UTC = timezone.utc
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def crm() -> Iterator[CRM]:
    """A CRM on the memory store, its notices in English: effects do not depend on the store."""
    instance = CRM(MemoryStore(), clock=FixedClock(START))
    instance.automation.locale = "en"
    yield instance
    instance.close()


def run(crm: CRM, rule: AutomationRule, now: datetime) -> list[dict[str, Any]]:
    """The effects of ``rule``'s first page at ``now``, each as a dict of every field a rule
    sets (the rule reads only; nothing is written)."""
    with crm.session(actor="automation") as s:
        batch = rule.run(TickContext(s, now, 100), None)
    assert batch.next_after is None
    return [_fields(effect) for effect in batch.effects]


def _fields(effect: Effect) -> dict[str, Any]:
    if isinstance(effect, Task):
        return task(
            effect.key,
            effect.subject,
            effect.due_at,
            effect.assignee,
            effect.customer_id,
            effect.kind,
            about=effect.about,
            notes=effect.notes,
            status=effect.status.value,
        )
    assert isinstance(effect, Notice)
    return notice(
        effect.key,
        effect.template,
        effect.values,
        effect.to if isinstance(effect.to, Staff) else ("customer", effect.to.id),
        effect.customer_id,
        task_key=effect.task_key,
        locale=effect.locale,
        send_at=effect.send_at,
    )


def task(
    key: str | None,
    subject: str,
    due_at: datetime,
    assignee: str | None,
    customer_id: str | None,
    kind: str,
    *,
    about: str | None = None,
    notes: str | None = None,
    status: str = "open",
) -> dict[str, Any]:
    return {
        "task": key,
        "subject": subject,
        "due_at": due_at,
        "assignee": assignee,
        "customer_id": customer_id,
        "kind": kind,
        "about": about,
        "notes": notes,
        "status": status,
    }


def notice(
    key: str,
    template: str,
    values: Any,
    to: Staff | tuple[str, str],
    customer_id: str | None,
    *,
    task_key: str | None = None,
    locale: str | None = None,
    send_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "notice": key,
        "template": template,
        "values": dict(values),
        "to": to,
        "customer_id": customer_id,
        "task_key": task_key,
        "locale": locale,
        "send_at": send_at,
    }


def add(crm: CRM, customer: Customer) -> Customer:
    with crm.session(actor="setup") as s:
        return s.customers.add(customer)


# -- follow-ups -------------------------------------------------------------------------------

DUE = START + 3 * DAY
CADENCE = "contact the customer as the grade's cadence asks"


def grade(crm: CRM, customer: Customer) -> CustomerGrade:
    with crm.session(actor="setup") as s:
        return s.customer_grades.add(
            CustomerGrade(
                customer_id=customer.id,
                scheme="abc",
                grade="A",
                graded_at=START,
                next_follow_up_at=DUE,
            )
        )


def test_follow_up_due_effects(crm: CRM) -> None:
    acme = add(crm, Customer.company("Acme", owner="alice", phone="13812345678"))
    beta = add(crm, Customer.company("Beta", owner="bob"))
    first, second = grade(crm, acme), grade(crm, beta)
    a = f"follow_up_due:{acme.id}:abc:2026-03-05"
    b = f"follow_up_due:{beta.id}:abc:2026-03-05"
    values = {"due": "2026-03-05 09:30 UTC", "next_action": CADENCE}
    expected = [
        task(f"{a}:task", "Follow up with Acme", DUE, "alice", acme.id, "follow_up",
             about=first.id, notes=CADENCE),
        notice(f"{a}:notice", "follow_up_due",
               {"rep": "alice", "customer": "Acme", **values, "phone": "13812345678"},
               Staff("alice"), acme.id, task_key=f"{a}:task"),
        task(f"{b}:task", "Follow up with Beta", DUE, "bob", beta.id, "follow_up",
             about=second.id, notes=CADENCE),
        notice(f"{b}:notice", "follow_up_due",
               {"rep": "bob", "customer": "Beta", **values, "phone": "-"},
               Staff("bob"), beta.id, task_key=f"{b}:task"),
    ]  # fmt: skip
    assert run(crm, FollowUpDue(), DUE + HOUR) == expected
    assert run(crm, FollowUpDue(notices=False), DUE + HOUR) == expected[0::2]
    told = run(crm, FollowUpDue(tasks=False, next_action="Ask about spring"), DUE + HOUR)
    assert told == [
        {**effect, "values": {**effect["values"], "next_action": "Ask about spring"}}
        for effect in expected[1::2]
    ]


def test_visit_report_due_effects(crm: CRM) -> None:
    acme = add(crm, Customer.company("Acme", owner="alice"))
    at = START + DAY
    with crm.session(actor="setup") as s:
        visit = s.tasks.add(
            complete_task(
                Task(subject="Visit", due_at=at, assignee="bob", customer_id=acme.id, kind="visit"),
                now=at + HOUR,
            )
        )
    key = f"visit_report_due:{visit.id}"
    assert run(crm, VisitReportDue(), at + 25 * HOUR) == [
        task(f"{key}:task", "Visit report: Acme", at + DAY, "bob", acme.id, "visit_report",
             about=visit.id),
        notice(f"{key}:notice", "visit_report_due",
               {"rep": "bob", "customer": "Acme", "visit_date": "2026-03-03 09:30 UTC",
                "due": "2026-03-04 09:30 UTC"},
               Staff("bob"), acme.id, task_key=f"{key}:task"),
    ]  # fmt: skip


def test_nurture_prospects_effects(crm: CRM) -> None:
    acme = add(crm, Customer.company("Acme", owner="alice", status="prospect"))
    beta = add(crm, Customer.company("Beta", owner="bob", status="prospect"))
    with crm.session(actor="setup") as s:
        s.contacts.add(Contact(customer_id=acme.id, name="Ms Li", is_decision_maker=True))
        s.contacts.add(Contact(customer_id=acme.id, name="Mr Wu"))
    now = START + 15 * DAY
    period = period_start(now, timedelta(days=14)).strftime("%Y%m%dT%H%M")
    a = occasion_key("nurture_prospects", acme.id, period)
    b = occasion_key("nurture_prospects", beta.id, period)
    assert run(crm, NurtureProspects(), now) == [
        task(f"{a}:task", "Nurture Acme: what is new for them", now, "alice", acme.id, "nurture"),
        notice(f"{a}:notice", "nurture_touch",
               {"rep": "alice", "customer": "Acme", "contact": "Ms Li",
                "topic": "what is new for them"},
               Staff("alice"), acme.id, task_key=f"{a}:task"),
        task(f"{b}:task", "Nurture Beta: what is new for them", now, "bob", beta.id, "nurture"),
        notice(f"{b}:notice", "nurture_touch",
               {"rep": "bob", "customer": "Beta", "contact": "Beta",
                "topic": "what is new for them"},
               Staff("bob"), beta.id, task_key=f"{b}:task"),
    ]  # fmt: skip


# -- pipeline ---------------------------------------------------------------------------------

ENTERED = START + DAY  # needs_confirmed: a 3 days' deadline, stale after 7 quiet days
STAGE = "Needs confirmed"


def deal(crm: CRM, customer: Customer, owner: str | None, team: str) -> Opportunity:
    opportunity, _ = open_opportunity(
        customer_id=customer.id,
        title=f"{customer.name} deal",
        amount=Money(1000, "CNY"),
        owner=owner,
        team=team,
        now=START,
        by="alice",
    )
    opportunity, _ = advance_opportunity(
        opportunity, "needs_confirmed", now=ENTERED, by="alice", machine=default_pipeline()
    )
    with crm.session(actor="setup") as s:
        return s.opportunities.add(opportunity)


def deals(crm: CRM) -> tuple[Opportunity, Opportunity, Opportunity, Opportunity]:
    """East (supervised by carol): alice's deal and an unowned one; west (no supervisor):
    an unowned deal and bob's."""
    with crm.session(actor="setup") as s:
        s.team_supervisors.add(TeamSupervisor(team="east", supervisor="carol"))
    return (
        deal(crm, add(crm, Customer.company("Acme", owner="alice")), "alice", "east"),
        deal(crm, add(crm, Customer.company("Beta")), None, "east"),
        deal(crm, add(crm, Customer.company("Gamma")), None, "west"),
        deal(crm, add(crm, Customer.company("Delta", owner="bob")), "bob", "west"),
    )


def test_stale_opportunities_effects(crm: CRM) -> None:
    acme, beta, gamma, delta = deals(crm)
    a, b, g, d = (
        f"stale_opportunities:{x.id}:needs_confirmed:2026-03-10" for x in (acme, beta, gamma, delta)
    )

    def about(opportunity: Opportunity, customer: str, days: int) -> dict[str, Any]:
        return {"customer": customer, "opportunity": f"{customer} deal", "stage": STAGE,
                "days": days}  # fmt: skip

    def remind(key: str, opportunity: Opportunity, handler: str | None) -> dict[str, Any]:
        subject = f"Stale opportunity: {opportunity.title}"
        return task(f"{key}:task", subject, now, handler, opportunity.customer_id,
                    "stale_opportunity", about=opportunity.id)  # fmt: skip

    now = ENTERED + 8 * DAY
    quiet = [
        remind(a, acme, "alice"),
        notice(f"{a}:notice", "stale_opportunity", {**about(acme, "Acme", 8), "owner": "alice"},
               Staff("alice"), acme.customer_id, task_key=f"{a}:task"),
        remind(b, beta, "carol"),
        notice(f"{b}:notice", "stale_opportunity", {**about(beta, "Beta", 8), "owner": "carol"},
               Staff("carol"), beta.customer_id, task_key=f"{b}:task"),
        remind(g, gamma, None),
        remind(d, delta, "bob"),
        notice(f"{d}:notice", "stale_opportunity", {**about(delta, "Delta", 8), "owner": "bob"},
               Staff("bob"), delta.customer_id, task_key=f"{d}:task"),
    ]  # fmt: skip
    assert run(crm, StaleOpportunities(), now) == quiet
    assert run(crm, StaleOpportunities(notices=False), now) == [quiet[i] for i in (0, 2, 4, 5)]
    assert run(crm, StaleOpportunities(tasks=False), now) == [quiet[i] for i in (1, 3, 6)]

    now = ENTERED + 15 * DAY  # stale for a week more: the supervisor hears of alice's deal
    assert run(crm, StaleOpportunities(), now) == [
        remind(a, acme, "alice"),
        notice(f"{a}:notice", "stale_opportunity", {**about(acme, "Acme", 15), "owner": "alice"},
               Staff("alice"), acme.customer_id, task_key=f"{a}:task"),
        notice(f"{a}:supervisor", "stale_opportunity",
               {**about(acme, "Acme", 15), "owner": "carol"}, Staff("carol"), acme.customer_id),
        remind(b, beta, "carol"),
        notice(f"{b}:notice", "stale_opportunity", {**about(beta, "Beta", 15), "owner": "carol"},
               Staff("carol"), beta.customer_id, task_key=f"{b}:task"),
        remind(g, gamma, None),
        remind(d, delta, "bob"),
        notice(f"{d}:notice", "stale_opportunity", {**about(delta, "Delta", 15), "owner": "bob"},
               Staff("bob"), delta.customer_id, task_key=f"{d}:task"),
    ]  # fmt: skip
    # Without escalation no supervisor is read: the unowned east deal has nobody to tell.
    assert run(crm, StaleOpportunities(escalate=False), now) == [
        remind(a, acme, "alice"),
        notice(f"{a}:notice", "stale_opportunity", {**about(acme, "Acme", 15), "owner": "alice"},
               Staff("alice"), acme.customer_id, task_key=f"{a}:task"),
        remind(b, beta, None),
        remind(g, gamma, None),
        remind(d, delta, "bob"),
        notice(f"{d}:notice", "stale_opportunity", {**about(delta, "Delta", 15), "owner": "bob"},
               Staff("bob"), delta.customer_id, task_key=f"{d}:task"),
    ]  # fmt: skip


def test_stage_deadlines_effects(crm: CRM) -> None:
    acme, beta, gamma, delta = deals(crm)
    a, b, g, d = (
        f"stage_deadlines:{x.id}:needs_confirmed:20260306T0930" for x in (acme, beta, gamma, delta)
    )
    now = ENTERED + 4 * DAY

    def escalate(key: str, opportunity: Opportunity, handler: str | None) -> dict[str, Any]:
        subject = f"Past stage deadline: {opportunity.title}"
        return task(f"{key}:task", subject, now, handler, opportunity.customer_id,
                    "stage_deadline", about=opportunity.id)  # fmt: skip

    def about(customer: str, owner: str) -> dict[str, Any]:
        return {"owner": owner, "customer": customer, "opportunity": f"{customer} deal",
                "stage": STAGE, "deadline": "2026-03-06 09:30 UTC"}  # fmt: skip

    expected = [
        escalate(a, acme, "alice"),
        notice(f"{a}:notice", "stage_deadline_escalation",
               {**about("Acme", "alice"), "supervisor": "carol"}, Staff("carol"),
               acme.customer_id, task_key=f"{a}:task"),
        escalate(b, beta, "carol"),
        notice(f"{b}:notice", "stage_deadline_escalation",
               {**about("Beta", "-"), "supervisor": "carol"}, Staff("carol"),
               beta.customer_id, task_key=f"{b}:task"),
        escalate(g, gamma, None),
        escalate(d, delta, "bob"),
        notice(f"{d}:notice", "stage_deadline_passed", about("Delta", "bob"), Staff("bob"),
               delta.customer_id, task_key=f"{d}:task"),
    ]  # fmt: skip
    assert run(crm, StageDeadlines(), now) == expected
    assert run(crm, StageDeadlines(notices=False), now) == [expected[i] for i in (0, 2, 4, 5)]
    assert run(crm, StageDeadlines(tasks=False), now) == [expected[i] for i in (1, 3, 6)]


def test_pending_approvals_effects(crm: CRM) -> None:
    acme = add(crm, Customer.company("Acme", owner="alice"))
    submitted = START + HOUR
    contract, _ = draft_contract(
        number="HT-2026-00001",
        customer_id=acme.id,
        start_on=date(2026, 4, 1),
        end_on=date(2027, 3, 31),
        now=START,
        by="alice",
        amount=Money("50000.00", "CNY"),
    )
    contract, _ = submit_for_approval(
        contract, policy=ApprovalPolicy.default(), now=submitted, by="alice"
    )
    with crm.session(actor="setup") as s:
        s.contracts.add(contract)
    key = f"pending_approvals:{contract.id}:sales"
    values = {"approver": "dave", "submitted_by": "alice", "contract": "HT-2026-00001",
              "customer": "Acme", "amount": "50,000.00 CNY", "level": "Sales approval"}  # fmt: skip
    reminder = task(f"{key}:task", "Approve contract HT-2026-00001", submitted + DAY, "dave",
                    acme.id, "approval", about=contract.id)  # fmt: skip
    rule = PendingApprovals(approvers={"sales": "dave"})
    assert run(crm, rule, submitted + DAY + HOUR) == [
        reminder,
        notice(f"{key}:0:notice", "approval_pending", values, Staff("dave"), acme.id),
    ]
    assert run(crm, rule, submitted + 2 * DAY + HOUR) == [
        reminder,
        notice(f"{key}:1:notice", "approval_pending", values, Staff("dave"), acme.id),
    ]


# -- service ----------------------------------------------------------------------------------


def test_sla_alerts_effects(crm: CRM) -> None:
    crm.sla_policies = default_policies("always_open")
    acme = add(crm, Customer.company("Acme", owner="li.na"))
    with crm.session(actor="setup") as s:
        s.team_supervisors.add(TeamSupervisor(team="support", supervisor="zhao"))
        assigned = s.service.open(acme, "Printer down", assignee="wang", group="support").id
        unassigned = s.service.open(acme, "Printer down", group="support").id
    w1, w2 = (f"sla_alerts:{t}:response:warning" for t in (assigned, unassigned))
    due = START + 2 * HOUR
    warning = {"customer": "Acme", "target": "first response", "due": "2026-03-02 11:30 +0000",
               "remaining": "20m"}  # fmt: skip
    now = START + 100 * HOUR / 60
    assert run(crm, SlaAlerts(), now) == [
        task(f"{w1}:task", "SLA warning (response): Printer down", due, "wang", acme.id,
             "sla_warning", about=assigned),
        notice(f"{w1}:notice", "sla_warning",
               {"ticket": assigned, **warning, "agent": "wang"}, Staff("wang"), acme.id,
               task_key=f"{w1}:task"),
        task(f"{w2}:task", "SLA warning (response): Printer down", due, "zhao", acme.id,
             "sla_warning", about=unassigned),
        notice(f"{w2}:notice", "sla_warning",
               {"ticket": unassigned, **warning, "agent": "zhao"}, Staff("zhao"), acme.id,
               task_key=f"{w2}:task"),
    ]  # fmt: skip

    b1, b2 = (f"sla_alerts:{t}:response:breached" for t in (assigned, unassigned))
    breach = {"customer": "Acme", "target": "first response", "due": "2026-03-02 11:30 +0000",
              "overdue_by": "10m"}  # fmt: skip
    now = START + 130 * HOUR / 60
    breached = [
        task(f"{b1}:task", "SLA breached (response): Printer down", now, "wang", acme.id,
             "sla_breach", about=assigned),
        notice(f"{b1}:notice", "sla_breach", {"ticket": assigned, **breach, "agent": "wang"},
               Staff("wang"), acme.id, task_key=f"{b1}:task"),
        notice(f"{b1}:escalation", "sla_breach", {"ticket": assigned, **breach, "agent": "zhao"},
               Staff("zhao"), acme.id),
        task(f"{b2}:task", "SLA breached (response): Printer down", now, "zhao", acme.id,
             "sla_breach", about=unassigned),
        notice(f"{b2}:notice", "sla_breach", {"ticket": unassigned, **breach, "agent": "zhao"},
               Staff("zhao"), acme.id, task_key=f"{b2}:task"),
    ]  # fmt: skip
    assert run(crm, SlaAlerts(), now) == breached
    assert run(crm, SlaAlerts(tasks=False, escalate=False), now) == [breached[1], breached[4]]
    assert run(crm, SlaAlerts(supervisors={"support": "sun"}), now) == [
        breached[0],
        breached[1],
        {**breached[2], "values": {**breached[2]["values"], "agent": "sun"}, "to": Staff("sun")},
        {**breached[3], "assignee": "sun"},
        {**breached[4], "values": {**breached[4]["values"], "agent": "sun"}, "to": Staff("sun")},
    ]


# -- money ------------------------------------------------------------------------------------

NOW = START  # Monday 2 March 2026


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def active_contract(
    customer: Customer, number: str, end_on: date, plan: PaymentPlan, **fields: Any
) -> Contract:
    contract, _ = draft_contract(
        number=number,
        customer_id=customer.id,
        start_on=date(2025, 9, 1),
        end_on=end_on,
        now=NOW - 200 * DAY,
        by="li.na",
        amount=plan.total,
        payment_plan=plan,
        **fields,
    )
    contract, _ = submit_for_approval(
        contract, policy=ApprovalPolicy.default(), now=NOW - 200 * DAY, by="li.na"
    )
    for level in contract.approval_levels:
        contract, _ = approve_contract(contract, level=level, now=NOW - 199 * DAY, by=level)
    contract, _ = activate_contract(contract, signed_on=date(2025, 9, 1), signer="Wang")
    return contract


def contracts(crm: CRM) -> tuple[Contract, Contract, Contract]:
    """HT-1 (owner li.na) owes 7,000 due 1 March and ends 31 March; HT-2 (no customer owner,
    from wu's deal) owes 2,000 due 20 February and ends 30 June; HT-3 (nobody responsible)
    owes 1,000 due 25 February and ends 30 April."""
    acme = add(crm, Customer.company("Acme", owner="li.na"))
    orphan = add(crm, Customer.company("Orphan Ltd"))
    nobody = add(crm, Customer.company("Nobody Ltd"))
    opportunity, _ = open_opportunity(
        customer_id=orphan.id, title="Parts", amount=cny("5000"), owner="wu", now=NOW, by="wu"
    )
    first = active_contract(
        acme, "HT-1", date(2026, 3, 31),
        PaymentPlan.of(("2025-12-01", cny("3000.00")), ("2026-03-01", cny("7000.00"))),
    )  # fmt: skip
    second = active_contract(
        orphan, "HT-2", date(2026, 6, 30), PaymentPlan.of(("2026-02-20", cny("5000.00"))),
        opportunity_id=opportunity.id,
    )  # fmt: skip
    third = active_contract(
        nobody, "HT-3", date(2026, 4, 30), PaymentPlan.of(("2026-02-25", cny("1000.00")))
    )
    with crm.session(actor="setup") as s:
        s.opportunities.add(opportunity)
        for contract in (first, second, third):
            s.contracts.add(contract)
        for contract, amount, day in ((first, "3000.00", 1), (second, "3000.00", 10)):
            receipt, _ = receive_payment(
                contract, amount=cny(amount), received_at=datetime(2026, 1, day, tzinfo=UTC)
            )
            s.receipts.add(receipt)
    return first, second, third


def test_overdue_payments_effects(crm: CRM) -> None:
    first, second, third = contracts(crm)
    h1 = f"overdue_payments:{first.id}:2026-03-01"
    h2 = f"overdue_payments:{second.id}:2026-02-20"
    h3 = f"overdue_payments:{third.id}:2026-02-25"
    expected = [
        task(f"{h1}:task", "Collect 7,000.00 CNY on contract HT-1", NOW, "li.na",
             first.customer_id, "overdue_payment", about=first.id),
        notice(f"{h1}:notice", "overdue_payment",
               {"owner": "li.na", "customer": "Acme", "contract": "HT-1",
                "amount": "7,000.00 CNY", "due_date": "2026-03-01", "days_overdue": 1},
               Staff("li.na"), first.customer_id, task_key=f"{h1}:task"),
        task(f"{h2}:task", "Collect 2,000.00 CNY on contract HT-2", NOW, "wu",
             second.customer_id, "overdue_payment", about=second.id),
        notice(f"{h2}:notice", "overdue_payment",
               {"owner": "wu", "customer": "Orphan Ltd", "contract": "HT-2",
                "amount": "2,000.00 CNY", "due_date": "2026-02-20", "days_overdue": 10},
               Staff("wu"), second.customer_id, task_key=f"{h2}:task"),
        task(f"{h3}:task", "Collect 1,000.00 CNY on contract HT-3", NOW, None,
             third.customer_id, "overdue_payment", about=third.id),
    ]  # fmt: skip
    assert run(crm, OverduePayments(), NOW) == expected
    assert run(crm, OverduePayments(notices=False), NOW) == [expected[i] for i in (0, 2, 4)]
    assert run(crm, OverduePayments(tasks=False), NOW) == [expected[i] for i in (1, 3)]


def test_renewal_reminders_effects(crm: CRM) -> None:
    first, second, third = contracts(crm)
    h1 = f"renewal_reminders:{first.id}:2026-03-31"
    h2 = f"renewal_reminders:{second.id}:2026-06-30"
    h3 = f"renewal_reminders:{third.id}:2026-04-30"
    nine = datetime(2026, 1, 1, 9, tzinfo=UTC)
    expected = [
        task(f"{h1}:task", "Renew contract HT-1 (ends 2026-03-31)", nine.replace(month=3, day=31),
             "li.na", first.customer_id, "renewal", about=first.id),
        notice(f"{h1}:notice", "renewal_reminder",
               {"owner": "li.na", "customer": "Acme", "contract": "HT-1",
                "end_date": "2026-03-31"},
               Staff("li.na"), first.customer_id, task_key=f"{h1}:task"),
        task(f"{h2}:task", "Renew contract HT-2 (ends 2026-06-30)", nine.replace(month=6, day=30),
             "wu", second.customer_id, "renewal", about=second.id),
        notice(f"{h2}:notice", "renewal_reminder",
               {"owner": "wu", "customer": "Orphan Ltd", "contract": "HT-2",
                "end_date": "2026-06-30"},
               Staff("wu"), second.customer_id, task_key=f"{h2}:task"),
        task(f"{h3}:task", "Renew contract HT-3 (ends 2026-04-30)", nine.replace(month=4, day=30),
             None, third.customer_id, "renewal", about=third.id),
    ]  # fmt: skip
    rule = RenewalReminders(before=relativedelta(months=4))
    assert run(crm, rule, NOW) == expected
    # On the end date itself the task falls due now, not at a start of day already gone.
    last_day = datetime(2026, 3, 31, 15, tzinfo=UTC)
    assert run(crm, RenewalReminders(notices=False), last_day) == [
        {**expected[0], "due_at": last_day},
        expected[4],
    ]


# -- customer care ----------------------------------------------------------------------------


def order(customer: Customer, number: str, day: date, product: str = "A4 paper") -> Order:
    return Order(
        number=number,
        customer_id=customer.id,
        placed_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        total=cny("100.00"),
        lines=[OrderLine(description=product, quantity=Decimal(1), unit_price=cny("100.00"))],
        status="paid",
    )


def test_repurchase_reminders_effects(crm: CRM) -> None:
    regular = add(crm, Customer.company("Regular", owner="li.na", phone="13812345678"))
    unowned = add(crm, Customer.company("Unowned"))
    with crm.session(actor="setup") as s:
        # Every 30 days: next expected on 5 March.
        for i, day in enumerate((date(2025, 12, 5), date(2026, 1, 4), date(2026, 2, 3))):
            s.orders.add(order(regular, f"R-{i}", day))
            s.orders.add(order(unowned, f"U-{i}", day, "Toner"))
    r = f"repurchase_reminders:{regular.id}:2026-03-05"
    u = f"repurchase_reminders:{unowned.id}:2026-03-05"
    due = datetime(2026, 3, 5, 9, tzinfo=UTC)
    expected = [
        task(f"{r}:task", "Repurchase due: Regular", due, "li.na", regular.id, "repurchase"),
        notice(f"{r}:notice", "repurchase_reminder",
               {"rep": "li.na", "customer": "Regular", "last_purchase": "2026-02-03",
                "product": "A4 paper", "phone": "13812345678"},
               Staff("li.na"), regular.id, task_key=f"{r}:task"),
        task(f"{u}:task", "Repurchase due: Unowned", due, None, unowned.id, "repurchase"),
    ]  # fmt: skip
    assert run(crm, RepurchaseReminders(), NOW) == expected
    assert run(crm, RepurchaseReminders(tasks=False), NOW) == [expected[1]]


def test_birthday_care_effects(crm: CRM) -> None:
    mei = add(crm, Customer.person("Mei", owner="li.na", birthday=date(1990, 3, 2)))
    jun = add(crm, Customer.person("Jun", birthday=date(1992, 3, 3)))
    m, j = f"birthday_care:{mei.id}:2026", f"birthday_care:{jun.id}:2026"
    nine = datetime(2026, 3, 2, 9, tzinfo=UTC)
    early = nine - HOUR
    greeting = {"name": "Mei", "sender": "Acme Care"}
    rule = BirthdayCare(sender="Acme Care", days_ahead=1)
    assert run(crm, rule, early) == [
        task(f"{m}:task", "Birthday of Mei on 2026-03-02", nine, "li.na", mei.id,
             "birthday_care"),
        notice(f"{m}:notice", "birthday_greeting", greeting, ("customer", mei.id), mei.id,
               task_key=f"{m}:task", send_at=nine),
        task(f"{j}:task", "Birthday of Jun on 2026-03-03", nine + DAY, None, jun.id,
             "birthday_care"),
        notice(f"{j}:notice", "birthday_greeting", {"name": "Jun", "sender": "Acme Care"},
               ("customer", jun.id), jun.id, task_key=f"{j}:task", send_at=nine + DAY),
    ]  # fmt: skip
    # Once the day's start has passed, the task falls due now and the greeting goes now.
    late = nine + HOUR
    assert run(crm, BirthdayCare(sender="Acme Care"), late) == [
        task(f"{m}:task", "Birthday of Mei on 2026-03-02", late, "li.na", mei.id,
             "birthday_care"),
        notice(f"{m}:notice", "birthday_greeting", greeting, ("customer", mei.id), mei.id,
               task_key=f"{m}:task"),
    ]  # fmt: skip
    assert run(crm, BirthdayCare(greet=False, tasks=False), late) == []


def test_win_back_effects(crm: CRM) -> None:
    lapsed = add(crm, Customer.person("Lapsed", owner="li.na", email="lapsed@example.com"))
    with crm.session(actor="setup") as s:
        s.orders.add(order(lapsed, "L-1", date(2025, 6, 1)))
    key = f"win_back:{lapsed.id}:2025-06-01"
    offer = {"name": "Lapsed", "offer": "a free delivery", "sender": "Acme"}
    why = "no interaction or purchase for 273 days (since 2025-06-01)"
    expected = [
        task(f"{key}:task", "Win back Lapsed", NOW, "li.na", lapsed.id, "win_back", notes=why),
        notice(f"{key}:notice", "win_back", offer, ("customer", lapsed.id), lapsed.id,
               task_key=f"{key}:task"),
    ]  # fmt: skip
    assert run(crm, WinBack(offer="a free delivery", sender="Acme"), NOW) == expected
    assert run(crm, WinBack(offer="a free delivery", sender="Acme", tasks=False), NOW) == [
        expected[1]
    ]
