"""Rows to entities and back, one mapping per entity type.

``to_row`` functions are written out as dict literals: the bulk path runs them once per row,
and a literal is the cheapest way to build a row (no ``attrs.asdict``, no loops over field
lists). Empty collections are written as NULL, which saves JSON encoding on the bulk path and
reads back as the empty value. Enum members are written as ``member._value_`` (the plain
attribute behind ``.value``, which is a slower descriptor). Reading goes through the
entities' own constructors, so a damaged row is reported as a ``ValidationError`` instead of
producing a broken entity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from pycrm.contracts import Attachment, Contract, Instalment, PaymentPlan, Receipt
from pycrm.domain import (
    AuditEntry,
    Contact,
    Customer,
    Interaction,
    Money,
    Order,
    OrderLine,
    Task,
)
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import PointsEntry
from pycrm.grading.segment import Segment
from pycrm.merge.log import MergeLog
from pycrm.outbox.message import OutboxMessage
from pycrm.pipeline import (
    DealReview,
    Opportunity,
    RepAssignment,
    ResourceRequest,
    StageState,
    StageVisit,
    StoredExchangeRate,
    TeamSupervisor,
)
from pycrm.pipeline.targets import SalesTarget
from pycrm.service.definition import CalendarDefinition, Hours
from pycrm.service.ticket import Satisfaction, Ticket
from pycrm.service.turns import AgentTurn

Row = Mapping[Any, Any]
"""A result row by column name (SQLAlchemy's ``RowMapping`` or a plain dict)."""
RowDict = dict[str, Any]
T = TypeVar("T")


@attrs.frozen
class Children:
    """Rows of a child table that belong to one entity (a customer's tags, an order's lines)."""

    table: str
    """Attribute name on :class:`~pycrm.storage.sqlalchemy.tables.Tables`."""
    parent_column: str
    order_by: tuple[str, ...]
    rows: Callable[[Any], list[RowDict]]


def _children(value: Children | Sequence[Children] | None) -> tuple[Children, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, Children) else tuple(value)


@attrs.frozen
class EntityMapping:
    """How one entity type is stored: its table, row converters and child rows.

    ``from_row(row, *child_rows)`` gets one sequence of rows per entry of ``children``, in
    that order (a single empty one when the entity has no child tables).
    """

    entity_type: str
    table: str
    to_row: Callable[[Any], RowDict]
    from_row: Callable[..., Any]
    children: tuple[Children, ...] = attrs.field(default=(), converter=_children)


def _line_rows(
    parent_column: str, parent_id: str, customer_id: str, lines: Sequence[OrderLine]
) -> list[RowDict]:
    """Product lines of an order or a contract, numbered from 1."""
    return [
        {
            parent_column: parent_id,
            "line_no": number,
            "customer_id": customer_id,
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price_amount": line.unit_price.amount,
            "unit_price_currency": line.unit_price.currency,
        }
        for number, line in enumerate(lines, 1)
    ]


def _lines_from_rows(rows: Sequence[Row]) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(
            description=line["description"],
            quantity=line["quantity"],
            unit_price=Money(line["unit_price_amount"], line["unit_price_currency"]),
            sku=line["sku"],
        )
        for line in rows
    )


def _visit_rows(
    parent_column: str, parent_id: str, customer_id: str, state: StageState
) -> list[RowDict]:
    """A stage history (an opportunity's stages, a contract's approvals), one row a visit."""
    return [
        {
            parent_column: parent_id,
            "seq": seq,
            "customer_id": customer_id,
            "stage": visit.stage,
            "entered_at": visit.entered_at,
            "entered_by": visit.entered_by,
            "left_at": visit.left_at,
            "left_by": visit.left_by,
            "reason": visit.reason,
        }
        for seq, visit in enumerate(state.history, 1)
    ]


def _state_from_rows(rows: Sequence[Row]) -> StageState:
    return StageState(
        history=tuple(
            StageVisit(
                stage=visit["stage"],
                entered_at=visit["entered_at"],
                entered_by=visit["entered_by"],
                left_at=visit["left_at"],
                left_by=visit["left_by"],
                reason=visit["reason"],
            )
            for visit in rows
        )
    )


