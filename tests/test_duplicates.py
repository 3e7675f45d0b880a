"""Duplicate detection: scoring pairs, blocking in the store, memory and SQL agreeing."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import CRM, Actor, Customer, FixedClock, ValidationError
from pycrm.identity import IdentityHasher
from pycrm.identity.derive import stamp_identity
from pycrm.identity.duplicates import (
    WEIGHTS,
    DuplicateCandidate,
    DuplicateReason,
    name_similarity,
    score_pair,
)
from pycrm.storage import MemoryStore, Store

if TYPE_CHECKING:
    from conftest import SqlBackend

KEY = "a-test-identity-key-of-some-length"
HASHER = IdentityHasher(KEY)
R = DuplicateReason


def stamped(customer: Customer) -> Customer:
    return stamp_identity(customer, HASHER, "CN")


@pytest.fixture
def icrm(store_factory: type[Store], clock: FixedClock) -> Iterator[CRM]:
    instance = CRM(store_factory(), clock=clock, identity_key=KEY)
    yield instance
    instance.close()


# -- scoring --------------------------------------------------------------------------------


def test_reasons_combine_as_independent_evidence() -> None:
    a = stamped(Customer.person("Zhang Wei", phone="13812345678", email="zw@example.com"))
    b = stamped(Customer.person("Wei Zhang", phone="138 1234 5678", email="ZW@example.com"))
    reasons, score, names = score_pair(a, b, similarity=0.85)
    assert reasons == (R.SAME_PHONE, R.SAME_EMAIL)
    assert score == pytest.approx(1 - (1 - 0.9) * (1 - 0.8))
    assert names is None


def test_similar_names_count_only_within_one_company() -> None:
    a = stamped(Customer.person("Zhang Weiming", employer="Acme Co., Ltd."))
    b = stamped(Customer.person("zhang wei-ming", employer="ACME Inc"))
    c = stamped(Customer.person("Zhang Weiming", employer="Other Ltd"))
    d = stamped(Customer.person("Li Na", employer="Acme"))
    reasons, score, names = score_pair(a, b, similarity=0.85)
    assert reasons == (R.SIMILAR_NAME_SAME_COMPANY,)
    assert names == 1.0
    assert score == pytest.approx(WEIGHTS[R.SIMILAR_NAME_SAME_COMPANY])
    assert score_pair(a, c, similarity=0.85)[0] == ()
    assert score_pair(a, d, similarity=0.85)[0] == ()
    near = stamped(Customer.person("Zhang Weimin", employer="Acme"))
    reasons, score, names = score_pair(a, near, similarity=0.85)
    assert names is not None
    assert 0.85 <= names < 1
    assert score == pytest.approx(0.6 * names)


def test_companies_pair_on_their_name_key_and_never_with_people() -> None:
    a = stamped(Customer.company("深圳市腾达科技有限公司", phone="13812345678"))
    b = stamped(Customer.company("深圳市腾达科技", phone="13812345678"))
    person = stamped(Customer.person("Teng", phone="13812345678", employer="深圳市腾达科技"))
    reasons, score, _ = score_pair(a, b, similarity=0.85)
    assert reasons == (R.SAME_PHONE, R.SAME_COMPANY_NAME)
    assert score == pytest.approx(1 - 0.1 * 0.3)
    assert score_pair(a, person, similarity=0.85) == ((), 0.0, None)


def test_name_similarity_ignores_width_case_and_spacing() -> None:
    assert name_similarity("ZHANG  Wei", "zhangwei") == 1.0
    assert name_similarity("张伟", "张玮") == 0.5


# -- in the store ---------------------------------------------------------------------------


def world() -> list[Customer]:
    return [
        Customer.person("Zhang Wei", phone="13812345678", email="zw@example.com"),
        Customer.person("张伟", phone="+86 138 1234 5678"),
        Customer.person("Zhang Wei", email="ZW@example.com", id_number="11010519491231002X"),
        Customer.person("Z. Wei", id_number="11010519491231002x"),
        Customer.person("Li Na", employer="Acme Co., Ltd."),
        Customer.person("li  na", employer="ACME"),
        Customer.person("Wang Fang", employer="Acme"),
        Customer.company("Acme Co., Ltd.", phone="13812345678"),
        Customer.company("ACME"),
        Customer.company("Unrelated GmbH"),
    ]


def expected_pairs(customers: list[Customer], min_score: float) -> set[tuple[object, ...]]:
    """Every pair scored directly, without blocking: what the store's blocks must find."""
    found = set()
    for a, b in combinations(sorted(customers, key=lambda c: c.id), 2):
        reasons, score, _ = score_pair(a, b, similarity=0.85)
        if reasons and score >= min_score:
            found.add(((a.id, b.id), score, reasons))
    return found


def as_set(candidates: list[DuplicateCandidate]) -> set[tuple[object, ...]]:
    return {(c.customer_ids, c.score, c.reasons) for c in candidates}


