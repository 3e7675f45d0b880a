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
from pycrm.service.definition import CalendarDefinition
from pycrm.service.dispatch import (
    Dispatch,
    DispatchRule,
    DispatchRules,
    DispatchStrategy,
    ServiceGroup,
    choose_agent,
    decide,
    route,
)
from pycrm.service.history import ServiceHistory, service_history
from pycrm.service.lifecycle import (
    assign_ticket,
    link_tickets,
    move_ticket,
    open_ticket,
    rate_ticket,
    resolve_ticket,
    respond,
)
from pycrm.service.policy import DEFAULT_CALENDAR, SlaPolicies, SlaPolicy, default_policies
from pycrm.service.repeats import DEFAULT_REPEAT_WINDOW, RepeatComplaint, repeat_complaints
from pycrm.service.sla import SlaClock, SlaState, TicketSla, sla_clock, ticket_sla
from pycrm.service.status import PAUSED_STATUSES, TICKETS, TicketStatus, ticket_machine
from pycrm.service.ticket import TICKET_TYPES, Satisfaction, Ticket, TicketPriority
from pycrm.service.turns import AgentTurn

__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_REPEAT_WINDOW",
    "PAUSED_STATUSES",
    "STANDARD_HOURS",
    "TICKETS",
    "TICKET_TYPES",
    "AgentTurn",
    "BusinessCalendar",
    "CalendarDefinition",
    "Dispatch",
    "DispatchRule",
    "DispatchRules",
    "DispatchStrategy",
    "RepeatComplaint",
    "Satisfaction",
    "ServiceGroup",
    "ServiceHistory",
    "SlaClock",
    "SlaPolicies",
    "SlaPolicy",
    "SlaState",
    "Ticket",
    "TicketPriority",
    "TicketSla",
    "TicketStatus",
    "always_open",
    "assign_ticket",
    "china_calendar",
    "choose_agent",
    "country_calendar",
    "decide",
    "default_policies",
    "link_tickets",
    "move_ticket",
    "open_ticket",
    "rate_ticket",
    "repeat_complaints",
    "resolve_ticket",
    "respond",
    "route",
    "service_history",
    "sla_clock",
    "ticket_machine",
    "ticket_sla",
]
