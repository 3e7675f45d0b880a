"""Generate a realistic book of business and load it through pycrm's bulk path.

Everything random comes from one ``random.Random(seed)`` and every time from the CRM's clock,
so a seed with a :class:`pycrm.FixedClock` gives the same database and the same summary on
every run. Even ids are drawn from the seed (in the same time-ordered layout the domain
uses), since the summary orders and picks records by id.

Loading is a list of steps (:data:`LOAD_STEPS`), each adding one kind of record; a later
capability (pipeline, service, grading) adds its own step and, in the summary, its section.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from pycrm import (
    CRM,
    Contact,
    Customer,
    FixedClock,
    Gender,
    Interaction,
    InteractionChannel,
    LifecycleStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    OrderStatus,
    Priority,
    Session,
    StageOutcome,
    Task,
    TaskStatus,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
)
from pycrm.demo import vocabulary as vocab
from pycrm.demo.figures import featured_customer, order_totals
from pycrm.demo.grading import grade_customers
from pycrm.domain.ids import IdGenerator

T = TypeVar("T")

DEMO_ACTOR = "demo"
"""Who the audit log says loaded the sample data."""

DEMO_NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
"""The demo's "now" when a seed is given, so seeded runs are reproducible to the minute."""

HISTORY_DAYS = 730
"""How far back customers, orders and interactions go: two years."""


@attrs.define
class Profile:
    """What later steps need to know about a generated customer."""

    id: str
    name: str
    domestic: bool
    is_company: bool
    status: LifecycleStatus
    captured_at: datetime
    team: str
    owner: str
    domain: str | None
    contact_ids: list[str] = attrs.field(factory=list)

    @property
    def currency(self) -> str:
        return "CNY" if self.domestic else "USD"


@attrs.define
class SampleContext:
    """State shared by the load steps of one demo run."""

    session: Session
    rng: random.Random
    now: datetime
    new_id: IdGenerator
    customer_count: int
    profiles: list[Profile] = attrs.field(factory=list)
    interactions: list[Interaction] = attrs.field(factory=list)
    orders: list[Order] = attrs.field(factory=list)
    counts: dict[str, int] = attrs.field(factory=dict)

    def added(self, entity_type: str, count: int) -> None:
        self.counts[entity_type] = self.counts.get(entity_type, 0) + count

    def between(self, start: datetime, end: datetime) -> datetime:
        """A random moment in ``[start, end]``, to the minute."""
        span = max((end - start).total_seconds(), 0.0)
        moment = start + timedelta(seconds=self.rng.uniform(0, span))
        return moment.replace(second=0, microsecond=0)

    def days_ago(self, most: float, least: float = 0) -> datetime:
        return self.between(self.now - timedelta(days=most), self.now - timedelta(days=least))

    def weighted(self, items: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(items, weights)[0]


LoadStep = Callable[[SampleContext], None]

_STATUSES = tuple(LifecycleStatus)
_STATUS_WEIGHTS = {
    LifecycleStatus.PROSPECT: 30,
    LifecycleStatus.ACTIVE: 40,
    LifecycleStatus.DORMANT: 12,
    LifecycleStatus.CHURNED: 8,
    LifecycleStatus.LOST: 10,
}
_PRIORITY_WEIGHTS = {Priority.HIGH: 15, Priority.MEDIUM: 55, Priority.LOW: 30}
_MAIL_PROVIDERS_CN = ("163.com", "qq.com", "126.com", "sina.com")
_MAIL_PROVIDERS_ABROAD = ("gmail.com", "outlook.com", "proton.me", "yahoo.com")


def _mobile_cn(rng: random.Random) -> str:
    digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def _phone_abroad(rng: random.Random, region: str) -> str:
    return f"{vocab.PHONE_PREFIXES_ABROAD[region]}{rng.randrange(10**4):04d}"


def _slug(text: str) -> str:
    return "-".join(text.lower().replace(".", "").split())


def _person_name(rng: random.Random, domestic: bool) -> tuple[str, str, str]:
    """(display name, mail-style handle, gender value)."""
    if domestic:
        surname, surname_py = rng.choice(vocab.SURNAMES_ZH)
        given, given_py, gender = rng.choice(vocab.GIVEN_NAMES_ZH)
        return f"{surname}{given}", f"{surname_py}{given_py}", gender
    first, gender = rng.choice(vocab.FIRST_NAMES_EN)
    last = rng.choice(vocab.LAST_NAMES_EN)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}", gender


