"""RFM scoring as a pure function: a hand-computed table, properties, segments, validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pycrm
from pycrm import (
    ConfigurationError,
    RfmRow,
    RfmTable,
    Segmentation,
    SegmentRule,
    ValidationError,
    ValueClass,
)
from pycrm.rfm import DEFAULT_SEGMENTATION, format_summary, score, summarize, to_five

UTC = timezone.utc
AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# Six customers with ties in every column, one-purchase customers, and purchases after
# AS_OF that must be ignored (customer g has nothing else, so is absent).
TRANSACTIONS: list[tuple[str, datetime, Any]] = [
    ("a", at(2026, 3, 10, 11, 0), "10.00"),
    ("a", at(2026, 3, 1, 9, 0), Decimal("20")),
    ("b", at(2026, 3, 9, 13, 0), 30),
    ("c", at(2026, 3, 9, 12, 0), "5.5"),  # exactly one day before AS_OF
    ("c", at(2026, 2, 1), "4.5"),
    ("c", at(2026, 1, 15), "10"),
    ("d", datetime(2026, 2, 28, 12, 0, 0, 1, tzinfo=UTC), "100"),  # a microsecond short of 10
    ("e", at(2026, 2, 28, 12, 0), "1"),
    ("e", at(2026, 3, 11), "500"),
    ("f", at(2026, 1, 1), "2.25"),
    ("f", at(2026, 1, 2), "2.25"),
    ("g", AS_OF + timedelta(microseconds=1), "7"),
]

# customer: recency_days, frequency, monetary, r, f, m (worked out by hand in the docs'
# formula: n = 6, score = 1 + 5 * (rank_min - 1) // 6).
EXPECTED = {
    "a": (0, 2, "30", 4, 3, 3),
    "b": (0, 1, "30", 4, 1, 3),
    "c": (1, 3, "20", 3, 5, 2),
    "d": (9, 1, "100", 2, 1, 5),
    "e": (10, 1, "1", 1, 1, 1),
    "f": (67, 2, "4.5", 1, 3, 1),
}
EXPECTED_SEGMENTS = {
    "a": ("loyal", "potential"),
    "b": ("potential loyalists", "potential"),
    "c": ("loyal", "potential"),
    "d": ("at risk", "potential"),
    "e": ("lost", "low value"),
    "f": ("lost", "low value"),
}


def expected_rows() -> list[RfmRow]:
    return [
        RfmRow(
            customer_id=customer,
            recency_days=recency,
            frequency=frequency,
            monetary=Decimal(monetary),
            r=r,
            f=f,
            m=m,
        )
        for customer, (recency, frequency, monetary, r, f, m) in EXPECTED.items()
    ]


def test_hand_computed_table() -> None:
    table = score(TRANSACTIONS, as_of=AS_OF)
    assert list(table) == expected_rows()
    assert [row.customer_id for row in table] == sorted(EXPECTED)
    assert table.as_of == AS_OF
    assert table.bins == 5
    assert "g" not in table
    assert table.get("g") is None
    assert table["c"].code == "352"
    assert table[0] == table["a"]
    assert table[-2:] == (table["e"], table["f"])
    assert all(isinstance(row.monetary, Decimal) for row in table)


def test_as_of_in_another_zone_is_the_same_instant() -> None:
    shanghai = timezone(timedelta(hours=8))
    local = score(TRANSACTIONS, as_of=AS_OF.astimezone(shanghai))
    assert list(local) == list(score(TRANSACTIONS, as_of=AS_OF))


def test_segments_value_classes_and_summary() -> None:
    table = score(TRANSACTIONS, as_of=AS_OF)
    for item in table.segmented():
        segment, value_class = EXPECTED_SEGMENTS[item.customer_id]
        assert (item.segment, item.value_class.name) == (segment, value_class)
    summaries = {s.segment: s for s in table.summary()}
    assert list(summaries) == ["loyal", "potential loyalists", "at risk", "lost"]  # rule order
    assert summaries["loyal"].customers == 2
    assert summaries["loyal"].monetary_total == Decimal("50")
    assert summaries["loyal"].monetary_mean == Decimal("25.00")
    assert summaries["lost"].monetary_mean == Decimal("2.75")
    assert summaries["lost"].share == Decimal("0.333")
    text = format_summary(table.summary())
    assert text.splitlines()[0].split() == ["segment", "customers", "share", "total", "mean"]
    assert "potential loyalists" in text
    assert "33.3%" in text


def test_segmentation_is_configurable_first_match_wins() -> None:
    table = score(TRANSACTIONS, as_of=AS_OF)
    vip = Segmentation(
        rules=(SegmentRule("vip", r=(3, 5), fm=(4, 5)), *DEFAULT_SEGMENTATION.rules),
        value_classes=(ValueClass("whale", "call them", min_total=10),),
        default_value_class=ValueClass("rest", "newsletter"),
    )
    got = {item.customer_id: (item.segment, item.value_class.name) for item in table.segmented(vip)}
    assert got["c"] == ("vip", "whale")
    assert got["a"] == ("loyal", "whale")
    assert got["b"] == ("potential loyalists", "rest")
    only_champions = Segmentation(rules=(SegmentRule("champions", r=(5, 5), fm=(5, 5)),))
    assert {vip.segment_of(row) for row in table} >= {"vip", "loyal"}
    assert {only_champions.segment_of(row) for row in table} == {"other"}
    assert only_champions.segment_names == ("champions", "other")


def test_every_default_grid_cell_has_a_named_segment() -> None:
    names = set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                row = RfmRow(
                    customer_id="x", recency_days=0, frequency=1, monetary=Decimal(1), r=r, f=f, m=m
                )
                names.add(DEFAULT_SEGMENTATION.segment_of(row))
    assert "other" not in names
    assert names == set(DEFAULT_SEGMENTATION.segment_names) - {"other"}
    assert len(names) == 11


@pytest.mark.parametrize("bins", [2, 3, 4, 5, 7, 10, 100])
def test_scores_map_onto_five_evenly(bins: int) -> None:
    mapped = [to_five(s, bins) for s in range(1, bins + 1)]
    assert mapped == sorted(mapped)
    assert all(1 <= v <= 5 for v in mapped)
    if bins >= 5:
        assert mapped[0] == 1
        assert mapped[-1] == 5
        assert set(mapped) == {1, 2, 3, 4, 5}
    if bins == 5:
        assert mapped == [1, 2, 3, 4, 5]


def test_segment_rules_and_classes_validate() -> None:
    with pytest.raises(ValidationError) as info:
        SegmentRule("x", r=(0, 5), fm=(1, 5))
    assert info.value.field == "range"
    with pytest.raises(ValidationError) as info:
        SegmentRule(" ", r=(1, 5), fm=(1, 5))
    assert info.value.field == "name"
    with pytest.raises(ValidationError) as info:
        ValueClass("x", "y", min_total=16)
    assert info.value.field == "min_total"
    with pytest.raises(ValidationError) as info:
        Segmentation(rules=())
    assert info.value.field == "rules"


def test_table_shows_as_text_html_and_pandas() -> None:
    table = score(TRANSACTIONS, as_of=AS_OF)
    lines = str(table).splitlines()
    assert lines[0].split() == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r",
        "f",
        "m",
    ]
    assert lines[3].split() == ["c", "1", "3", "20.00", "3", "5", "2"]
    assert len({len(line) for line in lines[:7]}) == 1  # aligned columns
    assert lines[-1] == "6 customers as of 2026-03-10T12:00:00+00:00, bins=5"
    many = score([(f"c{i:03d}", AS_OF, i) for i in range(25)], as_of=AS_OF)
    assert str(many).splitlines()[-1].endswith("bins=5, 15 more not shown")
    assert "<table>" in table._repr_html_()
    assert "<td>20.00</td>" in table._repr_html_()
    assert "<script" not in score([("<script>", AS_OF, 1)], as_of=AS_OF)._repr_html_()
    assert repr(table) == "<RfmTable 6 customers, as of 2026-03-10T12:00:00+00:00, bins=5>"


def test_to_pandas_and_dataframe_input() -> None:
    pandas = pytest.importorskip("pandas")
    table = score(TRANSACTIONS, as_of=AS_OF)
    frame = table.to_pandas(DEFAULT_SEGMENTATION)
    assert list(frame.index) == sorted(EXPECTED)
    assert frame.loc["c", "r"] == 3
    assert frame.loc["c", "monetary"] == Decimal("20")
    assert frame.loc["d", "segment"] == "at risk"
    assert frame.loc["e", "value_class"] == "low value"
    source = pandas.DataFrame(TRANSACTIONS, columns=["customer_id", "occurred_at", "amount"])
    assert score(source, as_of=AS_OF) == table
    floats = source.assign(amount=[float(Decimal(str(a))) for a in source["amount"]])
    assert score(floats, as_of=AS_OF) == table  # 4.5 and 2.25 exactly, through str()
    with pytest.raises(ValidationError) as info:
        score(source.drop(columns=["amount"]), as_of=AS_OF)
    assert info.value.field == "transactions"
    assert "'amount'" in info.value.problem


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ConfigurationError, match=r"pycrm-core\[pandas\]"):
        score(TRANSACTIONS, as_of=AS_OF).to_pandas()


def test_public_module_after_import_pycrm() -> None:
    assert pycrm.rfm.score is score
    assert pycrm.RfmTable is RfmTable


@pytest.mark.parametrize(
    ("transactions", "kwargs", "field", "needle"),
    [
        ([], {"as_of": datetime(2026, 1, 1)}, "as_of", "timezone-aware"),
        ([], {"as_of": "2026-01-01"}, "as_of", "datetime"),
        ([], {"as_of": AS_OF, "bins": 1}, "bins", "from 2"),
        ([], {"as_of": AS_OF, "bins": 101}, "bins", "to 100"),
        ([], {"as_of": AS_OF, "bins": 5.0}, "bins", "whole number"),
        ([], {"as_of": AS_OF, "bins": True}, "bins", "whole number"),
        ([("a", AS_OF, 1), ("b", datetime(2026, 1, 1), 1)], {}, "occurred_at", "row 1"),
        ([("a", AS_OF, 1), ("b", "2026-01-01", 1)], {}, "occurred_at", "row 1"),
        ([("a", AS_OF, "x")], {}, "amount", "row 0"),
        ([("a", AS_OF, float("nan"))], {}, "amount", "finite"),
        ([("a", AS_OF, None)], {}, "amount", "row 0"),
        ([(" ", AS_OF, 1)], {}, "customer_id", "row 0"),
        ([(7, AS_OF, 1)], {}, "customer_id", "row 0"),
        ([("a", AS_OF)], {}, "transactions", "row 0"),
        ("abc", {}, "transactions", "tuples"),
        (42, {}, "transactions", "tuples"),
    ],
)
def test_bad_input_names_the_field(
    transactions: Any, kwargs: dict[str, Any], field: str, needle: str
) -> None:
    with pytest.raises(ValidationError) as info:
        score(transactions, **{"as_of": AS_OF, **kwargs})
    assert info.value.field == field
    assert needle in info.value.problem


def test_no_purchases_gives_an_empty_table() -> None:
    table = score([], as_of=AS_OF)
    assert len(table) == 0
    assert list(table.summary()) == []
    assert str(table).endswith("0 customers as of 2026-03-10T12:00:00+00:00, bins=5")


# -- properties ----------------------------------------------------------------------------

BASE = at(2026, 1, 1)
instants = st.builds(
    lambda days, seconds, micros: BASE + timedelta(days=days, seconds=seconds, microseconds=micros),
    st.integers(0, 8),
    st.sampled_from([0, 1, 3600, 43200, 86399]),
    st.sampled_from([0, 1, 999_999]),
)
amounts = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False)
transactions = st.lists(
    st.tuples(st.sampled_from([f"c{i}" for i in range(8)]), instants, amounts), max_size=40
)


def naive(
    transactions: list[tuple[str, datetime, Decimal]], as_of: datetime
) -> dict[str, tuple[int, int, Decimal]]:
    """Recency, frequency and monetary recomputed the slow way, in whole microseconds."""
    out: dict[str, tuple[int, int, Decimal]] = {}
    for customer in {c for c, t, _ in transactions if t <= as_of}:
        mine = [(t, a) for c, t, a in transactions if c == customer and t <= as_of]
        micros = (as_of - max(t for t, _ in mine)) // timedelta(microseconds=1)
        out[customer] = (micros // 86_400_000_000, len(mine), sum((a for _, a in mine), Decimal(0)))
    return out


@given(transactions, instants, st.integers(2, 12))
def test_properties(data: list[tuple[str, datetime, Decimal]], as_of: datetime, bins: int) -> None:
    table = score(data, as_of=as_of, bins=bins)
    expected = naive(data, as_of)
    assert {
        row.customer_id: (row.recency_days, row.frequency, row.monetary) for row in table
    } == expected
    rows = list(table)
    n = len(rows)
    for row in rows:
        assert 1 <= row.r <= bins
        assert 1 <= row.f <= bins
        assert 1 <= row.m <= bins
        # The formula, with rank_min counted directly.
        worse_r = sum(1 for o in rows if o.recency_days > row.recency_days)
        worse_f = sum(1 for o in rows if o.frequency < row.frequency)
        worse_m = sum(1 for o in rows if o.monetary < row.monetary)
        assert row.r == 1 + bins * worse_r // n
        assert row.f == 1 + bins * worse_f // n
        assert row.m == 1 + bins * worse_m // n
    for one in rows:
        for other in rows:
            if one.recency_days == other.recency_days:
                assert one.r == other.r
            if one.recency_days < other.recency_days:
                assert one.r >= other.r
            if one.frequency == other.frequency:
                assert one.f == other.f
            if one.frequency > other.frequency:
                assert one.f >= other.f
            if one.monetary == other.monetary:
                assert one.m == other.m
            if one.monetary > other.monetary:
                assert one.m >= other.m


@given(transactions, instants)
def test_order_of_transactions_does_not_matter(
    data: list[tuple[str, datetime, Decimal]], as_of: datetime
) -> None:
    assert score(data, as_of=as_of) == score(list(reversed(data)), as_of=as_of)


@given(transactions, instants, st.integers(2, 12))
def test_every_row_gets_a_segment_and_summaries_add_up(
    data: list[tuple[str, datetime, Decimal]], as_of: datetime, bins: int
) -> None:
    table = score(data, as_of=as_of, bins=bins)
    summaries = summarize(table.segmented())
    assert sum(s.customers for s in summaries) == len(table)
    assert sum((s.monetary_total for s in summaries), Decimal(0)) == sum(
        (row.monetary for row in table), Decimal(0)
    )
    assert all(item.segment != "other" for item in table.segmented())


def test_a_row_explains_its_segment_and_value_class() -> None:
    as_of = datetime(2026, 6, 30, tzinfo=timezone.utc)
    table = score(
        [
            ("cus_a", as_of - timedelta(days=1), Decimal("900")),
            ("cus_a", as_of - timedelta(days=3), Decimal("100")),
            ("cus_b", as_of - timedelta(days=200), Decimal("5")),
        ],
        as_of=as_of,
    )
    assert table.explain("cus_a") == (
        "cus_a: last purchase 1 days ago, 2 purchase(s), 1000 spent -> scores R=3 F=3 M=3 of 5; "
        "need attention: R=3 in 3..3 and FM=3 in 3..3; potential (nurture): R+F+M=9 >= 8"
    )
    assert table.explain("cus_b").endswith("low value (serve efficiently): R+F+M=3 >= 3")
