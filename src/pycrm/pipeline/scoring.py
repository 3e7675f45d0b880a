"""Predictive lead scoring: a naive-Bayes win model trained on closed deals, explainable.

Naive Bayes suits a CRM's history: it trains by counting (so a model is a handful of numbers a
host can keep as JSON and rebuild in one pass over its closed deals), it copes with few
examples once smoothed, and its log-odds split exactly into one term per field, so every
score comes with the reasons behind it. The model only advises: a rep's manual probability
is kept and shown beside the computed one, and wins when set.

Everything here is pure: no clock, no storage. Callers pass records in and keep the model
(and when they trained it) themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.opportunity import Opportunity

NONE = "(none)"
"""The category of a missing value: absence is information too (no industry on record)."""

MODEL_FORMAT = 1
"""Version of :meth:`WinModel.to_dict`'s layout, so a stored model can be read back safely."""

_PLACES = Decimal("0.0001")
_FLOOR = Decimal("0.0001")
_CEILING = Decimal("0.9999")
_VALUE_MAX = 200


def _round(number: float) -> Decimal:
    return Decimal(number).quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def _clamp(probability: Decimal) -> Decimal:
    # A naive-Bayes posterior is overconfident; 0 or 1 would claim certainty it does not have.
    return min(max(probability, _FLOOR), _CEILING)


def _sigmoid(log_odds: float) -> float:
    # Two branches so exp never overflows, however many fields push the same way.
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    small = math.exp(log_odds)
    return small / (1.0 + small)


# --- features -----------------------------------------------------------------------------


def _employees_band(employees: int | None) -> str:
    if employees is None:
        return NONE
    if employees == 0:
        return "0"
    digits = len(str(employees))
    return f"{10 ** (digits - 1)}-{10**digits - 1}"


def _amount_band(opportunity: Opportunity) -> str:
    """Decimal orders of magnitude per currency: sizes compare only within a currency."""
    money = opportunity.amount
    if money.amount == 0:
        return f"{money.currency}:0"
    if money.amount < 1:
        return f"{money.currency}:<1"
    exponent = money.amount.adjusted()
    return f"{money.currency}:1e{exponent}-1e{exponent + 1}"


def _text(value: str | None) -> str:
    return NONE if value is None else value


def _source_channel(opportunity: Opportunity, customer: Customer | None) -> str:
    # Where the deal came from; failing that, where the customer came from.
    if opportunity.source_channel is not None:
        return opportunity.source_channel
    return _text(None if customer is None else customer.source_channel)


_READERS: dict[str, Any] = {
    "source_channel": _source_channel,
    "owner": lambda o, c: _text(o.owner),
    "team": lambda o, c: _text(o.team),
    "amount_band": lambda o, c: _amount_band(o),
    "industry": lambda o, c: _text(None if c is None else c.industry),
    "region": lambda o, c: _text(None if c is None else c.region),
    "employees_band": lambda o, c: _employees_band(None if c is None else c.employees),
    "priority": lambda o, c: NONE if c is None else c.priority.value,
    "customer_kind": lambda o, c: NONE if c is None else c.kind.value,
}

DEFAULT_FIELDS = ("source_channel", "industry", "region", "amount_band", "employees_band")


def _field_names(value: Any, *, known: Iterable[str] | None) -> tuple[str, ...]:
    if isinstance(value, LeadFeatures):
        return value.fields
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("fields", "expected a collection of field names", value=value)
    names = []
    for name in value:
        checked = conv.check_text(name, "fields", max_length=80, required=True)
        assert checked is not None
        if checked in names:
            raise ValidationError("fields", f"{checked!r} is listed twice", value=value)
        names.append(checked)
    if known is not None:
        allowed = tuple(known)
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise ValidationError(
                "fields",
                f"unknown lead feature {unknown[0]!r} (known: {', '.join(allowed)})",
                value=value,
            )
    return tuple(names)


def _lead_fields(value: Any) -> tuple[str, ...]:
    return _field_names(value, known=_READERS)


