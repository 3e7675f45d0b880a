"""Which values a merged customer keeps: the survivor's, filled in from its duplicates.

A merge must lose nothing a rep typed in, yet never overwrite what the survivor already
says, since the survivor is the record someone chose to keep. So:

- a field the survivor has (not empty) keeps the survivor's value;
- an empty field (``None``) takes the first duplicate's value that has one, in the order
  the duplicates were given;
- ``tags`` are the union of everyone's tags;
- ``custom_fields`` are merged key by key, the survivor winning, then the duplicates in order;
- ``captured_at`` is the earliest of all, since the customer was first seen then.

Identity, kind and bookkeeping (id, version, timestamps) stay the survivor's. A field that
does not apply to the survivor's kind (a company's industry on a person) is never copied, nor
is a derived identity hash: the session derives those from the merged values on saving.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from pycrm.domain import Customer
from pycrm.domain.customer import COMPANY_ONLY_FIELDS, PERSON_ONLY_FIELDS
from pycrm.domain.entity import BOOKKEEPING_FIELDS
from pycrm.errors import ValidationError

_OWN_FIELDS = BOOKKEEPING_FIELDS | {"kind"}
_SPECIAL = frozenset({"tags", "custom_fields", "captured_at"})


def merge_customers(survivor: Customer, duplicates: Sequence[Customer]) -> Customer:
    """``survivor`` with the richest values of it and ``duplicates`` (rules above)."""
    if not isinstance(survivor, Customer):
        raise ValidationError("survivor", f"expected a Customer, got {type(survivor).__name__}")
    for duplicate in duplicates:
        if not isinstance(duplicate, Customer):
            raise ValidationError(
                "duplicates", f"expected Customers, got {type(duplicate).__name__}"
            )
        if duplicate.id == survivor.id:
            raise ValidationError("duplicates", "the survivor cannot be its own duplicate")
    foreign = PERSON_ONLY_FIELDS if survivor.is_company else COMPANY_ONLY_FIELDS
    changes: dict[str, Any] = {}
    for field in attrs.fields(Customer):
        name = field.name
        if name in _OWN_FIELDS or name in _SPECIAL or name in foreign:
            continue
        if field.metadata.get("derived"):
            continue  # identity hashes follow the merged values when the session saves them
        if getattr(survivor, name) is not None:
            continue
        for duplicate in duplicates:
            value = getattr(duplicate, name)
            if value is not None:
                changes[name] = value
                break
    everyone = (survivor, *duplicates)
    tags = frozenset().union(*(c.tags for c in everyone))
    if tags != survivor.tags:
        changes["tags"] = tags
    custom: dict[str, Any] = {}
    for customer in reversed(everyone):
        custom.update(customer.custom_fields)
    if custom != survivor.custom_fields:
        changes["custom_fields"] = custom
    captured = [c.captured_at for c in everyone if c.captured_at is not None]
    if captured and min(captured) != survivor.captured_at:
        changes["captured_at"] = min(captured)
    return survivor.evolve(**changes) if changes else survivor
