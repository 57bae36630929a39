"""Email and email-json subscriptions delivered for real: the emails SNS writes, sent over SMTP.

A loop made with ``EventLoop(email=SmtpEmail(...))`` (or any :class:`EmailTransport`) sends its
topics' email for real; without one, email lands in :attr:`Topic.outbox` as before.

What is sent, as SNS writes it. AWS documents the JSON documents (email-json: "Parsing message
formats") but not the text of its plain emails: the subjects, links and footers below follow
the emails SNS sends as they are commonly quoted, not an AWS page:

* the subscription confirmation: subject ``AWS Notification - Subscription Confirmation``; for
  ``email`` a text naming the topic with the confirm link
  ``https://sns.<region>.amazonaws.com/confirmation.html?TopicArn=...&Token=...&Endpoint=...``;
  for ``email-json`` the JSON ``SubscriptionConfirmation`` document an HTTP/S endpoint gets
  (its ``SubscribeURL`` and ``Token`` confirm the subscription);
* a notification: subject the publish's ``Subject`` (default ``AWS Notification Message``);
  for ``email`` the message text and a footer with the unsubscribe link
  ``https://sns.<region>.amazonaws.com/unsubscribe.html?SubscriptionArn=...&Endpoint=...``;
  for ``email-json`` the JSON notification envelope;
* ``From``: the topic's ``DisplayName`` (default ``AWS Notifications``) and the transport's
  sender address (SNS's is ``no-reply@sns.amazonaws.com``); ``Date`` from the loop's clock;
  ``Content-Type: text/plain; charset=UTF-8``.

Sending happens on the loop's SNS worker pool (in the subscription's lane), never under the
loop's lock nor inside ``publish``. A failed send (refused, unreachable, timed out) is a failed
delivery, retried along SNS's policy for email (50 retries over about 6 hours, "Amazon SNS
message delivery retries") and then put in the subscription's dead-letter queue, if any.
A confirmation email is sent once, without retries. :class:`SmtpEmail`'s timeout bounds each
SMTP operation, not the attempt as a whole (unlike HTTP/S's one deadline an attempt). ``smtplib``, ``ssl`` and ``email`` are
imported when the first email is sent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from .delivery import WorkerPool
from .message import DEFAULT_EMAIL_SUBJECT, Notification, confirmation_body, iso_timestamp

if TYPE_CHECKING:
    from email.message import EmailMessage

    from ..loop import EventLoop
    from .subscription import Subscription

__all__ = ["EmailTransport", "SmtpEmail", "SNS_SENDER", "CONFIRMATION_SUBJECT", "SMTP_TIMEOUT"]

_log = logging.getLogger("decoupling.sns")

#: The sender address of SNS's emails on AWS (the default of :class:`SmtpEmail`).
SNS_SENDER = "no-reply@sns.amazonaws.com"
#: The ``From`` name of a topic without a ``DisplayName``.
DEFAULT_FROM_NAME = "AWS Notifications"
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
#: Real seconds each SMTP operation (connect, each command) may take before the send fails.
SMTP_TIMEOUT = 15.0


@runtime_checkable
class EmailTransport(Protocol):
    """What ``EventLoop(email=...)`` takes: anything that sends one ready-made email.

    :class:`SmtpEmail` is the stdlib's SMTP; an app may plug in its own provider. ``send`` is
    called on a worker thread with no lock held; it returns once the email is accepted and
    raises on a failure (a notification is then retried along SNS's email retry policy).
    """

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` (``From``, ``To``, ``Subject`` and the body are set)."""


def _check_text(name: str, value: object, *, empty: bool = False) -> None:
    if not isinstance(value, str) or (not value and not empty):
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{name} must not contain a line break or NUL")


@attrs.frozen
class SmtpEmail:
    """Send email over SMTP with the standard library (``smtplib``).

    Args:
        host: the SMTP server's host name or address.
        port: its TCP port (default 25; 587 is the usual submission port with STARTTLS).
        sender: the envelope sender and ``From`` address (default ``no-reply@sns.amazonaws.com``,
            SNS's own).
        starttls: upgrade the connection with ``STARTTLS`` before anything else is sent,
            verifying the server's certificate against the system's trusted CAs (default
            ``False``).
        username, password: log in (``AUTH``) with these, both or neither (default: no login).
            Without ``starttls`` the password crosses the network in clear text.
        timeout: real seconds each SMTP operation may take (default :data:`SMTP_TIMEOUT`, 15).

    Raises:
        ValueError: a bad argument (empty host, port outside 1-65535, a sender without ``@``,
        a username without a password or the reverse, a timeout not above 0).
    """

    host: str
    port: int = 25
    sender: str = SNS_SENDER
    starttls: bool = False
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT

    def __attrs_post_init__(self) -> None:
        _check_text("host", self.host)
        if isinstance(self.port, bool) or not isinstance(self.port, int) \
                or not 1 <= self.port <= 65_535:
            raise ValueError(f"port must be an integer from 1 to 65535, got {self.port!r}")
        _check_text("sender", self.sender)
        if self.sender.count("@") != 1 or self.sender.startswith("@") \
                or self.sender.endswith("@") or " " in self.sender:
            raise ValueError(f"sender must be an email address, got {self.sender!r}")
        if not isinstance(self.starttls, bool):
            raise ValueError(f"starttls must be True or False, got {self.starttls!r}")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        if self.username is not None:
            _check_text("username", self.username)
            _check_text("password", self.password, empty=True)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) \
                or not self.timeout > 0:
            raise ValueError(f"timeout must be a number of seconds above 0, got {self.timeout!r}")

    def send(self, message: EmailMessage) -> None:
        """Send one email: connect, ``STARTTLS`` and log in if configured, send, quit.

        Raises:
            OSError: no connection, or a timeout (``TimeoutError``).
            smtplib.SMTPException: the server refused (sender, recipient, data, login).
        """
        import smtplib

        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                import ssl

                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message, from_addr=self.sender)