def _tags(ctx: SampleContext) -> set[str]:
    rng = ctx.rng
    intents = rng.sample(vocab.PURCHASE_INTENTS, k=rng.choice((1, 1, 1, 2, 2, 3)))
    tags = {f"purchase-intent:{intent}" for intent in intents}
    if rng.random() < 0.25:
        tags.add(rng.choice(vocab.EXTRA_TAGS))
    return tags


def _customer(ctx: SampleContext, index: int) -> tuple[Customer, Profile]:
    rng = ctx.rng
    domestic = rng.random() < 0.78
    is_company = rng.random() < 0.7
    if domestic:
        region = ctx.weighted(vocab.REGIONS_CN, vocab.REGION_WEIGHTS_CN)
        team = vocab.TEAM_BY_REGION[region]
    else:
        region = ctx.weighted(vocab.REGIONS_ABROAD, vocab.REGION_WEIGHTS_ABROAD)
        team = "International"
    owner = rng.choice(vocab.TEAMS[team])
    status = ctx.weighted(_STATUSES, [_STATUS_WEIGHTS[s] for s in _STATUSES])
    # Dormant and churned customers have bought long enough ago to have gone quiet.
    quiet = status in (LifecycleStatus.DORMANT, LifecycleStatus.CHURNED)
    captured_at = ctx.days_ago(HISTORY_DAYS, 300 if quiet else 1)
    fields: dict[str, Any] = {
        "id": ctx.new_id(Customer.ID_PREFIX),
        "region": region,
        "source_channel": ctx.weighted(vocab.SOURCE_CHANNELS, vocab.SOURCE_WEIGHTS),
        "captured_at": captured_at,
        "tags": _tags(ctx),
        "priority": ctx.weighted(tuple(_PRIORITY_WEIGHTS), tuple(_PRIORITY_WEIGHTS.values())),
        "owner": owner,
        "team": team,
        "status": status,
    }
    domain: str | None = None
    if is_company:
        industry = ctx.weighted(vocab.INDUSTRIES, vocab.INDUSTRY_WEIGHTS)
        employees = int(rng.lognormvariate(4, 1.2)) + 5
        if domestic:
            word, pinyin = rng.choice(vocab.COMPANY_WORDS_ZH)
            places, area_codes = vocab.PLACES_CN[region]
            name = f"{rng.choice(places)}{word}{rng.choice(vocab.BUSINESS_ZH[industry])}"
            domain = f"{pinyin}{rng.randint(2, 98)}.cn"
            area = rng.choice(area_codes)
            phone = f"{area}-{rng.randrange(2 * 10**7, 10**8)}"
            revenue = Money(Decimal(employees * rng.randint(20, 120) * 10_000), "CNY")
        else:
            word = rng.choice(vocab.COMPANY_WORDS_EN)
            business = rng.choice(vocab.BUSINESS_EN[industry])
            name = f"{word} {business}"
            top_level = vocab.EMAIL_DOMAINS_ABROAD[region]
            domain = f"{_slug(word)}-{_slug(business).split('-')[0]}.{top_level}"
            phone = _phone_abroad(rng, region)
            revenue = Money(Decimal(employees * rng.randint(30, 180) * 1_000), "USD")
        fields.update(
            industry=industry,
            employees=employees,
            yearly_revenue=revenue,
            founded_on=date(rng.randint(1985, 2022), rng.randint(1, 12), rng.randint(1, 28)),
            website=f"https://www.{domain}",
            phone=phone,
            email=f"{rng.choice(('sales', 'info', 'contact', 'purchasing'))}@{domain}",
            custom_fields={"erp_code": f"K{index + 10001}"},
        )
        customer = Customer.company(name, **fields)
    else:
        name, handle, gender = _person_name(rng, domestic)
        providers = _MAIL_PROVIDERS_CN if domestic else _MAIL_PROVIDERS_ABROAD
        fields.update(
            gender=Gender(gender),
            birthday=date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28)),
            phone=_mobile_cn(rng) if domestic else _phone_abroad(rng, region),
            email=f"{handle}{rng.randint(1, 99)}@{rng.choice(providers)}",
            member_id=f"M{index + 10_000_001}" if rng.random() < 0.6 else None,
        )
        if not domestic:
            fields["honorific"] = rng.choice(vocab.HONORIFICS_EN[gender])
        if rng.random() < 0.4:
            fields["position"] = rng.choice(vocab.POSITIONS_ZH if domestic else vocab.POSITIONS_EN)
        customer = Customer.person(name, **fields)
    profile = Profile(
        id=customer.id,
        name=customer.name,
        domestic=domestic,
        is_company=is_company,
        status=status,
        captured_at=captured_at,
        team=team,
        owner=owner,
        domain=domain,
    )
    return customer, profile


