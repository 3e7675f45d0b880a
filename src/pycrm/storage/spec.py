"""What each store must know about each entity type: filters, unique keys, references.

Both the memory store and the SQL store read these specs, which is how they agree on which
queries exist and which constraints hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pycrm.contracts import Contract, Receipt
from pycrm.domain import Contact, Customer, Entity, Interaction, Order, Task
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import PointsEntry
from pycrm.grading.segment import Segment
from pycrm.merge.log import MergeLog
from pycrm.outbox.message import OutboxMessage
from pycrm.pipeline import (
    Opportunity,
    RepAssignment,
    ResourceRequest,
    StoredExchangeRate,
    TeamSupervisor,
)
from pycrm.pipeline.targets import SalesTarget
from pycrm.service.definition import CalendarDefinition
from pycrm.service.ticket import Ticket
from pycrm.service.turns import AgentTurn

_MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


def check_month_day(value: Any, field: str) -> str:
    """A ``"MM-DD"`` filter value (``Customer.birth_month_day``)."""
    if not isinstance(value, str) or _MONTH_DAY.fullmatch(value) is None:
        raise ValidationError(field, "expected a month and day as 'MM-DD'", value=value)
    return value


def _moment(value: Any, field: str) -> Any:
    """A range bound on a property holding a moment (a ticket's ``opened_at``)."""
    return conv.check_datetime(value, field, required=True)


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class EntitySpec:
    """``filters``: fields (or properties) ``list``/``count`` accept for equality (and for
    :class:`pycrm.OneOf`); ``ranges``: ordered fields they accept a :class:`pycrm.Range` on;
    ``values``: further columns aggregations may group by (amounts, currencies);
    ``summable``: the numeric ones among all these, which a ``Sum`` may add up.
    ``unique``: fields no two stored entities may share (``None`` excepted). ``references``:
    field -> entity type it points at (checked on add and update). ``derived``: for filters
    on properties rather than fields, property -> check ``(value, name) -> value`` giving the
    filter value its type (text if not listed), so memory and SQL compare alike.
    ``follows_customer``: the record's ``customer_id`` puts it in its customer's access scope
    even though no reference checks it (set for records that outlive their customer)."""

    entity_type: str
    cls: type[Entity]
    repository: str
    filters: frozenset[str]
    unique: tuple[str, ...] = ()
    references: Mapping[str, str] = attrs.field(factory=dict)
    derived: Mapping[str, Callable[[Any, str], Any]] = attrs.field(factory=dict)
    ranges: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    values: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    summable: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    follows_customer: bool = False

    def __attrs_post_init__(self) -> None:
        # Every type's bookkeeping times are ordered; SQL keeps them in columns of their own.
        object.__setattr__(self, "ranges", self.ranges | {"created_at", "updated_at"})


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
                "email",
                "phone",
                # Derived identity fields (pycrm.identity): what matching looks up.
                "phone_hash",
                "email_hash",
                "id_number_hash",
                "company_key",
                "birth_month_day",
            }
        ),
        unique=("member_id",),
        derived={"birth_month_day": check_month_day},
        ranges={"birthday", "captured_at", "birth_month_day"},
        values={
            "gender",
            "employees",
            "yearly_revenue_amount",
            "yearly_revenue_currency",
            "churn_reason",
        },
        summable={"employees", "yearly_revenue_amount"},
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
        ranges={"occurred_at", "next_action_due"},
    ),
    EntitySpec(
        "task",
        Task,
        "tasks",
        frozenset({"customer_id", "assignee", "status", "kind", "about", "key"}),
        # ``key`` names the occasion an automated task is for: one task per occasion.
        unique=("key",),
        references={"customer_id": "customer"},
        ranges={"due_at", "closed_at"},
    ),
    EntitySpec(
        "order",
        Order,
        "orders",
        frozenset({"customer_id", "status", "number"}),
        unique=("number",),
        references={"customer_id": "customer"},
        ranges={"placed_at"},
        values={"total_amount", "total_currency"},
        summable={"total_amount"},
    ),
    EntitySpec(
        "opportunity",
        Opportunity,
        "opportunities",
        # ``stage``, ``assigned_on`` and ``is_open`` are properties; SQL keeps them in columns.
        frozenset(
            {
                "customer_id",
                "owner",
                "team",
                "pipeline",
                "stage",
                "grade",
                "assigned_on",
                "is_open",
                "outcome",
            }
        ),
        references={"customer_id": "customer"},
        derived={"assigned_on": conv.check_date, "is_open": conv.check_bool},
        ranges={"assigned_on", "assigned_at", "expected_close", "closed_at"},
        values={"amount", "currency", "source_channel", "manual_probability", "lost_reason"},
        summable={"amount"},
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
        ranges={"start_on", "end_on", "signed_on"},
        values={"amount", "currency"},
        summable={"amount"},
    ),
    EntitySpec(
        "rep_assignment",
        RepAssignment,
        "rep_assignments",
        frozenset({"rep"}),
        unique=("rep",),
    ),
    EntitySpec(
        "team_supervisor",
        TeamSupervisor,
        "team_supervisors",
        frozenset({"team", "supervisor"}),
        unique=("team",),
    ),
    EntitySpec(
        "exchange_rate",
        StoredExchangeRate,
        "exchange_rates",
        frozenset({"base", "currency", "on"}),
        # ``key`` is base/currency/on: one rate per base, currency and day.
        unique=("key",),
    ),
    EntitySpec(
        "resource_request",
        ResourceRequest,
        "resource_requests",
        frozenset({"customer_id", "opportunity_id", "department", "owner", "status"}),
        references={"customer_id": "customer", "opportunity_id": "opportunity"},
        ranges={"respond_by"},
    ),
    EntitySpec(
        "receipt",
        Receipt,
        "receipts",
        frozenset({"contract_id", "customer_id"}),
        references={"contract_id": "contract", "customer_id": "customer"},
        ranges={"received_at"},
        values={"amount", "currency", "method"},
        summable={"amount"},
    ),
    EntitySpec(
        "points_entry",
        PointsEntry,
        "points",
        frozenset({"customer_id", "kind", "order_id", "source"}),
        # ``source`` is the idempotency key: an order's points are earned once.
        unique=("source",),
        references={"customer_id": "customer", "order_id": "order"},
        ranges={"occurred_at", "expires_at"},
        values={"points"},
        summable={"points"},
    ),
    EntitySpec(
        "customer_grade",
        CustomerGrade,
        "customer_grades",
        frozenset({"customer_id", "scheme", "grade", "key"}),
        # ``key`` is scheme/customer_id: one grade per customer and scheme.
        unique=("key",),
        references={"customer_id": "customer"},
        ranges={"next_follow_up_at", "graded_at"},
    ),
    EntitySpec("segment", Segment, "segments", frozenset({"name"}), unique=("name",)),
    EntitySpec(
        "ticket",
        Ticket,
        "tickets",
        # ``status`` and ``is_open`` are properties; SQL keeps them in columns.
        frozenset(
            {
                "customer_id",
                "contact_id",
                "status",
                "is_open",
                "type",
                "priority",
                "channel",
                "category",
                "group",
                "assignee",
            }
        ),
        references={"customer_id": "customer", "contact_id": "contact"},
        derived={"is_open": conv.check_bool, "opened_at": _moment, "rated_at": _moment},
        ranges={"opened_at", "resolved_at", "rated_at"},
        values={"satisfaction_score", "first_response_at"},
        summable={"satisfaction_score"},
    ),
    EntitySpec(
        "agent_turn",
        AgentTurn,
        "agent_turns",
        frozenset({"group", "agent", "key"}),
        # ``key`` is group/agent: one turn per agent and service group.
        unique=("key",),
    ),
    EntitySpec("calendar", CalendarDefinition, "calendars", frozenset({"name"}), unique=("name",)),
    # No reference to the survivor: the log outlives it (a later merge may remove it). It
    # holds the duplicates' personal data, so it is seen only where the survivor is.
    EntitySpec(
        "merge_log", MergeLog, "merge_logs", frozenset({"customer_id"}), follows_customer=True
    ),
    EntitySpec(
        "sales_target",
        SalesTarget,
        "sales_targets",
        frozenset({"rep", "team", "period", "key"}),
        # ``key`` is subject/name/period: one target per rep or team and period.
        unique=("key",),
        values={"amount", "currency"},
        summable={"amount"},
    ),
    EntitySpec(
        "outbox_message",
        OutboxMessage,
        "outbox",
        frozenset({"status", "channel", "key", "customer_id"}),
        # ``key`` is the idempotency key: one message per key.
        unique=("key",),
        references={"customer_id": "customer"},
        ranges={"next_attempt_at", "sent_at"},
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
