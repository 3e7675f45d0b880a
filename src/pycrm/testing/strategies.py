"""Hypothesis strategies for pycrm entities, valid by construction.

Values are chosen to survive every supported database unchanged: no control characters or
lone surrogates, times with microseconds in UTC, amounts with at most four decimal places.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from pycrm.access import Scope
from pycrm.contracts import (
    ApprovalPolicy,
    Attachment,
    Contract,
    PaymentPlan,
    approve,
    draft_contract,
    reject,
    submit_for_approval,
)
from pycrm.domain import (
    Contact,
    Customer,
    CustomerKind,
    Gender,
    Interaction,
    InteractionChannel,
    LifecycleStatus,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Priority,
    Task,
)
from pycrm.pipeline import (
    Opportunity,
    StageMachine,
    StageOutcome,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
    set_manual_probability,
)

_ALPHABET = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=",")

_ACTORS = ["alice", "bob", "王芳"]
_TEAMS = ["east", "west"]
_REGIONS = ["华东", "华南", "North America", "Europe"]


def texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Non-blank text without leading/trailing spaces (the domain strips them)."""
    return st.text(_ALPHABET, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
        lambda d: d.replace(tzinfo=timezone.utc)
    )


def dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 1, 1))


def currencies() -> st.SearchStrategy[str]:
    return st.sampled_from(["CNY", "USD", "EUR", "JPY"])


def amounts(max_value: int = 10**12) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=max_value, places=4, allow_nan=False)


def money(currency: str | None = None) -> st.SearchStrategy[Money]:
    currency_st = st.just(currency) if currency else currencies()
    return st.builds(Money, amounts(), currency_st)


def phones() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A1[3-9][0-9]{9}\Z")


def emails() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A[a-z][a-z0-9._]{0,15}@[a-z]{1,10}\.(com|cn|org)\Z")


def tags() -> st.SearchStrategy[frozenset[str]]:
    tag = st.sampled_from(
        ["vip", "purchase-intent:software", "purchase-intent:hardware", "region:east", "新客户"]
    )
    return st.frozensets(tag, max_size=3)


def custom_fields() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(["erp_code", "level", "newsletter", "notes"]),
        st.one_of(st.integers(-(10**9), 10**9), st.booleans(), texts(20)),
        max_size=3,
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def customers(draw: st.DrawFn, kind: CustomerKind | None = None) -> Customer:
    """Company or person customers with a realistic spread of optional fields."""
    chosen = kind if kind is not None else draw(st.sampled_from(CustomerKind))
    fields: dict[str, Any] = {
        "name": draw(texts(60)),
        "region": draw(_optional(st.sampled_from(_REGIONS))),
        "phone": draw(_optional(phones())),
        "email": draw(_optional(emails())),
        "source_channel": draw(_optional(st.sampled_from(["web", "exhibition", "referral"]))),
        "captured_at": draw(_optional(aware_datetimes())),
        "tags": draw(tags()),
        "priority": draw(st.sampled_from(Priority)),
        "owner": draw(_optional(st.sampled_from(_ACTORS))),
        "team": draw(_optional(st.sampled_from(_TEAMS))),
        "status": draw(st.sampled_from(LifecycleStatus)),
        "member_id": draw(_optional(st.uuids().map(lambda u: f"M{u.hex[:12]}"))),
        "custom_fields": draw(custom_fields()),
    }
    if chosen is CustomerKind.COMPANY:
        fields.update(
            industry=draw(_optional(st.sampled_from(["manufacturing", "retail", "software"]))),
            employees=draw(_optional(st.integers(0, 500_000))),
            yearly_revenue=draw(_optional(money())),
            founded_on=draw(_optional(dates())),
            website=draw(_optional(st.just("https://example.com"))),
        )
    else:
        fields.update(
            honorific=draw(_optional(st.sampled_from(["Ms", "Mr", "Dr", "先生", "女士"]))),
            gender=draw(_optional(st.sampled_from(Gender))),
            birthday=draw(_optional(dates())),
            employer=draw(_optional(texts(40))),
            position=draw(_optional(texts(40))),
        )
    return Customer(kind=chosen, **fields)


