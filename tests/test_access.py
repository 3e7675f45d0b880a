"""Record-level access on every backend: each actor sees and changes only its scope, the
store enforces it in its queries, and every refusal is audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import find, given

from pycrm import (
    CRM,
    Actor,
    ChangeKind,
    Contact,
    Customer,
    F,
    MergeLog,
    Money,
    NotFound,
    Order,
    PermissionDenied,
    Role,
    Scope,
    Task,
    ValidationError,
    hookimpl,
)
from pycrm.access import builtin_scope
from pycrm.domain.ids import new_id
from pycrm.storage import AllOf, AnyOf, FieldIn
from pycrm.storage.scoping import SCOPED_TYPES
from pycrm.storage.spec import SPEC_BY_TYPE
from pycrm.storage.sqlalchemy import SqlStore
from pycrm.testing import strategies as pst

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

PEOPLE = [
    # name, owner, team, region
    ("Ann Co", "ann", "east", "north"),
    ("Ann Two", "ann", "west", "south"),
    ("Bob Co", "bob", "east", "north"),
    ("Cid Co", "cid", "west", "south"),
    ("Nobody Co", None, None, None),
]
ANN = Actor("ann")
SUE = Actor("sue", role="supervisor", teams=["east"])
ROOT = Actor("root", role=Role.ADMIN)


@pytest.fixture
def world(crm: CRM) -> dict[str, Customer]:
    """Five customers, each with a contact, an order and a task, stored by a system actor."""
    by_name: dict[str, Customer] = {}
    with crm.session(actor="seed") as s:
        for i, (name, owner, team, region) in enumerate(PEOPLE):
            c = s.customers.add(
                Customer(kind="company", name=name, owner=owner, team=team, region=region)
            )
            by_name[name] = c
            s.contacts.add(Contact(customer_id=c.id, name=f"Contact of {name}"))
            s.orders.add(
                Order(
                    number=f"SO-{i}",
                    customer_id=c.id,
                    placed_at=START,
                    total=Money(Decimal(100 + i), "CNY"),
                )
            )
            s.tasks.add(Task(subject=f"Call {name}", due_at=START, customer_id=c.id))
        s.tasks.add(Task(subject="Tidy the desk", due_at=START))
    return by_name


def names(customers: Any) -> set[str]:
    return {c.name for c in customers}


EXPECTED = {
    "ann": {"Ann Co", "Ann Two"},
    "sue": {"Ann Co", "Bob Co"},
    "root": {name for name, *_ in PEOPLE},
}


@pytest.mark.parametrize("actor", [ANN, SUE, ROOT], ids=lambda a: a.name)
def test_each_role_sees_exactly_its_customers_through_every_read(
    crm: CRM, world: dict[str, Customer], actor: Actor
) -> None:
    expected = EXPECTED[actor.name]
    hidden = {name for name, *_ in PEOPLE} - expected
    with crm.session(actor=actor) as s:
        assert names(s.customers.list().items) == expected
        assert names(s.customers.stream(batch_size=1)) == expected
        assert s.customers.count() == len(expected)
        assert s.customers.count(team="east") == len(expected & {"Ann Co", "Bob Co"})
        assert names(s.customers.find(F.kind == "company")) == expected
        assert s.customers.count(F.kind == "company") == len(expected)
        for name in expected:
            assert s.customers.get(world[name].id).name == name
        for name in hidden:
            with pytest.raises(NotFound):
                s.customers.get(world[name].id)
            assert s.customers.get_or_none(world[name].id) is None
        # Their records follow the customer.
        visible_ids = {world[name].id for name in expected}
        for repo in (s.contacts, s.orders):
            items = list(repo.stream())
            assert {i.customer_id for i in items} == visible_ids
            assert repo.count() == len(expected)
            assert len(repo.list(limit=10).items) == len(expected)
        tasks = list(s.tasks.stream())
        # A task without a customer belongs to no scope but everything.
        assert len(tasks) == len(expected) + (1 if actor is ROOT else 0)
        for name in hidden:
            assert s.contacts.count(customer_id=world[name].id) == 0
            assert s.orders.list(customer_id=world[name].id).items == []
        assert {row.customer_id for row in s.rfm(START)} == visible_ids


def test_a_string_actor_is_an_unrestricted_system_actor(
    crm: CRM, world: dict[str, Customer]
) -> None:
    with crm.session(actor="nightly-import") as s:
        assert s.scope is None
        assert s.customers.count() == len(PEOPLE)
        assert s.tasks.count() == len(PEOPLE) + 1


def test_reads_out_of_scope_answer_not_found_and_are_audited(
    crm: CRM, world: dict[str, Customer]
) -> None:
    cid = world["Cid Co"]
    with crm.session(actor=ANN) as s, pytest.raises(NotFound):
        s.customers.get(cid.id)
    with crm.session() as s:
        denied = [e for e in s.audit.for_entity(cid) if e.action is ChangeKind.DENIED]
    assert [(e.actor, e.changes) for e in denied] == [("ann", {"operation": ["read", None]})]


def refusals(crm: CRM, entity_type: str, entity_id: str) -> list[str]:
    with crm.session() as s:
        entries = s.audit.for_entity(entity_id, entity_type)
    return [e.changes["operation"][0] for e in entries if e.action is ChangeKind.DENIED]


def snapshot(crm: CRM) -> dict[str, list[Any]]:
    with crm.session() as s:
        return {
            "customers": list(s.customers.stream()),
            "contacts": list(s.contacts.stream()),
            "orders": list(s.orders.stream()),
        }


def test_writes_out_of_scope_are_refused_audited_and_change_nothing(
    crm: CRM, world: dict[str, Customer]
) -> None:
    before = snapshot(crm)
    cid = world["Cid Co"]
    attempts = [
        lambda s: s.customers.update(cid.evolve(name="Mine now")),
        lambda s: s.customers.remove(cid.id),
        lambda s: s.customers.remove(cid),
        lambda s: s.customers.add(Customer(kind="company", name="For Bob", owner="bob")),
        lambda s: s.contacts.add(Contact(customer_id=cid.id, name="Sneaky")),
        # Giving one's own customer away would take it out of reach: refused as well.
        lambda s: s.customers.update(s.customers.get(world["Ann Co"].id).evolve(owner="bob")),
        # So is moving one's own record to someone else's customer.
        lambda s: s.contacts.update(
            s.contacts.list(customer_id=world["Ann Co"].id).items[0].evolve(customer_id=cid.id)
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied), crm.session(actor=ANN) as s:
            s.customers.add(Customer(kind="company", name="Rolled back", owner="ann"))
            attempt(s)
    assert snapshot(crm) == before
    assert refusals(crm, "customer", cid.id) == [
        "update",
        "remove",
        "remove",
        "refer to customer",
        "refer to customer",
    ]
    assert refusals(crm, "customer", world["Ann Co"].id) == ["update"]


def test_refusal_names_the_operation_and_the_record(crm: CRM, world: dict[str, Customer]) -> None:
    cid = world["Cid Co"].id
    with pytest.raises(PermissionDenied) as refused, crm.session(actor=ANN) as s:
        s.contacts.add(Contact(customer_id=cid, name="Sneaky"))
    assert str(refused.value) == (
        f"'ann' may not refer to customer {cid!r}: it is outside the actor's scope"
    )
    with pytest.raises(PermissionDenied) as refused, crm.session(actor=ANN) as s:
        s.customers.remove(cid)
    assert str(refused.value).startswith(f"'ann' may not remove customer {cid!r}:")


def test_writes_in_scope_work_for_the_actor(crm: CRM, world: dict[str, Customer]) -> None:
    with crm.session(actor=ANN) as s:
        mine = s.customers.add(Customer(kind="company", name="New", owner="ann"))
        s.contacts.add(Contact(customer_id=mine.id, name="Someone"))
        s.customers.update(mine.evolve(name="Renamed"))
    with crm.session(actor=SUE) as s:
        bob = s.customers.get(world["Bob Co"].id)
        s.customers.update(bob.evolve(name="Bob & Sons"))
    with crm.session(actor="seed") as s:
        assert s.customers.get(mine.id).name == "Renamed"
        assert s.customers.get(bob.id).name == "Bob & Sons"
        assert s.audit.for_entity(mine)[-1].actor == "ann"


def test_an_admin_changes_anything_and_an_id_that_does_not_exist_is_not_found(
    crm: CRM, world: dict[str, Customer]
) -> None:
    with crm.session(actor=ROOT) as s:
        s.customers.update(world["Cid Co"].evolve(owner="ann"))
        with pytest.raises(NotFound):
            s.customers.remove("cus_missing")
    with crm.session(actor=ANN) as s:
        assert "Cid Co" in names(s.customers.stream())
        # For a scoped actor a missing id and one out of reach look alike.
        with pytest.raises(PermissionDenied):
            s.customers.remove("cus_missing")


def test_the_audit_history_of_a_record_out_of_reach_is_not_shown(
    crm: CRM, world: dict[str, Customer]
) -> None:
    with crm.session(actor=ANN) as s:
        assert s.audit.for_entity(world["Cid Co"]) == []
        assert [e.action for e in s.audit.for_entity(world["Ann Co"])] == [ChangeKind.CREATED]


def test_merge_logs_are_seen_and_written_only_where_the_survivor_is(
    crm: CRM, world: dict[str, Customer]
) -> None:
    """A merge log holds the duplicates' full snapshots (names, phones, ...), so it follows
    its survivor's scope although no reference ties it to the survivor."""
    with crm.session(actor=ROOT) as s:
        copy = s.customers.add(Customer(kind="company", name="Cid Copy", owner="cid"))
        log = s.customers.merge(world["Cid Co"].id, [copy.id])
        mine = s.customers.add(Customer(kind="company", name="Ann Copy", owner="ann"))
        own_log = s.customers.merge(world["Ann Co"].id, [mine.id])
    with crm.session(actor=ANN) as s:
        assert [m.id for m in s.merge_logs.stream()] == [own_log.id]
        assert s.merge_logs.count() == 1
        assert s.merge_logs.list(customer_id=world["Cid Co"].id).items == []
        assert s.merge_logs.get_or_none(log.id) is None
        assert s.audit.for_entity(log) == []
        with pytest.raises(NotFound):
            s.customers.unmerge(log.id)
    with crm.session(actor=ANN) as s, pytest.raises(PermissionDenied):
        # Writing one for a survivor out of reach is refused like any record out of reach.
        s.merge_logs.add(log.evolve(id=new_id(MergeLog.ID_PREFIX)))
    with crm.session(actor=ROOT) as s:
        assert s.merge_logs.count() == 2
        assert not s.merge_logs.get(log.id).is_undone
    with crm.session(actor=ANN) as s:
        assert s.customers.unmerge(own_log.id).is_undone