def add_customers(ctx: SampleContext) -> None:
    """Companies and people in China and abroad, across industries, channels and statuses."""
    customers = []
    for index in range(ctx.customer_count):
        customer, profile = _customer(ctx, index)
        customers.append(customer)
        ctx.profiles.append(profile)
    ctx.added("customer", ctx.session.customers.add_many(customers))


def add_contacts(ctx: SampleContext) -> None:
    """The people reps talk to at each company: one to four, some of them decision makers."""
    rng = ctx.rng
    contacts = []
    for profile in ctx.profiles:
        if not profile.is_company:
            continue
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 4))):
            name, handle, _gender = _person_name(rng, profile.domestic)
            positions = vocab.POSITIONS_ZH if profile.domestic else vocab.POSITIONS_EN
            position = rng.choice(positions)
            if profile.domestic:
                messaging = {"wechat": f"{handle}_{rng.randint(10, 99)}"}
                phone = _mobile_cn(rng)
            else:
                messaging = {"linkedin": f"{handle.replace('.', '-')}-{rng.randint(10, 99)}"}
                phone = _phone_abroad(rng, "North America")
            contact = Contact(
                id=ctx.new_id(Contact.ID_PREFIX),
                customer_id=profile.id,
                name=name,
                position=position,
                is_decision_maker=position in vocab.DECISION_POSITIONS,
                phone=phone,
                email=f"{handle}@{profile.domain}",
                messaging_ids=messaging,
                notes="Prefers to be contacted in the morning" if rng.random() < 0.1 else None,
            )
            profile.contact_ids.append(contact.id)
            contacts.append(contact)
    ctx.added("contact", ctx.session.contacts.add_many(contacts))


_ORDERS_PER_YEAR = {
    LifecycleStatus.ACTIVE: (2.0, 9.0),
    LifecycleStatus.DORMANT: (1.0, 3.0),
    LifecycleStatus.CHURNED: (1.0, 2.5),
}
"""How often customers of each status ordered while they did (a range to draw from)."""
_ORDER_WINDOW_END_DAYS = {
    LifecycleStatus.ACTIVE: 0,
    LifecycleStatus.DORMANT: 180,
    LifecycleStatus.CHURNED: 270,
}
_QUANTITIES = {
    "CRM-STD": (5, 200),
    "CRM-PRO": (5, 120),
    "IMPL-D": (2, 30),
    "TRAIN": (1, 4),
    "SUP-GOLD": (1, 1),
    "HW-SCAN": (1, 50),
    "HW-POS": (1, 20),
    "INT-ERP": (1, 1),
}


def _order_status(ctx: SampleContext, placed_at: datetime) -> OrderStatus:
    age = ctx.now - placed_at
    roll = ctx.rng.random()
    if age < timedelta(days=7):
        return OrderStatus.PENDING if roll < 0.5 else OrderStatus.PAID
    if age < timedelta(days=30):
        return OrderStatus.PAID if roll < 0.4 else OrderStatus.FULFILLED
    if roll < 0.05:
        return OrderStatus.CANCELLED
    if roll < 0.08:
        return OrderStatus.REFUNDED
    return OrderStatus.FULFILLED


_PERSON_PRODUCTS = frozenset({"CRM-STD", "TRAIN", "HW-SCAN", "HW-POS"})
"""What people (sole traders, freelancers) buy: a few seats and devices, not ERP projects."""


