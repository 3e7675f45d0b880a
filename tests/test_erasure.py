"""Erasing a person on request, on every backend: no plaintext left, the books unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from pycrm import (
    CRM,
    Contact,
    Customer,
    Interaction,
    Money,
    NotFound,
    Order,
    ValidationError,
    open_ticket,
)
from pycrm.erasure import ERASED, pseudonym, scrub_value, scrubber
from pycrm.storage import MemoryStore

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

SECRETS = (
    "Zhang Wei",
    "13812345678",
    "zhang.wei@example.com",
    "M-778899",
    "E12345678",
    "Li Na",
    "13700001111",
    "zhangwei_88",
    "Wei Zhang",
    "wz@example.com",
    "Prefers calls after six",
)


def raw_text(crm: CRM) -> str:
    """Everything the store holds, rows and audit log, as one text to search."""
    store = crm.store
    if isinstance(store, MemoryStore):
        parts = [
            str(attrs.asdict(entity, recurse=True))
            for rows in store._data.values()
            for entity in rows.values()
        ]
        parts.extend(str(attrs.asdict(entry)) for entry in store._audit)
        return "\n".join(parts)
    engine: sa.Engine = store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return "\n".join(
            str(tuple(row))
            for table in store.tables  # type: ignore[attr-defined]
            for row in conn.execute(sa.select(table))
        )


@pytest.fixture
def person(crm: CRM) -> Customer:
    with crm.session(actor="setup") as s:
        customer = s.customers.add(
            Customer.person(
                "Zhang  Wei",
                phone="13812345678",
                email="zhang.wei@example.com",
                member_id="M-778899",
                id_number="E12345678",
                birthday="1990-05-01",
                tags=["vip"],
                region="Shanghai",
                custom_fields={"nickname": "Xiao Zhang"},
            )
        )
        # The change leaves the old and new names in the audit trail.
        customer = s.customers.update(customer.evolve(name="Zhang Wei"))
        duplicate = s.customers.add(
            Customer.person("Wei Zhang", email="wz@example.com", source_channel="app")
        )
        contact = s.contacts.add(
            Contact(
                customer_id=duplicate.id,
                name="Li Na",
                phone="13700001111",
                messaging_ids={"wechat": "zhangwei_88"},
                notes="Prefers calls after six",
            )
        )
        s.interactions.add(
            Interaction(
                customer_id=customer.id,
                contact_id=contact.id,
                channel="phone",
                occurred_at=START,
                summary="Zhang Wei asked for delivery; call back on 13812345678 or Li Na",
                result="Wei Zhang will order",
            )
        )
        for number, amount in (("SO-1", "120.00"), ("SO-2", "80.50")):
            s.orders.add(
                Order(
                    number=number,
                    customer_id=customer.id,
                    placed_at=START,
                    total=Money(amount, "CNY"),
                    status="paid",
                )
            )
        s.tickets.add(
            open_ticket(
                customer_id=duplicate.id,
                subject="Parcel for Zhang Wei lost",
                description="Mail wz@example.com",
                now=START,
                by="desk",
            )
        )
        s.customers.merge(customer, [duplicate])
        return s.customers.get(customer.id)


def test_erasure_leaves_no_plaintext_and_the_books_unchanged(crm: CRM, person: Customer) -> None:
    found = [secret for secret in SECRETS if secret in raw_text(crm)]
    if getattr(crm.store, "cipher", None) is None:
        assert found == list(SECRETS)
    else:  # sealed columns hide the rest; names and free text stay in clear until erasure
        assert {"Zhang Wei", "Li Na", "13812345678", "wz@example.com"} <= set(found)
    with crm.session(actor="setup") as s:
        rfm_before = s.rfm()
        orders_before = {o.id: (o.total, o.status) for o in s.orders.stream()}
    with crm.session(actor="dpo") as s:
        erased = s.customers.erase(person, "data subject request #12")
    text = raw_text(crm)
    assert [secret for secret in SECRETS if secret in text] == []
    with crm.session(actor="check") as s:
        stored = s.customers.get(person.id)
        assert stored == erased
        assert stored.name == pseudonym(person)
        assert stored.name.startswith("Erased customer ")
        assert person.phone_hash is not None
        for field in ("phone", "email", "member_id", "id_number", "birthday", "phone_hash"):
            assert getattr(stored, field) is None
        assert stored.custom_fields == {}
        assert stored.tags == {"vip"}
        assert stored.region == "Shanghai"
        assert s.rfm() == rfm_before
        assert {o.id: (o.total, o.status) for o in s.orders.stream()} == orders_before
        contact = s.contacts.list(customer_id=person.id).items[0]
        assert contact.name.startswith("Erased contact ")
        assert contact.messaging_ids == {}
        interaction = s.interactions.list(customer_id=person.id).items[0]
        assert interaction.summary == (
            f"{ERASED} asked for delivery; call back on {ERASED} or {ERASED}"
        )
        assert interaction.result == f"{ERASED} will order"
        entries = s.audit.for_entity(stored)
        assert entries[-1].action.value == "erased"
        assert entries[-1].actor == "dpo"
        assert entries[-1].changes == {"reason": [None, "data subject request #12"]}
        # Every earlier entry is still there, its personal values redacted.
        assert [e.action.value for e in entries[:3]] == ["created", "changed", "changed"]
        assert entries[1].changes is not None
        assert entries[1].changes["name"] == [ERASED, ERASED]


def test_erasing_again_changes_nothing(crm: CRM, person: Customer) -> None:
    with crm.session(actor="dpo") as s:
        first = s.customers.erase(person.id, "request")
    text = raw_text(crm)
    with crm.session(actor="dpo") as s:
        again = s.customers.erase(first, "request")
        assert again == first
        assert again.version == first.version
    assert raw_text(crm) == text


def test_erasure_refuses_bad_input(crm: CRM, person: Customer) -> None:
    with crm.session(actor="dpo") as s:
        for reason in ("", None, 42, "x" * 401):
            with pytest.raises(ValidationError) as info:
                s.customers.erase(person, reason)  # type: ignore[arg-type]
            assert info.value.field == "reason"
        with pytest.raises(ValidationError) as info:
            s.customers.erase(42, "request")  # type: ignore[arg-type]
        assert info.value.field == "customer"
        with pytest.raises(NotFound):
            s.customers.erase("cus_nobody", "request")


def test_scrubbing_matches_whole_words_of_latin_text_and_any_other_text() -> None:
    pattern = scrubber(["Li", "王伟", "a.b@example.com"])
    value: Any = ("Li met Lincoln", {"k": "王伟说"}, ["mail a.b@example.com"], 7)
    assert scrub_value(value, pattern) == (
        f"{ERASED} met Lincoln",
        {"k": f"{ERASED}说"},
        [f"mail {ERASED}"],
        7,
    )
    assert scrubber([]) is None
    assert scrub_value("Li", None) == "Li"
