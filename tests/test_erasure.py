"""Erasing a person on request, on every backend: no plaintext left, the books unchanged."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any

import attrs
import phonenumbers
import pytest
import sqlalchemy as sa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Contact,
    Customer,
    FixedClock,
    Interaction,
    Money,
    NotFound,
    Order,
    ValidationError,
    open_ticket,
)
from pycrm.erasure import ERASED, pseudonym, scrub_value, scrubber
from pycrm.storage import MemoryStore
from text_forms import full_width

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

SECRETS = (
    "Zhang Wei",
    "13812345678",
    "zhang.wei@example.com",
    "M-778899",
    "E12345678",
    "Li Na",
    "13700001111",
    "zhangwei_88",
    "Wei Zhang",
    "wz@example.com",
    "Prefers calls after six",
)


def raw_text(crm: CRM) -> str:
    """Everything the store holds, rows and audit log, as one text to search."""
    store = crm.store
    if isinstance(store, MemoryStore):
        parts = [
            str(attrs.asdict(entity, recurse=True))
            for rows in store._data.values()
            for entity in rows.values()
        ]
        parts.extend(str(attrs.asdict(entry)) for entry in store._audit)
        return "\n".join(parts)
    engine: sa.Engine = store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return "\n".join(
            str(tuple(row))
            for table in store.tables  # type: ignore[attr-defined]
            for row in conn.execute(sa.select(table))
        )


@pytest.fixture
def person(crm: CRM) -> Customer:
    with crm.session(actor="setup") as s:
        customer = s.customers.add(
            Customer.person(
                "Zhang  Wei",
                phone="13812345678",
                email="zhang.wei@example.com",
                member_id="M-778899",
                id_number="E12345678",
                birthday="1990-05-01",
                tags=["vip"],
                region="Shanghai",
                custom_fields={"nickname": "Xiao Zhang"},
            )
        )
        # The change leaves the old and new names in the audit trail.
        customer = s.customers.update(customer.evolve(name="Zhang Wei"))
        duplicate = s.customers.add(
            Customer.person("Wei Zhang", email="wz@example.com", source_channel="app")
        )
        contact = s.contacts.add(
            Contact(
                customer_id=duplicate.id,
                name="Li Na",
                phone="13700001111",
                messaging_ids={"wechat": "zhangwei_88"},
                notes="Prefers calls after six",
            )
        )
        s.interactions.add(
            Interaction(
                customer_id=customer.id,
                contact_id=contact.id,
                channel="phone",
                occurred_at=START,
                summary="Zhang Wei asked for delivery; call back on 13812345678 or Li Na",
                result="Wei Zhang will order",
            )
        )
        for number, amount in (("SO-1", "120.00"), ("SO-2", "80.50")):
            s.orders.add(
                Order(
                    number=number,
                    customer_id=customer.id,
                    placed_at=START,
                    total=Money(amount, "CNY"),
                    status="paid",
                )
            )
        s.tickets.add(
            open_ticket(
                customer_id=duplicate.id,
                subject="Parcel for Zhang Wei lost",
                description="Mail wz@example.com",
                now=START,
                by="desk",
            )
        )
        s.customers.merge(customer, [duplicate])
        return s.customers.get(customer.id)


def test_erasure_leaves_no_plaintext_and_the_books_unchanged(crm: CRM, person: Customer) -> None:
    found = [secret for secret in SECRETS if secret in raw_text(crm)]
    if getattr(crm.store, "cipher", None) is None:
        assert found == list(SECRETS)
    else:  # sealed columns hide the rest; names and free text stay in clear until erasure
        assert {"Zhang Wei", "Li Na", "13812345678", "wz@example.com"} <= set(found)
    with crm.session(actor="setup") as s:
        rfm_before = s.rfm()
        orders_before = {o.id: (o.total, o.status) for o in s.orders.stream()}
    with crm.session(actor="dpo") as s:
        erased = s.customers.erase(person, "data subject request #12")
    text = raw_text(crm)
    assert [secret for secret in SECRETS if secret in text] == []
    with crm.session(actor="check") as s:
        stored = s.customers.get(person.id)
        assert stored == erased
        assert stored.name == pseudonym(person)
        assert stored.name.startswith("Erased customer ")
        assert person.phone_hash is not None
        for field in ("phone", "email", "member_id", "id_number", "birthday", "phone_hash"):
            assert getattr(stored, field) is None
        assert stored.custom_fields == {}
        assert stored.tags == {"vip"}
        assert stored.region == "Shanghai"
        assert s.rfm() == rfm_before
        assert {o.id: (o.total, o.status) for o in s.orders.stream()} == orders_before
        contact = s.contacts.list(customer_id=person.id).items[0]
        assert contact.name.startswith("Erased contact ")
        assert contact.messaging_ids == {}
        interaction = s.interactions.list(customer_id=person.id).items[0]
        assert interaction.summary == (
            f"{ERASED} asked for delivery; call back on {ERASED} or {ERASED}"
        )
        assert interaction.result == f"{ERASED} will order"
        entries = s.audit.for_entity(stored)
        assert entries[-1].action.value == "erased"
        assert entries[-1].actor == "dpo"
        assert entries[-1].changes == {"reason": [None, "data subject request #12"]}
        # Every earlier entry is still there, its personal values redacted.
        assert [e.action.value for e in entries[:3]] == ["created", "changed", "changed"]
        assert entries[1].changes is not None
        assert entries[1].changes["name"] == [ERASED, ERASED]


def test_erasing_again_changes_nothing(crm: CRM, person: Customer) -> None:
    with crm.session(actor="dpo") as s:
        first = s.customers.erase(person.id, "request")
    text = raw_text(crm)
    with crm.session(actor="dpo") as s:
        again = s.customers.erase(first, "request")
        assert again == first
        assert again.version == first.version
    assert raw_text(crm) == text


def test_erasure_refuses_bad_input(crm: CRM, person: Customer) -> None:
    with crm.session(actor="dpo") as s:
        for reason in ("", None, 42, "x" * 401):
            with pytest.raises(ValidationError) as info:
                s.customers.erase(person, reason)  # type: ignore[arg-type]
            assert info.value.field == "reason"
        with pytest.raises(ValidationError) as info:
            s.customers.erase(42, "request")  # type: ignore[arg-type]
        assert info.value.field == "customer"
        with pytest.raises(NotFound):
            s.customers.erase("cus_nobody", "request")


def test_scrubbing_matches_whole_words_of_latin_text_and_any_other_text() -> None:
    pattern = scrubber(["Li", "王伟", "a.b@example.com"])
    value: Any = ("Li met Lincoln", {"k": "王伟说"}, ["mail a.b@example.com"], 7)
    assert scrub_value(value, pattern) == (
        f"{ERASED} met Lincoln",
        {"k": f"{ERASED}说"},
        [f"mail {ERASED}"],
        7,
    )
    assert scrubber([]) is None
    assert scrub_value("Li", None) == "Li"


STORED_PHONE = "+8613812345678"
COMMA, COLON = "\uff0c", "\uff1a"  # full-width, as Chinese text writes them


@pytest.mark.parametrize(
    "spelling",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "(138) 1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "(+86) 13812345678",
        "0086 13812345678",
        "008613812345678",
        "86 138 1234 5678",
        "013812345678",
        full_width("13812345678"),
        full_width("+86 138-1234-") + "5678",
    ],
)
def test_a_phone_is_scrubbed_in_the_spellings_people_write(spelling: str) -> None:
    pattern = scrubber([STORED_PHONE])
    assert scrub_value(f"called {spelling}, no answer", pattern) == f"called {ERASED}, no answer"
    assert scrub_value(f"电话{spelling}联系", pattern) == f"电话{ERASED}联系"


@pytest.mark.parametrize(
    ("stored", "region", "spelling"),
    [
        ("02112345678", "CN", "(021) 1234 5678"),
        ("02112345678", "CN", "+86 21 1234 5678"),
        ("+442079460958", "CN", "+44 (0)20 7946 0958"),
        ("+442079460958", "CN", "020 7946 0958"),
        ("+14155550123", "CN", "+1 (415) 555-0123"),
        ("+14155550123", "CN", "1-415-555-0123"),
        ("4155550123", "US", "011 1 415 555 0123"),
        ("4155550123", "US", "(415) 555-0123"),
    ],
)
def test_landlines_and_other_regions_are_scrubbed_with_their_prefixes(
    stored: str, region: str, spelling: str
) -> None:
    pattern = scrubber([stored], region)
    assert scrub_value(f"ring {spelling} today", pattern) == f"ring {ERASED} today"


@pytest.mark.parametrize(
    "text",
    [
        "13812345679",  # another number
        "1381234567",  # a prefix of it
        "9913812345678000",  # a longer run of digits holding it
        "913812345678",
        "138123456780",
        "A13812345678",  # part of a word
        "13812345678x",
        "+113812345678",  # another country's number
        "+8713812345678",
    ],
)
def test_a_phone_is_not_found_in_other_values(text: str) -> None:
    assert scrub_value(f"ref {text} ok", scrubber([STORED_PHONE])) == f"ref {text} ok"


def test_names_emails_and_ids_are_scrubbed_in_any_case_spacing_and_width() -> None:
    pattern = scrubber(["Wei Li", "li.wei@example.com", "M-778899", "Li"])
    cases = {
        "wei li called": f"{ERASED} called",
        "WEI  LI called": f"{ERASED} called",
        "Wei\tLi\u3000called": f"{ERASED}\u3000called",
        "Wei\nLi called": f"{ERASED} called",
        "mail Li.Wei@Example.COM now": f"mail {ERASED} now",
        "member m-778899.": f"member {ERASED}.",
        full_width("Wei Li") + "\u3002": f"{ERASED}\u3002",
        "Lincoln met LI and li": f"Lincoln met {ERASED} and {ERASED}",
        "Weili, Liu, Lim, xLi, Li2": "Weili, Liu, Lim, xLi, Li2",
    }
    assert {text: scrub_value(text, pattern) for text in cases} == cases


def test_full_width_text_keeps_its_own_spelling_around_a_match() -> None:
    pattern = scrubber(["王伟", "13812345678"])
    text = f"客户王伟{COMMA}电话{COLON}{full_width('138 1234 5678')}{COMMA}{full_width('OK')}"
    expected = f"客户{ERASED}{COMMA}电话{COLON}{ERASED}{COMMA}{full_width('OK')}"
    assert scrub_value(text, pattern) == expected
    # Matches inside one character's compatibility expansion erase that character once.
    assert scrub_value("\u3231会社", scrubber(["株", ")"])) == f"{ERASED}会社"


def test_a_long_text_of_near_misses_is_left_as_it_is() -> None:
    """Near misses are where a pattern with nested repeats backtracks; the pattern's bounded
    separators keep this a linear scan (a blow-up would hang this test for hours)."""
    pattern = scrubber([STORED_PHONE, "+14155550123", "Zhang Wei", "zhang.wei@example.com"])
    near_misses = ("138 1234 567 ", "(138)-(1234)-(567", "+86 138 1234 567 ", "Zhang Wex ")
    text = "".join(near_misses) * 3000
    assert scrub_value(text, pattern) == text


def test_erasure_finds_a_number_and_name_written_differently() -> None:
    crm = CRM(MemoryStore(), clock=FixedClock(START))
    with crm.session(actor="setup") as s:
        customer = s.customers.add(
            Customer.person("Wei Li", phone="13812345678", email="li.wei@example.com")
        )
        interaction = s.interactions.add(
            Interaction(
                customer_id=customer.id,
                channel="phone",
                occurred_at=START,
                summary=f"WEI LI: call back on +86 138-1234-5678 or {full_width('13812345678')}",
                result="mailed Li.Wei@Example.COM; 9913812345678000 is the order ref",
            )
        )
    with crm.session(actor="dpo") as s:
        s.customers.erase(customer, "request")
        stored = s.interactions.get(interaction.id)
    assert stored.summary == f"{ERASED}: call back on {ERASED} or {ERASED}"
    assert stored.result == f"mailed {ERASED}; 9913812345678000 is the order ref"
    crm.close()


_AROUND = st.text(
    alphabet=st.sampled_from([*"abcxyzLI 王伟电话。:;!?-()\n", COMMA, COLON]), max_size=30
)
_BOUNDARY = st.sampled_from([" ", COLON, COMMA, "电", "\n", ")", "/"])


@st.composite
def numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """Valid numbers: Chinese mobiles, and mobiles of a few other regions."""
    region = draw(st.sampled_from(["CN", "CN", "US", "GB", "DE"]))
    if region == "CN":
        national = draw(st.from_regex(r"\A1[3-9][0-9]{9}\Z"))
    else:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        national = phonenumbers.national_significant_number(example)[:-4] + draw(
            st.from_regex(r"\A[0-9]{4}\Z")
        )
    number = phonenumbers.parse(national, region)
    assume(phonenumbers.is_valid_number(number))
    return number


@st.composite
def spellings(draw: st.DrawFn, number: phonenumbers.PhoneNumber) -> str:
    """``number`` as a person might type it: some prefix, digits grouped at random points by
    random separators, perhaps in full-width characters."""
    national = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    region = phonenumbers.region_code_for_number(number)
    trunk = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix or ""
    prefix = draw(st.sampled_from(["", "", f"+{code}", f"+{code} ", f"00{code} ", trunk]))
    cuts = sorted(draw(st.sets(st.integers(1, len(national) - 1), max_size=4)))
    groups = [national[a:b] for a, b in zip([0, *cuts], [*cuts, len(national)], strict=True)]
    spelt = groups[0]
    for group in groups[1:]:
        spelt += draw(st.sampled_from(["", " ", "-", ".", " - ", ") "])) + group
    if draw(st.booleans()) and len(groups) > 1 and not prefix:
        spelt = f"({groups[0]}) " + spelt[len(groups[0]) :].lstrip(" -.)")
    spelt = prefix + spelt
    if draw(st.booleans()):
        spelt = full_width(spelt)
    return spelt


@settings(max_examples=300)
@given(data=st.data(), number=numbers(), before=_AROUND, after=_AROUND)
def test_a_generated_number_in_a_generated_spelling_is_scrubbed(
    data: st.DataObject, number: phonenumbers.PhoneNumber, before: str, after: str
) -> None:
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    spelt = data.draw(spellings(number))
    pattern = scrubber([stored])
    head, tail = before + data.draw(_BOUNDARY), data.draw(_BOUNDARY) + after
    scrubbed = scrub_value(head + spelt + tail, pattern)
    assert scrubbed == head + ERASED + tail
    assert not any(c.isdigit() for c in scrubbed)


@settings(max_examples=300)
@given(data=st.data(), number=numbers(), before=_AROUND, after=_AROUND)
def test_text_without_the_number_is_left_as_it_is(
    data: st.DataObject, number: phonenumbers.PhoneNumber, before: str, after: str
) -> None:
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.national_significant_number(number)
    pattern = scrubber([stored])
    # One digit of the national number changed, or the number inside a longer run of digits.
    at = data.draw(st.integers(0, len(national) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != national[at]]))
    near = data.draw(
        st.sampled_from(
            [national[:at] + other + national[at + 1 :], "9" + national, national + "0"]
        )
    )
    for text in (before + near + after, before + " " + near):
        assert scrub_value(text, pattern) == text
    noise = data.draw(
        st.text(alphabet=st.sampled_from(list("0123456789 -.()+x王\uff11")), max_size=80)
    )
    text = noise + before + noise
    assume(national not in re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text)))
    assert scrub_value(text, pattern) == text
