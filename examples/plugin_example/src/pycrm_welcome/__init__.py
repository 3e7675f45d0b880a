"""An example pycrm plugin, discovered through the ``pycrm`` entry-point group.

It logs a welcome for every new customer and keeps the names it greeted in ``plugin.greeted``
so a host (or a test) can see it ran.
"""

from __future__ import annotations

import logging

import pycrm

log = logging.getLogger(__name__)


class WelcomePlugin:
    """Greets customers once their creation has been committed."""

    def __init__(self) -> None:
        self.greeted: list[str] = []

    @pycrm.hookimpl
    def pycrm_startup(self, crm: pycrm.CRM) -> None:
        log.info("welcome plugin ready on %r", crm)

    @pycrm.hookimpl
    def pycrm_event(self, event: pycrm.DomainEvent, crm: pycrm.CRM) -> None:
        if event.name != "customer.created" or not isinstance(event.entity, pycrm.Customer):
            return
        self.greeted.append(event.entity.name)
        log.info("welcome, %s (by %s)", event.entity.name, event.actor)


plugin = WelcomePlugin()
"""The object the entry point names; pycrm registers it with each CRM's plugin manager."""
