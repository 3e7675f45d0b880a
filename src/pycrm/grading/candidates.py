"""What a store hands the regrade run for each customer: the grade its rules give now, the
last interaction (the cadence's anchor), and the grade stored before."""

from __future__ import annotations

from datetime import datetime

import attrs

from pycrm.grading.grades import CustomerGrade


@attrs.frozen
class GradeCandidate:
    customer_id: str
    grade: str | None
    last_interaction_at: datetime | None
    current: CustomerGrade | None
