"""The transactional outbox: notifications stored with the change that caused them, then
delivered by :func:`dispatch` with retries, backoff and dead letters."""

from pycrm.outbox.dispatcher import DispatchReport, dispatch
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.outbox.policy import DeliveryPolicy

__all__ = ["DeliveryPolicy", "DispatchReport", "OutboxMessage", "OutboxStatus", "dispatch"]
