"""Pipeline automation: stale opportunities, opportunities past their stage deadline, and
contracts waiting for an approver."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from pycrm.automation.effects import Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.automation.rules._customers import NOT_ON_RECORD, customer_name, customers_by_id
from pycrm.automation.rules._occasion import Occasion, supervisor_copy
from pycrm.automation.rules._sales import (
    boolean,
    duration,
    latest_interactions,
    locale_of,
    occasion_key,
    stamp,
)
from pycrm.contracts import Contract
from pycrm.contracts.approval import pending_approver_level
from pycrm.contracts.machine import DRAFT, approval_machine, pending_stage
from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.paging import Page
from pycrm.pipeline.deadlines import stale_since
from pycrm.pipeline.escalation import escalation_for
from pycrm.pipeline.machine import StageMachine
from pycrm.pipeline.opportunity import Opportunity
from pycrm.query import OneOf

log = logging.getLogger("pycrm.automation")


def _open_deals(
    context: TickContext, rule: str, after: str | None, *, wanted: bool
) -> tuple[Page[Opportunity], list[tuple[Opportunity, StageMachine]]]:
    """The page of open deals after ``after`` and, when the rule makes anything at all
    (``wanted``), each deal with the stage machine of its pipeline. A pipeline the CRM does
    not know is logged and its deals passed over (nothing says how long their stages take)."""
    page = context.session.opportunities.list(is_open=True, limit=context.limit, after=after)
    if not wanted:
        return page, []
    found: dict[str, StageMachine] = {}
    for name in sorted({deal.pipeline for deal in page.items}):
        try:
            found[name] = context.crm.pipeline(name)
        except ValidationError:
            log.warning("%s: no pipeline named %r is registered; its deals are skipped", rule, name)
    return page, [(deal, found[deal.pipeline]) for deal in page.items if deal.pipeline in found]


def _supervisors(context: TickContext, deals: Iterable[Opportunity]) -> dict[str, str]:
    """Team -> supervisor for the teams of ``deals``, in one query."""
    teams = sorted({deal.team for deal in deals if deal.team is not None})
    if not teams:
        return {}
    rows = context.session.team_supervisors.list(team=OneOf(teams), limit=len(teams))
    return {row.team: row.supervisor for row in rows.items}


def _about_deal(
    deal: Opportunity, machine: StageMachine, customers: Mapping[str, Customer], locale: str
) -> dict[str, Any]:
    """The values a deal's notices share: whose deal, which, and the stage it is in."""
    return {
        "customer": customer_name(customers, deal.customer_id),
        "opportunity": deal.title,
        "stage": machine.stage(deal.stage).label(locale),
    }


def _escalate_after(value: Any) -> timedelta:
    converted: timedelta = duration("escalate_after", positive=False)(value)
    return converted


def _optional_days(value: Any) -> int | None:
    days = conv.check_int(value, "days", minimum=1, required=False)
    if days is not None and days > 3660:
        raise ValidationError("days", "must be at most 3660 days", value=value)
    return days


