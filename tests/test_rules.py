"""Building, checking, saving and evaluating segment rules (``pycrm.F``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import Customer, Interaction, Money, Order, ValidationError
from pycrm.grading.evaluate import CustomerFacts, evaluate, explain, matches
from pycrm.grading.expr import And, F, as_expr

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def facts(*, orders: list[tuple[int, str]] = (), interactions: list[int] = ()) -> CustomerFacts:  # type: ignore[assignment]
    """Facts from (days ago, amount) purchases and days-ago interactions."""
    return CustomerFacts.from_records(
        orders=[
            Order(
                number=f"SO-{i}",
                customer_id="cus_x",
                placed_at=AS_OF - timedelta(days=days),
                total=Money(amount, "CNY"),
                status="paid",
            )
            for i, (days, amount) in enumerate(orders)
        ],
        interactions=[
            Interaction(
                customer_id="cus_x",
                channel="visit",
                occurred_at=AS_OF - timedelta(days=days),
                summary="visit",
            )
            for days in interactions
        ],
    )


ACME = Customer.company("Acme", industry="manufacturing", region="east", tags=["vip"])
NAMELESS = Customer.company("Nameless")


def test_the_issue_example_reads_as_written() -> None:
    rule = (
        (F.industry == "manufacturing")
        & (F.spend(days=365) > 1_000_000)
        & (F.days_since_interaction > 90)
    )
    assert isinstance(rule, And)
    assert len(rule.parts) == 3
    assert repr(rule) == (
        "((F.industry == 'manufacturing') & (F.spend(days=365) > 1000000) "
        "& (F.days_since_interaction > 90))"
    )
    big_and_quiet = facts(orders=[(10, "1000000.01")], interactions=[91])
    assert matches(rule, ACME, as_of=AS_OF, facts=big_and_quiet)
    assert not matches(rule, ACME, as_of=AS_OF, facts=facts(orders=[(10, "1000000")]))
    # Spend outside the window does not count; an interaction 90 days ago is not "> 90".
    assert not matches(rule, ACME, as_of=AS_OF, facts=facts(orders=[(365, "2000000")]))
    assert not matches(
        rule, ACME, as_of=AS_OF, facts=facts(orders=[(1, "2000000")], interactions=[90])
    )


def test_missing_values_are_unknown_as_in_sql() -> None:
    never_contacted = facts()
    quiet = F.days_since_interaction > 90
    assert evaluate(quiet, ACME, never_contacted, AS_OF) is None
    assert evaluate(~quiet, ACME, never_contacted, AS_OF) is None
    assert matches(quiet | F.days_since_interaction.is_null(), ACME, as_of=AS_OF)
    assert evaluate(F.industry != "retail", NAMELESS, never_contacted, AS_OF) is None
    # Unknown and false is false; unknown or true is true.
    assert evaluate(quiet & (F.industry == "retail"), ACME, never_contacted, AS_OF) is False
    assert evaluate(quiet | F.tags.has_tag("vip"), ACME, never_contacted, AS_OF) is True
    # Sums and counts are never missing: no purchases is a spend of 0.
    assert matches(F.spend == 0, ACME, as_of=AS_OF)
    assert matches(F.order_count(days=30) == 0, ACME, as_of=AS_OF)


def test_whole_days_are_floored_and_future_events_ignored() -> None:
    almost_two_days = CustomerFacts(
        interactions=(AS_OF - timedelta(days=2) + timedelta(seconds=1),)
    )
    assert matches(F.days_since_interaction == 1, ACME, as_of=AS_OF, facts=almost_two_days)
    tomorrow = CustomerFacts(interactions=(AS_OF + timedelta(days=1),))
    assert matches(F.last_interaction_at.is_null(), ACME, as_of=AS_OF, facts=tomorrow)
    assert matches(F.interaction_count == 0, ACME, as_of=AS_OF, facts=tomorrow)


def test_currency_parameter_keeps_one_currency() -> None:
    mixed = CustomerFacts.from_records(
        orders=[
            Order(
                number=f"SO-{c}",
                customer_id="cus_x",
                placed_at=AS_OF,
                total=Money("100", c),
                status="fulfilled",
            )
            for c in ("CNY", "USD")
        ]
    )
    assert matches(F.spend == 200, ACME, as_of=AS_OF, facts=mixed)
    assert matches(F.spend(currency="usd") == 100, ACME, as_of=AS_OF, facts=mixed)


def test_cancelled_and_refunded_orders_are_not_purchases() -> None:
    returned = CustomerFacts.from_records(
        orders=[
            Order(
                number=f"SO-{s}",
                customer_id="cus_x",
                placed_at=AS_OF,
                total=Money("100", "CNY"),
                status=s,
            )
            for s in ("cancelled", "refunded", "pending")
        ]
    )
    assert matches(F.order_count == 1, ACME, as_of=AS_OF, facts=returned)


@pytest.mark.parametrize(
    ("build", "field", "problem"),
    [
        (lambda: F.industri == "x", "F.industri", "not a customer field"),
        (lambda: F.industry < "m", "F.industry", "==, !=, in_ and is_null only"),
        (lambda: F.spend > 1.5, "F.spend >", "floats are inexact"),
        (lambda: F.spend > Decimal("0.00001"), "F.spend >", "more than 4 decimal places"),
        (lambda: F.industry == None, "F.industry ==", "use .is_null()"),  # noqa: E711
        (lambda: F.status == "asleep", "F.status ==", "is not one of"),
        (lambda: F.spend(weeks=2), "F.spend(weeks=)", "not a parameter"),
        (lambda: F.spend(days=0), "F.spend(days=)", "at least 1"),
        (lambda: F.last_order_at(days=3), "F.last_order_at", "takes no parameters"),
        (lambda: F.employees.between(10, 5), "F.employees.between", "is above"),
        (lambda: F.region.in_([]), "F.region.in_", "at least one value"),
        (lambda: F.region.in_("east"), "F.region.in_", "collection"),
        (lambda: F.spend.is_null(), "F.spend", "never empty"),
        (lambda: F.region.has_tag("x"), "F.region", "has no tags"),
        (
            lambda: F.founded_on > datetime(2020, 1, 1, tzinfo=timezone.utc),
            "F.founded_on >",
            "a date",
        ),
        (lambda: F.captured_at > datetime(2020, 1, 1), "F.captured_at >", "timezone"),
        (lambda: F.days_since_order > 1.5, "F.days_since_order >", "whole number"),
        (lambda: F.industry == F.region, "F.industry ==", "not with another field"),
        (lambda: (F.industry == "x") & "y", "& operand", "expected an expression"),
    ],
)
def test_bad_rules_fail_where_they_are_written(build: object, field: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field
    assert problem in str(caught.value)


def test_rules_have_no_truth_value() -> None:
    with pytest.raises(TypeError, match="combine with &"):
        bool(F.industry == "x")
    with pytest.raises(TypeError):
        _ = (F.industry == "x") and (F.region == "y")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cmp": "~", "term": {"field": "region"}, "value": "x"}, "rule.cmp"),
        ({"cmp": "==", "term": {"field": "nope"}, "value": "x"}, "rule.term"),
        ({"cmp": ">", "term": {"metric": "spend"}, "value": "abc"}, "rule.value"),
        ({"and": [{"always": True}]}, "rule.and"),
        ({"or": [{"always": True}, {"bad": 1}]}, "rule.or[1]"),
        ({"between": {"metric": "spend", "days": 0}, "low": "1", "high": "2"}, "F.spend(days=)"),
        ([], "rule"),
    ],
)
def test_rule_data_is_checked_when_read(data: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        as_expr(data)
    assert caught.value.field == field


def test_explanations_show_the_values_that_decided() -> None:
    rule = (F.industry == "manufacturing") & (F.spend(days=365) > 1000)
    explanation = explain(rule, ACME, as_of=AS_OF, facts=facts(orders=[(3, "1500.50")]))
    assert explanation.matched
    assert [e.values for e in explanation.matched_conditions()] == [
        {"F.industry": "manufacturing"},
        {"F.spend(days=365)": Decimal("1500.50")},
    ]
    assert "[yes] (F.spend(days=365) > 1000)  (F.spend(days=365) = 1500.50)" in str(explanation)
    missed = explain(rule, NAMELESS, as_of=AS_OF)
    assert missed.result is False
    assert missed.matched_conditions() == []
    assert "[unknown] (F.industry == 'manufacturing')  (F.industry = empty)" in str(missed)


values = st.one_of(
    st.sampled_from(["retail", "制造业"]).map(lambda v: F.industry == v),
    st.integers(-5, 400).map(lambda n: F.days_since_interaction <= n),
    st.decimals(0, 10**9, places=4).map(lambda d: F.spend(days=30, currency="CNY") >= d),
    st.dates(date(1990, 1, 1), date(2030, 1, 1)).map(lambda d: F.birthday < d),
    st.integers(0, 10).map(lambda n: F.employees.between(n, n + 5)),
    st.lists(st.sampled_from(["east", "west", "north"]), min_size=1).map(F.region.in_),
    st.just(F.tags.has_tag("vip")),
    st.just(F.last_order_at.is_null()),
    st.just(F.always()),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: F.captured_at > d),
)
rules = st.recursive(
    values,
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        inner.map(lambda a: ~a),
    ),
    max_leaves=6,
)


@given(rules)
def test_rules_survive_their_data_round_trip(rule: object) -> None:
    import json

    data = json.loads(json.dumps(rule.to_data()))  # type: ignore[attr-defined]
    assert as_expr(data) == rule
    assert repr(as_expr(data)) == repr(rule)
