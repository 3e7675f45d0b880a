"""Periods, report tables and the report registry: the frame every report is built in."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pycrm
from pycrm import (
    CRM,
    Metric,
    Period,
    PeriodKind,
    PluginError,
    ReportDefinition,
    Reports,
    ReportTable,
    ValidationError,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-11", PeriodKind.MONTH, date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2024", PeriodKind.YEAR, date(2024, 1, 1), date(2024, 12, 31)),
        ("2026-W01", PeriodKind.WEEK, date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-02-28", PeriodKind.DAY, date(2026, 2, 28), date(2026, 2, 28)),
        ("2026-11-01..2026-11-15", PeriodKind.SPAN, date(2026, 11, 1), date(2026, 11, 15)),
    ],
)
def test_periods_parse_and_write_back(text: str, kind: PeriodKind, first: date, last: date) -> None:
    period = Period.parse(text)
    assert (period.kind, period.first, period.last) == (kind, first, last)
    assert period.label == text
    assert Period.parse(period.label) == period


def test_bounds_are_local_midnights_in_utc() -> None:
    november = Period.parse("2026-11", tz="Asia/Shanghai")
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    assert datetime(2026, 10, 31, 16, tzinfo=timezone.utc) in november
    assert datetime(2026, 11, 30, 16, tzinfo=timezone.utc) not in november
    assert date(2026, 11, 30) in november
    assert november.dates.contains(date(2026, 11, 30))
    assert not november.dates.contains(date(2026, 12, 1))
    assert [p.label for p in Period.parse("2026-Q4").split("month")] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert Period.parse("2026-01-05..2026-01-07").previous().label == "2026-01-02..2026-01-04"


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2026-W54", "26-11", "", "2026-02-30"])
def test_bad_periods_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Period.parse(text)
    assert caught.value.field == "period"
    with pytest.raises(ValidationError) as tz:
        Period.parse("2026-11", tz="Mars/Olympus")
    assert tz.value.field == "tz"


kinds = st.sampled_from([k for k in PeriodKind if k is not PeriodKind.SPAN])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(timezone.utc)
)


@given(
    kind=kinds, moment=moments, zone=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"])
)
def test_periods_tile_time(kind: PeriodKind, moment: datetime, zone: str) -> None:
    period = Period.containing(kind, moment, zone)
    assert moment in period
    assert period.previous().end == period.start
    assert period.next().start == period.end
    assert period.previous().next() == period
    assert Period.parse(period.label, zone) == period


@attrs.frozen
class Row:
    region: str | None
    deals: int
    amount: Decimal


def table() -> ReportTable[Row]:
    return ReportTable(
        title="Won deals",
        row_type=Row,
        rows=[Row("north", 3, Decimal("1200.50")), Row(None, 1, Decimal("7"))],
        period=Period.parse("2026-11"),
        notes=["Amounts in CNY."],
    )


def test_a_report_table_reads_as_text_html_records_and_a_dataframe() -> None:
    report = table()
    text = str(report).splitlines()
    assert text[0] == "Won deals (2026-11)"
    assert text[1].split() == ["region", "deals", "amount"]
    assert text[3].split() == ["north", "3", "1,200.50"]
    assert text[4].split() == ["\u2013", "1", "7"]
    assert text[-1] == "Amounts in CNY."
    page = report._repr_html_()
    assert "<caption>Won deals (2026-11)</caption>" in page
    assert "<td>1,200.50</td>" in page
    assert report.to_records()[0] == {"region": "north", "deals": 3, "amount": Decimal("1200.50")}
    frame = report.to_pandas()
    assert list(frame.columns) == ["region", "deals", "amount"]
    assert frame["deals"].sum() == 4
    assert len(report) == 2
    assert report[0].region == "north"


def test_html_is_escaped_and_rows_are_checked() -> None:
    hostile = ReportTable(title="<b>x</b>", row_type=Row, rows=[Row("<script>", 1, Decimal(1))])
    assert "<script>" not in hostile._repr_html_()
    assert "&lt;script&gt;" in hostile._repr_html_()
    with pytest.raises(ValidationError) as caught:
        ReportTable(title="t", row_type=Row, rows=["not a row"])
    assert caught.value.field == "rows"
    assert "(no rows)" in str(ReportTable(title="t", row_type=Row))


def build(session: pycrm.Session, period: Period) -> ReportTable[Row]:
    count = session.customers.count(created_at=period.moments)
    return ReportTable(
        title="New customers", row_type=Row, rows=[Row(None, count, Decimal(0))], period=period
    )


def test_reports_are_registered_by_name_and_built_for_a_period() -> None:
    crm = CRM.memory(
        identity_key="k" * 32, clock=pycrm.FixedClock(datetime(2026, 12, 3, tzinfo=timezone.utc))
    )
    crm.reports.add(ReportDefinition(name="people_added", title="People added", build=build))
    with crm.session() as s:
        s.customers.add(pycrm.Customer.person("A"))
    assert crm.report("people_added", "2026-12")[0].deals == 1
    assert crm.report("people_added").period == Period.parse("2026-11")  # last full month
    assert crm.report("people_added")[0].deals == 0
    with pytest.raises(ValidationError, match="no report named 'nope'"):
        crm.report("nope")
    with pytest.raises(ValidationError) as duplicate:
        crm.reports.add(ReportDefinition(name="people_added", title="t", build=build))
    assert duplicate.value.field == "name"
    metric = Metric(name="customers", title="Customers", compute=lambda s, p: Decimal(1))
    crm.reports.add(metric)
    assert crm.reports.metric("customers") is metric
    with pytest.raises(ValidationError) as better:
        Metric(name="m", title="m", compute=lambda s, p: None, better="sideways")
    assert better.value.field == "better"


def test_plugins_register_reports_and_their_mistakes_are_theirs() -> None:
    class Plugin:
        @pycrm.hookimpl
        def pycrm_reports(self, register: object) -> None:
            register(ReportDefinition(name="people_added", title="New", build=build))  # type: ignore[operator]
            register("not a report")  # type: ignore[operator]

    with pytest.raises(PluginError):
        CRM.memory(identity_key="k" * 32, plugins=[Plugin()])
    registry = Reports()
    registry.add(ReportDefinition(name="x", title="x", build=build))
    assert list(registry) == ["x"]
    assert "x" in registry