class RegionPlugin:
    """Scopes everyone but admins to the regions the host keeps for them."""

    def __init__(self, regions: dict[str, tuple[str, ...]]) -> None:
        self.regions = regions
        self.asked: list[str] = []

    @hookimpl
    def pycrm_authorize(self, actor: Actor, crm: CRM) -> Scope | None:
        self.asked.append(actor.name)
        if actor.role is Role.ADMIN:
            return None
        return Scope.regions(*self.regions.get(actor.name, ()))


@pytest.fixture
def regional(store_factory: Any, clock: Any) -> Iterator[tuple[CRM, RegionPlugin]]:
    crm, plugin = regional_crm(store_factory(), clock)
    yield crm, plugin
    crm.close()


def regional_crm(store: Any, clock: Any) -> tuple[CRM, RegionPlugin]:
    """Thirty companies, a third of them in the north, and a plugin scoping nora to it."""
    plugin = RegionPlugin({"nora": ("north",)})
    crm = CRM(store, clock=clock, plugins=[plugin])
    with crm.session() as s:
        customers = [
            Customer(
                kind="company",
                name=f"Customer {i:02}",
                region="north" if i % 3 == 0 else "south",
                owner="nora" if i % 3 else None,
            )
            for i in range(30)
        ]
        s.customers.add_many(customers)
    return crm, plugin


