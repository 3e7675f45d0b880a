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
from typing import Any

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

Row = Mapping[Any, Any]
"""A result row by column name (SQLAlchemy's ``RowMapping`` or a plain dict)."""
RowDict = dict[str, Any]


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
        "phone": c.phone,
        "email": c.email,
        "source_channel": c.source_channel,
        "captured_at": c.captured_at,
        "priority": c.priority._value_,
        "owner": c.owner,
        "team": c.team,
        "status": c.status._value_,
        "member_id": c.member_id,
        "custom_fields": c.custom_fields or None,
    }


def customer_tag_rows(c: Customer) -> list[RowDict]:
    customer_id = c.id
    return [{"customer_id": customer_id, "tag": tag} for tag in c.tags]


def customer_from_row(row: Row, tags: Sequence[Row]) -> Customer:
    amount = row["yearly_revenue_amount"]
    return Customer(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        kind=row["kind"],
        name=row["name"],
        industry=row["industry"],
        employees=row["employees"],
        yearly_revenue=None if amount is None else Money(amount, row["yearly_revenue_currency"]),
        founded_on=row["founded_on"],
        website=row["website"],
        honorific=row["honorific"],
        gender=row["gender"],
        birthday=row["birthday"],
        employer=row["employer"],
        position=row["position"],
        region=row["region"],
        phone=row["phone"],
        email=row["email"],
        source_channel=row["source_channel"],
        captured_at=row["captured_at"],
        tags=frozenset(t["tag"] for t in tags),
        priority=row["priority"],
        owner=row["owner"],
        team=row["team"],
        status=row["status"],
        member_id=row["member_id"],
        custom_fields=row["custom_fields"],
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
    return Contact(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        customer_id=row["customer_id"],
        name=row["name"],
        position=row["position"],
        is_decision_maker=bool(row["is_decision_maker"]),
        phone=row["phone"],
        email=row["email"],
        messaging_ids=row["messaging_ids"],
        notes=row["notes"],
    )


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
    return Interaction(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        occurred_at=row["occurred_at"],
        summary=row["summary"],
        contact_id=row["contact_id"],
        recorded_by=row["recorded_by"],
        needs=row["needs"],
        objections=row["objections"],
        commitments=row["commitments"],
        result=row["result"],
        next_action=row["next_action"],
        next_action_due=row["next_action_due"],
    )


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
    }


def task_from_row(row: Row, _: Sequence[Row] = ()) -> Task:
    return Task(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        subject=row["subject"],
        due_at=row["due_at"],
        assignee=row["assignee"],
        customer_id=row["customer_id"],
        about=row["about"],
        kind=row["kind"],
        status=row["status"],
        closed_at=row["closed_at"],
        notes=row["notes"],
    )


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
    order_id, customer_id = o.id, o.customer_id
    return [
        {
            "order_id": order_id,
            "line_no": number,
            "customer_id": customer_id,
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price_amount": line.unit_price.amount,
            "unit_price_currency": line.unit_price.currency,
        }
        for number, line in enumerate(o.lines, 1)
    ]


def order_from_row(row: Row, lines: Sequence[Row]) -> Order:
    return Order(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        number=row["number"],
        customer_id=row["customer_id"],
        placed_at=row["placed_at"],
        total=Money(row["total_amount"], row["total_currency"]),
        lines=tuple(
            OrderLine(
                description=line["description"],
                quantity=line["quantity"],
                unit_price=Money(line["unit_price_amount"], line["unit_price_currency"]),
                sku=line["sku"],
            )
            for line in lines
        ),
        status=row["status"],
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
    }


def opportunity_visit_rows(o: Opportunity) -> list[RowDict]:
    opportunity_id, customer_id = o.id, o.customer_id
    return [
        {
            "opportunity_id": opportunity_id,
            "seq": seq,
            "customer_id": customer_id,
            "stage": visit.stage,
            "entered_at": visit.entered_at,
            "entered_by": visit.entered_by,
            "left_at": visit.left_at,
            "left_by": visit.left_by,
            "reason": visit.reason,
        }
        for seq, visit in enumerate(o.stage_state.history, 1)
    ]


