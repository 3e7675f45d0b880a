"""What the service, payment and customer-care rules share: settings checks, the local day
a tick falls on, and reading the records a page is about in as few queries as filters take.

Dates decide these rules (an instalment due on the 3rd, a birthday on the 9th), and a date
depends on where it is read: each rule has a ``timezone`` setting, and the tick's moment is
turned into that zone's day before anything is compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.domain import Customer, Entity
from pycrm.domain import _convert as conv
from pycrm.erasure import pseudonym
from pycrm.errors import ValidationError
from pycrm.query import MAX_ONE_OF, OneOf

if TYPE_CHECKING:
    from pycrm.repository import Repository

E = TypeVar("E", bound=Entity)

DEFAULT_TIMEZONE = "UTC"
"""The zone dates are read in unless a rule is told otherwise."""

WORKDAY_START = time(9, 0)
"""When a date-only task falls due, and a dated message is sent: the start of a working day."""


def check_timezone(value: Any) -> str:
    """An IANA zone name (``"Asia/Shanghai"``), else ``ValidationError`` on ``timezone``."""
    name = conv.required_text(value, "timezone", 64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError("timezone", "is not a known time zone", value=value) from error
    return name


def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def check_days(*, minimum: int = 0, maximum: int = 3660) -> attrs.Converter:  # type: ignore[type-arg]
    """A converter for a whole number of days between ``minimum`` and ``maximum``."""

    def convert(value: Any, field: attrs.Attribute[Any]) -> int:
        days = conv.check_int(value, field.name, minimum=minimum, required=True)
        assert days is not None  # required=True never returns None
        if days > maximum:
            raise ValidationError(field.name, f"must be at most {maximum}", value=value)
        return days

    return attrs.Converter(convert, takes_field=True)


def check_period() -> attrs.Converter:  # type: ignore[type-arg]
    """A converter for a positive :class:`~dateutil.relativedelta.relativedelta` (a month,
    two weeks): calendar periods, so month ends stay right."""

    def convert(value: Any, field: attrs.Attribute[Any]) -> relativedelta:
        if not isinstance(value, relativedelta):
            raise ValidationError(
                field.name, f"expected a dateutil relativedelta, got {type(value).__name__}"
            )
        probe = date(2001, 1, 1)
        if probe + value <= probe:
            raise ValidationError(field.name, "must be a period forward in time", value=value)
        return value

    return attrs.Converter(convert, takes_field=True)


def local_day(moment: datetime, timezone: str) -> date:
    """The day ``moment`` falls on in ``timezone``."""
    return moment.astimezone(zone(timezone)).date()


def start_of(day: date, timezone: str) -> datetime:
    """The start of the working day ``day`` in ``timezone`` (:data:`WORKDAY_START`)."""
    return datetime.combine(day, WORKDAY_START, tzinfo=zone(timezone))


def is_erased(customer: Customer) -> bool:
    """Whether the person behind ``customer`` was erased on request: someone who asked to be
    forgotten is not someone to win back or sell to again."""
    return customer.name == pseudonym(customer)


def page_filter(values: Iterable[str]) -> OneOf:
    """A :class:`~pycrm.OneOf` of ``values``, each once, in a stable order."""
    return OneOf(sorted(set(values)))


def stream_by(
    repository: Repository[E], field: str, values: Iterable[str], **filters: Any
) -> Iterator[E]:
    """The records whose ``field`` is one of ``values``, :data:`~pycrm.query.MAX_ONE_OF` values
    a query, so a page of any size is read in as few queries as a filter may take."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), MAX_ONE_OF):
        chunk = OneOf(wanted[start : start + MAX_ONE_OF])
        yield from repository.stream(**{**filters, field: chunk})


def to_moment(day: date, timezone: str, now: datetime) -> datetime:
    """When something about ``day`` falls due: the start of that working day, or ``now`` if
    that has passed (a task is never created already overdue by hours)."""
    moment = start_of(day, timezone)
    return moment if moment > now else now


def human_duration(value: timedelta) -> str:
    """``1h 05m``: a working-time span as a message shows it, in any language."""
    minutes = max(int(value.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
