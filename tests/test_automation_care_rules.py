"""Service, money and customer-care rules on every backend: each fires when due and not
before, once per occasion however often the tick runs, follows its settings, stays quiet when
switched off, and its notices reach the right person with the right values."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from automation_books import add_customer, money_setup, order, staff_on_memory
from pycrm import (
    CRM,
    ChurnPolicy,
    Customer,
    FixedClock,
    Interaction,
    Task,
    TeamSupervisor,
    ValidationError,
)
from pycrm.automation.effects import KEY_LENGTH, Notice
from pycrm.automation.report import RuleReport
from pycrm.automation.rule import AutomationRule
from pycrm.automation.rules import care, payments, service
from pycrm.automation.rules.care import BirthdayCare, RepurchaseReminders, WinBack, birthdays_from
from pycrm.automation.rules.payments import OverduePayments, RenewalReminders, renewal_window
from pycrm.automation.rules.service import SlaAlerts
from pycrm.notify.channel import Notification
from pycrm.service.policy import default_policies

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # the conftest clock: Monday 2 March 2026
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


# -- helpers -------------------------------------------------------------------------------


def tick(crm: CRM, clock: FixedClock, rule: AutomationRule, when: datetime) -> RuleReport:
    """Run ``rule`` alone at ``when`` (the clock too, so queued messages are due then)."""
    clock.set(when)
    crm.automation.add(rule, replace=True)
    report = crm.tick(when, rules=[rule.name])
    (only,) = report.rules
    assert only.ok, only.error
    return only


def tick_disabled(crm: CRM, clock: FixedClock, rule: AutomationRule, when: datetime) -> None:
    """Register ``rule``, switch it off and run every enabled rule at ``when``: it must not run
    and nothing keyed by it may appear (other rules may make their own); switched back on, it
    makes something at that moment, so being off is what kept it quiet."""
    crm.automation.add(rule, replace=True)
    crm.automation.disable(rule.name)
    clock.set(when)
    before = own_keys(crm, rule.name)
    report = crm.tick(when)
    assert rule.name not in {ran.name for ran in report.rules}
    assert own_keys(crm, rule.name) == before
    crm.automation.enable(rule.name)
    crm.tick(when, rules=[rule.name])
    assert own_keys(crm, rule.name) > before


def own_keys(crm: CRM, name: str) -> set[str]:
    with crm.session() as s:
        keys = {str(task.key) for task in s.tasks.stream()}
        keys |= {message.key for message in s.outbox.stream()}
    return {key for key in keys if key.startswith(f"{name}:")}


def totals(crm: CRM) -> tuple[int, int]:
    with crm.session() as s:
        return s.tasks.count(), s.outbox.count()


def stored_tasks(crm: CRM) -> list[Task]:
    with crm.session() as s:
        return sorted(s.tasks.stream(), key=lambda task: str(task.key))


def delivered(crm: CRM) -> list[Notification]:
    """Dispatch the outbox and return what the memory channel got, in key order."""
    crm.dispatch()
    sent = crm.channels["memory"].sent  # type: ignore[attr-defined]
    return sorted(sent, key=lambda notification: notification.key)


# -- sla_alerts ----------------------------------------------------------------------------


def open_ticket(crm: CRM, customer: Customer, **fields: Any) -> str:
    with crm.session(actor="desk") as s:
        return s.service.open(customer, "Printer down", **fields).id


def sla_setup(crm: CRM, clock: FixedClock) -> tuple[str, str]:
    """Respond within 2 h, resolve within 24 h, around the clock, warning at 80 %. One ticket
    assigned to wang in group support (supervisor zhao), one unassigned in support."""
    crm.sla_policies = default_policies("always_open")
    staff_on_memory(crm)
    clock.set(NOW)
    acme = add_customer(crm, Customer.company("Acme", owner="li.na"))
    with crm.session(actor="setup") as s:
        s.team_supervisors.add(TeamSupervisor(team="support", supervisor="zhao"))
    assigned = open_ticket(crm, acme, assignee="wang", group="support")
    unassigned = open_ticket(crm, acme, group="support")
    return assigned, unassigned


def test_sla_warns_then_breaches_and_escalates_once_each(crm: CRM, clock: FixedClock) -> None:
    assigned, unassigned = sla_setup(crm, clock)
    rule = SlaAlerts()

    assert tick(crm, clock, rule, NOW + HOUR).tasks_created == 0  # 50 % used: quiet
    assert totals(crm) == (0, 0)

    warned = tick(crm, clock, rule, NOW + 100 * MINUTE)  # 83 % of the response target
    assert (warned.tasks_created, warned.messages_queued) == (2, 2)
    assert totals(crm) == (2, 2)
    again = tick(crm, clock, rule, NOW + 100 * MINUTE)  # the same moment: nothing new
    assert (again.tasks_created, again.messages_queued, again.skipped) == (0, 0, 4)
    assert tick(crm, clock, rule, NOW + 110 * MINUTE).skipped == 4  # still the same warning
    assert totals(crm) == (2, 2)

    breached = tick(crm, clock, rule, NOW + 130 * MINUTE)
    # Each ticket: a breach task and notice; the assigned one escalates to its supervisor.
    assert (breached.tasks_created, breached.messages_queued) == (2, 3)
    assert tick(crm, clock, rule, NOW + 3 * HOUR).tasks_created == 0
    assert totals(crm) == (4, 5)

    tasks = {str(task.key): task for task in stored_tasks(crm)}
    key = f"sla_alerts:{assigned}:response:breached:task"
    assert tasks[key].assignee == "wang"
    assert tasks[key].kind == "sla_breach"
    assert tasks[key].about == assigned
    assert tasks[f"sla_alerts:{unassigned}:response:warning:task"].assignee == "zhao"

    by_key = {n.key: n for n in delivered(crm)}
    warning = by_key[f"sla_alerts:{assigned}:response:warning:notice"]
    assert warning.recipient == "wang"
    assert assigned in warning.subject
    assert "first response" in warning.body
    assert "Acme" in warning.body
    assert "2026-03-02 11:30 +0000" in warning.body  # due two hours after opening
    assert "20m left" in warning.body
    escalation = by_key[f"sla_alerts:{assigned}:response:breached:escalation"]
    assert escalation.recipient == "zhao"
    assert "10m overdue" in escalation.body
    assert by_key[f"sla_alerts:{unassigned}:response:breached:notice"].recipient == "zhao"
    assert f"sla_alerts:{unassigned}:response:breached:escalation" not in by_key


def test_sla_settings_and_switch(crm: CRM, clock: FixedClock) -> None:
    assigned, _ = sla_setup(crm, clock)
    breach = NOW + 130 * MINUTE

    quiet = SlaAlerts(warnings=False, escalate=False, tasks=False, supervisors={"support": "sun"})
    report = tick(crm, clock, quiet, breach)
    assert (report.tasks_created, report.messages_queued) == (0, 2)
    recipients = sorted(n.recipient for n in delivered(crm))
    assert recipients == ["sun", "wang"]  # the setting's supervisor takes the unassigned one

    with crm.session(actor="desk") as s:
        s.service.respond(assigned)  # the response clock stops: no more alerts on it
    report = tick(crm, clock, SlaAlerts(), breach + HOUR)
    keys = {str(task.key) for task in stored_tasks(crm)}
    assert not any(key.startswith(f"sla_alerts:{assigned}:response") for key in keys)
    tick_disabled(crm, clock, SlaAlerts(), NOW + 25 * HOUR)  # the resolution clocks run out


@pytest.mark.parametrize(
    ("settings", "field"),
    [({"warnings": "yes"}, "warnings"), ({"supervisors": ["zhao"]}, "supervisors")],
)
def test_sla_bad_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SlaAlerts(**settings)
    assert caught.value.field == field


# -- overdue_payments and renewal_reminders ------------------------------------------------


def test_overdue_payments_chase_each_unpaid_instalment_once(crm: CRM, clock: FixedClock) -> None:
    first, second = money_setup(crm)
    rule = OverduePayments()

    early = tick(crm, clock, rule, datetime(2026, 2, 20, 12, tzinfo=UTC))
    assert early.tasks_created == 0  # HT-2's instalment is due today, not yet overdue

    report = tick(crm, clock, rule, NOW)
    assert (report.tasks_created, report.messages_queued) == (2, 2)
    assert tick(crm, clock, rule, NOW).skipped == 4
    assert tick(crm, clock, rule, NOW + timedelta(days=5)).skipped == 4  # same instalments
    assert totals(crm) == (2, 2)

    tasks = {str(task.key): task for task in stored_tasks(crm)}
    assert tasks["overdue_payments:" + first.id + ":2026-03-01:task"].assignee == "li.na"
    assert tasks["overdue_payments:" + second.id + ":2026-02-20:task"].assignee == "wu"
    by_key = {n.key: n for n in delivered(crm)}
    notice = by_key[f"overdue_payments:{first.id}:2026-03-01:notice"]
    assert notice.recipient == "li.na"
    assert "7,000.00 CNY" in notice.body
    assert "HT-1" in notice.subject
    assert "2026-03-01" in notice.body
    assert "1 days overdue" in notice.body
    other = by_key[f"overdue_payments:{second.id}:2026-02-20:notice"]
    assert other.recipient == "wu"  # the customer has no owner: the deal's owner
    assert "2,000.00 CNY" in other.body  # the unpaid part only


def test_overdue_payments_grace_and_switches(crm: CRM, clock: FixedClock) -> None:
    _first, second = money_setup(crm)
    report = tick(crm, clock, OverduePayments(grace=1), NOW)
    assert report.tasks_created == 1  # HT-1's instalment is one day late: within the grace
    assert {t.customer_id for t in stored_tasks(crm)} == {second.customer_id}

    report = tick(crm, clock, OverduePayments(tasks=False), NOW)
    # HT-1's notice is new; HT-2's was queued by the first tick.
    assert (report.tasks_created, report.messages_queued, report.skipped) == (0, 1, 1)

    tick_disabled(crm, clock, OverduePayments(), NOW)  # HT-1's task is still to come
    for settings, field in (({"grace": -1}, "grace"), ({"timezone": "Mars/Base"}, "timezone")):
        with pytest.raises(ValidationError) as caught:
            OverduePayments(**settings)
        assert caught.value.field == field


def test_renewal_reminders_come_a_calendar_month_before_the_end(
    crm: CRM, clock: FixedClock
) -> None:
    first, _second = money_setup(crm)
    rule = RenewalReminders()

    assert tick(crm, clock, rule, datetime(2026, 2, 27, 12, tzinfo=UTC)).tasks_created == 0
    # 31 March less a month is 28 February: reminded on the 28th.
    report = tick(crm, clock, rule, datetime(2026, 2, 28, 12, tzinfo=UTC))
    assert (report.tasks_created, report.messages_queued) == (1, 1)
    assert tick(crm, clock, rule, datetime(2026, 2, 28, 12, tzinfo=UTC)).skipped == 2
    assert tick(crm, clock, rule, NOW).skipped == 2  # later, the same term
    assert tick(crm, clock, rule, datetime(2026, 4, 1, tzinfo=UTC)).skipped == 0  # ended

    (task,) = stored_tasks(crm)
    assert task.key == f"renewal_reminders:{first.id}:2026-03-31:task"
    assert task.assignee == "li.na"
    assert task.due_at == datetime(2026, 3, 31, 9, tzinfo=UTC)
    (notice,) = delivered(crm)
    assert notice.recipient == "li.na"
    assert "HT-1" in notice.body
    assert "2026-03-31" in notice.body

    longer = tick(crm, clock, RenewalReminders(before=relativedelta(months=4)), NOW)
    assert longer.tasks_created == 1  # HT-2, ending in June, is now in reach
    assert [t.assignee for t in stored_tasks(crm)].count("wu") == 1

    with pytest.raises(ValidationError) as caught:
        RenewalReminders(before=relativedelta(months=-1))
    assert caught.value.field == "before"
    with pytest.raises(ValidationError) as caught:
        RenewalReminders(before=30)  # type: ignore[arg-type]
    assert caught.value.field == "before"


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(0, 400),
    st.integers(0, 24),
    st.integers(0, 45),
)
def test_the_renewal_window_holds_every_contract_whose_reminder_has_come(
    today: date, ends_in: int, months: int, days: int
) -> None:
    before = relativedelta(months=months, days=days)
    if before.months == 0 and before.days == 0:
        before = relativedelta(days=1)
    end_on = today + timedelta(days=ends_in)
    window = renewal_window(today, before)
    # What renewal_reminder_date computes: the end less ``before``, month ends kept right.
    if end_on - before <= today:
        assert window.contains(end_on)
    assert not window.contains(today - timedelta(days=1))  # an ended contract is left out


# -- repurchase_reminders ------------------------------------------------------------------


def test_repurchase_reminders_follow_the_customers_rhythm(crm: CRM, clock: FixedClock) -> None:
    staff_on_memory(crm)
    regular = add_customer(crm, Customer.company("Regular", owner="li.na", phone="13812345678"))
    seldom = add_customer(crm, Customer.company("Seldom", owner="li.na"))
    with crm.session(actor="setup") as s:
        # Every 30 days: next expected on 5 March, reminded from 26 February.
        for i, day in enumerate((date(2025, 12, 5), date(2026, 1, 4), date(2026, 2, 3))):
            s.orders.add(order(regular, f"R-{i}", day))
        for i, day in enumerate((date(2026, 1, 10), date(2026, 2, 9))):
            s.orders.add(order(seldom, f"S-{i}", day, "Toner"))
    rule = RepurchaseReminders()

    assert tick(crm, clock, rule, datetime(2026, 2, 25, 12, tzinfo=UTC)).tasks_created == 0
    report = tick(crm, clock, rule, NOW)
    assert (report.tasks_created, report.messages_queued) == (1, 1)
    assert tick(crm, clock, rule, NOW).skipped == 2
    assert tick(crm, clock, rule, NOW + timedelta(days=3)).skipped == 2
    assert tick(crm, clock, rule, datetime(2026, 3, 13, tzinfo=UTC)).skipped == 0  # passed

    (task,) = stored_tasks(crm)
    assert task.key == f"repurchase_reminders:{regular.id}:2026-03-05:task"
    assert task.assignee == "li.na"
    (notice,) = delivered(crm)
    assert notice.recipient == "li.na"
    assert "A4 paper" in notice.body
    assert "2026-02-03" in notice.body
    assert "138****5678" in notice.body  # the log of a staff channel shows masked phones

    # Two orders are a rhythm once min_orders says so: Seldom's next is 11 March.
    seldom_due = NOW + timedelta(days=3)
    tick_disabled(crm, clock, RepurchaseReminders(min_orders=2, tasks=False), seldom_due)
    report = tick(crm, clock, RepurchaseReminders(min_orders=2, notices=False), seldom_due)
    assert (report.tasks_created, report.messages_queued) == (1, 0)
    with pytest.raises(ValidationError) as caught:
        RepurchaseReminders(min_orders=1)
    assert caught.value.field == "min_orders"


def test_repurchase_reminders_read_orders_of_the_look_back_only(
    crm: CRM, clock: FixedClock
) -> None:
    staff_on_memory(crm)
    regular = add_customer(crm, Customer.company("Regular", owner="li.na"))
    with crm.session(actor="setup") as s:
        for i, day in enumerate((date(2025, 12, 5), date(2026, 1, 4), date(2026, 2, 3))):
            s.orders.add(order(regular, f"R-{i}", day))

    # Two months back from NOW leave two order days, one short of min_orders.
    assert (
        tick(crm, clock, RepurchaseReminders(look_back=relativedelta(months=2)), NOW).tasks_created
        == 0
    )
    assert (
        tick(crm, clock, RepurchaseReminders(look_back=relativedelta(months=3)), NOW).tasks_created
        == 1
    )
    with pytest.raises(ValidationError) as caught:
        RepurchaseReminders(look_back=timedelta(days=90))  # type: ignore[arg-type]
    assert caught.value.field == "look_back"


# -- birthday_care -------------------------------------------------------------------------


def test_birthday_care_greets_once_a_year(crm: CRM, clock: FixedClock) -> None:
    staff_on_memory(crm)
    today = add_customer(
        crm,
        Customer.person("Mei", owner="li.na", birthday=date(1990, 3, 2), email="mei@example.com"),
    )
    tomorrow = add_customer(crm, Customer.person("Jun", birthday=date(1992, 3, 3)))
    add_customer(crm, Customer.person("Other", birthday=date(1992, 7, 3)))
    rule = BirthdayCare(sender="Acme Care")

    crm.automation.customer_channel = "memory"
    report = tick(crm, clock, rule, NOW)
    assert (report.tasks_created, report.messages_queued) == (1, 1)
    assert tick(crm, clock, rule, NOW).skipped == 2
    assert tick(crm, clock, rule, NOW + 10 * HOUR).skipped == 2
    assert totals(crm) == (1, 1)

    (task,) = stored_tasks(crm)
    assert task.key == f"birthday_care:{today.id}:2026:task"
    assert task.assignee == "li.na"
    assert task.kind == "birthday_care"
    (greeting,) = delivered(crm)
    assert greeting.key == f"birthday_care:{today.id}:2026:notice"
    assert greeting.recipient == "mei@example.com"
    assert greeting.subject == "Happy birthday, Mei!"
    assert "Acme Care" in greeting.body

    ahead = tick(crm, clock, BirthdayCare(days_ahead=1, greet=False), NOW)
    assert (ahead.tasks_created, ahead.skipped) == (1, 1)
    keys = {str(t.key) for t in stored_tasks(crm)}
    assert f"birthday_care:{tomorrow.id}:2026:task" in keys
    assert tick(crm, clock, rule, NOW.replace(year=2027)).tasks_created == 1  # a new year

    tick_disabled(crm, clock, rule, NOW.replace(year=2028))
    for settings, field in (({"days_ahead": 32}, "days_ahead"), ({"sender": " "}, "sender")):
        with pytest.raises(ValidationError) as caught:
            BirthdayCare(**settings)
        assert caught.value.field == field


def test_a_greeting_without_a_customer_channel_is_not_sent_late(
    crm: CRM, clock: FixedClock
) -> None:
    staff_on_memory(crm)
    add_customer(
        crm,
        Customer.person("Mei", owner="li.na", birthday=date(1990, 3, 2), email="mei@example.com"),
    )
    report = tick(crm, clock, BirthdayCare(), NOW)
    # Without a customer channel the greeting is not sent (counted unaddressed); the task is.
    assert (report.tasks_created, report.messages_queued, report.unaddressed) == (1, 0, 1)
    crm.automation.customer_channel = "memory"
    report = tick(crm, clock, BirthdayCare(), NOW + HOUR)
    # The owner's care task exists, so this birthday is handled: no greeting hours late.
    assert (report.tasks_created, report.messages_queued, report.skipped) == (0, 0, 2)
    assert totals(crm) == (1, 0)


def test_a_leap_day_birthday_is_kept_on_28_february_in_other_years(
    crm: CRM, clock: FixedClock
) -> None:
    leap = add_customer(crm, Customer.person("Leap", birthday=date(1988, 2, 29)))
    rule = BirthdayCare(greet=False)
    assert tick(crm, clock, rule, datetime(2027, 2, 28, 8, tzinfo=UTC)).tasks_created == 1
    assert tick(crm, clock, rule, datetime(2028, 2, 28, 8, tzinfo=UTC)).tasks_created == 0
    assert tick(crm, clock, rule, datetime(2028, 2, 29, 8, tzinfo=UTC)).tasks_created == 1
    assert [t.key for t in stored_tasks(crm)] == [
        f"birthday_care:{leap.id}:2027:task",
        f"birthday_care:{leap.id}:2028:task",
    ]


def test_the_time_zone_decides_whose_birthday_it_is(crm: CRM, clock: FixedClock) -> None:
    add_customer(crm, Customer.person("Mei", birthday=date(1990, 3, 3)))
    late = datetime(2026, 3, 2, 18, tzinfo=UTC)  # already 3 March in Shanghai
    assert tick(crm, clock, BirthdayCare(greet=False), late).tasks_created == 0
    shanghai = BirthdayCare(greet=False, timezone="Asia/Shanghai")
    assert tick(crm, clock, shanghai, late).tasks_created == 1


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2399, 12, 31)))
def test_every_birthday_comes_round_exactly_once_a_year(born: date) -> None:
    year = 2000 + born.toordinal() % 300  # a year to walk, leap or not
    month_day = f"{born.month:02d}-{born.day:02d}"
    days = [
        date(year, 1, 1) + timedelta(days=i) for i in range(366 if calendar.isleap(year) else 365)
    ]
    celebrated = [day for day in days if month_day in birthdays_from(day)]
    assert len(celebrated) == 1
    (day,) = celebrated
    assert day == birthdays_from(day)[month_day]
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        assert (day.month, day.day) == (2, 28)
    else:
        assert (day.month, day.day) == (born.month, born.day)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 31))
def test_days_ahead_covers_each_day_of_the_window(today: date, ahead: int) -> None:
    found = birthdays_from(today, ahead)
    on = set(found.values())
    assert on == {today + timedelta(days=i) for i in range(ahead + 1)}
    assert all(today <= day <= today + timedelta(days=ahead) for day in found.values())


# -- win_back ------------------------------------------------------------------------------


def test_win_back_once_per_lapse(crm: CRM, clock: FixedClock) -> None:
    staff_on_memory(crm)
    crm.automation.customer_channel = "memory"
    lapsed = add_customer(crm, Customer.person("Lapsed", owner="li.na", email="lapsed@example.com"))
    add_customer(crm, Customer.person("Never bought", owner="li.na"))
    loyal = add_customer(crm, Customer.person("Loyal", owner="li.na"))
    with crm.session(actor="setup") as s:
        s.orders.add(order(lapsed, "L-1", date(2025, 6, 1)))
        s.orders.add(order(loyal, "Y-1", date(2026, 2, 1)))
    rule = WinBack(offer="a free delivery", sender="Acme")

    assert tick(crm, clock, rule, datetime(2025, 10, 1, tzinfo=UTC)).tasks_created == 0
    report = tick(crm, clock, rule, NOW)  # 274 days without a word or a purchase
    assert (report.tasks_created, report.messages_queued) == (1, 1)
    assert tick(crm, clock, rule, NOW).skipped == 2
    assert tick(crm, clock, rule, NOW + timedelta(days=30)).skipped == 2  # the same lapse

    (task,) = stored_tasks(crm)
    assert task.key == f"win_back:{lapsed.id}:2025-06-01:task"
    assert task.assignee == "li.na"
    assert "no interaction or purchase" in str(task.notes)
    (notice,) = delivered(crm)
    assert notice.recipient == "lapsed@example.com"
    assert "a free delivery" in notice.body
    assert notice.subject == "We miss you, Lapsed"

    # Buying again ends the lapse; lapsing again later is a new occasion.
    with crm.session(actor="setup") as s:
        s.orders.add(order(lapsed, "L-2", date(2026, 3, 10)))
    later = datetime(2026, 10, 1, tzinfo=UTC)
    assert tick(crm, clock, rule, later).tasks_created == 2  # Lapsed again, and Loyal
    assert f"win_back:{lapsed.id}:2026-03-10:task" in {t.key for t in stored_tasks(crm)}


def test_win_back_policy_and_switch(crm: CRM, clock: FixedClock) -> None:
    lapsed = add_customer(crm, Customer.person("Lapsed", owner="li.na", phone="13812345678"))
    with crm.session(actor="setup") as s:
        s.orders.add(order(lapsed, "L-1", date(2025, 6, 1)))
        s.interactions.add(
            Interaction(
                customer_id=lapsed.id,
                channel="phone",
                occurred_at=datetime(2025, 8, 1, tzinfo=UTC),
                summary="Not now",
                recorded_by="li.na",
            )
        )
    patient = WinBack(policy=ChurnPolicy(inactive_days=365))
    assert tick(crm, clock, patient, NOW).tasks_created == 0
    crm.automation.customer_channel = "memory"
    tick_disabled(crm, clock, WinBack(tasks=False), NOW)  # the customer's notice only
    report = tick(crm, clock, WinBack(notices=False), NOW)
    assert (report.tasks_created, report.messages_queued) == (1, 0)
    with pytest.raises(ValidationError) as caught:
        WinBack(policy={"inactive_days": 10})  # type: ignore[arg-type]
    assert caught.value.field == "policy"


def test_erased_customers_are_not_won_back_or_sold_to(crm: CRM, clock: FixedClock) -> None:
    gone = add_customer(crm, Customer.person("Gone", owner="li.na", email="gone@example.com"))
    with crm.session(actor="setup") as s:
        for i, day in enumerate((date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1))):
            s.orders.add(order(gone, f"G-{i}", day))
        s.customers.erase(gone, "asked to be forgotten")
    assert tick(crm, clock, WinBack(), NOW).tasks_created == 0
    rhythm = RepurchaseReminders(before=relativedelta(years=1))  # due 31 May 2025 +- a year
    assert tick(crm, clock, rhythm, NOW).tasks_created == 0
    assert totals(crm) == (0, 0)


def test_a_small_page_limit_still_reaches_every_due_record(crm: CRM, clock: FixedClock) -> None:
    crm.sla_policies = default_policies("always_open")
    clock.set(NOW)
    people = [
        add_customer(crm, Customer.person(f"P{i}", owner="li.na", birthday=date(1990, 3, 2)))
        for i in range(5)
    ]
    with crm.session(actor="setup") as s:
        for i, person in enumerate(people):
            s.orders.add(order(person, f"P-{i}", date(2025, 6, 1)))
            s.service.open(person, "Broken", assignee="wang")
    crm.automation.add(BirthdayCare(greet=False), replace=True)
    names = ["sla_alerts", "birthday_care", "win_back"]
    clock.set(NOW + 3 * HOUR)
    report = crm.tick(NOW + 3 * HOUR, rules=names, limit=2)
    assert report.ok
    by_rule = {rule.name: rule for rule in report.rules}
    assert {name: by_rule[name].tasks_created for name in names} == {
        "sla_alerts": 5,
        "birthday_care": 5,
        "win_back": 5,
    }
    assert all(by_rule[name].pages == 3 for name in names)


# -- the modules ---------------------------------------------------------------------------


def test_the_modules_list_their_rules_by_name() -> None:
    assert [rule.name for rule in service.RULES] == ["sla_alerts"]
    assert [rule.name for rule in payments.RULES] == ["overdue_payments", "renewal_reminders"]
    assert [rule.name for rule in care.RULES] == [
        "repurchase_reminders",
        "birthday_care",
        "win_back",
    ]
    for rule in (*service.RULES, *payments.RULES, *care.RULES):
        assert isinstance(rule, AutomationRule)
        assert "**Keys**" in str(rule.__doc__)


def test_keys_stay_within_the_limit_for_the_longest_ids() -> None:
    longest = "x" * 64
    for key in (
        f"sla_alerts:{longest}:resolution:breached:escalation",
        f"overdue_payments:{longest}:2026-03-01:notice",
        f"renewal_reminders:{longest}:2026-03-31:notice",
        f"repurchase_reminders:{longest}:2026-03-05:notice",
        f"birthday_care:{longest}:2026:notice",
        f"win_back:{longest}:2026-03-10:notice",
    ):
        assert len(key) <= KEY_LENGTH
        Notice(key=key, template="win_back", values={}, to=Customer.person("A"))
