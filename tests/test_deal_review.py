"""Reviewing won deals: what worked, what nearly failed, and tags for the customer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    ConcurrencyConflict,
    Customer,
    DealReview,
    DealReviewed,
    FixedClock,
    Money,
    Opportunity,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
    review_deal,
)

SALES = default_pipeline()
START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)
WON_PATH = ("needs_confirmed", "proposal", "negotiation", "contract_signed")


def opened(customer_id: str = "cus_1") -> Opportunity:
    deal, _ = open_opportunity(
        customer_id=customer_id,
        title="MES rollout",
        amount=Money(1000, "CNY"),
        owner="alice",
        now=START,
        by="alice",
    )
    return deal


def won(deal: Opportunity) -> Opportunity:
    for stage in WON_PATH:
        for key in SALES.stage(deal.stage).required_deliverables:
            deal, _ = deliver(deal, key, now=START)
        deal, _ = advance_opportunity(deal, stage, now=START, by="alice", machine=SALES)
    return deal


def test_a_won_deal_keeps_its_review_and_raises_an_event() -> None:
    deal = won(opened())
    reviewed, events = review_deal(
        deal,
        success_factors=["fast demo", " referral "],
        failure_factors=["late quote"],
        tags_to_add={"reference-customer"},
        now=START + DAY,
        by="carol",
    )
    review = DealReview(
        success_factors=("fast demo", "referral"),
        failure_factors=("late quote",),
        reviewed_at=START + DAY,
        reviewed_by="carol",
    )
    assert reviewed.review == review
    assert events == [
        DealReviewed(
            opportunity_id=deal.id,
            customer_id="cus_1",
            review=review,
            tags_to_add=frozenset({"reference-customer"}),
        )
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"success_factors": []}, "success_factors"),
        ({"failure_factors": ["  "]}, "failure_factors"),
        ({"failure_factors": 3}, "failure_factors"),
        ({"tags_to_add": [""]}, "tags_to_add"),
        ({"by": ""}, "reviewed_by"),
        ({"now": datetime(2026, 3, 3)}, "reviewed_at"),
    ],
)
def test_bad_reviews_name_the_field_and_change_nothing(
    change: dict[str, object], field: str
) -> None:
    deal = won(opened())
    arguments: dict[str, object] = {
        "success_factors": ["demo"],
        "failure_factors": ["price"],
        "now": START,
        "by": "carol",
    }
    arguments.update(change)
    with pytest.raises(ValidationError) as info:
        review_deal(deal, **arguments)  # type: ignore[arg-type]
    assert info.value.field == field
    assert deal.review is None


def test_only_won_deals_are_reviewed() -> None:
    for deal in (
        opened(),
        advance_opportunity(opened(), "lost", now=START, by="a", machine=SALES, reason="x")[0],
    ):
        with pytest.raises(ValidationError) as info:
            review_deal(deal, success_factors=["a"], failure_factors=["b"], now=START, by="c")
        assert info.value.field == "opportunity"


# Any text a database can hold: UTF-8 encodable (no lone surrogate) and without NUL.
FACTOR_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30
).filter(str.strip)


@given(
    st.lists(FACTOR_TEXT, min_size=1, max_size=5),
    st.lists(FACTOR_TEXT, min_size=1, max_size=5),
)
def test_the_review_round_trips_through_its_stored_form(
    success: list[str], failure: list[str]
) -> None:
    review = DealReview(
        success_factors=success, failure_factors=failure, reviewed_at=START, reviewed_by="c"
    )
    assert review.success_factors == tuple(s.strip() for s in success)
    assert DealReview.from_json(review.to_json()) == review


def _customer(crm: CRM) -> Customer:
    with crm.session(actor="alice") as s:
        return s.customers.add(Customer.company("Acme Tools", tags={"manufacturing"}))


def test_the_session_stores_the_review_and_tags_the_customer(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session(actor="alice") as s:
        deal = s.opportunities.add(won(opened(customer.id)))
    clock.advance(days=1)
    with crm.session(actor="carol") as s:
        reviewed = s.review_deal(
            s.opportunities.get(deal.id),
            success_factors=["fast demo"],
            failure_factors=["late quote"],
            tags_to_add=["reference-customer"],
        )
    with crm.session() as s:
        assert s.opportunities.get(deal.id) == reviewed
        tagged = s.customers.get(customer.id)
    assert reviewed.review is not None
    assert reviewed.review.reviewed_by == "carol"
    assert reviewed.review.reviewed_at == clock.now()
    assert tagged.tags == {"manufacturing", "reference-customer"}
    assert tagged.version == 2


def test_a_refused_or_conflicting_review_saves_nothing(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session(actor="alice") as s:
        open_deal = s.opportunities.add(opened(customer.id))
        deal = s.opportunities.add(won(opened(customer.id)))
    with pytest.raises(ValidationError), crm.session(actor="carol") as s:
        s.review_deal(open_deal, success_factors=["a"], failure_factors=["b"], tags_to_add=["x"])
    with crm.session(actor="bob") as s:
        s.customers.update(s.customers.get(customer.id).evolve(name="Acme Tools Ltd"))
    with pytest.raises(ConcurrencyConflict), crm.session(actor="carol") as s:
        s.review_deal(deal, success_factors=["a"], failure_factors=["b"], tags_to_add=["x"])
        # A stale copy of the customer (read before bob's change) conflicts; the review and
        # its tag, written earlier in the same session, are rolled back with it.
        s.customers.update(customer.evolve(tags={"y"}))
    with crm.session() as s:
        assert s.opportunities.get(deal.id).review is None
        assert s.opportunities.get(open_deal.id).review is None
        assert s.customers.get(customer.id).tags == {"manufacturing"}
