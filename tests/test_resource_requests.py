"""Requests to other departments on a deal: answered or declined once, chased when late."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    ConcurrencyConflict,
    Customer,
    FixedClock,
    IllegalTransition,
    Money,
    Opportunity,
    RequestStatus,
    ResourceRequest,
    ValidationError,
    answer_request,
    decline_request,
    open_opportunity,
    overdue_requests,
    request_resource,
)

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def deal(customer_id: str = "cus_1") -> Opportunity:
    opportunity, _ = open_opportunity(
        customer_id=customer_id,
        title="MES rollout",
        amount=Money(1000, "CNY"),
        owner="alice",
        now=START,
        by="alice",
    )
    return opportunity


def asked(opportunity: Opportunity | None = None, **fields: object) -> ResourceRequest:
    values: dict[str, object] = {
        "department": "technical_support",
        "request": "Can the line run 24/7 with two shifts of operators?",
        "owner": "dan",
        "respond_by": START + 24 * HOUR,
        "now": START,
        "by": "alice",
    }
    values.update(fields)
    made, _ = request_resource(opportunity or deal(), **values)  # type: ignore[arg-type]
    return made


def test_a_request_is_made_for_the_deal_and_its_customer() -> None:
    opportunity = deal()
    request = asked(opportunity)
    assert request.opportunity_id == opportunity.id
    assert request.customer_id == "cus_1"
    assert request.status is RequestStatus.OPEN
    assert request.requested_by == "alice"
    assert request.answer is None


def test_answer_and_decline_close_a_request_once() -> None:
    request = asked()
    answered, _ = answer_request(request, "Yes, with the redundant PLC.", now=START + HOUR)
    assert answered.status is RequestStatus.ANSWERED
    assert answered.answer == "Yes, with the redundant PLC."
    assert answered.answered_at == START + HOUR
    declined, _ = decline_request(request, "Out of scope for legal.", now=START + HOUR)
    assert declined.status is RequestStatus.DECLINED
    for closed in (answered, declined):
        with pytest.raises(IllegalTransition):
            answer_request(closed, "again", now=START + 2 * HOUR)
        with pytest.raises(IllegalTransition):
            decline_request(closed, "again", now=START + 2 * HOUR)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"department": "technical support"}, "department"),
        ({"request": " "}, "request"),
        ({"owner": ""}, "owner"),
        ({"by": ""}, "requested_by"),
        ({"respond_by": START}, "respond_by"),
        ({"respond_by": datetime(2026, 3, 3)}, "respond_by"),
        ({"now": "soon"}, "now"),
    ],
)
def test_bad_requests_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        asked(**fields)
    assert info.value.field == field


def test_bad_answers_name_the_field_and_leave_the_request_open() -> None:
    request = asked()
    with pytest.raises(ValidationError) as info:
        answer_request(request, "  ", now=START)
    assert info.value.field == "answer"
    with pytest.raises(ValidationError) as info:
        decline_request(request, "", now=START)
    assert info.value.field == "reason"
    with pytest.raises(ValidationError) as info:
        ResourceRequest(**{**_fields(request), "status": "answered"})
    assert info.value.field == "answer"
    assert request.status is RequestStatus.OPEN


def _fields(request: ResourceRequest) -> dict[str, object]:
    names = ("opportunity_id", "customer_id", "department", "request", "requested_by", "owner")
    return {name: getattr(request, name) for name in names} | {"respond_by": request.respond_by}


def test_overdue_requests_are_the_open_ones_past_due_oldest_first() -> None:
    early = asked(respond_by=START + HOUR)
    late = asked(respond_by=START + 3 * HOUR)
    answered, _ = answer_request(asked(respond_by=START + HOUR), "done", now=START)
    now = START + 4 * HOUR
    assert overdue_requests([late, answered, early], now) == [early, late]
    assert overdue_requests([late, early], START + 2 * HOUR) == [early]
    with pytest.raises(ValidationError) as info:
        overdue_requests(["x"], now)  # type: ignore[list-item]
    assert info.value.field == "requests"


@given(
    st.lists(st.integers(min_value=1, max_value=48), max_size=8),
    st.integers(min_value=0, max_value=60),
)
def test_overdue_means_open_and_past_its_deadline(hours: list[int], at: int) -> None:
    requests = [asked(respond_by=START + h * HOUR) for h in hours]
    now = START + at * HOUR
    found = overdue_requests(requests, now)
    assert found == sorted(found, key=lambda r: (r.respond_by, r.id))
    assert {r.id for r in found} == {r.id for r in requests if r.respond_by < now}


def test_requests_are_stored_filtered_and_answered(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme Tools"))
        opportunity = s.opportunities.add(deal(customer.id))
        tech = s.resource_requests.add(asked(opportunity))
        legal = s.resource_requests.add(
            asked(opportunity, department="legal_review", owner="erin", request="NDA terms?")
        )
    with crm.session(actor="dan") as s:
        assert s.resource_requests.get(tech.id) == tech
        assert s.resource_requests.count(opportunity_id=opportunity.id) == 2
        assert s.resource_requests.list(department="legal_review").items == [legal]
        assert s.resource_requests.count(owner="dan", status="open") == 1
        answered, _ = answer_request(tech, "Yes.", now=clock.now())
        s.resource_requests.update(answered)
    with crm.session() as s:
        stored = s.resource_requests.get(tech.id)
        assert s.resource_requests.count(status=RequestStatus.OPEN) == 1
        assert overdue_requests(s.resource_requests.stream(status="open"), START + 48 * HOUR) == [
            s.resource_requests.get(legal.id)
        ]
    assert stored.status is RequestStatus.ANSWERED
    assert stored.answered_at == clock.now()
    assert stored.version == 2


def test_a_request_needs_a_stored_deal_and_stale_answers_conflict(
    crm: CRM, clock: FixedClock
) -> None:
    with pytest.raises(ValidationError) as missing, crm.session(actor="alice") as s:
        s.resource_requests.add(asked(deal("cus_missing")))
    assert missing.value.field == "customer_id"
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme Tools"))
        request = s.resource_requests.add(asked(s.opportunities.add(deal(customer.id))))
    with crm.session(actor="dan") as s:
        s.resource_requests.update(answer_request(request, "Yes.", now=clock.now())[0])
    with pytest.raises(ConcurrencyConflict), crm.session(actor="erin") as s:
        s.resource_requests.update(decline_request(request, "No.", now=clock.now())[0])
    with crm.session() as s:
        assert s.resource_requests.get(request.id).answer == "Yes."
