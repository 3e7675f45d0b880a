"""What can be imported and exported: customers, contacts, orders and interactions.

Each :class:`ImportKind` lists the fields a source may fill (with how a text cell of each is
read), the keys rows can be matched on, and how a row's values become an entity. Records
that belong to a customer name it by ``customer_id`` or by one of the customer's keys
(``customer_member_id``, ``customer_phone``, ``customer_email``), as another system would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pycrm.domain import Contact, Customer, Entity, Interaction, Money, Order
from pycrm.errors import ValidationError

CUSTOMER_KEYS = ("member_id", "phone", "email")
"""Customer fields an import can match rows on (and other records can name a customer by)."""

CUSTOMER_REFERENCES = {f"customer_{key}": key for key in CUSTOMER_KEYS}
"""Columns naming a record's customer by one of its keys -> the customer field."""


def _money(data: dict[str, Any], name: str, currency: str | None) -> None:
    """Fold ``<name>_amount`` and ``<name>_currency`` into ``Money`` under ``name``."""
    amount = data.pop(f"{name}_amount", None)
    code = data.pop(f"{name}_currency", None)
    if amount is None and code is None:
        return
    if amount is None:
        raise ValidationError(f"{name}_amount", "is required with a currency")
    code = code if code is not None else currency
    if code is None:
        raise ValidationError(f"{name}_currency", "is required with an amount")
    try:
        data[name] = Money(amount, code)
    except ValidationError as exc:  # Money names its own fields: say which money it was
        raise ValidationError(f"{name}_{exc.field}", exc.problem, value=exc.value) from None


def _required(cls: type[Entity]) -> tuple[str, ...]:
    return tuple(a.name for a in attrs.fields(cls) if a.default is attrs.NOTHING)


def _builder(
    cls: type[Entity], money: tuple[str, ...] = ()
) -> Callable[[dict[str, Any], str | None], Entity]:
    """Build ``cls`` from a row's fields. A required field the row lacks is passed as
    ``None``, so the entity's converter refuses it by name ("is required")."""
    required = _required(cls)

    def build(data: dict[str, Any], currency: str | None) -> Entity:
        for name in money:
            _money(data, name, currency)
        for name in required:
            data.setdefault(name, None)
        return cls(**data)

    return build


@attrs.frozen
class ImportKind:
    """``fields``: field a source may fill -> the reader its text goes through (see
    :func:`pycrm.io.columns.default_readers`). ``keys``: fields rows may be matched on.
    ``money``: composite fields written as ``<name>_amount`` and ``<name>_currency``."""

    name: str
    repository: str
    cls: type[Entity]
    fields: Mapping[str, str]
    keys: tuple[str, ...]
    build: Callable[[dict[str, Any], str | None], Entity]
    money: tuple[str, ...] = ()

    @property
    def belongs_to_customer(self) -> bool:
        return "customer_id" in self.fields


_CUSTOMER_REF = {"customer_id": "text", **dict.fromkeys(CUSTOMER_REFERENCES, "text")}

KINDS: dict[str, ImportKind] = {
    "customers": ImportKind(
        "customers",
        "customers",
        Customer,
        {
            "kind": "text",
            "name": "text",
            "industry": "text",
            "employees": "int",
            "yearly_revenue_amount": "decimal",
            "yearly_revenue_currency": "text",
            "founded_on": "text",
            "website": "text",
            "honorific": "text",
            "gender": "text",
            "birthday": "text",
            "employer": "text",
            "position": "text",
            "region": "text",
            "address": "text",
            "phone": "text",
            "email": "text",
            "source_channel": "text",
            "captured_at": "datetime",
            "tags": "tags",
            "priority": "text",
            "owner": "text",
            "team": "text",
            "status": "text",
            "churn_reason": "text",
            "member_id": "text",
            "id_number": "text",
            "custom_fields": "json",
        },
        CUSTOMER_KEYS,
        _builder(Customer, ("yearly_revenue",)),
        money=("yearly_revenue",),
    ),
    "contacts": ImportKind(
        "contacts",
        "contacts",
        Contact,
        {
            **_CUSTOMER_REF,
            "name": "text",
            "position": "text",
            "is_decision_maker": "bool",
            "phone": "text",
            "email": "text",
            "messaging_ids": "json",
            "notes": "text",
        },
        ("email", "phone"),
        _builder(Contact),
    ),
    "orders": ImportKind(
        "orders",
        "orders",
        Order,
        {
            **_CUSTOMER_REF,
            "number": "text",
            "placed_at": "datetime",
            "total_amount": "decimal",
            "total_currency": "text",
            "status": "text",
        },
        ("number",),
        _builder(Order, ("total",)),
        money=("total",),
    ),
    "interactions": ImportKind(
        "interactions",
        "interactions",
        Interaction,
        {
            **_CUSTOMER_REF,
            "channel": "text",
            "occurred_at": "datetime",
            "summary": "text",
            "contact_id": "text",
            "recorded_by": "text",
            "needs": "lines",
            "objections": "lines",
            "commitments": "lines",
            "result": "text",
            "next_action": "text",
            "next_action_due": "datetime",
        },
        (),
        _builder(Interaction),
    ),
}


def import_kind(name: object) -> ImportKind:
    """The kind called ``name``, or a ``ValidationError`` listing the kinds there are."""
    if isinstance(name, str) and name in KINDS:
        return KINDS[name]
    raise ValidationError("kind", f"must be one of {', '.join(KINDS)}", value=name)
