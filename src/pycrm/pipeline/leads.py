"""Leads: an enquiry from some intake channel, graded high/medium/low before anyone calls back.

A :class:`Lead` is not stored as such: capturing it (see :func:`pycrm.leads.capture_lead`)
matches or creates a customer and opens an opportunity. Grading is a pure function of the
lead and :class:`LeadGrading` rules held as data, so hosts can keep the rules in their own
configuration and tests can check them without a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from pycrm.domain import Money, Priority
from pycrm.domain import _convert as conv
from pycrm.domain.personal import mask_email, mask_phone, mask_text, masked_repr
from pycrm.errors import ValidationError

NEED_MAX = 200
"""A need becomes the opportunity's title, so it is held to a title's length."""


def _text(value: Any, field: str, max_length: int) -> str:
    checked = conv.check_text(value, field, max_length=max_length, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _optional(value: Any, field: str, max_length: int) -> str | None:
    return conv.check_text(value, field, max_length=max_length, required=False)


def _channel(value: str) -> str:
    return _text(value, "channel", 60)


def _name(value: str) -> str:
    return _text(value, "name", 200)


def _received_at(value: datetime | str) -> datetime:
    checked = conv.check_datetime(value, "received_at", required=True)
    assert checked is not None
    return checked


def _company(value: str | None) -> str | None:
    return _optional(value, "company", 200)


def _phone(value: str | None) -> str | None:
    return conv.check_phone(value, "phone")


def _email(value: str | None) -> str | None:
    return conv.check_email(value, "email")


def _member_id(value: str | None) -> str | None:
    return _optional(value, "member_id", 64)


def _region(value: str | None) -> str | None:
    return _optional(value, "region", 120)


def _industry(value: str | None) -> str | None:
    return _optional(value, "industry", 80)


def _need(value: str | None) -> str | None:
    return _optional(value, "need", NEED_MAX)


def _budget(value: Money | None) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    raise ValidationError("budget", f"expected Money, got {type(value).__name__}")


def _tags(value: Iterable[str] | str | None) -> frozenset[str]:
    return conv.check_tags(value, "tags")


@attrs.frozen(kw_only=True)
class Lead:
    """An enquiry as it arrives: who, through which channel, what they need, what they may spend.

    ``channel`` is free text (``web_form``, ``exhibition``, ``referral``, ``phone``, ...) since
    every business has its own intake channels. A lead with a ``company`` is a company lead,
    ``name`` then being the person who got in touch. At least one of ``phone``, ``email`` or
    ``member_id`` is required: a lead nobody can reach or recognise cannot be followed up.
    Personal data is masked in ``repr``.
    """

    channel: str = attrs.field(converter=_channel)
    name: str = attrs.field(converter=_name)
    received_at: datetime = attrs.field(converter=_received_at)
    company: str | None = attrs.field(default=None, converter=_company)
    phone: str | None = attrs.field(default=None, converter=_phone, repr=masked_repr(mask_phone))
    email: str | None = attrs.field(default=None, converter=_email, repr=masked_repr(mask_email))
    member_id: str | None = attrs.field(
        default=None, converter=_member_id, repr=masked_repr(mask_text)
    )
    region: str | None = attrs.field(default=None, converter=_region)
    industry: str | None = attrs.field(default=None, converter=_industry)
    need: str | None = attrs.field(default=None, converter=_need)
    budget: Money | None = attrs.field(default=None, converter=_budget)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)

    def __attrs_post_init__(self) -> None:
        if self.phone is None and self.email is None and self.member_id is None:
            raise ValidationError("phone", "a lead needs a phone, an email or a member id")
        if self.budget is not None and self.budget.amount < 0:
            raise ValidationError("budget", "must not be negative", value=self.budget.amount)


def _thresholds(value: Mapping[str, Any] | None, field: str) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(field, "expected a mapping of currency code to amount")
    checked: dict[str, Decimal] = {}
    for currency, amount in value.items():
        code = Money(0, currency).currency  # Money validates and normalises the code
        number = conv.check_decimal(amount, field)
        if number < 0:
            raise ValidationError(field, f"{code} threshold must not be negative", value=amount)
        checked[code] = number
    return checked


def _names(value: Iterable[str] | None, field: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a collection of names")
    return frozenset(_text(item, field, 120).casefold() for item in value)


def _high_budget(value: Mapping[str, Any] | None) -> dict[str, Decimal]:
    return _thresholds(value, "high_budget")


def _medium_budget(value: Mapping[str, Any] | None) -> dict[str, Decimal]:
    return _thresholds(value, "medium_budget")


def _target_industries(value: Iterable[str] | None) -> frozenset[str]:
    return _names(value, "target_industries")


def _target_regions(value: Iterable[str] | None) -> frozenset[str]:
    return _names(value, "target_regions")


@attrs.frozen(kw_only=True)
class LeadGrading:
    """Grading rules as data: budget thresholds per currency, and who fits the business.

    *Value* is high when the budget reaches ``high_budget`` in its currency, medium when it
    reaches ``medium_budget``, low otherwise (no budget, or a currency with no threshold).
    A lead *fits* when its industry is in ``target_industries`` or its region in
    ``target_regions`` (compared ignoring case); with both sets empty every lead fits.
    High value and a fit make a high lead; high value without a fit, or medium value with
    one, a medium lead; anything else a low one.
    """

    high_budget: dict[str, Decimal] = attrs.field(converter=_high_budget, hash=False)
    medium_budget: dict[str, Decimal] = attrs.field(converter=_medium_budget, hash=False)
    target_industries: frozenset[str] = attrs.field(factory=frozenset, converter=_target_industries)
    target_regions: frozenset[str] = attrs.field(factory=frozenset, converter=_target_regions)

    def __attrs_post_init__(self) -> None:
        for currency, high in self.high_budget.items():
            medium = self.medium_budget.get(currency)
            if medium is not None and medium > high:
                raise ValidationError(
                    "medium_budget", f"{currency} threshold is above the high one ({high})"
                )


DEFAULT_GRADING = LeadGrading(
    high_budget={"CNY": 1_000_000, "USD": 150_000, "EUR": 150_000},
    medium_budget={"CNY": 100_000, "USD": 15_000, "EUR": 15_000},
)
"""Budget alone decides (every lead fits): a million yuan or 150,000 dollars or euros is a
high lead, a tenth of that a medium one."""


def grade(lead: Lead, rules: LeadGrading | None = None) -> tuple[Priority, str]:
    """The lead's priority under ``rules`` (:data:`DEFAULT_GRADING` if none) and why.

    The reason names the budget band and the fit, so a rep can see why a lead came first.
    """
    if not isinstance(lead, Lead):
        raise ValidationError("lead", f"expected Lead, got {type(lead).__name__}")
    chosen = DEFAULT_GRADING if rules is None else rules
    if not isinstance(chosen, LeadGrading):
        raise ValidationError("rules", f"expected LeadGrading, got {type(chosen).__name__}")
    value, value_reason = _value(lead.budget, chosen)
    fits, fit_reason = _fit(lead, chosen)
    if value is Priority.HIGH and fits:
        result = Priority.HIGH
    elif value is Priority.HIGH or (value is Priority.MEDIUM and fits):
        result = Priority.MEDIUM
    else:
        result = Priority.LOW
    return result, f"{value_reason}; {fit_reason}"


def _value(budget: Money | None, rules: LeadGrading) -> tuple[Priority, str]:
    if budget is None:
        return Priority.LOW, "no budget given"
    shown = f"budget {budget.amount} {budget.currency}"
    high = rules.high_budget.get(budget.currency)
    medium = rules.medium_budget.get(budget.currency)
    if high is None and medium is None:
        return Priority.LOW, f"{shown} (no threshold for {budget.currency})"
    if high is not None and budget.amount >= high:
        return Priority.HIGH, f"{shown} reaches the high threshold {high}"
    if medium is not None and budget.amount >= medium:
        return Priority.MEDIUM, f"{shown} reaches the medium threshold {medium}"
    return Priority.LOW, f"{shown} is below the thresholds"


def _fit(lead: Lead, rules: LeadGrading) -> tuple[bool, str]:
    if not rules.target_industries and not rules.target_regions:
        return True, "no target industries or regions set"
    industry = None if lead.industry is None else lead.industry.casefold()
    region = None if lead.region is None else lead.region.casefold()
    if industry is not None and industry in rules.target_industries:
        return True, f"industry {lead.industry!r} is a target"
    if region is not None and region in rules.target_regions:
        return True, f"region {lead.region!r} is a target"
    return False, "neither industry nor region is a target"