def opportunity_from_row(row: Row, visits: Sequence[Row]) -> Opportunity:
    return Opportunity(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        customer_id=row["customer_id"],
        title=row["title"],
        owner=row["owner"],
        assigned_at=row["assigned_at"],
        grade=row["grade"],
        team=row["team"],
        amount=Money(row["amount"], row["currency"]),
        expected_close=row["expected_close"],
        source_channel=row["source_channel"],
        pipeline=row["pipeline"],
        stage_state=StageState(
            history=tuple(
                StageVisit(
                    stage=visit["stage"],
                    entered_at=visit["entered_at"],
                    entered_by=visit["entered_by"],
                    left_at=visit["left_at"],
                    left_by=visit["left_by"],
                    reason=visit["reason"],
                )
                for visit in visits
            )
        ),
        deliverables=row["deliverables"],
        manual_probability=row["manual_probability"],
        lost_reason=row["lost_reason"],
        custom_fields=row["custom_fields"],
        outcome=row["outcome"],
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
    contract_id, customer_id = c.id, c.customer_id
    return [
        {
            "contract_id": contract_id,
            "line_no": number,
            "customer_id": customer_id,
            "sku": line.sku,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price_amount": line.unit_price.amount,
            "unit_price_currency": line.unit_price.currency,
        }
        for number, line in enumerate(c.lines, 1)
    ]


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
    contract_id, customer_id = c.id, c.customer_id
    return [
        {
            "contract_id": contract_id,
            "seq": seq,
            "customer_id": customer_id,
            "stage": visit.stage,
            "entered_at": visit.entered_at,
            "entered_by": visit.entered_by,
            "left_at": visit.left_at,
            "left_by": visit.left_by,
            "reason": visit.reason,
        }
        for seq, visit in enumerate(c.approval.history, 1)
    ]


def contract_from_row(
    row: Row, lines: Sequence[Row], instalments: Sequence[Row], visits: Sequence[Row]
) -> Contract:
    return Contract(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        number=row["number"],
        number_year=row["number_year"],
        customer_id=row["customer_id"],
        opportunity_id=row["opportunity_id"],
        amount=Money(row["amount"], row["currency"]),
        start_on=row["start_on"],
        end_on=row["end_on"],
        terms=row["terms"],
        signer=row["signer"],
        signed_on=row["signed_on"],
        status=row["status"],
        delivery_status=row["delivery_status"],
        approval=StageState(
            history=tuple(
                StageVisit(
                    stage=visit["stage"],
                    entered_at=visit["entered_at"],
                    entered_by=visit["entered_by"],
                    left_at=visit["left_at"],
                    left_by=visit["left_by"],
                    reason=visit["reason"],
                )
                for visit in visits
            )
        ),
        approval_levels=row["approval_levels"],
        lines=[
            OrderLine(
                description=line["description"],
                quantity=line["quantity"],
                unit_price=Money(line["unit_price_amount"], line["unit_price_currency"]),
                sku=line["sku"],
            )
            for line in lines
        ],
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
    return TeamSupervisor(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        team=row["team"],
        supervisor=row["supervisor"],
    )


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
    return StoredExchangeRate(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        base=row["base"],
        currency=row["currency"],
        on=row["on"],
        rate=row["rate"],
    )


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
    return ResourceRequest(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        opportunity_id=row["opportunity_id"],
        customer_id=row["customer_id"],
        department=row["department"],
        request=row["request"],
        requested_by=row["requested_by"],
        owner=row["owner"],
        respond_by=row["respond_by"],
        status=row["status"],
        answer=row["answer"],
        answered_at=row["answered_at"],
    )


def rep_assignment_from_row(row: Row, _: Sequence[Row] = ()) -> RepAssignment:
    return RepAssignment(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        rep=row["rep"],
        last_assigned_at=row["last_assigned_at"],
        last_opportunity_id=row["last_opportunity_id"],
    )


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
    return Receipt(
        id=row["id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        contract_id=row["contract_id"],
        customer_id=row["customer_id"],
        amount=Money(row["amount"], row["currency"]),
        received_at=row["received_at"],
        method=row["method"],
        handler=row["handler"],
        account=row["account"],
        reference=row["reference"],
    )


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
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        customer_id=row["customer_id"],
        changes=row["changes"],
    )


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
    )
}
"""Entity type (as in ``pycrm.storage.spec.SPECS``) -> its mapping."""
