"""Outbox retention on every backend: a purge deletes exactly the old sent and dead messages
named, in its session's transaction, audited; bad arguments are refused by field; a purged
key deduplicates no more; and the ``pycrm outbox purge`` command."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    ChangeKind,
    DeliveryPolicy,
    FixedClock,
    Notification,
    OutboxStatus,
    ValidationError,
)
from pycrm.audit_retention import audit_entries
from pycrm.cli import main
from pycrm.outbox.retention import (
    DEFAULT_KEEP_DAYS,
    PURGEABLE,
    purge_cutoff,
    purgeable_statuses,
)
from pycrm.storage import Store
from pycrm.storage.units import own_transaction
from pycrm.testing import RecordingChannel

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ONE_ATTEMPT = DeliveryPolicy(max_attempts=1)
KEY = "outbox-purge-tests-identity-key"


@pytest.fixture
def outbox_crm(store_factory: Callable[[], Store], clock: FixedClock) -> Iterator[CRM]:
    """A CRM on each backend in turn whose ``email`` channel delivers and whose ``sms``
    channel always fails, so one attempt makes a message sent or dead."""
    instance = CRM(
        store_factory(),
        clock=clock,
        channels=[RecordingChannel("email"), RecordingChannel("sms", fail_times=10**9)],
        identity_key=KEY,
    )
    yield instance
    instance.close()


def note(key: str, channel: str = "email") -> Notification:
    return Notification(
        channel=channel, recipient="li.na@example.com", subject="Hi", body="Body", key=key
    )


def settle(crm: CRM, clock: FixedClock, day: int, *keys: str) -> None:
    """Queue ``sent:<key>`` (email) and ``dead:<key>`` (sms) messages on ``day`` and
    dispatch them once: the first is sent, the second dead, both last changed on ``day``."""
    clock.set(START + day * DAY)
    with crm.session() as s:
        for key in keys:
            s.outbox.enqueue(note(f"sent:{key}"))
            s.outbox.enqueue(note(f"dead:{key}", channel="sms"))
    crm.dispatch(policy=ONE_ATTEMPT)


def statuses_by_key(crm: CRM) -> dict[str, OutboxStatus]:
    with crm.session() as s:
        return {m.key: m.status for m in s.outbox.stream()}


def outbox_purges(crm: CRM) -> list[dict[str, list[object]]]:
    return [
        dict(e.changes or {})
        for e in audit_entries(crm)
        if e.entity_type == "outbox_message" and e.action is ChangeKind.REMOVED
    ]


@pytest.fixture
def history(outbox_crm: CRM, clock: FixedClock) -> CRM:
    """Old sent and dead messages (day 0), recent ones (day 100), one pending for later and
    one held by a dispatcher since day 0; the clock at day 120."""
    clock.set(START)
    with outbox_crm.session() as s:
        s.outbox.enqueue(note("held"))
    with own_transaction(outbox_crm.store) as tx:
        [held] = tx.outbox.claim(
            worker="stuck", claim="c-held", now=clock.now(), lease=1000 * DAY, limit=1
        )
    assert held.key == "held"
    with outbox_crm.session() as s:
        s.outbox.enqueue(note("later"), send_at=START + 1000 * DAY)
    settle(outbox_crm, clock, 0, "old")
    settle(outbox_crm, clock, 100, "new")
    clock.set(START + 120 * DAY)
    assert statuses_by_key(outbox_crm) == {
        "held": OutboxStatus.SENDING,
        "later": OutboxStatus.PENDING,
        "sent:old": OutboxStatus.SENT,
        "dead:old": OutboxStatus.DEAD,
        "sent:new": OutboxStatus.SENT,
        "dead:new": OutboxStatus.DEAD,
    }
    return outbox_crm


def test_the_default_purge_deletes_only_final_messages_older_than_90_days(
    history: CRM, clock: FixedClock
) -> None:
    assert DEFAULT_KEEP_DAYS == 90
    assert history.purge_outbox() == 2
    assert set(statuses_by_key(history)) == {"held", "later", "sent:new", "dead:new"}
    cutoff = clock.now() - DEFAULT_KEEP_DAYS * DAY
    assert outbox_purges(history) == [
        {
            "purged": [2, None],
            "older_than": [cutoff.isoformat(), None],
            "statuses": [["dead", "sent"], None],
        }
    ]
    # Nothing old is left: a second purge deletes nothing, and says so in the log.
    assert history.purge_outbox() == 0
    assert [p["purged"] for p in outbox_purges(history)] == [[2, None], [0, None]]


def test_pending_and_sending_messages_stay_however_old(history: CRM, clock: FixedClock) -> None:
    clock.set(START + 5000 * DAY)
    assert history.purge_outbox(older_than=timedelta(0)) == 4
    assert statuses_by_key(history) == {
        "held": OutboxStatus.SENDING,
        "later": OutboxStatus.PENDING,
    }


def test_dead_and_sent_messages_are_purged_separately(history: CRM) -> None:
    assert history.purge_outbox(statuses=("dead",), older_than=timedelta(days=10)) == 2
    assert set(statuses_by_key(history)) == {"held", "later", "sent:old", "sent:new"}
    assert history.purge_outbox(statuses=OutboxStatus.SENT, older_than=timedelta(days=10)) == 2
    assert set(statuses_by_key(history)) == {"held", "later"}
    assert [p["statuses"] for p in outbox_purges(history)] == [[["dead"], None], [["sent"], None]]


def test_a_cutoff_can_be_a_moment(history: CRM) -> None:
    assert history.purge_outbox(older_than=START + 50 * DAY, statuses=["sent"]) == 1
    assert "sent:old" not in statuses_by_key(history)
    # A moment in another zone is the same moment.
    shanghai = timezone(timedelta(hours=8))
    assert history.purge_outbox(older_than=(START + 101 * DAY).astimezone(shanghai)) == 3


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
)


@given(now=moments, age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9000)))
def test_an_age_counts_back_from_now(now: datetime, age: timedelta) -> None:
    assert purge_cutoff(age, now) == now - age
    assert purge_cutoff(None, now) == now - DEFAULT_KEEP_DAYS * DAY


@given(now=moments, moment=moments)
def test_a_moment_is_its_own_cutoff_unless_it_is_later_than_now(
    now: datetime, moment: datetime
) -> None:
    if moment <= now:
        # Compared in UTC: Python never calls a time in a DST gap equal to one in another zone.
        utc = timezone.utc
        assert purge_cutoff(moment, now).astimezone(utc) == moment.astimezone(utc)
    else:
        with pytest.raises(ValidationError) as caught:
            purge_cutoff(moment, now)
        assert caught.value.field == "older_than"


@given(st.lists(st.sampled_from([*OutboxStatus, "sent", "dead", "pending", "lost"])))
def test_only_a_non_empty_set_of_final_statuses_is_purgeable(chosen: list[object]) -> None:
    names = {str(getattr(s, "value", s)) for s in chosen}
    if names and names <= {s.value for s in PURGEABLE}:
        assert {s.value for s in purgeable_statuses(chosen)} == names
    else:
        with pytest.raises(ValidationError) as caught:
            purgeable_statuses(chosen)
        assert caught.value.field == "statuses"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"older_than": datetime(2026, 1, 1)}, "older_than"),  # naive
        ({"older_than": START + 121 * DAY}, "older_than"),  # in the future
        ({"older_than": -DAY}, "older_than"),
        ({"older_than": "2026-01-01T00:00:00+00:00"}, "older_than"),
        ({"older_than": 90}, "older_than"),
        ({"statuses": ("pending",)}, "statuses"),
        ({"statuses": ("sent", "sending")}, "statuses"),
        ({"statuses": ("delivered",)}, "statuses"),
        ({"statuses": ()}, "statuses"),
        ({"statuses": 3}, "statuses"),
    ],
)
def test_bad_arguments_are_refused_by_field_and_purge_nothing(
    history: CRM, arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        history.purge_outbox(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert len(statuses_by_key(history)) == 6
    assert outbox_purges(history) == []


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.SENDING])
def test_the_store_refuses_to_purge_messages_in_delivery(
    history: CRM, clock: FixedClock, status: OutboxStatus
) -> None:
    with pytest.raises(ValidationError) as caught, history.session() as s:
        s._tx.outbox.purge(before=clock.now() + 5000 * DAY, statuses={status})
    assert caught.value.field == "statuses"
    assert len(statuses_by_key(history)) == 6


def test_a_purge_belongs_to_its_session(history: CRM, clock: FixedClock) -> None:
    with pytest.raises(RuntimeError), history.session() as s:
        purged = s._tx.outbox.purge(before=clock.now(), statuses={OutboxStatus.SENT})
        assert purged == 2
        assert s.outbox.count(status="sent") == 0  # the session sees its own purge
        raise RuntimeError("the host changed its mind")
    assert len(statuses_by_key(history)) == 6


def test_a_purged_key_no_longer_deduplicates(outbox_crm: CRM, clock: FixedClock) -> None:
    email = outbox_crm.channels["email"]
    assert isinstance(email, RecordingChannel)
    settle(outbox_crm, clock, 0, "renewal")
    clock.set(START + 10 * DAY)
    with outbox_crm.session() as s:
        first = s.outbox.list(key="sent:renewal").items[0]
        # While the message is kept, queuing its key again is harmless.
        assert s.outbox.enqueue(note("sent:renewal")) == first
    outbox_crm.dispatch()
    assert [n.key for n in email.sent] == ["sent:renewal"]
    clock.set(START + 100 * DAY)
    assert outbox_crm.purge_outbox(statuses=["sent"]) == 1
    # Once it is purged, the same key queues a new message and it goes out again.
    with outbox_crm.session() as s:
        again = s.outbox.enqueue(note("sent:renewal"))
    assert again.id != first.id
    assert again.status is OutboxStatus.PENDING
    outbox_crm.dispatch()
    assert [n.key for n in email.sent] == ["sent:renewal", "sent:renewal"]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_outbox_purge_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYCRM_IDENTITY_KEY", KEY)  # the command's CRM hashes with it too
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    # Long ago, so the command's clock (today's) finds these older than any retention.
    clock = FixedClock(datetime(2020, 1, 6, 9, 0, tzinfo=timezone.utc))
    channels = [RecordingChannel("email"), RecordingChannel("sms", fail_times=10**9)]
    with CRM.open(url, clock=clock, channels=channels, identity_key=KEY) as crm:
        with crm.session() as s:
            for key in ("a", "b"):
                s.outbox.enqueue(note(f"sent:{key}"))
                s.outbox.enqueue(note(f"dead:{key}", channel="sms"))
            s.outbox.enqueue(note("later"), send_at=datetime(2999, 1, 1, tzinfo=timezone.utc))
        crm.dispatch(policy=ONE_ATTEMPT)
    code, out, _ = run("outbox", "purge", "--db", url, "--status", "dead")
    assert code == 0
    assert out == "purged 2 dead outbox messages older than 90 days\n"
    code, out, _ = run("outbox", "purge", "--db", url, "--keep-days", "30")
    assert code == 0
    assert out == "purged 2 sent and dead outbox messages older than 30 days\n"
    for refused in (["--status", "pending"], ["--keep-days", "0"]):
        code, _, err = run("outbox", "purge", "--db", url, *refused)
        assert code == 2
        assert refused[0] in err
    with CRM.open(url, identity_key=KEY) as crm:
        assert set(statuses_by_key(crm)) == {"later"}
        assert [(p["purged"], p["statuses"]) for p in outbox_purges(crm)] == [
            ([2, None], [["dead"], None]),
            ([2, None], [["dead", "sent"], None]),
        ]
