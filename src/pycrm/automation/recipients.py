"""Who a notice reaches on a channel: the ``pycrm_recipient`` hook, else a plain default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycrm.automation.effects import Staff
from pycrm.domain import Customer
from pycrm.domain import _convert as conv

if TYPE_CHECKING:
    from pycrm.crm import CRM


def recipient_for(crm: CRM, person: Staff | Customer, channel: str) -> str | None:
    """The address ``person`` is reached at on ``channel``, or ``None`` when there is none.

    A plugin's answer to ``pycrm_recipient`` comes first (a host maps its staff names to
    e-mail addresses or chat ids there). Without one, a member of staff is reached by name,
    which suits the log and memory channels and hosts whose staff names are addresses, and a
    customer at their e-mail, else their phone.
    """
    answer = crm.plugins.hook.pycrm_recipient(person=person, channel=channel, crm=crm)
    if answer is not None:
        return conv.check_text(answer, "pycrm_recipient", max_length=254, required=True)
    if isinstance(person, Staff):
        return person.name
    return person.email or person.phone
