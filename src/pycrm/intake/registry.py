"""The intake channels a CRM knows, by name: built-in ones and those plugins register."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pycrm.errors import PluginError, ValidationError
from pycrm.intake.inbound import IntakeChannel


class IntakeChannels(Mapping[str, IntakeChannel]):
    """Channel name -> channel, filled once at startup through ``pycrm_intake_channels``."""

    def __init__(self) -> None:
        self._channels: dict[str, IntakeChannel] = {}

    def register(self, channel: IntakeChannel, *, replace: bool = False) -> None:
        """What the hook's ``register`` callback does: add ``channel``, or replace one of
        its name with ``replace=True``; a plugin's mistake raises :class:`pycrm.PluginError`."""
        if not isinstance(channel, IntakeChannel):
            raise PluginError(repr(channel), "an intake channel needs a name and a read() method")
        name = channel.name
        if not isinstance(name, str) or not name.strip():
            raise PluginError(repr(channel), "an intake channel's name is non-blank text")
        if name in self._channels and not replace:
            raise PluginError(
                name,
                "an intake channel with this name is already registered; "
                "pass replace=True to replace it",
            )
        self._channels[name] = channel

    def choose(self, channel: Any) -> IntakeChannel:
        """``channel`` itself if it is a channel object, else the registered one of that name."""
        if isinstance(channel, str):
            found = self._channels.get(channel)
            if found is None:
                known = ", ".join(sorted(self._channels)) or "none"
                raise ValidationError(
                    "channel", f"no intake channel named {channel!r} (registered: {known})"
                )
            return found
        if isinstance(channel, IntakeChannel):
            return channel
        raise ValidationError(
            "channel", f"expected a channel name or an intake channel, got {type(channel).__name__}"
        )

    def __getitem__(self, name: str) -> IntakeChannel:
        return self._channels[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)
