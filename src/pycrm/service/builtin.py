"""The built-in business calendars, registered through the hook a plugin uses.

``tryfirst``: they are registered before any plugin's, so a plugin replaces one by
registering a calendar of the same name with ``replace=True``.
"""

from __future__ import annotations

from typing import Any

from pycrm.plugins import hookimpl
from pycrm.service.calendar import always_open, china_calendar
from pycrm.service.policy import DEFAULT_CALENDAR

ALWAYS_OPEN = "always_open"
"""Name of the built-in calendar in which working time is wall time (UTC)."""


@hookimpl(tryfirst=True)
def pycrm_calendars(register: Any) -> None:
    register(ALWAYS_OPEN, always_open())
    register(DEFAULT_CALENDAR, china_calendar())
