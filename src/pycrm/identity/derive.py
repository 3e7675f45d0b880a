"""The identity fields a customer carries for matching, derived from its other fields.

The session calls :func:`stamp_identity` on every add and update, because the hashes need the
CRM's key and region, which an entity does not know; the store only keeps the result in
indexed columns. A phone, email or ID number too malformed to normalise gets no hash (the
data-quality report lists it) instead of refusing the whole write: the raw field was already
validated by the entity, and bulk imports should not fail on a number ``phonenumbers`` does
not recognise.
"""

from __future__ import annotations

from typing import Any

import attrs

from pycrm.domain import Customer
from pycrm.domain._copy import replacer
from pycrm.errors import ValidationError
from pycrm.identity.hashing import IdentityHasher
from pycrm.identity.normalize import company_key, phone_or_none

IDENTITY_ORDER = ("company_key", "email_hash", "id_number_hash", "phone_hash")
"""The derived identity fields in the order :func:`identity_tuple` gives them."""


def identity_values(customer: Customer, hasher: IdentityHasher, region: str) -> dict[str, Any]:
    """``{field: value}`` of the derived identity fields of ``customer``."""
    return dict(zip(IDENTITY_ORDER, identity_tuple(customer, hasher, region), strict=True))


def identity_tuple(customer: Customer, hasher: IdentityHasher, region: str) -> tuple[Any, ...]:
    """The derived identity fields of ``customer`` in :data:`IDENTITY_ORDER`: the bulk path
    sets them positionally while it copies the customer anyway."""
    phone = phone_or_none(customer.phone, region)
    phone_hash = None if phone is None else hasher.phone(phone)
    email_hash = _or_none(hasher.email, customer.email)
    id_number_hash = _or_none(hasher.id_number, customer.id_number)
    company = customer.name if customer.is_company else customer.employer
    return (
        None if company is None else company_key(company),
        email_hash,
        id_number_hash,
        phone_hash,
    )


def _or_none(hash_of: Any, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        result: str = hash_of(value)
    except ValidationError:
        return None
    return result


def stamp_identity(customer: Customer, hasher: IdentityHasher, region: str) -> Customer:
    """``customer`` with its identity fields derived afresh (the same object when they
    already are). The derived values are computed here, so the copy skips the entity's
    converters: this runs once per row on the bulk import path."""
    values = identity_tuple(customer, hasher, region)
    if values == (
        customer.company_key,
        customer.email_hash,
        customer.id_number_hash,
        customer.phone_hash,
    ):
        return customer
    if type(customer) is not Customer:
        return attrs.evolve(customer, **dict(zip(IDENTITY_ORDER, values, strict=True)))
    copied: Customer = replacer(Customer, IDENTITY_ORDER)(customer, *values)
    return copied