# -- the emails -------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe=":@")


def _host(loop: EventLoop) -> str:
    return f"sns.{loop.region}.{loop._dns_suffix}"


def confirm_link(host: str, topic_arn: str, token: str, endpoint: str) -> str:
    """The link of a confirmation email (visiting it confirms the subscription on AWS);
    ``host`` is SNS's (``sns.<region>.amazonaws.com``, ``.com.cn`` in China)."""
    return (f"https://{host}/confirmation.html?TopicArn={_quote(topic_arn)}"
            f"&Token={token}&Endpoint={_quote(endpoint)}")


def unsubscribe_link(host: str, subscription_arn: str, endpoint: str) -> str:
    """The unsubscribe link in the footer of an ``email`` notification (``host`` as
    :func:`confirm_link` takes it)."""
    return (f"https://{host}/unsubscribe.html?SubscriptionArn="
            f"{_quote(subscription_arn)}&Endpoint={_quote(endpoint)}")


def confirmation_text(topic_arn: str, link: str) -> str:
    """The body of an ``email`` subscription confirmation."""
    return (
        f"You have chosen to subscribe to the topic: \n{topic_arn}\n\n"
        "To confirm this subscription, click or visit the link below (If this was in error no "
        f"action is necessary): \n{link}\n\n"
        "Please do not reply directly to this email. If you wish to remove yourself from "
        "receiving all future SNS subscription confirmation requests please send an email to "
        "sns-opt-out\n"
    )


def notification_text(message: str, link: str) -> str:
    """The body of an ``email`` notification: the message and the unsubscribe footer."""
    return (
        f"{message}\n\n--\nIf you wish to stop receiving notifications from this topic, please "
        f"click or visit the link below to unsubscribe:\n{link}\n\n"
        "Please do not reply directly to this email. If you have any questions or comments "
        "regarding this email, please contact us at https://aws.amazon.com/support\n"
    )


def _email(sub: Subscription, sender: str, subject: str, body: str, wall_ms: int) -> EmailMessage:
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import formatdate

    msg = EmailMessage()
    local, _, domain = sender.partition("@")
    msg["From"] = Address(sub.topic._display_name or DEFAULT_FROM_NAME, local, domain)
    msg["To"] = sub.endpoint
    msg["Subject"] = subject
    msg["Date"] = formatdate(wall_ms / 1000.0, usegmt=True)
    msg.set_content(body, charset="utf-8")
    return msg


def _sender(transport: object) -> str:
    sender = getattr(transport, "sender", SNS_SENDER)
    return sender if isinstance(sender, str) and "@" in sender else SNS_SENDER


def deliver(sub: Subscription, n: Notification) -> None:
    """Send one notification email (a worker thread, no lock held); raise on a failure."""
    loop = sub.topic.loop
    transport = loop.email
    assert transport is not None
    if sub.protocol == "email":
        body = notification_text(n.message,
                                 unsubscribe_link(_host(loop), sub.arn, sub.endpoint))
    else:
        body = n.body
    wall_ms = loop.clock.wall_ms()
    transport.send(_email(sub, _sender(transport), n.subject or DEFAULT_EMAIL_SUBJECT, body,
                          wall_ms))


def send_confirmation(sub: Subscription, token: str, text: str) -> None:
    """Email a ``SubscriptionConfirmation`` (lock held; sent once from the worker pool, in the
    subscription's lane, without retries)."""
    topic = sub.topic
    loop = topic.loop
    transport = loop.email
    assert transport is not None
    wall_ms = loop.clock.wall_ms()
    if sub.protocol == "email-json":
        body = confirmation_body(
            "SubscriptionConfirmation", loop.new_id(), token, topic.arn, text,
            topic._subscribe_url(token), iso_timestamp(wall_ms), topic._signing,
        )
    else:
        body = confirmation_text(topic.arn, confirm_link(_host(loop), topic.arn, token,
                                                         sub.endpoint))
    message = _email(sub, _sender(transport), CONFIRMATION_SUBJECT, body, wall_ms)
    endpoint = sub.endpoint

    def job() -> None:
        try:
            transport.send(message)
        except Exception as error:  # the subscription stays pending, as on AWS
            _log.info("subscription confirmation to %s failed: %s: %s", endpoint,
                      type(error).__name__, error)
        finally:
            with topic._lock:
                topic._in_pool -= 1
                topic._job_done()

    topic._pending += 1
    topic._in_pool += 1
    WorkerPool.of(loop).submit(job, lane=sub)
