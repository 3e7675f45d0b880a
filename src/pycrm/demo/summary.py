"""A readable overview of what is in a CRM, as aligned plain-text tables.

The summary is a list of sections (:data:`SECTIONS`), each a function from a
:class:`SummaryContext` to a :class:`Block`; a later capability appends its own. Everything
is read back through a session (so it shows what was stored, not what was generated), and
personal data appears only masked.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from pycrm import (
    CRM,
    Customer,
    InteractionChannel,
    LifecycleStatus,
    Money,
    Order,
    Session,
    TaskStatus,
    default_pipeline,
    forecast,
    mask_email,
    mask_phone,
)
from pycrm.demo.figures import (
    REVENUE_STATUSES,
    currencies,
    featured_customer,
    order_totals,
    top_customers,
)
from pycrm.tabular import format_table

SUMMARY_ACTOR = "demo"
PERSON_LABEL = "(person)"
"""Shown instead of an industry for people: industry is a company-only field."""


@attrs.frozen
class Block:
    """One titled part of the summary."""

    title: str
    lines: Sequence[str]


@attrs.frozen
class CustomerFigures:
    count: int
    by_status: Counter[str]
    by_industry: Counter[str]
    by_region: Counter[str]


@attrs.frozen
class OrderFigures:
    totals: dict[str, dict[str, tuple[int, Decimal]]]
    """currency -> customer id -> (orders, total), see :func:`figures.order_totals`."""
    months: list[datetime]
    """Starts of the last six calendar months (UTC), oldest first."""
    per_month: Counter[datetime]
    revenue: dict[tuple[datetime, str], Decimal]
    """(month start, currency) -> total of the month's revenue orders."""


