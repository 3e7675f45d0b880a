"""Customer-care automation: repurchase reminders, birthday greetings and win-back offers."""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import ClassVar

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.automation.effects import Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.automation.rules._care import (
    DEFAULT_TIMEZONE,
    check_days,
    check_period,
    check_timezone,
    is_erased,
    local_day,
    start_of,
    stream_by,
    to_moment,
)
from pycrm.automation.rules._customers import NOT_ON_RECORD, customers_by_id
from pycrm.automation.rules._occasion import Occasion
from pycrm.contracts.repurchase import COUNTED, repurchase_due
from pycrm.domain import Customer, CustomerKind, Order
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.churn import ChurnPolicy, assess
from pycrm.query import OneOf, Range

MAX_DAYS_AHEAD = 31
"""The furthest ahead birthday care looks: a month of greetings at most."""


def birthdays_from(today: date, days_ahead: int = 0) -> dict[str, date]:
    """Birthdays celebrated from ``today`` to ``days_ahead`` days later: ``"MM-DD"`` (a
    customer's ``birth_month_day``) -> the day it is celebrated on.

    Someone born on 29 February is celebrated on 28 February in a year without one, so
    every birthday comes round once a year.
    """
    if days_ahead < 0 or days_ahead > MAX_DAYS_AHEAD:
        raise ValidationError("days_ahead", f"must be 0 to {MAX_DAYS_AHEAD}", value=days_ahead)
    found: dict[str, date] = {}
    for offset in range(days_ahead + 1):
        day = today + timedelta(days=offset)
        found[f"{day.month:02d}-{day.day:02d}"] = day
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            found["02-29"] = day
    return found


