"""Analytics: the grouped figures reports are built from.

:class:`Aggregation` describes counts and sums over one kind of record, grouped by its fields
or its customer's; ``s.aggregate(...)`` answers it in one query on SQL stores and with the
same rows on the memory store.
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

__all__ = ["Aggregation", "Count", "CountDistinct", "Max", "Measure", "Min", "Sum"]
