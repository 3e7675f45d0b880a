"""Follow-up automation: follow-ups due by grade cadence, visit reports due after a visit, and
nurture touches for prospects nobody has talked to for a while."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from pycrm.automation.effects import Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.automation.rules._customers import NOT_ON_RECORD, customer_name, customers_by_id
from pycrm.automation.rules._occasion import Occasion
from pycrm.automation.rules._sales import (
    PAGE_READ,
    boolean,
    duration,
    latest_interactions,
    locale_of,
    occasion_key,
    period_start,
    stamp,
)
from pycrm.domain import Customer, LifecycleStatus, Task
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.expr import F
from pycrm.grading.grades import CustomerGrade
from pycrm.query import MAX_ONE_OF, OneOf, Range

_GONE = frozenset({LifecycleStatus.LOST, LifecycleStatus.CHURNED})
"""Customers no follow-up is planned for any more."""

_NEXT_ACTION = {
    "zh": "按客户等级的跟进节奏联系客户",
    "en": "contact the customer as the grade's cadence asks",
}
_TOPIC = {"zh": "近期产品与服务动态", "en": "what is new for them"}


def _words(context: TickContext, words: Mapping[str, str]) -> str:
    return words.get(locale_of(context).split("-")[0].lower(), words["en"])


_look_back = duration("look_back", positive=True, maximum=timedelta(days=366))
"""How far back a rule reads: more than zero and at most a year, so each tick's read stays
bounded."""


def _optional_scheme(value: Any) -> str | None:
    return conv.check_text(value, "scheme", max_length=80, required=False)


def _optional_words(field: str, max_length: int) -> Any:
    def convert(value: Any) -> str | None:
        return conv.check_text(value, field, max_length=max_length, required=False)

    return convert


@attrs.frozen(kw_only=True)
class FollowUpDue:
    """Follow-ups due by grade cadence.

    **Looks at** stored customer grades (``s.customer_grades``, written by
    ``s.regrade``) whose ``next_follow_up_at`` falls from ``look_back`` (default 14 days)
    before the tick's moment, inclusive, to ``lead_time`` (default none) after it, exclusive,
    of the grading scheme ``scheme``, or of every scheme when it is ``None`` (the default:
    each scheme a host grades by sets its own cadence, and a customer due under two schemes
    gets one follow-up per scheme). The look-back bounds what each tick reads, which would
    otherwise take in every follow-up ever missed: one overdue longer than ``look_back`` is
    no longer raised, so a host whose tick can pause for longer (a rare schedule, an outage)
    should widen it. Ticks at most ``look_back`` apart see every follow-up.

    **Fires** for a grade whose customer has an owner and is neither lost nor churned, unless
    the customer already had an interaction after the grade row was last written (that is,
    after its follow-up date was set): the rep has followed up, and the next regrade moves
    the date on from that interaction.

    **Creates** a task for the owner (kind ``follow_up``, due at the follow-up time) and a
    ``follow_up_due`` notice to the owner, with the customer's phone (masked unless the staff
    channel may see personal data) and ``next_action`` (a setting; by default a line in the
    notices' language asking to contact the customer).

    **Keys**: ``follow_up_due:<customer>:<scheme>:<due date>`` with ``:task`` or
    ``:notice``: one follow-up per customer, scheme and due date, however often the tick runs.
    Settings: ``tasks`` and ``notices`` switch either off.
    """

    name: ClassVar[str] = "follow_up_due"

    scheme: str | None = attrs.field(default=None, converter=_optional_scheme)
    lead_time: timedelta = attrs.field(
        default=timedelta(0), converter=duration("lead_time", positive=False)
    )
    look_back: timedelta = attrs.field(default=timedelta(days=14), converter=_look_back)
    next_action: str | None = attrs.field(
        default=None, converter=_optional_words("next_action", 400)
    )
    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        window = Range(start=context.now - self.look_back, end=context.now + self.lead_time)
        filters: dict[str, Any] = {"next_follow_up_at": window}
        if self.scheme is not None:
            filters["scheme"] = self.scheme
        page = context.session.customer_grades.list(limit=context.limit, after=after, **filters)
        effects: list[Effect] = []
        if not (self.tasks or self.notices):
            return RuleBatch(effects, next_after=page.next_after)
        customers = customers_by_id(context, (grade.customer_id for grade in page.items))
        due: list[tuple[CustomerGrade, Customer]] = []
        for grade in page.items:
            customer = customers.get(grade.customer_id)
            if customer is None or customer.owner is None or customer.status in _GONE:
                continue
            due.append((grade, customer))
        since: dict[str, datetime] = {}
        for grade, customer in due:
            written = grade.updated_at or grade.graded_at
            since[customer.id] = min(since.get(customer.id, written), written)
        contacted = latest_interactions(context, since)
        next_action = self.next_action or _words(context, _NEXT_ACTION)
        for grade, customer in due:
            latest = contacted.get(customer.id)
            if latest is not None and latest > (grade.updated_at or grade.graded_at):
                continue
            effects.extend(self._follow_up(grade, customer, next_action))
        return RuleBatch(effects, next_after=page.next_after)

    def _follow_up(
        self, grade: CustomerGrade, customer: Customer, next_action: str
    ) -> list[Effect]:
        assert grade.next_follow_up_at is not None
        assert customer.owner is not None
        due = grade.next_follow_up_at
        key = occasion_key(self.name, customer.id, grade.scheme, due.date().isoformat())
        occasion = Occasion(key, customer.id)
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Follow up with {customer.name}",
                    due_at=due,
                    assignee=customer.owner,
                    about=grade.id,
                    kind="follow_up",
                    notes=next_action,
                )
            )
        if self.notices:
            values = {
                "rep": customer.owner,
                "customer": customer.name,
                "due": stamp(due),
                "next_action": next_action,
                "phone": customer.phone or NOT_ON_RECORD,
            }
            effects.append(occasion.notice("follow_up_due", values, Staff(customer.owner)))
        return effects


def _visit_settings(instance: VisitReportDue, attribute: Any, value: timedelta) -> None:
    if instance.look_back <= instance.due_after:
        raise ValidationError(
            "look_back", "must be longer than due_after, or no visit is ever looked at"
        )


@attrs.frozen(kw_only=True)
class VisitReportDue:
    """Visit reports due after a visit.

    **Looks at** tasks of kind ``visit`` (the task's ``due_at`` is the visit's time), open or
    done (a cancelled visit did not happen), whose visit began between ``look_back`` (default
    14 days) and ``due_after`` (default 24 hours) before the tick's moment: the look-back
    bounds what each tick reads, so a visit older than it is never reported on.

    **Fires** ``due_after`` past the visit when no interaction on the ``visit`` channel has
    been logged for the visit's customer since the visit began (an interaction on record is
    the report). A visit task without a customer or an assignee is passed over.

    **Creates** a task for the visit's assignee (kind ``visit_report``, about the visit task,
    due ``due_after`` past the visit) and a ``visit_report_due`` notice to the assignee.

    **Keys**: ``visit_report_due:<visit task>`` with ``:task`` or ``:notice``: one report
    reminder per visit. Settings: ``tasks`` and ``notices`` switch either off.
    """

    name: ClassVar[str] = "visit_report_due"

    due_after: timedelta = attrs.field(
        default=timedelta(hours=24), converter=duration("due_after", positive=False)
    )
    look_back: timedelta = attrs.field(
        default=timedelta(days=14), converter=_look_back, validator=_visit_settings
    )
    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        window = Range(start=context.now - self.look_back, end=context.now - self.due_after)
        page = context.session.tasks.list(
            kind="visit",
            status=OneOf("open", "done"),
            due_at=window,
            limit=context.limit,
            after=after,
        )
        effects: list[Effect] = []
        if not (self.tasks or self.notices):
            return RuleBatch(effects, next_after=page.next_after)
        visits = [t for t in page.items if t.customer_id is not None and t.assignee is not None]
        since: dict[str, datetime] = {}
        for visit in visits:
            assert visit.customer_id is not None
            since[visit.customer_id] = min(since.get(visit.customer_id, visit.due_at), visit.due_at)
        reported = latest_interactions(context, since, channel="visit")
        customers = customers_by_id(context, since)
        for visit in visits:
            assert visit.customer_id is not None
            latest = reported.get(visit.customer_id)
            if latest is not None and latest >= visit.due_at:
                continue
            label = customer_name(customers, visit.customer_id)
            effects.extend(self._report_due(visit, label))
        return RuleBatch(effects, next_after=page.next_after)

    def _report_due(self, visit: Task, customer: str) -> list[Effect]:
        assert visit.assignee is not None
        due = visit.due_at + self.due_after
        occasion = Occasion(occasion_key(self.name, visit.id), visit.customer_id)
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Visit report: {customer}",
                    due_at=due,
                    assignee=visit.assignee,
                    about=visit.id,
                    kind="visit_report",
                )
            )
        if self.notices:
            values = {
                "rep": visit.assignee,
                "customer": customer,
                "visit_date": stamp(visit.due_at),
                "due": stamp(due),
            }
            effects.append(occasion.notice("visit_report_due", values, Staff(visit.assignee)))
        return effects


@attrs.frozen(kw_only=True)
class NurtureProspects:
    """Nurture touches for prospects.

    **Looks at** customers with status ``prospect`` and an owner, found set-based by the
    store (``s.customers.find_page``), that have had no interaction for ``every`` (default 14
    days): their last interaction is at least ``every`` old, or they have none and were
    added at least ``every`` ago (a prospect captured today is not yet due a touch).

    **Fires** once per period: the tick's moment floored to ``every``, counted from
    1970-01-01 UTC, so however often the tick runs a quiet prospect gets one touch per
    period.

    **Creates** a task for the owner (kind ``nurture``, due at the tick) and a
    ``nurture_touch`` notice to the owner naming whom to contact (the customer's
    decision-making contact, the first on record if several, else the customer itself) and
    ``topic`` (a setting; by default a line in the notices' language).

    **Keys**: ``nurture_prospects:<customer>:<period start, YYYYMMDDTHHMM>`` with ``:task``
    or ``:notice``. Settings: ``tasks`` and ``notices`` switch either off.
    """

    name: ClassVar[str] = "nurture_prospects"

    every: timedelta = attrs.field(
        default=timedelta(days=14), converter=duration("every", positive=True)
    )
    topic: str | None = attrs.field(default=None, converter=_optional_words("topic", 200))
    tasks: bool = attrs.field(default=True, converter=boolean("tasks"))
    notices: bool = attrs.field(default=True, converter=boolean("notices"))

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        quiet_since = context.now - self.every
        rule = (
            (F.status == LifecycleStatus.PROSPECT.value)
            & ~F.owner.is_null()
            & (F.created_at <= quiet_since)
            & (F.last_interaction_at.is_null() | (F.last_interaction_at <= quiet_since))
        )
        page = context.session.customers.find_page(
            rule, as_of=context.now, limit=context.limit, after=after
        )
        effects: list[Effect] = []
        if not (self.tasks or self.notices) or not page.items:
            return RuleBatch(effects, next_after=page.next_after)
        contacts = self._decision_makers(context, [c.id for c in page.items])
        topic = self.topic or _words(context, _TOPIC)
        period = period_start(context.now, self.every).strftime("%Y%m%dT%H%M")
        for customer in page.items:
            if customer.owner is None:
                continue
            contact = contacts.get(customer.id, customer.name)
            effects.extend(self._touch(context, customer, customer.owner, contact, topic, period))
        return RuleBatch(effects, next_after=page.next_after)

    def _decision_makers(self, context: TickContext, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for first in range(0, len(ids), MAX_ONE_OF):
            chunk = OneOf(ids[first : first + MAX_ONE_OF])
            for contact in context.session.contacts.stream(
                batch_size=PAGE_READ, customer_id=chunk, is_decision_maker=True
            ):
                found.setdefault(contact.customer_id, contact.name)
        return found

    def _touch(
        self,
        context: TickContext,
        customer: Customer,
        owner: str,
        contact: str,
        topic: str,
        period: str,
    ) -> list[Effect]:
        occasion = Occasion(occasion_key(self.name, customer.id, period), customer.id)
        effects: list[Effect] = []
        if self.tasks:
            subject = f"Nurture {customer.name}: {topic}"
            effects.append(
                occasion.task(subject, due_at=context.now, assignee=owner, kind="nurture")
            )
        if self.notices:
            values = {"rep": owner, "customer": customer.name, "contact": contact, "topic": topic}
            effects.append(occasion.notice("nurture_touch", values, Staff(owner)))
        return effects


RULES: tuple[AutomationRule, ...] = (FollowUpDue(), VisitReportDue(), NurtureProspects())
