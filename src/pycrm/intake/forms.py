"""The built-in intake channels: web form JSON and CSV rows, both a flat object of fields.

Both read the same documented fields (:data:`FORM_FIELDS`) and take the same ``mapping`` for
sites and files that name them differently, as imports do (a field name, a
:class:`pycrm.io.Column` with its own reader, or ``None`` to ignore). Text goes through the
import's readers (:func:`pycrm.io.columns.default_readers`), so ``"yes"``, ``"1,5"`` and
``"2026-03-02T09:30+08:00"`` read the same in a form and a file. Errors name the field as the
payload spelt it, so whoever sent it can find it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from pycrm.access.scope import check_storable
from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.domain.interaction import InteractionChannel
from pycrm.errors import ValidationError
from pycrm.intake.inbound import Inbound, check_payload_object
from pycrm.io.columns import Column, MappingLike, Parse, default_readers
from pycrm.leads import DEFAULT_CURRENCY
from pycrm.pipeline import Lead

FORM_FIELDS: Mapping[str, str] = {
    "name": "text",
    "company": "text",
    "phone": "text",
    "email": "text",
    "member_id": "text",
    "region": "text",
    "industry": "text",
    "message": "text",
    "needs": "lines",
    "need": "text",
    "budget": "decimal",
    "currency": "text",
    "tags": "tags",
    "submitted_at": "datetime",
    "lead": "bool",
    "medium": "text",
}
"""The fields a web form or CSV row may carry -> how a text value of each is read."""

_RENAMED = {"received_at": "submitted_at", "amount": "budget", "is_lead": "lead"}
"""Fields of the values an inbound is built from -> the form field a user wrote."""

_Target = tuple[str, "Parse | None"]


class FormChannel:
    """An intake channel reading a flat object of :data:`FORM_FIELDS`.

    ``mapping`` maps the payload's own names to form fields (or ``None`` to ignore them);
    fields named like a form field need no entry. A name neither mapped nor a form field is
    refused unless ``ignore_unknown``. ``medium`` is the interaction channel logged (a
    ``medium`` field overrides it), ``currency`` that of a budget without one, ``tz`` the
    zone of a ``submitted_at`` without an offset, ``tag_separator`` what splits tags given
    as text. Use :class:`WebFormChannel` or :class:`CsvRowChannel`.
    """

    text_only = False
    """Whether every value must be text (a CSV cell) or ``None``."""

    def __init__(
        self,
        name: str,
        *,
        mapping: MappingLike | None = None,
        medium: InteractionChannel | str = InteractionChannel.ONLINE,
        currency: str = DEFAULT_CURRENCY,
        ignore_unknown: bool = False,
        tag_separator: str = ",",
        tz: tzinfo | None = None,
    ) -> None:
        self._name = conv.required_text(name, "name", 60)
        self.medium = conv.check_enum(medium, "medium", InteractionChannel)
        self.currency = Money(0, currency).currency  # Money checks and normalises the code
        self.ignore_unknown = conv.check_bool(ignore_unknown, "ignore_unknown")
        readers = default_readers(tag_separator=tag_separator, tz=tz)
        self._readers: dict[str, Parse | None] = {
            field: None if kind == "text" else readers[kind] for field, kind in FORM_FIELDS.items()
        }
        self._mapped = _check_mapping(mapping, self._readers)

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"

    def field_for(self, key: str) -> str | None:
        """The form field payload name ``key`` fills (``None``: ignored); raises for a name
        that is neither mapped nor a form field, unless unknown names are ignored."""
        target = self._target(key)
        return None if target is None else target[0]

    def check_header(self, columns: Iterable[str]) -> None:
        """Refuse a file whose header has an unknown column or two columns for one field,
        before any row is read."""
        self._sources(columns)

    def read(self, payload: Any, *, received_at: datetime) -> Inbound:
        """The :class:`Inbound` ``payload`` describes; :class:`pycrm.ValidationError` naming
        the payload's field when it does not validate."""
        data = check_payload_object(self._decode(payload))
        sources = self._sources(data)
        values: dict[str, Any] = {
            field: self._value(key, data[key]) for field, key in sources.items()
        }
        try:
            return self._inbound(values, received_at)
        except ValidationError as exc:
            field = _RENAMED.get(exc.field, exc.field)
            raise ValidationError(sources.get(field, field), exc.problem, value=exc.value) from None

    def _decode(self, payload: Any) -> Any:
        return payload

    def _target(self, key: str) -> _Target | None:
        if key in self._mapped:
            return self._mapped[key]
        if key in FORM_FIELDS:
            return key, self._readers[key]
        if self.ignore_unknown:
            return None
        raise ValidationError(
            key, f"is not a {self._name} field; map it to one ({', '.join(FORM_FIELDS)}) or to None"
        )

    def _sources(self, keys: Iterable[Any]) -> dict[str, str]:
        """Form field -> the payload name that fills it."""
        sources: dict[str, str] = {}
        for key in keys:
            if not isinstance(key, str):
                raise ValidationError("payload", "field names are text", value=key)
            if not key.strip():
                raise ValidationError("payload", "a field name is blank")
            check_storable(key, "payload")
            target = self._target(key)
            if target is None:
                continue
            field = target[0]
            if field in sources:
                raise ValidationError(
                    key, f"fills {field!r}, which {sources[field]!r} fills already"
                )
            sources[field] = key
        return sources

    def _value(self, key: str, value: Any) -> Any:
        """One payload value read for its field: text through the field's reader, other
        JSON values as they are for the entities' own checks."""
        if value is None:
            return None
        target = self._target(key)
        assert target is not None  # only fields that are filled are read
        field, parse = target
        if isinstance(value, str):
            check_storable(value, key)
            text = value.strip()
            if not text:
                return None
            if parse is None:
                return text
            try:
                return parse(text)
            except ValidationError as exc:
                raise ValidationError(key, exc.problem, value=value) from None
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise ValidationError(key, str(exc) or "cannot be read", value=value) from None
        if self.text_only:
            raise ValidationError(key, f"expected text, got {type(value).__name__}", value=value)
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    check_storable(item, key)
            return value
        if isinstance(value, Mapping):
            raise ValidationError(key, "expected a value, got an object", value=value)
        if isinstance(value, float) and FORM_FIELDS[field] == "decimal":
            if not math.isfinite(value):
                raise ValidationError(key, "must be finite", value=value)
            return Decimal(repr(value))  # JSON numbers arrive as floats; keep their digits
        return value

    def _inbound(self, values: dict[str, Any], received_at: datetime) -> Inbound:
        amount = values.get("budget")
        currency = values.get("currency")
        if amount is None and currency is not None:
            raise ValidationError("currency", "is given without a budget")
        budget = None if amount is None else Money(amount, currency or self.currency)
        need = values.get("need")
        explicit = values.get("lead")
        submitted = values.get("submitted_at")
        name: Any = values.get("name")  # Lead refuses a missing name, naming the field
        enquiry = Lead(
            channel=self._name,
            name=name,
            received_at=received_at if submitted is None else submitted,
            company=values.get("company"),
            phone=values.get("phone"),
            email=values.get("email"),
            member_id=values.get("member_id"),
            region=values.get("region"),
            industry=values.get("industry"),
            need=need,
            budget=budget,
            tags=values.get("tags"),
        )
        message = values.get("message")
        if message is None:
            about = "" if enquiry.need is None else f": {enquiry.need}"
            message = f"Enquiry through {self._name}{about}"
        return Inbound(
            enquiry=enquiry,
            message=message,
            medium=values.get("medium") or self.medium,
            needs=values.get("needs"),
            is_lead=(need is not None or budget is not None) if explicit is None else explicit,
        )