def scopes() -> st.SearchStrategy[Scope]:
    """Access scopes over the owners, teams and regions :func:`customers` draws from, with
    ``Scope.all()``, ``Scope.none()`` and nested ``|`` and ``&``: what a store must compile."""
    leaves = st.one_of(
        st.lists(st.sampled_from(_ACTORS), min_size=1, max_size=2).map(
            lambda names: Scope.owners(*names)
        ),
        st.lists(st.sampled_from(_TEAMS), min_size=1, max_size=2).map(
            lambda names: Scope.teams(*names)
        ),
        st.lists(st.sampled_from(_REGIONS), min_size=1, max_size=3).map(
            lambda names: Scope.regions(*names)
        ),
        st.just(Scope.all()),
        st.just(Scope.none()),
    )
    return st.recursive(
        leaves,
        lambda inner: st.tuples(inner, inner, st.booleans()).map(
            lambda t: t[0] | t[1] if t[2] else t[0] & t[1]
        ),
        max_leaves=5,
    )


def contacts(customer_id: str) -> st.SearchStrategy[Contact]:
    return st.builds(
        Contact,
        customer_id=st.just(customer_id),
        name=texts(40),
        position=_optional(texts(30)),
        is_decision_maker=st.booleans(),
        phone=_optional(phones()),
        email=_optional(emails()),
        messaging_ids=st.dictionaries(st.sampled_from(["wechat", "whatsapp"]), texts(20)),
    )


def interactions(customer_id: str) -> st.SearchStrategy[Interaction]:
    return st.builds(
        Interaction,
        customer_id=st.just(customer_id),
        channel=st.sampled_from(InteractionChannel),
        occurred_at=aware_datetimes(),
        summary=texts(200),
        needs=st.lists(texts(30), max_size=2).map(tuple),
        objections=st.lists(texts(30), max_size=2).map(tuple),
        commitments=st.lists(texts(30), max_size=2).map(tuple),
        result=_optional(texts(30)),
    )


def tasks(customer_id: str | None = None) -> st.SearchStrategy[Task]:
    return st.builds(
        Task,
        subject=texts(60),
        due_at=aware_datetimes(),
        assignee=_optional(st.sampled_from(["alice", "bob"])),
        customer_id=st.just(customer_id),
        kind=st.sampled_from(["follow_up", "call", "visit"]),
    )


@st.composite
def orders(draw: st.DrawFn, customer_id: str) -> Order:
    currency = draw(currencies())
    lines = draw(
        st.lists(
            st.builds(
                OrderLine,
                description=texts(40),
                quantity=st.integers(1, 1000).map(Decimal),
                unit_price=money(currency).map(lambda m: Money(m.amount % 100_000, currency)),
                sku=_optional(st.from_regex(r"\A[A-Z]{2}-[0-9]{4}\Z")),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return Order.from_lines(
        number=draw(st.uuids().map(lambda u: f"SO-{u.hex[:10]}")),
        customer_id=customer_id,
        placed_at=draw(aware_datetimes()),
        lines=lines,
        status=draw(st.sampled_from(OrderStatus)),
    )


@st.composite
def opportunities(
    draw: st.DrawFn, customer_id: str, machine: StageMachine | None = None
) -> Opportunity:
    """Opportunities on ``machine`` (the default pipeline if none), walked forward some stages
    from their opening and sometimes lost, with the deliverables each gate needs, so their
    history is real. ``machine`` needs a lost stage reachable from every open stage."""
    machine = default_pipeline() if machine is None else machine
    now = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 1, 1)).map(
            lambda d: d.replace(tzinfo=timezone.utc)
        )
    )
    opportunity, _ = open_opportunity(
        customer_id=customer_id,
        machine=machine,
        title=draw(texts(60)),
        amount=draw(money()),
        owner=draw(_optional(st.sampled_from(_ACTORS))),
        now=now,
        by=draw(st.sampled_from(_ACTORS)),
        team=draw(_optional(st.sampled_from(_TEAMS))),
        grade=draw(_optional(st.sampled_from(Priority))),
        expected_close=draw(_optional(dates())),
        source_channel=draw(_optional(st.sampled_from(["web", "exhibition", "referral"]))),
        custom_fields=draw(custom_fields()),
    )
    steps = draw(st.integers(0, 5))
    for _ in range(steps):
        if machine.stage(opportunity.stage).terminal:
            break
        now += draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
        for key in machine.stage(opportunity.stage).required_deliverables:
            opportunity, _ = deliver(opportunity, key, now=now, machine=machine)
        target = machine.targets(opportunity.stage)[0]
        opportunity, _ = advance_opportunity(
            opportunity, target, now=now, by=draw(st.sampled_from(_ACTORS)), machine=machine
        )
    if not machine.stage(opportunity.stage).terminal and draw(st.booleans()):
        now += draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
        opportunity, _ = advance_opportunity(
            opportunity,
            machine.stages_with(StageOutcome.LOST)[0],
            now=now,
            by="alice",
            machine=machine,
            reason=draw(texts(200)),
        )
    if opportunity.is_open and draw(st.booleans()):
        probability = draw(st.decimals(0, 1, places=2, allow_nan=False))
        opportunity, _ = set_manual_probability(opportunity, probability)
    return opportunity


