"""The SQL compiler emits an ``and``'s parts cheapest first, whatever order the rule says."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pycrm.grading.expr import F
from pycrm.storage.sqlalchemy import define_tables
from pycrm.storage.sqlalchemy.rules import RuleCompiler

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)


def compiled(rule: object) -> str:
    tables = define_tables(sa.MetaData())
    compiler = RuleCompiler(tables, "sqlite", as_of=AS_OF, stage_probabilities={})
    condition = compiler.condition(rule)  # type: ignore[arg-type]
    return str(sa.select(tables.customers.c.id).where(condition).compile(dialect=sqlite.dialect()))


def test_columns_then_interactions_then_orders() -> None:
    sql = compiled(
        (F.spend(days=365) > 1_000)
        & (F.days_since_interaction > 90)
        & F.tags.has_tag("vip")
        & (F.industry == "manufacturing")
    )
    where = sql.split("WHERE", 1)[1]
    positions = [
        where.index(part)
        for part in ("customers.industry =", "customer_tags", "interactions", "orders")
    ]
    assert positions == sorted(positions)


def test_ties_keep_the_rules_order() -> None:
    sql = compiled((F.region == "华东") & (F.industry == "retail") & (F.status == "active"))
    where = sql.split("WHERE", 1)[1]
    positions = [where.index(f"customers.{name} =") for name in ("region", "industry", "status")]
    assert positions == sorted(positions)
