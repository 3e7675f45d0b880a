"""Erasing a person on request (personal-information protection law), keeping the books.

:func:`erase` anonymises a customer where it is stored: its name becomes a pseudonym
(``Erased customer 7f3a``, the same for the same customer every time), and its phone, email,
member id, ID number, their identity hashes, birthday and other personal fields, and its
custom fields (which may hold anything), are cleared. Its contacts lose their names, phones,
emails, messaging ids and notes. Wherever the person's name, phone, email, member id, ID
number or a contact's details appear word for word in the text of the customer's other
records (interaction summaries, ticket descriptions, ...) or in the audit trail, they become
``[erased]``. Orders, amounts, dates, statuses and tags stay, so revenue, RFM scores and
segments are unchanged, and the audit trail keeps every entry, its values redacted. The merge
logs of merges into the customer are anonymised the same way, and the duplicates' old details
are erased with the customer's.

Each erased record gets an ``erased`` audit entry naming the fields cleared, never their
values, and the customer one naming the reason. Erasing again finds nothing left to erase and
writes nothing.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.domain import ChangeKind, Contact, Customer
from pycrm.domain import _convert as conv
from pycrm.domain.entity import BOOKKEEPING_FIELDS, Entity
from pycrm.errors import ConcurrencyConflict
from pycrm.merge import MergeLog, entity_from_data, entity_to_data
from pycrm.merging import all_records, stored_customer
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.storage.spec import DEPENDENTS, SPEC_BY_TYPE

if TYPE_CHECKING:
    from pycrm.session import Session

ERASED = "[erased]"
"""What personal text is replaced with."""

CUSTOMER_FIELDS = (
    "phone",
    "email",
    "member_id",
    "id_number",
    "address",
    "phone_hash",
    "email_hash",
    "id_number_hash",
    "company_key",
    "birthday",
    "gender",
    "honorific",
    "employer",
    "position",
)
"""Customer fields cleared on erasure (besides the name, which becomes a pseudonym), the
derived identity hashes and name key among them: a hash still links records to the person."""

CONTACT_FIELDS = ("phone", "email", "notes")
"""Contact fields cleared on erasure (besides the name and the messaging ids)."""

_IDENTIFYING = ("name", "phone", "email", "member_id", "id_number", "address")


def pseudonym(entity: Entity) -> str:
    """``Erased customer 7f3a``: a stable stand-in name derived from the record's id."""
    label = "customer" if isinstance(entity, Customer) else entity.ENTITY_TYPE.replace("_", " ")
    return f"Erased {label} {hashlib.sha256(entity.id.encode()).hexdigest()[:4]}"


def anonymise_customer(customer: Customer) -> Customer:
    """``customer`` with its name a pseudonym and its personal fields cleared."""
    changes: dict[str, Any] = dict.fromkeys(CUSTOMER_FIELDS)
    changes["name"] = pseudonym(customer)
    changes["custom_fields"] = {}
    return customer.evolve(**changes)


def anonymise_contact(contact: Contact) -> Contact:
    """``contact`` with its name a pseudonym and its personal fields cleared."""
    changes: dict[str, Any] = dict.fromkeys(CONTACT_FIELDS)
    changes["name"] = pseudonym(contact)
    changes["messaging_ids"] = {}
    return contact.evolve(**changes)


def identifiers(entity: Entity) -> set[str]:
    """The values that identify the person behind ``entity``, to look for in free text."""
    found: set[str] = set()
    for name in _IDENTIFYING:
        value = getattr(entity, name, None)
        if isinstance(value, str) and value != pseudonym(entity):
            found.add(value)
    if isinstance(entity, Contact):
        found.update(entity.messaging_ids.values())
    return {v for v in found if len(v.strip()) >= 2}


