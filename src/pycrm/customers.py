"""The customers repository: everything a repository does, plus queries by rule.

``find`` and ``count`` take a segment rule (``pycrm.F`` expression), a saved
:class:`~pycrm.Segment` or a rule's data, and run it where the data is: one parameterised
SQL query on SQL stores, Python on the memory store, with the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from pycrm import erasure, merging
from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ConcurrencyConflict, ValidationError
from pycrm.grading.churn import ChurnPolicy, ChurnRisk, risks
from pycrm.grading.evaluate import RuleContext
from pycrm.grading.expr import Expr, as_expr
from pycrm.identity.derive import IDENTITY_ORDER, identity_tuple, stamp_identity
from pycrm.identity.duplicates import (
    BLOCK_FIELDS,
    DuplicateCandidate,
    block_candidates,
    check_threshold,
)
from pycrm.identity.normalize import normalize_phone
from pycrm.identity.quality import (
    DUPLICATE_ISSUE,
    CustomerQuality,
    QualityReport,
    ReportBuilder,
    assess,
    check_customer,
)
from pycrm.identity.resolve import Resolution, decide
from pycrm.merge import MergeLog
from pycrm.paging import Page
from pycrm.query import OneOf
from pycrm.repository import MAX_PAGE, Repository
from pycrm.storage.identity import IdentityIndex, identity_index

RESOLVE_LIMIT = 20
"""Customers fetched per identifier by ``resolve``: more than one already means a conflict."""

RuleLike = Any
"""An :class:`~pycrm.grading.expr.Expr`, a saved segment (anything with a ``rule``), or a
rule's data from ``Expr.to_data()``."""


def rule_of(value: RuleLike, field: str = "rule") -> Expr:
    """The expression behind ``value`` (an expression, a segment, or its data)."""
    rule = getattr(value, "rule", None)
    if isinstance(rule, Expr):
        return rule
    if isinstance(value, Mapping | Expr):
        return as_expr(value, field)
    raise ValidationError(field, f"expected a rule (pycrm.F ...) or a segment, got {value!r}")


