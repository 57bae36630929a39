"""Message bodies, attributes, sizes and MD5 digests (the SQS rules in decoupling.message)."""

from __future__ import annotations

import hashlib
import struct
from decimal import Decimal

import pytest

from decoupling import errors
from decoupling.message import (
    Message,
    MessageAttributeValue,
    error_entry,
    md5_of_attributes,
    md5_of_body,
    message_size,
    normalize_attributes,
    validate_body,
)

# -- bodies -------------------------------------------------------------------------------------

ALLOWED_BODIES = [
    "a",
    "\t\n\r",
    " ",
    "\x7f",  # DEL is within #x20-#xD7FF
    "\ud7ff",
    "\ue000",
    "\ufffd",
    "\U00010000",
    "\U0010ffff",
    "héllo wörld 🎉",
    "x" * 100_000,
]

FORBIDDEN_BODIES = [
    ("\x00", 0),
    ("ok\x08", 2),
    ("\x0b", 0),
    ("\x0c", 0),
    ("\x1f", 0),
    ("lone \ud800 surrogate", 5),
    ("\udfff", 0),
    ("\ufffe", 0),
    ("\uffff", 0),
    ("Invalid-\x00-\x08-\x13-\uffff", 8),
]


@pytest.mark.parametrize("body", ALLOWED_BODIES)
def test_allowed_bodies(body: str) -> None:
    assert validate_body(body) is body


@pytest.mark.parametrize(("body", "position"), FORBIDDEN_BODIES)
def test_forbidden_characters(body: str, position: int) -> None:
    with pytest.raises(errors.InvalidMessageContents) as info:
        validate_body(body)
    assert info.value.code == "InvalidMessageContents"
    assert f"at position {position}." in info.value.message
    assert f"U+{ord(body[position]):04X}" in info.value.message


def test_empty_body_is_a_missing_parameter() -> None:
    with pytest.raises(errors.MissingParameter) as info:
        validate_body("")
    assert info.value.code == "MissingParameter"
    assert info.value.message == "The request must contain the parameter MessageBody."


@pytest.mark.parametrize("body", [None, b"bytes", 5, ["a"]])
def test_non_str_body(body: object) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="must be a str"):
        validate_body(body)


# -- MD5 ----------------------------------------------------------------------------------------

# Digests SQS returned (AWS-validated snapshots in LocalStack's tests/aws/services/sqs).
BODY_VECTORS = [
    ("message-1", "3d6b824fd8c1520e9a047d21fee6fb1f"),
    ("message-2", "95ef155b66299d14edf7ed57c468c13b"),
    ("message", "78e731027d8fd50ed642340b7c9a63b3"),
    ("test", "098f6bcd4621d373cade4e832627b4f6"),
    ("a", "0cc175b9c0f1b6a831c399e269772661"),
]


@pytest.mark.parametrize(("body", "digest"), BODY_VECTORS)
def test_md5_of_body_known_values(body: str, digest: str) -> None:
    assert md5_of_body(body) == digest


def test_md5_of_body_is_over_utf8() -> None:
    assert md5_of_body("héllo 🎉") == hashlib.md5("héllo 🎉".encode()).hexdigest()


