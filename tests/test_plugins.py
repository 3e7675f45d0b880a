"""Plugins: hooks, one manager per CRM, entry-point discovery, broken plugins reported."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pycrm
from pycrm import CRM, Customer, DomainEvent, Notification, PluginError, hookimpl
from pycrm.testing import RecordingChannel


class EventLog:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.started: list[CRM] = []
        self.stopped: list[CRM] = []

    @hookimpl
    def pycrm_startup(self, crm: CRM) -> None:
        self.started.append(crm)

    @hookimpl
    def pycrm_event(self, event: DomainEvent) -> None:
        self.names.append(event.name)

    @hookimpl
    def pycrm_shutdown(self, crm: CRM) -> None:
        self.stopped.append(crm)


def test_lifecycle_hooks_fire_once_per_crm() -> None:
    log = EventLog()
    crm = CRM.memory(plugins=[log])
    assert log.started == [crm]
    crm.close()
    crm.close()
    assert log.stopped == [crm]


def test_each_crm_has_its_own_plugins() -> None:
    log = EventLog()
    with_plugin = CRM.memory(plugins=[log])
    without = CRM.memory()
    with without.session() as s:
        s.customers.add(Customer.company("Elsewhere"))
    with with_plugin.session() as s:
        s.customers.add(Customer.company("Here"))
    assert log.names == ["customer.created"]
    assert with_plugin.plugins is not without.plugins


def test_a_failing_hook_does_not_stop_others_or_undo_the_commit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        @hookimpl
        def pycrm_event(self, event: DomainEvent) -> None:
            raise RuntimeError("plugin bug")

    log = EventLog()
    crm = CRM.memory(plugins=[log, Broken()])
    with caplog.at_level(logging.ERROR, logger="pycrm"), crm.session() as s:
        s.customers.add(Customer.company("Acme"))
    assert log.names == ["customer.created"]
    assert "plugin bug" in caplog.text
    with crm.session() as s:
        assert s.customers.count() == 1


def test_event_carries_entity_changes_and_customer_id() -> None:
    events: list[DomainEvent] = []

    class Collect:
        @hookimpl
        def pycrm_event(self, event: DomainEvent, crm: CRM) -> None:
            events.append(event)

    crm = CRM.memory(plugins=[Collect()])
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme"))
        s.customers.update(customer.evolve(owner="alice"))
        contact = s.contacts.add(pycrm.Contact(customer_id=customer.id, name="Li"))
    created, changed, contact_created = events
    assert created.entity == customer
    assert changed.changes == {"owner": (None, "alice")}
    assert changed.actor == "alice"
    assert contact_created.customer_id == customer.id
    assert contact_created.entity_id == contact.id


def test_channels_register_through_the_hook() -> None:
    email = RecordingChannel("email")

    class Channels:
        @hookimpl
        def pycrm_notification_channels(self, register: Any) -> None:
            register(email)

    crm = CRM.memory(plugins=[Channels()])
    assert crm.channels["email"] is email
    assert set(crm.channels) == {"memory", "log", "email"}  # the built-in ones first
    crm.channels["email"].send(
        Notification(channel="email", recipient="a@b.cn", subject="Hi", body="Hello", key="k1")
    )
    assert email.keys() == ["k1"]

    class Duplicate:
        @hookimpl
        def pycrm_notification_channels(self, register: Any) -> None:
            register(RecordingChannel("email"))

    with pytest.raises(PluginError, match="already registered"):
        CRM.memory(plugins=[Channels(), Duplicate()])


def test_recording_channel_can_fail_first() -> None:
    channel = RecordingChannel("sms", fail_times=2)
    message = Notification(channel="sms", recipient="138", subject="s", body="b", key="k")
    for _ in range(2):
        with pytest.raises(ConnectionError):
            channel.send(message)
    channel.send(message)
    assert (channel.attempts, channel.keys()) == (3, ["k"])


def _install_distribution(site: Path, name: str, module_source: str, entry: str) -> None:
    """Lay out an installed distribution (module + dist-info) the way pip would."""
    (site / f"{name}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[pycrm]\n{entry} = {name}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.startswith("pycrm_ep_")]:
        del sys.modules[module]


def test_entry_point_plugin_is_discovered_and_receives_events(site: Path) -> None:
    _install_distribution(
        site,
        "pycrm_ep_welcome",
        """
        import pycrm

        seen = []

        @pycrm.hookimpl
        def pycrm_event(event):
            if event.name == "customer.created":
                seen.append(event.entity.name)
        """,
        "welcome",
    )
    _install_distribution(
        site, "pycrm_ep_broken", "raise ImportError('missing dependency')", "broken"
    )

    crm = CRM.memory(load_entrypoints=True)
    assert [(e.name, e.error) for e in crm.plugin_errors] == [
        ("broken", "ImportError: missing dependency")
    ]
    with crm.session() as s:
        s.customers.add(Customer.company("Acme"))
    import pycrm_ep_welcome  # type: ignore[import-not-found]

    assert pycrm_ep_welcome.seen == ["Acme"]
    assert CRM.memory().plugins.get_plugin("welcome") is None  # only when asked


def test_misspelt_hook_is_an_error_not_silence() -> None:
    class Typo:
        @hookimpl
        def pycrm_evnt(self, event: DomainEvent) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError, match="pycrm_evnt"):
        CRM.memory(plugins=[Typo()])


def test_entry_point_with_unknown_hook_is_reported_and_skipped(site: Path) -> None:
    _install_distribution(
        site,
        "pycrm_ep_typo",
        """
        import pycrm

        @pycrm.hookimpl
        def pycrm_evnt(event):
            pass
        """,
        "typo",
    )
    crm = CRM.memory(load_entrypoints=True)
    assert [e.name for e in crm.plugin_errors] == ["typo"]
    assert "pycrm_evnt" in crm.plugin_errors[0].error
    assert crm.plugins.get_plugin("typo") is None