@attrs.frozen
class LeadFeatures:
    """Which categorical features describe a deal; the same choice must train and score.

    Known fields: ``source_channel`` (the deal's, else the customer's), ``owner``, ``team``,
    ``amount_band`` (``"CNY:1e4-1e5"``: orders of magnitude per currency), ``industry``,
    ``region``, ``employees_band`` (``"10-99"``), ``priority`` and ``customer_kind``.
    """

    KNOWN: ClassVar[tuple[str, ...]] = tuple(_READERS)

    fields: tuple[str, ...] = attrs.field(default=DEFAULT_FIELDS, converter=_lead_fields)

    @classmethod
    def default(cls) -> LeadFeatures:
        """Facts known when a lead arrives, not who works it: a model should judge the lead."""
        return cls(DEFAULT_FIELDS)

    def of(self, opportunity: Opportunity, customer: Customer | None) -> dict[str, str]:
        return features_of(opportunity, customer, self)


def features_of(
    opportunity: Opportunity,
    customer: Customer | None,
    fields: LeadFeatures | Iterable[str] = DEFAULT_FIELDS,
) -> dict[str, str]:
    """The deal's features as text; a missing value becomes the category ``"(none)"``.

    ``customer`` may be ``None`` (not loaded, or removed): its fields are then ``"(none)"``.
    """
    names = _lead_fields(fields)
    if not isinstance(opportunity, Opportunity):
        raise ValidationError(
            "opportunity", f"expected Opportunity, got {type(opportunity).__name__}"
        )
    if customer is not None and not isinstance(customer, Customer):
        raise ValidationError("customer", f"expected Customer, got {type(customer).__name__}")
    return {name: _READERS[name](opportunity, customer) for name in names}


def _feature(features: Mapping[str, Any], field: str, where: str) -> str:
    value = features.get(field)
    if value is None:
        return NONE
    if not isinstance(value, str):
        raise ValidationError(where, f"{field!r} is {type(value).__name__}, expected text")
    text = value.strip()
    if len(text) > _VALUE_MAX:
        raise ValidationError(where, f"{field!r} is longer than {_VALUE_MAX} characters")
    return text or NONE