def _lines(ctx: SampleContext, profile: Profile) -> list[OrderLine]:
    rng = ctx.rng
    currency = profile.currency
    products = vocab.PRODUCTS
    if not profile.is_company:
        products = tuple(p for p in products if p[0] in _PERSON_PRODUCTS)
    lines = []
    for sku, description, cny, usd in rng.sample(products, k=rng.choice((1, 1, 2, 2, 3))):
        low, high = _QUANTITIES[sku]
        if not profile.is_company:
            low, high = 1, min(high, 3)
        lines.append(
            OrderLine(
                sku=sku,
                description=description,
                quantity=Decimal(rng.randint(low, high)),
                unit_price=Money(Decimal(cny if currency == "CNY" else usd), currency),
            )
        )
    return lines


def add_orders(ctx: SampleContext) -> None:
    """Orders with product lines in CNY (customers in China) or USD, over two years, numbered
    in the order they were placed."""
    rng = ctx.rng
    placed: list[tuple[datetime, Profile]] = []
    for profile in ctx.profiles:
        rates = _ORDERS_PER_YEAR.get(profile.status)
        if rates is None:
            continue
        end = ctx.now - timedelta(days=_ORDER_WINDOW_END_DAYS[profile.status])
        years = max((end - profile.captured_at).days, 0) / 365
        per_year = rng.uniform(*rates) * (1.0 if profile.is_company else 0.5)
        for _ in range(max(1, round(per_year * years))):
            placed.append((ctx.between(profile.captured_at, end), profile))
    placed.sort(key=lambda item: item[0])
    orders = []
    for number, (placed_at, profile) in enumerate(placed, start=1):
        orders.append(
            Order.from_lines(
                id=ctx.new_id(Order.ID_PREFIX),
                number=f"SO-{placed_at:%y%m}-{number:06d}",
                customer_id=profile.id,
                placed_at=placed_at,
                lines=_lines(ctx, profile),
                status=_order_status(ctx, placed_at),
            )
        )
    ctx.orders = orders
    ctx.added("order", ctx.session.orders.add_many(orders))


_CHANNELS = tuple(InteractionChannel)
_CHANNEL_WEIGHTS = {
    InteractionChannel.PHONE: 30,
    InteractionChannel.EMAIL: 22,
    InteractionChannel.MESSAGING: 18,
    InteractionChannel.VISIT: 14,
    InteractionChannel.ONLINE: 10,
    InteractionChannel.SMS: 6,
}
_INTERACTION_COUNTS = {
    LifecycleStatus.PROSPECT: (1, 4),
    LifecycleStatus.ACTIVE: (2, 8),
    LifecycleStatus.DORMANT: (1, 4),
    LifecycleStatus.CHURNED: (1, 3),
    LifecycleStatus.LOST: (1, 3),
}


def _interaction(ctx: SampleContext, profile: Profile, occurred_at: datetime) -> Interaction:
    rng = ctx.rng
    next_action = None
    next_action_due = None
    if rng.random() < 0.45:
        next_action = rng.choice(vocab.NEXT_ACTIONS)
        next_action_due = (occurred_at + timedelta(days=rng.randint(1, 14))).replace(hour=2)
    contact_id = None
    if profile.contact_ids and rng.random() < 0.7:
        contact_id = rng.choice(profile.contact_ids)
    return Interaction(
        id=ctx.new_id(Interaction.ID_PREFIX),
        customer_id=profile.id,
        contact_id=contact_id,
        channel=ctx.weighted(_CHANNELS, [_CHANNEL_WEIGHTS[c] for c in _CHANNELS]),
        occurred_at=occurred_at,
        summary=rng.choice(vocab.INTERACTION_SUMMARIES),
        recorded_by=profile.owner,
        needs=rng.sample(vocab.NEEDS, k=rng.choice((0, 1, 1, 2))),
        objections=rng.sample(vocab.OBJECTIONS, k=1) if rng.random() < 0.3 else (),
        commitments=rng.sample(vocab.COMMITMENTS, k=1) if rng.random() < 0.3 else (),
        result=rng.choice(vocab.RESULTS),
        next_action=next_action,
        next_action_due=next_action_due,
    )


def add_interactions(ctx: SampleContext) -> None:
    """Follow-ups on every channel, with needs, objections, commitments and next actions."""
    rng = ctx.rng
    planned: list[tuple[datetime, Profile]] = []
    for profile in ctx.profiles:
        low, high = _INTERACTION_COUNTS[profile.status]
        for _ in range(rng.randint(low, high)):
            planned.append((ctx.between(profile.captured_at, ctx.now), profile))
    planned.sort(key=lambda item: item[0])
    interactions = [_interaction(ctx, profile, at) for at, profile in planned]
    ctx.interactions = interactions
    ctx.added("interaction", ctx.session.interactions.add_many(interactions))


