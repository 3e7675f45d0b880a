"""attrs converters that turn outside values into domain values or raise a field-named error.

Each factory returns an ``attrs.Converter`` that knows its field, so a bad value anywhere in
the domain surfaces as ``ValidationError("field", "problem")`` and never as a bare
``TypeError`` from deep inside.

Converters run for every field of every entity built, bulk imports included, so each one is
a single closure that accepts the common, already-clean value (exact ``str``, aware UTC
``datetime``, enum member, ...) on a short fast path and hands everything else to the
``check_*`` function of the same kind. The ``check_*`` functions are the reference: they
define what is accepted and word every error, so the fast paths never reject a value on
their own and every error message comes from one place.
"""

from __future__ import annotations

import enum
import json
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias, TypeVar

import attrs

from pycrm.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_UTC = timezone.utc

Field: TypeAlias = "attrs.Attribute[Any]"


def _converter(fn: Callable[[Any, Field], T]) -> attrs.Converter:  # type: ignore[type-arg]
    # The closure is what attrs' generated ``__init__`` calls directly: no wrapper layer.
    return attrs.Converter(fn, takes_field=True)


def check_text(value: Any, field: str, *, max_length: int, required: bool) -> str | None:
    if value is None:
        if required:
            raise ValidationError(field, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, f"expected text, got {type(value).__name__}", value=value)
    text = value.strip()
    if not text:
        if required:
            raise ValidationError(field, "must not be blank")
        return None
    if len(text) > max_length:
        raise ValidationError(field, f"longer than {max_length} characters", value=value)
    if not storable(text):
        if "\x00" in text:
            raise ValidationError(field, "contains a NUL character, which no database stores")
        raise ValidationError(field, "is not valid Unicode text (a lone surrogate)")
    return text


