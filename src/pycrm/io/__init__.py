"""Bulk import and export of customers, contacts, orders and interactions.

:func:`import_records` reads CSV, a pandas DataFrame or dicts, validates every row with the
entities' own rules, matches rows to stored records by a key and stores them in batches,
reporting refused rows in an :class:`ImportReport`. :func:`export_csv` and
:func:`export_dataframe` write stored records out, masked unless asked otherwise.
"""

from pycrm.io.columns import (
    Column,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    split_on,
)
from pycrm.io.export import export_csv, export_dataframe, export_rows
from pycrm.io.importer import DEFAULT_BATCH, MODES, import_records
from pycrm.io.kinds import KINDS, ImportKind
from pycrm.io.report import ImportReport, RowError
from pycrm.io.safe import csv_safe, csv_unquote

__all__ = [
    "DEFAULT_BATCH",
    "KINDS",
    "MODES",
    "Column",
    "ImportKind",
    "ImportReport",
    "RowError",
    "csv_safe",
    "csv_unquote",
    "export_csv",
    "export_dataframe",
    "export_rows",
    "import_records",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "split_on",
]
