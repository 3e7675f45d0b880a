"""A notification channel that keeps what it is sent, for assertions in tests."""

from __future__ import annotations

import threading

from pycrm.notify import Notification


class RecordingChannel:
    """Records every notification; ``fail_times`` makes the first N sends raise, to test
    retries. Register it with a plugin: ``register(RecordingChannel("email"))``."""

    def __init__(self, name: str = "recording", *, fail_times: int = 0) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._failures_left = fail_times
        self.sent: list[Notification] = []
        self.attempts = 0

    @property
    def name(self) -> str:
        return self._name

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.attempts += 1
            if self._failures_left > 0:
                self._failures_left -= 1
                raise ConnectionError(f"{self._name}: simulated delivery failure")
            self.sent.append(notification)

    def keys(self) -> list[str]:
        return [n.key for n in self.sent]

    def __repr__(self) -> str:
        return f"RecordingChannel({self._name!r}, sent={len(self.sent)})"
