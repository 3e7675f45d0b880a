"""Notifications as signed JSON POSTs to a URL the host names (stdlib ``urllib.request``).

Each request carries::

    Content-Type: application/json; charset=utf-8
    Idempotency-Key: <the notification's key, percent-encoded where not plain ASCII>
    X-Pycrm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

The signature covers the timestamp and the exact bytes of the body, so a receiver that
checks it with :func:`verify_webhook_signature` knows the request came from a holder of the
secret, was not altered, and is not an old request replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pycrm.clock import Clock, SystemClock
from pycrm.domain import _convert as conv
from pycrm.errors import DeliveryError, ValidationError
from pycrm.notify.channel import (
    Notification,
    check_channel_name,
    check_notification,
    check_timeout,
)

WEBHOOK_SIGNATURE_HEADER = "X-Pycrm-Signature"
"""The request header that carries the webhook signature, ``t=<unix seconds>,v1=<hex>``."""

DEFAULT_TOLERANCE = 300
"""Seconds a signed request stays acceptable to :func:`verify_webhook_signature`."""

_KEY_SAFE = "-._~:@/+=!$&'()*,;"


def sign_webhook(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(_secret_bytes(secret), body, timestamp)}"


def verify_webhook_signature(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> bool:
    """Whether ``header`` (the request's ``X-Pycrm-Signature``) is a valid signature of
    ``body`` (the raw request bytes, before any JSON parsing) with ``secret``, made no more
    than ``tolerance`` seconds from ``now`` (default: the current time).

    Several ``v1=`` entries may be present; one match is enough. Anything malformed is
    simply not valid.
    """
    key = _secret_bytes(secret)
    if not isinstance(body, bytes) or not isinstance(header, str):
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        label, _, value = part.strip().partition("=")
        if label == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif label == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = now.timestamp() if now is not None else time.time()
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(key, body, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


class WebhookChannel:
    """POSTs each notification to ``url`` as JSON: ``{"channel", "recipient", "subject",
    "body", "key"}``, signed with ``secret`` (see the module docs for the headers).

    A response outside 2xx (redirects included: a webhook must not be silently turned into
    a GET elsewhere), a network error or a ``timeout`` (seconds, for connecting and for each
    read) raises :class:`pycrm.DeliveryError`.
    """

    def __init__(
        self,
        name: str = "webhook",
        *,
        url: str,
        secret: str | bytes,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        personal_data: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._name = check_channel_name(name)
        self.url = conv.required_text(url, "url", 2000)
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("url", "must be an http:// or https:// URL with a host")
        self._secret = _secret_bytes(secret)
        self.timeout = check_timeout(timeout)
        self.headers = conv.check_str_mapping(headers or {}, "headers")
        if any(c in text for pair in self.headers.items() for text in pair for c in "\r\n"):
            raise ValidationError("headers", "a header name or value must not hold a line break")
        self.personal_data: bool = conv.check_bool(personal_data, "personal_data")
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError("clock", "must have a now() method returning a datetime")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._opener = urllib.request.build_opener(_RefuseRedirects())

    @property
    def name(self) -> str:
        return self._name

    def request(self, notification: Notification) -> urllib.request.Request:
        """The signed request that :meth:`send` would make for ``notification``."""
        check_notification(notification)
        body = json.dumps(
            {
                "channel": notification.channel,
                "recipient": notification.recipient,
                "subject": notification.subject,
                "body": notification.body,
                "key": notification.key,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        timestamp = int(self.clock.now().timestamp())
        headers = {
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": urllib.parse.quote(notification.key, safe=_KEY_SAFE),
            WEBHOOK_SIGNATURE_HEADER: sign_webhook(self._secret, body, timestamp),
        }
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, notification: Notification) -> None:
        request = self.request(notification)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DeliveryError(
                self._name, f"POST {self.url}: HTTP {exc.code} {exc.reason}"
            ) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise DeliveryError(
                self._name, f"POST {self.url}: {type(reason).__name__}: {reason}"
            ) from exc

    def __repr__(self) -> str:
        return f"WebhookChannel({self._name!r}, url={self.url!r})"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _secret_bytes(secret: Any) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ValidationError("secret", "a webhook needs a non-empty secret (text or bytes)")
    return secret


def _digest(secret: bytes, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()