def test_a_plugin_scope_is_enforced_in_the_query_not_after_it(
    regional: tuple[CRM, RegionPlugin],
) -> None:
    crm, plugin = regional
    nora = Actor("nora")
    with crm.session(actor=nora) as s:
        assert plugin.asked == ["nora"]
        assert s.scope == Scope.regions("north")
        # nora owns the southern customers, but the host's rule puts her in the north only.
        assert s.customers.count() == 10
        first = s.customers.list(limit=4)
        second = s.customers.list(limit=4, after=first.next_after)
        # Full pages: the store filtered before it limited. A filter applied to each page
        # afterwards would return a third of a page at a time.
        assert len(first.items) == len(second.items) == 4
        assert all(c.region == "north" for c in [*first.items, *second.items])
        assert len(list(s.customers.stream(batch_size=3))) == 10
        page = s.customers.find_page(F.kind == "company", limit=4)
        assert len(page.items) == 4
        assert s.customers.count(F.kind == "company") == 10
    with crm.session(actor=Actor("olga")) as s:
        assert s.customers.count() == 0  # no regions: Scope.none()
    with crm.session(actor=Actor("root", role="admin")) as s:
        assert s.customers.count() == 30


def test_on_sql_the_scope_is_in_the_statement_itself(sql: Any, clock: Any) -> None:
    crm, _ = regional_crm(sql.store, clock)
    assert isinstance(crm.store, SqlStore)
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    sa.event.listen(crm.store.engine, "before_cursor_execute", capture)
    try:
        with crm.session(actor=Actor("nora")) as s:
            s.customers.list(limit=4)
            s.contacts.count()
    finally:
        sa.event.remove(crm.store.engine, "before_cursor_execute", capture)
    page = next(st for st in statements if "customers.region" in st and "limit" in st)
    counted = next(st for st in statements if "count(" in st and "contacts" in st)
    # The page is limited after the scope's condition, in the same statement.
    assert page.index(".region in (") < page.index("limit")
    assert ".customer_id in (select" in counted


