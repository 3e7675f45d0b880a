"""The service desk in a session, on every backend: operations persist with their audit trail,
history and repeat complaints read the store, surveys come due, refusals write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pycrm import (
    CRM,
    ChangeKind,
    ConcurrencyConflict,
    Contact,
    Customer,
    DomainEvent,
    FixedClock,
    IllegalTransition,
    NotFound,
    PycrmError,
    TicketStatus,
    ValidationError,
    hookimpl,
)
from pycrm.service.ticket import Ticket
from pycrm.storage import Store

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def customer(crm: CRM, name: str = "Acme") -> Customer:
    with crm.session(actor="setup") as s:
        return s.customers.add(Customer.company(name))


def opened(crm: CRM, who: Customer | str, subject: str = "Parcel lost", **fields: Any) -> Ticket:
    with crm.session(actor="desk") as s:
        return s.service.open(who, subject, **fields)


def stored(crm: CRM, ticket: Ticket | str) -> Ticket:
    with crm.session() as s:
        return s.tickets.get(ticket if isinstance(ticket, str) else ticket.id)


def state(crm: CRM) -> tuple[list[Ticket], list[int]]:
    """Every stored ticket and the length of each one's audit trail."""
    with crm.session() as s:
        tickets = list(s.tickets.stream())
        return tickets, [len(s.audit.for_entity(t)) for t in tickets]


def with_refusal(crm: CRM, operation: Callable[[Any], object], error: type[PycrmError]) -> str:
    """Run a refused ``operation`` in a session that then commits; the store must be as it
    was. Returns the error's field (or its type name)."""
    before = state(crm)
    with crm.session(actor="agent") as s, pytest.raises(error) as caught:
        operation(s)
    assert state(crm) == before
    return getattr(caught.value, "field", type(caught.value).__name__)


# -- the lifecycle, persisted ----------------------------------------------------------------


def test_a_ticket_walks_its_lifecycle_and_every_step_is_stored_and_audited(
    crm: CRM, clock: FixedClock
) -> None:
    acme = customer(crm)
    with crm.session(actor="setup") as s:
        li = s.contacts.add(Contact(customer_id=acme.id, name="Li Na"))
    ticket = opened(
        crm, acme, type="complaint", priority="urgent", category="delivery", contact_id=li.id
    )
    steps: list[tuple[str, Callable[[Any], Ticket]]] = [
        ("lead", lambda s: s.service.assign(ticket.id, "wang.wei", group="complaints")),
        ("wang.wei", lambda s: s.service.move(ticket.id, "in_progress")),
        ("wang.wei", lambda s: s.service.respond(ticket.id)),
        ("wang.wei", lambda s: s.service.move(ticket.id, TicketStatus.WAITING_ON_CUSTOMER)),
        ("wang.wei", lambda s: s.service.move(ticket.id, "in_progress")),
        ("wang.wei", lambda s: s.service.resolve(ticket.id, "Parcel resent")),
        ("customer", lambda s: s.service.rate(ticket.id, 4, "Fast, thank you")),
        ("wang.wei", lambda s: s.service.close(ticket.id)),
    ]
    times = []
    for actor, step in steps:
        clock.advance(HOUR)
        times.append(clock.now())
        with crm.session(actor=actor) as s:
            returned = step(s)
        assert returned == stored(crm, ticket)

    final = stored(crm, ticket)
    assert final.status is TicketStatus.CLOSED
    assert (final.customer_id, final.contact_id) == (acme.id, li.id)
    assert (final.assignee, final.group, final.assigned_at) == ("wang.wei", "complaints", times[0])
    assert (final.first_response_at, final.first_response_by) == (times[2], "wang.wei")
    assert (final.resolved_at, final.solution, final.survey_requested_at) == (
        times[5],
        "Parcel resent",
        times[5],
    )
    assert final.satisfaction is not None
    assert (final.satisfaction.score, final.satisfaction.comment) == (4, "Fast, thank you")
    assert [v.stage for v in final.status_state.history] == [
        "new",
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "in_progress",
        "resolved",
        "closed",
    ]
    assert final.version == 1 + len(steps)

    with crm.session() as s:
        trail = s.audit.for_entity(final)
    assert [e.action for e in trail] == [ChangeKind.CREATED] + [ChangeKind.CHANGED] * len(steps)
    assert [e.actor for e in trail] == ["desk", *(actor for actor, _ in steps)]
    assert {e.customer_id for e in trail} == {acme.id}
    assert trail[6].changes is not None
    assert "survey_requested_at" in trail[6].changes


