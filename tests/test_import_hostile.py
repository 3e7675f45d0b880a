"""Hostile input in every import field, on every backend: each value is refused with an
error naming its field, or stored verbatim and exported defused; nothing is executed."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pycrm import CRM, Entity
from pycrm.io import KINDS, export_csv, import_records
from pycrm.io.kinds import CUSTOMER_REFERENCES
from pycrm.io.safe import FORMULA_STARTS

SQL = "x'); DROP TABLE crm_customers; --"
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_TEXT = [
    SQL,
    FORMULA,
    "+1-2",
    "@SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0",
    "A" * 100_000,
    "名字 😀 \u202eevil",
    "a\x00b",
    "lone \udcff surrogate",
    "\t=1+1",
]
WRONG_TYPES: list[Any] = [3.5, b"bytes", object(), ["a", 1], {"k": object()}, True]

TEXT_FIELDS = {
    "customers": {
        "name",
        "industry",
        "website",
        "honorific",
        "employer",
        "position",
        "region",
        "source_channel",
        "owner",
        "team",
        "member_id",
    },
    "contacts": {"name", "position", "notes"},
    "orders": {"number"},
    "interactions": {"summary", "recorded_by", "result", "next_action"},
}
"""Fields stored as the text given (stripped): a value they accept must come back as is."""

PERSON_FIELDS = {"honorific", "gender", "birthday", "employer", "position"}
START = "2026-01-05T10:00:00+00:00"


def base_row(kind: str, field: str, index: int, customer_id: str) -> dict[str, Any]:
    """A valid row of ``kind``, marked with ``index`` in a field other than ``field``."""
    marker = f"row-{index}"
    if kind == "customers":
        row: dict[str, Any] = {
            "kind": "person" if field in PERSON_FIELDS else "company",
            "name": "Base",
        }
        row["owner" if field != "owner" else "team"] = marker
        if row["kind"] == "company":  # money comes in pairs: each half has the other
            row["yearly_revenue_amount"] = "1"
            row["yearly_revenue_currency"] = "CNY"
    elif kind == "contacts":
        row = {"customer_id": customer_id, "name": "Base"}
        row["notes" if field != "notes" else "position"] = marker
    elif kind == "orders":
        row = {
            "customer_id": customer_id,
            "number": marker,
            "placed_at": START,
            "total_amount": str(1000 + index),
            "total_currency": "CNY",
        }
        if field == "number":
            row["number"] = None
    else:
        row = {"customer_id": customer_id, "channel": "phone", "occurred_at": START}
        row["summary"] = "Base"
        row["recorded_by" if field != "recorded_by" else "result"] = marker
    if field in CUSTOMER_REFERENCES:
        del row["customer_id"]
    row.pop(field, None)
    return row


def marker_of(kind: str, entity: Any) -> int:
    if kind == "orders":
        if entity.number.startswith("row-"):
            return int(entity.number[4:])
        return int(entity.total.amount - Decimal(1000))
    names = {
        "customers": ("owner", "team"),
        "contacts": ("notes", "position"),
        "interactions": ("recorded_by", "result"),
    }[kind]
    for name in names:
        value = getattr(entity, name)
        if isinstance(value, str) and value.startswith("row-"):
            return int(value[4:])
    raise AssertionError(f"{entity!r} carries no marker")


def stored(crm: CRM, kind: str) -> dict[int, Entity]:
    with crm.session() as s:
        return {marker_of(kind, e): e for e in getattr(s, KINDS[kind].repository).stream()}


def field_of_error(field: str) -> set[str]:
    """The fields an error about ``field`` may name (money reported as a whole)."""
    names = {field}
    for suffix in ("_amount", "_currency"):
        if field.endswith(suffix):
            names.add(field[: -len(suffix)])
    if field in CUSTOMER_REFERENCES:
        names.add("customer_id")
    return names


@pytest.fixture
def customer_id(crm: CRM) -> str:
    import_records(crm, "customers", [{"kind": "company", "name": "Owner", "member_id": "OWN"}])
    with crm.session() as s:
        return s.customers.list(member_id="OWN").items[0].id


def check_outcome(
    crm: CRM, kind: str, rows: list[tuple[str, Any]], report: Any, tmp_path: Path
) -> None:
    refused = {error.row: error for error in report}
    kept = stored(crm, kind)
    for index, (field, value) in enumerate(rows, start=1):
        if index in refused:
            error = refused[index]
            assert error.field in field_of_error(field), (field, value, error)
            assert error.problem
            assert index not in kept
            continue
        assert index in kept, (field, value)
        if field in TEXT_FIELDS[kind] and isinstance(value, str):
            assert getattr(kept[index], field) == value.strip(), (field, value)
    # Nothing was executed: the tables are all there and hold what the report says.
    with crm.session() as s:
        assert s.customers.count(member_id="OWN") == (0 if kind == "customers" else 1)
    out = tmp_path / f"{kind}.csv"
    export_csv(crm, kind, out, unmasked=True)
    with out.open(encoding="utf-8", newline="") as exported:
        for line in csv.reader(exported):
            for cell in line:
                assert not cell.startswith(FORMULA_STARTS), cell


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_values_in_every_field_are_refused_or_stored_verbatim(
    crm: CRM, customer_id: str, kind: str, tmp_path: Path
) -> None:
    fields = list(KINDS[kind].fields)
    values = HOSTILE_TEXT + WRONG_TYPES
    cases = [(field, value) for field in fields for value in values]
    rows = []
    for index, (field, value) in enumerate(cases, start=1):
        row = base_row(kind, field, index, customer_id)
        row[field] = value
        rows.append(row)
    if kind == "customers":
        with crm.session() as s:  # the owner row would skew the count check below
            s.customers.remove(customer_id)
    report = import_records(crm, kind, rows, mode="skip_bad_rows", batch_size=50)
    assert report.committed
    assert report.created + report.skipped == len(rows)
    check_outcome(crm, kind, cases, report, tmp_path)


@pytest.mark.parametrize("kind", list(KINDS))
def test_undecodable_bytes_in_a_csv_are_reported_in_their_field(
    crm: CRM, customer_id: str, kind: str, tmp_path: Path
) -> None:
    fields = [f for f in KINDS[kind].fields if f not in CUSTOMER_REFERENCES]
    header = sorted({*fields, *base_row(kind, "x", 0, customer_id)})
    lines = [",".join(header).encode()]
    for index, field in enumerate(fields, start=1):
        row = base_row(kind, field, index, customer_id)
        cells = []
        for column in header:
            if column == field:
                cells.append(b"caf\xc3\x28 \xff")
            else:
                value = row.get(column)
                cells.append(b"" if value is None else str(value).encode())
        lines.append(b",".join(cells))
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = import_records(crm, kind, path, mode="skip_bad_rows")
    assert [(e.row, e.field) for e in report] == list(enumerate(fields, start=1))
    assert all(e.problem.startswith("is not valid text") for e in report)
    report.to_csv().encode("utf-8")  # the report itself is valid text, fit to write out


def test_hostile_column_names_in_a_mapping_are_only_names(crm: CRM) -> None:
    rows = [{SQL: "Acme", FORMULA: "company", "ignored; DELETE FROM crm_customers": "x"}]
    mapping: dict[str, Any] = {
        SQL: "name",
        FORMULA: "kind",
        "ignored; DELETE FROM crm_customers": None,
    }
    report = import_records(crm, "customers", rows, mapping=mapping)
    assert report.created == 1
    with crm.session() as s:
        assert [c.name for c in s.customers.stream()] == ["Acme"]


def test_a_csv_field_too_large_for_the_reader_is_one_refused_row(crm: CRM, tmp_path: Path) -> None:
    huge = "x" * (csv.field_size_limit() + 10)
    path = tmp_path / "huge.csv"
    path.write_text(f"kind,name\ncompany,{huge}\ncompany,Acme\n", encoding="utf-8")
    report = import_records(crm, "customers", path, mode="skip_bad_rows")
    assert [e.field for e in report] == ["(row)"]
    with crm.session() as s:
        assert [c.name for c in s.customers.stream()] == ["Acme"]
