"""The tick framework: rules a page at a time, each effect once, failures kept to their rule,
notices addressed through the channels and the recipient hook, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

import pycrm
from pycrm import (
    CRM,
    Customer,
    FixedClock,
    Notice,
    PluginError,
    RuleBatch,
    Staff,
    Task,
    TickContext,
    ValidationError,
)
from pycrm.cli import main
from pycrm.storage import MemoryStore

RULE = "greet_customers"


@attrs.frozen
class GreetCustomers:
    """A test rule: a task for each customer's owner and a notice to the owner (and, with
    ``to_customer``, one to the customer), paging over customers by id."""

    name: str = RULE
    to_customer: bool = False
    paired: bool = False
    fail_on_page: int | None = None
    pages_run: list[str | None] = attrs.field(factory=list, eq=False)

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        self.pages_run.append(after)
        if self.fail_on_page is not None and len(self.pages_run) == self.fail_on_page:
            raise RuntimeError("the rule broke")
        page = context.session.customers.list(limit=context.limit, after=after)
        effects: list[Task | Notice] = []
        for c in page:
            effects.append(
                Task(
                    subject=f"Greet {c.name}",
                    due_at=context.now,
                    assignee=c.owner,
                    customer_id=c.id,
                    kind="greeting",
                    key=f"{RULE}:{c.id}:task",
                )
            )
            task_key = f"{RULE}:{c.id}:task" if self.paired else None
            staff = Staff(c.owner or "nobody")
            effects.append(notice_to(staff, c, f"{RULE}:{c.id}:staff", task_key))
            if self.to_customer:
                effects.append(notice_to(c, c, f"{RULE}:{c.id}:customer", task_key))
        return RuleBatch(effects, next_after=page.next_after)


def notice_to(
    person: Staff | Customer, about: Customer, key: str, task_key: str | None = None
) -> Notice:
    return Notice(
        key=key,
        template="follow_up_due",
        values={
            "rep": about.owner or "-",
            "customer": about.name,
            "due": "today",
            "next_action": "say hello",
            "phone": about.phone or "-",
        },
        to=person,
        customer_id=about.id,
        locale="en",
        task_key=task_key,
    )


def add_customers(crm: CRM, count: int, **fields: Any) -> list[Customer]:
    with crm.session() as s:
        return [
            s.customers.add(Customer.person(f"Person {i}", owner=f"rep{i % 2}", **fields))
            for i in range(count)
        ]


def task_count(crm: CRM) -> int:
    with crm.session() as s:
        return s.tasks.count(kind="greeting")


def outbox_count(crm: CRM) -> int:
    with crm.session() as s:
        return s.outbox.count()


@pytest.fixture
def greeting_crm(crm: CRM) -> Iterator[CRM]:
    crm.automation.add(GreetCustomers())
    crm.automation.staff_channel = "memory"
    return crm


def test_a_tick_runs_a_rule_page_by_page_and_twice_creates_nothing_new(greeting_crm: CRM) -> None:
    crm = greeting_crm
    add_customers(crm, 7)
    rule = crm.automation.get(RULE)
    assert isinstance(rule, GreetCustomers)
    first = crm.tick(rules=[RULE], limit=3)
    (report,) = first.rules
    assert (report.tasks_created, report.messages_queued, report.skipped) == (7, 7, 0)
    assert report.pages == 3
    assert report.ok
    assert first.ok
    assert rule.pages_run[0] is None
    assert len(rule.pages_run) == 3
    again = crm.tick(rules=[RULE], limit=3)
    assert (again.tasks_created, again.messages_queued, again.skipped) == (0, 0, 14)
    later = crm.tick(crm.clock.now() + timedelta(days=1), rules=[RULE], limit=5)
    assert (later.tasks_created, later.messages_queued) == (0, 0)
    assert task_count(crm) == 7
    assert outbox_count(crm) == 7


def test_new_records_after_a_tick_get_their_effects_on_the_next(greeting_crm: CRM) -> None:
    crm = greeting_crm
    add_customers(crm, 2)
    crm.tick(rules=[RULE])
    add_customers(crm, 3)
    report = crm.tick(rules=[RULE])
    assert (report.tasks_created, report.skipped) == (3, 4)
    assert task_count(crm) == 5


def test_queued_notices_are_rendered_for_the_staff_member_and_dispatched(
    greeting_crm: CRM,
) -> None:
    crm = greeting_crm
    (customer,) = add_customers(crm, 1)
    crm.tick(rules=[RULE])
    assert crm.dispatch().sent == 1
    (sent,) = crm.channels["memory"].sent  # type: ignore[attr-defined]
    assert sent.recipient == "rep0"
    assert sent.subject == f"Follow-up due: {customer.name}"
    assert "Next action: say hello" in sent.body
    assert sent.key == f"{RULE}:{customer.id}:staff"
    with crm.session() as s:
        (message,) = s.outbox.list().items
        assert message.customer_id == customer.id
        (task,) = s.tasks.list(kind="greeting").items
        assert (task.assignee, task.customer_id, task.due_at) == (
            "rep0",
            customer.id,
            crm.clock.now(),
        )


def test_a_failing_rule_keeps_its_committed_pages_and_the_other_rules_run(crm: CRM) -> None:
    crm.automation.staff_channel = "memory"
    crm.automation.add(GreetCustomers(fail_on_page=2))
    crm.automation.add(attrs.evolve(GreetCustomers(), name="second"))
    add_customers(crm, 5)
    report = crm.tick(rules=[RULE, "second"], limit=2)
    broken, second = report.rules
    assert broken.error == "RuntimeError: the rule broke"
    assert not report.ok
    assert report.failed == (broken,)
    assert (broken.tasks_created, broken.pages) == (2, 1)
    # The second rule uses the same keys, so it finds the broken rule's two and makes three.
    assert (second.tasks_created, second.skipped, second.error) == (3, 4, None)
    assert "FAILED: RuntimeError: the rule broke" in str(report)


def test_a_page_that_fails_while_being_written_leaves_nothing_of_it(crm: CRM) -> None:
    crm.automation.staff_channel = "memory"

    @attrs.frozen
    class HalfBroken:
        name: str = "half_broken"

        def run(self, context: TickContext, after: str | None) -> RuleBatch:
            task = Task(subject="t", due_at=context.now, key="half_broken:task")
            # The template needs more values than these: rendering fails after the task.
            bad = Notice(key="half_broken:n", template="follow_up_due", values={}, to=Staff("a"))
            return RuleBatch([task, bad])

    crm.automation.add(HalfBroken())
    add_customers(crm, 1)
    report = crm.tick(rules=["half_broken"])
    (only,) = report.rules
    assert only.error is not None
    assert "ValidationError" in only.error
    assert only.tasks_created == 0
    with crm.session() as s:
        assert s.tasks.count(key="half_broken:task") == 0


def test_a_rule_must_answer_a_rule_batch_and_move_its_cursor(crm: CRM) -> None:
    class NotABatch:
        name = "not_a_batch"

        def run(self, context: TickContext, after: str | None) -> Any:
            return []

    class Stuck:
        name = "stuck"

        def run(self, context: TickContext, after: str | None) -> RuleBatch:
            return RuleBatch((), next_after="same")

    crm.automation.add(NotABatch())
    crm.automation.add(Stuck())
    report = crm.tick(rules=["not_a_batch", "stuck"])
    wrong, stuck = report.rules
    assert wrong.error is not None
    assert "must return a RuleBatch" in wrong.error
    assert stuck.error is not None
    assert "cursor 'same' again" in stuck.error
    assert stuck.pages == 2


def test_customer_notices_wait_for_a_customer_channel(greeting_crm: CRM) -> None:
    crm = greeting_crm
    crm.automation.add(GreetCustomers(to_customer=True), replace=True)
    with crm.session() as s:
        reachable = s.customers.add(Customer.person("Mail", owner="a", email="mail@example.com"))
        s.customers.add(Customer.person("Unreachable", owner="a"))
    report = crm.tick(rules=[RULE])
    assert (report.messages_queued, report.unaddressed) == (2, 2)
    crm.automation.customer_channel = "memory"
    report = crm.tick(rules=[RULE])
    # The reachable customer's notice goes now; the other still has no address.
    assert (report.messages_queued, report.unaddressed) == (1, 1)
    crm.dispatch()
    recipients = {n.recipient for n in crm.channels["memory"].sent}  # type: ignore[attr-defined]
    assert recipients == {"a", "mail@example.com"}
    with crm.session() as s:
        keys = {m.key for m in s.outbox.stream(customer_id=reachable.id)}
    assert f"{RULE}:{reachable.id}:customer" in keys


def test_a_notice_announcing_a_task_that_exists_is_not_queued_again(greeting_crm: CRM) -> None:
    crm = greeting_crm
    crm.automation.add(GreetCustomers(to_customer=True, paired=True), replace=True)
    with crm.session() as s:
        s.customers.add(Customer.person("Mail", owner="a", email="mail@example.com"))
    first = crm.tick(rules=[RULE])
    assert (first.tasks_created, first.messages_queued, first.unaddressed) == (1, 1, 1)
    # The staff message is purged and a customer channel appears: the occasion is still done.
    crm.dispatch()
    later = crm.clock.now() + timedelta(days=200)
    with crm.session() as s:  # as a purge would
        (message,) = s.outbox.list().items
        s.outbox.remove(message)
    crm.automation.customer_channel = "memory"
    again = crm.tick(later, rules=[RULE])
    assert (again.tasks_created, again.messages_queued, again.skipped) == (0, 0, 3)
    assert outbox_count(crm) == 0


def test_the_recipient_hook_addresses_staff(store_factory: Any, clock: FixedClock) -> None:
    class Directory:
        @pycrm.hookimpl
        def pycrm_recipient(self, person: Any, channel: str, crm: CRM) -> str | None:
            if isinstance(person, Staff) and person.name == "rep0":
                return "rep0@example.com"
            if isinstance(person, Staff) and person.name == "rep1":
                return ""  # not an address: refused, naming the hook
            return None

    crm = CRM(store_factory(), clock=clock, plugins=[Directory()])
    try:
        crm.automation.staff_channel = "memory"
        crm.automation.add(GreetCustomers())
        add_customers(crm, 1)
        assert crm.tick(rules=[RULE]).ok
        crm.dispatch()
        assert [n.recipient for n in crm.channels["memory"].sent] == ["rep0@example.com"]  # type: ignore[attr-defined]
        add_customers(crm, 2)  # the second one belongs to rep1
        (report,) = crm.tick(rules=[RULE]).rules
        assert report.error is not None
        assert "pycrm_recipient" in report.error
    finally:
        crm.close()


def test_an_unknown_staff_channel_fails_the_rule_naming_it(greeting_crm: CRM) -> None:
    crm = greeting_crm
    crm.automation.staff_channel = "pager"
    add_customers(crm, 1)
    (report,) = crm.tick(rules=[RULE]).rules
    assert report.error is not None
    assert "'pager'" in report.error
    assert task_count(crm) == 0


def test_keys_repeated_within_one_page_make_one_effect(crm: CRM) -> None:
    class Twice:
        name = "twice"

        def run(self, context: TickContext, after: str | None) -> RuleBatch:
            first = Task(subject="once", due_at=context.now, key="twice:1")
            second = Task(subject="once more", due_at=context.now, key="twice:1")
            return RuleBatch([first, second])

    crm.automation.add(Twice())
    (report,) = crm.tick(rules=["twice"]).rules
    assert (report.tasks_created, report.skipped) == (1, 1)


def test_the_registry_adds_replaces_and_switches_rules() -> None:
    crm = CRM.memory(identity_key="k" * 32)
    automation = crm.automation
    automation.add(GreetCustomers())
    with pytest.raises(ValidationError, match="replace=True") as refused:
        automation.add(GreetCustomers())
    assert refused.value.field == "name"
    automation.add(GreetCustomers(to_customer=True), replace=True)
    assert automation.get(RULE) == GreetCustomers(to_customer=True)
    automation.disable(RULE)
    assert RULE not in automation.rules
    assert RULE in automation.registered
    assert not automation.is_enabled(RULE)
    assert RULE not in [r.name for r in automation.selected()]
    assert [r.name for r in automation.selected([RULE])] == [RULE]  # named: run anyway
    automation.enable(RULE)
    assert automation.is_enabled(RULE)
    with pytest.raises(ValidationError, match="no automation rule named 'nope'"):
        automation.get("nope")
    with pytest.raises(ValidationError) as not_a_rule:
        automation.add(object())  # type: ignore[arg-type]
    assert not_a_rule.value.field == "rule"
    with pytest.raises(ValidationError) as bad_name:
        automation.add(attrs.evolve(GreetCustomers(), name="has spaces"))
    assert bad_name.value.field == "name"
    with pytest.raises(ValidationError) as bad_channel:
        automation.staff_channel = ""
    assert bad_channel.value.field == "staff_channel"
    with pytest.raises(ValidationError):
        crm.tick(rules=["nope"])
    with pytest.raises(ValidationError) as naive:
        crm.tick(datetime(2026, 1, 1))
    assert naive.value.field == "now"
    with pytest.raises(ValidationError) as limit:
        crm.tick(limit=0)
    assert limit.value.field == "limit"


def test_plugins_add_rules_through_the_hook_and_bad_ones_are_theirs() -> None:
    class Plugin:
        @pycrm.hookimpl
        def pycrm_automation_rules(self, register: Any) -> None:
            register(GreetCustomers())

    crm = CRM(MemoryStore(), plugins=[Plugin()], identity_key="k" * 32)
    assert RULE in crm.automation.rules
    assert list(crm.automation.rules)[-1] == RULE  # after the built-in rules

    class Broken:
        @pycrm.hookimpl
        def pycrm_automation_rules(self, register: Any) -> None:
            register(GreetCustomers())
            register(GreetCustomers())

    with pytest.raises(PluginError, match=RULE):
        CRM(MemoryStore(), plugins=[Broken()], identity_key="k" * 32)


def test_effects_are_checked_when_a_rule_makes_them() -> None:
    now = datetime.fromisoformat("2026-11-22T09:00:00+00:00")
    with pytest.raises(ValidationError, match="needs a key"):
        RuleBatch([Task(subject="no key", due_at=now)])
    with pytest.raises(ValidationError) as wrong:
        RuleBatch(["a string"])  # type: ignore[list-item]
    assert wrong.value.field == "effects"
    with pytest.raises(ValidationError) as to:
        Notice(key="k", template="t", values={}, to="alice")  # type: ignore[arg-type]
    assert to.value.field == "to"
    with pytest.raises(ValidationError) as values:
        Notice(key="k", template="t", values=[], to=Staff("a"))  # type: ignore[arg-type]
    assert values.value.field == "values"
    with pytest.raises(ValidationError) as key:
        Notice(key="k" * 129, template="t", values={}, to=Staff("a"))
    assert key.value.field == "key"
    with pytest.raises(ValidationError) as task_key:
        Task(subject="s", due_at=now, key="k" * 129)
    assert task_key.value.field == "key"


def test_the_tick_command_runs_the_rules_and_prints_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with CRM.open(url, identity_key="k" * 32) as crm:
        add_customers(crm, 1)
    code = main(["--no-plugins", "tick", "--db", url, "--now", "2026-11-22T09:00"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("tick at 2026-11-22T09:00:00+00:00")
    assert "total" in out
    assert main(["--no-plugins", "tick", "--db", url, "--rule", "no_such_rule"]) != 0
    assert "no automation rule named 'no_such_rule'" in capsys.readouterr().err