def storable(text: str) -> bool:
    """Whether every supported database can hold ``text``: no NUL character (PostgreSQL
    refuses it) and no lone surrogate (not encodable, so no driver can send it)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def required_text(value: Any, field: str, max_length: int) -> str:
    """:func:`check_text` for a value that must be there: typed as never ``None``."""
    checked = check_text(value, field, max_length=max_length, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def text(max_length: int = 200) -> attrs.Converter:  # type: ignore[type-arg]
    """Required, stripped, non-blank text of at most ``max_length`` characters."""

    def convert(value: Any, field: Field) -> str | None:
        if type(value) is str:
            stripped = value.strip()
            if stripped and len(stripped) <= max_length and storable(stripped):
                return stripped
        return check_text(value, field.name, max_length=max_length, required=True)

    return _converter(convert)


def optional_text(max_length: int = 200) -> attrs.Converter:  # type: ignore[type-arg]
    """Like :func:`text`, but ``None`` and blank text become ``None``."""

    def convert(value: Any, field: Field) -> str | None:
        if value is None:
            return None
        if type(value) is str:
            stripped = value.strip()
            if stripped and len(stripped) <= max_length and storable(stripped):
                return stripped
        return check_text(value, field.name, max_length=max_length, required=False)

    return _converter(convert)


def check_datetime(value: Any, field: str, *, required: bool) -> datetime | None:
    if value is None:
        if required:
            raise ValidationError(field, "is required")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, "not an ISO 8601 date and time", value=value) from None
    if not isinstance(value, datetime):
        raise ValidationError(field, f"expected a datetime, got {type(value).__name__}")
    zone = value.tzinfo
    if zone is _UTC:
        return value
    if zone is None or value.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(_UTC)


def aware_datetime() -> attrs.Converter:  # type: ignore[type-arg]
    """A timezone-aware datetime (or ISO string), normalised to UTC."""

    def convert(value: Any, field: Field) -> datetime | None:
        if type(value) is datetime and value.tzinfo is _UTC:
            return value
        return check_datetime(value, field.name, required=True)

    return _converter(convert)


def optional_datetime() -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> datetime | None:
        if value is None or (type(value) is datetime and value.tzinfo is _UTC):
            return value
        return check_datetime(value, field.name, required=False)

    return _converter(convert)


def check_date(value: Any, field: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValidationError(field, "expected a date, got a datetime", value=value)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, "not an ISO 8601 date", value=value) from None
    if not isinstance(value, date):
        raise ValidationError(field, f"expected a date, got {type(value).__name__}")
    return value


def optional_date() -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> date | None:
        if value is None or type(value) is date:
            return value
        return check_date(value, field.name)

    return _converter(convert)


def check_enum(value: Any, field: str, enum_type: type[E]) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum_type)
        raise ValidationError(field, f"must be one of {allowed}", value=value) from None


def _enum_converter(enum_type: type[E], *, optional: bool) -> attrs.Converter:  # type: ignore[type-arg]
    # The same value -> member lookup ``enum_type(value)`` starts with, minus its call layers.
    members: dict[Any, E] = {member.value: member for member in enum_type}

    def convert(value: Any, field: Field) -> E | None:
        if type(value) is enum_type or (optional and value is None):
            return value
        try:
            return members[value]
        except (KeyError, TypeError):
            return check_enum(value, field.name, enum_type)

    return _converter(convert)


def choice(enum_type: type[E]) -> attrs.Converter:  # type: ignore[type-arg]
    """An enum member, or its value as text."""
    return _enum_converter(enum_type, optional=False)


def optional_choice(enum_type: type[E]) -> attrs.Converter:  # type: ignore[type-arg]
    return _enum_converter(enum_type, optional=True)


def whole(value: Any) -> Any:
    """A numpy integer (what a DataFrame cell or ``series.max()`` gives) as the ``int`` it is;
    anything else unchanged, for the caller to check."""
    if type(value) is int or isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return value
    return int(value)


def check_int(value: Any, field: str, *, minimum: int | None, required: bool) -> int | None:
    if value is None:
        if required:
            raise ValidationError(field, "is required")
        return None
    value = whole(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"expected a whole number, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValidationError(field, f"must be at least {minimum}", value=value)
    return value


def integer(minimum: int | None = None) -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> int | None:
        if type(value) is int and (minimum is None or value >= minimum):
            return value
        return check_int(value, field.name, minimum=minimum, required=True)

    return _converter(convert)


def optional_integer(minimum: int | None = None) -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> int | None:
        if value is None or (type(value) is int and (minimum is None or value >= minimum)):
            return value
        return check_int(value, field.name, minimum=minimum, required=False)

    return _converter(convert)


def check_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, float):
        raise ValidationError(field, "floats are inexact; pass a Decimal, int or str", value=value)
    if isinstance(value, bool):
        raise ValidationError(field, "expected a number, got bool")
    value = whole(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(field, "not a decimal number", value=value) from None
    if not number.is_finite():
        raise ValidationError(field, "must be finite", value=value)
    return number


def decimal() -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> Decimal:
        if type(value) is Decimal and value.is_finite():
            return value
        return check_decimal(value, field.name)

    return _converter(convert)


_TAG = re.compile(r"^[^\s,][^,]{0,79}$")
_KNOWN_TAGS: dict[str, str] = {}
"""Raw tag text -> its checked form. Tags repeat across customers (a few dozen values over
millions of rows), so each distinct text is checked once; the cache is bounded."""
_KNOWN_TAGS_MAX = 10_000


def check_tags(value: Any, field: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        raise ValidationError(field, "expected a collection of tags, got a single string")
    if isinstance(value, frozenset) and all(type(t) is str for t in value):
        items: Iterable[Any] = value
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ValidationError(field, f"expected a collection of tags, got {type(value).__name__}")
    tags = set()
    for tag in items:
        if not isinstance(tag, str):
            raise ValidationError(field, f"tags are text, got {type(tag).__name__}", value=tag)
        raw = tag
        tag = tag.strip()
        if not _TAG.match(tag):
            raise ValidationError(
                field, "a tag is 1 to 80 characters, no commas, not blank", value=tag
            )
        if type(raw) is str and len(_KNOWN_TAGS) < _KNOWN_TAGS_MAX:
            _KNOWN_TAGS[raw] = tag
        tags.add(tag)
    return frozenset(tags)


_TAG_CONTAINERS = (list, tuple, set, frozenset)


def tag_set() -> attrs.Converter:  # type: ignore[type-arg]
    """A frozenset of stripped tags such as ``"purchase-intent:software"``."""

    def convert(value: Any, field: Field) -> frozenset[str]:
        if value is None:
            return frozenset()
        if type(value) in _TAG_CONTAINERS:
            known = _KNOWN_TAGS
            try:
                # KeyError: not a tag seen before (or not text); TypeError: unhashable.
                return frozenset([known[tag] for tag in value])
            except (KeyError, TypeError):
                pass
        return check_tags(value, field.name)

    return _converter(convert)


def check_json_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(field, f"expected a mapping, got {type(value).__name__}")
    if not value:
        return {}
    try:
        copy: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"must be JSON-serialisable ({exc})") from None
    if any(not isinstance(k, str) for k in value):
        raise ValidationError(field, "keys must be text")
    return copy


def json_object() -> attrs.Converter:  # type: ignore[type-arg]
    """A JSON-able dict, deep-copied so the caller's object cannot change the entity."""

    def convert(value: Any, field: Field) -> dict[str, Any]:
        if value is None or (type(value) is dict and not value):
            return {}
        return check_json_object(value, field.name)

    return _converter(convert)


