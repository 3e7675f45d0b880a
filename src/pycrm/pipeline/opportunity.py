"""Opportunities: deals moving through a sales pipeline, and the weighted forecast over them.

An opportunity keeps its whole stage history (a :class:`~pycrm.pipeline.StageState`), so
where it stands, how long each stage took and why it was lost are read from one record.
The machine itself is not stored on the opportunity, only its name: definitions live with
the host, and functions that need the rules take the machine as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity, Money, Priority
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.default import SALES, default_pipeline
from pycrm.pipeline.history import REASON_MAX, StageState, check_key
from pycrm.pipeline.machine import StageMachine, StageOutcome
from pycrm.pipeline.review import DealReview, DealReviewed
from pycrm.pipeline.run import advance, start

_PROBABILITY_PLACES = 4
"""Places a manual probability may have: as many as every store keeps exactly."""


def _customer_id(value: str) -> str:
    return _required_text(value, "customer_id", 64)


def _title(value: str) -> str:
    return _required_text(value, "title", 200)


def _owner(value: str | None) -> str | None:
    return conv.check_text(value, "owner", max_length=120, required=False)


def _assigned_at(value: datetime | str | None) -> datetime | None:
    return conv.check_datetime(value, "assigned_at", required=False)


def _grade(value: Priority | str | None) -> Priority | None:
    return None if value is None else conv.check_enum(value, "grade", Priority)


def _team(value: str | None) -> str | None:
    return conv.check_text(value, "team", max_length=120, required=False)


def _required_text(value: Any, field: str, max_length: int) -> str:
    checked = conv.check_text(value, field, max_length=max_length, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _amount(value: Money) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", f"expected Money, got {type(value).__name__}")
    if value.amount < 0:
        raise ValidationError("amount", "must not be negative", value=value.amount)
    return value


def _expected_close(value: date | str | None) -> date | None:
    return conv.check_date(value, "expected_close")


def _source_channel(value: str | None) -> str | None:
    return conv.check_text(value, "source_channel", max_length=60, required=False)


def _pipeline(value: str) -> str:
    return _required_text(value, "pipeline", 80)


def _stage_state(value: StageState) -> StageState:
    if not isinstance(value, StageState):
        raise ValidationError("stage_state", f"expected StageState, got {type(value).__name__}")
    return value


def _deliverables(value: Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("deliverables", "expected a collection of deliverable keys")
    return frozenset(check_key(key, "deliverables") for key in value)


def _manual_probability(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    number = conv.check_decimal(value, "manual_probability")
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationError("manual_probability", "must be between 0 and 1", value=value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_PROBABILITY_PLACES:
        raise ValidationError(
            "manual_probability",
            f"has more than {_PROBABILITY_PLACES} decimal places",
            value=value,
        )
    return number


def _lost_reason(value: str | None) -> str | None:
    return conv.check_text(value, "lost_reason", max_length=REASON_MAX, required=False)


def _custom_fields(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return conv.check_json_object(value, "custom_fields")


def _outcome(value: StageOutcome | str | None) -> StageOutcome | None:
    return None if value is None else conv.check_enum(value, "outcome", StageOutcome)


def _closed_at(value: datetime | str | None) -> datetime | None:
    return conv.check_datetime(value, "closed_at", required=False)


def _entered_current_stage(opportunity: Opportunity) -> datetime | None:
    # A deal built closed without a moment (a test fixture, an old import) closed when it
    # entered the stage it is in.
    return None if opportunity.outcome is None else opportunity.stage_state.entered_at


def _review(value: DealReview | None) -> DealReview | None:
    if value is not None and not isinstance(value, DealReview):
        raise ValidationError("review", f"expected DealReview, got {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class Opportunity(Entity):
    """A deal with one customer, moving through the stages of the pipeline it names.

    ``deliverables`` are the keys delivered so far (``needs_document``, ``quote``, ...); the
    machine's gates read them. ``manual_probability`` is a rep's own estimate, kept beside
    the stage's probability rather than replacing it, so reports can compare the two.
    ``outcome`` is the current stage's outcome in the opportunity's pipeline, recorded on
    every move, so whether a deal is won, lost or open is known (and stored, and filtered
    on) without the machine at hand, whatever the pipeline calls its stages.
    ``lost_reason`` is the reason given on the move to a lost stage, ``review`` what was
    learnt from a won one (see :func:`review_deal`).
    ``closed_at`` is when the deal reached its outcome: when it first entered a won stage
    (moving on to a later won stage, a deal review, keeps it) or entered its lost stage;
    ``None`` while open. Stored and indexed, it lets reports count the deals won in a period
    with one query instead of reading each deal's history.

    ``owner`` is ``None`` while nobody is assigned (a captured lead no rep could take);
    ``assigned_at`` is when the current owner got it, so the time from capture to
    assignment is measurable. ``grade`` is the lead's priority when it was captured.
    """

    ENTITY_TYPE: ClassVar[str] = "opportunity"
    ID_PREFIX: ClassVar[str] = "opp"

    customer_id: str = attrs.field(converter=_customer_id)
    title: str = attrs.field(converter=_title)
    amount: Money = attrs.field(converter=_amount)
    stage_state: StageState = attrs.field(converter=_stage_state)
    owner: str | None = attrs.field(default=None, converter=_owner)
    assigned_at: datetime | None = attrs.field(default=None, converter=_assigned_at)
    grade: Priority | None = attrs.field(default=None, converter=_grade)
    team: str | None = attrs.field(default=None, converter=_team)
    expected_close: date | None = attrs.field(default=None, converter=_expected_close)
    source_channel: str | None = attrs.field(default=None, converter=_source_channel)
    pipeline: str = attrs.field(default=SALES, converter=_pipeline)
    deliverables: frozenset[str] = attrs.field(factory=frozenset, converter=_deliverables)
    manual_probability: Decimal | None = attrs.field(default=None, converter=_manual_probability)
    lost_reason: str | None = attrs.field(default=None, converter=_lost_reason)
    custom_fields: dict[str, Any] = attrs.field(factory=dict, converter=_custom_fields, hash=False)
    outcome: StageOutcome | None = attrs.field(default=None, converter=_outcome)
    review: DealReview | None = attrs.field(default=None, converter=_review)
    closed_at: datetime | None = attrs.field(
        default=attrs.Factory(_entered_current_stage, takes_self=True), converter=_closed_at
    )

    def __attrs_post_init__(self) -> None:
        closed = self.closed_at
        if self.outcome is None:
            if closed is not None:
                raise ValidationError("closed_at", "an open deal has not closed", value=closed)
            return
        if closed is None:
            raise ValidationError("closed_at", "a won or lost deal needs the moment it closed")
        history = self.stage_state.history
        if not history[0].entered_at <= closed <= history[-1].entered_at:
            raise ValidationError("closed_at", "is outside the deal's stage history", value=closed)

    @property
    def stage(self) -> str:
        """The key of the current stage (stores filter on it)."""
        return self.stage_state.stage

    @property
    def assigned_on(self) -> date | None:
        """The UTC date of ``assigned_at`` (stores filter on it to count a rep's day)."""
        if self.assigned_at is None:
            return None
        return self.assigned_at.astimezone(timezone.utc).date()

    @property
    def is_won(self) -> bool:
        """In a won stage (in the default pipeline: ``contract_signed`` or ``deal_review``)."""
        return self.outcome is StageOutcome.WON

    @property
    def is_lost(self) -> bool:
        return self.outcome is StageOutcome.LOST

    @property
    def is_open(self) -> bool:
        """Still being worked towards a signature: neither won nor lost."""
        return self.outcome is None

    def probability(self, machine: StageMachine) -> Decimal:
        """The rep's manual probability if set, else the current stage's (0 if it has none)."""
        _check_machine(self, machine)
        if self.manual_probability is not None:
            return self.manual_probability
        stage_probability = machine.stage(self.stage).probability
        return Decimal(0) if stage_probability is None else stage_probability

    def weighted_amount(self, machine: StageMachine) -> Money:
        """``amount`` times :meth:`probability`: what the deal adds to the forecast."""
        return self.amount * self.probability(machine)


_SET_BY_PIPELINE = (
    "stage_state",
    "pipeline",
    "deliverables",
    "lost_reason",
    "outcome",
    "closed_at",
)


def open_opportunity(
    *,
    customer_id: str,
    title: str,
    amount: Money,
    owner: str | None,
    now: datetime,
    by: str,
    machine: StageMachine | None = None,
    **fields: Any,
) -> tuple[Opportunity, list[object]]:
    """A new opportunity in the initial stage of ``machine`` (the default pipeline if none).

    ``fields`` are further :class:`Opportunity` fields (``team``, ``expected_close``, ...);
    the stage, outcome, pipeline, deliverables and lost reason are the pipeline's to set.
    Handlers of the initial stage get no subject, since the opportunity is built from their
    state.
    ``owner=None`` opens it unassigned; an owner given here counts as assigned ``now``
    unless ``assigned_at`` is among ``fields``.
    """
    chosen = default_pipeline() if machine is None else _machine(machine)
    for name in _SET_BY_PIPELINE:
        if name in fields:
            raise ValidationError(name, "is set by the pipeline, not when opening")
    state, events = start(chosen, now=now, by=by)
    if owner is not None:
        fields.setdefault("assigned_at", now)
    opportunity = Opportunity(
        customer_id=customer_id,
        title=title,
        amount=amount,
        owner=owner,
        pipeline=chosen.name,
        stage_state=state,
        outcome=chosen.outcome(state.stage),
        **fields,
    )
    return opportunity, events


def advance_opportunity(
    opportunity: Opportunity,
    to: str,
    *,
    now: datetime,
    by: str,
    machine: StageMachine,
    reason: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[Opportunity, list[object]]:
    """Move ``opportunity`` to stage ``to``; see :func:`pycrm.pipeline.advance` for the checks.

    Its deliverables are presented to the gate and the opportunity itself is the guards'
    subject. The entered stage's outcome becomes the opportunity's ``outcome``; a move to a
    lost stage records its reason as ``lost_reason``. A move that changes the outcome sets
    ``closed_at`` to now (the move's moment), one that keeps it (won to a later won stage)
    keeps it. A refused move raises and leaves the opportunity as it was.
    """
    _check_opportunity(opportunity)
    _check_machine(opportunity, machine)
    state, events = advance(
        opportunity.stage_state,
        to,
        now=now,
        by=by,
        machine=machine,
        deliverables=opportunity.deliverables,
        reason=reason,
        subject=opportunity,
        context=context,
    )
    outcome = machine.outcome(to)
    closed_at = opportunity.closed_at
    if outcome is None:
        closed_at = None
    elif outcome is not opportunity.outcome:
        closed_at = state.current.entered_at
    changes: dict[str, Any] = {"stage_state": state, "outcome": outcome, "closed_at": closed_at}
    if outcome is StageOutcome.LOST:
        changes["lost_reason"] = state.current.reason
    return opportunity.evolve(**changes), events


def deliver(
    opportunity: Opportunity,
    key: str,
    *,
    now: datetime,
    machine: StageMachine | None = None,
) -> tuple[Opportunity, list[object]]:
    """Record deliverable ``key`` (a needs document, a quote, ...) as delivered.

    ``key`` must be a deliverable some stage of ``machine`` (the default pipeline if none)
    requires, so a typo cannot open a gate later. Closed deals take no more deliverables;
    ``now`` may not be before the deal was opened. Delivering a key twice changes nothing.
    """
    _check_opportunity(opportunity)
    chosen = default_pipeline() if machine is None else _machine(machine)
    _check_machine(opportunity, chosen)
    moment = conv.check_datetime(now, "now", required=True)
    assert moment is not None
    declared = declared_deliverables(chosen)
    if not isinstance(key, str) or key not in declared:
        raise ValidationError(
            "key",
            f"{key!r} is not a deliverable of {chosen.name!r} ({', '.join(sorted(declared))})",
            value=key,
        )
    if chosen.stage(opportunity.stage).terminal:
        raise ValidationError("opportunity", f"is closed (in {opportunity.stage!r})")
    if moment < opportunity.stage_state.history[0].entered_at:
        raise ValidationError("now", "is before the opportunity was opened", value=moment)
    if key in opportunity.deliverables:
        return opportunity, []
    return opportunity.evolve(deliverables=opportunity.deliverables | {key}), []


def review_deal(
    opportunity: Opportunity,
    *,
    success_factors: Iterable[str],
    failure_factors: Iterable[str],
    tags_to_add: Iterable[str] = (),
    now: datetime,
    by: str,
) -> tuple[Opportunity, list[object]]:
    """Record the review of a won deal; a later review replaces an earlier one.

    Only won deals are reviewed: a lost deal has its ``lost_reason`` and an open one has
    nothing to learn from yet. ``tags_to_add`` go to the customer (the session applies them,
    see ``s.review_deal``); here they are only checked and carried on the event.
    """
    _check_opportunity(opportunity)
    if opportunity.outcome is not StageOutcome.WON:
        raise ValidationError("opportunity", f"is not won (in {opportunity.stage!r})")
    review = DealReview(
        success_factors=success_factors,
        failure_factors=failure_factors,
        reviewed_at=now,
        reviewed_by=by,
    )
    tags = conv.check_tags(tags_to_add, "tags_to_add")
    reviewed = opportunity.evolve(review=review)
    return reviewed, [
        DealReviewed(
            opportunity_id=opportunity.id,
            customer_id=opportunity.customer_id,
            review=review,
            tags_to_add=tags,
        )
    ]


def set_manual_probability(
    opportunity: Opportunity, probability: Decimal | int | str | None
) -> tuple[Opportunity, list[object]]:
    """Set (or, with ``None``, clear) a rep's own win probability, 0 to 1.

    Only open deals take one: a won or lost deal's outcome is known.
    """
    _check_opportunity(opportunity)
    if not opportunity.is_open:
        raise ValidationError("opportunity", f"is closed (in {opportunity.stage!r})")
    return opportunity.evolve(manual_probability=probability), []


def forecast(opportunities: Iterable[Opportunity], machine: StageMachine) -> dict[str, Money]:
    """The weighted forecast: the sum of weighted amounts per currency, never converted.

    Every opportunity given counts; pass the open ones (and, if wanted, the won ones, which
    weigh in at their full amount) of one pipeline.
    """
    _machine(machine)
    totals: dict[str, Money] = {}
    for opportunity in opportunities:
        _check_opportunity(opportunity)
        weighted = opportunity.weighted_amount(machine)
        found = totals.get(weighted.currency)
        totals[weighted.currency] = weighted if found is None else found + weighted
    return totals


def declared_deliverables(machine: StageMachine) -> frozenset[str]:
    """Every deliverable some stage of ``machine`` requires."""
    return frozenset(key for stage in machine.stages for key in stage.required_deliverables)


def _check_opportunity(value: object) -> Opportunity:
    if not isinstance(value, Opportunity):
        raise ValidationError("opportunity", f"expected Opportunity, got {type(value).__name__}")
    return value


def _machine(value: object) -> StageMachine:
    if not isinstance(value, StageMachine):
        raise ValidationError("machine", f"expected StageMachine, got {type(value).__name__}")
    return value


def _check_machine(opportunity: Opportunity, machine: object) -> StageMachine:
    chosen = _machine(machine)
    if chosen.name != opportunity.pipeline:
        raise ValidationError(
            "machine",
            f"is {chosen.name!r} but the opportunity is in pipeline {opportunity.pipeline!r}",
        )
    return chosen
