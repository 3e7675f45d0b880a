"""Saved segments: a named rule over customers, kept in the store to reuse and share.

The rule is an expression (``pycrm.F``), stored as its JSON data and read back through
``as_expr``, so a segment saved by one version of an app is checked again when it is loaded:
a rule naming a field that no longer exists fails as a ``ValidationError``, not later.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.grading.expr import Expr, as_expr


def _rule(value: Any) -> Expr:
    return as_expr(value, "rule")


@attrs.frozen(kw_only=True)
class Segment(Entity):
    """A customer segment saved under a unique ``name``: ``rule`` says who belongs to it.

    ``rule`` takes an expression or the data its ``to_data()`` returns.
    """

    ENTITY_TYPE: ClassVar[str] = "segment"
    ID_PREFIX: ClassVar[str] = "seg"

    name: str = attrs.field(converter=conv.text(120))
    rule: Expr = attrs.field(converter=_rule)
    description: str | None = attrs.field(default=None, converter=conv.optional_text(400))
