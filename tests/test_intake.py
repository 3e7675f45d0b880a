"""Intake channels: web forms and CSV rows (and plugins' channels) become a customer, an
interaction and, for leads, an assigned deal, on every backend; bad payloads change nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    FORM_FIELDS,
    AssignmentRules,
    Column,
    CsvRowChannel,
    Customer,
    FixedClock,
    IdentityConflict,
    Inbound,
    IntakeChannel,
    InteractionChannel,
    Lead,
    PluginError,
    Priority,
    Rep,
    ValidationError,
    WebFormChannel,
    hookimpl,
)
from pycrm.io import parse_decimal

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
FORMULA = "=cmd|' /C calc'!A0"
SQL = "Robert'); DROP TABLE crm_customers;--"


def form(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "Li Lei", "phone": "138 1234 5678"}
    values.update(fields)
    return values


def rules() -> AssignmentRules:
    return AssignmentRules(strategy="round_robin", reps=[Rep(name="alice"), Rep(name="bob")])


def counts(crm: CRM) -> tuple[int, int, int, int]:
    with crm.session() as s:
        return (
            s.customers.count(),
            s.contacts.count(),
            s.interactions.count(),
            s.opportunities.count(),
        )


# -- applying a payload ------------------------------------------------------------------------


def test_a_web_form_from_a_stranger_makes_a_prospect_and_logs_the_interaction(crm: CRM) -> None:
    with crm.session(actor="site") as s:
        result = s.intake(
            "web_form", form(email="li.lei@Example.com", message="Please call me", needs=["CNC"])
        )
    assert not result.matched
    assert result.opportunity is None
    assert not result.is_lead
    with crm.session() as s:
        customer = s.customers.get(result.customer.id)
        (interaction,) = s.interactions.list(customer_id=customer.id).items
    assert customer.name == "Li Lei"
    assert customer.source_channel == "web_form"
    assert customer.captured_at == START
    assert customer.email == "li.lei@example.com"
    assert interaction.channel is InteractionChannel.ONLINE
    assert interaction.summary == "Please call me"
    assert interaction.needs == ("CNC",)
    assert interaction.occurred_at == START
    assert interaction.recorded_by == "site"


def test_a_known_customer_is_matched_not_duplicated(crm: CRM) -> None:
    with crm.session() as s:
        known = s.customers.add(Customer.person("Li Lei", email="li.lei@example.com"))
    with crm.session() as s:
        result = s.intake("web_form", {"name": "L. Lei", "email": "li.lei@example.com"})
    assert result.matched
    assert result.customer.id == known.id
    assert counts(crm) == (1, 0, 1, 0)


def test_a_lead_opens_a_graded_deal_assigned_by_the_rules(crm: CRM) -> None:
    payload = form(company="Acme Tools", need="20 CNC machines", budget="2000000", tags=["expo"])
    with crm.session() as s:
        first = s.intake("web_form", payload, rules=rules())
        second = s.intake("web_form", form(phone="139 0000 0000", need="1 lathe"), rules=rules())
    assert first.opportunity is not None
    assert second.opportunity is not None
    assert first.opportunity.owner == "alice"
    assert second.opportunity.owner == "bob"
    assert first.opportunity.grade is Priority.HIGH
    assert first.opportunity.title == "20 CNC machines"
    assert first.opportunity.amount.amount == Decimal(2_000_000)
    assert first.opportunity.source_channel == "web_form"
    assert first.customer.is_company
    assert first.customer.tags == frozenset({"expo"})
    assert first.interaction.summary == "Enquiry through web_form: 20 CNC machines"
    with crm.session() as s:
        assert s.opportunities.get(first.opportunity.id).owner == "alice"
    assert counts(crm) == (2, 1, 2, 2)


def test_an_explicit_lead_flag_wins_and_a_budget_needs_a_lead(crm: CRM) -> None:
    with crm.session() as s:
        assert s.intake("web_form", form(lead=True)).opportunity is not None
        assert (
            s.intake("web_form", form(phone="13900000000", need="x", lead="no")).opportunity is None
        )
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.intake("web_form", form(phone="13700000000", budget=10, lead=False))
    assert refused.value.field == "budget"


def test_the_pycrm_assign_hook_picks_the_rep_of_an_intake_lead() -> None:
    class KeyAccounts:
        @hookimpl
        def pycrm_assign(self, lead: Lead | None) -> str | None:
            return "key-desk" if lead is not None and "vip" in lead.tags else None

    crm = CRM.memory(plugins=[KeyAccounts()], clock=FixedClock(START))
    with crm.session() as s:
        result = s.intake("web_form", form(need="x", tags="vip"), rules=rules())
    assert result.opportunity is not None
    assert result.opportunity.owner == "key-desk"


def test_identifiers_naming_two_customers_are_a_conflict_and_write_nothing(crm: CRM) -> None:
    with crm.session() as s:
        by_phone = s.customers.add(Customer.person("A", phone="13812345678"))
        by_email = s.customers.add(Customer.person("B", email="b@example.com"))
    before = counts(crm)
    with pytest.raises(IdentityConflict) as conflict, crm.session() as s:
        s.intake("web_form", form(email="b@example.com", need="x"), rules=rules())
    assert dict(conflict.value.conflicts) == {"phone": (by_phone.id,), "email": (by_email.id,)}
    assert by_phone.id in str(conflict.value)
    assert counts(crm) == before


def test_a_failure_after_the_customer_was_added_leaves_the_store_as_it_was() -> None:
    class BadAssignee:
        @hookimpl
        def pycrm_assign(self) -> str:
            return " "  # not a usable rep name: refused once the prospect is already added

    crm = CRM.memory(plugins=[BadAssignee()], clock=FixedClock(START))
    with pytest.raises(ValidationError), crm.session() as s:
        s.intake("web_form", form(need="x"))
    assert counts(crm) == (0, 0, 0, 0)


# -- mapping and field names --------------------------------------------------------------------


def test_a_mapping_reads_a_site_s_own_field_names() -> None:
    channel = WebFormChannel(
        "trial_signup",
        mapping={"full_name": "name", "tel": "phone", "csrf": None, "amount": "budget"},
        medium="messaging",
    )
    inbound = channel.read(
        {"full_name": "Li Lei", "tel": "138 1234 5678", "csrf": "x", "amount": 1500.5},
        received_at=START,
    )
    assert inbound.enquiry.name == "Li Lei"
    assert inbound.enquiry.phone == "13812345678"
    assert inbound.enquiry.channel == "trial_signup"
    assert inbound.enquiry.budget is not None
    assert inbound.enquiry.budget.amount == Decimal("1500.5")
    assert inbound.medium is InteractionChannel.MESSAGING
    assert inbound.is_lead
    with pytest.raises(ValidationError) as refused:
        channel.read({"full_name": "Li Lei", "tel": "call me"}, received_at=START)
    assert refused.value.field == "tel"  # named as the site spells it


def test_a_column_reader_in_the_mapping_reads_local_formats() -> None:
    channel = CsvRowChannel(
        mapping={"Budget": Column("budget", parse_decimal(decimal_point=",", thousands="."))}
    )
    inbound = channel.read(
        {"name": "Li", "phone": "13812345678", "Budget": "1.234,5"}, received_at=START
    )
    assert inbound.enquiry.budget is not None
    assert inbound.enquiry.budget.amount == Decimal("1234.5")


def test_a_session_takes_a_channel_object_as_well_as_a_name(crm: CRM) -> None:
    channel = WebFormChannel("landing", mapping={"tel": "phone"})
    with crm.session() as s:
        result = s.intake(channel, {"name": "Li", "tel": "13812345678"})
    assert result.channel == "landing"
    assert result.customer.source_channel == "landing"


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ({"tel": "telephone"}, "not one of the form fields"),
        ({"tel": "phone", "mobile": "phone"}, "both fill 'phone'"),
        ({1: "phone"}, "names are text"),
        (["phone"], "expected a dict"),
    ],
)
def test_a_bad_mapping_is_refused_when_the_channel_is_made(mapping: Any, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as refused:
        WebFormChannel(mapping=mapping)
    assert refused.value.field == "mapping"


def test_unknown_fields_are_refused_by_name_unless_ignored() -> None:
    payload = form(utm_source="ads")
    with pytest.raises(ValidationError, match="map it to one") as refused:
        WebFormChannel().read(payload, received_at=START)
    assert refused.value.field == "utm_source"
    inbound = WebFormChannel(ignore_unknown=True).read(payload, received_at=START)
    assert inbound.enquiry.name == "Li Lei"


def test_two_names_for_one_field_are_refused() -> None:
    with pytest.raises(ValidationError, match="fills 'phone'") as refused:
        WebFormChannel(mapping={"tel": "phone"}).read(form(tel="13800000000"), received_at=START)
    assert refused.value.field in {"tel", "phone"}


def test_submitted_at_and_json_text_payloads() -> None:
    earlier = START - timedelta(hours=2)
    payload = json.dumps(form(submitted_at=earlier.isoformat(), lead=True)).encode()
    inbound = WebFormChannel().read(payload, received_at=START)
    assert inbound.received_at == earlier
    assert inbound.is_lead
    naive = CsvRowChannel(tz=timezone(timedelta(hours=8))).read(
        {"name": "Li", "email": "li@example.com", "submitted_at": "2026-03-02 17:00"},
        received_at=START,
    )
    assert naive.received_at == datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


# -- hostile payloads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (form(name=123), "name"),
        (form(name=["Li"]), "name"),
        (form(name="x" * 1_000_000), "name"),
        (form(message="y" * 100_000), "message"),
        (form(phone={"a": 1}), "phone"),
        (form(phone="1; DROP TABLE x"), "phone"),
        (form(tags={"a": 1}), "tags"),
        (form(tags=[1, 2]), "tags"),
        (form(needs=[["deep"]]), "needs"),
        (form(lead="maybe"), "lead"),
        (form(lead=1), "lead"),
        (form(budget=True), "budget"),
        (form(budget="lots"), "budget"),
        (form(budget=-5), "budget"),
        (form(budget=10, currency="dollars"), "currency"),
        (form(currency="USD"), "currency"),
        (form(submitted_at="yesterday"), "submitted_at"),
        (form(submitted_at="2026-03-02T09:00"), "submitted_at"),
        (form(medium="pigeon"), "medium"),
        (form(message="nul\x00inside"), "message"),
        (form(company="lone \ud800 surrogate"), "company"),
        ({"phone": "13812345678"}, "name"),
        ({"name": "Nobody"}, "phone"),
        (["not", "an", "object"], "payload"),
        ("[1, 2]", "payload"),
        ("{not json", "payload"),
        ("[" * 100_000, "payload"),
        ('{"name": "Li", "phone": "13812345678", "budget": NaN}', "budget"),
        (b"\xff\xfe", "payload"),
        ({1: "x"}, "payload"),
    ],
)
def test_hostile_values_are_refused_naming_the_field_and_change_nothing(
    crm: CRM, payload: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.intake("web_form", payload, rules=rules())
    assert refused.value.field == field
    assert counts(crm) == (0, 0, 0, 0)


def test_sql_and_formula_text_is_stored_verbatim(crm: CRM) -> None:
    with crm.session() as s:
        result = s.intake("web_form", form(name=SQL, company=FORMULA, message=FORMULA, need=SQL))
    with crm.session() as s:
        customer = s.customers.get(result.customer.id)
        (contact,) = s.contacts.list(customer_id=customer.id).items
        (interaction,) = s.interactions.list(customer_id=customer.id).items
        assert result.opportunity is not None
        opportunity = s.opportunities.get(result.opportunity.id)
    assert customer.name == FORMULA
    assert contact.name == SQL
    assert interaction.summary == FORMULA
    assert opportunity.title == SQL


@given(
    st.dictionaries(
        st.one_of(st.sampled_from(sorted(FORM_FIELDS)), st.text(max_size=8)),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=6,
        ),
        max_size=8,
    )
)
def test_any_json_object_is_read_or_refused_with_a_validation_error(
    payload: dict[str, Any],
) -> None:
    for channel in (WebFormChannel(), WebFormChannel(ignore_unknown=True)):
        outcome: Inbound | ValidationError
        try:
            outcome = channel.read(payload, received_at=START)
        except ValidationError as exc:
            outcome = exc
        if isinstance(outcome, ValidationError):
            assert outcome.field.strip()
            assert outcome.problem
        else:
            assert isinstance(outcome, Inbound)


# -- plugin channels ----------------------------------------------------------------------------


class ChatChannel:
    """A chat message ``"<member id>: <text>"``, as a messaging plugin might read it."""

    name = "chat"

    def read(self, payload: Any, *, received_at: datetime) -> Inbound:
        if not isinstance(payload, str) or ": " not in payload:
            raise ValidationError("payload", "expected '<member id>: <text>'")
        member, text = payload.split(": ", 1)
        return Inbound(
            enquiry=Lead(channel=self.name, name=member, member_id=member, received_at=received_at),
            message=text,
            medium="messaging",
        )


class ChatPlugin:
    @hookimpl
    def pycrm_intake_channels(self, register: Callable[..., None]) -> None:
        register(ChatChannel())


def test_a_plugin_adds_an_intake_channel_through_the_hook() -> None:
    crm = CRM.memory(plugins=[ChatPlugin()], clock=FixedClock(START))
    assert isinstance(crm.intake_channels["chat"], IntakeChannel)
    assert {"web_form", "csv", "chat"} <= set(crm.intake_channels)
    with crm.session() as s:
        first = s.intake("chat", "M-1001: is my order shipped?")
        again = s.intake("chat", "M-1001: thanks")
    assert not first.matched
    assert again.matched
    assert first.customer.member_id == "M-1001"
    assert again.interaction.channel is InteractionChannel.MESSAGING
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.intake("chat", "no separator")
    assert refused.value.field == "payload"


def test_channel_names_are_unique_unless_replaced() -> None:
    class Twice:
        @hookimpl
        def pycrm_intake_channels(self, register: Callable[..., None]) -> None:
            register(WebFormChannel())

    with pytest.raises(PluginError, match="already registered"):
        CRM.memory(plugins=[Twice()])

    class Replace:
        @hookimpl
        def pycrm_intake_channels(self, register: Callable[..., None]) -> None:
            register(WebFormChannel(ignore_unknown=True), replace=True)

    replaced = CRM.memory(plugins=[Replace()])
    assert replaced.intake_channels["web_form"].ignore_unknown  # type: ignore[attr-defined]

    class NotAChannel:
        @hookimpl
        def pycrm_intake_channels(self, register: Callable[..., None]) -> None:
            register(object())

    with pytest.raises(PluginError, match="read"):
        CRM.memory(plugins=[NotAChannel()])


def test_an_unknown_channel_name_is_refused() -> None:
    crm = CRM.memory()
    with (
        pytest.raises(ValidationError, match="registered: csv, web_form") as refused,
        crm.session() as s,
    ):
        s.intake("fax", {})
    assert refused.value.field == "channel"


# -- CSV files ----------------------------------------------------------------------------------


def test_a_csv_file_goes_through_the_channel_row_by_row_with_a_report(
    crm: CRM, tmp_path: Path
) -> None:
    path = tmp_path / "expo.csv"
    path.write_text(
        "Name,Company,Mobile,E-mail,Need,Budget,Notes\n"
        "Li Lei,Acme Tools,138 1234 5678,,20 CNC machines,2000000,met at booth 4\n"
        "Han Meimei,,,not-an-email,,,\n"
        f'Wang Fang,"{FORMULA}",139 0000 0000,,,,"{FORMULA}"\n'
        "Li Lei again,,13812345678,,,,second visit\n",
        encoding="utf-8",
    )
    channel = CsvRowChannel(
        "expo_2026",
        mapping={
            "Name": "name",
            "Company": "company",
            "Mobile": "phone",
            "E-mail": "email",
            "Need": "need",
            "Budget": "budget",
            "Notes": "message",
        },
        medium="visit",
    )
    report = crm.intake_csv(path, channel=channel, rules=rules())
    assert (report.rows, report.taken, report.new_customers, report.opportunities) == (4, 3, 2, 1)
    (error,) = report.errors
    assert (error.row, error.field, error.column) == (2, "email", "E-mail")
    assert error.value is not None
    assert "not-an-email" not in error.value
    assert report.to_csv().splitlines()[0] == "row,column,field,problem,value"
    assert "expo_2026: 4 rows read; 3 taken in" in report.summary()
    with crm.session() as s:
        stored = {c.name for c in s.customers.stream()}
        visits = s.interactions.count(channel="visit")
    assert stored == {"Acme Tools", FORMULA}  # stored verbatim, never executed
    assert visits == 3


def test_a_csv_header_the_channel_cannot_read_is_refused_before_any_row(crm: CRM) -> None:
    source = io.StringIO("name,phone,fax\nLi,13812345678,1\n")
    with pytest.raises(ValidationError) as refused:
        crm.intake_csv(source)
    assert refused.value.field == "fax"
    assert counts(crm) == (0, 0, 0, 0)


def test_a_csv_row_conflict_and_a_malformed_row_are_reported_per_row() -> None:
    crm = CRM.memory(clock=FixedClock(START))
    with crm.session() as s:
        s.customers.add(Customer.person("A", phone="13812345678"))
        s.customers.add(Customer.person("B", email="b@example.com"))
    source = io.StringIO(
        "name,phone,email\n"
        "C,13812345678,b@example.com\n"
        "D,13900000000\n"
        "E,13700000000,e@example.com\n"
    )
    report = crm.intake_csv(source)
    assert [(e.row, e.field) for e in report.errors] == [(1, "customer"), (2, "(row)")]
    assert report.taken == 1
    assert not report.ok
    assert len(report) == 2
