"""Storage backends and the contract they implement."""

from pycrm.access.scope import SCOPE_FIELDS, AllOf, AnyOf, FieldIn
from pycrm.storage.memory import MemoryStore
from pycrm.storage.protocols import AuditTable, EntityTable, Store, StoreTransaction
from pycrm.storage.scoping import SCOPED_TYPES, customer_link
from pycrm.storage.spec import SPEC_BY_TYPE, SPECS, EntitySpec

__all__ = [
    "SCOPED_TYPES",
    "SCOPE_FIELDS",
    "SPECS",
    "SPEC_BY_TYPE",
    "AllOf",
    "AnyOf",
    "AuditTable",
    "EntitySpec",
    "EntityTable",
    "FieldIn",
    "MemoryStore",
    "Store",
    "StoreTransaction",
    "customer_link",
]