def _month(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class SummaryContext:
    """A read session, the time the summary is "as of", and figures several sections share.

    Each figure is computed at most once, in one streaming pass, so memory stays flat however
    large the CRM is.
    """

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    @functools.cached_property
    def customers(self) -> CustomerFigures:
        by_status: Counter[str] = Counter()
        by_industry: Counter[str] = Counter()
        by_region: Counter[str] = Counter()
        count = 0
        for customer in self.session.customers.stream():
            count += 1
            by_status[customer.status.value] += 1
            by_industry[customer.industry or PERSON_LABEL] += 1
            by_region[customer.region or "-"] += 1
        return CustomerFigures(count, by_status, by_industry, by_region)

    @functools.cached_property
    def orders(self) -> OrderFigures:
        this_month = _month(self.now)
        months = [this_month - relativedelta(months=back) for back in range(5, -1, -1)]
        per_month: Counter[datetime] = Counter()
        revenue: dict[tuple[datetime, str], Decimal] = {}

        def tally(orders: Iterable[Order]) -> Iterator[Order]:
            # Monthly figures ride along the one pass that computes the customer totals.
            for order in orders:
                if order.placed_at >= months[0]:
                    month = _month(order.placed_at)
                    per_month[month] += 1
                    if order.status in REVENUE_STATUSES:
                        key = (month, order.total.currency)
                        revenue[key] = revenue.get(key, Decimal(0)) + order.total.amount
                yield order

        totals = order_totals(tally(self.session.orders.stream()))
        return OrderFigures(totals, months, per_month, revenue)


Section = Callable[[SummaryContext], Block]


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def records(ctx: SummaryContext) -> Block:
    s = ctx.session
    rows = [
        ("customers", s.customers.count()),
        ("contacts", s.contacts.count()),
        ("orders", s.orders.count()),
        ("interactions", s.interactions.count()),
        ("tasks", s.tasks.count()),
        ("opportunities", s.opportunities.count()),
        ("customer grades", s.customer_grades.count()),
        ("tickets", s.tickets.count()),
    ]
    return Block("Records", format_table(["entity", "count"], rows))


def _breakdown(
    title: str, label: str, counter: Counter[str], total: int, keys: Sequence[str]
) -> Block:
    rows = [(key, counter[key], _share(counter[key], total)) for key in keys]
    table = format_table([label, "customers", "share"], rows, right=[False, True, True])
    return Block(title, table)


def _by_count(counter: Counter[str]) -> list[str]:
    return [key for key, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]


def customers_by_status(ctx: SummaryContext) -> Block:
    figures = ctx.customers
    statuses = [status.value for status in LifecycleStatus]  # lifecycle order, zeros shown
    return _breakdown("Customers by status", "status", figures.by_status, figures.count, statuses)


def customers_by_industry(ctx: SummaryContext) -> Block:
    figures = ctx.customers
    keys = _by_count(figures.by_industry)
    return _breakdown("Customers by industry", "industry", figures.by_industry, figures.count, keys)


def customers_by_region(ctx: SummaryContext) -> Block:
    figures = ctx.customers
    keys = _by_count(figures.by_region)
    return _breakdown("Customers by region", "region", figures.by_region, figures.count, keys)


def interactions_by_channel(ctx: SummaryContext) -> Block:
    rows = [(c.value, ctx.session.interactions.count(channel=c)) for c in InteractionChannel]
    return Block("Interactions by channel", format_table(["channel", "interactions"], rows))


def _customer_label(customer: Customer) -> str:
    return customer.name if len(customer.name) <= 40 else customer.name[:39] + "…"


def top_ten(ctx: SummaryContext) -> Block:
    """Ranked per currency: adding CNY to USD would need an exchange rate."""
    lines: list[str] = []
    totals = ctx.orders.totals
    for currency in currencies(totals):
        rows = []
        for rank, (customer_id, count, total) in enumerate(
            top_customers(totals, currency, 10), start=1
        ):
            customer = ctx.session.customers.get(customer_id)
            rows.append(
                (
                    rank,
                    _customer_label(customer),
                    customer.region,
                    customer.status.value,
                    mask_phone(customer.phone),
                    count,
                    total,
                )
            )
        if lines:
            lines.append("")
        lines.append(f"  in {currency}:")
        lines.extend(
            format_table(
                ["#", "customer", "region", "status", "phone", "orders", f"total {currency}"],
                rows,
            )
        )
    if not lines:
        lines.append("  no orders")
    return Block("Top 10 customers by order total (cancelled and refunded orders left out)", lines)


def orders_by_month(ctx: SummaryContext) -> Block:
    figures = ctx.orders
    known = currencies(figures.totals) or ["CNY"]
    this_month = figures.months[-1]
    rows = []
    for start in figures.months:
        label = f"{start:%Y-%m}" + (" (to date)" if start == this_month else "")
        revenue = (figures.revenue.get((start, c), Decimal(0)) for c in known)
        rows.append((label, figures.per_month[start], *revenue))
    headers = ["month (UTC)", "orders", *(f"revenue {c}" for c in known)]
    right = [False] + [True] * (len(headers) - 1)
    return Block("Orders by month, last 6 months", format_table(headers, rows, right=right))


def tasks(ctx: SummaryContext) -> Block:
    s = ctx.session
    overdue: Counter[str] = Counter()
    upcoming = 0
    for task in s.tasks.stream(status=TaskStatus.OPEN):
        if task.is_overdue(ctx.now):
            overdue[task.assignee or "-"] += 1
        else:
            upcoming += 1
    rows = [
        ("open, not yet due", upcoming),
        ("open, overdue", sum(overdue.values())),
        ("done", s.tasks.count(status=TaskStatus.DONE)),
        ("cancelled", s.tasks.count(status=TaskStatus.CANCELLED)),
    ]
    lines = format_table(["tasks", "count"], rows)
    if overdue:
        lines.append("")
        lines.append("  most overdue tasks by assignee:")
        worst = sorted(overdue.items(), key=lambda item: (-item[1], item[0]))[:5]
        lines.extend(format_table(["assignee", "overdue"], worst))
    return Block("Open and overdue tasks", lines)


def pipeline(ctx: SummaryContext) -> Block:
    """Deals per stage of the default pipeline with their amounts, then the weighted forecast
    of the open ones; amounts stay per currency, as everywhere in the summary."""
    machine = default_pipeline()
    counts: Counter[str] = Counter()
    amounts: dict[tuple[str, str], Decimal] = {}
    open_deals = []
    for deal in ctx.session.opportunities.stream(pipeline=machine.name):
        counts[deal.stage] += 1
        cell = (deal.stage, deal.amount.currency)
        amounts[cell] = amounts.get(cell, Decimal(0)) + deal.amount.amount
        if deal.is_open:
            open_deals.append(deal)
    if not counts:
        return Block("Pipeline", ["  no opportunities"])
    known = sorted({currency for _, currency in amounts})
    rows = []
    for key in machine.keys:
        stage = machine.stage(key)
        probability = f"{stage.probability:.0%}" if stage.probability is not None else "-"
        totals = (amounts.get((key, c), Decimal(0)) for c in known)
        rows.append((stage.label("en"), stage.label("zh-CN"), probability, counts[key], *totals))
    headers = ["stage", "阶段", "win", "deals", *(f"amount {c}" for c in known)]
    right = [False, False, True, True] + [True] * len(known)
    lines = format_table(headers, rows, right=right)
    weighted = forecast(open_deals, machine)
    lines.append("")
    lines.append(f"  weighted forecast of {len(open_deals)} open deals:")
    forecast_rows = [(c, weighted.get(c, Money.zero(c)).amount) for c in known]
    lines.extend(format_table(["currency", "weighted amount"], forecast_rows))
    return Block("Pipeline", lines)


def _jsonish(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _describe_change(field: str, old: object, new: object) -> str:
    """``field: old -> new``; for collections (tags) only what was added and removed."""
    if isinstance(old, list) and isinstance(new, list):
        added = [f"+{v}" for v in new if v not in old]
        removed = [f"-{v}" for v in old if v not in new]
        return f"{field}: {' '.join(added + removed)}"
    return f"{field}: {_jsonish(old)} -> {_jsonish(new)}"


def audit_example(ctx: SummaryContext) -> Block:
    """The audit trail of the top customer: who created and changed it, field by field."""
    s = ctx.session
    customer_id = featured_customer(ctx.orders.totals)
    if customer_id is None:
        first = s.customers.list(limit=1).items
        if not first:
            return Block("Audit log", ["  no customers"])
        customer_id = first[0].id
    customer = s.customers.get(customer_id)
    rows: list[tuple[str, str, str, str]] = []
    for entry in s.audit.for_entity(customer):
        at = f"{entry.at:%Y-%m-%d %H:%M}"
        changes = sorted((entry.changes or {}).items())
        if not changes:
            rows.append((at, entry.actor, entry.action.value, "-"))
        for number, (field, (old, new)) in enumerate(changes):
            change = _describe_change(field, old, new)
            if number == 0:
                rows.append((at, entry.actor, entry.action.value, change))
            else:
                rows.append(("", "", "", change))
    heading = [
        f"  {customer.name} ({customer.kind.value}, {customer.status.value}, "
        f"owner {customer.owner or '-'}, phone {mask_phone(customer.phone) or '-'}, "
        f"email {mask_email(customer.email) or '-'})",
        "",
    ]
    table = format_table(["at (UTC)", "actor", "action", "changes"], rows)
    return Block("Audit log of one customer", heading + table)


SECTIONS: list[Section] = [
    records,
    customers_by_status,
    customers_by_industry,
    customers_by_region,
    interactions_by_channel,
    top_ten,
    orders_by_month,
    tasks,
    pipeline,
    audit_example,
]
"""The summary's sections, in order; append to add one."""


def render_blocks(blocks: Sequence[Block]) -> str:
    parts = []
    for block in blocks:
        parts.append("\n".join([block.title, "=" * len(block.title), *block.lines]))
    return "\n\n".join(parts) + "\n"


def summarize(crm: CRM, *, sections: Sequence[Section] = SECTIONS) -> str:
    """The summary of ``crm`` as of its clock's now, one block per section."""
    now = crm.clock.now()
    with crm.session(actor=SUMMARY_ACTOR) as session:
        ctx = SummaryContext(session, now)
        blocks = [section(ctx) for section in sections]
    title = f"pycrm demo summary, as of {now:%Y-%m-%d %H:%M} UTC"
    return f"{title}\n{'#' * len(title)}\n\n" + render_blocks(blocks)
