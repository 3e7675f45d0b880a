"""Automation: the tick that turns what is due into tasks and notifications.

A host calls :meth:`pycrm.CRM.tick` from its scheduler; each enabled rule reads what is due,
a page at a time, and answers with tasks and notices, each under a key that makes it happen
once. The built-in rules live in :mod:`pycrm.automation.rules`; plugins add their own through
``pycrm_automation_rules``.
"""

from pycrm.automation.effects import Notice, Staff
from pycrm.automation.registry import Automation
from pycrm.automation.report import RuleReport, TickReport
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext

__all__ = [
    "Automation",
    "AutomationRule",
    "Effect",
    "Notice",
    "RuleBatch",
    "RuleReport",
    "Staff",
    "TickContext",
    "TickReport",
]
