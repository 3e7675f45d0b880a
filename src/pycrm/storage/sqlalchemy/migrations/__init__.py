"""pycrm's Alembic migration environment; run it through ``pycrm.storage.sqlalchemy.upgrade``."""
