"""SLA policies: how fast each kind of ticket must be answered and solved, in working time.

A policy table is looked up by the ticket's type and priority, the most specific entry
winning, and must have a catch-all entry, so every ticket has a policy and a lookup can
never fail at 3 a.m. inside the automation tick. Policies name their calendar rather than
holding it, so the same table serves a host whose calendars live in the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import check_key
from pycrm.service.ticket import Ticket, TicketPriority

DEFAULT_CALENDAR = "china"
"""The calendar :func:`default_policies` count on unless told otherwise."""

DEFAULT_WARN_AT = Decimal("0.8")
"""Share of a target used up at which a clock warns."""


def _target(value: timedelta, field: str) -> timedelta:
    if not isinstance(value, timedelta):
        raise ValidationError(field, f"expected a timedelta, got {type(value).__name__}")
    if value <= timedelta(0):
        raise ValidationError(field, "must be positive", value=value)
    return value


def _respond_within(value: timedelta) -> timedelta:
    return _target(value, "respond_within")


def _resolve_within(value: timedelta) -> timedelta:
    return _target(value, "resolve_within")


def _calendar(value: str) -> str:
    return check_key(value, "calendar")


def _type(value: str | None) -> str | None:
    return None if value is None else check_key(value, "type")


def _priority(value: TicketPriority | str | None) -> TicketPriority | None:
    return None if value is None else conv.check_enum(value, "priority", TicketPriority)


def check_warn_at(value: Decimal | float | str) -> Decimal:
    """``value`` as a share strictly between 0 and 1, else ``ValidationError`` on ``warn_at``."""
    share = conv.check_decimal(value, "warn_at")
    if not Decimal(0) < share < Decimal(1):
        raise ValidationError("warn_at", "must lie between 0 and 1 (e.g. 0.8)", value=value)
    return share


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """Targets for tickets of one ``type`` and ``priority`` (``None`` matches any).

    A resolution answers the customer too, so ``resolve_within`` may not be shorter than
    ``respond_within``. ``warn_at`` is the share of a target after which its clock warns.
    """

    respond_within: timedelta = attrs.field(converter=_respond_within)
    resolve_within: timedelta = attrs.field(converter=_resolve_within)
    calendar: str = attrs.field(default=DEFAULT_CALENDAR, converter=_calendar)
    type: str | None = attrs.field(default=None, converter=_type)
    priority: TicketPriority | None = attrs.field(default=None, converter=_priority)
    warn_at: Decimal = attrs.field(default=DEFAULT_WARN_AT, converter=check_warn_at)

    def __attrs_post_init__(self) -> None:
        if self.resolve_within < self.respond_within:
            raise ValidationError(
                "resolve_within", "is shorter than respond_within", value=self.resolve_within
            )

    @property
    def scope(self) -> tuple[str | None, TicketPriority | None]:
        return (self.type, self.priority)


def _policies(value: Iterable[SlaPolicy]) -> tuple[SlaPolicy, ...]:
    if isinstance(value, (str, SlaPolicy)) or not isinstance(value, Iterable):
        raise ValidationError("policies", "expected a collection of SlaPolicy")
    policies = tuple(value)
    seen: set[tuple[str | None, TicketPriority | None]] = set()
    for policy in policies:
        if not isinstance(policy, SlaPolicy):
            raise ValidationError("policies", f"expected SlaPolicy, got {type(policy).__name__}")
        if policy.scope in seen:
            raise ValidationError("policies", f"two policies for {_describe(policy)}")
        seen.add(policy.scope)
    if (None, None) not in seen:
        raise ValidationError(
            "policies", "needs a catch-all policy (no type, no priority) so every ticket has one"
        )
    return policies


def _describe(policy: SlaPolicy) -> str:
    kind = policy.type or "any type"
    priority = policy.priority.value if policy.priority is not None else "any priority"
    return f"{kind}, {priority}"


@attrs.frozen
class SlaPolicies:
    """A policy table. :meth:`for_ticket` picks, in this order, the policy for the ticket's
    type and priority, for its priority alone, for its type alone, and the catch-all."""

    policies: tuple[SlaPolicy, ...] = attrs.field(converter=_policies)

    def lookup(self, type: str, priority: TicketPriority | str) -> SlaPolicy:
        """The policy for tickets of ``type`` and ``priority``."""
        kind = check_key(type, "type")
        level = conv.check_enum(priority, "priority", TicketPriority)
        by_scope = {policy.scope: policy for policy in self.policies}
        for scope in ((kind, level), (None, level), (kind, None), (None, None)):
            found = by_scope.get(scope)
            if found is not None:
                return found
        raise AssertionError("unreachable: the catch-all policy is checked on construction")

    def for_ticket(self, ticket: Ticket) -> SlaPolicy:
        if not isinstance(ticket, Ticket):
            raise ValidationError("ticket", f"expected Ticket, got {type(ticket).__name__}")
        return self.lookup(ticket.type, ticket.priority)

    @property
    def calendars(self) -> frozenset[str]:
        """Names of every calendar the table counts on."""
        return frozenset(policy.calendar for policy in self.policies)


def default_policies(calendar: str = DEFAULT_CALENDAR) -> SlaPolicies:
    """Respond within 2 working hours and resolve within 24; urgent tickets respond within 1.

    Counted on ``calendar`` (mainland China's office hours unless named otherwise).
    """
    hours = timedelta(hours=1)
    return SlaPolicies(
        (
            SlaPolicy(respond_within=2 * hours, resolve_within=24 * hours, calendar=calendar),
            SlaPolicy(
                priority=TicketPriority.URGENT,
                respond_within=hours,
                resolve_within=24 * hours,
                calendar=calendar,
            ),
        )
    )
