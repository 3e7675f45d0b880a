"""Who handles a new ticket: routing rules to a service group, then an agent within it.

Two separate questions, because they change for different reasons: *which group* depends on
the ticket (a fault goes to technical support, a complaint to the complaints desk) and is
configured once; *which agent* depends on who took the last tickets and who is busy, which
only the store knows. :func:`choose_agent` is therefore given those figures rather than
reading them, so its tie-breaks can be tested exhaustively;
:func:`pycrm.dispatching.dispatch_ticket` gathers them from stored rows, which keeps the
rotation fair across sessions and restarts.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from pycrm.domain import InteractionChannel
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import check_key
from pycrm.service.ticket import Ticket, TicketPriority

E = TypeVar("E", bound=enum.Enum)

NAME_LENGTH = 120
"""Longest group or agent name: what a ticket's ``group`` and ``assignee`` can hold."""


class DispatchStrategy(str, enum.Enum):
    """How a service group picks one of its agents (see :func:`choose_agent`)."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


def _name(value: Any, field: str) -> str:
    checked = conv.check_text(value, field, max_length=NAME_LENGTH, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _group_name(value: Any, field: str = "name") -> str:
    name = _name(value, field)
    if "/" in name:
        # An agent's turn is stored under "group/agent"; a slash would make keys ambiguous.
        raise ValidationError(field, "a group name cannot contain '/'", value=name)
    return name


def _collection(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, enum.Enum)) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a collection", value=value)
    return list(value)


def _agents(value: Iterable[str]) -> tuple[str, ...]:
    agents = tuple(_name(item, "agents") for item in _collection(value, "agents"))
    seen: set[str] = set()
    for agent in agents:
        if agent in seen:
            raise ValidationError("agents", f"{agent!r} is listed twice")
        seen.add(agent)
    return agents


def _away(value: Iterable[str] | None) -> frozenset[str]:
    return frozenset(_name(item, "away") for item in _collection(value, "away"))


def _strategy(value: DispatchStrategy | str) -> DispatchStrategy:
    return conv.check_enum(value, "strategy", DispatchStrategy)


@attrs.frozen
class ServiceGroup:
    """A team that takes one kind of ticket, and how it shares them out.

    ``away`` names agents who take nothing for now (on leave, in training); names that are
    not among ``agents`` are ignored, so one list of absentees can be given to every group.
    A group with no available agent still receives tickets: they wait in its queue.
    """

    name: str = attrs.field(converter=_group_name)
    agents: tuple[str, ...] = attrs.field(factory=tuple, converter=_agents)
    strategy: DispatchStrategy = attrs.field(
        default=DispatchStrategy.ROUND_ROBIN, converter=_strategy
    )
    away: frozenset[str] = attrs.field(factory=frozenset, converter=_away)

    @property
    def available(self) -> tuple[str, ...]:
        """The agents who can take a ticket now, in the order they were listed."""
        return tuple(agent for agent in self.agents if agent not in self.away)


def _members(value: Any, field: str, enum_type: type[E]) -> frozenset[E]:
    return frozenset(conv.check_enum(item, field, enum_type) for item in _collection(value, field))


def _types(value: Iterable[str]) -> frozenset[str]:
    return frozenset(check_key(item, "types") for item in _collection(value, "types"))


def _priorities(value: Iterable[TicketPriority | str]) -> frozenset[TicketPriority]:
    return _members(value, "priorities", TicketPriority)


def _channels(value: Iterable[InteractionChannel | str]) -> frozenset[InteractionChannel]:
    return _members(value, "channels", InteractionChannel)


def _categories(value: Iterable[str]) -> frozenset[str]:
    return frozenset(
        _name(item, "categories").casefold() for item in _collection(value, "categories")
    )


def _rule_group(value: str) -> str:
    return _group_name(value, "group")


@attrs.frozen
class DispatchRule:
    """Send tickets that match to ``group``.

    Each non-empty set must contain the ticket's value (categories compared ignoring case);
    an empty set places no limit, so a rule with no sets matches every ticket. A ticket
    without a channel or category never matches a rule that asks for one.
    """

    group: str = attrs.field(converter=_rule_group)
    types: frozenset[str] = attrs.field(factory=frozenset, converter=_types)
    priorities: frozenset[TicketPriority] = attrs.field(factory=frozenset, converter=_priorities)
    channels: frozenset[InteractionChannel] = attrs.field(factory=frozenset, converter=_channels)
    categories: frozenset[str] = attrs.field(factory=frozenset, converter=_categories)

    def matches(self, ticket: Ticket) -> bool:
        _check_ticket(ticket)
        category = None if ticket.category is None else ticket.category.casefold()
        return all(
            not wanted or value in wanted
            for wanted, value in (
                (self.types, ticket.type),
                (self.priorities, ticket.priority),
                (self.channels, ticket.channel),
                (self.categories, category),
            )
        )


def _groups(value: Iterable[ServiceGroup]) -> tuple[ServiceGroup, ...]:
    groups = tuple(_collection(value, "groups"))
    seen: set[str] = set()
    for group in groups:
        if not isinstance(group, ServiceGroup):
            raise ValidationError("groups", f"expected ServiceGroup, got {type(group).__name__}")
        if group.name in seen:
            raise ValidationError("groups", f"{group.name!r} is defined twice")
        seen.add(group.name)
    return groups


def _rules(value: Iterable[DispatchRule]) -> tuple[DispatchRule, ...]:
    rules = tuple(_collection(value, "rules"))
    for rule in rules:
        if not isinstance(rule, DispatchRule):
            raise ValidationError("rules", f"expected DispatchRule, got {type(rule).__name__}")
    return rules


def _default_group(value: str | None) -> str | None:
    return None if value is None else _group_name(value, "default_group")


@attrs.frozen
class DispatchRules:
    """The service groups and the rules that route tickets to them.

    Rules are tried in order and the first that matches wins, so list the narrow ones
    first; a ticket no rule matches goes to ``default_group`` (or to no group, if ``None``).
    Every group a rule or the default names must be among ``groups``.
    """

    groups: tuple[ServiceGroup, ...] = attrs.field(converter=_groups)
    rules: tuple[DispatchRule, ...] = attrs.field(factory=tuple, converter=_rules)
    default_group: str | None = attrs.field(default=None, converter=_default_group)

    def __attrs_post_init__(self) -> None:
        names = {group.name for group in self.groups}
        for rule in self.rules:
            if rule.group not in names:
                raise ValidationError("rules", f"a rule names undefined group {rule.group!r}")
        if self.default_group is not None and self.default_group not in names:
            raise ValidationError(
                "default_group", f"{self.default_group!r} is not one of the groups"
            )

    def group(self, name: str) -> ServiceGroup | None:
        """The group called ``name``, or ``None``."""
        return next((group for group in self.groups if group.name == name), None)


def _optional_name(value: str | None, field: str) -> str | None:
    return None if value is None else _name(value, field)


def _dispatch_group(value: str | None) -> str | None:
    return None if value is None else _group_name(value, "group")


def _assignee(value: str | None) -> str | None:
    return _optional_name(value, "assignee")


@attrs.frozen
class Dispatch:
    """Where a ticket goes: a service group and an agent, either of which may be ``None``.

    ``assignee=None`` leaves the ticket waiting in the group's queue; ``group=None`` leaves
    the ticket's group as it is. It is also what a ``pycrm_dispatch`` plugin returns, and
    its assignee need not belong to the group.
    """

    group: str | None = attrs.field(default=None, converter=_dispatch_group)
    assignee: str | None = attrs.field(default=None, converter=_assignee)


def route(ticket: Ticket, rules: DispatchRules) -> ServiceGroup | None:
    """The group of the first rule ``ticket`` matches, else the default group, else ``None``."""
    _check_ticket(ticket)
    _check_rules(rules)
    name = next((rule.group for rule in rules.rules if rule.matches(ticket)), rules.default_group)
    return None if name is None else rules.group(name)


def choose_agent(
    group: ServiceGroup,
    *,
    last_assigned: Mapping[str, datetime | None],
    open_load: Mapping[str, int],
    turns: Mapping[str, int] | None = None,
) -> str | None:
    """The available agent of ``group`` who should take the next ticket, or ``None``.

    Round robin takes the agent whose last assignment in this group is oldest, agents never
    assigned first, so agents take turns whatever order they are listed in. Equal times (a
    fixed clock in a test, two tickets in the same instant) go to the agent with fewer
    ``turns`` in the group, then by name. Least loaded takes the agent with the fewest open
    tickets, ties broken as round robin. Missing entries count as never assigned, no open
    tickets and no turns.
    """
    if not isinstance(group, ServiceGroup):
        raise ValidationError("group", f"expected ServiceGroup, got {type(group).__name__}")
    taken = turns or {}

    def turn_key(agent: str) -> tuple[bool, float, int, str]:
        last = last_assigned.get(agent)
        stamp = 0.0 if last is None else last.timestamp()
        return (last is not None, stamp, taken.get(agent, 0), agent)

    pool = group.available
    if not pool:
        return None
    if group.strategy is DispatchStrategy.LEAST_LOADED:
        return min(pool, key=lambda agent: (open_load.get(agent, 0), *turn_key(agent)))
    return min(pool, key=turn_key)


def decide(
    ticket: Ticket,
    rules: DispatchRules,
    *,
    last_assigned: Mapping[str, datetime | None],
    open_load: Mapping[str, int],
    turns: Mapping[str, int] | None = None,
) -> Dispatch:
    """Route ``ticket`` and choose its agent: :func:`route`, then :func:`choose_agent`.

    The figures are those of the group the ticket is routed to. No matching group gives
    ``Dispatch(None, None)``; a group without an available agent gives no assignee.
    """
    group = route(ticket, rules)
    if group is None:
        return Dispatch()
    agent = choose_agent(group, last_assigned=last_assigned, open_load=open_load, turns=turns)
    return Dispatch(group.name, agent)


def _check_ticket(value: object) -> Ticket:
    if not isinstance(value, Ticket):
        raise ValidationError("ticket", f"expected Ticket, got {type(value).__name__}")
    return value


def _check_rules(value: object) -> DispatchRules:
    if not isinstance(value, DispatchRules):
        raise ValidationError("rules", f"expected DispatchRules, got {type(value).__name__}")
    return value
