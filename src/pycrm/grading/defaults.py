"""The grade schemes pycrm ships: A/B/C follow-up grades, gold/silver/bronze tiers,
spending-power and purchase-frequency classes. Each is a function taking its thresholds,
so a host changes numbers, not code; the defaults suit a mid-sized B2B seller in CNY."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal

from pycrm.errors import ValidationError
from pycrm.grading.expr import F, Term
from pycrm.grading.schemes import Grade, GradeScheme

ABC = "abc"
TIERS = "tier"
SPENDING_POWER = "spending_power"
PURCHASE_FREQUENCY = "purchase_frequency"

WEEKLY = "FREQ=WEEKLY"
TWICE_A_MONTH = "FREQ=MONTHLY;BYMONTHDAY=1,15"
MONTHLY = "FREQ=MONTHLY"

DEFAULT_BENEFITS: Mapping[str, Sequence[str]] = {
    "gold": ("dedicated account manager", "priority service", "double points"),
    "silver": ("priority service", "1.5x points"),
    "bronze": ("member prices",),
}


def _descending(field: str, *thresholds: Decimal | int) -> None:
    if any(a < b for a, b in itertools.pairwise(thresholds)):
        raise ValidationError(field, "thresholds must go from the highest grade down")


def abc_scheme(
    *,
    key_spend: Decimal | int = 1_000_000,
    key_potential: Decimal | int = 500_000,
    regular_spend: Decimal | int = 100_000,
    regular_potential: Decimal | int = 50_000,
    spend_days: int = 365,
    currency: str | None = None,
    name: str = ABC,
) -> GradeScheme:
    """A key (reviewed weekly), B regular (twice a month), C potential (monthly).

    Key: spent ``key_spend`` in the last ``spend_days``, or open deals weighted at
    ``key_potential``, or urgent (high priority) with a regular-sized pipeline. Regular:
    ``regular_spend`` or ``regular_potential``, or urgent. Everyone else is potential.
    """
    _descending("key_spend", key_spend, regular_spend)
    _descending("key_potential", key_potential, regular_potential)
    spend = F.spend(days=spend_days, currency=currency)
    potential = F.potential(currency=currency)
    urgent = F.priority == "high"
    key = (
        (spend >= key_spend)
        | (potential >= key_potential)
        | (urgent & (potential >= regular_potential))
    )
    regular = (spend >= regular_spend) | (potential >= regular_potential) | urgent
    return GradeScheme(
        name,
        (
            Grade("A", key, WEEKLY, label="key customer"),
            Grade("B", regular, TWICE_A_MONTH, label="regular customer"),
            Grade("C", F.always(), MONTHLY, label="potential customer"),
        ),
        description="Follow-up grades by deal amount, weighted pipeline and urgency",
    )


def tier_scheme(
    *,
    by: Literal["spend", "points"] = "spend",
    gold: Decimal | int | None = None,
    silver: Decimal | int | None = None,
    bronze: Decimal | int | None = None,
    spend_days: int = 365,
    currency: str | None = None,
    benefits: Mapping[str, Sequence[str]] = DEFAULT_BENEFITS,
    name: str = TIERS,
) -> GradeScheme:
    """Gold, silver and bronze loyalty tiers by yearly spend or by points balance (at least
    the threshold); customers below bronze have no tier. Benefits are data on each tier."""
    if by == "spend":
        value = F.spend(days=spend_days, currency=currency)
        defaults: tuple[Decimal | int, ...] = (100_000, 20_000, 1)
    elif by == "points":
        value = F.points
        defaults = (10_000, 2_000, 1)
    else:
        raise ValidationError("by", "must be 'spend' or 'points'")
    given = (gold, silver, bronze)
    limits = [d if g is None else g for g, d in zip(given, defaults, strict=True)]
    _descending("gold", *limits)
    tiers = [
        Grade(tier, value >= limit, label=f"{tier} tier", benefits=tuple(benefits.get(tier, ())))
        for tier, limit in zip(("gold", "silver", "bronze"), limits, strict=True)
    ]
    return GradeScheme(name, tiers, description=f"Loyalty tiers by {by}")


def _classes(
    name: str, term: Term, high: Decimal | int, medium: Decimal | int, what: str
) -> GradeScheme:
    _descending("high", high, medium)
    return GradeScheme(
        name,
        (Grade("high", term >= high), Grade("medium", term >= medium), Grade("low", F.always())),
        description=what,
    )


def spending_power_scheme(
    *,
    high: Decimal | int = 500_000,
    medium: Decimal | int = 50_000,
    days: int = 365,
    currency: str | None = None,
    name: str = SPENDING_POWER,
) -> GradeScheme:
    """High, medium and low spending power by spend over the last ``days``."""
    spend = F.spend(days=days, currency=currency)
    return _classes(name, spend, high, medium, f"Spending power over {days} days")


def purchase_frequency_scheme(
    *, high: int = 12, medium: int = 4, days: int = 365, name: str = PURCHASE_FREQUENCY
) -> GradeScheme:
    """High, medium and low purchase frequency by purchases over the last ``days``."""
    count = F.order_count(days=days)
    return _classes(name, count, high, medium, f"Purchase frequency over {days} days")


def builtin_schemes() -> tuple[GradeScheme, ...]:
    """The four built-in schemes with their default thresholds."""
    return (abc_scheme(), tier_scheme(), spending_power_scheme(), purchase_frequency_scheme())