_INIT_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _init_fields(cls: type[Any]) -> tuple[str, ...]:
    found = _INIT_FIELDS.get(cls)
    if found is None:
        found = _INIT_FIELDS[cls] = tuple(a.name for a in attrs.fields(cls) if a.init)
    return found


def _from_columns(cls: type[T], row: Row, **overrides: Any) -> T:
    """``cls`` built from the columns named like its fields; ``overrides`` for the fields
    stored otherwise (Money in two columns, child rows). Reading is not the bulk path, so a
    loop over the field names is cheap enough and keeps one place per entity to change."""
    values = {name: row[name] for name in _init_fields(cls) if name not in overrides}
    values.update(overrides)
    return cls(**values)


# -- customers -----------------------------------------------------------------------------


def customer_row(c: Customer) -> RowDict:
    revenue = c.yearly_revenue
    gender = c.gender
    return {
        "id": c.id,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "kind": c.kind._value_,
        "name": c.name,
        "industry": c.industry,
        "employees": c.employees,
        "yearly_revenue_amount": None if revenue is None else revenue.amount,
        "yearly_revenue_currency": None if revenue is None else revenue.currency,
        "founded_on": c.founded_on,
        "website": c.website,
        "honorific": c.honorific,
        "gender": None if gender is None else gender._value_,
        "birthday": c.birthday,
        "employer": c.employer,
        "position": c.position,
        "region": c.region,
        "address": c.address,
        "phone": c.phone,
        "email": c.email,
        "source_channel": c.source_channel,
        "captured_at": c.captured_at,
        "priority": c.priority._value_,
        "owner": c.owner,
        "team": c.team,
        "status": c.status._value_,
        "churn_reason": c.churn_reason,
        "member_id": c.member_id,
        "custom_fields": c.custom_fields or None,
        "id_number": c.id_number,
        "phone_hash": c.phone_hash,
        "email_hash": c.email_hash,
        "id_number_hash": c.id_number_hash,
        "company_key": c.company_key,
        "birth_month_day": c.birth_month_day,
    }


def customer_tag_rows(c: Customer) -> list[RowDict]:
    customer_id = c.id
    return [{"customer_id": customer_id, "tag": tag} for tag in c.tags]


def customer_from_row(row: Row, tags: Sequence[Row]) -> Customer:
    amount = row["yearly_revenue_amount"]
    return _from_columns(
        Customer,
        row,
        yearly_revenue=None if amount is None else Money(amount, row["yearly_revenue_currency"]),
        tags=frozenset(t["tag"] for t in tags),
    )


# -- contacts ------------------------------------------------------------------------------


def contact_row(c: Contact) -> RowDict:
    return {
        "id": c.id,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "customer_id": c.customer_id,
        "name": c.name,
        "position": c.position,
        "is_decision_maker": c.is_decision_maker,
        "phone": c.phone,
        "email": c.email,
        "messaging_ids": c.messaging_ids or None,
        "notes": c.notes,
    }


def contact_from_row(row: Row, _: Sequence[Row] = ()) -> Contact:
    return _from_columns(Contact, row, is_decision_maker=bool(row["is_decision_maker"]))


# -- interactions --------------------------------------------------------------------------


def interaction_row(i: Interaction) -> RowDict:
    return {
        "id": i.id,
        "version": i.version,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "customer_id": i.customer_id,
        "channel": i.channel._value_,
        "occurred_at": i.occurred_at,
        "summary": i.summary,
        "contact_id": i.contact_id,
        "recorded_by": i.recorded_by,
        "needs": i.needs or None,
        "objections": i.objections or None,
        "commitments": i.commitments or None,
        "result": i.result,
        "next_action": i.next_action,
        "next_action_due": i.next_action_due,
    }


def interaction_from_row(row: Row, _: Sequence[Row] = ()) -> Interaction:
    return _from_columns(Interaction, row)


# -- tasks ---------------------------------------------------------------------------------


def task_row(t: Task) -> RowDict:
    return {
        "id": t.id,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "subject": t.subject,
        "due_at": t.due_at,
        "assignee": t.assignee,
        "customer_id": t.customer_id,
        "about": t.about,
        "kind": t.kind,
        "status": t.status._value_,
        "closed_at": t.closed_at,
        "notes": t.notes,
        "key": t.key,
    }


