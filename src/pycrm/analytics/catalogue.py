"""The reports and metrics a CRM knows by name: ``crm.reports``.

A :class:`ReportDefinition` builds a :class:`ReportTable` for a period through a session; a
:class:`Metric` is one number for a period (a rate, an average, an amount) with the direction
that counts as better, which is what the period-over-period diagnosis compares. Built-in ones
are registered when the CRM is made; plugins add theirs through ``pycrm_reports``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.period import Period
from pycrm.analytics.table import ReportTable
from pycrm.domain import _convert as conv
from pycrm.errors import PluginError, ValidationError
from pycrm.pipeline.history import check_key

if TYPE_CHECKING:
    from pycrm.session import Session

BETTER = ("up", "down")


def _key(value: Any) -> str:
    return check_key(value, "name")


def _better(value: Any) -> str:
    if value not in BETTER:
        raise ValidationError("better", f"must be 'up' or 'down', got {value!r}")
    return str(value)


def _callable(value: Any) -> Any:
    if not callable(value):
        raise ValidationError("build", f"expected a function, got {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class ReportDefinition:
    """A named report: ``build(session, period)`` returns its :class:`ReportTable`."""

    name: str = attrs.field(converter=_key)
    title: str = attrs.field(converter=conv.text(200))
    build: Callable[[Session, Period], ReportTable[Any]] = attrs.field(converter=_callable)
    description: str = attrs.field(default="", converter=conv.optional_text(2000))


MetricValue = Decimal | None | Mapping[str, Decimal | None]
"""What a metric computes: one figure, ``None`` (nothing to measure), or a family of figures
by key (one per pipeline stage, per service group)."""


@attrs.frozen(kw_only=True)
class Metric:
    """One figure per period: ``compute(session, period)`` returns it (``None`` when the
    period has nothing to measure, e.g. a conversion rate without leads), or a mapping of
    figures by key for a family (days spent in each stage). ``better`` says which way is good
    (``"up"`` for a conversion rate, ``"down"`` for a resolution time); ``unit`` is how to
    show it: ``"ratio"`` for a fraction from 0 to 1 (shown as a percentage), ``"h"`` hours,
    ``"d"`` days, a currency code, or nothing for a count."""

    name: str = attrs.field(converter=_key)
    title: str = attrs.field(converter=conv.text(200))
    compute: Callable[[Session, Period], MetricValue] = attrs.field(converter=_callable)
    better: str = attrs.field(default="up", converter=_better)
    unit: str = attrs.field(default="", converter=conv.optional_text(20))


class Reports(Mapping[str, ReportDefinition]):
    """The reports of one CRM by name, and its metrics (:attr:`metrics`)."""

    def __init__(self) -> None:
        self._reports: dict[str, ReportDefinition] = {}
        self._metrics: dict[str, Metric] = {}

    def add(self, item: ReportDefinition | Metric, *, replace: bool = False) -> None:
        """Register a report or a metric; ``replace=True`` swaps one of the same name."""
        if isinstance(item, ReportDefinition):
            table: dict[str, Any] = self._reports
        elif isinstance(item, Metric):
            table = self._metrics
        else:
            raise ValidationError(
                "report", f"expected a ReportDefinition or a Metric, got {type(item).__name__}"
            )
        if item.name in table and not replace:
            raise ValidationError(
                "name", f"{item.name!r} is registered; pass replace=True to replace it"
            )
        table[item.name] = item

    def register(self, item: ReportDefinition | Metric, *, replace: bool = False) -> None:
        """:meth:`add` as a plugin calls it: its mistakes are reported as the plugin's."""
        try:
            self.add(item, replace=replace)
        except ValidationError as exc:
            raise PluginError(str(getattr(item, "name", repr(item))), exc.problem) from exc

    @property
    def metrics(self) -> Mapping[str, Metric]:
        """The metrics by name, in registration order."""
        return MappingProxyType(self._metrics)

    def metric(self, name: str) -> Metric:
        found = self._metrics.get(name)
        if found is None:
            known = ", ".join(self._metrics) or "none"
            raise ValidationError("metric", f"no metric named {name!r} ({known})")
        return found

    def __getitem__(self, name: str) -> ReportDefinition:
        found = self._reports.get(name)
        if found is None:
            known = ", ".join(self._reports) or "none"
            raise ValidationError("report", f"no report named {name!r} ({known})")
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._reports

    def __iter__(self) -> Iterator[str]:
        return iter(self._reports)

    def __len__(self) -> int:
        return len(self._reports)

    def __repr__(self) -> str:
        return f"<Reports {list(self._reports)} metrics={list(self._metrics)}>"
