"""Merging duplicate customers, as pure values: which values survive, and the merge log."""

from pycrm.merge.log import MergeLog, MovedRecords, entity_from_data, entity_to_data
from pycrm.merge.rules import merge_customers

__all__ = ["MergeLog", "MovedRecords", "entity_from_data", "entity_to_data", "merge_customers"]
