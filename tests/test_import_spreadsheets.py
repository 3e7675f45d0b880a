"""Files as spreadsheets and notebooks make them: empty rows, byte-order marks, legacy
encodings, pandas' numbers and naive times, and pycrm's own defused exports read back."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import CRM, Customer, Money, ValidationError
from pycrm.io import csv_safe, csv_unquote, export_csv, import_records
from pycrm.storage import MemoryStore

SHANGHAI = ZoneInfo("Asia/Shanghai")


def customers(crm: CRM) -> dict[str | None, Customer]:
    with crm.session() as s:
        return {c.name: c for c in s.customers.stream()}


def test_rows_of_empty_cells_are_skipped_and_row_numbers_stay_the_sheets(
    crm: CRM, tmp_path: Path
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "kind,name,email\r\n"
        "company,Acme,\r\n"
        ",,\r\n"  # an empty row inside the sheet: spreadsheet row 3
        "company,Beta,not-an-email\r\n"
        "\r\n"
        "company,Gamma,\r\n"
        ",,\r\n"
        " , ,\r\n",  # empty rows a spreadsheet leaves at the end
        encoding="utf-8",
    )
    report = import_records(crm, "customers", path)
    assert [(e.row, e.field) for e in report] == [(3, "email")]  # sheet row 4, after the header
    assert report.rows == 3
    report = import_records(crm, "customers", path, mode="skip_bad_rows")
    assert report.created == 2
    assert sorted(customers(crm)) == ["Acme", "Gamma"]


def test_a_byte_order_mark_in_a_text_file_object_is_not_part_of_the_first_column(
    crm: CRM, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffkind,name\r\ncompany,Acme\r\n".encode())
    with path.open(encoding="utf-8", newline="") as text:
        report = import_records(crm, "customers", text)
    assert report.created == 1


def test_a_header_in_another_encoding_asks_for_the_files_encoding(crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("类型,公司\r\ncompany,深圳腾达科技有限公司\r\n".encode("gb18030"))
    mapping = {"类型": "kind", "公司": "name"}
    with pytest.raises(ValidationError, match=r"not valid utf-8 text.*gb18030") as caught:
        import_records(crm, "customers", path, mapping=mapping)
    assert caught.value.field == "encoding"
    assert customers(crm) == {}
    report = import_records(crm, "customers", path, mapping=mapping, encoding="gb18030")
    assert report.created == 1
    assert list(customers(crm)) == ["深圳腾达科技有限公司"]


def test_dataframe_numbers_import_as_the_digits_they_show(crm: CRM) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "kind": ["company", "company", "company"],
            "name": ["Li", "Wu", "Zhao"],
            # A gap makes pandas store phones and member ids as floats: 13812345678.0.
            "phone": [13812345678, float("nan"), 13912345678],
            "member_id": [1001, 1002, float("nan")],
            "employees": pandas.array([3, None, 5], dtype="Int64"),
        }
    )
    frame["region_code"] = pandas.Series([510000, 310000, 110000], dtype="int64")
    report = import_records(crm, "customers", frame, mapping={"region_code": "region"})
    assert report.ok, report.to_csv()
    stored = customers(crm)
    assert (stored["Li"].phone, stored["Li"].member_id) == ("13812345678", "1001")
    assert (stored["Wu"].phone, stored["Wu"].member_id) == (None, "1002")
    assert stored["Zhao"].phone == "13912345678"
    assert stored["Li"].region == "510000"
    assert (stored["Li"].employees, stored["Wu"].employees) == (3, None)


def test_dataframe_amounts_stay_exact_and_empty_rows_are_skipped(crm: CRM) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "kind": ["company", None, "company"],
            "name": ["Acme", None, "Beta"],
            "yearly_revenue_amount": [0.1, float("nan"), 1234.0],
            "yearly_revenue_currency": ["CNY", None, "CNY"],
        }
    )
    report = import_records(crm, "customers", frame)
    assert report.ok, report.to_csv()
    assert report.rows == 2
    stored = customers(crm)
    assert stored["Acme"].yearly_revenue == Money("0.1", "CNY")
    assert stored["Beta"].yearly_revenue == Money("1234", "CNY")


def test_naive_timestamps_are_read_in_tz_and_refused_without_it(crm: CRM) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "kind": ["company"],
            "name": ["Acme"],
            "captured_at": [pandas.Timestamp("2026-01-02 08:00")],
        }
    )
    refused = import_records(crm, "customers", frame)
    assert [e.field for e in refused] == ["captured_at"]
    report = import_records(crm, "customers", frame, tz=SHANGHAI)
    assert report.ok, report.to_csv()
    assert customers(crm)["Acme"].captured_at == datetime(2026, 1, 2, tzinfo=timezone.utc)


def test_a_refused_amount_is_reported_with_its_value(crm: CRM) -> None:
    import_records(crm, "customers", [{"kind": "company", "name": "Acme", "member_id": "M1"}])
    row = {
        "customer_member_id": "M1",
        "number": "SO-1",
        "placed_at": "2026-01-02T08:00:00+08:00",
        "total_amount": "-5",
        "total_currency": "CNY",
    }
    (error,) = import_records(crm, "orders", [row])
    assert (error.field, error.column) == ("total", "total_amount")
    assert error.value is not None
    assert "-5" in error.value


def test_an_unmasked_export_file_imports_back_as_it_is(crm: CRM, tmp_path: Path) -> None:
    """The export's defusing quote is taken off by the import that reads the file."""
    rows = [
        {"kind": "person", "name": "-Li", "phone": "+8613812345678", "member_id": "M1"},
        {"kind": "person", "name": "'=quoted", "region": "@home", "member_id": "M2"},
        {"kind": "person", "name": "'plain", "member_id": "M3", "tags": "-1,b"},
    ]
    assert import_records(crm, "customers", rows).ok
    path = tmp_path / "customers.csv"
    export_csv(crm, "customers", path, unmasked=True)
    report = import_records(crm, "customers", path, key="member_id", mapping={"id": None})
    assert report.ok, report.to_csv()
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    stored = customers(crm)
    assert stored["-Li"].phone == "+8613812345678"
    assert stored["'=quoted"].region == "@home"
    assert stored["'plain"].tags == frozenset({"-1", "b"})


@given(st.text())
def test_csv_unquote_gives_back_what_csv_safe_was_given(text: str) -> None:
    safe = csv_safe(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_unquote(safe) == text


def test_an_export_written_to_a_text_stream_reads_back_from_it(crm: CRM) -> None:
    import_records(crm, "customers", [{"kind": "company", "name": "=SUM(A1)"}])
    out = io.StringIO()
    export_csv(crm, "customers", out, unmasked=True)
    out.seek(0)
    other = CRM(MemoryStore(), clock=crm.clock)
    assert import_records(other, "customers", out, mapping={"id": None}).ok
    assert list(customers(other)) == ["=SUM(A1)"]
