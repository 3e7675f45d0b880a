"""Export to CSV and DataFrame: masked by default, formula-safe, paged, and re-importable."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycrm import CRM, ConfigurationError, Customer, FixedClock, ValidationError
from pycrm.io import KINDS, csv_safe, export_csv, export_dataframe, export_rows, import_records
from pycrm.storage import MemoryStore
from pycrm.testing import strategies

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

ROWS = [
    {
        "member_id": "VIP-0001",
        "kind": "company",
        "name": '=HYPERLINK("http://evil")',
        "phone": "+8613812345678",
        "email": "zhang.wei@example.com",
        "tags": "vip,b2b",
        "yearly_revenue_amount": "1234.50",
        "yearly_revenue_currency": "CNY",
        "custom_fields": '{"erp": "-A1"}',
    },
    {"member_id": "VIP-0002", "kind": "person", "name": "Li Na", "region": "@home"},
]


@pytest.fixture
def loaded(crm: CRM) -> CRM:
    report = import_records(crm, "customers", ROWS)
    assert report.ok
    return crm


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_masks_personal_data_by_default(loaded: CRM) -> None:
    out = io.StringIO()
    assert export_csv(loaded, "customers", out) == 2
    text = out.getvalue()
    for secret in ("13812345678", "zhang.wei", "VIP-0001"):
        assert secret not in text
    first = read(text)[0]
    assert first["phone"] == "'+86****5678"
    assert first["email"] == "z***@example.com"


def test_unmasked_export_is_explicit_and_defuses_formulas(loaded: CRM) -> None:
    out = io.StringIO()
    export_csv(loaded, "customers", out, unmasked=True)
    first, second = read(out.getvalue())
    assert first["name"] == '\'=HYPERLINK("http://evil")'
    assert first["phone"] == "'+8613812345678"
    assert first["member_id"] == "VIP-0001"
    assert first["custom_fields"] == '{"erp": "-A1"}'
    assert (first["yearly_revenue_amount"], first["yearly_revenue_currency"]) == ("1234.50", "CNY")
    assert first["tags"] == "b2b,vip"
    assert second["region"] == "'@home"
    with pytest.raises(ValidationError):
        export_csv(loaded, "customers", io.StringIO(), unmasked="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_safe_prefixes_cells_a_spreadsheet_would_run(text: str, safe: str) -> None:
    assert csv_safe(text) == safe


def test_an_unmasked_export_imports_back_to_the_same_customers(loaded: CRM, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    export_csv(loaded, "customers", path, unmasked=True, page_size=1)
    # The export's defusing quote is for spreadsheets; a program reading the file strips it.
    rows = [
        {k: v[1:] if v.startswith("'") and v[1:2] in "=+-@" else v for k, v in row.items()}
        for row in read(path.read_text(encoding="utf-8"))
    ]
    report = import_records(loaded, "customers", rows, key="member_id", mapping={"id": None})
    assert (report.updated, report.unchanged, report.created) == (0, 2, 0)


def test_rows_are_streamed_a_page_at_a_time_with_typed_values(loaded: CRM) -> None:
    rows = list(export_rows(loaded, "customers", page_size=1))
    assert [r["kind"] for r in rows] == ["company", "person"]
    assert rows[0]["yearly_revenue_amount"] == Decimal("1234.50")
    assert rows[0]["tags"] == ["b2b", "vip"]
    assert rows[0]["member_id"] != "VIP-0001"


def test_dataframe_export(loaded: CRM) -> None:
    pytest.importorskip("pandas")
    frame = export_dataframe(loaded, "customers")
    assert list(frame["kind"]) == ["company", "person"]
    assert "13812345678" not in frame.to_string()
    assert list(export_dataframe(loaded, "customers", unmasked=True)["member_id"]) == [
        "VIP-0001",
        "VIP-0002",
    ]


def test_dataframe_export_without_pandas_says_how_to_get_it(
    loaded: CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ConfigurationError, match=r"pycrm-core\[pandas\]"):
        export_dataframe(loaded, "customers")


def test_every_kind_exports(loaded: CRM) -> None:
    with loaded.session() as s:
        customer = s.customers.list(member_id="VIP-0001").items[0]
    import_records(
        loaded,
        "orders",
        [
            {
                "customer_id": customer.id,
                "number": "SO-1",
                "placed_at": "2026-01-01T00:00:00+00:00",
                "total_amount": "9.90",
                "total_currency": "CNY",
            }
        ],
    )
    import_records(
        loaded,
        "interactions",
        [
            {
                "customer_id": customer.id,
                "channel": "visit",
                "occurred_at": "2026-01-01T00:00:00+00:00",
                "summary": "Plant tour",
                "needs": "MES\nERP, soon",
            }
        ],
    )
    orders, interactions = io.StringIO(), io.StringIO()
    assert export_csv(loaded, "orders", orders) == 1
    assert export_csv(loaded, "interactions", interactions) == 1
    assert read(orders.getvalue())[0]["total_amount"] == "9.90"
    assert read(interactions.getvalue())[0]["needs"] == "MES\nERP, soon"
    assert export_csv(loaded, "contacts", io.StringIO()) == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(strategies.customers(), min_size=1, max_size=5))
def test_an_unmasked_csv_export_imports_back_field_for_field(people: list[Customer]) -> None:
    """Whatever the customers hold, export -> CSV -> import gives the same values back; the
    import takes off the quotes the export put before formula characters."""
    source = CRM(MemoryStore(), clock=FixedClock(START))
    with source.session() as s:
        s.customers.add_many(people)
    out = io.StringIO()
    export_csv(source, "customers", out, unmasked=True)
    out.seek(0)
    target = CRM(MemoryStore(), clock=FixedClock(START))
    report = import_records(target, "customers", out, mapping={"id": None})
    assert report.ok, report.to_csv()
    fields = [f for f in KINDS["customers"].fields if f in attrs.fields_dict(Customer)]
    fields += ["yearly_revenue"]
    with target.session() as s:
        back = list(s.customers.stream())
    # Exported in id order, imported in file order: the same order on both sides.
    expected = sorted(people, key=lambda c: c.id)
    assert [[getattr(c, f) for f in fields] for c in back] == [
        [getattr(c, f) for f in fields] for c in expected
    ]
