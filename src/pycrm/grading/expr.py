"""Segment and grading rules as values: ``(F.industry == "manufacturing") & (F.spend(days=365)
> 1_000_000) & (F.days_since_interaction > 90)``.

An expression is plain data (frozen, comparable, JSON-able through :meth:`Expr.to_data`), so
it can be saved as a segment, shipped in a grade scheme, evaluated in Python
(:mod:`pycrm.grading.evaluate`) or compiled to one parameterised SQL query by a store.
Values are checked when the expression is built, so a typo fails where it is written, not in
a nightly job.

Missing values follow SQL: comparing a customer's empty ``industry`` or a never-contacted
customer's ``days_since_interaction`` is neither true nor false, and ``~`` of it is not true
either. Ask for them with ``.is_null()``.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from pycrm.errors import ValidationError
from pycrm.grading.catalogue import (
    FIELDS,
    METRICS,
    FieldInfo,
    MetricInfo,
    ValueKind,
    check_params,
    check_value,
)

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
IN_LIMIT = 1_000
"""Most values an ``in_`` may list (each becomes a bound parameter)."""


@attrs.frozen
class Ref:
    """What a comparison reads: a customer field, or a metric with its parameters."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def is_metric(self) -> bool:
        return self.name in METRICS

    @property
    def kind(self) -> ValueKind:
        return self.info.kind

    @property
    def info(self) -> FieldInfo | MetricInfo:
        return METRICS[self.name] if self.name in METRICS else FIELDS[self.name]

    @property
    def choices(self) -> type[enum.Enum] | None:
        info = self.info
        return info.choices if isinstance(info, FieldInfo) else None

    def param(self, key: str) -> Any:
        return dict(self.params).get(key)

    def check(self, value: Any, where: str) -> Any:
        return check_value(self.kind, value, where, self.choices)

    def __str__(self) -> str:
        if not self.params:
            return f"F.{self.name}"
        args = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"F.{self.name}({args})"

    def to_data(self) -> dict[str, Any]:
        key = "metric" if self.is_metric else "field"
        return {key: self.name, **dict(self.params)}


