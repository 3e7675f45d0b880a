"""The built-in automation rules, registered through the hook a plugin uses.

``tryfirst``: they are registered before any plugin's, so a plugin replaces one by
registering a rule of the same name with ``replace=True``. Each module under
:mod:`pycrm.automation.rules` lists its rules, configured with their defaults, as ``RULES``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pycrm.automation.rules import activity, care, follow_ups, payments, pipeline, service
from pycrm.plugins import hookimpl

RULE_MODULES: tuple[ModuleType, ...] = (
    follow_ups,
    pipeline,
    service,
    payments,
    care,
    activity,
)


@hookimpl(tryfirst=True)
def pycrm_automation_rules(register: Any) -> None:
    for module in RULE_MODULES:
        for rule in module.RULES:
            register(rule)