def task_from_row(row: Row, _: Sequence[Row] = ()) -> Task:
    return _from_columns(Task, row)


# -- orders --------------------------------------------------------------------------------


def order_row(o: Order) -> RowDict:
    total = o.total
    return {
        "id": o.id,
        "version": o.version,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
        "number": o.number,
        "customer_id": o.customer_id,
        "placed_at": o.placed_at,
        "total_amount": total.amount,
        "total_currency": total.currency,
        "status": o.status._value_,
    }


def order_line_rows(o: Order) -> list[RowDict]:
    return _line_rows("order_id", o.id, o.customer_id, o.lines)


def order_from_row(row: Row, lines: Sequence[Row]) -> Order:
    return _from_columns(
        Order,
        row,
        total=Money(row["total_amount"], row["total_currency"]),
        lines=_lines_from_rows(lines),
    )


# -- opportunities -------------------------------------------------------------------------


def opportunity_row(o: Opportunity) -> RowDict:
    amount = o.amount
    return {
        "id": o.id,
        "version": o.version,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
        "customer_id": o.customer_id,
        "title": o.title,
        "owner": o.owner,
        "assigned_at": o.assigned_at,
        "assigned_on": o.assigned_on,
        "is_open": o.is_open,
        "outcome": None if o.outcome is None else o.outcome.value,
        "grade": None if o.grade is None else o.grade.value,
        "team": o.team,
        "amount": amount.amount,
        "currency": amount.currency,
        "expected_close": o.expected_close,
        "source_channel": o.source_channel,
        "pipeline": o.pipeline,
        "stage": o.stage_state.history[-1].stage,
        "deliverables": sorted(o.deliverables) or None,
        "manual_probability": o.manual_probability,
        "lost_reason": o.lost_reason,
        "custom_fields": o.custom_fields or None,
        "review": None if o.review is None else o.review.to_json(),
        "closed_at": o.closed_at,
    }


def opportunity_visit_rows(o: Opportunity) -> list[RowDict]:
    return _visit_rows("opportunity_id", o.id, o.customer_id, o.stage_state)


def opportunity_from_row(row: Row, visits: Sequence[Row]) -> Opportunity:
    return _from_columns(
        Opportunity,
        row,
        amount=Money(row["amount"], row["currency"]),
        stage_state=_state_from_rows(visits),
        review=None if row["review"] is None else DealReview.from_json(row["review"]),
    )


# -- contracts and receipts ----------------------------------------------------------------


def contract_row(c: Contract) -> RowDict:
    amount = c.amount
    return {
        "id": c.id,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "number": c.number,
        "number_year": c.number_year,
        "customer_id": c.customer_id,
        "opportunity_id": c.opportunity_id,
        "amount": amount.amount,
        "currency": amount.currency,
        "start_on": c.start_on,
        "end_on": c.end_on,
        "terms": c.terms,
        "signer": c.signer,
        "signed_on": c.signed_on,
        "status": c.status._value_,
        "delivery_status": c.delivery_status._value_,
        "approval_stage": c.approval.history[-1].stage,
        "approval_levels": list(c.approval_levels) or None,
        "attachments": [{"name": a.name, "uri": a.uri} for a in c.attachments] or None,
    }


def contract_line_rows(c: Contract) -> list[RowDict]:
    return _line_rows("contract_id", c.id, c.customer_id, c.lines)


def contract_instalment_rows(c: Contract) -> list[RowDict]:
    if c.payment_plan is None:
        return []
    contract_id, customer_id = c.id, c.customer_id
    return [
        {
            "contract_id": contract_id,
            "seq": seq,
            "customer_id": customer_id,
            "due_on": item.due_on,
            "amount": item.amount.amount,
            "currency": item.amount.currency,
        }
        for seq, item in enumerate(c.payment_plan.instalments, 1)
    ]


def contract_visit_rows(c: Contract) -> list[RowDict]:
    return _visit_rows("contract_id", c.id, c.customer_id, c.approval)


