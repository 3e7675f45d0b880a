"""Entity ids made by the domain, so an entity has identity before it is stored.

Ids are ``<prefix>_<uuid7 hex>``: the UUIDv7 layout (RFC 9562) puts the creation millisecond
first, so ids sort in creation order and keyset paging by id walks records oldest first.
"""

from __future__ import annotations

import os
import random
import time

_last_ms = 0
_counter = 0

# The random bits only have to make ids of different processes differ, not be secret, so a
# private generator seeded from the OS does (os.urandom per id costs more than the rest of
# the id). It is reseeded in a forked child, which would otherwise repeat its parent's bits.
_random = random.Random(os.urandom(16))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(16)))


def _uuid7_hex() -> str:
    global _last_ms, _counter
    ms = time.time_ns() // 1_000_000
    if ms > _last_ms:
        _last_ms, _counter = ms, 0
    else:
        # Same millisecond (or the wall clock stepped back): count up so ids stay increasing.
        _counter += 1
        if _counter > 0xFFF:
            _last_ms, _counter = _last_ms + 1, 0
        ms = _last_ms
    rand_b = _random.getrandbits(62)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | _counter << 64 | 0b10 << 62 | rand_b
    return f"{value:032x}"


def new_id(prefix: str) -> str:
    """A fresh, time-ordered id such as ``cus_0190f5c2...``."""
    return f"{prefix}_{_uuid7_hex()}"
