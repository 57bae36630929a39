"""SNS signatures checked as a subscriber checks them.

The verifier below is written from the SNS Developer Guide, "Verifying the signatures of Amazon
SNS messages" (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
download the certificate from ``SigningCertURL`` (here over real HTTP on 127.0.0.1), build the
string to sign from the message's fields, and check ``Signature`` with the certificate's public
key, SHA1withRSA for ``SignatureVersion`` 1 and SHA256withRSA for 2. It shares no code with the
library.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import urllib.request
from typing import Any

import pytest

pytest.importorskip("cryptography")

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.sns import signing  # noqa: E402

NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                       "Type"]


@pytest.fixture
def loop(clock: dc.ManualClock) -> dc.EventLoop:
    """A loop that signs every envelope, queue deliveries included (as SNS does)."""
    return dc.EventLoop(clock=clock, sns_signatures="all")


def download(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")  # what this subscriber is configured to trust
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        assert response.status == 200
        body: bytes = response.read()
    return body


def verify(message: dict[str, Any]) -> bool:
    """An SNS subscriber's check of a message (a parsed envelope); True if authentic."""
    fields = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    version = message["SignatureVersion"]
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[version]
    cert = x509.load_pem_x509_certificate(download(message["SigningCertURL"]))
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(),
                   algorithm)
    except InvalidSignature:
        return False
    return True


def envelope(queue: dc.Queue) -> dict[str, Any]:
    (message,) = queue.receive(max_messages=10)
    queue.delete(message.receipt_handle)
    parsed: dict[str, Any] = json.loads(message.body)
    return parsed


@pytest.mark.parametrize("version", ["1", "2"])
def test_notifications_verify(loop: dc.EventLoop, version: str) -> None:
    topic = dc.Topic(loop, "signed", attributes={"SignatureVersion": version})
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    topic.publish("hello, subscriber", subject="Greeting")
    with_subject = envelope(queue)
    topic.publish("no subject: the field is left out of the signed string")
    without = envelope(queue)
    for message in (with_subject, without):
        assert message["SignatureVersion"] == version
        assert len(message["Signature"]) == 344  # base64 of 256 bytes: RSA-2048
        assert verify(message)
    assert "Subject" not in without
    assert topic.get_attributes()["SignatureVersion"] == version