def contract_from_row(
    row: Row, lines: Sequence[Row], instalments: Sequence[Row], visits: Sequence[Row]
) -> Contract:
    return _from_columns(
        Contract,
        row,
        amount=Money(row["amount"], row["currency"]),
        approval=_state_from_rows(visits),
        lines=_lines_from_rows(lines),
        payment_plan=PaymentPlan(
            instalments=[
                Instalment(due_on=item["due_on"], amount=Money(item["amount"], item["currency"]))
                for item in instalments
            ]
        )
        if instalments
        else None,
        attachments=[Attachment(name=a["name"], uri=a["uri"]) for a in row["attachments"] or ()],
    )


def rep_assignment_row(r: RepAssignment) -> RowDict:
    return {
        "id": r.id,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "rep": r.rep,
        "last_assigned_at": r.last_assigned_at,
        "last_opportunity_id": r.last_opportunity_id,
    }


def team_supervisor_row(t: TeamSupervisor) -> RowDict:
    return {
        "id": t.id,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "team": t.team,
        "supervisor": t.supervisor,
    }


def team_supervisor_from_row(row: Row, _: Sequence[Row] = ()) -> TeamSupervisor:
    return _from_columns(TeamSupervisor, row)


def exchange_rate_row(r: StoredExchangeRate) -> RowDict:
    return {
        "id": r.id,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "key": r.key,
        "base": r.base,
        "currency": r.currency,
        "on": r.on,
        "rate": format(r.rate, "f"),
    }


def exchange_rate_from_row(row: Row, _: Sequence[Row] = ()) -> StoredExchangeRate:
    return _from_columns(StoredExchangeRate, row)


def resource_request_row(r: ResourceRequest) -> RowDict:
    return {
        "id": r.id,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "opportunity_id": r.opportunity_id,
        "customer_id": r.customer_id,
        "department": r.department,
        "request": r.request,
        "requested_by": r.requested_by,
        "owner": r.owner,
        "respond_by": r.respond_by,
        "status": r.status.value,
        "answer": r.answer,
        "answered_at": r.answered_at,
    }


def resource_request_from_row(row: Row, _: Sequence[Row] = ()) -> ResourceRequest:
    return _from_columns(ResourceRequest, row)


def rep_assignment_from_row(row: Row, _: Sequence[Row] = ()) -> RepAssignment:
    return _from_columns(RepAssignment, row)


def receipt_row(r: Receipt) -> RowDict:
    amount = r.amount
    return {
        "id": r.id,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "contract_id": r.contract_id,
        "customer_id": r.customer_id,
        "amount": amount.amount,
        "currency": amount.currency,
        "received_at": r.received_at,
        "method": r.method._value_,
        "handler": r.handler,
        "account": r.account,
        "reference": r.reference,
    }


def receipt_from_row(row: Row, _: Sequence[Row] = ()) -> Receipt:
    return _from_columns(Receipt, row, amount=Money(row["amount"], row["currency"]))


# -- grading -------------------------------------------------------------------------------


def points_entry_row(e: PointsEntry) -> RowDict:
    return {
        "id": e.id,
        "version": e.version,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "customer_id": e.customer_id,
        "points": e.points,
        "kind": e.kind._value_,
        "occurred_at": e.occurred_at,
        "expires_at": e.expires_at,
        "order_id": e.order_id,
        "source": e.source,
        "reason": e.reason,
    }


def points_entry_from_row(row: Row, _: Sequence[Row] = ()) -> PointsEntry:
    return _from_columns(PointsEntry, row)


def customer_grade_row(g: CustomerGrade) -> RowDict:
    return {
        "id": g.id,
        "version": g.version,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
        "key": g.key,
        "customer_id": g.customer_id,
        "scheme": g.scheme,
        "grade": g.grade,
        "graded_at": g.graded_at,
        "next_follow_up_at": g.next_follow_up_at,
    }


def customer_grade_from_row(row: Row, _: Sequence[Row] = ()) -> CustomerGrade:
    return _from_columns(CustomerGrade, row)


def segment_row(s: Segment) -> RowDict:
    return {
        "id": s.id,
        "version": s.version,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "name": s.name,
        "rule": s.rule.to_data(),
        "description": s.description,
    }


def segment_from_row(row: Row, _: Sequence[Row] = ()) -> Segment:
    return _from_columns(Segment, row)


# -- service -------------------------------------------------------------------------------


