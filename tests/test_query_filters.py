"""Range and OneOf filters and get_many: answered in the store's query, alike on every
backend, and checked like any other filter value."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pycrm import CRM, AlreadyExists, Customer, OneOf, Range, Task, TaskStatus, ValidationError
from pycrm.query import MAX_ONE_OF

BASE = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
HOURS = 24 * 30


def add_tasks(crm: CRM, offsets: list[int]) -> list[Task]:
    with crm.session() as s:
        return [
            s.tasks.add(
                Task(
                    subject=f"t{i}",
                    due_at=BASE + timedelta(hours=h),
                    status=TaskStatus.OPEN,
                    assignee=f"rep{i % 3}",
                    key=f"k{i}",
                )
            )
            for i, h in enumerate(offsets)
        ]


def test_a_range_is_half_open_on_every_store(crm: CRM) -> None:
    add_tasks(crm, [0, 10, 20, 30])
    ten, twenty = BASE + timedelta(hours=10), BASE + timedelta(hours=20)
    with crm.session() as s:
        assert s.tasks.count(due_at=Range(ten, twenty)) == 1
        assert s.tasks.count(due_at=Range(start=ten)) == 3
        assert s.tasks.count(due_at=Range(end=ten)) == 1
        assert s.tasks.count(due_at=Range(end=BASE)) == 0
        assert [t.subject for t in s.tasks.stream(due_at=Range(start=twenty))] == ["t2", "t3"]
        # Combined with equality filters, and with a range on the bookkeeping times.
        assert s.tasks.count(due_at=Range(start=ten), assignee="rep1") == 1
        assert s.tasks.count(created_at=Range(end=crm.clock.now() + timedelta(seconds=1))) == 4


def test_a_field_without_a_value_is_in_no_range(crm: CRM) -> None:
    with crm.session() as s:
        s.customers.add(Customer.person("No birthday"))
        s.customers.add(Customer.person("Born", birthday=date(1990, 5, 17)))
        assert s.customers.count(birthday=Range(end=date(2100, 1, 1))) == 1
        assert s.customers.count(birth_month_day=Range("05-01", "06-01")) == 1
        assert s.customers.count(birth_month_day="05-17") == 1
        assert s.customers.count(birth_month_day=None) == 1


def test_one_of_matches_any_value_and_of_nothing_nothing(crm: CRM) -> None:
    tasks = add_tasks(crm, [0, 1, 2, 3])
    with crm.session() as s:
        assert s.tasks.count(key=OneOf("k1", "k3", "missing")) == 2
        assert s.tasks.count(assignee=OneOf(["rep0", "rep2"])) == 3
        assert s.tasks.count(status=OneOf(TaskStatus.OPEN, "done")) == 4
        assert s.tasks.count(key=OneOf()) == 0
        assert s.tasks.count(id=OneOf(t.id for t in tasks[:2])) == 2


def test_get_many_reads_by_id_and_leaves_out_what_is_not_there(crm: CRM) -> None:
    tasks = add_tasks(crm, [0, 1, 2])
    with crm.session() as s:
        found = s.tasks.get_many([tasks[0].id, tasks[2].id, "tsk_missing", tasks[0].id])
        assert found == {tasks[0].id: tasks[0], tasks[2].id: tasks[2]}
        assert s.tasks.get_many([]) == {}


def test_phone_and_email_one_of_compare_by_identity_hash(crm: CRM) -> None:
    with crm.session() as s:
        s.customers.add(Customer.person("A", phone="13812345678"))
        s.customers.add(Customer.person("B", email="b@example.com"))
        assert s.customers.count(phone=OneOf("138 1234 5678", "13900000000")) == 1
        assert s.customers.count(email=OneOf("B@Example.com")) == 1


def test_task_keys_are_unique(crm: CRM) -> None:
    add_tasks(crm, [0])
    with pytest.raises(AlreadyExists), crm.session() as s:
        s.tasks.add(Task(subject="again", due_at=BASE, key="k0"))
    with crm.session() as s:
        assert s.tasks.count(key="k0") == 1


@pytest.mark.parametrize(
    ("filters", "field", "problem"),
    [
        ({"assignee": Range("a", "b")}, "assignee", "range"),
        ({"due_at": Range(start="tomorrow")}, "due_at", None),
        ({"due_at": Range(end=datetime(2026, 1, 1))}, "due_at", None),
        ({"subject": OneOf("a")}, "subject", "cannot filter"),
        ({"status": OneOf("open", "maybe")}, "status", None),
        ({"key": OneOf("ok", "x\x00y")}, "key", None),
        ({"id": "tsk_1"}, "id", "cannot filter"),
    ],
)
def test_bad_filter_values_name_the_field(
    filters: dict[str, object], field: str, problem: str | None
) -> None:
    crm = CRM.memory(identity_key="k" * 32)
    with crm.session() as s, pytest.raises(ValidationError, match=problem) as caught:
        s.tasks.count(**filters)
    assert caught.value.field == field


def test_bad_ranges_and_lists_are_refused_when_made() -> None:
    with pytest.raises(ValidationError, match="needs a start, an end or both"):
        Range()
    with pytest.raises(ValidationError, match=f"at most {MAX_ONE_OF}"):
        OneOf(range(MAX_ONE_OF + 1))
    crm = CRM.memory(identity_key="k" * 32)
    with crm.session() as s, pytest.raises(ValidationError, match="MM-DD") as caught:
        s.customers.count(birth_month_day="13-01")
    assert caught.value.field == "birth_month_day"


OFFSETS = [0, 1, 5, 24, 25, 100, 300, 301, 500, HOURS]


@pytest.fixture
def seeded(crm: CRM) -> CRM:
    add_tasks(crm, OFFSETS)
    return crm


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.none() | st.integers(-10, HOURS + 10),
    end=st.none() | st.integers(-10, HOURS + 10),
)
def test_a_range_query_agrees_with_range_contains(
    seeded: CRM, start: int | None, end: int | None
) -> None:
    assume(start is not None or end is not None)
    bounds = [None if h is None else BASE + timedelta(hours=h) for h in (start, end)]
    wanted = Range(*bounds)
    expected = sorted(
        f"t{i}" for i, h in enumerate(OFFSETS) if wanted.contains(BASE + timedelta(hours=h))
    )
    with seeded.session() as s:
        found = sorted(t.subject for t in s.tasks.stream(due_at=wanted))
    assert found == expected
