"""The in-memory store."""

from pycrm.storage.memory.store import MemoryStore

__all__ = ["MemoryStore"]
