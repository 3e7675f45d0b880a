"""Field-level encryption at rest: AES-256-GCM under named keys, so keys can be rotated.

A stored value becomes a token ``$e1$<key id>$<base64url(nonce | ciphertext | tag)>``. The key
id says which key decrypts it, so a key ring can hold the current key and older ones while
rows are re-encrypted (:meth:`pycrm.CRM.reencrypt`). Each value is bound to its field (the
field name is the GCM associated data), so a token copied into another column fails to
decrypt instead of reading as that column's value. A random 96-bit nonce per value means equal
values give different tokens; lookups therefore never compare ciphertext but use the keyed
identity hashes (:mod:`pycrm.identity.hashing`), the blind index.

Values that are not tokens (rows written before encryption was switched on) read as they
are, which is what lets encryption be turned on for an existing database and its rows be
encrypted afterwards.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pycrm.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_ENV = "PYCRM_ENCRYPTION_KEYS"
"""The environment variable read when no keys are given to :meth:`pycrm.CRM.open`:
``id:key,id:key``, the current key first."""

TOKEN_PREFIX = "$e1$"
KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_INSTALL = "field encryption needs the cryptography package: pip install 'pycrm-core[encryption]'"


def is_token(value: object) -> bool:
    """Whether ``value`` is an encrypted token (an email always has an ``@``, a token never)."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX) and "@" not in value


def token_key_id(token: str) -> str:
    """The id of the key ``token`` was encrypted under."""
    return token[len(TOKEN_PREFIX) :].partition("$")[0]


def _key_bytes(key_id: str, key: object) -> bytes:
    if isinstance(key, str):
        try:
            key = base64.urlsafe_b64decode(key.strip().encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise ConfigurationError(f"encryption key {key_id!r}: not base64 ({exc})") from None
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"encryption key {key_id!r}: expected {KEY_BYTES} bytes (or their base64), "
            "as FieldCipher.generate_key() makes"
        )
    return key


def parse_keys(text: str) -> dict[str, str]:
    """``"2026-11:KEY,2025-01:KEY"`` (the format of ``$PYCRM_ENCRYPTION_KEYS``) as a mapping,
    in the order given."""
    keys: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key_id, sep, key = part.strip().partition(":")
        if not sep:
            raise ConfigurationError(f"{KEYS_ENV}: expected id:key pairs, got {part.strip()!r}")
        if key_id in keys:
            raise ConfigurationError(f"{KEYS_ENV}: key id {key_id!r} appears twice")
        keys[key_id] = key
    return keys


class FieldCipher:
    """Encrypts and decrypts field values under a key ring.

    ``keys`` maps key ids to 32-byte keys (or their base64); the first is the current key,
    used for everything written, and the others only decrypt. Rotating means putting a new
    key first, re-encrypting (:meth:`pycrm.CRM.reencrypt`), then dropping the old key.
    """

    __slots__ = ("_aead", "current_key_id")

    def __init__(self, keys: Mapping[str, str | bytes]) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:  # pragma: no cover - the encryption extra is in the test set
            raise ConfigurationError(_INSTALL) from None
        if not isinstance(keys, Mapping) or not keys:
            raise ConfigurationError("encryption keys: give at least one {key id: key}")
        self._aead: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
                raise ConfigurationError(
                    f"encryption key id {key_id!r}: use 1 to 32 letters, digits, '_', '.', '-'"
                )
            self._aead[key_id] = AESGCM(_key_bytes(key_id, key))
        self.current_key_id: str = next(iter(self._aead))
        """The id of the key new values are encrypted under."""

    @staticmethod
    def generate_key() -> str:
        """A new random key, base64 text ready for ``$PYCRM_ENCRYPTION_KEYS``."""
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id the ring decrypts, the current one first."""
        return tuple(self._aead)

    def encrypt(self, value: str, field: str) -> str:
        """The token of ``value`` as stored in ``field`` (the field binds the token)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead[self.current_key_id].encrypt(
            nonce, value.encode("utf-8"), field.encode()
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{TOKEN_PREFIX}{self.current_key_id}${payload}"

    def decrypt(self, value: str, field: str) -> str:
        """The text behind a token; a value that is no token is returned unchanged."""
        if not is_token(value):
            return value
        from cryptography.exceptions import InvalidTag

        key_id, _, payload = value[len(TOKEN_PREFIX) :].partition("$")
        aead = self._aead.get(key_id)
        if aead is None:
            raise ConfigurationError(
                f"{field} is encrypted under key {key_id!r}, which is not in the key ring "
                f"({', '.join(self._aead)}); add it to the encryption keys"
            )
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], field.encode()).decode(
                "utf-8"
            )
        except (InvalidTag, binascii.Error, ValueError):
            raise ConfigurationError(
                f"{field}: the stored value does not decrypt under key {key_id!r} "
                "(wrong key material for that id, or the value was altered)"
            ) from None

    def is_current(self, value: object) -> bool:
        """Whether ``value`` is a token under the current key (nothing to re-encrypt)."""
        return is_token(value) and token_key_id(str(value)) == self.current_key_id

    def __repr__(self) -> str:
        return f"FieldCipher(current={self.current_key_id!r}, keys={len(self._aead)})"


def field_cipher(keys: FieldCipher | Mapping[str, str | bytes] | str | None) -> FieldCipher | None:
    """The cipher for ``keys``: a ring, an ``id:key,…`` string, else ``$PYCRM_ENCRYPTION_KEYS``;
    ``None`` (values stored as given) when none of them is set."""
    if isinstance(keys, FieldCipher):
        return keys
    if keys is None:
        keys = os.environ.get(KEYS_ENV) or None
        if keys is None:
            return None
    if isinstance(keys, str):
        keys = parse_keys(keys)
    return FieldCipher(keys)


def plain(value: Any, field: str, cipher: FieldCipher | None) -> Any:
    """``value`` as read from storage: decrypted if it is a token (which needs ``cipher``)."""
    if not is_token(value):
        return value
    if cipher is None:
        raise ConfigurationError(
            f"{field} is encrypted (key {token_key_id(value)!r}) but this CRM has no "
            f"encryption keys; open it with encryption_keys= or set ${KEYS_ENV}"
        )
    return cipher.decrypt(value, field)
