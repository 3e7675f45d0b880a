"""Storage backends and the contract they implement."""

from pycrm.storage.memory import MemoryStore
from pycrm.storage.protocols import AuditTable, EntityTable, Store, StoreTransaction
from pycrm.storage.spec import SPEC_BY_TYPE, SPECS, EntitySpec

__all__ = [
    "SPECS",
    "SPEC_BY_TYPE",
    "AuditTable",
    "EntitySpec",
    "EntityTable",
    "MemoryStore",
    "Store",
    "StoreTransaction",
]