def test_duplicates_finds_each_pair_once_with_all_its_reasons(icrm: CRM) -> None:
    with icrm.session() as s:
        stored = [s.customers.add(c) for c in world()]
        found = list(s.customers.duplicates())
        paged = list(s.customers.duplicates(batch_size=1))
    by_name = {c.name: c.id for c in stored}
    pairs = [c.customer_ids for c in found]
    assert len(pairs) == len(set(pairs))
    assert as_set(found) == expected_pairs(stored, 0.5)
    assert as_set(paged) == as_set(found)
    first = next(c for c in found if set(c.customer_ids) == {stored[0].id, stored[2].id})
    assert first.reasons == (R.SAME_EMAIL,)
    assert first.descriptions == ("same email",)
    li = sorted([stored[4].id, stored[5].id])
    assert any(c.customer_ids == tuple(li) for c in found)
    acme = tuple(sorted([by_name["Acme Co., Ltd."], by_name["ACME"]]))
    assert any(c.customer_ids == acme and c.reasons == (R.SAME_COMPANY_NAME,) for c in found)
    assert all(by_name["Unrelated GmbH"] not in c.customer_ids for c in found)
    assert all(stored[7].id not in c.customer_ids or stored[8].id in c.customer_ids for c in found)


def test_min_score_and_arguments(icrm: CRM) -> None:
    with icrm.session() as s:
        stored = [s.customers.add(c) for c in world()]
        strong = list(s.customers.duplicates(min_score=0.85))
        assert as_set(strong) == expected_pairs(stored, 0.85)
        assert all(c.score >= 0.85 for c in strong)
        for bad, field in [
            ({"min_score": 1.5}, "min_score"),
            ({"similarity": "high"}, "similarity"),
            ({"batch_size": 0}, "batch_size"),
            ({"max_block": 1}, "max_block"),
        ]:
            with pytest.raises(ValidationError) as caught:
                s.customers.duplicates(**bad)  # type: ignore[arg-type]
            assert caught.value.field == field


def test_large_blocks_compare_names_by_exact_key(icrm: CRM) -> None:
    staff = [Customer.person(f"Staff {n}", employer="Big Corp") for n in range(5)]
    staff += [Customer.person("Staff 1", employer="Big Corp Ltd")]
    with icrm.session() as s:
        stored = [s.customers.add(c) for c in staff]
        exhaustive = {c.customer_ids for c in s.customers.duplicates(similarity=0.8)}
        capped = {c.customer_ids for c in s.customers.duplicates(similarity=0.8, max_block=3)}
    twins = tuple(sorted([stored[1].id, stored[5].id]))
    assert capped == {twins}
    assert twins in exhaustive
    assert len(exhaustive) > 1  # "Staff 1" and "Staff 2" are alike at 0.8


# -- memory and SQL agree -------------------------------------------------------------------

PHONES = ["13812345678", "138 1234 5678", "13900001111", "12345"]
EMAILS = ["a@example.com", "A@Example.com", "b@example.com"]
NAMES = ["Zhang Wei", "zhang  wei", "Zhang Weimin", "Li Na", "张伟"]
COMPANIES = ["Acme Co., Ltd.", "ACME", "Beta GmbH", "腾达科技有限公司", "腾达科技"]


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    maybe = lambda values: draw(st.none() | st.sampled_from(values))  # noqa: E731
    if draw(st.booleans()):
        return Customer.company(draw(st.sampled_from(COMPANIES)), phone=maybe(PHONES))
    return Customer.person(
        draw(st.sampled_from(NAMES)),
        phone=maybe(PHONES),
        email=maybe(EMAILS),
        employer=maybe(COMPANIES),
        id_number=maybe(["11010519491231002X", "E12345678"]),
    )


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=st.lists(customers(), max_size=12), batch=st.integers(1, 4))
def test_memory_and_sql_stores_find_the_same_candidates(
    sql: SqlBackend, clock: FixedClock, world: list[Customer], batch: int
) -> None:
    results = []
    for store in (MemoryStore(), sql.fresh()):
        crm = CRM(store, clock=clock, identity_key=KEY)
        with crm.session() as s:
            s.customers.add_many(world)
        with crm.session() as s:
            results.append(list(s.customers.duplicates(batch_size=batch)))
            flagged = {q.customer_id for q in s.customers.quality() if q.issues}
            results.append(flagged)  # type: ignore[arg-type]
    memory, memory_flags, sql, sql_flags = results
    assert memory == sql  # same candidates, in the same order
    assert memory_flags == sql_flags
    assert as_set(memory) == expected_pairs([stamped(c) for c in world], 0.5)


def test_an_actor_sees_only_duplicates_in_their_scope(icrm: CRM) -> None:
    with icrm.session() as s:
        mine = s.customers.add(Customer.person("A", phone="13812345678", owner="ann"))
        also_mine = s.customers.add(Customer.person("B", phone="13812345678", owner="ann"))
        s.customers.add(Customer.person("C", phone="13812345678", owner="bob"))
    with icrm.session(actor=Actor("ann")) as s:
        pairs = [c.customer_ids for c in s.customers.duplicates()]
        flagged = {q.customer_id for q in s.customers.quality() if q.issues}
        resolved = s.customers.resolve(phone="13812345678")
    assert pairs == [tuple(sorted([mine.id, also_mine.id]))]
    assert flagged == {mine.id, also_mine.id}
    assert set(resolved.conflicts["phone"]) == {mine.id, also_mine.id}
