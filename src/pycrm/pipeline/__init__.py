"""Sales pipelines and other staged processes: the generic stage machine and its history,
the default sales pipeline and the opportunities moving through it."""

from pycrm.errors import GateRefused
from pycrm.pipeline.assignment import (
    AssignmentRules,
    AssignmentStrategy,
    Rep,
    RepAssignment,
    choose_rep,
)
from pycrm.pipeline.deadlines import is_overdue, is_stale, stage_deadline, stale_since
from pycrm.pipeline.default import default_pipeline
from pycrm.pipeline.forecast import (
    ExchangeRate,
    ExchangeRates,
    ForecastGroup,
    forecast_by,
    forecast_totals,
)
from pycrm.pipeline.history import StageEvent, StageState, StageVisit
from pycrm.pipeline.leads import DEFAULT_GRADING, Lead, LeadGrading, grade
from pycrm.pipeline.machine import (
    Guard,
    Handler,
    Stage,
    StageMachine,
    StageOutcome,
    Transition,
    from_any_open_stage,
)
from pycrm.pipeline.opportunity import (
    Opportunity,
    advance_opportunity,
    declared_deliverables,
    deliver,
    forecast,
    open_opportunity,
    set_manual_probability,
)
from pycrm.pipeline.run import advance, start
from pycrm.pipeline.scoring import (
    LeadFeatures,
    ScoreContribution,
    ScoredOpportunity,
    WinModel,
    WinScore,
    features_of,
    score_opportunity,
    train,
    train_from_history,
)

__all__ = [
    "DEFAULT_GRADING",
    "AssignmentRules",
    "AssignmentStrategy",
    "ExchangeRate",
    "ExchangeRates",
    "ForecastGroup",
    "GateRefused",
    "Guard",
    "Handler",
    "Lead",
    "LeadFeatures",
    "LeadGrading",
    "Opportunity",
    "Rep",
    "RepAssignment",
    "ScoreContribution",
    "ScoredOpportunity",
    "Stage",
    "StageEvent",
    "StageMachine",
    "StageOutcome",
    "StageState",
    "StageVisit",
    "Transition",
    "WinModel",
    "WinScore",
    "advance",
    "advance_opportunity",
    "choose_rep",
    "declared_deliverables",
    "default_pipeline",
    "deliver",
    "features_of",
    "forecast",
    "forecast_by",
    "forecast_totals",
    "from_any_open_stage",
    "grade",
    "is_overdue",
    "is_stale",
    "open_opportunity",
    "score_opportunity",
    "set_manual_probability",
    "stage_deadline",
    "stale_since",
    "start",
    "train",
    "train_from_history",
]