def _task_state(ctx: SampleContext, due_at: datetime) -> tuple[TaskStatus, datetime | None]:
    roll = ctx.rng.random()
    if due_at < ctx.now - timedelta(days=2):
        if roll < 0.85:
            closed = ctx.between(
                due_at - timedelta(days=2), min(due_at + timedelta(days=3), ctx.now)
            )
            return TaskStatus.DONE, closed
        if roll < 0.92:
            return TaskStatus.CANCELLED, min(due_at + timedelta(days=1), ctx.now)
        return TaskStatus.OPEN, None
    if due_at < ctx.now and roll < 0.5:
        return TaskStatus.DONE, ctx.between(due_at - timedelta(days=1), ctx.now)
    return TaskStatus.OPEN, None


def add_tasks(ctx: SampleContext) -> None:
    """A follow-up task for every next action (most done, some open, some overdue) and
    renewal tasks for a share of active customers."""
    rng = ctx.rng
    owners = {profile.id: profile.owner for profile in ctx.profiles}
    tasks = []
    for interaction in ctx.interactions:
        if interaction.next_action is None or interaction.next_action_due is None:
            continue
        status, closed_at = _task_state(ctx, interaction.next_action_due)
        tasks.append(
            Task(
                id=ctx.new_id(Task.ID_PREFIX),
                subject=interaction.next_action,
                due_at=interaction.next_action_due,
                assignee=owners[interaction.customer_id],
                customer_id=interaction.customer_id,
                about=interaction.id,
                status=status,
                closed_at=closed_at,
            )
        )
    for profile in ctx.profiles:
        if profile.status is LifecycleStatus.ACTIVE and rng.random() < 0.15:
            tasks.append(
                Task(
                    id=ctx.new_id(Task.ID_PREFIX),
                    subject=rng.choice(vocab.TASK_SUBJECTS),
                    due_at=ctx.now.replace(minute=0) + timedelta(days=rng.randint(1, 30)),
                    assignee=profile.owner,
                    customer_id=profile.id,
                    kind="renewal",
                )
            )
    ctx.added("task", ctx.session.tasks.add_many(tasks))


_PIPELINE_STATUSES = {LifecycleStatus.PROSPECT: 0.6, LifecycleStatus.ACTIVE: 0.45}
"""Share of customers of each status with deals in the pipeline (the rest have none)."""
_PIPELINE_DAYS = 240
"""How far back deals were opened: about two quarters of pipeline plus the tail of old ones."""
_PROGRESS = 0.75
"""Chance a deal moves on at each stage rather than stalling there."""
_STALLED_LOST = 0.6
"""Chance a deal stalled for over a month is marked lost (the others are still chased)."""


def _amount(ctx: SampleContext, profile: Profile) -> Money:
    rng = ctx.rng
    if profile.currency == "CNY":
        low, high = (30, 1500) if profile.is_company else (2, 30)
        return Money(Decimal(rng.randint(low, high) * 1000), "CNY")
    low, high = (5, 250) if profile.is_company else (1, 5)
    return Money(Decimal(rng.randint(low, high) * 1000), "USD")


