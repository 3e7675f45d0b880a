"""RFM scoring, public: ``pycrm.rfm.score(transactions, as_of=...)`` and its segments.

The calculation lives in :mod:`pycrm.grading.rfm` (pure, no I/O); ``CRM.rfm`` and
``Session.rfm`` run the same calculation in the database and return the same table.
"""

from pycrm.grading.rfm import (
    COLUMNS,
    DEFAULT_BINS,
    DEFAULT_SEGMENT_RULES,
    DEFAULT_SEGMENTATION,
    DEFAULT_VALUE_CLASSES,
    MAX_BINS,
    RfmRow,
    RfmTable,
    Segmentation,
    SegmentedRow,
    SegmentRule,
    SegmentSummary,
    ValueClass,
    by_segment,
    format_summary,
    score,
    summarize,
    to_five,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_BINS",
    "DEFAULT_SEGMENTATION",
    "DEFAULT_SEGMENT_RULES",
    "DEFAULT_VALUE_CLASSES",
    "MAX_BINS",
    "RfmRow",
    "RfmTable",
    "SegmentRule",
    "SegmentSummary",
    "Segmentation",
    "SegmentedRow",
    "ValueClass",
    "by_segment",
    "format_summary",
    "score",
    "summarize",
    "to_five",
]
