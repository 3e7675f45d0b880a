"""The demo's service desk: tickets worked through their statuses over the last two months,
and a summary section with the open ones on their SLA clocks.

Tickets are built with the pure lifecycle functions at generated moments and stored in bulk,
like the rest of the sample; the SLA states shown are then recomputed from the stored tickets
on the CRM's calendar and policies, as a host's own screen would.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from pycrm import (
    SlaState,
    Ticket,
    TicketPriority,
    TicketStatus,
    assign_ticket,
    china_calendar,
    move_ticket,
    open_ticket,
    rate_ticket,
    resolve_ticket,
    respond_to_ticket,
    ticket_sla,
)
from pycrm.demo import vocabulary as vocab
from pycrm.demo.sample import Profile, SampleContext
from pycrm.demo.summary import Block, SummaryContext
from pycrm.domain import LifecycleStatus
from pycrm.tabular import format_table

TICKET_DAYS = 60
"""How far back tickets go."""

_TICKET_SHARE = {LifecycleStatus.ACTIVE: 0.5, LifecycleStatus.DORMANT: 0.25}
"""Chance a customer of each status has raised tickets lately."""

_CALENDAR = china_calendar()
"""The calendar the sample's agents work by: the one the default SLA policies count on."""

_PRESSING = (SlaState.BREACHED, SlaState.WARNING, SlaState.RUNNING, SlaState.PAUSED)


def add_tickets(ctx: SampleContext) -> None:
    """Tickets for a share of active and dormant customers, each worked from opening towards
    closing at random paces: most are closed and rated by now, some wait on the customer, a
    few are still new. Some customers complain twice about the same thing within weeks."""
    rng = ctx.rng
    tickets: list[Ticket] = []
    for profile in ctx.profiles:
        if rng.random() >= _TICKET_SHARE.get(profile.status, 0.0):
            continue
        for _ in range(rng.choice((1, 1, 2, 3))):
            tickets.append(_ticket(ctx, profile, ctx.days_ago(TICKET_DAYS)))
        if rng.random() < 0.05:
            first = _ticket(ctx, profile, ctx.days_ago(TICKET_DAYS, 20), kind="complaint")
            again = first.opened_at + timedelta(days=rng.uniform(2, 18))
            tickets += [first, _ticket(ctx, profile, again, kind="complaint", like=first)]
    tickets.sort(key=lambda ticket: ticket.id)
    ctx.added("ticket", ctx.session.tickets.add_many(tickets))


def _ticket(
    ctx: SampleContext,
    profile: Profile,
    opened_at: datetime,
    *,
    kind: str | None = None,
    like: Ticket | None = None,
) -> Ticket:
    rng = ctx.rng
    types = list(vocab.TICKET_TYPE_WEIGHTS)
    kind = kind or ctx.weighted(types, list(vocab.TICKET_TYPE_WEIGHTS.values()))
    priorities = list(vocab.TICKET_PRIORITY_WEIGHTS)
    group = vocab.GROUP_BY_TICKET_TYPE[kind]
    # Most customers get in touch during office hours; some write in the evening.
    if rng.random() < 0.75 and _CALENDAR.next_open(opened_at) <= ctx.now:
        opened_at = _CALENDAR.next_open(opened_at)
    moment = opened_at.replace(second=0, microsecond=0)
    ticket = open_ticket(
        id=ctx.new_id(Ticket.ID_PREFIX),
        customer_id=profile.id,
        contact_id=rng.choice(profile.contact_ids) if profile.contact_ids else None,
        subject=like.subject if like else rng.choice(vocab.TICKET_SUBJECTS[kind]),
        type=kind,
        priority=ctx.weighted(priorities, list(vocab.TICKET_PRIORITY_WEIGHTS.values())),
        category=like.category if like else rng.choice(vocab.TICKET_CATEGORIES),
        channel=rng.choice(("phone", "email", "online", "messaging")),
        group=group,
        now=moment,
        by="service.desk",
    )
    agent = rng.choice(vocab.SERVICE_GROUPS[group])
    # (step, least hours, most hours, counted in working time?): agents work office hours,
    # customers answer and rate whenever they like.
    steps = [
        ("assign", 0.05, 0.5, True),
        ("respond", 0.1, 2.6, True),
        ("wait", 0.5, 6, True),
        ("resume", 2, 30, False),
        ("resolve", 1, 20, True),
        ("rate", 2, 72, False),
        ("close", 24, 120, False),
    ]
    for step, least, most, working in steps:
        delay = timedelta(hours=rng.uniform(least, most))
        following = _CALENDAR.add(moment, delay) if working else moment + delay
        if following > ctx.now:
            break
        moment = following.replace(second=0, microsecond=0)
        if step == "assign":
            ticket = assign_ticket(ticket, agent, now=moment, by="service.desk")
        elif step == "respond":
            ticket = move_ticket(ticket, "in_progress", now=moment, by=agent)
            ticket = respond_to_ticket(ticket, now=moment, by=agent)
        elif step == "wait" and rng.random() < 0.4:
            ticket = move_ticket(ticket, "waiting_on_customer", now=moment, by=agent)
        elif step == "resume" and ticket.status is TicketStatus.WAITING_ON_CUSTOMER:
            ticket = move_ticket(ticket, "in_progress", now=moment, by=agent)
        elif step == "resolve":
            solution = rng.choice(vocab.TICKET_SOLUTIONS)
            ticket = resolve_ticket(ticket, solution=solution, now=moment, by=agent)
        elif step == "rate" and rng.random() < 0.7:
            score = rng.choices((1, 2, 3, 4, 5), (4, 6, 15, 40, 35))[0]
            comment = rng.choice(vocab.SATISFACTION_COMMENTS)
            ticket = rate_ticket(ticket, score, now=moment, comment=comment)
        elif step == "close":
            ticket = move_ticket(ticket, "closed", now=moment, by=agent)
    return ticket


