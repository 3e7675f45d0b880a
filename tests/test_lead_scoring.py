"""Lead scoring: the naive-Bayes win model, checked by hand on tiny data and by properties."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pycrm import (
    Customer,
    Money,
    Opportunity,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
    set_manual_probability,
)
from pycrm.pipeline.scoring import (
    NONE,
    LeadFeatures,
    ScoredOpportunity,
    WinModel,
    WinScore,
    features_of,
    score_opportunity,
    train,
    train_from_history,
)

SALES = default_pipeline()
START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)

Example = tuple[Mapping[str, str], bool]

# Five closed deals: referrals won twice, ads lost three times; industry known on four.
TINY: list[Example] = [
    ({"channel": "referral", "industry": "retail"}, True),
    ({"channel": "referral", "industry": "mfg"}, True),
    ({"channel": "ads", "industry": "retail"}, False),
    ({"channel": "ads", "industry": "mfg"}, False),
    ({"channel": "ads"}, False),
]

MODEL = train(TINY, fields=["channel", "industry"], min_samples=1)


def p4(number: float | Fraction) -> Decimal:
    return Decimal(float(number)).quantize(Decimal("0.0001"))


# --- hand-computed ------------------------------------------------------------------------


def test_posterior_matches_a_hand_computation() -> None:
    model = train(TINY, fields=["channel", "industry"], alpha=1.0, min_samples=1)
    score = model.score({"channel": "referral", "industry": "retail"})
    # prior (2+1)/(5+2); channel has 2 values -> 3 slots; industry has retail, mfg, (none).
    prior_odds = Fraction(3, 4)  # (won + 1) / (lost + 1)
    channel = Fraction(3, 5) / Fraction(1, 6)  # (2+1)/(2+3) over (0+1)/(3+3)
    industry = Fraction(2, 6) / Fraction(2, 7)  # (1+1)/(2+4) over (1+1)/(3+4)
    odds = prior_odds * channel * industry
    assert score.prior == Decimal("0.4286")
    assert score.probability == p4(odds / (1 + odds)) == Decimal("0.7590")
    assert score.log_odds == p4(math.log(odds))
    assert [c.field for c in score.contributions] == ["channel", "industry"]
    assert score.contributions[0].log_ratio == p4(math.log(channel)) == Decimal("1.2809")
    assert score.contributions[1].log_ratio == p4(math.log(industry)) == Decimal("0.1542")


def test_contribution_signs_follow_the_evidence() -> None:
    model = train(TINY, fields=["channel"], min_samples=1)
    won_side = model.score({"channel": "referral"})
    lost_side = model.score({"channel": "ads"})
    assert won_side.contributions[0].log_ratio > 0
    assert lost_side.contributions[0].log_ratio < 0
    assert lost_side.probability < won_side.prior < won_side.probability


def test_contributions_are_ordered_by_absolute_size() -> None:
    model = train(TINY, fields=["industry", "channel"], min_samples=1)
    score = model.score({"channel": "ads", "industry": "retail"})
    sizes = [abs(c.log_ratio) for c in score.contributions]
    assert sizes == sorted(sizes, reverse=True)
    assert score.contributions[0].field == "channel"


def test_unseen_value_scores_near_neutral() -> None:
    examples: list[Example] = [({"c": "a"}, True), ({"c": "b"}, False)] * 10
    model = train(examples, fields=["c"], min_samples=1)
    score = model.score({"c": "never seen"})
    assert score.contributions[0].log_ratio == 0
    assert score.probability == score.prior == Decimal("0.5")


def test_explain_reads_like_a_sentence() -> None:
    model = train(TINY, fields=["channel", "industry"], min_samples=1)
    text = model.score({"channel": "referral", "industry": "retail"}).explain()
    assert text == "76% (base 43%): channel=referral +1.28, industry=retail +0.15"


def test_fields_under_min_samples_are_skipped_with_a_reason() -> None:
    model = train(TINY, fields=["channel", "industry"], min_samples=5)
    assert model.used_fields == ("channel",)
    assert model.skipped_fields == {"industry": "only 4 examples with a value; needs 5"}
    score = model.score({"channel": "referral", "industry": "retail"})
    assert [c.field for c in score.contributions] == ["channel"]


def test_missing_values_are_the_none_category() -> None:
    model = train(TINY, fields=["industry"], min_samples=1)
    assert model.counts["industry"][NONE] == (0, 1)
    assert model.score({}).contributions[0].value == NONE
    assert model.score({"industry": "  "}).contributions[0].value == NONE
    assert model.score({}) == model.score({"industry": NONE})


def test_no_usable_field_gives_the_smoothed_prior() -> None:
    model = train(TINY, fields=["industry"], min_samples=50, alpha=0.5)
    score = model.score({"industry": "retail"})
    assert score.contributions == ()
    assert score.probability == score.prior == p4(Fraction(5, 2) / Fraction(6))
    assert score.explain() == "42% (base 42%): no fields used"


# --- errors -------------------------------------------------------------------------------


def field_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.field


@pytest.mark.parametrize(
    "examples",
    [
        [({"c": "a"}, False), ({"c": "b"}, False)],
        [({"c": "a"}, True)],
        [],
    ],
)
def test_training_needs_both_outcomes(examples: list[Example]) -> None:
    with pytest.raises(ValidationError) as exc:
        train(examples, fields=["c"])
    assert field_of(exc) == "examples"


@pytest.mark.parametrize("alpha", [0, -1, 0.0, float("nan"), float("inf"), "1", True])
def test_alpha_must_be_a_positive_number(alpha: object) -> None:
    with pytest.raises(ValidationError) as exc:
        train(TINY, fields=["c"], alpha=alpha)  # type: ignore[arg-type]
    assert field_of(exc) == "alpha"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: LeadFeatures(("industry", "shoe_size")), "fields"),
        (lambda: LeadFeatures(("industry", "industry")), "fields"),
        (lambda: LeadFeatures("industry"), "fields"),
        (lambda: train(TINY, fields="channel"), "fields"),
        (lambda: train(TINY, fields=["channel"], min_samples=-1), "min_samples"),
        (lambda: train([({"c": 1}, True)], fields=["c"]), "examples"),  # type: ignore[dict-item]
        (lambda: train([({"c": "a"}, 1)], fields=["c"]), "examples"),  # type: ignore[list-item]
        (lambda: train([{"c": "a"}], fields=["c"]), "examples"),  # type: ignore[list-item]
        (lambda: train_from_history([], {}, fields=["nope"]), "fields"),
        (lambda: train(TINY, fields=["c"]).score("c=a"), "features"),  # type: ignore[arg-type]
        (lambda: MODEL.score({"channel": 3}), "features"),  # type: ignore[dict-item]
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        call()  # type: ignore[operator]
    assert field_of(exc) == field


def test_manual_probability_is_checked() -> None:
    score = train(TINY, fields=["channel"]).score({})
    with pytest.raises(ValidationError) as exc:
        score.beside(Decimal("1.5"))
    assert field_of(exc) == "manual"


# --- storing a model ----------------------------------------------------------------------


def test_json_round_trip_is_exact() -> None:
    model = train(TINY, fields=["channel", "industry"], alpha=0.3, min_samples=5)
    text = json.dumps(model.to_dict())
    again = WinModel.from_dict(json.loads(text))
    assert again == model
    assert again.to_dict() == model.to_dict()
    assert again.score({"channel": "ads"}) == model.score({"channel": "ads"})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": 2}, "format"),
        ({"won": 0}, "examples"),
        ({"alpha": -1}, "alpha"),
        ({"counts": {"channel": {"ads": [0, 2], "referral": [2, 0]}}}, "counts"),
        ({"fields": ["channel"]}, "fields"),
    ],
)
def test_a_tampered_model_is_refused(change: dict[str, object], field: str) -> None:
    data = train(TINY, fields=["channel", "industry"]).to_dict() | change
    with pytest.raises(ValidationError) as exc:
        WinModel.from_dict(data)
    assert field_of(exc) == field


def test_a_model_cannot_be_changed_in_place() -> None:
    model = train(TINY, fields=["channel"], min_samples=1)
    with pytest.raises(TypeError):
        model.counts["channel"]["ads"] = (9, 9)  # type: ignore[index]


# --- features from records ----------------------------------------------------------------


def deal(**fields: object) -> Opportunity:
    fields.setdefault("amount", Money("120000.00", "CNY"))
    fields.setdefault("customer_id", "cus_1")
    opportunity, _ = open_opportunity(
        title="MES rollout",
        owner="alice",
        now=START,
        by="alice",
        **fields,  # type: ignore[arg-type]
    )
    return opportunity


def test_features_of_a_deal_and_its_customer() -> None:
    acme = Customer.company("Acme", industry="retail", employees=250, source_channel="fair")
    features = features_of(
        deal(team="east"),
        acme,
        ("source_channel", "industry", "region", "amount_band", "employees_band", "team"),
    )
    assert features == {
        "source_channel": "fair",
        "industry": "retail",
        "region": NONE,
        "amount_band": "CNY:1e5-1e6",
        "employees_band": "100-999",
        "team": "east",
    }
    assert features_of(deal(source_channel="web"), acme, ["source_channel"]) == {
        "source_channel": "web"
    }
    assert features_of(deal(), None, LeadFeatures(("industry", "priority"))) == {
        "industry": NONE,
        "priority": NONE,
    }


@pytest.mark.parametrize(
    ("amount", "band"),
    [("0", "USD:0"), ("0.5", "USD:<1"), ("1", "USD:1e0-1e1"), ("9999.99", "USD:1e3-1e4")],
)
def test_amount_bands_are_orders_of_magnitude(amount: str, band: str) -> None:
    features = features_of(deal(amount=Money(amount, "USD")), None, ["amount_band"])
    assert features == {"amount_band": band}


def walk(opportunity: Opportunity, *stages: str, reason: str | None = None) -> Opportunity:
    needs = {"proposal": "needs_document", "negotiation": "quote", "deal_review": "signed_contract"}
    for day, stage in enumerate(stages, 1):
        now = START + day * DAY
        if stage in needs:
            opportunity, _ = deliver(opportunity, needs[stage], now=now)
        if stage == "contract_signed":
            opportunity, _ = deliver(opportunity, "signed_contract", now=now)
        opportunity, _ = advance_opportunity(
            opportunity, stage, now=now, by="alice", machine=SALES, reason=reason
        )
    return opportunity


def test_train_from_history_uses_closed_deals_only() -> None:
    retail = Customer.company("Retail Co", industry="retail")
    mining = Customer.company("Mining Co", industry="mining")
    customers = {retail.id: retail, mining.id: mining}
    to_win = ("needs_confirmed", "proposal", "negotiation", "contract_signed")
    history = [
        walk(deal(customer_id=retail.id), *to_win),
        walk(deal(customer_id=retail.id), *to_win, "deal_review"),
        walk(deal(customer_id=mining.id), "lost", reason="no budget"),
        walk(deal(customer_id=mining.id), "needs_confirmed", "lost", reason="went quiet"),
        walk(deal(customer_id="cus_gone"), "lost", reason="no budget"),
        deal(customer_id=mining.id),  # open: ignored
        walk(deal(customer_id=mining.id), "needs_confirmed"),  # open: ignored
    ]
    assert [d.is_won for d in history[:2]] == [True, True]
    assert [d.is_lost for d in history[2:5]] == [True, True, True]

    model = train_from_history(iter(history), customers, fields=["industry"], min_samples=4)
    assert (model.won, model.lost) == (2, 3)
    assert model.counts["industry"] == {"retail": (2, 0), "mining": (0, 2), NONE: (0, 1)}
    assert model == train(
        [
            ({"industry": "retail"}, True),
            ({"industry": "retail"}, True),
            ({"industry": "mining"}, False),
            ({"industry": "mining"}, False),
            ({}, False),
        ],
        fields=["industry"],
        min_samples=4,
    )

    fresh, _ = set_manual_probability(deal(customer_id=retail.id), "0.35")
    scored = score_opportunity(model, fresh, retail)
    assert scored.opportunity_id == fresh.id
    assert scored.computed.probability > Decimal("0.5")
    assert scored.manual == Decimal("0.35")
    assert scored.probability == Decimal("0.35")
    assert scored.source == "manual"
    assert scored.explain().startswith("manual 35%; computed ")


def test_manual_probability_is_kept_beside_the_computed_one() -> None:
    score = train(TINY, fields=["channel"], min_samples=1).score({"channel": "ads"})
    plain = score.beside(None)
    assert plain.probability == score.probability
    assert plain.source == "computed"
    assert plain.explain() == score.explain()
    ruled = score.beside(Decimal("0.9"))
    assert isinstance(ruled, ScoredOpportunity)
    assert (ruled.probability, ruled.computed) == (Decimal("0.9"), score)


# --- properties ---------------------------------------------------------------------------

FIELDS = ("a", "b", "c")
values = st.sampled_from(["x", "y", "z", NONE])
feature_maps = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, values))
examples_st = st.lists(st.tuples(feature_maps, st.booleans()), min_size=2, max_size=40).filter(
    lambda xs: any(won for _, won in xs) and not all(won for _, won in xs)
)
alphas = st.floats(min_value=0.05, max_value=5.0)
sample_minimums = st.integers(min_value=0, max_value=8)
fast = settings(max_examples=150, deadline=None)


@fast
@given(examples_st, feature_maps, alphas, sample_minimums)
def test_probability_is_always_a_clamped_probability(
    examples: list[Example], features: dict[str, str], alpha: float, minimum: int
) -> None:
    score = train(examples, fields=FIELDS, alpha=alpha, min_samples=minimum).score(features)
    for p in (score.probability, score.prior):
        assert Decimal("0.0001") <= p <= Decimal("0.9999")
        assert p == p.quantize(Decimal("0.0001"))


@fast
@given(
    st.lists(st.tuples(feature_maps, st.booleans()), min_size=1, max_size=30),
    feature_maps,
    st.floats(min_value=0.05, max_value=1.5),
    sample_minimums,
)
def test_a_won_example_never_lowers_the_score_of_its_features(
    examples: list[Example], features: dict[str, str], alpha: float, minimum: int
) -> None:
    """Holds while the set of used fields stays the same and alpha is at most about 1.6
    (beyond that, a new value's extra smoothing slot can outweigh one win)."""
    examples = [*examples, (features, False)]
    assume(any(won for _, won in examples))
    before = train(examples, fields=FIELDS, alpha=alpha, min_samples=minimum)
    after = train([*examples, (features, True)], fields=FIELDS, alpha=alpha, min_samples=minimum)
    assume(before.used_fields == after.used_fields)
    assert after.score(features).probability >= before.score(features).probability
    assert after.score(features).log_odds >= before.score(features).log_odds


@fast
@given(examples_st, values, alphas)
def test_single_field_posterior_is_bayes_rule_on_the_counts(
    examples: list[Example], value: str, alpha: float
) -> None:
    model = train(examples, fields=["a"], alpha=alpha, min_samples=0)
    labels = [(features.get("a", NONE), won) for features, won in examples]
    won = sum(w for _, w in labels)
    lost = len(labels) - won
    seen = {v for v, _ in labels}
    slots = alpha * (len(seen) + 1)
    like_won = (sum(1 for v, w in labels if v == value and w) + alpha) / (won + slots)
    like_lost = (sum(1 for v, w in labels if v == value and not w) + alpha) / (lost + slots)
    prior_won = (won + alpha) / (won + lost + 2 * alpha)
    joint_won = prior_won * like_won
    posterior = joint_won / (joint_won + (1 - prior_won) * like_lost)
    expected = min(max(p4(posterior), Decimal("0.0001")), Decimal("0.9999"))
    assert abs(model.score({"a": value}).probability - expected) <= Decimal("0.0001")


@fast
@given(examples_st, feature_maps, alphas)
def test_no_usable_field_scores_the_smoothed_prior(
    examples: list[Example], features: dict[str, str], alpha: float
) -> None:
    model = train(examples, fields=FIELDS, alpha=alpha, min_samples=len(examples) + 1)
    won = sum(1 for _, w in examples if w)
    prior = (won + alpha) / (len(examples) + 2 * alpha)
    score = model.score(features)
    assert model.used_fields == ()
    assert score.contributions == ()
    assert score.probability == score.prior
    assert abs(score.prior - p4(prior)) <= Decimal("0.0001")


@fast
@given(examples_st, feature_maps, alphas, sample_minimums)
def test_contributions_add_up_to_the_posterior_log_odds(
    examples: list[Example], features: dict[str, str], alpha: float, minimum: int
) -> None:
    score = train(examples, fields=FIELDS, alpha=alpha, min_samples=minimum).score(features)
    total = score.prior_log_odds + sum(c.log_ratio for c in score.contributions)
    rounding = Decimal("0.00005") * (len(score.contributions) + 2)
    assert abs(total - score.log_odds) <= rounding
    expected = min(
        max(p4(1 / (1 + math.exp(-float(score.log_odds)))), Decimal("0.0001")), Decimal("0.9999")
    )
    assert abs(score.probability - expected) <= Decimal("0.0001")


@fast
@given(examples_st, alphas, sample_minimums)
def test_json_round_trip_property(examples: list[Example], alpha: float, minimum: int) -> None:
    model = train(examples, fields=FIELDS, alpha=alpha, min_samples=minimum)
    assert WinModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model


def test_score_type_is_public() -> None:
    assert isinstance(train(TINY, fields=["c"]).score({}), WinScore)
