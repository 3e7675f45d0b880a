"""Payment plans: the instalments a contract's amount is paid in.

A plan is part of the contract rather than an entity of its own: its one rule -- the
instalments add up to the contract amount, in its currency -- spans both, so it is checked
when the contract is built and the two are saved together under one version. Receipts, which
arrive on their own over months and are recorded by other people, are separate entities.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs

from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


def _due_on(value: date | str) -> date:
    checked = conv.check_date(value, "due_on")
    if checked is None:
        raise ValidationError("due_on", "is required")
    return checked


def _instalment_amount(value: Money) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", f"expected Money, got {type(value).__name__}")
    if value.amount <= 0:
        raise ValidationError("amount", "an instalment must be greater than zero", value=value)
    return value


@attrs.frozen(kw_only=True)
class Instalment:
    """One payment due: ``amount`` by ``due_on``."""

    due_on: date = attrs.field(converter=_due_on)
    amount: Money = attrs.field(converter=_instalment_amount)


def _instalments(value: Iterable[Instalment]) -> tuple[Instalment, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("instalments", "expected a sequence of Instalment")
    items = tuple(value)
    if not items:
        raise ValidationError("instalments", "a payment plan needs at least one instalment")
    for item in items:
        if not isinstance(item, Instalment):
            raise ValidationError("instalments", f"expected Instalment, got {type(item).__name__}")
    if len({item.amount.currency for item in items}) > 1:
        raise ValidationError("instalments", "are in more than one currency")
    # Kept in due order, so allocation and display need no sorting and equality is stable.
    return tuple(sorted(items, key=lambda item: item.due_on))


@attrs.frozen(kw_only=True)
class PaymentPlan:
    """Instalments in due order, all in one currency."""

    instalments: tuple[Instalment, ...] = attrs.field(converter=_instalments)

    @property
    def total(self) -> Money:
        first, *rest = self.instalments
        return sum((item.amount for item in rest), first.amount)

    @classmethod
    def of(cls, *items: tuple[date | str, Money]) -> PaymentPlan:
        """``PaymentPlan.of(("2026-04-01", Money(...)), ...)``: a plan from (due, amount) pairs."""
        return cls(instalments=[Instalment(due_on=due, amount=amount) for due, amount in items])
