"""Record-level access: actors, their scopes, and the audit log's retention policy.

Pure values: the stores compile scopes into their queries (see ``pycrm.storage``).
"""

from pycrm.access.actor import Actor, Role, builtin_scope
from pycrm.access.retention import MIN_KEEP_DAYS, RetentionPolicy
from pycrm.access.scope import SCOPE_FIELDS, AllOf, AnyOf, FieldIn, Scope, check_scope

__all__ = [
    "MIN_KEEP_DAYS",
    "SCOPE_FIELDS",
    "Actor",
    "AllOf",
    "AnyOf",
    "FieldIn",
    "RetentionPolicy",
    "Role",
    "Scope",
    "builtin_scope",
    "check_scope",
]
