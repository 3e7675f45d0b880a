"""Aggregations: the same grouped counts and sums from one query on every store, over what
the session's actor may see, with fields and filters checked like any other query."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import CRM, Actor, Customer, Money, OneOf, Order, Range, Role, ValidationError
from pycrm.analytics import Aggregation, Count, CountDistinct, Max, Min, Sum

NOW = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
REGIONS = ["north", "south", None]
STATUSES = ["paid", "fulfilled", "cancelled"]


def add_book(crm: CRM, orders: list[tuple[int, int, str, str, str]]) -> list[Customer]:
    """Three customers (by region) and ``orders`` as (customer, days ago, status, amount,
    currency)."""
    with crm.session() as s:
        customers = [
            s.customers.add(Customer.company(f"C{i}", region=region, owner=f"rep{i}"))
            for i, region in enumerate(REGIONS)
        ]
        for n, (who, days, status, amount, currency) in enumerate(orders):
            s.orders.add(
                Order(
                    number=f"o{n}",
                    customer_id=customers[who].id,
                    placed_at=NOW - timedelta(days=days),
                    total=Money(Decimal(amount), currency),
                    status=status,
                )
            )
    return customers


BOOK = [
    (0, 1, "paid", "10.50", "CNY"),
    (0, 2, "paid", "5.25", "CNY"),
    (0, 40, "cancelled", "99", "CNY"),
    (1, 3, "fulfilled", "100", "USD"),
    (1, 3, "paid", "1", "CNY"),
    (2, 70, "paid", "7", "CNY"),
]


def test_grouped_counts_and_sums_agree_on_every_store(crm: CRM) -> None:
    add_book(crm, BOOK)
    aggregation = Aggregation(
        entity="order",
        group_by=("customer.region", "total_currency"),
        measures=(Count(), Sum("total_amount"), CountDistinct("status"), Max("placed_at")),
        filters={"status": OneOf("paid", "fulfilled")},
    )
    assert aggregation.columns == (
        "customer.region",
        "total_currency",
        "count",
        "sum_total_amount",
        "distinct_status",
        "max_placed_at",
    )
    with crm.session() as s:
        rows = s.aggregate(aggregation)
    assert rows == [
        (None, "CNY", 1, Decimal("7"), 1, NOW - timedelta(days=70)),
        ("north", "CNY", 2, Decimal("15.75"), 1, NOW - timedelta(days=1)),
        ("south", "CNY", 1, Decimal("1"), 1, NOW - timedelta(days=3)),
        ("south", "USD", 1, Decimal("100"), 1, NOW - timedelta(days=3)),
    ]


def test_without_groups_one_row_even_over_nothing(crm: CRM) -> None:
    add_book(crm, BOOK)
    month = Range(NOW - timedelta(days=30), NOW)
    with crm.session() as s:
        assert s.aggregate(
            Aggregation(
                entity="order",
                measures=[Count(), Min("placed_at")],
                filters={"placed_at": month},
            )
        ) == [(4, NOW - timedelta(days=3))]
        assert s.aggregate(
            Aggregation(
                entity="order", measures=[Count(), Sum("total_amount")], filters={"number": "none"}
            )
        ) == [(0, None)]


def test_customer_filters_and_the_customers_own_fields(crm: CRM) -> None:
    add_book(crm, BOOK)
    with crm.session() as s:
        rows = s.aggregate(
            Aggregation(
                entity="order",
                group_by="status",
                measures=[Count()],
                filters={"customer.region": "north"},
            )
        )
        assert rows == [("cancelled", 1), ("paid", 2)]
        assert s.aggregate(
            Aggregation(entity="customer", group_by="customer.region", measures=[Count()])
        ) == [(None, 1), ("north", 1), ("south", 1)]


def test_an_actor_aggregates_only_what_they_may_see(crm: CRM) -> None:
    add_book(crm, BOOK)
    with crm.session(actor=Actor("rep0", role=Role.REP)) as s:
        rows = s.aggregate(Aggregation(entity="order", measures=[Count(), Sum("total_amount")]))
    assert rows == [(3, Decimal("114.75"))]


def test_uncommitted_changes_count(crm: CRM) -> None:
    (north, *_) = add_book(crm, [])
    with crm.session() as s:
        s.orders.add(
            Order(number="x", customer_id=north.id, placed_at=NOW, total=Money(Decimal(2), "CNY"))
        )
        assert s.aggregate(Aggregation(entity="order", measures=[Count()])) == [(1,)]


@pytest.mark.parametrize(
    ("aggregation", "field"),
    [
        (Aggregation(entity="order", group_by="lines", measures=[Count()]), "lines"),
        (Aggregation(entity="order", measures=[Sum("status")]), "status"),
        (Aggregation(entity="customer", group_by="phone", measures=[Count()]), "phone"),
        (
            Aggregation(entity="segment", group_by="customer.region", measures=[Count()]),
            "customer.region",
        ),
        (
            Aggregation(entity="order", measures=[Count()], filters={"placed_at": "soon"}),
            "placed_at",
        ),
        (Aggregation(entity="order", measures=[Count()], filters={"customer.nope": 1}), "nope"),
        (Aggregation(entity="widget", measures=[Count()]), "entity"),
    ],
)
def test_bad_fields_and_filters_name_the_field(aggregation: Aggregation, field: str) -> None:
    crm = CRM.memory(identity_key="k" * 32)
    with crm.session() as s, pytest.raises(ValidationError) as caught:
        s.aggregate(aggregation)
    assert caught.value.field == field


def test_an_aggregation_is_checked_when_made() -> None:
    with pytest.raises(ValidationError, match="at least one measure"):
        Aggregation(entity="order", measures=[])
    with pytest.raises(ValidationError, match="two measures are labelled 'count'"):
        Aggregation(entity="order", measures=[Count(), Count()])
    with pytest.raises(ValidationError) as caught:
        Aggregation(entity="order", measures=["count"])
    assert caught.value.field == "measures"


orders_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 90),
        st.sampled_from(STATUSES),
        st.decimals(min_value=0, max_value=10_000, places=2).map(str),
        st.sampled_from(["CNY", "USD"]),
    ),
    max_size=15,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=orders_strategy, window=st.integers(1, 100))
def test_aggregation_equals_a_plain_python_grouping(
    store_factory: Any, orders: list[tuple[int, int, str, str, str]], window: int
) -> None:
    crm = CRM(store_factory(), identity_key="k" * 32)
    try:
        add_book(crm, orders)
        expected: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, None])
        for who, days, status, amount, currency in orders:
            if days < window:
                group = expected[(REGIONS[who], status, currency)]
                group[0] += 1
                group[1] = Decimal(amount) + (group[1] or 0)
        with crm.session() as s:
            rows = s.aggregate(
                Aggregation(
                    entity="order",
                    group_by=("customer.region", "status", "total_currency"),
                    measures=[Count(), Sum("total_amount")],
                    filters={
                        "placed_at": Range(
                            start=NOW - timedelta(days=window) + timedelta(seconds=1)
                        )
                    },
                )
            )
        assert {row[:3]: list(row[3:]) for row in rows} == dict(expected)
        assert [row[:3] for row in rows] == sorted(
            (row[:3] for row in rows), key=lambda k: tuple((v is not None, v) for v in k)
        )
    finally:
        crm.close()
