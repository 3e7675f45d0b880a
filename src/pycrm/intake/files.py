"""A whole CSV file through an intake channel, row by row, with a per-row error report.

Each row is one intake in a session of its own, as if it had arrived alone: a bad row is
reported (as imports report them, see :class:`pycrm.io.RowError`) and the others are taken
in. The file is read with the import's reader, a row at a time, so its size does not matter.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import IO, TYPE_CHECKING, Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import IdentityConflict, PycrmError, ValidationError
from pycrm.intake.apply import take_in
from pycrm.intake.forms import FormChannel
from pycrm.intake.inbound import IntakeChannel
from pycrm.io.report import RowError, errors_csv, masked
from pycrm.io.sources import check_csv_format, malformed, open_rows
from pycrm.leads import DEFAULT_CURRENCY
from pycrm.pipeline import AssignmentRules, LeadGrading

if TYPE_CHECKING:
    from pycrm.crm import CRM

_ROW = "(row)"
"""The ``field`` of an error about a whole row, as in import reports."""


@attrs.frozen
class IntakeReport:
    """What taking a file in did: ``rows`` read, ``taken`` in (of which ``new_customers``
    created and ``opportunities`` opened), and one :class:`pycrm.io.RowError` per refused
    row (iterating the report gives them)."""

    channel: str
    rows: int
    taken: int
    new_customers: int
    opportunities: int
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        """No row was refused."""
        return not self.errors

    def __iter__(self) -> Any:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def to_csv(self, target: IO[str] | None = None) -> str:
        """The errors as CSV, like :meth:`pycrm.ImportReport.to_csv`."""
        return errors_csv(self.errors, target)

    def summary(self) -> str:
        return (
            f"{self.channel}: {self.rows:,} rows read; {self.taken:,} taken in "
            f"({self.new_customers:,} new customers, {self.opportunities:,} opportunities); "
            f"{len(self.errors):,} refused"
        )


def intake_csv(
    crm: CRM,
    source: Any,
    *,
    channel: IntakeChannel | str = "csv",
    actor: str = "intake",
    encoding: str = "utf-8",
    grading: LeadGrading | None = None,
    rules: AssignmentRules | None = None,
    team: str | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> IntakeReport:
    """Take every row of ``source`` (a CSV path or file object, or an iterable of dicts)
    in through ``channel``, each row in its own session as ``actor``.

    A row the channel refuses, whose identifiers name several customers, or that the store
    refuses becomes a :class:`pycrm.io.RowError` (values masked as in import reports) and
    changes nothing; the other rows are committed. A header the channel cannot read (an
    unknown column, two columns for one field) raises :class:`pycrm.ValidationError`
    before any row is taken in.
    """
    chosen = crm.intake_channels.choose(channel)
    conv.check_text(actor, "actor", max_length=120, required=True)
    check_csv_format(encoding)
    rows = taken = new_customers = opportunities = 0
    errors: list[RowError] = []
    with ExitStack() as stack:
        read = open_rows(source, stack, encoding=encoding)
        if read.columns is not None and isinstance(chosen, FormChannel):
            chosen.check_header(read.columns)
        for number, row in read.rows:
            rows += 1
            reason = malformed(row)
            if reason is not None:
                errors.append(RowError(number, _ROW, f"cannot be read: {reason}"))
                continue
            try:
                with crm.session(actor=actor) as s:
                    result = take_in(
                        s, chosen, row, grading=grading, rules=rules, team=team, currency=currency
                    )
            except ValidationError as exc:
                errors.append(_refused(chosen, number, row, exc))
                continue
            except IdentityConflict as exc:
                errors.append(RowError(number, "customer", str(exc)))
                continue
            except PycrmError as exc:
                errors.append(RowError(number, _ROW, f"the store refused the row: {exc}"))
                continue
            taken += 1
            new_customers += not result.matched
            opportunities += result.opportunity is not None
    return IntakeReport(chosen.name, rows, taken, new_customers, opportunities, tuple(errors))


def _refused(channel: IntakeChannel, number: int, row: Any, exc: ValidationError) -> RowError:
    """The row error for ``exc``, its value masked as the field it fills (a ``tel``
    column mapped to ``phone`` is masked as a phone)."""
    column = exc.field if exc.field in row else None
    field = exc.field
    if column is not None and isinstance(channel, FormChannel):
        with suppress(ValidationError):
            field = channel.field_for(column) or column
    value = exc.value if exc.value is not None else row.get(column) if column else None
    return RowError(number, field, exc.problem, column, masked(field, value))
