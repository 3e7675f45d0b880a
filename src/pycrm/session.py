"""The unit of work a host uses: ``with crm.session(actor=...) as s:``.

The session sits between callers and a store: it checks references between entities, stamps
times from the CRM's clock, keeps versions, writes the audit log and collects domain events,
which reach plugins only after the store says the changes are durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from pycrm.access.scope import Scope
from pycrm.analytics.aggregate import Aggregation
from pycrm.analytics.checking import checked
from pycrm.analytics.memo import ReadMemo, aggregation_key, rfm_key
from pycrm.contracts import Contract, ContractNumbering, Receipt, next_number
from pycrm.customers import CustomerRepository, rule_of
from pycrm.domain import (
    AuditEntry,
    ChangeKind,
    Contact,
    Customer,
    DomainEvent,
    Entity,
    Interaction,
    Order,
    Task,
)
from pycrm.domain.audit import masked_changes
from pycrm.engagement import EngagementEvent, RecordedEngagement, record_engagement
from pycrm.errors import NotFound, PermissionDenied, SessionClosed, ValidationError
from pycrm.grading.evaluate import Explanation, explain
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import EarnRule, PointsEntry
from pycrm.grading.rfm import DEFAULT_BINS, RfmTable, check_as_of, check_bins, check_currency
from pycrm.grading.schemes import GradeResult, GradeScheme
from pycrm.grading.segment import Segment
from pycrm.intake import IntakeChannel, IntakeResult, take_in
from pycrm.leads import DEFAULT_CURRENCY, CapturedLead, assign_opportunity, capture_lead
from pycrm.loyalty import earn_points, expire_points, points_balance, redeem_points
from pycrm.merge import MergeLog
from pycrm.notifying import OutboxRepository
from pycrm.pending_events import PendingEvents
from pycrm.pipeline import (
    AssignmentRules,
    ExchangeRates,
    Lead,
    LeadGrading,
    Opportunity,
    RepAssignment,
    ResourceRequest,
    StoredExchangeRate,
    TeamSupervisor,
)
from pycrm.pipeline.targets import SalesTarget
from pycrm.rates import load_rates
from pycrm.regrade import REGRADE_BATCH, RegradeReport, customer_facts, explain_grade, regrade
from pycrm.repository import Repository, customer_id_of
from pycrm.sales import move_opportunity, review_opportunity
from pycrm.service.definition import CalendarDefinition
from pycrm.service.ticket import Ticket
from pycrm.service.turns import AgentTurn
from pycrm.service_desk import ServiceDesk
from pycrm.storage.protocols import Analytics, EntityTable, StoreTransaction
from pycrm.storage.scoping import SCOPED_TYPES
from pycrm.storage.spec import SPEC_BY_TYPE
from pycrm.storage.units import own_transaction
from pycrm.storage.watched import WatchedTransaction

if TYPE_CHECKING:
    from pycrm.crm import CRM

log = logging.getLogger("pycrm.session")


class AuditLog:
    """The audit trail, read per entity."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def for_entity(self, entity: Entity | str, entity_type: str | None = None) -> list[AuditEntry]:
        """Entries for an entity (or its id plus ``entity_type``), oldest first."""
        self._session._check_open()
        if isinstance(entity, Entity):
            entity_type, entity_id = entity.ENTITY_TYPE, entity.id
        else:
            entity_id = entity
            if entity_type is None or entity_type not in SPEC_BY_TYPE:
                raise ValidationError("entity_type", f"must be one of {sorted(SPEC_BY_TYPE)}")
        entries = self._session._tx.audit.for_entity(entity_type, entity_id)
        if self._session.scope is None or entity_type not in SCOPED_TYPES:
            return entries
        # An actor reads the history of records in reach only (their customer decides).
        customers = {e.customer_id for e in entries if e.customer_id is not None}
        shown = self._session._table("customer").existing(customers) if customers else set()
        return [e for e in entries if e.customer_id in shown]


