"""One customer identity across channels: normalisation and keyed hashes.

Everything here is pure: no I/O, no clock. The session derives each customer's identity
fields with it (:mod:`pycrm.identity.derive`); resolution, duplicate detection and the
data-quality report build on those fields.
"""

from pycrm.identity.hashing import (
    DEVELOPMENT_KEY,
    KEY_ENV,
    IdentityHasher,
    IdentityKeyWarning,
    identity_hasher,
)
from pycrm.identity.normalize import (
    DEFAULT_REGION,
    LEGAL_FORM_SUFFIXES_CJK,
    LEGAL_FORM_WORDS,
    check_region,
    company_key,
    id_number_problem,
    name_key,
    normalize_email,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    phone_or_none,
)

__all__ = [
    "DEFAULT_REGION",
    "DEVELOPMENT_KEY",
    "KEY_ENV",
    "LEGAL_FORM_SUFFIXES_CJK",
    "LEGAL_FORM_WORDS",
    "IdentityHasher",
    "IdentityKeyWarning",
    "check_region",
    "company_key",
    "id_number_problem",
    "identity_hasher",
    "name_key",
    "normalize_email",
    "normalize_id_number",
    "normalize_name",
    "normalize_phone",
    "phone_or_none",
]
