"""Finding the stored record an imported row stands for.

Matching is by one key field and exact equality of the normalised value (the entity's own
converter normalises it: phone noise removed, email domain lower-cased). A key that matches
several stored records is refused rather than guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycrm.domain import Contact, Customer, Entity
from pycrm.errors import ValidationError

if TYPE_CHECKING:
    from pycrm.session import Session


def find_customer(session: Session, key: str, value: Any) -> Customer | None:
    """The one customer whose ``key`` (member id, phone or email) is ``value``, if any."""
    page = session.customers.list(limit=2, **{key: value})
    if len(page) > 1:
        raise ValidationError(key, "matches more than one stored customer", value=value)
    return page.items[0] if page.items else None


def find_existing(session: Session, kind: str, key: str, entity: Entity) -> Entity | None:
    """The stored record of ``kind`` with the same ``key`` as ``entity``, if any. Contacts
    are matched among the contacts of the same customer."""
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
