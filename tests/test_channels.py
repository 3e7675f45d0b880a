"""Built-in notification channels: memory and log in process, SMTP and webhook against real
servers on loopback (aiosmtpd, http.server), and how a CRM registers them."""

# Chinese text is written with Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import pycrm
from pycrm import (
    CRM,
    WEBHOOK_SIGNATURE_HEADER,
    DeliveryError,
    FixedClock,
    LogChannel,
    MemoryChannel,
    Notification,
    PluginError,
    SmtpChannel,
    ValidationError,
    WebhookChannel,
    hookimpl,
    sees_personal_data,
    sign_webhook,
    verify_webhook_signature,
)
from pycrm.testing import RecordingChannel

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
SECRET = "whsec-test-secret"
SUBJECT = "跟进提醒：Acme"
BODY = "王芳 您好：\n\n联系电话：138****5678"


def note(key: str = "follow-up:c1:2026-03-02", **changes: str) -> Notification:
    fields = {
        "channel": "email",
        "recipient": "li.na@example.com",
        "subject": SUBJECT,
        "body": BODY,
        "key": key,
        **changes,
    }
    return Notification(**fields)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- memory and log ------------------------------------------------------------------------


def test_memory_channel_keeps_messages_in_order_and_can_be_bounded() -> None:
    channel = MemoryChannel()
    channel.send(note("k1"))
    channel.send(note("k2"))
    assert (channel.name, channel.keys(), len(channel)) == ("memory", ["k1", "k2"], 2)
    assert channel.sent[0] == note("k1")
    channel.clear()
    assert channel.sent == []

    bounded = MemoryChannel("recent", maxlen=2)
    for key in ("a", "b", "c"):
        bounded.send(note(key))
    assert bounded.keys() == ["b", "c"]


def test_memory_channel_refuses_what_is_not_a_notification() -> None:
    with pytest.raises(ValidationError, match="notification: expected a Notification"):
        MemoryChannel().send({"subject": "hi"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="maxlen"):
        MemoryChannel(maxlen=0)
    with pytest.raises(ValidationError, match="name"):
        MemoryChannel(" ")


def test_recording_channel_is_a_memory_channel_that_fails_first() -> None:
    channel = RecordingChannel("sms", fail_times=1)
    assert isinstance(channel, MemoryChannel)
    with pytest.raises(ConnectionError):
        channel.send(note("k"))
    channel.send(note("k"))
    assert (channel.attempts, channel.keys()) == (2, ["k"])


def test_log_channel_logs_the_message_and_masks_the_recipient(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = LogChannel()
    with caplog.at_level(logging.INFO, logger="pycrm.notify"):
        channel.send(note(recipient="zhang.wei@example.com"))
        channel.send(note("k2", recipient="+86 138 1234 5678"))
        channel.send(note("k3", recipient="sales-team"))
    first, second, third = (record.getMessage() for record in caplog.records)
    assert first.startswith("notification follow-up:c1:2026-03-02 via log to z***@example.com:")
    assert first.endswith(f"{SUBJECT}\n{BODY}")
    assert "zhang.wei" not in caplog.text
    assert "1234 5678" not in second
    assert "to +86****5678:" in second
    assert "to sales-team:" in third
    assert channel.personal_data is False
    assert not sees_personal_data(channel)


# -- SMTP against aiosmtpd ---------------------------------------------------------------------


class EphemeralController(Controller):
    """aiosmtpd's controller on an ephemeral loopback port (it wants a fixed one)."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, ready_timeout=10, **kwargs)

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Inbox:
    """Keeps each message the server accepts; refuses mail to ``nobody@...``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


class Certificate:
    """A throwaway self-signed certificate for 127.0.0.1, made for this test run."""

    def __init__(self, directory: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.cert_file = directory / "cert.pem"
        self.key_file = directory / "key.pem"
        self.cert_file.write_text(self.pem, encoding="ascii")
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.pem)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate(tmp_path_factory.mktemp("tls"))


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"crm", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@contextlib.contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Inbox, int]]:
    """An aiosmtpd server on loopback with ``options``: its inbox and port."""
    inbox = Inbox()
    controller = EphemeralController(inbox, **options)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def local_channel(port: int, **options: Any) -> SmtpChannel:
    """An SMTP channel for the loopback server on ``port``."""
    return SmtpChannel(host="127.0.0.1", port=port, sender="crm@acme.cn", timeout=5, **options)


