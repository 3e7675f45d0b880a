"""Erasing a person on request (personal-information protection law), keeping the books.

:func:`erase` anonymises a customer where it is stored: its name becomes a pseudonym
(``Erased customer 7f3a``, the same for the same customer every time), and its phone, email,
member id, ID number, their identity hashes, birthday and other personal fields, and its
custom fields (which may hold anything), are cleared. Its contacts lose their names, phones,
emails, messaging ids and notes. Wherever the person's name, phone, email, member id, ID
number or a contact's details appear in the text of the customer's other records (interaction
summaries, ticket descriptions, ...) or in the audit trail, they become ``[erased]``. Orders,
amounts, dates, statuses and tags stay, so revenue, RFM scores and segments are unchanged, and
the audit trail keeps every entry, its values redacted. The merge logs of merges into the
customer are anonymised the same way, and the duplicates' old details are erased with the
customer's.

Each erased record gets an ``erased`` audit entry naming the fields cleared, never their
values, and the customer one naming the reason. Erasing again finds nothing left to erase and
writes nothing.

Free text is searched for the spellings people write, not only the stored one (see
:func:`scrubber`): a phone number with or without its international prefix, country code or
trunk ``0``, its digits grouped by spaces, hyphens, dots or brackets (``+86 138-1234-5678``,
``0086 13812345678``, ``(021) 1234 5678``); names, emails and other values in any letter case
and with any whitespace between their words; and full-width digits and letters, common in
Chinese text, through the text's NFKC form. Not found: a number broken up some other way (in
words, with other punctuation, across lines), a name transliterated, abbreviated or written
without its spaces, and a nickname the store never knew; hosts that keep free-text notes
should review them too.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import phonenumbers

from pycrm.domain import ChangeKind, Contact, Customer
from pycrm.domain import _convert as conv
from pycrm.domain.entity import BOOKKEEPING_FIELDS, Entity
from pycrm.errors import ConcurrencyConflict
from pycrm.identity.normalize import DEFAULT_REGION
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
_DIGITS_APART = r"[ \t.()\-]{0,3}"
"""What people put between two digits of a phone number: up to three spaces, hyphens, dots or
brackets (``138 1234 5678``, ``(021) 1234-5678``, ``+44 (0)20``); bounded, so a near miss
costs a few steps per digit, never a backtracking blow-up."""
_PHONE_SHAPE = re.compile(r"\+?[0-9]{3,20}")
_PHONE_NOISE = str.maketrans("", "", " \t.()-")


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


def scrubber(values: Iterable[str], region: str = DEFAULT_REGION) -> re.Pattern[str] | None:
    """A pattern finding any of ``values`` in the spellings people write, to run over a text's
    NFKC form with :func:`scrub_text` (so full-width forms are found as well); ``None`` for
    no values. Compile it once and run it over every text.

    - A value ``phonenumbers`` finds a valid number (read as a number of ``region`` when it
      has no ``+``) is found as its national number, with or without the trunk prefix
      (``0``, where the number's region has one) or the country code, or after ``+``,
      ``00`` or ``region``'s own international prefix and the country code; up to three
      spaces, hyphens, dots or brackets may stand between any two digits. Never inside a
      longer run of digits (``9913812345678000`` is another value) or a word.
    - Any other value is found in any letter case, any run of whitespace standing for the
      whitespace between its words. A value of Latin letters and digits is found only as a
      whole word, so "Li" leaves "Lincoln" alone.
    """
    home = phonenumbers.PhoneMetadata.metadata_for_region(region)
    dialled = {"00"}
    if home is not None:
        own = home.preferred_international_prefix or home.international_prefix
        if own is not None and own.isdigit():
            dialled.add(own)
    normalised = {unicodedata.normalize("NFKC", v).strip() for v in values}
    parts = [
        _phone_pattern(value, region, dialled) or _text_pattern(value)
        for value in sorted(normalised, key=lambda v: (-len(v), v))
        if value
    ]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _phone_pattern(value: str, region: str, dialled: Iterable[str]) -> str | None:
    """The spellings of ``value`` as a phone number (see :func:`scrubber`), or ``None`` when
    it is not a valid one (then it is matched as text)."""
    compact = value.translate(_PHONE_NOISE)
    if not _PHONE_SHAPE.fullmatch(compact):
        return None
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    code = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(
        phonenumbers.region_code_for_country_code(int(code))
    )
    trunk = (meta.national_prefix if meta is not None else None) or ""
    domestic = {national, trunk + national, code + national, compact.lstrip("+")}
    apart = _DIGITS_APART
    trunked = f"(?:{apart.join(trunk)}{apart})?" if trunk else ""
    prefixes = "|".join(sorted(dialled, key=len, reverse=True))
    # After "+" (itself a boundary) or a dialled prefix, the country code, perhaps "(0)", and
    # the national number; or, not after a digit, letter or "+", a domestic form.
    abroad = (
        rf"(?:\+|(?<![A-Za-z0-9+])(?:{prefixes})){apart}{apart.join(code)}{apart}"
        rf"{trunked}{apart.join(national)}"
    )
    here = "|".join(apart.join(f) for f in sorted(domestic, key=len, reverse=True))
    return rf"\(?(?:{abroad}|(?<![A-Za-z0-9+])(?:{here}))(?![A-Za-z0-9])"


def _text_pattern(value: str) -> str:
    """``value`` (NFKC) with any whitespace run between its words, as a whole word when it
    is Latin letters and digits at both ends."""
    pattern = r"\s+".join(re.escape(word) for word in value.split())
    if value.isascii() and value[0].isalnum() and value[-1].isalnum():
        pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
    return pattern


def scrub_text(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every match of a :func:`scrubber` pattern replaced by ``[erased]``.

    The pattern runs over the text's NFKC form (each character with its combining marks
    normalised on its own), and each match replaces the original characters it was read
    from, so a number in full-width digits after ``电话`` becomes ``电话[erased]`` and the rest
    of the text keeps its own spelling. Text already in NFKC form, such as plain ASCII, is
    searched as it is.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return pattern.sub(ERASED, text)
    view, starts, ends = _nfkc_view(text)
    spans: list[list[int]] = []
    for match in pattern.finditer(view):
        start, end = starts[match.start()], ends[match.end() - 1]
        if spans and start < spans[-1][1]:  # two matches within one character's expansion
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return text
    pieces: list[str] = []
    done = 0
    for start, end in spans:
        pieces.extend((text[done:start], ERASED))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _nfkc_view(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` in NFKC form, character by character with its combining marks, and for each
    character of that form where in ``text`` the character it came from starts and ends."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    begun = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            piece = unicodedata.normalize("NFKC", text[begun:i])
            pieces.append(piece)
            starts.extend([begun] * len(piece))
            ends.extend([i] * len(piece))
            begun = i
    return "".join(pieces), starts, ends


def scrub_value(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """``value`` with every match of ``pattern`` in its text replaced (inside lists and
    mappings too, see :func:`scrub_text`); anything else unchanged."""
    if pattern is None or isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return scrub_text(value, pattern)
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
    pattern = scrubber(found, session.crm.phone_region)

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
