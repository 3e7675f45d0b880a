"""The built-in grade schemes, registered through the hook a plugin uses.

``tryfirst``: they are registered before any plugin's, so a plugin replaces one by
registering a scheme of the same name with ``replace=True``.
"""

from __future__ import annotations

from typing import Any

from pycrm.grading.defaults import builtin_schemes
from pycrm.plugins import hookimpl


@hookimpl(tryfirst=True)
def pycrm_grading_schemes(register: Any) -> None:
    for scheme in builtin_schemes():
        register(scheme)
