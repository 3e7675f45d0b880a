"""The ``pycrm`` command line (also ``python -m pycrm``).

``pycrm demo`` writes a SQLite file full of realistic sample data and prints a summary of it;
``pycrm rfm URL`` prints the RFM segments and best customers of a database;
``pycrm import KIND FILE --db URL`` and ``pycrm export KIND FILE --db URL`` move customers,
contacts, orders and interactions in and out as CSV;
``pycrm audit purge --db URL`` deletes audit entries past the retention policy and
``pycrm audit export OUT --db URL`` writes the audit log as CSV or JSON lines;
``pycrm outbox purge --db URL`` deletes sent and dead outbox messages past their retention;
``pycrm report NAME --db URL`` prints a report for a period (``--list`` names them) and
writes its figure with ``--png``;
``pycrm db upgrade URL`` / ``pycrm db current URL`` run and inspect pycrm's migrations on a
database a host manages. CRMs opened here load the ``pycrm`` entry-point plugins, reporting a
broken plugin as a warning instead of failing.

Exit codes: 0 on success, 1 when pycrm or the database refuses (the message is printed as
``error: ...``, without a traceback), 2 on bad usage (argparse's convention), 130 when
interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, TextIO

from pycrm import CRM, Clock, FixedClock, PycrmError, __version__
from pycrm.analytics.table import ReportTable
from pycrm.errors import ConfigurationError

DEFAULT_DEMO_DB = "pycrm-demo.db"
DEFAULT_DEMO_CUSTOMERS = 3000

_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


class CommandFailed(Exception):
    """An expected failure outside pycrm's own errors (database driver, migrations, files),
    carried to :func:`main` so it is reported like a :class:`pycrm.PycrmError`."""


def _write(stream: TextIO, text: str) -> None:
    # A console or pipe in a legacy encoding cannot show Chinese names; replace what it
    # cannot encode rather than fail after the work is done.
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding))


def _say(text: str) -> None:
    """Progress and notes go to stderr, so stdout carries only the result."""
    _write(sys.stderr, text + "\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def open_crm(url: str, *, clock: Clock | None = None, plugins: bool = True) -> CRM:
    """A CRM on ``url`` with entry-point plugins loaded; each plugin that failed to load is
    reported as a warning on stderr."""
    crm = CRM.open(url, clock=clock, load_entrypoints=plugins)
    for failure in crm.plugin_errors:
        _say(f"warning: plugin {failure.name!r} was not loaded: {failure.error}")
    return crm


# -- demo ----------------------------------------------------------------------------------


def _clear_demo_file(path: Path) -> bool:
    """Make room for a new demo database at ``path``; ``True`` if an old one was removed.

    Only a SQLite database (or an empty file) is replaced, so a mistyped ``--db`` cannot
    destroy some other file.
    """
    if path.is_dir():
        raise ConfigurationError(f"{path} is a directory; --db takes a file name")
    parent = path.parent
    if not parent.is_dir():
        raise ConfigurationError(f"directory {parent} does not exist")
    if not path.exists():
        return False
    with path.open("rb") as existing:
        header = existing.read(len(_SQLITE_HEADER))
    if header and header != _SQLITE_HEADER:
        raise ConfigurationError(f"{path} exists and is not a SQLite database; not replacing it")
    _remove_database(path)
    return True


def _remove_database(path: Path) -> None:
    for suffix in ("", *_SQLITE_SIDECARS):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _demo_plots(crm: CRM, folder: str) -> list[Path]:
    """The demo's figures as PNG files, or none (said so) without the plots extra."""
    from pycrm import demo

    try:
        return demo.write_plots(crm, Path(folder))
    except ConfigurationError as exc:
        _say(f"no figures written: {exc}")
        return []


