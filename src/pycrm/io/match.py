"""Finding the stored record an imported row stands for.

Customers are found through :meth:`pycrm.CustomerRepository.resolve`: member ids as given,
phones and emails by their keyed hashes after normalisation (``138 1234 5678`` and
``+86 138-1234-5678`` are one number), so an import matches exactly as the rest of pycrm
does. A key that fits several stored customers is refused rather than guessed. Orders are
matched by number, contacts by phone or email among the contacts of the same customer,
compared in the same normalised form (a contact stored as ``Wang@x.cn`` is the row's
``wang@x.cn``), or as given where the value does not normalise.
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


def match_key(session: Session, kind: str, key: str, entity: Entity) -> Hashable:
    """What rows of one source are compared by, so that two spellings of one customer's
    phone or email in the same file update one record (as the store lookup would). A
    contact's key counts within its customer: two customers may share an address."""
    value = getattr(entity, key)
    if value is None or kind not in ("customers", "contacts"):
        return value  # type: ignore[no-any-return]
    if isinstance(entity, Contact):
        return entity.customer_id, _contact_key(session, key, value)
    if key == "phone":
        return normalize_phone(value, session.crm.phone_region)
    if key == "email":
        return normalize_email(value)
    return value  # type: ignore[no-any-return]


def _contact_key(session: Session, key: str, value: Any) -> Hashable:
    """A contact's phone or email as it is compared. Contacts carry no identity hashes and
    an odd legacy value is no reason to refuse a row, so one that does not normalise is
    compared as given."""
    if not isinstance(value, str):
        return value  # type: ignore[no-any-return]
    try:
        if key == "phone":
            return normalize_phone(value, session.crm.phone_region)
        return normalize_email(value) if key == "email" else value
    except ValidationError:
        return value


def find_existing(session: Session, kind: str, key: str, entity: Entity) -> Entity | None:
    """The stored record of ``kind`` with the same ``key`` as ``entity``, if any."""
    value = getattr(entity, key)
    if kind == "customers":
        return find_customer(session, key, value)
    if kind == "contacts":
        assert isinstance(entity, Contact)
        wanted = _contact_key(session, key, value)
        found = [
            contact
            for contact in session.contacts.stream(customer_id=entity.customer_id)
            if _contact_key(session, key, getattr(contact, key)) == wanted
        ]
        if len(found) > 1:
            raise ValidationError(key, "matches more than one contact of the customer", value=value)
        return found[0] if found else None
    page = session.orders.list(limit=1, **{key: value})
    return page.items[0] if page.items else None
