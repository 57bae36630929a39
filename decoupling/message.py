"""Messages, message attributes, and the SQS rules for bodies, sizes and MD5 digests.

Rules mirrored here (SQS Developer Guide, "Amazon SQS message attributes" and the SendMessage
API reference):

* A body has at least one character, all from ``#x9 | #xA | #xD | #x20-#xD7FF |
  #xE000-#xFFFD | #x10000-#x10FFFF`` (else ``InvalidMessageContents``).
* At most 10 message attributes; a name is 1-256 characters of ``A-Za-z0-9_-.``, does not start
  with ``AWS.`` or ``Amazon.`` (any case), and has no leading, trailing or consecutive periods.
  ``DataType`` is ``String``, ``Number`` or ``Binary``, optionally followed by ``.`` and a custom
  label (``Number.float``).
* The size of a message is its UTF-8 body plus, for each attribute, the UTF-8 bytes of its name,
  its data type and its value.
* ``MD5OfMessageBody`` is the hex MD5 of the UTF-8 body; ``MD5OfMessageAttributes`` hashes the
  attributes sorted by name, each encoded as length-prefixed name, length-prefixed data type, a
  transport byte (1 String/Number, 2 Binary) and the length-prefixed value.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import operator
import re
import struct
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .errors import (
    DecouplingError,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
)

__all__ = [
    "MessageAttributeValue",
    "Message",
    "AttributeInput",
    "normalize_attributes",
    "coerce_attribute",
    "md5_of_body",
    "md5_of_attributes",
    "validate_body",
    "message_size",
    "MAX_JSON_DEPTH",
    "JsonTooDeep",
    "loads_json",
    "dumps_json",
]

#: Characters SQS refuses in a body: the complement of the allowed set, written out (the
#: negated class ``[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]`` matches the same
#: characters but takes ~5 ms to compile, a third of this module's import).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Letters and digits are Unicode ones: SQS accepts a name such as "attr.1øßä" (AWS-validated in
# LocalStack's test_send_message_with_invalid_string_attributes).
_ATTR_NAME = re.compile(r"[\w\-.]{1,256}")
# A Number value: optional sign, digits with an optional point, optional exponent. Stricter
# than ``Decimal()``, which also takes "1_000", " 1 ", "Infinity" and "NaN".
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# A DataType is at most 256 characters in all: SQS refuses "Number." + 256 letters
# (AWS-validated in LocalStack's test_send_message_with_invalid_string_attributes).
_DATA_TYPE = re.compile(r"(?=.{1,256}\Z)(String|Number|Binary)(\.[\x20-\x7e]+)?", re.DOTALL)
MAX_ATTRIBUTES = 10


@attrs.frozen(slots=True)
class MessageAttributeValue:
    """One message attribute: a data type and a string or binary value.

    ``data_type`` is ``"String"``, ``"Number"`` or ``"Binary"``, optionally with a custom suffix
    (``"Number.int"``). String and Number attributes carry ``string_value``; Binary ones carry
    ``binary_value``.
    """

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    @property
    def value(self) -> str | bytes:
        """The value, whichever of string or binary it is."""
        if self.binary_value is not None:
            return self.binary_value
        return self.string_value if self.string_value is not None else ""

    @property
    def base_type(self) -> str:
        """``String``, ``Number`` or ``Binary`` without a custom suffix."""
        return self.data_type.partition(".")[0]

    def to_aws(self) -> dict[str, Any]:
        """The AWS wire shape: ``{"DataType": ..., "StringValue"|"BinaryValue": ...}``."""
        if self.binary_value is not None:
            return {"DataType": self.data_type, "BinaryValue": self.binary_value}
        return {"DataType": self.data_type, "StringValue": self.string_value}


#: What callers may pass as a message attribute value: a ready :class:`MessageAttributeValue`,
#: a ``str`` (String), an ``int``/``float``/``Decimal`` (Number), ``bytes`` (Binary), or the AWS
#: dict shape ``{"DataType": ..., "StringValue": ...}``.
AttributeInput = MessageAttributeValue | str | int | float | Decimal | bytes | Mapping[str, Any]


def _check_number(name: str, text: str) -> None:
    # SQS: up to 38 digits of precision, between 10^-128 and 10^+126 in magnitude.
    if not _NUMBER.fullmatch(text):
        raise InvalidParameterValue(
            f"Message attribute '{name}' has an invalid Number value {text!r}."
        )
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid numbers
        raise InvalidParameterValue(
            f"Message attribute '{name}' has an invalid Number value {text!r}."
        ) from None
    # Significant digits, counted exactly (``normalize()`` would round to the context's 28).
    digit_tuple = value.as_tuple().digits
    end = len(digit_tuple)
    while end > 1 and digit_tuple[end - 1] == 0:
        end -= 1
    digits = end
    if digits > 38:
        raise InvalidParameterValue(
            f"Message attribute '{name}' has {digits} significant digits; at most 38 allowed."
        )
    if value != 0 and not (Decimal("1e-128") <= value.copy_abs() <= Decimal("1e126")):
        raise InvalidParameterValue(
            f"Message attribute '{name}' is outside 10^-128 to 10^+126 in magnitude."
        )


def coerce_attribute(
    name: str,
    raw: object,
    error: type[DecouplingError] = InvalidParameterValue,
    *,
    label: str = "Message attribute",
    array: Callable[[list[Any]], str] | None = None,
) -> MessageAttributeValue:
    """Turn a caller's value into a :class:`MessageAttributeValue` (shape only; the rules of
    each service are checked by its caller).

    ``str`` is a String, ``int``/``float``/``Decimal`` a Number, ``bytes`` a Binary, the AWS
    dict shape is taken as given; with ``array`` (SNS), a list or tuple becomes a
    ``String.Array`` whose JSON text ``array`` writes. Anything else raises ``error``.
    """
    if isinstance(raw, MessageAttributeValue):
        return raw
    if isinstance(raw, bool):
        raise error(f"{label} '{name}': a bool is not a String, Number or Binary value.")
    if isinstance(raw, str):
        return MessageAttributeValue("String", raw)
    if isinstance(raw, (int, float, Decimal)):
        return MessageAttributeValue("Number", str(raw))
    if isinstance(raw, (bytes, bytearray)):
        return MessageAttributeValue("Binary", None, bytes(raw))
    if array is not None and isinstance(raw, (list, tuple)):
        return MessageAttributeValue("String.Array", array(list(raw)))
    if isinstance(raw, Mapping):
        data_type = raw.get("DataType")
        if not isinstance(data_type, str):
            raise error(f"{label} '{name}' must have a DataType.")
        sv, bv = raw.get("StringValue"), raw.get("BinaryValue")
        if sv is not None and not isinstance(sv, str):
            raise error(f"{label} '{name}': StringValue must be str.")
        if bv is not None and not isinstance(bv, (bytes, bytearray)):
            raise error(f"{label} '{name}': BinaryValue must be bytes.")
        return MessageAttributeValue(data_type, sv, None if bv is None else bytes(bv))
    kinds = "str, a number, bytes, a list (String.Array)" if array else "str, a number, bytes"
    raise error(
        f"{label} '{name}' has a value of type {type(raw).__name__}; use {kinds} or "
        "MessageAttributeValue."
    )


def _one_attribute(name: str, raw: AttributeInput) -> MessageAttributeValue:
    attr = coerce_attribute(name, raw)
    if not isinstance(attr.data_type, str) or not _DATA_TYPE.fullmatch(attr.data_type):
        if isinstance(attr.data_type, str) and attr.data_type.partition(".")[0] not in (
            "String", "Number", "Binary"
        ):
            # SQS's wording for an unknown type (moto's
            # test_message_with_attributes_invalid_datatype; LocalStack answers the same).
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the "
                "set of supported type prefixes is Binary, Number, and String."
            )
        raise InvalidParameterValue(
            f"Message attribute '{name}' has an invalid DataType {attr.data_type!r}: "
            "use String, Number or Binary, optionally with a '.label' suffix."
        )
    base = attr.base_type
    if base == "Binary":
        if attr.binary_value is None or attr.string_value is not None:
            raise InvalidParameterValue(f"Message attribute '{name}' of type Binary needs bytes.")
        if not attr.binary_value:
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                "'Binary'."
            )
    else:
        if not isinstance(attr.string_value, str) or attr.binary_value is not None:
            raise InvalidParameterValue(
                f"Message attribute '{name}' of type {base} needs a string value."
            )
        if not attr.string_value:
            # Text as SQS answers (AWS-validated in LocalStack's
            # test_send_message_with_empty_string_attribute).
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{base}'."
            )
        if _FORBIDDEN.search(attr.string_value):
            # InvalidParameterValue, not InvalidMessageContents, for attribute values
            # (AWS-validated in LocalStack's
            # test_invalid_string_attributes_cause_invalid_parameter_value_error).
            raise InvalidParameterValue(
                f"Message attribute '{name}' contains characters outside the allowed set "
                "(#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF)."
            )
        if base == "Number":
            _check_number(name, attr.string_value)
    return attr


def check_attribute_name(name: object) -> str:
    """Validate one message attribute name; return it. Raises ``InvalidParameterValue``."""
    if not isinstance(name, str) or not _ATTR_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"Message attribute name {name!r} must be 1-256 letters, digits, '_', '-' or '.'."
        )
    lowered = name.lower()
    if lowered.startswith(("aws.", "amazon.")):
        raise InvalidParameterValue(
            f"Message attribute name {name!r} must not start with 'AWS.' or 'Amazon.'."
        )
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise InvalidParameterValue(
            f"Message attribute name {name!r} must not have leading, trailing or "
            "consecutive periods."
        )
    return name


def normalize_attributes(
    attributes: Mapping[str, AttributeInput] | None,
) -> dict[str, MessageAttributeValue] | None:
    """Validate message attributes and return them as :class:`MessageAttributeValue` objects.

    Returns ``None`` for no attributes. Raises ``InvalidParameterValue`` (or
    ``InvalidMessageContents``) saying which attribute is wrong and why.
    """
    if not attributes:
        if attributes is None or isinstance(attributes, Mapping):
            return None
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValue("Message attributes must be a mapping of name to value.")
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    return {check_attribute_name(n): _one_attribute(n, v) for n, v in attributes.items()}


def validate_body(body: object) -> str:
    """Check a body against SQS's character rules; return it.

    Raises:
        InvalidParameterValue: not a ``str``.
        MissingParameter: empty (SQS treats an empty body as a missing one; AWS-validated in
            LocalStack's test_send_empty_message).
        InvalidMessageContents: a character outside the allowed set.
    """
    if not isinstance(body, str):
        raise InvalidParameterValue(
            f"The message body must be a str, got {type(body).__name__}."
        )
    if not body:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if not body.isascii() or not body.isprintable():
        match = _FORBIDDEN.search(body)
        if match:
            raise InvalidMessageContents(
                "Invalid characters found in the message body: "
                f"U+{ord(match.group()):04X} at position {match.start()}. Allowed: "
                "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF."
            )
    return body


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (O(1) for ASCII text)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def message_size(body: str, attributes: Mapping[str, MessageAttributeValue] | None) -> int:
    """The size SQS counts against ``MaximumMessageSize``, in bytes."""
    size = utf8_len(body)
    if attributes:
        for name, attr in attributes.items():
            size += utf8_len(name) + utf8_len(attr.data_type)
            if attr.binary_value is not None:
                size += len(attr.binary_value)
            elif attr.string_value is not None:
                size += utf8_len(attr.string_value)
    return size


def _openssl_md5(data: bytes) -> hashlib._Hash:
    return hashlib.md5(data, usedforsecurity=False)


try:
    # CPython's own MD5, a checksum here (not security): no OpenSSL context to set up and
    # clean per call, ~35% fewer instructions for a 100-byte body (callgrind).
    from _md5 import md5 as _builtin_md5  # type: ignore[import-not-found]
except ImportError:  # (a build without it)
    _builtin_md5 = None
_md5: Callable[[bytes], hashlib._Hash] = _builtin_md5 or _openssl_md5


def md5_of_body(body: str) -> str:
    """``MD5OfMessageBody``: the hex MD5 digest of the UTF-8 body."""
    return _md5(body.encode()).hexdigest()


def md5_of_attributes(attributes: Mapping[str, MessageAttributeValue] | None) -> str | None:
    """``MD5OfMessageAttributes`` as SQS computes it, or ``None`` for no attributes."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attr = attributes[name]
        for part in (name.encode(), attr.data_type.encode()):
            digest.update(struct.pack("!I", len(part)) + part)
        if attr.binary_value is not None:
            digest.update(b"\x02" + struct.pack("!I", len(attr.binary_value)) + attr.binary_value)
        else:
            value = (attr.string_value or "").encode()
            digest.update(b"\x01" + struct.pack("!I", len(value)) + value)
    return digest.hexdigest()


class Message:
    """A message as one receive returned it (a snapshot; later receives do not change it).

    Attributes:
        message_id: the id assigned at send (kept across redelivery and DLQ moves).
        body: the body text.
        receipt_handle: the handle of *this* receive; delete and change visibility with it.
        message_attributes: the sender's attributes, name to :class:`MessageAttributeValue`.
        receive_count: ``ApproximateReceiveCount`` after this receive (1 on the first).
        sent_timestamp: ``SentTimestamp``, epoch milliseconds.
        first_receive_timestamp: ``ApproximateFirstReceiveTimestamp``, epoch milliseconds.
        message_group_id, message_deduplication_id, sequence_number: FIFO (and fair-queue
            group id) system attributes, or ``None``.
        dead_letter_queue_source_arn: on a message in a DLQ, the queue it came from.
    """

    __slots__ = (
        "message_id",
        "body",
        "receipt_handle",
        "message_attributes",
        "receive_count",
        "sent_timestamp",
        "first_receive_timestamp",
        "sender_id",
        "message_group_id",
        "message_deduplication_id",
        "sequence_number",
        "dead_letter_queue_source_arn",
        "aws_trace_header",
        "_md5",
    )

    def __init__(
        self,
        message_id: str,
        body: str,
        receipt_handle: str,
        message_attributes: dict[str, MessageAttributeValue] | None,
        receive_count: int,
        sent_timestamp: int,
        first_receive_timestamp: int,
        sender_id: str,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        sequence_number: str | None = None,
        dead_letter_queue_source_arn: str | None = None,
        aws_trace_header: str | None = None,
    ) -> None:
        self.message_id = message_id
        self.body = body
        self.receipt_handle = receipt_handle
        self.message_attributes = message_attributes or {}
        self.receive_count = receive_count
        self.sent_timestamp = sent_timestamp
        self.first_receive_timestamp = first_receive_timestamp
        self.sender_id = sender_id
        self.message_group_id = message_group_id
        self.message_deduplication_id = message_deduplication_id
        self.sequence_number = sequence_number
        self.dead_letter_queue_source_arn = dead_letter_queue_source_arn
        self.aws_trace_header = aws_trace_header
        self._md5: str | None = None

    @property
    def md5_of_body(self) -> str:
        """``MD5OfBody``: hex MD5 of the UTF-8 body (computed on first use)."""
        if self._md5 is None:
            self._md5 = md5_of_body(self.body)
        return self._md5

    @property
    def md5_of_message_attributes(self) -> str | None:
        """``MD5OfMessageAttributes``, or ``None`` without attributes."""
        return md5_of_attributes(self.message_attributes)

    @property
    def attributes(self) -> dict[str, str]:
        """The system attributes by their AWS names, values as strings (as SQS returns them)."""
        out = {
            "SenderId": self.sender_id,
            "SentTimestamp": str(self.sent_timestamp),
            "ApproximateReceiveCount": str(self.receive_count),
            "ApproximateFirstReceiveTimestamp": str(self.first_receive_timestamp),
        }
        if self.message_group_id is not None:
            out["MessageGroupId"] = self.message_group_id
        if self.message_deduplication_id is not None:
            out["MessageDeduplicationId"] = self.message_deduplication_id
        if self.sequence_number is not None:
            out["SequenceNumber"] = self.sequence_number
        if self.dead_letter_queue_source_arn is not None:
            out["DeadLetterQueueSourceArn"] = self.dead_letter_queue_source_arn
        if self.aws_trace_header is not None:
            out["AWSTraceHeader"] = self.aws_trace_header
        return out

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 40 else self.body[:37] + "..."
        return (
            f"Message(message_id={self.message_id!r}, body={body!r}, "
            f"receive_count={self.receive_count})"
        )


def _none() -> None:
    return None


def _unset_default(name: str, default: Callable[[], Any]) -> property:
    """A property over ``Message``'s slot ``name`` that reads ``default()`` (stored) while the
    slot is unset."""
    slot = Message.__dict__[name]

    def get(self: Message) -> Any:
        try:
            return slot.__get__(self)
        except AttributeError:
            value = default()
            slot.__set__(self, value)
            return value

    def set_(self: Message, value: Any) -> None:
        slot.__set__(self, value)

    return property(get, set_)


class _PlainMessage(Message):
    """A :class:`Message` of a message sent with only a body (a standard queue's plain send),
    as a receive builds it: the fields such a message leaves empty (no attributes, no FIFO or
    dead-letter fields, no trace header) are not set one by one but read as their defaults
    until set. Behaves as ``Message`` in every other way."""

    __slots__ = ()
    # ``_PlainMessage()`` makes a bare instance for the receive to fill (a cheaper call than
    # ``object.__new__``).
    __init__ = object.__init__

    message_attributes = _unset_default("message_attributes", dict)
    message_group_id = _unset_default("message_group_id", _none)
    message_deduplication_id = _unset_default("message_deduplication_id", _none)
    sequence_number = _unset_default("sequence_number", _none)
    dead_letter_queue_source_arn = _unset_default("dead_letter_queue_source_arn", _none)
    aws_trace_header = _unset_default("aws_trace_header", _none)
    _md5 = _unset_default("_md5", _none)


# --- JSON from users, parsed with a bounded depth ----------------------------------------------

#: How deeply objects and arrays may nest in JSON a user hands us (a body a filter reads, a
#: filter policy, ``MessageStructure``, a String.Array attribute, a queue or topic policy).
#: A 256 KB body can nest 128,000 levels; AWS's JSON parsers stop far sooner: Jackson, which SNS
#: uses, refuses more than 1,000 by default (``StreamReadConstraints.maxNestingDepth``, since
#: 2.15). Python's ``json`` recurses once per level against a recursion limit of 1,000 frames,
#: shared with its caller's stack, so we stop at 500: every document within it parses from any
#: call site, and one nested deeper is refused the same way everywhere.
MAX_JSON_DEPTH = 500

# A JSON string, escapes included (brackets inside strings do not nest), and what is not a bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
# An opening bracket counts 2, a closing one 0: after k brackets the running sum less k is the
# depth, so the deepest point is found by C-level iteration (accumulate, map, max).
_BRACKET_WEIGHTS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class JsonTooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_JSON_DEPTH` (a ``ValueError``, as a malformed
    document is: callers that treat unparsable JSON as "no match" or refuse it need no other
    branch)."""


def _json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays in ``text`` nest deeper than ``limit``. O(len(text)), and a
    C-speed count for any text with at most ``limit`` brackets (nearly every document)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    weights = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text)).encode().translate(
        _BRACKET_WEIGHTS
    )
    return max(map(operator.sub, itertools.accumulate(weights), itertools.count(1)),
               default=0) > limit


def loads_json(text: str | bytes | bytearray, **options: Any) -> Any:
    """``json.loads`` that refuses a document nested deeper than :data:`MAX_JSON_DEPTH`.

    Raises:
        JsonTooDeep: too deep (checked before parsing; a ``ValueError``).
        ValueError: not JSON (``json.JSONDecodeError``, as ``json.loads`` raises).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    if _json_depth_exceeds(text):
        raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, **options)
    except RecursionError:  # a caller already deep in its own stack
        raise JsonTooDeep(f"JSON nested too deeply to parse here ({MAX_JSON_DEPTH} at most)") \
            from None


def dumps_json(value: Any, **options: Any) -> str:
    """``json.dumps`` of a caller's value, refusing one nested deeper than
    :data:`MAX_JSON_DEPTH` with :class:`JsonTooDeep` (``json.dumps`` would recurse until
    ``RecursionError``). Raises ``TypeError``/``ValueError`` as ``json.dumps`` does."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
    try:
        return json.dumps(value, **options)
    except RecursionError:  # a caller already deep in its own stack
        raise JsonTooDeep(f"JSON nested too deeply to write here ({MAX_JSON_DEPTH} at most)") \
            from None


def error_entry(entry_id: str, error: DecouplingError) -> dict[str, Any]:
    """A batch result's failed entry, shaped as AWS writes it."""
    return {
        "Id": entry_id,
        "Code": error.code,
        "Message": error.message,
        "SenderFault": error.sender_fault,
    }