def run_demo(args: argparse.Namespace) -> int:
    """``pycrm demo``: summary on stdout, progress and the file's URL on stderr."""
    from pycrm import demo  # imported per command, so ``--version`` and ``db`` start quickly

    path = Path(args.db)
    if _clear_demo_file(path):
        _say(f"replacing the existing {path}")
    url = f"sqlite:///{path.resolve().as_posix()}"
    clock = FixedClock(demo.DEMO_NOW) if args.seed is not None else None
    seed_note = f"seed {args.seed}" if args.seed is not None else "random seed"
    _say(f"writing {args.customers:,} sample customers to {path} ({seed_note})")
    started = time.perf_counter()
    try:
        with open_crm(url, clock=clock, plugins=args.plugins) as crm:
            counts = demo.load(crm, customers=args.customers, seed=args.seed)
            loaded = time.perf_counter() - started
            summary = demo.summarize(crm)
            figures = _demo_plots(crm, args.plots or f"{path.with_suffix('')}-plots")
    except BaseException:
        # A demo database without its data is of no use to anyone: do not leave it behind.
        _remove_database(path)
        raise
    _write(sys.stdout, summary)
    if figures:
        _say(f"\nwrote {len(figures)} figures to {figures[0].parent}")
    total = sum(counts.values())
    _say(f"\nloaded {total:,} records in {loaded:.1f} s; open them with CRM.open({url!r})")
    return 0


# -- db ------------------------------------------------------------------------------------


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _database_errors() -> tuple[type[Exception], ...]:
    """Errors the database layer raises on bad URLs, unreachable servers or unknown
    revisions: reported as ``error: ...``, not as a traceback."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    return (CommandError, SQLAlchemyError)


def run_db_upgrade(args: argparse.Namespace) -> int:
    """``pycrm db upgrade``: prints the revision reached, so scripts can check it."""
    from pycrm.storage.sqlalchemy import current_revision, upgrade

    try:
        upgrade(args.url, revision=args.revision, table_prefix=args.prefix, schema=args.schema)
        revision = current_revision(args.url, table_prefix=args.prefix, schema=args.schema)
    except _database_errors() as exc:
        raise CommandFailed(f"cannot upgrade {_display_url(args.url)}: {exc}") from exc
    _write(sys.stdout, f"{revision or 'none'}\n")
    _say(f"pycrm tables ({args.prefix}*) in {_display_url(args.url)} are at {revision}")
    return 0


def run_db_reencrypt(args: argparse.Namespace) -> int:
    """``pycrm db reencrypt``: seal personal data under the current key of
    ``$PYCRM_ENCRYPTION_KEYS`` (after a rotation, or after switching encryption on)."""
    try:
        with open_crm(args.url, plugins=args.plugins) as crm:
            count = crm.reencrypt(batch_size=args.batch_size)
    except _database_errors() as exc:
        raise CommandFailed(f"cannot re-encrypt {_display_url(args.url)}: {exc}") from exc
    _write(sys.stdout, f"re-encrypted {count:,} rows\n")
    return 0


def run_db_new_key(args: argparse.Namespace) -> int:
    """``pycrm db new-key``: a fresh ``id:key`` entry for ``$PYCRM_ENCRYPTION_KEYS``."""
    from pycrm.identity.cipher import FieldCipher

    FieldCipher({args.id: FieldCipher.generate_key()})  # checks the id
    _write(sys.stdout, f"{args.id}:{FieldCipher.generate_key()}\n")
    return 0


def run_db_current(args: argparse.Namespace) -> int:
    """``pycrm db current``: the revision, ``(head)`` when current, ``none`` if never migrated."""
    from pycrm.storage.sqlalchemy import current_revision
    from pycrm.storage.sqlalchemy.migrate import head_revision

    try:
        revision = current_revision(args.url, table_prefix=args.prefix, schema=args.schema)
    except _database_errors() as exc:
        raise CommandFailed(f"cannot read {_display_url(args.url)}: {exc}") from exc
    if revision is None:
        _write(sys.stdout, "none\n")
        _say(f"no pycrm migration record for tables {args.prefix}* in {_display_url(args.url)}")
    else:
        head = " (head)" if revision == head_revision() else ""
        _write(sys.stdout, f"{revision}{head}\n")
    return 0


# -- rfm -----------------------------------------------------------------------------------


def _as_of(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def run_rfm(args: argparse.Namespace) -> int:
    """``pycrm rfm``: the segment summary, then the best customers by R + F + M."""
    from pycrm.grading.rfm import format_summary, format_table

    try:
        with open_crm(args.url, plugins=args.plugins) as crm:
            table = crm.rfm(args.as_of, bins=args.bins, currency=args.currency)
            names = {}
            if len(table):
                best = sorted(table, key=lambda row: (-(row.r + row.f + row.m), -row.monetary))
                shown = [row.customer_id for row in best[: args.top]]
                with crm.session() as s:
                    names = {c.id: c.name for c in map(s.customers.get_or_none, shown) if c}
    except _database_errors() as exc:
        raise CommandFailed(f"cannot read {_display_url(args.url)}: {exc}") from exc
    currency = f" in {args.currency.upper()}" if args.currency else ""
    _write(
        sys.stdout,
        f"RFM of {len(table):,} customers as of {table.as_of.isoformat()}{currency}, "
        f"{table.bins} bins\n\n",
    )
    if not len(table):
        _write(sys.stdout, "no purchases up to then\n")
        return 0
    _write(sys.stdout, format_summary(table.summary()) + "\n\n")
    segments = {item.customer_id: item for item in table.segmented()}
    rows = [
        (
            row.customer_id,
            names.get(row.customer_id, ""),
            segments[row.customer_id].segment,
            str(row.recency_days),
            str(row.frequency),
            f"{row.monetary:,.2f}",
            row.code,
        )
        for row in (table[customer] for customer in shown)
    ]
    headers = ("customer", "name", "segment", "days", "orders", "spend", "rfm")
    _write(sys.stdout, f"top {len(rows)} customers\n")
    _write(sys.stdout, format_table(headers, rows, right=3) + "\n")
    return 0


# -- import / export -------------------------------------------------------------------------


def _zone(text: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"not a time zone name: {text!r}") from None


def _column_map(text: str) -> tuple[str, str | None]:
    column, sep, field = text.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(
            f"expected COLUMN=FIELD (or COLUMN= to ignore), got {text!r}"
        )
    return column.strip(), field.strip() or None


def run_import(args: argparse.Namespace) -> int:
    """``pycrm import``: the summary on stdout; refused rows on stderr or in ``--errors``."""
    from pycrm.io import import_records

    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            report = import_records(
                crm,
                args.kind,
                Path(args.file),
                mapping=dict(args.map),
                key=args.key,
                mode=args.mode,
                batch_size=args.batch_size,
                currency=args.currency,
                encoding=args.encoding,
                delimiter=args.delimiter,
                tz=args.tz,
                tag_separator=args.tag_separator,
                progress=args.progress,
            )
    except _database_errors() as exc:
        raise CommandFailed(f"cannot import into {_display_url(args.db)}: {exc}") from exc
    _write(sys.stdout, report.summary() + "\n")
    if report.errors:
        if args.errors:
            with open(args.errors, "w", encoding="utf-8", newline="") as out:
                report.to_csv(out)
            _say(f"{len(report.errors):,} refused rows listed in {args.errors}")
        else:
            shown = report.errors[:20]
            for error in shown:
                column = f" (column {error.column})" if error.column else ""
                _say(f"row {error.row}: {error.field}{column}: {error.problem}")
            if len(report.errors) > len(shown):
                _say(f"... and {len(report.errors) - len(shown):,} more; use --errors FILE")
        return 1
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``pycrm export``: CSV to a file (or stdout for ``-``), masked unless ``--unmasked``."""
    from pycrm.io import export_csv

    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            if args.out == "-":
                count = export_csv(crm, args.kind, sys.stdout, unmasked=args.unmasked)
            else:
                count = export_csv(crm, args.kind, Path(args.out), unmasked=args.unmasked)
    except _database_errors() as exc:
        raise CommandFailed(f"cannot export from {_display_url(args.db)}: {exc}") from exc
    masking = "unmasked" if args.unmasked else "personal data masked"
    _say(f"exported {count:,} {args.kind} ({masking})")
    return 0


