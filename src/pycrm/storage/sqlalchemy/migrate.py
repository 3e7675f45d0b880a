"""Running pycrm's own Alembic migrations from code; no ``alembic.ini`` needed.

The migration environment ships inside the package (``migrations/``). The table prefix and
schema reach it through ``Config.attributes``, and the revision is recorded in
``<prefix>alembic_version``, so pycrm's history never collides with a host's
``alembic_version`` or with another pycrm table set in the same database.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, Engine

from pycrm.errors import ConfigurationError
from pycrm.storage.sqlalchemy.sqlite import (
    configure_sqlite_engine,
    ensure_transaction,
    take_write_lock,
)
from pycrm.storage.sqlalchemy.tables import check_prefix

MIGRATIONS = Path(__file__).with_name("migrations")

Bind = Engine | Connection | URL | str


def version_table(table_prefix: str) -> str:
    return f"{table_prefix}alembic_version"


def alembic_config(
    connection: Connection | None = None, *, table_prefix: str = "crm_", schema: str | None = None
) -> Config:
    """An Alembic ``Config`` for pycrm's migrations (also useful to write new revisions)."""
    check_prefix(table_prefix)
    config = Config()
    # ConfigParser treats "%" as interpolation; a path may contain one.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["table_prefix"] = table_prefix
    config.attributes["schema"] = schema
    return config


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this version of pycrm ships."""
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> frozenset[str]:
    """Every revision this version of pycrm ships."""
    return frozenset(script.revision for script in _script().walk_revisions())


MIGRATION_LOCK_TIMEOUT = 600
"""Seconds a migration on MySQL/MariaDB waits for another process's migration to finish."""


@contextmanager
def _connect(bind: Bind, *, lock: str | None = None) -> Iterator[Connection]:
    """A connection in a transaction on ``bind``; with ``lock`` (a name), one process at a
    time gets it, so processes that all migrate the same tables at start-up take turns and
    the later ones find the work done. A host's ``Connection`` is used as it is."""
    if isinstance(bind, Connection):
        yield bind
        return
    engine = bind if isinstance(bind, Engine) else configure_sqlite_engine(sa.create_engine(bind))
    try:
        with engine.connect() as connection:
            mysql = lock is not None and connection.dialect.name in ("mysql", "mariadb")
            if mysql:
                _mysql_lock(connection, str(lock))
            try:
                with connection.begin():
                    ensure_transaction(connection)
                    if lock is not None and connection.dialect.name == "sqlite":
                        take_write_lock(connection)
                    elif lock is not None and connection.dialect.name == "postgresql":
                        hashed = sa.func.hashtext(lock)
                        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(hashed)))
                    yield connection
            finally:
                if mysql:
                    connection.execute(sa.select(sa.func.release_lock(lock)))
                    connection.commit()
    finally:
        if engine is not bind:
            engine.dispose()


def _mysql_lock(connection: Connection, name: str) -> None:
    # A named lock belongs to the database session, not to a transaction: MySQL commits
    # around every DDL statement, and the lock must outlast the whole migration.
    got = connection.execute(sa.select(sa.func.get_lock(name, MIGRATION_LOCK_TIMEOUT))).scalar_one()
    connection.commit()
    if got != 1:
        raise ConfigurationError(
            f"another process has been migrating pycrm's tables for {MIGRATION_LOCK_TIMEOUT} s; "
            "try again once it has finished"
        )


def _lock_name(table_prefix: str, schema: str | None) -> str:
    # MySQL limits lock names to 64 characters.
    return f"pycrm-migrate:{schema or ''}.{table_prefix}"[:64]


def upgrade(
    bind: Bind, *, revision: str = "head", table_prefix: str = "crm_", schema: str | None = None
) -> None:
    """Bring pycrm's tables (``table_prefix``, ``schema``) up to ``revision``.

    ``bind`` is an engine or URL (the upgrade runs in a transaction of its own, committed at
    the end where the database has transactional DDL, and waits for another process
    upgrading the same tables to finish) or a host's ``Connection`` (which the host commits
    when it is already inside a transaction).
    """
    with _connect(bind, lock=_lock_name(table_prefix, schema)) as connection:
        config = alembic_config(connection, table_prefix=table_prefix, schema=schema)
        command.upgrade(config, revision)


def current_revision(
    bind: Bind, *, table_prefix: str = "crm_", schema: str | None = None
) -> str | None:
    """The revision pycrm's tables are at, or ``None`` when they were never migrated."""
    check_prefix(table_prefix)
    with _connect(bind) as connection:
        opts: dict[str, Any] = {
            "version_table": version_table(table_prefix),
            "version_table_schema": schema,
        }
        context = MigrationContext.configure(connection, opts=opts)
        return context.get_current_revision()
