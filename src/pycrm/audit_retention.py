"""Audit retention: purge entries past the policy, and export the log.

Both read and write the log set-based: a purge is one ``DELETE ... WHERE at < cutoff``, an
export reads the log a page at a time in ``(at, id)`` order, so neither holds it in memory.
Entries are stored with personal data already masked (see :mod:`pycrm.domain.audit`), so an
export shows them as they are; CSV cells that a spreadsheet would run as a formula are
quoted with a leading apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pycrm.access.retention import RetentionPolicy, check_cutoff
from pycrm.domain import AuditEntry, ChangeKind
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

if TYPE_CHECKING:
    from pycrm.crm import CRM

EXPORT_BATCH = 1000
FORMATS = ("csv", "jsonl")
COLUMNS = ("id", "at", "actor", "action", "entity_type", "entity_id", "customer_id", "changes")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def purge_audit(
    crm: CRM,
    *,
    older_than: datetime | None = None,
    policy: RetentionPolicy | None = None,
    actor: str = "system",
) -> int:
    """Delete the entries older than ``older_than`` (or than ``policy`` keeps, by default six
    months) in one statement; returns how many went. The purge itself is audited."""
    if older_than is not None and policy is not None:
        raise ValidationError("older_than", "give older_than or a policy, not both")
    if policy is not None and not isinstance(policy, RetentionPolicy):
        raise ValidationError("policy", f"expected a RetentionPolicy, got {type(policy).__name__}")
    now = crm.clock.now()
    if older_than is not None:
        cutoff = check_cutoff(older_than, now)
    else:
        cutoff = (policy or RetentionPolicy()).cutoff(now)
    with crm.session(actor=actor) as s:
        purged = s._tx.audit.purge(cutoff)
        s._tx.audit.append(
            [
                AuditEntry(
                    at=now,
                    actor=s.actor,
                    action=ChangeKind.REMOVED,
                    entity_type="audit",
                    entity_id="audit_log",
                    changes={"purged": [purged, None], "older_than": [cutoff.isoformat(), None]},
                )
            ]
        )
    return purged


def audit_entries(crm: CRM, *, since: datetime | None = None) -> Iterator[AuditEntry]:
    """Every entry at or after ``since``, oldest first, fetched a page at a time."""
    start = conv.check_datetime(since, "since", required=False)
    with crm.session() as s:
        after: tuple[datetime, str] | None = None
        while True:
            page = s._tx.audit.page(since=start, after=after, limit=EXPORT_BATCH)
            yield from page
            if len(page) < EXPORT_BATCH:
                return
            after = (page[-1].at, page[-1].id)


def export_audit(
    crm: CRM, out: str | Path | IO[str], *, since: datetime | None = None, format: str = "csv"
) -> int:
    """Write the entries at or after ``since`` to ``out`` (a path or a text stream) as CSV
    with a header row or as JSON lines; returns how many were written."""
    if format not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}", value=format)
    with _opened(out) as stream:
        count = 0
        if format == "csv":
            writer = csv.writer(stream)
            writer.writerow(COLUMNS)
            for entry in audit_entries(crm, since=since):
                writer.writerow([_cell(value) for value in _values(entry).values()])
                count += 1
        else:
            for entry in audit_entries(crm, since=since):
                stream.write(json.dumps(_values(entry), ensure_ascii=False) + "\n")
                count += 1
    return count


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action.value,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "customer_id": entry.customer_id,
        "changes": None if entry.changes is None else dict(entry.changes),
    }


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@contextmanager
def _opened(out: str | Path | IO[str]) -> Iterator[IO[str]]:
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as stream:
            yield stream
    elif hasattr(out, "write"):
        yield out
    else:
        raise ValidationError("out", f"expected a path or a text stream, got {type(out).__name__}")
