"""Customers: companies and people, with where they came from and who looks after them."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.domain.money import Money
from pycrm.domain.personal import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_phone,
    mask_text,
    masked_repr,
)
from pycrm.errors import ValidationError


class CustomerKind(str, enum.Enum):
    COMPANY = "company"
    PERSON = "person"


class Priority(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class LifecycleStatus(str, enum.Enum):
    """Where a customer stands: not yet buying, buying, gone quiet, gone, or never won."""

    PROSPECT = "prospect"
    ACTIVE = "active"
    DORMANT = "dormant"
    CHURNED = "churned"
    LOST = "lost"


class Gender(str, enum.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


COMPANY_ONLY_FIELDS = ("industry", "employees", "yearly_revenue", "founded_on", "website")
PERSON_ONLY_FIELDS = ("honorific", "gender", "birthday", "employer", "position")


def _optional_money(value: Any, field: attrs.Attribute) -> Money | None:  # type: ignore[type-arg]
    if value is None or isinstance(value, Money):
        return value
    raise ValidationError(field.name, f"expected Money, got {type(value).__name__}")


_PHONE_REPR = masked_repr(mask_phone)
_EMAIL_REPR = masked_repr(mask_email)
_ID_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-/.]{2,38}[0-9A-Za-z]$")
_TOKEN = re.compile(r"^[0-9a-f]{64}$")

DERIVED = {"derived": True}
"""Field metadata of the identity fields the session derives on every add and update; audit
entries leave them out, since they only restate the fields they come from."""


def _id_number(value: Any, field: attrs.Attribute) -> str | None:  # type: ignore[type-arg]
    text = conv.check_text(value, field.name, max_length=40, required=False)
    if text is not None and not _ID_NUMBER.match(text):
        raise ValidationError(
            field.name, "an ID number is 4 to 40 letters and digits (spaces and dashes allowed)"
        )
    return text


def _token(value: Any, field: attrs.Attribute) -> str | None:  # type: ignore[type-arg]
    if value is None:
        return None
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise ValidationError(field.name, "an identity hash is 64 lower-case hex digits")
    return value


def is_derived(field: attrs.Attribute) -> bool:  # type: ignore[type-arg]
    """Whether ``field`` is derived by the session rather than given (see :data:`DERIVED`)."""
    return bool(field.metadata.get("derived"))


@attrs.frozen(kw_only=True)
class Customer(Entity):
    """A company or a person the business sells to.

    Company-only fields (industry, size, founding date, website) and person-only fields
    (honorific, gender, birthday, employer, position) are rejected on the other kind, so a
    record never carries data that means nothing for it. Phone, email, address, member id
    and ID number are personal data and masked in ``repr``. ``churn_reason`` says why a
    churned or lost customer left (the churn-reasons report groups by it).

    ``phone_hash``, ``email_hash``, ``id_number_hash`` and ``company_key`` are derived: the
    session sets them from the other fields on every add and update (they need the CRM's
    identity key, which an entity does not know), so on an unsaved copy they may be stale.
    They take no part in equality. See :mod:`pycrm.identity`.
    """

    ENTITY_TYPE: ClassVar[str] = "customer"
    ID_PREFIX: ClassVar[str] = "cus"

    kind: CustomerKind = attrs.field(converter=conv.choice(CustomerKind))
    name: str = attrs.field(converter=conv.text(200))
    # Company
    industry: str | None = attrs.field(default=None, converter=conv.optional_text(80))
    employees: int | None = attrs.field(default=None, converter=conv.optional_integer(0))
    yearly_revenue: Money | None = attrs.field(
        default=None,
        converter=attrs.Converter(_optional_money, takes_field=True),
    )
    founded_on: date | None = attrs.field(default=None, converter=conv.optional_date())
    website: str | None = attrs.field(default=None, converter=conv.optional_text(200))
    # Person
    honorific: str | None = attrs.field(default=None, converter=conv.optional_text(40))
    gender: Gender | None = attrs.field(default=None, converter=conv.optional_choice(Gender))
    birthday: date | None = attrs.field(default=None, converter=conv.optional_date())
    employer: str | None = attrs.field(default=None, converter=conv.optional_text(200))
    position: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    # Both
    region: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    address: str | None = attrs.field(
        default=None, converter=conv.optional_text(500), repr=masked_repr(mask_address)
    )
    phone: str | None = attrs.field(default=None, converter=conv.phone(), repr=_PHONE_REPR)
    email: str | None = attrs.field(default=None, converter=conv.email(), repr=_EMAIL_REPR)
    source_channel: str | None = attrs.field(default=None, converter=conv.optional_text(60))
    captured_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=conv.tag_set())
    priority: Priority = attrs.field(default=Priority.MEDIUM, converter=conv.choice(Priority))
    owner: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    team: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    status: LifecycleStatus = attrs.field(
        default=LifecycleStatus.PROSPECT, converter=conv.choice(LifecycleStatus)
    )
    churn_reason: str | None = attrs.field(default=None, converter=conv.optional_text(400))
    member_id: str | None = attrs.field(
        default=None, converter=conv.optional_text(64), repr=masked_repr(mask_text)
    )
    custom_fields: dict[str, Any] = attrs.field(
        factory=dict, converter=conv.json_object(), hash=False
    )
    id_number: str | None = attrs.field(
        default=None,
        converter=attrs.Converter(_id_number, takes_field=True),
        repr=masked_repr(mask_id_number),
    )
    # Derived by the session on every add and update (pycrm.identity), never given: keyed
    # hashes of the normalised phone, email and ID number, and the company name's matching
    # key (the employer's, for a person). Lookups and duplicate blocking use only these.
    phone_hash: str | None = attrs.field(
        default=None,
        converter=attrs.Converter(_token, takes_field=True),
        eq=False,
        repr=False,
        metadata=DERIVED,
    )
    email_hash: str | None = attrs.field(
        default=None,
        converter=attrs.Converter(_token, takes_field=True),
        eq=False,
        repr=False,
        metadata=DERIVED,
    )
    id_number_hash: str | None = attrs.field(
        default=None,
        converter=attrs.Converter(_token, takes_field=True),
        eq=False,
        repr=False,
        metadata=DERIVED,
    )
    company_key: str | None = attrs.field(
        default=None, converter=conv.optional_text(200), eq=False, repr=False, metadata=DERIVED
    )

    def __attrs_post_init__(self) -> None:
        foreign = PERSON_ONLY_FIELDS if self.kind is CustomerKind.COMPANY else COMPANY_ONLY_FIELDS
        for name in foreign:
            if getattr(self, name) is not None:
                raise ValidationError(name, f"does not apply to a {self.kind.value} customer")

    @property
    def is_company(self) -> bool:
        return self.kind is CustomerKind.COMPANY

    @property
    def birth_month_day(self) -> str | None:
        """The birthday as ``"MM-DD"`` (``None`` without one): what recurs every year, so
        birthday care finds the day's birthdays by a filter on it, whatever the year."""
        birthday = self.birthday
        return None if birthday is None else f"{birthday.month:02d}-{birthday.day:02d}"

    @classmethod
    def company(cls, name: str, **fields: Any) -> Customer:
        """A company customer; ``fields`` are any other :class:`Customer` fields."""
        return cls(kind=CustomerKind.COMPANY, name=name, **fields)

    @classmethod
    def person(cls, name: str, **fields: Any) -> Customer:
        """A person customer; ``fields`` are any other :class:`Customer` fields."""
        return cls(kind=CustomerKind.PERSON, name=name, **fields)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Customer:
        """Build from outside data (a CSV row, a host's dict), rejecting unknown keys.

        ``yearly_revenue`` may be given as Money or as ``yearly_revenue_amount`` plus
        ``yearly_revenue_currency``; ``tags`` may be a comma-separated string.
        """
        data = dict(row)
        amount = data.pop("yearly_revenue_amount", None)
        currency = data.pop("yearly_revenue_currency", None)
        if amount is not None or currency is not None:
            if currency is None:
                raise ValidationError("yearly_revenue_currency", "is required with an amount")
            data["yearly_revenue"] = Money(amount, currency)
        if isinstance(data.get("tags"), str):
            data["tags"] = [t for t in data["tags"].split(",") if t.strip()]
        unknown = set(data) - _CUSTOMER_FIELDS
        if unknown:
            problem = (
                "is derived from other fields, not given"
                if sorted(unknown)[0] in _DERIVED_FIELDS
                else "is not a customer field"
            )
            raise ValidationError(sorted(unknown)[0], problem)
        return cls(**data)


_DERIVED_FIELDS = frozenset(a.name for a in attrs.fields(Customer) if is_derived(a))
IDENTITY_FIELDS: tuple[str, ...] = tuple(sorted(_DERIVED_FIELDS))
"""The derived identity fields of :class:`Customer`."""
_CUSTOMER_FIELDS = frozenset(a.name for a in attrs.fields(Customer)) - _DERIVED_FIELDS