def service_desk(ctx: SummaryContext) -> Block:
    """Open tickets by SLA state with the most pressing listed, then the last 30 days'
    resolutions: response SLA met, satisfaction, repeat complaints."""
    s = ctx.session
    board = list(s.service.open_tickets())
    states = Counter(sla.state for _, sla in board)
    counts = ", ".join(f"{state.value} {states[state]}" for state in _PRESSING)
    lines = [f"  open tickets by their more pressing clock: {counts}"]
    board.sort(key=lambda pair: (_PRESSING.index(pair[1].state), _due_key(pair[1].next_due_at)))
    rows = []
    for ticket, sla in board[:8]:
        due = sla.resolution.due_at
        rows.append(
            (
                ticket.subject[:34],
                s.customers.get(ticket.customer_id).name[:20],
                _priority(ticket.priority),
                ticket.status.value,
                ticket.assignee or "-",
                sla.response.state.value,
                sla.resolution.state.value,
                due.strftime("%m-%d %H:%M") if due else "-",
            )
        )
    headers = ["subject", "customer", "pri", "status", "agent", "response", "resolution", "due"]
    lines.extend(format_table(headers, rows))
    since = ctx.now - timedelta(days=30)
    met = resolved = rated = score_total = 0
    # Policies and their calendars looked up once, not once per ticket.
    policies = s.crm.sla_policies
    calendars = {name: s.service.calendar(name) for name in policies.calendars}
    for ticket in s.tickets.stream(is_open=False):
        if ticket.resolved_at is None or ticket.resolved_at < since:
            continue
        resolved += 1
        policy = policies.for_ticket(ticket)
        sla = ticket_sla(ticket, policy, calendars[policy.calendar], as_of=ctx.now)
        if sla.response.state is SlaState.MET:
            met += 1
        if ticket.satisfaction is not None:
            rated += 1
            score_total += ticket.satisfaction.score
    lines.append("")
    lines.append(
        f"  resolved in the last 30 days: {resolved}; first response on time: "
        f"{_share(met, resolved)}; satisfaction {score_total / rated:.2f} of 5 ({rated} rated)"
        if rated
        else f"  resolved in the last 30 days: {resolved}"
    )
    chains = s.service.repeat_complaints()
    lines.append(f"  repeat complaints (same customer and category within 30 days): {len(chains)}")
    return Block("Service desk (SLA in China's working hours, due times Beijing time)", lines)


def _priority(priority: TicketPriority) -> str:
    return {"urgent": "URG", "normal": "norm", "low": "low"}[priority.value]


def _due_key(due: datetime | None) -> float:
    return due.timestamp() if due is not None else float("inf")


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"
