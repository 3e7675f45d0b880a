"""Which stored columns are encrypted at rest, and the row translators that seal and open them.

Phone numbers, emails, ID numbers, addresses and messaging ids are encrypted (see
:mod:`pycrm.identity.cipher`); so are the same fields inside merge-log snapshots, which keep
whole records for an unmerge. Names and member ids stay in clear: they are searched, sorted
and unique-keyed, and are masked wherever they leave pycrm instead. Lookups by phone, email or
ID number go through the keyed hashes, never through these columns.

The wrapping happens at the row translators, so every write path (single, bulk, update) seals
and every read path opens, and an entity never sees a token. Without a cipher, values are
stored as given, and reading a token raises a :class:`pycrm.ConfigurationError` that says
which keys are missing rather than handing ciphertext to the application.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pycrm.errors import ConfigurationError, ValidationError
from pycrm.identity.cipher import KEYS_ENV, TOKEN_PREFIX, FieldCipher, is_token, plain
from pycrm.storage.sqlalchemy.tables import Tables
from pycrm.storage.sqlalchemy.translators import MAPPINGS, EntityMapping, Row, RowDict

SNAPSHOT_FIELDS = ("phone", "email", "id_number", "address", "messaging_ids")
"""Fields encrypted inside a snapshot (a merge log's copy of a customer or contact)."""

JSON_FIELDS = frozenset({"messaging_ids"})
"""Fields holding a mapping: encrypted as their JSON text."""


@attrs.frozen
class EncryptedColumns:
    """The encrypted columns of one entity type's table."""

    entity_type: str
    text: tuple[str, ...] = ()
    """Columns holding a value, encrypted as its text (JSON text for :data:`JSON_FIELDS`)."""
    snapshots: tuple[str, ...] = ()
    """JSON columns holding a snapshot or a list of them, encrypted field by field."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.text + self.snapshots


ENCRYPTED: Mapping[str, EncryptedColumns] = {
    c.entity_type: c
    for c in (
        EncryptedColumns("customer", text=("phone", "email", "id_number", "address")),
        EncryptedColumns("contact", text=("phone", "email", "messaging_ids")),
        EncryptedColumns(
            "merge_log", snapshots=("survivor_before", "survivor_after", "duplicates", "dropped")
        ),
        EncryptedColumns("outbox_message", text=("recipient", "subject", "body")),
    )
}
"""Entity type -> its encrypted columns."""


class FieldSealer:
    """Seals (encrypts) and opens (decrypts) the encrypted values of rows of one table."""

    def __init__(self, columns: EncryptedColumns, cipher: FieldCipher | None) -> None:
        self.columns = columns
        self.cipher = cipher
        self._names = {c: f"{columns.entity_type}.{c}" for c in columns.text}

    # -- single values ----------------------------------------------------------------------

    def _seal_value(self, value: Any, field: str, name: str) -> Any:
        cipher = self.cipher
        if cipher is None or value is None:
            return value
        if field in JSON_FIELDS:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return cipher.encrypt(value, name)

    def _open_value(self, value: Any, field: str, name: str) -> Any:
        if not is_token(value):
            return value
        text = plain(value, name, self.cipher)
        return json.loads(text) if field in JSON_FIELDS else text

    def _snapshot(self, data: Any, convert: Any) -> Any:
        if isinstance(data, list):
            return [self._snapshot(item, convert) for item in data]
        if not isinstance(data, dict):
            return data
        changed = dict(data)
        for field in SNAPSHOT_FIELDS:
            if changed.get(field) is not None:
                changed[field] = convert(changed[field], field, f"snapshot.{field}")
        return changed

    # -- rows -------------------------------------------------------------------------------

    def seal(self, row: RowDict) -> RowDict:
        """``row`` (fresh from a ``to_row``) with its encrypted columns sealed, in place.

        Without a cipher the values are stored as given, except text shaped like a token,
        which would read back as ciphertext: it is refused, naming its field."""
        if self.cipher is None:
            for column in self._names:
                if is_token(row[column]):
                    raise ValidationError(column, f"must not start with {TOKEN_PREFIX!r}")
            return row
        for column, name in self._names.items():
            row[column] = self._seal_value(row[column], column, name)
        for column in self.columns.snapshots:
            row[column] = self._snapshot(row[column], self._seal_value)
        return row

    def open(self, row: Row) -> Row:
        """``row`` as the translators expect it: encrypted columns in clear."""
        values: dict[str, Any] | None = None
        for column, name in self._names.items():
            if is_token(row[column]):
                values = dict(row) if values is None else values
                values[column] = self._open_value(row[column], column, name)
        if self.columns.snapshots:
            values = dict(row) if values is None else values
            for column in self.columns.snapshots:
                values[column] = self._snapshot(row[column], self._open_value)
        return row if values is None else values

    def is_stale(self, row: Row) -> bool:
        """Whether ``row`` holds a value not sealed under the current key."""
        cipher = self.cipher
        if cipher is None:
            return False
        for column in self.columns.text:
            value = row[column]
            if value is not None and not cipher.is_current(value):
                return True
        return any(_stale_snapshot(row[column], cipher) for column in self.columns.snapshots)


def _stale_snapshot(data: Any, cipher: FieldCipher) -> bool:
    if isinstance(data, list):
        return any(_stale_snapshot(item, cipher) for item in data)
    if not isinstance(data, dict):
        return False
    return any(
        data.get(field) is not None and not cipher.is_current(data[field])
        for field in SNAPSHOT_FIELDS
    )


def sealed_mapping(mapping: EntityMapping, cipher: FieldCipher | None) -> EntityMapping:
    """``mapping`` with its row translators sealing and opening the encrypted columns (as it
    is for entity types with none)."""
    columns = ENCRYPTED.get(mapping.entity_type)
    if columns is None:
        return mapping
    sealer = FieldSealer(columns, cipher)
    to_row, from_row = mapping.to_row, mapping.from_row

    def sealed_to_row(entity: Any) -> RowDict:
        return sealer.seal(to_row(entity))

    def opened_from_row(row: Row, *children: Sequence[Row]) -> Any:
        return from_row(sealer.open(row), *children)

    return attrs.evolve(mapping, to_row=sealed_to_row, from_row=opened_from_row)


def _pages(
    engine: Engine, table: sa.Table, columns: Sequence[str], batch_size: int
) -> Iterator[Sequence[Row]]:
    has_value = sa.or_(*(table.c[c].is_not(None) for c in columns))
    query = sa.select(table.c.id, table.c.version, *(table.c[c] for c in columns)).where(has_value)
    after: str | None = None
    while True:
        page = query if after is None else query.where(table.c.id > after)
        with engine.connect() as conn:
            rows = list(conn.execute(page.order_by(table.c.id).limit(batch_size)).mappings())
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


def reencrypt(
    engine: Engine,
    tables: Tables,
    cipher: FieldCipher | None,
    *,
    batch_size: int = 1000,
) -> int:
    """Seal every encrypted value not yet under the cipher's current key (values in clear
    too); return the number of rows rewritten. One transaction per batch, so a rotation of a
    large database holds no long lock and can be run again after an interruption. A row
    changed by a session meanwhile is left alone: that session sealed it under the current
    key already (the update checks the version, which the rewrite itself leaves as it is)."""
    if cipher is None:
        raise ConfigurationError(
            f"re-encrypting needs encryption keys: encryption_keys= or ${KEYS_ENV}"
        )
    rewritten = 0
    for entity_type, columns in ENCRYPTED.items():
        table: sa.Table = getattr(tables, MAPPINGS[entity_type].table)
        sealer = FieldSealer(columns, cipher)
        names = columns.columns
        update = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_version"))
            .values({c: sa.bindparam(f"_{c}") for c in names})
        )
        for rows in _pages(engine, table, names, batch_size):
            stale = [row for row in rows if sealer.is_stale(row)]
            if not stale:
                continue
            params = []
            for row in stale:
                opened = dict(sealer.open(row))
                sealed = sealer.seal(opened)
                params.append(
                    {"_id": row["id"], "_version": row["version"]}
                    | {f"_{c}": sealed[c] for c in names}
                )
            with engine.begin() as conn:
                rewritten += conn.execute(update, params).rowcount
    return rewritten
