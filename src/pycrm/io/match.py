"""Finding the stored record an imported row stands for.

Customers are found through :meth:`pycrm.CustomerRepository.resolve`: member ids as given,
phones and emails by their keyed hashes after normalisation (``138 1234 5678`` and
``+86 138-1234-5678`` are one number), so an import matches exactly as the rest of pycrm
does. A key that fits several stored customers is refused rather than guessed. Orders are
matched by number, contacts by phone or email among the contacts of the same customer.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from pycrm.domain import Contact, Customer, Entity
from pycrm.errors import ValidationError
from pycrm.identity import normalize_email, normalize_phone

if TYPE_CHECKING:
    from pycrm.session import Session


def find_customer(session: Session, key: str, value: Any) -> Customer | None:
    """The one customer whose ``key`` (member id, phone or email) is ``value``, if any."""
    resolution = session.customers.resolve(**{key: value})
    if resolution.ambiguous:
        raise ValidationError(key, "matches more than one stored customer", value=value)
    return resolution.customer


def match_key(session: Session, kind: str, key: str, value: Any) -> Hashable:
    """The form rows of one source are compared in, so that two spellings of one customer's
    phone or email in the same file update one record (as the store lookup would)."""
    if kind != "customers" or value is None:
        return value  # type: ignore[no-any-return]
    if key == "phone":
        return normalize_phone(value, session.crm.phone_region)
    if key == "email":
        return normalize_email(value)
    return value  # type: ignore[no-any-return]


def find_existing(session: Session, kind: str, key: str, entity: Entity) -> Entity | None:
    """The stored record of ``kind`` with the same ``key`` as ``entity``, if any."""
    value = getattr(entity, key)
    if kind == "customers":
        return find_customer(session, key, value)
    if kind == "contacts":
        assert isinstance(entity, Contact)
        found = [
            contact
            for contact in session.contacts.stream(customer_id=entity.customer_id)
            if getattr(contact, key) == value
        ]
        if len(found) > 1:
            raise ValidationError(key, "matches more than one contact of the customer", value=value)
        return found[0] if found else None
    page = session.orders.list(limit=1, **{key: value})
    return page.items[0] if page.items else None