# -- parser --------------------------------------------------------------------------------


def _add_table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="SQLAlchemy database URL, e.g. sqlite:///crm.db")
    parser.add_argument(
        "--prefix",
        default="crm_",
        help="prefix of pycrm's table names (default: %(default)s)",
    )
    parser.add_argument("--schema", default=None, help="database schema holding the tables")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pycrm",
        description=(
            "pycrm, an embeddable CRM library: sample data, RFM segments, CSV import and "
            "export, and database maintenance."
        ),
    )
    parser.add_argument("--version", action="version", version=f"pycrm {__version__}")
    parser.add_argument(
        "--no-plugins",
        dest="plugins",
        action="store_false",
        help="do not load plugins from the 'pycrm' entry-point group",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show progress messages (such as each migration run) on stderr",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="write a SQLite file with realistic sample data and summarise it",
        description=(
            "Generate customers (companies and people, in China and abroad), contacts, "
            "orders, interactions, tasks, deals and service tickets, store them in a new "
            "SQLite file through pycrm's bulk path and print a summary. With --seed the data "
            "and the summary are the same on every run."
        ),
    )
    demo.add_argument(
        "--db",
        default=DEFAULT_DEMO_DB,
        help="SQLite file to write; an existing demo file is replaced (default: %(default)s)",
    )
    demo.add_argument(
        "--customers",
        type=_positive_int,
        default=DEFAULT_DEMO_CUSTOMERS,
        help="how many customers to generate (default: %(default)s)",
    )
    demo.add_argument(
        "--seed", type=int, default=None, help="random seed, for reproducible data and dates"
    )
    demo.add_argument(
        "--plots",
        default=None,
        metavar="DIR",
        help="folder for the report figures (default: beside the file, named after it)",
    )
    demo.set_defaults(handler=run_demo)

    db = commands.add_parser("db", help="run or inspect pycrm's migrations on a database")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="create or upgrade pycrm's tables",
        description="Create pycrm's tables, or bring them up to a revision, in a database.",
    )
    _add_table_options(upgrade)
    upgrade.add_argument(
        "--revision", default="head", help="target revision (default: %(default)s)"
    )
    upgrade.set_defaults(handler=run_db_upgrade)
    current = actions.add_parser(
        "current",
        help="print the revision pycrm's tables are at",
        description="Print the migration revision of pycrm's tables ('none' if never migrated).",
    )
    _add_table_options(current)
    current.set_defaults(handler=run_db_current)
    reencrypt = actions.add_parser(
        "reencrypt",
        help="encrypt personal data under the current key of $PYCRM_ENCRYPTION_KEYS",
        description=(
            "Encrypt every phone, email, ID number, address and messaging id not yet under the "
            "first key of $PYCRM_ENCRYPTION_KEYS: after putting a new key first (rotation), or "
            "after switching encryption on. Safe to run again; prints the rows rewritten."
        ),
    )
    reencrypt.add_argument("url", help="SQLAlchemy database URL, e.g. sqlite:///crm.db")
    reencrypt.add_argument(
        "--batch-size", type=int, default=1000, help="rows per transaction (default: %(default)s)"
    )
    reencrypt.set_defaults(handler=run_db_reencrypt)
    new_key = actions.add_parser(
        "new-key",
        help="print a new encryption key as id:key",
        description="Print a new random encryption key as an id:key entry for "
        "$PYCRM_ENCRYPTION_KEYS (put it first to make it the current key).",
    )
    new_key.add_argument("--id", default=date.today().strftime("%Y-%m"), help="the key's id")
    new_key.set_defaults(handler=run_db_new_key)

    rfm = commands.add_parser(
        "rfm",
        help="print RFM segments and the best customers of a database",
        description=(
            "Score every customer by recency, frequency and monetary value of their "
            "purchases (one query in the database) and print the customers and spend per "
            "segment, then the best customers."
        ),
    )
    rfm.add_argument("url", help="SQLAlchemy database URL, e.g. sqlite:///crm.db")
    rfm.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        help="score as of this ISO date or time, UTC unless it has an offset (default: now)",
    )
    rfm.add_argument(
        "--bins", type=_positive_int, default=5, help="scores run 1..N (default: %(default)s)"
    )
    rfm.add_argument(
        "--currency",
        default=None,
        help="count only orders in this currency (default: every order, summed as numbers)",
    )
    rfm.add_argument(
        "--top",
        type=_positive_int,
        default=10,
        help="how many of the best customers to list (default: %(default)s)",
    )
    rfm.set_defaults(handler=run_rfm)
    _add_import_export(commands)
    _add_audit(commands)
    _add_outbox(commands)
    _add_dispatch(commands)
    _add_tick(commands)
    _add_report(commands)
    return parser


