"""A notification channel that keeps what it is sent and can fail on purpose, for tests."""

from __future__ import annotations

from pycrm.notify import MemoryChannel, Notification


class RecordingChannel(MemoryChannel):
    """A :class:`pycrm.MemoryChannel` that counts ``attempts`` and whose first
    ``fail_times`` sends raise ``ConnectionError``, to test retries. Register it with a
    plugin: ``register(RecordingChannel("email"))``."""

    def __init__(
        self, name: str = "recording", *, fail_times: int = 0, personal_data: bool = False
    ) -> None:
        super().__init__(name, personal_data=personal_data)
        self._failures_left = fail_times
        self.attempts = 0

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.attempts += 1
            if self._failures_left > 0:
                self._failures_left -= 1
                raise ConnectionError(f"{self.name}: simulated delivery failure")
        super().send(notification)
