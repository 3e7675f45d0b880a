"""Render a message template in both built-in locales and send it through the memory and log
channels.

Run it with ``python examples/notifications.py``. The log line shows what a log (or any
channel not allowed to see personal data) receives: the customer's phone masked. A channel
made with ``personal_data=True`` gets it as typed.
"""

from __future__ import annotations

import logging
import sys

from pycrm import CRM, MemoryChannel, sees_personal_data

PHONE = "13812345678"


def main() -> int:
    logging.basicConfig(stream=sys.stdout, format="log: %(name)s: %(message)s")
    logging.getLogger("pycrm.notify").setLevel(logging.INFO)

    # An internal inbox whose readers (the rep) need the customer's number.
    inbox = MemoryChannel("rep-inbox", personal_data=True)
    with CRM.memory(channels=[inbox], identity_key="example-only-identity-key") as crm:
        values = {
            "rep": "王芳",
            "customer": "Acme Tools",
            "phone": PHONE,
            "due": "2026-03-02",
            "next_action": "send the revised quote {x.__class__}",
        }
        for locale in ("zh-CN", "en"):
            message = crm.templates.render("follow_up_due", values, locale=locale)
            print(f"[{message.locale}] {message.subject}")

        key = "follow-up:acme:2026-03-02"
        for name in ("memory", "log", "rep-inbox"):
            channel = crm.channels[name]
            message = crm.templates.render(
                "follow_up_due",
                values,
                locale="en",
                personal_data=sees_personal_data(channel),
            )
            channel.send(message.notification(channel=name, recipient="wang.fang", key=key))

        memory = crm.channels["memory"]
        assert isinstance(memory, MemoryChannel)
        sent = memory.sent[0]
        print(f"memory: {len(memory)} message, key {sent.key}")
        print("memory body:", sent.body.splitlines()[-1])
        print("inbox body:", inbox.sent[0].body.splitlines()[-1])
        assert PHONE not in sent.body
        assert PHONE in inbox.sent[0].body
        assert "{x.__class__}" in sent.body, "values are inserted as text"
    print("notifications: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