def check_str_mapping(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(field, f"expected a mapping, got {type(value).__name__}")
    result = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValidationError(field, "keys and values must be text")
        if item.strip():
            result[key.strip()] = item.strip()
    return result


def str_mapping() -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> dict[str, str]:
        if value is None or (type(value) is dict and not value):
            return {}
        return check_str_mapping(value, field.name)

    return _converter(convert)


_TEXT_ITEM_MAX = 2000


def check_text_tuple(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise ValidationError(field, f"expected a list of text, got {type(value).__name__}")
    items = []
    for item in value:
        checked = check_text(item, field, max_length=_TEXT_ITEM_MAX, required=False)
        if checked is not None:
            items.append(checked)
    return tuple(items)


def text_tuple() -> attrs.Converter:  # type: ignore[type-arg]
    """A tuple of non-blank texts; a single string becomes a one-item tuple."""

    def convert(value: Any, field: Field) -> tuple[str, ...]:
        if value is None:
            return ()
        if type(value) is tuple or type(value) is list:
            items = []
            for item in value:
                if type(item) is not str:
                    return check_text_tuple(value, field.name)
                stripped = item.strip()
                if len(stripped) > _TEXT_ITEM_MAX:
                    return check_text_tuple(value, field.name)
                if stripped:
                    items.append(stripped)
            return tuple(items)
        return check_text_tuple(value, field.name)

    return _converter(convert)


def check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, f"expected True or False, got {type(value).__name__}")
    return value


def boolean() -> attrs.Converter:  # type: ignore[type-arg]
    def convert(value: Any, field: Field) -> bool:
        if value is True or value is False:
            return value
        return check_bool(value, field.name)

    return _converter(convert)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_MAX = 254
_PHONE = re.compile(r"^\+?[0-9]{3,20}$")
_PHONE_MAX = 40
_PHONE_NOISE = str.maketrans("", "", " -().\u00a0")


def check_email(value: Any, field: str) -> str | None:
    email = check_text(value, field, max_length=_EMAIL_MAX, required=False)
    if email is None:
        return None
    if not _EMAIL.match(email):
        raise ValidationError(field, "not an email address", value=value)
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def email() -> attrs.Converter:  # type: ignore[type-arg]
    """An optional email address; the domain part is lower-cased."""

    def convert(value: Any, field: Field) -> str | None:
        if value is None:
            return None
        if type(value) is str:
            stripped = value.strip()
            if stripped and len(stripped) <= _EMAIL_MAX and _EMAIL.match(stripped):
                local, _, domain = stripped.rpartition("@")
                return f"{local}@{domain.lower()}"
        return check_email(value, field.name)

    return _converter(convert)


def check_phone(value: Any, field: str) -> str | None:
    phone = check_text(value, field, max_length=_PHONE_MAX, required=False)
    if phone is None:
        return None
    compact = phone.translate(_PHONE_NOISE)
    if not _PHONE.match(compact):
        raise ValidationError(field, "a phone number is 3 to 20 digits with an optional +")
    return compact


def phone() -> attrs.Converter:  # type: ignore[type-arg]
    """An optional phone number with spaces, dashes and brackets removed."""

    def convert(value: Any, field: Field) -> str | None:
        if value is None:
            return None
        # Plain ASCII digits are what the pattern accepts after removing noise; no regex needed.
        if type(value) is str and 3 <= len(value) <= 20 and value.isascii() and value.isdigit():
            return value
        return check_phone(value, field.name)

    return _converter(convert)
