"""Message templates: per-locale subject and body text with ``$name`` placeholders.

Values come from customers and reps, so they are untrusted. Rendering uses
:class:`string.Template`, which only substitutes names: a value is inserted as text and never
read as a template itself, and there is no attribute or item access to abuse (unlike
``str.format``, where ``{x.__class__}`` reaches into objects). Values of personal fields
(``phone``, ``email``, ``id_number``, ``address``, ``member_id``, … and names ending in them,
such as ``contact_phone``) are masked unless the caller says the channel may see them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.personal import PERSONAL_FIELDS, mask_text
from pycrm.errors import ValidationError
from pycrm.notify.channel import Notification

DEFAULT_LOCALE = "zh-CN"
"""The locale rendered when the caller names none."""

FALLBACK_LOCALE = "en"
"""The locale rendered when a template has no text in the one asked for or its language."""

SUBJECT_MAX = 200
"""A rendered subject is cut to this many characters (``Notification.subject``'s limit)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


def normalize_locale(locale: Any, field: str = "locale") -> str:
    """``zh_cn`` -> ``zh-CN``, ``EN`` -> ``en``, ``zh-hant-tw`` -> ``zh-Hant-TW``."""
    text = conv.check_text(locale, field, max_length=20, required=True) or ""
    match = _LOCALE.match(text)
    if match is None:
        raise ValidationError(field, "expected a locale such as 'zh-CN' or 'en'", value=locale)
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def placeholders_of(text: str) -> frozenset[str]:
    """The ``$name`` / ``${name}`` placeholders used in ``text``."""
    return frozenset(
        match.group("named") or match.group("braced")
        for match in string.Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    )


def _check_template_text(value: Any, field: str, max_length: int) -> str:
    text = conv.check_text(value, field, max_length=max_length, required=True) or ""
    for match in string.Template.pattern.finditer(text):
        if match.group("invalid") is not None:
            raise ValidationError(
                field,
                "a '$' must start a placeholder such as $customer or ${customer}; "
                "write $$ for a dollar sign",
                value=value,
            )
    return text


@attrs.frozen
class TemplateText:
    """One locale's subject and body of a :class:`MessageTemplate`."""

    subject: str
    body: str

    @classmethod
    def of(cls, value: Any, field: str) -> TemplateText:
        """From a ``TemplateText`` or a ``(subject, body)`` pair, checked."""
        if isinstance(value, TemplateText):
            subject, body = value.subject, value.body
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            subject, body = value
        else:
            raise ValidationError(field, "expected a TemplateText or a (subject, body) pair")
        return cls(
            _check_template_text(subject, f"{field}.subject", SUBJECT_MAX),
            _check_template_text(body, f"{field}.body", 50_000),
        )

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders_of(self.subject) | placeholders_of(self.body)


def _check_name(value: Any) -> str:
    name = conv.check_text(value, "name", max_length=60, required=True) or ""
    if not _NAME.match(name):
        raise ValidationError(
            "name", "a template name is lower-case letters, digits and '_', a letter first"
        )
    return name


def _check_texts(value: Any) -> Mapping[str, TemplateText]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError("texts", "expected a mapping of locale to (subject, body)")
    texts: dict[str, TemplateText] = {}
    for locale, text in value.items():
        key = normalize_locale(locale, "texts")
        if key in texts:
            raise ValidationError("texts", f"locale {key!r} is given twice")
        texts[key] = TemplateText.of(text, f"texts[{key}]")
    return texts


@attrs.frozen
class MessageTemplate:
    """A named message with its text per locale, e.g.::

        MessageTemplate("quote_sent", {
            "zh-CN": ("报价已发送 $customer", "$rep 您好, 报价 $quote 已发送。"),
            "en": ("Quote sent: $customer", "Hello $rep, quote $quote has been sent."),
        })

    ``placeholders`` is every name used in any locale: rendering needs all of them, so a
    missing value is found whatever the reader's language.
    """

    name: str = attrs.field(converter=_check_name)
    texts: Mapping[str, TemplateText] = attrs.field(converter=_check_texts)

    @property
    def placeholders(self) -> frozenset[str]:
        found: frozenset[str] = frozenset()
        for text in self.texts.values():
            found |= text.placeholders
        return found

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def text_for(self, locale: str, fallback: str = FALLBACK_LOCALE) -> tuple[str, TemplateText]:
        """The locale used for ``locale`` and its text: the locale itself, else its language
        alone (``zh-CN`` -> ``zh``), else another locale of that language (``zh-TW`` ->
        ``zh-CN``), else ``fallback``, else the template's first locale."""
        wanted = normalize_locale(locale)
        language = wanted.split("-")[0]
        same_language = sorted(key for key in self.texts if key.split("-")[0] == language)
        for candidate in (wanted, language, *same_language, normalize_locale(fallback)):
            if candidate in self.texts:
                return candidate, self.texts[candidate]
        first = next(iter(self.texts))
        return first, self.texts[first]


@attrs.frozen
class RenderedMessage:
    """A template rendered for one reader: ready to become a :class:`pycrm.Notification`."""

    template: str
    locale: str
    subject: str
    body: str

    def notification(self, *, channel: str, recipient: str, key: str) -> Notification:
        """This message as a notification for ``recipient`` on ``channel``."""
        return Notification(
            channel=channel, recipient=recipient, subject=self.subject, body=self.body, key=key
        )


def personal_field(name: str) -> str | None:
    """The personal-data field a context value named ``name`` holds (``contact_phone`` ->
    ``phone``), or ``None`` when it holds none."""
    for field in PERSONAL_FIELDS:
        if name == field or name.endswith(f"_{field}"):
            return field
    return None


def _masked(field: str, text: str) -> str:
    try:
        masked = PERSONAL_FIELDS[field](text)
    except (AttributeError, TypeError, ValueError):
        masked = None
    return masked if isinstance(masked, str) else mask_text(text) or ""


def _context(
    template: MessageTemplate, values: Mapping[str, Any], personal_data: bool
) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise ValidationError("values", f"expected a mapping, got {type(values).__name__}")
    missing = sorted(name for name in template.placeholders if values.get(name) is None)
    if missing:
        raise ValidationError(
            "values",
            f"template {template.name!r} needs a value for {', '.join(missing)}",
        )
    context: dict[str, str] = {}
    for name in template.placeholders:
        text = str(values[name])
        field = personal_field(name)
        context[name] = text if personal_data or field is None else _masked(field, text)
    return context


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class MessageTemplates(Mapping[str, MessageTemplate]):
    """The templates a CRM renders messages from, by name (``crm.templates``).

    A CRM's holds the built-in templates and those plugins add or replace through the
    ``pycrm_message_templates`` hook; :meth:`builtin` gives the built-in ones alone.
    """

    def __init__(
        self,
        templates: Iterable[MessageTemplate] = (),
        *,
        default_locale: str = DEFAULT_LOCALE,
        fallback_locale: str = FALLBACK_LOCALE,
    ) -> None:
        self.default_locale = normalize_locale(default_locale, "default_locale")
        self.fallback_locale = normalize_locale(fallback_locale, "fallback_locale")
        self._templates: dict[str, MessageTemplate] = {}
        for template in templates:
            self.add(template)

    @classmethod
    def builtin(
        cls, *, default_locale: str = DEFAULT_LOCALE, fallback_locale: str = FALLBACK_LOCALE
    ) -> MessageTemplates:
        """The built-in templates alone, for rendering without a CRM (a notebook, a test)."""
        from pycrm.notify.messages import builtin_templates

        return cls(
            builtin_templates(), default_locale=default_locale, fallback_locale=fallback_locale
        )

    def add(self, template: MessageTemplate, *, replace: bool = False) -> None:
        """Add ``template``; one of the same name is an error unless ``replace`` is true."""
        if not isinstance(template, MessageTemplate):
            raise ValidationError(
                "template", f"expected a MessageTemplate, got {type(template).__name__}"
            )
        if template.name in self._templates and not replace:
            raise ValidationError(
                "template",
                f"a template named {template.name!r} exists; pass replace=True to replace it",
            )
        self._templates[template.name] = template

    def render(
        self,
        name: str,
        values: Mapping[str, Any],
        *,
        locale: str | None = None,
        personal_data: bool = False,
    ) -> RenderedMessage:
        """Template ``name`` rendered in ``locale`` (default ``default_locale``; see
        :meth:`MessageTemplate.text_for` for the fallback) with ``values``.

        Every placeholder needs a value that is not ``None`` (a :class:`pycrm.ValidationError`
        names those missing); values become text with ``str()``. Values of personal fields
        are masked unless ``personal_data`` is true: pass
        ``pycrm.notify.sees_personal_data(channel)``. The subject is made one line and cut
        to :data:`SUBJECT_MAX` characters.
        """
        template = self[name]
        conv.check_bool(personal_data, "personal_data")
        used, text = template.text_for(
            self.default_locale if locale is None else locale, self.fallback_locale
        )
        context = _context(template, values, personal_data)
        subject = string.Template(text.subject).substitute(context)
        body = string.Template(text.body).substitute(context)
        return RenderedMessage(name, used, _one_line(subject, SUBJECT_MAX), body)

    def __getitem__(self, name: str) -> MessageTemplate:
        found = self._templates.get(name)
        if found is None:
            known = ", ".join(sorted(self._templates)) or "none"
            raise ValidationError("template", f"no template named {name!r} (known: {known})")
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def get(self, name: str, default: Any = None) -> Any:
        return self._templates.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._templates)

    def __len__(self) -> int:
        return len(self._templates)

    def __repr__(self) -> str:
        return f"MessageTemplates({sorted(self._templates)})"
