"""The built-in channels and templates, registered through the hooks a plugin uses.

``tryfirst``: they are registered before any plugin's, so a plugin (or the host's
``channels=[...]``) replaces one by registering under the same name with ``replace=True``.
"""

from __future__ import annotations

from typing import Any

from pycrm.notify.log import LogChannel
from pycrm.notify.memory import MemoryChannel
from pycrm.notify.messages import builtin_templates
from pycrm.plugins import hookimpl

MEMORY_KEEPS = 1000
"""How many notifications the built-in ``memory`` channel keeps (the latest)."""


@hookimpl(tryfirst=True)
def pycrm_notification_channels(register: Any) -> None:
    register(MemoryChannel("memory", maxlen=MEMORY_KEEPS))
    register(LogChannel("log"))


@hookimpl(tryfirst=True)
def pycrm_message_templates(register: Any) -> None:
    for template in builtin_templates():
        register(template)
