"""Record-level access: reps, a supervisor, an admin and a host rule, on one SQLite file.

Run it with ``python examples/access_control.py``. Each actor lists the customers it may see;
a rep's attempt to change a colleague's customer is refused and shows up in the audit log,
and the log is exported as CSV at the end. It checks what it prints before it exits.
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
from pathlib import Path

import pycrm
from pycrm import CRM, Actor, ChangeKind, Contact, Customer, PermissionDenied, Role, Scope


class AreaManagers:
    """A host rule: area managers see their regions, whoever owns the customers there."""

    def __init__(self, areas: dict[str, tuple[str, ...]]) -> None:
        self.areas = areas

    @pycrm.hookimpl
    def pycrm_authorize(self, actor: Actor, crm: CRM) -> Scope | None:
        areas = self.areas.get(actor.name)
        return Scope.regions(*areas) if areas else None


def visible(crm: CRM, actor: Actor) -> list[str]:
    with crm.session(actor=actor) as s:
        return sorted(c.name for c in s.customers.stream())


def main(directory: Path) -> int:
    with CRM.open(
        f"sqlite:///{directory / 'crm.db'}", plugins=[AreaManagers({"chen": ("north",)})]
    ) as crm:
        with crm.session(actor="import") as s:  # a plain string: a system actor, sees all
            for name, owner, team, region in [
                ("Acme Tools", "li", "east", "north"),
                ("Bright Foods", "li", "east", "south"),
                ("Cloud Nine", "wang", "east", "north"),
                ("Delta Ports", "zhao", "west", "south"),
            ]:
                customer = s.customers.add(
                    Customer.company(name, owner=owner, team=team, region=region)
                )
                s.contacts.add(Contact(customer_id=customer.id, name=f"Buyer at {name}"))
            delta = customer

        li = Actor("li")
        actors = [
            li,
            Actor("sun", role=Role.SUPERVISOR, teams=["east"]),
            Actor("chen", role=Role.SUPERVISOR, teams=["west"]),  # the host rule wins
            Actor("root", role=Role.ADMIN),
        ]
        seen = {}
        for actor in actors:
            seen[actor.name] = visible(crm, actor)
            print(f"{actor.name} ({actor.role.value}) sees: {', '.join(seen[actor.name])}")

        with crm.session(actor=li) as s:
            contacts = s.contacts.count()
            print(f"li's contacts: {contacts}")
        try:
            with crm.session(actor=li) as s:
                s.customers.update(delta.evolve(owner="li"))
        except PermissionDenied as exc:
            print(f"refused: {exc}")

        with crm.session(actor="auditor") as s:
            denied = [e for e in s.audit.for_entity(delta) if e.action is ChangeKind.DENIED]
            print(f"audit: {denied[0].actor} was denied {denied[0].changes['operation'][0]}")

        out = io.StringIO()
        exported = crm.export_audit(out)
        actions = [row["action"] for row in csv.DictReader(io.StringIO(out.getvalue()))]
        print(f"audit export: {exported} entries, {actions.count('denied')} denied")

    ok = (
        seen["li"] == ["Acme Tools", "Bright Foods"]
        and seen["sun"] == ["Acme Tools", "Bright Foods", "Cloud Nine"]
        and seen["chen"] == ["Acme Tools", "Cloud Nine"]
        and len(seen["root"]) == 4
        and contacts == 2
        and denied[0].actor == "li"
        and actions.count("denied") == 1
    )
    print("access_control: ok" if ok else "access_control: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))
