"""Sales targets: how much a rep or a team is expected to win in a period.

A target names its subject (a rep or a team, not both), a period as its label (``2026-11``,
``2026-Q4``, ``2026``) and an amount in one currency. ``key`` is unique, so each subject has
one target per period; the ``targets`` report sets the amount won beside it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from pycrm.analytics.period import Period
from pycrm.domain import Entity, Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


def _period(value: Any) -> str:
    if isinstance(value, Period):
        return value.label
    # Written as Period.parse writes it, so "2026-q4 " and "2026-Q4" are one period.
    return Period.parse(conv.required_text(value, "period", 32).upper()).label


def _rep(value: str | None) -> str | None:
    return conv.check_text(value, "rep", max_length=120, required=False)


def _team(value: str | None) -> str | None:
    return conv.check_text(value, "team", max_length=120, required=False)


def _amount(value: Money) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", f"expected Money, got {type(value).__name__}")
    if value.amount <= 0:
        raise ValidationError("amount", "must be greater than zero", value=value.amount)
    return value


@attrs.frozen(kw_only=True)
class SalesTarget(Entity):
    """``amount`` to win in ``period`` (a label such as ``"2026-11"``), by ``rep`` or by
    ``team``: exactly one of the two."""

    ENTITY_TYPE: ClassVar[str] = "sales_target"
    ID_PREFIX: ClassVar[str] = "tgt"

    period: str = attrs.field(converter=_period)
    amount: Money = attrs.field(converter=_amount)
    rep: str | None = attrs.field(default=None, converter=_rep)
    team: str | None = attrs.field(default=None, converter=_team)

    def __attrs_post_init__(self) -> None:
        if (self.rep is None) == (self.team is None):
            raise ValidationError("rep", "a target is for a rep or for a team: name one")

    @property
    def subject(self) -> str:
        """``"rep"`` or ``"team"``."""
        return "rep" if self.rep is not None else "team"

    @property
    def name(self) -> str:
        """The rep's or the team's name."""
        found = self.rep if self.rep is not None else self.team
        assert found is not None
        return found

    @property
    def key(self) -> str:
        """``subject/name/period``: one target per subject and period (unique in SQL)."""
        return f"{self.subject}/{self.name}/{self.period}"
