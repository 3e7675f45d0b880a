"""RFM scoring: how recently, how often and how much each customer buys.

Pure: no I/O and no database. :func:`score` is the reference the stores' set-based queries
must match exactly (``CRM.rfm`` / ``Session.rfm`` run the same calculation in SQL).

Scores are rank-based and tie-consistent, like SQL's ``RANK()``: with ``n`` customers and
``rank_min`` the smallest 1-based rank shared by equal values, ranked "worst first",
``score = 1 + floor(bins * (rank_min - 1) / n)``. Equal values therefore always get equal
scores, and a better value never gets a smaller score.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, overload

import attrs

from pycrm import tabular
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.extras import require_pandas

if TYPE_CHECKING:
    import pandas

MAX_BINS = 100
"""More bins than this would score noise, not customers."""

DEFAULT_BINS = 5

_DAY = timedelta(days=1)
_CENT = Decimal("0.01")
_CURRENCY = re.compile("[A-Z]{3}")
COLUMNS = ("customer_id", "occurred_at", "amount")
"""Column names :func:`score` reads from a pandas ``DataFrame``."""


# -- validation ----------------------------------------------------------------------------


def check_as_of(value: Any) -> datetime:
    """``as_of`` as given, if it is a timezone-aware datetime; else ``ValidationError``."""
    if not isinstance(value, datetime):
        raise ValidationError("as_of", f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("as_of", "must be timezone-aware (naive datetimes are ambiguous)")
    return value


def check_bins(value: Any) -> int:
    """``bins`` as given, if it is a whole number from 2 to :data:`MAX_BINS`."""
    value = conv.whole(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("bins", f"expected a whole number, got {type(value).__name__}")
    if not 2 <= value <= MAX_BINS:
        raise ValidationError("bins", f"must be from 2 to {MAX_BINS}, got {value}", value=value)
    return value


def check_currency(value: Any) -> str | None:
    """``None``, or a three-letter currency code (upper-cased)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.upper()):
        raise ValidationError("currency", "must be a three-letter ISO 4217 code such as 'CNY'")
    return value.upper()


def _amount(value: Any, index: int) -> Decimal:
    # Floats (a pandas column of amounts, typically) go through str(), which gives the
    # shortest text that reads back as the same float: 12.3 -> Decimal("12.3"), not the
    # binary expansion 12.2999999999999996447...
    value = conv.whole(value)  # a nullable Int64 column gives numpy integers
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise ValidationError("amount", f"row {index}: expected a number, got bool", value=value)
    elif isinstance(value, (int, float, str)):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(
                "amount", f"row {index}: not a number: {value!r}", value=value
            ) from None
    else:
        raise ValidationError(
            "amount", f"row {index}: expected a Decimal, int or text, got {type(value).__name__}"
        )
    if not number.is_finite():
        raise ValidationError("amount", f"row {index}: must be a finite number", value=value)
    return number


def _occurred_at(value: Any, index: int) -> datetime:
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise ValidationError(
            "occurred_at", f"row {index}: expected a datetime, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            "occurred_at", f"row {index}: must be timezone-aware (naive datetimes are ambiguous)"
        )
    return value


def _customer_id(value: Any, index: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            "customer_id", f"row {index}: expected text, got {type(value).__name__}"
        )
    if not value.strip():
        raise ValidationError("customer_id", f"row {index}: must not be blank")
    return value


def _rows(transactions: Any) -> Iterable[Any]:
    """Tuples from ``transactions``; a pandas ``DataFrame`` is recognised without importing
    pandas unless it is already loaded (it only can be if the caller made a DataFrame)."""
    import sys

    pandas_module = sys.modules.get("pandas")
    if pandas_module is not None and isinstance(transactions, pandas_module.DataFrame):
        missing = [c for c in COLUMNS if c not in transactions.columns]
        if missing:
            raise ValidationError(
                "transactions", f"the DataFrame has no column {', '.join(map(repr, missing))}"
            )
        frame = transactions[list(COLUMNS)]
        return frame.itertuples(index=False, name=None)  # type: ignore[no-any-return]
    if isinstance(transactions, (str, bytes)) or not isinstance(transactions, Iterable):
        raise ValidationError(
            "transactions",
            "expected (customer_id, occurred_at, amount) tuples or a pandas DataFrame",
        )
    return transactions


# -- scoring -------------------------------------------------------------------------------


