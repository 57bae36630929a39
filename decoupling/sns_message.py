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
topics' envelopes carry no signature fields (as AWS records them). ``Signature`` is a
deterministic base64 fake of AWS's length: the payload is not really signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring as _encode_str
from typing import Any

from .errors import DecouplingError, InvalidParameter, ParameterValueInvalid
from .message import MessageAttributeValue, validate_body

__all__ = [
    "Notification",
    "MAX_ATTRIBUTES",
    "normalize_sns_attributes",
    "iso_timestamp",
]

MAX_ATTRIBUTES = 10
#: ``MessageGroupId`` / ``MessageDeduplicationId``: 1-128 alphanumerics and punctuation.
GROUP_OR_DEDUP_ID = re.compile(r"[\x21-\x7e]{1,128}")
_ATTR_NAME_CHARS = re.compile(r"[A-Za-z0-9_\-.]*")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\.[\x20-\x7e]{1,256})?")
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


# --- message attributes -----------------------------------------------------------------------


def _attribute_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ParameterValueInvalid("The message attribute name must not be empty.")
    if len(name.encode("utf-8")) > 256:
        raise ParameterValueInvalid("Length of message attribute name must be less than 256 bytes.")
    bad = _ATTR_NAME_CHARS.fullmatch(name)
    if bad is None:
        char = next(c for c in name if not (c.isascii() and (c.isalnum() or c in "_-.")))
        raise ParameterValueInvalid(
            f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message "
            "attribute name. Can only include alphanumeric characters, hyphens, underscores, "
            "or dots."
        )
    if name.startswith("."):
        raise ParameterValueInvalid(
            "Invalid message attribute name starting with character '.' was found."
        )
    if name.endswith("."):
        raise ParameterValueInvalid(
            "Invalid message attribute name ending with character '.' was found."
        )
    if ".." in name:
        raise ParameterValueInvalid("Message attribute name can not have successive '.' character.")
    if name.lower().startswith(("aws.", "amazon.")):
        raise ParameterValueInvalid(
            f"The message attribute name '{name}' must not start with 'AWS.' or 'Amazon.'."
        )
    return name


def _check_number(name: str, text: str) -> None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ParameterValueInvalid(
            f"Could not cast message attribute '{name}' value to number."
        )
    if value != 0 and not (Decimal("1e-128") <= abs(value) <= Decimal("1e126")):
        raise ParameterValueInvalid(
            f"Value of message attribute '{name}' is outside 10^-128 to 10^+126 in magnitude."
        )


