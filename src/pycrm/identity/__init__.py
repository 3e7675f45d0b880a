"""One customer identity across channels: normalisation, keyed hashes, and the values that
resolution, duplicate detection and the data-quality report answer with.

Everything here is pure: no I/O, no clock. The session derives each customer's identity
fields with it on every add and update; :class:`pycrm.CustomerRepository` runs the queries.
:mod:`pycrm.identity.cipher` encrypts the same personal values at rest, with the hashes as
their blind index.
"""

from pycrm.identity.cipher import KEYS_ENV, FieldCipher, field_cipher
from pycrm.identity.derive import identity_values, stamp_identity
from pycrm.identity.duplicates import DuplicateCandidate, DuplicateReason, name_similarity
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
from pycrm.identity.quality import CustomerQuality, QualityIssue, QualityReport
from pycrm.identity.resolve import Resolution

__all__ = [
    "DEFAULT_REGION",
    "DEVELOPMENT_KEY",
    "KEYS_ENV",
    "KEY_ENV",
    "LEGAL_FORM_SUFFIXES_CJK",
    "LEGAL_FORM_WORDS",
    "CustomerQuality",
    "DuplicateCandidate",
    "DuplicateReason",
    "FieldCipher",
    "IdentityHasher",
    "IdentityKeyWarning",
    "QualityIssue",
    "QualityReport",
    "Resolution",
    "check_region",
    "company_key",
    "field_cipher",
    "id_number_problem",
    "identity_hasher",
    "identity_values",
    "name_key",
    "name_similarity",
    "normalize_email",
    "normalize_id_number",
    "normalize_name",
    "normalize_phone",
    "phone_or_none",
    "stamp_identity",
]