def run_dispatch(args: argparse.Namespace) -> int:
    """``pycrm dispatch``: send the outbox's due messages once; for cron."""
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            report = crm.dispatch(
                limit=args.limit, batch_size=args.batch_size, progress=sys.stderr.isatty()
            )
    except _database_errors() as exc:
        raise CommandFailed(f"cannot dispatch from {_display_url(args.db)}: {exc}") from exc
    _write(sys.stdout, f"{report}\n")
    return 1 if report.dead else 0


def _add_dispatch(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dispatch = commands.add_parser(
        "dispatch",
        help="send the outbox's due notifications",
        description=(
            "Send every due message of the outbox through its channel (channels come from "
            "plugins of the pycrm entry-point group), retrying failures later with backoff. "
            "Prints what it did; exits 1 if a message went dead on this run. Safe to run "
            "from several machines at once."
        ),
    )
    dispatch.add_argument("--db", required=True, help="SQLAlchemy database URL")
    dispatch.add_argument("--limit", type=int, default=None, help="send at most this many")
    dispatch.add_argument(
        "--batch-size", type=int, default=100, help="messages per claim (default: %(default)s)"
    )
    dispatch.set_defaults(handler=run_dispatch)


def run_tick(args: argparse.Namespace) -> int:
    """``pycrm tick``: run the automation rules once; for cron."""
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            if args.staff_channel is not None:
                crm.automation.staff_channel = args.staff_channel
            if args.customer_channel is not None:
                crm.automation.customer_channel = args.customer_channel
            report = crm.tick(
                args.now, rules=args.rule, limit=args.limit, progress=sys.stderr.isatty()
            )
    except _database_errors() as exc:
        raise CommandFailed(f"cannot tick on {_display_url(args.db)}: {exc}") from exc
    _write(sys.stdout, f"{report}\n")
    return 0 if report.ok else 1


def _add_tick(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tick = commands.add_parser(
        "tick",
        help="run the automation rules once",
        description=(
            "Run every enabled automation rule (built-in and from plugins of the pycrm "
            "entry-point group): due follow-ups, stale deals, SLA alerts, overdue payments "
            "and the rest become tasks and queued notifications. Running it again creates "
            "nothing twice. Prints what each rule did; exits 1 if a rule failed. Follow it "
            "with 'pycrm dispatch' to send what it queued."
        ),
    )
    tick.add_argument("--db", required=True, help="SQLAlchemy database URL")
    tick.add_argument(
        "--now",
        type=_as_of,
        default=None,
        help="run as of this ISO date or time, UTC unless it has an offset (default: now)",
    )
    tick.add_argument(
        "--rule",
        action="append",
        default=None,
        help="run only this rule (repeat for several; default: every enabled rule)",
    )
    tick.add_argument(
        "--limit",
        type=_positive_int,
        default=500,
        help="records each rule reads per page (default: %(default)s)",
    )
    tick.add_argument(
        "--staff-channel", default=None, help="channel for notices to staff (default: log)"
    )
    tick.add_argument(
        "--customer-channel",
        default=None,
        help="channel for notices to customers (default: none, they are not sent)",
    )
    tick.set_defaults(handler=run_tick)


def _add_import_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pycrm.io import DEFAULT_BATCH, KINDS, MODES

    kinds = list(KINDS)
    imports = commands.add_parser(
        "import",
        help="import customers, contacts, orders or interactions from a CSV file",
        description=(
            "Read a CSV file row by row, check every row as the library does, and store the "
            "rows in batches. With --key, rows whose key is already stored update that "
            "record. In all_or_nothing mode (the default) one refused row stores nothing; "
            "with skip_bad_rows the good rows are stored. Exits 1 when any row was refused."
        ),
    )
    imports.add_argument("kind", choices=kinds, help="what the file holds")
    imports.add_argument("file", help="CSV file with a header row (UTF-8 by default)")
    imports.add_argument("--db", required=True, help="SQLAlchemy database URL")
    imports.add_argument(
        "--map",
        type=_column_map,
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read COLUMN into FIELD; COLUMN= ignores the column (repeatable)",
    )
    imports.add_argument("--key", default=None, help="match rows on this field and update")
    imports.add_argument(
        "--mode", choices=MODES, default="all_or_nothing", help="default: %(default)s"
    )
    imports.add_argument(
        "--errors", default=None, metavar="FILE", help="write refused rows to FILE as CSV"
    )
    imports.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH,
        help="rows stored per batch (default: %(default)s)",
    )
    imports.add_argument(
        "--currency", default=None, help="currency of amounts without a currency column"
    )
    imports.add_argument("--encoding", default="utf-8", help="file encoding (default: utf-8)")
    imports.add_argument(
        "--delimiter", default=",", help="what separates cells, e.g. ';' (default: ,)"
    )
    imports.add_argument(
        "--tz",
        type=_zone,
        default=None,
        help="time zone of times without an offset, e.g. Asia/Shanghai (default: refuse them)",
    )
    imports.add_argument(
        "--tag-separator", default=",", help="what separates tags in a cell (default: ,)"
    )
    imports.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    imports.set_defaults(handler=run_import)

    exports = commands.add_parser(
        "export",
        help="export customers, contacts, orders or interactions to CSV",
        description=(
            "Write every stored record as CSV, personal data masked unless --unmasked. "
            "Cells a spreadsheet would run as formulas are prefixed with a quote."
        ),
    )
    exports.add_argument("kind", choices=kinds, help="what to export")
    exports.add_argument("out", help="CSV file to write, or - for stdout")
    exports.add_argument("--db", required=True, help="SQLAlchemy database URL")
    exports.add_argument(
        "--unmasked", action="store_true", help="write personal data in full (a choice)"
    )
    exports.set_defaults(handler=run_export)


# -- audit ---------------------------------------------------------------------------------


def run_audit_purge(args: argparse.Namespace) -> int:
    """``pycrm audit purge``: delete entries older than the retention policy keeps."""
    from pycrm.access import RetentionPolicy

    policy = RetentionPolicy(keep_days=args.keep_days)
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            count = crm.purge_audit(policy=policy, actor="pycrm audit purge")
    except _database_errors() as exc:
        raise CommandFailed(
            f"cannot purge the audit log of {_display_url(args.db)}: {exc}"
        ) from exc
    _write(sys.stdout, f"purged {count:,} audit entries older than {policy.keep_days} days\n")
    return 0


def run_audit_export(args: argparse.Namespace) -> int:
    """``pycrm audit export``: the audit log to a file (or stdout for ``-``)."""
    failures: tuple[type[Exception], ...] = (OSError, *_database_errors())
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            out = sys.stdout if args.out == "-" else Path(args.out)
            count = crm.export_audit(out, since=args.since, format=args.format)
    except failures as exc:
        raise CommandFailed(f"cannot export the audit log: {exc}") from exc
    _say(f"exported {count:,} audit entries")
    return 0


def _add_audit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pycrm.access import MIN_KEEP_DAYS
    from pycrm.audit_retention import FORMATS

    audit = commands.add_parser("audit", help="purge or export the audit log")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge",
        help="delete audit entries past the retention policy",
        description=(
            "Delete the audit entries older than --keep-days days in one statement. The "
            f"retention is at least six months ({MIN_KEEP_DAYS} days); a shorter one is refused."
        ),
    )
    purge.add_argument("--db", required=True, help="SQLAlchemy database URL")
    purge.add_argument(
        "--keep-days",
        type=_positive_int,
        default=MIN_KEEP_DAYS,
        help="keep entries this many days (default and minimum: %(default)s)",
    )
    purge.set_defaults(handler=run_audit_purge)
    export = actions.add_parser(
        "export",
        help="write the audit log as CSV or JSON lines",
        description=(
            "Write audit entries, oldest first, as stored: personal data in them is masked. "
            "CSV cells a spreadsheet would run as formulas are prefixed with a quote."
        ),
    )
    export.add_argument("out", help="file to write, or - for stdout")
    export.add_argument("--db", required=True, help="SQLAlchemy database URL")
    export.add_argument(
        "--since", type=_as_of, default=None, help="only entries at or after this ISO time"
    )
    export.add_argument("--format", choices=FORMATS, default="csv", help="default: %(default)s")
    export.set_defaults(handler=run_audit_export)


