"""SLA clocks on stored tickets, on every backend: stored calendars with the host's own days
off win over registered ones, policies apply to old tickets at once, queues list open tickets
with their clocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pycrm import CRM, Customer, FixedClock, ValidationError
from pycrm.service import SlaPolicies, SlaPolicy, SlaState
from pycrm.service.definition import CalendarDefinition

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
OFFICE_HOURS = {day: [("09:00", "12:00"), ("13:30", "18:00")] for day in range(5)}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def acme(crm: CRM) -> Customer:
    with crm.session() as s:
        return s.customers.add(Customer.company("Acme"))


def test_default_policy_on_the_china_calendar(crm: CRM, clock: FixedClock, acme: Customer) -> None:
    clock.set(sh(2026, 3, 13, 17, 0))  # Friday
    with crm.session(actor="desk") as s:
        ticket = s.service.open(acme, "Printer jams")
        sla = s.service.sla(ticket)
    assert sla.response.due_at == sh(2026, 3, 16, 10, 0)  # one hour Friday, one Monday
    assert sla.response.state is SlaState.RUNNING
    clock.set(sh(2026, 3, 16, 10, 1))
    with crm.session() as s:
        late = s.service.sla(ticket.id)
        assert late.response.state is SlaState.BREACHED
        # As of Monday 09:40: 60 minutes on Friday and 40 on Monday, past 80% of 120.
        earlier = s.service.sla(ticket.id, as_of=sh(2026, 3, 16, 9, 40))
        assert earlier.response.state is SlaState.WARNING
        assert earlier.response.used == 100 * timedelta(minutes=1)


def test_a_stored_calendar_with_a_company_day_off_wins(
    crm: CRM, clock: FixedClock, acme: Customer
) -> None:
    clock.set(sh(2026, 3, 13, 17, 0))
    with crm.session(actor="desk") as s:
        ticket = s.service.open(acme, "Printer jams")
    with crm.session(actor="admin") as s:
        s.calendars.add(
            CalendarDefinition(
                name="china",
                timezone="Asia/Shanghai",
                week=OFFICE_HOURS,
                country="CN",
                holidays=[date(2026, 3, 16)],  # the company's own day off
            )
        )
    with crm.session() as s:
        assert s.service.sla(ticket).response.due_at == sh(2026, 3, 17, 10, 0)
        assert not s.service.calendar("china").works_on(date(2026, 3, 16))
    assert crm.calendar("china").works_on(date(2026, 3, 16))  # the registered one is unchanged


def test_a_changed_policy_applies_to_old_tickets(
    crm: CRM, clock: FixedClock, acme: Customer
) -> None:
    clock.set(sh(2026, 3, 10, 9, 0))
    with crm.session(actor="desk") as s:
        ticket = s.service.open(acme, "Invoice wrong", type="complaint")
    clock.set(sh(2026, 3, 10, 10, 30))
    with crm.session() as s:
        assert s.service.sla(ticket).response.state is SlaState.RUNNING
    crm.sla_policies = SlaPolicies(
        (
            SlaPolicy(respond_within=2 * HOUR, resolve_within=24 * HOUR),
            SlaPolicy(type="complaint", respond_within=HOUR, resolve_within=8 * HOUR),
        )
    )
    with crm.session() as s:
        sla = s.service.sla(ticket)
        assert sla.response.state is SlaState.BREACHED
        assert sla.response.due_at == sh(2026, 3, 10, 10, 0)
        # 8 working hours: 7.5 on Tuesday, half an hour on Wednesday.
        assert sla.resolution.due_at == sh(2026, 3, 11, 9, 30)


def test_open_tickets_come_with_their_clocks(crm: CRM, clock: FixedClock, acme: Customer) -> None:
    clock.set(sh(2026, 3, 10, 9, 0))
    with crm.session(actor="desk") as s:
        urgent = s.service.open(acme, "Line down", priority="urgent", assignee="li")
        normal = s.service.open(acme, "Question", assignee="wang")
        done = s.service.open(acme, "Answered", assignee="li")
        s.service.resolve(done, "Sent the manual")
        waiting = s.service.open(acme, "Need logs", assignee="li")
        s.service.move(waiting, "in_progress")
        s.service.move(s.tickets.get(waiting.id), "waiting_on_customer")
    clock.set(sh(2026, 3, 10, 9, 50))
    with crm.session() as s:
        board = {ticket.id: sla for ticket, sla in s.service.open_tickets()}
        queue = [ticket.id for ticket, _ in s.service.open_tickets(assignee="li")]
    assert set(board) == {urgent.id, normal.id, waiting.id}
    assert sorted(queue) == sorted([urgent.id, waiting.id])
    assert board[urgent.id].response.state is SlaState.WARNING  # 50 of 60 minutes
    assert board[urgent.id].next_due_at == sh(2026, 3, 10, 10, 0)
    assert board[normal.id].response.state is SlaState.RUNNING
    assert board[waiting.id].resolution.state is SlaState.PAUSED
    assert board[waiting.id].response.state is SlaState.MET


def test_bad_arguments_fail_before_anything_is_read(crm: CRM, acme: Customer) -> None:
    policies = SlaPolicies(
        (SlaPolicy(respond_within=HOUR, resolve_within=HOUR, calendar="head_office"),)
    )
    with crm.session() as s:
        ticket = s.service.open(acme, "Question")
        with pytest.raises(ValidationError, match="head_office") as raised:
            s.service.open_tickets(policies=policies)
        assert raised.value.field == "calendar"
        with pytest.raises(ValidationError) as raised:
            s.service.open_tickets(is_open=False)
        assert raised.value.field == "is_open"
        with pytest.raises(ValidationError) as raised:
            s.service.sla(ticket, policies=[policies])  # type: ignore[arg-type]
        assert raised.value.field == "policies"
        with pytest.raises(ValidationError) as raised:
            s.service.sla(ticket, as_of=ticket.opened_at - HOUR)
        assert raised.value.field == "as_of"
