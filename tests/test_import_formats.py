"""How a file is laid out: semicolon-separated cells, and the report of refused rows as a
DataFrame and as values a person can read."""

from __future__ import annotations

import contextlib
import io
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pycrm import CRM, ConfigurationError, ValidationError
from pycrm.cli import main
from pycrm.io import Column, ImportReport, export_dataframe, import_records, parse_decimal
from pycrm.rfm import score

SEMICOLONS = (
    "kind;name;yearly_revenue_amount;yearly_revenue_currency;tags\n"
    'company;Müller GmbH;1.250.000,50;EUR;"b2b,vip"\n'
    'company;"Dupont; Fils";90,00;EUR;\n'
)
EUROPEAN = Column("yearly_revenue_amount", parse_decimal(decimal_point=",", thousands="."))


def names_and_revenues(crm: CRM) -> dict[str, tuple[Decimal | None, frozenset[str]]]:
    with crm.session() as s:
        return {
            c.name: (c.yearly_revenue.amount if c.yearly_revenue else None, frozenset(c.tags))
            for c in s.customers.stream()
        }


def test_semicolon_separated_cells_read_with_the_delimiter(crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(SEMICOLONS, encoding="utf-8")
    report = import_records(
        crm, "customers", path, delimiter=";", mapping={"yearly_revenue_amount": EUROPEAN}
    )
    assert report.ok, report.summary()
    assert names_and_revenues(crm) == {
        "Müller GmbH": (Decimal("1250000.50"), frozenset({"b2b", "vip"})),
        "Dupont; Fils": (Decimal("90.00"), frozenset()),
    }


def test_a_semicolon_file_read_with_commas_is_refused_by_its_header(crm: CRM) -> None:
    with pytest.raises(ValidationError) as caught:
        import_records(crm, "customers", io.StringIO(SEMICOLONS))
    assert "kind;name" in str(caught.value)
    with crm.session() as s:
        assert s.customers.count() == 0


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n", "\r", 59, None])
def test_a_delimiter_must_be_one_character_that_can_separate_cells(
    crm: CRM, delimiter: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        import_records(crm, "customers", io.StringIO("kind,name\n"), delimiter=delimiter)
    assert caught.value.field == "delimiter"


def test_the_command_line_reads_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(SEMICOLONS.replace("1.250.000,50", "1250000.50").replace("90,00", "90"))
    db = f"sqlite:///{tmp_path / 'crm.db'}"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["import", "customers", str(path), "--db", db, "--delimiter", ";"])
    assert code == 0, err.getvalue()
    assert "2 created" in out.getvalue()
    with CRM.open(db) as crm:
        assert set(names_and_revenues(crm)) == {"Müller GmbH", "Dupont; Fils"}


def refused(crm: CRM, *rows: dict[str, Any]) -> ImportReport:
    return import_records(crm, "customers", list(rows), mode="skip_bad_rows")


def test_the_report_as_a_data_frame(crm: CRM) -> None:
    report = refused(
        crm,
        {"kind": "company", "name": "Acme"},
        {"kind": "company", "name": "Beta", "employees": -3},
        {"kind": "robot", "name": "R2"},
    )
    frame = report.to_pandas()
    assert list(frame.columns) == ["row", "column", "field", "problem", "value"]
    assert str(frame["row"].dtype) == "int64"
    assert frame.to_dict("records") == [
        {"row": e.row, "column": e.column, "field": e.field, "problem": e.problem, "value": e.value}
        for e in report
    ]
    assert list(frame["field"]) == ["employees", "kind"]
    empty = refused(crm, {"kind": "company", "name": "Gamma"}).to_pandas()
    assert list(empty.columns) == list(frame.columns)
    assert len(empty) == 0


def test_refused_numbers_are_shown_as_written(crm: CRM) -> None:
    report = refused(
        crm,
        {"kind": "company", "name": "Beta", "employees": Decimal("-5")},
        {"kind": "company", "name": "Gamma", "employees": [1, 2]},
    )
    # A number as a spreadsheet shows it; anything else as its repr, so a list is no string.
    assert [e.value for e in report] == ["-5", "[1, 2]"]


def test_frames_without_pandas_name_the_extra(crm: CRM, monkeypatch: pytest.MonkeyPatch) -> None:
    report = refused(crm, {"kind": "robot", "name": "R2"})
    table = score([], as_of=crm.clock.now())
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    for make, feature in (
        (report.to_pandas, "ImportReport.to_pandas()"),
        (lambda: export_dataframe(crm, "customers"), "export_dataframe"),
        (table.to_pandas, "RfmTable.to_pandas()"),
    ):
        with pytest.raises(ConfigurationError) as caught:
            make()
        assert str(caught.value) == f"{feature} needs pandas: pip install 'pycrm-core[pandas]'"


def test_a_cell_in_another_encoding_says_to_name_it(crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("kind,name\ncompany,Société Générale\n".encode("latin-1"))
    (error,) = import_records(crm, "customers", path)
    assert (error.row, error.field) == (1, "name")
    assert "pass its encoding" in error.problem
    assert import_records(crm, "customers", path, encoding="latin-1").created == 1
    with crm.session() as s:
        assert [c.name for c in s.customers.stream()] == ["Société Générale"]
