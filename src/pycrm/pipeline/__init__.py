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
from pycrm.pipeline.escalation import Escalation, TeamSupervisor, escalation_for
from pycrm.pipeline.forecast import (
    ExchangeRate,
    ExchangeRates,
    ForecastGroup,
    StoredExchangeRate,
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
    review_deal,
    set_manual_probability,
)
from pycrm.pipeline.requests import (
    RequestStatus,
    ResourceRequest,
    answer_request,
    decline_request,
    overdue_requests,
    request_resource,
)
from pycrm.pipeline.review import DealReview, DealReviewed
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
    "DealReview",
    "DealReviewed",
    "Escalation",
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
    "RequestStatus",
    "ResourceRequest",
    "ScoreContribution",
    "ScoredOpportunity",
    "Stage",
    "StageEvent",
    "StageMachine",
    "StageOutcome",
    "StageState",
    "StageVisit",
    "StoredExchangeRate",
    "TeamSupervisor",
    "Transition",
    "WinModel",
    "WinScore",
    "advance",
    "advance_opportunity",
    "answer_request",
    "choose_rep",
    "declared_deliverables",
    "decline_request",
    "default_pipeline",
    "deliver",
    "escalation_for",
    "features_of",
    "forecast",
    "forecast_by",
    "forecast_totals",
    "from_any_open_stage",
    "grade",
    "is_overdue",
    "is_stale",
    "open_opportunity",
    "overdue_requests",
    "request_resource",
    "review_deal",
    "score_opportunity",
    "set_manual_probability",
    "stage_deadline",
    "stale_since",
    "start",
    "train",
    "train_from_history",
]
