"""Where a CRM's business calendars and SLA policies come from: built-ins, plugins, config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from pycrm import CRM, PluginError, ValidationError, hookimpl
from pycrm.service import (
    SlaPolicies,
    SlaPolicy,
    always_open,
    china_calendar,
    country_calendar,
    default_policies,
)


def test_builtin_calendars_and_default_policies() -> None:
    crm = CRM.memory()
    assert set(crm.calendars) == {"always_open", "china"}
    assert crm.calendar("china").works_on(date(2026, 2, 14))  # a make-up Saturday
    assert not crm.calendar("china").works_on(date(2026, 2, 16))  # Spring Festival
    assert crm.calendar("always_open").works_on(date(2026, 2, 16))
    assert crm.sla_policies == default_policies()
    normal = crm.sla_policies.lookup("inquiry", "normal")
    assert (normal.respond_within, normal.resolve_within) == (
        timedelta(hours=2),
        timedelta(hours=24),
    )
    assert crm.sla_policies.lookup("fault", "urgent").respond_within == timedelta(hours=1)


def test_plugins_add_and_replace_calendars() -> None:
    berlin = country_calendar("DE", "Europe/Berlin", subdiv="BE")
    shanghai_office = china_calendar(week={d: [("08:30", "17:30")] for d in range(6)})

    class Calendars:
        @hookimpl
        def pycrm_calendars(self, register: Callable[..., None]) -> None:
            register("berlin", berlin)
            register("china", shanghai_office, replace=True)

    crm = CRM.memory(plugins=[Calendars()])
    assert crm.calendar("berlin") is berlin
    assert crm.calendar("china") is shanghai_office
    assert set(crm.calendars) == {"always_open", "china", "berlin"}


@pytest.mark.parametrize(
    ("name", "calendar", "message"),
    [
        ("china", always_open(), "replace=True"),
        ("24/7", always_open(), "key"),
        ("office", "Mon-Fri 9-18", "BusinessCalendar"),
    ],
)
def test_bad_calendar_registrations_are_plugin_errors(
    name: str, calendar: object, message: str
) -> None:
    class Clash:
        @hookimpl
        def pycrm_calendars(self, register: Callable[..., None]) -> None:
            register(name, calendar)

    with pytest.raises(PluginError, match=message):
        CRM.memory(plugins=[Clash()])


def test_unknown_calendar_names_the_registered_ones() -> None:
    with pytest.raises(ValidationError, match="always_open, china") as raised:
        CRM.memory().calendar("mars")
    assert raised.value.field == "calendar"


def test_sla_policies_are_configured_per_crm() -> None:
    hour = timedelta(hours=1)
    policies = SlaPolicies(
        (SlaPolicy(respond_within=4 * hour, resolve_within=48 * hour, calendar="always_open"),)
    )
    crm = CRM.memory(sla_policies=policies)
    assert crm.sla_policies is policies
    crm.sla_policies = default_policies("always_open")
    assert crm.sla_policies.calendars == {"always_open"}
    with pytest.raises(ValidationError) as raised:
        crm.sla_policies = [policies]  # type: ignore[assignment]
    assert raised.value.field == "sla_policies"
