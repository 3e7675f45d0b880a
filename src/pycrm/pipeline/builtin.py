"""The built-in pipelines, registered through the same hook a plugin uses."""

from __future__ import annotations

from collections.abc import Callable

from pycrm.pipeline.default import default_pipeline
from pycrm.pipeline.machine import StageMachine
from pycrm.plugins import hookimpl


@hookimpl
def pycrm_pipelines(register: Callable[[StageMachine], None]) -> None:
    register(default_pipeline())