def _check_mapping(
    mapping: MappingLike | None, readers: Mapping[str, Parse | None]
) -> dict[str, _Target | None]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValidationError("mapping", f"expected a dict, got {type(mapping).__name__}")
    targets: dict[str, _Target | None] = {}
    filled: dict[str, str] = {}
    for source, target in mapping.items():
        if not isinstance(source, str):
            raise ValidationError("mapping", "payload field names are text", value=source)
        if target is None:
            targets[source] = None
            continue
        column = target if isinstance(target, Column) else None
        field = column.field if column is not None else target
        if not isinstance(field, str) or field not in FORM_FIELDS:
            raise ValidationError(
                "mapping",
                f"{source!r} maps to {field!r}, which is not one of the form fields "
                f"({', '.join(FORM_FIELDS)})",
            )
        if field in filled:
            raise ValidationError(
                "mapping", f"{filled[field]!r} and {source!r} both fill {field!r}"
            )
        filled[field] = source
        parse = column.parse if column is not None and column.parse else readers[field]
        targets[source] = (field, parse)
    return targets


class WebFormChannel(FormChannel):
    """A web form's submission: a JSON object (a dict, or its JSON text or UTF-8 bytes).

    Registered as ``"web_form"``; give another ``name`` and a ``mapping`` for a site of
    your own. Values may be JSON types: ``"lead": true``, ``"budget": 250000``,
    ``"tags": ["expo"]``.
    """

    def __init__(self, name: str = "web_form", **options: Any) -> None:
        super().__init__(name, **options)

    def _decode(self, payload: Any) -> Any:
        if isinstance(payload, bytes | bytearray):
            try:
                payload = bytes(payload).decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("payload", "is not UTF-8 text") from None
        if isinstance(payload, str):
            try:
                return json.loads(payload)
            except (ValueError, RecursionError):
                raise ValidationError("payload", "is not a JSON object") from None
        return payload


class CsvRowChannel(FormChannel):
    """One CSV row as a dict of column -> cell text (what ``csv.DictReader`` yields).

    Registered as ``"csv"``; every value is text or empty. Take a whole file through it
    with :meth:`pycrm.CRM.intake_csv`.
    """

    text_only = True

    def __init__(self, name: str = "csv", **options: Any) -> None:
        super().__init__(name, **options)
