"""A channel that writes notifications to the ``pycrm.notify`` logger.

Logs are copied, shipped and kept far from the CRM's access rules, so this channel never
sees personal data: templates render masked values for it, and it masks the recipient's
address itself, which no template renders.
"""

from __future__ import annotations

import logging
import re

from pycrm.domain.personal import mask_email, mask_phone
from pycrm.errors import ValidationError
from pycrm.notify.channel import Notification, check_channel_name, check_notification

LOGGER_NAME = "pycrm.notify"

_PHONE_LIKE = re.compile(r"\+?[\d\s\-()]{7,}")


def mask_recipient(recipient: str) -> str:
    """An e-mail address or phone number masked (``z***@example.com``, ``138****5678``);
    other recipients (a rep's name, a group) unchanged."""
    if "@" in recipient:
        return mask_email(recipient) or ""
    if _PHONE_LIKE.fullmatch(recipient):
        return mask_phone(recipient) or ""
    return recipient


class LogChannel:
    """Logs each notification at ``level`` (default ``INFO``) on ``logger`` (default
    ``pycrm.notify``): key, channel, masked recipient, subject and body."""

    personal_data = False
    """Never: a log is no place for personal data."""

    def __init__(
        self,
        name: str = "log",
        *,
        logger: logging.Logger | None = None,
        level: int = logging.INFO,
    ) -> None:
        if logger is not None and not isinstance(logger, logging.Logger):
            raise ValidationError("logger", f"expected a logging.Logger, got {type(logger)}")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValidationError("level", f"expected a logging level, got {type(level)}")
        self._name = check_channel_name(name)
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self.level = level

    @property
    def name(self) -> str:
        return self._name

    def send(self, notification: Notification) -> None:
        check_notification(notification)
        self.logger.log(
            self.level,
            "notification %s via %s to %s: %s\n%s",
            notification.key,
            self._name,
            mask_recipient(notification.recipient),
            notification.subject,
            notification.body,
        )

    def __repr__(self) -> str:
        return f"LogChannel({self._name!r}, logger={self.logger.name!r})"
