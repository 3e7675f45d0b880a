"""E-mail through an SMTP server, with the standard library's ``smtplib``.

One connection per message: simple, and a failure never leaves a half-used connection
behind. The idempotency key becomes the ``Message-ID``, so a receiver (or the server's own
duplicate filter) sees a repeated delivery as the same message.
"""

from __future__ import annotations

import enum
import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage

from pycrm.domain import _convert as conv
from pycrm.errors import DeliveryError, ValidationError
from pycrm.notify.channel import (
    Notification,
    check_channel_name,
    check_notification,
    check_timeout,
)


class SmtpSecurity(str, enum.Enum):
    """How the connection to the SMTP server is protected."""

    TLS = "tls"
    """Implicit TLS from the first byte (``SMTP_SSL``), usually port 465."""
    STARTTLS = "starttls"
    """A plain connection upgraded with ``STARTTLS`` before anything else, usually port 587."""
    NONE = "none"
    """No encryption: only for a relay on the same host or a trusted network (port 25)."""


DEFAULT_PORTS = {SmtpSecurity.TLS: 465, SmtpSecurity.STARTTLS: 587, SmtpSecurity.NONE: 25}


class SmtpChannel:
    """Sends each notification as a plain-text e-mail to ``notification.recipient``.

    :param host: the SMTP server.
    :param sender: the ``From`` address; ``sender_name`` is shown with it.
    :param port: default 465, 587 or 25 by ``security``.
    :param security: ``"starttls"`` (default), ``"tls"`` or ``"none"``.
    :param username: log in with ``password`` (only over TLS or STARTTLS, so a password
        never crosses the network in the clear).
    :param ssl_context: how the server's certificate is checked (default: the system's
        trusted CAs and host-name checking).
    :param timeout: seconds for connecting and for each reply.
    :param personal_data: whether its readers may see personal data unmasked.
    """

    def __init__(
        self,
        name: str = "email",
        *,
        host: str,
        sender: str,
        sender_name: str | None = None,
        port: int | None = None,
        security: SmtpSecurity | str = SmtpSecurity.STARTTLS,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        personal_data: bool = False,
    ) -> None:
        self._name = check_channel_name(name)
        self.host = conv.required_text(host, "host", 255)
        self.sender = conv.check_email(sender, "sender")
        if self.sender is None:
            raise ValidationError("sender", "is required")
        self.sender_name = conv.check_text(
            sender_name, "sender_name", max_length=100, required=False
        )
        self.security = conv.check_enum(security, "security", SmtpSecurity)
        checked_port = conv.check_int(port, "port", minimum=1, required=False)
        if checked_port is not None and checked_port > 65535:
            raise ValidationError("port", "must be at most 65535", value=port)
        self.port = checked_port if checked_port is not None else DEFAULT_PORTS[self.security]
        self.username = conv.check_text(username, "username", max_length=254, required=False)
        if self.username is not None:
            if not isinstance(password, str) or not password:
                raise ValidationError("password", "is required with a username")
            if self.security is SmtpSecurity.NONE:
                raise ValidationError(
                    "username", "logging in needs security 'tls' or 'starttls' (not 'none')"
                )
        self._password = password
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise ValidationError("ssl_context", f"expected an ssl.SSLContext, got {ssl_context!r}")
        self.ssl_context = ssl_context
        self.timeout = check_timeout(timeout)
        self.personal_data: bool = conv.check_bool(personal_data, "personal_data")

    @property
    def name(self) -> str:
        return self._name

    def message_id(self, key: str) -> str:
        """The ``Message-ID`` of the message for idempotency key ``key``: the same key gives
        the same id, so a receiver can drop repeats; the key itself is hashed, never shown."""
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
        domain = (self.sender or "").rpartition("@")[2]
        return f"<{digest}.pycrm@{domain}>"

    def message(self, notification: Notification) -> EmailMessage:
        """The e-mail that :meth:`send` would send for ``notification``."""
        check_notification(notification)
        recipient = conv.check_email(notification.recipient, "recipient")
        message = EmailMessage()
        message["From"] = Address(self.sender_name or "", addr_spec=self.sender)
        message["To"] = recipient
        # A subject is one line; a line break in it would be refused as a header injection.
        message["Subject"] = " ".join(notification.subject.split())
        message["Message-ID"] = self.message_id(notification.key)
        message.set_content(notification.body)
        return message

    def send(self, notification: Notification) -> None:
        message = self.message(notification)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                self._name, f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            ) from exc

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security is SmtpSecurity.TLS:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def __repr__(self) -> str:
        return (
            f"SmtpChannel({self._name!r}, host={self.host!r}, port={self.port}, "
            f"security={self.security.value!r})"
        )
