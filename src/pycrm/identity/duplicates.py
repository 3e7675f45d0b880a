"""Scoring candidate duplicates: which evidence two customers share, and how much it weighs.

Candidates come from blocks (customers sharing an identity hash or a company name key, found
set-based by the store); within a block every pair of customers of the same kind is scored
here from the two records alone. Evidence combines as independent signals:
``score = 1 - (1 - w1)(1 - w2)...`` over the reasons found, so each extra reason raises the
score and none alone reaches 1.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from difflib import SequenceMatcher
from itertools import combinations

import attrs

from pycrm.domain import Customer
from pycrm.errors import ValidationError
from pycrm.identity.normalize import name_key


class DuplicateReason(str, enum.Enum):
    """Why two customers may be one; the value is a stable code for programs."""

    SAME_ID_NUMBER = "same_id_number"
    SAME_PHONE = "same_phone"
    SAME_EMAIL = "same_email"
    SAME_COMPANY_NAME = "same_company_name"
    SIMILAR_NAME_SAME_COMPANY = "similar_name_same_company"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    DuplicateReason.SAME_ID_NUMBER: "same ID number hash",
    DuplicateReason.SAME_PHONE: "same phone hash",
    DuplicateReason.SAME_EMAIL: "same email",
    DuplicateReason.SAME_COMPANY_NAME: "same company name key",
    DuplicateReason.SIMILAR_NAME_SAME_COMPANY: "similar name within the same company",
}

WEIGHTS: Mapping[DuplicateReason, float] = {
    DuplicateReason.SAME_ID_NUMBER: 0.95,
    DuplicateReason.SAME_PHONE: 0.9,
    DuplicateReason.SAME_EMAIL: 0.8,
    DuplicateReason.SAME_COMPANY_NAME: 0.7,
    DuplicateReason.SIMILAR_NAME_SAME_COMPANY: 0.6,
}
"""How much each reason alone says; a similar name weighs ``0.6 * similarity``."""

BLOCK_FIELDS: tuple[tuple[str, DuplicateReason], ...] = (
    ("id_number_hash", DuplicateReason.SAME_ID_NUMBER),
    ("phone_hash", DuplicateReason.SAME_PHONE),
    ("email_hash", DuplicateReason.SAME_EMAIL),
    ("company_key", DuplicateReason.SAME_COMPANY_NAME),
)
"""The fields customers are blocked on, in the order blocks are visited. A pair is reported
from the first block that holds it, with every reason the two records share."""


@attrs.frozen
class DuplicateCandidate:
    """Two customers of the same kind that may be one, with a score in ``(0, 1)`` and the
    reasons. ``customer_ids`` is in ascending order; ``similarity`` is the names' similarity
    (0 to 1) when the reasons include a similar name, else ``None``."""

    customer_ids: tuple[str, str]
    score: float
    reasons: tuple[DuplicateReason, ...]
    similarity: float | None = None

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(reason.description for reason in self.reasons)


def name_similarity(a: str, b: str) -> float:
    """How alike two names are, 0 to 1 (``difflib`` ratio of their matching keys)."""
    key_a, key_b = name_key(a), name_key(b)
    if key_a == key_b:
        return 1.0
    return SequenceMatcher(None, key_a, key_b, autojunk=False).ratio()


def check_threshold(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError(field, "must be a number from 0 to 1", value=value)
    return float(value)


def score_pair(
    a: Customer, b: Customer, *, similarity: float
) -> tuple[tuple[DuplicateReason, ...], float, float | None]:
    """The reasons ``a`` and ``b`` share, their combined score and the name similarity
    (persons at the same company only). No reasons for customers of different kinds."""
    if a.kind is not b.kind:
        return (), 0.0, None
    reasons: list[DuplicateReason] = []
    if a.id_number_hash is not None and a.id_number_hash == b.id_number_hash:
        reasons.append(DuplicateReason.SAME_ID_NUMBER)
    if a.phone_hash is not None and a.phone_hash == b.phone_hash:
        reasons.append(DuplicateReason.SAME_PHONE)
    if a.email_hash is not None and a.email_hash == b.email_hash:
        reasons.append(DuplicateReason.SAME_EMAIL)
    same_company = a.company_key is not None and a.company_key == b.company_key
    names: float | None = None
    weight = 1.0
    if same_company and a.is_company:
        reasons.append(DuplicateReason.SAME_COMPANY_NAME)
    elif same_company:
        names = name_similarity(a.name, b.name)
        if names >= similarity:
            reasons.append(DuplicateReason.SIMILAR_NAME_SAME_COMPANY)
        else:
            names = None
    for reason in reasons:
        w = WEIGHTS[reason]
        if reason is DuplicateReason.SIMILAR_NAME_SAME_COMPANY and names is not None:
            w *= names
        weight *= 1 - w
    return tuple(reasons), round(1 - weight, 6), names


def block_candidates(
    members: Sequence[Customer],
    reason: DuplicateReason,
    *,
    earlier: Sequence[str],
    min_score: float,
    similarity: float,
    max_block: int,
) -> Iterator[DuplicateCandidate]:
    """The candidate pairs of one block (customers sharing the field of ``reason``), leaving
    out pairs that also share one of the ``earlier`` fields (reported from those blocks).

    A person block larger than ``max_block`` compares names by exact key only (grouping,
    not every pair), so one employer with thousands of staff stays linear.
    """
    ordered = sorted(members, key=lambda c: c.id)
    pairs: Iterator[tuple[Customer, Customer]]
    if reason is DuplicateReason.SAME_COMPANY_NAME and len(ordered) > max_block:
        by_key: dict[tuple[str, str], list[Customer]] = {}
        for c in ordered:
            key = name_key(c.name) if not c.is_company else ""
            by_key.setdefault((c.kind.value, key), []).append(c)
        pairs = (pair for group in by_key.values() for pair in combinations(group, 2))
    else:
        pairs = combinations(ordered, 2)
    for a, b in pairs:
        if any(getattr(a, f) is not None and getattr(a, f) == getattr(b, f) for f in earlier):
            continue
        reasons, score, names = score_pair(a, b, similarity=similarity)
        if reasons and score >= min_score:
            yield DuplicateCandidate((a.id, b.id), score, reasons, names)