@attrs.frozen(kw_only=True)
class StaleOpportunities:
    """Stale opportunities: open deals nobody has followed up.

    **Looks at** open opportunities, a page at a time, on the stage machine of their pipeline
    (``crm.pipeline(name)``; deals of a pipeline the CRM does not know are logged and skipped).
    A deal's last activity is the latest interaction with its customer since it entered its
    stage (a move counts as activity too).

    **Fires** when the deal is stale (:func:`pycrm.pipeline.deadlines.is_stale`): no activity
    for its stage's ``stale_after`` (7 days in the default pipeline), or for ``days`` when
    that setting is given, which overrides every stage's own (a terminal stage never goes
    stale).

    **Creates** a task for the owner (kind ``stale_opportunity``, due at the tick) and a
    ``stale_opportunity`` notice to the owner. With ``escalate`` (the default), the team's
    supervisor (``s.team_supervisors``) gets a ``stale_opportunity`` notice too, addressed
    to them, once the deal has stayed stale for ``escalate_after`` more (default 7 days, so
    a reminder comes first and the supervisor hears of deals it did not move); a deal with no
    owner goes to the supervisor at once, task and all, since nobody else would hear of it.

    **Keys**: ``stale_opportunities:<opportunity>:<stage>:<stale-since date>`` with ``:task``,
    ``:notice`` or ``:supervisor``: one reminder per quiet spell in a stage. Settings:
    ``tasks`` and ``notices`` switch either off.
    """

    name: ClassVar[str] = "stale_opportunities"

    days: int | None = attrs.field(default=None, converter=_optional_days)
    escalate: bool = attrs.field(default=True, converter=boolean("escalate"))
    escalate_after: timedelta = attrs.field(default=timedelta(days=7), converter=_escalate_after)
    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        page, deals = _open_deals(context, self.name, after, wanted=self.tasks or self.notices)
        effects: list[Effect] = []
        since: dict[str, datetime] = {}
        for deal, _ in deals:
            entered = deal.stage_state.entered_at
            since[deal.customer_id] = min(since.get(deal.customer_id, entered), entered)
        activity = latest_interactions(context, since)
        stale: list[tuple[Opportunity, StageMachine, datetime]] = []
        for deal, machine in deals:
            last = activity.get(deal.customer_id)
            quiet_since = self._stale_since(deal, machine, last)
            if quiet_since is not None and context.now > quiet_since:
                stale.append((deal, machine, quiet_since))
        if not stale:
            return RuleBatch(effects, next_after=page.next_after)
        customers = customers_by_id(context, (deal.customer_id for deal, _, _ in stale))
        supervisors = _supervisors(context, (deal for deal, _, _ in stale)) if self.escalate else {}
        locale = locale_of(context)
        for deal, machine, quiet_since in stale:
            values = {
                **_about_deal(deal, machine, customers, locale),
                "days": (context.now - deal.stage_state.entered_at).days,
            }
            supervisor = None if deal.team is None else supervisors.get(deal.team)
            effects.extend(self._remind(context, deal, quiet_since, values, supervisor))
        return RuleBatch(effects, next_after=page.next_after)

    def _stale_since(
        self, deal: Opportunity, machine: StageMachine, last: datetime | None
    ) -> datetime | None:
        if self.days is None:
            return stale_since(deal.stage_state, machine, last_activity=last)
        if machine.stage(deal.stage).terminal:
            return None
        entered = deal.stage_state.entered_at
        latest = entered if last is None else max(entered, last)
        return latest + timedelta(days=self.days)

    def _remind(
        self,
        context: TickContext,
        deal: Opportunity,
        quiet_since: datetime,
        values: Mapping[str, Any],
        supervisor: str | None,
    ) -> list[Effect]:
        key = occasion_key(self.name, deal.id, deal.stage, quiet_since.date().isoformat())
        occasion = Occasion(key, deal.customer_id)
        handler = deal.owner if deal.owner is not None else supervisor
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Stale opportunity: {deal.title}",
                    due_at=context.now,
                    assignee=handler,
                    about=deal.id,
                    kind="stale_opportunity",
                )
            )
        if not self.notices:
            return effects
        if handler is not None:
            told = {**values, "owner": handler}
            effects.append(occasion.notice("stale_opportunity", told, Staff(handler)))
        copy = supervisor_copy(supervisor, deal.owner)
        if copy is not None and context.now > quiet_since + self.escalate_after:
            told = {**values, "owner": copy}
            effects.append(
                occasion.other_notice("supervisor", "stale_opportunity", told, Staff(copy))
            )
        return effects


