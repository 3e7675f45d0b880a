"""Sales pipelines and other staged processes: the generic stage machine and its history."""

from pycrm.errors import GateRefused
from pycrm.pipeline.history import StageEvent, StageState, StageVisit
from pycrm.pipeline.machine import (
    Guard,
    Handler,
    Stage,
    StageMachine,
    Transition,
    from_any_open_stage,
)
from pycrm.pipeline.run import advance, start

__all__ = [
    "GateRefused",
    "Guard",
    "Handler",
    "Stage",
    "StageEvent",
    "StageMachine",
    "StageState",
    "StageVisit",
    "Transition",
    "advance",
    "from_any_open_stage",
    "start",
]