def _check_policy(value: object) -> ChurnPolicy:
    if not isinstance(value, ChurnPolicy):
        raise ValidationError("policy", f"expected a ChurnPolicy, got {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class RepurchaseReminders:
    """Customers due to buy again by the rhythm of their own orders.

    **Looks at** customers a page at a time with the page's orders of the last ``look_back``
    (two years by default) read in one query; erased customers are skipped. A customer's
    expected repurchase day is :func:`pycrm.contracts.repurchase_due`: the last order day
    plus the median gap between order days, with at least ``min_orders`` (default 3) order
    days on record.

    **Fires** from ``before`` the expected day (a week by default,
    :func:`pycrm.contracts.repurchase_reminder_date`) until ``before`` after it (later, the
    moment has passed and churn care takes over), on the tick's day in ``timezone``: a task
    (kind ``repurchase``, due at the start of the expected day) and a
    ``repurchase_reminder`` notice for the customer's owner, naming what they buy most.

    **Keys**: ``repurchase_reminders:<customer>:<expected day>`` with ``:task`` /
    ``:notice``: one reminder per expected purchase; the next order moves the day and makes
    a new occasion.
    """

    name: ClassVar[str] = "repurchase_reminders"

    before: relativedelta = attrs.field(
        factory=lambda: relativedelta(weeks=1), converter=check_period()
    )
    min_orders: int = attrs.field(default=3, converter=check_days(minimum=2, maximum=1000))
    look_back: relativedelta = attrs.field(
        factory=lambda: relativedelta(years=2), converter=check_period()
    )
    timezone: str = attrs.field(default=DEFAULT_TIMEZONE, converter=check_timezone)
    tasks: bool = attrs.field(default=True, converter=conv.boolean())
    notices: bool = attrs.field(default=True, converter=conv.boolean())

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        session = context.session
        page = session.customers.list(limit=context.limit, after=after)
        since: datetime = context.now - self.look_back
        orders: dict[str, list[Order]] = defaultdict(list)
        placed = Range(since, context.now)
        for order in stream_by(
            session.orders, "customer_id", (c.id for c in page.items), placed_at=placed
        ):
            orders[order.customer_id].append(order)
        today = local_day(context.now, self.timezone)
        effects: list[Effect] = []
        for customer in page.items:
            history = orders.get(customer.id)
            if not history or is_erased(customer):
                continue
            due = repurchase_due(history, min_orders=self.min_orders)
            if due is None or not due - self.before <= today <= due + self.before:
                continue
            effects.extend(self._remind(context, customer, history, due))
        return RuleBatch(effects, next_after=page.next_after)

    def _remind(
        self, context: TickContext, customer: Customer, orders: list[Order], due: date
    ) -> list[Effect]:
        occasion = Occasion(f"{self.name}:{customer.id}:{due.isoformat()}", customer.id)
        effects: list[Effect] = []
        if self.tasks:
            effects.append(
                occasion.task(
                    f"Repurchase due: {customer.name}",
                    due_at=to_moment(due, self.timezone, context.now),
                    assignee=customer.owner,
                    kind="repurchase",
                )
            )
        if self.notices and customer.owner is not None:
            counted = [order for order in orders if order.status in COUNTED]
            last = max(counted, key=lambda order: order.placed_at)
            values = {
                "rep": customer.owner,
                "customer": customer.name,
                "last_purchase": local_day(last.placed_at, self.timezone).isoformat(),
                "product": _usual_product(counted) or last.number,
                "phone": customer.phone or NOT_ON_RECORD,
            }
            effects.append(occasion.notice("repurchase_reminder", values, Staff(customer.owner)))
        return effects


def _usual_product(orders: list[Order]) -> str | None:
    """What the customer buys most often (the order-line description on most orders)."""
    counts: Counter[str] = Counter()
    for order in orders:
        counts.update({line.description for line in order.lines})
    return counts.most_common(1)[0][0] if counts else None


@attrs.frozen(kw_only=True)
class BirthdayCare:
    """Birthday greetings for person customers.

    **Looks at** person customers whose birthday (``birth_month_day``, ``"MM-DD"``) falls on
    the tick's day in ``timezone`` or up to ``days_ahead`` days later (default 0, at most
    31), read by that filter a page at a time. Someone born on 29 February is greeted on
    28 February in other years.

    **Fires** a ``birthday_greeting`` notice to the customer, signed ``sender`` and sent at
    the start of the birthday (customer notices go out only when the CRM's automation has a
    customer channel), and a care task (kind ``birthday_care``, due the birthday) for the
    customer's owner, who may want to call.

    **Keys**: ``birthday_care:<customer>:<year>`` with ``:task`` / ``:notice``: once a year.
    ``greet=False`` leaves the greeting to the owner, ``tasks=False`` sends greetings alone.
    """

    name: ClassVar[str] = "birthday_care"

    days_ahead: int = attrs.field(default=0, converter=check_days(maximum=MAX_DAYS_AHEAD))
    sender: str = attrs.field(default="Customer Care", converter=conv.text(120))
    timezone: str = attrs.field(default=DEFAULT_TIMEZONE, converter=check_timezone)
    greet: bool = attrs.field(default=True, converter=conv.boolean())
    tasks: bool = attrs.field(default=True, converter=conv.boolean())

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        days = birthdays_from(local_day(context.now, self.timezone), self.days_ahead)
        page = context.session.customers.list(
            kind=CustomerKind.PERSON,
            birth_month_day=OneOf(sorted(days)),
            limit=context.limit,
            after=after,
        )
        effects: list[Effect] = []
        for customer in page.items:
            month_day = customer.birth_month_day
            day = None if month_day is None else days.get(month_day)
            if day is None:
                continue
            occasion = Occasion(f"{self.name}:{customer.id}:{day.year}", customer.id)
            if self.tasks:
                effects.append(
                    occasion.task(
                        f"Birthday of {customer.name} on {day.isoformat()}",
                        due_at=to_moment(day, self.timezone, context.now),
                        assignee=customer.owner,
                        kind="birthday_care",
                    )
                )
            if self.greet:
                send_at = start_of(day, self.timezone)
                values = {"name": customer.name, "sender": self.sender}
                effects.append(
                    occasion.notice(
                        "birthday_greeting",
                        values,
                        customer,
                        send_at=send_at if send_at > context.now else None,
                    )
                )
        return RuleBatch(effects, next_after=page.next_after)


@attrs.frozen(kw_only=True)
class WinBack:
    """Win-back offers to customers at risk of churning.

    **Looks at** the store's churn signals under ``policy`` (a :class:`pycrm.ChurnPolicy`:
    no interaction or purchase for half a year, or purchases halved), a page at a time, each
    judged by :func:`pycrm.grading.churn.assess`. Customers who never bought are prospects,
    not lapsed buyers, and are left to nurturing; erased customers are left alone.

    **Fires** a ``win_back`` notice to the customer with ``offer``, signed ``sender`` (sent
    only when the automation has a customer channel), and a task (kind ``win_back``, due
    now) for the customer's owner, with the reasons in its notes.

    **Keys**: ``win_back:<customer>:<last purchase day>`` with ``:task`` / ``:notice``: one
    win-back per lapse; a customer who buys again and lapses again is won back again.
    """

    name: ClassVar[str] = "win_back"

    policy: ChurnPolicy = attrs.field(factory=ChurnPolicy, converter=_check_policy)
    offer: str = attrs.field(default="10% off your next order", converter=conv.text(200))
    sender: str = attrs.field(default="Customer Care", converter=conv.text(120))
    timezone: str = attrs.field(default=DEFAULT_TIMEZONE, converter=check_timezone)
    notices: bool = attrs.field(default=True, converter=conv.boolean())
    tasks: bool = attrs.field(default=True, converter=conv.boolean())

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        session = context.session
        rules = session.customers.rule_context(context.now)
        # The store's set-based signals, one page per call (customers.at_risk walks them all).
        page = session._analytics.churn_signals(
            self.policy, rules, after=after, limit=context.limit
        )
        next_after = page[-1].customer_id if len(page) == context.limit else None
        risks = [
            risk
            for risk in (assess(signals, self.policy, as_of=context.now) for signals in page)
            if risk is not None and risk.signals.last_order_at is not None
        ]
        customers = customers_by_id(context, (risk.customer_id for risk in risks))
        effects: list[Effect] = []
        for risk in risks:
            customer = customers.get(risk.customer_id)
            last_order_at = risk.signals.last_order_at
            if customer is None or last_order_at is None or is_erased(customer):
                continue
            lapse = local_day(last_order_at, self.timezone).isoformat()
            occasion = Occasion(f"{self.name}:{customer.id}:{lapse}", customer.id)
            if self.tasks:
                effects.append(
                    occasion.task(
                        f"Win back {customer.name}",
                        due_at=context.now,
                        assignee=customer.owner,
                        kind="win_back",
                        notes=risk.explanation[:4000],
                    )
                )
            if self.notices:
                values = {"name": customer.name, "offer": self.offer, "sender": self.sender}
                effects.append(occasion.notice("win_back", values, customer))
        return RuleBatch(effects, next_after=next_after)


RULES: tuple[AutomationRule, ...] = (RepurchaseReminders(), BirthdayCare(), WinBack())
