"""Taking one inbound payload in, inside the caller's session: who, what was said, a deal.

The channel reads the payload into an :class:`~pycrm.intake.inbound.Inbound`; this module
finds the customer (or creates a prospect), logs the interaction and, for a lead, captures
it as :func:`pycrm.leads.capture_lead` does, so grading and assignment follow the same rules
and the ``pycrm_assign`` hook. It all happens in one session: all or nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from pycrm.domain import Customer, Interaction
from pycrm.errors import IdentityConflict, PluginError
from pycrm.intake.inbound import Inbound, IntakeChannel
from pycrm.leads import DEFAULT_CURRENCY, capture_lead, new_prospect
from pycrm.pipeline import AssignmentRules, LeadGrading, Opportunity

if TYPE_CHECKING:
    from pycrm.session import Session


@attrs.frozen(kw_only=True)
class IntakeResult:
    """What taking a payload in did: the customer (``matched``, or a new prospect), the
    interaction logged and, for a lead, the opportunity opened (assigned or waiting)."""

    channel: str
    customer: Customer
    matched: bool
    interaction: Interaction
    opportunity: Opportunity | None = None

    @property
    def is_lead(self) -> bool:
        return self.opportunity is not None


def take_in(
    session: Session,
    channel: IntakeChannel | str,
    payload: Any,
    *,
    grading: LeadGrading | None = None,
    rules: AssignmentRules | None = None,
    team: str | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> IntakeResult:
    """Read ``payload`` through ``channel`` (a registered name or a channel object) and apply it.

    The customer is resolved by member id, phone and email
    (:meth:`pycrm.CustomerRepository.resolve`); when they disagree, or one fits several
    customers, :class:`pycrm.IdentityConflict` is raised and nothing is written. A lead is
    captured (graded, opened, assigned by ``rules`` or a plugin, with ``team`` and
    ``currency`` as :func:`pycrm.leads.capture_lead` takes them); anyone else who matches
    nobody becomes a prospect. A bad payload raises
    :class:`pycrm.ValidationError` naming its field before anything is written.
    """
    chosen = session.crm.intake_channels.choose(channel)
    inbound = chosen.read(payload, received_at=session.now)
    if not isinstance(inbound, Inbound):
        raise PluginError(chosen.name, f"read() returned {type(inbound).__name__}, not an Inbound")
    return apply_inbound(
        session, inbound, grading=grading, rules=rules, team=team, currency=currency
    )


def apply_inbound(
    session: Session,
    inbound: Inbound,
    *,
    grading: LeadGrading | None = None,
    rules: AssignmentRules | None = None,
    team: str | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> IntakeResult:
    """Apply an already read :class:`Inbound` in ``session``; see :func:`take_in`."""
    enquiry = inbound.enquiry
    resolution = session.customers.resolve(
        phone=enquiry.phone, email=enquiry.email, member_id=enquiry.member_id
    )
    if resolution.ambiguous:
        raise IdentityConflict(resolution.conflicts)
    opportunity = None
    if inbound.is_lead:
        captured = capture_lead(
            session, enquiry, grading=grading, rules=rules, team=team, currency=currency
        )
        customer, opportunity = captured.customer, captured.opportunity
    else:
        customer = resolution.customer or new_prospect(session, enquiry)
    interaction = session.interactions.add(
        Interaction(
            customer_id=customer.id,
            channel=inbound.medium,
            occurred_at=enquiry.received_at,
            summary=inbound.message,
            needs=inbound.needs,
            recorded_by=session.actor,
        )
    )
    return IntakeResult(
        channel=inbound.channel,
        customer=customer,
        matched=resolution.found,
        interaction=interaction,
        opportunity=opportunity,
    )
