"""The unit of work a host uses: ``with crm.session(actor=...) as s:``.

The session sits between callers and a store: it checks references between entities, stamps
times from the CRM's clock, keeps versions, writes the audit log and collects domain events,
which reach plugins only after the store says the changes are durable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from pycrm.contracts import Contract, ContractNumbering, Receipt, next_number
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
    new_id,
)
from pycrm.domain import _convert as conv
from pycrm.domain.audit import diff, masked_changes, snapshot
from pycrm.errors import ConcurrencyConflict, NotFound, SessionClosed, ValidationError
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import EarnRule, PointsEntry
from pycrm.grading.rfm import DEFAULT_BINS, RfmTable, check_as_of, check_bins, check_currency
from pycrm.leads import DEFAULT_CURRENCY, CapturedLead, assign_opportunity, capture_lead
from pycrm.loyalty import earn_points, expire_points, points_balance, redeem_points
from pycrm.paging import Page
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
from pycrm.rates import load_rates
from pycrm.sales import move_opportunity, review_opportunity
from pycrm.storage.protocols import EntityTable, StoreTransaction
from pycrm.storage.spec import DEPENDENTS, SPEC_BY_TYPE, EntitySpec

if TYPE_CHECKING:
    from pycrm.crm import CRM

E = TypeVar("E", bound=Entity)

MAX_PAGE = 10_000
BULK_BATCH = 5_000


class Repository(Generic[E]):
    """Add, read, change and remove one kind of entity inside a session.

    Every method validates its arguments and raises a :class:`pycrm.PycrmError` subclass on
    bad input; nothing is written until the session commits.
    """

    def __init__(self, session: Session, spec: EntitySpec) -> None:
        self._session = session
        self._spec = spec
        self._entity_type = spec.entity_type

    @property
    def _table(self) -> EntityTable[E]:
        return self._session._tx.table(self._entity_type)

    def _check_type(self, entity: object) -> E:
        if not isinstance(entity, self._spec.cls):
            raise ValidationError(
                self._entity_type,
                f"expected a {self._spec.cls.__name__}, got {type(entity).__name__}",
            )
        return entity  # type: ignore[return-value]

    def _check_references(self, entities: Iterable[E]) -> None:
        for field, target in self._spec.references.items():
            wanted = {getattr(e, field) for e in entities} - {None}
            if not wanted:
                continue
            found = self._session._tx.table(target).existing(wanted)
            missing = wanted - found
            if missing:
                raise ValidationError(field, f"no {target} with id {sorted(missing)[0]!r}")

    def add(self, entity: E) -> E:
        """Store a new entity; returns it as stored (with its timestamps)."""
        self._session._check_open()
        entity = self._check_type(entity)
        self._check_references([entity])
        now = self._session.now
        stored = attrs.evolve(entity, version=1, created_at=now, updated_at=now)
        self._table.insert(stored)
        self._session._record(ChangeKind.CREATED, stored, {})
        return stored

    def add_many(self, entities: Iterable[E], *, batch_size: int = BULK_BATCH) -> int:
        """The bulk path: store many new entities set-based, ``batch_size`` rows per statement.

        One audit entry per entity and one ``<type>.bulk_created`` event for the whole call.
        Returns how many were stored.
        """
        self._session._check_open()
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        now = self._session.now
        cls = self._spec.cls
        ids: list[str] = []
        batch: list[E] = []
        for entity in entities:
            if not isinstance(entity, cls):
                self._check_type(entity)  # raises, naming the type
            batch.append(entity)
            if len(batch) >= batch_size:
                ids.extend(self._insert_batch(batch, now))
                batch = []
        if batch:
            ids.extend(self._insert_batch(batch, now))
        if ids:
            self._session._events.append(
                DomainEvent(
                    kind=ChangeKind.BULK_CREATED,
                    entity_type=self._entity_type,
                    entity_id=None,
                    at=now,
                    actor=self._session.actor,
                    entity_ids=tuple(ids),
                )
            )
        return len(ids)

    def _insert_batch(self, batch: list[E], now: datetime) -> list[str]:
        """Stamp, store and audit one batch.

        The entities were validated when they were built, and only their bookkeeping fields
        change here, so instead of ``attrs.evolve`` (which re-runs every converter of every
        field) each one is copied field by field with version and timestamps set; ``now`` is
        checked once per batch. The audit entries differ only in id, entity and customer, so
        they are copies of one validated entry. A subclass of the entity type may have
        invariants of its own and takes the validating path.
        """
        self._check_references(batch)
        stamp = conv.check_datetime(now, "created_at", required=False)
        cls = self._spec.cls
        bookkeeping = ("version", "created_at", "updated_at")
        names = [a.name for a in attrs.fields(cls) if a.name not in bookkeeping]
        new = object.__new__
        set_field = object.__setattr__
        stamped: list[E] = []
        for e in batch:
            if type(e) is not cls:
                stamped.append(attrs.evolve(e, version=1, created_at=now, updated_at=now))
                continue
            copy = new(cls)
            for name in names:
                set_field(copy, name, getattr(e, name))
            set_field(copy, "version", 1)
            set_field(copy, "created_at", stamp)
            set_field(copy, "updated_at", stamp)
            stamped.append(copy)
        self._table.insert_many(stamped)
        template = AuditEntry(
            at=now,
            actor=self._session.actor,
            action=ChangeKind.CREATED,
            entity_type=self._entity_type,
            entity_id=stamped[0].id,
        )
        shared = [
            (a.name, getattr(template, a.name))
            for a in attrs.fields(AuditEntry)
            if a.name not in ("id", "entity_id", "customer_id")
        ]
        prefix = AuditEntry.ID_PREFIX
        entries: list[AuditEntry] = []
        for e in stamped:
            entry = new(AuditEntry)
            set_field(entry, "id", new_id(prefix))
            for name, value in shared:
                set_field(entry, name, value)
            set_field(entry, "entity_id", e.id)
            set_field(entry, "customer_id", _customer_id(e))
            entries.append(entry)
        self._session._tx.audit.append(entries)
        return [e.id for e in stamped]

    def get(self, entity_id: str) -> E:
        """The stored entity with ``entity_id``; raises :class:`pycrm.NotFound`."""
        found = self.get_or_none(entity_id)
        if found is None:
            raise NotFound(self._entity_type, entity_id)
        return found

    def get_or_none(self, entity_id: str) -> E | None:
        self._session._check_open()
        conv.check_text(entity_id, "id", max_length=64, required=True)
        return self._table.get(entity_id)

    def update(self, entity: E) -> E:
        """Save a changed entity (made with ``evolve``) and return it with its new version.

        Raises :class:`pycrm.ConcurrencyConflict` if the stored version is not
        ``entity.version`` (someone else saved a change since it was read), and
        :class:`pycrm.NotFound` if it was never stored or has been removed.
        """
        self._session._check_open()
        entity = self._check_type(entity)
        before = self._table.get(entity.id)
        if before is None:
            raise NotFound(self._entity_type, entity.id)
        if before.version != entity.version:
            raise ConcurrencyConflict(self._entity_type, entity.id, entity.version)
        changes = diff(before, entity)
        if not changes:
            return before
        self._check_references([entity])
        stored = attrs.evolve(
            entity,
            version=entity.version + 1,
            created_at=before.created_at,
            updated_at=self._session.now,
        )
        if not self._table.update(stored, entity.version):
            raise ConcurrencyConflict(self._entity_type, entity.id, entity.version)
        self._session._record(ChangeKind.CHANGED, stored, changes)
        return stored

    def remove(self, entity: E | str) -> None:
        """Remove an entity (version-checked when an entity is given, not just an id).

        Refuses, with :class:`pycrm.ValidationError`, while other records point at it: a
        customer with contacts, orders, opportunities or contracts is made inactive through its
        ``status`` instead.
        """
        self._session._check_open()
        current = self.get(entity) if isinstance(entity, str) else self._check_type(entity)
        for dependent, field in DEPENDENTS[self._entity_type]:
            count = self._session._tx.table(dependent).count({field: current.id})
            if count:
                raise ValidationError(
                    self._entity_type,
                    f"{current.id!r} still has {count} {dependent} record(s) "
                    f"referring to it through {field}",
                )
        if not self._table.delete(current.id, current.version):
            if self._table.get(current.id) is None:
                raise NotFound(self._entity_type, current.id)
            raise ConcurrencyConflict(self._entity_type, current.id, current.version)
        self._session._record(ChangeKind.REMOVED, current, snapshot(current))

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        checked = {}
        for field, value in filters.items():
            if field not in self._spec.filters:
                allowed = ", ".join(sorted(self._spec.filters))
                raise ValidationError(field, f"cannot filter {self._entity_type} by it ({allowed})")
            attribute = attrs.fields_dict(self._spec.cls).get(field)
            if attribute is None:
                # A property such as an opportunity's stage: text unless the spec says otherwise.
                check = self._spec.derived.get(field)
                if check is not None and value is not None:
                    value = check(value, field)
                elif value is not None:
                    conv.check_text(value, field, max_length=200, required=True)
            elif value is not None:
                converter = attribute.converter
                # Filter values get the same checks and normalisation as the field itself.
                if isinstance(converter, attrs.Converter):
                    value = converter.converter(value, attribute)  # type: ignore[attr-defined]
                elif converter is not None:
                    value = converter(value)
            checked[field] = value
        return checked

    def list(self, *, limit: int = 100, after: str | None = None, **filters: Any) -> Page[E]:
        """A page of entities in id (creation) order, filtered by field equality."""
        self._session._check_open()
        conv.check_int(limit, "limit", minimum=1, required=True)
        if limit > MAX_PAGE:
            raise ValidationError("limit", f"at most {MAX_PAGE} per page; use stream() for more")
        conv.check_text(after, "after", max_length=64, required=False)
        items = self._table.page(after=after, limit=limit, filters=self._filters(filters))
        next_after = items[-1].id if len(items) == limit else None
        return Page(items, next_after)

    def stream(self, *, batch_size: int = 1000, **filters: Any) -> Iterator[E]:
        """Every matching entity, fetched ``batch_size`` at a time (constant memory)."""
        after: str | None = None
        while True:
            page = self.list(limit=batch_size, after=after, **filters)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def count(self, **filters: Any) -> int:
        self._session._check_open()
        return self._table.count(self._filters(filters))


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
        return self._session._tx.audit.for_entity(entity_type, entity_id)


class Session:
    """One unit of work. Use as a context manager: it commits when the block ends normally and
    rolls back on any exception, so nothing is ever half-written."""

    customers: Repository[Customer]
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

    def __init__(
        self,
        crm: CRM,
        tx: StoreTransaction,
        *,
        actor: str,
        deliver: Callable[[list[DomainEvent]], None],
    ) -> None:
        self._crm = crm
        self._tx = tx
        self.actor = actor
        self._deliver = deliver
        self._events: list[DomainEvent] = []
        self._open = True
        self.customers = Repository(self, SPEC_BY_TYPE["customer"])
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
        return self._tx.analytics.rfm(
            as_of=when, bins=check_bins(bins), currency=check_currency(currency)
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
        last = self.contracts.count(number_year=counted)
        return next_number(chosen, year=counted, last_seq=last)

    @property
    def now(self) -> datetime:
        """The CRM clock's current time (UTC)."""
        return self._crm.clock.now()

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
                    customer_id=_customer_id(entity),
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
        events, self._events = self._events, []
        self._tx.after_commit(lambda: self._deliver(events))
        try:
            self._tx.commit()
        finally:
            self._open = False

    def rollback(self) -> None:
        """Discard every change of this session; its events are dropped."""
        if self._open:
            self._open = False
            self._events.clear()
            self._tx.rollback()

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
                raise
        else:
            self.rollback()

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<Session actor={self.actor!r} {state}>"


def _customer_id(entity: Entity) -> str | None:
    if isinstance(entity, Customer):
        return entity.id
    value = getattr(entity, "customer_id", None)
    return value if isinstance(value, str) else None
