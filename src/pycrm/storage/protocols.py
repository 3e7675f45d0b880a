"""The contract between the session layer and a storage backend.

A backend implements :class:`Store`; each :meth:`Store.begin` returns a
:class:`StoreTransaction` whose tables hold one entity type each. The session layer on top
adds validation of references, timestamps, the audit log and events, so a backend only stores
and finds. ``pycrm.testing.StoreContract`` checks a backend against these promises.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pycrm.access.scope import Scope
from pycrm.analytics.aggregate import Aggregation
from pycrm.analytics.lines import LineSales
from pycrm.analytics.visits import StageClosures, StageEntries, StageStays, Window
from pycrm.domain import AuditEntry, Customer, Entity
from pycrm.grading.candidates import GradeCandidate
from pycrm.grading.churn import ChurnPolicy, ChurnSignals
from pycrm.grading.evaluate import RuleContext
from pycrm.grading.expr import Expr
from pycrm.grading.rfm import RfmTable
from pycrm.outbox.message import OutboxMessage, OutboxStatus

E = TypeVar("E", bound=Entity)


class EntityTable(Protocol[E]):
    """Stored entities of one type, inside one transaction."""

    def insert(self, entity: E) -> None:
        """Store a new entity. Raises ``AlreadyExists`` on a taken id or unique key."""
        ...

    def insert_many(self, entities: Sequence[E]) -> None:
        """Store many new entities at once; all or none (the transaction rolls back on error)."""
        ...

    def get(self, entity_id: str) -> E | None: ...

    def update(self, entity: E, expected_version: int) -> bool:
        """Replace the stored entity if its version is ``expected_version``.

        Returns ``False`` (and changes nothing) when no such row exists at that version.
        Raises ``AlreadyExists`` when the change would break a unique key.
        """
        ...

    def delete(self, entity_id: str, expected_version: int) -> bool:
        """Delete the entity if stored at ``expected_version``; ``False`` when not."""
        ...

    def page(self, *, after: str | None, limit: int, filters: Mapping[str, Any]) -> list[E]:
        """Up to ``limit`` entities matching ``filters`` (equality), ordered by id, with id
        greater than ``after``."""
        ...

    def count(self, filters: Mapping[str, Any]) -> int: ...

    def existing(self, ids: Collection[str]) -> set[str]:
        """The subset of ``ids`` that are stored (one set-based query, not one per id)."""
        ...

    def within(self, scope: Scope) -> EntityTable[E]:
        """This table as an actor in ``scope`` sees it: the same transaction's rows, with
        the scope added to every query and write (``get`` of a row out of scope answers
        ``None``, ``update``/``delete`` of one ``False``). Customers are tested themselves,
        records with a ``customer_id`` through their customer (none without one); other
        types, and the scope of everything, return the table itself."""
        ...

    def reassign(
        self,
        field: str,
        old: Collection[str],
        new: str,
        *,
        now: datetime,
        only: Collection[str] | None = None,
    ) -> list[str]:
        """Point every entity whose reference ``field`` is in ``old`` (and, with ``only``,
        whose id is in ``only``) at ``new``: set-based, each one's version raised by one and
        ``updated_at`` set to ``now``. Returns the ids moved, in id order. A merge moves a
        customer's records this way instead of reading and writing them one by one.
        """
        ...


class AuditTable(Protocol):
    """Append-only audit entries."""

    def append(self, entries: Sequence[AuditEntry]) -> None: ...

    def for_entity(self, entity_type: str, entity_id: str) -> list[AuditEntry]:
        """Entries of one entity, oldest first."""
        ...

    def page(
        self, *, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[AuditEntry]:
        """Up to ``limit`` entries at or after ``since``, in ``(at, id)`` order, following
        the entry ``(at, id)`` given as ``after``: the audit export reads the log this way."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete every entry older than ``before`` (set-based); returns how many."""
        ...

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        """Entries concerning one customer (itself and its records), oldest first."""
        ...

    def redact(self, changes: Mapping[str, Mapping[str, list[Any]] | None]) -> None:
        """Replace the ``changes`` of the entries with these ids: the one exception to
        append-only, for erasing a person's data on request."""
        ...


