"""Data quality of customer records: what is missing or wrong, and a score for it.

Each customer starts at 1.0 and loses the penalty of every issue found (never below 0):

=====================  =========================================================  =======
code                   when                                                       penalty
=====================  =========================================================  =======
``missing_contact``    a person with neither phone nor email                       0.4
``missing_industry``   a company without an industry                               0.15
``missing_region``     a company without a region                                  0.15
``invalid_phone``      a phone that is not a valid number in the CRM's region      0.3
``invalid_email``      an email that is not an address                             0.3
``invalid_id_number``  an ID number that is malformed or fails its check digit     0.2
``possible_duplicate`` another customer shares its phone, email or ID number hash  0.3
                       (or, for a company, its company name key)
=====================  =========================================================  =======

The overall score is the mean of the customers' scores (1.0 for an empty CRM), so it reads as
"the share of a perfect record the average customer is".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from pycrm.domain import Customer
from pycrm.errors import ValidationError
from pycrm.identity.normalize import (
    id_number_problem,
    normalize_email,
    normalize_id_number,
    phone_or_none,
)

PENALTIES: Mapping[str, float] = {
    "missing_contact": 0.4,
    "missing_industry": 0.15,
    "missing_region": 0.15,
    "invalid_phone": 0.3,
    "invalid_email": 0.3,
    "invalid_id_number": 0.2,
    "possible_duplicate": 0.3,
}
"""Issue code -> what it costs a customer's score."""


@attrs.frozen
class QualityIssue:
    """One problem with one field (``field`` is ``None`` for a record-level issue)."""

    code: str
    field: str | None
    message: str


@attrs.frozen
class CustomerQuality:
    """A customer's issues and its score, 0 to 1."""

    customer_id: str
    score: float
    issues: tuple[QualityIssue, ...]


@attrs.frozen
class QualityReport:
    """The quality of every customer, summarised in bounded memory.

    ``with_issues`` counts customers with at least one issue, ``issue_counts`` customers
    per issue code; ``worst`` holds up to the requested
    number of lowest-scoring customers with issues (lowest first, then by id). Every
    customer's result is available one by one from :meth:`pycrm.CustomerRepository.quality`.
    """

    customers: int
    with_issues: int
    score: float
    issue_counts: Mapping[str, int]
    worst: tuple[CustomerQuality, ...]


def check_customer(customer: Customer, region: str) -> list[QualityIssue]:
    """The issues of one customer visible in the record itself (not duplicates)."""
    issues: list[QualityIssue] = []
    if customer.is_company:
        if customer.industry is None:
            issues.append(QualityIssue("missing_industry", "industry", "industry is missing"))
        if customer.region is None:
            issues.append(QualityIssue("missing_region", "region", "region is missing"))
    elif customer.phone is None and customer.email is None:
        issues.append(QualityIssue("missing_contact", None, "neither phone nor email"))
    if customer.phone is not None and phone_or_none(customer.phone, region) is None:
        issues.append(
            QualityIssue("invalid_phone", "phone", f"not a valid phone number in {region}")
        )
    if customer.email is not None:
        try:
            normalize_email(customer.email)
        except ValidationError as exc:
            issues.append(QualityIssue("invalid_email", "email", exc.problem))
    if customer.id_number is not None:
        try:
            problem = id_number_problem(normalize_id_number(customer.id_number))
        except ValidationError as exc:
            problem = exc.problem
        if problem is not None:
            issues.append(QualityIssue("invalid_id_number", "id_number", problem))
    return issues


DUPLICATE_ISSUE = QualityIssue(
    "possible_duplicate", None, "shares an identity key with another customer"
)


def assess(customer_id: str, issues: Iterable[QualityIssue]) -> CustomerQuality:
    found = tuple(issues)
    penalty = sum(PENALTIES[issue.code] for issue in found)
    return CustomerQuality(customer_id, round(max(0.0, 1.0 - penalty), 6), found)


class ReportBuilder:
    """Accumulates :class:`CustomerQuality` results into a :class:`QualityReport`,
    keeping only the ``keep`` worst."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._count = 0
        self._flagged = 0
        self._total = 0.0
        self._issues: Counter[str] = Counter()
        self._worst: list[CustomerQuality] = []

    def add(self, result: CustomerQuality) -> None:
        self._count += 1
        self._total += result.score
        if not result.issues:
            return
        self._flagged += 1
        self._issues.update({issue.code for issue in result.issues})
        if self._keep:
            self._worst.append(result)
            if len(self._worst) > 2 * self._keep:
                self._trim()

    def _trim(self) -> None:
        self._worst.sort(key=lambda r: (r.score, r.customer_id))
        del self._worst[self._keep :]

    def report(self) -> QualityReport:
        self._trim()
        score = 1.0 if not self._count else round(self._total / self._count, 6)
        return QualityReport(
            self._count, self._flagged, score, dict(self._issues), tuple(self._worst)
        )