def test_tickets_and_customers_are_taken_as_entities_or_ids(crm: CRM, clock: FixedClock) -> None:
    acme = customer(crm)
    by_entity = opened(crm, acme)
    by_id = opened(crm, acme.id, assignee="li.na")
    assert by_id.status is TicketStatus.ASSIGNED
    clock.advance(HOUR)
    with crm.session(actor="li.na") as s:
        s.service.resolve(by_entity, "Found it")
        s.service.assign(by_id.id, "wang.wei")
    assert stored(crm, by_entity).status is TicketStatus.RESOLVED
    assert stored(crm, by_id).assignee == "wang.wei"


def test_reopen_takes_a_resolved_ticket_back_into_work_with_a_reason(
    crm: CRM, clock: FixedClock
) -> None:
    ticket = opened(crm, customer(crm))
    assert with_refusal(
        crm, lambda s: s.service.reopen(ticket.id, "Still broken"), ValidationError
    ) == ("ticket")
    clock.advance(HOUR)
    with crm.session(actor="li.na") as s:
        s.service.resolve(ticket.id, "Restarted the router")
    assert with_refusal(crm, lambda s: s.service.reopen(ticket.id, " "), ValidationError) == (
        "reason"
    )
    clock.advance(HOUR)
    with crm.session(actor="li.na") as s:
        reopened = s.service.reopen(ticket.id, "Dropped again overnight")
    assert reopened.status is TicketStatus.IN_PROGRESS
    assert reopened.resolved_at is None
    assert reopened.status_state.current.reason == "Dropped again overnight"
    assert stored(crm, ticket) == reopened


def test_closed_tickets_stay_closed(crm: CRM, clock: FixedClock) -> None:
    ticket = opened(crm, customer(crm))
    with crm.session() as s:
        s.service.resolve(ticket.id, "Answered")
        s.service.close(ticket.id)
    clock.advance(HOUR)
    assert with_refusal(
        crm, lambda s: s.service.move(ticket.id, "in_progress", "Again"), IllegalTransition
    )
    assert (
        with_refusal(crm, lambda s: s.service.assign(ticket.id, "li.na"), ValidationError)
        == "ticket"
    )


def test_link_saves_both_tickets(crm: CRM) -> None:
    acme = customer(crm)
    first, second = opened(crm, acme), opened(crm, acme)
    with crm.session() as s:
        one, other = s.service.link(first, second.id)
    assert stored(crm, first).linked_ticket_ids == {second.id}
    assert stored(crm, second).linked_ticket_ids == {first.id}
    assert (one, other) == (stored(crm, first), stored(crm, second))


def test_a_stale_ticket_is_a_conflict_and_writes_nothing(crm: CRM, clock: FixedClock) -> None:
    acme = customer(crm)
    ticket, other = opened(crm, acme), opened(crm, acme)
    with crm.session() as s:
        s.service.assign(ticket, "li.na")
    clock.advance(HOUR)
    with_refusal(crm, lambda s: s.service.assign(ticket, "wang.wei"), ConcurrencyConflict)
    # Linking checks both before saving either: the fresh one is not linked alone.
    with_refusal(crm, lambda s: s.service.link(other, ticket), ConcurrencyConflict)
    assert stored(crm, other).linked_ticket_ids == frozenset()


