"""numpy integers, as a notebook's DataFrame cells and ``series.max()`` give them, are the
whole numbers they are: rules, RFM scoring and entities take them; numpy floats stay refused
as inexact, like Python floats."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from pycrm import CRM, Customer, F, Money, Order, ValidationError
from pycrm.rfm import score

np = pytest.importorskip("numpy")
UTC = timezone.utc
NOW = datetime(2026, 3, 10, tzinfo=UTC)


def test_rules_take_numpy_integers_and_refuse_numpy_floats(crm: CRM) -> None:
    with crm.session() as s:
        acme = s.customers.add(Customer.company("Acme", employees=50))
        s.orders.add(
            Order(number="SO-1", customer_id=acme.id, placed_at=s.now, total=Money("2000", "CNY"))
        )
        assert (F.employees >= np.int64(10)) == (F.employees >= 10)
        assert s.customers.count(F.employees >= np.int64(10)) == 1
        assert s.customers.count(F.spend() > np.int32(1000)) == 1
        assert s.customers.count(F.order_count().between(np.int64(1), np.int64(3))) == 1
    with pytest.raises(ValidationError, match="floats are inexact"):
        F.spend() > np.float64(1000.5)  # noqa: B015


def test_rfm_scores_a_nullable_integer_amount_column() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "occurred_at": [NOW, NOW, NOW],
            "amount": pandas.array([10, 20, 5], dtype="Int64"),
        }
    )
    table = score(frame, as_of=NOW, bins=np.int64(3))
    assert (table["a"].monetary, table["b"].monetary) == (Decimal(30), Decimal(5))
    assert table.bins == 3


def test_entities_take_numpy_integers() -> None:
    acme = Customer.company("Acme", employees=np.int64(12))
    assert acme.employees == 12
    assert type(acme.employees) is int
    assert Money(np.int64(5), "CNY") == Money("5", "CNY")
    with pytest.raises(ValidationError, match="floats are inexact"):
        Money(np.float64(5.5), "CNY")
