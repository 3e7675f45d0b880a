"""Money automation: overdue instalments and contracts coming up for renewal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, ClassVar

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.automation.effects import Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.automation.rules._care import (
    DEFAULT_TIMEZONE,
    check_days,
    check_period,
    check_timezone,
    local_day,
    stream_by,
    to_moment,
)
from pycrm.automation.rules._customers import customer_name, customers_by_id
from pycrm.automation.rules._occasion import Occasion
from pycrm.contracts import Contract, ContractStatus, Receipt
from pycrm.contracts.payments import overdue_instalments, renewal_reminder_date
from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.query import OneOf, Range

OWED = (ContractStatus.APPROVED, ContractStatus.ACTIVE)
"""Contracts whose instalments are chased: approved (signed) and in force."""

RENEWABLE = (ContractStatus.ACTIVE, ContractStatus.COMPLETED)
"""Contracts worth renewing: in force, or with every obligation met but the term still running."""

_MONTH_SLACK = timedelta(days=4)
# ``end_on - before <= today`` is not ``end_on <= today + before`` with months (31 March less
# a month is 28 February): the query reads a few days more and the calculator decides.


def renewal_window(today: date, before: relativedelta) -> Range:
    """The end dates of contracts whose renewal reminder may have come by ``today`` and which
    have not ended: a query range that holds every one, and a few more the caller drops with
    :func:`~pycrm.contracts.renewal_reminder_date`."""
    horizon: date = today + before + _MONTH_SLACK
    return Range(today, horizon)


def owners_of(
    context: TickContext, contracts: Sequence[Contract], customers: Mapping[str, Customer]
) -> dict[str, str]:
    """Contract id -> the person responsible for it: the customer's owner, else the owner of
    the opportunity the contract closed (one query for the page's opportunities)."""
    owners: dict[str, str] = {}
    missing: list[Contract] = []
    for contract in contracts:
        customer = customers.get(contract.customer_id)
        if customer is not None and customer.owner is not None:
            owners[contract.id] = customer.owner
        elif contract.opportunity_id is not None:
            missing.append(contract)
    if missing:
        wanted = (c.opportunity_id for c in missing if c.opportunity_id is not None)
        deals = context.session.opportunities.get_many(wanted)
        for contract in missing:
            deal = deals.get(contract.opportunity_id or "")
            if deal is not None and deal.owner is not None:
                owners[contract.id] = deal.owner
    return owners


def _about_contract(
    contract: Contract, owner: str, customers: Mapping[str, Customer]
) -> dict[str, Any]:
    """The values a contract's notices share: to whom, whose contract, and which."""
    return {
        "owner": owner,
        "customer": customer_name(customers, contract.customer_id),
        "contract": contract.number,
    }


@attrs.frozen(kw_only=True)
class OverduePayments:
    """Instalments past due and not paid.

    **Looks at** approved and active contracts with a payment plan, a page at a time, with
    the page's receipts read in one query. Receipts clear the oldest instalment first
    (:func:`pycrm.contracts.overdue_instalments`).

    **Fires** for each instalment still not fully paid more than ``grace`` days (default 0)
    after its due date, counted on the day the tick falls on in ``timezone``: a task (kind
    ``overdue_payment``, due now) and an ``overdue_payment`` notice with the unpaid part, for
    the person responsible: the customer's owner, else the owner of the opportunity the
    contract closed. Without either, the task is unassigned and no notice is sent.

    **Keys**: ``overdue_payments:<contract>:<due date>`` with ``:task`` / ``:notice``, so
    each instalment is chased once; a later instalment is a new occasion. ``tasks=False``
    sends the notices alone, ``notices=False`` creates the tasks alone.
    """

    name: ClassVar[str] = "overdue_payments"

    grace: int = attrs.field(default=0, converter=check_days())
    timezone: str = attrs.field(default=DEFAULT_TIMEZONE, converter=check_timezone)
    tasks: bool = attrs.field(default=True, converter=conv.boolean())
    notices: bool = attrs.field(default=True, converter=conv.boolean())

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        session = context.session
        page = session.contracts.list(status=OneOf(OWED), limit=context.limit, after=after)
        planned = [c for c in page.items if c.payment_plan is not None]
        if not planned:
            return RuleBatch((), next_after=page.next_after)
        receipts: dict[str, list[Receipt]] = defaultdict(list)
        for receipt in stream_by(session.receipts, "contract_id", (c.id for c in planned)):
            receipts[receipt.contract_id].append(receipt)
        today = local_day(context.now, self.timezone)
        cutoff = today - timedelta(days=self.grace)
        overdue = [
            (contract, allocation)
            for contract in planned
            for allocation in overdue_instalments(contract, receipts[contract.id], today=cutoff)
        ]
        effects: list[Effect] = []
        if overdue:
            contracts = list({contract.id: contract for contract, _ in overdue}.values())
            customers = customers_by_id(context, (c.customer_id for c in contracts))
            owners = owners_of(context, contracts, customers)
            for contract, allocation in overdue:
                due_on = allocation.instalment.due_on
                key = f"{self.name}:{contract.id}:{due_on.isoformat()}"
                occasion = Occasion(key, contract.customer_id)
                owner = owners.get(contract.id)
                if self.tasks:
                    effects.append(
                        occasion.task(
                            f"Collect {allocation.unpaid} on contract {contract.number}",
                            due_at=context.now,
                            assignee=owner,
                            about=contract.id,
                            kind="overdue_payment",
                        )
                    )
                if self.notices and owner is not None:
                    values = {
                        **_about_contract(contract, owner, customers),
                        "amount": str(allocation.unpaid),
                        "due_date": due_on.isoformat(),
                        "days_overdue": (today - due_on).days,
                    }
                    effects.append(occasion.notice("overdue_payment", values, Staff(owner)))
        return RuleBatch(effects, next_after=page.next_after)


@attrs.frozen(kw_only=True)
class RenewalReminders:
    """Contracts coming up for renewal.

    **Looks at** active and completed contracts whose end date lies from today to ``before``
    ahead (a ``relativedelta``, one month by default), read by a range on ``end_on``, a
    page at a time; today is the tick's day in ``timezone``.

    **Fires** once the reminder date (:func:`pycrm.contracts.renewal_reminder_date`: the end
    date less ``before``, month ends kept right) has come and the contract has not ended: a
    task (kind ``renewal``, due at the start of the end date) and a ``renewal_reminder``
    notice for the person responsible (the customer's owner, else the owner of the
    opportunity the contract closed).

    **Keys**: ``renewal_reminders:<contract>:<end date>`` with ``:task`` / ``:notice``: one
    reminder per term; a contract extended to a new end date is reminded again.
    """

    name: ClassVar[str] = "renewal_reminders"

    before: relativedelta = attrs.field(
        factory=lambda: relativedelta(months=1), converter=check_period()
    )
    timezone: str = attrs.field(default=DEFAULT_TIMEZONE, converter=check_timezone)
    tasks: bool = attrs.field(default=True, converter=conv.boolean())
    notices: bool = attrs.field(default=True, converter=conv.boolean())

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        today = local_day(context.now, self.timezone)
        page = context.session.contracts.list(
            status=OneOf(RENEWABLE),
            end_on=renewal_window(today, self.before),
            limit=context.limit,
            after=after,
        )
        due = [
            contract
            for contract in page.items
            if renewal_reminder_date(contract, before=self.before) <= today
        ]
        effects: list[Effect] = []
        if due:
            customers = customers_by_id(context, (c.customer_id for c in due))
            owners = owners_of(context, due, customers)
            for contract in due:
                key = f"{self.name}:{contract.id}:{contract.end_on.isoformat()}"
                occasion = Occasion(key, contract.customer_id)
                owner = owners.get(contract.id)
                if self.tasks:
                    effects.append(
                        occasion.task(
                            f"Renew contract {contract.number} (ends {contract.end_on})",
                            due_at=to_moment(contract.end_on, self.timezone, context.now),
                            assignee=owner,
                            about=contract.id,
                            kind="renewal",
                        )
                    )
                if self.notices and owner is not None:
                    values = {
                        **_about_contract(contract, owner, customers),
                        "end_date": contract.end_on.isoformat(),
                    }
                    effects.append(occasion.notice("renewal_reminder", values, Staff(owner)))
        return RuleBatch(effects, next_after=page.next_after)


RULES: tuple[AutomationRule, ...] = (OverduePayments(), RenewalReminders())
