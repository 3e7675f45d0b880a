"""Grading every customer by a scheme, set-based: the store decides each customer's grade in
one query per page (a ``CASE`` of the scheme's rules on SQL stores), and only the customers
whose grade or next follow-up changed are written, each with its audit entry and event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.candidates import GradeCandidate
from pycrm.grading.evaluate import CustomerFacts
from pycrm.grading.grades import CustomerGrade
from pycrm.grading.schemes import GradeResult, GradeScheme

if TYPE_CHECKING:
    from pycrm.session import Session

REGRADE_BATCH = 2_000


@attrs.frozen
class RegradeReport:
    """What a regrade run did: customers graded, grades given for the first time, grades
    changed, follow-ups only rescheduled, and how many customers hold each grade now."""

    scheme: str
    as_of: datetime
    graded: int
    assigned: int
    changed: int
    rescheduled: int
    distribution: Mapping[str | None, int]

    def __str__(self) -> str:
        shares = ", ".join(
            f"{grade or 'none'}: {count}"
            for grade, count in sorted(self.distribution.items(), key=lambda kv: str(kv[0]))
        )
        return (
            f"{self.scheme} as of {self.as_of.isoformat(timespec='seconds')}: "
            f"{self.graded} graded, {self.assigned} new, {self.changed} changed, "
            f"{self.rescheduled} rescheduled ({shares})"
        )


def resolve_scheme(session: Session, scheme: GradeScheme | str) -> GradeScheme:
    if isinstance(scheme, GradeScheme):
        return scheme
    if isinstance(scheme, str):
        return session.crm.grading_scheme(scheme)
    raise ValidationError("scheme", f"expected a GradeScheme or its name, got {scheme!r}")


def regrade(
    session: Session,
    scheme: GradeScheme | str,
    *,
    as_of: datetime | None = None,
    batch_size: int = REGRADE_BATCH,
) -> RegradeReport:
    """Grade every customer by ``scheme`` at ``as_of`` (default now) inside ``session``."""
    chosen = resolve_scheme(session, scheme)
    conv.check_int(batch_size, "batch_size", minimum=1, required=True)
    context = session.customers.rule_context(as_of)
    counts: Counter[str | None] = Counter()
    assigned = changed = rescheduled = 0
    after: str | None = None
    while True:
        page = session._analytics.grade_candidates(
            chosen.cases, context, scheme=chosen.name, after=after, limit=batch_size
        )
        if not page:
            break
        new: list[CustomerGrade] = []
        for candidate in page:
            counts[candidate.grade] += 1
            follow_up = _next_follow_up(chosen, candidate, context.as_of)
            current = candidate.current
            if current is None:
                new.append(
                    CustomerGrade(
                        customer_id=candidate.customer_id,
                        scheme=chosen.name,
                        grade=candidate.grade,
                        graded_at=context.as_of,
                        next_follow_up_at=follow_up,
                    )
                )
            elif current.grade != candidate.grade:
                changed += 1
                session.customer_grades.update(
                    current.evolve(
                        grade=candidate.grade,
                        graded_at=context.as_of,
                        next_follow_up_at=follow_up,
                    )
                )
            elif current.next_follow_up_at != follow_up:
                rescheduled += 1
                session.customer_grades.update(current.evolve(next_follow_up_at=follow_up))
        assigned += session.customer_grades.add_many(new)
        after = page[-1].customer_id
    return RegradeReport(
        chosen.name, context.as_of, sum(counts.values()), assigned, changed, rescheduled, counts
    )


def _next_follow_up(
    scheme: GradeScheme, candidate: GradeCandidate, as_of: datetime
) -> datetime | None:
    """The grade's cadence counted from the last interaction; for a customer never
    contacted, from when it got its grade (so reruns do not push the follow-up ahead)."""
    if candidate.grade is None:
        return None
    anchor = candidate.last_interaction_at
    if anchor is None:
        current = candidate.current
        kept = current is not None and current.grade == candidate.grade
        anchor = current.graded_at if kept and current is not None else as_of
    return scheme.grade_named(candidate.grade).next_follow_up(anchor)


def customer_facts(session: Session, customer: Customer | str) -> CustomerFacts:
    """One stored customer's purchases, interactions, open deals and points, for explaining
    a grade or a rule in Python."""
    customer_id = customer.id if isinstance(customer, Customer) else customer
    return CustomerFacts.from_records(
        orders=session.orders.stream(customer_id=customer_id),
        interactions=session.interactions.stream(customer_id=customer_id),
        opportunities=session.opportunities.stream(customer_id=customer_id, is_open=True),
        points=session.points.stream(customer_id=customer_id),
        stage_probabilities=session.crm.stage_probabilities,
    )


def explain_grade(
    session: Session,
    customer: Customer | str,
    scheme: GradeScheme | str,
    *,
    as_of: datetime | None = None,
) -> GradeResult:
    """Grade one stored customer in Python, with the rules tried and the values they read."""
    chosen = resolve_scheme(session, scheme)
    stored = session.customers.get(customer) if isinstance(customer, str) else customer
    context = session.customers.rule_context(as_of)
    return chosen.grade(stored, as_of=context.as_of, facts=customer_facts(session, stored))
