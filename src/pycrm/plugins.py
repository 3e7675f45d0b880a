"""Extension points: pluggy hookspecs named ``pycrm_*`` and the ``pycrm`` entry-point group.

Each :class:`pycrm.CRM` has its own plugin manager, so two CRMs in one process never share
plugins. Built-in parts register through these same hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from pycrm.domain import DomainEvent
from pycrm.errors import PluginError

if TYPE_CHECKING:
    from pycrm.access import Actor, Scope
    from pycrm.automation.effects import Staff
    from pycrm.crm import CRM
    from pycrm.domain import Customer
    from pycrm.engagement import EngagementEvent
    from pycrm.pipeline import AssignmentRules, Lead, Opportunity, StageMachine
    from pycrm.service.dispatch import Dispatch, DispatchRules
    from pycrm.service.ticket import Ticket

PROJECT = "pycrm"
ENTRY_POINT_GROUP = "pycrm"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorate plugin functions with ``@pycrm.hookimpl`` to implement a ``pycrm_*`` hook."""

log = logging.getLogger("pycrm.plugins")


class HookSpecs:
    """The hooks a pycrm plugin may implement."""

    @hookspec
    def pycrm_startup(self, crm: CRM) -> None:
        """Called once when a CRM has opened and every plugin is registered.

        :param crm: the CRM that opened.

        All implementations run; use it to read configuration or warm caches.
        """

    @hookspec
    def pycrm_event(self, event: DomainEvent, crm: CRM) -> None:
        """Called for each domain event after the session that raised it has committed.

        :param event: the event, e.g. ``event.name == "customer.created"``.
        :param crm: the CRM whose session committed.

        All implementations run, in the order pluggy calls them. A rolled-back session fires
        nothing. An exception in one implementation is logged and does not stop the others
        (the change is already committed).
        """

    @hookspec
    def pycrm_notification_channels(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace notification channels.

        :param register: call it as ``register(channel)`` with each channel object (``name``
            plus ``send()``), or ``register(channel, replace=True)`` to replace a channel of
            the same name (a built-in one: ``"memory"``, ``"log"``).

        All implementations run; the built-in channels are registered first. A name already
        taken, without ``replace=True``, is an error. Channels the host passes as
        ``channels=[...]`` are registered after every plugin's and replace any of the same name.
        """

    @hookspec
    def pycrm_message_templates(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace message templates.

        :param register: call it as ``register(template)`` with each
            :class:`pycrm.MessageTemplate`, or ``register(template, replace=True)`` to replace
            one of the same name (a built-in one such as ``"follow_up_due"``).

        All implementations run; the built-in templates are registered first. A name already
        taken, without ``replace=True``, is an error. The result is ``crm.templates``.
        """

    @hookspec
    def pycrm_intake_channels(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace intake channels.

        :param register: call it as ``register(channel)`` with each intake channel (``name``
            plus ``read(payload, *, received_at)`` returning a :class:`pycrm.Inbound`), or
            ``register(channel, replace=True)`` to replace one of the same name (a built-in
            one: ``"web_form"``, ``"csv"``).

        All implementations run; the built-in channels are registered first. A name already
        taken, without ``replace=True``, is an error. The result is ``crm.intake_channels``.
        """

    @hookspec
    def pycrm_engagement(self, event: EngagementEvent, crm: CRM) -> None:
        """Called for each new engagement event (delivered, opened, clicked, replied, ...)
        after the session that recorded it has committed.

        :param event: the :class:`pycrm.EngagementEvent`, already on the customer's timeline.
        :param crm: the CRM whose session committed.

        All implementations run. A rolled-back session, or a report of an event already
        recorded, fires nothing. An exception in one implementation is logged and does not
        stop the others.
        """

    @hookspec
    def pycrm_pipelines(self, register: Callable[[StageMachine], None]) -> None:
        """Called once at startup so a plugin can add stage machines (pipelines).

        :param register: call it with each :class:`pycrm.StageMachine`; its ``name`` is how
            opportunities refer to it (``opportunity.pipeline``).

        All implementations run. The built-in ``"sales"`` pipeline is registered the same way;
        a second machine with a name already taken is an error.
        """

    @hookspec
    def pycrm_grading_schemes(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace grade schemes.

        :param register: call it as ``register(scheme)`` with each
            :class:`pycrm.GradeScheme`, or ``register(scheme, replace=True)`` to replace a
            scheme of the same name (a built-in one: ``"abc"``, ``"tier"``,
            ``"spending_power"``, ``"purchase_frequency"``).

        All implementations run; the built-in schemes are registered first. A name already
        taken, without ``replace=True``, is an error.
        """

    @hookspec
    def pycrm_calendars(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace business calendars.

        :param register: call it as ``register(name, calendar)`` with each
            :class:`pycrm.service.BusinessCalendar`, or ``register(name, calendar,
            replace=True)`` to replace one of the same name (a built-in one: ``"always_open"``,
            ``"china"``). SLA policies name the calendar they count on.

        All implementations run; the built-in calendars are registered first. A name already
        taken, without ``replace=True``, is an error. A calendar stored in the CRM under the
        same name (:class:`pycrm.service.CalendarDefinition`) wins over a registered one.
        """

    @hookspec
    def pycrm_validate_stage_change(
        self,
        subject: Any,
        machine: StageMachine,
        source: str,
        target: str,
        context: Mapping[str, Any],
    ) -> str | None:
        """Called before a session moves ``subject`` (e.g. an opportunity) from ``source`` to
        ``target`` of ``machine``, after the machine's own rules have passed.

        :param subject: the entity about to move, as it is before the move.
        :param machine: the stage machine it moves through.
        :param source: the stage it is in.
        :param target: the stage it would enter.
        :param context: what the caller passed as ``context`` (may be empty).

        Return a message to veto the move, or ``None`` to allow it. All implementations run;
        every refusal is reported together in one :class:`pycrm.GateRefused`, keyed by plugin
        name, and nothing is changed.
        """

    @hookspec(firstresult=True)
    def pycrm_assign(
        self,
        opportunity: Opportunity,
        lead: Lead | None,
        rules: AssignmentRules | None,
        crm: CRM,
    ) -> str | None:
        """Called when a session assigns an opportunity, before pycrm's own rules choose a rep.

        :param opportunity: the opportunity to assign, as it is before assignment.
        :param lead: the lead it was captured from, or ``None`` when an existing opportunity
            is assigned.
        :param rules: the assignment rules the caller passed (may be ``None``).
        :param crm: the CRM whose session assigns.

        Return the name of the rep who takes it (any name: it need not be one of
        ``rules.reps``), or ``None`` to let the rules decide. The first result that is not
        ``None`` wins and the rest are not called.
        """

    @hookspec(firstresult=True)
    def pycrm_dispatch(
        self, ticket: Ticket, rules: DispatchRules | None, crm: CRM
    ) -> Dispatch | None:
        """Called when a session dispatches a ticket, before pycrm's own rules route it.

        :param ticket: the ticket to dispatch, as it is before dispatch.
        :param rules: the dispatch rules the caller passed (may be ``None``).
        :param crm: the CRM whose session dispatches.

        Return a :class:`pycrm.Dispatch` (the service group and the agent who takes the
        ticket; the agent need not be a member of any of ``rules.groups``), or ``None`` to
        let the rules decide. The first result that is not ``None`` wins, the rest are not
        called, and the rules are not consulted.
        """

    @hookspec(firstresult=True)
    def pycrm_authorize(self, actor: Actor, crm: CRM) -> Scope | None:
        """Called when a session is opened for an :class:`pycrm.Actor`, to decide its scope.

        :param actor: who the session acts for (name, role, teams).
        :param crm: the CRM opening the session.

        Return a :class:`pycrm.Scope` (``Scope.owners(...)``, ``Scope.teams(...)``,
        ``Scope.regions(...)``, ``Scope.all()``, ``Scope.none()``, combined with ``|`` and
        ``&``), which the store compiles into every query of the session; or ``None`` to
        leave it to the built-in rule by role. The first result that is not ``None`` wins
        and the rest are not called. Sessions opened with a plain string actor are system
        sessions and do not call this hook.
        """

    @hookspec
    def pycrm_automation_rules(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace automation rules.

        :param register: call it as ``register(rule)`` with each rule (a ``name`` plus
            ``run(context, after)``, see :class:`pycrm.automation.AutomationRule`), or
            ``register(rule, replace=True)`` to replace a rule of the same name (a built-in
            one, to change its settings).

        All implementations run; the built-in rules are registered first, and
        :meth:`pycrm.CRM.tick` runs the rules in the order they were registered. A name
        already taken, without ``replace=True``, is an error.
        """

    @hookspec
    def pycrm_reports(self, register: Callable[..., None]) -> None:
        """Called once at startup so a plugin can add or replace reports and metrics.

        :param register: call it as ``register(item)`` with each
            :class:`pycrm.ReportDefinition` (a named report built for a period) or
            :class:`pycrm.Metric` (one figure per period, which the period-over-period
            diagnosis compares), or ``register(item, replace=True)`` to replace one of the
            same name.

        All implementations run; the built-in reports are registered first. A name already
        taken, without ``replace=True``, is an error.
        """

    @hookspec(firstresult=True)
    def pycrm_recipient(self, person: Staff | Customer, channel: str, crm: CRM) -> str | None:
        """Called when an automation notice is queued, to find the address it goes to.

        :param person: a :class:`pycrm.automation.Staff` (someone on the host's staff, by
            the name pycrm records them under) or a :class:`pycrm.Customer`.
        :param channel: the name of the channel the notice goes out on.
        :param crm: the CRM running the tick.

        Return the address on that channel (an e-mail address, a chat id), or ``None`` to
        leave it to the default: a member of staff's name, a customer's e-mail, else phone.
        The first result that is not ``None`` wins and the rest are not called.
        """

    @hookspec
    def pycrm_shutdown(self, crm: CRM) -> None:
        """Called once when a CRM is closed, before its store is released.

        :param crm: the CRM being closed.

        All implementations run.
        """


@attrs.frozen
class PluginLoadError:
    """A plugin that could not be loaded: reported, skipped, not fatal."""

    name: str
    error: str


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    return manager


def register_plugins(manager: pluggy.PluginManager, plugins: Iterable[Any]) -> None:
    """Register plugin objects or modules given by the host; errors here are the host's bug,
    so they raise :class:`pycrm.PluginError` (a misspelt hook name included)."""
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        try:
            manager.register(plugin)
            manager.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(name, str(exc)) from exc


def load_entrypoint_plugins(
    manager: pluggy.PluginManager, group: str = ENTRY_POINT_GROUP
) -> list[PluginLoadError]:
    """Load every plugin of the entry-point group, each on its own, so one broken plugin is
    reported (logged and returned) and the rest still load."""
    failures: list[PluginLoadError] = []
    for entry_point in _entry_points(group):
        if manager.get_plugin(entry_point.name) is not None:
            continue
        try:
            plugin = entry_point.load()
            manager.register(plugin, name=entry_point.name)
            try:
                manager.check_pending()
            except pluggy.PluginValidationError:
                manager.unregister(name=entry_point.name)
                raise
        except Exception as exc:  # a broken third-party plugin must not stop the host
            message = f"{type(exc).__name__}: {exc}"
            log.warning("skipping pycrm plugin %r: %s", entry_point.name, message)
            failures.append(PluginLoadError(entry_point.name, message))
    return failures


def implementations(hook: Any) -> list[Any]:
    """A hook's implementations in the order pluggy itself calls them (last registered
    first), for callers that must call each on its own: to isolate failures or to know which
    plugin answered."""
    return list(reversed(hook.get_hookimpls()))


def call_implementation(implementation: Any, arguments: Mapping[str, Any]) -> Any:
    """Call one implementation with the arguments it asks for, as pluggy would."""
    return implementation.function(*(arguments[name] for name in implementation.argnames))


def call_each(hook: Any, arguments: Mapping[str, Any], about: str) -> None:
    """Call every implementation of ``hook`` on its own, after a commit: one that raises is
    logged (naming the plugin and ``about``) and the others still run."""
    for impl in implementations(hook):
        try:
            call_implementation(impl, arguments)
        except Exception:
            log.exception("plugin %r failed on %s", impl.plugin_name, about)


def _entry_points(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)
