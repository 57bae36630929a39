"""SMS subscriptions delivered for real, through a transport the app plugs in.

``EventLoop(sms=transport)`` hands every SMS a topic sends to ``transport(message)``, one call
per message, with an :class:`SmsMessage`; the transport talks to the app's provider (an SMS
gateway's HTTP API, a modem, ...). Without one, SMS land in :attr:`Topic.outbox` as before.

The call runs like an ``application`` subscription's callable: on a
:class:`~decoupling.ManualClock` from a timer due now, in the thread that advances time
(:meth:`Topic.drain` runs it); on a real clock on the loop's SNS worker pool. Never under the
loop's lock, never inside ``publish``. Returning is a delivery; raising
:class:`~decoupling.sns.delivery.ClientDeliveryError` is a permanent failure (a number that
cannot receive SMS), not retried; raising anything else is retried along SNS's policy for SMS
(50 retries over about 6 hours, "Amazon SNS message delivery retries"); a message that is not
delivered goes to the subscription's dead-letter queue, if any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from ..message import MessageAttributeValue
from .message import Notification

if TYPE_CHECKING:
    from .subscription import Subscription

__all__ = ["SmsMessage", "SmsTransport"]


@attrs.frozen
class SmsMessage:
    """One text message to send.

    Attributes:
        phone_number: the subscription's endpoint (E.164 as subscribed, e.g. ``+15555550100``).
        text: the message text (``MessageStructure="json"`` picks its ``sms`` key).
        sender_name: the topic's ``DisplayName`` (SNS's SMS sender name), ``""`` when unset.
        message_id: the SNS ``MessageId`` (the same on every retry).
        topic_arn, subscription_arn: where it comes from.
        message_attributes: the publisher's attributes (e.g. ``AWS.SNS.SMS.SenderID``,
            ``AWS.SNS.SMS.SMSType``), name -> :class:`~decoupling.MessageAttributeValue`.
        attempt: 1 for the first attempt, 2 for the first retry, ...
    """

    phone_number: str
    text: str
    sender_name: str
    message_id: str
    topic_arn: str
    subscription_arn: str
    message_attributes: Mapping[str, MessageAttributeValue]
    attempt: int


#: What ``EventLoop(sms=...)`` takes: a callable sending one :class:`SmsMessage` (see the module
#: documentation for what returning and raising mean).
SmsTransport = Callable[[SmsMessage], None]


def deliver(sub: Subscription, n: Notification) -> None:
    """Hand one notification to the loop's SMS transport (no lock held)."""
    transport = sub.topic.loop.sms
    assert transport is not None
    transport(SmsMessage(
        sub.endpoint, n.message, sub.topic._display_name, n.message_id, n.topic_arn,
        sub.arn, n.message_attributes, n.attempt,
    ))
