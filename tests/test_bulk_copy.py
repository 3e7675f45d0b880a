"""The bulk paths' copies of validated entities: the same entity ``attrs.evolve`` makes."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm.domain import AuditEntry, ChangeKind, Customer, Order
from pycrm.domain._copy import replacer
from pycrm.domain.customer import IDENTITY_FIELDS
from pycrm.identity.derive import IDENTITY_ORDER
from pycrm.testing import strategies as pst

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
BOOKKEEPING = ("version", "created_at", "updated_at")


@given(pst.customers(), st.integers(min_value=1, max_value=10**6))
def test_a_stamped_customer_copy_is_what_evolve_makes(customer: Customer, version: int) -> None:
    identity = ("key", "e" * 64, None, "a" * 64)
    copied = replacer(Customer, (*BOOKKEEPING, *IDENTITY_ORDER))(
        customer, version, NOW, NOW, *identity
    )
    expected = attrs.evolve(
        customer,
        version=version,
        created_at=NOW,
        updated_at=NOW,
        **dict(zip(IDENTITY_ORDER, identity, strict=True)),
    )
    assert type(copied) is Customer
    assert copied == expected
    assert copied is not customer
    for field in attrs.fields(Customer):
        if field.name not in (*BOOKKEEPING, *IDENTITY_ORDER):
            assert getattr(copied, field.name) is getattr(customer, field.name)


@given(st.data())
def test_an_order_copy_keeps_every_other_field(data: st.DataObject) -> None:
    order = data.draw(pst.orders("cus_1"))
    copied = replacer(Order, BOOKKEEPING)(order, 1, NOW, NOW)
    assert copied == attrs.evolve(order, version=1, created_at=NOW, updated_at=NOW)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        copied.version = 2  # type: ignore[misc]


def test_an_audit_entry_copy_and_the_replacer_is_made_once() -> None:
    template = AuditEntry(
        at=NOW, actor="u", action=ChangeKind.CREATED, entity_type="order", entity_id="ord_1"
    )
    make = replacer(AuditEntry, ("id", "entity_id", "customer_id"))
    assert make is replacer(AuditEntry, ("id", "entity_id", "customer_id"))
    entry = make(template, "aud_2", "ord_2", "cus_2")
    assert entry == attrs.evolve(template, id="aud_2", entity_id="ord_2", customer_id="cus_2")


def test_a_replacer_refuses_a_field_the_class_lacks() -> None:
    with pytest.raises(ValueError, match="no field 'nope'"):
        replacer(Order, ("nope",))


def test_the_bulk_identity_order_names_every_derived_field() -> None:
    assert sorted(IDENTITY_ORDER) == sorted(IDENTITY_FIELDS)
