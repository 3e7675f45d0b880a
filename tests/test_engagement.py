"""Engagement events land on the customer's timeline once, on every backend, and reach
plugins only after the session commits."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pycrm import (
    CRM,
    ENGAGEMENT_KINDS,
    Customer,
    EngagementEvent,
    FixedClock,
    InteractionChannel,
    ValidationError,
    hookimpl,
)

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def event(customer_id: str, **fields: Any) -> EngagementEvent:
    values: dict[str, Any] = {
        "kind": "opened",
        "customer_id": customer_id,
        "channel": "smtp",
        "message_key": "follow_up_due:cus_1:2026-03-02",
        "occurred_at": START,
    }
    values.update(fields)
    return EngagementEvent(**values)


class Heard:
    def __init__(self) -> None:
        self.events: list[EngagementEvent] = []

    @hookimpl
    def pycrm_engagement(self, event: EngagementEvent) -> None:
        self.events.append(event)


def add_customer(crm: CRM, name: str = "Li Lei") -> str:
    with crm.session() as s:
        return s.customers.add(Customer.person(name, email="li@example.com")).id


def test_an_event_reported_twice_lands_once(crm: CRM) -> None:
    customer = add_customer(crm)
    with crm.session() as s:
        first = s.record_engagement(event(customer, detail="https://example.com/offer"))
        same_session = s.record_engagement(event(customer))
    with crm.session() as s:
        later = s.record_engagement(event(customer, occurred_at=START + timedelta(minutes=5)))
        (stored,) = s.interactions.list(customer_id=customer).items
    assert not first.duplicate
    assert same_session.duplicate
    assert later.duplicate
    assert later.interaction.id == first.interaction.id == stored.id
    assert stored.result == "opened"
    assert stored.channel is InteractionChannel.EMAIL
    assert stored.occurred_at == START
    assert stored.summary == (
        "Message follow_up_due:cus_1:2026-03-02 opened (smtp): https://example.com/offer"
    )


def test_every_kind_and_every_provider_event_is_its_own_entry(crm: CRM) -> None:
    customer = add_customer(crm)
    with crm.session() as s:
        for kind in ENGAGEMENT_KINDS:
            s.record_engagement(event(customer, kind=kind))
        s.record_engagement(event(customer, kind="clicked", event_id="sg-2"))
        s.record_engagement(event(customer, kind="bounced", medium="sms"))
        s.record_engagement(event(customer, message_key="another message"))
    with crm.session() as s:
        results = sorted(i.result or "" for i in s.interactions.stream(customer_id=customer))
    assert results == sorted([*ENGAGEMENT_KINDS, "clicked", "bounced", "opened"])


def test_the_hook_fires_after_commit_once_per_new_event() -> None:
    heard = Heard()
    crm = CRM.memory(plugins=[heard], clock=FixedClock(START))
    customer = add_customer(crm)
    with crm.session() as s:
        s.record_engagement(event(customer))
        assert heard.events == []  # not before the commit
    assert [e.kind for e in heard.events] == ["opened"]
    with crm.session() as s:
        s.record_engagement(event(customer))  # a duplicate fires nothing
    with pytest.raises(RuntimeError), crm.session() as s:
        s.record_engagement(event(customer, kind="replied"))
        raise RuntimeError("the host's own work failed")
    assert [e.kind for e in heard.events] == ["opened"]
    with crm.session() as s:
        assert s.interactions.count(customer_id=customer) == 1  # the rolled back one is gone


def test_the_hook_fires_after_commit_on_sql(tmp_path: Any) -> None:
    heard = Heard()
    crm = CRM.open(f"sqlite:///{tmp_path / 'crm.db'}", plugins=[heard], clock=FixedClock(START))
    customer = add_customer(crm)
    with crm.session() as s:
        s.record_engagement(event(customer, kind="delivered"))
        assert heard.events == []
    assert [e.kind for e in heard.events] == ["delivered"]
    crm.close()


def test_a_failing_plugin_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        @hookimpl
        def pycrm_engagement(self) -> None:
            raise RuntimeError("plugin bug")

    heard = Heard()
    crm = CRM.memory(plugins=[heard, Broken()], clock=FixedClock(START))
    customer = add_customer(crm)
    with caplog.at_level(logging.ERROR, logger="pycrm"), crm.session() as s:
        s.record_engagement(event(customer))
    assert "plugin bug" in caplog.text
    assert len(heard.events) == 1


def test_one_message_belongs_to_one_customer(crm: CRM) -> None:
    first = add_customer(crm, "A")
    second = add_customer(crm, "B")
    with crm.session() as s:
        s.record_engagement(event(first))
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.record_engagement(event(second))
    assert refused.value.field == "customer_id"


def test_an_event_for_an_unknown_customer_writes_nothing(crm: CRM) -> None:
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.record_engagement(event("cus_nobody"))
    assert refused.value.field == "customer_id"
    with crm.session() as s:
        assert s.interactions.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "was opened!"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"occurred_at": datetime(2026, 3, 2, 9, 30)}, "occurred_at"),
        ({"message_key": "k" * 129}, "message_key"),
        ({"channel": ""}, "channel"),
        ({"medium": "carrier pigeon"}, "medium"),
        ({"detail": ["x"]}, "detail"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        event("cus_1", **fields)
    assert refused.value.field == field


def test_record_engagement_takes_only_events() -> None:
    crm = CRM.memory()
    with pytest.raises(ValidationError) as refused, crm.session() as s:
        s.record_engagement({"kind": "opened"})  # type: ignore[arg-type]
    assert refused.value.field == "event"