def _one_attribute(name: str, raw: object) -> MessageAttributeValue:
    if isinstance(raw, MessageAttributeValue):
        attr = raw
    elif isinstance(raw, bool):
        raise ParameterValueInvalid(
            f"The message attribute '{name}': a bool is not a String, Number or Binary value."
        )
    elif isinstance(raw, str):
        attr = MessageAttributeValue("String", raw)
    elif isinstance(raw, (int, float, Decimal)):
        attr = MessageAttributeValue("Number", str(raw))
    elif isinstance(raw, (bytes, bytearray)):
        attr = MessageAttributeValue("Binary", None, bytes(raw))
    elif isinstance(raw, (list, tuple)):
        attr = MessageAttributeValue("String.Array", _dumps(list(raw)))
    elif isinstance(raw, Mapping):
        data_type = raw.get("DataType")
        if not isinstance(data_type, str):
            raise ParameterValueInvalid(
                f"The message attribute '{name}' must have a DataType."
            )
        sv, bv = raw.get("StringValue"), raw.get("BinaryValue")
        if bv is not None and not isinstance(bv, (bytes, bytearray)):
            raise ParameterValueInvalid(f"The message attribute '{name}': BinaryValue must be bytes.")
        if sv is not None and not isinstance(sv, str):
            raise ParameterValueInvalid(f"The message attribute '{name}': StringValue must be str.")
        attr = MessageAttributeValue(data_type, sv, None if bv is None else bytes(bv))
    else:
        raise ParameterValueInvalid(
            f"The message attribute '{name}' has a value of type {type(raw).__name__}; use str, "
            "a number, bytes, a list (String.Array) or MessageAttributeValue."
        )
    data_type = attr.data_type
    if not isinstance(data_type, str) or not _DATA_TYPE.fullmatch(data_type):
        raise ParameterValueInvalid(
            f"The message attribute '{name}' has an invalid message attribute type, the set of "
            "supported type prefixes is Binary, Number, and String."
        )
    base = data_type.partition(".")[0]
    if base == "Binary":
        if attr.string_value is not None:
            raise ParameterValueInvalid(
                f"The message attribute '{name}' with type 'Binary' must use field 'Binary'."
            )
        if not attr.binary_value:
            raise ParameterValueInvalid(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                "for message attribute type 'Binary'."
            )
        return attr
    if attr.binary_value is not None:
        raise ParameterValueInvalid(
            f"The message attribute '{name}' with type '{base}' must use field 'String'."
        )
    if not attr.string_value:
        raise ParameterValueInvalid(
            f"The message attribute '{name}' must contain non-empty message attribute value for "
            f"message attribute type '{base}'."
        )
    try:
        validate_body(attr.string_value)
    except DecouplingError:
        raise ParameterValueInvalid(
            f"The message attribute '{name}' contains characters outside the allowed set."
        ) from None
    if base == "Number":
        _check_number(name, attr.string_value)
    elif data_type == "String.Array":
        try:
            parsed = json.loads(attr.string_value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or any(isinstance(e, (list, dict)) for e in parsed):
            raise ParameterValueInvalid(
                f"The message attribute '{name}' of type 'String.Array' must be a JSON array of "
                "strings, numbers, booleans or nulls."
            )
    return attr


def normalize_sns_attributes(
    attributes: Mapping[str, Any] | None,
) -> dict[str, MessageAttributeValue] | None:
    """Validate publish message attributes; ``None`` when there are none.

    Values may be ``str`` (String), numbers (Number), ``bytes`` (Binary), a list (String.Array,
    JSON-encoded), a :class:`~decoupling.MessageAttributeValue` or the AWS dict
    ``{"DataType": ..., "StringValue"|"BinaryValue": ...}``. Raises ``ParameterValueInvalid``.
    """
    if attributes is None:
        return None
    if not isinstance(attributes, Mapping):
        raise ParameterValueInvalid("Message attributes must be a mapping of name to value.")
    if not attributes:
        return None
    if len(attributes) > MAX_ATTRIBUTES:
        raise ParameterValueInvalid(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    return {_attribute_name(n): _one_attribute(n, v) for n, v in attributes.items()}


def _attributes_size(attributes: Mapping[str, MessageAttributeValue] | None) -> int:
    size = 0
    if attributes:
        for name, attr in attributes.items():
            size += len(name.encode()) + len(attr.data_type.encode())
            if attr.binary_value is not None:
                size += len(attr.binary_value)
            elif attr.string_value is not None:
                size += len(attr.string_value.encode("utf-8", "surrogatepass"))
    return size


def _attribute_json(attributes: Mapping[str, MessageAttributeValue]) -> str:
    """The envelope's ``MessageAttributes`` block, one compact object per line (AWS's layout)."""
    lines = []
    for name, attr in attributes.items():
        if attr.binary_value is not None:
            value = base64.b64encode(attr.binary_value).decode()
        else:
            value = attr.string_value or ""
        lines.append(
            f'    {_dumps(name)} : {{"Type":{_dumps(attr.data_type)},"Value":{_dumps(value)}}}'
        )
    return "{\n" + ",\n".join(lines) + "\n  }"


def attributes_dict(attributes: Mapping[str, MessageAttributeValue] | None) -> dict[str, Any]:
    """``{"name": {"Type": ..., "Value": ...}}``: the attributes as SNS writes them in JSON."""
    out: dict[str, Any] = {}
    for name, attr in (attributes or {}).items():
        if attr.binary_value is not None:
            value = base64.b64encode(attr.binary_value).decode()
        else:
            value = attr.string_value or ""
        out[name] = {"Type": attr.data_type, "Value": value}
    return out


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
        data = json.loads(message)
    except ValueError:
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
    return size + _attributes_size(attributes)


# --- the published record --------------------------------------------------------------------


def fake_signature(canonical: str) -> str:
    """A deterministic base64 string as long as an RSA-2048 signature (344 characters)."""
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()
    return base64.b64encode(digest * 8).decode()


class Published:
    """One accepted publish: everything needed to write it for any subscription, any time.

    Envelope text is built once per distinct shape (per-protocol message text, replayed or not)
    as a head and a tail around the subscription-specific ``UnsubscribeURL``, so fanning out to
    n envelope subscriptions costs one JSON build and n string concatenations.
    """

    __slots__ = (
        "topic_arn",
        "signing_cert_url",
        "fifo",
        "message_id",
        "message",
        "structure",
        "subject",
        "attributes",
        "wall_ms",
        "published_at",
        "group_id",
        "dedup_id",
        "sequence_number",
        "id_suffix",
        "_timestamp",
        "_filter_attributes",
        "_shapes",
    )

    def __init__(
        self,
        topic_arn: str,
        signing_cert_url: str,
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
    ) -> None:
        self.topic_arn = topic_arn
        self.signing_cert_url = signing_cert_url
        self.fifo = fifo
        self.message_id = message_id
        self.message = message
        self.structure = structure
        self.subject = subject
        self.attributes = attributes
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
        if found is None:
            found = self._filter_attributes = {
                name: (a.data_type, a.string_value if a.string_value is not None else "")
                for name, a in (self.attributes or {}).items()
            }
        return found

    def signature(self, text: str) -> str:
        """The fake ``Signature`` over AWS's canonical string for a notification."""
        subject = f"Subject\n{self.subject}\n" if self.subject is not None else ""
        return fake_signature(
            f"Message\n{text}\nMessageId\n{self.message_id}\n{subject}Timestamp\n"
            f"{self.timestamp}\nTopicArn\n{self.topic_arn}\nType\nNotification\n"
        )

    def shape(self, key: str, replayed: bool) -> tuple[str, str]:
        """(head, tail) of the envelope for protocol key ``key``: the JSON text before and
        after the ``UnsubscribeURL`` value. Built once per publish per shape."""
        shapes = self._shapes
        if shapes is None:
            shapes = self._shapes = {}
        found = shapes.get((key, replayed))
        if found is not None:
            return found
        text = self.message_for(key)
        parts = ['{\n  "Type" : "Notification",\n  "MessageId" : ', _dumps(self.message_id)]
        if self.fifo:
            parts += [',\n  "SequenceNumber" : ', _dumps(self.sequence_number)]
        parts += [',\n  "TopicArn" : ', _dumps(self.topic_arn)]
        if self.subject is not None:
            parts += [',\n  "Subject" : ', _dumps(self.subject)]
        parts += [',\n  "Message" : ', _dumps(text), ',\n  "Timestamp" : ', _dumps(self.timestamp)]
        if not self.fifo:
            parts += [
                ',\n  "SignatureVersion" : "1",\n  "Signature" : ', _dumps(self.signature(text)),
                ',\n  "SigningCertURL" : ', _dumps(self.signing_cert_url),
            ]
        parts.append(',\n  "UnsubscribeURL" : ')
        tail = []
        if self.attributes:
            tail += [',\n  "MessageAttributes" : ', _attribute_json(self.attributes)]
        if replayed:
            tail.append(',\n  "Replayed" : true')
        tail.append("\n}")
        found = shapes[(key, replayed)] = ("".join(parts), "".join(tail))
        return found

    def drop_shapes(self) -> None:
        """Free the cached envelope text (called once the fan-out is done)."""
        self._shapes = None


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
        sequence_number, message_group_id, message_deduplication_id: FIFO topics (the group id
            also on standard topics, for fair queues).
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
    message_group_id = property(lambda self: self._pub.group_id)
    message_deduplication_id = property(lambda self: self._pub.dedup_id)

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
            "SignatureVersion": "1",
            "Signature": pub.signature(text),
            "SigningCertUrl": pub.signing_cert_url,
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
    signing_cert_url: str,
) -> str:
    """A ``SubscriptionConfirmation`` / ``UnsubscribeConfirmation`` message, as SNS writes it."""
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
        ("SignatureVersion", "1"),
        ("Signature", fake_signature(canonical)),
        ("SigningCertURL", signing_cert_url),
    ]
    return "{\n" + ",\n".join(f"  {_dumps(k)} : {_dumps(v)}" for k, v in fields) + "\n}"
