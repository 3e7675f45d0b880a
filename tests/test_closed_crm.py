"""A closed CRM refuses work: nothing reopens the connections its close() released."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from pycrm import CRM, ConfigurationError, Customer, hookimpl
from pycrm.storage import MemoryStore

CALLS: dict[str, Callable[[CRM], Any]] = {
    "session": lambda crm: crm.session(),
    "dispatch": lambda crm: crm.dispatch(),
    "tick": lambda crm: crm.tick(),
    "reencrypt": lambda crm: crm.reencrypt(),
    "intake_csv": lambda crm: crm.intake_csv(io.StringIO("name,phone\nLi Na,13812345678\n")),
    "rfm": lambda crm: crm.rfm(),
    "purge_outbox": lambda crm: crm.purge_outbox(),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_closed_crm_refuses_work(crm: CRM, call: str) -> None:
    with crm.session() as s:
        s.customers.add(Customer.person("Li Na"))
    crm.close()
    with pytest.raises(ConfigurationError, match="closed"):
        CALLS[call](crm)


def test_closed_crm_refuses_to_migrate(crm: CRM) -> None:
    crm.close()
    with pytest.raises(ConfigurationError, match="closed"):
        crm.upgrade()


class Flusher:
    """A plugin holding notes until the CRM closes, then storing them in a session."""

    def __init__(self) -> None:
        self.pending = ["Held back until shutdown"]
        self.calls = 0

    @hookimpl
    def pycrm_shutdown(self, crm: CRM) -> None:
        self.calls += 1
        with crm.session(actor="flusher") as s:
            for name in self.pending:
                s.customers.add(Customer.person(name))
        crm.close()  # returns at once: the CRM is closing already


def test_a_plugin_can_flush_in_shutdown_then_the_crm_is_closed() -> None:
    store = MemoryStore()
    flusher = Flusher()
    crm = CRM(store, plugins=[flusher])
    crm.close()
    crm.close()
    assert flusher.calls == 1
    with pytest.raises(ConfigurationError, match="closed"):
        crm.session()
    with CRM(store).session() as s:
        assert [c.name for c in s.customers.stream()] == ["Held back until shutdown"]
