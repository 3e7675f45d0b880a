"""Repository behaviour, the same cases on every backend (memory, SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    AlreadyExists,
    ChangeKind,
    ConcurrencyConflict,
    Contact,
    Customer,
    FixedClock,
    Interaction,
    LifecycleStatus,
    Money,
    NotFound,
    Order,
    OrderLine,
    SessionClosed,
    Task,
    TaskStatus,
    ValidationError,
    complete_task,
)
from pycrm.storage import Store
from pycrm.testing import StoreContract
from pycrm.testing import strategies as pst


class Boom(Exception):
    pass


def acme(**fields: object) -> Customer:
    return Customer.company(
        "华东精密制造有限公司",
        industry="manufacturing",
        region="华东",
        phone="13812345678",
        email="buyer@acme.cn",
        yearly_revenue=Money("123456789012.3456", "CNY"),
        tags={"purchase-intent:software", "vip"},
        custom_fields={"erp_code": "C-001", "levels": [1, 2]},
        **fields,
    )


def test_added_customer_reads_back_identical(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="alice") as s:
        stored = s.customers.add(acme())
    assert stored.version == 1
    assert stored.created_at == stored.updated_at == clock.now()
    with crm.session() as s:
        assert s.customers.get(stored.id) == stored


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_entity_round_trips(
    store_factory: Callable[[], Store], clock: FixedClock, data: st.DataObject
) -> None:
    crm = CRM(store_factory(), clock=clock)  # a fresh store per example
    customer = data.draw(pst.customers())
    with crm.session() as s:
        customer = s.customers.add(customer)
        children = [
            s.contacts.add(data.draw(pst.contacts(customer.id))),
            s.interactions.add(data.draw(pst.interactions(customer.id))),
            s.tasks.add(data.draw(pst.tasks(customer.id))),
            s.orders.add(data.draw(pst.orders(customer.id))),
        ]
    with crm.session() as s:
        assert s.customers.get(customer.id) == customer
        for child, repository in zip(
            children, [s.contacts, s.interactions, s.tasks, s.orders], strict=True
        ):
            assert repository.get(child.id) == child


def test_get_of_unknown_id_raises_not_found(crm: CRM) -> None:
    with crm.session() as s, pytest.raises(NotFound, match="customer 'cus_missing'"):
        s.customers.get("cus_missing")
    with crm.session() as s:
        assert s.customers.get_or_none("cus_missing") is None


def test_update_bumps_version_and_keeps_created_at(crm: CRM, clock: FixedClock) -> None:
    with crm.session() as s:
        created = s.customers.add(acme())
    clock.advance(hours=1)
    with crm.session() as s:
        updated = s.customers.update(created.evolve(status="active", owner="alice"))
    assert updated.version == 2
    assert updated.created_at == created.created_at
    assert updated.updated_at == clock.now()
    with crm.session() as s:
        assert s.customers.get(created.id) == updated
        assert s.customers.update(updated) == updated  # no change, no new version


def test_second_writer_of_same_version_gets_conflict(crm: CRM) -> None:
    with crm.session() as s:
        original = s.customers.add(acme())
    with crm.session(actor="alice") as s:
        s.customers.update(original.evolve(name="Alice's change"))
    with (
        pytest.raises(ConcurrencyConflict, match="changed by someone else"),
        crm.session(actor="bob") as s,
    ):
        s.customers.update(original.evolve(name="Bob's change"))
    with crm.session() as s:
        assert s.customers.get(original.id).name == "Alice's change"


def test_overlapping_sessions_do_not_lose_an_update(crm: CRM) -> None:
    with crm.session() as s:
        original = s.customers.add(acme())
    first = crm.session(actor="alice")
    seen_by_first = first.customers.get(original.id)
    first.customers.update(seen_by_first.evolve(owner="alice"))
    first.commit()
    with pytest.raises(ConcurrencyConflict), crm.session(actor="bob") as second:
        second.customers.update(original.evolve(owner="bob"))
    with crm.session() as s:
        assert s.customers.get(original.id).owner == "alice"


def test_exception_rolls_back_everything(crm: CRM) -> None:
    with crm.session() as s:
        kept = s.customers.add(acme())
    with pytest.raises(Boom), crm.session() as s:
        s.customers.add(Customer.person("张伟"))
        s.customers.update(kept.evolve(name="changed"))
        s.contacts.add(Contact(customer_id=kept.id, name="Wang Fang"))
        raise Boom
    with crm.session() as s:
        assert s.customers.count() == 1
        assert s.customers.get(kept.id) == kept
        assert s.contacts.count() == 0
        assert [e.action for e in s.audit.for_entity(kept)] == [ChangeKind.CREATED]


def test_duplicate_unique_keys_are_refused_and_session_stays_usable(crm: CRM) -> None:
    with crm.session() as s:
        first = s.customers.add(Customer.person("Emily Carter", member_id="M-1"))
    with crm.session() as s:
        with pytest.raises(AlreadyExists):
            s.customers.add(Customer.person("Other", member_id="M-1"))
        with pytest.raises(AlreadyExists):
            s.customers.add(first)
        other = s.customers.add(Customer.person("Other", member_id="M-2"))
        with pytest.raises(AlreadyExists):
            s.customers.update(other.evolve(member_id="M-1"))
    with crm.session() as s:
        assert s.customers.count() == 2
        assert s.customers.get(other.id).member_id == "M-2"


def test_duplicate_order_number_is_refused(crm: CRM, clock: FixedClock) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
        s.orders.add(
            Order(
                number="SO-1",
                customer_id=customer.id,
                placed_at=clock.now(),
                total=Money(10, "CNY"),
            )
        )
    with pytest.raises(AlreadyExists, match="number=SO-1"), crm.session() as s:
        s.orders.add(
            Order(
                number="SO-1",
                customer_id=customer.id,
                placed_at=clock.now(),
                total=Money(20, "CNY"),
            )
        )


def test_references_must_exist(crm: CRM, clock: FixedClock) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
    with pytest.raises(ValidationError) as info, crm.session() as s:
        s.contacts.add(Contact(customer_id="cus_nobody", name="Ghost"))
    assert info.value.field == "customer_id"
    with pytest.raises(ValidationError) as info, crm.session() as s:
        s.interactions.add(
            Interaction(
                customer_id=customer.id,
                contact_id="con_nobody",
                channel="phone",
                occurred_at=clock.now(),
                summary="called",
            )
        )
    assert info.value.field == "contact_id"
    with pytest.raises(ValidationError) as info, crm.session() as s:
        s.orders.add_many(
            [
                Order(
                    number=f"N{i}",
                    customer_id="cus_nobody" if i == 3 else customer.id,
                    placed_at=clock.now(),
                    total=Money(i, "USD"),
                )
                for i in range(5)
            ]
        )
    assert info.value.field == "customer_id"
    with crm.session() as s:
        assert s.orders.count() == 0


def test_customer_with_dependents_cannot_be_removed(crm: CRM) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
        contact = s.contacts.add(Contact(customer_id=customer.id, name="Li Na"))
    with pytest.raises(ValidationError, match="1 contact record"), crm.session() as s:
        s.customers.remove(customer)
    with crm.session() as s:
        s.contacts.remove(contact.id)
        s.customers.remove(customer)
    with crm.session() as s:
        assert s.customers.count() == 0
        entries = s.audit.for_entity(customer.id, "customer")
    assert [e.action for e in entries] == [ChangeKind.CREATED, ChangeKind.REMOVED]
    assert entries[-1].changes is not None
    assert entries[-1].changes["phone"] == ["138****5678", None]


def test_remove_of_stale_entity_conflicts(crm: CRM) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
        s.customers.update(customer.evolve(name="newer"))
    with pytest.raises(ConcurrencyConflict), crm.session() as s:
        s.customers.remove(customer)
    with pytest.raises(NotFound), crm.session() as s:
        s.customers.remove("cus_gone")


def test_list_pages_in_creation_order_with_filters(crm: CRM) -> None:
    with crm.session() as s:
        added = [
            s.customers.add(
                Customer.person(
                    f"p{i}",
                    status="active" if i % 2 else "prospect",
                    owner="alice" if i < 6 else "bob",
                )
            )
            for i in range(10)
        ]
    with crm.session() as s:
        page = s.customers.list(limit=4)
        assert [c.id for c in page] == [c.id for c in added[:4]]
        assert page.next_after == added[3].id
        rest = s.customers.list(limit=100, after=page.next_after)
        assert [c.id for c in rest] == [c.id for c in added[4:]]
        assert rest.next_after is None
        active_alice = s.customers.list(status=LifecycleStatus.ACTIVE, owner="alice")
        assert [c.name for c in active_alice] == ["p1", "p3", "p5"]
        assert s.customers.count(status="active") == 5
        assert [c.id for c in s.customers.stream(batch_size=3, owner="bob")] == [
            c.id for c in added[6:]
        ]


def test_bad_queries_name_the_field(crm: CRM) -> None:
    with crm.session() as s:
        with pytest.raises(ValidationError) as info:
            s.customers.list(colour="red")
        assert info.value.field == "colour"
        with pytest.raises(ValidationError) as info:
            s.customers.list(status="happy")
        assert info.value.field == "status"
        with pytest.raises(ValidationError) as info:
            s.customers.list(limit=0)
        assert info.value.field == "limit"
        with pytest.raises(ValidationError) as info:
            s.customers.add(Contact(customer_id="x", name="wrong repository"))  # type: ignore[arg-type]
        assert info.value.field == "customer"


def test_add_many_stores_all_with_audit_and_one_event(crm: CRM, clock: FixedClock) -> None:
    people = [
        Customer.person(f"客户{i}", phone=f"1380000{i:04d}", tags={"bulk"}) for i in range(250)
    ]
    with crm.session(actor="import") as s:
        assert s.customers.add_many(people, batch_size=100) == 250
        events = s.pending_events
    assert [e.name for e in events] == ["customer.bulk_created"]
    assert events[0].entity_ids == tuple(p.id for p in people)
    with crm.session() as s:
        assert s.customers.count() == 250
        stored = s.customers.get(people[17].id)
        assert stored.tags == {"bulk"}
        assert stored.created_at == clock.now()
        assert [e.actor for e in s.audit.for_entity(stored)] == ["import"]


def test_add_many_of_orders_with_lines(crm: CRM, clock: FixedClock) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
        orders = [
            Order.from_lines(
                number=f"SO-{i}",
                customer_id=customer.id,
                placed_at=clock.now() - timedelta(days=i),
                lines=[
                    OrderLine(
                        description="widget",
                        quantity=Decimal(i + 1),
                        unit_price=Money("19.99", "CNY"),
                        sku="WG-0001",
                    ),
                    OrderLine(description="service", quantity=1, unit_price=Money("0.0001", "CNY")),
                ],
            )
            for i in range(30)
        ]
        s.orders.add_many(orders)
    with crm.session() as s:
        assert list(s.orders.stream(customer_id=customer.id)) == sorted(
            [s.orders.get(o.id) for o in orders], key=lambda o: o.id
        )
        assert s.orders.get(orders[4].id).total == Money("99.9501", "CNY")


def test_audit_records_field_changes_masked(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="alice") as s:
        customer = s.customers.add(acme())
    clock.advance(minutes=5)
    with crm.session(actor="bob") as s:
        s.customers.update(customer.evolve(phone="13999998888", priority="high"))
    with crm.session() as s:
        created, changed = s.audit.for_entity(customer)
    assert (created.actor, created.action, created.changes) == ("alice", ChangeKind.CREATED, None)
    assert changed.actor == "bob"
    assert changed.at == clock.now()
    assert changed.customer_id == customer.id
    assert changed.changes == {
        "phone": ["138****5678", "139****8888"],
        "priority": ["medium", "high"],
    }


def test_task_completion_is_saved_as_a_change(crm: CRM, clock: FixedClock) -> None:
    with crm.session() as s:
        customer = s.customers.add(acme())
        task = s.tasks.add(
            Task(
                subject="Call back",
                due_at=clock.now() + timedelta(days=1),
                customer_id=customer.id,
                assignee="alice",
            )
        )
    with crm.session() as s:
        done = s.tasks.update(complete_task(task, now=clock.now()))
    assert done.status is TaskStatus.DONE
    with crm.session() as s:
        assert s.tasks.count(status="open") == 0
        assert s.tasks.count(status="done", assignee="alice") == 1


def test_closed_session_refuses_work(crm: CRM) -> None:
    with crm.session() as s:
        pass
    with pytest.raises(SessionClosed):
        s.customers.add(acme())
    with pytest.raises(SessionClosed):
        s.commit()


def test_hooks_see_events_only_after_commit(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    received: list[str] = []

    class Listener:
        from pycrm import hookimpl

        @hookimpl
        def pycrm_event(self, event):  # type: ignore[no-untyped-def]
            received.append(event.name)

    crm = CRM(store_factory(), clock=clock, plugins=[Listener()])
    with pytest.raises(Boom), crm.session() as s:
        s.customers.add(acme())
        raise Boom
    assert received == []
    with crm.session() as s:
        customer = s.customers.add(acme())
        s.customers.update(customer.evolve(name="Acme"))
        assert received == []
    assert received == ["customer.created", "customer.changed"]
    crm.close()


def test_store_contract(store_factory: Callable[[], Store]) -> None:
    """The hypothesis state machine of ``pycrm.testing`` against each backend."""

    class Contract(StoreContract):
        pass

    Contract.store_factory = staticmethod(store_factory)  # type: ignore[assignment]
    case = Contract.TestCase
    case.settings = settings(
        max_examples=12,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    case("runTest").runTest()
