"""SNS messages: publish-time validation, the published record, and the shapes AWS delivers.

Rules mirrored here (SNS API reference, ``Publish``; SNS Developer Guide, "Amazon SNS message
attributes", "Fanout to Amazon SQS queues", "Parsing message formats"):

* ``Message``: at least 1 character (``Invalid parameter: Empty message``), XML-safe characters
  only, body plus attributes within the topic's ``MaximumMessageSize``
  (``Invalid parameter: Message too long``).
* ``Subject``: 1-100 characters, no line breaks or control characters (``Invalid parameter:
  Subject``).
* ``MessageStructure="json"``: ``Message`` is a JSON object with a string ``default``; other
  string-valued keys name protocols (``sqs``, ``http``, ``email``, ...); non-string values are
  ignored.
* Message attributes: at most 10; ``DataType`` ``String``, ``String.Array``, ``Number`` or
  ``Binary`` (optionally with a custom ``.label``); errors use the ``ParameterValueInvalid`` code
  and AWS's wording.

The notification envelope is written the way SNS writes it to SQS and HTTP/S endpoints: a
pretty-printed JSON object (``"Key" : value`` pairs, two-space indent) in the order ``Type``,
``MessageId``, (``SequenceNumber`` on FIFO topics), ``TopicArn``, ``Subject`` (only if given),
``Message``, ``Timestamp``, then on standard topics ``SignatureVersion``, ``Signature`` and
``SigningCertURL``, then ``UnsubscribeURL`` and ``MessageAttributes`` (only if any). FIFO
topics' envelopes carry no signature fields (as AWS records them). ``Signature`` is a real
RSA signature with the loop's key, over the fields and in the order SNS signs, and
``SigningCertURL`` serves the certificate (see :mod:`decoupling.sns.signing`, which also says
what happens without the optional ``cryptography`` package).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from json.encoder import encode_basestring as _encode_str
from typing import Any

from ..errors import DecouplingError, InvalidParameter
from ..message import MessageAttributeValue, loads_json, validate_body
from .attributes import (
    MAX_ATTRIBUTES,
    _attribute_name,
    attributes_dict,
    attributes_json,
    attributes_size,
    normalize_sns_attributes,
    plain_value,
)
from .signing import Signing

__all__ = [
    "Notification",
    "Published",
    "normalize_sns_attributes",
    "iso_timestamp",
]

#: ``MessageGroupId`` / ``MessageDeduplicationId``: 1-128 alphanumerics and punctuation.
GROUP_OR_DEDUP_ID = re.compile(r"[\x21-\x7e]{1,128}")
_SUBJECT_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
SUBJECT_MAX = 100
DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"


_ts_cache: tuple[int, str] = (-1, "")


def iso_timestamp(wall_ms: int) -> str:
    """Epoch milliseconds as SNS writes ``Timestamp``: ``2026-01-01T00:00:00.000Z``."""
    global _ts_cache
    seconds, millis = divmod(wall_ms, 1000)
    cached = _ts_cache  # (second, text), swapped whole so threads never see half an update
    if cached[0] != seconds:
        cached = _ts_cache = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{cached[1]}.{millis:03d}Z"


def _dumps(value: Any) -> str:
    # Jackson, which SNS uses, writes non-ASCII characters as they are and does not escape "/".
    if type(value) is str:
        return _encode_str(value)
    return json.dumps(value, ensure_ascii=False)


# --- publish validation ----------------------------------------------------------------------


def check_message(message: object) -> str:
    """A non-empty ``str`` of XML-safe characters, else ``InvalidParameter``."""
    if not isinstance(message, str):
        raise InvalidParameter(
            f"Invalid parameter: Message must be a str, got {type(message).__name__}"
        )
    if not message:
        raise InvalidParameter("Invalid parameter: Empty message")
    try:
        validate_body(message)
    except DecouplingError as error:
        raise InvalidParameter(f"Invalid parameter: Message Reason: {error.message}") from None
    return message


def check_subject(subject: object) -> str | None:
    """``None`` or 1-100 characters with no line breaks or control characters."""
    if subject is None:
        return None
    if (
        not isinstance(subject, str)
        or not subject
        or len(subject) > SUBJECT_MAX
        or _SUBJECT_FORBIDDEN.search(subject)
        or not subject.strip()
    ):
        raise InvalidParameter("Invalid parameter: Subject")
    return subject


def parse_structure(message: str, message_structure: object) -> dict[str, str] | None:
    """Per-protocol messages of a ``MessageStructure="json"`` publish, or ``None``.

    Keys with non-string values are ignored, as SNS does; ``default`` is required.
    """
    if message_structure is None:
        return None
    if message_structure != "json":
        raise InvalidParameter(
            f"Invalid parameter: MessageStructure Reason: {message_structure!r} is not a valid "
            "value; use 'json'"
        )
    try:
        data = loads_json(message)
    except ValueError:  # not JSON, or nested deeper than MAX_JSON_DEPTH
        data = None
    if not isinstance(data, dict):
        raise InvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        )
    if not isinstance(data.get("default"), str):
        raise InvalidParameter(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    return {k: v for k, v in data.items() if isinstance(v, str)}


def check_group_or_dedup_id(name: str, value: object) -> str:
    """``MessageGroupId`` / ``MessageDeduplicationId``: 1-128 alphanumerics and punctuation."""
    if not isinstance(value, str) or not GROUP_OR_DEDUP_ID.fullmatch(value):
        raise InvalidParameter(
            f"Invalid parameter: {name} Reason: must be 1 to 128 characters of alphanumerics and "
            f"punctuation, got {value!r}"
        )
    return value


def message_size(message: str, attributes: Mapping[str, MessageAttributeValue] | None) -> int:
    """Bytes counted against ``MaximumMessageSize``: the UTF-8 message plus its attributes."""
    size = len(message) if message.isascii() else len(message.encode("utf-8", "surrogatepass"))
    return size + attributes_size(attributes)


#: Publish attributes taken on the plain path: (name, DataType, value) each.
PlainAttributes = tuple[tuple[str, str, str], ...]


def plain_attributes(attributes: object) -> PlainAttributes | None:
    """The publish attributes as (name, DataType, value), when all are plain values that
    :func:`normalize_sns_attributes` takes as they are (:func:`plain_value`, the rule both
    share); ``None`` for anything else (take the full path).

    Checks what that function checks, in the same order (a bad name raises the same error at
    the same entry), without building the ``MessageAttributeValue`` objects: envelope
    deliveries never need them (see ``Published.attributes``).
    """
    if type(attributes) is not dict or not attributes or len(attributes) > MAX_ATTRIBUTES:
        return None
    out = []
    for name, raw in attributes.items():
        _attribute_name(name)
        plain = plain_value(raw)
        if plain is None:
            return None
        out.append((name, *plain))
    return tuple(out)


def plain_attributes_size(items: PlainAttributes) -> int:
    """:func:`attributes_size` of plain attributes (all ASCII: bytes are characters)."""
    size = 0
    for name, data_type, value in items:
        size += len(name) + len(data_type) + len(value)
    return size


# --- the published record --------------------------------------------------------------------


class Published:
    """One accepted publish: everything needed to write it for any subscription, any time.

    Envelope text is built once per distinct shape (per-protocol message text, replayed or not)
    as a head and a tail around the subscription-specific ``UnsubscribeURL``, so fanning out to
    n envelope subscriptions costs one JSON build and n string concatenations.
    """

    __slots__ = (
        "topic_arn",
        "signing",
        "fifo",
        "message_id",
        "message",
        "structure",
        "subject",
        "_attributes",
        "_plain",
        "wall_ms",
        "published_at",
        "group_id",
        "dedup_id",
        "sequence_number",
        "id_suffix",
        "_timestamp",
        "_filter_attributes",
        "_shapes",
        "sqs_shape",
    )

    def __init__(
        self,
        topic_arn: str,
        signing: Signing,
        fifo: bool,
        message_id: str,
        message: str,
        structure: dict[str, str] | None,
        subject: str | None,
        attributes: dict[str, MessageAttributeValue] | None,
        wall_ms: int,
        published_at: float,
        group_id: str | None,
        dedup_id: str | None,
        sequence_number: str | None,
        id_suffix: str = "",
        plain: PlainAttributes | None = None,
    ) -> None:
        self.topic_arn = topic_arn
        #: The topic's signer and ``SignatureVersion`` at publish time.
        self.signing = signing
        self.fifo = fifo
        self.message_id = message_id
        self.message = message
        self.structure = structure
        self.subject = subject
        self._attributes = attributes
        #: Plain attributes (see plain_attributes), when ``attributes`` is left to be built.
        self._plain = plain
        self.wall_ms = wall_ms
        self.published_at = published_at
        self.group_id = group_id
        self.dedup_id = dedup_id
        self.sequence_number = sequence_number
        #: The tail of the SQS message ids this publish gets (see ``Subscription``).
        self.id_suffix = id_suffix
        self._timestamp: str | None = None
        self._filter_attributes: dict[str, tuple[str, str]] | None = None
        self._shapes: dict[tuple[str, bool], tuple[str, str]] | None = None
        #: The most used shape, ("sqs", not replayed), kept apart: no dict lookup per queue.
        self.sqs_shape: tuple[str, str] | None = None

    @property
    def attributes(self) -> dict[str, MessageAttributeValue] | None:
        """The message attributes (``None`` when there are none); from plain attributes, built
        on first use (raw deliveries, callables): queue envelopes never need them."""
        found = self._attributes
        if found is None and self._plain is not None:
            found = self._attributes = {
                name: MessageAttributeValue(data_type, value)
                for name, data_type, value in self._plain
            }
        return found

    @property
    def timestamp(self) -> str:
        """``Timestamp``: ISO-8601 with milliseconds and ``Z``."""
        ts = self._timestamp
        if ts is None:
            ts = self._timestamp = iso_timestamp(self.wall_ms)
        return ts

    def message_for(self, key: str) -> str:
        """The message text for a protocol key (``MessageStructure="json"``) or the message."""
        structure = self.structure
        if structure is None:
            return self.message
        return structure.get(key, structure["default"])

    def filter_attributes(self) -> dict[str, tuple[str, str]]:
        """Attributes as filter policies read them: name -> (DataType, StringValue)."""
        found = self._filter_attributes
        if found is None and self._plain is not None:
            found = self._filter_attributes = {
                name: (data_type, value) for name, data_type, value in self._plain
            }
        elif found is None:
            found = self._filter_attributes = {
                name: (a.data_type, a.string_value if a.string_value is not None else "")
                for name, a in (self.attributes or {}).items()
            }
        return found

    def signature(self, text: str, protocol: str) -> str:
        """``Signature`` over SNS's canonical string for a notification of ``text`` to a
        ``protocol`` subscription (``Message``, ``MessageId``, ``Subject`` if any,
        ``Timestamp``, ``TopicArn``, ``Type``; see :mod:`decoupling.sns.signing`)."""
        subject = f"Subject\n{self.subject}\n" if self.subject is not None else ""
        return self.signing.sign(
            f"Message\n{text}\nMessageId\n{self.message_id}\n{subject}Timestamp\n"
            f"{self.timestamp}\nTopicArn\n{self.topic_arn}\nType\nNotification\n",
            protocol,
        )

    def shape(self, key: str, replayed: bool) -> tuple[str, str]:
        """(head, tail) of the envelope for protocol key ``key``: the JSON text before and
        after the ``UnsubscribeURL`` value. Built once per publish per shape."""
        if key == "sqs" and not replayed:
            found = self.sqs_shape
            if found is None:
                found = self.sqs_shape = self._build_shape(key, replayed)
            return found
        shapes = self._shapes
        if shapes is None:
            shapes = self._shapes = {}
        found = shapes.get((key, replayed))
        if found is None:
            found = shapes[(key, replayed)] = self._build_shape(key, replayed)
        return found

    def _build_shape(self, key: str, replayed: bool) -> tuple[str, str]:
        # Every value here is a str: encode_basestring directly (what _dumps does for a str).
        text = self.message_for(key)
        subject = "" if self.subject is None else f',\n  "Subject" : {_encode_str(self.subject)}'
        if self.fifo:
            assert self.sequence_number is not None
            head = (
                f'{{\n  "Type" : "Notification",\n  "MessageId" : {_encode_str(self.message_id)}'
                f',\n  "SequenceNumber" : {_encode_str(self.sequence_number)}'
                f',\n  "TopicArn" : {_encode_str(self.topic_arn)}{subject}'
                f',\n  "Message" : {_encode_str(text)}'
                f',\n  "Timestamp" : {_encode_str(self.timestamp)}'
                ',\n  "UnsubscribeURL" : '
            )
        else:
            head = (
                f'{{\n  "Type" : "Notification",\n  "MessageId" : {_encode_str(self.message_id)}'
                f',\n  "TopicArn" : {_encode_str(self.topic_arn)}{subject}'
                f',\n  "Message" : {_encode_str(text)}'
                f',\n  "Timestamp" : {_encode_str(self.timestamp)}'
                f',\n  "SignatureVersion" : {_encode_str(self.signing.version)}'
                f',\n  "Signature" : {_encode_str(self.signature(text, key))}'
                f',\n  "SigningCertURL" : {_encode_str(self.signing.cert_url_for(key))}'
                ',\n  "UnsubscribeURL" : '
            )
        tail = "\n}"
        if replayed:
            tail = ',\n  "Replayed" : true' + tail
        plain = self._plain
        if plain is not None:
            # attributes_json's layout, from the plain values (no objects built).
            lines = ",\n".join([
                f'    {_encode_str(name)} : {{"Type":{_encode_str(data_type)},'
                f'"Value":{_encode_str(value)}}}'
                for name, data_type, value in plain
            ])
            tail = f',\n  "MessageAttributes" : {{\n{lines}\n  }}{tail}'
        elif self.attributes:
            tail = f',\n  "MessageAttributes" : {attributes_json(self.attributes)}{tail}'
        return head, tail

    def drop_shapes(self) -> None:
        """Free the cached envelope text (called once the fan-out is done)."""
        self._shapes = self.sqs_shape = None


class Notification:
    """One message as delivered to one subscription (what protocol handlers receive).

    Attributes:
        message_id: the SNS ``MessageId`` (the same for every subscription and every retry).
        topic_arn, subscription_arn: where it came from and to whom it goes.
        message: the message text for this subscription's protocol (``MessageStructure="json"``
            picks the protocol's key, else ``default``).
        subject: the ``Subject``, or ``None``.
        message_attributes: name -> :class:`~decoupling.MessageAttributeValue`.
        timestamp: ``Timestamp``, ISO-8601 with milliseconds and ``Z`` (publish time).
        sequence_number, message_group_id, message_deduplication_id: FIFO topics only.
        replayed: ``True`` for a message redelivered by a replay policy.
        raw: ``True`` when the subscription has ``RawMessageDelivery``.
        attempt: 1 for the first delivery attempt, 2 for the first retry, ...
    """

    __slots__ = ("_pub", "subscription_arn", "unsubscribe_url", "_key", "replayed", "raw", "attempt")

    def __init__(
        self,
        pub: Published,
        subscription_arn: str,
        unsubscribe_url: str,
        key: str,
        replayed: bool,
        raw: bool,
    ) -> None:
        self._pub = pub
        self.subscription_arn = subscription_arn
        self.unsubscribe_url = unsubscribe_url
        self._key = key
        self.replayed = replayed
        self.raw = raw
        self.attempt = 1

    message_id = property(lambda self: self._pub.message_id)
    topic_arn = property(lambda self: self._pub.topic_arn)
    subject = property(lambda self: self._pub.subject)
    timestamp = property(lambda self: self._pub.timestamp)
    sequence_number = property(lambda self: self._pub.sequence_number)
    message_deduplication_id = property(lambda self: self._pub.dedup_id)

    @property
    def message_group_id(self) -> str | None:
        """``MessageGroupId`` on FIFO topics. On standard topics the group id is forwarded to
        standard SQS subscriptions only (for fair queues), so other protocols see ``None``."""
        pub = self._pub
        return pub.group_id if pub.fifo else None

    @property
    def message(self) -> str:
        """The message text for this subscription's protocol."""
        return self._pub.message_for(self._key)

    @property
    def message_attributes(self) -> dict[str, MessageAttributeValue]:
        """The publisher's message attributes."""
        return dict(self._pub.attributes or {})

    @property
    def body(self) -> str:
        """What the endpoint receives: the raw message with ``RawMessageDelivery``, else the
        JSON notification envelope exactly as SNS writes it."""
        if self.raw:
            return self.message
        head, tail = self._pub.shape(self._key, self.replayed)
        return head + _dumps(self.unsubscribe_url) + tail

    def envelope(self) -> dict[str, Any]:
        """The notification envelope as a dict (parsed :attr:`body` of a non-raw delivery)."""
        head, tail = self._pub.shape(self._key, self.replayed)
        parsed: dict[str, Any] = json.loads(head + _dumps(self.unsubscribe_url) + tail)
        return parsed

    def lambda_event(self) -> dict[str, Any]:
        """The event a Lambda function subscribed to the topic receives:
        ``{"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": ..., "Sns": {...}}]}`` with Lambda's ``SigningCertUrl`` and
        ``UnsubscribeUrl`` spelling, ``Subject`` ``None`` when absent and ``MessageAttributes``
        ``{}`` when none (Lambda Developer Guide, "Using Lambda with Amazon SNS")."""
        pub = self._pub
        text = self.message
        sns: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": pub.message_id,
            "TopicArn": pub.topic_arn,
            "Subject": pub.subject,
            "Message": text,
            "Timestamp": pub.timestamp,
            "SignatureVersion": pub.signing.version,
            "Signature": pub.signature(text, self._key),
            "SigningCertUrl": pub.signing.cert_url_for(self._key),
            "UnsubscribeUrl": self.unsubscribe_url,
            "MessageAttributes": attributes_dict(pub.attributes),
        }
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": self.subscription_arn,
                    "Sns": sns,
                }
            ]
        }

    def __repr__(self) -> str:
        return (
            f"Notification(message_id={self.message_id!r}, subscription_arn="
            f"{self.subscription_arn!r}, attempt={self.attempt}, replayed={self.replayed})"
        )


def confirmation_body(
    kind: str,
    message_id: str,
    token: str,
    topic_arn: str,
    text: str,
    subscribe_url: str,
    timestamp: str,
    signing: Signing,
) -> str:
    """A ``SubscriptionConfirmation`` / ``UnsubscribeConfirmation`` message, as SNS writes it,
    signed over ``Message``, ``MessageId``, ``SubscribeURL``, ``Timestamp``, ``Token``,
    ``TopicArn``, ``Type``."""
    canonical = (
        f"Message\n{text}\nMessageId\n{message_id}\nSubscribeURL\n{subscribe_url}\n"
        f"Timestamp\n{timestamp}\nToken\n{token}\nTopicArn\n{topic_arn}\nType\n{kind}\n"
    )
    fields = [
        ("Type", kind),
        ("MessageId", message_id),
        ("Token", token),
        ("TopicArn", topic_arn),
        ("Message", text),
        ("SubscribeURL", subscribe_url),
        ("Timestamp", timestamp),
        ("SignatureVersion", signing.version),
        ("Signature", signing.sign(canonical)),
        ("SigningCertURL", signing.cert_url),
    ]
    return "{\n" + ",\n".join(f"  {_dumps(k)} : {_dumps(v)}" for k, v in fields) + "\n}"
