"""A closed CRM refuses work: nothing reopens the connections its close() released."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from pycrm import CRM, ConfigurationError, Customer

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
