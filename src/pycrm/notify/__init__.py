"""Notification channels."""

from pycrm.notify.channel import Notification, NotificationChannel

__all__ = ["Notification", "NotificationChannel"]
