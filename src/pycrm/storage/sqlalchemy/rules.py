"""Segment and grading rules compiled to SQLAlchemy Core: one parameterised condition over
the customers table, with each metric a correlated subquery on an indexed column pair
(``(customer_id, placed_at)``, ``(customer_id, occurred_at)``).

It must agree with :mod:`pycrm.grading.evaluate` on every customer, missing values
included; both follow SQL's three-valued logic, so ``and``/``or``/``not`` map one to one.
Whole-day counts (``days_since_interaction > 90``) become time comparisons on the last
event (``last <= as_of - 91 days``), which needs no date arithmetic in SQL and so behaves
the same on every dialect.

The parts of an ``and`` are emitted cheapest first (plain columns, then per-customer lookups
on small tables, then sums over orders): SQLite evaluates the terms left to the right and
stops at the first false one, so a filter written with the spend first would otherwise sum a
year of orders for every customer of the industry before the cheap test ruled most of them
out. ``and`` commutes under three-valued logic, so the order never changes the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from pycrm.domain import PURCHASE_STATUSES
from pycrm.errors import ValidationError
from pycrm.grading.catalogue import ValueKind
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
)
from pycrm.storage.sqlalchemy.tables import Tables
from pycrm.storage.sqlalchemy.types import SCALE, Amount

_PURCHASES = sorted(status.value for status in PURCHASE_STATUSES)
_LAST_EVENT = {"days_since_order": "last_order_at", "days_since_interaction": "last_interaction_at"}

Bind = Callable[[Any], sa.ColumnElement[Any]]


@attrs.frozen
class _Term:
    """A compiled field or metric, and how to bind values compared with it."""

    column: sa.ColumnElement[Any]
    bind: Bind


class RuleCompiler:
    """Compiles expressions for one table set, dialect and moment (``as_of``)."""

    def __init__(
        self,
        tables: Tables,
        dialect: str,
        *,
        as_of: datetime,
        stage_probabilities: Mapping[tuple[str, str], Decimal],
    ) -> None:
        self._t = tables
        self._sqlite = dialect == "sqlite"
        self._as_of = as_of
        self._probabilities = stage_probabilities
        self._customers = tables.customers

    def condition(self, expr: Expr) -> sa.ColumnElement[bool]:
        """``expr`` as a boolean SQL expression over the customers table."""
        if isinstance(expr, And):
            parts = sorted(expr.parts, key=_cost)  # stable: ties keep the rule's order
            return sa.and_(*(self.condition(p) for p in parts))
        if isinstance(expr, Or):
            return sa.or_(*(self.condition(p) for p in expr.parts))
        if isinstance(expr, Not):
            return sa.not_(self.condition(expr.part))
        if isinstance(expr, Always):
            return sa.true()
        if isinstance(expr, HasTag):
            tags = self._t.customer_tags
            return sa.exists().where(
                tags.c.customer_id == self._customers.c.id, tags.c.tag == expr.tag
            )
        if isinstance(expr, Compare | In | Between | IsNull) and expr.ref.kind is ValueKind.DAYS:
            return self._days(expr)
        if isinstance(expr, IsNull):
            return self.term(expr.ref).column.is_(None)
        if isinstance(expr, Compare):
            return self._compare(self.term(expr.ref), expr.op, expr.value)
        if isinstance(expr, In):
            term = self.term(expr.ref)
            return term.column.in_([term.bind(v) for v in expr.values])
        if isinstance(expr, Between):
            term = self.term(expr.ref)
            return sa.and_(term.column >= term.bind(expr.low), term.column <= term.bind(expr.high))
        raise ValidationError("rule", f"cannot compile {expr!r}")

    @staticmethod
    def _compare(term: _Term, op: str, value: Any) -> sa.ColumnElement[bool]:
        column, bound = term.column, term.bind(value)
        result: sa.ColumnElement[bool]
        if op == "==":
            result = column == bound
        elif op == "!=":
            result = column != bound
        elif op == "<":
            result = column < bound
        elif op == "<=":
            result = column <= bound
        elif op == ">":
            result = column > bound
        else:
            result = column >= bound
        return result

    # -- whole days since an event ----------------------------------------------------------

    def _days(self, expr: Compare | In | Between | IsNull) -> sa.ColumnElement[bool]:
        last = self.term(Ref(_LAST_EVENT[expr.ref.name])).column
        if isinstance(expr, IsNull):
            return last.is_(None)
        if isinstance(expr, In):
            return sa.or_(*(self._days_equal(last, n) for n in expr.values))
        if isinstance(expr, Between):
            return sa.and_(
                self._at_least(last, expr.low), sa.not_(self._at_least(last, expr.high + 1))
            )
        n, op = expr.value, expr.op
        if op == ">=":
            return self._at_least(last, n)
        if op == ">":
            return self._at_least(last, n + 1)
        if op == "<":
            return sa.not_(self._at_least(last, n))
        if op == "<=":
            return sa.not_(self._at_least(last, n + 1))
        if op == "==":
            return self._days_equal(last, n)
        return sa.not_(self._days_equal(last, n))

    def _at_least(self, last: sa.ColumnElement[Any], days: int) -> sa.ColumnElement[bool]:
        """floor((as_of - last) / 1 day) >= days, for last <= as_of."""
        cutoff = self._as_of - timedelta(days=days)
        return last <= sa.literal(cutoff, last.type)

    def _days_equal(self, last: sa.ColumnElement[Any], days: int) -> sa.ColumnElement[bool]:
        return sa.and_(self._at_least(last, days), sa.not_(self._at_least(last, days + 1)))

    # -- fields and metrics -----------------------------------------------------------------

    def term(self, ref: Ref) -> _Term:
        if not ref.is_metric:
            name = "yearly_revenue_amount" if ref.name == "yearly_revenue" else ref.name
            column = self._customers.c[name]
            return _Term(column, _literal_of(column.type))
        name = ref.name
        if name in ("spend", "order_count", "first_order_at", "last_order_at"):
            return self._orders(ref)
        if name in ("interaction_count", "last_interaction_at"):
            return self._interactions(ref)
        if name == "potential":
            return self._potential(ref)
        if name == "points":
            return self._points()
        raise ValidationError(str(ref), "cannot be compiled")

    def _window(self, column: sa.Column[Any], days: int | None) -> list[sa.ColumnElement[bool]]:
        conditions = [column <= sa.literal(self._as_of, column.type)]
        if days is not None:
            start = self._as_of - timedelta(days=days)
            conditions.append(column > sa.literal(start, column.type))
        return conditions

    def _orders(self, ref: Ref) -> _Term:
        o = self._t.orders
        where = [
            o.c.customer_id == self._customers.c.id,
            o.c.status.in_(_PURCHASES),
            *self._window(o.c.placed_at, ref.param("days")),
        ]
        currency = ref.param("currency")
        if currency is not None:
            where.append(o.c.total_currency == currency)
        if ref.name == "spend":
            total = sa.func.coalesce(sa.func.sum(o.c.total_amount), 0, type_=Amount())
            return _scalar(total, where, Amount())
        if ref.name == "order_count":
            return _scalar(sa.func.count(), where, sa.Integer())
        pick = sa.func.min if ref.name == "first_order_at" else sa.func.max
        return _scalar(pick(o.c.placed_at), where, o.c.placed_at.type)

    def _interactions(self, ref: Ref) -> _Term:
        i = self._t.interactions
        where = [
            i.c.customer_id == self._customers.c.id,
            *self._window(i.c.occurred_at, ref.param("days")),
        ]
        if ref.name == "interaction_count":
            return _scalar(sa.func.count(), where, sa.Integer())
        return _scalar(sa.func.max(i.c.occurred_at), where, i.c.occurred_at.type)

    def _potential(self, ref: Ref) -> _Term:
        """Open deals' ``amount * probability``. Exact everywhere: on SQLite both factors are
        integers in ten-thousandths, so the product is in 10**-8 units and so is the bound
        threshold; elsewhere NUMERIC times NUMERIC is exact."""
        opp = self._t.opportunities
        is_open: sa.ColumnElement[Any] = opp.c.is_open
        if self._sqlite:
            # SQLite would look the open deals up by the (is_open, owner) index and scan every
            # open deal for each customer, which grows with the square of the book; a unary
            # "+" (a no-op) keeps that index out, so it searches by (customer_id, id).
            is_open = UnaryExpression(
                is_open, operator=operators.custom_op("+"), type_=sa.Boolean()
            )
        where = [opp.c.customer_id == self._customers.c.id, is_open.is_(True)]
        currency = ref.param("currency")
        if currency is not None:
            where.append(opp.c.currency == currency)
        scale = 10**SCALE
        if self._sqlite:
            stage = self._stage_probability(lambda p: sa.literal(int(p * scale), sa.BigInteger()))
            manual = sa.type_coerce(opp.c.manual_probability, sa.BigInteger())
            amount = sa.type_coerce(opp.c.amount, sa.BigInteger())
            total = sa.func.coalesce(
                sa.func.sum(amount * sa.func.coalesce(manual, stage)), 0, type_=sa.BigInteger()
            )
            return _Term(
                _subquery(total, where, sa.BigInteger()),
                lambda v: sa.literal(int(Decimal(v).scaleb(2 * SCALE)), sa.BigInteger()),
            )
        numeric = sa.Numeric(38, 2 * SCALE)
        stage = self._stage_probability(lambda p: sa.literal(p, sa.Numeric(9, SCALE)))
        exact_manual: sa.ColumnElement[Any] = sa.type_coerce(
            opp.c.manual_probability, sa.Numeric(9, SCALE)
        )
        exact_amount: sa.ColumnElement[Any] = sa.type_coerce(opp.c.amount, sa.Numeric(19, SCALE))
        product = sa.type_coerce(exact_amount * sa.func.coalesce(exact_manual, stage), numeric)
        total = sa.func.coalesce(sa.func.sum(product), 0, type_=numeric)
        return _Term(_subquery(total, where, numeric), lambda v: sa.literal(v, numeric))

    def _stage_probability(
        self, literal: Callable[[Decimal], sa.ColumnElement[Any]]
    ) -> sa.ColumnElement[Any]:
        opp = self._t.opportunities
        whens = [
            (sa.and_(opp.c.pipeline == pipeline, opp.c.stage == stage), literal(probability))
            for (pipeline, stage), probability in sorted(self._probabilities.items())
            if probability
        ]
        if not whens:
            return literal(Decimal(0))
        return sa.case(*whens, else_=literal(Decimal(0)))

    def _points(self) -> _Term:
        p = self._t.points_entries
        where = [
            p.c.customer_id == self._customers.c.id,
            p.c.occurred_at <= sa.literal(self._as_of, p.c.occurred_at.type),
        ]
        total = sa.func.coalesce(sa.func.sum(p.c.points), 0, type_=sa.Integer())
        return _scalar(total, where, sa.Integer())


_METRIC_COST = {
    "days_since_interaction": 2,
    "interaction_count": 2,
    "last_interaction_at": 2,
    "points": 2,
}
"""Metrics cheaper than the default (3: orders and open opportunities): one index range
on a table with a few rows per customer."""


def _cost(expr: Expr) -> int:
    """A rough rank of what evaluating ``expr`` for one customer costs: 0 for the customer's
    own columns, 1 for a tag lookup, 2 or 3 for a correlated subquery."""
    if isinstance(expr, And | Or):
        return max((_cost(p) for p in expr.parts), default=0)
    if isinstance(expr, Not):
        return _cost(expr.part)
    if isinstance(expr, HasTag):
        return 1
    if isinstance(expr, Compare | In | Between | IsNull) and expr.ref.is_metric:
        return _METRIC_COST.get(expr.ref.name, 3)
    return 0


def _literal_of(type_: Any) -> Bind:
    """Bind values as ``type_`` does (UTC datetimes, scaled amounts on SQLite)."""

    def bind(value: Any) -> sa.ColumnElement[Any]:
        return sa.literal(value, type_)

    return bind


def _subquery(
    value: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]], type_: Any
) -> sa.ColumnElement[Any]:
    return sa.type_coerce(sa.select(value).where(*where).scalar_subquery(), type_)


def _scalar(value: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]], type_: Any) -> _Term:
    column = _subquery(value, where, type_)
    return _Term(column, lambda v: sa.literal(v, type_))
