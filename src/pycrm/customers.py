"""The customers repository: everything a repository does, plus queries by rule.

``find`` and ``count`` take a segment rule (``pycrm.F`` expression), a saved
:class:`~pycrm.Segment` or a rule's data, and run it where the data is: one parameterised
SQL query on SQL stores, Python on the memory store, with the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.churn import ChurnPolicy, ChurnRisk, risks
from pycrm.grading.evaluate import RuleContext
from pycrm.grading.expr import Expr, as_expr
from pycrm.paging import Page
from pycrm.repository import MAX_PAGE, Repository

RuleLike = Any
"""An :class:`~pycrm.grading.expr.Expr`, a saved segment (anything with a ``rule``), or a
rule's data from ``Expr.to_data()``."""


def rule_of(value: RuleLike, field: str = "rule") -> Expr:
    """The expression behind ``value`` (an expression, a segment, or its data)."""
    rule = getattr(value, "rule", None)
    if isinstance(rule, Expr):
        return rule
    if isinstance(value, Mapping | Expr):
        return as_expr(value, field)
    raise ValidationError(field, f"expected a rule (pycrm.F ...) or a segment, got {value!r}")


class CustomerRepository(Repository[Customer]):
    """Customers in a session, with :meth:`find` and :meth:`count` by rule."""

    def rule_context(self, as_of: datetime | None = None) -> RuleContext:
        """What rules are evaluated against: ``as_of`` (default now) and the CRM's stage
        probabilities."""
        session = self._session
        when = session.now if as_of is None else conv.check_datetime(as_of, "as_of", required=True)
        assert when is not None
        return RuleContext(when, session.crm.stage_probabilities)

    def find_page(
        self,
        rule: RuleLike,
        *,
        as_of: datetime | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page[Customer]:
        """A page of the customers matching ``rule`` at ``as_of``, in id order."""
        self._session._check_open()
        expr = rule_of(rule)
        conv.check_int(limit, "limit", minimum=1, required=True)
        if limit > MAX_PAGE:
            raise ValidationError("limit", f"at most {MAX_PAGE} per page; use find() for more")
        conv.check_text(after, "after", max_length=64, required=False)
        items = self._session._tx.analytics.customers(
            expr, self.rule_context(as_of), after=after, limit=limit
        )
        return Page(items, items[-1].id if len(items) == limit else None)

    def find(
        self, rule: RuleLike, *, as_of: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Customer]:
        """Every customer matching ``rule`` at ``as_of`` (default: now, fixed for the whole
        run), fetched ``batch_size`` at a time so memory stays flat."""
        expr = rule_of(rule)
        context = self.rule_context(as_of)
        after: str | None = None
        while True:
            page = self.find_page(expr, as_of=context.as_of, limit=batch_size, after=after)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def count(
        self, rule: RuleLike = None, /, *, as_of: datetime | None = None, **filters: Any
    ) -> int:
        """How many customers match ``rule`` at ``as_of``, or, without a rule, the field
        equality ``filters`` (as every repository's ``count``)."""
        if rule is None:
            if as_of is not None:
                raise ValidationError("as_of", "applies to a rule; give one")
            return super().count(**filters)
        if filters:
            raise ValidationError(
                sorted(filters)[0], "give a rule or field filters, not both (F can say both)"
            )
        self._session._check_open()
        return self._session._tx.analytics.count_customers(rule_of(rule), self.rule_context(as_of))

    def at_risk(
        self,
        policy: ChurnPolicy | None = None,
        *,
        as_of: datetime | None = None,
        batch_size: int = 1000,
    ) -> Iterator[ChurnRisk]:
        """Customers at risk of churning at ``as_of`` (default now) under ``policy``, each
        with its reasons, in id order; the store finds them set-based, a page at a time."""
        self._session._check_open()
        chosen = ChurnPolicy() if policy is None else policy
        if not isinstance(chosen, ChurnPolicy):
            raise ValidationError("policy", f"expected a ChurnPolicy, got {policy!r}")
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        context = self.rule_context(as_of)
        after: str | None = None
        while True:
            self._session._check_open()
            page = self._session._tx.analytics.churn_signals(
                chosen, context, after=after, limit=batch_size
            )
            yield from risks(page, chosen, as_of=context.as_of)
            if len(page) < batch_size:
                return
            after = page[-1].customer_id
