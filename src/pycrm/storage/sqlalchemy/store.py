"""The SQL store: pycrm's tables on a SQLAlchemy engine, the host's or one of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from pycrm.errors import ConfigurationError
from pycrm.identity.cipher import FieldCipher
from pycrm.storage.spec import SPEC_BY_TYPE
from pycrm.storage.sqlalchemy import migrate
from pycrm.storage.sqlalchemy.encryption import reencrypt
from pycrm.storage.sqlalchemy.repository import TableSet
from pycrm.storage.sqlalchemy.sqlite import configure_sqlite_engine
from pycrm.storage.sqlalchemy.tables import Tables, define_tables
from pycrm.storage.sqlalchemy.transaction import SqlTransaction


class SqlStore:
    """A ``Store`` on SQLite, PostgreSQL or MySQL/MariaDB through SQLAlchemy Core.

    ``SqlStore(engine)`` uses a host's engine as it is; :meth:`from_url` creates and owns one
    (on SQLite with WAL, foreign keys and proper transactions, see ``sqlite.py``). Tables go on
    ``metadata`` when given (the host's, so its Alembic sees them), else on a private one.
    With a ``cipher`` the personal columns are encrypted at rest (see
    :mod:`pycrm.identity.cipher`).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table_prefix: str = "crm_",
        schema: str | None = None,
        metadata: sa.MetaData | None = None,
        cipher: FieldCipher | None = None,
    ) -> None:
        if not isinstance(engine, Engine):
            raise ConfigurationError(
                f"SqlStore needs a SQLAlchemy Engine, got {type(engine).__name__}; "
                "use SqlStore.from_url() for a URL"
            )
        self.engine = engine
        self.tables: Tables = define_tables(
            metadata if metadata is not None else sa.MetaData(), prefix=table_prefix, schema=schema
        )
        if cipher is not None and not isinstance(cipher, FieldCipher):
            raise ConfigurationError(f"cipher must be a FieldCipher, got {type(cipher).__name__}")
        self.cipher = cipher
        self._table_set = TableSet(self.tables, SPEC_BY_TYPE, cipher)
        self._owns_engine = False

    @classmethod
    def from_url(
        cls,
        url: str | URL,
        *,
        table_prefix: str = "crm_",
        schema: str | None = None,
        metadata: sa.MetaData | None = None,
        engine_options: Mapping[str, Any] | None = None,
        cipher: FieldCipher | None = None,
    ) -> SqlStore:
        """A store on an engine of its own, disposed of by :meth:`close`.

        ``engine_options`` go to ``sqlalchemy.create_engine``. PostgreSQL URLs look like
        ``postgresql+psycopg://user@host/db``, MariaDB/MySQL ones like
        ``mysql+pymysql://user@host/db?charset=utf8mb4``.
        """
        try:
            engine = sa.create_engine(url, **dict(engine_options or {}))
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ConfigurationError(f"cannot open {url!r}: {exc}") from exc
        configure_sqlite_engine(engine)
        store = cls(
            engine, table_prefix=table_prefix, schema=schema, metadata=metadata, cipher=cipher
        )
        store._owns_engine = True
        return store

    @property
    def metadata(self) -> sa.MetaData:
        return self.tables.metadata

    def begin(self, *, connection: Connection | None = None) -> SqlTransaction:
        """A unit of work: on a connection of the store's own, or inside the transaction of
        a host's ``connection`` (begun here if the host has not begun one; the host commits
        it)."""
        if connection is not None and not isinstance(connection, Connection):
            raise ConfigurationError(
                f"connection must be a SQLAlchemy Connection, got {type(connection).__name__}"
            )
        return SqlTransaction(self._table_set, self.engine, connection)

    def close(self) -> None:
        """Dispose of the engine if the store created it; a host's engine is left alone."""
        if self._owns_engine:
            self.engine.dispose()

    def reencrypt(self, *, batch_size: int = 1000) -> int:
        """Encrypt every personal value not yet under the current key (see
        :meth:`pycrm.CRM.reencrypt`); the number of rows rewritten."""
        return reencrypt(self.engine, self.tables, self.cipher, batch_size=batch_size)

    # -- schema ----------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Run pycrm's migrations on this store's tables up to ``revision``."""
        migrate.upgrade(
            self.engine,
            revision=revision,
            table_prefix=self.tables.prefix,
            schema=self.tables.schema,
        )

    def current_revision(self) -> str | None:
        return migrate.current_revision(
            self.engine, table_prefix=self.tables.prefix, schema=self.tables.schema
        )

    def ensure_schema(self) -> None:
        """Create pycrm's tables, or upgrade them, when they are missing or behind.

        Refuses tables that exist without pycrm's migration record (created some other way,
        e.g. by a host's ``metadata.create_all``): stamp them with Alembic first.
        """
        head = migrate.head_revision()
        current = self.current_revision()
        if current == head:
            return
        if current is not None and current not in migrate.known_revisions():
            raise ConfigurationError(
                f"pycrm's tables ({self.tables.prefix}*) are at revision {current!r}, which this "
                "version of pycrm does not know; it is older than the schema, upgrade pycrm"
            )
        if current is None and self._tables_exist():
            raise ConfigurationError(
                f"pycrm's tables ({self.tables.prefix}*) exist but carry no migration record "
                f"in {self.tables.version_table}: if the host's own migrations manage them, "
                "open with create_schema=False; otherwise stamp them with pycrm's revision or "
                "let pycrm create them"
            )
        try:
            self.upgrade()
        except Exception:
            # Another process may have run the same migration at the same moment.
            if self.current_revision() == head:
                return
            raise

    def _tables_exist(self) -> bool:
        with self.engine.connect() as conn:
            return sa.inspect(conn).has_table(self.tables.customers.name, schema=self.tables.schema)

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"SqlStore({url!r}, table_prefix={self.tables.prefix!r})"