class Expr(abc.ABC):
    """A rule over one customer; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Expr) -> Expr:
        return And(_flat(And, self, _expr(other, "&")))

    def __or__(self, other: Expr) -> Expr:
        return Or(_flat(Or, self, _expr(other, "|")))

    def __invert__(self) -> Expr:
        return Not(self)

    def __bool__(self) -> NoReturn:
        raise TypeError(
            "a pycrm expression has no truth value: combine with &, | and ~ "
            "(not 'and', 'or', 'not'), and evaluate it with matches()"
        )

    @abc.abstractmethod
    def to_data(self) -> dict[str, Any]:
        """JSON-able data that :func:`as_expr` turns back into an equal expression."""

    def refs(self) -> Iterable[Ref]:
        """Every field and metric the expression reads."""
        return ()


def _expr(value: Any, op: str) -> Expr:
    if not isinstance(value, Expr):
        raise ValidationError(f"{op} operand", f"expected an expression, got {value!r}")
    return value


def _flat(cls: type[And | Or], left: Expr, right: Expr) -> tuple[Expr, ...]:
    """``a & b & c`` as one ``And`` of three, not nested pairs (shorter SQL, clearer repr)."""
    parts: list[Expr] = []
    for side in (left, right):
        parts.extend(side.parts if isinstance(side, cls) else (side,))
    return tuple(parts)


def _render(ref: Ref, value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return repr(value.isoformat())
    return repr(value)


@attrs.frozen(repr=False)
class Compare(Expr):
    ref: Ref
    op: str
    value: Any

    def to_data(self) -> dict[str, Any]:
        return {"cmp": self.op, "term": self.ref.to_data(), "value": _value_data(self.value)}

    def refs(self) -> Iterable[Ref]:
        return (self.ref,)

    def __repr__(self) -> str:
        return f"({self.ref} {self.op} {_render(self.ref, self.value)})"


@attrs.frozen(repr=False)
class In(Expr):
    ref: Ref
    values: tuple[Any, ...]

    def to_data(self) -> dict[str, Any]:
        return {"in": self.ref.to_data(), "values": [_value_data(v) for v in self.values]}

    def refs(self) -> Iterable[Ref]:
        return (self.ref,)

    def __repr__(self) -> str:
        shown = ", ".join(_render(self.ref, v) for v in self.values)
        return f"{self.ref}.in_([{shown}])"


@attrs.frozen(repr=False)
class Between(Expr):
    """``low <= value <= high``, both ends included."""

    ref: Ref
    low: Any
    high: Any

    def to_data(self) -> dict[str, Any]:
        return {
            "between": self.ref.to_data(),
            "low": _value_data(self.low),
            "high": _value_data(self.high),
        }

    def refs(self) -> Iterable[Ref]:
        return (self.ref,)

    def __repr__(self) -> str:
        low, high = _render(self.ref, self.low), _render(self.ref, self.high)
        return f"{self.ref}.between({low}, {high})"


@attrs.frozen(repr=False)
class IsNull(Expr):
    ref: Ref

    def to_data(self) -> dict[str, Any]:
        return {"is_null": self.ref.to_data()}

    def refs(self) -> Iterable[Ref]:
        return (self.ref,)

    def __repr__(self) -> str:
        return f"{self.ref}.is_null()"


@attrs.frozen(repr=False)
class HasTag(Expr):
    tag: str

    def to_data(self) -> dict[str, Any]:
        return {"has_tag": self.tag}

    def refs(self) -> Iterable[Ref]:
        return (Ref("tags"),)

    def __repr__(self) -> str:
        return f"F.tags.has_tag({self.tag!r})"


@attrs.frozen(repr=False)
class And(Expr):
    parts: tuple[Expr, ...]

    def to_data(self) -> dict[str, Any]:
        return {"and": [p.to_data() for p in self.parts]}

    def refs(self) -> Iterable[Ref]:
        return (r for p in self.parts for r in p.refs())

    def __repr__(self) -> str:
        return "(" + " & ".join(map(repr, self.parts)) + ")"


@attrs.frozen(repr=False)
class Or(Expr):
    parts: tuple[Expr, ...]

    def to_data(self) -> dict[str, Any]:
        return {"or": [p.to_data() for p in self.parts]}

    def refs(self) -> Iterable[Ref]:
        return (r for p in self.parts for r in p.refs())

    def __repr__(self) -> str:
        return "(" + " | ".join(map(repr, self.parts)) + ")"


@attrs.frozen(repr=False)
class Not(Expr):
    part: Expr

    def to_data(self) -> dict[str, Any]:
        return {"not": self.part.to_data()}

    def refs(self) -> Iterable[Ref]:
        return self.part.refs()

    def __repr__(self) -> str:
        return f"~{self.part!r}"


@attrs.frozen(repr=False)
class Always(Expr):
    """True for every customer: the catch-all last grade of a scheme."""

    def to_data(self) -> dict[str, Any]:
        return {"always": True}

    def __repr__(self) -> str:
        return "F.always()"


class Term:
    """A field or metric on the left of a comparison; made through :data:`F`."""

    __slots__ = ("_ref",)

    def __init__(self, ref: Ref) -> None:
        self._ref = ref

    @property
    def ref(self) -> Ref:
        return self._ref

    def __call__(self, **params: Any) -> Term:
        """The metric with parameters, e.g. ``F.spend(days=365, currency="CNY")``."""
        info = self._ref.info
        if not isinstance(info, MetricInfo) or not info.params:
            raise ValidationError(str(self._ref), "takes no parameters")
        return Term(Ref(self._ref.name, check_params(info, {**dict(self._ref.params), **params})))

    def _compare(self, op: str, value: Any) -> Compare:
        where = f"{self._ref} {op}"
        if op not in ("==", "!=") and not self._ref.kind.ordered:
            raise ValidationError(
                str(self._ref), f"{self._ref.kind.value} values take ==, !=, in_ and is_null only"
            )
        if isinstance(value, Term | Expr):
            raise ValidationError(where, "compares with a value, not with another field")
        return Compare(self._ref, op, self._ref.check(value, where))

    def __eq__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value: Any) -> Compare:
        return self._compare("<", value)

    def __le__(self, value: Any) -> Compare:
        return self._compare("<=", value)

    def __gt__(self, value: Any) -> Compare:
        return self._compare(">", value)

    def __ge__(self, value: Any) -> Compare:
        return self._compare(">=", value)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> NoReturn:
        raise TypeError(f"{self._ref} has no truth value; compare it with a value")

    def in_(self, values: Iterable[Any]) -> In:
        if isinstance(values, str) or not isinstance(values, Iterable):
            raise ValidationError(f"{self._ref}.in_", "expected a collection of values")
        checked = []
        for value in values:
            item = self._ref.check(value, f"{self._ref}.in_")
            if item not in checked:
                checked.append(item)
        if not checked:
            raise ValidationError(f"{self._ref}.in_", "needs at least one value")
        if len(checked) > IN_LIMIT:
            raise ValidationError(f"{self._ref}.in_", f"at most {IN_LIMIT} values")
        return In(self._ref, tuple(checked))

    def between(self, low: Any, high: Any) -> Between:
        where = f"{self._ref}.between"
        if not self._ref.kind.ordered:
            raise ValidationError(str(self._ref), f"{self._ref.kind.value} values have no order")
        lo, hi = self._ref.check(low, where), self._ref.check(high, where)
        if lo > hi:
            raise ValidationError(where, f"low {low!r} is above high {high!r}")
        return Between(self._ref, lo, hi)

    def is_null(self) -> IsNull:
        info = self._ref.info
        if self._ref.kind is ValueKind.TAGS or (isinstance(info, MetricInfo) and not info.nullable):
            raise ValidationError(str(self._ref), "is never empty")
        return IsNull(self._ref)

    def has_tag(self, tag: str) -> HasTag:
        if self._ref.kind is not ValueKind.TAGS:
            raise ValidationError(str(self._ref), "has no tags; use F.tags.has_tag()")
        checked = check_value(ValueKind.TEXT, tag, "F.tags.has_tag", None)
        return HasTag(checked.strip())

    def __repr__(self) -> str:
        return str(self._ref)


class _Builder:
    """``F.<field>`` and ``F.<metric>``: the entry point of every expression."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Term:
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in FIELDS and name not in METRICS:
            known = ", ".join(sorted([*FIELDS, *METRICS]))
            raise ValidationError(f"F.{name}", f"is not a customer field or metric ({known})")
        return Term(Ref(name))

    def __dir__(self) -> list[str]:
        return sorted([*FIELDS, *METRICS, "always"])

    @staticmethod
    def always() -> Always:
        """An expression every customer matches."""
        return Always()

    def __repr__(self) -> str:
        return "F"


