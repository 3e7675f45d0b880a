"""The merge rules and the merge log as values: which values survive, what a log holds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import Customer, Money, ValidationError
from pycrm.merge import MergeLog, entity_from_data, entity_to_data, merge_customers

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


# -- the merge rules ---------------------------------------------------------------------------


def test_survivor_values_win_and_empty_ones_are_filled_in_order() -> None:
    survivor = Customer.person("Zhang Wei", phone="13812345678", tags=["vip"])
    first = Customer.person(
        "Wei Zhang", phone="13900000000", email="zw@example.com", birthday="1990-05-01"
    )
    second = Customer.person("Z. Wei", email="other@example.com", region="Shanghai")
    merged = merge_customers(survivor, [first, second])
    assert merged.name == "Zhang Wei"
    assert merged.phone == "13812345678"
    assert merged.email == "zw@example.com"  # the first duplicate with one
    assert merged.region == "Shanghai"
    assert merged.birthday == first.birthday
    assert merged.id == survivor.id
    assert merged.version == survivor.version


def test_tags_unite_custom_fields_merge_and_the_earliest_capture_wins() -> None:
    survivor = Customer.person(
        "A", tags=["vip"], custom_fields={"size": "L", "pet": "cat"}, captured_at=START
    )
    duplicate = Customer.person(
        "B", tags=["app"], custom_fields={"size": "M", "shoe": 42}, captured_at=START - DAY
    )
    merged = merge_customers(survivor, [duplicate])
    assert merged.tags == {"vip", "app"}
    assert merged.custom_fields == {"size": "L", "pet": "cat", "shoe": 42}
    assert merged.captured_at == START - DAY


def test_fields_of_the_other_kind_are_never_copied() -> None:
    company = Customer.company("ACME", industry="steel")
    person = Customer.person("Zhang Wei", birthday="1990-05-01", industry=None)
    assert merge_customers(company, [person]).birthday is None
    assert merge_customers(person, [company]).industry is None


def test_merge_rules_refuse_bad_input() -> None:
    survivor = Customer.person("A")
    with pytest.raises(ValidationError) as info:
        merge_customers(survivor, [survivor])
    assert info.value.field == "duplicates"
    with pytest.raises(ValidationError) as info:
        merge_customers("cus_1", [survivor])  # type: ignore[arg-type]
    assert info.value.field == "survivor"


optional_text = st.none() | st.sampled_from(["x", "y", "z"])
people = st.builds(
    Customer.person,
    name=st.sampled_from(["Li", "Wang"]),
    region=optional_text,
    source_channel=optional_text,
    owner=optional_text,
    tags=st.frozensets(st.sampled_from(["a", "b", "c"])),
    captured_at=st.none() | st.sampled_from([START, START - DAY, START + DAY]),
    custom_fields=st.dictionaries(st.sampled_from(["k", "l"]), st.integers(0, 3)),
)


@given(survivor=people, duplicates=st.lists(people, min_size=1, max_size=3))
def test_a_merge_keeps_everything_it_can(survivor: Customer, duplicates: list[Customer]) -> None:
    merged = merge_customers(survivor, duplicates)
    everyone = [survivor, *duplicates]
    for name in ("region", "source_channel", "owner"):
        own = getattr(survivor, name)
        given_values = [getattr(c, name) for c in everyone if getattr(c, name) is not None]
        assert getattr(merged, name) == (own if own is not None else next(iter(given_values), None))
    assert merged.tags == frozenset().union(*(c.tags for c in everyone))
    for key, value in survivor.custom_fields.items():
        assert merged.custom_fields[key] == value
    assert set(merged.custom_fields) == set().union(*(c.custom_fields for c in everyone))
    captured = [c.captured_at for c in everyone if c.captured_at is not None]
    assert merged.captured_at == (min(captured) if captured else None)


def test_snapshots_round_trip() -> None:
    customer = Customer.company(
        "ACME", yearly_revenue=Money("12.50", "CNY"), tags=["a"], custom_fields={"x": [1]}
    )
    assert entity_from_data(Customer, entity_to_data(customer)) == customer
    with pytest.raises(ValidationError) as info:
        entity_from_data(Customer, {**entity_to_data(customer), "colour": "red"})
    assert info.value.field == "colour"


def test_merge_log_is_validated() -> None:
    snapshot = entity_to_data(Customer.person("Zhang Wei", phone="13812345678"))
    base: dict[str, Any] = {
        "customer_id": "cus_1",
        "survivor_before": snapshot,
        "survivor_after": snapshot,
        "duplicates": [snapshot],
        "merged_at": START,
        "merged_by": "ops",
    }
    MergeLog(**base)
    for field, value in [
        ("duplicates", []),
        ("duplicates", "x"),
        ("survivor_before", {"name": "no id"}),
        ("moved", [42]),
        ("merged_by", ""),
    ]:
        with pytest.raises(ValidationError) as info:
            MergeLog(**{**base, field: value})
        assert info.value.field == field
    # Snapshots hold personal data: repr leaves them out.
    shown = repr(MergeLog(**base))
    assert "Zhang" not in shown
    assert "13812345678" not in shown
