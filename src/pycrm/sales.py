"""Moving opportunities inside a session: the domain's rules, then the plugins' say, then save.

The domain function decides whether a move is allowed by the pipeline itself; plugins may
still veto it (``pycrm_validate_stage_change``) for reasons only the host knows, such as
credit checks in its ERP. Only a move that passes both is saved, in the caller's session,
so a refused move changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pycrm.errors import GateRefused
from pycrm.pipeline import DealReviewed, Opportunity, advance_opportunity, review_deal

if TYPE_CHECKING:
    from pycrm.session import Session


def move_opportunity(
    session: Session,
    opportunity: Opportunity,
    to: str,
    *,
    reason: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> Opportunity:
    """Advance ``opportunity`` to stage ``to`` at the session's time, by its actor, and save it.

    The pipeline is the CRM's registered machine named ``opportunity.pipeline``. Raises what
    :func:`pycrm.advance_opportunity` raises, :class:`pycrm.GateRefused` when a plugin
    vetoes (every plugin's reason at once), and :class:`pycrm.ConcurrencyConflict` when the
    opportunity changed since it was read. Returns the saved opportunity.
    """
    crm = session.crm
    machine = crm.pipeline(opportunity.pipeline)
    moved, _events = advance_opportunity(
        opportunity,
        to,
        now=session.now,
        by=session.actor,
        machine=machine,
        reason=reason,
        context=context,
    )
    refusals = crm.stage_change_refusals(opportunity, machine, to, context)
    if refusals:
        raise GateRefused(machine.name, opportunity.stage, to, refusals=refusals)
    return session.opportunities.update(moved)


def review_opportunity(
    session: Session,
    opportunity: Opportunity,
    *,
    success_factors: Iterable[str],
    failure_factors: Iterable[str],
    tags_to_add: Iterable[str] = (),
) -> Opportunity:
    """Record the review of a won deal at the session's time, by its actor, and tag its
    customer with ``tags_to_add``, both in this session so neither is saved without the other.

    Raises what :func:`pycrm.review_deal` raises, and :class:`pycrm.ConcurrencyConflict` when
    the deal or the customer changed since it was read. Returns the saved opportunity.
    """
    reviewed, events = review_deal(
        opportunity,
        success_factors=success_factors,
        failure_factors=failure_factors,
        tags_to_add=tags_to_add,
        now=session.now,
        by=session.actor,
    )
    saved = session.opportunities.update(reviewed)
    tags = frozenset[str]().union(*(e.tags_to_add for e in events if isinstance(e, DealReviewed)))
    customer = session.customers.get(opportunity.customer_id)
    if not tags <= customer.tags:
        session.customers.update(customer.evolve(tags=customer.tags | tags))
    return saved