def scrubber(values: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of ``values`` as written (a word of letters and digits only as a
    whole word, so "Li" leaves "Lincoln" alone)."""
    parts = []
    for value in sorted(set(values), key=len, reverse=True):
        escaped = re.escape(value)
        if value.isascii() and value[0].isalnum() and value[-1].isalnum():
            escaped = rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


def scrub_value(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """``value`` with every match of ``pattern`` in its text replaced (inside lists and
    mappings too); anything else unchanged."""
    if pattern is None or isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, tuple | list):
        return type(value)(scrub_value(v, pattern) for v in value)
    if isinstance(value, dict):
        return {k: scrub_value(v, pattern) for k, v in value.items()}
    return value


def scrub_entity(entity: Entity, pattern: re.Pattern[str] | None, skip: Iterable[str]) -> Entity:
    """``entity`` with its text fields (not ``skip``, ids or bookkeeping) scrubbed."""
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(entity)):
        if field.name in BOOKKEEPING_FIELDS or field.name in skip:
            continue
        value = getattr(entity, field.name)
        scrubbed = scrub_value(value, pattern)
        if scrubbed != value:
            changes[field.name] = scrubbed
    return entity.evolve(**changes) if changes else entity


def erase(session: Session, customer: Customer | str, reason: str) -> Customer:
    """Erase the person behind ``customer`` now (see the module docs); returns it erased."""
    session._check_open()
    why = conv.check_text(reason, "reason", max_length=400, required=True)
    current = stored_customer(session, customer, "customer")
    tx = session._tx
    now = session.now
    logs = list(all_records(tx.table("merge_log"), {"customer_id": current.id}))
    people: list[Entity] = [current]
    for log in logs:
        people.extend(entity_from_data(Customer, d) for d in log.duplicates)
        people.append(entity_from_data(Customer, log.survivor_before))
        people.append(entity_from_data(Customer, log.survivor_after))
    contacts: list[Contact] = list(all_records(tx.table("contact"), {"customer_id": current.id}))
    people.extend(contacts)
    found: set[str] = set()
    for person in people:
        found |= identifiers(person)
    pattern = scrubber(found)

    def save(before: Entity, after: Entity) -> None:
        if after == before:
            return
        fields = sorted(
            a.name
            for a in attrs.fields(type(after))
            if getattr(before, a.name) != getattr(after, a.name)
        )
        stored = attrs.evolve(after, version=before.version + 1, updated_at=now)
        if not tx.table(before.ENTITY_TYPE).update(stored, before.version):
            raise ConcurrencyConflict(before.ENTITY_TYPE, before.id, before.version)
        session._record(ChangeKind.ERASED, stored, {"fields": (None, fields)})

    erased = anonymise_customer(current)
    for contact in contacts:
        save(contact, scrub_entity(anonymise_contact(contact), pattern, ("customer_id",)))
    for entity_type, field in DEPENDENTS["customer"]:
        if entity_type == "contact":
            continue
        references = set(SPEC_BY_TYPE[entity_type].references)
        for record in all_records(tx.table(entity_type), {field: current.id}):
            save(record, _withheld(scrub_entity(record, pattern, references)))
    for log in logs:
        save(log, _erase_log(log))
    _redact_audit(session, [current.id, *(d for log in logs for d in log.duplicate_ids)], pattern)
    if erased != current:
        stored = attrs.evolve(erased, version=current.version + 1, updated_at=now)
        if not tx.table("customer").update(stored, current.version):
            raise ConcurrencyConflict("customer", current.id, current.version)
        session._record(ChangeKind.ERASED, stored, {"reason": (None, why)})
        return stored
    return current


def _withheld(record: Entity) -> Entity:
    """An outbox message not yet sent is given up on: it would reach a person who asked to be
    forgotten (and its recipient is erased anyway)."""
    if isinstance(record, OutboxMessage) and not record.is_final:
        return record.evolve(
            status=OutboxStatus.DEAD,
            last_error="not sent: the customer was erased",
            claimed_by=None,
            claim=None,
            claimed_until=None,
        )
    return record


def _erase_log(log: MergeLog) -> MergeLog:
    def erased(data: Mapping[str, Any]) -> dict[str, Any]:
        return entity_to_data(anonymise_customer(entity_from_data(Customer, data)))

    return log.evolve(
        survivor_before=erased(log.survivor_before),
        survivor_after=erased(log.survivor_after),
        duplicates=[erased(d) for d in log.duplicates],
    )


_PERSONAL_AUDIT = {
    "customer": frozenset({"name", "custom_fields", *CUSTOMER_FIELDS}),
    "contact": frozenset({"name", "messaging_ids", *CONTACT_FIELDS}),
}


def _redact_audit(
    session: Session, customer_ids: Iterable[str], pattern: re.Pattern[str] | None
) -> None:
    """Blank the personal values in the audit entries of these customers' records."""
    audit = session._tx.audit
    redacted: dict[str, Mapping[str, list[Any]] | None] = {}
    for customer_id in dict.fromkeys(customer_ids):
        for entry in audit.for_customer(customer_id):
            if not entry.changes:
                continue
            personal = _PERSONAL_AUDIT.get(entry.entity_type, frozenset())
            changes = {
                field: [None if v is None else ERASED for v in values]
                if field in personal
                else scrub_value(list(values), pattern)
                for field, values in entry.changes.items()
            }
            if changes != {k: list(v) for k, v in entry.changes.items()}:
                redacted[entry.id] = changes
    if redacted:
        audit.redact(redacted)
