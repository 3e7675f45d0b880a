"""Scopes: which customers a session may see, as a predicate the stores compile into queries.

A scope is data, not a function, so every store can enforce it where the rows are: SQL
stores turn it into a ``WHERE`` clause, the memory store into the same test inside its own
query. The vocabulary is deliberately small: customers whose owner, team or region is in a
set, everything, nothing, and ``|`` / ``&`` to combine them. Records that belong to a customer
(contacts, orders, tickets, ...) are visible exactly when their customer is.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

import attrs

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

SCOPE_FIELDS = ("owner", "team", "region")
"""The customer fields a scope may test."""

MAX_VALUES = 10_000
"""Values per set: a scope is a rule about people and places, not a list of records."""


class Scope(abc.ABC):
    """Which customers are in reach. Build scopes with the class methods and combine them
    with ``|`` (either) and ``&`` (both)."""

    __slots__ = ()

    @staticmethod
    def all() -> Scope:
        """Every customer: the scope of an admin."""
        return EVERYTHING

    @staticmethod
    def none() -> Scope:
        """No customer at all."""
        return NOTHING

    @staticmethod
    def owners(*names: str) -> Scope:
        """Customers whose ``owner`` is one of ``names``."""
        return FieldIn.of("owner", names)

    @staticmethod
    def teams(*names: str) -> Scope:
        """Customers whose ``team`` is one of ``names``."""
        return FieldIn.of("team", names)

    @staticmethod
    def regions(*names: str) -> Scope:
        """Customers whose ``region`` is one of ``names``."""
        return FieldIn.of("region", names)

    @abc.abstractmethod
    def allows(self, customer: Customer) -> bool:
        """Whether ``customer`` is in this scope (the memory store's form of the query)."""

    @property
    def unrestricted(self) -> bool:
        """True for the scope of everything, which stores need not filter by at all."""
        return False

    def __or__(self, other: object) -> Scope:
        return AnyOf.of((self, check_scope(other, "scope")))

    def __and__(self, other: object) -> Scope:
        return AllOf.of((self, check_scope(other, "scope")))


@attrs.frozen
class Everything(Scope):
    def allows(self, customer: Customer) -> bool:
        return True

    @property
    def unrestricted(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "Scope.all()"


@attrs.frozen
class Nothing(Scope):
    def allows(self, customer: Customer) -> bool:
        return False

    def __repr__(self) -> str:
        return "Scope.none()"


EVERYTHING: Scope = Everything()
NOTHING: Scope = Nothing()


@attrs.frozen
class FieldIn(Scope):
    """Customers whose ``field`` (one of :data:`SCOPE_FIELDS`) is one of ``values``."""

    field: str
    values: frozenset[str]

    @classmethod
    def of(cls, field: str, values: Iterable[Any]) -> Scope:
        if field not in SCOPE_FIELDS:
            raise ValidationError("scope", f"cannot scope by {field!r} ({', '.join(SCOPE_FIELDS)})")
        if isinstance(values, str):
            values = (values,)
        checked: set[str] = set()
        for value in values:
            text = conv.check_text(value, field, max_length=120, required=True)
            assert text is not None
            checked.add(check_storable(text, field))
            if len(checked) > MAX_VALUES:
                raise ValidationError(field, f"a scope takes at most {MAX_VALUES} values")
        return cls(field, frozenset(checked)) if checked else NOTHING

    def allows(self, customer: Customer) -> bool:
        return getattr(customer, self.field) in self.values

    def __repr__(self) -> str:
        return f"Scope.{self.field}s({', '.join(repr(v) for v in sorted(self.values))})"


@attrs.frozen
class AnyOf(Scope):
    """Customers in at least one of ``parts``."""

    parts: tuple[Scope, ...]

    @classmethod
    def of(cls, parts: Iterable[Scope]) -> Scope:
        flat: list[Scope] = []
        for part in parts:
            if part.unrestricted:
                return EVERYTHING
            if isinstance(part, AnyOf):
                flat.extend(p for p in part.parts if p not in flat)
            elif part is not NOTHING and part not in flat:
                flat.append(part)
        if not flat:
            return NOTHING
        return flat[0] if len(flat) == 1 else cls(tuple(flat))

    def allows(self, customer: Customer) -> bool:
        return any(part.allows(customer) for part in self.parts)

    def __repr__(self) -> str:
        return "(" + " | ".join(repr(p) for p in self.parts) + ")"


@attrs.frozen
class AllOf(Scope):
    """Customers in every one of ``parts``."""

    parts: tuple[Scope, ...]

    @classmethod
    def of(cls, parts: Iterable[Scope]) -> Scope:
        flat: list[Scope] = []
        for part in parts:
            if part is NOTHING:
                return NOTHING
            if isinstance(part, AllOf):
                flat.extend(p for p in part.parts if p not in flat)
            elif not part.unrestricted and part not in flat:
                flat.append(part)
        if not flat:
            return EVERYTHING
        return flat[0] if len(flat) == 1 else cls(tuple(flat))

    def allows(self, customer: Customer) -> bool:
        return all(part.allows(customer) for part in self.parts)

    def __repr__(self) -> str:
        return "(" + " & ".join(repr(p) for p in self.parts) + ")"


def check_storable(text: str, field: str) -> str:
    """``text`` if every database can hold it: refuses lone surrogates (not Unicode text)
    and NUL characters (which PostgreSQL cannot store), so they never reach a driver."""
    if not conv.storable(text):
        conv.check_text(text, field, max_length=len(text), required=True)  # says which
    return text


def check_scope(value: object, field: str) -> Scope:
    if not isinstance(value, Scope):
        raise ValidationError(field, f"expected a pycrm.Scope, got {type(value).__name__}")
    return value
