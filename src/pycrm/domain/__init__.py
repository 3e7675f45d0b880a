"""The pure domain: attrs entities and value objects, no I/O and nothing of storage."""

from pycrm.domain.audit import AuditEntry
from pycrm.domain.contact import Contact
from pycrm.domain.customer import Customer, CustomerKind, Gender, LifecycleStatus, Priority
from pycrm.domain.entity import Entity
from pycrm.domain.events import ChangeKind, DomainEvent
from pycrm.domain.ids import new_id
from pycrm.domain.interaction import Interaction, InteractionChannel
from pycrm.domain.money import Money
from pycrm.domain.order import PURCHASE_STATUSES, Order, OrderLine, OrderStatus
from pycrm.domain.task import Task, TaskStatus, cancel_task, complete_task

__all__ = [
    "PURCHASE_STATUSES",
    "AuditEntry",
    "ChangeKind",
    "Contact",
    "Customer",
    "CustomerKind",
    "DomainEvent",
    "Entity",
    "Gender",
    "Interaction",
    "InteractionChannel",
    "LifecycleStatus",
    "Money",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Priority",
    "Task",
    "TaskStatus",
    "cancel_task",
    "complete_task",
    "new_id",
]
