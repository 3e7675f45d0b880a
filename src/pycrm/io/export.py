"""Export stored records to CSV or a pandas DataFrame, masked unless asked otherwise.

Columns are the record's ``id`` followed by the fields an import reads (money as
``<name>_amount`` and ``<name>_currency``, tags joined with commas, text lists one item per
line, mappings as JSON), so an unmasked export can be edited and imported again. Personal
fields (phone, email, address, member id, ID number, messaging ids) are masked by default;
``unmasked=True`` is an explicit choice. CSV cells that a spreadsheet would run as a formula
are defused (see :func:`pycrm.io.safe.csv_safe`). Records are read a page at a time, so
memory stays flat however many there are (a DataFrame, of course, holds them all).
"""

from __future__ import annotations

import csv
import enum
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.domain.personal import mask_value
from pycrm.extras import require_pandas
from pycrm.io.kinds import CUSTOMER_REFERENCES, ImportKind, import_kind
from pycrm.io.safe import csv_safe

if TYPE_CHECKING:
    from pycrm.crm import CRM

DEFAULT_PAGE = 1000


def export_columns(kind: ImportKind) -> tuple[str, ...]:
    """The columns of an export of ``kind``, in order."""
    return ("id", *(name for name in kind.fields if name not in CUSTOMER_REFERENCES))


def export_rows(
    crm: CRM,
    kind: str,
    *,
    unmasked: bool = False,
    page_size: int = DEFAULT_PAGE,
    actor: str = "export",
) -> Iterator[dict[str, Any]]:
    """Every stored record of ``kind`` as a dict of export columns, in id order, personal
    fields masked unless ``unmasked``; values keep their types (``Decimal``, ``datetime``,
    enum values as text, tags as a sorted list)."""
    chosen = import_kind(kind)
    conv.check_bool(unmasked, "unmasked")
    conv.check_int(page_size, "page_size", minimum=1, required=True)
    columns = export_columns(chosen)
    money = {f"{name}_amount": name for name in chosen.money}
    with crm.session(actor=actor) as s:
        repository = getattr(s, chosen.repository)
        for entity in repository.stream(batch_size=page_size):
            row: dict[str, Any] = {}
            for column in columns:
                if column in money:
                    value: Any = getattr(entity, money[column])
                    row[column] = value.amount if isinstance(value, Money) else None
                    continue
                if column.endswith("_currency") and column[: -len("_currency")] in chosen.money:
                    value = getattr(entity, column[: -len("_currency")])
                    row[column] = value.currency if isinstance(value, Money) else None
                    continue
                value = getattr(entity, column)
                if not unmasked:
                    value = mask_value(column, value)
                row[column] = _plain(value)
            yield row


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _cell(value: Any) -> str:
    """One CSV cell: text defused against formulas; numbers and dates as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, list):
        joiner = "," if all("\n" not in str(item) for item in value) else "\n"
        return csv_safe(joiner.join(str(item) for item in value))
    if isinstance(value, dict):
        return csv_safe(json.dumps(value, ensure_ascii=False, sort_keys=True)) if value else ""
    return str(value)


def export_csv(
    crm: CRM,
    kind: str,
    target: str | os.PathLike[str] | IO[str],
    *,
    unmasked: bool = False,
    page_size: int = DEFAULT_PAGE,
    actor: str = "export",
) -> int:
    """Write every stored record of ``kind`` to ``target`` (a path, written as UTF-8, or a
    text file object) as CSV; returns the number of records written."""
    chosen = import_kind(kind)
    columns = export_columns(chosen)
    lists = {name for name, reader in chosen.fields.items() if reader == "lines"}
    with ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            out: IO[str] = stack.enter_context(open(target, "w", encoding="utf-8", newline=""))
        else:
            out = target
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        count = 0
        for row in export_rows(crm, kind, unmasked=unmasked, page_size=page_size, actor=actor):
            cells = []
            for column in columns:
                value = row[column]
                if column in lists and value:
                    cells.append(csv_safe("\n".join(value)))
                else:
                    cells.append(_cell(value))
            writer.writerow(cells)
            count += 1
    return count


def export_dataframe(
    crm: CRM,
    kind: str,
    *,
    unmasked: bool = False,
    page_size: int = DEFAULT_PAGE,
    actor: str = "export",
) -> Any:
    """Every stored record of ``kind`` as a pandas ``DataFrame`` (the ``pandas`` extra),
    one column per export column, personal fields masked unless ``unmasked``. Values are not
    defused against formulas: write files with :func:`export_csv`."""
    pandas = require_pandas("export_dataframe")
    columns = export_columns(import_kind(kind))
    rows = export_rows(crm, kind, unmasked=unmasked, page_size=page_size, actor=actor)
    return pandas.DataFrame.from_records(list(rows), columns=list(columns))


__all__ = ["export_columns", "export_csv", "export_dataframe", "export_rows"]
