"""A session's events while they wait for its commit, with memory bounded however many.

Plugins hear of a session's changes only after they are durable, so the session must keep
every event until then. A long unit of work (an all-or-nothing import of a million rows, an
import that updates by key) raises one event per change or a ``bulk_created`` event per
batch carrying every id, which held in memory would grow with the work. Past a bound the
buffer therefore writes the waiting events, pickled a chunk at a time, to an anonymous
temporary file (deleted when closed, readable by this process only) and reads them back in
order when they are delivered, so memory stays at about one chunk.
"""

from __future__ import annotations

import logging
import pickle
import sys
import tempfile
import weakref
from collections.abc import Iterator
from typing import IO

from pycrm.domain.events import DomainEvent

log = logging.getLogger("pycrm.session")

SPILL_AT = 20_000
"""Weight kept in memory before it goes to the file: an event weighs one, plus one per id it
carries (a ``bulk_created`` event of 5,000 customers weighs 5,001)."""


class PendingEvents:
    """Events in the order they were raised; iterate to read them all back."""

    def __init__(self, spill_at: int | None = None) -> None:
        self._spill_at = SPILL_AT if spill_at is None else spill_at
        self._held: list[DomainEvent] = []
        self._weight = 0
        self._file: IO[bytes] | None = None
        self._chunks = 0

    def append(self, event: DomainEvent) -> None:
        self._held.append(event)
        self._weight += 1 + len(event.entity_ids)
        if self._weight >= self._spill_at:
            self._spill()

    def _spill(self) -> None:
        try:
            chunk = pickle.dumps(self._held, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            # An event holds something pickle cannot write (an entity subclass defined
            # inside a function, say): keep everything in memory, as before this buffer.
            log.debug("session events cannot be written to a file; keeping them in memory")
            self._spill_at = sys.maxsize
            return
        if self._file is None:
            # Closed by clear(), which the session calls once the events are delivered or
            # dropped; or, if a host's transaction rolls back after a joined session and the
            # delivery never comes, when this buffer is collected.
            self._file = tempfile.TemporaryFile(prefix="pycrm-events-")  # noqa: SIM115
            weakref.finalize(self, self._file.close)
        self._file.seek(0, 2)
        self._file.write(chunk)
        self._chunks += 1
        self._held = []
        self._weight = 0

    @property
    def spilled(self) -> bool:
        """Whether some events are waiting in the temporary file."""
        return self._chunks > 0

    def __bool__(self) -> bool:
        return bool(self._held) or self.spilled

    def __iter__(self) -> Iterator[DomainEvent]:
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._chunks):
                chunk: list[DomainEvent] = pickle.load(self._file)  # written by _spill only
                yield from chunk
        yield from list(self._held)

    def clear(self) -> None:
        """Forget every event and delete the file."""
        self._held = []
        self._weight = 0
        if self._file is not None:
            self._file.close()
            self._file = None
            self._chunks = 0
