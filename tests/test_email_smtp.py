"""Email subscriptions sent for real to an SMTP server on 127.0.0.1 (aiosmtpd, in process), and
SMS through a plugged transport.

The SMTP conversations are real (from the loop's worker pool); retry backoff runs on virtual
time: ``Topic.drain`` waits for the sends and advances the clock through the retry timers.
"""

from __future__ import annotations

import json
import re
import smtplib
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import decoupling as dc
from decoupling.sns.delivery import ClientDeliveryError

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

USER = "user@example.com"
ARN = "arn:aws:sns:us-east-1:000000000000:orders"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    """A real SMTP server; keeps what it received; can refuse recipients or require a login."""

    def __init__(self, clock: dc.ManualClock, *, login: tuple[str, str] | None = None) -> None:
        self.clock = clock
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refused_at: list[float] = []
        self.refuse = False
        self.logins: list[tuple[str, str]] = []
        self.port = _free_port()
        kwargs: dict[str, Any] = {}
        if login is not None:
            # AUTH PLAIN only, and required before MAIL FROM.
            kwargs.update(authenticator=self._authenticate(login), auth_require_tls=False,
                          auth_required=True, auth_exclude_mechanism=["LOGIN"])
        self.controller = aiosmtpd_controller.Controller(
            self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def _authenticate(self, login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            pair = (data.login.decode(), data.password.decode())
            self.logins.append(pair)
            return aiosmtpd_smtp.AuthResult(success=pair == login)

        return check

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if self.refuse:
            self.refused_at.append(self.clock.now())
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def transport(self, **kwargs: Any) -> dc.SmtpEmail:
        return dc.SmtpEmail("127.0.0.1", self.port, sender="alerts@example.com", **kwargs)

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def server(clock: dc.ManualClock) -> Iterator[SmtpServer]:
    smtp = SmtpServer(clock)
    yield smtp
    smtp.close()


@pytest.fixture
def topic(clock: dc.ManualClock, server: SmtpServer) -> dc.Topic:
    loop = dc.EventLoop(clock=clock, email=server.transport())
    return dc.Topic(loop, "orders", display_name="Orders")


def _body(message: EmailMessage) -> str:
    part = message.get_body()
    assert part is not None
    text: str = part.get_content()
    return text.replace("\r\n", "\n")  # as received over SMTP: CRLF line ends


def _confirm_link(message: EmailMessage) -> str:
    links = re.findall(r"https://sns\.[^\s]+/confirmation\.html\?\S+", _body(message))
    assert len(links) == 1
    link: str = links[0]
    return link


@pytest.mark.realtime
def test_an_email_subscription_confirmed_from_its_email_receives_a_publish(
        topic: dc.Topic, server: SmtpServer) -> None:
    sub = topic.subscribe(USER, "email")
    assert topic.drain()
    [(mail_from, rcpt, confirmation)] = server.received
    assert (mail_from, rcpt) == ("alerts@example.com", [USER])
    assert confirmation["Subject"] == "AWS Notification - Subscription Confirmation"
    assert confirmation["From"] == "Orders <alerts@example.com>"
    assert confirmation["To"] == USER
    assert confirmation["Date"].datetime == datetime(2026, 1, 1, tzinfo=UTC)  # loop's
    assert confirmation.get_content_type() == "text/plain"
    assert confirmation.get_content_charset() == "utf-8"
    link = _confirm_link(confirmation)
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("sns.us-east-1.amazonaws.com", "/confirmation.html")
    query = parse_qs(parts.query)
    assert query["TopicArn"] == [ARN]
    assert query["Endpoint"] == [USER]
    assert _body(confirmation).startswith(
        f"You have chosen to subscribe to the topic: \n{ARN}\n\nTo confirm this subscription")
    assert topic.list_subscriptions()[0]["SubscriptionArn"] == "PendingConfirmation"

    assert topic.confirm_subscription(query["Token"][0]) is sub
    topic.publish("Order 42 shipped", subject="Your order")
    assert topic.drain()
    assert len(server.received) == 2
    mail_from, rcpt, notification = server.received[1]
    assert (mail_from, rcpt) == ("alerts@example.com", [USER])
    assert notification["Subject"] == "Your order"
    assert notification["From"] == "Orders <alerts@example.com>"
    unsubscribe = (f"https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn="
                   f"{sub.arn}&Endpoint={USER}")
    assert _body(notification) == (
        "Order 42 shipped\n\n--\nIf you wish to stop receiving notifications from this topic, "
        f"please click or visit the link below to unsubscribe:\n{unsubscribe}\n\n"
        "Please do not reply directly to this email. If you have any questions or comments "
        "regarding this email, please contact us at https://aws.amazon.com/support\n"
    )
    assert topic.outbox == []  # sent for real: nothing kept
    assert sub.delivered == 1


@pytest.mark.realtime
def test_email_json_gets_the_json_documents(topic: dc.Topic, server: SmtpServer) -> None:
    sub = topic.subscribe(USER, "email-json")
    assert topic.drain()
    confirmation = json.loads(_body(server.received[0][2]))
    assert server.received[0][2]["Subject"] == "AWS Notification - Subscription Confirmation"
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == ARN
    assert confirmation["SubscribeURL"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&"
        f"TopicArn={ARN}&Token={confirmation['Token']}")
    topic.confirm_subscription(confirmation["Token"])
    result = topic.publish("plain", message_attributes={"n": 5})
    assert topic.drain()
    notification = server.received[1][2]
    assert notification["Subject"] == "AWS Notification Message"  # no Subject published
    envelope = json.loads(_body(notification))
    assert (envelope["Type"], envelope["Message"], envelope["MessageId"]) == (
        "Notification", "plain", result.message_id)
    assert envelope["UnsubscribeURL"] == (
        f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub.arn}")
    assert envelope["MessageAttributes"] == {"n": {"Type": "Number", "Value": "5"}}


@pytest.mark.realtime
def test_a_refused_email_is_retried_along_the_email_policy_then_dead_lettered(
        topic: dc.Topic, server: SmtpServer, clock: dc.ManualClock) -> None:
    dlq = dc.Queue(topic.loop, "email-dlq")
    sub = topic.subscribe(USER, "email", redrive_policy=dlq)
    assert topic.drain()
    topic.confirm_subscription(parse_qs(urlsplit(
        _confirm_link(server.received[0][2])).query)["Token"][0])
    server.refuse = True
    topic.publish("lost")
    assert topic.drain(timeout=10)
    # SNS's email policy: 1 attempt + 50 retries (2 at 10 s, 10 backing off to 600 s, 38 at 600 s)
    assert len(server.refused_at) == 51
    assert server.refused_at[:3] == [0.0, 10.0, 20.0]
    assert server.refused_at[12:14] == pytest.approx([server.refused_at[11] + 600.0,
                                                      server.refused_at[11] + 1200.0])
    assert server.refused_at[-1] == pytest.approx(24_576.0866, abs=1e-3)  # about 6.8 hours
    assert len(server.received) == 1  # the confirmation only
    [dead] = dlq.receive(max_messages=10)
    assert json.loads(dead.body)["Message"] == "lost"
    assert (sub.delivered, sub.undeliverable, sub.dead_lettered) == (0, 1, 1)


@pytest.mark.realtime
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_login_is_passed_to_the_server(clock: dc.ManualClock) -> None:
    server = SmtpServer(clock, login=("app", "s3cret"))
    try:
        with pytest.raises(smtplib.SMTPSenderRefused, match="Authentication required"):
            server.transport().send(_message())
        server.transport(username="app", password="s3cret").send(_message())
        assert server.logins == [("app", "s3cret")]
        assert [rcpt for _, rcpt, _ in server.received] == [[USER]]
    finally:
        server.close()


@pytest.mark.realtime
def test_starttls_is_asked_of_the_server(server: SmtpServer) -> None:
    # This server offers no STARTTLS: a transport that requires it sends nothing.
    with pytest.raises(smtplib.SMTPNotSupportedError):
        server.transport(starttls=True).send(_message())
    assert server.received == []


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alerts@example.com"
    msg["To"] = USER
    msg["Subject"] = "hi"
    msg.set_content("hello")
    return msg


def test_smtp_email_checks_its_arguments() -> None:
    assert dc.SmtpEmail("smtp.example.com") == dc.SmtpEmail(
        "smtp.example.com", 25, sender="no-reply@sns.amazonaws.com", starttls=False,
        username=None, password=None, timeout=15.0)
    assert "s3cret" not in repr(dc.SmtpEmail("h", username="u", password="s3cret"))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"host": ""}, "host must be a non-empty string"),
        ({"host": "h\r\nX: y"}, "host must not contain a line break"),
        ({"port": 0}, "port must be an integer from 1 to 65535"),
        ({"port": 65_536}, "port must be an integer from 1 to 65535"),
        ({"sender": "nobody"}, "sender must be an email address"),
        ({"username": "u"}, "username and password go together"),
        ({"password": "p"}, "username and password go together"),
        ({"starttls": "yes"}, "starttls must be True or False"),
        ({"timeout": 0}, "timeout must be a number of seconds above 0"),
    ]
    for kwargs, error in cases:
        args: dict[str, Any] = {"host": "h", **kwargs}
        with pytest.raises(ValueError, match=error):
            dc.SmtpEmail(**args)


