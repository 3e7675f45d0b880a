"""Identity in the store: derived hashes on add and update, resolve, rehash, hostile input —
on every backend."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from pycrm import CRM, ConcurrencyConflict, Customer, FixedClock, ValidationError
from pycrm.domain.personal import PERSONAL_FIELDS, mask_id_number
from pycrm.identity import (
    DEVELOPMENT_KEY,
    KEY_ENV,
    IdentityHasher,
    IdentityKeyWarning,
    hashing,
    identity_hasher,
)
from pycrm.identity.derive import stamp_identity
from pycrm.storage import Store

KEY = "a-test-identity-key-of-some-length"
PHONE = "13812345678"
E164 = "+8613812345678"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def icrm(store_factory: type[Store], clock: FixedClock) -> Iterator[CRM]:
    """A CRM with a configured identity key on an empty store of each backend in turn."""
    instance = CRM(store_factory(), clock=clock, identity_key=KEY)
    yield instance
    instance.close()


HASHER = IdentityHasher(KEY)


def test_id_numbers_are_masked_keeping_three_and_four() -> None:
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert PERSONAL_FIELDS["id_number"] is mask_id_number
    customer = Customer.person("Li Na", id_number="11010519491231002X")
    assert "11010519491231002X" not in repr(customer)
    assert "110***********002X" in repr(customer)
    with pytest.raises(ValidationError) as caught:
        Customer.person("Li Na", id_number="'; DROP TABLE x; --")
    assert caught.value.field == "id_number"


def test_the_key_comes_from_the_crm_then_the_environment_then_a_warned_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "key-from-the-environment")
    assert CRM.memory(identity_key=KEY).identity.fingerprint == IdentityHasher(KEY).fingerprint
    assert (
        CRM.memory().identity.fingerprint == IdentityHasher("key-from-the-environment").fingerprint
    )
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setattr(hashing, "_warned", False)
    with pytest.warns(IdentityKeyWarning, match="development key"):
        default = identity_hasher(None)
    assert default.fingerprint == IdentityHasher(DEVELOPMENT_KEY).fingerprint
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        identity_hasher(None)  # warned once per process


def test_the_phone_region_is_configurable() -> None:
    crm = CRM.memory(identity_key=KEY, phone_region="us")
    assert crm.phone_region == "US"
    with pytest.raises(ValidationError) as caught:
        CRM.memory(identity_key=KEY, phone_region="Mars")
    assert caught.value.field == "phone_region"


def test_stamping_derives_the_identity_fields() -> None:
    hasher = IdentityHasher(KEY)
    person = Customer.person(
        "Zhang Wei",
        phone="138 1234 5678",
        email="Zhang@Example.com",
        id_number="11010519491231002X",
        employer="Acme Co., Ltd.",
    )
    stamped = stamp_identity(person, hasher, "CN")
    assert stamped.phone_hash == hasher.phone("+8613812345678")
    assert stamped.email_hash == hasher.email("zhang@example.com")
    assert stamped.id_number_hash == hasher.id_number("11010519491231002X")
    assert stamped.company_key == "acme"
    assert stamped == person  # derived fields take no part in equality
    assert stamp_identity(stamped, hasher, "CN") is stamped
    broken = stamp_identity(Customer.person("Li", phone="12345"), hasher, "CN")
    assert broken.phone_hash is None  # left for the quality report, not refused


def test_derived_fields_are_not_accepted_from_outside_rows() -> None:
    with pytest.raises(ValidationError, match="derived") as caught:
        Customer.from_row({"kind": "person", "name": "Li", "phone_hash": "0" * 64})
    assert caught.value.field == "phone_hash"
    with pytest.raises(ValidationError) as token:
        Customer.person("Li", phone_hash="not-a-hash")
    assert token.value.field == "phone_hash"


# -- derived fields in the store ------------------------------------------------------------


def test_add_update_and_add_many_store_the_derived_fields(icrm: CRM) -> None:
    with icrm.session() as s:
        one = s.customers.add(
            Customer.person("Zhang Wei", phone="138-1234-5678", id_number=ID_NUMBER)
        )
        s.customers.add_many(
            [Customer.company("Acme Co., Ltd.", email="Sales@Acme.com"), Customer.person("Li")]
        )
    assert one.phone_hash == HASHER.phone(E164)
    with icrm.session() as s:
        stored = s.customers.get(one.id)
        assert stored.phone_hash == HASHER.phone(E164)
        assert stored.id_number_hash == HASHER.id_number(ID_NUMBER)
        assert stored.email_hash is None
        assert stored.company_key is None
        (acme,) = s.customers.list(company_key="acme").items
        assert acme.email_hash == HASHER.email("sales@acme.com")
        changed = s.customers.update(stored.evolve(phone="13900001111", employer="Acme Inc"))
    with icrm.session() as s:
        again = s.customers.get(one.id)
        assert again.phone_hash == HASHER.phone("+8613900001111") == changed.phone_hash
        assert again.company_key == "acme"
        assert s.customers.count(phone_hash=HASHER.phone(E164)) == 0
        entries = s.audit.for_entity(again)
    changes = entries[-1].changes or {}
    assert set(changes) == {"phone", "employer"}  # hashes restate audited fields
    assert changes["phone"] == ["138****5678", "139****1111"]


def test_id_numbers_are_stored_and_masked_in_the_audit_log(icrm: CRM) -> None:
    with icrm.session() as s:
        person = s.customers.add(Customer.person("Li Na"))
        s.customers.update(person.evolve(id_number=ID_NUMBER))
        entries = s.audit.for_entity(person)
        assert s.customers.get(person.id).id_number == ID_NUMBER
    assert (entries[-1].changes or {})["id_number"] == [None, "110***********002X"]


def test_rehash_after_a_key_change(icrm: CRM, clock: FixedClock) -> None:
    with icrm.session() as s:
        person = s.customers.add(Customer.person("Zhang Wei", phone=PHONE))
    rotated = CRM(icrm.store, clock=clock, identity_key=KEY + "-rotated")
    with rotated.session() as s:
        assert not s.customers.resolve(phone=PHONE).found  # old hashes, new key
        assert s.customers.rehash() == 1
        assert s.customers.rehash() == 0
        found = s.customers.resolve(phone=PHONE)
        assert found.customer is not None
        assert found.customer.id == person.id
        assert found.customer.version == 2
        assert len(s.audit.for_entity(person)) == 1  # no audit entry for rehashing
    with icrm.session() as s, pytest.raises(ConcurrencyConflict):
        s.customers.update(person.evolve(name="Zhang W."))  # an older copy is refused


# -- resolve --------------------------------------------------------------------------------


def test_resolve_finds_one_customer_by_any_identifier(icrm: CRM) -> None:
    with icrm.session() as s:
        wei = s.customers.add(
            Customer.person(
                "Zhang Wei",
                phone=PHONE,
                email="zw@example.com",
                member_id="M1",
                id_number=ID_NUMBER,
            )
        )
        s.customers.add(Customer.person("Li Na", phone="13900001111"))
    with icrm.session() as s:
        for given in (
            {"phone": "+86 138 1234 5678"},
            {"email": " ZW@Example.com"},
            {"member_id": "M1"},
            {"id_number": ID_NUMBER.lower()},
            {"phone": PHONE, "email": "zw@example.com", "member_id": "M1"},
            {"phone": PHONE, "email": "nobody@example.com"},
        ):
            found = s.customers.resolve(**given)
            assert found.customer == wei, given
            assert not found.conflicts
        everything = s.customers.resolve(
            phone=PHONE, email="zw@example.com", member_id="M1", id_number=ID_NUMBER
        )
        assert everything.matched_on == ("member_id", "id_number", "phone", "email")
        missing = s.customers.resolve(phone="13700000000", email="new@example.com")
        assert missing.customer is None
        assert not missing.ambiguous
        assert missing.matches == {"phone": (), "email": ()}


def test_resolve_reports_conflicts_instead_of_guessing(icrm: CRM) -> None:
    with icrm.session() as s:
        a = s.customers.add(Customer.person("A", phone=PHONE, member_id="M-A"))
        b = s.customers.add(Customer.person("B", email="b@example.com"))
        twin1 = s.customers.add(Customer.person("T1", phone="13900001111"))
        twin2 = s.customers.add(Customer.person("T2", phone="139 0000 1111"))
    with icrm.session() as s:
        split = s.customers.resolve(phone=PHONE, email="b@example.com")
        assert split.customer is None
        assert split.ambiguous
        assert split.conflicts == {"phone": (a.id,), "email": (b.id,)}
        assert split.candidate_ids == (a.id, b.id)
        by_member = s.customers.resolve(member_id="M-A", email="b@example.com")
        assert by_member.candidate_ids == (a.id, b.id)  # strongest identifier first
        shared = s.customers.resolve(phone="13900001111")
        assert shared.customer is None
        assert set(shared.conflicts["phone"]) == {twin1.id, twin2.id}


def test_resolve_checks_its_arguments(icrm: CRM) -> None:
    with icrm.session() as s:
        with pytest.raises(ValidationError) as nothing:
            s.customers.resolve()
        assert nothing.value.field == "resolve"
        for given, field in [
            ({"phone": "12"}, "phone"),
            ({"phone": 13812345678}, "phone"),
            ({"email": "not-an-email"}, "email"),
            ({"id_number": "!!"}, "id_number"),
            ({"member_id": ""}, "member_id"),
            ({"member_id": "x" * 65}, "member_id"),
        ]:
            with pytest.raises(ValidationError) as caught:
                s.customers.resolve(**given)
            assert caught.value.field == field, given


# -- hostile input --------------------------------------------------------------------------

HOSTILE_TEXT = [
    "'; DROP TABLE crm_customers; --",
    "Robert'); DELETE FROM x; --",
    "%_\\*",
    "=cmd|' /C calc'!A0",
    "名字\u0007\u200b",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_names_are_stored_verbatim_and_keyed(icrm: CRM, text: str) -> None:
    with icrm.session() as s:
        company = s.customers.add(Customer.company(text, industry="x"))
        person = s.customers.add(Customer.person("P", employer=text))
    with icrm.session() as s:
        stored = s.customers.get(company.id)
        assert stored.name == text.strip()
        assert stored.company_key is not None
        assert s.customers.get(person.id).company_key == stored.company_key
        assert {c.id for c in s.customers.list(company_key=stored.company_key).items} == {
            company.id,
            person.id,
        }
        assert s.customers.count() == 2


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"phone_hash": "' OR 1=1 --"}, "phone_hash"),
        ({"email_hash": "A" * 64}, "email_hash"),
        ({"id_number_hash": 12}, "id_number_hash"),
        ({"company_key": "x" * 201}, "company_key"),
        ({"company_key": "\ud800"}, "company_key"),
    ],
)
def test_hostile_filters_are_refused(icrm: CRM, filters: dict[str, object], field: str) -> None:
    with icrm.session() as s:
        s.customers.add(Customer.person("P", phone=PHONE))
        with pytest.raises(ValidationError) as caught:
            s.customers.list(**filters)
        assert caught.value.field == field
        assert s.customers.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id_number": "1" * 41}, "id_number"),
        ({"id_number": "' OR 1=1"}, "id_number"),
        ({"id_number": 110105}, "id_number"),
        ({"phone_hash": "0" * 63}, "phone_hash"),
    ],
)
def test_hostile_fields_are_refused_and_nothing_is_written(
    icrm: CRM, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught, icrm.session() as s:
        s.customers.add(Customer.person("Before"))
        s.customers.add(Customer.person("P", **fields))
    assert caught.value.field == field
    with icrm.session() as s:
        assert s.customers.count() == 0


def test_lone_surrogates_and_long_identifiers_in_resolve(icrm: CRM) -> None:
    with icrm.session() as s:
        for given in ({"email": "a\ud800@example.com"}, {"phone": "1" * 10_000}):
            with pytest.raises(ValidationError):
                s.customers.resolve(**given)  # type: ignore[arg-type]
        phone_like_sql = s.customers.resolve(member_id="' OR '1'='1")
        assert phone_like_sql.customer is None


def test_rehash_fills_rows_stored_before_identity_hashes(icrm: CRM) -> None:
    legacy = Customer.person("Old", phone=PHONE, email="old@example.com", version=1)
    with icrm.session() as s:
        s._tx.table("customer").insert(legacy)  # as rows migrated from before 0008 look
        assert s.customers.get(legacy.id).phone_hash is None
        assert not s.customers.resolve(phone=PHONE).found
        assert s.customers.rehash(batch_size=1) == 1
        found = s.customers.resolve(phone=PHONE, email="OLD@example.com")
    assert found.customer is not None
    assert found.customer.id == legacy.id
    assert found.customer.version == 2
    assert found.matched_on == ("phone", "email")
