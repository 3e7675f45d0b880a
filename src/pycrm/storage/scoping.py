"""Which entity types a scope restricts, and through which column.

A customer is tested itself; a record with a ``customer_id`` reference follows its
customer, and so does a record whose spec says it ``follows_customer`` without a reference
(a merge log, which outlives its survivor but holds the duplicates' personal data). Other
types (rep assignments, segments, calendars, ...) are the CRM's configuration, shared by
every actor, and no scope restricts them.
"""

from __future__ import annotations

from typing import Literal

from pycrm.storage.spec import SPEC_BY_TYPE, EntitySpec

Link = Literal["self", "customer_id"]


def customer_link(spec: EntitySpec) -> Link | None:
    """``"self"`` for customers, ``"customer_id"`` for their records, ``None`` otherwise."""
    if spec.entity_type == "customer":
        return "self"
    if spec.references.get("customer_id") == "customer" or spec.follows_customer:
        return "customer_id"
    return None


SCOPED_TYPES = frozenset(t for t, spec in SPEC_BY_TYPE.items() if customer_link(spec) is not None)
"""Entity types a scope restricts."""
