"""Masking of personal data for ``repr``, logs, audit entries and exports.

Masks keep enough to recognise a record (``138****5678``, ``z***@example.com``) and never
the whole value. They are applied by default; showing raw values is an explicit choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``; short numbers keep only their last two digits."""
    if phone is None:
        return None
    digits = phone.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(email: str | None) -> str | None:
    """``zhang.wei@example.com`` -> ``z***@example.com``."""
    if email is None:
        return None
    local, sep, domain = email.partition("@")
    if not sep:
        return mask_text(email)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str | None) -> str | None:
    """Generic mask for identifiers: first and last character only."""
    if value is None:
        return None
    if len(value) <= 2:
        return "*" * len(value)
    return f"{value[0]}{'*' * (len(value) - 2)}{value[-1]}"


def mask_id_number(value: str | None) -> str | None:
    """``110101199003071234`` -> ``110***********1234``: the first 3 and last 4 characters,
    or only the last 2 of a number too short to keep that much."""
    if value is None:
        return None
    if len(value) >= 10:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return "*" * max(len(value) - 2, 1) + value[-2:]


def mask_address(value: str | None) -> str | None:
    """``北京市朝阳区建国路88号`` -> ``北京市朝阳区****``: at most the first 6 characters (about a
    province and city) and never more than half, then a fixed ``****`` that hides the length."""
    if value is None:
        return None
    text = value.strip()
    return f"{text[: min(6, len(text) // 2)]}****"


def mask_mapping(values: dict[str, str]) -> dict[str, str | None]:
    return {key: mask_text(value) for key, value in values.items()}


def masked_repr(masker: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A ``repr`` for an attrs field that shows only the masked value."""
    return lambda value: repr(masker(value))


PERSONAL_FIELDS: dict[str, Callable[[Any], Any]] = {
    "phone": mask_phone,
    "email": mask_email,
    "member_id": mask_text,
    "id_number": mask_id_number,
    "address": mask_address,
    "messaging_ids": mask_mapping,
}
"""Field name -> masking function, used wherever an entity's values leave the domain."""


def mask_value(field: str, value: object) -> object:
    """Mask ``value`` if ``field`` holds personal data, else return it unchanged."""
    masker = PERSONAL_FIELDS.get(field)
    if masker is None or value is None:
        return value
    return masker(value)
