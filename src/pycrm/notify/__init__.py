"""Notification channels (memory, log, SMTP, webhook) and the message templates rendered
for them."""

from pycrm.notify.channel import Notification, NotificationChannel, sees_personal_data
from pycrm.notify.log import LogChannel
from pycrm.notify.memory import MemoryChannel
from pycrm.notify.messages import builtin_templates
from pycrm.notify.smtp import SmtpChannel, SmtpSecurity
from pycrm.notify.templates import (
    DEFAULT_LOCALE,
    FALLBACK_LOCALE,
    MessageTemplate,
    MessageTemplates,
    RenderedMessage,
    TemplateText,
)
from pycrm.notify.webhook import (
    WEBHOOK_SIGNATURE_HEADER,
    WebhookChannel,
    sign_webhook,
    verify_webhook_signature,
)

__all__ = [
    "DEFAULT_LOCALE",
    "FALLBACK_LOCALE",
    "WEBHOOK_SIGNATURE_HEADER",
    "LogChannel",
    "MemoryChannel",
    "MessageTemplate",
    "MessageTemplates",
    "Notification",
    "NotificationChannel",
    "RenderedMessage",
    "SmtpChannel",
    "SmtpSecurity",
    "TemplateText",
    "WebhookChannel",
    "builtin_templates",
    "sees_personal_data",
    "sign_webhook",
    "verify_webhook_signature",
]