@pytest.fixture
def plain_smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def starttls_smtp(certificate: Certificate) -> Iterator[tuple[Inbox, int]]:
    with smtp_server(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    ) as server:
        yield server


def test_smtp_delivers_a_plain_text_message_with_a_stable_message_id(
    plain_smtp: tuple[Inbox, int],
) -> None:
    inbox, port = plain_smtp
    channel = local_channel(port, security="none", sender_name="Acme CRM")
    channel.send(note())
    channel.send(note())  # a retry of the same notification
    channel.send(note("another-key", subject="第二封\nBcc: evil@example.com"))
    (sender, recipients, first), (_, _, retry), (_, _, other) = inbox.messages
    assert (sender, recipients) == ("crm@acme.cn", ["li.na@example.com"])
    assert str(first["From"]) == "Acme CRM <crm@acme.cn>"
    assert first["Subject"] == SUBJECT
    assert first.get_content().replace("\r\n", "\n").rstrip() == BODY  # SMTP lines end in CRLF
    # The idempotency key arrives as the Message-ID: the same for a retry, different otherwise.
    assert first["Message-ID"] == retry["Message-ID"] == channel.message_id(note().key)
    assert first["Message-ID"].endswith("@acme.cn>")
    assert other["Message-ID"] != first["Message-ID"]
    # A line break in a subject cannot add a header.
    assert other["Subject"] == "第二封 Bcc: evil@example.com"
    assert other["Bcc"] is None


def test_smtp_starttls_with_login(
    starttls_smtp: tuple[Inbox, int], certificate: Certificate
) -> None:
    inbox, port = starttls_smtp
    trusted = certificate.client_context()
    local_channel(port, username="crm", password="s3cret", ssl_context=trusted).send(note())
    assert [recipients for _, recipients, _ in inbox.messages] == [["li.na@example.com"]]


def test_smtp_refusals_raise_delivery_error_with_the_cause(
    starttls_smtp: tuple[Inbox, int], certificate: Certificate
) -> None:
    _, port = starttls_smtp
    trusted = certificate.client_context()
    wrong_password = local_channel(port, username="crm", password="nope", ssl_context=trusted)
    with pytest.raises(DeliveryError, match="SMTPAuthenticationError") as failed:
        wrong_password.send(note())
    assert failed.value.channel == "email"
    assert failed.value.__cause__ is not None
    # The system's trust store does not know the throwaway certificate.
    untrusted = local_channel(port, username="crm", password="s3cret")
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.send(note())
    # The server insists on STARTTLS; a client that skips it is refused.
    with pytest.raises(DeliveryError):
        local_channel(port, security="none").send(note())


def test_smtp_recipient_refused_and_unreachable_server_raise_delivery_error(
    plain_smtp: tuple[Inbox, int],
) -> None:
    inbox, port = plain_smtp
    with pytest.raises(DeliveryError, match="SMTPRecipientsRefused"):
        local_channel(port, security="none").send(note(recipient="nobody@example.com"))
    assert inbox.messages == []
    with pytest.raises(DeliveryError, match="ConnectionRefusedError"):
        local_channel(closed_port(), security="none").send(note())


def test_smtp_implicit_tls(certificate: Certificate) -> None:
    with smtp_server(ssl_context=certificate.server_context()) as (inbox, port):
        trusted = certificate.client_context()
        local_channel(port, security="tls", ssl_context=trusted).send(note())
    assert len(inbox.messages) == 1


