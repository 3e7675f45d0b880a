"""Set-based reads on a SQL store: each one query, run where the data is."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pycrm.access.scope import Scope
from pycrm.analytics.aggregate import Aggregation
from pycrm.analytics.lines import LineSales
from pycrm.analytics.visits import StageClosures, StageEntries, StageStays, Window
from pycrm.domain import Customer
from pycrm.grading.candidates import GradeCandidate
from pycrm.grading.churn import ChurnPolicy, ChurnSignals
from pycrm.grading.evaluate import RuleContext
from pycrm.grading.expr import Expr, Ref
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.rfm import RfmTable
from pycrm.storage.sqlalchemy.access import customer_condition
from pycrm.storage.sqlalchemy.aggregate import aggregate
from pycrm.storage.sqlalchemy.lines import line_sales
from pycrm.storage.sqlalchemy.repository import SqlEntityTable
from pycrm.storage.sqlalchemy.rfm import rfm
from pycrm.storage.sqlalchemy.rules import RuleCompiler
from pycrm.storage.sqlalchemy.tables import Tables
from pycrm.storage.sqlalchemy.visits import stage_closures, stage_entries, stage_stays


class SqlAnalytics:
    """``Analytics`` on one connection (inside the transaction's unit of work)."""

    def __init__(
        self,
        connection: Connection,
        tables: Tables,
        table: Callable[[str], SqlEntityTable[Any]],
        scope: Scope | None = None,
    ) -> None:
        self._conn = connection
        self._tables = tables
        self._base_table = table
        self._scope = scope
        self._visible: sa.ColumnElement[bool] = (
            sa.true() if scope is None else customer_condition(scope, tables.customers)
        )

    def within(self, scope: Scope) -> SqlAnalytics:
        """These reads over the customers in ``scope`` only (and their records)."""
        if scope.unrestricted:
            return self
        combined = scope if self._scope is None else self._scope & scope
        return SqlAnalytics(self._conn, self._tables, self._base_table, combined)

    def _table(self, entity_type: str) -> SqlEntityTable[Any]:
        table = self._base_table(entity_type)
        return table if self._scope is None else table.within(self._scope)

    def _customer_ids(self) -> sa.Select[Any]:
        c = self._tables.customers
        return sa.select(c.c.id).where(self._visible)

    def _compiler(self, context: RuleContext) -> RuleCompiler:
        return RuleCompiler(
            self._tables,
            self._conn.dialect.name,
            as_of=context.as_of,
            stage_probabilities=context.stage_probabilities,
        )

    def customers(
        self, rule: Expr, context: RuleContext, *, after: str | None, limit: int
    ) -> list[Customer]:
        condition = self._compiler(context).condition(rule)
        found: list[Customer] = self._table(Customer.ENTITY_TYPE).page_where(
            [condition], after=after, limit=limit
        )
        return found

    def count_customers(self, rule: Expr, context: RuleContext) -> int:
        condition = self._compiler(context).condition(rule)
        return self._table(Customer.ENTITY_TYPE).count_where([condition])

    def grade_candidates(
        self,
        grades: Sequence[tuple[str, Expr]],
        context: RuleContext,
        *,
        scheme: str,
        after: str | None,
        limit: int,
    ) -> list[GradeCandidate]:
        compiler = self._compiler(context)
        c = self._tables.customers
        grade = sa.case(
            *((compiler.condition(rule), sa.literal(name)) for name, rule in grades),
            else_=sa.null(),
        )
        last = compiler.term(Ref("last_interaction_at")).column
        query = sa.select(c.c.id, grade.label("grade"), last.label("last"))
        if self._scope is not None:
            query = query.where(self._visible)
        if after is not None:
            query = query.where(c.c.id > after)
        rows = self._conn.execute(query.order_by(c.c.id).limit(limit)).all()
        if not rows:
            return []
        g = self._tables.customer_grades
        ids = [row[0] for row in rows]
        stored: list[CustomerGrade] = self._table(CustomerGrade.ENTITY_TYPE).page_where(
            [g.c.scheme == scheme, g.c.customer_id.in_(ids)], after=None, limit=len(ids)
        )
        current = {grade.customer_id: grade for grade in stored}
        return [GradeCandidate(cid, name, at, current.get(cid)) for cid, name, at in rows]

    def churn_signals(
        self, policy: ChurnPolicy, context: RuleContext, *, after: str | None, limit: int
    ) -> list[ChurnSignals]:
        compiler = self._compiler(context)
        c = self._tables.customers
        last_interaction = compiler.term(Ref("last_interaction_at")).column
        last_order = compiler.term(Ref("last_order_at")).column
        window = policy.window_days
        recent = compiler.term(Ref("order_count", (("days", window),))).column
        both = compiler.term(Ref("order_count", (("days", 2 * window),))).column
        cutoff = context.as_of - timedelta(days=policy.inactive_days + 1)
        quiet = [
            sa.or_(last.is_(None), last <= sa.literal(cutoff, last.type))
            for last in (last_interaction, last_order)
        ]
        numerator, denominator = policy.ratio_parts
        previous = both - recent
        falling = sa.and_(
            previous >= policy.min_previous_orders, recent * denominator <= previous * numerator
        )
        query = sa.select(c.c.id, last_interaction, last_order, recent, both).where(
            sa.or_(sa.and_(*quiet), falling)
        )
        if self._scope is not None:
            query = query.where(self._visible)
        if after is not None:
            query = query.where(c.c.id > after)
        rows = self._conn.execute(query.order_by(c.c.id).limit(limit)).all()
        return [
            ChurnSignals(cid, seen, bought, int(n), int(total) - int(n))
            for cid, seen, bought, n, total in rows
        ]

    def aggregate(self, aggregation: Aggregation) -> list[tuple[Any, ...]]:
        return aggregate(
            self._conn, self._table(aggregation.entity), self._base_table("customer"), aggregation
        )

    def stage_entries(self, window: Window) -> list[StageEntries]:
        return stage_entries(self._conn, self._tables, self._table("opportunity"), window)

    def stage_stays(self, window: Window) -> list[StageStays]:
        return stage_stays(self._conn, self._tables, self._table("opportunity"), window)

    def stage_closures(self, window: Window) -> list[StageClosures]:
        return stage_closures(self._conn, self._tables, self._table("opportunity"), window)

    def line_sales(self, window: Window, statuses: Collection[str]) -> list[LineSales]:
        return line_sales(self._conn, self._tables, self._table("order"), window, statuses)

    def rfm(self, *, as_of: datetime, bins: int, currency: str | None) -> RfmTable:
        where = []
        if self._scope is not None:
            where.append(self._tables.orders.c.customer_id.in_(self._customer_ids()))
        return rfm(self._conn, self._tables, as_of=as_of, bins=bins, currency=currency, where=where)

    def points_holders(self, *, after: str | None, limit: int) -> list[str]:
        # DISTINCT over the (customer_id, occurred_at) index: no ledger rows are read.
        holder = self._tables.points_entries.c.customer_id
        query = sa.select(holder).distinct().order_by(holder).limit(limit)
        if after is not None:
            query = query.where(holder > after)
        if self._scope is not None:
            query = query.where(holder.in_(self._customer_ids()))
        return [row[0] for row in self._conn.execute(query)]
