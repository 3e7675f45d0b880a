"""A short unit of work straight on a store, for bookkeeping that is not a session's.

Outbox claims and outcomes, and refusals written to the audit log, each commit on their own,
apart from any session: they need no audit entries or events of their own, only to be
durable or not written at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pycrm.storage.protocols import Store, StoreTransaction


@contextmanager
def own_transaction(store: Store) -> Iterator[StoreTransaction]:
    """A transaction on ``store`` that commits when the block ends and rolls back on any
    exception."""
    tx = store.begin()
    try:
        yield tx
        tx.commit()
    except BaseException:
        tx.rollback()
        raise
