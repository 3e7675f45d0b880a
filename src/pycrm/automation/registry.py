"""The rules a CRM's tick runs, and where their notices go: ``crm.automation``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from pycrm.automation.rule import AutomationRule
from pycrm.domain import _convert as conv
from pycrm.errors import PluginError, ValidationError
from pycrm.notify.templates import normalize_locale
from pycrm.pipeline.history import check_key


class Automation:
    """The automation rules of one CRM, in the order the tick runs them, with the switches
    and the channels their notices use.

    Built-in rules and those of plugins (``pycrm_automation_rules``) are registered when the
    CRM is made; a host replaces one with other settings through :meth:`add` with
    ``replace=True`` and switches one off with :meth:`disable`.
    """

    def __init__(self) -> None:
        self._rules: dict[str, AutomationRule] = {}
        self._disabled: set[str] = set()
        self._staff_channel: str = "log"
        self._customer_channel: str | None = None
        self._locale: str | None = None

    def add(self, rule: AutomationRule, *, replace: bool = False) -> None:
        """Register ``rule`` under its name; ``replace=True`` swaps a registered rule of the
        same name for this one (keeping its place in the order and its switch)."""
        if not isinstance(rule, AutomationRule):
            raise ValidationError(
                "rule", f"{rule!r} is not an automation rule (it needs a name and run())"
            )
        name = check_key(rule.name, "name")
        if name in self._rules and not replace:
            raise ValidationError(
                "name", f"a rule named {name!r} is registered; pass replace=True to replace it"
            )
        self._rules[name] = rule

    def register(self, rule: AutomationRule, *, replace: bool = False) -> None:
        """:meth:`add` as a plugin calls it: its mistakes are reported as the plugin's."""
        try:
            self.add(rule, replace=replace)
        except ValidationError as exc:
            raise PluginError(str(getattr(rule, "name", repr(rule))), exc.problem) from exc

    def get(self, name: str) -> AutomationRule:
        """The registered rule called ``name`` (enabled or not)."""
        found = self._rules.get(name)
        if found is None:
            known = ", ".join(self._rules) or "none"
            raise ValidationError("rule", f"no automation rule named {name!r} ({known})")
        return found

    def disable(self, name: str) -> None:
        """Switch rule ``name`` off: the tick skips it until :meth:`enable`."""
        self._disabled.add(self.get(name).name)

    def enable(self, name: str) -> None:
        """Switch rule ``name`` back on."""
        self._disabled.discard(self.get(name).name)

    def is_enabled(self, name: str) -> bool:
        return self.get(name).name not in self._disabled

    @property
    def rules(self) -> Mapping[str, AutomationRule]:
        """The enabled rules by name, in the order the tick runs them."""
        return MappingProxyType(
            {name: rule for name, rule in self._rules.items() if name not in self._disabled}
        )

    @property
    def registered(self) -> Mapping[str, AutomationRule]:
        """Every registered rule by name, switched off or not."""
        return MappingProxyType(self._rules)

    def selected(self, names: Any = None) -> list[AutomationRule]:
        """The rules a tick runs: every enabled one, or those named (enabled or not, since
        naming a rule is asking for it), in registration order."""
        if names is None:
            return list(self.rules.values())
        if isinstance(names, str):
            names = [names]
        wanted = {self.get(name).name for name in names}
        return [rule for name, rule in self._rules.items() if name in wanted]

    @property
    def staff_channel(self) -> str:
        """The channel notices to staff go out on (default ``"log"``)."""
        return self._staff_channel

    @staff_channel.setter
    def staff_channel(self, name: str) -> None:
        self._staff_channel = conv.required_text(name, "staff_channel", 60)

    @property
    def customer_channel(self) -> str | None:
        """The channel notices to customers go out on; ``None`` (the default) sends none,
        so pycrm writes to customers only once a host says how."""
        return self._customer_channel

    @customer_channel.setter
    def customer_channel(self, name: str | None) -> None:
        self._customer_channel = conv.check_text(
            name, "customer_channel", max_length=60, required=False
        )

    @property
    def locale(self) -> str | None:
        """The locale notices are rendered in when a rule names none (``None``: each
        template's default)."""
        return self._locale

    @locale.setter
    def locale(self, value: str | None) -> None:
        self._locale = None if value is None else normalize_locale(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.rules)

    def __repr__(self) -> str:
        on = ", ".join(self.rules) or "none"
        return f"<Automation rules=[{on}] staff_channel={self._staff_channel!r}>"
