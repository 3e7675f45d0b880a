"""Capturing leads and assigning deals inside a session: match or create, grade, open, assign.

The pure parts (:func:`pycrm.grade`, :func:`pycrm.choose_rep`) decide; this module reads
what they need from the store and saves what they decide, in the caller's session, so a
capture is all or nothing. Plugins may pick the rep themselves (``pycrm_assign``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import attrs

from pycrm.domain import Contact, Customer, Money, Priority
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline import (
    AssignmentRules,
    Lead,
    LeadGrading,
    Opportunity,
    RepAssignment,
    choose_rep,
    grade,
    open_opportunity,
)

if TYPE_CHECKING:
    from pycrm.session import Session

DEFAULT_CURRENCY = "CNY"
"""Currency of the zero amount given to a deal whose lead named no budget."""


@attrs.frozen(kw_only=True)
class CapturedLead:
    """What capturing a lead did: the customer (found or new), the opened deal, its grade.

    ``matched`` says the customer already existed; ``reason`` explains the grade.
    """

    customer: Customer
    opportunity: Opportunity
    matched: bool
    grade: Priority
    reason: str

    @property
    def assigned(self) -> bool:
        """Whether a rep took the deal; if not, it waits unassigned (``owner is None``)."""
        return self.opportunity.owner is not None


def capture_lead(
    session: Session,
    lead: Lead,
    *,
    grading: LeadGrading | None = None,
    rules: AssignmentRules | None = None,
    team: str | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> CapturedLead:
    """Match or create the lead's customer, open a graded deal for it and assign it.

    The customer is matched by member id, then email, then phone (equal normalised values;
    the oldest such customer wins). A new one is a prospect (a company if the lead names one,
    with the person who got in touch as its contact) whose source channel, capture time and
    tags come from the lead; a matched one is left as it is. The deal is opened on the
    default pipeline with the lead's budget as its amount (zero in ``currency`` if none),
    its need as title and its grade, then assigned as :func:`assign_opportunity` does when
    ``rules`` are given or a plugin answers; otherwise it stays unassigned.
    """
    if not isinstance(lead, Lead):
        raise ValidationError("lead", f"expected Lead, got {type(lead).__name__}")
    priority, reason = grade(lead, grading)
    amount = lead.budget if lead.budget is not None else Money.zero(currency)
    customer = _match(session, lead)
    matched = customer is not None
    if customer is None:
        customer = new_prospect(session, lead)
    opportunity, _events = open_opportunity(
        customer_id=customer.id,
        title=lead.need or f"{lead.channel} lead: {lead.name}"[:200],
        amount=amount,
        owner=None,
        now=session.now,
        by=session.actor,
        source_channel=lead.channel,
        grade=priority,
        team=team,
    )
    opportunity = _assigned(session, opportunity, rules, team=team, lead=lead)
    stored = session.opportunities.add(opportunity)
    if stored.owner is not None:
        _remember(session, stored)
    return CapturedLead(
        customer=customer, opportunity=stored, matched=matched, grade=priority, reason=reason
    )


def assign_opportunity(
    session: Session,
    opportunity: Opportunity,
    rules: AssignmentRules | None,
    *,
    team: str | None = None,
    lead: Lead | None = None,
) -> Opportunity:
    """Give an open ``opportunity`` to a rep now and save it; unchanged if nobody can take it.

    Plugins are asked first (``pycrm_assign``); else :func:`pycrm.choose_rep` picks from
    ``rules`` with figures read from the store: each rep's assignments today (UTC) and open
    deals, counted through repository filters, and their last assignment time, kept in one
    :class:`pycrm.RepAssignment` row per rep. ``team`` defaults to the opportunity's team.
    """
    if not isinstance(opportunity, Opportunity):
        raise ValidationError(
            "opportunity", f"expected Opportunity, got {type(opportunity).__name__}"
        )
    assigned = _assigned(session, opportunity, rules, team=team, lead=lead)
    if assigned is opportunity:
        return opportunity
    stored = session.opportunities.update(assigned)
    _remember(session, stored)
    return stored


def _assigned(
    session: Session,
    opportunity: Opportunity,
    rules: AssignmentRules | None,
    *,
    team: str | None,
    lead: Lead | None,
) -> Opportunity:
    """``opportunity`` given to the chosen rep (not saved), or itself when nobody is chosen."""
    if rules is not None and not isinstance(rules, AssignmentRules):
        raise ValidationError("rules", f"expected AssignmentRules, got {type(rules).__name__}")
    if lead is not None and not isinstance(lead, Lead):
        raise ValidationError("lead", f"expected Lead, got {type(lead).__name__}")
    team = conv.check_text(team, "team", max_length=120, required=False) or opportunity.team
    if not opportunity.is_open:
        raise ValidationError("opportunity", f"is closed (in {opportunity.stage!r})")
    now = session.now
    name = session.crm.plugin_assignee(opportunity, lead, rules)
    rep_team = None
    if name is None and rules is not None:
        today = now.astimezone(timezone.utc).date()
        names = [rep.name for rep in rules.reps if team is None or rep.team == team]
        rep = choose_rep(
            rules,
            lead=lead,
            team=team,
            today=today,
            last_assigned={n: _last_assigned(session, n) for n in names},
            assigned_today={
                n: session.opportunities.count(owner=n, assigned_on=today) for n in names
            },
            open_load={n: session.opportunities.count(owner=n, is_open=True) for n in names},
        )
        if rep is not None:
            name, rep_team = rep.name, rep.team
    if name is None:
        return opportunity
    return opportunity.evolve(owner=name, assigned_at=now, team=opportunity.team or rep_team)


def _last_assigned(session: Session, rep: str) -> datetime | None:
    found = session.rep_assignments.list(rep=rep, limit=1).items
    return found[0].last_assigned_at if found else None


def _remember(session: Session, opportunity: Opportunity) -> None:
    """Rewrite the owner's last-assignment row (version-checked, so racing turns conflict)."""
    assert opportunity.owner is not None
    assert opportunity.assigned_at is not None
    found = session.rep_assignments.list(rep=opportunity.owner, limit=1).items
    if found:
        session.rep_assignments.update(
            found[0].evolve(
                last_assigned_at=opportunity.assigned_at, last_opportunity_id=opportunity.id
            )
        )
    else:
        session.rep_assignments.add(
            RepAssignment(
                rep=opportunity.owner,
                last_assigned_at=opportunity.assigned_at,
                last_opportunity_id=opportunity.id,
            )
        )


def _match(session: Session, lead: Lead) -> Customer | None:
    for field in ("member_id", "email", "phone"):
        value = getattr(lead, field)
        if value is None:
            continue
        found = session.customers.list(limit=1, **{field: value}).items
        if found:
            return found[0]
    return None


def new_prospect(session: Session, lead: Lead) -> Customer:
    """Store the customer ``lead`` describes: a company with the person as its contact when
    it names one, else a person; source channel, capture time and tags from the lead."""
    shared = {
        "region": lead.region,
        "phone": lead.phone,
        "email": lead.email,
        "member_id": lead.member_id,
        "source_channel": lead.channel,
        "captured_at": lead.received_at,
        "tags": lead.tags,
    }
    if lead.company is None:
        # Industry is a company's field; a person's lead keeps it only for grading.
        return session.customers.add(Customer.person(lead.name, **shared))
    customer = session.customers.add(
        Customer.company(lead.company, industry=lead.industry, **shared)
    )
    session.contacts.add(
        Contact(customer_id=customer.id, name=lead.name, phone=lead.phone, email=lead.email)
    )
    return customer
