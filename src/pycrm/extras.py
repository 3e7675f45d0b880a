"""Optional dependencies, imported only by the features that need them.

A host that never asks for a DataFrame should not have to install pandas; one that does gets
a :class:`~pycrm.ConfigurationError` naming the extra to install instead of an
``ImportError`` from deep inside.
"""

from __future__ import annotations

from typing import Any

from pycrm.errors import ConfigurationError


def require_pandas(feature: str) -> Any:
    """The ``pandas`` module, or a ``ConfigurationError`` saying ``feature`` needs it."""
    try:
        import pandas
    except ImportError:
        raise ConfigurationError(
            f"{feature} needs pandas: pip install 'pycrm-core[pandas]'"
        ) from None
    return pandas
