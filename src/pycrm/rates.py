"""The stored exchange-rate table, read back as the :class:`ExchangeRates` a forecast uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycrm.pipeline import ExchangeRates
from pycrm.pipeline.forecast import StoredExchangeRate

if TYPE_CHECKING:
    from pycrm.session import Session


def load_rates(session: Session, base: str) -> ExchangeRates:
    """Every stored rate into ``base``, streamed in batches so a long history of daily rates
    never has to fit in one query result; pass it to ``forecast_by(..., rates=...)``."""
    checked = StoredExchangeRate(base=base, currency="XXX", on="2000-01-01", rate=1).base
    rows = session.exchange_rates.stream(base=checked)
    return ExchangeRates(base=checked, rates=[row.exchange_rate for row in rows])
