"""Repeat complaints: chains of one customer's complaints in one category, within a window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import RepeatComplaint, ValidationError, repeat_complaints
from pycrm.service.lifecycle import open_ticket
from pycrm.service.repeats import repeats_earlier
from pycrm.service.ticket import Ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
WINDOW = timedelta(days=30)


def complaint(
    days: float, category: str | None = "delivery", customer: str = "cus_1", **fields: Any
) -> Ticket:
    fields.setdefault("type", "complaint")
    return open_ticket(
        customer_id=customer,
        subject="Late again",
        category=category,
        now=NOW + days * DAY,
        by="desk",
        **fields,
    )


def test_a_chain_links_each_complaint_to_the_one_before() -> None:
    # Every gap is 20 days, so one chain although the ends lie 60 days apart.
    tickets = [complaint(d) for d in (0, 20, 40, 60)]
    (found,) = repeat_complaints(tickets, WINDOW)
    assert found == RepeatComplaint(
        customer_id="cus_1",
        category="delivery",
        ticket_ids=tuple(t.id for t in tickets),
        first_opened_at=NOW,
        last_opened_at=NOW + 60 * DAY,
    )


def test_a_gap_wider_than_the_window_starts_a_new_chain() -> None:
    tickets = [complaint(d) for d in (0, 10, 50, 55, 100)]
    found = repeat_complaints(tickets, WINDOW)
    assert [r.ticket_ids for r in found] == [
        (tickets[0].id, tickets[1].id),
        (tickets[2].id, tickets[3].id),
    ]


def test_the_window_edge_is_inclusive() -> None:
    first = complaint(0)
    on_edge = open_ticket(
        customer_id="cus_1",
        subject="Late again",
        type="complaint",
        category="delivery",
        now=NOW + WINDOW,
        by="desk",
    )
    just_past = open_ticket(
        customer_id="cus_1",
        subject="Late again",
        type="complaint",
        category="delivery",
        now=NOW + WINDOW + timedelta(microseconds=1),
        by="desk",
    )
    assert len(repeat_complaints([first, on_edge], WINDOW)) == 1
    assert repeat_complaints([first, just_past], WINDOW) == []
    assert repeats_earlier(on_edge, [first], WINDOW)
    assert not repeats_earlier(just_past, [first], WINDOW)


def test_categories_compare_without_case_and_keep_the_first_spelling() -> None:
    tickets = [complaint(0, "Delivery"), complaint(3, "DELIVERY"), complaint(5, "delivery")]
    (found,) = repeat_complaints(tickets, WINDOW)
    assert found.category == "Delivery"
    assert len(found.ticket_ids) == 3


def test_only_complaints_with_a_category_of_the_same_customer_repeat() -> None:
    tickets = [
        complaint(0, None),
        complaint(1, None),
        complaint(2, "billing"),
        complaint(3, "delivery"),
        complaint(4, "billing", customer="cus_2"),
        complaint(5, "billing", type="inquiry"),
        complaint(6, "billing", type="fault"),
    ]
    assert repeat_complaints(tickets, WINDOW) == []
    assert not repeats_earlier(tickets[1], tickets, WINDOW)


def test_results_are_ordered_by_customer_then_first_opening() -> None:
    tickets = [
        complaint(40, "billing", customer="cus_a"),
        complaint(41, "billing", customer="cus_a"),
        complaint(0, "delivery", customer="cus_b"),
        complaint(1, "delivery", customer="cus_b"),
        complaint(10, "delivery", customer="cus_a"),
        complaint(11, "delivery", customer="cus_a"),
    ]
    found = repeat_complaints(tickets, WINDOW)
    assert [(r.customer_id, r.category) for r in found] == [
        ("cus_a", "delivery"),
        ("cus_a", "billing"),
        ("cus_b", "delivery"),
    ]


@pytest.mark.parametrize("window", [timedelta(0), -DAY, 30, None])
def test_the_window_is_a_positive_timedelta(window: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        repeat_complaints([complaint(0)], window)
    assert caught.value.field == "window"
    with pytest.raises(ValidationError) as caught:
        repeats_earlier(complaint(0), [], window)
    assert caught.value.field == "window"


def test_anything_but_tickets_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        repeat_complaints(["tkt_1"], WINDOW)  # type: ignore[list-item]
    assert caught.value.field == "tickets"


# -- against a brute-force definition ---------------------------------------------------------


def brute_force_chains(tickets: list[Ticket], window: timedelta) -> set[frozenset[str]]:
    """Chains as connected components: two complaints of one customer and category are
    joined when opened within ``window`` of each other, whatever lies between."""
    keyed = [t for t in tickets if t.type == "complaint" and t.category is not None]
    parent = {t.id: t.id for t in keyed}

    def root(ticket_id: str) -> str:
        while parent[ticket_id] != ticket_id:
            ticket_id = parent[ticket_id]
        return ticket_id

    for a in keyed:
        for b in keyed:
            same = (a.customer_id, a.category.casefold()) == (  # type: ignore[union-attr]
                b.customer_id,
                b.category.casefold(),  # type: ignore[union-attr]
            )
            if same and abs(a.opened_at - b.opened_at) <= window:
                parent[root(a.id)] = root(b.id)
    components: dict[str, set[str]] = {}
    for t in keyed:
        components.setdefault(root(t.id), set()).add(t.id)
    return {frozenset(c) for c in components.values() if len(c) > 1}


TICKET_SPECS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=120),  # day opened
        st.sampled_from([None, "delivery", "Delivery", "billing"]),
        st.sampled_from(["cus_1", "cus_2"]),
        st.sampled_from(["complaint", "complaint", "inquiry"]),
    ),
    max_size=25,
)


def build(specs: list[tuple[int, str | None, str, str]]) -> list[Ticket]:
    return [complaint(day, category, who, type=kind) for day, category, who, kind in specs]


@given(specs=TICKET_SPECS, window_days=st.integers(min_value=1, max_value=40))
def test_chains_agree_with_the_brute_force_definition(
    specs: list[tuple[int, str | None, str, str]], window_days: int
) -> None:
    tickets = build(specs)
    window = window_days * DAY
    found = repeat_complaints(tickets, window)
    assert {frozenset(r.ticket_ids) for r in found} == brute_force_chains(tickets, window)
    by_id = {t.id: t for t in tickets}
    for r in found:
        opened = [(by_id[i].opened_at, i) for i in r.ticket_ids]
        assert opened == sorted(opened)
        assert (r.first_opened_at, r.last_opened_at) == (opened[0][0], opened[-1][0])
        assert {by_id[i].customer_id for i in r.ticket_ids} == {r.customer_id}
        assert r.category == by_id[r.ticket_ids[0]].category


@given(specs=TICKET_SPECS, window_days=st.integers(min_value=1, max_value=40))
def test_a_ticket_repeats_exactly_when_it_is_not_the_first_of_its_chain(
    specs: list[tuple[int, str | None, str, str]], window_days: int
) -> None:
    tickets = build(specs)
    window = window_days * DAY
    later = {i for r in repeat_complaints(tickets, window) for i in r.ticket_ids[1:]}
    assert {t.id for t in tickets if repeats_earlier(t, tickets, window)} == later


@given(specs=TICKET_SPECS, narrow=st.integers(1, 20), extra=st.integers(0, 20))
def test_a_wider_window_never_splits_a_chain(
    specs: list[tuple[int, str | None, str, str]], narrow: int, extra: int
) -> None:
    tickets = build(specs)
    wide = {frozenset(r.ticket_ids) for r in repeat_complaints(tickets, (narrow + extra) * DAY)}
    for chain in repeat_complaints(tickets, narrow * DAY):
        assert any(set(chain.ticket_ids) <= w for w in wide)
