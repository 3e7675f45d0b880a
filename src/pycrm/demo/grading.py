"""The demo's grading part: every customer graded after loading, and summary sections for
the grade distribution, the RFM segments and the customers at churn risk.

The sample data sells in CNY and USD; grades and RFM here count CNY purchases, as a shop
reporting in its home currency would (see ``currency=`` in the grading docs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from pycrm import CRM, ChurnPolicy, GradeScheme, abc_scheme, tier_scheme
from pycrm.demo.figures import featured_customer
from pycrm.demo.summary import Block, SummaryContext
from pycrm.tabular import format_table

HOME_CURRENCY = "CNY"
DEMO_SCHEMES: tuple[GradeScheme, ...] = (
    abc_scheme(currency=HOME_CURRENCY),
    tier_scheme(currency=HOME_CURRENCY),
)


def grade_customers(crm: CRM, actor: str) -> int:
    """Grade everyone by the demo's schemes; how many grades were stored."""
    return sum(crm.regrade(scheme, actor=actor).assigned for scheme in DEMO_SCHEMES)


def grades(ctx: SummaryContext) -> Block:
    """Customers per A/B/C grade and loyalty tier, follow-ups due within a week, and why the
    top customer has its grade."""
    s = ctx.session
    lines: list[str] = []
    for scheme in DEMO_SCHEMES:
        # Counted where the grades are stored, a query per grade, not read back row by row.
        counts = {
            name: s.customer_grades.count(scheme=scheme.name, grade=name)
            for name in [*(grade.name for grade in scheme.grades), None]
        }
        total = sum(counts.values())
        rows = [
            (grade.name, grade.label or "-", counts[grade.name], _share(counts[grade.name], total))
            for grade in scheme.grades
        ]
        if counts[None]:
            rows.append(("none", "-", counts[None], _share(counts[None], total)))
        lines.append(f"  {scheme.name}: {scheme.description}")
        lines.extend(format_table(["grade", "meaning", "customers", "share"], rows))
        lines.append("")
    overdue = soon = 0
    for stored in s.customer_grades.stream(scheme=DEMO_SCHEMES[0].name):
        due = stored.next_follow_up_at
        if due is not None and due <= ctx.now:
            overdue += 1
        elif due is not None and due - ctx.now <= timedelta(days=7):
            soon += 1
    lines.append(f"  follow-ups overdue: {overdue}; due within a week: {soon}")
    customer_id = featured_customer(ctx.orders.totals)
    if customer_id is not None:
        result = s.explain_grade(customer_id, DEMO_SCHEMES[0])
        name = s.customers.get(customer_id).name
        lines.append(f"  why {name} is {result.grade}:")
        lines.extend(f"    {reason.rule}  ({_values(reason.values)})" for reason in result.reasons)
    return Block("Grades and tiers (CNY purchases)", lines)


def rfm_segments(ctx: SummaryContext) -> Block:
    """RFM segment sizes and value, computed in the database."""
    table = ctx.session.rfm(currency=HOME_CURRENCY)
    if not table:
        return Block("RFM segments", ["  no purchases"])
    rows = [
        (s.segment, s.customers, f"{s.share * 100:.1f}%", s.monetary_total, s.monetary_mean)
        for s in table.summary()
    ]
    lines = format_table(["segment", "customers", "share", "total CNY", "mean CNY"], rows)
    classes: Counter[str] = Counter(row.value_class.name for row in table.segmented())
    lines.append("")
    lines.append("  value classes: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    return Block(f"RFM segments ({len(table)} customers with CNY purchases)", lines)


def churn_risk(ctx: SummaryContext) -> Block:
    """How many customers are at risk of churning, and for which reason."""
    reasons: Counter[str] = Counter()
    examples: list[tuple[str, str]] = []
    for risk in ctx.session.customers.at_risk(ChurnPolicy()):
        reasons.update(risk.reasons)
        if len(examples) < 3 and "falling_frequency" in risk.reasons:
            name = ctx.session.customers.get(risk.customer_id).name
            examples.append((name, risk.explanation))
    lines = format_table(["reason", "customers"], sorted(reasons.items()))
    if examples:
        lines.append("")
        lines.extend(f"  {name}: {why}" for name, why in examples)
    return Block("Churn risk (no contact for 182 days, or buying half as often)", lines)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _values(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())
