"""Grade schemes as data: ordered grades, each a rule and a follow-up cadence.

A customer gets the first grade whose rule matches (none, if no rule does), so a scheme
reads top down like a manager's own policy: "key if they spent a million or have half a
million in the pipeline; otherwise regular if ...". Cadences are RFC 5545 recurrence rules
(``dateutil.rrule``), anchored at the customer's last interaction: a weekly grade's next
follow-up is a week after the last contact, and already past when the rep is late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.grading.evaluate import CustomerFacts, Explanation, explain
from pycrm.grading.expr import Expr, as_expr

_NAME_MAX = 40
_SCHEME_MAX = 80
_PROBE = datetime(2000, 1, 3, tzinfo=timezone.utc)


def check_cadence(value: Any, field: str = "cadence") -> str | None:
    """A cadence as the text of one ``RRULE`` (``"FREQ=WEEKLY"``), from text or an ``rrule``.

    A ``DTSTART`` in the input is dropped: every customer's cadence starts at its own anchor.
    """
    if value is None:
        return None
    if isinstance(value, rrule):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(field, f"expected an RRULE text or a dateutil rrule, got {value!r}")
    lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
    rules = [line for line in lines if not line.upper().startswith("DTSTART")]
    if len(rules) != 1:
        raise ValidationError(field, "expected exactly one recurrence rule, e.g. 'FREQ=WEEKLY'")
    text = rules[0]
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    try:
        parsed = rrulestr(text, dtstart=_PROBE)
    except (ValueError, TypeError) as exc:
        raise ValidationError(field, f"{text!r} is not a recurrence rule: {exc}") from None
    if not isinstance(parsed, rrule) or parsed.after(_PROBE) is None:
        raise ValidationError(field, f"{text!r} never recurs after its start")
    return text.upper()


def next_occurrence(cadence: str, anchor: datetime) -> datetime | None:
    """The first time of ``cadence`` strictly after ``anchor`` (an aware datetime), to the
    second: recurrence rules have no finer unit, so the anchor's microseconds are dropped."""
    start = anchor.replace(microsecond=0)
    parts = dict(part.split("=", 1) for part in cadence.split(";"))
    if set(parts) <= {"FREQ", "INTERVAL"} and parts["FREQ"] in ("MONTHLY", "YEARLY"):
        # RFC 5545 skips months without the anchor's day (from 30 January, "monthly" would
        # next be 30 March); a follow-up rhythm wants the end of February instead.
        step = int(parts.get("INTERVAL", "1"))
        months = step if parts["FREQ"] == "MONTHLY" else 12 * step
        shifted: datetime = start + relativedelta(months=months)
        return shifted
    rule = rrulestr(cadence, dtstart=start)
    found: datetime | None = rule.after(start)
    return found


def _name(value: Any) -> str:
    return conv.check_text(value, "name", max_length=_NAME_MAX, required=True)  # type: ignore[return-value]


def _benefits(value: Any) -> tuple[str, ...]:
    return conv.check_text_tuple(value, "benefits")


def _label(value: Any) -> str | None:
    return conv.check_text(value, "label", max_length=120, required=False)


def _description(value: Any) -> str | None:
    return conv.check_text(value, "description", max_length=400, required=False)


def _rule(value: Any) -> Expr:
    return as_expr(value, "rule")


def _cadence(value: Any) -> str | None:
    return check_cadence(value, "cadence")


@attrs.frozen
class Grade:
    """One grade of a scheme: its ``name``, the ``rule`` that earns it, the follow-up
    ``cadence`` (RRULE text or ``dateutil.rrule``; ``None`` for no follow-ups), a ``label``
    for people, and the ``benefits`` it brings (for tiers)."""

    name: str = attrs.field(converter=_name)
    rule: Expr = attrs.field(converter=_rule)
    cadence: str | None = attrs.field(default=None, converter=_cadence)
    label: str | None = attrs.field(default=None, converter=_label)
    benefits: tuple[str, ...] = attrs.field(default=(), converter=_benefits)

    def next_follow_up(self, anchor: datetime) -> datetime | None:
        """When this grade's customer is next due a follow-up, counted from ``anchor``."""
        if self.cadence is None:
            return None
        return next_occurrence(self.cadence, anchor)

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule.to_data(),
            "cadence": self.cadence,
            "label": self.label,
            "benefits": list(self.benefits),
        }