F = _Builder()
"""Build rules: ``F.industry == "retail"``, ``F.spend(days=365) > 10_000``,
``F.tags.has_tag("vip")``, ``F.days_since_interaction.is_null()``."""


def _value_data(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _value_from(ref: Ref, data: Any, where: str) -> Any:
    kind = ref.kind
    try:
        if kind is ValueKind.AMOUNT and isinstance(data, str):
            data = Decimal(data)
        elif kind is ValueKind.DATE and isinstance(data, str):
            data = date.fromisoformat(data)
        elif kind is ValueKind.DATETIME and isinstance(data, str):
            data = datetime.fromisoformat(data)
    except (ArithmeticError, ValueError):
        raise ValidationError(where, f"{data!r} is not a {kind.value} value") from None
    return ref.check(data, where)


def _ref_from(data: Any, where: str) -> Ref:
    if not isinstance(data, Mapping):
        raise ValidationError(where, f"expected a field or metric, got {data!r}")
    params = dict(data)
    if "field" in params:
        name = params.pop("field")
        if name not in FIELDS or params:
            raise ValidationError(where, f"unknown field {name!r} or stray keys {sorted(params)}")
        return Ref(name)
    name = params.pop("metric", None)
    if name not in METRICS:
        raise ValidationError(where, f"unknown metric {name!r}")
    return Ref(name, check_params(METRICS[name], params))


def as_expr(value: Any, field: str = "rule") -> Expr:
    """``value`` as an expression: an :class:`Expr` as is, or data from :meth:`Expr.to_data`.

    Raises :class:`pycrm.ValidationError` naming ``field`` and the bad part.
    """
    if isinstance(value, Expr):
        return value
    return _from_data(value, field)


def _from_data(data: Any, where: str) -> Expr:
    if not isinstance(data, Mapping) or not data:
        raise ValidationError(where, f"expected an expression or its data, got {data!r}")
    if "cmp" in data:
        ref = _ref_from(data.get("term"), f"{where}.term")
        op = data["cmp"]
        if op not in COMPARISONS:
            raise ValidationError(f"{where}.cmp", f"{op!r} is not one of {', '.join(COMPARISONS)}")
        return Term(ref)._compare(op, _value_from(ref, data.get("value"), f"{where}.value"))
    if "in" in data:
        ref = _ref_from(data["in"], f"{where}.in")
        values = data.get("values")
        if not isinstance(values, list):
            raise ValidationError(f"{where}.values", "expected a list")
        return Term(ref).in_([_value_from(ref, v, f"{where}.values") for v in values])
    if "between" in data:
        ref = _ref_from(data["between"], f"{where}.between")
        low = _value_from(ref, data.get("low"), f"{where}.low")
        return Term(ref).between(low, _value_from(ref, data.get("high"), f"{where}.high"))
    if "is_null" in data:
        return Term(_ref_from(data["is_null"], f"{where}.is_null")).is_null()
    if "has_tag" in data:
        return F.tags.has_tag(data["has_tag"])
    for key, cls in (("and", And), ("or", Or)):
        if key in data:
            parts = data[key]
            if not isinstance(parts, list) or len(parts) < 2:
                raise ValidationError(f"{where}.{key}", "expected a list of two or more rules")
            return cls(tuple(_from_data(p, f"{where}.{key}[{i}]") for i, p in enumerate(parts)))
    if "not" in data:
        return Not(_from_data(data["not"], f"{where}.not"))
    if data.get("always") is True:
        return Always()
    raise ValidationError(where, f"not an expression: {dict(data)!r}")
