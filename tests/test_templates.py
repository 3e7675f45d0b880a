"""Message templates: the built-in ones as documented, locales, masking of personal data, and
rendering that untrusted values cannot subvert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    MemoryChannel,
    MessageTemplate,
    MessageTemplates,
    PluginError,
    RenderedMessage,
    SmtpChannel,
    TemplateText,
    ValidationError,
    hookimpl,
    sees_personal_data,
)
from pycrm.domain.personal import PERSONAL_FIELDS, mask_phone

DOCS = Path(__file__).resolve().parent.parent / "docs" / "concepts" / "notifications.md"
BUILTIN = MessageTemplates.builtin()
PHONE = "13812345678"


def documented_contexts() -> dict[str, list[str]]:
    """Template name -> context names, from the table under '### Built-in templates'."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Built-in templates", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|$", section, flags=re.MULTILINE)
    return {name: re.findall(r"`(\w+)`", context) for name, context in rows}


def sample_values(names: list[str] | frozenset[str]) -> dict[str, str]:
    return {name: PHONE if name == "phone" else f"<{name} value>" for name in names}


def test_the_docs_list_every_built_in_template_with_its_context() -> None:
    documented = documented_contexts()
    assert sorted(documented) == sorted(BUILTIN)
    for name, context in documented.items():
        assert set(context) == BUILTIN[name].placeholders, name


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_built_in_template_renders_its_documented_context(name: str, locale: str) -> None:
    context = documented_contexts()[name]
    template = BUILTIN[name]
    assert set(template.locales) == {"zh-CN", "en"}
    # Every locale's text uses every name of the context: no translation drops a fact.
    assert template.texts[locale].placeholders == set(context)
    message = BUILTIN.render(name, sample_values(context), locale=locale, personal_data=True)
    assert (message.template, message.locale) == (name, locale)
    text = message.subject + "\n" + message.body
    for field in context:
        assert (PHONE if field == "phone" else f"<{field} value>") in text, field
    assert "$" not in text
    assert "\n" not in message.subject


def test_built_in_templates_mask_the_phone_unless_the_channel_may_see_it() -> None:
    values = sample_values(BUILTIN["follow_up_due"].placeholders)
    masked = BUILTIN.render("follow_up_due", values, locale="en")
    assert PHONE not in masked.body
    assert "Phone: 138****5678" in masked.body
    internal = SmtpChannel(host="mail.acme.cn", sender="crm@acme.cn", personal_data=True)
    shown = BUILTIN.render(
        "follow_up_due", values, locale="en", personal_data=sees_personal_data(internal)
    )
    assert f"Phone: {PHONE}" in shown.body
    assert not sees_personal_data(MemoryChannel())
    assert not sees_personal_data(object())


def one_field_template(field: str) -> MessageTemplates:
    return MessageTemplates(
        [MessageTemplate("card", {"en": ("Card", f"plain ${field}, prefixed $contact_{field}")})]
    )


@pytest.mark.parametrize("field", sorted(PERSONAL_FIELDS))
def test_every_personal_field_is_masked_by_name_and_by_suffix(field: str) -> None:
    raw = "110101199003071234" if field != "email" else "zhang.wei@example.com"
    templates = one_field_template(field)
    values = {field: raw, f"contact_{field}": raw}
    masked = templates.render("card", values, locale="en").body
    assert raw not in masked
    assert masked.count("*") >= 2
    assert templates.render("card", values, locale="en", personal_data=True).body == (
        f"plain {raw}, prefixed {raw}"
    )


def test_names_that_merely_contain_a_personal_field_are_not_masked() -> None:
    templates = MessageTemplates(
        [MessageTemplate("count", {"en": ("Counts", "$phone_calls calls, $emails_sent sent")})]
    )
    body = templates.render("count", {"phone_calls": 12, "emails_sent": 3}).body
    assert body == "12 calls, 3 sent"


@pytest.mark.parametrize(
    "hostile",
    [
        "{x.__class__}",
        "{0.__init__.__globals__}",
        "$phone",
        "${phone}",
        "$$",
        "$",
        "%(phone)s",
        "{phone}",
    ],
)
def test_values_are_inserted_as_text_never_as_template(hostile: str) -> None:
    values = sample_values(BUILTIN["follow_up_due"].placeholders)
    values["customer"] = hostile
    message = BUILTIN.render("follow_up_due", values, locale="en")
    assert message.subject == f"Follow-up due: {hostile}"
    assert f"Your follow-up with {hostile} is due" in message.body
    assert PHONE not in message.body