def ticket_row(t: Ticket) -> RowDict:
    channel = t.channel
    rating = t.satisfaction
    return {
        "id": t.id,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "customer_id": t.customer_id,
        "contact_id": t.contact_id,
        "subject": t.subject,
        "description": t.description,
        "type": t.type,
        "priority": t.priority._value_,
        "channel": None if channel is None else channel._value_,
        "category": t.category,
        "group": t.group,
        "assignee": t.assignee,
        "assigned_at": t.assigned_at,
        "status": t.status_state.history[-1].stage,
        "is_open": t.is_open,
        "opened_at": t.status_state.history[0].entered_at,
        "first_response_at": t.first_response_at,
        "first_response_by": t.first_response_by,
        "resolved_at": t.resolved_at,
        "solution": t.solution,
        "linked_ticket_ids": sorted(t.linked_ticket_ids) or None,
        "satisfaction_score": None if rating is None else rating.score,
        "satisfaction_comment": None if rating is None else rating.comment,
        "rated_at": None if rating is None else rating.rated_at,
        "survey_requested_at": t.survey_requested_at,
        "custom_fields": t.custom_fields or None,
    }


def ticket_visit_rows(t: Ticket) -> list[RowDict]:
    return _visit_rows("ticket_id", t.id, t.customer_id, t.status_state)


def ticket_from_row(row: Row, visits: Sequence[Row]) -> Ticket:
    score = row["satisfaction_score"]
    return _from_columns(
        Ticket,
        row,
        status_state=_state_from_rows(visits),
        linked_ticket_ids=row["linked_ticket_ids"],
        satisfaction=None
        if score is None
        else Satisfaction(
            score=int(score), rated_at=row["rated_at"], comment=row["satisfaction_comment"]
        ),
    )


def agent_turn_row(a: AgentTurn) -> RowDict:
    return {
        "id": a.id,
        "version": a.version,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "key": a.key,
        "group": a.group,
        "agent": a.agent,
        "last_assigned_at": a.last_assigned_at,
        "last_ticket_id": a.last_ticket_id,
    }


def agent_turn_from_row(row: Row, _: Sequence[Row] = ()) -> AgentTurn:
    return _from_columns(AgentTurn, row)


def _hours_json(hours: Hours) -> list[list[str]]:
    return [[start, end] for start, end in hours]


def calendar_row(c: CalendarDefinition) -> RowDict:
    return {
        "id": c.id,
        "version": c.version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "name": c.name,
        "timezone": c.timezone,
        "week": {str(day): _hours_json(hours) for day, hours in c.week.items()},
        "country": c.country,
        "subdiv": c.subdiv,
        "holidays": sorted(day.isoformat() for day in c.holidays) or None,
        "workdays": {
            day.isoformat(): None if hours is None else _hours_json(hours)
            for day, hours in sorted(c.workdays.items())
        }
        or None,
    }


def calendar_from_row(row: Row, _: Sequence[Row] = ()) -> CalendarDefinition:
    # The definition's converters read JSON's text keys, ISO dates and lists back.
    return _from_columns(CalendarDefinition, row)


def merge_log_row(m: MergeLog) -> RowDict:
    return {
        "id": m.id,
        "version": m.version,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "customer_id": m.customer_id,
        "survivor_before": m.survivor_before,
        "survivor_after": m.survivor_after,
        "duplicates": list(m.duplicates),
        "moved": [moved.to_data() for moved in m.moved] or None,
        "dropped": list(m.dropped) or None,
        "merged_at": m.merged_at,
        "merged_by": m.merged_by,
        "undone_at": m.undone_at,
        "undone_by": m.undone_by,
    }


def merge_log_from_row(row: Row, _: Sequence[Row] = ()) -> MergeLog:
    return _from_columns(MergeLog, row, moved=row["moved"] or (), dropped=row["dropped"] or ())


# -- outbox --------------------------------------------------------------------------------


def outbox_message_row(m: OutboxMessage) -> RowDict:
    return {
        "id": m.id,
        "version": m.version,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "channel": m.channel,
        "recipient": m.recipient,
        "subject": m.subject,
        "body": m.body,
        "key": m.key,
        "customer_id": m.customer_id,
        "status": m.status._value_,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at,
        "claimed_by": m.claimed_by,
        "claim": m.claim,
        "claimed_until": m.claimed_until,
        "sent_at": m.sent_at,
        "last_error": m.last_error,
    }


