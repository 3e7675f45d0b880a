"""The facade a host holds: ``CRM.open(url)`` wires a store, a clock, plugins and channels."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any

import pluggy

from pycrm.access import Actor, RetentionPolicy, Scope, builtin_scope, check_scope
from pycrm.analytics import builtin as builtin_reports
from pycrm.analytics.catalogue import Reports
from pycrm.analytics.period import Period, PeriodKind
from pycrm.analytics.table import ReportTable
from pycrm.automation import Automation, TickReport
from pycrm.automation import builtin as builtin_automation
from pycrm.clock import Clock, SystemClock
from pycrm.domain import DomainEvent
from pycrm.domain import _convert as conv
from pycrm.errors import ConfigurationError, PluginError, ValidationError
from pycrm.grading import builtin as builtin_schemes
from pycrm.grading.rfm import DEFAULT_BINS, RfmTable
from pycrm.grading.schemes import GradeScheme
from pycrm.identity import DEFAULT_REGION, IdentityHasher, check_region, identity_hasher
from pycrm.identity.cipher import FieldCipher, field_cipher
from pycrm.intake import IntakeChannel, IntakeChannels, IntakeReport, intake_csv
from pycrm.intake import builtin as builtin_intake
from pycrm.io.progress import ProgressCounter
from pycrm.leads import DEFAULT_CURRENCY as DEFAULT_LEAD_CURRENCY
from pycrm.notify import MessageTemplate, MessageTemplates, NotificationChannel
from pycrm.notify import builtin as builtin_notify
from pycrm.outbox.dispatcher import DispatchReport
from pycrm.outbox.dispatcher import dispatch as dispatch_outbox
from pycrm.outbox.message import OutboxStatus
from pycrm.outbox.policy import DeliveryPolicy
from pycrm.pipeline import AssignmentRules, Lead, LeadGrading, Opportunity, StageMachine
from pycrm.pipeline import builtin as builtin_pipelines
from pycrm.pipeline.history import check_key
from pycrm.plugins import (
    PluginLoadError,
    call_each,
    call_implementation,
    implementations,
    load_entrypoint_plugins,
    new_plugin_manager,
    register_plugins,
)
from pycrm.regrade import REGRADE_BATCH, RegradeReport
from pycrm.service import builtin as builtin_calendars
from pycrm.service.calendar import BusinessCalendar
from pycrm.service.dispatch import Dispatch, DispatchRules
from pycrm.service.policy import SlaPolicies, default_policies
from pycrm.service.ticket import Ticket
from pycrm.session import Session
from pycrm.storage.memory import MemoryStore
from pycrm.storage.protocols import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

DEFAULT_URL = "sqlite:///pycrm.db"


class CRM:
    """One CRM: a store, a clock, and its own plugin manager (no global state).

    Prefer the named constructors :meth:`open` (SQL databases) and :meth:`memory`; the plain
    constructor takes any object implementing :class:`pycrm.storage.Store`.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        plugins: Iterable[Any] = (),
        channels: Iterable[NotificationChannel] = (),
        load_entrypoints: bool = False,
        sla_policies: SlaPolicies | None = None,
        identity_key: str | bytes | None = None,
        phone_region: str = DEFAULT_REGION,
    ) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise ValidationError("clock", "must have a now() method returning a datetime")
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.plugins: pluggy.PluginManager = new_plugin_manager()
        self.plugins.register(builtin_pipelines, name="pycrm.pipelines")
        self.plugins.register(builtin_schemes, name="pycrm.grading")
        self.plugins.register(builtin_calendars, name="pycrm.calendars")
        self.plugins.register(builtin_intake, name="pycrm.intake")
        self.plugins.register(builtin_notify, name="pycrm.notify")
        self.plugins.register(builtin_automation, name="pycrm.automation")
        self.plugins.register(builtin_reports, name="pycrm.reports")
        register_plugins(self.plugins, plugins)
        self.plugin_errors: list[PluginLoadError] = (
            load_entrypoint_plugins(self.plugins) if load_entrypoints else []
        )
        self._channels: dict[str, NotificationChannel] = {}
        self.plugins.hook.pycrm_notification_channels(register=self._register_channel)
        self._add_host_channels(channels)
        self._templates = MessageTemplates()
        self.plugins.hook.pycrm_message_templates(register=self._register_template)
        self._pipelines: dict[str, StageMachine] = {}
        self.plugins.hook.pycrm_pipelines(register=self._register_pipeline)
        self._schemes: dict[str, GradeScheme] = {}
        self.plugins.hook.pycrm_grading_schemes(register=self._register_scheme)
        self._calendars: dict[str, BusinessCalendar] = {}
        self.plugins.hook.pycrm_calendars(register=self._register_calendar)
        self._intake_channels = IntakeChannels()
        self.plugins.hook.pycrm_intake_channels(register=self._intake_channels.register)
        self.automation = Automation()
        """The rules :meth:`tick` runs, their switches, and the channels their notices use."""
        self.plugins.hook.pycrm_automation_rules(register=self.automation.register)
        self.reports = Reports()
        """The reports :meth:`report` builds and the metrics the diagnosis compares."""
        self.plugins.hook.pycrm_reports(register=self.reports.register)
        self.sla_policies = default_policies() if sla_policies is None else sla_policies
        self.identity: IdentityHasher = identity_hasher(identity_key)
        """The keyed hasher customers are matched by: ``identity_key``, else
        ``$PYCRM_IDENTITY_KEY``, else the public development key (with a warning)."""
        self.delivery_policy: DeliveryPolicy = DeliveryPolicy()
        """How :meth:`dispatch` retries and how long its claims last; replace to change."""
        self.phone_region: str = check_region(phone_region, "phone_region")
        """The region phone numbers without a country code are read in (E.164 and hashes)."""
        self._closed = False
        self._closing = False
        self.plugins.hook.pycrm_startup(crm=self)

    @classmethod
    def open(
        cls,
        url: str | Engine = DEFAULT_URL,
        *,
        clock: Clock | None = None,
        plugins: Iterable[Any] = (),
        channels: Iterable[NotificationChannel] = (),
        table_prefix: str = "crm_",
        schema: str | None = None,
        load_entrypoints: bool = False,
        create_schema: bool = True,
        sla_policies: SlaPolicies | None = None,
        identity_key: str | bytes | None = None,
        phone_region: str = DEFAULT_REGION,
        encryption_keys: FieldCipher | Mapping[str, str | bytes] | str | None = None,
    ) -> CRM:
        """Open a CRM on a SQL database given by URL or by a host's SQLAlchemy ``Engine``.

        ``sqlite:///file.db`` (the default) is the embedded mode. With ``create_schema`` the
        migrations create or upgrade pycrm's tables; pass ``False`` when the host manages the
        schema through its own Alembic and :func:`pycrm.define_tables`.

        ``encryption_keys`` (else ``$PYCRM_ENCRYPTION_KEYS``) encrypts phone numbers, emails,
        ID numbers, addresses and messaging ids at rest: ``{key id: key}``, the current key
        first, or a :class:`pycrm.FieldCipher`. Without keys they are stored as given.
        """
        from pycrm.storage.sqlalchemy import SqlStore

        prefix = conv.check_text(table_prefix, "table_prefix", max_length=20, required=True)
        cipher = field_cipher(encryption_keys)
        if isinstance(url, str):
            conv.check_text(url, "url", max_length=2000, required=True)
            store = SqlStore.from_url(url, table_prefix=prefix or "", schema=schema, cipher=cipher)
        else:
            store = SqlStore(url, table_prefix=prefix or "", schema=schema, cipher=cipher)
        if create_schema:
            store.ensure_schema()
        return cls(
            store,
            clock=clock,
            plugins=plugins,
            channels=channels,
            load_entrypoints=load_entrypoints,
            sla_policies=sla_policies,
            identity_key=identity_key,
            phone_region=phone_region,
        )

    @classmethod
    def memory(
        cls,
        *,
        clock: Clock | None = None,
        plugins: Iterable[Any] = (),
        channels: Iterable[NotificationChannel] = (),
        load_entrypoints: bool = False,
        sla_policies: SlaPolicies | None = None,
        identity_key: str | bytes | None = None,
        phone_region: str = DEFAULT_REGION,
    ) -> CRM:
        """A CRM whose data lives in this process only: for tests, notebooks and trials."""
        return cls(
            MemoryStore(),
            clock=clock,
            plugins=plugins,
            channels=channels,
            load_entrypoints=load_entrypoints,
            sla_policies=sla_policies,
            identity_key=identity_key,
            phone_region=phone_region,
        )

    def session(
        self, *, actor: Actor | str = "system", connection: Connection | None = None
    ) -> Session:
        """A unit of work acting as ``actor`` (recorded in the audit log).

        An :class:`pycrm.Actor` sees and changes only the records in its scope (see
        :meth:`authorize`); a plain string is a system or integration actor, unrestricted.

        With ``connection`` (a host's SQLAlchemy ``Connection`` inside a transaction), the
        session joins the host's transaction: its changes commit or roll back with the host's,
        and events reach plugins only once the host commits.
        """
        self._check_open()
        scope: Scope | None = None
        if isinstance(actor, Actor):
            scope = self.authorize(actor)
            name = actor.name
        else:
            name = conv.check_text(actor, "actor", max_length=120, required=True) or "system"
        tx = self.store.begin(connection=connection)
        return Session(self, tx, actor=name, deliver=self._deliver, scope=scope)

    def authorize(self, actor: Actor) -> Scope:
        """The scope ``actor`` works in: a plugin's answer (``pycrm_authorize``), else the
        built-in rule (a rep their own customers, a supervisor their teams', an admin all)."""
        if not isinstance(actor, Actor):
            raise ValidationError("actor", f"expected a pycrm.Actor, got {type(actor).__name__}")
        answer = self.plugins.hook.pycrm_authorize(actor=actor, crm=self)
        if answer is None:
            return builtin_scope(actor)
        return check_scope(answer, "pycrm_authorize")

    def purge_audit(
        self,
        *,
        older_than: datetime | None = None,
        policy: RetentionPolicy | None = None,
        actor: str = "system",
    ) -> int:
        """Delete audit entries older than ``older_than``, or than ``policy`` keeps (default:
        six months); returns how many. A cut-off less than six months ago is refused."""
        from pycrm.audit_retention import purge_audit

        return purge_audit(self, older_than=older_than, policy=policy, actor=actor)

    def export_audit(self, out: Any, *, since: datetime | None = None, format: str = "csv") -> int:
        """Write the audit log (from ``since``) to ``out`` as CSV or JSON lines, streamed and
        masked as entries are; returns how many entries. See :mod:`pycrm.audit_retention`."""
        from pycrm.audit_retention import export_audit

        return export_audit(self, out, since=since, format=format)

    def purge_outbox(
        self,
        *,
        older_than: datetime | timedelta | None = None,
        statuses: Collection[OutboxStatus | str] = ("sent", "dead"),
        actor: str = "system",
    ) -> int:
        """Delete the outbox messages in ``statuses`` (``sent``, ``dead``) last changed before
        ``older_than`` (a moment, or an age; default: 90 days); returns how many. A purged
        message's key no longer deduplicates. See :mod:`pycrm.outbox.retention`."""
        from pycrm.outbox.retention import purge_outbox

        return purge_outbox(self, older_than=older_than, statuses=statuses, actor=actor)

    def rfm(
        self,
        as_of: datetime | None = None,
        *,
        bins: int = DEFAULT_BINS,
        currency: str | None = None,
    ) -> RfmTable:
        """RFM scores of every customer's purchases up to ``as_of`` (default: the clock's
        now), in one set-based query on SQL stores; equal to :func:`pycrm.rfm.score` on the
        same purchases.

        Without ``currency`` every purchase's total is summed as a plain number, whatever
        its currency: a shop selling in several currencies passes ``currency=``. Cancelled
        and refunded orders do not count. Runs in a session of its own; use
        :meth:`Session.rfm` to include a session's uncommitted orders.
        """
        with self.session() as session:
            return session.rfm(as_of, bins=bins, currency=currency)

    def dispatch(
        self,
        *,
        limit: int | None = None,
        batch_size: int = 100,
        policy: DeliveryPolicy | None = None,
        worker: str | None = None,
        progress: bool = False,
    ) -> DispatchReport:
        """Send the outbox's due messages through their channels, with retries and dead
        letters (see :func:`pycrm.outbox.dispatch`); call it from a scheduler, as
        often as messages should go out. Several dispatchers may run at once. ``policy``
        defaults to :attr:`delivery_policy`; ``progress`` shows a ``tqdm`` bar.
        """
        self._check_open()
        conv.check_bool(progress, "progress")
        counter = ProgressCounter(enabled=progress, description="dispatch", unit=" messages")
        move = counter.update_to
        try:
            return dispatch_outbox(
                self,
                limit=limit,
                batch_size=batch_size,
                policy=policy,
                worker=worker,
                progress=None if move is None else lambda report: move(report.claimed),
            )
        finally:
            counter.close()

    def tick(
        self,
        now: datetime | None = None,
        *,
        rules: Iterable[str] | str | None = None,
        limit: int = 500,
        actor: str = "automation",
        progress: bool = False,
    ) -> TickReport:
        """Run the automation rules at ``now`` (default: the clock's now): every enabled rule
        of :attr:`automation`, or only those named in ``rules``.

        Each rule reads what is due a page of ``limit`` records at a time and answers with
        tasks and notices; each page is written and committed in a session of its own as
        ``actor``, so memory stays bounded. Every task and notice carries a key naming its
        occasion, and one whose key exists is skipped: running the tick twice, at the same
        moment or later, creates nothing twice, and a tick cut off halfway finishes the next
        time. A rule that fails is logged and reported (:attr:`TickReport.failed`) and the
        others still run. Call it from a scheduler (cron: ``python -m pycrm tick``), then
        :meth:`dispatch` to send what it queued. ``progress`` shows a ``tqdm`` bar.
        """
        from pycrm.automation.runner import run_tick

        self._check_open()
        moment = conv.check_datetime(now, "now", required=False) or self.clock.now()
        conv.check_int(limit, "limit", minimum=1, required=True)
        conv.check_bool(progress, "progress")
        name = conv.check_text(actor, "actor", max_length=120, required=True) or "automation"
        selected = self.automation.selected(rules)
        counter = ProgressCounter(enabled=progress, description="tick", unit=" effects")
        try:
            return run_tick(
                self, selected, now=moment, limit=limit, actor=name, progress=counter.update_to
            )
        finally:
            counter.close()

    def report(
        self,
        name: str,
        period: Period | str | None = None,
        *,
        tz: str = "UTC",
        actor: Actor | str = "system",
    ) -> ReportTable[Any]:
        """Build report ``name`` (one of :attr:`reports`) for ``period``: a
        :class:`pycrm.Period` or its text (``"2026-11"``, ``"2026-Q4"``, read in ``tz``);
        by default the last full month before the clock's now. Read in a session of its own
        as ``actor``, so an :class:`pycrm.Actor` sees the figures of their records only."""
        definition = self.reports[name]
        if period is None:
            current = Period.containing(PeriodKind.MONTH, self.clock.now(), tz)
            period = current.previous()
        elif isinstance(period, str):
            period = Period.parse(period, tz)
        elif not isinstance(period, Period):
            raise ValidationError("period", f"expected a Period or text, got {period!r}")
        with self.session(actor=actor) as session:
            return definition.build(session, period)

    def reencrypt(self, *, batch_size: int = 1000) -> int:
        """Encrypt every personal value not yet under the current encryption key: after
        putting a new key first in the ring (rotation), or after switching encryption on for a
        database that holds data. Returns the number of rows rewritten; safe to run again and
        alongside sessions. A store that keeps nothing at rest (the memory store) rewrites
        nothing."""
        self._check_open()
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        reencrypt = getattr(self.store, "reencrypt", None)
        if reencrypt is None:
            return 0
        count: int = reencrypt(batch_size=batch_size)
        return count

    def upgrade(self, revision: str = "head") -> None:
        """Bring pycrm's tables to ``revision`` with the shipped migrations (SQL stores only)."""
        self._check_open()
        upgrade = getattr(self.store, "upgrade", None)
        if upgrade is None:
            raise ConfigurationError(f"{type(self.store).__name__} has no schema to migrate")
        upgrade(revision=revision)

    @property
    def channels(self) -> Mapping[str, NotificationChannel]:
        """Notification channels by name: the built-in ``"memory"`` and ``"log"``, those
        registered by plugins, and those given as ``channels=[...]``."""
        return MappingProxyType(self._channels)

    def _register_channel(self, channel: NotificationChannel, *, replace: bool = False) -> None:
        if not isinstance(channel, NotificationChannel):
            raise PluginError(repr(channel), "a channel needs a name and a send() method")
        if channel.name in self._channels and not replace:
            raise PluginError(
                channel.name,
                "a channel with this name is already registered; pass replace=True to replace it",
            )
        self._channels[channel.name] = channel

    def _add_host_channels(self, channels: Iterable[NotificationChannel]) -> None:
        # The host's own configuration wins over plugins' and built-in channels of a name.
        given: dict[str, NotificationChannel] = {}
        for channel in channels:
            if not isinstance(channel, NotificationChannel):
                raise ValidationError(
                    "channels", f"{channel!r} is not a channel (it needs a name and send())"
                )
            if channel.name in given:
                raise ValidationError("channels", f"two channels are named {channel.name!r}")
            given[channel.name] = channel
        self._channels.update(given)

    @property
    def templates(self) -> MessageTemplates:
        """The message templates notifications are rendered from: the built-in ones and those
        plugins registered; ``crm.templates.render(name, values, locale=...)``."""
        return self._templates

    def _register_template(self, template: MessageTemplate, *, replace: bool = False) -> None:
        try:
            self._templates.add(template, replace=replace)
        except ValidationError as exc:  # a plugin's mistake, reported as such
            raise PluginError(getattr(template, "name", repr(template)), exc.problem) from exc

    @property
    def pipelines(self) -> Mapping[str, StageMachine]:
        """Stage machines registered by plugins (the built-in ``"sales"`` one too), by name."""
        return MappingProxyType(self._pipelines)

    @property
    def stage_probabilities(self) -> Mapping[tuple[str, str], Decimal]:
        """``(pipeline, stage)`` -> the stage's probability, for every registered pipeline's
        stages that have one: what the ``potential`` metric weighs open deals by."""
        return MappingProxyType(
            {
                (machine.name, stage.key): stage.probability
                for machine in self._pipelines.values()
                for stage in machine.stages
                if stage.probability is not None
            }
        )

    def pipeline(self, name: str) -> StageMachine:
        """The registered stage machine called ``name``."""
        found = self._pipelines.get(name)
        if found is None:
            known = ", ".join(sorted(self._pipelines)) or "none"
            raise ValidationError("pipeline", f"no pipeline named {name!r} (registered: {known})")
        return found

    def _register_pipeline(self, machine: StageMachine) -> None:
        if not isinstance(machine, StageMachine):
            raise PluginError(repr(machine), "a pipeline must be a StageMachine")
        if machine.name in self._pipelines:
            raise PluginError(machine.name, "a pipeline with this name is already registered")
        self._pipelines[machine.name] = machine

    @property
    def grading_schemes(self) -> Mapping[str, GradeScheme]:
        """Grade schemes registered by plugins (the built-in ones too), by name."""
        return MappingProxyType(self._schemes)

    def grading_scheme(self, name: str) -> GradeScheme:
        """The registered grade scheme called ``name``."""
        found = self._schemes.get(name)
        if found is None:
            known = ", ".join(sorted(self._schemes)) or "none"
            raise ValidationError("scheme", f"no grade scheme named {name!r} (registered: {known})")
        return found

    def _register_scheme(self, scheme: GradeScheme, *, replace: bool = False) -> None:
        if not isinstance(scheme, GradeScheme):
            raise PluginError(repr(scheme), "a grade scheme must be a GradeScheme")
        if scheme.name in self._schemes and not replace:
            raise PluginError(
                scheme.name,
                "a grade scheme with this name is already registered; "
                "pass replace=True to replace it",
            )
        self._schemes[scheme.name] = scheme

    @property
    def sla_policies(self) -> SlaPolicies:
        """The SLA policy table tickets are measured by (:func:`pycrm.service.default_policies`
        unless one was given to the constructor or set here)."""
        return self._sla_policies

    @sla_policies.setter
    def sla_policies(self, policies: SlaPolicies) -> None:
        if not isinstance(policies, SlaPolicies):
            raise ValidationError(
                "sla_policies", f"expected SlaPolicies, got {type(policies).__name__}"
            )
        self._sla_policies = policies

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """Business calendars registered by plugins (the built-in ones too), by name."""
        return MappingProxyType(self._calendars)

    def calendar(self, name: str) -> BusinessCalendar:
        """The registered business calendar called ``name``.

        Calendars stored in the CRM are read in a session: ``s.service.calendar(name)``
        looks there first and falls back to this.
        """
        found = self._calendars.get(name)
        if found is None:
            known = ", ".join(sorted(self._calendars)) or "none"
            raise ValidationError("calendar", f"no calendar named {name!r} (registered: {known})")
        return found

    def _register_calendar(
        self, name: str, calendar: BusinessCalendar, *, replace: bool = False
    ) -> None:
        try:
            key = check_key(name, "name")
        except ValidationError as exc:
            raise PluginError(repr(name), f"a calendar name is a key: {exc}") from exc
        if not isinstance(calendar, BusinessCalendar):
            raise PluginError(key, "a calendar must be a BusinessCalendar")
        if key in self._calendars and not replace:
            raise PluginError(
                key,
                "a calendar with this name is already registered; pass replace=True to replace it",
            )
        self._calendars[key] = calendar

    @property
    def intake_channels(self) -> IntakeChannels:
        """Intake channels by name: the built-in ``"web_form"`` and ``"csv"`` and those
        plugins registered (``pycrm_intake_channels``)."""
        return self._intake_channels

    def intake_csv(
        self,
        source: Any,
        *,
        channel: IntakeChannel | str = "csv",
        actor: str = "intake",
        encoding: str = "utf-8",
        grading: LeadGrading | None = None,
        rules: AssignmentRules | None = None,
        team: str | None = None,
        currency: str = DEFAULT_LEAD_CURRENCY,
    ) -> IntakeReport:
        """Take each row of a CSV file (path or file object) in through ``channel``, one
        session per row as ``actor``, and report refused rows; see
        :func:`pycrm.intake.intake_csv`."""
        self._check_open()
        return intake_csv(
            self,
            source,
            channel=channel,
            actor=actor,
            encoding=encoding,
            grading=grading,
            rules=rules,
            team=team,
            currency=currency,
        )

    def regrade(
        self,
        scheme: GradeScheme | str,
        *,
        as_of: datetime | None = None,
        actor: str = "system",
        batch_size: int = REGRADE_BATCH,
    ) -> RegradeReport:
        """Grade every customer by ``scheme`` (or its registered name) in one unit of work;
        see :meth:`pycrm.Session.regrade`."""
        with self.session(actor=actor) as s:
            return s.regrade(scheme, as_of=as_of, batch_size=batch_size)

    def stage_change_refusals(
        self,
        subject: Any,
        machine: StageMachine,
        target: str,
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """What plugins say against moving ``subject`` to ``target``: plugin name -> message.

        Every ``pycrm_validate_stage_change`` implementation is asked, so a user sees all the
        reasons at once; an empty result means no plugin objects.
        """
        arguments = {
            "subject": subject,
            "machine": machine,
            "source": getattr(subject, "stage", None),
            "target": target,
            "context": dict(context or {}),
        }
        refusals: dict[str, str] = {}
        for impl in implementations(self.plugins.hook.pycrm_validate_stage_change):
            message = call_implementation(impl, arguments)
            if message:
                refusals[impl.plugin_name] = str(message)
        return refusals

    def plugin_assignee(
        self, opportunity: Opportunity, lead: Lead | None, rules: AssignmentRules | None
    ) -> str | None:
        """The rep a plugin picks for ``opportunity`` (``pycrm_assign``), or ``None``.

        The first plugin to answer wins; an answer that is not a valid rep name raises
        :class:`pycrm.ValidationError`, since assigning to it would lose the deal.
        """
        answer = self.plugins.hook.pycrm_assign(
            opportunity=opportunity, lead=lead, rules=rules, crm=self
        )
        if answer is None:
            return None
        return conv.check_text(answer, "pycrm_assign", max_length=120, required=True)

    def plugin_dispatch(self, ticket: Ticket, rules: DispatchRules | None) -> Dispatch | None:
        """Where a plugin sends ``ticket`` (``pycrm_dispatch``), or ``None`` to use the rules.

        The first plugin to answer wins; an answer that is not a :class:`pycrm.Dispatch`
        raises :class:`pycrm.ValidationError` rather than being guessed at.
        """
        answer = self.plugins.hook.pycrm_dispatch(ticket=ticket, rules=rules, crm=self)
        if answer is None or isinstance(answer, Dispatch):
            return answer
        raise ValidationError(
            "pycrm_dispatch", f"expected Dispatch or None, got {type(answer).__name__}"
        )

    def _deliver(self, events: Iterable[DomainEvent]) -> None:
        # Called after commit: the changes are durable, so one failing plugin must neither
        # undo them nor keep the event from the other plugins.
        hook = self.plugins.hook.pycrm_event
        if not hook.get_hookimpls():
            return
        for event in events:
            call_each(hook, {"event": event, "crm": self}, event.name)

    def _check_open(self) -> None:
        # Work on a closed CRM would reopen connections its close() released.
        if self._closed:
            raise ConfigurationError("this CRM has been closed")

    def close(self) -> None:
        """Tell plugins, then release the store's connections. Idempotent.

        Plugins can still open sessions in ``pycrm_shutdown`` (to flush what they hold);
        a ``close()`` they call from there returns at once."""
        if self._closed or self._closing:
            return
        self._closing = True
        try:
            self.plugins.hook.pycrm_shutdown(crm=self)
        finally:
            self._closed = True
            self.store.close()

    def __enter__(self) -> CRM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CRM store={self.store!r} clock={self.clock!r}>"
