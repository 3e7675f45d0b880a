"""pycrm: an embeddable CRM library.

Everything public is importable from here; submodules are implementation details unless the
documentation names them (``pycrm.testing``, ``pycrm.storage``).
"""

from pycrm.clock import Clock, FixedClock, SystemClock
from pycrm.crm import CRM
from pycrm.domain import (
    AuditEntry,
    ChangeKind,
    Contact,
    Customer,
    CustomerKind,
    DomainEvent,
    Entity,
    Gender,
    Interaction,
    InteractionChannel,
    LifecycleStatus,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Priority,
    Task,
    TaskStatus,
    cancel_task,
    complete_task,
)
from pycrm.domain.personal import mask_email, mask_phone
from pycrm.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    GateRefused,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    PluginError,
    PycrmError,
    SessionClosed,
    ValidationError,
)
from pycrm.notify import Notification, NotificationChannel
from pycrm.paging import Page
from pycrm.pipeline import Guard as StageGuard
from pycrm.pipeline import Handler as StageHandler
from pycrm.pipeline import (
    Opportunity,
    Stage,
    StageEvent,
    StageMachine,
    StageState,
    StageVisit,
    Transition,
    advance_opportunity,
    default_pipeline,
    deliver,
    forecast,
    from_any_open_stage,
    open_opportunity,
    set_manual_probability,
)
from pycrm.pipeline import advance as advance_stage
from pycrm.pipeline import start as start_stage
from pycrm.plugins import ENTRY_POINT_GROUP, PluginLoadError, hookimpl, hookspec
from pycrm.session import AuditLog, Repository, Session
from pycrm.storage import MemoryStore, Store
from pycrm.storage.sqlalchemy import SqlStore, Tables, define_tables

__version__ = "0.1.0"

__all__ = [
    "CRM",
    "ENTRY_POINT_GROUP",
    "AlreadyExists",
    "AuditEntry",
    "AuditLog",
    "ChangeKind",
    "Clock",
    "ConcurrencyConflict",
    "ConfigurationError",
    "Contact",
    "Customer",
    "CustomerKind",
    "DomainEvent",
    "Entity",
    "FixedClock",
    "GateRefused",
    "Gender",
    "IllegalTransition",
    "Interaction",
    "InteractionChannel",
    "LifecycleStatus",
    "MemoryStore",
    "Money",
    "NotFound",
    "Notification",
    "NotificationChannel",
    "Opportunity",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Page",
    "PermissionDenied",
    "PluginError",
    "PluginLoadError",
    "Priority",
    "PycrmError",
    "Repository",
    "Session",
    "SessionClosed",
    "SqlStore",
    "Stage",
    "StageEvent",
    "StageGuard",
    "StageHandler",
    "StageMachine",
    "StageState",
    "StageVisit",
    "Store",
    "SystemClock",
    "Tables",
    "Task",
    "TaskStatus",
    "Transition",
    "ValidationError",
    "__version__",
    "advance_opportunity",
    "advance_stage",
    "cancel_task",
    "complete_task",
    "default_pipeline",
    "define_tables",
    "deliver",
    "forecast",
    "from_any_open_stage",
    "hookimpl",
    "hookspec",
    "mask_email",
    "mask_phone",
    "open_opportunity",
    "set_manual_probability",
    "start_stage",
]
