"""Actors: who a session acts for, and the scope their role gives them.

A session opened with a plain string (``crm.session(actor="import-job")``) is a system or
integration actor: it is recorded in the audit log and sees everything. A session opened with
an :class:`Actor` sees only what the actor's scope allows: a rep their own customers, a
supervisor their teams' customers, an admin all of them. Hosts can decide scopes themselves
through the ``pycrm_authorize`` hook.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from pycrm.access.scope import Scope
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


class Role(str, enum.Enum):
    REP = "rep"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


def check_teams(value: Any) -> frozenset[str]:
    """Team names as ``Customer.team`` holds them (stripped text of up to 120 characters)."""
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("teams", f"expected a collection of team names, got {value!r}")
    teams = set()
    for team in value:
        text = conv.check_text(team, "teams", max_length=120, required=True)
        assert text is not None
        teams.add(text)
    return frozenset(teams)


@attrs.frozen
class Actor:
    """A person (or service) a session acts for.

    ``name`` is what the audit log records and what ``Customer.owner`` holds for a rep's own
    customers; ``teams`` are the ``Customer.team`` values a supervisor looks after.
    """

    name: str = attrs.field(converter=conv.text(120))
    role: Role = attrs.field(default=Role.REP, converter=conv.choice(Role))
    teams: frozenset[str] = attrs.field(factory=frozenset, converter=check_teams)


def builtin_scope(actor: Actor) -> Scope:
    """The scope pycrm gives ``actor`` when no plugin decides: by role."""
    if actor.role is Role.ADMIN:
        return Scope.all()
    if actor.role is Role.SUPERVISOR:
        return Scope.teams(*actor.teams)
    return Scope.owners(actor.name)
