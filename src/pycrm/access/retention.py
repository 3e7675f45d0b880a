"""How long the audit log is kept: a policy with a floor of six months.

The audit trail is evidence (who changed or looked at what), so pycrm refuses a retention
shorter than :data:`MIN_KEEP_DAYS`; a host may keep entries longer, never shorter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

MIN_KEEP_DAYS = 184
"""Six months, whichever six: the longest six calendar months (July to December) have 184
days, so a policy of at least this many days always keeps six months."""


def earliest_cutoff(now: datetime) -> datetime:
    """The latest moment before which entries may be purged at ``now``: six months ago."""
    return now - relativedelta(months=6)


@attrs.frozen
class RetentionPolicy:
    """Keep audit entries for ``keep_days`` days (default and minimum: six months)."""

    keep_days: int = attrs.field(default=MIN_KEEP_DAYS, converter=conv.integer(minimum=1))

    @keep_days.validator
    def _at_least_six_months(self, attribute: object, value: int) -> None:
        if value < MIN_KEEP_DAYS:
            raise ValidationError(
                "keep_days",
                f"audit entries are kept at least six months ({MIN_KEEP_DAYS} days)",
                value=value,
            )

    def cutoff(self, now: datetime) -> datetime:
        """Entries older than this moment may be purged at ``now``."""
        checked = conv.check_datetime(now, "now", required=True)
        assert checked is not None
        return checked - timedelta(days=self.keep_days)


def check_cutoff(older_than: datetime, now: datetime) -> datetime:
    """``older_than`` if purging before it keeps six months of entries at ``now``."""
    cutoff = conv.check_datetime(older_than, "older_than", required=True)
    assert cutoff is not None
    if cutoff > earliest_cutoff(now):
        raise ValidationError(
            "older_than",
            f"audit entries are kept at least six months; {cutoff.isoformat()} is too recent",
            value=older_than,
        )
    return cutoff
