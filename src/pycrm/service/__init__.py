"""Customer service: tickets, business calendars, SLA policies and dispatch.

Service promises are measured in working time, so the business calendar comes first: a
pure value (weekly hours, holidays, make-up workdays, a time zone) that answers "when is
this due" and "how much working time has passed" without touching storage; tickets, SLA
policies and dispatch build on it.
"""

from pycrm.service.calendar import (
    STANDARD_HOURS,
    BusinessCalendar,
    always_open,
    china_calendar,
    country_calendar,
)
from pycrm.service.status import PAUSED_STATUSES, TICKETS, TicketStatus, ticket_machine

__all__ = [
    "PAUSED_STATUSES",
    "STANDARD_HOURS",
    "TICKETS",
    "BusinessCalendar",
    "TicketStatus",
    "always_open",
    "china_calendar",
    "country_calendar",
    "ticket_machine",
]