class Analytics(Protocol):
    """Set-based reads over one transaction's data: segments, grades, RFM.

    Each method answers in one pass where the data lives (SQL on SQL stores), and sees the
    transaction's own uncommitted changes, so both stores give the same answers.
    """

    def customers(
        self, rule: Expr, context: RuleContext, *, after: str | None, limit: int
    ) -> list[Customer]:
        """Up to ``limit`` customers matching ``rule`` in ``context``, in id order, with id
        greater than ``after``; as :func:`pycrm.grading.evaluate.evaluate` decides (true,
        not unknown)."""
        ...

    def count_customers(self, rule: Expr, context: RuleContext) -> int: ...

    def grade_candidates(
        self,
        grades: Sequence[tuple[str, Expr]],
        context: RuleContext,
        *,
        scheme: str,
        after: str | None,
        limit: int,
    ) -> list[GradeCandidate]:
        """A page of customers (id order, after ``after``) with the first grade whose rule
        matches (``None`` if none does), the last interaction time and the grade stored for
        ``scheme``."""
        ...

    def churn_signals(
        self, policy: ChurnPolicy, context: RuleContext, *, after: str | None, limit: int
    ) -> list[ChurnSignals]:
        """A page of customers (id order, after ``after``) whose signals make them a churn
        risk under ``policy``. The caller words each risk with
        :func:`pycrm.grading.churn.assess`, which also drops any customer a store let
        through that is not at risk; a store must never leave one out."""
        ...

    def aggregate(self, aggregation: Aggregation) -> list[tuple[Any, ...]]:
        """The rows of ``aggregation`` (its filters already checked by the session): group
        keys then measures, one row per group in group order (``None`` first), or one row
        without ``group_by``. Enum values as their text, sums of whole numbers as ``int``."""
        ...

    def stage_entries(self, window: Window) -> list[StageEntries]:
        """Opportunity stage visits begun in ``window``, counted by pipeline, stage and the
        stage entered next (``None`` while current), in that order, ``None`` first."""
        ...

    def stage_stays(self, window: Window) -> list[StageStays]:
        """Opportunity stage visits ended in ``window``, counted with their total length in
        whole microseconds, by pipeline and stage, in that order."""
        ...

    def stage_closures(self, window: Window) -> list[StageClosures]:
        """Opportunities whose ``closed_at`` is in ``window``, counted (each deal once) by
        pipeline, every stage in their history, and outcome, in that order."""
        ...

    def line_sales(self, window: Window, statuses: Collection[str]) -> list[LineSales]:
        """Lines of the orders placed in ``window`` with one of ``statuses``, by SKU,
        currency and unit price (in that order, no SKU first), counted with their summed
        quantity."""
        ...

    def rfm(self, *, as_of: datetime, bins: int, currency: str | None) -> RfmTable:
        """RFM scores of every customer with purchases at or before ``as_of`` (see
        :func:`pycrm.rfm.score`, which the answer must equal). With ``currency``, only
        orders in that currency count; without, every purchase's total is summed as is."""
        ...

    def points_holders(self, *, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` ids of customers with loyalty points entries, in id order, greater
        than ``after``: expiry walks only the customers it concerns, a page at a time."""
        ...

    def within(self, scope: Scope) -> Analytics:
        """These reads over the customers in ``scope`` and their records only."""
        ...


class OutboxQueue(Protocol):
    """Claiming outbox messages for delivery (see :mod:`pycrm.outbox`)."""

    def claim(
        self, *, worker: str, claim: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages (pending and due, or sending with a lapsed lease),
        oldest due first, for ``worker``: each gets ``claim`` and ``claimed_until = now +
        lease``, one more attempt and a new version, as :func:`pycrm.outbox.policy.claimed`
        describes. Two transactions claiming at once never get the same message."""
        ...

    def purge(self, *, before: datetime, statuses: Collection[OutboxStatus]) -> int:
        """Delete the messages in ``statuses`` whose ``updated_at`` is before ``before``,
        set-based, in this transaction; returns how many. Only final statuses (``sent``,
        ``dead``) may be named: any other raises ``ValidationError("statuses")``."""
        ...


class StoreTransaction(Protocol):
    """One unit of work: everything done through it commits or rolls back together."""

    def table(self, entity_type: str) -> EntityTable[Any]:
        """The table of ``entity_type`` (a name from ``pycrm.storage.spec.SPECS``)."""
        ...

    @property
    def audit(self) -> AuditTable: ...

    @property
    def analytics(self) -> Analytics:
        """Set-based reads over this transaction's data (see :class:`Analytics`)."""
        ...

    @property
    def outbox(self) -> OutboxQueue:
        """Claims on the outbox (see :class:`OutboxQueue`)."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested unit of work: when the block raises, every change made in it is undone
        and the transaction goes on as it was before the block (on PostgreSQL, usable again
        after a failed statement); when it ends normally its changes stay pending."""
        ...

    def commit(self) -> None:
        """Make every change durable. May raise ``ConcurrencyConflict``."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the changes are durable: right after :meth:`commit`, or,
        for a transaction joined to a host's connection, when the host commits its
        transaction (never, if the host rolls back)."""
        ...

    def rollback(self) -> None: ...


class Store(Protocol):
    """A storage backend."""

    def begin(self, *, connection: Any = None) -> StoreTransaction:
        """Start a transaction. SQL stores accept a host's SQLAlchemy ``Connection`` in a
        transaction it controls; they then neither commit nor roll it back on their own."""
        ...

    def close(self) -> None: ...
