"""Checking an :class:`Aggregation` against what a store can group and sum, and its filters
as a repository checks them, before a store sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.aggregate import CUSTOMER_PREFIX, Aggregation, Count, Sum
from pycrm.errors import ValidationError
from pycrm.storage.spec import SPEC_BY_TYPE, EntitySpec

if TYPE_CHECKING:
    from pycrm.repository import Repository
    from pycrm.session import Session

SEALED = frozenset({"phone", "email"})
"""Fields that may be encrypted at rest: no use grouping by them."""


def _readable(spec: EntitySpec) -> frozenset[str]:
    return (spec.filters | spec.ranges | spec.values) - SEALED


def checked(session: Session, aggregation: Aggregation) -> Aggregation:
    """``aggregation`` with its fields known and its filter values normalised."""
    if not isinstance(aggregation, Aggregation):
        raise ValidationError(
            "aggregation", f"expected a pycrm.analytics.Aggregation, got {aggregation!r}"
        )
    spec = SPEC_BY_TYPE.get(aggregation.entity)
    if spec is None:
        raise ValidationError("entity", f"must be one of {sorted(SPEC_BY_TYPE)}")
    customer_spec = SPEC_BY_TYPE["customer"]
    linked = spec.entity_type == "customer" or spec.references.get("customer_id") == "customer"

    def check_field(field: str, *, summed: bool) -> None:
        target, name = spec, field
        if field.startswith(CUSTOMER_PREFIX):
            if not linked:
                raise ValidationError(field, f"a {spec.entity_type} has no customer to read")
            target, name = customer_spec, field[len(CUSTOMER_PREFIX) :]
        allowed = target.summable if summed else _readable(target)
        if name not in allowed:
            what = "sum" if summed else "group or count"
            known = ", ".join(sorted(allowed))
            raise ValidationError(
                field, f"cannot {what} {target.entity_type} records by it ({known})"
            )

    for field in aggregation.group_by:
        check_field(field, summed=False)
    for measure in aggregation.measures:
        if not isinstance(measure, Count):
            check_field(measure.field, summed=isinstance(measure, Sum))
    own: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for field, value in aggregation.filters.items():
        if field.startswith(CUSTOMER_PREFIX):
            if not linked:
                raise ValidationError(field, f"a {spec.entity_type} has no customer to filter by")
            theirs[field[len(CUSTOMER_PREFIX) :]] = value
        else:
            own[field] = value
    repository: Repository[Any] = getattr(session, spec.repository)
    filters = dict(repository._filters(own))
    if theirs:
        filters.update(
            {CUSTOMER_PREFIX + k: v for k, v in session.customers._filters(theirs).items()}
        )
    return attrs.evolve(aggregation, filters=filters)
