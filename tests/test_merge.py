"""Merging duplicate customers and undoing it, on every backend; the merge rules as values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    ConcurrencyConflict,
    Contact,
    Customer,
    CustomerGrade,
    DomainEvent,
    FixedClock,
    Interaction,
    Money,
    NotFound,
    Order,
    OrderLine,
    Session,
    ValidationError,
    hookimpl,
    open_ticket,
)
from pycrm.merge import entity_to_data
from pycrm.storage import Store
from pycrm.storage.spec import SPECS

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


# -- merging in a session, on every backend ----------------------------------------------------


def everything(s: Session) -> dict[str, dict[str, dict[str, Any]]]:
    """Every stored record but the merge logs, without the fields a merge and its undoing
    move on (versions and update times)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for spec in SPECS:
        if spec.entity_type == "merge_log":
            continue
        repository = getattr(s, spec.repository)
        found[spec.entity_type] = {
            e.id: {k: v for k, v in entity_to_data(e).items() if k not in ("version", "updated_at")}
            for e in repository.stream()
        }
    return found


def populate(s: Session, customer: Customer, *, tag: str, scheme: str | None = None) -> None:
    """A contact, an interaction with it, an order with a line, a ticket and maybe a grade."""
    contact = s.contacts.add(Contact(customer_id=customer.id, name=f"Contact {tag}"))
    s.interactions.add(
        Interaction(
            customer_id=customer.id,
            contact_id=contact.id,
            channel="phone",
            occurred_at=START,
            summary=f"call {tag}",
        )
    )
    line = OrderLine(description="widget", quantity=2, unit_price=Money("5.00", "CNY"))
    s.orders.add(
        Order(
            number=f"SO-{tag}",
            customer_id=customer.id,
            placed_at=START,
            total=Money("10.00", "CNY"),
            lines=[line],
            status="paid",
        )
    )
    s.tickets.add(
        open_ticket(customer_id=customer.id, subject=f"issue {tag}", now=START, by="desk")
    )
    if scheme is not None:
        s.customer_grades.add(
            CustomerGrade(customer_id=customer.id, scheme=scheme, grade=tag, graded_at=START)
        )


@pytest.fixture
def three(crm: CRM) -> tuple[Customer, Customer, Customer]:
    with crm.session(actor="setup") as s:
        survivor = s.customers.add(Customer.person("Zhang Wei", phone="13812345678"))
        first = s.customers.add(
            Customer.person("Wei Zhang", email="zw@example.com", member_id="M-1", tags=["app"])
        )
        second = s.customers.add(Customer.person("Z. Wei", region="Shanghai"))
        populate(s, survivor, tag="s", scheme="abc")
        populate(s, first, tag="a", scheme="abc")
        populate(s, second, tag="b", scheme="value")
    return survivor, first, second


def test_merge_moves_every_record_and_keeps_the_richest_values(
    crm: CRM, three: tuple[Customer, Customer, Customer]
) -> None:
    survivor, first, second = three
    events: list[DomainEvent] = []
    crm.plugins.register(_Recorder(events))
    with crm.session(actor="ops") as s:
        log = s.customers.merge(survivor, [first.id, second])
    with crm.session(actor="check") as s:
        assert s.customers.get_or_none(first.id) is None
        assert s.customers.get_or_none(second.id) is None
        kept = s.customers.get(survivor.id)
        assert kept.phone == "13812345678"
        assert kept.email == "zw@example.com"
        assert kept.member_id == "M-1"
        assert kept.region == "Shanghai"
        # The identity hashes follow the merged values, so lookups by email find the survivor.
        assert first.email_hash is not None
        assert kept.email_hash == first.email_hash
        assert kept.tags == {"app"}
        for repository in (s.contacts, s.interactions, s.orders, s.tickets):
            assert repository.count(customer_id=survivor.id) == 3
        # One grade per scheme: the survivor's "abc" stays, the second's "value" moved.
        grades = {g.scheme: g for g in s.customer_grades.stream(customer_id=survivor.id)}
        assert {k: g.grade for k, g in grades.items()} == {"abc": "s", "value": "b"}
        stored = s.merge_logs.get(log.id)
        assert stored.customer_id == survivor.id
        assert stored.duplicate_ids == (first.id, second.id)
        assert stored.merged_by == "ops"
        assert stored.merged_at == START
        # The first duplicate's "abc" grade clashed with the survivor's: kept in the log.
        assert [(d["data"]["customer_id"], d["data"]["scheme"]) for d in stored.dropped] == [
            (first.id, "abc")
        ]
        moved = {(m.duplicate_id, m.entity_type): m.ids for m in stored.moved}
        assert len(moved[(first.id, "order")]) == 1
        assert (first.id, "customer_grade") not in moved
        assert len(moved[(second.id, "customer_grade")]) == 1
        entries = s.audit.for_entity(kept)
        merged = [e for e in entries if e.action.value == "merged"]
        assert len(merged) == 1
        assert merged[0].changes is not None
        assert merged[0].changes["duplicates"] == [None, [first.id, second.id]]
        assert merged[0].changes["moved"][1]["order"] == 2
        assert merged[0].actor == "ops"
    assert "customer.merged" in [e.name for e in events]