def test_a_plugin_answer_that_is_not_a_scope_is_refused(store_factory: Any) -> None:
    class Broken:
        @hookimpl
        def pycrm_authorize(self, actor: Actor, crm: CRM) -> Any:
            return "everything please"

    crm = CRM(store_factory(), plugins=[Broken()])
    with pytest.raises(ValidationError, match="pycrm_authorize"):
        crm.session(actor=ANN)
    crm.close()


HOSTILE = [
    "x' OR '1'='1",
    "ann'; DROP TABLE crm_customers; --",
    "%",
    "_",
    "A" * 10_000,
    "lone \udcff surrogate",
    "a\x00b",
]
WRONG_TYPES: list[Any] = [3.5, b"bytes", object(), ["ann"], {"k": 1}]


def attempt(call: Any) -> Any:
    """What ``call`` returns, or the pycrm ``ValidationError`` it raises."""
    try:
        return call()
    except ValidationError as exc:
        return exc


@pytest.mark.parametrize("value", HOSTILE + WRONG_TYPES, ids=repr)
def test_hostile_filter_values_get_a_clear_error_or_match_nothing(
    crm: CRM, world: dict[str, Customer], value: Any
) -> None:
    with crm.session(actor=SUE) as s:
        for repo in (s.customers, s.contacts, s.orders, s.tasks):
            for field in sorted(repo._spec.filters):
                outcome = attempt(lambda: repo.list(**{field: value}).items)  # noqa: B023
                if isinstance(outcome, ValidationError):
                    assert outcome.field == field
                else:
                    assert outcome == [], field
        # Nothing was executed: the data is all there.
    with crm.session() as s:
        assert s.customers.count() == len(PEOPLE)


@pytest.mark.parametrize("value", [*HOSTILE[:4], "x" * 120], ids=repr)
def test_hostile_scope_values_match_nothing(
    crm: CRM, world: dict[str, Customer], value: str
) -> None:
    class Hostile:
        @hookimpl
        def pycrm_authorize(self, actor: Actor, crm: CRM) -> Scope:
            return Scope.owners(value) | Scope.teams(value) | Scope.regions(value)

    crm.plugins.register(Hostile())
    with crm.session(actor=ANN) as s:
        assert s.customers.count() == 0
        assert s.contacts.list().items == []


@pytest.mark.parametrize(
    ("values", "field"),
    [(["x" * 121], "owner"), ([3], "owner"), (["lone \udcff"], "owner"), ([" "], "owner")],
)
def test_bad_scope_values_are_refused_naming_the_field(values: list[Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Scope.owners(*values)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "make",
    [
        lambda: Actor(""),
        lambda: Actor("ann", role="boss"),
        lambda: Actor("sue", teams="east"),
        lambda: Actor("sue", teams=[1]),
        lambda: Actor(None),  # type: ignore[arg-type]
    ],
)
def test_bad_actors_are_refused(make: Any) -> None:
    with pytest.raises(ValidationError):
        make()


def test_session_refuses_an_actor_of_the_wrong_type(crm: CRM) -> None:
    with pytest.raises(ValidationError, match="actor"):
        crm.session(actor=42)  # type: ignore[arg-type]


def test_builtin_scopes_follow_the_role() -> None:
    assert builtin_scope(ANN) == Scope.owners("ann")
    assert builtin_scope(SUE) == Scope.teams("east")
    assert builtin_scope(Actor("lone", role="supervisor")) == Scope.none()
    assert builtin_scope(ROOT).unrestricted


def test_every_customer_owned_type_is_scoped() -> None:
    assert {"customer", "contact", "interaction", "task", "order", "opportunity", "ticket"} <= (
        SCOPED_TYPES
    )
    assert "segment" not in SCOPED_TYPES
    # Whatever names a customer follows it, referenced or not (a merge log is not).
    owned = {t for t, spec in SPEC_BY_TYPE.items() if "customer_id" in attrs.fields_dict(spec.cls)}
    assert "merge_log" in owned
    assert owned <= SCOPED_TYPES


scopes = pst.scopes()
customers = pst.customers()


@pytest.mark.parametrize("kind", [FieldIn, AnyOf, AllOf, type(Scope.all()), type(Scope.none())])
def test_the_scope_strategy_draws_every_kind_of_scope(kind: type[Scope]) -> None:
    """The store contract's scoped sessions cover what a store must compile."""
    assert isinstance(find(scopes, lambda scope: isinstance(scope, kind)), kind)


@given(scopes, scopes, customers)
def test_combined_scopes_allow_as_either_and_both_do(a: Scope, b: Scope, c: Customer) -> None:
    assert (a | b).allows(c) == (a.allows(c) or b.allows(c))
    assert (a & b).allows(c) == (a.allows(c) and b.allows(c))
    assert (a | Scope.none()).allows(c) == a.allows(c)
    assert (a & Scope.all()).allows(c) == a.allows(c)
