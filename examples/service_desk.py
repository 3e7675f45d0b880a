"""An afternoon at a service desk: dispatch, SLA clocks on a working calendar, a pause over
the weekend, a breach, a rating and a repeat complaint.

The desk works Monday to Saturday, 08:30-12:00 and 13:00-20:00 Beijing time, with China's
public holidays; a plugin registers that calendar, and the company's own day off is stored
in the CRM on top of it. Everything runs on a temporary SQLite file with a fixed clock, so
the output is the same on every run.

Run: ``python examples/service_desk.py``.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pycrm import (
    CRM,
    CalendarDefinition,
    Customer,
    DispatchRule,
    DispatchRules,
    FixedClock,
    ServiceGroup,
    SlaPolicies,
    SlaPolicy,
    Ticket,
    TicketSla,
    china_calendar,
    hookimpl,
)

BEIJING = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
SUPPORT_HOURS = {day: [("08:30", "12:00"), ("13:00", "20:00")] for day in range(6)}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


class SupportCalendar:
    """A host plugin: the calendar the support team works by."""

    @hookimpl
    def pycrm_calendars(self, register: Any) -> None:
        register("support", china_calendar(week=SUPPORT_HOURS))


POLICIES = SlaPolicies(
    [
        SlaPolicy(respond_within=2 * HOUR, resolve_within=16 * HOUR, calendar="support"),
        SlaPolicy(
            type="complaint", respond_within=HOUR, resolve_within=8 * HOUR, calendar="support"
        ),
        SlaPolicy(
            priority="urgent", respond_within=HOUR / 2, resolve_within=4 * HOUR, calendar="support"
        ),
    ]
)

RULES = DispatchRules(
    [
        ServiceGroup("care", ["liu.yang", "gao.min"]),
        ServiceGroup("tech", ["wu.hao", "zheng.kai"], strategy="least_loaded"),
        ServiceGroup("complaints", ["tang.li"]),
    ],
    [DispatchRule("complaints", types=["complaint"]), DispatchRule("tech", types=["fault"])],
    default_group="care",
)


def clocks(sla: TicketSla) -> str:
    def one(name: str, clock: Any) -> str:
        if clock.due_at is None:  # paused: the due time is known once the clock resumes
            return f"{name} {clock.state.value}"
        return f"{name} {clock.state.value} (due {clock.due_at:%a %d %H:%M})"

    return f"{one('response', sla.response)}, {one('resolution', sla.resolution)}"


def main() -> None:
    clock = FixedClock(at(3, 13, 15, 0))  # Friday 13 March 2026, 15:00
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'desk.db'}"
        crm = CRM.open(url, clock=clock, plugins=[SupportCalendar()], sla_policies=POLICIES)
        with crm:
            run(crm, clock)


def run(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="admin") as s:
        # The company's anniversary, Monday 16 March, is a day off for the desk too.
        s.calendars.add(
            CalendarDefinition(
                name="support",
                timezone="Asia/Shanghai",
                week=SUPPORT_HOURS,
                country="CN",
                holidays=[date(2026, 3, 16)],
            )
        )
        acme = s.customers.add(Customer.company("Acme Logistics", industry="logistics"))
        bo = s.customers.add(Customer.person("Zhang Bo"))

    print("-- Friday 15:00: three tickets come in and are dispatched")
    with crm.session(actor="desk") as s:
        opened = [
            s.service.open(acme, "Scanner app crashes on login", type="fault", priority="urgent"),
            s.service.open(
                bo, "Charged twice for order 1043", type="complaint", category="billing"
            ),
            s.service.open(acme, "How do I add a warehouse user?"),
        ]
        for ticket in opened:
            ticket = s.service.dispatch(ticket, RULES)
            print(f"  {ticket.subject:<32} {ticket.type:<9} -> {ticket.group}/{ticket.assignee}")
            print(f"    {clocks(s.service.sla(ticket))}")
    fault, complaint, question = (ticket.id for ticket in opened)

    clock.set(at(3, 13, 15, 20))
    with crm.session(actor="wu.hao") as s:
        s.service.move(fault, "in_progress")
        s.service.move(fault, "waiting_on_customer")  # asks for the crash log: answered
    clock.set(at(3, 13, 15, 40))
    with crm.session(actor="liu.yang") as s:
        s.service.move(question, "in_progress")
        s.service.resolve(question, "Sent the steps for adding a user")
        s.service.rate(question, 5, "Quick and clear")

    print("\n-- Friday 17:00: the complaint is still unanswered")
    clock.set(at(3, 13, 17, 0))
    with crm.session() as s:
        for ticket, sla in sorted(s.service.open_tickets(), key=lambda pair: pair[0].subject):
            print(f"  {ticket.subject:<32} {ticket.status.value:<20} {clocks(sla)}")

    print("\n-- Tuesday 09:00: the crash log arrives after the weekend and the day off")
    clock.set(at(3, 17, 9, 0))
    with crm.session(actor="wu.hao") as s:
        before = s.service.sla(fault, as_of=at(3, 13, 15, 20)).resolution
        resumed = s.service.move(fault, "in_progress")
        after = s.service.sla(resumed).resolution
        print(f"  resolution due before the pause: {before.due_at:%a %d %H:%M}")
        print(f"  resolution due after it:         {after.due_at:%a %d %H:%M}")
        paused = s.service.calendar("support").elapsed(at(3, 13, 15, 20), at(3, 17, 9, 0))
        print(f"  the pause covered {paused} of working time: Friday afternoon, Saturday and")
        print("  Tuesday from 08:30; Sunday and Monday, the company's day off, count for nothing")
        print(f"  working time used so far: {after.used}")
        s.service.resolve(fault, "Fixed in app version 4.2.1")
    with crm.session(actor="tang.li") as s:
        s.service.move(complaint, "in_progress")
        s.service.resolve(complaint, "Refunded the second charge")

    print("\n-- Wednesday: Zhang Bo complains about billing again")
    clock.set(at(3, 18, 10, 0))
    with crm.session(actor="desk") as s:
        again: Ticket = s.service.open(
            bo, "Refund not received", type="complaint", category="Billing"
        )
        print(f"  repeat complaint: {s.service.is_repeat(again)}")
        history = s.service.history(bo)
        print(
            f"  Zhang Bo: {len(history.tickets)} tickets, {history.open_count} open, "
            f"{len(history.repeat_complaints)} repeat chain"
        )
        acme_history = s.service.history(acme)
        print(
            f"  Acme Logistics: satisfaction {acme_history.satisfaction_average} "
            f"from {acme_history.satisfaction_count} rating"
        )


if __name__ == "__main__":
    main()