def test_moved_records_get_a_new_version(
    crm: CRM, three: tuple[Customer, Customer, Customer]
) -> None:
    survivor, first, _ = three
    with crm.session(actor="t") as s:
        order = s.orders.list(customer_id=first.id).items[0]
        s.customers.merge(survivor, [first])
    with crm.session(actor="t") as s:
        moved = s.orders.get(order.id)
        assert moved.version == order.version + 1
        assert moved.customer_id == survivor.id
        with pytest.raises(ConcurrencyConflict):
            s.orders.update(order.evolve(status="fulfilled"))


def test_a_failure_midway_leaves_the_store_untouched(
    crm: CRM, three: tuple[Customer, Customer, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    survivor, first, second = three
    with crm.session(actor="t") as s:
        before = everything(s)

    def broken(*args: Any) -> Customer:
        raise RuntimeError("disk full")

    # The values are merged after every record has moved and the duplicates are gone.
    monkeypatch.setattr("pycrm.merging.merge_customers", broken)
    with pytest.raises(RuntimeError), crm.session(actor="t") as s:
        s.customers.merge(survivor, [first, second])
    with crm.session(actor="t") as s:
        assert everything(s) == before
        assert s.merge_logs.count() == 0


def test_merge_refuses_bad_input(crm: CRM, three: tuple[Customer, Customer, Customer]) -> None:
    survivor, first, _ = three
    with crm.session(actor="t") as s:
        cases: list[tuple[Callable[[], Any], str]] = [
            (lambda: s.customers.merge(survivor, []), "duplicates"),
            (lambda: s.customers.merge(survivor, [survivor]), "duplicates"),
            (lambda: s.customers.merge(survivor, [first, first.id]), "duplicates"),
            (lambda: s.customers.merge(survivor, first), "duplicates"),  # type: ignore[arg-type]
            (lambda: s.customers.merge(42, [first]), "survivor"),  # type: ignore[arg-type]
        ]
        for call, field in cases:
            with pytest.raises(ValidationError) as info:
                call()
            assert info.value.field == field
        with pytest.raises(NotFound):
            s.customers.merge(survivor, ["cus_nobody"])
        with pytest.raises(ConcurrencyConflict):
            s.customers.merge(survivor, [first.evolve(version=7)])


# -- unmerge -----------------------------------------------------------------------------------


def test_unmerge_restores_what_moved_but_not_what_came_since(
    crm: CRM, three: tuple[Customer, Customer, Customer], clock: FixedClock
) -> None:
    survivor, first, second = three
    with crm.session(actor="t") as s:
        before = everything(s)
        log = s.customers.merge(survivor, [first, second])
    clock.advance(DAY)
    with crm.session(actor="t") as s:
        later = s.interactions.add(
            Interaction(customer_id=survivor.id, channel="email", occurred_at=START, summary="new")
        )
    with crm.session(actor="u") as s:
        undone = s.customers.unmerge(log)
        assert undone.is_undone
        assert undone.undone_by == "u"
    with crm.session(actor="t") as s:
        after = everything(s)
        assert s.interactions.get(later.id).customer_id == survivor.id
        del after["interaction"][later.id]
        assert after == before
        with pytest.raises(ValidationError, match="undone already") as info:
            s.customers.unmerge(log.id)
        assert info.value.field == "log"


def test_unmerge_keeps_later_changes_to_the_survivor(
    crm: CRM, three: tuple[Customer, Customer, Customer]
) -> None:
    survivor, first, _ = three
    with crm.session(actor="t") as s:
        log = s.customers.merge(survivor, [first])
        kept = s.customers.get(survivor.id)
        s.customers.update(kept.evolve(email="new@example.com"))
    with crm.session(actor="t") as s:
        s.customers.unmerge(log)
    with crm.session(actor="t") as s:
        restored = s.customers.get(survivor.id)
        assert restored.email == "new@example.com"  # changed since: the later change wins
        assert restored.member_id is None  # filled in by the merge: back as it was
        assert s.customers.get(first.id).member_id == "M-1"


def test_unmerge_is_refused_when_a_moved_record_is_gone(
    crm: CRM, three: tuple[Customer, Customer, Customer]
) -> None:
    survivor, first, _ = three
    with crm.session(actor="t") as s:
        log = s.customers.merge(survivor, [first])
        moved = next(m for m in log.moved if m.entity_type == "ticket")
        s.tickets.remove(moved.ids[0])
    with crm.session(actor="t") as s:
        with pytest.raises(ValidationError, match="removed since") as info:
            s.customers.unmerge(log)
        assert info.value.field == "log"
    with crm.session(actor="t") as s:
        assert s.customers.get_or_none(first.id) is None
        assert not s.merge_logs.get(log.id).is_undone


def test_unmerge_is_refused_when_a_moved_record_went_elsewhere(
    crm: CRM, three: tuple[Customer, Customer, Customer]
) -> None:
    survivor, first, second = three
    with crm.session(actor="t") as s:
        log = s.customers.merge(survivor, [first])
        moved = next(m for m in log.moved if m.entity_type == "interaction")
        interaction = s.interactions.get(moved.ids[0])
        s.interactions.update(interaction.evolve(customer_id=second.id, contact_id=None))
        before = everything(s)
    with pytest.raises(ValidationError, match="no longer belongs"), crm.session(actor="t") as s:
        s.customers.unmerge(log)
    with crm.session(actor="t") as s:
        assert everything(s) == before


def test_unmerge_refuses_bad_input(crm: CRM) -> None:
    with crm.session(actor="t") as s:
        with pytest.raises(ValidationError) as info:
            s.customers.unmerge(42)  # type: ignore[arg-type]
        assert info.value.field == "log"
        with pytest.raises(NotFound):
            s.customers.unmerge("mrg_nothing")


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 2), min_size=2, max_size=3),
    schemes=st.lists(st.sampled_from([None, "abc", "value"]), min_size=3, max_size=3),
)
def test_merge_then_unmerge_leaves_the_store_as_it_was(
    store_factory: Callable[[], Store], sizes: list[int], schemes: list[str | None]
) -> None:
    crm = CRM(store_factory(), clock=FixedClock(START))
    try:
        with crm.session(actor="setup") as s:
            customers = [
                s.customers.add(Customer.person(f"P{i}", region="r" if i == 1 else None))
                for i in range(len(sizes))
            ]
            for i, (customer, size) in enumerate(zip(customers, sizes, strict=True)):
                for n in range(size):
                    populate(s, customer, tag=f"{i}-{n}", scheme=schemes[i] if n == 0 else None)
            before = everything(s)
        with crm.session(actor="t") as s:
            log = s.customers.merge(customers[0], customers[1:])
        with crm.session(actor="t") as s:
            s.customers.unmerge(log)
        with crm.session(actor="t") as s:
            assert everything(s) == before
    finally:
        crm.close()


class _Recorder:
    def __init__(self, events: list[DomainEvent]) -> None:
        self.events = events

    @hookimpl
    def pycrm_event(self, event: DomainEvent) -> None:
        self.events.append(event)