def test_smtp_settings_are_checked_when_the_channel_is_made() -> None:
    assert SmtpChannel(host="mail.acme.cn", sender="crm@acme.cn").port == 587
    assert SmtpChannel(host="mail.acme.cn", sender="crm@acme.cn", security="tls").port == 465
    with pytest.raises(ValidationError, match="username: logging in needs security"):
        SmtpChannel(host="h", sender="crm@acme.cn", security="none", username="u", password="p")
    with pytest.raises(ValidationError, match="password: is required"):
        SmtpChannel(host="h", sender="crm@acme.cn", username="u")
    with pytest.raises(ValidationError, match="security: must be one of"):
        SmtpChannel(host="h", sender="crm@acme.cn", security="ssl")
    with pytest.raises(ValidationError, match="sender: not an email"):
        SmtpChannel(host="h", sender="crm")
    with pytest.raises(ValidationError, match="timeout"):
        SmtpChannel(host="h", sender="crm@acme.cn", timeout=0)
    with pytest.raises(ValidationError, match="port"):
        SmtpChannel(host="h", sender="crm@acme.cn", port=70000)
    channel = SmtpChannel(host="h", sender="crm@acme.cn", personal_data=True)
    assert sees_personal_data(channel)
    with pytest.raises(ValidationError, match="recipient: not an email"):
        channel.message(note(recipient="li.na@example.com\nBcc: x@y.cn"))


# -- webhook against http.server ---------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """Records each POST; answers with ``status``, or holds the request until released."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        self.hang = False
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/crm"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((dict(self.headers.items()), body))
        if self.server.hang:
            self.server.release.wait(10)
            return
        if 300 <= self.server.status < 400:
            self.send_response(self.server.status)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_posts_signed_json_with_an_idempotency_key(receiver: Receiver) -> None:
    channel = WebhookChannel(
        url=receiver.url, secret=SECRET, clock=FixedClock(NOW), headers={"X-Tenant": "acme"}
    )
    channel.send(note("follow-up:c1:2026-03-02"))
    channel.send(note("跟进/客户 1"))
    (headers, body), (other_headers, _) = receiver.requests
    assert json.loads(body) == {
        "channel": "email",
        "recipient": "li.na@example.com",
        "subject": SUBJECT,
        "body": BODY,
        "key": "follow-up:c1:2026-03-02",
    }
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Idempotency-Key"] == "follow-up:c1:2026-03-02"
    assert other_headers["Idempotency-Key"] == "%E8%B7%9F%E8%BF%9B/%E5%AE%A2%E6%88%B7%201"
    assert headers["X-Tenant"] == "acme"
    signature = headers[WEBHOOK_SIGNATURE_HEADER]
    assert signature.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify_webhook_signature(SECRET, body, signature, now=NOW)
    # Any change to the body, the secret or the time breaks it.
    assert not verify_webhook_signature(SECRET, body + b" ", signature, now=NOW)
    assert not verify_webhook_signature("another secret", body, signature, now=NOW)
    later = NOW + dt.timedelta(minutes=6)
    assert not verify_webhook_signature(SECRET, body, signature, now=later)
    assert verify_webhook_signature(SECRET, body, signature, now=later, tolerance=600)


def test_webhook_signature_verification_refuses_malformed_headers() -> None:
    body = b'{"key":"k"}'
    good = sign_webhook(SECRET, body, int(NOW.timestamp()))
    assert verify_webhook_signature(SECRET.encode(), body, good, now=NOW)
    # A rotated secret: the receiver accepts either signature.
    rotated = f"{good},v1={sign_webhook('old', body, int(NOW.timestamp())).split('v1=')[1]}"
    assert verify_webhook_signature("old", body, rotated, now=NOW)
    for header in (None, "", "v1=abc", f"t=x,{good.split(',')[1]}", good.split(",")[0]):
        assert not verify_webhook_signature(SECRET, body, header, now=NOW)
    with pytest.raises(ValidationError, match="secret"):
        verify_webhook_signature("", body, good)


