"""A session's waiting events: delivered in order and in full however many there are, with
the overflow kept in a temporary file rather than in memory."""

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
    spill_at=st.integers(1, 50),
)
def test_every_event_comes_back_in_order(sizes: list[int], spill_at: int) -> None:
    raised = [event(n, ids) for n, ids in enumerate(sizes)]
    pending = PendingEvents(spill_at)
    for one in raised:
        pending.append(one)
    assert bool(pending) == bool(raised)
    assert pending.spilled == (sum(1 + ids for ids in sizes) >= spill_at)
    assert list(pending) == raised
    assert list(pending) == raised  # reading does not use them up
    pending.clear()
    assert not pending
    assert not pending.spilled
    assert list(pending) == []


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    @hookimpl
    def pycrm_event(self, event: DomainEvent, crm: CRM) -> None:
        self.events.append(event)


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pycrm.pending_events, "SPILL_AT", 7)


def run_session(crm: CRM, customers: list[Customer]) -> tuple[list[DomainEvent], bool]:
    """Add the first half one by one, the rest in bulk, then rename each; return what the
    session said was pending and whether it had to use the file."""
    half = len(customers) // 2
    with crm.session(actor="sync") as s:
        stored = [s.customers.add(c) for c in customers[:half]]
        s.customers.add_many(customers[half:], batch_size=3)
        for customer in stored:
            s.customers.update(customer.evolve(name=f"{customer.name} (renamed)"))
        pending = list(s.pending_events)
        spilled = s._events.spilled
    return pending, spilled


@given(customers=st.lists(pst.customers(), min_size=4, max_size=20, unique_by=lambda c: c.id))
def test_plugins_hear_every_event_of_a_long_session_in_order(
    customers: list[Customer],
) -> None:
    customers = [attrs.evolve(c, member_id=None) for c in customers]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pycrm.pending_events, "SPILL_AT", 7)
        recorder = Recorder()
        with CRM.memory(plugins=[recorder]) as crm:
            pending, spilled = run_session(crm, customers)
    assert spilled
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
            assert buffer.spilled
            raise RuntimeError("abandon the import")
        assert not buffer.spilled
        assert recorder.events == []
        with crm.session() as s:
            assert s.customers.count() == 0


def test_events_pickle_cannot_write_stay_in_memory(small_bound: None) -> None:
    class Unpicklable:  # defined in a function: pickle cannot find it by name
        pass

    recorder = Recorder()
    odd = Unpicklable()
    with CRM.memory(plugins=[recorder]) as crm, crm.session(actor="sync") as s:
        customer = s.customers.add(Customer.company("Acme"))
        for _ in range(10):
            s._events.append(attrs.evolve(event(0, 0), changes={"odd": (None, odd)}))
        assert not s._events.spilled
        waiting: list[Any] = list(s.pending_events)
    assert recorder.events == waiting
    assert recorder.events[0].entity_id == customer.id
    assert recorder.events[-1].changes["odd"][1] is odd


def test_a_delivered_session_deletes_its_file(small_bound: None) -> None:
    files: list[Any] = []
    real = pycrm.pending_events.tempfile.TemporaryFile

    def tracked(*args: Any, **kwargs: Any) -> Any:
        opened = real(*args, **kwargs)
        files.append(opened)
        return opened

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pycrm.pending_events.tempfile, "TemporaryFile", tracked)
        with CRM.memory(plugins=[Recorder()]) as crm, crm.session(actor="sync") as s:
            s.customers.add_many([Customer.company(f"C{i}") for i in range(20)])
    assert len(files) == 1
    assert files[0].closed


def test_a_buffer_never_delivered_deletes_its_file_when_collected() -> None:
    """A joined session whose host rolls back never delivers; its file must still go."""
    pending = PendingEvents(3)
    for number in range(5):
        pending.append(event(number, 0))
    assert pending.spilled
    file = pending._file
    assert file is not None
    del pending
    gc.collect()
    assert file.closed
