"""Asking another department for help on a deal: technical support, legal review, pricing.

A rep's request goes to an owner in that department with a deadline to respond by; the
owner answers or declines it once. Requests are stored beside the deal (and keyed by its
customer), so the pipeline shows what a deal is waiting on and overdue ones can be chased.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.errors import IllegalTransition, ValidationError
from pycrm.pipeline.history import check_key
from pycrm.pipeline.opportunity import Opportunity


class RequestStatus(str, enum.Enum):
    """Where a resource request stands; ``answered`` and ``declined`` are final."""

    OPEN = "open"
    ANSWERED = "answered"
    DECLINED = "declined"


def _id(value: Any, field: str) -> str:
    checked = conv.check_text(value, field, max_length=64, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _name(value: Any, field: str) -> str:
    checked = conv.check_text(value, field, max_length=120, required=True)
    assert checked is not None
    return checked


def _moment(value: Any, field: str) -> datetime:
    checked = conv.check_datetime(value, field, required=True)
    assert checked is not None
    return checked


def _opportunity_id(value: str) -> str:
    return _id(value, "opportunity_id")


def _customer_id(value: str) -> str:
    return _id(value, "customer_id")


def _department(value: str) -> str:
    return check_key(value, "department")


def _request(value: str) -> str:
    checked = conv.check_text(value, "request", max_length=4000, required=True)
    assert checked is not None
    return checked


def _requested_by(value: str) -> str:
    return _name(value, "requested_by")


def _owner(value: str) -> str:
    return _name(value, "owner")


def _respond_by(value: datetime | str) -> datetime:
    return _moment(value, "respond_by")


def _status(value: RequestStatus | str) -> RequestStatus:
    return conv.check_enum(value, "status", RequestStatus)


def _answer(value: str | None) -> str | None:
    return conv.check_text(value, "answer", max_length=4000, required=False)


def _answered_at(value: datetime | str | None) -> datetime | None:
    return conv.check_datetime(value, "answered_at", required=False)


@attrs.frozen(kw_only=True)
class ResourceRequest(Entity):
    """A deal's request to ``department`` (a key such as ``technical_support`` or
    ``legal_review``), owned by one person there, due by ``respond_by``.

    ``answer`` is the reply, or the reason when declined; ``answered_at`` when either
    happened. Make one with :func:`request_resource` so it names the deal's own customer.
    """

    ENTITY_TYPE: ClassVar[str] = "resource_request"
    ID_PREFIX: ClassVar[str] = "rrq"

    opportunity_id: str = attrs.field(converter=_opportunity_id)
    customer_id: str = attrs.field(converter=_customer_id)
    department: str = attrs.field(converter=_department)
    request: str = attrs.field(converter=_request)
    requested_by: str = attrs.field(converter=_requested_by)
    owner: str = attrs.field(converter=_owner)
    respond_by: datetime = attrs.field(converter=_respond_by)
    status: RequestStatus = attrs.field(default=RequestStatus.OPEN, converter=_status)
    answer: str | None = attrs.field(default=None, converter=_answer)
    answered_at: datetime | None = attrs.field(default=None, converter=_answered_at)

    def __attrs_post_init__(self) -> None:
        closed = self.status is not RequestStatus.OPEN
        if closed and (self.answer is None or self.answered_at is None):
            raise ValidationError("answer", f"is required when the request is {self.status.value}")
        if not closed and (self.answer is not None or self.answered_at is not None):
            raise ValidationError("answer", "an open request has no answer yet")

    def is_overdue(self, now: datetime) -> bool:
        """Whether it is still open after ``respond_by``."""
        return self.status is RequestStatus.OPEN and _moment(now, "now") > self.respond_by


def request_resource(
    opportunity: Opportunity,
    *,
    department: str,
    request: str,
    owner: str,
    respond_by: datetime,
    now: datetime,
    by: str,
) -> tuple[ResourceRequest, list[object]]:
    """A new open request for ``opportunity``; ``respond_by`` must be after ``now``."""
    if not isinstance(opportunity, Opportunity):
        raise ValidationError(
            "opportunity", f"expected Opportunity, got {type(opportunity).__name__}"
        )
    created = ResourceRequest(
        opportunity_id=opportunity.id,
        customer_id=opportunity.customer_id,
        department=department,
        request=request,
        requested_by=by,
        owner=owner,
        respond_by=respond_by,
    )
    if created.respond_by <= _moment(now, "now"):
        raise ValidationError("respond_by", "must be after the request is made", value=respond_by)
    return created, []


def answer_request(
    request: ResourceRequest, answer: str, *, now: datetime
) -> tuple[ResourceRequest, list[object]]:
    """Answer an open request; raises :class:`pycrm.IllegalTransition` if it is closed."""
    return _close(request, RequestStatus.ANSWERED, answer, now)


def decline_request(
    request: ResourceRequest, reason: str, *, now: datetime
) -> tuple[ResourceRequest, list[object]]:
    """Decline an open request, giving ``reason`` as its answer, so the rep knows why."""
    return _close(request, RequestStatus.DECLINED, reason, now)


def overdue_requests(requests: Iterable[ResourceRequest], now: datetime) -> list[ResourceRequest]:
    """The open requests past ``respond_by`` at ``now``, the longest overdue first."""
    moment = _moment(now, "now")
    found = []
    for item in requests:
        if not isinstance(item, ResourceRequest):
            raise ValidationError(
                "requests", f"expected ResourceRequest, got {type(item).__name__}"
            )
        if item.is_overdue(moment):
            found.append(item)
    return sorted(found, key=lambda r: (r.respond_by, r.id))


def _close(
    request: ResourceRequest, status: RequestStatus, text: str, now: datetime
) -> tuple[ResourceRequest, list[object]]:
    if not isinstance(request, ResourceRequest):
        raise ValidationError("request", f"expected ResourceRequest, got {type(request).__name__}")
    if request.status is not RequestStatus.OPEN:
        raise IllegalTransition("resource_request", request.status.value, status.value)
    field = "answer" if status is RequestStatus.ANSWERED else "reason"
    checked = conv.check_text(text, field, max_length=4000, required=True)
    return request.evolve(status=status, answer=checked, answered_at=_moment(now, "now")), []
