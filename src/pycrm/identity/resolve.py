"""What a set of identifiers says about who a customer is: one customer, nobody, or a
conflict that a person must look at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from pycrm.domain import Customer

RESOLVE_KEYS = ("member_id", "id_number", "phone", "email")
"""The identifiers :meth:`pycrm.CustomerRepository.resolve` takes, strongest first."""


@attrs.frozen
class Resolution:
    """The answer of :meth:`pycrm.CustomerRepository.resolve`.

    ``customer`` is set only when every identifier that matched anybody matched that one
    customer and nobody else; ``matched_on`` lists those identifiers, strongest first.
    ``matches`` maps each identifier given to the ids of the customers it found (empty when
    none). When identifiers disagree (the phone says A, the email says B) or one identifier
    fits several customers (existing duplicates), ``customer`` is ``None`` and ``conflicts``
    holds the disagreeing matches: the caller decides, nothing is guessed.
    """

    customer: Customer | None
    matched_on: tuple[str, ...]
    matches: Mapping[str, tuple[str, ...]]

    @property
    def conflicts(self) -> Mapping[str, tuple[str, ...]]:
        """Identifier -> customer ids, for the identifiers that matched, when they do not
        all point at one customer; empty otherwise."""
        if self.customer is not None:
            return {}
        return {key: ids for key, ids in self.matches.items() if ids}

    @property
    def found(self) -> bool:
        """One customer was identified."""
        return self.customer is not None

    @property
    def ambiguous(self) -> bool:
        """Identifiers matched, but not one customer: see :attr:`conflicts`."""
        return bool(self.conflicts)

    @property
    def candidate_ids(self) -> tuple[str, ...]:
        """Every customer some identifier matched, strongest identifier's first."""
        seen: dict[str, None] = {}
        for key in RESOLVE_KEYS:
            for customer_id in self.matches.get(key, ()):
                seen.setdefault(customer_id)
        return tuple(seen)


def decide(found: Mapping[str, Sequence[Customer]]) -> Resolution:
    """The resolution of ``found`` (identifier given -> customers it matched)."""
    matches = {key: tuple(c.id for c in found[key]) for key in RESOLVE_KEYS if key in found}
    ids = {customer_id for customer_ids in matches.values() for customer_id in customer_ids}
    if len(ids) != 1:
        return Resolution(None, (), matches)
    customer = next(c for key in RESOLVE_KEYS for c in found.get(key, ()))
    matched_on = tuple(key for key, customer_ids in matches.items() if customer_ids)
    return Resolution(customer, matched_on, matches)
