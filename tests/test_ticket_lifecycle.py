"""The ticket lifecycle as pure functions: every rule, and random walks that keep the invariants."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pycrm import IllegalTransition, PycrmError, ValidationError
from pycrm.service.lifecycle import (
    assign_ticket,
    link_tickets,
    move_ticket,
    open_ticket,
    rate_ticket,
    resolve_ticket,
    respond,
)
from pycrm.service.status import TicketStatus
from pycrm.service.ticket import CLOSED_STATUSES, Ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
S = TicketStatus


def new(**fields: Any) -> Ticket:
    return open_ticket(customer_id="cus_1", subject="Parcel lost", now=NOW, by="desk", **fields)


def at(minutes: int) -> datetime:
    return NOW + minutes * MINUTE


def in_progress() -> Ticket:
    ticket = assign_ticket(new(), "li.na", now=at(1), by="lead")
    return move_ticket(ticket, S.IN_PROGRESS, now=at(2), by="li.na")


# -- opening and assigning ------------------------------------------------------------------


def test_a_new_ticket_is_new_with_its_opening_as_first_visit() -> None:
    ticket = new(type="complaint", priority="urgent", category="delivery")
    assert ticket.status is S.NEW
    assert ticket.opened_at == NOW
    assert ticket.status_state.history[0].entered_by == "desk"
    assert (ticket.assignee, ticket.first_response_at, ticket.resolved_at) == (None, None, None)
    assert ticket.is_open
    assert not ticket.is_paused


def test_opening_with_an_assignee_assigns_at_once() -> None:
    ticket = new(assignee="li.na", group="complaints")
    assert ticket.status is S.ASSIGNED
    assert (ticket.assignee, ticket.assigned_at, ticket.group) == ("li.na", NOW, "complaints")
    assert [v.stage for v in ticket.status_state.history] == ["new", "assigned"]


@pytest.mark.parametrize(
    "field",
    [
        "status_state",
        "first_response_at",
        "resolved_at",
        "satisfaction",
        "survey_requested_at",
        "linked_ticket_ids",
        "solution",
    ],
)
def test_the_lifecycles_fields_are_refused_when_opening(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        new(**{field: None})
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": " "}, "subject"),
        ({"priority": "soon"}, "priority"),
        ({"type": "Not A Key!"}, "type"),
        ({"channel": "pigeon"}, "channel"),
        ({"customer_id": ""}, "customer_id"),
    ],
)
def test_bad_input_names_the_field(fields: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"customer_id": "cus_1", "subject": "Parcel lost", **fields}
    with pytest.raises(ValidationError) as caught:
        open_ticket(now=NOW, by="desk", **arguments)
    assert caught.value.field == field


def test_reassigning_keeps_the_status_and_moves_the_assignment_time() -> None:
    ticket = in_progress()
    again = assign_ticket(ticket, "wang.wei", now=at(5), by="lead", group="tier 2")
    assert again.status is S.IN_PROGRESS
    assert (again.assignee, again.assigned_at, again.group) == ("wang.wei", at(5), "tier 2")
    assert again.status_state == ticket.status_state


def test_resolved_and_closed_tickets_are_not_reassigned() -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(3), by="li.na")
    closed = move_ticket(resolved, S.CLOSED, now=at(4), by="li.na")
    for ticket in (resolved, closed):
        with pytest.raises(ValidationError) as caught:
            assign_ticket(ticket, "wang.wei", now=at(5), by="lead")
        assert caught.value.field == "ticket"


def test_moving_to_assigned_needs_an_assignee() -> None:
    with pytest.raises(ValidationError) as caught:
        move_ticket(new(), S.ASSIGNED, now=at(1), by="lead")
    assert caught.value.field == "to"


# -- first response -------------------------------------------------------------------------


def test_an_explicit_response_is_the_first_response_and_only_the_first_counts() -> None:
    ticket = respond(in_progress(), now=at(3), by="li.na")
    assert (ticket.first_response_at, ticket.first_response_by) == (at(3), "li.na")
    assert respond(ticket, now=at(9), by="wang.wei") is ticket


def test_waiting_on_the_customer_counts_as_the_first_response() -> None:
    ticket = move_ticket(in_progress(), S.WAITING_ON_CUSTOMER, now=at(4), by="li.na")
    assert (ticket.first_response_at, ticket.first_response_by) == (at(4), "li.na")
    assert ticket.is_paused
    back = move_ticket(ticket, S.IN_PROGRESS, now=at(6), by="li.na")
    resolved = resolve_ticket(back, solution="Resent", now=at(8), by="wang.wei")
    assert resolved.first_response_at == at(4)


def test_resolving_at_once_is_the_first_response() -> None:
    ticket = resolve_ticket(new(), solution="Answered on the phone", now=at(2), by="li.na")
    assert ticket.first_response_at == at(2)
    assert ticket.first_response_by == "li.na"


def test_assigning_and_working_are_not_a_response() -> None:
    assert in_progress().first_response_at is None


def test_a_response_before_the_last_status_change_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        respond(in_progress(), now=at(1), by="li.na")
    assert caught.value.field == "now"


def test_a_response_needs_an_aware_time() -> None:
    with pytest.raises(ValidationError) as caught:
        respond(in_progress(), now=datetime(2026, 3, 2, 10, 0), by="li.na")
    assert caught.value.field == "now"


# -- resolution, reopening, closing ----------------------------------------------------------


def test_resolution_sets_resolved_at_solution_and_asks_for_a_survey() -> None:
    ticket = resolve_ticket(in_progress(), solution="Resent the parcel", now=at(5), by="li.na")
    assert ticket.status is S.RESOLVED
    assert (ticket.resolved_at, ticket.survey_requested_at) == (at(5), at(5))
    assert ticket.solution == "Resent the parcel"
    assert not ticket.is_open


def test_reopening_clears_resolved_at_and_each_resolution_asks_again() -> None:
    first = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    rated = rate_ticket(first, 2, now=at(6))
    reopened = move_ticket(rated, S.IN_PROGRESS, now=at(7), by="li.na", reason="Never arrived")
    assert reopened.resolved_at is None
    assert reopened.status_state.current.reason == "Never arrived"
    again = resolve_ticket(reopened, solution="Refunded", now=at(9), by="li.na")
    assert (again.resolved_at, again.survey_requested_at) == (at(9), at(9))
    assert again.solution == "Refunded"


def test_reopening_needs_a_reason() -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    with pytest.raises(ValidationError) as caught:
        move_ticket(resolved, S.IN_PROGRESS, now=at(6), by="li.na")
    assert caught.value.field == "reason"


def test_closing_keeps_the_resolution_and_closed_is_terminal() -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    closed = move_ticket(resolved, S.CLOSED, now=at(6), by="li.na")
    assert (closed.status, closed.resolved_at) == (S.CLOSED, at(5))
    for target in S:
        with pytest.raises(IllegalTransition):
            move_ticket(closed, target, now=at(7), by="li.na", reason="again")


def test_a_solution_is_only_given_on_resolution_and_is_required_there() -> None:
    with pytest.raises(ValidationError) as caught:
        move_ticket(in_progress(), S.WAITING_ON_CUSTOMER, now=at(3), by="x", solution="No")
    assert caught.value.field == "solution"
    with pytest.raises(ValidationError) as caught:
        resolve_ticket(in_progress(), solution=" ", now=at(3), by="li.na")
    assert caught.value.field == "solution"


def test_moves_cannot_go_back_in_time() -> None:
    with pytest.raises(ValidationError) as caught:
        move_ticket(in_progress(), S.RESOLVED, now=at(1), by="li.na")
    assert caught.value.field == "now"


def test_undeclared_moves_are_illegal() -> None:
    with pytest.raises(IllegalTransition):
        move_ticket(new(), S.IN_PROGRESS, now=at(1), by="li.na")
    with pytest.raises(ValidationError) as caught:
        move_ticket(new(), "lost", now=at(1), by="li.na")
    assert caught.value.field == "to"


# -- rating -----------------------------------------------------------------------------------


def test_rating_is_recorded_on_a_resolved_or_closed_ticket_and_a_later_one_replaces_it() -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    rated = rate_ticket(resolved, 4, now=at(6), comment="Quick")
    assert rated.satisfaction is not None
    assert (rated.satisfaction.score, rated.satisfaction.rated_at) == (4, at(6))
    assert rated.satisfaction.comment == "Quick"
    closed = move_ticket(rated, S.CLOSED, now=at(7), by="li.na")
    rerated = rate_ticket(closed, 5, now=at(8))
    assert rerated.satisfaction is not None
    assert rerated.satisfaction.score == 5


def test_open_tickets_are_not_rated() -> None:
    for ticket in (new(), in_progress()):
        with pytest.raises(ValidationError) as caught:
            rate_ticket(ticket, 5, now=at(9))
        assert caught.value.field == "ticket"


def test_a_rating_before_the_resolution_is_refused() -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    with pytest.raises(ValidationError) as caught:
        rate_ticket(resolved, 5, now=at(4))
    assert caught.value.field == "now"


@pytest.mark.parametrize("score", [0, 6, -1, True, 4.5, "5"])
def test_scores_are_whole_numbers_from_one_to_five(score: Any) -> None:
    resolved = resolve_ticket(in_progress(), solution="Resent", now=at(5), by="li.na")
    with pytest.raises(ValidationError) as caught:
        rate_ticket(resolved, score, now=at(6))
    assert caught.value.field == "score"


# -- links ------------------------------------------------------------------------------------


def test_links_go_both_ways_and_accumulate() -> None:
    a, b, c = new(), new(), new()
    a, b = link_tickets(a, b)
    a, c = link_tickets(a, c)
    assert a.linked_ticket_ids == {b.id, c.id}
    assert b.linked_ticket_ids == {a.id}
    assert c.linked_ticket_ids == {a.id}


def test_a_ticket_is_not_linked_to_itself() -> None:
    ticket = new()
    with pytest.raises(ValidationError) as caught:
        link_tickets(ticket, ticket)
    assert caught.value.field == "second"


def test_lifecycle_functions_check_they_got_a_ticket() -> None:
    with pytest.raises(ValidationError) as caught:
        respond("tkt_1", now=NOW, by="x")  # type: ignore[arg-type]
    assert caught.value.field == "ticket"


# -- random walks ----------------------------------------------------------------------------

AGENTS = st.sampled_from(["li.na", "wang.wei", "zhao.min"])
REASONS = st.none() | st.sampled_from(["Customer wrote again", "Fix did not hold"])


class TicketWalk(RuleBasedStateMachine):
    """Any sequence of operations, legal or not: the legal ones move the ticket, the illegal
    ones raise a pycrm error and change nothing, and the invariants hold throughout."""

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.ticket = new()
        self.resolutions: list[datetime] = []
        self.ever_closed = False

    def attempt(self, operation: Any) -> None:
        before = self.ticket
        try:
            after = operation(before)
        except PycrmError:
            return  # refused: the ticket is immutable, so it stays as it was
        if after.status is S.RESOLVED and after.status_state != before.status_state:
            self.resolutions.append(after.resolved_at)
        self.ever_closed = self.ever_closed or after.status is S.CLOSED
        self.ticket = after

    @rule(minutes=st.integers(min_value=0, max_value=600))
    def wait(self, minutes: int) -> None:
        self.now += minutes * MINUTE

    @rule(agent=AGENTS)
    def assign(self, agent: str) -> None:
        self.attempt(lambda t: assign_ticket(t, agent, now=self.now, by="lead"))

    @rule(agent=AGENTS)
    def answer(self, agent: str) -> None:
        self.attempt(lambda t: respond(t, now=self.now, by=agent))

    @rule(to=st.sampled_from(list(S)), reason=REASONS)
    def move(self, to: TicketStatus, reason: str | None) -> None:
        self.attempt(lambda t: move_ticket(t, to, now=self.now, by="agent", reason=reason))

    @rule()
    def resolve(self) -> None:
        self.attempt(lambda t: resolve_ticket(t, solution="Fixed", now=self.now, by="agent"))

    @rule(score=st.integers(min_value=0, max_value=6))
    def rate(self, score: int) -> None:
        self.attempt(lambda t: rate_ticket(t, score, now=self.now))

    @precondition(lambda self: self.ever_closed)
    @rule(to=st.sampled_from(list(S)))
    def closed_stays_closed(self, to: TicketStatus) -> None:
        assert self.ticket.status is S.CLOSED
        # Moving to ``assigned`` without an assignee is refused before the machine is asked.
        with pytest.raises(PycrmError):
            move_ticket(self.ticket, to, now=self.now, by="agent", reason="again")

    @invariant()
    def resolved_at_is_the_latest_resolution_while_resolved(self) -> None:
        ticket = self.ticket
        if ticket.status in CLOSED_STATUSES:
            assert ticket.resolved_at == self.resolutions[-1]
            assert ticket.survey_requested_at == self.resolutions[-1]
        else:
            assert ticket.resolved_at is None

    @invariant()
    def the_first_response_is_never_later_than_the_first_answering_move(self) -> None:
        ticket = self.ticket
        answering = [
            v.entered_at
            for v in ticket.status_state.history
            if v.stage in {"waiting_on_customer", "resolved", "closed"}
        ]
        if answering:
            assert ticket.first_response_at is not None
            assert ticket.first_response_at <= answering[0]
        if ticket.first_response_at is not None:
            assert ticket.opened_at <= ticket.first_response_at

    @invariant()
    def ratings_follow_a_resolution(self) -> None:
        rating = self.ticket.satisfaction
        if rating is not None:
            assert 1 <= rating.score <= 5
            assert self.resolutions
            assert self.resolutions[0] <= rating.rated_at

    @invariant()
    def an_assigned_ticket_has_an_assignee_and_history_is_in_order(self) -> None:
        ticket = self.ticket
        visits = ticket.status_state.history
        if any(v.stage == "assigned" for v in visits):
            assert ticket.assignee is not None
        assert all(a.entered_at <= b.entered_at for a, b in itertools.pairwise(visits))
        if self.ever_closed:
            assert ticket.status is S.CLOSED

    @invariant()
    def reopenings_carry_a_reason(self) -> None:
        visits = self.ticket.status_state.history
        for before, after in itertools.pairwise(visits):
            if before.stage == "resolved" and after.stage == "in_progress":
                assert after.reason is not None


TestTicketWalk = TicketWalk.TestCase