def _scheme_name(value: Any) -> str:
    return conv.check_text(value, "scheme", max_length=_SCHEME_MAX, required=True)  # type: ignore[return-value]


def _grades(value: Any) -> tuple[Grade, ...]:
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("grades", "expected a sequence of grades")
    grades: list[Grade] = []
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            try:
                item = Grade(**item)
            except TypeError as exc:
                raise ValidationError(f"grades[{index}]", str(exc)) from None
        if not isinstance(item, Grade):
            raise ValidationError(f"grades[{index}]", f"expected a Grade, got {item!r}")
        if any(g.name == item.name for g in grades):
            raise ValidationError(f"grades[{index}].name", f"{item.name!r} appears twice")
        grades.append(item)
    if not grades:
        raise ValidationError("grades", "a scheme needs at least one grade")
    return tuple(grades)


@attrs.frozen
class GradeScheme:
    """An ordered list of grades under one ``name`` (how stored grades refer to it)."""

    name: str = attrs.field(converter=_scheme_name)
    grades: tuple[Grade, ...] = attrs.field(converter=_grades)
    description: str | None = attrs.field(default=None, converter=_description)

    def grade_named(self, name: str) -> Grade:
        for grade in self.grades:
            if grade.name == name:
                return grade
        known = ", ".join(g.name for g in self.grades)
        raise ValidationError("grade", f"{name!r} is not a grade of {self.name} ({known})")

    @property
    def cases(self) -> tuple[tuple[str, Expr], ...]:
        """``(grade name, rule)`` in order: what a store evaluates set-based."""
        return tuple((g.name, g.rule) for g in self.grades)

    def grade(
        self, customer: Customer, *, as_of: datetime, facts: CustomerFacts | None = None
    ) -> GradeResult:
        """The grade ``customer`` earns at ``as_of`` and why (every rule tried, with the
        values it read). ``facts`` are its purchases, interactions, deals and points."""
        tried: list[tuple[str, Explanation]] = []
        for grade in self.grades:
            explanation = explain(grade.rule, customer, as_of=as_of, facts=facts)
            tried.append((grade.name, explanation))
            if explanation.matched:
                return GradeResult(self.name, customer.id, grade.name, tuple(tried))
        return GradeResult(self.name, customer.id, None, tuple(tried))

    def to_data(self) -> dict[str, Any]:
        """JSON-able data; ``GradeScheme.from_data`` reads it back."""
        return {
            "name": self.name,
            "description": self.description,
            "grades": [g.to_data() for g in self.grades],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> GradeScheme:
        if not isinstance(data, Mapping):
            raise ValidationError("scheme", "expected a mapping")
        unknown = set(data) - {"name", "description", "grades"}
        if unknown:
            raise ValidationError(sorted(unknown)[0], "is not a grade scheme field")
        return cls(data.get("name"), data.get("grades", ()), data.get("description"))


@attrs.frozen
class GradeResult:
    """A customer's grade in a scheme, explained: ``tried`` holds each grade's rule up to
    the one that matched, with its :class:`Explanation`."""

    scheme: str
    customer_id: str
    grade: str | None
    tried: tuple[tuple[str, Explanation], ...]

    @property
    def reasons(self) -> list[Explanation]:
        """The conditions that earned the grade (empty when no grade applies)."""
        if self.grade is None:
            return []
        return self.tried[-1][1].matched_conditions()

    def __str__(self) -> str:
        head = f"{self.scheme}: {self.grade or 'no grade'} for {self.customer_id}"
        body = [
            line
            for name, explanation in self.tried
            for line in (f"  grade {name}:", *("    " + li for li in explanation.lines()))
        ]
        return "\n".join([head, *body])