def test_template_text_is_only_placeholders_too() -> None:
    """Even a template's own text has no attribute access: braces are plain text."""
    templates = MessageTemplates(
        [MessageTemplate("t", {"en": ("{x.__class__}", "{name.__class__} $name costs $$5")})]
    )
    message = templates.render("t", {"name": "Li"})
    assert (message.subject, message.body) == ("{x.__class__}", "{name.__class__} Li costs $5")


@pytest.mark.parametrize("text", ["Costs $5", "a $ sign", "trailing $"])
def test_a_stray_dollar_in_a_template_is_refused_when_it_is_made(text: str) -> None:
    with pytest.raises(ValidationError, match=r"texts\[en\]\.body: a '\$' must start"):
        MessageTemplate("t", {"en": ("Subject", text)})


def test_a_missing_value_is_named() -> None:
    values = sample_values(BUILTIN["follow_up_due"].placeholders)
    del values["due"]
    values["next_action"] = None  # type: ignore[assignment]
    with pytest.raises(ValidationError) as failed:
        BUILTIN.render("follow_up_due", values, locale="en")
    assert failed.value.field == "values"
    assert "'follow_up_due' needs a value for due, next_action" in str(failed.value)
    # Needed in every locale, not only in the one rendered.
    one_sided = MessageTemplates(
        [MessageTemplate("t", {"en": ("Hi", "Hello $name"), "zh-CN": ("您好", "您好")})]
    )
    with pytest.raises(ValidationError, match="needs a value for name"):
        one_sided.render("t", {}, locale="zh-CN")


