"""A host's scheduler loop: every minute, run the automation tick, then send what it queued.

Run it with ``python examples/cron_host.py``. As a demo it starts an SMTP server on loopback
(``aiosmtpd``, from the ``test`` extra), opens a CRM on a SQLite file, seeds a few things that
are due (an overdue follow-up, a deal gone quiet, yesterday's calls for the activity report),
then runs two iterations of the loop a minute apart and prints each e-mail the server got.
The second iteration sends nothing: every task and message carries a key, so a tick that
runs again about the same occasions creates nothing twice.

Against a real server: ``python examples/cron_host.py --smtp mail.example.com:587 --db
crm.db --minutes 0`` (``--minutes 0`` loops until interrupted, on the system clock; log-in
options are on :class:`pycrm.SmtpChannel`). The host's part is small: register the channel,
point ``crm.automation.staff_channel`` at it, and say which address each member of staff
has (the ``pycrm_recipient`` hook).
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pycrm import (
    CRM,
    Clock,
    Customer,
    CustomerGrade,
    FixedClock,
    Interaction,
    Money,
    RepAssignment,
    SmtpChannel,
    SystemClock,
    TeamSupervisor,
    hookimpl,
    open_opportunity,
)
from pycrm.automation import Staff

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
"""The demo's first minute: a Monday morning."""

STAFF = {"wang.fang": "wang.fang@acme.example", "li.lei": "li.lei@acme.example"}


class StaffDirectory:
    """The host's answer to "which address does this person have on this channel?"."""

    def __init__(self, addresses: Mapping[str, str]) -> None:
        self.addresses = dict(addresses)

    @hookimpl
    def pycrm_recipient(self, person: object, channel: str, crm: CRM) -> str | None:
        if channel == "email" and isinstance(person, Staff):
            return self.addresses.get(person.name)
        return None  # customers, other channels: pycrm's default


def seed(crm: CRM, now: datetime) -> None:
    """What a CRM has due on a Monday morning."""
    with crm.session(actor="li.lei") as s:
        acme = s.customers.add(Customer.company("Acme Tools", owner="wang.fang", team="east"))
        # Graded a month ago; its cadence asked for a call last week.
        s.customer_grades.add(
            CustomerGrade(
                customer_id=acme.id,
                scheme="abc",
                grade="A",
                graded_at=now - timedelta(days=30),
                next_follow_up_at=now - timedelta(days=3),
            )
        )
        # A deal opened ten days ago and not touched since: stale, and past its stage deadline.
        deal, _ = open_opportunity(
            customer_id=acme.id,
            title="Spindle retrofit",
            amount=Money("86000", "CNY"),
            owner="wang.fang",
            now=now - timedelta(days=10),
            by="li.lei",
            team="east",
        )
        s.opportunities.add(deal)
        s.team_supervisors.add(TeamSupervisor(team="east", supervisor="li.lei"))
        # Yesterday's work, for the daily activity report.
        s.rep_assignments.add(RepAssignment(rep="wang.fang", last_assigned_at=deal.assigned_at))
        for hour, channel in ((9, "phone"), (15, "visit")):
            s.interactions.add(
                Interaction(
                    customer_id=acme.id,
                    channel=channel,
                    occurred_at=(now - timedelta(days=1)).replace(hour=hour),
                    summary="Discussed the retrofit schedule",
                    recorded_by="wang.fang",
                )
            )


def run_loop(crm: CRM, minutes: int, on_sent: Any = None) -> None:
    """``minutes`` iterations (0: forever) of: tick, dispatch, wait for the next minute."""
    clock = crm.clock
    iteration = 0
    while minutes == 0 or iteration < minutes:
        iteration += 1
        now = clock.now()
        report = crm.tick()
        sent = crm.dispatch()
        print(
            f"[{now:%H:%M}] tick: {report.tasks_created} tasks, "
            f"{report.messages_queued} messages, {report.skipped} already there; "
            f"dispatch: {sent}"
        )
        for failed in report.failed:  # a scheduler would alert here
            print(f"  rule {failed.name} failed: {failed.error}")
        if on_sent is not None:
            on_sent()
        if isinstance(clock, FixedClock):
            clock.advance(minutes=1)  # the demo does not wait for real minutes
        else:
            time.sleep(60 - time.time() % 60)


@contextlib.contextmanager
def loopback_smtp() -> Iterator[tuple[list[Any], int]]:
    """An aiosmtpd server on 127.0.0.1: the messages it accepted, and its port."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
            return "250 Message accepted"

    class Loopback(Controller):
        def _trigger_server(self) -> None:  # aiosmtpd wants a fixed port; take a free one
            assert self.server is not None
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    inbox = Inbox()
    controller = Loopback(inbox, hostname="127.0.0.1", port=0, ready_timeout=10)
    controller.start()
    try:
        yield inbox.messages, controller.port
    finally:
        controller.stop()


def open_crm(db: Path, host: str, port: int, security: str, clock: Clock) -> CRM:
    channel = SmtpChannel(
        "email",
        host=host,
        port=port,
        security=security,
        sender="crm@acme.example",
        sender_name="Acme CRM",
        timeout=10,
    )
    crm = CRM.open(
        f"sqlite:///{db.as_posix()}",
        clock=clock,
        channels=[channel],
        plugins=[StaffDirectory(STAFF)],
        identity_key="example-only-identity-key",
    )
    crm.automation.staff_channel = "email"
    crm.automation.locale = "en"
    return crm


def demo(minutes: int) -> int:
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as folder, loopback_smtp() as (inbox, port):
        crm = open_crm(Path(folder) / "crm.db", "127.0.0.1", port, "none", clock)
        try:
            seed(crm, clock.now())
            shown = 0

            def show() -> None:
                nonlocal shown
                for message in inbox[shown:]:
                    print(f"  mail to {message['To']}: {message['Subject']}")
                shown = len(inbox)

            run_loop(crm, minutes, on_sent=show)
        finally:
            crm.close()
        print(f"sent in all: {len(inbox)}")
    print("cron_host: ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp", help="HOST:PORT of a real server (default: a loopback demo)")
    parser.add_argument("--security", default="starttls", choices=["starttls", "tls", "none"])
    parser.add_argument("--db", type=Path, default=Path("crm.db"))
    parser.add_argument("--minutes", type=int, default=2, help="iterations; 0 runs forever")
    args = parser.parse_args(argv)
    if args.smtp is None:
        return demo(args.minutes)
    host, _, port = args.smtp.rpartition(":")
    crm = open_crm(args.db, host, int(port), args.security, SystemClock())
    try:
        run_loop(crm, args.minutes)
    except KeyboardInterrupt:
        pass
    finally:
        crm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
