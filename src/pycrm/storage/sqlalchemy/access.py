"""Scopes compiled to SQL: the ``WHERE`` clause that keeps an actor's queries in reach.

A scope on customers becomes a condition on their ``owner``/``team``/``region`` columns; on a
customer's records, ``customer_id IN (SELECT id FROM customers WHERE ...)``, which every
supported database runs as a semi-join on the customers' primary key.
"""

from __future__ import annotations

import sqlalchemy as sa

from pycrm.access.scope import AllOf, AnyOf, FieldIn, Scope
from pycrm.storage.scoping import Link


def customer_condition(scope: Scope, customers: sa.Table) -> sa.ColumnElement[bool]:
    """``scope`` as a condition on the customers table."""
    if scope.unrestricted:
        return sa.true()
    if isinstance(scope, FieldIn):
        return customers.c[scope.field].in_(sorted(scope.values))
    if isinstance(scope, AnyOf):
        return sa.or_(*(customer_condition(part, customers) for part in scope.parts))
    if isinstance(scope, AllOf):
        return sa.and_(*(customer_condition(part, customers) for part in scope.parts))
    # Scope.none(), and any scope this compiler does not know: nothing is safer than all.
    return sa.false()


def visible(
    scope: Scope, table: sa.Table, link: Link, customers: sa.Table
) -> sa.ColumnElement[bool]:
    """The rows of ``table`` (customers, or records with ``customer_id``) in ``scope``."""
    if link == "self":
        return customer_condition(scope, customers)
    inside = sa.select(customers.c.id).where(customer_condition(scope, customers))
    return table.c.customer_id.in_(inside)
