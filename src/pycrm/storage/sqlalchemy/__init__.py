"""The SQL store (SQLAlchemy Core): SQLite by default, PostgreSQL and MySQL/MariaDB alike.

Public names: :class:`SqlStore`, :func:`define_tables` and :class:`Tables` for hosts that keep
pycrm's tables on their own ``MetaData``, and :func:`upgrade`/:func:`current_revision` to run
pycrm's shipped Alembic migrations from code.
"""

from pycrm.storage.sqlalchemy.migrate import current_revision, upgrade
from pycrm.storage.sqlalchemy.store import SqlStore
from pycrm.storage.sqlalchemy.tables import Tables, define_tables

__all__ = ["SqlStore", "Tables", "current_revision", "define_tables", "upgrade"]
