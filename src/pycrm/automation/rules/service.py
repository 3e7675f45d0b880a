"""Service automation: SLA warnings and breaches on open tickets, escalated to supervisors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from pycrm.automation.effects import Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.automation.rules._care import human_duration, page_filter
from pycrm.automation.rules._customers import NOT_ON_RECORD, customer_name, customers_by_id
from pycrm.automation.rules._occasion import Occasion, supervisor_copy
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.service.calendar import BusinessCalendar
from pycrm.service.sla import SlaClock, SlaState
from pycrm.service.sla import ticket_sla as compute_sla
from pycrm.service.ticket import Ticket

_TARGET_WORDS = {
    "zh": {"response": "首次响应", "resolution": "解决"},
    "en": {"response": "first response", "resolution": "resolution"},
}


def _supervisors(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("supervisors", "expected a mapping of service group to supervisor")
    checked: dict[str, str] = {}
    for group, name in value.items():
        if not isinstance(group, str) or not group.strip():
            raise ValidationError("supervisors", f"a group name must be text, got {group!r}")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise ValidationError(
                "supervisors", f"group {group!r}: a supervisor is a name of 1 to 120 characters"
            )
        checked[group] = name
    return checked


@attrs.frozen(kw_only=True)
class SlaAlerts:
    """SLA warnings and breaches on open tickets, with escalation of breaches.

    **Looks at** open tickets, a page at a time, and computes each one's two SLA clocks (first
    response, resolution) at the tick's moment, under the CRM's ``sla_policies`` on the
    policy's business calendar (a stored calendar first, as the service desk does). Paused
    clocks (waiting on the customer) and stopped ones (responded, resolved) are left alone.

    **Fires** when a running clock enters the warning share of its target (``warn_at`` of the
    policy, 80 % by default): an ``sla_warning`` notice and a task (kind ``sla_warning``, due
    when the clock runs out) for the ticket's assignee. When the clock runs past its due time:
    an ``sla_breach`` notice and a task (kind ``sla_breach``, due now) for the assignee, and
    with ``escalate`` an ``sla_breach`` notice to the supervisor of the ticket's service group.
    A ticket nobody is assigned to goes to that supervisor instead.

    **Supervisors** come from ``supervisors`` (service group -> name) and otherwise from the
    team supervisor table (``s.team_supervisors``), whose ``team`` is read as the group's name,
    so one table serves sales teams and service groups alike. Without either, a breach is not
    escalated and an unassigned ticket gets an unassigned task and no notice.

    **Keys**: ``sla_alerts:<ticket>:<response|resolution>:<warning|breached>`` followed by
    ``:task``, ``:notice`` or ``:escalation``: one warning and one breach per clock, however
    often the tick runs. Settings: ``warnings`` and ``breaches`` switch either off, ``tasks``
    turns the tasks off (notices only), ``escalate`` the supervisor's notice.
    """

    name: ClassVar[str] = "sla_alerts"

    warnings: bool = attrs.field(default=True, converter=conv.boolean())
    breaches: bool = attrs.field(default=True, converter=conv.boolean())
    tasks: bool = attrs.field(default=True, converter=conv.boolean())
    escalate: bool = attrs.field(default=True, converter=conv.boolean())
    supervisors: Mapping[str, str] = attrs.field(factory=dict, converter=_supervisors)

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        session = context.session
        page = session.tickets.list(is_open=True, limit=context.limit, after=after)
        wanted = {SlaState.WARNING} if self.warnings else set()
        if self.breaches:
            wanted.add(SlaState.BREACHED)
        alerts: list[tuple[Ticket, SlaClock]] = []
        if wanted:
            policies = context.crm.sla_policies
            calendars: dict[str, BusinessCalendar] = {}
            for ticket in page.items:
                policy = policies.for_ticket(ticket)
                calendar = calendars.get(policy.calendar)
                if calendar is None:
                    calendar = calendars[policy.calendar] = session.service.calendar(
                        policy.calendar
                    )
                sla = compute_sla(ticket, policy, calendar, as_of=context.now)
                alerts.extend(
                    (ticket, clock)
                    for clock in (sla.response, sla.resolution)
                    if not clock.is_stopped and clock.state in wanted
                )
        effects: list[Effect] = []
        if alerts:
            customers = customers_by_id(context, (ticket.customer_id for ticket, _ in alerts))
            supervisors = self._supervisors_of(context, {t.group for t, _ in alerts})
            words = _target_words(context)
            for ticket, clock in alerts:
                label = customer_name(customers, ticket.customer_id)
                supervisor = None if ticket.group is None else supervisors.get(ticket.group)
                effects.extend(self._alert(context, ticket, clock, label, supervisor, words))
        return RuleBatch(effects, next_after=page.next_after)

    def _alert(
        self,
        context: TickContext,
        ticket: Ticket,
        clock: SlaClock,
        customer: str,
        supervisor: str | None,
        words: Mapping[str, str],
    ) -> list[Effect]:
        breached = clock.state is SlaState.BREACHED
        key = f"{self.name}:{ticket.id}:{clock.name}:{clock.state.value}"
        occasion = Occasion(key, ticket.customer_id)
        kind = "sla_breach" if breached else "sla_warning"
        handler = ticket.assignee if ticket.assignee is not None else supervisor
        due = clock.due_at
        values: dict[str, Any] = {
            "ticket": ticket.id,
            "customer": customer,
            "target": words.get(clock.name, clock.name),
            "due": _moment_text(due),
        }
        if breached:
            values["overdue_by"] = human_duration(clock.overdue)
        else:
            values["remaining"] = human_duration(clock.remaining)
        effects: list[Effect] = []
        if self.tasks:
            task_due = context.now if breached or due is None else max(due, context.now)
            effects.append(
                occasion.task(
                    f"SLA {clock.state.value} ({clock.name}): {ticket.subject}",
                    due_at=task_due,
                    assignee=handler,
                    about=ticket.id,
                    kind=kind,
                )
            )
        if handler is not None:
            effects.append(occasion.notice(kind, {**values, "agent": handler}, Staff(handler)))
        copy = supervisor_copy(supervisor, ticket.assignee)
        if breached and self.escalate and copy is not None:
            told = {**values, "agent": copy}
            effects.append(occasion.other_notice("escalation", "sla_breach", told, Staff(copy)))
        return effects

    def _supervisors_of(self, context: TickContext, groups: set[str | None]) -> dict[str, str]:
        named = {group for group in groups if group is not None}
        found = {group: self.supervisors[group] for group in named if group in self.supervisors}
        rest = named - set(found)
        if rest:
            rows = context.session.team_supervisors.list(team=page_filter(rest), limit=len(rest))
            found.update({row.team: row.supervisor for row in rows.items})
        return found


def _moment_text(moment: datetime | None) -> str:
    # Given in the calendar's zone (the clock's own), with its offset so nobody guesses.
    return NOT_ON_RECORD if moment is None else moment.strftime("%Y-%m-%d %H:%M %z")


def _target_words(context: TickContext) -> Mapping[str, str]:
    # The clock's name is a value in the message, so it is worded in the message's language.
    locale = context.crm.automation.locale or context.crm.templates.default_locale
    return _TARGET_WORDS.get(locale.split("-")[0].lower(), _TARGET_WORDS["en"])


RULES: tuple[AutomationRule, ...] = (SlaAlerts(),)
