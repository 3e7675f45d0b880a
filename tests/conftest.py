"""Backends every storage test runs on: memory, SQLite, and PostgreSQL / MariaDB when their
URLs are set (``PYCRM_TEST_POSTGRES_URL``, ``PYCRM_TEST_MYSQL_URL``; ``.ci/run`` sets both).

PostgreSQL and MariaDB run with personal data encrypted at rest, SQLite without, so every
storage test goes through both the sealed and the plain columns."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from pycrm import CRM, FieldCipher, FixedClock
from pycrm.storage import MemoryStore, Store

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

SERVER_URLS = {
    "postgres": "PYCRM_TEST_POSTGRES_URL",
    "mysql": "PYCRM_TEST_MYSQL_URL",
}
BACKENDS = ["memory", "sqlite", "postgres", "mysql"]
ENCRYPTED_BACKENDS = {"postgres", "mysql"}
TEST_ENCRYPTION_KEYS = {"test-2026": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU="}
"""A fixed, public key ring for the test databases (32 bytes of base64)."""

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    for backend, variable in SERVER_URLS.items():
        state = "set" if os.environ.get(variable) else "NOT set: its storage tests are skipped"
        lines.append(f"pycrm {backend} tests: {variable} {state}")
    return lines


class SqlBackend:
    """One schema (a unique table prefix) per backend for the whole run; emptied per test."""

    def __init__(self, url: str, *, encrypted: bool = False) -> None:
        from pycrm.storage.sqlalchemy import SqlStore

        self.url = url
        self.prefix = f"t{uuid.uuid4().hex[:6]}_"
        self.cipher = FieldCipher(TEST_ENCRYPTION_KEYS) if encrypted else None
        self.store = SqlStore.from_url(url, table_prefix=self.prefix, cipher=self.cipher)
        self.store.ensure_schema()  # through the shipped migrations
        self.metadata = self.store.tables.metadata

    def fresh(self) -> Store:
        with self.store.engine.begin() as conn:
            for table in reversed(self.metadata.sorted_tables):
                conn.execute(table.delete())
        return self.store

    def drop(self) -> None:
        with self.store.engine.begin() as conn:
            self.metadata.drop_all(conn)
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {self.store.tables.version_table}"))
        self.store.engine.dispose()


@pytest.fixture(scope="session")
def sql_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SqlBackend]]:
    backends: dict[str, SqlBackend] = {}
    yield backends
    for backend in backends.values():
        backend.drop()


def sql_url(name: str, tmp: Path) -> str:
    """The URL of SQL backend ``name``: a SQLite file in ``tmp``, or the server's URL from its
    environment variable (the test is skipped, saying so, when that is not set)."""
    if name == "sqlite":
        return f"sqlite:///{tmp / 'pycrm-tests.db'}"
    url = os.environ.get(SERVER_URLS[name])
    if not url:
        pytest.skip(f"{SERVER_URLS[name]} is not set; {name} storage tests skipped")
    return url


def sql_backend(
    name: str, sql_backends: dict[str, SqlBackend], tmp_path_factory: pytest.TempPathFactory
) -> SqlBackend:
    """The run's schema on SQL backend ``name`` (skips when its URL is not set)."""
    if name not in sql_backends:
        url = sql_url(name, tmp_path_factory.mktemp(name))
        sql_backends[name] = SqlBackend(url, encrypted=name in ENCRYPTED_BACKENDS)
    return sql_backends[name]


@pytest.fixture(params=BACKENDS)
def store_factory(
    request: pytest.FixtureRequest,
    sql_backends: dict[str, SqlBackend],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], Store]:
    """A callable returning an empty store of the parametrised backend."""
    name: str = request.param
    if name == "memory":
        return MemoryStore
    return sql_backend(name, sql_backends, tmp_path_factory).fresh


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def sql(
    request: pytest.FixtureRequest,
    sql_backends: dict[str, SqlBackend],
    tmp_path_factory: pytest.TempPathFactory,
) -> SqlBackend:
    """Each SQL backend in turn, emptied."""
    backend = sql_backend(request.param, sql_backends, tmp_path_factory)
    backend.fresh()
    return backend


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def crm(store_factory: Callable[[], Store], clock: FixedClock) -> Iterator[CRM]:
    """A CRM on an empty store of each backend in turn."""
    instance = CRM(store_factory(), clock=clock)
    yield instance
    instance.close()
