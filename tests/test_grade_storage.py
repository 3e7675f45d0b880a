"""Stored customer grades (one per customer and scheme) and saved segments, on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pycrm import CRM, AlreadyExists, Customer, CustomerGrade, Segment, ValidationError
from pycrm.grading.expr import Expr, F
from pycrm.storage.sqlalchemy.translators import (
    customer_grade_from_row,
    customer_grade_row,
    segment_from_row,
    segment_row,
)

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_id": ""}, "customer_id"),
        ({"scheme": "x" * 81}, "scheme"),
        ({"scheme": "tier/2"}, "scheme"),
        ({"grade": "x" * 41}, "grade"),
        ({"graded_at": None}, "graded_at"),
        ({"graded_at": "yesterday"}, "graded_at"),
        ({"next_follow_up_at": datetime(2026, 1, 1)}, "next_follow_up_at"),  # naive
    ],
)
def test_a_grade_is_validated_field_by_field(fields: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "customer_id": "cus_1",
        "scheme": "value_tier",
        "grade": "gold",
        "graded_at": START,
    }
    values.update(fields)
    with pytest.raises(ValidationError) as info:
        CustomerGrade(**values)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_grade_keys_its_scheme_and_customer_and_round_trips_its_row() -> None:
    grade = CustomerGrade(
        customer_id="cus_1",
        scheme=" value_tier ",
        graded_at=START,
        next_follow_up_at=START + timedelta(days=30),
    )
    assert grade.key == "value_tier/cus_1"
    assert grade.grade is None  # graded, and no grade of the scheme applies
    assert customer_grade_from_row(customer_grade_row(grade)) == grade


def _customers(crm: CRM, n: int) -> list[str]:
    with crm.session(actor="ops") as s:
        return [s.customers.add(Customer(kind="person", name=f"C{i}")).id for i in range(n)]


def test_grades_are_stored_filtered_and_regraded_in_place(crm: CRM) -> None:
    first, second = _customers(crm, 2)
    follow_up = START + timedelta(days=7)
    with crm.session(actor="grader") as s:
        gold = s.customer_grades.add(
            CustomerGrade(
                customer_id=first,
                scheme="value_tier",
                grade="gold",
                graded_at=START,
                next_follow_up_at=follow_up,
            )
        )
        s.customer_grades.add(
            CustomerGrade(customer_id=second, scheme="value_tier", grade="silver", graded_at=START)
        )
        s.customer_grades.add(CustomerGrade(customer_id=first, scheme="churn", graded_at=START))
        assert [e.name for e in s.pending_events] == ["customer_grade.created"] * 3
    with crm.session(actor="grader") as s:
        assert s.customer_grades.count(scheme="value_tier") == 2
        assert s.customer_grades.count(customer_id=first) == 2
        assert s.customer_grades.count(grade="gold") == 1
        assert s.customer_grades.count(scheme="churn", grade=None) == 1
        found = s.customer_grades.list(key=f"value_tier/{first}").items
        assert found == [gold]
        assert found[0].next_follow_up_at == follow_up
        s.customer_grades.update(gold.evolve(grade="platinum", graded_at=follow_up))
    with crm.session(actor="grader") as s:
        (again,) = s.customer_grades.list(key=f"value_tier/{first}").items
        assert (again.grade, again.version) == ("platinum", 2)
        with pytest.raises(ValidationError) as info:
            s.customer_grades.list(next_follow_up_at=START)
        assert info.value.field == "next_follow_up_at"


def test_one_grade_per_customer_and_scheme(crm: CRM) -> None:
    (customer_id,) = _customers(crm, 1)
    with crm.session(actor="grader") as s:
        s.customer_grades.add(
            CustomerGrade(customer_id=customer_id, scheme="value_tier", graded_at=START)
        )
    with pytest.raises(AlreadyExists), crm.session(actor="grader") as s:
        s.customer_grades.add(
            CustomerGrade(customer_id=customer_id, scheme="churn", graded_at=START)
        )
        s.customer_grades.add(
            CustomerGrade(customer_id=customer_id, scheme="value_tier", graded_at=START)
        )
    with crm.session(actor="grader") as s:
        assert s.customer_grades.count() == 1  # the failed session wrote nothing
        with pytest.raises(ValidationError) as info:
            s.customer_grades.add(
                CustomerGrade(customer_id="cus_missing", scheme="value_tier", graded_at=START)
            )
        assert info.value.field == "customer_id"


# -- saved segments ---------------------------------------------------------------------------


def _rule() -> Expr:
    return (
        (F.industry == "manufacturing")
        & (F.spend(days=365) > Decimal("1000000"))
        & ((F.days_since_interaction > 90) | F.days_since_interaction.is_null())
    )


def test_a_segment_takes_a_rule_or_its_data_and_nothing_else() -> None:
    rule = _rule()
    segment = Segment(name=" Big quiet factories ", rule=rule.to_data())
    assert segment.name == "Big quiet factories"
    assert segment.rule == rule
    assert segment_from_row(segment_row(segment)) == segment
    for bad in (None, "industry == 'x'", {"cmp": "=="}, {"field": "nope"}):
        with pytest.raises(ValidationError) as info:
            Segment(name="s", rule=bad)
        assert info.value.field.startswith("rule")
    with pytest.raises(ValidationError) as info:
        Segment(name="x" * 121, rule=rule)
    assert info.value.field == "name"
    with pytest.raises(ValidationError) as info:
        Segment(name="s", rule=rule, description="x" * 401)
    assert info.value.field == "description"


def test_segments_are_saved_by_unique_name_and_read_back_as_rules(crm: CRM) -> None:
    rule = _rule()
    with crm.session(actor="marketing") as s:
        saved = s.segments.add(Segment(name="big-quiet", rule=rule, description="win back"))
        s.segments.add(Segment(name="retail", rule=F.industry == "retail"))
        assert [e.name for e in s.pending_events] == ["segment.created"] * 2
    with crm.session(actor="marketing") as s:
        (found,) = s.segments.list(name="big-quiet").items
        assert found == saved
        assert found.rule == rule
        assert found.rule.to_data() == rule.to_data()
        s.segments.update(found.evolve(rule=F.industry == "mining"))
    with pytest.raises(AlreadyExists), crm.session(actor="marketing") as s:
        s.segments.add(Segment(name="retail", rule=F.industry == "retail"))
    with crm.session(actor="marketing") as s:
        assert s.segments.count() == 2
        assert s.segments.get(saved.id).rule == (F.industry == "mining")
