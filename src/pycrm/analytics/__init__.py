"""Analytics: reports and the grouped figures they are built from.

:class:`Aggregation` describes counts and sums over one kind of record, grouped by its fields
or its customer's; ``s.aggregate(...)`` answers it in one query on SQL stores and with the
same rows on the memory store. Reports (``crm.report(name, period)``) return a
:class:`ReportTable` for a :class:`Period`; :class:`Metric` s are the single figures the
period-over-period diagnosis compares.
"""

from pycrm.analytics.aggregate import (
    Aggregation,
    Count,
    CountDistinct,
    Max,
    Measure,
    Min,
    Sum,
)
from pycrm.analytics.catalogue import Metric, ReportDefinition, Reports
from pycrm.analytics.period import Period, PeriodKind
from pycrm.analytics.table import ReportTable

__all__ = [
    "Aggregation",
    "Count",
    "CountDistinct",
    "Max",
    "Measure",
    "Metric",
    "Min",
    "Period",
    "PeriodKind",
    "ReportDefinition",
    "ReportTable",
    "Reports",
    "Sum",
]
