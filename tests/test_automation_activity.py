"""Daily and weekly activity reports: what each rep did, sent once the day or week is over."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Customer,
    FixedClock,
    Interaction,
    Money,
    Opportunity,
    RepAssignment,
    TeamSupervisor,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
)
from pycrm.activity import Period, finished_period, period_containing, rep_activity
from pycrm.automation.effects import KEY_LENGTH, Notice, Staff
from pycrm.automation.rule import RuleBatch, TickContext
from pycrm.automation.rules.activity import (
    RULES,
    DailyActivityReport,
    WeeklyActivityReport,
    key,
)
from pycrm.pipeline import Rep

UTC = timezone.utc
SALES = default_pipeline()
# Monday 2 March 2026, 09:30 UTC (the conftest clock): the day before is Sunday 1 March,
# the week before is 2026-W09 (23 February to 1 March).
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
YESTERDAY = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
WON_PATH = ("needs_confirmed", "proposal", "negotiation", "contract_signed")


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def deal(customer_id: str, owner: str, *, opened: datetime, amount: int = 1000) -> Opportunity:
    found, _ = open_opportunity(
        customer_id=customer_id,
        title="MES rollout",
        amount=Money(amount, "CNY"),
        owner=owner,
        now=opened,
        by=owner,
    )
    return found


def won(found: Opportunity, when: datetime) -> Opportunity:
    for stage in WON_PATH:
        for name in SALES.stage(found.stage).required_deliverables:
            found, _ = deliver(found, name, now=when)
        found, _ = advance_opportunity(found, stage, now=when, by="alice", machine=SALES)
    return found


def seed(crm: CRM, clock: FixedClock) -> str:
    """alice: 3 interactions yesterday (1 visit), 1 deal assigned and 1 won yesterday; earlier
    and later records that must not count; bob: one call yesterday."""
    clock.set(at(28, month=2))
    with crm.session(actor="seed") as s:
        customer = s.customers.add(Customer(kind="company", name="Acme"))
        for rep in ("alice", "bob"):
            s.rep_assignments.add(RepAssignment(rep=rep, last_assigned_at=at(20, month=2)))

        def talk(rep: str, when: datetime, channel: str = "phone") -> None:
            s.interactions.add(
                Interaction(
                    customer_id=customer.id,
                    channel=channel,
                    occurred_at=when,
                    summary="talked",
                    recorded_by=rep,
                )
            )

        talk("alice", at(1, 0))
        talk("alice", at(1, 12), "visit")
        talk("alice", at(1, 23))
        talk("alice", at(2, 0))  # today: not yet
        talk("alice", at(28, 23, month=2))  # the day before
        talk("bob", at(1, 9))
        talk("carol", at(1, 9))  # no assignment, not listed: no report
        s.opportunities.add(deal(customer.id, "alice", opened=at(25, month=2)))  # earlier
        s.opportunities.add(won(deal(customer.id, "alice", opened=at(21, month=2)), at(27, 2, 2)))
    clock.set(at(1, 18))
    with crm.session(actor="seed") as s:
        s.opportunities.add(deal(customer.id, "alice", opened=at(1, 8)))
        s.opportunities.add(
            won(deal(customer.id, "alice", opened=at(22, month=2), amount=2500), at(1, 15))
        )
        s.opportunities.add(deal(customer.id, "bob", opened=at(2, 1)))  # today: not yet
    clock.set(NOW)
    return customer.id


def run(
    crm: CRM,
    rule: DailyActivityReport | WeeklyActivityReport,
    now: datetime = NOW,
    limit: int = 100,
) -> list[Notice]:
    """Every page of ``rule`` at ``now``, as the tick would read them."""
    effects: list[Notice] = []
    after: str | None = None
    while True:
        with crm.session(actor="automation") as s:
            batch: RuleBatch = rule.run(TickContext(s, now, limit), after)
        effects += [e for e in batch.effects if isinstance(e, Notice)]
        assert all(isinstance(e, Notice) for e in batch.effects)  # reports create no task
        if batch.next_after is None:
            return effects
        after = batch.next_after


def by_key(notices: list[Notice]) -> dict[str, Notice]:
    return {n.key: n for n in notices}


def test_the_daily_report_counts_each_reps_finished_day(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    notices = by_key(run(crm, DailyActivityReport()))
    assert set(notices) == {
        "daily_activity_report:alice:2026-03-01",
        "daily_activity_report:bob:2026-03-01",
    }
    alice = notices["daily_activity_report:alice:2026-03-01"]
    assert alice.template == "daily_activity_report"
    assert alice.to == Staff("alice")
    assert alice.values == {
        "rep": "alice",
        "date": "2026-03-01",
        "interactions": 3,
        "visits": 1,
        "new_leads": 1,
        "deals_won": 1,
        "summary": "CNY 2,500.00",
    }
    bob = notices["daily_activity_report:bob:2026-03-01"]
    assert bob.values["interactions"] == 1
    assert bob.values["new_leads"] == 0
    assert bob.values["summary"] == "-"


def test_a_day_not_over_is_not_reported(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    late_sunday = at(1, 23)
    notices = by_key(run(crm, DailyActivityReport(), now=late_sunday))
    assert "daily_activity_report:alice:2026-03-01" not in notices
    alice = notices["daily_activity_report:alice:2026-02-28"]
    assert alice.values["interactions"] == 1


def test_the_weekly_report_counts_the_finished_iso_week(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    notices = by_key(run(crm, WeeklyActivityReport()))
    alice = notices["weekly_activity_report:alice:2026-W09"]
    assert alice.template == "weekly_activity_report"
    assert alice.values == {
        "rep": "alice",
        "week": "2026-W09",
        "interactions": 4,
        "visits": 1,
        "new_leads": 2,
        "deals_won": 2,
        "summary": "CNY 3,500.00",
    }
    # Sunday night the week is not over yet: the report is about the week before.
    earlier = by_key(run(crm, WeeklyActivityReport(), now=at(1, 23)))
    assert set(earlier) == {
        "weekly_activity_report:alice:2026-W08",
        "weekly_activity_report:bob:2026-W08",
    }


def test_the_time_zone_decides_which_day_a_record_falls_in(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # In Shanghai (UTC+8) the day before 2 March 17:30 is 28 Feb 16:00Z to 1 Mar 16:00Z.
    notices = by_key(run(crm, DailyActivityReport(timezone="Asia/Shanghai")))
    alice = notices["daily_activity_report:alice:2026-03-01"].values
    assert alice["interactions"] == 3  # 28 Feb 23:00Z, 1 Mar 00:00Z and 12:00Z
    assert alice["visits"] == 1
    assert alice["deals_won"] == 1  # won 1 Mar 15:00Z, before 16:00Z
    assert alice["new_leads"] == 1


def test_reps_from_the_setting_are_reported_once_over_every_page(
    crm: CRM, clock: FixedClock
) -> None:
    seed(crm, clock)
    with crm.session(actor="seed") as s:
        for rep in ("dave", "erin", "frank"):
            s.rep_assignments.add(RepAssignment(rep=rep, last_assigned_at=at(20, month=2)))
    rule = DailyActivityReport(reps=["carol", "alice"])
    notices = run(crm, rule, limit=1)
    reps = sorted(n.values["rep"] for n in notices)
    assert reps == ["alice", "bob", "carol", "dave", "erin", "frank"]
    carol = by_key(notices)["daily_activity_report:carol:2026-03-01"]
    assert carol.values["interactions"] == 1


def test_skip_empty_leaves_idle_reps_out(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    with crm.session(actor="seed") as s:
        s.rep_assignments.add(RepAssignment(rep="idle", last_assigned_at=at(20, month=2)))
    reps = {n.values["rep"] for n in run(crm, DailyActivityReport())}
    assert "idle" in reps
    reps = {n.values["rep"] for n in run(crm, DailyActivityReport(skip_empty=True))}
    assert reps == {"alice", "bob"}


def test_copy_supervisor_sends_the_report_to_the_reps_team_supervisor(
    crm: CRM, clock: FixedClock
) -> None:
    seed(crm, clock)
    with crm.session(actor="seed") as s:
        s.team_supervisors.add(TeamSupervisor(team="north", supervisor="sam"))
    reps = [Rep(name="alice", team="north"), Rep(name="bob", team="south")]
    plain = by_key(run(crm, DailyActivityReport(reps=reps)))
    assert not [k for k in plain if k.endswith(":supervisor")]
    notices = by_key(run(crm, DailyActivityReport(reps=reps, copy_supervisor=True)))
    copy = notices["daily_activity_report:alice:2026-03-01:supervisor"]
    assert copy.to == Staff("sam")
    assert copy.values == notices["daily_activity_report:alice:2026-03-01"].values
    # bob's team has no supervisor on record: no copy.
    assert "daily_activity_report:bob:2026-03-01:supervisor" not in notices


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"reps": "alice"}, "reps"),
        ({"reps": ["alice", "alice"]}, "reps"),
        ({"reps": [3]}, "reps"),
        ({"copy_supervisor": "yes"}, "copy_supervisor"),
        ({"skip_empty": 1}, "skip_empty"),
    ],
)
def test_bad_settings_name_the_field(settings: dict[str, object], field: str) -> None:
    for cls in (DailyActivityReport, WeeklyActivityReport):
        with pytest.raises(ValidationError) as caught:
            cls(**settings)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_the_module_registers_both_rules_by_their_keys() -> None:
    assert [rule.name for rule in RULES] == ["daily_activity_report", "weekly_activity_report"]


def test_a_long_rep_name_still_makes_a_key_within_the_limit() -> None:
    rep = "r" * 120
    long = key("weekly_activity_report", rep, "2026-W09", "supervisor")
    assert len(long) <= KEY_LENGTH
    assert long != key("weekly_activity_report", "s" * 120, "2026-W09", "supervisor")
    assert key("daily_activity_report", "alice", "2026-03-01") == (
        "daily_activity_report:alice:2026-03-01"
    )


def test_rep_activity_refuses_an_empty_period(crm: CRM) -> None:
    with crm.session() as s, pytest.raises(ValidationError) as caught:
        rep_activity(s, "alice", NOW, NOW)
    assert caught.value.field == "end"


ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("posix"))[::7]


@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    zone_name=st.sampled_from(ZONES or ["UTC"]),
    period=st.sampled_from(list(Period)),
)
def test_the_finished_period_is_the_one_just_before_now(
    moment: datetime, zone_name: str, period: Period
) -> None:
    tz = ZoneInfo(zone_name)
    done = finished_period(period, moment, tz)
    current = period_containing(period, moment, tz)
    assert done.start < done.end == current.start <= moment < current.end
    local_start = done.start.astimezone(tz)
    assert local_start.time().hour == 0 or local_start.dst() is not None
    days = (current.start.astimezone(tz).date() - local_start.date()).days
    assert days == (1 if period is Period.DAY else 7)
    if period is Period.DAY:
        assert done.label == local_start.date().isoformat()
    else:
        year, week, weekday = local_start.date().isocalendar()
        assert weekday == 1
        assert done.label == f"{year}-W{week:02d}"
    assert done.end - done.start > timedelta(hours=12)


def counts(crm: CRM) -> tuple[int, int]:
    with crm.session() as s:
        return s.tasks.count(), s.outbox.count()


def with_rules(crm: CRM, *rules: DailyActivityReport | WeeklyActivityReport) -> None:
    for rule in rules:
        crm.automation.add(rule, replace=True)


def test_the_tick_sends_each_report_once(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    with_rules(crm, DailyActivityReport(), WeeklyActivityReport())
    crm.automation.staff_channel = "memory"
    names = ["daily_activity_report", "weekly_activity_report"]
    report = crm.tick(NOW, rules=names)
    assert report.ok
    assert report.tasks_created == 0
    assert report.messages_queued == 4  # alice and bob, day and week
    assert counts(crm) == (0, 4)
    again = crm.tick(NOW, rules=names)
    assert again.messages_queued == 0
    assert again.skipped == 4
    # Later the same day the reports are about the same day and week: nothing new.
    later = crm.tick(NOW + timedelta(hours=14), rules=names)
    assert later.messages_queued == 0
    assert counts(crm) == (0, 4)
    # The next day brings the next daily report, not a weekly one.
    next_day = crm.tick(NOW + timedelta(days=1), rules=names)
    assert next_day.messages_queued == 2
    assert counts(crm) == (0, 6)


def test_the_report_reaches_the_rep_on_the_staff_channel(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    with_rules(
        crm, DailyActivityReport(reps=[Rep(name="alice", team="north")], copy_supervisor=True)
    )
    with crm.session(actor="seed") as s:
        s.team_supervisors.add(TeamSupervisor(team="north", supervisor="sam"))
    crm.automation.staff_channel = "memory"
    crm.automation.locale = "en"
    crm.tick(NOW, rules=["daily_activity_report"])
    crm.dispatch()
    sent = {n.key: n for n in crm.channels["memory"].sent}  # type: ignore[attr-defined]
    alice = sent["daily_activity_report:alice:2026-03-01"]
    assert alice.recipient == "alice"
    assert alice.subject == "Daily activity report: alice (2026-03-01)"
    assert "Interactions: 3\nVisits: 1\nNew leads: 1\nDeals won: 1\n\nCNY 2,500.00" in alice.body
    copy = sent["daily_activity_report:alice:2026-03-01:supervisor"]
    assert copy.recipient == "sam"
    assert copy.body == alice.body
    assert sent["daily_activity_report:bob:2026-03-01"].recipient == "bob"


def test_a_disabled_report_sends_nothing(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    with_rules(crm, DailyActivityReport())
    crm.automation.disable("daily_activity_report")
    report = crm.tick(NOW)
    assert "daily_activity_report" not in [r.name for r in report.rules]
    with crm.session() as s:
        assert s.outbox.count(key="daily_activity_report:alice:2026-03-01") == 0