def outbox_message_from_row(row: Row, _: Sequence[Row] = ()) -> OutboxMessage:
    return _from_columns(OutboxMessage, row)


# -- sales targets -------------------------------------------------------------------------


def sales_target_row(t: SalesTarget) -> RowDict:
    return {
        "id": t.id,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "key": t.key,
        "rep": t.rep,
        "team": t.team,
        "period": t.period,
        "amount": t.amount.amount,
        "currency": t.amount.currency,
    }


def sales_target_from_row(row: Row, _: Sequence[Row] = ()) -> SalesTarget:
    return _from_columns(SalesTarget, row, amount=Money(row["amount"], row["currency"]))


# -- audit ---------------------------------------------------------------------------------


def audit_row(e: AuditEntry) -> RowDict:
    return {
        "id": e.id,
        "at": e.at,
        "actor": e.actor,
        "action": e.action._value_,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "customer_id": e.customer_id,
        "changes": e.changes,
    }


def audit_from_row(row: Row) -> AuditEntry:
    return _from_columns(AuditEntry, row)


MAPPINGS: Mapping[str, EntityMapping] = {
    m.entity_type: m
    for m in (
        EntityMapping(
            "customer",
            "customers",
            customer_row,
            customer_from_row,
            Children("customer_tags", "customer_id", ("customer_id", "tag"), customer_tag_rows),
        ),
        EntityMapping("contact", "contacts", contact_row, contact_from_row),
        EntityMapping("interaction", "interactions", interaction_row, interaction_from_row),
        EntityMapping("task", "tasks", task_row, task_from_row),
        EntityMapping(
            "order",
            "orders",
            order_row,
            order_from_row,
            Children("order_lines", "order_id", ("order_id", "line_no"), order_line_rows),
        ),
        EntityMapping(
            "opportunity",
            "opportunities",
            opportunity_row,
            opportunity_from_row,
            Children(
                "opportunity_stage_visits",
                "opportunity_id",
                ("opportunity_id", "seq"),
                opportunity_visit_rows,
            ),
        ),
        EntityMapping(
            "contract",
            "contracts",
            contract_row,
            contract_from_row,
            (
                Children(
                    "contract_lines", "contract_id", ("contract_id", "line_no"), contract_line_rows
                ),
                Children(
                    "contract_instalments",
                    "contract_id",
                    ("contract_id", "seq"),
                    contract_instalment_rows,
                ),
                Children(
                    "contract_approval_visits",
                    "contract_id",
                    ("contract_id", "seq"),
                    contract_visit_rows,
                ),
            ),
        ),
        EntityMapping("receipt", "receipts", receipt_row, receipt_from_row),
        EntityMapping(
            "rep_assignment", "rep_assignments", rep_assignment_row, rep_assignment_from_row
        ),
        EntityMapping(
            "team_supervisor", "team_supervisors", team_supervisor_row, team_supervisor_from_row
        ),
        EntityMapping("exchange_rate", "exchange_rates", exchange_rate_row, exchange_rate_from_row),
        EntityMapping(
            "resource_request",
            "resource_requests",
            resource_request_row,
            resource_request_from_row,
        ),
        EntityMapping("points_entry", "points_entries", points_entry_row, points_entry_from_row),
        EntityMapping(
            "customer_grade", "customer_grades", customer_grade_row, customer_grade_from_row
        ),
        EntityMapping("segment", "segments", segment_row, segment_from_row),
        EntityMapping(
            "ticket",
            "tickets",
            ticket_row,
            ticket_from_row,
            Children("ticket_status_visits", "ticket_id", ("ticket_id", "seq"), ticket_visit_rows),
        ),
        EntityMapping("agent_turn", "agent_turns", agent_turn_row, agent_turn_from_row),
        EntityMapping(
            "outbox_message", "outbox_messages", outbox_message_row, outbox_message_from_row
        ),
        EntityMapping("calendar", "calendars", calendar_row, calendar_from_row),
        EntityMapping("merge_log", "merge_logs", merge_log_row, merge_log_from_row),
        EntityMapping("sales_target", "sales_targets", sales_target_row, sales_target_from_row),
    )
}
"""Entity type (as in ``pycrm.storage.spec.SPECS``) -> its mapping."""
