"""Customers come in through a web form and an exhibition's CSV file; a message to one of
them is opened, twice over.

A visitor fills in the website's quote form: a lead, so a deal is opened and given to the
next rep in turn. The exhibition team's spreadsheet names its columns its own way; one row
is the same visitor (matched, not duplicated), one a new prospect, one has a broken email
and is reported. Then the e-mail provider says the follow-up mail was opened, and says it
again (webhooks are retried): it lands on the timeline once, and a plugin hears it once.

Runs on a temporary SQLite file with a fixed clock, so the output is the same on every run.

Run: ``python examples/intake.py``.
"""

from __future__ import annotations

import io
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pycrm
from pycrm import CRM, AssignmentRules, CsvRowChannel, EngagementEvent, FixedClock, Rep

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

FORM_POST = json.dumps(
    {
        "name": "Li Lei",
        "company": "Acme Tools",
        "phone": "138 1234 5678",
        "email": "li.lei@acme.example",
        "message": "Please quote 20 CNC machines, delivery before June.",
        "need": "20 CNC machines",
        "budget": 2000000,
        "tags": ["cnc"],
    }
).encode()

EXPO_SHEET = """\
Visitor,Firm,Mobile,E-mail,Talked about
Li Lei,Acme Tools,13812345678,,Spindle options
Han Meimei,Bright Bearings,139 0000 1111,,Wants a catalogue
Wang Fang,,137 2222 3333,wang@@example,Asked for prices
"""


class Opens:
    """A plugin that hears engagement events once they are committed."""

    @pycrm.hookimpl
    def pycrm_engagement(self, event: EngagementEvent) -> None:
        print(f"plugin heard: {event.kind} of {event.message_key}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'crm.db'}"
        crm = CRM.open(
            url,
            clock=FixedClock(NOW),
            plugins=[Opens()],
            identity_key="example key, not for real data",
        )
        try:
            run(crm)
        finally:
            crm.close()
    print("intake: ok")


def run(crm: CRM) -> None:
    rules = AssignmentRules(strategy="round_robin", reps=[Rep(name="alice"), Rep(name="bob")])
    print("channels:", ", ".join(sorted(crm.intake_channels)))

    with crm.session(actor="website") as s:
        form = s.intake("web_form", FORM_POST, rules=rules)
    assert form.opportunity is not None
    print(
        f"web form: {form.customer.name} (new: {not form.matched}), "
        f"deal {form.opportunity.title!r} graded {form.opportunity.grade.value}, "
        f"owner {form.opportunity.owner}"
    )

    expo = CsvRowChannel(
        "expo_2026",
        mapping={
            "Visitor": "name",
            "Firm": "company",
            "Mobile": "phone",
            "E-mail": "email",
            "Talked about": "message",
        },
        medium="visit",
    )
    report = crm.intake_csv(io.StringIO(EXPO_SHEET), channel=expo, actor="expo-team")
    print(report.summary())
    for error in report:
        print(f"refused row {error.row}: {error.column} {error.problem} ({error.value})")

    with crm.session() as s:
        timeline = s.interactions.list(customer_id=form.customer.id).items
    print("Acme Tools timeline:", [f"{i.channel.value}: {i.summary}" for i in timeline])

    opened = EngagementEvent(
        kind="opened",
        customer_id=form.customer.id,
        channel="smtp",
        message_key="quote-follow-up:acme",
        occurred_at="2026-03-02T18:05:00+08:00",
    )
    for attempt in (1, 2):
        with crm.session(actor="mail-webhook") as s:
            recorded = s.record_engagement(opened)
        print(f"report {attempt}: duplicate={recorded.duplicate}")
    with crm.session() as s:
        engagement = s.interactions.list(customer_id=form.customer.id).items
    print("engagement entries:", sum(1 for i in engagement if i.result == "opened"))


if __name__ == "__main__":
    main()
