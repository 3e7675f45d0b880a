"""Every built-in rule's effects, field by field and in order: the tasks and notices one page
hands the tick for each occasion. The behaviour tests say what a rule does over time; these
pin exactly what it asks for (keys, subjects, due times, assignees, templates, values,
recipients, send times), so reshaping how the rules build their effects cannot change them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from automation_books import (
    ENTERED,
    SUBMITTED,
    active_contract,
    cny,
    deal,
    money_setup,
    order,
    pending,
    supervise,
)
from pycrm import (
    CRM,
    Contact,
    Contract,
    Customer,
    CustomerGrade,
    FixedClock,
    Opportunity,
    PaymentPlan,
    Task,
    TeamSupervisor,
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


def only(kind: str, effects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks (``kind="task"``) or the notices among ``effects``, in their order."""
    return [effect for effect in effects if kind in effect]


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
    assert run(crm, FollowUpDue(notices=False), DUE + HOUR) == only("task", expected)
    # The look-back picks which follow-ups are read, never what is asked for them.
    assert run(crm, FollowUpDue(), DUE + 20 * DAY) == []
    assert run(crm, FollowUpDue(look_back=timedelta(days=30)), DUE + 20 * DAY) == expected
    told = run(crm, FollowUpDue(tasks=False, next_action="Ask about spring"), DUE + HOUR)
    assert told == [
        {**effect, "values": {**effect["values"], "next_action": "Ask about spring"}}
        for effect in only("notice", expected)
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

STAGE = "Needs confirmed"  # deals enter it at ENTERED: a 3 days' deadline, stale after 7 quiet


def deals(crm: CRM) -> tuple[Opportunity, Opportunity, Opportunity, Opportunity]:
    """East (supervised by carol): alice's deal with Acme and an unowned one with Beta; west
    (no supervisor): an unowned deal with Gamma and bob's with Delta."""
    supervise(crm)
    return (
        deal(crm, add(crm, Customer.company("Acme", owner="alice"))),
        deal(crm, add(crm, Customer.company("Beta")), owner=None),
        deal(crm, add(crm, Customer.company("Gamma")), owner=None, team="west"),
        deal(crm, add(crm, Customer.company("Delta", owner="bob")), owner="bob", team="west"),
    )


def test_stale_opportunities_effects(crm: CRM) -> None:
    acme, beta, gamma, delta = deals(crm)
    names = {acme.id: "Acme", beta.id: "Beta", gamma.id: "Gamma", delta.id: "Delta"}

    def made(
        deal: Opportunity, handler: str | None, days: int, copy: str | None = None
    ) -> list[dict[str, Any]]:
        """A deal stale for ``days`` in its stage: the task, the notice to ``handler`` and
        the supervisor's ``copy``."""
        key = f"stale_opportunities:{deal.id}:needs_confirmed:2026-03-10"
        now = ENTERED + days * DAY
        about = {"customer": names[deal.id], "opportunity": "Big deal", "stage": STAGE,
                 "days": days}  # fmt: skip
        effects = [
            task(f"{key}:task", "Stale opportunity: Big deal", now, handler, deal.customer_id,
                 "stale_opportunity", about=deal.id)
        ]  # fmt: skip
        if handler is not None:
            effects.append(
                notice(f"{key}:notice", "stale_opportunity", {**about, "owner": handler},
                       Staff(handler), deal.customer_id, task_key=f"{key}:task")
            )  # fmt: skip
        if copy is not None:
            effects.append(
                notice(f"{key}:supervisor", "stale_opportunity", {**about, "owner": copy},
                       Staff(copy), deal.customer_id)
            )  # fmt: skip
        return effects

    quiet = ENTERED + 8 * DAY
    expected = [
        *made(acme, "alice", 8),
        *made(beta, "carol", 8),
        *made(gamma, None, 8),
        *made(delta, "bob", 8),
    ]
    assert run(crm, StaleOpportunities(), quiet) == expected
    assert run(crm, StaleOpportunities(notices=False), quiet) == only("task", expected)
    assert run(crm, StaleOpportunities(tasks=False), quiet) == only("notice", expected)
    # Stale for a week more: the supervisor hears of alice's deal.
    assert run(crm, StaleOpportunities(), ENTERED + 15 * DAY) == [
        *made(acme, "alice", 15, copy="carol"),
        *made(beta, "carol", 15),
        *made(gamma, None, 15),
        *made(delta, "bob", 15),
    ]
    # Without escalation no supervisor is read: the unowned east deal has nobody to tell.
    assert run(crm, StaleOpportunities(escalate=False), ENTERED + 15 * DAY) == [
        *made(acme, "alice", 15),
        *made(beta, None, 15),
        *made(gamma, None, 15),
        *made(delta, "bob", 15),
    ]


def test_stage_deadlines_effects(crm: CRM) -> None:
    acme, beta, gamma, delta = deals(crm)
    names = {acme.id: "Acme", beta.id: "Beta", gamma.id: "Gamma", delta.id: "Delta"}
    now = ENTERED + 4 * DAY

    def made(
        deal: Opportunity, handler: str | None, template: str | None = None, to: str = "carol"
    ) -> list[dict[str, Any]]:
        """A deal past its deadline: the task for ``handler`` and ``template`` to ``to``."""
        key = f"stage_deadlines:{deal.id}:needs_confirmed:20260306T0930"
        values = {"owner": deal.owner or "-", "customer": names[deal.id], "opportunity": "Big deal",
                  "stage": STAGE, "deadline": "2026-03-06 09:30 UTC"}  # fmt: skip
        if template == "stage_deadline_escalation":
            values["supervisor"] = to
        effects = [
            task(f"{key}:task", "Past stage deadline: Big deal", now, handler, deal.customer_id,
                 "stage_deadline", about=deal.id)
        ]  # fmt: skip
        if template is not None:
            effects.append(
                notice(f"{key}:notice", template, values, Staff(to), deal.customer_id,
                       task_key=f"{key}:task")
            )  # fmt: skip
        return effects

    expected = [
        *made(acme, "alice", "stage_deadline_escalation"),
        *made(beta, "carol", "stage_deadline_escalation"),
        *made(gamma, None),
        *made(delta, "bob", "stage_deadline_passed", to="bob"),
    ]
    assert run(crm, StageDeadlines(), now) == expected
    assert run(crm, StageDeadlines(notices=False), now) == only("task", expected)
    assert run(crm, StageDeadlines(tasks=False), now) == only("notice", expected)


def test_pending_approvals_effects(crm: CRM) -> None:
    acme = add(crm, Customer.company("Acme", owner="alice"))
    contract = pending(crm, acme)
    key = f"pending_approvals:{contract.id}:sales"
    values = {"approver": "dave", "submitted_by": "alice", "contract": "HT-2026-00001",
              "customer": "Acme", "amount": "50,000.00 CNY", "level": "Sales approval"}  # fmt: skip
    reminder = task(f"{key}:task", "Approve contract HT-2026-00001", SUBMITTED + DAY, "dave",
                    acme.id, "approval", about=contract.id)  # fmt: skip
    rule = PendingApprovals(approvers={"sales": "dave"})
    assert run(crm, rule, SUBMITTED + DAY + HOUR) == [
        reminder,
        notice(f"{key}:0:notice", "approval_pending", values, Staff("dave"), acme.id),
    ]
    assert run(crm, rule, SUBMITTED + 2 * DAY + HOUR) == [
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


def contracts(crm: CRM) -> tuple[Contract, Contract, Contract]:
    """The money tests' HT-1 (owner li.na: 7,000 due 1 March, ends 31 March) and HT-2 (no
    customer owner, from wu's deal: 2,000 due 20 February, ends 30 June), and HT-3, which
    nobody is responsible for: 1,000 due 25 February, ends 30 April."""
    first, second = money_setup(crm)
    nobody = add(crm, Customer.company("Nobody Ltd"))
    plan = PaymentPlan.of(("2026-02-25", cny("1000.00")))
    third = active_contract(
        nobody.id, "HT-3", end_on=date(2026, 4, 30), plan=plan, amount="1000.00"
    )
    with crm.session(actor="setup") as s:
        s.contracts.add(third)
    return first, second, third


def test_overdue_payments_effects(crm: CRM) -> None:
    first, second, third = contracts(crm)

    def made(
        contract: Contract, owner: str | None, customer: str, due_on: str, unpaid: str, days: int
    ) -> list[dict[str, Any]]:
        """An instalment ``days`` overdue: the task for ``owner``, and the notice to them."""
        key = f"overdue_payments:{contract.id}:{due_on}"
        subject = f"Collect {unpaid} on contract {contract.number}"
        values = {"owner": owner, "customer": customer, "contract": contract.number,
                  "amount": unpaid, "due_date": due_on, "days_overdue": days}  # fmt: skip
        effects = [
            task(f"{key}:task", subject, NOW, owner, contract.customer_id, "overdue_payment",
                 about=contract.id)
        ]  # fmt: skip
        if owner is not None:
            effects.append(
                notice(f"{key}:notice", "overdue_payment", values, Staff(owner),
                       contract.customer_id, task_key=f"{key}:task")
            )  # fmt: skip
        return effects

    expected = [
        *made(first, "li.na", "Acme", "2026-03-01", "7,000.00 CNY", 1),
        *made(second, "wu", "Orphan Ltd", "2026-02-20", "2,000.00 CNY", 10),
        *made(third, None, "Nobody Ltd", "2026-02-25", "1,000.00 CNY", 5),
    ]
    assert run(crm, OverduePayments(), NOW) == expected
    assert run(crm, OverduePayments(notices=False), NOW) == only("task", expected)
    assert run(crm, OverduePayments(tasks=False), NOW) == only("notice", expected)


def test_renewal_reminders_effects(crm: CRM) -> None:
    first, second, third = contracts(crm)
    renewing = [
        (first, "li.na", "Acme", date(2026, 3, 31)),
        (second, "wu", "Orphan Ltd", date(2026, 6, 30)),
        (third, None, "Nobody Ltd", date(2026, 4, 30)),
    ]
    expected: list[dict[str, Any]] = []
    for contract, owner, customer, end_on in renewing:
        key = f"renewal_reminders:{contract.id}:{end_on}"
        start_of_day = datetime(end_on.year, end_on.month, end_on.day, 9, tzinfo=UTC)
        expected.append(
            task(f"{key}:task", f"Renew contract {contract.number} (ends {end_on})",
                 start_of_day, owner, contract.customer_id, "renewal", about=contract.id)
        )  # fmt: skip
        if owner is not None:
            values = {"owner": owner, "customer": customer, "contract": contract.number,
                      "end_date": str(end_on)}  # fmt: skip
            expected.append(
                notice(f"{key}:notice", "renewal_reminder", values, Staff(owner),
                       contract.customer_id, task_key=f"{key}:task")
            )  # fmt: skip
    assert run(crm, RenewalReminders(before=relativedelta(months=4)), NOW) == expected
    # On the end date itself the task falls due now, not at a start of day already gone.
    last_day = datetime(2026, 3, 31, 15, tzinfo=UTC)
    first_task, third_task = only("task", expected)[0::2]
    assert run(crm, RenewalReminders(notices=False), last_day) == [
        {**first_task, "due_at": last_day},
        third_task,
    ]


# -- customer care ----------------------------------------------------------------------------


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
    assert run(crm, RepurchaseReminders(tasks=False), NOW) == only("notice", expected)


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
