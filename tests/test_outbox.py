"""The transactional outbox: written with the change, sent once, retried with backoff, dead
after the last attempt; fault tests for flaky, hanging and killed senders and for parallel
dispatchers, on every backend."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TEST_ENCRYPTION_KEYS, SqlBackend
from pycrm import (
    CRM,
    Customer,
    DeliveryPolicy,
    DomainEvent,
    FixedClock,
    MessageTemplate,
    Notification,
    OutboxStatus,
    ValidationError,
    hookimpl,
)
from pycrm.cli import main
from pycrm.outbox.message import OutboxMessage
from pycrm.outbox.policy import claimed, failed, is_due
from pycrm.storage import MemoryStore, Store
from pycrm.testing import RecordingChannel

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
IDENTITY_KEY = "outbox-tests-identity-key"


def note(key: str, channel: str = "email") -> Notification:
    return Notification(
        channel=channel, recipient="zhang.wei@example.com", subject="Hello", body="Body", key=key
    )


MakeCrm = Callable[..., CRM]


@pytest.fixture
def make_crm(store_factory: Callable[[], Store], clock: FixedClock) -> MakeCrm:
    """CRMs with the channels given, sharing an empty store of each backend in turn (which
    the backend's fixture owns, so they are not closed here)."""
    store = store_factory()

    def make(*channels: object, plugins: tuple[object, ...] = ()) -> CRM:
        return CRM(
            store,
            clock=clock,
            channels=channels,  # type: ignore[arg-type]
            plugins=plugins,
            identity_key=IDENTITY_KEY,
        )

    return make


def messages(crm: CRM) -> list[OutboxMessage]:
    with crm.session() as s:
        return list(s.outbox.stream())


# -- the retry schedule -------------------------------------------------------------------


policies = st.builds(
    DeliveryPolicy,
    max_attempts=st.integers(1, 12),
    first_delay=st.integers(1, 600).map(lambda s: timedelta(seconds=s)),
    factor=st.integers(1, 4),
    max_delay=st.integers(1, 7200).map(lambda s: timedelta(seconds=s)),
)


@given(policy=policies, attempt=st.integers(1, 60))
def test_backoff_grows_by_the_factor_and_stops_at_the_cap(
    policy: DeliveryPolicy, attempt: int
) -> None:
    delay = policy.delay(attempt)
    # Whole seconds as Python integers: the oracle must not overflow where timedelta would.
    first, cap = int(policy.first_delay.total_seconds()), int(policy.max_delay.total_seconds())
    expected = timedelta(seconds=min(first * policy.factor ** (attempt - 1), cap))
    assert delay == expected
    assert policy.delay(attempt + 1) >= delay


@given(policy=policies, attempts=st.integers(0, 15))
def test_a_failure_retries_after_the_backoff_until_the_last_attempt(
    policy: DeliveryPolicy, attempts: int
) -> None:
    pending = OutboxMessage.of(note("k"), send_at=START)
    taken = claimed(
        pending.evolve(attempts=attempts), worker="w", claim="c", now=START, lease=policy.lease
    )
    assert taken.attempts == attempts + 1
    assert taken.status is OutboxStatus.SENDING
    assert not is_due(taken, START)
    assert is_due(taken, START + policy.lease + timedelta(microseconds=1))
    after = failed(taken, "boom", now=START, policy=policy)
    assert after.last_error == "boom"
    assert after.claimed_by is None
    if taken.attempts >= policy.max_attempts:
        assert after.status is OutboxStatus.DEAD
    else:
        assert after.status is OutboxStatus.PENDING
        assert after.next_attempt_at == START + policy.delay(taken.attempts)


@settings(max_examples=40)
@given(failures=st.integers(0, 6), max_attempts=st.integers(1, 5))
def test_a_channel_failing_n_times_is_sent_once_or_dies_after_the_last_attempt(
    failures: int, max_attempts: int
) -> None:
    clock = FixedClock(START)
    channel = RecordingChannel("email", fail_times=failures)
    crm = CRM(MemoryStore(), clock=clock, channels=[channel], identity_key=IDENTITY_KEY)
    policy = DeliveryPolicy(max_attempts=max_attempts, max_delay=timedelta(minutes=5))
    with crm.session() as s:
        s.outbox.enqueue(note("k1"))
    for _ in range(10):
        crm.dispatch(policy=policy)
        clock.advance(minutes=6)
    (message,) = messages(crm)
    assert message.attempts == min(failures + 1, max_attempts)
    if failures < max_attempts:
        assert message.status is OutboxStatus.SENT
        assert channel.keys() == ["k1"]
    else:
        assert message.status is OutboxStatus.DEAD
        assert channel.sent == []
        assert "simulated delivery failure" in (message.last_error or "")


# -- written with the change ----------------------------------------------------------------


def test_a_message_is_stored_with_its_change_and_not_without_it(make_crm: MakeCrm) -> None:
    email = RecordingChannel("email")
    crm = make_crm(email)
    with pytest.raises(RuntimeError), crm.session() as s:
        s.customers.add(Customer.person("Li Na"))
        s.outbox.enqueue(note("welcome-1"))
        raise RuntimeError("the host's checkout failed")
    assert messages(crm) == []
    assert crm.dispatch().claimed == 0
    with crm.session() as s:
        customer = s.customers.add(Customer.person("Li Na"))
        s.outbox.enqueue(note("welcome-1"), customer=customer)
    (message,) = messages(crm)
    assert message.customer_id == customer.id
    assert message.status is OutboxStatus.PENDING
    assert crm.dispatch().sent == 1
    assert email.keys() == ["welcome-1"]


def test_enqueuing_a_key_again_stores_one_message(make_crm: MakeCrm) -> None:
    crm = make_crm(RecordingChannel("email"))
    with crm.session() as s:
        first = s.outbox.enqueue(note("rule:birthday:cus_1:2026"))
        again = s.outbox.enqueue(note("rule:birthday:cus_1:2026"))
    with crm.session() as s:
        later = s.outbox.enqueue(note("rule:birthday:cus_1:2026"))
    assert first.id == again.id == later.id
    assert len(messages(crm)) == 1


def test_bad_messages_are_refused_and_write_nothing(make_crm: MakeCrm) -> None:
    crm = make_crm(RecordingChannel("email"))
    with pytest.raises(ValidationError) as caught, crm.session() as s:
        s.outbox.enqueue(note("k", channel="fax"))
    assert caught.value.field == "channel"
    with pytest.raises(ValidationError) as caught, crm.session() as s:
        s.outbox.enqueue("not a notification")  # type: ignore[arg-type]
    assert caught.value.field == "notification"
    with pytest.raises(ValidationError) as caught, crm.session() as s:
        s.outbox.enqueue(note("k"), send_at=datetime(2026, 1, 1))  # naive
    assert caught.value.field == "send_at"
    assert messages(crm) == []


def test_a_message_waits_for_its_send_time(make_crm: MakeCrm, clock: FixedClock) -> None:
    email = RecordingChannel("email")
    crm = make_crm(email)
    with crm.session() as s:
        s.outbox.enqueue(note("later"), send_at=START + timedelta(hours=1))
    assert crm.dispatch().claimed == 0
    clock.advance(hours=1)
    assert crm.dispatch().sent == 1
    assert email.keys() == ["later"]


def test_templates_render_into_the_outbox_masked_unless_the_channel_may_see(
    make_crm: MakeCrm,
) -> None:
    email = RecordingChannel("email")
    trusted = RecordingChannel("crm-inbox", personal_data=True)
    crm = make_crm(email, trusted)
    crm.templates.add(
        MessageTemplate(
            name="call_back",
            texts={
                "en": ("Call $name back", "Number: $customer_phone"),
                "zh-CN": ("回电", "$name"),
            },
        )
    )
    values = {"name": "Zhang Wei", "customer_phone": "13812345678"}
    with crm.session() as s:
        for channel in ("email", "crm-inbox"):
            s.outbox.notify(
                "call_back", values, channel=channel, recipient="rep", key=channel, locale="en"
            )
    assert crm.dispatch().sent == 2
    assert [n.body for n in email.sent] == ["Number: 138****5678"]
    assert [n.body for n in trusted.sent] == ["Number: 13812345678"]
    assert email.sent[0].subject == "Call Zhang Wei back"


# -- retries, dead letters, timeouts --------------------------------------------------------


class DeadLetters:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    @hookimpl
    def pycrm_event(self, event: DomainEvent) -> None:
        if event.entity_type == "outbox_message":
            self.events.append(event)


def test_retries_back_off_then_the_message_is_dead_and_can_be_retried(
    make_crm: MakeCrm, clock: FixedClock
) -> None:
    email = RecordingChannel("email", fail_times=3)
    watcher = DeadLetters()
    crm = make_crm(email, plugins=(watcher,))
    crm.delivery_policy = DeliveryPolicy(max_attempts=3, first_delay=timedelta(seconds=10))
    with crm.session() as s:
        s.outbox.enqueue(note("k1"))
    report = crm.dispatch()
    assert (report.claimed, report.retried) == (1, 1)
    clock.advance(seconds=9)
    assert crm.dispatch().claimed == 0  # not before the first backoff of 10 s
    clock.advance(seconds=1)
    assert crm.dispatch().retried == 1
    clock.advance(seconds=20)
    assert crm.dispatch().dead == 1
    (message,) = messages(crm)
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == 3
    assert message.last_error == "ConnectionError: email: simulated delivery failure"
    assert [(e.name, dict(e.changes)) for e in watcher.events] == [
        ("outbox_message.created", {}),
        ("outbox_message.changed", {"status": ("sending", "dead")}),
    ]
    with crm.session() as s:
        assert [m.id for m in s.outbox.dead()] == [message.id]
        s.outbox.retry(message.id)
    assert crm.dispatch().sent == 1
    assert email.keys() == ["k1"]
    with crm.session() as s, pytest.raises(ValidationError, match="only dead messages"):
        s.outbox.retry(message.id)


def test_a_message_for_a_channel_no_longer_registered_fails_with_that_reason(
    make_crm: MakeCrm, clock: FixedClock
) -> None:
    crm = make_crm(RecordingChannel("sms"))
    with crm.session() as s:
        s.outbox.enqueue(note("k1", channel="sms"))
    without_sms = make_crm(RecordingChannel("email"))
    without_sms.dispatch(policy=DeliveryPolicy(max_attempts=1))
    (message,) = messages(crm)
    assert message.status is OutboxStatus.DEAD
    assert message.last_error == "no notification channel named 'sms' is registered"


class HangingChannel:
    name = "email"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[str] = []

    def send(self, notification: Notification) -> None:
        self.calls.append(notification.key)
        if len(self.calls) == 1:
            self.release.wait(10)


def test_a_hanging_channel_times_out_and_the_message_is_retried(
    make_crm: MakeCrm, clock: FixedClock
) -> None:
    hanging = HangingChannel()
    crm = make_crm(hanging)
    policy = DeliveryPolicy(timeout=0.2, first_delay=timedelta(seconds=1))
    with crm.session() as s:
        s.outbox.enqueue(note("k1"))
    started = time.monotonic()
    report = crm.dispatch(policy=policy)
    hanging.release.set()
    assert time.monotonic() - started < 5
    assert report.retried == 1
    (message,) = messages(crm)
    assert message.last_error == "TimeoutError: email did not finish sending within 0.2 s"
    clock.advance(seconds=1)
    assert crm.dispatch(policy=policy).sent == 1
    assert hanging.calls == ["k1", "k1"]  # the same key both times


# -- several dispatchers --------------------------------------------------------------------


class SlowRecorder(RecordingChannel):
    """Records sends and takes a little time, so dispatchers overlap."""

    def send(self, notification: Notification) -> None:
        time.sleep(0.002)
        super().send(notification)


def test_parallel_dispatchers_send_every_message_exactly_once(make_crm: MakeCrm) -> None:
    email = SlowRecorder("email")
    crm = make_crm(email)
    with crm.session() as s:
        for number in range(120):
            s.outbox.enqueue(note(f"k{number}"))
    errors: list[BaseException] = []

    def run(worker: str) -> None:
        try:
            crm.dispatch(batch_size=7, worker=worker)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = Counter(email.keys())
    assert set(counts) == {f"k{number}" for number in range(120)}
    assert max(counts.values()) == 1
    assert {m.status for m in messages(crm)} == {OutboxStatus.SENT}


# -- a dispatcher killed between sending and marking ------------------------------------------

KILLED_DISPATCHER = textwrap.dedent(
    """
    import os, sys
    from pycrm import CRM

    url, prefix, log = sys.argv[1:4]

    class DiesAfterThird:
        name = "email"
        sent = 0

        def send(self, notification):
            with open(log, "a") as out:
                out.write(notification.key + "\\n")
            DiesAfterThird.sent += 1
            if DiesAfterThird.sent == 3:
                os._exit(3)  # killed after sending, before marking

    crm = CRM.open(url, table_prefix=prefix, channels=[DiesAfterThird()],
                   identity_key="outbox-tests-identity-key")
    crm.dispatch(batch_size=1)
    """
)


def test_a_killed_dispatcher_repeats_at_most_one_message_with_its_key(
    sql: SqlBackend, tmp_path: Path
) -> None:
    log = tmp_path / "sent.log"
    now = datetime.now(timezone.utc)
    setup = CRM(
        sql.store,
        clock=FixedClock(now),
        channels=[RecordingChannel("email")],
        identity_key=IDENTITY_KEY,
    )
    with setup.session() as s:
        for number in range(5):
            s.outbox.enqueue(note(f"k{number}"))
    env = dict(os.environ)
    if sql.cipher is not None:
        env["PYCRM_ENCRYPTION_KEYS"] = ",".join(f"{k}:{v}" for k, v in TEST_ENCRYPTION_KEYS.items())
    script = tmp_path / "dispatch.py"
    script.write_text(KILLED_DISPATCHER)
    result = subprocess.run(
        [sys.executable, str(script), sql.url, sql.prefix, str(log)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert log.read_text().split() == ["k0", "k1", "k2"]

    def rest(at: datetime) -> CRM:
        channel = RecordingChannel("email")
        crm = CRM(sql.store, clock=FixedClock(at), channels=[channel], identity_key=IDENTITY_KEY)
        crm.dispatch()
        with log.open("a") as out:
            out.writelines(f"{sent.key}\n" for sent in channel.sent)
        return crm

    # Within the lease the third message stays with the dead dispatcher ...
    rest(now + timedelta(minutes=1))
    assert Counter(log.read_text().split()) == Counter(["k0", "k1", "k2", "k3", "k4"])
    # ... and once the lease lapses it goes out again, with the same key: one repeat.
    crm = rest(now + timedelta(minutes=10))
    assert Counter(log.read_text().split()) == Counter(["k0", "k1", "k2", "k2", "k3", "k4"])
    assert {m.status for m in messages(crm)} == {OutboxStatus.SENT}


# -- the command -----------------------------------------------------------------------------


def test_the_dispatch_command_sends_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with CRM.open(url, identity_key=IDENTITY_KEY) as crm, crm.session() as s:
        s.outbox.enqueue(note("k1", channel="log"))
        # A message for a channel whose plugin has since been removed.
        s.outbox.add(OutboxMessage.of(note("k2", channel="gone"), send_at=s.now))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--no-plugins", "dispatch", "--db", url])
    assert code == 0, err.getvalue()
    assert out.getvalue().strip() == "claimed 2, sent 1, retry later 1, dead 0, taken over 0"


def test_erasing_a_customer_withholds_and_scrubs_their_messages(make_crm: MakeCrm) -> None:
    email = RecordingChannel("email")
    crm = make_crm(email)
    with crm.session() as s:
        customer = s.customers.add(Customer.person("Li Na", email="li.na@example.com"))
        s.outbox.enqueue(
            Notification(
                channel="email",
                recipient="li.na@example.com",
                subject="Happy birthday, Li Na",
                body="Dear Li Na, ...",
                key="birthday:li-na",
            ),
            customer=customer,
        )
    with crm.session() as s:
        s.customers.erase(customer, "data subject request")
    (message,) = messages(crm)
    assert message.status is OutboxStatus.DEAD
    assert message.last_error == "not sent: the customer was erased"
    assert "li.na" not in message.recipient
    assert "Li Na" not in message.subject + message.body
    assert crm.dispatch().claimed == 0
    assert email.sent == []
