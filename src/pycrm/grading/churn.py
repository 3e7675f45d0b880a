"""Churn risk: customers gone quiet, or buying less often than they did.

Two signals, each with its reason: no interaction and no purchase for ``inactive_days``
(default about six months), or purchases in the last ``window_days`` down to at most
``drop_ratio`` of the window before (from at least ``min_previous_orders``). Stores find
the candidates set-based; the reasons are worded here, the same for every store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.catalogue import DAY_LIMIT
from pycrm.grading.evaluate import CustomerFacts, metric_value
from pycrm.grading.expr import Ref

INACTIVE = "inactive"
FALLING = "falling_frequency"


def _days(value: Any, field: str) -> int:
    days = conv.check_int(value, field, minimum=1, required=True)
    assert days is not None
    if days > DAY_LIMIT:
        raise ValidationError(field, f"must be at most {DAY_LIMIT}")
    return days


def _ratio(value: Any) -> Decimal:
    ratio = conv.check_decimal(value, "drop_ratio")
    if not Decimal(0) <= ratio < Decimal(1):
        raise ValidationError("drop_ratio", "must be at least 0 and below 1", value=value)
    exponent = ratio.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValidationError("drop_ratio", "has more than 4 decimal places", value=value)
    return ratio


def _inactive_days(value: Any) -> int:
    return _days(value, "inactive_days")


def _window_days(value: Any) -> int:
    return _days(value, "window_days")


def _min_previous(value: Any) -> int:
    found = conv.check_int(value, "min_previous_orders", minimum=1, required=True)
    assert found is not None
    return found


@attrs.frozen
class ChurnPolicy:
    """When a customer counts as at risk. ``window_days`` compares the latest window of
    purchases with the one before it; ``drop_ratio=0.5`` flags a halving or worse."""

    inactive_days: int = attrs.field(default=182, converter=_inactive_days)
    window_days: int = attrs.field(default=90, converter=_window_days)
    drop_ratio: Decimal = attrs.field(default=Decimal("0.5"), converter=_ratio)
    min_previous_orders: int = attrs.field(default=2, converter=_min_previous)

    @property
    def ratio_parts(self) -> tuple[int, int]:
        """``drop_ratio`` as whole numbers ``(numerator, denominator)``, so stores compare
        ``recent * denominator <= previous * numerator`` exactly, without division."""
        denominator = 10**4
        return int(self.drop_ratio * denominator), denominator


@attrs.frozen
class ChurnSignals:
    """The numbers churn risk is judged on for one customer at ``as_of``."""

    customer_id: str
    last_interaction_at: datetime | None
    last_order_at: datetime | None
    recent_orders: int
    previous_orders: int


@attrs.frozen
class ChurnRisk:
    """A customer at risk, with why: ``reasons`` holds :data:`INACTIVE` and/or
    :data:`FALLING`, and ``explanation`` says it in words."""

    customer_id: str
    reasons: tuple[str, ...]
    explanation: str
    signals: ChurnSignals


def assess(signals: ChurnSignals, policy: ChurnPolicy, *, as_of: datetime) -> ChurnRisk | None:
    """The churn risk the signals show under ``policy``, or ``None``."""
    reasons: list[str] = []
    words: list[str] = []
    last_seen = max(
        (t for t in (signals.last_interaction_at, signals.last_order_at) if t is not None),
        default=None,
    )
    if last_seen is None:
        reasons.append(INACTIVE)
        words.append("no interaction or purchase on record")
    elif (as_of - last_seen).days > policy.inactive_days:
        reasons.append(INACTIVE)
        words.append(
            f"no interaction or purchase for {(as_of - last_seen).days} days "
            f"(since {last_seen.date().isoformat()})"
        )
    numerator, denominator = policy.ratio_parts
    if (
        signals.previous_orders >= policy.min_previous_orders
        and signals.recent_orders * denominator <= signals.previous_orders * numerator
    ):
        reasons.append(FALLING)
        words.append(
            f"{signals.recent_orders} purchase(s) in the last {policy.window_days} days "
            f"against {signals.previous_orders} in the {policy.window_days} before"
        )
    if not reasons:
        return None
    return ChurnRisk(signals.customer_id, tuple(reasons), "; ".join(words), signals)


def signals_of(
    customer_id: str, facts: CustomerFacts, policy: ChurnPolicy, *, as_of: datetime
) -> ChurnSignals:
    """A customer's churn signals computed in Python (the reference for stores)."""
    window = policy.window_days
    recent = metric_value(Ref("order_count", (("days", window),)), facts, as_of)
    both = metric_value(Ref("order_count", (("days", 2 * window),)), facts, as_of)
    return ChurnSignals(
        customer_id,
        metric_value(Ref("last_interaction_at"), facts, as_of),
        metric_value(Ref("last_order_at"), facts, as_of),
        recent,
        both - recent,
    )


def risks(
    signals: Sequence[ChurnSignals], policy: ChurnPolicy, *, as_of: datetime
) -> list[ChurnRisk]:
    """The customers among ``signals`` at risk, in the given order."""
    found = (assess(s, policy, as_of=as_of) for s in signals)
    return [risk for risk in found if risk is not None]