@pytest.mark.parametrize("status", [500, 404, 302])
def test_webhook_non_2xx_raises_delivery_error(receiver: Receiver, status: int) -> None:
    receiver.status = status
    channel = WebhookChannel(url=receiver.url, secret=SECRET, timeout=5)
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as failed:
        channel.send(note())
    assert failed.value.__cause__ is not None
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_webhook_timeout_raises_delivery_error(receiver: Receiver) -> None:
    receiver.hang = True
    channel = WebhookChannel(url=receiver.url, secret=SECRET, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="timed out"):
        channel.send(note())
    assert time.monotonic() - started < 5


def test_webhook_unreachable_raises_delivery_error() -> None:
    channel = WebhookChannel(url=f"http://127.0.0.1:{closed_port()}/", secret=SECRET, timeout=2)
    with pytest.raises(DeliveryError, match="ConnectionRefusedError"):
        channel.send(note())


def test_webhook_settings_are_checked_when_the_channel_is_made() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/", "http:///path", "example.com"):
        with pytest.raises(ValidationError, match="url: must be an http"):
            WebhookChannel(url=url, secret=SECRET)
    with pytest.raises(ValidationError, match="secret"):
        WebhookChannel(url="https://example.com/", secret="")
    with pytest.raises(ValidationError, match="headers"):
        WebhookChannel(url="https://example.com/", secret=SECRET, headers={"X-A": "1\r\nX-B: 2"})
    assert not sees_personal_data(WebhookChannel(url="https://example.com/", secret=SECRET))


# -- registration on a CRM ---------------------------------------------------------------------


def test_a_crm_has_the_memory_and_log_channels_built_in() -> None:
    crm = CRM.memory()
    assert isinstance(crm.channels["memory"], MemoryChannel)
    assert isinstance(crm.channels["log"], LogChannel)
    crm.channels["memory"].send(note("k1"))
    assert crm.channels["memory"].keys() == ["k1"]  # type: ignore[attr-defined]
    assert CRM.memory().channels["memory"] is not crm.channels["memory"]


def test_host_channels_are_registered_and_win_over_plugins() -> None:
    webhook = WebhookChannel("ops", url="https://ops.acme.cn/hooks/crm", secret=SECRET)
    mine = MemoryChannel("memory", personal_data=True)
    plugin_ops = RecordingChannel("ops")

    class Plugin:
        @hookimpl
        def pycrm_notification_channels(self, register: Any) -> None:
            register(plugin_ops)

    crm = CRM.memory(plugins=[Plugin()], channels=[webhook, mine])
    assert crm.channels["ops"] is webhook
    assert crm.channels["memory"] is mine
    assert set(crm.channels) == {"memory", "log", "ops"}
    with pytest.raises(ValidationError, match="two channels are named 'ops'"):
        CRM.memory(channels=[webhook, RecordingChannel("ops")])
    with pytest.raises(ValidationError, match=r"channels: .* is not a channel"):
        CRM.memory(channels=["smtp://mail"])  # type: ignore[list-item]


def test_a_plugin_replaces_a_built_in_channel_only_when_it_says_so() -> None:
    quiet = RecordingChannel("log")

    class Replace:
        @hookimpl
        def pycrm_notification_channels(self, register: Any) -> None:
            register(quiet, replace=True)

    assert CRM.memory(plugins=[Replace()]).channels["log"] is quiet

    class Clash:
        @hookimpl
        def pycrm_notification_channels(self, register: Any) -> None:
            register(RecordingChannel("log"))

    with pytest.raises(PluginError, match="pass replace=True"):
        CRM.memory(plugins=[Clash()])


def test_channels_keyword_on_open(tmp_path: Path) -> None:
    channel = MemoryChannel("outbox-test")
    with pycrm.CRM.open(f"sqlite:///{tmp_path / 'crm.db'}", channels=[channel]) as crm:
        assert crm.channels["outbox-test"] is channel