def test_unknown_templates_and_bad_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match="template: no template named 'nope'"):
        BUILTIN.render("nope", {})
    with pytest.raises(ValidationError, match="values: expected a mapping"):
        BUILTIN.render("win_back", ["Li"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="locale: expected a locale"):
        BUILTIN.render("win_back", sample_values(["name", "offer", "sender"]), locale="中文")
    with pytest.raises(ValidationError, match="name: a template name"):
        MessageTemplate("Follow Up", {"en": ("s", "b")})
    with pytest.raises(ValidationError, match="texts: expected a mapping"):
        MessageTemplate("t", {})
    with pytest.raises(ValidationError, match="texts: locale 'zh-CN' is given twice"):
        MessageTemplate("t", {"zh-CN": ("s", "b"), "zh_cn": ("s", "b")})
    with pytest.raises(ValidationError, match=r"texts\[en\]: expected a TemplateText"):
        MessageTemplate("t", {"en": "just a body"})
    assert "win_back" in BUILTIN
    assert "nope" not in BUILTIN
    assert BUILTIN.get("nope") is None


@pytest.mark.parametrize(
    ("asked", "used"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("zh-Hant-TW", "zh-CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de-DE", "en"),
    ],
)
def test_locale_fallback(asked: str, used: str) -> None:
    values = sample_values(["name", "sender"])
    assert BUILTIN.render("birthday_greeting", values, locale=asked).locale == used


def test_locale_fallback_prefers_the_language_then_the_fallback_then_the_first() -> None:
    template = MessageTemplate(
        "t", {"zh": ("zh", "zh"), "zh-TW": ("zh-TW", "zh-TW"), "fr": ("fr", "fr")}
    )
    templates = MessageTemplates([template], default_locale="zh-TW", fallback_locale="fr")
    assert templates.render("t", {}).subject == "zh-TW"
    assert templates.render("t", {}, locale="zh-CN").subject == "zh"
    assert templates.render("t", {}, locale="de").subject == "fr"
    only_chinese = MessageTemplates([MessageTemplate("t", {"zh-CN": ("你好", "你好")})])
    assert only_chinese.render("t", {}, locale="de").locale == "zh-CN"
    assert BUILTIN.default_locale == "zh-CN"
    assert BUILTIN.render("win_back", sample_values(["name", "offer", "sender"])).locale == "zh-CN"


def test_the_subject_is_one_line_and_at_most_200_characters() -> None:
    values = sample_values(BUILTIN["follow_up_due"].placeholders)
    values["customer"] = "Acme\r\nBcc: evil@example.com   " + "x" * 300
    subject = BUILTIN.render("follow_up_due", values, locale="en").subject
    assert subject.startswith("Follow-up due: Acme Bcc: evil@example.com x")
    assert len(subject) == 200
    assert subject.endswith("…")


def test_values_become_text_and_the_message_becomes_a_notification() -> None:
    message = BUILTIN.render(
        "overdue_payment",
        {
            "owner": "王芳",
            "customer": "Acme",
            "contract": "HT-2026-00001",
            "amount": "252,000.00 CNY",
            "due_date": "2026-08-10",
            "days_overdue": 12,
        },
        locale="en",
    )
    assert isinstance(message, RenderedMessage)
    assert "is 12 days overdue" in message.body
    notification = message.notification(channel="email", recipient="wf@acme.cn", key="pay:1")
    assert (notification.subject, notification.body) == (message.subject, message.body)
    assert (notification.channel, notification.recipient, notification.key) == (
        "email",
        "wf@acme.cn",
        "pay:1",
    )


def test_plugins_add_and_replace_templates_on_a_crm() -> None:
    class MoreTexts:
        @hookimpl
        def pycrm_message_templates(self, register: Any) -> None:
            register(MessageTemplate("quote_sent", {"en": ("Quote sent", "Quote $quote")}))
            register(
                MessageTemplate(
                    "follow_up_due",
                    {
                        **BUILTIN["follow_up_due"].texts,
                        "ja": (
                            "フォローアップ期限: $customer",
                            "$rep さん: $customer $due $next_action $phone",
                        ),
                    },
                ),
                replace=True,
            )

    crm = CRM.memory(plugins=[MoreTexts()])
    assert set(crm.templates) == set(BUILTIN) | {"quote_sent"}
    assert crm.templates.render("quote_sent", {"quote": "Q-7"}).body == "Quote Q-7"
    values = sample_values(BUILTIN["follow_up_due"].placeholders)
    japanese = crm.templates.render("follow_up_due", values, locale="ja")
    assert japanese.subject == "フォローアップ期限: <customer value>"
    assert crm.templates.render("follow_up_due", values, locale="en").subject == (
        BUILTIN.render("follow_up_due", values, locale="en").subject
    )

    class Clash:
        @hookimpl
        def pycrm_message_templates(self, register: Any) -> None:
            register(MessageTemplate("win_back", {"en": ("s", "b")}))

    with pytest.raises(PluginError, match=r"'win_back'.*pass replace=True"):
        CRM.memory(plugins=[Clash()])

    class NotATemplate:
        @hookimpl
        def pycrm_message_templates(self, register: Any) -> None:
            register({"name": "x"})

    with pytest.raises(PluginError, match="expected a MessageTemplate, got dict"):
        CRM.memory(plugins=[NotATemplate()])


def test_standalone_catalogues_refuse_a_taken_name_without_replace() -> None:
    templates = MessageTemplates.builtin()
    replacement = MessageTemplate("win_back", {"en": ("Come back", "Come back, $name")})
    with pytest.raises(ValidationError, match="pass replace=True"):
        templates.add(replacement)
    templates.add(replacement, replace=True)
    assert templates.render("win_back", {"name": "Li"}).body == "Come back, Li"
    assert BUILTIN["win_back"] is not templates["win_back"]
    assert TemplateText.of(("s", "b"), "t") == TemplateText("s", "b")


# -- properties -----------------------------------------------------------------------------

any_text = st.text(max_size=60)
mobile_phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(
    name=st.sampled_from(sorted(BUILTIN)),
    locale=st.sampled_from(["zh-CN", "en", "zh", "en-US", "fr"]),
    data=st.data(),
)
def test_any_text_values_render(name: str, locale: str, data: st.DataObject) -> None:
    template = BUILTIN[name]
    values = {field: data.draw(any_text, label=field) for field in template.placeholders}
    message = BUILTIN.render(name, values, locale=locale)
    assert message.subject
    assert "\n" not in message.subject
    assert len(message.subject) <= 200


@given(phone=mobile_phones, others=st.lists(any_text, min_size=5, max_size=5))
def test_masking_never_reveals_the_phone(phone: str, others: list[str]) -> None:
    assume(not any(phone in other for other in others))
    for name in ("follow_up_due", "repurchase_reminder"):
        fields = sorted(BUILTIN[name].placeholders - {"phone"})
        values = dict(zip(fields, others, strict=False)) | {"phone": phone}
        for locale in ("zh-CN", "en"):
            message = BUILTIN.render(name, values, locale=locale)
            assert phone not in message.subject + message.body
            assert mask_phone(phone) in message.body