def _features(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(where, f"expected a mapping of features, got {type(value).__name__}")
    return value


# --- the model ----------------------------------------------------------------------------


def _alpha(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError("alpha", f"expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValidationError("alpha", "must be a finite number above 0", value=value)
    return number


def _count(value: Any, field: str) -> int:
    checked = conv.check_int(value, field, minimum=0, required=True)
    assert checked is not None
    return checked


def _counts(value: Any) -> Mapping[str, Mapping[str, tuple[int, int]]]:
    if not isinstance(value, Mapping):
        raise ValidationError("counts", f"expected a mapping, got {type(value).__name__}")
    result: dict[str, Mapping[str, tuple[int, int]]] = {}
    for field in sorted(value):
        per_value = value[field]
        if not isinstance(field, str) or not isinstance(per_value, Mapping):
            raise ValidationError("counts", "maps field names to {value: [won, lost]}")
        pairs: dict[str, tuple[int, int]] = {}
        for category in sorted(per_value):
            pair = per_value[category]
            if not isinstance(category, str) or isinstance(pair, (str, bytes)):
                raise ValidationError("counts", f"{field!r}: maps values to [won, lost]")
            try:
                won, lost = pair
            except (TypeError, ValueError):
                raise ValidationError("counts", f"{field!r}: maps values to [won, lost]") from None
            pairs[category] = (_count(won, "counts"), _count(lost, "counts"))
        result[field] = MappingProxyType(pairs)
    return MappingProxyType(result)


def _min_samples(value: Any) -> int:
    return _count(value, "min_samples")


def _won(value: Any) -> int:
    return _count(value, "won")


def _lost(value: Any) -> int:
    return _count(value, "lost")


def _skipped(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("skipped_fields", f"expected a mapping, got {type(value).__name__}")
    result = {}
    for field in sorted(value):
        reason = value[field]
        if not isinstance(field, str) or not isinstance(reason, str):
            raise ValidationError("skipped_fields", "maps field names to reasons (text)")
        result[field] = reason
    return MappingProxyType(result)


def _model_fields(value: Any) -> tuple[str, ...]:
    return _field_names(value, known=None)


@attrs.frozen(kw_only=True)
class ScoreContribution:
    """One field's pull on a score: ``log P(value|won) / P(value|lost)``, positive helps."""

    field: str
    value: str
    log_ratio: Decimal

    def __str__(self) -> str:
        return f"{self.field}={self.value} {self.log_ratio:+.2f}"


def _percent(probability: Decimal) -> str:
    return f"{(probability * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)}%"


@attrs.frozen(kw_only=True)
class WinScore:
    """A computed win probability with the base rate and the per-field reasons behind it.

    ``log_odds`` is the posterior's log-odds before clamping; it equals ``prior_log_odds``
    plus the sum of the contributions' ``log_ratio`` (each rounded to four places).
    """

    probability: Decimal
    prior: Decimal
    log_odds: Decimal
    prior_log_odds: Decimal
    contributions: tuple[ScoreContribution, ...]

    def explain(self) -> str:
        """One line for a rep: ``"62% (base 40%): source_channel=referral +0.81, ..."``."""
        head = f"{_percent(self.probability)} (base {_percent(self.prior)})"
        if not self.contributions:
            return f"{head}: no fields used"
        return f"{head}: " + ", ".join(str(c) for c in self.contributions)

    def beside(
        self, manual: Decimal | int | str | None, *, opportunity_id: str | None = None
    ) -> ScoredOpportunity:
        """This score with a rep's manual probability kept next to it."""
        return ScoredOpportunity(computed=self, manual=manual, opportunity_id=opportunity_id)


def _score(value: Any) -> WinScore:
    if not isinstance(value, WinScore):
        raise ValidationError("computed", f"expected WinScore, got {type(value).__name__}")
    return value


def _manual(value: Any) -> Decimal | None:
    if value is None:
        return None
    number = conv.check_decimal(value, "manual")
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationError("manual", "must be between 0 and 1", value=value)
    return number


def _optional_id(value: Any) -> str | None:
    return conv.check_text(value, "opportunity_id", max_length=64, required=False)


@attrs.frozen(kw_only=True)
class ScoredOpportunity:
    """The model's probability and a rep's, side by side: the rep's wins when set.

    A rep knows things the history does not (a champion left, a budget froze), so the manual
    figure drives display and forecast; the computed one stays visible to challenge it.
    """

    computed: WinScore = attrs.field(converter=_score)
    manual: Decimal | None = attrs.field(default=None, converter=_manual)
    opportunity_id: str | None = attrs.field(default=None, converter=_optional_id)

    @property
    def probability(self) -> Decimal:
        return self.computed.probability if self.manual is None else self.manual

    @property
    def source(self) -> str:
        """``"manual"`` or ``"computed"``: which figure :attr:`probability` is."""
        return "computed" if self.manual is None else "manual"

    def explain(self) -> str:
        if self.manual is None:
            return self.computed.explain()
        return f"manual {_percent(self.manual)}; computed {self.computed.explain()}"


@attrs.frozen(kw_only=True)
class WinModel:
    """Per-class and per-field-value counts of won and lost deals, and how to smooth them.

    Only counts are kept, so a model is small, exact as JSON (:meth:`to_dict`) and cheap to
    rebuild from history. ``fields`` are those asked for; ``counts`` covers the ones used;
    ``skipped_fields`` says why each other one was left out.

    Value ``v`` of a field with ``k`` values seen gets
    ``P(v | class) = (count(v, class) + alpha) / (count(class) + alpha * (k + 1))``: one
    extra slot is kept for values never seen in training, so they score near neutral.
    """

    fields: tuple[str, ...] = attrs.field(converter=_model_fields)
    alpha: float = attrs.field(converter=_alpha)
    min_samples: int = attrs.field(converter=_min_samples)
    won: int = attrs.field(converter=_won)
    lost: int = attrs.field(converter=_lost)
    counts: Mapping[str, Mapping[str, tuple[int, int]]] = attrs.field(converter=_counts, hash=False)
    skipped_fields: Mapping[str, str] = attrs.field(converter=_skipped, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.won < 1 or self.lost < 1:
            raise ValidationError("examples", "needs at least one won and one lost deal")
        if set(self.counts) & set(self.skipped_fields):
            raise ValidationError("skipped_fields", "a field is either used or skipped")
        if set(self.counts) | set(self.skipped_fields) != set(self.fields):
            raise ValidationError("fields", "must be exactly the used and the skipped fields")
        for field, pairs in self.counts.items():
            if not pairs:
                raise ValidationError("counts", f"{field!r} has no values")
            if (
                sum(w for w, _ in pairs.values()) != self.won
                or sum(lost for _, lost in pairs.values()) != self.lost
            ):
                raise ValidationError("counts", f"{field!r} does not add up to won and lost")

    @property
    def used_fields(self) -> tuple[str, ...]:
        """The fields that score, in the order they were asked for."""
        return tuple(f for f in self.fields if f in self.counts)

    @property
    def examples(self) -> int:
        return self.won + self.lost

    def _prior_log_odds(self) -> float:
        return math.log(self.won + self.alpha) - math.log(self.lost + self.alpha)

    def _log_ratio(self, field: str, value: str) -> float:
        pairs = self.counts[field]
        slots = self.alpha * (len(pairs) + 1)
        won, lost = pairs.get(value, (0, 0))
        return (
            math.log(won + self.alpha)
            - math.log(self.won + slots)
            - math.log(lost + self.alpha)
            + math.log(self.lost + slots)
        )

    def score(self, features: Mapping[str, str]) -> WinScore:
        """P(won | features), with each used field's contribution, largest first.

        Fields the model does not use are ignored; a used field missing from ``features``
        counts as ``"(none)"``. Works in log space, so many fields cannot underflow.
        """
        features = _features(features, "features")
        prior_log_odds = self._prior_log_odds()
        log_odds = prior_log_odds
        contributions = []
        for field in self.used_fields:
            value = _feature(features, field, "features")
            ratio = self._log_ratio(field, value)
            log_odds += ratio
            contributions.append(
                ScoreContribution(field=field, value=value, log_ratio=_round(ratio))
            )
        contributions.sort(key=lambda c: (-abs(c.log_ratio), c.field))
        return WinScore(
            probability=_clamp(_round(_sigmoid(log_odds))),
            prior=_clamp(_round(_sigmoid(prior_log_odds))),
            log_odds=_round(log_odds),
            prior_log_odds=_round(prior_log_odds),
            contributions=tuple(contributions),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` rebuilds an equal model from it."""
        return {
            "format": MODEL_FORMAT,
            "fields": list(self.fields),
            "alpha": self.alpha,
            "min_samples": self.min_samples,
            "won": self.won,
            "lost": self.lost,
            "counts": {
                field: {value: [w, lost] for value, (w, lost) in pairs.items()}
                for field, pairs in self.counts.items()
            },
            "skipped_fields": dict(self.skipped_fields),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WinModel:
        """Read a model written by :meth:`to_dict`, checking it as if it were new."""
        if not isinstance(data, Mapping):
            raise ValidationError("model", f"expected a mapping, got {type(data).__name__}")
        if data.get("format") != MODEL_FORMAT:
            raise ValidationError("format", f"expected {MODEL_FORMAT}", value=data.get("format"))
        names = ("fields", "alpha", "min_samples", "won", "lost", "counts", "skipped_fields")
        missing = [name for name in names if name not in data]
        if missing:
            raise ValidationError(missing[0], "is required")
        return cls(**{name: data[name] for name in names})


def train(
    examples: Iterable[tuple[Mapping[str, str], bool]],
    *,
    fields: LeadFeatures | Iterable[str],
    alpha: float = 1.0,
    min_samples: int = 5,
) -> WinModel:
    """Count won and lost examples per field value into a :class:`WinModel`.

    Each example is ``(features, won)``. A field scores only if at least ``min_samples``
    examples have a known value for it (not ``"(none)"``): a field nearly always empty says
    more about data entry than about deals. Deterministic: same examples, same model.
    """
    names = _field_names(fields, known=None)
    smoothing = _alpha(alpha)
    minimum = _min_samples(min_samples)
    if isinstance(examples, (str, bytes, Mapping)) or not isinstance(examples, Iterable):
        raise ValidationError("examples", "expected an iterable of (features, won) pairs")
    won = lost = 0
    tallies: dict[str, dict[str, list[int]]] = {name: {} for name in names}
    known = dict.fromkeys(names, 0)
    for example in examples:
        if not isinstance(example, tuple) or len(example) != 2:
            raise ValidationError("examples", "each example is a (features, won) pair")
        features, label = example
        features = _features(features, "examples")
        if not isinstance(label, bool):
            raise ValidationError("examples", f"won is True or False, got {type(label).__name__}")
        won += label
        lost += not label
        for name in names:
            value = _feature(features, name, "examples")
            pair = tallies[name].setdefault(value, [0, 0])
            pair[0 if label else 1] += 1
            if value != NONE:
                known[name] += 1
    if won == 0 or lost == 0:
        raise ValidationError(
            "examples", f"needs at least one won and one lost example (got {won} won, {lost} lost)"
        )
    counts = {}
    skipped = {}
    for name in names:
        if known[name] < minimum:
            skipped[name] = f"only {known[name]} examples with a value; needs {minimum}"
        else:
            counts[name] = {value: (w, lost_) for value, (w, lost_) in tallies[name].items()}
    return WinModel(
        fields=names,
        alpha=smoothing,
        min_samples=minimum,
        won=won,
        lost=lost,
        counts=counts,
        skipped_fields=skipped,
    )


def train_from_history(
    opportunities: Iterable[Opportunity],
    customers_by_id: Mapping[str, Customer],
    *,
    fields: LeadFeatures | Iterable[str] = DEFAULT_FIELDS,
    alpha: float = 1.0,
    min_samples: int = 5,
) -> WinModel:
    """Train on closed deals (won or lost); open ones are skipped, so a whole stream can pass.

    A deal whose customer is not in ``customers_by_id`` trains with ``"(none)"`` customer
    fields rather than failing a bulk retrain.
    """
    features = LeadFeatures(_lead_fields(fields))
    if not isinstance(customers_by_id, Mapping):
        raise ValidationError(
            "customers_by_id", f"expected a mapping, got {type(customers_by_id).__name__}"
        )
    if not isinstance(opportunities, Iterable):
        raise ValidationError("opportunities", "expected an iterable of opportunities")

    def examples() -> Iterable[tuple[Mapping[str, str], bool]]:
        for opportunity in opportunities:
            if not isinstance(opportunity, Opportunity):
                raise ValidationError(
                    "opportunities", f"expected Opportunity, got {type(opportunity).__name__}"
                )
            if opportunity.is_open:
                continue
            customer = customers_by_id.get(opportunity.customer_id)
            yield features.of(opportunity, customer), opportunity.is_won

    return train(examples(), fields=features, alpha=alpha, min_samples=min_samples)


def score_opportunity(
    model: WinModel, opportunity: Opportunity, customer: Customer | None
) -> ScoredOpportunity:
    """Score a deal with ``model`` and keep the rep's manual probability beside it."""
    if not isinstance(model, WinModel):
        raise ValidationError("model", f"expected WinModel, got {type(model).__name__}")
    computed = model.score(features_of(opportunity, customer, model.fields))
    return computed.beside(opportunity.manual_probability, opportunity_id=opportunity.id)
