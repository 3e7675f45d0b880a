"""Tickets, agents' turns and stored calendars on every backend: round trips, filters, keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import pytest
import sqlalchemy as sa

from pycrm import (
    CRM,
    AlreadyExists,
    ConcurrencyConflict,
    Contact,
    Customer,
    FixedClock,
    InteractionChannel,
    TicketStatus,
    ValidationError,
)
from pycrm.service.definition import CalendarDefinition
from pycrm.service.lifecycle import (
    assign_ticket,
    link_tickets,
    move_ticket,
    open_ticket,
    rate_ticket,
    resolve_ticket,
    respond,
)
from pycrm.service.ticket import Satisfaction, Ticket, TicketPriority
from pycrm.service.turns import AgentTurn

if TYPE_CHECKING:
    from conftest import SqlBackend

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _customer_and_contact(crm: CRM) -> tuple[str, str]:
    with crm.session(actor="ops") as s:
        customer = s.customers.add(Customer.company("华东精密机械有限公司"))
        contact = s.contacts.add(Contact(customer_id=customer.id, name="王芳"))
    return customer.id, contact.id


def _worked(customer_id: str, contact_id: str) -> Ticket:
    """A complaint taken through every status, reopened once, rated, with every field set."""
    ticket = open_ticket(
        customer_id=customer_id,
        subject="货到破损 外箱压扁",
        now=START,
        by="desk",
        type="complaint",
        priority="urgent",
        channel="phone",
        contact_id=contact_id,
        description="Two of six units arrived dented — photos attached.\n第二箱也有划痕。",
        category="delivery",
        group="complaints",
        assignee="李娜",
        custom_fields={"order_number": "SO-2026-0042", "photos": 3, "区域": ["华东", "上海"]},
    )
    ticket = move_ticket(ticket, "in_progress", now=START + 5 * MINUTE, by="李娜")
    # Microseconds survive on every database.
    ticket = respond(ticket, now=START + timedelta(minutes=7, microseconds=123_456), by="李娜")
    ticket = move_ticket(ticket, "waiting_on_customer", now=START + 20 * MINUTE, by="李娜")
    ticket = move_ticket(ticket, "in_progress", now=START + 90 * MINUTE, by="李娜")
    ticket = resolve_ticket(ticket, solution="补发两台", now=START + 3 * 60 * MINUTE, by="李娜")
    ticket = move_ticket(
        ticket,
        "in_progress",
        now=START + 26 * 60 * MINUTE,
        by="desk",
        reason="客户说补发的也有划痕",
    )
    ticket = resolve_ticket(
        ticket, solution="更换包装供应商并再补发", now=START + 30 * 60 * MINUTE, by="李娜"
    )
    return rate_ticket(ticket, 4, now=START + 31 * 60 * MINUTE, comment="处理及时 包装还需改进")


def test_a_fully_worked_ticket_reads_back_field_for_field(crm: CRM) -> None:
    customer_id, contact_id = _customer_and_contact(crm)
    worked = _worked(customer_id, contact_id)
    follow_up = open_ticket(customer_id=customer_id, subject="Again: dented box", now=START, by="x")
    worked, follow_up = link_tickets(worked, follow_up)
    # Every optional field is set, so a column the translator forgot would show up below.
    unset = [a.name for a in attrs.fields(Ticket) if getattr(worked, a.name) in (None, {}, ())]
    assert unset == ["created_at", "updated_at"]
    assert [v.stage for v in worked.status_state.history] == [
        "new",
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "in_progress",
        "resolved",
        "in_progress",
        "resolved",
    ]
    with crm.session(actor="desk") as s:
        stored = s.tickets.add(worked)
        s.tickets.add(follow_up)
    with crm.session(actor="desk") as s:
        again = s.tickets.get(worked.id)
    assert again == stored
    assert again == attrs.evolve(worked, version=1, created_at=START, updated_at=START)
    assert again.status_state.history == worked.status_state.history
    assert again.status_state.history[6].reason == "客户说补发的也有划痕"
    assert again.satisfaction == Satisfaction(
        score=4, rated_at=START + 31 * 60 * MINUTE, comment="处理及时 包装还需改进"
    )
    assert again.first_response_at == START + timedelta(minutes=7, microseconds=123_456)
    assert again.linked_ticket_ids == frozenset({follow_up.id})
    assert again.custom_fields["区域"] == ["华东", "上海"]
    assert (again.priority, again.channel) == (TicketPriority.URGENT, InteractionChannel.PHONE)
    assert again.status is TicketStatus.RESOLVED
    assert not again.is_open


def test_a_bare_ticket_reads_back_with_its_empty_values(crm: CRM) -> None:
    customer_id, _ = _customer_and_contact(crm)
    bare = open_ticket(customer_id=customer_id, subject="Where is my invoice?", now=START, by="web")
    with crm.session(actor="web") as s:
        s.tickets.add(bare)
    with crm.session(actor="web") as s:
        again = s.tickets.get(bare.id)
    assert again == attrs.evolve(bare, version=1, created_at=START, updated_at=START)
    assert again.satisfaction is None
    assert again.linked_ticket_ids == frozenset()
    assert again.custom_fields == {}
    assert (again.status, again.type, again.priority) == (
        TicketStatus.NEW,
        "inquiry",
        TicketPriority.NORMAL,
    )


def _desk(customer_ids: list[str]) -> list[Ticket]:
    """Tickets spread over statuses, assignees, groups, types, priorities and categories."""
    tickets = []
    for n in range(12):
        fields: dict[str, Any] = {
            "type": ("inquiry", "complaint", "fault", "return")[n % 4],
            "priority": ("urgent", "normal", "low")[n % 3],
            "category": (None, "delivery", "billing")[n % 3],
            # Another spread than the category's, so a swapped column cannot pass unseen.
            "group": (None, "complaints", "support")[n // 2 % 3],
        }
        if n % 4:
            fields["assignee"] = ("李娜", "bob", "carol")[n % 3]
        now = START + n * MINUTE
        ticket = open_ticket(
            customer_id=customer_ids[n % 2], subject=f"Ticket {n}", now=now, by="desk", **fields
        )
        if ticket.assignee is not None and n % 2:
            ticket = move_ticket(ticket, "in_progress", now=now + MINUTE, by="desk")
        if n % 3 == 2:
            ticket = resolve_ticket(ticket, solution="done", now=now + 2 * MINUTE, by="desk")
        if n == 11:
            ticket = move_ticket(ticket, "closed", now=now + 3 * MINUTE, by="desk")
        tickets.append(ticket)
    return tickets


FILTERS: list[tuple[str, Any, Any]] = [
    # (filter, value given, the value a ticket's attribute has when it matches)
    ("status", "new", TicketStatus.NEW),
    ("status", TicketStatus.ASSIGNED, TicketStatus.ASSIGNED),
    ("status", "in_progress", TicketStatus.IN_PROGRESS),
    ("status", "resolved", TicketStatus.RESOLVED),
    ("status", "closed", TicketStatus.CLOSED),
    ("status", "waiting_on_customer", TicketStatus.WAITING_ON_CUSTOMER),
    ("is_open", True, True),
    ("is_open", False, False),
    ("assignee", "李娜", "李娜"),
    ("assignee", "bob", "bob"),
    ("assignee", None, None),
    ("group", "complaints", "complaints"),
    ("group", None, None),
    ("type", "complaint", "complaint"),
    ("type", "return", "return"),
    ("priority", "urgent", TicketPriority.URGENT),
    ("priority", TicketPriority.LOW, TicketPriority.LOW),
    ("category", "delivery", "delivery"),
    ("category", None, None),
    ("channel", None, None),
]


def test_filters_agree_with_the_tickets_on_every_backend(crm: CRM) -> None:
    first, _ = _customer_and_contact(crm)
    second, _ = _customer_and_contact(crm)
    tickets = _desk([first, second])
    with crm.session(actor="desk") as s:
        assert s.tickets.add_many(tickets) == len(tickets)
    with crm.session(actor="desk") as s:
        for field, given, held in FILTERS:
            expected = sorted(t.id for t in tickets if getattr(t, field) == held)
            found = [t.id for t in s.tickets.stream(batch_size=5, **{field: given})]
            assert found == expected, (field, given)
            assert s.tickets.count(**{field: given}) == len(expected), (field, given)
        for customer_id in (first, second):
            expected = sorted(t.id for t in tickets if t.customer_id == customer_id)
            assert [t.id for t in s.tickets.list(customer_id=customer_id)] == expected
        # Filters combine: an agent's open tickets, a group's open complaints.
        mine = s.tickets.list(assignee="李娜", is_open=True).items
        assert [t.id for t in mine] == sorted(
            t.id for t in tickets if t.assignee == "李娜" and t.is_open
        )
        assert mine
        assert all(t.assignee == "李娜" and t.is_open for t in mine)
    # The desk really covers the filters: no case above is empty by accident.
    assert {t.status for t in tickets} == set(TicketStatus) - {TicketStatus.WAITING_ON_CUSTOMER}
    assert {t.is_open for t in tickets} == {True, False}
    assert None in {t.group for t in tickets}
    assert None in {t.category for t in tickets}


def test_a_filter_on_a_bad_value_or_field_is_refused(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        with pytest.raises(ValidationError) as info:
            s.tickets.list(priority="whenever")
        assert info.value.field == "priority"
        with pytest.raises(ValidationError) as info:
            s.tickets.count(subject="x")
        assert info.value.field == "subject"


def test_a_stale_ticket_update_conflicts_and_keeps_the_newer_one(crm: CRM) -> None:
    customer_id, _ = _customer_and_contact(crm)
    with crm.session(actor="desk") as s:
        original = s.tickets.add(
            open_ticket(customer_id=customer_id, subject="Printer jams", now=START, by="desk")
        )
    with crm.session(actor="desk") as s:
        newer = s.tickets.update(assign_ticket(original, "bob", now=START + MINUTE, by="desk"))
    stale = assign_ticket(original, "carol", now=START + 2 * MINUTE, by="desk")
    with pytest.raises(ConcurrencyConflict), crm.session(actor="desk") as s:
        s.tickets.update(stale)
    with crm.session(actor="desk") as s:
        assert s.tickets.get(original.id) == newer
        assert (newer.version, newer.assignee) == (2, "bob")
        assert [v.stage for v in newer.status_state.history] == ["new", "assigned"]


def test_a_ticket_for_a_missing_customer_or_contact_is_refused_and_nothing_is_written(
    crm: CRM,
) -> None:
    customer_id, contact_id = _customer_and_contact(crm)
    good = open_ticket(customer_id=customer_id, subject="Fine", now=START, by="desk")
    for field, bad in (
        ("customer_id", {"customer_id": "cus_missing"}),
        ("contact_id", {"contact_id": "con_missing"}),
    ):
        orphan = open_ticket(
            **{"customer_id": customer_id, **bad}, subject="Orphan", now=START, by="desk"
        )
        with pytest.raises(ValidationError) as info, crm.session(actor="desk") as s:
            s.tickets.add(good)
            s.tickets.add(orphan)
        assert info.value.field == field
    with crm.session(actor="desk") as s:
        assert s.tickets.count() == 0
        # A customer with tickets stays: the tickets would point at nothing.
        s.tickets.add(good.evolve(contact_id=contact_id))
    with pytest.raises(ValidationError), crm.session(actor="desk") as s:
        s.customers.remove(customer_id)
    with crm.session(actor="desk") as s:
        assert s.customers.get_or_none(customer_id) is not None
        s.tickets.remove(good.id)
        assert s.tickets.count() == 0


def test_one_turn_per_agent_and_group_and_no_tie_to_the_ticket(crm: CRM) -> None:
    customer_id, _ = _customer_and_contact(crm)
    ticket = open_ticket(customer_id=customer_id, subject="Login fails", now=START, by="desk")
    turn = AgentTurn(
        group="support", agent="李娜", last_assigned_at=START, last_ticket_id=ticket.id
    )
    with crm.session(actor="desk") as s:
        s.tickets.add(ticket)
        stored = s.agent_turns.add(turn)
        s.agent_turns.add(AgentTurn(group="complaints", agent="李娜", last_assigned_at=START))
    with pytest.raises(AlreadyExists), crm.session(actor="desk") as s:
        s.agent_turns.add(AgentTurn(group="support", agent="李娜", last_assigned_at=START))
    with crm.session(actor="desk") as s:
        assert s.agent_turns.list(key="support/李娜").items == [stored]
        assert s.agent_turns.count(agent="李娜") == 2
        assert s.agent_turns.count(group="support") == 1
        # Removing the ticket leaves the turn that names it.
        s.tickets.remove(ticket.id)
    with crm.session(actor="desk") as s:
        later = s.agent_turns.update(stored.evolve(last_assigned_at=START + MINUTE))
    with crm.session(actor="desk") as s:
        assert s.agent_turns.get(stored.id) == later
        assert later.last_ticket_id == ticket.id


HOURS = (("09:00", "12:00"), ("13:30", "18:00"))


def _shanghai_desk() -> CalendarDefinition:
    return CalendarDefinition(
        name="shanghai_desk",
        timezone="Asia/Shanghai",
        week={**dict.fromkeys(range(5), HOURS), 5: (("10:00", "16:00"),)},
        country="CN",
        holidays={date(2026, 3, 13), date(2026, 3, 20)},  # two company days off
        workdays={
            date(2026, 3, 8): None,  # a Sunday on the standard hours
            date(2026, 3, 22): (("10:00", "15:00"),),  # a Sunday on its own hours
        },
    )


def test_a_calendar_definition_reads_back_equal_and_builds(crm: CRM) -> None:
    definition = _shanghai_desk()
    plain = CalendarDefinition(name="always", timezone="UTC", week={0: (("00:00", "24:00"),)})
    with crm.session(actor="admin") as s:
        s.calendars.add(definition)
        s.calendars.add(plain)
    with crm.session(actor="admin") as s:
        (again,) = s.calendars.list(name="shanghai_desk").items
        bare = s.calendars.get(plain.id)
    assert again == attrs.evolve(definition, version=1, created_at=START, updated_at=START)
    assert bare == attrs.evolve(plain, version=1, created_at=START, updated_at=START)
    assert again.workdays == {date(2026, 3, 8): None, date(2026, 3, 22): (("10:00", "15:00"),)}
    assert again.week[5] == (("10:00", "16:00"),)

    calendar = again.build()

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)

    assert calendar.is_open(at(9, 10))  # a Monday
    assert not calendar.is_open(at(9, 12, 30))  # lunch
    assert not calendar.is_open(at(13, 10))  # the company's own day off
    assert calendar.is_open(at(14, 11))  # Saturday's hours
    assert not calendar.is_open(at(15, 11))  # Sunday
    assert calendar.is_open(at(8, 13, 45))  # a make-up Sunday on the standard hours
    assert calendar.is_open(at(22, 14))
    assert not calendar.is_open(at(22, 16))
    # China's own holidays still apply: Labour Day.
    assert not calendar.works_on(date(2026, 5, 1))
    # Friday 17:00 plus two working hours: one on Friday, one on Saturday from 10:00.
    assert calendar.add(at(6, 17), timedelta(hours=2)) == at(7, 11)
    assert calendar.add(at(12, 17), timedelta(hours=2)) == at(14, 11)  # skips the 13th

    with pytest.raises(AlreadyExists), crm.session(actor="admin") as s:
        s.calendars.add(_shanghai_desk())


def test_ticket_status_visits_are_rows_and_go_with_their_ticket(sql: SqlBackend) -> None:
    crm = CRM(sql.store, clock=FixedClock(START))  # the run's shared store: not closed here
    customer_id, contact_id = _customer_and_contact(crm)
    worked = _worked(customer_id, contact_id)
    with crm.session(actor="desk") as s:
        s.tickets.add(worked)
    tables = sql.store.tables
    visits = tables.ticket_status_visits
    with sql.store.engine.connect() as conn:
        row = conn.execute(sa.select(tables.tickets)).mappings().one()
        rows = conn.execute(sa.select(visits).order_by(visits.c.seq)).mappings().all()
    assert (row["status"], bool(row["is_open"]), row["opened_at"]) == ("resolved", False, START)
    assert (row["satisfaction_score"], row["rated_at"]) == (4, START + 31 * 60 * MINUTE)
    assert [(r["seq"], r["stage"], r["customer_id"]) for r in rows] == [
        (n, visit.stage, customer_id) for n, visit in enumerate(worked.status_state.history, 1)
    ]
    with crm.session(actor="desk") as s:
        s.tickets.remove(worked.id)
    with sql.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(visits)).scalar_one() == 0
