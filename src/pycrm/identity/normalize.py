"""Normalisation of identity data: phones, emails, ID numbers, person and company names.

Every function here is pure and idempotent (``f(f(x)) == f(x)``), so a normalised value can
be normalised again without drifting, and two spellings of the same identity (full-width or
half-width characters, extra spaces, letter case) come out the same. ``*_key`` functions
give matching keys, which are only compared, never shown; the other functions give values fit
to store and display.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import phonenumbers

from pycrm.errors import ValidationError

DEFAULT_REGION = "CN"
"""Region assumed for phone numbers written without a country code."""

_PHONE_MAX = 40
_EMAIL_MAX = 254
_EMAIL_LOCAL_MAX = 64
_NAME_MAX = 200
_ID_NUMBER_MAX = 40
_WHITESPACE = re.compile(r"\s+")
_DOMAIN_LABEL = re.compile(r"^(?!-)[^\s@.]{1,63}(?<!-)$")
_ID_NUMBER = re.compile(r"^[0-9A-Z]{4,32}$")
_ID_NUMBER_NOISE = re.compile(r"[\s\-/.]+")

LEGAL_FORM_SUFFIXES_CJK: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "有限會社",
    "株式会社",
)
"""Legal-form endings dropped from a Chinese or Japanese company name's matching key,
longest first so ``股份有限公司`` is not cut as ``有限公司``."""

LEGAL_FORM_WORDS: frozenset[str] = frozenset(
    {
        "ag",
        "co",
        "company",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "limited",
        "llc",
        "llp",
        "lp",
        "ltd",
        "plc",
        "pte",
        "pty",
        "sa",
        "sarl",
        "srl",
        "bv",
        "nv",
        "oy",
        "ab",
        "kk",
    }
)
"""Legal-form words (lower case, punctuation removed) dropped from the end of a company
name's matching key: ``Acme Co., Ltd.``, ``ACME Inc`` and ``Acme GmbH`` all key as ``acme``.
Words are dropped only at the end and never the last one left, so ``Company Ltd`` keys as
``company``."""


def _text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"expected text, got {type(value).__name__}", value=value)
    if len(value) > max_length * 4:
        # Checked before NFKC too: a huge input must not cost a huge normalisation.
        raise ValidationError(field, f"longer than {max_length} characters")
    if value.isascii() and value.isprintable() and "  " not in value:
        # Printable ASCII is its own NFKC form, encodes, and its only whitespace is the
        # space, here never doubled: the general path would only strip it.
        text = value.strip()
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(field, "is not valid Unicode text (lone surrogate)") from None
        text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if not text:
        raise ValidationError(field, "must not be blank")
    if len(text) > max_length:
        raise ValidationError(field, f"longer than {max_length} characters")
    return text


def check_region(region: Any, field: str = "region") -> str:
    """``region`` as an upper-case ISO 3166 code that ``phonenumbers`` knows (``"CN"``)."""
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(field, "not a known phone region (ISO 3166 code)", value=region)
    return region.upper()


def normalize_phone(value: Any, region: str = DEFAULT_REGION, *, field: str = "phone") -> str:
    """``value`` in E.164 form (``+8613812345678``), read as a number of ``region`` unless it
    starts with ``+`` or an international prefix.

    Raises :class:`~pycrm.ValidationError` naming ``field`` when the text is not a valid
    number there (wrong length, unallocated prefix, letters).
    """
    region = check_region(region)
    text = _text(value, field, _PHONE_MAX)
    fast = _mobile_e164(text, region)
    if fast is not None:
        if fast is _INVALID:
            raise ValidationError(field, f"not a valid phone number (region {region})")
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(field, f"not a phone number (region {region})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, f"not a valid phone number (region {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_MobileRule = tuple[
    str,
    "re.Pattern[str] | None",
    "re.Pattern[str]",
    "re.Pattern[str]",
    int,
    "tuple[re.Pattern[str], ...] | None",
]

_INVALID = "invalid"
"""What :func:`_mobile_e164` returns for a number the full path would find invalid."""

_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
"""The number types ``phonenumbers.is_valid_number`` tries: a number of none is invalid."""


def _type_patterns(meta: Any, length: int) -> tuple[re.Pattern[str], ...] | None:
    """The patterns of ``meta``'s number types that allow national numbers of ``length``
    digits, or ``None`` when a type gives no possible lengths (then only the full path
    knows)."""
    patterns = []
    for name in _TYPE_DESCS:
        desc = getattr(meta, name)
        if desc is None or not desc.national_number_pattern:
            continue
        if not desc.possible_length:
            return None
        if length in desc.possible_length:
            patterns.append(re.compile(f"(?:{desc.national_number_pattern})"))
    return tuple(patterns)


@functools.cache
def _mobile_rule(region: str) -> _MobileRule | None:
    """What :func:`_mobile_e164` needs of ``region``'s metadata, compiled once: its country
    code, national prefix pattern, general and mobile number patterns and the one length
    mobile numbers have (``None`` when the region has no such simple rule)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.mobile is None or meta.general_desc is None:
        return None
    general, mobile = meta.general_desc, meta.mobile
    if general.national_number_pattern is None or mobile.national_number_pattern is None:
        return None
    lengths = set(mobile.possible_length or ()) & set(general.possible_length or ())
    if len(lengths) != 1:
        return None
    prefix = meta.national_prefix_for_parsing
    length = lengths.pop()
    # Refusing without a full parse needs the region to be its code's only one: otherwise
    # phonenumbers validates against whichever region of the code the number fits.
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code or 0, ())
    only_region = len(regions) == 1
    return (
        str(meta.country_code),
        None if prefix is None else re.compile(prefix),
        re.compile(f"(?:{general.national_number_pattern})"),
        re.compile(f"(?:{mobile.national_number_pattern})"),
        length,
        _type_patterns(meta, length) if only_region else None,
    )


