"""What a won deal taught: the factors behind the win and what nearly lost it.

Kept on the opportunity (the ``deal review`` step of the default pipeline) so a report can
set the reasons of won deals beside the lost reasons of lost ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


def _factors(value: Any, field: str) -> tuple[str, ...]:
    factors = conv.check_text_tuple(value, field)
    if not factors:
        raise ValidationError(field, "needs at least one factor")
    return factors


def _success(value: Any) -> tuple[str, ...]:
    return _factors(value, "success_factors")


def _failure(value: Any) -> tuple[str, ...]:
    return _factors(value, "failure_factors")


def _reviewed_at(value: datetime | str) -> datetime:
    checked = conv.check_datetime(value, "reviewed_at", required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _reviewed_by(value: str) -> str:
    checked = conv.check_text(value, "reviewed_by", max_length=120, required=True)
    assert checked is not None
    return checked


@attrs.frozen(kw_only=True)
class DealReview:
    """A won deal's review. Both lists are required: a review that only celebrates teaches
    nothing about the risks the next deal will meet."""

    success_factors: tuple[str, ...] = attrs.field(converter=_success)
    failure_factors: tuple[str, ...] = attrs.field(converter=_failure)
    reviewed_at: datetime = attrs.field(converter=_reviewed_at)
    reviewed_by: str = attrs.field(converter=_reviewed_by)

    @classmethod
    def from_json(cls, data: Any) -> DealReview:
        """The review from its stored JSON form (lists and ISO text)."""
        if not isinstance(data, dict):
            raise ValidationError("review", f"expected an object, got {type(data).__name__}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """Plain lists and ISO text, as stored in the opportunity's ``review`` column."""
        return {
            "success_factors": list(self.success_factors),
            "failure_factors": list(self.failure_factors),
            "reviewed_at": self.reviewed_at.isoformat(),
            "reviewed_by": self.reviewed_by,
        }


@attrs.frozen(kw_only=True)
class DealReviewed:
    """Raised by :func:`pycrm.review_deal`; ``tags_to_add`` are for the deal's customer."""

    opportunity_id: str
    customer_id: str
    review: DealReview
    tags_to_add: frozenset[str] = frozenset()