# -- outbox --------------------------------------------------------------------------------


def run_outbox_purge(args: argparse.Namespace) -> int:
    """``pycrm outbox purge``: delete sent and dead messages older than the retention."""
    from datetime import timedelta

    statuses = tuple(dict.fromkeys(args.status or ("sent", "dead")))
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            count = crm.purge_outbox(
                older_than=timedelta(days=args.keep_days),
                statuses=statuses,
                actor="pycrm outbox purge",
            )
    except _database_errors() as exc:
        raise CommandFailed(f"cannot purge the outbox of {_display_url(args.db)}: {exc}") from exc
    _write(
        sys.stdout,
        f"purged {count:,} {' and '.join(statuses)} outbox messages "
        f"older than {args.keep_days} days\n",
    )
    return 0


def _add_outbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pycrm.outbox.retention import DEFAULT_KEEP_DAYS, PURGEABLE

    outbox = commands.add_parser("outbox", help="maintain the notification outbox")
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge",
        help="delete sent and dead messages past their retention",
        description=(
            "Delete the outbox messages in the given statuses (default: sent and dead) last "
            "changed more than --keep-days days ago, in one statement. Pending and sending "
            "messages are never purged. A purged message's key no longer deduplicates: an "
            "occasion still open when its message is purged is notified again, so keep "
            "messages longer than the occasions they announce stay open."
        ),
    )
    purge.add_argument("--db", required=True, help="SQLAlchemy database URL")
    purge.add_argument(
        "--keep-days",
        type=_positive_int,
        default=DEFAULT_KEEP_DAYS,
        help="keep messages this many days (default: %(default)s)",
    )
    purge.add_argument(
        "--status",
        action="append",
        choices=[status.value for status in PURGEABLE],
        default=None,
        help="purge messages in this status (repeat for both; default: sent and dead)",
    )
    purge.set_defaults(handler=run_outbox_purge)


