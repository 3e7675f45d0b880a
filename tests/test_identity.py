"""Identity normalisation and keyed hashes: pure functions, properties, configuration."""

from __future__ import annotations

import hashlib
import hmac
import re
import string
import unicodedata
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycrm import ConfigurationError, ValidationError
from pycrm.identity import (
    IdentityHasher,
    company_key,
    id_number_problem,
    name_key,
    normalize_email,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    phone_or_none,
)
from pycrm.identity.normalize import _INVALID, _mobile_e164
from text_forms import full_width

KEY = "a-test-identity-key-of-some-length"


# -- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("13812345678", "CN", "+8613812345678"),
        ("138-1234-5678", "CN", "+8613812345678"),
        ("+86 138 1234 5678", "CN", "+8613812345678"),
        ("008613812345678", "CN", "+8613812345678"),
        (full_width("13812345678"), "CN", "+8613812345678"),
        ("010 6552 9988", "CN", "+861065529988"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+44 20 7946 0958", "CN", "+442079460958"),
    ],
)
def test_phones_become_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164
    assert normalize_phone(e164, region) == e164


@pytest.mark.parametrize("raw", ["12345", "1381234567", "abc", "+86 999 0000 0000", "  "])
def test_invalid_phones_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    assert caught.value.field == "phone"
    assert phone_or_none(raw) is None


@pytest.mark.parametrize("bad", [13812345678, None, b"138", "1" * 5000, "138\ud800"])
def test_phones_of_the_wrong_type_or_shape_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(bad)
    assert caught.value.field == "phone"


def test_the_region_is_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone("13812345678", "XX")
    assert caught.value.field == "region"
    with pytest.raises(ValidationError):
        phone_or_none("13812345678", "XX")


cn_mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@given(cn_mobiles, st.sampled_from(["", " ", "-"]))
def test_phone_normalisation_is_idempotent(number: str, separator: str) -> None:
    spaced = separator.join([number[:3], number[3:7], number[7:]])
    first = phone_or_none(spaced)
    if first is not None:
        assert normalize_phone(first) == first
        assert phone_or_none(full_width(spaced)) == first


# -- emails ---------------------------------------------------------------------------------


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    assert normalize_email(full_width("Li@Example.cn")) == "li@example.cn"


@pytest.mark.parametrize(
    "bad", ["no-at-sign", "a@b", "a@@b.com", ".a@b.com", "a..b@c.com", "a b@c.com", "a@-b.com"]
)
def test_malformed_emails_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_email(bad)
    assert caught.value.field == "email"


emails = st.emails()


@given(emails)
def test_email_normalisation_is_idempotent(email: str) -> None:
    try:
        once = normalize_email(email)
    except ValidationError:
        return
    assert normalize_email(once) == once
    assert normalize_email(email.upper()) == once


# -- names ----------------------------------------------------------------------------------


def test_names_are_nfkc_with_whitespace_collapsed() -> None:
    assert normalize_name(f"  {full_width('ACME')}\u3000 Tools\t") == "ACME Tools"
    assert name_key("Zhang  Wei") == name_key("zhang wei") == name_key(full_width("ZHANG WEI"))
    assert name_key("O'Brien") == name_key("OBrien")
    assert name_key("张 伟") == name_key("张伟")
    assert name_key("...") == "..."


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("深圳市腾达科技有限公司", "深圳市腾达科技"),
        ("深圳市腾达科技股份有限公司", "深圳市腾达科技"),
        ("北京星辰有限责任公司", "北京星辰"),
        ("上海 星辰 有限 公司", "上海星辰"),
        ("Acme Co., Ltd.", "acme"),
        ("ACME  Inc", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme LLC", "acme"),
        ("Acme Company Limited", "acme"),
        (full_width("Beta Co.,Ltd."), "beta"),
        ("Company Ltd", "company"),
        ("有限公司", "有限公司"),
        ("Incorporated Tools", "incorporatedtools"),
    ],
)
def test_company_keys_drop_legal_forms(name: str, key: str) -> None:
    assert company_key(name) == key


words = st.lists(
    st.text(string.ascii_letters + string.digits + ".,&'-", min_size=1, max_size=8),
    min_size=1,
    max_size=5,
)
spaces = st.lists(st.sampled_from([" ", "  ", "\t", " \u3000"]), min_size=6, max_size=6)


@given(words, spaces, st.sampled_from(["", " Co., Ltd.", " Inc", "有限公司", " GmbH"]))
def test_keys_are_stable_under_width_and_spacing(
    parts: list[str], gaps: list[str], suffix: str
) -> None:
    plain = " ".join(parts) + suffix
    spaced = "".join(p + g for p, g in zip(parts, gaps, strict=False)) + suffix
    for key in (name_key, company_key):
        expected = key(plain)
        assert key(spaced) == expected
        assert key(full_width(plain)) == expected
        assert key(plain.upper()) == expected
        assert key(expected) == expected  # idempotent


@given(st.text(min_size=1, max_size=60))
def test_normalisation_is_idempotent_on_any_text(text: str) -> None:
    try:
        name = normalize_name(text)
    except ValidationError:
        return
    assert normalize_name(name) == name
    assert name_key(name_key(text)) == name_key(text)
    assert company_key(company_key(text)) == company_key(text)


