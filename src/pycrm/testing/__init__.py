"""Test kit for hosts and plugin authors (needs the ``test`` extra: hypothesis).

- :class:`FixedClock` for reproducible times,
- :class:`RecordingChannel` to assert on notifications,
- :mod:`pycrm.testing.strategies` with hypothesis strategies for every entity,
- :class:`StoreContract`, the stateful test a third-party store subclasses.
"""

from pycrm.clock import FixedClock
from pycrm.testing import strategies
from pycrm.testing.channel import RecordingChannel
from pycrm.testing.contract import StoreContract

__all__ = ["FixedClock", "RecordingChannel", "StoreContract", "strategies"]
