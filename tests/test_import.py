"""Bulk import: mapping, per-row validation, modes, matching and batches, on every backend."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pycrm import CRM, Customer, Money, ValidationError
from pycrm.io import Column, import_records, parse_date, parse_decimal, split_on


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customers(crm: CRM) -> list[Customer]:
    with crm.session() as s:
        return list(s.customers.stream())


def by_member(crm: CRM) -> dict[str | None, Customer]:
    return {c.member_id: c for c in customers(crm)}


HEADER = ["member_id", "kind", "name", "phone", "email", "tags"]


def test_csv_with_a_mapping_and_readers_stores_typed_values(crm: CRM, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "crm.csv",
        ["Member", "Type", "Company", "Since", "Revenue", "Cur", "Labels", "Notes"],
        [
            ["M1", "company", "Acme Tools", "31/12/2001", "1.234.567,50", "cny", "vip|b2b", "x"],
            ["M2", "company", "Beta Ltd", "", "", "", "", "y"],
        ],
    )
    report = import_records(
        crm,
        "customers",
        path,
        mapping={
            "Member": "member_id",
            "Type": "kind",
            "Company": "name",
            "Since": Column("founded_on", parse_date("%d/%m/%Y")),
            "Revenue": Column(
                "yearly_revenue_amount", parse_decimal(decimal_point=",", thousands=".")
            ),
            "Cur": "yearly_revenue_currency",
            "Labels": Column("tags", split_on("|")),
            "Notes": None,
        },
    )
    assert report.ok
    assert report.committed
    assert (report.rows, report.created, report.updated) == (2, 2, 0)
    stored = by_member(crm)
    acme = stored["M1"]
    assert acme.name == "Acme Tools"
    assert acme.founded_on == date(2001, 12, 31)
    assert acme.yearly_revenue == Money(Decimal("1234567.50"), "CNY")
    assert acme.tags == frozenset({"vip", "b2b"})
    beta = stored["M2"]
    assert beta.founded_on is None
    assert beta.yearly_revenue is None
    assert beta.tags == frozenset()


def test_all_or_nothing_stores_nothing_and_reports_every_bad_row(crm: CRM) -> None:
    rows = [
        {"member_id": "M1", "kind": "company", "name": "Acme"},
        {"member_id": "M2", "kind": "robot", "name": "Beta"},
        {"member_id": "M3", "kind": "person", "name": "Li", "employees": "5"},
        {"member_id": "M4", "kind": "person", "name": "Wang", "phone": "1381234567x"},
    ]
    report = import_records(crm, "customers", rows, batch_size=2)
    assert not report.committed
    assert not report.ok
    assert (report.created, report.updated) == (0, 0)
    assert [(e.row, e.field) for e in report] == [(2, "kind"), (3, "employees"), (4, "phone")]
    assert "does not apply to a person" in report.errors[1].problem
    assert report.errors[2].value == "138****567x"  # personal data masked in the report
    assert customers(crm) == []


def test_skip_bad_rows_stores_the_good_ones_and_names_column_and_field(
    crm: CRM, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        ["member_id", "kind", "Full name", "phone"],
        [
            ["M1", "company", "Acme", "138-1234-5678"],
            ["M2", "company", "", "13900000000"],
            ["M3", "person", "Li Na", "call me"],
            ["M4", "person", "Wang Fang", ""],
        ],
    )
    report = import_records(
        crm, "customers", path, mapping={"Full name": "name"}, mode="skip_bad_rows"
    )
    assert report.committed
    assert report.created == 2
    assert report.skipped == 2
    first, second = report.errors
    assert (first.row, first.column, first.field, first.problem) == (
        2,
        "Full name",
        "name",
        "is required",
    )
    assert (second.row, second.column, second.field) == (3, "phone", "phone")
    assert second.value is not None
    assert "call me" not in second.value
    assert sorted(by_member(crm)) == ["M1", "M4"]
    assert by_member(crm)["M1"].phone == "13812345678"
    lines = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert [line["row"] for line in lines] == ["2", "3"]
    assert lines[0]["column"] == "Full name"
    assert lines[1]["field"] == "phone"


def test_reimporting_with_a_key_updates_instead_of_duplicating(crm: CRM) -> None:
    first = [
        {"member_id": "M1", "kind": "company", "name": "Acme", "email": "a@acme.cn", "tags": "x"},
        {"member_id": "M2", "kind": "person", "name": "Li Na", "region": "Beijing"},
    ]
    assert import_records(crm, "customers", first, key="member_id").created == 2
    ids = {c.member_id: c.id for c in customers(crm)}
    again = [
        {"member_id": "M1", "kind": "company", "name": "Acme Tools", "email": "", "tags": "y,z"},
        {"member_id": "M2", "kind": "person", "name": "Li Na", "region": "Beijing"},
        {"member_id": "M3", "kind": "person", "name": "Wang"},
    ]
    report = import_records(crm, "customers", again, key="member_id")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    stored = by_member(crm)
    assert {m: stored[m].id for m in ("M1", "M2")} == ids
    acme = stored["M1"]
    assert acme.name == "Acme Tools"
    assert acme.version == 2
    assert acme.email == "a@acme.cn", "a blank cell leaves the stored value"
    assert acme.tags == frozenset({"y", "z"})
    assert stored["M2"].version == 1
    with crm.session() as s:
        assert len(s.audit.for_entity(stored["M2"])) == 1, "an unchanged row writes nothing"
        assert len(s.audit.for_entity(acme)) == 2


@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_a_later_row_of_the_same_file_updates_the_earlier(crm: CRM, batch_size: int) -> None:
    rows = [
        {"member_id": "M1", "kind": "company", "name": "Acme", "region": "Shanghai"},
        {"member_id": "M2", "kind": "person", "name": "Li"},
        {"member_id": "M1", "kind": "company", "name": "Acme Tools"},
    ]
    report = import_records(crm, "customers", rows, key="member_id", batch_size=batch_size)
    assert report.ok
    assert report.created == 2
    assert report.updated == 1
    acme = by_member(crm)["M1"]
    assert (acme.name, acme.region) == ("Acme Tools", "Shanghai")


def test_matching_on_phone_and_email_uses_the_normalised_value(crm: CRM) -> None:
    import_records(
        crm,
        "customers",
        [
            {"kind": "person", "name": "Li", "phone": "13812345678", "email": "li@Example.COM"},
            {"kind": "person", "name": "Wu", "phone": "13900000000"},
        ],
    )
    rows = [{"kind": "person", "name": "Li Na", "phone": "+86 138 1234-5678"}]
    by_phone = import_records(crm, "customers", rows, key="phone")
    assert by_phone.updated == 1
    assert by_phone.created == 0
    rows = [{"kind": "person", "name": "Li N.", "email": "LI@example.com"}]
    by_email = import_records(crm, "customers", rows, key="email")
    assert by_email.updated == 1
    assert sorted(c.name for c in customers(crm)) == ["Li N.", "Wu"]


def test_two_spellings_of_one_phone_in_a_file_are_one_customer(crm: CRM) -> None:
    rows = [
        {"kind": "person", "name": "Li", "phone": "13812345678", "region": "Beijing"},
        {"kind": "person", "name": "Li Na", "phone": "+86 138-1234-5678"},
    ]
    report = import_records(crm, "customers", rows, key="phone")
    assert (report.created, report.updated) == (1, 1)
    (li,) = customers(crm)
    assert (li.name, li.region) == ("Li Na", "Beijing")


def test_a_key_matching_several_customers_is_refused_not_guessed(crm: CRM) -> None:
    twins = [{"kind": "person", "name": n, "email": "same@example.com"} for n in ("A", "B")]
    import_records(crm, "customers", twins)
    report = import_records(
        crm,
        "customers",
        [{"kind": "person", "name": "C", "email": "same@example.com"}],
        key="email",
        mode="skip_bad_rows",
    )
    assert [(e.field, e.problem) for e in report] == [
        ("email", "matches more than one stored customer")
    ]
    assert sorted(c.name for c in customers(crm)) == ["A", "B"]


def test_a_row_without_its_key_is_refused(crm: CRM) -> None:
    report = import_records(
        crm, "customers", [{"kind": "person", "name": "Li"}], key="member_id", mode="skip_bad_rows"
    )
    assert [(e.row, e.field) for e in report] == [(1, "member_id")]


def test_skip_bad_rows_commits_each_batch_and_retries_a_refused_batch_row_by_row(
    crm: CRM,
) -> None:
    import_records(crm, "customers", [{"member_id": "TAKEN", "kind": "person", "name": "Old"}])
    rows = [{"member_id": f"N{i}", "kind": "person", "name": f"P{i}"} for i in range(5)]
    rows[3]["member_id"] = "TAKEN"  # the store refuses it: member ids are unique
    report = import_records(crm, "customers", rows, batch_size=2, mode="skip_bad_rows")
    assert report.created == 4
    assert [e.row for e in report] == [4]
    assert "TAKEN" in report.errors[0].problem
    assert sorted(by_member(crm)) == ["N0", "N1", "N2", "N4", "TAKEN"]


def test_all_or_nothing_rolls_back_earlier_batches_when_the_store_refuses(crm: CRM) -> None:
    import_records(crm, "customers", [{"member_id": "TAKEN", "kind": "person", "name": "Old"}])
    rows = [{"member_id": f"N{i}", "kind": "person", "name": f"P{i}"} for i in range(5)]
    rows[3]["member_id"] = "TAKEN"
    report = import_records(crm, "customers", rows, batch_size=2)
    assert not report.committed
    assert report.created == 0
    assert report.errors[0].row == 3  # the first row of the refused batch
    assert sorted(by_member(crm)) == ["TAKEN"]


def test_orders_name_their_customer_by_member_id_and_upsert_by_number(crm: CRM) -> None:
    import_records(crm, "customers", [{"member_id": "M1", "kind": "company", "name": "Acme"}])
    orders = [
        {
            "number": "SO-1",
            "customer_member_id": "M1",
            "placed_at": "2026-01-05T10:00:00+08:00",
            "total_amount": "1280.00",
            "total_currency": "CNY",
            "status": "paid",
        },
        {
            "number": "SO-2",
            "customer_member_id": "M9",
            "placed_at": "2026-01-06T10:00:00+00:00",
            "total_amount": "1",
        },
        {
            "number": "SO-3",
            "customer_member_id": "M1",
            "placed_at": "2026-01-07T10:00:00",
            "total_amount": "5",
        },
    ]
    report = import_records(
        crm, "orders", orders, mode="skip_bad_rows", currency="CNY", key="number"
    )
    assert report.created == 1
    assert [(e.row, e.field) for e in report] == [(2, "customer_member_id"), (3, "placed_at")]
    assert "timezone-aware" in report.errors[1].problem
    again = import_records(
        crm,
        "orders",
        [
            {
                "number": "SO-1",
                "customer_member_id": "M1",
                "placed_at": "2026-01-05T02:00:00+00:00",
                "total_amount": "1300",
                "total_currency": "CNY",
            }
        ],
        key="number",
    )
    assert again.updated == 1
    with crm.session() as s:
        (order,) = s.orders.stream()
        acme = s.customers.list(member_id="M1").items[0]
    assert order.customer_id == acme.id
    assert order.total == Money("1300", "CNY")
    assert order.placed_at == datetime(2026, 1, 5, 2, tzinfo=timezone.utc)
    assert order.status.value == "paid"


def test_contacts_and_interactions_import_with_their_readers(crm: CRM) -> None:
    import_records(crm, "customers", [{"member_id": "M1", "kind": "company", "name": "Acme"}])
    with crm.session() as s:
        acme = s.customers.list(member_id="M1").items[0]
    contacts = [
        {"customer_id": acme.id, "name": "Zhang", "is_decision_maker": "yes", "email": "z@a.cn"},
        {"customer_id": acme.id, "name": "Zhang Wei", "email": "z@a.cn", "position": "CTO"},
        {"customer_id": "cus_missing", "name": "Nobody"},
        {"customer_id": acme.id, "name": "Li", "is_decision_maker": "perhaps"},
    ]
    report = import_records(crm, "contacts", contacts, key="email", mode="skip_bad_rows")
    assert (report.created, report.updated) == (1, 1)
    assert [(e.row, e.field) for e in report] == [(3, "customer_id"), (4, "is_decision_maker")]
    interactions = [
        {
            "customer_member_id": "M1",
            "channel": "visit",
            "occurred_at": "2026-02-01T09:00:00+08:00",
            "summary": "Demo at the plant",
            "needs": "MES\nERP link",
            "next_action": "send quote",
            "next_action_due": "2026-02-03T09:00:00+08:00",
        }
    ]
    assert import_records(crm, "interactions", interactions).created == 1
    with crm.session() as s:
        (contact,) = s.contacts.stream()
        (interaction,) = s.interactions.stream()
    assert (contact.name, contact.is_decision_maker, contact.position) == ("Zhang Wei", True, "CTO")
    assert interaction.needs == ("MES", "ERP link")
    assert interaction.customer_id == acme.id


def test_a_generator_of_dicts_is_streamed_and_wrong_types_are_reported(crm: CRM) -> None:
    def rows() -> Iterator[Any]:
        yield {"kind": "person", "name": "Li", "employees": None}
        yield {"kind": "person", "name": ["not", "text"]}
        yield "not a dict"
        yield {"kind": "person", "name": "Wu", "surname": "x"}
        yield {"kind": "company", "name": "Acme", "employees": 12, "tags": ["a", "b"]}

    report = import_records(crm, "customers", rows(), mode="skip_bad_rows", batch_size=2)
    assert [(e.row, e.field) for e in report] == [(2, "name"), (3, "(row)"), (4, "surname")]
    assert "expected text" in report.errors[0].problem
    assert sorted(c.name for c in customers(crm)) == ["Acme", "Li"]


def test_dataframes_are_read_with_missing_cells_and_float_columns(crm: CRM) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "kind": ["company", "company"],
            "name": ["Acme", "Beta"],
            "employees": [12.0, float("nan")],
            "yearly_revenue_amount": [0.1, None],
            "yearly_revenue_currency": ["CNY", None],
            "captured_at": pandas.to_datetime(["2026-01-01T08:00:00Z", None]),
        }
    )
    report = import_records(crm, "customers", frame)
    assert report.ok
    assert report.created == 2
    stored = {c.name: c for c in customers(crm)}
    assert stored["Acme"].employees == 12
    assert stored["Acme"].yearly_revenue == Money("0.1", "CNY")
    assert stored["Acme"].captured_at == datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    assert stored["Beta"].employees is None
    assert stored["Beta"].captured_at is None


def test_unknown_and_doubled_columns_are_refused_before_anything_is_stored(
    crm: CRM, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", ["kind", "name", "shoe size"], [["person", "Li", "42"]])
    with pytest.raises(ValidationError, match="shoe size: is not a customers field"):
        import_records(crm, "customers", path)
    doubled = write_csv(tmp_path / "d.csv", ["kind", "name", "Name"], [["person", "Li", "L"]])
    with pytest.raises(ValidationError, match="fills 'name'"):
        import_records(crm, "customers", doubled, mapping={"Name": "name"})
    assert customers(crm) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "widgets"}, "kind"),
        ({"mode": "most"}, "mode"),
        ({"key": "name"}, "key"),
        ({"batch_size": 0}, "batch_size"),
        ({"mapping": {"a": "shoe_size"}}, "mapping"),
        ({"mapping": {"a": "name", "b": "name"}}, "mapping"),
        ({"source": 42}, "source"),
        ({"source": {"kind": "person"}}, "source"),
        ({"progress": "yes"}, "progress"),
        ({"encoding": "utf-9"}, "encoding"),
    ],
)
def test_bad_arguments_are_refused_by_name(crm: CRM, arguments: dict[str, Any], field: str) -> None:
    call: dict[str, Any] = {"kind": "customers", "source": []} | arguments
    kind, source = call.pop("kind"), call.pop("source")
    with pytest.raises(ValidationError) as caught:
        import_records(crm, kind, source, **call)
    assert caught.value.field == field


def test_each_created_customer_has_its_audit_entry_by_the_import_actor(crm: CRM) -> None:
    import_records(crm, "customers", [{"kind": "person", "name": "Li"}], actor="nightly-sync")
    (li,) = customers(crm)
    with crm.session() as s:
        (entry,) = s.audit.for_entity(li)
    assert (entry.actor, entry.action.value) == ("nightly-sync", "created")


def test_an_empty_file_imports_nothing(crm: CRM, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    report = import_records(crm, "customers", path)
    assert report.ok
    assert report.rows == 0
    assert report.committed


def test_progress_uses_tqdm_when_asked_and_is_quiet_without_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pycrm import FixedClock
    from pycrm.storage import MemoryStore

    rows = [{"kind": "person", "name": f"P{i}"} for i in range(3)]
    seen: list[int | None] = []

    class Bar:
        def __init__(self, items: Iterator[Any], *, total: int | None, **options: Any) -> None:
            self.items = items
            seen.append(total)

        def __iter__(self) -> Iterator[Any]:
            return iter(self.items)

    fake = type(sys)("tqdm.auto")
    fake.tqdm = Bar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    crm = CRM(MemoryStore(), clock=FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert import_records(crm, "customers", rows).created == 3
    assert seen == [], "no bar unless asked"
    assert import_records(crm, "customers", rows, progress=True).created == 3
    assert seen == [None]
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # not installed
    assert import_records(crm, "customers", rows, progress=True).created == 3
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("opened", ["path", "binary"])
def test_a_spreadsheet_byte_order_mark_is_not_part_of_the_first_column(
    tmp_path: Path, opened: str
) -> None:
    from pycrm import FixedClock
    from pycrm.storage import MemoryStore

    path = tmp_path / "excel.csv"
    path.write_bytes("kind,name\r\nperson,李娜\r\n".encode("utf-8-sig"))
    crm = CRM(MemoryStore(), clock=FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    if opened == "path":
        report = import_records(crm, "customers", path)
    else:
        with path.open("rb") as stream:
            report = import_records(crm, "customers", stream)
    assert report.created == 1
    assert [c.name for c in customers(crm)] == ["李娜"]
