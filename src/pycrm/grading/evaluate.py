"""Evaluating rules in Python: on plain objects in a notebook, and as the memory store's answer.

SQL stores compile the same expressions to queries; this module is the reference they must
agree with, missing values included (three-valued logic, as in SQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.expr import (
    Always,
    And,
    Between,
    Compare,
    Expr,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    Ref,
    as_expr,
)

ONE_DAY = timedelta(days=1)


@attrs.frozen
class Purchase:
    """An order that counts as a purchase, as metrics read it."""

    placed_at: datetime
    amount: Decimal
    currency: str


@attrs.frozen
class OpenDeal:
    """An open opportunity, as the ``potential`` metric reads it."""

    amount: Decimal
    currency: str
    probability: Decimal


@attrs.frozen
class CustomerFacts:
    """What derived metrics read about one customer: purchases, interaction times, open
    deals and loyalty point movements. Build it with :meth:`from_records`."""

    purchases: tuple[Purchase, ...] = ()
    interactions: tuple[datetime, ...] = ()
    open_deals: tuple[OpenDeal, ...] = ()
    points: tuple[tuple[datetime, int], ...] = ()

    @classmethod
    def from_records(
        cls,
        *,
        orders: Iterable[Any] = (),
        interactions: Iterable[Any] = (),
        opportunities: Iterable[Any] = (),
        points: Iterable[Any] = (),
        stage_probabilities: Mapping[tuple[str, str], Decimal] | None = None,
    ) -> CustomerFacts:
        """Facts from a customer's ``Order``, ``Interaction``, ``Opportunity`` and
        ``PointsEntry`` records (cancelled and refunded orders and closed deals are left
        out). ``stage_probabilities`` maps ``(pipeline, stage)`` to the stage's probability,
        used for deals without a manual one (see ``CRM.stage_probabilities``)."""
        probabilities = stage_probabilities or {}
        return cls(
            purchases=tuple(
                Purchase(o.placed_at, o.total.amount, o.total.currency)
                for o in orders
                if o.is_purchase
            ),
            interactions=tuple(i.occurred_at for i in interactions),
            open_deals=tuple(
                OpenDeal(o.amount.amount, o.amount.currency, deal_probability(o, probabilities))
                for o in opportunities
                if o.is_open
            ),
            points=tuple((p.occurred_at, p.points) for p in points),
        )


NO_FACTS = CustomerFacts()


@attrs.frozen
class RuleContext:
    """What a rule is evaluated against besides the customer: the moment (``as_of``) and
    the probability of each ``(pipeline, stage)`` for the ``potential`` metric."""

    as_of: datetime
    stage_probabilities: Mapping[tuple[str, str], Decimal] = attrs.field(factory=dict)


def deal_probability(opportunity: Any, probabilities: Mapping[tuple[str, str], Decimal]) -> Decimal:
    """The rep's manual probability, else the stage's, else 0 (an unknown pipeline)."""
    if opportunity.manual_probability is not None:
        return Decimal(opportunity.manual_probability)
    return probabilities.get((opportunity.pipeline, opportunity.stage), Decimal(0))


def field_value(customer: Customer, name: str) -> Any:
    """A customer field as rules compare it: enums by value, revenue by amount."""
    value = getattr(customer, name)
    if name == "yearly_revenue":
        return None if value is None else value.amount
    return getattr(value, "value", value)


def _window(ref: Ref, at: datetime, as_of: datetime) -> bool:
    if at > as_of:
        return False
    days = ref.param("days")
    return days is None or at > as_of - timedelta(days=days)


def metric_value(ref: Ref, facts: CustomerFacts, as_of: datetime) -> Any:
    """A metric of one customer at ``as_of``."""
    name = ref.name
    if name in ("spend", "order_count", "first_order_at", "last_order_at", "days_since_order"):
        currency = ref.param("currency")
        bought = [
            p
            for p in facts.purchases
            if _window(ref, p.placed_at, as_of) and (currency is None or p.currency == currency)
        ]
        if name == "spend":
            return sum((p.amount for p in bought), Decimal(0))
        if name == "order_count":
            return len(bought)
        if not bought:
            return None
        if name == "first_order_at":
            return min(p.placed_at for p in bought)
        last = max(p.placed_at for p in bought)
        return last if name == "last_order_at" else (as_of - last) // ONE_DAY
    if name in ("interaction_count", "last_interaction_at", "days_since_interaction"):
        times = [t for t in facts.interactions if _window(ref, t, as_of)]
        if name == "interaction_count":
            return len(times)
        if not times:
            return None
        last = max(times)
        return last if name == "last_interaction_at" else (as_of - last) // ONE_DAY
    if name == "potential":
        currency = ref.param("currency")
        return sum(
            (
                d.amount * d.probability
                for d in facts.open_deals
                if currency is None or d.currency == currency
            ),
            Decimal(0),
        )
    if name == "points":
        return sum(points for at, points in facts.points if at <= as_of)
    raise ValidationError(str(ref), "is not a metric")


def value_of(ref: Ref, customer: Customer, facts: CustomerFacts, as_of: datetime) -> Any:
    if ref.is_metric:
        return metric_value(ref, facts, as_of)
    return field_value(customer, ref.name)


_OPS: Mapping[str, Any] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def evaluate(expr: Expr, customer: Customer, facts: CustomerFacts, as_of: datetime) -> bool | None:
    """``True``, ``False`` or ``None`` (unknown, as SQL's NULL) for one customer."""
    if isinstance(expr, Compare | In | Between | IsNull):
        value = value_of(expr.ref, customer, facts, as_of)
        if isinstance(expr, IsNull):
            return value is None
        if value is None:
            return None
        if isinstance(expr, Compare):
            return bool(_OPS[expr.op](value, expr.value))
        if isinstance(expr, In):
            return value in expr.values
        return bool(expr.low <= value <= expr.high)
    if isinstance(expr, HasTag):
        return expr.tag in customer.tags
    if isinstance(expr, And | Or):
        results = [evaluate(part, customer, facts, as_of) for part in expr.parts]
        decisive = isinstance(expr, Or)
        if decisive in results:
            return decisive
        return None if None in results else not decisive
    if isinstance(expr, Not):
        inner = evaluate(expr.part, customer, facts, as_of)
        return None if inner is None else not inner
    if isinstance(expr, Always):
        return True
    raise ValidationError("rule", f"cannot evaluate {expr!r}")


def matches(
    rule: Expr | Mapping[str, Any],
    customer: Customer,
    *,
    as_of: datetime,
    facts: CustomerFacts | None = None,
) -> bool:
    """Whether ``customer`` (with its ``facts``: none given means no orders, interactions,
    deals or points) matches ``rule`` at ``as_of``. Unknown counts as no match."""
    expr = as_expr(rule)
    moment = conv.check_datetime(as_of, "as_of", required=True)
    assert moment is not None
    return evaluate(expr, customer, facts or NO_FACTS, moment) is True


@attrs.frozen
class Explanation:
    """Why a rule did or did not match: each part with its result and the values it read."""

    rule: str
    result: bool | None
    values: Mapping[str, Any] = attrs.field(factory=dict)
    parts: tuple[Explanation, ...] = ()
    negated: bool = False

    @property
    def matched(self) -> bool:
        return self.result is True

    def matched_conditions(self) -> list[Explanation]:
        """The conditions that made the rule hold: every part of a true ``&``, the true
        parts of a true ``|``, a true ``~`` as a whole; empty when the rule did not hold."""
        if self.result is not True:
            return []
        if not self.parts or self.negated:
            return [self]
        return [leaf for part in self.parts for leaf in part.matched_conditions()]

    def lines(self, depth: int = 0) -> list[str]:
        mark = {True: "yes", False: "no", None: "unknown"}[self.result]
        shown = ", ".join(f"{k} = {_show(v)}" for k, v in self.values.items())
        head = f"{'  ' * depth}[{mark}] {self.rule}" + (f"  ({shown})" if shown else "")
        return [head, *(line for part in self.parts for line in part.lines(depth + 1))]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "empty" if value is None else str(value)


def explain(
    rule: Expr | Mapping[str, Any],
    customer: Customer,
    *,
    as_of: datetime,
    facts: CustomerFacts | None = None,
) -> Explanation:
    """:func:`matches`, with the reasons: every condition, its result and the values read."""
    moment = conv.check_datetime(as_of, "as_of", required=True)
    assert moment is not None
    return _explain(as_expr(rule), customer, facts or NO_FACTS, moment)


def _explain(expr: Expr, customer: Customer, facts: CustomerFacts, as_of: datetime) -> Explanation:
    if isinstance(expr, And | Or):
        parts = tuple(_explain(p, customer, facts, as_of) for p in expr.parts)
        return Explanation(repr(expr), evaluate(expr, customer, facts, as_of), parts=parts)
    if isinstance(expr, Not):
        inner = _explain(expr.part, customer, facts, as_of)
        result = evaluate(expr, customer, facts, as_of)
        return Explanation(repr(expr), result, parts=(inner,), negated=True)
    values = {str(ref): value_of(ref, customer, facts, as_of) for ref in expr.refs()}
    if isinstance(expr, HasTag):
        values = {"F.tags": ", ".join(sorted(customer.tags)) or None}
    return Explanation(repr(expr), evaluate(expr, customer, facts, as_of), values)