@attrs.frozen(kw_only=True)
class StageDeadlines:
    """Opportunities past their stage deadline, escalated to the team's supervisor.

    **Looks at** open opportunities, a page at a time, on the stage machine of their pipeline
    (deals of a pipeline the CRM does not know are logged and skipped).

    **Fires** when the deal's current stage has a deadline (``Stage.deadline``, counted from
    entering the stage) and it has passed (:func:`pycrm.pipeline.deadlines.is_overdue`);
    :func:`pycrm.pipeline.escalation.escalation_for` decides who hears of it.

    **Creates** a task for the owner (kind ``stage_deadline``, due at the tick; the
    supervisor's when the deal has no owner) and a ``stage_deadline_escalation`` notice to
    the supervisor of the deal's team (``s.team_supervisors``). A team without a supervisor
    cannot escalate: the owner gets a ``stage_deadline_passed`` notice instead, so the
    overdue deal is not silent.

    **Keys**: ``stage_deadlines:<opportunity>:<stage>:<deadline, YYYYMMDDTHHMM>`` with
    ``:task`` or ``:notice``: one escalation per stage visit. Settings: ``tasks`` and
    ``notices`` switch either off.
    """

    name: ClassVar[str] = "stage_deadlines"

    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        page, deals = _open_deals(context, self.name, after, wanted=self.tasks or self.notices)
        effects: list[Effect] = []
        supervisors = _supervisors(context, (deal for deal, _ in deals))
        overdue: list[tuple[Opportunity, StageMachine, datetime, str | None]] = []
        for deal, machine in deals:
            found = escalation_for(deal, machine, now=context.now, supervisors=supervisors)
            if found is None or found.overdue_since is None:
                continue
            supervisor = None if deal.team is None else supervisors.get(deal.team)
            overdue.append((deal, machine, found.overdue_since, supervisor))
        if not overdue:
            return RuleBatch(effects, next_after=page.next_after)
        customers = customers_by_id(context, (deal.customer_id for deal, _, _, _ in overdue))
        locale = locale_of(context)
        for deal, machine, deadline, supervisor in overdue:
            values = {
                "owner": deal.owner or NOT_ON_RECORD,
                **_about_deal(deal, machine, customers, locale),
                "deadline": stamp(deadline),
            }
            effects.extend(self._escalate(context, deal, deadline, values, supervisor))
        return RuleBatch(effects, next_after=page.next_after)

    def _escalate(
        self,
        context: TickContext,
        deal: Opportunity,
        deadline: datetime,
        values: Mapping[str, Any],
        supervisor: str | None,
    ) -> list[Effect]:
        key = occasion_key(self.name, deal.id, deal.stage, deadline.strftime("%Y%m%dT%H%M"))
        occasion = Occasion(key, deal.customer_id)
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Past stage deadline: {deal.title}",
                    due_at=context.now,
                    assignee=deal.owner if deal.owner is not None else supervisor,
                    about=deal.id,
                    kind="stage_deadline",
                )
            )
        if not self.notices:
            return effects
        if supervisor is not None:
            template, to, context_values = (
                "stage_deadline_escalation",
                supervisor,
                {**values, "supervisor": supervisor},
            )
        elif deal.owner is not None:
            template, to, context_values = "stage_deadline_passed", deal.owner, dict(values)
        else:
            return effects
        effects.append(occasion.notice(template, context_values, Staff(to)))
        return effects


def reminder_round(
    waiting_since: datetime, now: datetime, *, after: timedelta, every: timedelta
) -> int | None:
    """Which reminder is due at ``now`` for something waiting since ``waiting_since``: ``None``
    before ``after`` has passed, then 0, 1, 2… one more each ``every``. The round keys the
    reminder, so each is sent once however often the tick runs."""
    if every <= timedelta(0):
        raise ValidationError("every", "must be more than zero")
    first = waiting_since + after
    if now < first:
        return None
    return (now - first) // every


