"""The demo package: generated sample data and its summary, on the in-memory store."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pycrm import (
    CRM,
    ChangeKind,
    FixedClock,
    InteractionChannel,
    LifecycleStatus,
    OrderStatus,
    TaskStatus,
    TicketStatus,
)
from pycrm.demo import DEMO_NOW, SECTIONS, Block, SummaryContext, load, summarize
from pycrm.demo import vocabulary as vocab
from pycrm.tabular import display_width, format_table


def demo_crm(customers: int = 120, seed: int = 11) -> CRM:
    crm = CRM.memory(clock=FixedClock(DEMO_NOW))
    load(crm, customers=customers, seed=seed)
    return crm


@pytest.fixture(scope="module")
def crm() -> CRM:
    return demo_crm()


def test_load_reports_what_it_stored(crm: CRM) -> None:
    fresh = CRM.memory(clock=FixedClock(DEMO_NOW))
    counts = load(fresh, customers=30, seed=3)
    with fresh.session() as s:
        stored = {
            "customer": s.customers.count(),
            "contact": s.contacts.count(),
            "order": s.orders.count(),
            "interaction": s.interactions.count(),
            "task": s.tasks.count(),
            "opportunity": s.opportunities.count(),
            "customer_grade": s.customer_grades.count(),
            "ticket": s.tickets.count(),
        }
    assert counts == stored
    # Every customer is graded by both demo schemes (A/B/C and tiers).
    assert stored["customer_grade"] == 2 * stored["customer"]
    assert stored["customer"] == 30


def test_sample_data_is_realistic(crm: CRM) -> None:
    with crm.session() as s:
        customers = list(s.customers.stream())
        contacts = list(s.contacts.stream())
        orders = list(s.orders.stream())
        interactions = list(s.interactions.stream())
        tasks = list(s.tasks.stream())
    by_id = {c.id: c for c in customers}

    kinds = Counter(c.kind.value for c in customers)
    assert kinds["company"] > 0
    assert kinds["person"] > 0
    assert {c.status for c in customers} == set(LifecycleStatus)
    assert len({c.industry for c in customers if c.industry}) >= 5
    assert {c.region for c in customers} & set(vocab.REGIONS_CN)
    assert {c.region for c in customers} & set(vocab.REGIONS_ABROAD)
    assert any(re.search(r"[\u4e00-\u9fff]", c.name) for c in customers)
    assert any(re.fullmatch(r"[A-Za-z .]+", c.name) for c in customers)
    assert all(any(t.startswith("purchase-intent:") for t in c.tags) for c in customers)
    assert {c.customer_id for c in contacts} <= {c.id for c in customers if c.is_company}

    for order in orders:
        customer = by_id[order.customer_id]
        expected = "CNY" if customer.region in vocab.REGIONS_CN else "USD"
        assert order.total.currency == expected
        assert order.lines
        assert order.placed_at <= DEMO_NOW
        assert customer.status in (
            LifecycleStatus.ACTIVE,
            LifecycleStatus.DORMANT,
            LifecycleStatus.CHURNED,
        )
    assert {o.status for o in orders} >= {OrderStatus.FULFILLED, OrderStatus.CANCELLED}
    assert min(o.placed_at for o in orders).year <= DEMO_NOW.year - 1

    assert {i.channel for i in interactions} == set(InteractionChannel)
    assert any(i.objections for i in interactions)
    assert any(i.commitments for i in interactions)
    assert any(i.next_action for i in interactions)

    statuses = Counter(t.status for t in tasks)
    assert statuses[TaskStatus.DONE]
    assert statuses[TaskStatus.OPEN]
    assert any(t.is_overdue(DEMO_NOW) for t in tasks)
    assert any(t.due_at > DEMO_NOW for t in tasks)


def test_the_same_seed_gives_the_same_data_and_summary() -> None:
    first, second = demo_crm(40, seed=8), demo_crm(40, seed=8)
    with first.session() as a, second.session() as b:
        assert list(a.customers.stream()) == list(b.customers.stream())
        assert list(a.orders.stream()) == list(b.orders.stream())
        assert list(a.tasks.stream()) == list(b.tasks.stream())
    assert summarize(first) == summarize(second)
    assert summarize(demo_crm(40, seed=9)) != summarize(first)


def test_history_shows_people_changing_the_top_customer(crm: CRM) -> None:
    summary = summarize(crm)
    audit = summary.split("Audit log of one customer")[1]
    top = summary.split("in CNY:")[1].splitlines()[3]  # first ranked row
    name = top.split()[1]
    assert name in audit
    assert "demo" in audit
    assert "sales.manager" in audit
    assert re.search(r"phone: \d{3}\*{4}\d{4} -> \d{3}\*{4}\d{4}", audit)
    with crm.session() as s:
        entries = [
            e
            for c in s.customers.stream(priority="high")
            for e in s.audit.for_entity(c)
            if e.action is ChangeKind.CHANGED
        ]
    assert {e.actor for e in entries} >= {"sales.manager"}


def test_summary_masks_every_phone_and_email(crm: CRM) -> None:
    summary = summarize(crm)
    with crm.session() as s:
        customers = list(s.customers.stream())
        contacts = list(s.contacts.stream())
    raw = {p.phone for p in customers if p.phone} | {p.phone for p in contacts if p.phone}
    raw |= {p.email for p in customers if p.email} | {p.email for p in contacts if p.email}
    assert raw
    assert not [value for value in raw if value in summary]
    assert re.search(r"\d{3}\*{4}\d{4}", summary)


def test_a_section_can_be_added(crm: CRM) -> None:
    def pipeline(ctx: SummaryContext) -> Block:
        return Block("Pipeline", [f"  {ctx.session.customers.count()} customers to work on"])

    summary = summarize(crm, sections=[*SECTIONS, pipeline])
    assert summary.rstrip().endswith("120 customers to work on")
    assert "Pipeline\n========" in summary


def test_tables_align_chinese_text_by_display_width() -> None:
    assert display_width("华东精密") == 8
    assert display_width("Emily") == 5
    lines = format_table(
        ["customer", "region", "total"],
        [("华东精密制造有限公司", "华东", 12), ("Northwind Components Ltd", "Europe", 1234567)],
    )
    assert len({display_width(line) for line in lines}) == 1
    assert lines[-1].endswith("1,234,567")
    assert lines[2].endswith("12")


def test_pipeline_section_counts_deals_per_stage_and_forecasts_per_currency(crm: CRM) -> None:
    with crm.session() as s:
        deals = list(s.opportunities.stream())
    assert deals
    stages = Counter(deal.stage for deal in deals)
    assert stages["lost"]
    assert sum(stages.values()) > stages["lost"] + stages["initial_contact"]
    assert all(deal.lost_reason for deal in deals if deal.stage == "lost")
    block = summarize(crm).split("Pipeline\n========\n")[1].split("\n\n\n")[0]
    for label in ("Initial contact", "合同签订", "Lost"):
        assert label in block
    initial = next(line for line in block.splitlines() if "Initial contact" in line)
    assert re.search(rf"10%\s+{stages['initial_contact']}\s", initial)
    assert "weighted forecast of" in block


def test_tickets_are_worked_through_their_statuses(crm: CRM) -> None:
    with crm.session() as s:
        tickets = list(s.tickets.stream())
        customers = {c.id: c for c in s.customers.stream()}
    assert len(tickets) > 20
    assert {t.type for t in tickets} == set(vocab.TICKET_TYPE_WEIGHTS)
    statuses = Counter(t.status for t in tickets)
    assert statuses[TicketStatus.CLOSED]
    assert statuses[TicketStatus.IN_PROGRESS]
    for ticket in tickets:
        assert ticket.opened_at <= DEMO_NOW
        assert ticket.status_state.entered_at <= DEMO_NOW
        assert ticket.group == vocab.GROUP_BY_TICKET_TYPE[ticket.type]
        assert ticket.assignee is None or ticket.assignee in vocab.SERVICE_GROUPS[ticket.group]
        assert customers[ticket.customer_id].status in (
            LifecycleStatus.ACTIVE,
            LifecycleStatus.DORMANT,
        )
        if ticket.resolved_at is not None:
            assert ticket.first_response_at is not None
            assert ticket.first_response_at <= ticket.resolved_at
    assert any(t.satisfaction is not None for t in tickets)


def test_service_section_counts_open_tickets_by_sla_state(crm: CRM) -> None:
    with crm.session() as s:
        open_count = s.tickets.count(is_open=True)
    block = summarize(crm).split("Service desk")[1].split("\n\n\n")[0]
    counts = re.search(r"breached (\d+), warning (\d+), running (\d+), paused (\d+)", block)
    assert counts is not None
    assert sum(int(n) for n in counts.groups()) == open_count
    assert "resolved in the last 30 days" in block
    assert "repeat complaints" in block


def test_a_demo_run_in_a_holiday_break_opens_no_ticket_in_the_future() -> None:
    # Noon on the last day of the 2026 Spring Festival break in Beijing: for nine days no
    # office hour has opened, and the next one is still to come.
    noon = datetime(2026, 2, 23, 4, 0, tzinfo=timezone.utc)
    crm = CRM.memory(clock=FixedClock(noon))
    load(crm, customers=60, seed=5)
    with crm.session() as s:
        assert max(t.opened_at for t in s.tickets.stream()) <= noon
    assert "Service desk" in summarize(crm)


def test_the_summary_ends_with_the_management_summary(crm: CRM) -> None:
    from pycrm import Period
    from pycrm.analytics.diagnosis import diagnose, findings
    from pycrm.demo.management import KEY_METRICS, SHOWN_FINDINGS

    summary = summarize(crm)
    last = summary[summary.index("Management summary") :]
    assert sum(set(line) == {"="} for line in last.splitlines()) == 1, "the last section"
    # DEMO_NOW is in June 2026: the review covers May against April.
    assert last.startswith("Management summary, 2026-05\n")
    assert "2026-05 against 2026-04" in last
    with crm.session() as s:
        table = diagnose(s, Period.parse("2026-05"))
    expected = findings(table)
    assert f"findings ({len(expected)} flagged by the diagnosis):" in last
    shown = [line[4:] for line in last.splitlines() if line.startswith("  - ")]
    if expected:
        # The largest moves first, at most SHOWN_FINDINGS of them.
        assert len(shown) == min(len(expected), SHOWN_FINDINGS)
        assert set(shown) <= set(expected)
        changes = {row.finding: abs(row.change) for row in table if row.flagged}
        assert [changes[f] for f in shown] == sorted((changes[f] for f in shown), reverse=True)
        assert min(changes[f] for f in shown) >= max(
            [changes[f] for f in expected if f not in shown], default=0
        )
    for name in [name for name in KEY_METRICS if name in crm.reports.metrics]:
        assert f"  {crm.reports.metrics[name].title}" in last
    assert len(last.splitlines()) <= 30, "one screen"


def test_the_demo_writes_its_figures(crm: CRM, tmp_path: Path) -> None:
    from pycrm.analytics import plots
    from pycrm.demo import write_plots

    written = write_plots(crm, tmp_path / "figures")
    expected = [f"{name}-2026-05.png" for name in plots.PLOTS if name in crm.reports]
    assert [path.name for path in written] == [*expected, "rfm.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
