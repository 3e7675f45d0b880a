"""Sessions that overlap, as a web app's threads or worker processes run them.

A session reads before it writes (get, then update). When another session commits in
between, the later write is either a version conflict, raised as ``ConcurrencyConflict``, or
no conflict at all; never a database's own error. On SQLite in WAL mode the second case used
to fail with "database is locked", whatever the busy timeout.
"""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

import pytest

from conftest import sql_url
from pycrm import CRM, ConcurrencyConflict, Customer
from pycrm.storage.sqlalchemy import SqlStore
from pycrm.storage.sqlalchemy.migrate import head_revision
from test_sql_store import drop_pycrm_tables


def test_write_after_a_read_another_session_overtook_is_a_conflict(crm: CRM) -> None:
    with crm.session() as s:
        original = s.customers.add(Customer.company("Acme"))
    late = crm.session(actor="late")
    try:
        seen = late.customers.get(original.id)  # a read: the session now has a snapshot
        with crm.session(actor="early") as early:
            early.customers.update(early.customers.get(original.id).evolve(priority="high"))
        with pytest.raises(ConcurrencyConflict):
            late.customers.update(seen.evolve(priority="low"))
    finally:
        late.rollback()
    with crm.session() as s:
        assert s.customers.get(original.id).priority == "high"


def test_add_after_a_read_another_session_overtook_is_stored(crm: CRM) -> None:
    late = crm.session(actor="late")
    try:
        assert late.customers.count() == 0
        with crm.session(actor="early") as early:
            early.customers.add(Customer.company("Early"))
        late.customers.add(Customer.company("Late"))
        late.commit()
    finally:
        late.rollback()
    with crm.session() as s:
        assert sorted(c.name for c in s.customers.stream()) == ["Early", "Late"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_processes_starting_together_all_open_a_fresh_database(
    backend: str, tmp_path: Path
) -> None:
    # Each worker of a freshly deployed web app opens the CRM, and so migrates, at once.
    url = sql_url(backend, tmp_path)
    prefix = f"r{uuid4().hex[:8]}_"
    stores = [SqlStore.from_url(url, table_prefix=prefix) for _ in range(4)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def open_store(store: SqlStore) -> None:
        start.wait()
        try:
            store.ensure_schema()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_store, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert stores[0].current_revision() == head_revision()
    finally:
        for store in stores:
            store.close()
        drop_pycrm_tables(url, prefix)
