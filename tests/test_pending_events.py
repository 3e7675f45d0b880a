"""A session's waiting events: delivered in order and in full however many there are, with
the ids of large bulk adds kept in a temporary file rather than in memory, and nothing else
written there."""

from __future__ import annotations

import gc
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pycrm.pending_events
from pycrm import CRM, ChangeKind, Customer, DomainEvent, hookimpl
from pycrm.pending_events import PendingEvents
from pycrm.testing import strategies as pst

AT = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def event(number: int, ids: int) -> DomainEvent:
    if ids:
        return DomainEvent(
            kind=ChangeKind.BULK_CREATED,
            entity_type="customer",
            entity_id=None,
            at=AT,
            actor="import",
            entity_ids=tuple(f"cus_{number}_{i}" for i in range(ids)),
        )
    return DomainEvent(
        kind=ChangeKind.CHANGED,
        entity_type="customer",
        entity_id=f"cus_{number}",
        at=AT,
        actor="sync",
        entity=Customer.company(f"Customer {number}"),
        changes={"name": ("old", f"Customer {number}")},
    )


@given(
    sizes=st.lists(st.integers(0, 30), max_size=40),
    hold_ids=st.integers(0, 50),
)
def test_every_event_comes_back_in_order(sizes: list[int], hold_ids: int) -> None:
    raised = [event(n, ids) for n, ids in enumerate(sizes)]
    pending = PendingEvents(hold_ids)
    for one in raised:
        pending.append(one)
    assert pending.offloaded == (sum(sizes) > hold_ids)
    assert list(pending) == raised
    assert list(pending) == raised  # reading does not use them up
    pending.clear()
    assert not pending.offloaded
    assert list(pending) == []


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    @hookimpl
    def pycrm_event(self, event: DomainEvent, crm: CRM) -> None:
        self.events.append(event)


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pycrm.pending_events, "HOLD_IDS", 7)


@pytest.fixture
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The temporary files the buffers open during the test."""
    opened: list[Any] = []
    real = pycrm.pending_events.tempfile.TemporaryFile

    def tracked(*args: Any, **kwargs: Any) -> Any:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(pycrm.pending_events.tempfile, "TemporaryFile", tracked)
    return opened


def run_session(crm: CRM, customers: list[Customer]) -> tuple[list[DomainEvent], bool]:
    """Add the first half one by one, the rest in bulk, then rename each; return what the
    session said was pending and whether it used the file."""
    half = len(customers) // 2
    with crm.session(actor="sync") as s:
        stored = [s.customers.add(c) for c in customers[:half]]
        s.customers.add_many(customers[half:], batch_size=3)
        for customer in stored:
            s.customers.update(customer.evolve(name=f"{customer.name} (renamed)"))
        pending = list(s.pending_events)
        offloaded = s._events.offloaded
    return pending, offloaded


@given(customers=st.lists(pst.customers(), min_size=4, max_size=20, unique_by=lambda c: c.id))
def test_plugins_hear_every_event_of_a_long_session_in_order(
    customers: list[Customer],
) -> None:
    customers = [attrs.evolve(c, member_id=None) for c in customers]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pycrm.pending_events, "HOLD_IDS", 1)
        recorder = Recorder()
        with CRM.memory(plugins=[recorder]) as crm:
            pending, offloaded = run_session(crm, customers)
    assert offloaded
    assert recorder.events == pending
    half = len(customers) // 2
    assert [e.name for e in recorder.events] == (
        ["customer.created"] * half + ["customer.bulk_created"] + ["customer.changed"] * half
    )
    assert recorder.events[half].entity_ids == tuple(c.id for c in customers[half:])


def test_a_rolled_back_session_delivers_nothing_and_leaves_no_file(small_bound: None) -> None:
    recorder = Recorder()
    with CRM.memory(plugins=[recorder]) as crm:
        with pytest.raises(RuntimeError), crm.session(actor="sync") as s:
            s.customers.add_many([Customer.company(f"C{i}") for i in range(20)])
            buffer = s._events
            assert buffer.offloaded
            raise RuntimeError("abandon the import")
        assert not buffer.offloaded
        assert recorder.events == []
        with crm.session() as s:
            assert s.customers.count() == 0


def test_only_ids_reach_the_file(small_bound: None, opened_files: list[Any]) -> None:
    """Records (and the personal data in them) never leave memory; bulk ids may."""
    people = [Customer.person(f"Wang Fang {i}", phone="13812345678") for i in range(20)]
    with CRM.memory() as crm, crm.session(actor="sync") as s:
        for person in people[:10]:
            s.customers.add(person)
        s.customers.add_many(people[10:])
        s.customers.add_many([Customer.company(f"C{i}") for i in range(20)])
        assert s._events.offloaded
        (file,) = opened_files
        file.seek(0)
        content = file.read()
    assert content
    for secret in (b"Wang Fang", b"13812345678", b"sync"):
        assert secret not in content
    assert people[15].id.encode() in content


def test_a_delivered_session_deletes_its_file(small_bound: None, opened_files: list[Any]) -> None:
    with CRM.memory(plugins=[Recorder()]) as crm, crm.session(actor="sync") as s:
        s.customers.add_many([Customer.company(f"C{i}") for i in range(20)])
    assert len(opened_files) == 1
    assert opened_files[0].closed


def test_a_buffer_never_delivered_deletes_its_file_when_collected() -> None:
    """A joined session whose host rolls back never delivers; its file must still go."""
    pending = PendingEvents(3)
    for number in range(3):
        pending.append(event(number, 2))
    assert pending.offloaded
    file = pending._file
    assert file is not None
    del pending
    gc.collect()
    assert file.closed
