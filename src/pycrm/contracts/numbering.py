"""Contract numbers such as ``HT-2026-00042``: a pattern plus the next sequence of the year.

The pattern is data (hosts have their own numbering rules) and the formatting is a pure
function; the store only supplies how many contracts the year already has. Two sessions
numbering at once can pick the same number: the unique constraint on ``number`` turns the
second into ``AlreadyExists``, and the caller numbers again.
"""

from __future__ import annotations

import string

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

_FIELDS = frozenset({"year", "seq"})


def _pattern(value: str) -> str:
    text = conv.check_text(value, "pattern", max_length=60, required=True)
    assert text is not None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as err:
        raise ValidationError("pattern", f"is not a format string: {err}", value=value) from None
    if "seq" not in names:
        raise ValidationError("pattern", "needs a {seq} field, or every number is the same")
    unknown = sorted(names - _FIELDS)
    if unknown:
        raise ValidationError("pattern", f"only {{year}} and {{seq}} are known, not {unknown[0]!r}")
    try:
        text.format(year=2000, seq=1)
    except (ValueError, TypeError) as err:
        raise ValidationError("pattern", f"cannot be formatted: {err}", value=value) from None
    return text


@attrs.frozen
class ContractNumbering:
    """How contract numbers look: ``pattern`` is a ``str.format`` pattern with ``{seq}``
    (the 1-based sequence within the year) and optionally ``{year}``."""

    pattern: str = attrs.field(default="HT-{year}-{seq:05d}", converter=_pattern)


def next_number(numbering: ContractNumbering, *, year: int, last_seq: int) -> str:
    """The number after ``last_seq`` in ``year`` (``last_seq`` 0 gives the year's first)."""
    if not isinstance(numbering, ContractNumbering):
        raise ValidationError("numbering", f"expected ContractNumbering, got {numbering!r}")
    checked_year = conv.check_int(year, "year", minimum=1, required=True)
    seq = conv.check_int(last_seq, "last_seq", minimum=0, required=True)
    assert checked_year is not None
    assert seq is not None
    number = numbering.pattern.format(year=checked_year, seq=seq + 1)
    if len(number) > 64:
        raise ValidationError("pattern", "makes a number longer than 64 characters")
    return number
