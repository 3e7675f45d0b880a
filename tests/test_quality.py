"""The data-quality report: issues per customer, scores, duplicates flagged, every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pycrm import CRM, Customer, FixedClock, ValidationError
from pycrm.identity.quality import (
    PENALTIES,
    CustomerQuality,
    QualityIssue,
    ReportBuilder,
    assess,
    check_customer,
)
from pycrm.storage import Store

KEY = "a-test-identity-key-of-some-length"


def codes(customer: Customer, region: str = "CN") -> set[str]:
    return {issue.code for issue in check_customer(customer, region)}


@pytest.fixture
def icrm(store_factory: type[Store], clock: FixedClock) -> Iterator[CRM]:
    instance = CRM(store_factory(), clock=clock, identity_key=KEY)
    yield instance
    instance.close()


def test_issues_found_in_one_record() -> None:
    assert codes(Customer.person("Li", phone="13812345678")) == set()
    assert codes(Customer.person("Li")) == {"missing_contact"}
    assert codes(Customer.person("Li", phone="12345")) == {"invalid_phone"}
    assert codes(Customer.person("Li", phone="4155552671"), region="US") == set()
    assert codes(Customer.person("Li", email="li..x@example.com")) == {"invalid_email"}
    assert codes(Customer.person("Li", email="li@x.cn", id_number="110105194912310021")) == {
        "invalid_id_number"
    }
    assert codes(Customer.company("Acme")) == {"missing_industry", "missing_region"}
    assert codes(Customer.company("Acme", industry="retail", region="华东")) == set()
    issue = next(iter(check_customer(Customer.person("Li", phone="12345"), "CN")))
    assert issue.field == "phone"


def test_scores_subtract_penalties_and_stop_at_zero() -> None:
    issue = QualityIssue("invalid_phone", "phone", "bad")
    assert assess("c1", []).score == 1.0
    assert assess("c1", [issue]).score == pytest.approx(1 - PENALTIES["invalid_phone"])
    many = [QualityIssue(code, None, code) for code in PENALTIES]
    assert assess("c1", many).score == 0.0


def test_the_report_keeps_only_the_worst() -> None:
    builder = ReportBuilder(keep=2)
    scores = [1.0, 0.2, 0.7, 0.2, 0.9, 0.5]
    bad = (QualityIssue("invalid_phone", "phone", "bad"),)
    for n, score in enumerate(scores):
        builder.add(CustomerQuality(f"c{n}", score, () if score == 1.0 else bad))
    report = builder.report()
    assert report.customers == 6
    assert report.with_issues == 5
    assert report.score == pytest.approx(sum(scores) / 6)
    assert [r.customer_id for r in report.worst] == ["c1", "c3"]
    assert report.issue_counts == {"invalid_phone": 5}
    assert ReportBuilder(keep=3).report().score == 1.0


def test_quality_in_the_store_flags_duplicates(icrm: CRM) -> None:
    with icrm.session() as s:
        good = s.customers.add(Customer.person("Good", phone="13812345678"))
        twin = s.customers.add(Customer.person("Twin", phone="138 1234 5678"))
        bare = s.customers.add(Customer.person("Bare"))
        acme = s.customers.add(Customer.company("Acme Co., Ltd.", industry="x", region="y"))
        acme2 = s.customers.add(Customer.company("ACME", industry="x", region="y"))
        staff = s.customers.add(Customer.person("Staff", email="s@acme.com", employer="Acme"))
    with icrm.session() as s:
        results = {q.customer_id: q for q in s.customers.quality()}
        paged = list(s.customers.quality(batch_size=1))
        report = s.customers.quality_report(worst=2)
    assert list(results.values()) == paged
    assert {i.code for i in results[good.id].issues} == {"possible_duplicate"}
    assert {i.code for i in results[twin.id].issues} == {"possible_duplicate"}
    assert {i.code for i in results[acme.id].issues} == {"possible_duplicate"}
    assert {i.code for i in results[acme2.id].issues} == {"possible_duplicate"}
    assert results[staff.id].issues == ()  # a person's employer key is no duplicate sign
    assert results[bare.id].score == pytest.approx(1 - PENALTIES["missing_contact"])
    assert report.customers == 6
    assert report.with_issues == 5
    assert report.issue_counts == {"possible_duplicate": 4, "missing_contact": 1}
    assert report.score == pytest.approx(sum(q.score for q in paged) / 6)
    assert [q.customer_id for q in report.worst] == [bare.id, min(good.id, twin.id)]


def test_quality_checks_its_arguments(icrm: CRM) -> None:
    with icrm.session() as s:
        for call in (
            lambda: s.customers.quality(batch_size=0),
            lambda: s.customers.quality(batch_size=10**6),
            lambda: s.customers.quality_report(worst=-1),
        ):
            with pytest.raises(ValidationError):
                call()
        assert s.customers.quality_report().score == 1.0