@pytest.mark.parametrize(
    ("operation", "field"),
    [
        (lambda s, t, c: s.service.open("cus_missing", "Hello"), "customer"),
        (lambda s, t, c: s.service.open(c, " "), "subject"),
        (lambda s, t, c: s.service.open(c, "Hi", priority="soon"), "priority"),
        (lambda s, t, c: s.service.open(c, "Hi", contact_id="con_missing"), "contact_id"),
        (lambda s, t, c: s.service.open(c, "Hi", status_state=None), "status_state"),
        (lambda s, t, c: s.service.rate(t, 5), "ticket"),  # not resolved yet
        (lambda s, t, c: s.service.move(t, "assigned"), "to"),  # nobody to assign to
        (lambda s, t, c: s.service.move(t, "lost"), "to"),
        (lambda s, t, c: s.service.resolve(t, ""), "solution"),
        (lambda s, t, c: s.service.link(t, t.id), "second"),
        (lambda s, t, c: s.service.respond(42), "ticket"),
        (lambda s, t, c: s.service.history(42), "customer"),
        (lambda s, t, c: s.service.history("cus_missing"), "customer"),
        (lambda s, t, c: s.service.repeat_complaints(c, window=timedelta(0)), "window"),
        (lambda s, t, c: s.service.is_repeat(t, window=-DAY), "window"),
        (lambda s, t, c: s.service.surveys_due(batch_size=0), "batch_size"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    crm: CRM, operation: Callable[[Any, Ticket, Customer], object], field: str
) -> None:
    acme = customer(crm)
    ticket = opened(crm, acme)
    assert with_refusal(crm, lambda s: operation(s, ticket, acme), ValidationError) == field


def test_a_contact_of_another_customer_is_refused(crm: CRM) -> None:
    acme, globex = customer(crm), customer(crm, "Globex")
    with crm.session() as s:
        theirs = s.contacts.add(Contact(customer_id=globex.id, name="Hank"))
    field = with_refusal(
        crm, lambda s: s.service.open(acme, "Hi", contact_id=theirs.id), ValidationError
    )
    assert field == "contact_id"


def test_an_unknown_ticket_id_is_not_found(crm: CRM) -> None:
    customer(crm)
    with_refusal(crm, lambda s: s.service.respond("tkt_missing"), NotFound)


# -- surveys ----------------------------------------------------------------------------------


def test_surveys_due_are_the_unanswered_requests_read_page_by_page(
    crm: CRM, clock: FixedClock
) -> None:
    acme = customer(crm)
    tickets = [opened(crm, acme, subject=f"Question {n}") for n in range(6)]
    unrated, rated, closed, rerated, still_open, reresolved = tickets
    clock.advance(HOUR)
    with crm.session(actor="li.na") as s:
        for t in (unrated, rated, closed, rerated, reresolved):
            s.service.resolve(t.id, "Answered")
        s.service.close(closed.id)
        s.service.respond(still_open.id)
    clock.advance(HOUR)
    with crm.session(actor="customer") as s:
        s.service.rate(rated.id, 5)
        s.service.rate(rerated.id, 2)
        s.service.rate(reresolved.id, 1)
    clock.advance(HOUR)
    with crm.session(actor="li.na") as s:
        # A rating given before the latest resolution does not answer its new survey...
        s.service.reopen(reresolved.id, "Not solved")
        s.service.resolve(reresolved.id, "Solved now")
        # ...a rating given after it does.
        s.service.reopen(rerated.id, "Not solved")
        s.service.resolve(rerated.id, "Solved now")
    clock.advance(HOUR)
    with crm.session(actor="customer") as s:
        s.service.rate(rerated.id, 4)

    expected = {unrated.id, closed.id, reresolved.id}
    with crm.session() as s:
        for batch_size in (1, 2, 500):
            due = list(s.service.surveys_due(batch_size=batch_size))
            assert {t.id for t in due} == expected
            assert [t.id for t in due] == sorted(expected)


def test_a_resolution_announces_the_survey_to_plugins_after_commit(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    seen: list[DomainEvent] = []

    class Surveys:
        @hookimpl
        def pycrm_event(self, event: DomainEvent) -> None:
            if event.name == "ticket.changed" and "survey_requested_at" in (event.changes or {}):
                seen.append(event)

    crm = CRM(store_factory(), clock=clock, plugins=[Surveys()])
    try:
        ticket = opened(crm, customer(crm))
        with crm.session(actor="li.na") as s:
            s.service.resolve(ticket.id, "Answered")
            assert seen == []  # not before the resolution is durable
        assert [e.entity_id for e in seen] == [ticket.id]
        with pytest.raises(RuntimeError), crm.session(actor="li.na") as s:
            s.service.rate(ticket.id, 3)
            raise RuntimeError("host failed")
        assert stored(crm, ticket).satisfaction is None  # rolled back
    finally:
        crm.close()


# -- history and repeats ----------------------------------------------------------------------


def test_history_reads_the_customers_tickets_and_their_ratings(crm: CRM, clock: FixedClock) -> None:
    acme, globex = customer(crm), customer(crm, "Globex")
    plan: list[tuple[str, str | None, int | None]] = [
        ("complaint", "delivery", 2),
        ("inquiry", None, 5),
        ("complaint", "Delivery", None),  # resolved, not rated
        ("fault", "router", 3),
        ("complaint", "DELIVERY", None),  # left open
        ("inquiry", None, None),  # left open
    ]
    made = []
    for kind, category, _score in plan:
        clock.advance(DAY)
        made.append(opened(crm, acme, type=kind, category=category))
    opened(crm, globex, type="complaint", category="delivery")  # not Acme's
    clock.advance(HOUR)
    with crm.session() as s:
        for ticket in made[:4]:  # the last two stay open
            s.service.resolve(ticket, "Done")
    for ticket, (_kind, _category, score) in zip(made, plan, strict=True):
        if score is not None:
            clock.advance(HOUR)
            with crm.session(actor="customer") as s:
                s.service.rate(ticket.id, score, f"scored {score}")

    with crm.session() as s:
        history = s.service.history(acme)
        same = s.service.history(acme.id)
    assert history == same
    assert history.customer_id == acme.id
    assert [t.id for t in history.tickets] == [t.id for t in reversed(made)]
    assert history.open_count == 2
    assert dict(history.by_type) == {"complaint": 3, "inquiry": 2, "fault": 1}
    assert history.satisfaction_count == 3
    assert history.satisfaction_average == pytest.approx((2 + 5 + 3) / 3)
    assert history.last_rating is not None
    assert (history.last_rating.score, history.last_rating.comment) == (3, "scored 3")
    (repeat,) = history.repeat_complaints
    assert repeat.ticket_ids == (made[0].id, made[2].id, made[4].id)
    assert repeat.category == "delivery"

    # A replaced rating is replaced in the history too: one source of truth.
    clock.advance(HOUR)
    with crm.session(actor="customer") as s:
        s.service.rate(made[0].id, 5)
        after = s.service.history(acme)
    assert after.satisfaction_average == pytest.approx((5 + 5 + 3) / 3)
    assert after.last_rating is not None
    assert after.last_rating.score == 5


def test_history_of_a_customer_without_tickets_is_empty(crm: CRM) -> None:
    acme = customer(crm)
    with crm.session() as s:
        history = s.service.history(acme)
    assert history.tickets == ()
    assert (history.open_count, history.satisfaction_count) == (0, 0)
    assert (history.satisfaction_average, history.last_rating) == (None, None)
    assert dict(history.by_type) == {}
    assert history.repeat_complaints == ()


def test_repeat_complaints_are_found_per_customer_or_for_everyone(
    crm: CRM, clock: FixedClock
) -> None:
    acme, globex = customer(crm), customer(crm, "Globex")
    start = clock.now()

    def complaint_at(who: Customer, days: int, category: str | None = "billing") -> Ticket:
        clock.set(start + days * DAY)
        return opened(crm, who, type="complaint", category=category)

    a1 = complaint_at(acme, 0)
    a2 = complaint_at(acme, 10, "Billing")
    a3 = complaint_at(acme, 45)  # 35 days after a2: a new chain of one
    a4 = complaint_at(acme, 50, None)
    g1 = complaint_at(globex, 1)
    g2 = complaint_at(globex, 31)  # exactly 30 days: still a repeat
    clock.set(start + 31 * DAY)
    inquiry = opened(crm, acme, type="inquiry", category="billing")

    with crm.session() as s:
        everyone = s.service.repeat_complaints()
        acmes = s.service.repeat_complaints(acme)
        narrow = s.service.repeat_complaints(window=timedelta(days=20))
        repeats = {t.id: s.service.is_repeat(t.id) for t in (a1, a2, a3, a4, g1, g2, inquiry)}
        wide = s.service.is_repeat(a3, window=timedelta(days=40))
    assert sorted(r.ticket_ids for r in everyone) == sorted([(a1.id, a2.id), (g1.id, g2.id)])
    assert [r.ticket_ids for r in acmes] == [(a1.id, a2.id)]
    assert acmes[0].first_opened_at == start
    assert acmes[0].last_opened_at == start + 10 * DAY
    assert [r.ticket_ids for r in narrow] == [(a1.id, a2.id)]
    assert repeats == {
        a1.id: False,
        a2.id: True,
        a3.id: False,
        a4.id: False,
        g1.id: False,
        g2.id: True,
        inquiry.id: False,
    }
    assert wide is True


def test_uncommitted_tickets_count_in_the_same_session(crm: CRM) -> None:
    acme = customer(crm)
    with crm.session() as s:
        first = s.service.open(acme, "Late", type="complaint", category="delivery")
        second = s.service.open(acme, "Late again", type="complaint", category="delivery")
        assert s.service.is_repeat(second)
        assert not s.service.is_repeat(first)
        assert s.service.history(acme).open_count == 2
