"""Field-level encryption at rest: the cipher, sealed columns on every SQL backend, a raw
database file with no plaintext in it, key rotation, and switching encryption on later."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from conftest import START, SqlBackend
from pycrm import (
    CRM,
    ConfigurationError,
    Contact,
    Customer,
    FieldCipher,
    FixedClock,
    ValidationError,
)
from pycrm.identity.cipher import KEYS_ENV, field_cipher, is_token, parse_keys
from pycrm.storage.sqlalchemy.encryption import ENCRYPTED

OLD = {"2025-01": FieldCipher.generate_key()}
NEW = {"2026-11": FieldCipher.generate_key()}
RING = NEW | OLD
IDENTITY_KEY = "encryption-tests-identity-key"

PHONE = "13812345678"
EMAIL = "zhang.wei.private@example.com"
ID_NUMBER = "110101199003071234"
ADDRESS = "北京市朝阳区建国路88号华贸中心3座1208室"
CONTACT_PHONE = "13987654321"
CONTACT_EMAIL = "li.na.secret@example.org"
WECHAT = "linasecret_wx88"
SECRETS = [PHONE, EMAIL, ID_NUMBER, ADDRESS, CONTACT_PHONE, CONTACT_EMAIL, WECHAT]
"""Values that must never appear in clear in the database."""


def open_crm(url: str, keys: object, prefix: str = "crm_") -> CRM:
    return CRM.open(
        url,
        encryption_keys=keys,  # type: ignore[arg-type]
        identity_key=IDENTITY_KEY,
        clock=FixedClock(START),
        table_prefix=prefix,
    )


def add_people(crm: CRM) -> tuple[Customer, Customer, Contact]:
    with crm.session() as s:
        person = s.customers.add(
            Customer.person(
                "Zhang Wei", phone=PHONE, email=EMAIL, id_number=ID_NUMBER, address=ADDRESS
            )
        )
        twin = s.customers.add(Customer.person("Zhang  Wei", phone=PHONE))
        contact = s.contacts.add(
            Contact(
                customer_id=twin.id,
                name="Li Na",
                phone=CONTACT_PHONE,
                email=CONTACT_EMAIL,
                messaging_ids={"wechat": WECHAT},
            )
        )
    return person, twin, contact


# -- the cipher ----------------------------------------------------------------------------


@given(value=st.text(max_size=300), field=st.sampled_from(["customer.phone", "snapshot.email"]))
def test_every_text_comes_back_from_its_token(value: str, field: str) -> None:
    cipher = FieldCipher(RING)
    token = cipher.encrypt(value, field)
    assert is_token(token)
    assert cipher.is_current(token)
    assert cipher.decrypt(token, field) == value


def test_equal_values_get_different_tokens() -> None:
    cipher = FieldCipher(NEW)
    assert cipher.encrypt(PHONE, "customer.phone") != cipher.encrypt(PHONE, "customer.phone")


def test_a_token_is_bound_to_its_field() -> None:
    cipher = FieldCipher(NEW)
    token = cipher.encrypt(PHONE, "customer.phone")
    with pytest.raises(ConfigurationError, match=r"customer\.email: .* does not decrypt"):
        cipher.decrypt(token, "customer.email")


def test_a_token_under_a_key_not_in_the_ring_names_the_key() -> None:
    token = FieldCipher(OLD).encrypt(PHONE, "customer.phone")
    with pytest.raises(ConfigurationError, match=r"key '2025-01', which is not in the key ring"):
        FieldCipher(NEW).decrypt(token, "customer.phone")


def test_other_key_material_under_the_same_id_is_refused() -> None:
    token = FieldCipher({"k": FieldCipher.generate_key()}).encrypt(EMAIL, "customer.email")
    with pytest.raises(ConfigurationError, match="does not decrypt under key 'k'"):
        FieldCipher({"k": FieldCipher.generate_key()}).decrypt(token, "customer.email")


def test_an_altered_token_is_refused() -> None:
    cipher = FieldCipher(NEW)
    token = cipher.encrypt(EMAIL, "customer.email")
    last = "A" if token[-1] != "A" else "B"
    with pytest.raises(ConfigurationError, match="altered"):
        cipher.decrypt(token[:-1] + last, "customer.email")


@given(st.emails())
def test_no_email_is_taken_for_a_token(email: str) -> None:
    assert not is_token(email)
    assert FieldCipher(NEW).decrypt(email, "customer.email") == email


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({}, "at least one"),
        ({"bad id!": FieldCipher.generate_key()}, "key id 'bad id!'"),
        ({"k": "not base64 at all!"}, "key 'k'"),
        ({"k": base64.b64encode(b"short").decode()}, "expected 32 bytes"),
        ({"k": b"\x00" * 16}, "expected 32 bytes"),
        ("k1:" + FieldCipher.generate_key() + ",k1:" + FieldCipher.generate_key(), "twice"),
        ("no-separator", "id:key"),
    ],
)
def test_bad_key_configuration_is_refused_clearly(keys: object, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        field_cipher(keys)  # type: ignore[arg-type]


def test_keys_come_from_the_environment_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    text = ",".join(f"{k}:{v}" for k, v in RING.items())
    assert list(parse_keys(text)) == ["2026-11", "2025-01"]
    monkeypatch.setenv(KEYS_ENV, text)
    cipher = field_cipher(None)
    assert cipher is not None
    assert cipher.key_ids == ("2026-11", "2025-01")
    monkeypatch.delenv(KEYS_ENV)
    assert field_cipher(None) is None


# -- sealed columns on every SQL backend ----------------------------------------------------


@pytest.fixture
def encrypted(sql: SqlBackend) -> Iterator[CRM]:
    crm = open_crm(sql.url, RING, sql.prefix)
    yield crm
    crm.close()


def raw_rows(crm: CRM, table: str) -> list[dict[str, object]]:
    store = crm.store
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        found = getattr(store.tables, table)  # type: ignore[attr-defined]
        return [dict(r) for r in conn.execute(sa.select(found)).mappings()]


def test_personal_columns_hold_tokens_and_read_back_in_clear(encrypted: CRM) -> None:
    person, twin, contact = add_people(encrypted)
    for table, entity_type in (("customers", "customer"), ("contacts", "contact")):
        for row in raw_rows(encrypted, table):
            for column in ENCRYPTED[entity_type].text:
                value = row[column]
                assert value is None or str(value).startswith("$e1$2026-11$")
    with encrypted.session() as s:
        assert s.customers.get(person.id) == person
        assert s.contacts.get(contact.id).messaging_ids == {"wechat": WECHAT}
        # Lookups never read the sealed columns: they go through the keyed hashes.
        assert s.customers.resolve(email=EMAIL).customer == person
        assert [c.id for c in s.customers.list(phone="138 1234 5678").items] == sorted(
            [person.id, twin.id]
        )


def test_merge_logs_keep_snapshots_sealed_and_unmerge_restores_them(encrypted: CRM) -> None:
    person, twin, contact = add_people(encrypted)
    with encrypted.session() as s:
        log = s.customers.merge(person, [twin])
    (row,) = raw_rows(encrypted, "merge_logs")
    text = repr(row)
    for secret in SECRETS:
        assert secret not in text
    with encrypted.session() as s:
        s.customers.unmerge(log.id)
    with encrypted.session() as s:
        assert s.customers.get(twin.id).phone == PHONE
        assert s.customers.get(person.id).address == ADDRESS
        assert s.contacts.get(contact.id).email == CONTACT_EMAIL


def test_without_the_keys_a_sealed_value_is_refused_not_shown(sql: SqlBackend) -> None:
    with open_crm(sql.url, RING, sql.prefix) as crm:
        person, _, _ = add_people(crm)
    with (
        open_crm(sql.url, None, sql.prefix) as crm,
        crm.session() as s,
        pytest.raises(ConfigurationError, match=r"customer\.phone is encrypted"),
    ):
        s.customers.get(person.id)


def test_a_token_copied_into_another_column_does_not_decrypt(encrypted: CRM) -> None:
    person, _, _ = add_people(encrypted)
    table = encrypted.store.tables.customers  # type: ignore[attr-defined]
    with encrypted.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.update(table).where(table.c.id == person.id).values(email=table.c.phone))
    with encrypted.session() as s, pytest.raises(ConfigurationError, match=r"customer\.email"):
        s.customers.get(person.id)


# -- rotation -------------------------------------------------------------------------------


def key_ids_in(crm: CRM) -> set[str]:
    found = set()
    for table, entity_type in (("customers", "customer"), ("contacts", "contact")):
        for row in raw_rows(crm, table):
            for column in ENCRYPTED[entity_type].text:
                value = row[column]
                if value is not None:
                    found.add(str(value).split("$")[2] if is_token(value) else "clear")
    return found


def test_rotation_moves_every_value_to_the_new_key(sql: SqlBackend) -> None:
    with open_crm(sql.url, OLD, sql.prefix) as crm:
        person, twin, contact = add_people(crm)
        with crm.session() as s:
            s.customers.merge(person, [twin])
        assert key_ids_in(crm) == {"2025-01"}
    with open_crm(sql.url, RING, sql.prefix) as crm:
        assert crm.reencrypt(batch_size=1) == 3  # the survivor, the contact, the merge log
        assert key_ids_in(crm) == {"2026-11"}
        assert crm.reencrypt() == 0
        merge_log = repr(raw_rows(crm, "merge_logs"))
        assert "$e1$2026-11$" in merge_log
        assert "$e1$2025-01$" not in merge_log
    # The old key can go: everything reads under the new one alone.
    with open_crm(sql.url, NEW, sql.prefix) as crm, crm.session() as s:
        assert s.customers.get(person.id).id_number == ID_NUMBER
        assert s.contacts.get(contact.id).messaging_ids == {"wechat": WECHAT}
        found = s.customers.resolve(phone=PHONE).customer
        assert found is not None
        assert found.id == person.id


def test_switching_encryption_on_seals_existing_rows(sql: SqlBackend) -> None:
    with open_crm(sql.url, None, sql.prefix) as crm:
        person, _, _ = add_people(crm)
        assert key_ids_in(crm) == {"clear"}
    with open_crm(sql.url, NEW, sql.prefix) as crm:
        with crm.session() as s:  # rows in clear still read before they are sealed
            assert s.customers.get(person.id).email == EMAIL
        assert crm.reencrypt() == 3
        assert key_ids_in(crm) == {"2026-11"}


def test_reencrypting_needs_keys_and_the_memory_store_has_nothing_at_rest(sql: SqlBackend) -> None:
    with (
        open_crm(sql.url, None, sql.prefix) as crm,
        pytest.raises(ConfigurationError, match="needs encryption keys"),
    ):
        crm.reencrypt()
    assert CRM.memory(identity_key=IDENTITY_KEY).reencrypt() == 0


# -- the raw database file --------------------------------------------------------------------


def test_the_database_file_holds_no_personal_data_in_clear(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with open_crm(url, NEW) as crm:
        person, twin, _ = add_people(crm)
        with crm.session() as s:
            s.customers.merge(person, [twin])
            s.customers.update(s.customers.get(person.id).evolve(region="Beijing"))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("crm.db")]
    data = b"".join(p.read_bytes() for p in files)
    assert b"Zhang Wei" in data  # the file is readable as it is: names are stored in clear
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in data, (secret, encoding)
    assert b"12345678" not in data  # not even the phone's significant digits


def test_key_ids_in_tokens_never_contain_the_separator() -> None:
    with pytest.raises(ConfigurationError, match="key id"):
        FieldCipher({"a$b": os.urandom(32)})


def test_text_shaped_like_a_token_is_refused_where_it_would_be_stored_in_clear(
    sql: SqlBackend,
) -> None:
    """Stored in clear it would read back as ciphertext; with keys it is simply encrypted."""
    address = "$e1$k$not-really-a-token"
    with open_crm(sql.url, None, sql.prefix) as crm, crm.session() as s:
        with pytest.raises(ValidationError) as caught:
            s.customers.add(Customer.person("Li Na", address=address))
        assert caught.value.field == "address"
    with open_crm(sql.url, NEW, sql.prefix) as crm:
        with crm.session() as s:
            added = s.customers.add(Customer.person("Li Na", address=address))
        with crm.session() as s:
            assert s.customers.get(added.id).address == address