# -- report --------------------------------------------------------------------------------


def _list_reports(args: argparse.Namespace) -> int:
    import warnings

    from pycrm.identity import IdentityKeyWarning

    if args.db:
        crm = open_crm(args.db, plugins=args.plugins)
    else:  # the built-in reports and the plugins', no data read: no identity key needed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IdentityKeyWarning)
            crm = CRM.memory(load_entrypoints=args.plugins)
    with crm:
        lines = [f"{name:<24} {crm.reports[name].title}" for name in crm.reports]
    _write(sys.stdout, "\n".join(lines) + "\n")
    return 0


def _csv_cell(value: Any) -> str:
    """Empty for nothing, ISO 8601 for times, text made spreadsheet-safe, numbers as is."""
    from pycrm.io.safe import csv_safe

    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    return str(value)


def _write_csv(table: ReportTable[Any], path: Path) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.columns)
        for record in table.to_records():
            writer.writerow(_csv_cell(value) for value in record.values())


def run_report(args: argparse.Namespace) -> int:
    """``pycrm report``: the table on stdout; the CSV and figure files named on stderr."""
    if args.list:
        return _list_reports(args)
    if not args.name or not args.db:
        raise CommandFailed("name a report and --db URL (pycrm report --list names the reports)")
    try:
        with open_crm(args.db, plugins=args.plugins) as crm:
            table = crm.report(args.name, args.period, tz=args.tz)
    except _database_errors() as exc:
        raise CommandFailed(f"cannot read {_display_url(args.db)}: {exc}") from exc
    _write(sys.stdout, f"{table}\n")
    if args.csv:
        _write_csv(table, Path(args.csv))
        _say(f"wrote {len(table):,} rows to {args.csv}")
    if args.png:
        from pycrm.analytics import plots

        plot = plots.PLOTS.get(args.name)
        if plot is None:
            _say(f"report {args.name!r} has no figure; no PNG written")
        else:
            folder = Path(args.png)
            folder.mkdir(parents=True, exist_ok=True)
            label = table.period.label if table.period else "all"
            path = plots.save_png(plot(table), folder / f"{args.name}-{label}.png")
            _say(f"wrote {path}")
    return 0


