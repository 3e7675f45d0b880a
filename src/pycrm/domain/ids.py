"""Entity ids made by the domain, so an entity has identity before it is stored.

Ids are ``<prefix>_<uuid7 hex>``: the UUIDv7 layout (RFC 9562) puts the creation millisecond
first, so ids sort in creation order and keyset paging by id walks records oldest first.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class IdGenerator:
    """Makes time-ordered ids: strictly increasing within one generator, distinct across
    processes through their random bits.

    The random bits only have to make ids of different processes differ, not be secret, so a
    seeded ``random.Random`` does (``os.urandom`` per id costs more than the rest of the id).
    A generator with a seeded ``rng`` and a fixed ``now_ms`` gives reproducible ids, which the
    demo uses.
    """

    def __init__(
        self,
        rng: random.Random | None = None,
        now_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        self._rng = rng if rng is not None else random.Random(os.urandom(16))
        self._now_ms = now_ms
        self._last_ms = 0
        self._counter = 0

    def reseed(self) -> None:
        """Draw fresh random bits, e.g. in a forked child that would repeat its parent's."""
        self._rng.seed(os.urandom(16))

    def __call__(self, prefix: str) -> str:
        ms = self._now_ms()
        if ms > self._last_ms:
            self._last_ms, self._counter = ms, 0
        else:
            # Same millisecond (or the clock stepped back): count up so ids keep increasing.
            self._counter += 1
            if self._counter > 0xFFF:
                self._last_ms, self._counter = self._last_ms + 1, 0
        value = (
            (self._last_ms & 0xFFFF_FFFF_FFFF) << 80
            | 0x7 << 76
            | self._counter << 64
            | 0b10 << 62
            | self._rng.getrandbits(62)
        )
        return f"{prefix}_{value:032x}"


_default = IdGenerator()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default.reseed)


def new_id(prefix: str) -> str:
    """A fresh, time-ordered id such as ``cus_0190f5c2...``."""
    return _default(prefix)
