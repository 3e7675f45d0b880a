"""Keyed identity hashes: how customers are matched without comparing raw numbers.

An HMAC-SHA256 under a secret key turns a normalised phone number, ID number or email into a
fixed-length token. Equal inputs give equal tokens, so the tokens are what lookups, blocking
for duplicate detection and (once those fields are encrypted at rest) the blind index use;
without the key a token cannot be reversed by trying every phone number. Each kind of value is
hashed under its own label, so a phone number and an ID number with the same digits never
match each other.
"""

from __future__ import annotations

import hmac
import os
import re
import warnings
from typing import Any

from pycrm.errors import ConfigurationError, ValidationError
from pycrm.identity.normalize import normalize_email, normalize_id_number

KEY_ENV = "PYCRM_IDENTITY_KEY"
"""The environment variable read when no key is given to the CRM."""

DEVELOPMENT_KEY = "pycrm-development-identity-key-not-secret"
"""Used when no key is configured, so demos and tests work; never for real data, since
anyone can compute its hashes."""

MIN_KEY_BYTES = 16
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_warned = False


class IdentityKeyWarning(UserWarning):
    """No identity key was configured, so the public development key is in use."""


class IdentityHasher:
    """HMAC-SHA256 tokens (64 lower-case hex digits) of identity values under one key."""

    __slots__ = ("_key", "fingerprint")

    def __init__(self, key: str | bytes) -> None:
        if isinstance(key, str):
            key = key.encode("utf-8")
        if not isinstance(key, bytes):
            raise ConfigurationError("identity_key: expected text or bytes")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(f"identity_key: use at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.fingerprint = self._digest("fingerprint", "")[:12]
        """A short, non-secret name of the key: two hashers with the same fingerprint give
        the same tokens (use it to notice that stored hashes were made under another key)."""

    def _digest(self, label: str, value: str) -> str:
        # hmac.digest: the one-shot C implementation, several times faster than hmac.new.
        return hmac.digest(self._key, f"{label}\x00{value}".encode(), "sha256").hex()

    def phone(self, e164: str) -> str:
        """The token of a phone number already in E.164 form (see
        :func:`pycrm.identity.normalize_phone`); any other text is refused, since hashing an
        unnormalised number would silently never match."""
        if not isinstance(e164, str) or not _E164.match(e164):
            raise ValidationError("phone", "expected an E.164 number such as +8613812345678")
        return self._digest("phone", e164)

    def id_number(self, value: str) -> str:
        """The token of an ID number, normalised first (:func:`normalize_id_number`)."""
        return self._digest("id_number", normalize_id_number(value))

    def email(self, value: str) -> str:
        """The token of an email address, normalised first (:func:`normalize_email`)."""
        return self._digest("email", normalize_email(value))

    def __repr__(self) -> str:
        return f"<IdentityHasher fingerprint={self.fingerprint}>"


def identity_hasher(key: Any = None) -> IdentityHasher:
    """The hasher for ``key``: the one given, else ``$PYCRM_IDENTITY_KEY``, else the
    :data:`DEVELOPMENT_KEY` with an :class:`IdentityKeyWarning` (once per process)."""
    global _warned
    if isinstance(key, IdentityHasher):
        return key
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        if not _warned:
            _warned = True
            message = (
                f"no identity key configured (identity_key= or ${KEY_ENV}); using the public "
                "development key, which must not be used for real customer data"
            )
            warnings.warn(message, IdentityKeyWarning, stacklevel=3)
        key = DEVELOPMENT_KEY
    return IdentityHasher(key)