ATTRIBUTE_VECTORS = [
    ({"MyAttribute": {"DataType": "String", "StringValue": "foobar"}},
     "adb59cd4678ea5a855436b949cd07ab6"),
    ({"k": {"DataType": "String", "StringValue": "x"}}, "a45daa70926828a2f0a1db3418e6feb4"),
    ({"attr1": {"DataType": "Binary", "BinaryValue":
                b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"}},
     "8cbe4db156db8a94db8b801b7addb984"),
    # The same algorithm gives MD5OfMessageSystemAttributes for an AWSTraceHeader.
    ({"AWSTraceHeader": {"DataType": "String", "StringValue":
                         "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}},
     "5ae4d5d7636402d80f4eb6d213245a88"),
]


@pytest.mark.parametrize(("attributes", "digest"), ATTRIBUTE_VECTORS)
def test_md5_of_attributes_known_values(attributes: dict[str, object], digest: str) -> None:
    assert md5_of_attributes(normalize_attributes(attributes)) == digest  # type: ignore[arg-type]


def _reference_md5(attributes: dict[str, tuple[str, str | bytes]]) -> str:
    """The documented algorithm, written out independently of the library."""
    out = b""
    for name in sorted(attributes):
        data_type, value = attributes[name]
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        out += struct.pack(">I", len(name.encode())) + name.encode()
        out += struct.pack(">I", len(data_type.encode())) + data_type.encode()
        out += bytes([2 if isinstance(value, bytes) else 1])
        out += struct.pack(">I", len(raw)) + raw
    return hashlib.md5(out).hexdigest()


def test_md5_of_attributes_sorts_names_and_covers_every_type() -> None:
    given = {
        "zeta": "last",
        "Alpha": 42,
        "beta.x": Decimal("-1.50"),
        "blob": b"\x00\x01\xff",
        "custom": MessageAttributeValue("Number.float", "3.25"),
        "ünïcode": "välue",
    }
    expected = {
        "zeta": ("String", "last"),
        "Alpha": ("Number", "42"),
        "beta.x": ("Number", "-1.50"),
        "blob": ("Binary", b"\x00\x01\xff"),
        "custom": ("Number.float", "3.25"),
        "ünïcode": ("String", "välue"),
    }
    assert md5_of_attributes(normalize_attributes(given)) == _reference_md5(expected)


def test_md5_of_no_attributes_is_none() -> None:
    assert md5_of_attributes(None) is None
    assert md5_of_attributes({}) is None


# -- attribute values ---------------------------------------------------------------------------


def test_python_values_become_typed_attributes() -> None:
    got = normalize_attributes({
        "s": "text",
        "i": 7,
        "f": 1.5,
        "d": Decimal("1e10"),
        "b": b"\x01",
        "ba": bytearray(b"\x02"),
        "aws": {"DataType": "String.json", "StringValue": "{}"},
        "ready": MessageAttributeValue("Binary.gif", None, b"GIF"),
    })
    assert got == {
        "s": MessageAttributeValue("String", "text"),
        "i": MessageAttributeValue("Number", "7"),
        "f": MessageAttributeValue("Number", "1.5"),
        "d": MessageAttributeValue("Number", "1E+10"),
        "b": MessageAttributeValue("Binary", None, b"\x01"),
        "ba": MessageAttributeValue("Binary", None, b"\x02"),
        "aws": MessageAttributeValue("String.json", "{}"),
        "ready": MessageAttributeValue("Binary.gif", None, b"GIF"),
    }
    assert got is not None
    assert got["s"].to_aws() == {"DataType": "String", "StringValue": "text"}
    assert got["b"].to_aws() == {"DataType": "Binary", "BinaryValue": b"\x01"}
    assert (got["ready"].base_type, got["ready"].value) == ("Binary", b"GIF")
    assert got["aws"].base_type == "String"


@pytest.mark.parametrize("empty", [None, {}])
def test_no_attributes(empty: object) -> None:
    assert normalize_attributes(empty) is None  # type: ignore[arg-type]


def test_ten_attributes_are_allowed_eleven_are_not() -> None:
    ten = {f"a{i}": "v" for i in range(10)}
    assert normalize_attributes(ten) is not None
    with pytest.raises(errors.InvalidParameterValue) as info:
        normalize_attributes({**ten, "a10": "v"})
    assert info.value.message == (
        "Number of message attributes [11] exceeds the allowed maximum [10]."
    )


VALID_NAMES = ["a", "A.b-c_d", "attr.1øßä", "x" * 256, "AWSTraceHeader", "awsome", "amazon_"]
INVALID_NAMES = [
    "", "x" * 257, "AWS.x", "aws.x", "aWs.x", "Amazon.x", "AMAZON.x", ".x", "x.", "a..b",
    "a b", "a!b", 'a"b', "a§b", "a(b", "a?b", "a/b", "a:b",
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_attribute_names(name: str) -> None:
    assert normalize_attributes({name: "v"}) == {name: MessageAttributeValue("String", "v")}


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_attribute_names(name: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        normalize_attributes({name: "v"})
    assert info.value.code == "InvalidParameterValue"


VALID_TYPES = ["String", "Number", "Binary", "String.custom", "Number.float", "Binary.gif",
               "String.with space", "Number." + "L" * 249]
INVALID_TYPES = ["string", "Int", "", "String.", "Number." + "L" * 250, "Strings", "Binary.\x00"]


@pytest.mark.parametrize("data_type", VALID_TYPES)
def test_valid_data_types(data_type: str) -> None:
    value: dict[str, object] = {"DataType": data_type}
    if data_type.startswith("Binary"):
        value["BinaryValue"] = b"x"
    else:
        value["StringValue"] = "1"
    got = normalize_attributes({"n": value})
    assert got is not None and got["n"].data_type == data_type


@pytest.mark.parametrize("data_type", INVALID_TYPES)
def test_invalid_data_types(data_type: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        normalize_attributes({"n": {"DataType": data_type, "StringValue": "1"}})
    if data_type.partition(".")[0] in ("String", "Number", "Binary"):
        assert "has an invalid DataType" in info.value.message
    else:
        assert info.value.message == (
            "The message attribute 'n' has an invalid message attribute type, the set of "
            "supported type prefixes is Binary, Number, and String."
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"DataType": "String", "StringValue": ""},
         "Message (user) attribute 'n' must contain a non-empty value of type 'String'."),
        ({"DataType": "Number", "StringValue": ""},
         "Message (user) attribute 'n' must contain a non-empty value of type 'Number'."),
        ({"DataType": "Binary", "BinaryValue": b""},
         "Message (user) attribute 'n' must contain a non-empty value of type 'Binary'."),
    ],
)
def test_empty_values(value: dict[str, object], message: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        normalize_attributes({"n": value})
    assert info.value.message == message


@pytest.mark.parametrize(
    "value",
    [
        {"DataType": "Binary", "StringValue": "x"},
        {"DataType": "String", "BinaryValue": b"x"},
        {"DataType": "String", "StringValue": 5},
        {"DataType": "Binary", "BinaryValue": "x"},
        {"StringValue": "x"},
        True,
        None,
        ["x"],
    ],
)
def test_mistyped_values(value: object) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        normalize_attributes({"n": value})  # type: ignore[dict-item]


def test_string_values_follow_the_body_character_rules() -> None:
    # SQS answers InvalidParameterValue here (not InvalidMessageContents as for bodies).
    with pytest.raises(errors.InvalidParameterValue, match="outside the allowed set"):
        normalize_attributes({"n": f"Invalid-{chr(8)},{chr(11)}"})
    assert normalize_attributes({"n": "tab\there 🎉"}) is not None


def test_attributes_must_be_a_mapping() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="mapping"):
        normalize_attributes([("a", "b")])  # type: ignore[arg-type]


# -- Number values ------------------------------------------------------------------------------

VALID_NUMBERS = [
    "0", "-1", "+1", "1.5", ".5", "5.", "1e5", "1E-5", "0.000", "1" * 38, "-" + "9" * 38,
    "1" * 38 + "000", "0.00" + "1" * 38, "1e126", "-1e126", "1e-128", "9.99e125",
]
INVALID_NUMBERS = [
    "1" * 39, "1." + "1" * 38, "abc", "1_000", " 1", "1 ", "NaN", "Infinity", "-inf", "1e127",
    "1.1e126", "1e-129", "0x10", "1,5", "--1", "1e", "e5", ".",
]


@pytest.mark.parametrize("number", VALID_NUMBERS)
def test_valid_numbers(number: str) -> None:
    got = normalize_attributes({"n": {"DataType": "Number", "StringValue": number}})
    assert got == {"n": MessageAttributeValue("Number", number)}


@pytest.mark.parametrize("number", INVALID_NUMBERS)
def test_invalid_numbers(number: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        normalize_attributes({"n": {"DataType": "Number", "StringValue": number}})


def test_number_custom_type_is_checked_as_a_number() -> None:
    with pytest.raises(errors.InvalidParameterValue):
        normalize_attributes({"n": {"DataType": "Number.int", "StringValue": "seven"}})


# -- sizes --------------------------------------------------------------------------------------


def test_message_size_counts_body_and_attribute_names_types_and_values() -> None:
    attributes = normalize_attributes({
        "k": "x",  # 1 + 6 ("String") + 1
        "né": MessageAttributeValue("Number.int", "12"),  # 3 + 10 + 2
        "b": b"\x00\x01\x02",  # 1 + 6 ("Binary") + 3
    })
    assert message_size("héllo", attributes) == 6 + 8 + 15 + 10
    assert message_size("abc", None) == 3
    assert message_size("🎉", None) == 4


# -- Message and batch entries ------------------------------------------------------------------


def test_message_snapshot_attributes_and_digests() -> None:
    attrs = normalize_attributes({"MyAttribute": "foobar"})
    message = Message(
        "id-1", "message-1", "rh", attrs, 2, 1_767_225_600_000, 1_767_225_600_500, "000000000000",
        message_group_id="tenant", dead_letter_queue_source_arn="arn:aws:sqs:us-east-1:0:q",
        aws_trace_header="Root=1",
    )
    assert message.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": "1767225600000",
        "ApproximateReceiveCount": "2",
        "ApproximateFirstReceiveTimestamp": "1767225600500",
        "MessageGroupId": "tenant",
        "DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:0:q",
        "AWSTraceHeader": "Root=1",
    }
    assert message.md5_of_body == "3d6b824fd8c1520e9a047d21fee6fb1f"
    assert message.md5_of_message_attributes == "adb59cd4678ea5a855436b949cd07ab6"
    assert repr(message) == "Message(message_id='id-1', body='message-1', receive_count=2)"
    plain = Message("id-2", "b" * 50, "rh", None, 1, 0, 0, "s")
    assert plain.message_attributes == {} and plain.md5_of_message_attributes is None
    assert repr(plain) == f"Message(message_id='id-2', body='{'b' * 37}...', receive_count=1)"


def test_error_entry_shape() -> None:
    error = errors.ReceiptHandleIsInvalid("bad handle")
    assert error_entry("7", error) == {
        "Id": "7", "Code": "ReceiptHandleIsInvalid", "Message": "bad handle", "SenderFault": True,
    }
