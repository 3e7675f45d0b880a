"""A pycrm notification channel for WeCom (企业微信) group bots, registered through the
``pycrm`` entry-point group.

The bot's webhook takes ``{"msgtype": "text", "text": {"content": ...}}`` and answers HTTP 200
with ``{"errcode": 0, "errmsg": "ok"}``; any other answer is a failed delivery.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable

import pycrm

URL_VARIABLE = "PYCRM_WECOM_WEBHOOK_URL"
NAME_VARIABLE = "PYCRM_WECOM_CHANNEL"
CONTENT_LIMIT = 2048
"""Bytes of text a WeCom bot message may carry."""


class WeComBotChannel:
    """Posts each notification's subject and body to a WeCom group bot."""

    personal_data = False
    """A group chat is read by many: personal data is masked for it."""

    def __init__(self, url: str, name: str = "wecom", *, timeout: float = 10.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise pycrm.ValidationError("url", "must be an http:// or https:// URL")
        self.url = url
        self.timeout = timeout
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def send(self, notification: pycrm.Notification) -> None:
        content = f"{notification.subject}\n\n{notification.body}"
        content = content.encode("utf-8")[:CONTENT_LIMIT].decode("utf-8", "ignore")
        payload = {"msgtype": "text", "text": {"content": content}}
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read(65536) or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise pycrm.DeliveryError(self._name, f"WeCom bot: {exc}") from exc
        if answer.get("errcode") != 0:
            raise pycrm.DeliveryError(
                self._name, f"WeCom bot refused: {answer.get('errcode')} {answer.get('errmsg')}"
            )


@pycrm.hookimpl
def pycrm_notification_channels(register: Callable[..., None]) -> None:
    url = os.environ.get(URL_VARIABLE)
    if url:
        register(WeComBotChannel(url, os.environ.get(NAME_VARIABLE) or "wecom"))
