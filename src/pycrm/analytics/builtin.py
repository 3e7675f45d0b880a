"""The built-in reports and metrics, registered through the hook a plugin uses.

``tryfirst``: they are registered before any plugin's, so a plugin replaces one by
registering under the same name with ``replace=True``. Each module listed here names its
reports as ``REPORTS`` and its metrics as ``METRICS``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pycrm.analytics import customers, diagnosis, flow, sales, service
from pycrm.plugins import hookimpl

REPORT_MODULES: tuple[ModuleType, ...] = (diagnosis, sales, flow, service, customers)


@hookimpl(tryfirst=True)
def pycrm_reports(register: Any) -> None:
    for module in REPORT_MODULES:
        for item in (*getattr(module, "REPORTS", ()), *getattr(module, "METRICS", ())):
            register(item)
