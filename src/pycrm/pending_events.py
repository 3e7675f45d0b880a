"""A session's events while they wait for its commit, without holding a bulk add's ids.

Plugins hear of a session's changes only after they are durable, so the session keeps every
event until then. A ``bulk_created`` event carries the id of every record the bulk add
stored, so an all-or-nothing import of a million rows would hold a million ids to the end.
Past a bound the buffer therefore writes those ids to an anonymous temporary file (deleted
when cleared or collected) and reads them back, in order, as the events are delivered.
Only ids go there: events that carry a record, and with it personal data that may be
encrypted at rest in the store, stay in memory.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from collections.abc import Iterator
from typing import IO

import attrs

from pycrm.domain.events import DomainEvent

HOLD_IDS = 20_000
"""Ids of ``bulk_created`` events kept in memory; the ids of later ones go to the file."""


@attrs.frozen
class _Offloaded:
    """An event whose ids wait in the file, ``size`` bytes from ``offset``."""

    event: DomainEvent
    offset: int
    size: int


class PendingEvents:
    """Events in the order they were raised; iterate to read them all back."""

    def __init__(self, hold_ids: int | None = None) -> None:
        self._hold_ids = HOLD_IDS if hold_ids is None else hold_ids
        self._held: list[DomainEvent | _Offloaded] = []
        self._ids_held = 0
        self._file: IO[bytes] | None = None

    def append(self, event: DomainEvent) -> None:
        ids = len(event.entity_ids)
        if ids and self._ids_held + ids > self._hold_ids:
            self._held.append(self._offload(event))
        else:
            self._held.append(event)
            self._ids_held += ids

    def _offload(self, event: DomainEvent) -> _Offloaded:
        if self._file is None:
            # Closed by clear(), which the session calls once the events are delivered or
            # dropped; or, if a host's transaction rolls back after a joined session and the
            # delivery never comes, when this buffer is collected.
            self._file = tempfile.TemporaryFile(prefix="pycrm-events-")  # noqa: SIM115
            weakref.finalize(self, self._file.close)
        data = pickle.dumps(event.entity_ids, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, 2)
        self._file.write(data)
        return _Offloaded(attrs.evolve(event, entity_ids=()), offset, len(data))

    @property
    def offloaded(self) -> bool:
        """Whether some events' ids are waiting in the temporary file."""
        return self._file is not None

    def __iter__(self) -> Iterator[DomainEvent]:
        for item in self._held:
            if isinstance(item, DomainEvent):
                yield item
                continue
            assert self._file is not None
            self._file.seek(item.offset)
            ids: tuple[str, ...] = pickle.loads(self._file.read(item.size))  # our own file
            yield attrs.evolve(item.event, entity_ids=ids)

    def clear(self) -> None:
        """Forget every event and delete the file."""
        self._held = []
        self._ids_held = 0
        if self._file is not None:
            self._file.close()
            self._file = None
