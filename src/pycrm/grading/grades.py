"""Stored grades: the grade a customer holds under one grade scheme, and when to look again.

One row per customer and scheme (``key`` is unique), so regrading overwrites the customer's
grade instead of piling up history, and the automation tick finds follow-ups that fall due
per scheme through an index on ``(scheme, next_follow_up_at)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.errors import ValidationError


@attrs.frozen(kw_only=True)
class CustomerGrade(Entity):
    """The grade ``customer_id`` holds under the scheme named ``scheme``.

    ``grade`` is ``None`` when no grade of the scheme applies (the customer was graded and
    matched none), which differs from never having been graded (no row at all).
    """

    ENTITY_TYPE: ClassVar[str] = "customer_grade"
    ID_PREFIX: ClassVar[str] = "grd"

    customer_id: str = attrs.field(converter=conv.text(64))
    scheme: str = attrs.field(converter=conv.text(80))
    grade: str | None = attrs.field(default=None, converter=conv.optional_text(40))
    graded_at: datetime = attrs.field(converter=conv.aware_datetime())
    next_follow_up_at: datetime | None = attrs.field(
        default=None, converter=conv.optional_datetime()
    )

    def __attrs_post_init__(self) -> None:
        if "/" in self.scheme:
            # The key joins scheme and customer with "/"; a slash would make keys ambiguous.
            raise ValidationError("scheme", "must not contain '/'", value=self.scheme)

    @property
    def key(self) -> str:
        """``scheme/customer_id``: one grade per customer and scheme (a unique column in SQL)."""
        return f"{self.scheme}/{self.customer_id}"
