"""Escalating overdue and stale deals to their owner and the team's supervisor."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    AlreadyExists,
    Money,
    Opportunity,
    TeamSupervisor,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    escalation_for,
    open_opportunity,
)

SALES = default_pipeline()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ENTERED = T0 + timedelta(days=1)
DUE = ENTERED + timedelta(days=3)  # needs_confirmed allows three days
STALE = ENTERED + timedelta(days=7)  # and seven without activity
SUPERVISORS = {"east": "carol"}


def confirmed(owner: str | None = "alice", team: str | None = "east") -> Opportunity:
    deal, _ = open_opportunity(
        customer_id="cus_1",
        title="t",
        amount=Money(1000, "CNY"),
        owner=owner,
        team=team,
        now=T0,
        by="alice",
    )
    deal, _ = advance_opportunity(deal, "needs_confirmed", now=ENTERED, by="alice", machine=SALES)
    return deal


def test_on_track_deals_need_nobody() -> None:
    assert escalation_for(confirmed(), SALES, now=DUE, supervisors=SUPERVISORS) is None


def test_overdue_goes_to_the_owner_and_the_supervisor() -> None:
    found = escalation_for(
        confirmed(), SALES, now=DUE + timedelta(seconds=1), supervisors=SUPERVISORS
    )
    assert found is not None
    assert found.notify == ("alice", "carol")
    assert found.to_supervisor
    assert found.overdue_since == DUE
    assert found.stale_since is None
    assert found.reasons == ("overdue since 2026-03-06 09:00 UTC",)


def test_stale_alone_is_a_reminder_to_the_owner() -> None:
    # A proposal may take 14 days but goes stale after 7 quiet ones.
    deal, _ = open_opportunity(
        customer_id="cus_1",
        title="t",
        amount=Money(1000, "CNY"),
        owner="alice",
        team="east",
        now=T0,
        by="alice",
    )
    deal, _ = advance_opportunity(deal, "needs_confirmed", now=T0, by="alice", machine=SALES)
    deal, _ = deliver(deal, "needs_document", now=T0)
    deal, _ = advance_opportunity(deal, "proposal", now=ENTERED, by="alice", machine=SALES)
    now = STALE + timedelta(hours=1)
    found = escalation_for(deal, SALES, now=now, supervisors=SUPERVISORS)
    assert found is not None
    assert found.notify == ("alice",)
    assert not found.to_supervisor
    assert found.reasons == ("stale since 2026-03-10 09:00 UTC",)
    call = ENTERED + timedelta(days=2)
    assert escalation_for(deal, SALES, now=now, supervisors=SUPERVISORS, last_activity=call) is None


def test_unassigned_deals_go_to_the_supervisor_and_closed_deals_to_nobody() -> None:
    found = escalation_for(
        confirmed(owner=None), SALES, now=DUE + timedelta(hours=1), supervisors=SUPERVISORS
    )
    assert found is not None
    assert found.notify == ("carol",)
    lost, _ = advance_opportunity(
        confirmed(), "lost", now=DUE, by="alice", machine=SALES, reason="budget cut"
    )
    assert escalation_for(lost, SALES, now=STALE, supervisors={}) is None


def test_the_supervisor_is_not_notified_twice() -> None:
    found = escalation_for(
        confirmed(owner="carol"), SALES, now=DUE + timedelta(hours=1), supervisors=SUPERVISORS
    )
    assert found is not None
    assert found.notify == ("carol",)


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        escalation_for("deal", SALES, now=DUE, supervisors={})  # type: ignore[arg-type]
    assert info.value.field == "opportunity"
    with pytest.raises(ValidationError) as info:
        escalation_for(confirmed(), SALES, now=DUE, supervisors=None)  # type: ignore[arg-type]
    assert info.value.field == "supervisors"
    with pytest.raises(ValidationError) as info:
        escalation_for(confirmed(), SALES, now=datetime(2026, 3, 9), supervisors={})
    assert info.value.field == "now"
    with pytest.raises(ValidationError) as info:
        TeamSupervisor(team=" ", supervisor="carol")
    assert info.value.field == "team"


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_the_supervisor_hears_exactly_when_the_deadline_has_passed(after: timedelta) -> None:
    now = ENTERED + after
    found = escalation_for(confirmed(), SALES, now=now, supervisors=SUPERVISORS)
    if now <= DUE:
        assert found is None
    else:
        assert found is not None
        assert found.notify == ("alice", "carol")
        assert (found.stale_since is not None) == (now > STALE)


def test_supervisors_are_stored_one_per_team(crm: CRM) -> None:
    with crm.session(actor="admin") as s:
        row = s.team_supervisors.add(TeamSupervisor(team="east", supervisor="carol"))
    with crm.session(actor="admin") as s:
        assert s.team_supervisors.get(row.id) == s.team_supervisors.list(team="east").items[0]
        assert s.team_supervisors.count(supervisor="carol") == 1
        supervisors = {t.team: t.supervisor for t in s.team_supervisors.stream()}
    assert supervisors == {"east": "carol"}
    with pytest.raises(AlreadyExists), crm.session(actor="admin") as s:
        s.team_supervisors.add(TeamSupervisor(team="east", supervisor="dave"))
    with crm.session(actor="admin") as s:
        assert [t.supervisor for t in s.team_supervisors.stream()] == ["carol"]
