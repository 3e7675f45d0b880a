"""The built-in intake channels, registered through the same hook plugins use, first, so
a plugin can replace them."""

from __future__ import annotations

from collections.abc import Callable

from pycrm.intake.forms import CsvRowChannel, WebFormChannel
from pycrm.plugins import hookimpl


@hookimpl(tryfirst=True)
def pycrm_intake_channels(register: Callable[..., None]) -> None:
    register(WebFormChannel())
    register(CsvRowChannel())
