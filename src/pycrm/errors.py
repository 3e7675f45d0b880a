"""One exception hierarchy, so a host can catch ``PycrmError`` and know it came from us."""

from __future__ import annotations

from collections.abc import Mapping


class PycrmError(Exception):
    """Base class of every error pycrm raises on purpose."""


class ValidationError(PycrmError, ValueError):
    """A value was rejected; ``field`` names it and ``problem`` says why.

    Also a ``ValueError`` so generic host code that catches bad values keeps working.
    """

    def __init__(self, field: str, problem: str, *, value: object = None) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        super().__init__(f"{field}: {problem}")


class NotFound(PycrmError, LookupError):
    """No entity of that kind has that id."""

    def __init__(self, entity_type: str, entity_id: str) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        super().__init__(f"{entity_type} {entity_id!r} not found")


class AlreadyExists(PycrmError):
    """An entity with that id (or unique key) is already stored."""

    def __init__(self, entity_type: str, key: str) -> None:
        self.entity_type = entity_type
        self.key = key
        super().__init__(f"{entity_type} {key!r} already exists")


class ConcurrencyConflict(PycrmError):
    """Someone else changed or removed the entity since it was read; re-read and retry."""

    def __init__(self, entity_type: str, entity_id: str, expected_version: int) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.expected_version = expected_version
        super().__init__(
            f"{entity_type} {entity_id!r} was changed by someone else "
            f"(expected version {expected_version}); reload it and apply the change again"
        )


class IllegalTransition(PycrmError):
    """A state machine was asked to move along an edge it does not declare."""

    def __init__(self, machine: str, source: str, target: str) -> None:
        self.machine = machine
        self.source = source
        self.target = target
        super().__init__(f"{machine}: cannot move from {source!r} to {target!r}")


class GateRefused(PycrmError):
    """The move is declared, but its conditions are not met yet: deliverables of the stage
    being left are missing, or a guard refused. Unlike ``ValidationError`` nothing passed in
    is malformed; the subject needs work before it can move.
    """

    def __init__(
        self,
        machine: str,
        source: str,
        target: str,
        *,
        missing: tuple[str, ...] = (),
        refusals: Mapping[str, str] | None = None,
    ) -> None:
        self.machine = machine
        self.source = source
        self.target = target
        self.missing = missing
        self.refusals: Mapping[str, str] = dict(refusals or {})
        parts = []
        if missing:
            parts.append("missing deliverables " + ", ".join(repr(key) for key in missing))
        parts.extend(self.refusals.values())
        super().__init__(
            f"{machine}: cannot move from {source!r} to {target!r} yet: {'; '.join(parts)}"
        )


class IdentityConflict(PycrmError):
    """The identifiers given do not name one customer: the phone says one, the email
    another, or one of them fits several (duplicates). Nothing was guessed or written;
    ``conflicts`` maps each identifier that matched to the ids of the customers it found."""

    def __init__(self, conflicts: Mapping[str, tuple[str, ...]]) -> None:
        self.conflicts: Mapping[str, tuple[str, ...]] = dict(conflicts)
        named = "; ".join(f"{key} matches {', '.join(ids)}" for key, ids in self.conflicts.items())
        super().__init__(
            f"identifiers name more than one customer ({named}): merge the duplicates or "
            "decide by hand"
        )


class PermissionDenied(PycrmError):
    """The acting user may not do this."""


class SessionClosed(PycrmError):
    """A session (unit of work) was used after it committed or rolled back."""


class ConfigurationError(PycrmError):
    """pycrm was set up wrongly (bad URL, missing optional dependency, broken schema)."""


class DeliveryError(PycrmError):
    """A notification channel could not deliver a message; the cause is chained
    (``__cause__``) and the message may be retried."""

    def __init__(self, channel: str, problem: str) -> None:
        self.channel = channel
        self.problem = problem
        super().__init__(f"channel {channel!r}: {problem}")


class PluginError(PycrmError):
    """A plugin could not be loaded or registered."""

    def __init__(self, plugin: str, problem: str) -> None:
        self.plugin = plugin
        self.problem = problem
        super().__init__(f"plugin {plugin!r}: {problem}")