def test_the_loop_checks_its_transports() -> None:
    with pytest.raises(ValueError, match="email must have a send"):
        dc.EventLoop(email=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sms must be a callable"):
        dc.EventLoop(sms="+15555550100")  # type: ignore[arg-type]


class RecordingEmail:
    """An email transport of the app's own (anything with ``send``)."""

    def __init__(self, loop_lock: Any = None) -> None:
        self.sent: list[EmailMessage] = []
        self.lock_free: list[bool] = []
        self.loop_lock = loop_lock

    def send(self, message: EmailMessage) -> None:
        if self.loop_lock is not None:
            free = self.loop_lock.acquire(blocking=False)
            if free:
                self.loop_lock.release()
            self.lock_free.append(free)
        self.sent.append(message)


def test_email_is_sent_off_the_loops_lock_and_not_during_publish(clock: dc.ManualClock) -> None:
    transport = RecordingEmail()
    loop = dc.EventLoop(clock=clock, email=transport)
    transport.loop_lock = loop._lock
    topic = dc.Topic(loop, "orders")
    sub = topic.subscribe(USER, "email")
    assert topic.drain()
    token = parse_qs(urlsplit(_confirm_link(transport.sent[0])).query)["Token"][0]
    topic.confirm_subscription(token)
    topic.publish("off the lock")
    assert topic.drain()
    assert [m["Subject"] for m in transport.sent] == [
        "AWS Notification - Subscription Confirmation", "AWS Notification Message"]
    assert transport.lock_free == [True, True]
    assert transport.sent[1]["From"] == "AWS Notifications <no-reply@sns.amazonaws.com>"
    assert sub.delivered == 1


def test_sms_goes_through_the_plugged_transport(clock: dc.ManualClock) -> None:
    sent: list[dc.SmsMessage] = []
    loop = dc.EventLoop(clock=clock, sms=sent.append)
    topic = dc.Topic(loop, "alerts", display_name="Shop")
    sub = topic.subscribe("+15555550100", "sms")
    result = topic.publish(
        json.dumps({"default": "long text", "sms": "short"}), message_structure="json")
    assert sent == []  # never inside publish
    assert topic.drain()
    assert sent == [dc.SmsMessage(
        "+15555550100", "short", "Shop", result.message_id,
        "arn:aws:sns:us-east-1:000000000000:alerts", sub.arn, {}, 1)]
    assert topic.outbox == []
    assert sub.delivered == 1


def test_a_failing_sms_transport_is_retried_then_dead_lettered(clock: dc.ManualClock) -> None:
    attempts: list[tuple[int, float]] = []

    def flaky(message: dc.SmsMessage) -> None:
        attempts.append((message.attempt, clock.now()))
        if message.attempt < 3:
            raise ConnectionError("provider unavailable")

    loop = dc.EventLoop(clock=clock, sms=flaky)
    topic = dc.Topic(loop, "alerts")
    sub = topic.subscribe("+15555550100", "sms")
    topic.publish("third time lucky")
    assert topic.drain()
    assert attempts == [(1, 0.0), (2, 10.0), (3, 20.0)]
    assert (sub.delivered, sub.undeliverable) == (1, 0)


def test_a_permanent_sms_failure_goes_to_the_dlq_unretried(clock: dc.ManualClock) -> None:
    attempts: list[int] = []

    def opted_out(message: dc.SmsMessage) -> None:
        attempts.append(message.attempt)
        raise ClientDeliveryError("the number opted out")

    loop = dc.EventLoop(clock=clock, sms=opted_out)
    dlq = dc.Queue(loop, "sms-dlq")
    topic = dc.Topic(loop, "alerts")
    sub = topic.subscribe("+15555550100", "sms", redrive_policy=dlq)
    topic.publish("hello")
    assert topic.drain()
    assert attempts == [1]
    [dead] = dlq.receive()
    assert json.loads(dead.body)["Message"] == "hello"
    assert (sub.delivered, sub.dead_lettered) == (0, 1)


def test_without_transports_email_and_sms_stay_in_the_outbox(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "alerts")
    topic.subscribe("+15555550100", "sms")
    topic.publish("kept")
    assert [(e.protocol, e.body) for e in topic.outbox] == [("sms", "kept")]


def test_an_email_transport_loads_smtplib_only_when_mail_is_sent() -> None:
    probe = (
        "import sys, decoupling as dc\n"
        "loop = dc.EventLoop(clock=dc.ManualClock(), email=dc.SmtpEmail('127.0.0.1', 1))\n"
        "t = dc.Topic(loop, 't'); t.subscribe(dc.Queue(loop, 'q')); t.publish('x')\n"
        "print(sorted(m for m in ('smtplib', 'email', 'ssl') if m in sys.modules))\n"
    )
    root = Path(dc.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(root), "PATH": ""})
    assert out.stdout.strip() == "[]"


@pytest.mark.realtime
def test_non_ascii_text_and_display_name_arrive_intact(
        clock: dc.ManualClock, server: SmtpServer) -> None:
    loop = dc.EventLoop(clock=clock, email=server.transport())
    topic = dc.Topic(loop, "orders", display_name="Café Zürich")
    topic.subscribe(USER, "email")
    assert topic.drain()
    topic.confirm_subscription(parse_qs(urlsplit(
        _confirm_link(server.received[0][2])).query)["Token"][0])
    topic.publish("Commande n° 42 expédiée ✓", subject="Votre commande")
    assert topic.drain()
    notification = server.received[1][2]
    assert notification["From"] == "Café Zürich <alerts@example.com>"
    assert _body(notification).startswith("Commande n° 42 expédiée ✓\n\n--\n")