def _opportunity(ctx: SampleContext, profile: Profile) -> Opportunity:
    """A deal opened some months ago and worked stage by stage until now: most stop somewhere
    on the way, those left alone for long are lost with a reason, some are signed."""
    rng = ctx.rng
    machine = default_pipeline()
    start = max(profile.captured_at, ctx.now - timedelta(days=_PIPELINE_DAYS))
    moment = ctx.between(start, ctx.now)
    opportunity, _ = open_opportunity(
        id=ctx.new_id(Opportunity.ID_PREFIX),
        customer_id=profile.id,
        title=rng.choice(vocab.OPPORTUNITY_TITLES),
        amount=_amount(ctx, profile),
        owner=profile.owner,
        team=profile.team,
        now=moment,
        by=profile.owner,
        expected_close=(moment + timedelta(days=rng.randint(45, 150))).date(),
        source_channel=ctx.weighted(vocab.SOURCE_CHANNELS, vocab.SOURCE_WEIGHTS),
    )
    while not machine.stage(opportunity.stage).terminal:
        step = moment + timedelta(days=rng.uniform(3, 30))
        if step > ctx.now:
            break
        moment = step.replace(second=0, microsecond=0)
        if rng.random() > _PROGRESS:
            if ctx.now - moment > timedelta(days=30) and rng.random() < _STALLED_LOST:
                opportunity, _ = advance_opportunity(
                    opportunity,
                    machine.stages_with(StageOutcome.LOST)[0],
                    now=moment,
                    by=profile.owner,
                    machine=machine,
                    reason=rng.choice(vocab.LOST_REASONS),
                )
            break
        for key in machine.stage(opportunity.stage).required_deliverables:
            opportunity, _ = deliver(opportunity, key, now=moment)
        opportunity, _ = advance_opportunity(
            opportunity,
            machine.targets(opportunity.stage)[0],
            now=moment,
            by=profile.owner,
            machine=machine,
        )
    return opportunity


def add_opportunities(ctx: SampleContext) -> None:
    """Deals in the default sales pipeline for prospects and active customers, advanced
    stage by stage with their deliverables; stalled ones lost with a reason."""
    rng = ctx.rng
    deals = []
    for profile in ctx.profiles:
        share = _PIPELINE_STATUSES.get(profile.status, 0.0)
        if rng.random() < share:
            for _ in range(rng.choice((1, 1, 1, 2))):
                deals.append(_opportunity(ctx, profile))
    deals.sort(key=lambda deal: deal.id)
    ctx.added("opportunity", ctx.session.opportunities.add_many(deals))


LOAD_STEPS: list[LoadStep] = [
    add_customers,
    add_contacts,
    add_orders,
    add_interactions,
    add_tasks,
    add_opportunities,
]
"""Run in order inside one session; each step may read what earlier steps generated."""


def _advance(crm: CRM, hours: int) -> None:
    if isinstance(crm.clock, FixedClock):
        crm.clock.advance(hours=hours)


def record_account_history(crm: CRM, ctx: SampleContext) -> None:
    """Changes made after the load by people, so the audit example shows who changed what.

    The featured account (the summary's top customer) is handed to another rep and made a
    key account by a sales manager; the new owner then updates its phone and email.
    """
    customer_id = featured_customer(order_totals(ctx.orders))
    if customer_id is None:
        if not ctx.profiles:
            return
        customer_id = ctx.profiles[0].id
    profile = next(p for p in ctx.profiles if p.id == customer_id)
    others = [rep for rep in vocab.TEAMS[profile.team] if rep != profile.owner]
    new_owner = ctx.rng.choice(others)
    _advance(crm, 1)
    with crm.session(actor="sales.manager") as s:
        customer = s.customers.get(customer_id)
        s.customers.update(
            customer.evolve(
                owner=new_owner, priority=Priority.HIGH, tags=customer.tags | {"key-account"}
            )
        )
    _advance(crm, 2)
    with crm.session(actor=new_owner) as s:
        customer = s.customers.get(customer_id)
        phone = _mobile_cn(ctx.rng) if profile.domestic else _phone_abroad(ctx.rng, "Europe")
        email = customer.email
        if profile.domain is not None:
            email = f"purchasing@{profile.domain}"
        s.customers.update(customer.evolve(phone=phone, email=email))
    _advance(crm, 1)


def load(
    crm: CRM, *, customers: int, seed: int | None, steps: Sequence[LoadStep] = LOAD_STEPS
) -> dict[str, int]:
    """Generate and store the sample data; returns how many records of each type were added.

    All steps run in one session acting as ``"demo"`` (so a failure stores nothing), through
    the repositories' ``add_many`` bulk path.
    """
    rng = random.Random(seed)
    now = crm.clock.now()
    load_ms = int(now.timestamp() * 1000)
    with crm.session(actor=DEMO_ACTOR) as session:
        ctx = SampleContext(
            session=session,
            rng=rng,
            now=now,
            new_id=IdGenerator(random.Random(rng.getrandbits(64)), now_ms=lambda: load_ms),
            customer_count=customers,
        )
        for step in steps:
            step(ctx)
    record_account_history(crm, ctx)
    ctx.added("customer_grade", grade_customers(crm, DEMO_ACTOR))
    return ctx.counts