def _mobile_e164(text: str, region: str) -> str | None:
    """The E.164 form of a plain mobile number of ``region`` (``13812345678`` or
    ``+8613812345678`` in CN) without a full parse, :data:`_INVALID` for a plain number of
    that length the full path would find invalid, or ``None`` to take the full path.

    Bulk imports normalise every row's phone, and nearly all are mobile numbers written
    plainly; ``phonenumbers.parse`` spends most of its time on the cases excluded here (trunk
    and carrier prefixes, international dialling, other countries). The answer is the one the
    full path gives; a test compares the two.
    """
    rule = _mobile_rule(region)
    if rule is None:
        return None
    code, prefix, general, mobile, length, types = rule
    national = text[1 + len(code) :] if text.startswith("+" + code) else text
    if not national.isascii() or not national.isdigit() or len(national) != length:
        return None
    if national is text and (
        national[0] == "0"
        or national.startswith(code)
        or (prefix is not None and prefix.match(national))
    ):
        return None
    if mobile.fullmatch(national) and general.fullmatch(national):
        return f"+{code}{national}"
    # Written plainly, the number parses to these very digits; phonenumbers finds it valid
    # only if it fits the general pattern and one type's.
    if (
        national is text
        and types is not None
        and (not general.fullmatch(national) or not any(p.fullmatch(national) for p in types))
    ):
        return _INVALID
    return None


def phone_or_none(value: Any, region: str = DEFAULT_REGION) -> str | None:
    """The lenient :func:`normalize_phone`: ``None`` for a missing or invalid number, which
    the data-quality report then lists instead of the write being refused."""
    if value is None:
        return None
    try:
        return normalize_phone(value, region)
    except ValidationError as exc:
        if exc.field == "region":
            raise
        return None


def normalize_email(value: Any, *, field: str = "email") -> str:
    """``value`` trimmed, NFKC-normalised and lower-cased: the form emails are matched in.

    Lower-casing the local part is a matching choice: nearly every mail system treats it
    case-insensitively, and people type it in any case. Raises
    :class:`~pycrm.ValidationError` for text that is not an address.
    """
    text = _text(value, field, _EMAIL_MAX).lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or " " in text or "@" in local:
        raise ValidationError(field, "not an email address")
    if len(local) > _EMAIL_LOCAL_MAX:
        raise ValidationError(field, f"the part before @ is longer than {_EMAIL_LOCAL_MAX}")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValidationError(field, "the part before @ has a misplaced dot")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValidationError(field, "the part after @ is not a domain name")
    return text


