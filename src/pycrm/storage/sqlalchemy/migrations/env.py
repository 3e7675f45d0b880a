"""Alembic environment for pycrm's tables.

Normally driven by ``pycrm.storage.sqlalchemy.upgrade``, which passes the connection, table
prefix and schema in ``config.attributes``. The Alembic command line works too, with
``script_location = pycrm.storage.sqlalchemy:migrations`` and, optionally,
``pycrm_table_prefix``/``pycrm_schema`` in the ini section.

Only tables with the prefix are considered, so autogenerate never proposes dropping a host's
tables or another pycrm table set's.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from pycrm.storage.sqlalchemy.sqlite import configure_sqlite_engine, ensure_transaction
from pycrm.storage.sqlalchemy.tables import check_prefix, define_tables

config = context.config
attributes = config.attributes
prefix: str = attributes.get("table_prefix") or config.get_main_option("pycrm_table_prefix", "crm_")
schema: str | None = attributes.get("schema") or config.get_main_option("pycrm_schema") or None
check_prefix(prefix)
# The revisions read the settings from here, however the run was started.
attributes["table_prefix"] = prefix
attributes["schema"] = schema

version_table = f"{prefix}alembic_version"
target_metadata = define_tables(sa.MetaData(), prefix=prefix, schema=schema).metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "schema":
        return name == schema
    if type_ == "table":
        return bool(name) and str(name).startswith(prefix) and name != version_table
    return True


def _configure(**kw: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=version_table,
        version_table_schema=schema,
        include_schemas=schema is not None,
        include_name=include_name,
        compare_type=True,
        **kw,
    )


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pycrm migrations need a connection or sqlalchemy.url")
    engine = configure_sqlite_engine(sa.create_engine(url))
    try:
        with engine.begin() as conn:
            ensure_transaction(conn)
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