class CustomerRepository(Repository[Customer]):
    """Customers in a session, with :meth:`find` and :meth:`count` by rule, and identity:
    :meth:`resolve`, :meth:`duplicates`, :meth:`quality` and :meth:`rehash`.

    Every customer added or updated gets its derived identity fields (keyed hashes of phone,
    email and ID number, the company name key) from the CRM's identity key and phone region
    here, in the session, since the entity cannot know the key and the store should not.
    """

    # -- identity (pycrm.identity) ----------------------------------------------------------

    def _stamp(self, customer: Customer) -> Customer:
        if not isinstance(customer, Customer):
            self._check_type(customer)  # raises, naming the type
        crm = self._session.crm
        return stamp_identity(customer, crm.identity, crm.phone_region)

    def add(self, entity: Customer) -> Customer:
        return super().add(self._stamp(entity))

    # add_many derives the identity fields in the copy it stamps anyway (one copy, not two).
    _derived_fields = IDENTITY_ORDER

    def _derive(self, entity: Customer) -> tuple[Any, ...]:
        crm = self._session.crm
        return identity_tuple(entity, crm.identity, crm.phone_region)

    def update(self, entity: Customer) -> Customer:
        return super().update(self._stamp(entity))

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        # Phone and email may be encrypted at rest, so equality on them goes through their
        # keyed hashes (as resolve() does): ``phone="138 1234 5678"`` finds ``+8613812345678``.
        # ``None`` (no phone) still filters the column itself: a missing value is not sealed.
        translated: dict[str, Any] = {}
        for field, value in filters.items():
            if field in ("phone", "email") and isinstance(value, OneOf):
                hashes = [self._lookup_hash(field, v) for v in value.values]
                translated[f"{field}_hash"] = OneOf(hashes)
            elif field in ("phone", "email") and value is not None:
                translated[f"{field}_hash"] = self._lookup_hash(field, value)
            else:
                translated[field] = value
        return super()._filters(translated)

    def _lookup_hash(self, field: str, value: Any) -> str | None:
        crm = self._session.crm
        if field == "phone":
            return crm.identity.phone(normalize_phone(value, crm.phone_region))
        return crm.identity.email(value)

    @property
    def _index(self) -> IdentityIndex:
        return identity_index(self._table)

    def resolve(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        member_id: str | None = None,
        id_number: str | None = None,
    ) -> Resolution:
        """The one customer these identifiers name, or why there is not one.

        Each identifier given is looked up on its own (member id, then ID number, phone and
        email by their keyed hashes: one indexed query each, never a scan). The customer is
        found only when every identifier that matched anybody matched that one customer; a
        conflict (the phone says A, the email says B, or a phone shared by two records) comes
        back as :attr:`Resolution.conflicts`, not a guess. Malformed identifiers raise
        :class:`pycrm.ValidationError` naming them.
        """
        self._session._check_open()
        crm = self._session.crm
        lookups: dict[str, dict[str, str]] = {}
        if member_id is not None:
            checked = conv.check_text(member_id, "member_id", max_length=64, required=True)
            lookups["member_id"] = {"member_id": checked or ""}
        if id_number is not None:
            lookups["id_number"] = {"id_number_hash": crm.identity.id_number(id_number)}
        if phone is not None:
            e164 = normalize_phone(phone, crm.phone_region)
            lookups["phone"] = {"phone_hash": crm.identity.phone(e164)}
        if email is not None:
            lookups["email"] = {"email_hash": crm.identity.email(email)}
        if not lookups:
            raise ValidationError("resolve", "give a phone, email, member_id or id_number")
        found = {
            key: self.list(limit=RESOLVE_LIMIT, **filters).items for key, filters in lookups.items()
        }
        return decide(found)

    def duplicates(
        self,
        *,
        min_score: float = 0.5,
        similarity: float = 0.85,
        batch_size: int = 500,
        max_block: int = 1000,
    ) -> Iterator[DuplicateCandidate]:
        """Pairs of customers that may be one, each with a score and its reasons.

        The store finds blocks set-based (customers sharing an ID number, phone or email
        hash, or a company name key; GROUP BY on SQL stores), ``batch_size`` blocks per
        query; each pair of customers of one kind within a block is then scored from the two
        records (see :mod:`pycrm.identity.duplicates`), and persons at the same company are
        compared by name (``difflib`` ratio of their name keys, at least ``similarity``).
        Pairs scoring below ``min_score`` are left out; each pair comes once, with all its
        reasons, ready for :meth:`merge`.
        """
        self._session._check_open()
        floor = check_threshold(min_score, "min_score")
        alike = check_threshold(similarity, "similarity")
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        conv.check_int(max_block, "max_block", minimum=2, required=True)
        return self._duplicates(floor, alike, batch_size, max_block)

    def _duplicates(
        self, floor: float, alike: float, batch_size: int, max_block: int
    ) -> Iterator[DuplicateCandidate]:
        earlier: list[str] = []
        for field, reason in BLOCK_FIELDS:
            kinds: tuple[str | None, ...] = (
                ("company", "person") if field == "company_key" else (None,)
            )
            for kind in kinds:
                after: str | None = None
                while True:
                    self._session._check_open()
                    blocks = self._index.blocks(field, kind=kind, after=after, limit=batch_size)
                    members = self._members({i for _, ids in blocks for i in ids})
                    for _, ids in blocks:
                        yield from block_candidates(
                            [members[i] for i in ids if i in members],
                            reason,
                            earlier=earlier,
                            min_score=floor,
                            similarity=alike,
                            max_block=max_block,
                        )
                    if len(blocks) < batch_size:
                        break
                    after = blocks[-1][0]
            earlier.append(field)

    def _members(self, ids: set[str]) -> dict[str, Customer]:
        """The customers with ``ids``, by id."""
        return {c.id: c for c in self._index.customers(ids)}

    def quality(self, *, batch_size: int = 1000) -> Iterator[CustomerQuality]:
        """Every customer's data-quality issues and score, in id order, ``batch_size``
        customers at a time (see :mod:`pycrm.identity.quality` for the scoring).

        Possible duplicates are flagged with one set-based query per identity key and page.
        """
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        if batch_size > MAX_PAGE:
            raise ValidationError("batch_size", f"at most {MAX_PAGE}")
        return self._quality(batch_size)

    def _quality(self, batch_size: int) -> Iterator[CustomerQuality]:
        region = self._session.crm.phone_region
        after: str | None = None
        while True:
            page = self.list(limit=batch_size, after=after)
            flagged = self._shared(page.items)
            for customer in page.items:
                issues = check_customer(customer, region)
                if customer.id in flagged:
                    issues.append(DUPLICATE_ISSUE)
                yield assess(customer.id, issues)
            if page.next_after is None:
                return
            after = page.next_after

    def _shared(self, customers: Sequence[Customer]) -> set[str]:
        """Ids of ``customers`` that share an identity key with another customer."""
        flagged: set[str] = set()
        for field, _ in BLOCK_FIELDS:
            kind = "company" if field == "company_key" else None
            held = [
                c
                for c in customers
                if getattr(c, field) is not None and (kind is None or c.is_company)
            ]
            if not held:
                continue
            shared = self._index.shared(field, {getattr(c, field) for c in held}, kind=kind)
            flagged.update(c.id for c in held if getattr(c, field) in shared)
        return flagged

    def quality_report(self, *, worst: int = 100, batch_size: int = 1000) -> QualityReport:
        """The data quality of every customer: counts per issue, the overall score and the
        ``worst`` lowest-scoring customers, computed a page at a time in bounded memory."""
        conv.check_int(worst, "worst", minimum=0, required=True)
        builder = ReportBuilder(worst)
        for result in self.quality(batch_size=batch_size):
            builder.add(result)
        return builder.report()

    def rehash(self, *, batch_size: int = 1000) -> int:
        """Derive every customer's identity fields afresh; returns how many changed.

        Run it after changing the CRM's identity key or phone region, and once after
        upgrading a database whose customers predate identity hashes. Changed customers get
        a new version (so a concurrent edit of an older copy is refused) but no audit entry:
        the hashes only restate fields the audit log already holds.
        """
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        changed = 0
        now = self._session.now
        for customer in self.stream(batch_size=batch_size):
            stamped = self._stamp(customer)
            if stamped is customer:
                continue
            stored = attrs.evolve(stamped, version=customer.version + 1, updated_at=now)
            if not self._table.update(stored, customer.version):
                raise ConcurrencyConflict("customer", customer.id, customer.version)
            changed += 1
        return changed

    # -- rules --------------------------------------------------------------------------------

    def rule_context(self, as_of: datetime | None = None) -> RuleContext:
        """What rules are evaluated against: ``as_of`` (default now) and the CRM's stage
        probabilities."""
        session = self._session
        when = session.now if as_of is None else conv.check_datetime(as_of, "as_of", required=True)
        assert when is not None
        return RuleContext(when, session.crm.stage_probabilities)

    def find_page(
        self,
        rule: RuleLike,
        *,
        as_of: datetime | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page[Customer]:
        """A page of the customers matching ``rule`` at ``as_of``, in id order."""
        self._session._check_open()
        expr = rule_of(rule)
        conv.check_int(limit, "limit", minimum=1, required=True)
        if limit > MAX_PAGE:
            raise ValidationError("limit", f"at most {MAX_PAGE} per page; use find() for more")
        conv.check_text(after, "after", max_length=64, required=False)
        items = self._session._analytics.customers(
            expr, self.rule_context(as_of), after=after, limit=limit
        )
        return Page(items, items[-1].id if len(items) == limit else None)

    def find(
        self, rule: RuleLike, *, as_of: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Customer]:
        """Every customer matching ``rule`` at ``as_of`` (default: now, fixed for the whole
        run), fetched ``batch_size`` at a time so memory stays flat."""
        expr = rule_of(rule)
        context = self.rule_context(as_of)
        after: str | None = None
        while True:
            page = self.find_page(expr, as_of=context.as_of, limit=batch_size, after=after)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def count(
        self, rule: RuleLike = None, /, *, as_of: datetime | None = None, **filters: Any
    ) -> int:
        """How many customers match ``rule`` at ``as_of``, or, without a rule, the field
        equality ``filters`` (as every repository's ``count``)."""
        if rule is None:
            if as_of is not None:
                raise ValidationError("as_of", "applies to a rule; give one")
            return super().count(**filters)
        if filters:
            raise ValidationError(
                sorted(filters)[0], "give a rule or field filters, not both (F can say both)"
            )
        self._session._check_open()
        return self._session._analytics.count_customers(rule_of(rule), self.rule_context(as_of))

    def merge(self, survivor: Customer | str, duplicates: Iterable[Customer | str]) -> MergeLog:
        """Merge ``duplicates`` into ``survivor``: their records move to it, it keeps the
        richest values, they are removed, and the returned log lets :meth:`unmerge` undo it.
        See :mod:`pycrm.merging`."""
        return merging.merge(self._session, survivor, duplicates)

    def unmerge(self, log: MergeLog | str) -> MergeLog:
        """Undo a merge: the duplicates and exactly the records that moved come back.
        See :func:`pycrm.merging.unmerge`."""
        return merging.unmerge(self._session, log)

    def erase(self, customer: Customer | str, reason: str) -> Customer:
        """Anonymise the person behind ``customer`` on request, keeping orders and the audit
        trail consistent. See :mod:`pycrm.erasure`."""
        return erasure.erase(self._session, customer, reason)

    def at_risk(
        self,
        policy: ChurnPolicy | None = None,
        *,
        as_of: datetime | None = None,
        batch_size: int = 1000,
    ) -> Iterator[ChurnRisk]:
        """Customers at risk of churning at ``as_of`` (default now) under ``policy``, each
        with its reasons, in id order; the store finds them set-based, a page at a time."""
        self._session._check_open()
        chosen = ChurnPolicy() if policy is None else policy
        if not isinstance(chosen, ChurnPolicy):
            raise ValidationError("policy", f"expected a ChurnPolicy, got {policy!r}")
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        context = self.rule_context(as_of)
        after: str | None = None
        while True:
            self._session._check_open()
            page = self._session._analytics.churn_signals(
                chosen, context, after=after, limit=batch_size
            )
            yield from risks(page, chosen, as_of=context.as_of)
            if len(page) < batch_size:
                return
            after = page[-1].customer_id
