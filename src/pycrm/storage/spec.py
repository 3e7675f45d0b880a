"""What each store must know about each entity type: filters, unique keys, references.

Both the memory store and the SQL store read these specs, which is how they agree on which
queries exist and which constraints hold.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pycrm.contracts import Contract, Receipt
from pycrm.domain import Contact, Customer, Entity, Interaction, Order, Task
from pycrm.pipeline import Opportunity


@attrs.frozen
class EntitySpec:
    """``filters``: fields (or properties) ``list``/``count`` accept for equality.
    ``unique``: fields no two stored entities may share (``None`` excepted). ``references``:
    field -> entity type it points at (checked on add and update)."""

    entity_type: str
    cls: type[Entity]
    repository: str
    filters: frozenset[str]
    unique: tuple[str, ...] = ()
    references: Mapping[str, str] = attrs.field(factory=dict)


SPECS: tuple[EntitySpec, ...] = (
    EntitySpec(
        "customer",
        Customer,
        "customers",
        frozenset(
            {
                "kind",
                "status",
                "priority",
                "owner",
                "team",
                "region",
                "industry",
                "source_channel",
                "member_id",
            }
        ),
        unique=("member_id",),
    ),
    EntitySpec(
        "contact",
        Contact,
        "contacts",
        frozenset({"customer_id", "is_decision_maker"}),
        references={"customer_id": "customer"},
    ),
    EntitySpec(
        "interaction",
        Interaction,
        "interactions",
        frozenset({"customer_id", "contact_id", "channel", "recorded_by"}),
        references={"customer_id": "customer", "contact_id": "contact"},
    ),
    EntitySpec(
        "task",
        Task,
        "tasks",
        frozenset({"customer_id", "assignee", "status", "kind", "about"}),
        references={"customer_id": "customer"},
    ),
    EntitySpec(
        "order",
        Order,
        "orders",
        frozenset({"customer_id", "status", "number"}),
        unique=("number",),
        references={"customer_id": "customer"},
    ),
    EntitySpec(
        "opportunity",
        Opportunity,
        "opportunities",
        # ``stage`` is a property (the current visit's stage); SQL keeps it in a column.
        frozenset({"customer_id", "owner", "team", "pipeline", "stage"}),
        references={"customer_id": "customer"},
    ),
    EntitySpec(
        "contract",
        Contract,
        "contracts",
        # ``approval_stage`` is a property (the current approval visit); SQL keeps a column.
        frozenset(
            {
                "customer_id",
                "status",
                "opportunity_id",
                "number",
                "number_year",
                "approval_stage",
                "delivery_status",
            }
        ),
        unique=("number",),
        references={"customer_id": "customer", "opportunity_id": "opportunity"},
    ),
    EntitySpec(
        "receipt",
        Receipt,
        "receipts",
        frozenset({"contract_id", "customer_id"}),
        references={"contract_id": "contract", "customer_id": "customer"},
    ),
)

SPEC_BY_TYPE: Mapping[str, EntitySpec] = {spec.entity_type: spec for spec in SPECS}

DEPENDENTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    target: tuple(
        (spec.entity_type, field)
        for spec in SPECS
        for field, referenced in spec.references.items()
        if referenced == target
    )
    for target in SPEC_BY_TYPE
}
"""Entity type -> ``(dependent type, field)`` pairs that point at it."""