def _add_report(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="print a report for a period, optionally as CSV and a PNG figure",
        description=(
            "Build a report (lead_conversion, service_times, diagnosis and the others; "
            "--list names them) for a period and print it as a table. By default the period "
            "is the last full month. --csv writes the rows; --png writes the report's figure "
            "(funnel, trends, leaderboard, SLA attainment) into a folder, which needs the "
            "plots extra."
        ),
    )
    report.add_argument("name", nargs="?", default=None, help="the report's name")
    report.add_argument("--db", default=None, help="SQLAlchemy database URL")
    report.add_argument("--list", action="store_true", help="list the reports and exit")
    report.add_argument(
        "--period",
        default=None,
        help="2026-11, 2026-Q4, 2026-W47, 2026 or 2026-11-01..2026-11-15 "
        "(default: the last full month)",
    )
    report.add_argument(
        "--tz",
        default="UTC",
        help="time zone the period is read in, e.g. Asia/Shanghai (default: %(default)s)",
    )
    report.add_argument("--png", default=None, metavar="DIR", help="write the figure here")
    report.add_argument("--csv", default=None, metavar="FILE", help="write the rows as CSV")
    report.set_defaults(handler=run_report)


def _configure_logging(verbose: bool) -> None:
    # Only takes effect when the host has not configured logging (basicConfig is a no-op
    # then). Warnings that matter here, like plugins that failed to load, are printed by the
    # command itself.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    _configure_logging(args.verbose)
    try:
        code: int = args.handler(args)
    except (PycrmError, CommandFailed, OSError) as exc:
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    return code