@st.composite
def contracts(draw: st.DrawFn, customer_id: str) -> Contract:
    """Contracts with lines or a bare amount, sometimes a payment plan and attachments,
    walked some way through the default approval policy (or rejected on the way)."""
    currency = draw(currencies())
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)))
    lines = draw(st.lists(order_lines(currency), max_size=3))
    amount = None if lines else draw(money(currency).filter(lambda m: m.amount > 0))
    now = datetime(start.year, start.month, start.day, 9, tzinfo=timezone.utc)
    contract, _ = draft_contract(
        number=draw(st.uuids().map(lambda u: f"HT-{u.hex[:12]}")),
        customer_id=customer_id,
        start_on=start,
        end_on=start + timedelta(days=draw(st.integers(0, 1500))),
        now=now,
        by=draw(st.sampled_from(_ACTORS)),
        amount=amount,
        lines=lines,
        terms=draw(_optional(texts(400))),
        signer=draw(_optional(texts(60))),
        attachments=draw(
            st.lists(st.builds(Attachment, name=texts(60), uri=texts(200)), max_size=2)
        ),
    )
    total = contract.amount.amount
    if total > 0 and draw(st.booleans()):
        parts = draw(st.integers(1, 4))
        share = (total / parts).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
        pieces = [share] * (parts - 1) + [total - share * (parts - 1)]
        due = [start + timedelta(days=30 * i) for i in range(parts)]
        # Pieces of zero (a tiny total split many ways) are left out; the rest still add up.
        items = [(d, Money(p, currency)) for d, p in zip(due, pieces, strict=True) if p > 0]
        contract = contract.evolve(payment_plan=PaymentPlan.of(*items))
    steps = draw(st.integers(0, 4))
    if steps:
        contract, _ = submit_for_approval(
            contract, policy=ApprovalPolicy.default(), now=now, by="alice"
        )
        for _ in range(steps - 1):
            level = contract.approval.stage.removeprefix("pending_")
            if not contract.approval.stage.startswith("pending_"):
                break
            now += draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)))
            if draw(st.integers(0, 4)) == 0:
                contract, _ = reject(contract, level=level, now=now, by="bob", reason="terms")
            else:
                contract, _ = approve(contract, level=level, now=now, by="bob")
    return contract


def order_lines(currency: str) -> st.SearchStrategy[OrderLine]:
    return st.builds(
        OrderLine,
        description=texts(80),
        quantity=st.decimals(min_value="0.01", max_value=1000, places=2, allow_nan=False),
        unit_price=st.builds(
            Money,
            st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
            st.just(currency),
        ),
        sku=_optional(texts(20)),
    )


__all__ = [
    "aware_datetimes",
    "contacts",
    "contracts",
    "customers",
    "interactions",
    "money",
    "opportunities",
    "order_lines",
    "orders",
    "tasks",
    "texts",
]