class Session:
    """One unit of work. Use as a context manager: it commits when the block ends normally and
    rolls back on any exception, so nothing is ever half-written."""

    customers: CustomerRepository
    contacts: Repository[Contact]
    interactions: Repository[Interaction]
    tasks: Repository[Task]
    orders: Repository[Order]
    opportunities: Repository[Opportunity]
    contracts: Repository[Contract]
    receipts: Repository[Receipt]
    rep_assignments: Repository[RepAssignment]
    team_supervisors: Repository[TeamSupervisor]
    exchange_rates: Repository[StoredExchangeRate]
    resource_requests: Repository[ResourceRequest]
    points: Repository[PointsEntry]
    customer_grades: Repository[CustomerGrade]
    segments: Repository[Segment]
    tickets: Repository[Ticket]
    agent_turns: Repository[AgentTurn]
    calendars: Repository[CalendarDefinition]
    merge_logs: Repository[MergeLog]
    outbox: OutboxRepository
    sales_targets: Repository[SalesTarget]
    service: ServiceDesk

    def __init__(
        self,
        crm: CRM,
        tx: StoreTransaction,
        *,
        actor: str,
        deliver: Callable[[Iterable[DomainEvent]], None],
        scope: Scope | None = None,
    ) -> None:
        self._crm = crm
        # Read-only analytics answers, kept while nothing is written (pycrm.analytics.memo);
        # a host writing on a joined connection is out of sight, so nothing is kept then.
        self._memo = ReadMemo(enabled=not getattr(tx, "joined", False))
        self._tx = WatchedTransaction(tx, self._memo.clear)
        self.actor = actor
        self.scope: Scope | None = None if scope is None or scope.unrestricted else scope
        """What this session may see and change; ``None`` when it is unrestricted."""
        self._deliver = deliver
        self._events = PendingEvents()
        self._denials: list[AuditEntry] = []
        self._open = True
        self.customers = CustomerRepository(self, SPEC_BY_TYPE["customer"])
        self.contacts = Repository(self, SPEC_BY_TYPE["contact"])
        self.interactions = Repository(self, SPEC_BY_TYPE["interaction"])
        self.tasks = Repository(self, SPEC_BY_TYPE["task"])
        self.orders = Repository(self, SPEC_BY_TYPE["order"])
        self.opportunities = Repository(self, SPEC_BY_TYPE["opportunity"])
        self.contracts = Repository(self, SPEC_BY_TYPE["contract"])
        self.receipts = Repository(self, SPEC_BY_TYPE["receipt"])
        self.rep_assignments = Repository(self, SPEC_BY_TYPE["rep_assignment"])
        self.team_supervisors = Repository(self, SPEC_BY_TYPE["team_supervisor"])
        self.exchange_rates = Repository(self, SPEC_BY_TYPE["exchange_rate"])
        self.resource_requests = Repository(self, SPEC_BY_TYPE["resource_request"])
        self.points = Repository(self, SPEC_BY_TYPE["points_entry"])
        self.customer_grades = Repository(self, SPEC_BY_TYPE["customer_grade"])
        self.segments = Repository(self, SPEC_BY_TYPE["segment"])
        self.tickets = Repository(self, SPEC_BY_TYPE["ticket"])
        self.agent_turns = Repository(self, SPEC_BY_TYPE["agent_turn"])
        self.calendars = Repository(self, SPEC_BY_TYPE["calendar"])
        self.merge_logs = Repository(self, SPEC_BY_TYPE["merge_log"])
        self.outbox = OutboxRepository(self, SPEC_BY_TYPE["outbox_message"])
        self.sales_targets = Repository(self, SPEC_BY_TYPE["sales_target"])
        self.service = ServiceDesk(self)
        self.audit = AuditLog(self)

    @property
    def crm(self) -> CRM:
        """The CRM this session belongs to (its clock, plugins and pipelines)."""
        return self._crm

    def advance(
        self,
        opportunity: Opportunity,
        to: str,
        *,
        reason: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Opportunity:
        """Move an opportunity to stage ``to`` now, as this session's actor, and save it.

        The pipeline's rules apply first, then every plugin's ``pycrm_validate_stage_change``;
        a refused move raises and changes nothing. See :func:`pycrm.sales.move_opportunity`.
        """
        return move_opportunity(self, opportunity, to, reason=reason, context=context)

    def review_deal(
        self,
        opportunity: Opportunity,
        *,
        success_factors: Iterable[str],
        failure_factors: Iterable[str],
        tags_to_add: Iterable[str] = (),
    ) -> Opportunity:
        """Review a won deal now, by this session's actor, and tag its customer.

        See :func:`pycrm.review_deal`; both changes are saved together or not at all.
        """
        return review_opportunity(
            self,
            opportunity,
            success_factors=success_factors,
            failure_factors=failure_factors,
            tags_to_add=tags_to_add,
        )

    def load_rates(self, base: str) -> ExchangeRates:
        """The stored rate table into ``base`` (see :func:`pycrm.load_rates`)."""
        return load_rates(self, base)

    def rfm(
        self,
        as_of: datetime | None = None,
        *,
        bins: int = DEFAULT_BINS,
        currency: str | None = None,
    ) -> RfmTable:
        """RFM scores of every customer's purchases up to ``as_of`` (default: now), computed
        where the data is and including this session's uncommitted orders.

        Without ``currency`` every purchase's total is summed as a plain number, whatever
        its currency: a shop selling in several currencies passes ``currency=``. Cancelled
        and refunded orders do not count. See :mod:`pycrm.rfm`.
        """
        self._check_open()
        when = self.now if as_of is None else check_as_of(as_of)
        bins, currency = check_bins(bins), check_currency(currency)
        return self._memo.rfm(
            rfm_key(when, bins, currency),
            lambda: self._analytics.rfm(as_of=when, bins=bins, currency=currency),
        )

    def regrade(
        self,
        scheme: GradeScheme | str,
        *,
        as_of: datetime | None = None,
        batch_size: int = REGRADE_BATCH,
    ) -> RegradeReport:
        """Grade every customer by ``scheme`` (or a registered scheme's name) at ``as_of``.

        The store decides the grades set-based, a page of ``batch_size`` customers per
        query; each customer whose grade or next follow-up (the grade's cadence from the last
        interaction) changed gets its :class:`~pycrm.CustomerGrade` written, with an audit
        entry and a ``customer_grade.changed`` event (``customer_grade.bulk_created`` for
        first grades). See :mod:`pycrm.regrade`.
        """
        self._check_open()
        return regrade(self, scheme, as_of=as_of, batch_size=batch_size)

    def explain_grade(
        self,
        customer: Customer | str,
        scheme: GradeScheme | str,
        *,
        as_of: datetime | None = None,
    ) -> GradeResult:
        """The grade ``customer`` earns by ``scheme`` now (or at ``as_of``), with every rule
        tried and the values it read."""
        self._check_open()
        return explain_grade(self, customer, scheme, as_of=as_of)

    def segment(self, name: str) -> Segment:
        """The saved segment called ``name``; raises :class:`pycrm.NotFound`."""
        found = self.segments.list(name=name, limit=1).items
        if not found:
            raise NotFound("segment", name)
        return found[0]

    def explain(
        self, rule: Any, customer: Customer | str, *, as_of: datetime | None = None
    ) -> Explanation:
        """Whether a stored customer matches ``rule`` (a rule or a saved segment), and why."""
        self._check_open()
        stored = self.customers.get(customer) if isinstance(customer, str) else customer
        context = self.customers.rule_context(as_of)
        return explain(
            rule_of(rule), stored, as_of=context.as_of, facts=customer_facts(self, stored)
        )

    def capture_lead(
        self,
        lead: Lead,
        *,
        grading: LeadGrading | None = None,
        rules: AssignmentRules | None = None,
        team: str | None = None,
        currency: str = DEFAULT_CURRENCY,
    ) -> CapturedLead:
        """Match or create the lead's customer, open a graded deal and assign it, now.

        See :func:`pycrm.leads.capture_lead`; a deal nobody can take stays unassigned.
        """
        return capture_lead(self, lead, grading=grading, rules=rules, team=team, currency=currency)

    def intake(
        self,
        channel: IntakeChannel | str,
        payload: Any,
        *,
        grading: LeadGrading | None = None,
        rules: AssignmentRules | None = None,
        team: str | None = None,
        currency: str = DEFAULT_CURRENCY,
    ) -> IntakeResult:
        """Take one inbound payload in through ``channel`` (a registered name such as
        ``"web_form"``, or a channel object): match or create the customer, log the
        interaction and, for a lead, open and assign a deal, now.

        See :func:`pycrm.intake.take_in`; a bad payload raises :class:`pycrm.ValidationError`
        and identifiers naming several customers :class:`pycrm.IdentityConflict`.
        """
        return take_in(
            self, channel, payload, grading=grading, rules=rules, team=team, currency=currency
        )

    def record_engagement(self, event: EngagementEvent) -> RecordedEngagement:
        """Put a channel's engagement event (delivered, opened, ...) on the customer's
        timeline, once however often reported; ``pycrm_engagement`` fires after commit.

        See :func:`pycrm.engagement.record_engagement`.
        """
        return record_engagement(self, event)

    def assign(
        self,
        opportunity: Opportunity,
        rules: AssignmentRules | None,
        *,
        team: str | None = None,
        lead: Lead | None = None,
    ) -> Opportunity:
        """Give ``opportunity`` to a rep now (plugins first, then ``rules``) and save it.

        Returns it unchanged when nobody is eligible. See :func:`pycrm.leads.assign_opportunity`.
        """
        return assign_opportunity(self, opportunity, rules, team=team, lead=lead)

    def earn_points(self, order: Order, rule: EarnRule | None = None) -> PointsEntry | None:
        """Write the loyalty points ``order`` earns, once per order however often asked.

        See :func:`pycrm.loyalty.earn_points`; ``None`` when the order earns nothing.
        """
        return earn_points(self, order, rule)

    def redeem_points(
        self, customer: Customer | str, points: int, *, reason: str | None = None
    ) -> PointsEntry:
        """Spend a customer's points now; refused (nothing written) when they are short.

        See :func:`pycrm.loyalty.redeem_points`.
        """
        return redeem_points(self, customer, points, reason=reason)

    def points_balance(self, customer: Customer | str, *, as_of: datetime | None = None) -> int:
        """The points a customer can spend at ``as_of`` (now when not given)."""
        return points_balance(self, customer, as_of=as_of)

    def expire_points(self, *, as_of: datetime | None = None) -> int:
        """Write off every customer's points due by ``as_of``; returns how many expired."""
        return expire_points(self, as_of=as_of)

    def next_contract_number(
        self, numbering: ContractNumbering | None = None, *, year: int | None = None
    ) -> str:
        """The next contract number of ``year`` (this year by the CRM clock if not given).

        Counts the stored contracts whose ``number_year`` is ``year``, so give the contract
        ``number_year=year`` when adding it. Contracts are terminated rather than removed, so
        the count only grows; should two sessions pick the same number, the second add
        raises :class:`pycrm.AlreadyExists` and the caller numbers again.
        """
        chosen = ContractNumbering() if numbering is None else numbering
        counted = self.now.year if year is None else year
        # Numbers are unique across the CRM, so every contract counts, not just those in reach.
        last = self._tx.table("contract").count({"number_year": counted})
        return next_number(chosen, year=counted, last_seq=last)

    @property
    def now(self) -> datetime:
        """The CRM clock's current time (UTC)."""
        return self._crm.clock.now()

    def aggregate(self, aggregation: Aggregation) -> list[tuple[Any, ...]]:
        """The rows of ``aggregation``: its group keys then its measures, one row per group
        in group order (or one row without ``group_by``), over the records this session's
        actor may see, uncommitted changes included. One ``GROUP BY`` query on SQL stores,
        the same rows on the memory store; see :class:`pycrm.analytics.Aggregation`."""
        self._check_open()
        question = checked(self, aggregation)
        return self._memo.rows(
            aggregation_key(question), lambda: self._analytics.aggregate(question)
        )

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        """A nested unit of work: when the block raises, its changes are undone (SAVEPOINT
        on SQL stores) and this session goes on as before it."""
        self._check_open()
        with self._tx.savepoint():
            yield

    def _table(self, entity_type: str) -> EntityTable[Any]:
        """``entity_type``'s table as this session's actor sees it."""
        table = self._tx.table(entity_type)
        return table if self.scope is None else table.within(self.scope)

    @property
    def _analytics(self) -> Analytics:
        """Set-based reads over what this session's actor may see."""
        analytics = self._tx.analytics
        return analytics if self.scope is None else analytics.within(self.scope)

    def _note_denied(
        self, operation: str, entity_type: str, entity_id: str, customer_id: str | None
    ) -> None:
        """Remember a refusal for the audit log; it is written once this session's
        transaction has ended, in one of its own, so a rollback cannot take it away."""
        self._denials.append(
            AuditEntry(
                at=self.now,
                actor=self.actor,
                action=ChangeKind.DENIED,
                entity_type=entity_type,
                entity_id=entity_id,
                customer_id=customer_id,
                changes={"operation": [operation, None]},
            )
        )

    def _deny(
        self, operation: str, entity_type: str, entity_id: str, customer_id: str | None
    ) -> NoReturn:
        """Refuse ``operation`` on a record out of this session's reach, auditing it."""
        self._note_denied(operation, entity_type, entity_id, customer_id)
        # "refer to customer" names the type already.
        action = operation if operation.endswith(entity_type) else f"{operation} {entity_type}"
        raise PermissionDenied(
            f"{self.actor!r} may not {action} {entity_id!r}: it is outside the actor's scope"
        )

    def _write_denials(self) -> None:
        denials, self._denials = self._denials, []
        if not denials:
            return
        try:
            with own_transaction(self._crm.store) as tx:
                tx.audit.append(denials)
        except Exception:
            log.exception("could not write %d refusal(s) to the audit log", len(denials))

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """Events raised so far; delivered to plugins after commit."""
        return tuple(self._events)

    def _check_open(self) -> None:
        if not self._open:
            raise SessionClosed("this session has already committed or rolled back")

    def _record(self, kind: ChangeKind, entity: Entity, changes: dict[str, Any]) -> None:
        now = self.now
        self._tx.audit.append(
            [
                AuditEntry(
                    at=now,
                    actor=self.actor,
                    action=kind,
                    entity_type=entity.ENTITY_TYPE,
                    entity_id=entity.id,
                    customer_id=customer_id_of(entity),
                    changes=masked_changes(changes) if changes else None,
                )
            ]
        )
        self._events.append(
            DomainEvent(
                kind=kind,
                entity_type=entity.ENTITY_TYPE,
                entity_id=entity.id,
                at=now,
                actor=self.actor,
                entity=entity,
                changes=changes,
            )
        )

    def commit(self) -> None:
        """Make the session's changes durable; plugins then receive its events."""
        self._check_open()
        events, self._events = self._events, PendingEvents()
        self._tx.after_commit(lambda: self._deliver_once(events))
        try:
            self._tx.commit()
        finally:
            self._open = False
            self._memo.clear()
            self._write_denials()

    def _deliver_once(self, events: PendingEvents) -> None:
        try:
            self._deliver(events)
        finally:
            events.clear()

    def rollback(self) -> None:
        """Discard every change of this session; its events are dropped."""
        if self._open:
            self._open = False
            self._events.clear()
            self._memo.clear()
            try:
                self._tx.rollback()
            finally:
                self._write_denials()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._open:
            return
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self._tx.rollback()
                self._write_denials()
                raise
        else:
            self.rollback()

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<Session actor={self.actor!r} {state}>"
