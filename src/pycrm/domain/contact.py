"""People at a company customer whom reps actually talk to."""

from __future__ import annotations

from typing import ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.domain.personal import mask_email, mask_mapping, mask_phone, masked_repr

_PHONE_REPR = masked_repr(mask_phone)
_EMAIL_REPR = masked_repr(mask_email)


@attrs.frozen(kw_only=True)
class Contact(Entity):
    """A contact person of a customer. ``messaging_ids`` maps a network to a handle,
    e.g. ``{"wechat": "zhangwei_88"}``; like phone and email it is masked in ``repr``."""

    ENTITY_TYPE: ClassVar[str] = "contact"
    ID_PREFIX: ClassVar[str] = "con"

    customer_id: str = attrs.field(converter=conv.text(64))
    name: str = attrs.field(converter=conv.text(200))
    position: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    is_decision_maker: bool = attrs.field(default=False, converter=conv.boolean())
    phone: str | None = attrs.field(default=None, converter=conv.phone(), repr=_PHONE_REPR)
    email: str | None = attrs.field(default=None, converter=conv.email(), repr=_EMAIL_REPR)
    messaging_ids: dict[str, str] = attrs.field(
        factory=dict, converter=conv.str_mapping(), repr=masked_repr(mask_mapping), hash=False
    )
    notes: str | None = attrs.field(default=None, converter=conv.optional_text(4000))