def test_names_refuse_bad_input() -> None:
    for bad, problem in [("", "blank"), ("x" * 201, "longer"), (3, "text"), ("a\udc00", "Unicode")]:
        with pytest.raises(ValidationError, match=problem) as caught:
            name_key(bad)
        assert caught.value.field == "name"


# -- ID numbers -----------------------------------------------------------------------------


def test_id_numbers_are_compacted_and_upper_cased() -> None:
    assert normalize_id_number(" 11010119900307123x ") == "11010119900307123X"
    assert normalize_id_number("E 1234-5678") == "E12345678"
    with pytest.raises(ValidationError) as caught:
        normalize_id_number("12")
    assert caught.value.field == "id_number"


def test_resident_id_check_character() -> None:
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("110105194912310021") is not None
    assert id_number_problem("E12345678") is None


# -- hashes ---------------------------------------------------------------------------------


def test_hashes_are_hmac_sha256_under_the_key_with_a_label_per_kind() -> None:
    hasher = IdentityHasher(KEY)
    expected = hmac.new(KEY.encode(), b"phone\x00+8613812345678", hashlib.sha256).hexdigest()
    assert hasher.phone("+8613812345678") == expected
    assert hasher.id_number("11010519491231002x") == hasher.id_number("11010519491231002X")
    assert hasher.email("A@Example.com") == hasher.email("a@example.com")
    assert hasher.id_number("86138123456780") != hasher.phone("+8613812345678")
    other = IdentityHasher(KEY + "!")
    assert other.phone("+8613812345678") != expected
    assert other.fingerprint != hasher.fingerprint


def test_hashing_refuses_unnormalised_phones_and_short_keys() -> None:
    with pytest.raises(ValidationError):
        IdentityHasher(KEY).phone("13812345678")
    with pytest.raises(ConfigurationError):
        IdentityHasher("short")
    with pytest.raises(ConfigurationError):
        IdentityHasher(12345)  # type: ignore[arg-type]


def full_parse(text: str, region: str) -> str | None:
    """What ``phonenumbers`` itself makes of ``text``: the reference for the fast path."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@given(
    st.sampled_from(["CN", "US", "GB", "DE", "HK", "JP"]),
    st.sampled_from(["", "+86", "+1", "+44", "0", "86", "1", "13", "17", "179", "12"]),
    st.text("0123456789", min_size=0, max_size=13),
)
def test_the_mobile_fast_path_agrees_with_a_full_parse(
    region: str, prefix: str, digits: str
) -> None:
    text = prefix + digits
    fast = _mobile_e164(text, region)
    if fast is _INVALID:
        assert full_parse(text, region) is None
    elif fast is not None:
        assert fast == full_parse(text, region)
    if text:
        assert phone_or_none(text, region) == full_parse(text, region)


def test_the_mobile_fast_path_takes_plain_mobile_numbers() -> None:
    assert _mobile_e164("13812345678", "CN") == "+8613812345678"
    assert _mobile_e164("+8613812345678", "CN") == "+8613812345678"
    assert _mobile_e164("01012345678", "CN") is None  # a trunk prefix: the full path


def _full_normalize(text: str, region: str) -> str:
    """``normalize_phone`` without its fast path: the reference for its answers and errors."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError("phone", f"not a phone number (region {region})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("phone", f"not a valid phone number (region {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _outcome(normalize: Any, text: str, region: str) -> str:
    try:
        return str(normalize(text, region))
    except ValidationError as exc:
        return f"error: {exc}"


@settings(max_examples=400)
@given(
    st.sampled_from(["CN", "DE", "HK", "JP", "US", "GB"]),
    st.sampled_from(["1", "12", "13", "14", "16", "17", "179", "19", "2", "5", "6", "9"]),
    st.integers(min_value=0, max_value=12),
    st.randoms(use_true_random=False),
)
def test_plain_numbers_refused_without_a_parse_are_refused_by_the_parse(
    region: str, prefix: str, length: int, rng: Any
) -> None:
    text = prefix + "".join(rng.choice("0123456789") for _ in range(length))
    assert _outcome(normalize_phone, text, region) == _outcome(_full_normalize, text, region)


def test_every_cn_mobile_block_agrees_with_a_full_parse() -> None:
    # Every four-digit block of eleven-digit numbers starting with 1, with varied endings.
    for block in range(1000, 2000):
        for ending in ("0000000", "1234567", "9999999", "5080123"):
            text = f"{block}{ending}"
            assert _outcome(normalize_phone, text, "CN") == _outcome(_full_normalize, text, "CN"), (
                text
            )
    assert _mobile_e164("16157262101", "CN") is _INVALID


@given(
    st.text(
        st.characters()
        | st.sampled_from([" ", "\t", "\n", "\x0b", "\x1c", "\u3000", "\xa0", "\uff21", "\ud800"]),
        max_size=12,
    )
)
def test_the_ascii_short_path_of_text_cleaning_changes_nothing(value: str) -> None:
    def reference(text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "error: lone surrogate"
        cleaned = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
        return cleaned if cleaned else "error: blank"

    try:
        got = normalize_name(value)
    except ValidationError as exc:
        got = "error: blank" if "blank" in str(exc) else "error: lone surrogate"
    assert got == reference(value)