def normalize_name(value: Any, *, field: str = "name") -> str:
    """A person's or company's name for display: NFKC (full-width letters, digits and
    brackets become half-width) with runs of whitespace collapsed to one space."""
    return _text(value, field, _NAME_MAX)


_DROPPED = frozenset("PC")
"""Unicode categories keys leave out: punctuation, and control and format characters."""


def _compact(text: str) -> str:
    """Case-folded, without whitespace, punctuation and control characters: what two
    spellings share."""
    for _ in range(4):
        # Removing a space can bring a combining mark next to a letter NFKC then composes
        # (``A ́`` -> ``Á``), so repeat until nothing changes.
        compact = "".join(
            ch
            for ch in _fold(text)
            if not ch.isspace() and unicodedata.category(ch)[0] not in _DROPPED
        )
        if compact == text:
            break
        text = compact
    return text


def _fold(text: str) -> str:
    # Case folding can leave text that NFKC would change again; settle it so keys are stable.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def name_key(value: Any, *, field: str = "name") -> str:
    """A person's name as a matching key: normalised, case-folded, with whitespace and
    punctuation removed, so ``Zhang  Wei``, ``zhang wei`` and their full-width spelling match.
    A name made only of punctuation keys as itself without whitespace."""
    text = normalize_name(value, field=field)
    return _compact(text) or "".join(_fold(text).split())


def company_key(value: Any, *, field: str = "name") -> str:
    """A company's name as a matching key: like :func:`name_key`, and without the legal
    form at its end (:data:`LEGAL_FORM_SUFFIXES_CJK`, :data:`LEGAL_FORM_WORDS`), so
    ``深圳市腾达科技有限公司`` matches ``深圳市腾达科技`` and ``Acme Co., Ltd.`` matches
    ``ACME``."""
    text = _fold(normalize_name(value, field=field))
    words = "".join(" " if unicodedata.category(ch)[0] in _DROPPED else ch for ch in text).split()
    while words:
        joined = "".join(words)
        suffix = next(
            (s for s in LEGAL_FORM_SUFFIXES_CJK if joined.endswith(s) and len(joined) > len(s)),
            None,
        )
        if suffix is not None:
            words = _drop_suffix(words, len(suffix))
            continue
        if len(words) > 1 and words[-1] in LEGAL_FORM_WORDS:
            words.pop()
            continue
        break
    key = unicodedata.normalize("NFKC", "".join(words))
    return key or name_key(value, field=field)


def _drop_suffix(words: list[str], length: int) -> list[str]:
    """``words`` without their last ``length`` characters (the suffix may span words)."""
    kept = list(words)
    while length > 0:
        last = kept.pop()
        if len(last) > length:
            kept.append(last[:-length])
            break
        length -= len(last)
    return kept


def normalize_id_number(value: Any, *, field: str = "id_number") -> str:
    """A national ID or passport number as matched: NFKC, upper case, without spaces,
    dashes, dots and slashes; 4 to 32 letters and digits."""
    text = _ID_NUMBER_NOISE.sub("", _text(value, field, _ID_NUMBER_MAX).upper())
    if not _ID_NUMBER.match(text):
        raise ValidationError(field, "an ID number is 4 to 32 letters and digits")
    return text


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


def id_number_problem(value: str) -> str | None:
    """What is wrong with a normalised ID number that looks like a mainland resident
    identity card number (18 characters, 17 digits then a digit or ``X``): a wrong check
    character. ``None`` when nothing is, or when it is another kind of number."""
    body, check = value[:17], value[17:]
    if len(value) != 18 or not body.isdigit() or not (check.isdigit() or check == "X"):
        return None
    total = sum(int(d) * w for d, w in zip(body, _CN_ID_WEIGHTS, strict=True))
    if _CN_ID_CHECK[total % 11] != check:
        return "the check character of the resident ID number is wrong"
    return None
