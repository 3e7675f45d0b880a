"""The store contract: a hypothesis state machine that checks a store against a plain model.

A third-party store author subclasses :class:`StoreContract`, sets ``store_factory`` to a
callable returning a fresh, empty store, and exposes ``TestCase``::

    class MyStoreContract(StoreContract):
        store_factory = staticmethod(lambda: MyStore(...))

    TestMyStore = MyStoreContract.TestCase

Each hypothesis example gets a new store; the machine runs random sessions (adds, bulk adds,
updates, stale updates, removals, merges, sessions that fail half-way) through the public API and
checks after every step that the store holds exactly what the model says, grades and loyalty
points included; now and then it checks that grouped counts and sums (``s.aggregate``, what
reports are built from) agree with the model too, and that a session scoped to some owners,
teams or regions (see ``EntityTable.within``) reads and writes exactly what is in reach.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pycrm.access import Actor, Scope
from pycrm.analytics.aggregate import Aggregation, Count, Sum, sort_key
from pycrm.clock import FixedClock
from pycrm.crm import CRM
from pycrm.domain import Contact, Customer, LifecycleStatus, Order
from pycrm.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.loyalty import PointsEntry
from pycrm.merge import merge_customers
from pycrm.plugins import hookimpl
from pycrm.storage.protocols import Store
from pycrm.testing import strategies as pst


class _Boom(Exception):
    """Raised inside a session on purpose to prove it rolls back."""


class _Authority:
    """Gives every session opened for an :class:`~pycrm.Actor` the scope a rule drew."""

    def __init__(self) -> None:
        self.scope: Scope = Scope.none()

    @hookimpl
    def pycrm_authorize(self, actor: Actor, crm: CRM) -> Scope:
        return self.scope


class StoreContract(RuleBasedStateMachine):
    """Subclass with ``store_factory`` set; run ``YourSubclass.TestCase`` under pytest."""

    store_factory: ClassVar[Callable[[], Store] | None] = None

    customer_ids = Bundle("customer_ids")
    contact_ids = Bundle("contact_ids")

    def __init__(self) -> None:
        super().__init__()
        factory = type(self).store_factory
        if factory is None:
            raise ConfigurationError(f"{type(self).__name__} must set store_factory")
        self.clock = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc))
        self.authority = _Authority()
        self.crm = CRM(factory(), clock=self.clock, plugins=[self.authority])
        self.customers: dict[str, Customer] = {}
        self.contacts: dict[str, Contact] = {}
        self.orders: dict[str, Order] = {}
        self.grades: dict[str, CustomerGrade] = {}
        self.points: dict[str, PointsEntry] = {}

    def teardown(self) -> None:
        self.crm.close()

    def _tick(self) -> None:
        self.clock.advance(seconds=1)

    def _member_taken(self, customer: Customer, *, ignore: str | None = None) -> bool:
        return customer.member_id is not None and any(
            c.member_id == customer.member_id and c.id != ignore for c in self.customers.values()
        )

    # -- rules ---------------------------------------------------------------------------

    @rule(target=customer_ids, customer=pst.customers())
    def add_customer(self, customer: Customer) -> str:
        self._tick()
        if self._member_taken(customer):
            try:
                with self.crm.session(actor="contract") as s:
                    s.customers.add(customer)
            except AlreadyExists:
                return customer.id
            raise AssertionError("a duplicate member_id was accepted")
        with self.crm.session(actor="contract") as s:
            stored = s.customers.add(customer)
        assert stored.version == 1
        assert stored.created_at == self.clock.now()
        assert attrs.evolve(stored, created_at=None, updated_at=None) == customer
        self.customers[stored.id] = stored
        return stored.id

    @rule(batch=st.lists(pst.customers(), min_size=1, max_size=8))
    def add_many_customers(self, batch: list[Customer]) -> None:
        self._tick()
        member_ids = [c.member_id for c in batch if c.member_id is not None]
        clash = len(member_ids) != len(set(member_ids)) or any(self._member_taken(c) for c in batch)
        try:
            with self.crm.session(actor="contract") as s:
                assert s.customers.add_many(batch) == len(batch)
        except AlreadyExists:
            assert clash, "add_many refused a batch without duplicates"
            return
        assert not clash, "add_many accepted a duplicate member_id"
        now = self.clock.now()
        for customer in batch:
            self.customers[customer.id] = attrs.evolve(customer, created_at=now, updated_at=now)

    @rule(
        customer_id=customer_ids,
        name=pst.texts(40),
        status=st.sampled_from(LifecycleStatus),
        tags=pst.tags(),
    )
    def update_customer(
        self, customer_id: str, name: str, status: LifecycleStatus, tags: frozenset[str]
    ) -> None:
        self._tick()
        current = self.customers.get(customer_id)
        with self.crm.session(actor="contract") as s:
            if current is None:
                try:
                    s.customers.get(customer_id)
                except NotFound:
                    return
                raise AssertionError("a removed customer can still be read")
            changed = current.evolve(name=name, status=status, tags=tags)
            stored = s.customers.update(changed)
        if changed == current:
            assert stored == current
        else:
            assert stored.version == current.version + 1
            assert stored.updated_at == self.clock.now()
            assert stored.name == name
        self.customers[customer_id] = stored

    @rule(customer_id=customer_ids, name=pst.texts(40))
    def stale_update_conflicts(self, customer_id: str, name: str) -> None:
        self._tick()
        current = self.customers.get(customer_id)
        if current is None:
            return
        # The first change must change something: an update that changes nothing keeps the
        # version, and the stale one would then rightly succeed.
        renamed = f"{name} (first)" if current.name != f"{name} (first)" else f"{name} (again)"
        with self.crm.session(actor="first") as s:
            first = s.customers.update(current.evolve(name=renamed))
        self.customers[customer_id] = first
        try:
            with self.crm.session(actor="second") as s:
                s.customers.update(current.evolve(name=f"{name} (second)"))
        except ConcurrencyConflict:
            pass
        else:
            raise AssertionError("a stale update was accepted and the first one lost")

    @rule(customer_id=customer_ids, contact=st.data())
    def add_contact(self, customer_id: str, contact: st.DataObject) -> None:
        self._tick()
        drawn: Contact = contact.draw(pst.contacts(customer_id))
        if customer_id not in self.customers:
            try:
                with self.crm.session(actor="contract") as s:
                    s.contacts.add(drawn)
            except ValidationError as exc:
                assert exc.field == "customer_id"
                return
            raise AssertionError("a contact of a missing customer was accepted")
        with self.crm.session(actor="contract") as s:
            stored = s.contacts.add(drawn)
        self.contacts[stored.id] = stored

    @rule(customer_id=customer_ids, data=st.data())
    def add_order(self, customer_id: str, data: st.DataObject) -> None:
        self._tick()
        if customer_id not in self.customers:
            return
        order: Order = data.draw(pst.orders(customer_id))
        with self.crm.session(actor="contract") as s:
            stored = s.orders.add(order)
        self.orders[stored.id] = stored

    @rule(
        customer_id=customer_ids,
        scheme=st.sampled_from(["value_tier", "churn"]),
        grade=st.sampled_from([None, "A", "B"]),
    )
    def grade_customer(self, customer_id: str, scheme: str, grade: str | None) -> None:
        """One stored grade per customer and scheme: the first is added, later ones update it,
        and a second row for the same key is refused."""
        self._tick()
        if customer_id not in self.customers:
            return
        graded = CustomerGrade(
            customer_id=customer_id, scheme=scheme, grade=grade, graded_at=self.clock.now()
        )
        current = self.grades.get(graded.key)
        with self.crm.session(actor="contract") as s:
            if current is None:
                stored = s.customer_grades.add(graded)
            else:
                stored = s.customer_grades.update(
                    current.evolve(grade=grade, graded_at=graded.graded_at)
                )
        self.grades[stored.key] = stored
        try:
            with self.crm.session(actor="contract") as s:
                s.customer_grades.add(graded)
        except AlreadyExists:
            pass
        else:
            raise AssertionError("a second grade for one customer and scheme was accepted")

    @rule(data=st.data())
    def earn_points(self, data: st.DataObject) -> None:
        """Earning on an order writes at most one entry, however often it is asked."""
        self._tick()
        if not self.orders:
            return
        order = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        if order.placed_at > self.clock.now():
            return
        with self.crm.session(actor="contract") as s:
            entry = s.earn_points(order)
            assert s.earn_points(order) == entry
        if entry is not None:
            assert self.points.get(entry.id, entry) == entry
            self.points[entry.id] = entry

    @rule(customer_id=consumes(customer_ids))
    def remove_customer(self, customer_id: str) -> None:
        self._tick()
        current = self.customers.get(customer_id)
        if current is None:
            return
        has_dependents = any(
            record.customer_id == customer_id
            for records in (self.contacts, self.orders, self.grades, self.points)
            for record in records.values()
        )
        try:
            with self.crm.session(actor="contract") as s:
                s.customers.remove(current)
        except ValidationError:
            assert has_dependents, "a customer without dependents could not be removed"
            return
        assert not has_dependents, "a customer was removed while records still point at it"
        del self.customers[customer_id]

    @rule(survivor_id=customer_ids, duplicate_id=consumes(customer_ids))
    def merge_customers(self, survivor_id: str, duplicate_id: str) -> None:
        """A merge moves every record of the duplicate to the survivor (a new version each),
        except a grade in a scheme the survivor holds too, and removes the duplicate."""
        self._tick()
        survivor = self.customers.get(survivor_id)
        duplicate = self.customers.get(duplicate_id)
        if survivor is None or duplicate is None or survivor_id == duplicate_id:
            return
        with self.crm.session(actor="contract") as s:
            s.customers.merge(survivor, [duplicate])
        now = self.clock.now()

        def moved(record: Any) -> Any:
            return attrs.evolve(
                record, customer_id=survivor_id, version=record.version + 1, updated_at=now
            )

        owned: tuple[dict[str, Any], ...] = (self.contacts, self.orders, self.points)
        for records in owned:
            for key, record in list(records.items()):
                if record.customer_id == duplicate_id:
                    records[key] = moved(record)
        for key, grade in list(self.grades.items()):
            if grade.customer_id == duplicate_id:
                del self.grades[key]
                if f"{grade.scheme}/{survivor_id}" not in self.grades:
                    kept = moved(grade)
                    self.grades[kept.key] = kept
        del self.customers[duplicate_id]
        merged = merge_customers(survivor, [duplicate])
        if merged != survivor:
            merged = attrs.evolve(merged, version=survivor.version + 1, updated_at=now)
        self.customers[survivor_id] = merged

    @rule(customer=pst.customers(), customer_id=customer_ids)
    def failed_session_changes_nothing(self, customer: Customer, customer_id: str) -> None:
        self._tick()
        current = self.customers.get(customer_id)
        try:
            with self.crm.session(actor="contract") as s:
                s.customers.add(customer)
                if current is not None:
                    s.customers.update(current.evolve(name="never saved"))
                raise _Boom
        except _Boom:
            pass
        except AlreadyExists:
            assert self._member_taken(customer)

    @rule(scope=pst.scopes(), data=st.data())
    def scoped_session_sees_its_scope(self, scope: Scope, data: st.DataObject) -> None:
        """A session for an actor with ``scope`` reads exactly the model's customers in it
        and their records, with ``count`` agreeing; it may rename one in reach, and an update
        out of reach is refused without effect (the invariant checks the store after)."""
        self._tick()
        self.authority.scope = scope
        reach = {k for k, c in self.customers.items() if scope.allows(c)}

        def theirs(records: dict[str, Any]) -> list[Any]:
            return [r for _, r in sorted(records.items()) if r.customer_id in reach]

        actor = Actor("contract-scoped")
        with self.crm.session(actor=actor) as s:
            assert s.customers.count() == len(reach)
            assert list(s.customers.stream(batch_size=3)) == [
                self.customers[k] for k in sorted(reach)
            ]
            status = data.draw(st.sampled_from(LifecycleStatus))
            assert s.customers.count(status=status) == sum(
                1 for k in reach if self.customers[k].status is status
            )
            assert list(s.contacts.stream()) == theirs(self.contacts)
            assert list(s.orders.stream()) == theirs(self.orders)
            assert s.orders.count() == len(theirs(self.orders))
            grades = sorted(self.grades.values(), key=lambda g: g.id)
            assert list(s.customer_grades.stream()) == [g for g in grades if g.customer_id in reach]
            assert list(s.points.stream()) == theirs(self.points)
            statuses: dict[tuple[Any, ...], int] = defaultdict(int)
            for customer_id in reach:
                statuses[(self.customers[customer_id].status.value,)] += 1
            assert s.aggregate(
                Aggregation(entity="customer", group_by=("status",), measures=(Count(),))
            ) == [(*key, n) for key, n in sorted(statuses.items())]
            for customer_id, customer in sorted(self.customers.items()):
                expected = customer if customer_id in reach else None
                assert s.customers.get_or_none(customer_id) == expected
        if reach:
            current = self.customers[data.draw(st.sampled_from(sorted(reach)))]
            with self.crm.session(actor=actor) as s:
                name = "renamed in scope" if current.name != "renamed in scope" else "renamed again"
                renamed = s.customers.update(current.evolve(name=name))
            assert renamed.version == current.version + 1
            self.customers[current.id] = renamed
        outside = sorted(set(self.customers) - reach)
        if outside:
            target = self.customers[data.draw(st.sampled_from(outside))]
            try:
                with self.crm.session(actor=actor) as s:
                    s.customers.update(target.evolve(name="renamed out of reach"))
            except PermissionDenied:
                pass
            else:
                raise AssertionError("an update of a customer out of reach was accepted")

    @rule()
    def aggregates_match_model(self) -> None:
        """Grouped counts and sums (what every report is built from) agree with the model:
        orders by their customer's region and currency, customers by status."""
        orders: dict[tuple[Any, ...], list[Decimal]] = defaultdict(list)
        for order in self.orders.values():
            region = self.customers[order.customer_id].region
            orders[(region, order.total.currency)].append(order.total.amount)
        statuses: dict[tuple[Any, ...], int] = defaultdict(int)
        for customer in self.customers.values():
            statuses[(customer.status.value,)] += 1
        with self.crm.session(actor="contract") as s:
            found = s.aggregate(
                Aggregation(
                    entity="order",
                    group_by=("customer.region", "total_currency"),
                    measures=(Count(), Sum("total_amount")),
                )
            )
            assert [(*key, n, Decimal(total)) for *key, n, total in found] == [
                (*key, len(amounts), sum(amounts, Decimal(0)))
                for key, amounts in sorted(orders.items(), key=lambda kv: sort_key(kv[0], 2))
            ]
            by_status = s.aggregate(
                Aggregation(entity="customer", group_by=("status",), measures=(Count(),))
            )
            assert by_status == [(*key, n) for key, n in sorted(statuses.items())]

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def store_matches_model(self) -> None:
        with self.crm.session(actor="contract") as s:
            assert s.customers.count() == len(self.customers)
            assert list(s.customers.stream(batch_size=7)) == [
                self.customers[k] for k in sorted(self.customers)
            ]
            assert list(s.contacts.stream()) == [self.contacts[k] for k in sorted(self.contacts)]
            assert list(s.orders.stream()) == [self.orders[k] for k in sorted(self.orders)]
            grades = sorted(self.grades.values(), key=lambda g: g.id)
            assert list(s.customer_grades.stream()) == grades
            assert list(s.points.stream()) == [self.points[k] for k in sorted(self.points)]
            for status in LifecycleStatus:
                expected = sum(1 for c in self.customers.values() if c.status is status)
                assert s.customers.count(status=status) == expected