def rank_scores(keys: Sequence[Any], bins: int) -> list[int]:
    """Scores 1..``bins`` for ``keys`` (sortable, worst first), as SQL ``RANK()`` would give.

    ``score = 1 + floor(bins * (rank_min - 1) / n)``: equal keys share the rank of the first
    of them, so they always share a score.
    """
    n = len(keys)
    order = sorted(range(n), key=keys.__getitem__)
    scores = [0] * n
    rank_min = 1
    previous: Any = None
    for position, index in enumerate(order, 1):
        key = keys[index]
        if position == 1 or key != previous:
            rank_min = position
            previous = key
        scores[index] = 1 + bins * (rank_min - 1) // n
    return scores


def score(transactions: Any, *, as_of: datetime, bins: int = DEFAULT_BINS) -> RfmTable:
    """Score every customer who bought at or before ``as_of``; later purchases are ignored.

    ``transactions`` is an iterable of ``(customer_id, occurred_at, amount)`` tuples or a
    pandas ``DataFrame`` with those columns. ``occurred_at`` must be timezone-aware; amounts
    are ``Decimal``, ``int`` or text, and floats (as pandas stores numbers) are converted
    through ``str()``, so ``12.3`` counts as exactly ``12.3``. Amounts are summed as given:
    pass one currency's purchases only.

    ``recency_days`` is whole days from the last purchase to ``as_of``, rounded down;
    ``frequency`` counts purchases; ``monetary`` sums them exactly. More recent, more
    frequent and bigger spenders score higher.
    """
    as_of = check_as_of(as_of)
    bins = check_bins(bins)
    last: dict[str, datetime] = {}
    count: dict[str, int] = {}
    total: dict[str, Decimal] = {}
    for index, item in enumerate(_rows(transactions)):
        try:
            customer, occurred, amount = item
        except (TypeError, ValueError):
            raise ValidationError(
                "transactions", f"row {index}: expected (customer_id, occurred_at, amount)"
            ) from None
        customer = _customer_id(customer, index)
        occurred = _occurred_at(occurred, index)
        money = _amount(amount, index)
        if occurred > as_of:
            continue
        seen = last.get(customer)
        if seen is None:
            last[customer] = occurred
            count[customer] = 1
            total[customer] = money
        else:
            if occurred > seen:
                last[customer] = occurred
            count[customer] += 1
            total[customer] += money
    customers = sorted(last)
    recency = [(as_of - last[c]) // _DAY for c in customers]
    frequency = [count[c] for c in customers]
    monetary = [total[c] for c in customers]
    r = rank_scores([-days for days in recency], bins)
    f = rank_scores(frequency, bins)
    m = rank_scores(monetary, bins)
    rows = [
        RfmRow(
            customer_id=c,
            recency_days=recency[i],
            frequency=frequency[i],
            monetary=monetary[i],
            r=r[i],
            f=f[i],
            m=m[i],
        )
        for i, c in enumerate(customers)
    ]
    return RfmTable(rows, as_of=as_of, bins=bins)


# -- results -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RfmRow:
    """One customer's recency, frequency and monetary value, and their scores 1..bins."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int

    @property
    def code(self) -> str:
        """The scores as one label, e.g. ``"545"`` (``"10-9-10"`` when a score has two
        digits)."""
        parts = (self.r, self.f, self.m)
        joiner = "-" if max(parts) > 9 else ""
        return joiner.join(map(str, parts))


_HEADERS = ("customer_id", "recency_days", "frequency", "monetary", "r", "f", "m")


def _cells(row: RfmRow) -> tuple[str, ...]:
    return (
        row.customer_id,
        str(row.recency_days),
        str(row.frequency),
        f"{row.monetary.quantize(_CENT, ROUND_HALF_EVEN):,}",
        str(row.r),
        str(row.f),
        str(row.m),
    )


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: int) -> str:
    """Rows of text cells in aligned columns (by display width, so Chinese names line up);
    the columns from index ``right`` on are numbers and aligned right."""
    alignment = [i >= right for i in range(len(headers))]
    return "\n".join(tabular.format_table(headers, rows, right=alignment, indent="", rule=False))


class RfmTable(Sequence[RfmRow]):
    """Immutable RFM rows, one per customer, in ``customer_id`` order.

    ``table["cus_1"]`` or :meth:`get` looks a customer up; ``table[0]`` and slices index
    rows. In Jupyter the table shows as HTML; :meth:`to_pandas` gives a ``DataFrame``.
    """

    SHOWN = 10
    """Rows shown by ``str()`` and in Jupyter before the count of the rest."""

    __slots__ = ("_by_id", "_rows", "as_of", "bins")

    def __init__(self, rows: Iterable[RfmRow], *, as_of: datetime, bins: int) -> None:
        ordered = tuple(sorted(rows, key=lambda row: row.customer_id))
        self._rows = ordered
        self._by_id = {row.customer_id: row for row in ordered}
        if len(self._by_id) != len(ordered):
            raise ValidationError("rows", "a customer appears more than once")
        self.as_of = check_as_of(as_of)
        self.bins = check_bins(bins)

    @overload
    def __getitem__(self, key: int) -> RfmRow: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[RfmRow, ...]: ...
    @overload
    def __getitem__(self, key: str) -> RfmRow: ...

    def __getitem__(self, key: int | slice | str) -> RfmRow | tuple[RfmRow, ...]:
        if isinstance(key, str):
            found = self._by_id.get(key)
            if found is None:
                raise KeyError(key)
            return found
        return self._rows[key]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[RfmRow]:
        return iter(self._rows)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_id
        return item in self._rows

    def get(self, customer_id: str) -> RfmRow | None:
        """The row of ``customer_id``, or ``None`` if they bought nothing by ``as_of``."""
        return self._by_id.get(customer_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RfmTable):
            return NotImplemented
        return (self.as_of, self.bins, self._rows) == (other.as_of, other.bins, other._rows)

    def __hash__(self) -> int:
        return hash((self.as_of, self.bins, self._rows))

    def __repr__(self) -> str:
        return f"<RfmTable {len(self)} customers, as of {self.as_of.isoformat()}, bins={self.bins}>"

    def _footer(self) -> str:
        rest = len(self) - self.SHOWN
        more = f", {rest:,} more not shown" if rest > 0 else ""
        return f"{len(self):,} customers as of {self.as_of.isoformat()}, bins={self.bins}{more}"

    def __str__(self) -> str:
        shown = (_cells(row) for row in self._rows[: self.SHOWN])
        return format_table(_HEADERS, shown, right=1) + "\n" + self._footer()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADERS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _cells(row)) + "</tr>"
            for row in self._rows[: self.SHOWN]
        )
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(self._footer())}</p>"
        )

    def to_pandas(self, segmentation: Segmentation | None = None) -> pandas.DataFrame:
        """The rows as a ``DataFrame`` indexed by ``customer_id``; ``monetary`` holds the
        exact ``Decimal`` values. With ``segmentation``, ``segment`` and ``value_class``
        columns are added. Needs pandas (``pip install pycrm-core[pandas]``)."""
        pandas = require_pandas("RfmTable.to_pandas()")
        data: dict[str, list[Any]] = {name: [] for name in _HEADERS}
        for row in self._rows:
            for name in _HEADERS:
                data[name].append(getattr(row, name))
        if segmentation is not None:
            data["segment"] = [segmentation.segment_of(row, self.bins) for row in self._rows]
            data["value_class"] = [
                segmentation.value_class_of(row, self.bins).name for row in self._rows
            ]
        frame = pandas.DataFrame(data)
        for name in ("recency_days", "frequency", "r", "f", "m"):
            frame[name] = frame[name].astype("int64")
        frame["monetary"] = frame["monetary"].astype(object)
        return frame.set_index("customer_id")

    def segmented(self, segmentation: Segmentation | None = None) -> tuple[SegmentedRow, ...]:
        """Every row with its segment and value class under ``segmentation`` (default:
        :data:`DEFAULT_SEGMENTATION`)."""
        chosen = DEFAULT_SEGMENTATION if segmentation is None else segmentation
        return tuple(chosen.apply(row, self.bins) for row in self._rows)

    def explain(self, customer_id: str, segmentation: Segmentation | None = None) -> str:
        """Why a customer has its scores, segment and value class (see
        :meth:`Segmentation.explain`)."""
        chosen = DEFAULT_SEGMENTATION if segmentation is None else segmentation
        return chosen.explain(self[customer_id], self.bins)

    def summary(self, segmentation: Segmentation | None = None) -> tuple[SegmentSummary, ...]:
        """Size and spend of each segment (see :func:`summarize`)."""
        chosen = DEFAULT_SEGMENTATION if segmentation is None else segmentation
        return summarize(self.segmented(chosen), chosen)


# -- segments and value classes ------------------------------------------------------------


def to_five(score: int, bins: int) -> int:
    """A score on a ``bins`` scale as the 1..5 score of the fifth it falls in (by the bin's
    middle), so segment rules written for five bins work for any number of them."""
    return (2 * score - 1) * 5 // (2 * bins) + 1


def _score_range(value: Any) -> tuple[int, int]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValidationError("range", f"expected a (low, high) pair, got {value!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        raise ValidationError("range", f"bounds must be whole numbers, got {value!r}")
    if not 1 <= low <= high <= 5:
        raise ValidationError("range", f"must satisfy 1 <= low <= high <= 5, got {value!r}")
    return (low, high)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "must be non-blank text", value=value)
    return value.strip()


@attrs.frozen
class SegmentRule:
    """Customers whose R score and FM score (the mean of F and M, rounded half up) lie in
    the inclusive ranges belong to segment ``name``. Ranges are on the 1..5 scale."""

    name: str = attrs.field(converter=_name)
    r: tuple[int, int] = attrs.field(converter=_score_range)
    fm: tuple[int, int] = attrs.field(converter=_score_range)

    def matches(self, r: int, fm: int) -> bool:
        return self.r[0] <= r <= self.r[1] and self.fm[0] <= fm <= self.fm[1]


def _total_floor(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= 15:
        raise ValidationError("min_total", f"must be a whole number from 3 to 15, got {value!r}")
    return value


@attrs.frozen
class ValueClass:
    """Customers whose R + F + M (each on the 1..5 scale, so 3..15) is at least
    ``min_total`` are of this class; ``action`` says how to treat them."""

    name: str = attrs.field(converter=_name)
    action: str = attrs.field(converter=_name)
    min_total: int = attrs.field(converter=_total_floor, default=3)


DEFAULT_SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", r=(4, 5), fm=(4, 5)),
    SegmentRule("need attention", r=(3, 3), fm=(3, 3)),
    SegmentRule("loyal", r=(3, 5), fm=(3, 5)),
    SegmentRule("new", r=(5, 5), fm=(1, 1)),
    SegmentRule("promising", r=(4, 4), fm=(1, 1)),
    SegmentRule("potential loyalists", r=(4, 5), fm=(2, 2)),
    SegmentRule("about to sleep", r=(3, 3), fm=(1, 2)),
    SegmentRule("can't lose", r=(1, 1), fm=(4, 5)),
    SegmentRule("at risk", r=(1, 2), fm=(3, 5)),
    SegmentRule("hibernating", r=(2, 2), fm=(1, 2)),
    SegmentRule("lost", r=(1, 1), fm=(1, 2)),
)
"""The usual grid over R (rows) and FM (columns); first match wins, and it covers every
cell, so the default segment is never reached with these rules::

    R\\FM  1               2                    3               4-5
    5     new             potential loyalists  loyal           champions
    4     promising       potential loyalists  loyal           champions
    3     about to sleep  about to sleep       need attention  loyal
    2     hibernating     hibernating          at risk         at risk
    1     lost            lost                 at risk         can't lose
"""

DEFAULT_VALUE_CLASSES: tuple[ValueClass, ...] = (
    ValueClass("high value", "maintain", min_total=12),
    ValueClass("potential", "nurture", min_total=8),
    ValueClass("low value", "serve efficiently", min_total=3),
)
"""R + F + M of 12..15: high value, keep them; 8..11: potential, grow them; below: low
value, serve them efficiently."""


def _rules(value: Any) -> tuple[SegmentRule, ...]:
    rules = tuple(value)
    if not rules or not all(isinstance(rule, SegmentRule) for rule in rules):
        raise ValidationError("rules", "expected one or more SegmentRule")
    return rules


def _classes(value: Any) -> tuple[ValueClass, ...]:
    classes = tuple(value)
    if not classes or not all(isinstance(item, ValueClass) for item in classes):
        raise ValidationError("value_classes", "expected one or more ValueClass")
    return classes


@attrs.frozen(kw_only=True)
class Segmentation:
    """How scores map to named segments and value classes: ordered rules, first match wins.

    Rules are written for five bins; scores of a table with other ``bins`` are mapped onto
    1..5 first (:func:`to_five`). Build your own with other rules, e.g.
    ``Segmentation(rules=(SegmentRule("vip", r=(5, 5), fm=(5, 5)), *DEFAULT_SEGMENT_RULES))``.
    """

    rules: tuple[SegmentRule, ...] = attrs.field(default=DEFAULT_SEGMENT_RULES, converter=_rules)
    default: str = attrs.field(default="other", converter=_name)
    value_classes: tuple[ValueClass, ...] = attrs.field(
        default=DEFAULT_VALUE_CLASSES, converter=_classes
    )
    default_value_class: ValueClass = ValueClass("low value", "serve efficiently")

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Every segment a row can get, in rule order, the default last."""
        names = dict.fromkeys(rule.name for rule in self.rules)
        names[self.default] = None
        return tuple(names)

    def segment_of(self, row: RfmRow, bins: int = DEFAULT_BINS) -> str:
        """The segment of ``row``, scored with ``bins`` bins."""
        r = to_five(row.r, bins)
        fm = (to_five(row.f, bins) + to_five(row.m, bins) + 1) // 2
        for rule in self.rules:
            if rule.matches(r, fm):
                return rule.name
        return self.default

    def value_class_of(self, row: RfmRow, bins: int = DEFAULT_BINS) -> ValueClass:
        """The value class of ``row``, scored with ``bins`` bins."""
        total = to_five(row.r, bins) + to_five(row.f, bins) + to_five(row.m, bins)
        for value_class in self.value_classes:
            if total >= value_class.min_total:
                return value_class
        return self.default_value_class

    def explain(self, row: RfmRow, bins: int = DEFAULT_BINS) -> str:
        """Why ``row`` lands in its segment and value class, with the values that decided:
        its raw figures, its scores, the scores on the 1..5 scale and the matching rule."""
        r, f, m = (to_five(score, bins) for score in (row.r, row.f, row.m))
        fm = (f + m + 1) // 2
        rule = next((rule for rule in self.rules if rule.matches(r, fm)), None)
        if rule is None:
            segment = f"{self.default} (no rule matches R={r}, FM={fm})"
        else:
            segment = (
                f"{rule.name}: R={r} in {rule.r[0]}..{rule.r[1]} "
                f"and FM={fm} in {rule.fm[0]}..{rule.fm[1]}"
            )
        value_class = self.value_class_of(row, bins)
        return (
            f"{row.customer_id}: last purchase {row.recency_days} days ago, "
            f"{row.frequency} purchase(s), {row.monetary} spent -> "
            f"scores R={row.r} F={row.f} M={row.m} of {bins}; {segment}; "
            f"{value_class.name} ({value_class.action}): R+F+M={r + f + m} >= "
            f"{value_class.min_total}"
        )

    def apply(self, row: RfmRow, bins: int = DEFAULT_BINS) -> SegmentedRow:
        return SegmentedRow(
            row=row,
            segment=self.segment_of(row, bins),
            value_class=self.value_class_of(row, bins),
        )


DEFAULT_SEGMENTATION = Segmentation()


@attrs.frozen(kw_only=True)
class SegmentedRow:
    """An :class:`RfmRow` with its segment and value class."""

    row: RfmRow
    segment: str
    value_class: ValueClass

    @property
    def customer_id(self) -> str:
        return self.row.customer_id


@attrs.frozen(kw_only=True)
class SegmentSummary:
    """One segment's size and spend. ``monetary_mean`` is rounded to cents."""

    segment: str
    customers: int
    share: Decimal
    monetary_total: Decimal
    monetary_mean: Decimal


def summarize(
    rows: Iterable[SegmentedRow], segmentation: Segmentation | None = None
) -> tuple[SegmentSummary, ...]:
    """Customers, share of customers and total and mean spend per segment, in the order
    of ``segmentation``'s rules; empty segments are left out."""
    chosen = DEFAULT_SEGMENTATION if segmentation is None else segmentation
    sizes: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    for item in rows:
        sizes[item.segment] = sizes.get(item.segment, 0) + 1
        totals[item.segment] = totals.get(item.segment, Decimal(0)) + item.row.monetary
    everyone = sum(sizes.values())
    order = [name for name in chosen.segment_names if name in sizes]
    order += sorted(set(sizes) - set(order))
    return tuple(
        SegmentSummary(
            segment=name,
            customers=sizes[name],
            share=(Decimal(sizes[name]) / everyone).quantize(Decimal("0.001")),
            monetary_total=totals[name],
            monetary_mean=(totals[name] / sizes[name]).quantize(_CENT, ROUND_HALF_EVEN),
        )
        for name in order
    )


def format_summary(summaries: Iterable[SegmentSummary]) -> str:
    """Segment summaries as an aligned text table."""
    headers = ("segment", "customers", "share", "total", "mean")
    rows = [
        (
            s.segment,
            f"{s.customers:,}",
            f"{s.share * 100:.1f}%",
            f"{s.monetary_total.quantize(_CENT, ROUND_HALF_EVEN):,}",
            f"{s.monetary_mean:,}",
        )
        for s in summaries
    ]
    return format_table(headers, rows, right=1)


def by_segment(rows: Iterable[SegmentedRow]) -> Mapping[str, tuple[SegmentedRow, ...]]:
    """Rows grouped by segment name."""
    groups: dict[str, list[SegmentedRow]] = {}
    for item in rows:
        groups.setdefault(item.segment, []).append(item)
    return {name: tuple(items) for name, items in groups.items()}
