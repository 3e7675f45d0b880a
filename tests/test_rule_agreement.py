"""Segment rules give the same customers in Python and in every store.

Random customers, purchases, interactions, deals and rules, drawn from small pools so that
values collide and sit exactly on the thresholds (a purchase exactly 365 days before
``as_of``, an interaction 90 days and one microsecond ago, a spend equal to the bound):
where SQL and Python could round or compare differently, this is where they would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import CRM, Customer, FixedClock, Interaction, Money, Order
from pycrm.grading.churn import ChurnPolicy, assess, signals_of
from pycrm.grading.evaluate import CustomerFacts, evaluate
from pycrm.grading.expr import Expr, F, as_expr
from pycrm.grading.schemes import Grade, GradeScheme
from pycrm.storage import Store
from pycrm.testing.strategies import opportunities

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY_OFFSETS = [0, 1, 30, 89, 90, 91, 364, 365, 366, -1]
JITTER = [timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1)]
AMOUNTS = [Decimal("0.0001"), Decimal("99.99"), Decimal("1000"), Decimal("250000.5")]
INDUSTRIES = [None, "retail", "manufacturing"]
REGIONS = [None, "east", "west"]
TAGS = ["vip", "purchase-intent:software", "b2b"]
DAYS = [1, 30, 90, 365]


def moments() -> st.SearchStrategy[datetime]:
    return st.builds(
        lambda days, jitter: AS_OF - timedelta(days=days) + jitter,
        st.sampled_from(DAY_OFFSETS),
        st.sampled_from(JITTER),
    )


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    if draw(st.booleans()):
        return Customer.company(
            draw(st.sampled_from(["Acme", "北方机械"])),
            industry=draw(st.sampled_from(INDUSTRIES)),
            region=draw(st.sampled_from(REGIONS)),
            employees=draw(st.sampled_from([None, 0, 10, 250])),
            yearly_revenue=draw(
                st.sampled_from([None, *AMOUNTS]).map(lambda a: a and Money(a, "CNY"))
            ),
            founded_on=draw(st.sampled_from([None, date(2001, 1, 1), date(2020, 5, 4)])),
            tags=draw(st.frozensets(st.sampled_from(TAGS))),
            status=draw(st.sampled_from(["prospect", "active", "dormant"])),
            priority=draw(st.sampled_from(["high", "medium", "low"])),
        )
    return Customer.person(
        draw(st.sampled_from(["王芳", "Jane"])),
        region=draw(st.sampled_from(REGIONS)),
        birthday=draw(st.sampled_from([None, date(1990, 2, 28)])),
        tags=draw(st.frozensets(st.sampled_from(TAGS))),
        priority=draw(st.sampled_from(["high", "medium", "low"])),
        captured_at=draw(st.sampled_from([None, AS_OF - timedelta(days=90)])),
    )


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    people = draw(st.lists(customers(), min_size=1, max_size=6))
    orders, interactions, deals = [], [], []
    for customer in people:
        for _ in range(draw(st.integers(0, 3))):
            orders.append(
                Order(
                    number=f"SO-{len(orders)}",
                    customer_id=customer.id,
                    placed_at=draw(moments()),
                    total=Money(
                        draw(st.sampled_from(AMOUNTS)), draw(st.sampled_from(["CNY", "USD"]))
                    ),
                    status=draw(st.sampled_from(["pending", "paid", "cancelled", "refunded"])),
                )
            )
        for _ in range(draw(st.integers(0, 2))):
            interactions.append(
                Interaction(
                    customer_id=customer.id,
                    channel="phone",
                    occurred_at=draw(moments()),
                    summary="call",
                )
            )
        for _ in range(draw(st.integers(0, 1))):
            deals.append(draw(opportunities(customer.id)))
    return {"customers": people, "orders": orders, "interactions": interactions, "deals": deals}


def terms() -> st.SearchStrategy[Expr]:
    fields = st.one_of(
        st.sampled_from(INDUSTRIES[1:]).map(lambda v: F.industry == v),
        st.sampled_from(INDUSTRIES[1:]).map(lambda v: F.industry != v),
        st.just(F.industry.is_null()),
        st.just(F.region.in_(["east", "west"])),
        st.sampled_from(["active", "prospect"]).map(lambda v: F.status == v),
        st.sampled_from(["high", "low"]).map(lambda v: F.priority == v),
        st.sampled_from([0, 10, 11]).map(lambda v: F.employees >= v),
        st.sampled_from(AMOUNTS).map(lambda v: F.yearly_revenue > v),
        st.just(F.founded_on < date(2010, 1, 1)),
        st.just(F.birthday.is_null()),
        st.just(F.captured_at.between(AS_OF - timedelta(days=91), AS_OF)),
        st.sampled_from(TAGS).map(F.tags.has_tag),
        st.just(F.kind == "person"),
    )
    windows = st.sampled_from([None, *DAYS])
    currency = st.sampled_from([None, "CNY"])
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    metrics = st.one_of(
        st.builds(
            lambda d, c, op, v: F.spend(days=d, currency=c)._compare(op, v),
            windows,
            currency,
            ops,
            st.sampled_from([Decimal(0), *AMOUNTS, Decimal("1099.99")]),
        ),
        st.builds(
            lambda d, op, v: F.order_count(days=d)._compare(op, v),
            windows,
            ops,
            st.integers(0, 3),
        ),
        st.builds(
            lambda d, op, v: F.interaction_count(days=d)._compare(op, v),
            windows,
            ops,
            st.integers(0, 2),
        ),
        st.builds(
            lambda name, op, v: getattr(F, name)._compare(op, v),
            st.sampled_from(["days_since_interaction", "days_since_order"]),
            ops,
            st.sampled_from(DAY_OFFSETS),
        ),
        st.builds(
            lambda name, low, high: getattr(F, name).between(min(low, high), max(low, high)),
            st.sampled_from(["days_since_interaction", "days_since_order"]),
            st.sampled_from(DAY_OFFSETS),
            st.sampled_from(DAY_OFFSETS),
        ),
        st.sampled_from(["days_since_interaction", "days_since_order"]).map(
            lambda name: getattr(F, name).in_([0, 90, 365])
        ),
        st.sampled_from(["last_interaction_at", "first_order_at", "last_order_at"]).map(
            lambda name: getattr(F, name).is_null()
        ),
        st.builds(
            lambda name, m: getattr(F, name) <= m,
            st.sampled_from(["last_interaction_at", "first_order_at", "last_order_at"]),
            moments(),
        ),
        st.builds(
            lambda c, op, v: F.potential(currency=c)._compare(op, v),
            currency,
            ops,
            st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1000), Decimal(10**9)]),
        ),
    )
    return st.one_of(fields, metrics)


rules = st.recursive(
    terms(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        inner.map(lambda a: ~a),
    ),
    max_leaves=5,
)


def expected(world: dict[str, Any], rule: Expr, probabilities: Any) -> list[str]:
    matching = []
    for customer in world["customers"]:
        facts = CustomerFacts.from_records(
            orders=[o for o in world["orders"] if o.customer_id == customer.id],
            interactions=[i for i in world["interactions"] if i.customer_id == customer.id],
            opportunities=[d for d in world["deals"] if d.customer_id == customer.id],
            stage_probabilities=probabilities,
        )
        if evaluate(rule, customer, facts, AS_OF) is True:
            matching.append(customer.id)
    return sorted(matching)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds(), checks=st.lists(rules, min_size=1, max_size=8))
def test_stores_agree_with_python(
    store_factory: Callable[[], Store], world: dict[str, Any], checks: list[Expr]
) -> None:
    crm = CRM(store_factory(), clock=FixedClock(AS_OF))
    try:
        with crm.session() as s:
            s.customers.add_many(world["customers"])
            s.orders.add_many(world["orders"])
            s.interactions.add_many(world["interactions"])
            s.opportunities.add_many(world["deals"])
        with crm.session() as s:
            for rule in checks:
                want = expected(world, rule, crm.stage_probabilities)
                found = sorted(c.id for c in s.customers.find(rule, batch_size=2))
                assert found == want, rule
                assert s.customers.count(rule) == len(want), rule
                # A rule survives its round trip through data (as a saved segment does).
                assert as_expr(rule.to_data()) == rule
    finally:
        crm.close()


def world_facts(world: dict[str, Any], customer: Customer, probabilities: Any) -> CustomerFacts:
    return CustomerFacts.from_records(
        orders=[o for o in world["orders"] if o.customer_id == customer.id],
        interactions=[i for i in world["interactions"] if i.customer_id == customer.id],
        opportunities=[d for d in world["deals"] if d.customer_id == customer.id],
        stage_probabilities=probabilities,
    )


def stored_world(store: Store, world: dict[str, Any]) -> CRM:
    crm = CRM(store, clock=FixedClock(AS_OF))
    with crm.session() as s:
        s.customers.add_many(world["customers"])
        s.orders.add_many(world["orders"])
        s.interactions.add_many(world["interactions"])
        s.opportunities.add_many(world["deals"])
    return crm


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds(), grades=st.lists(rules, min_size=1, max_size=3))
def test_regrade_agrees_with_python_grading(
    store_factory: Callable[[], Store], world: dict[str, Any], grades: list[Expr]
) -> None:
    scheme = GradeScheme("random", [Grade(f"g{i}", rule) for i, rule in enumerate(grades)])
    crm = stored_world(store_factory(), world)
    try:
        crm.regrade(scheme, batch_size=2)
        with crm.session() as s:
            stored = {g.customer_id: g.grade for g in s.customer_grades.stream(scheme="random")}
        for customer in world["customers"]:
            facts = world_facts(world, customer, crm.stage_probabilities)
            assert stored[customer.id] == scheme.grade(customer, as_of=AS_OF, facts=facts).grade
    finally:
        crm.close()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    world=worlds(),
    policy=st.builds(
        ChurnPolicy,
        inactive_days=st.sampled_from([1, 30, 90, 365]),
        window_days=st.sampled_from([1, 30, 90, 182]),
        drop_ratio=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("0.9999")]),
        min_previous_orders=st.integers(1, 2),
    ),
)
def test_churn_risks_agree_with_python(
    store_factory: Callable[[], Store], world: dict[str, Any], policy: ChurnPolicy
) -> None:
    crm = stored_world(store_factory(), world)
    try:
        want = []
        for customer in sorted(world["customers"], key=lambda c: c.id):
            facts = world_facts(world, customer, crm.stage_probabilities)
            risk = assess(signals_of(customer.id, facts, policy, as_of=AS_OF), policy, as_of=AS_OF)
            if risk is not None:
                want.append(risk)
        with crm.session() as s:
            assert list(s.customers.at_risk(policy, batch_size=2)) == want
    finally:
        crm.close()
