"""Set-based reads on the memory store, computed in Python over the transaction's view.

The memory store is the reference model: each answer here is what the SQL store's query must
return on the same data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pycrm.access.scope import Scope
from pycrm.analytics.aggregate import Aggregation
from pycrm.analytics.lines import LineSales
from pycrm.analytics.visits import StageClosures, StageEntries, StageStays, Window
from pycrm.domain import Customer, Interaction, Order
from pycrm.grading.candidates import GradeCandidate
from pycrm.grading.churn import ChurnPolicy, ChurnSignals, assess, signals_of
from pycrm.grading.evaluate import NO_FACTS, CustomerFacts, RuleContext, evaluate, metric_value
from pycrm.grading.expr import Expr, Ref
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import PointsEntry
from pycrm.grading.rfm import RfmTable, score
from pycrm.storage.memory import lines, visits
from pycrm.storage.memory.aggregate import aggregate

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTransaction


class MemoryAnalytics:
    """``Analytics`` for a :class:`MemoryTransaction`."""

    def __init__(self, tx: MemoryTransaction, scope: Scope | None = None) -> None:
        self._tx = tx
        self._scope = scope

    def within(self, scope: Scope) -> MemoryAnalytics:
        """These reads over the customers in ``scope`` only (and their records)."""
        if scope.unrestricted:
            return self
        return MemoryAnalytics(self._tx, scope if self._scope is None else self._scope & scope)

    def _customers(self) -> list[Customer]:
        found: list[Customer] = self._tx.table(Customer.ENTITY_TYPE)._visible()
        scope = self._scope
        return found if scope is None else [c for c in found if scope.allows(c)]

    def _visible_ids(self) -> set[str] | None:
        """Ids of the customers in scope; ``None`` when every customer is."""
        return None if self._scope is None else {c.id for c in self._customers()}

    def _facts(self, context: RuleContext) -> dict[str, CustomerFacts]:
        """Every customer's facts, gathered in one pass over each table."""
        grouped: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for entity_type, key in (
            (Order.ENTITY_TYPE, "orders"),
            (Interaction.ENTITY_TYPE, "interactions"),
            ("opportunity", "opportunities"),
            (PointsEntry.ENTITY_TYPE, "points"),
        ):
            for record in self._tx.table(entity_type)._visible():
                grouped[record.customer_id][key].append(record)
        return {
            customer_id: CustomerFacts.from_records(
                **records, stage_probabilities=context.stage_probabilities
            )
            for customer_id, records in grouped.items()
        }

    def _matching(self, rule: Expr, context: RuleContext) -> list[Customer]:
        facts = self._facts(context)
        customers = self._customers()
        return sorted(
            (
                c
                for c in customers
                if evaluate(rule, c, facts.get(c.id, NO_FACTS), context.as_of) is True
            ),
            key=lambda c: c.id,
        )

    def customers(
        self, rule: Expr, context: RuleContext, *, after: str | None, limit: int
    ) -> list[Customer]:
        found = self._matching(rule, context)
        if after is not None:
            found = [c for c in found if c.id > after]
        return found[:limit]

    def count_customers(self, rule: Expr, context: RuleContext) -> int:
        return len(self._matching(rule, context))

    def grade_candidates(
        self,
        grades: Sequence[tuple[str, Expr]],
        context: RuleContext,
        *,
        scheme: str,
        after: str | None,
        limit: int,
    ) -> list[GradeCandidate]:
        facts = self._facts(context)
        customers: list[Customer] = sorted(
            (c for c in self._customers() if after is None or c.id > after),
            key=lambda c: c.id,
        )[:limit]
        stored: list[CustomerGrade] = self._tx.table(CustomerGrade.ENTITY_TYPE)._visible()
        current = {g.customer_id: g for g in stored if g.scheme == scheme}
        last_interaction = Ref("last_interaction_at")
        found = []
        for customer in customers:
            known = facts.get(customer.id, NO_FACTS)
            grade = next(
                (
                    name
                    for name, rule in grades
                    if evaluate(rule, customer, known, context.as_of) is True
                ),
                None,
            )
            last = metric_value(last_interaction, known, context.as_of)
            found.append(GradeCandidate(customer.id, grade, last, current.get(customer.id)))
        return found

    def churn_signals(
        self, policy: ChurnPolicy, context: RuleContext, *, after: str | None, limit: int
    ) -> list[ChurnSignals]:
        facts = self._facts(context)
        customers = self._customers()
        found = []
        for customer in sorted(customers, key=lambda c: c.id):
            if after is not None and customer.id <= after:
                continue
            signals = signals_of(
                customer.id, facts.get(customer.id, NO_FACTS), policy, as_of=context.as_of
            )
            if assess(signals, policy, as_of=context.as_of) is not None:
                found.append(signals)
                if len(found) == limit:
                    break
        return found

    def aggregate(self, aggregation: Aggregation) -> list[tuple[Any, ...]]:
        table = self._tx.table(aggregation.entity)
        if self._scope is not None:
            table = table.within(self._scope)
        return aggregate(table, self._tx.table(Customer.ENTITY_TYPE), aggregation)

    def _deals(self) -> Any:
        table = self._tx.table("opportunity")
        return table if self._scope is None else table.within(self._scope)

    def stage_entries(self, window: Window) -> list[StageEntries]:
        return visits.stage_entries(self._deals(), window)

    def stage_stays(self, window: Window) -> list[StageStays]:
        return visits.stage_stays(self._deals(), window)

    def stage_closures(self, window: Window) -> list[StageClosures]:
        return visits.stage_closures(self._deals(), window)

    def line_sales(self, window: Window, statuses: Collection[str]) -> list[LineSales]:
        table = self._tx.table(Order.ENTITY_TYPE)
        if self._scope is not None:
            table = table.within(self._scope)
        return lines.line_sales(table, window, statuses)

    def rfm(self, *, as_of: datetime, bins: int, currency: str | None) -> RfmTable:
        orders: list[Order] = self._tx.table(Order.ENTITY_TYPE)._visible()
        visible = self._visible_ids()
        purchases = (
            (order.customer_id, order.placed_at, order.total.amount)
            for order in orders
            if order.is_purchase
            and (currency is None or order.total.currency == currency)
            and (visible is None or order.customer_id in visible)
        )
        return score(purchases, as_of=as_of, bins=bins)

    def points_holders(self, *, after: str | None, limit: int) -> list[str]:
        entries = self._tx.table("points_entry")._visible()
        visible = self._visible_ids()
        holders = {
            e.customer_id
            for e in entries
            if (after is None or e.customer_id > after)
            and (visible is None or e.customer_id in visible)
        }
        return sorted(holders)[:limit]