def _approvers(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError("approvers", "expected a mapping of approval level to staff name")
    checked: dict[str, str] = {}
    for level, name in value.items():
        if not isinstance(level, str) or not level.strip():
            raise ValidationError("approvers", f"a level must be text, got {level!r}")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise ValidationError(
                "approvers", f"level {level!r}: an approver is a name of 1 to 120 characters"
            )
        checked[level] = name.strip()
    return checked


def _submitted_by(contract: Contract) -> str:
    for visit in contract.approval.history:
        if visit.stage != DRAFT:
            return visit.entered_by
    return NOT_ON_RECORD


@attrs.frozen(kw_only=True)
class PendingApprovals:
    """Reminders for contracts waiting for an approver.

    **Looks at** contracts with status ``pending_approval``, a page at a time, and the level
    each waits for (:func:`pycrm.contracts.approval.pending_approver_level`).

    **Who approves**: approval levels are roles (``sales``, ``finance``, ``management``), not
    people, so ``approvers`` maps a level to the staff name that approves it. A contract
    waiting for a level with no approver is passed over with a logged warning (the default
    maps none: a host names its approvers to switch the reminders on).

    **Fires** once the contract has waited ``after`` (default 1 day) for the level, and again
    every ``every`` (default 1 day) while it still waits.

    **Creates** an ``approval_pending`` notice to the approver each time, and once per
    contract and level a task for the approver (kind ``approval``, due when the first
    reminder fell due).

    **Keys**: ``pending_approvals:<contract>:<level>:<round>`` with ``:notice`` (round 0, 1,
    2… counts the ``every`` periods since the first reminder) and
    ``pending_approvals:<contract>:<level>:task``. Settings: ``tasks`` and ``notices``
    switch either off.
    """

    name: ClassVar[str] = "pending_approvals"

    approvers: Mapping[str, str] = attrs.field(factory=dict, converter=_approvers)
    after: timedelta = attrs.field(
        default=timedelta(days=1), converter=duration("after", positive=False)
    )
    every: timedelta = attrs.field(
        default=timedelta(days=1), converter=duration("every", positive=True)
    )
    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        page = context.session.contracts.list(
            status="pending_approval", limit=context.limit, after=after
        )
        effects: list[Effect] = []
        if not (self.tasks or self.notices):
            return RuleBatch(effects, next_after=page.next_after)
        waiting: list[tuple[Contract, str, str, int]] = []
        unmapped: dict[str, list[str]] = {}
        for contract in page.items:
            level = pending_approver_level(contract)
            if level is None:
                continue
            approver = self.approvers.get(level)
            if approver is None:
                unmapped.setdefault(level, []).append(contract.number)
                continue
            due = reminder_round(
                contract.approval.entered_at, context.now, after=self.after, every=self.every
            )
            if due is not None:
                waiting.append((contract, level, approver, due))
        for level, numbers in unmapped.items():
            log.warning(
                "%s: no approver for level %r, so %d contract(s) get no reminder (%s); "
                "set the rule's approvers",
                self.name,
                level,
                len(numbers),
                ", ".join(numbers[:5]),
            )
        if not waiting:
            return RuleBatch(effects, next_after=page.next_after)
        customers = customers_by_id(context, (contract.customer_id for contract, *_ in waiting))
        locale = locale_of(context)
        for contract, level, approver, due in waiting:
            machine = approval_machine(contract.approval_levels)
            values = {
                "approver": approver,
                "submitted_by": _submitted_by(contract),
                "contract": contract.number,
                "customer": customer_name(customers, contract.customer_id),
                "amount": str(contract.amount),
                "level": machine.stage(pending_stage(level)).label(locale),
            }
            effects.extend(self._remind(contract, level, approver, due, values))
        return RuleBatch(effects, next_after=page.next_after)

    def _remind(
        self,
        contract: Contract,
        level: str,
        approver: str,
        due: int,
        values: Mapping[str, Any],
    ) -> list[Effect]:
        occasion = Occasion(occasion_key(self.name, contract.id, level), contract.customer_id)
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Approve contract {contract.number}",
                    due_at=contract.approval.entered_at + self.after,
                    assignee=approver,
                    about=contract.id,
                    kind="approval",
                )
            )
        if self.notices:
            # Each round reminds again, task or no task: its own key, not the task's notice.
            reminder = occasion.other_notice(
                f"{due}:notice", "approval_pending", values, Staff(approver)
            )
            effects.append(reminder)
        return effects


RULES: tuple[AutomationRule, ...] = (
    StaleOpportunities(),
    StageDeadlines(),
    PendingApprovals(),
)