def test_the_version_can_change_and_each_message_says_which(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    queue = dc.Queue(loop, "q")
    topic.subscribe(queue)
    topic.publish("one")
    first = envelope(queue)
    topic.set_attributes({"SignatureVersion": "2"})
    topic.publish("two")
    second = envelope(queue)
    assert (first["SignatureVersion"], second["SignatureVersion"]) == ("1", "2")
    assert verify(first) and verify(second)
    second["SignatureVersion"] = "1"  # the same signature does not pass as the other algorithm
    assert not verify(second)


@pytest.mark.parametrize("field, value", [
    ("Message", "hello, subscriber!"),
    ("Subject", "Greetings"),
    ("MessageId", "00000000-0000-4000-c000-000000000001"),
    ("Timestamp", "2026-01-01T00:00:00.001Z"),
    ("TopicArn", "arn:aws:sns:us-east-1:000000000000:other"),
])
def test_a_tampered_notification_is_rejected(loop: dc.EventLoop, field: str, value: str) -> None:
    topic = dc.Topic(loop, "signed")
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    topic.publish("hello, subscriber", subject="Greeting")
    message = envelope(queue)
    assert verify(message)
    message[field] = value
    assert not verify(message)


def test_fields_outside_the_signed_string_do_not_matter(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "signed")
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    topic.publish("m", message_attributes={"k": "v"})
    message = envelope(queue)
    message["MessageAttributes"] = {}
    message["UnsubscribeURL"] = "https://example.invalid/"
    assert verify(message)


def test_the_certificate_is_served_over_loopback_http(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    other_topic = dc.Topic(loop, "u")
    queue = dc.Queue(loop, "q")
    topic.subscribe(queue)
    other_topic.subscribe(queue)
    topic.publish("a")
    a = envelope(queue)
    other_topic.publish("b")
    b = envelope(queue)
    url = a["SigningCertURL"]
    assert url == b["SigningCertURL"]  # one key pair per loop
    assert url.startswith("http://127.0.0.1:") and url.endswith(".pem")
    assert "/SimpleNotificationService-" in url
    pem = download(url)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----\n")
    cert = x509.load_pem_x509_certificate(pem)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    cn = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    assert cn == "sns.us-east-1.amazonaws.com"
    with pytest.raises(urllib.error.HTTPError) as missing:
        download(url.replace("SimpleNotificationService-", "SimpleNotificationService-x"))
    assert missing.value.code == 404


def test_each_loop_has_its_own_key(clock: dc.ManualClock) -> None:
    urls, certs = [], []
    for _ in range(2):
        loop = dc.EventLoop(clock=clock, sns_signatures="all")
        topic = dc.Topic(loop, "t")
        queue = dc.Queue(loop, "q")
        topic.subscribe(queue)
        topic.publish("m")
        message = envelope(queue)
        assert verify(message)
        urls.append(message["SigningCertURL"])
        certs.append(download(message["SigningCertURL"]))
    assert urls[0] != urls[1] and certs[0] != certs[1]


def test_no_key_is_made_until_a_signature_is_needed(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    queue = dc.Queue(loop, "q")
    topic.subscribe(queue, raw_message_delivery=True)
    topic.publish("raw deliveries carry no signature")
    fifo = dc.Topic(loop, "t.fifo")
    fifo_queue = dc.FifoQueue(loop, "q.fifo")
    fifo.subscribe(fifo_queue)
    fifo.publish("FIFO envelopes carry none either", message_group_id="g",
                 message_deduplication_id="d")
    signer = signing.signer_of(loop)
    assert signer._key is None and signer._url is None
    body = json.loads(fifo_queue.receive()[0].body)
    assert "Signature" not in body and "SigningCertURL" not in body


def test_lambda_events_are_signed(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t", attributes={"SignatureVersion": "2"})
    events: list[dict[str, Any]] = []
    runtime = dc.FunctionRuntime(loop)

    @runtime.function("f")
    def handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)

    topic.subscribe(runtime.get_function("f"), "lambda")
    topic.publish("to a function", subject="S")
    topic.drain()
    loop.run_until_idle()
    (event,) = events
    sns = dict(event["Records"][0]["Sns"])
    assert sns["SignatureVersion"] == "2"
    sns["SigningCertURL"] = sns.pop("SigningCertUrl")  # Lambda's spelling
    assert verify(sns)
    sns["Message"] = "changed"
    assert not verify(sns)


class Hook:
    """A local HTTP endpoint recording every POSTed JSON body."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread

        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.mark.parametrize("mode", ["endpoints", "all"])
def test_http_confirmation_and_notification_verify(clock: dc.ManualClock, mode: str) -> None:
    loop = dc.EventLoop(clock=clock, sns_signatures=mode)  # type: ignore[arg-type]
    hook = Hook()
    received = hook.received

    try:
        topic = dc.Topic(loop, "hooks", attributes={"SignatureVersion": "2"})
        sub = topic.subscribe(hook.url)
        assert topic.drain()
        (confirmation,) = received
        assert confirmation["Type"] == "SubscriptionConfirmation"
        assert confirmation["SignatureVersion"] == "2"
        assert verify(confirmation)
        forged = dict(confirmation, SubscribeURL="https://attacker.invalid/confirm")
        assert not verify(forged)
        topic.confirm_subscription(confirmation["Token"])
        topic.publish("over http")
        assert topic.drain()
        notification = received[1]
        assert notification["Type"] == "Notification" and verify(notification)
        sub.unsubscribe()
        assert topic.drain()
        assert [m["Type"] for m in received] == [
            "SubscriptionConfirmation", "Notification", "UnsubscribeConfirmation"]
        assert verify(received[2])
    finally:
        hook.close()


def test_by_default_queue_envelopes_say_they_are_unsigned(clock: dc.ManualClock) -> None:
    loop = dc.EventLoop(clock=clock)
    assert loop.sns_signatures == "endpoints"
    topic = dc.Topic(loop, "t")
    queue = dc.Queue(loop, "q")
    topic.subscribe(queue)
    topic.publish("in process")
    message = envelope(queue)
    assert message["Signature"] == signing.UNSIGNED_IN_PROCESS
    assert message["Signature"] == ("UNSIGNED (EventLoop(sns_signatures='all') signs deliveries "
                                    "to queues, functions and callables)")
    assert message["SignatureVersion"] == "1"
    assert message["SigningCertURL"].startswith(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")
    assert signing.signer_of(loop)._key is None  # no key was made for it
    with pytest.raises(binascii.Error):  # not base64: no verifier can accept it
        base64.b64decode(message["Signature"], validate=True)


def test_none_signs_nothing(clock: dc.ManualClock) -> None:
    loop = dc.EventLoop(clock=clock, sns_signatures="none")
    assert loop.in_region("eu-west-1").sns_signatures == "none"
    hook = Hook()
    try:
        topic = dc.Topic(loop, "t")
        topic.subscribe(hook.url)
        assert topic.drain()
        (confirmation,) = hook.received
        assert confirmation["Signature"] == signing.UNSIGNED_BY_CHOICE
        assert confirmation["Signature"] == "UNSIGNED (EventLoop(sns_signatures='none'))"
    finally:
        hook.close()
    assert signing.signer_of(loop)._key is None


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="sns_signatures must be 'endpoints', 'all' or 'none'"):
        dc.EventLoop(sns_signatures="some")  # type: ignore[arg-type]


def test_without_cryptography_envelopes_say_unsigned(
    clock: dc.ManualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(signing, "available", lambda: False)
    monkeypatch.setattr(signing, "_warned", False)
    loop = dc.EventLoop(clock=clock, sns_signatures="all")
    topic = dc.Topic(loop, "t")
    queue = dc.Queue(loop, "q")
    topic.subscribe(queue)
    with caplog.at_level(logging.WARNING, logger="decoupling"):
        topic.publish("one")
        first = envelope(queue)
        topic.publish("two")
        second = envelope(queue)
    for message in (first, second):
        assert message["SignatureVersion"] == "1"
        assert message["Signature"] == signing.UNSIGNED
        assert message["Signature"] == "UNSIGNED (install 'decoupling[signing]' to sign SNS messages)"
        assert message["SigningCertURL"].startswith(
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")
    warnings = [r for r in caplog.records if "not signed" in r.getMessage()]
    assert len(warnings) == 1  # once
    assert signing.signer_of(loop).certificate_pem is None


class Mailbox:
    """An email transport keeping what it is given (the SMTP path is tests/test_email_smtp.py)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


def test_email_json_documents_verify(clock: dc.ManualClock) -> None:
    mailbox = Mailbox()
    loop = dc.EventLoop(clock=clock, email=mailbox)  # the default mode signs email-json
    topic = dc.Topic(loop, "mail")
    topic.subscribe("user@example.com", "email-json")
    assert topic.drain()
    confirmation = json.loads(mailbox.sent[0].get_content())
    assert confirmation["Type"] == "SubscriptionConfirmation" and verify(confirmation)
    topic.confirm_subscription(confirmation["Token"])
    topic.publish("by mail", subject="Hello")
    assert topic.drain()
    notification = json.loads(mailbox.sent[1].get_content())
    assert (notification["Type"], notification["Message"]) == ("Notification", "by mail")
    assert verify(notification)
    notification["Subject"] = "Hello!"
    assert not verify(notification)
