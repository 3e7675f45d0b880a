"""A channel that keeps what it is sent in this process: for tests, notebooks and trials."""

from __future__ import annotations

import threading
from collections import deque

from pycrm.domain import _convert as conv
from pycrm.notify.channel import Notification, check_channel_name, check_notification


class MemoryChannel:
    """Keeps every notification it is sent, in order, in ``sent``.

    ``maxlen`` bounds how many are kept (the oldest are dropped), so a memory channel left
    registered in a long-running process does not grow without end; ``None`` keeps all.
    """

    def __init__(
        self, name: str = "memory", *, maxlen: int | None = None, personal_data: bool = False
    ) -> None:
        self._name = check_channel_name(name)
        self._maxlen = conv.check_int(maxlen, "maxlen", minimum=1, required=False)
        self.personal_data: bool = conv.check_bool(personal_data, "personal_data")
        self._lock = threading.Lock()
        self._sent: deque[Notification] = deque(maxlen=self._maxlen)

    @property
    def name(self) -> str:
        return self._name

    @property
    def sent(self) -> list[Notification]:
        """The notifications kept, oldest first (a copy: safe while other threads send)."""
        with self._lock:
            return list(self._sent)

    def send(self, notification: Notification) -> None:
        check_notification(notification)
        with self._lock:
            self._sent.append(notification)

    def keys(self) -> list[str]:
        """The idempotency keys of the notifications kept, oldest first."""
        return [notification.key for notification in self.sent]

    def clear(self) -> None:
        """Forget every notification kept."""
        with self._lock:
            self._sent.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sent)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, sent={len(self)})"
