"""What automation rules produce: tasks (pycrm :class:`pycrm.Task` with a ``key``) and
:class:`Notice` s, each identified by a key so a second tick creates nothing twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

KEY_LENGTH = 128
"""The longest idempotency key: what an outbox message's ``key`` column holds."""


def check_key(value: Any, field: str = "key") -> str:
    """An idempotency key: text of at most :data:`KEY_LENGTH` characters."""
    return conv.required_text(value, field, KEY_LENGTH)


def _optional_key(value: Any) -> str | None:
    return None if value is None else check_key(value, "task_key")


@attrs.frozen
class Staff:
    """Someone on the host's staff, by the name pycrm records them under (a customer's
    ``owner``, a task's ``assignee``, a team's supervisor). Which address a channel reaches
    them at is the ``pycrm_recipient`` hook's answer; by default, the name itself."""

    name: str = attrs.field(converter=conv.text(120))


def _check_values(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError("values", f"expected a mapping, got {type(value).__name__}")
    return dict(value)


def _check_to(value: Any) -> Staff | Customer:
    if not isinstance(value, (Staff, Customer)):
        raise ValidationError(
            "to", f"expected a pycrm.Staff or a pycrm.Customer, got {type(value).__name__}"
        )
    return value


@attrs.frozen(kw_only=True)
class Notice:
    """A message a rule wants sent: ``template`` rendered with ``values`` for ``to``.

    Staff notices go out on the automation's staff channel, customer notices on its customer
    channel (none by default, so pycrm writes to customers only when a host says how). The
    ``key`` makes it happen once: the outbox keeps one message per key.

    ``task_key`` names the task the notice announces. When that task existed before, the
    notice is not queued either: the occasion has been dealt with, even if its message has
    since been purged from the outbox or could not be addressed at the time.
    """

    key: str = attrs.field(converter=check_key)
    template: str = attrs.field(converter=conv.text(80))
    values: Mapping[str, Any] = attrs.field(converter=_check_values)
    to: Staff | Customer = attrs.field(converter=_check_to)
    customer_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    locale: str | None = attrs.field(default=None, converter=conv.optional_text(35))
    send_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    task_key: str | None = attrs.field(default=None, converter=_optional_key)
