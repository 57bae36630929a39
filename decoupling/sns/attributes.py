"""SNS message attributes: validation, sizes, and the JSON shapes SNS writes them in.

Rules (SNS Developer Guide, "Amazon SNS message attributes"; error texts as SNS returns them,
code ``ParameterValueInvalid``): any number of attributes (the 10 limit is SQS's); names of up
to 256 bytes of ``A-Za-z0-9_-.``, no leading, trailing or consecutive periods, not starting with
``AWS.`` or ``Amazon.`` (except SNS's reserved ``AWS.SNS.`` and ``AWS.MM.`` names); ``DataType``
``String``, ``String.Array`` (meant to be a JSON array of strings, numbers, booleans or nulls;
any text is taken, as SNS takes it), ``Number`` (within 10^-128 to 10^+126) or ``Binary``,
optionally with a custom ``.label``; values non-empty.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring as _encode_str
from typing import Any

from ..errors import DecouplingError, ParameterValueInvalid
from ..message import MessageAttributeValue, coerce_attribute, dumps_json, validate_body

__all__ = [
    "MAX_ATTRIBUTES",
    "normalize_sns_attributes",
    "attributes_size",
    "attributes_json",
    "attributes_dict",
    "plain_value",
]

#: Publish attributes that take the plain fast path at most (``message.plain_attributes``).
#: Not a limit: SNS ``Publish`` takes any number of message attributes (within the message
#: size); the 10-attribute limit is SQS's, and applies where a raw-delivery SQS subscription
#: hands them to a queue (``decoupling.sns.delivery.SqsSink``).
MAX_ATTRIBUTES = 10
#: Attribute names SNS itself defines for SMS and mobile push (``AWS.SNS.SMS.SenderID``,
#: ``AWS.MM.SMS.OriginationNumber``, ``AWS.SNS.MOBILE.APNS.PUSH_TYPE``, ...: "Amazon SNS message
#: attributes", reserved message attributes): publishers may send these.
RESERVED_PREFIXES = ("AWS.SNS.", "AWS.MM.")
_ATTR_NAME_CHARS = re.compile(r"[A-Za-z0-9_\-.]*")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\.[\x20-\x7e]{1,256})?")


def _dumps(value: Any) -> str:
    if type(value) is str:
        return _encode_str(value)
    return json.dumps(value, ensure_ascii=False)


#: Attribute names already found valid (bounded; a hit skips the checks below).
_GOOD_NAMES: set[str] = set()
_GOOD_NAMES_MAX = 4096


def _attribute_name(name: object) -> str:
    if name in _GOOD_NAMES:
        return name
    _check_name(name)
    assert isinstance(name, str)
    if len(_GOOD_NAMES) >= _GOOD_NAMES_MAX:
        _GOOD_NAMES.clear()
    _GOOD_NAMES.add(name)
    return name


def _check_name(name: object) -> None:
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
    if name.lower().startswith(("aws.", "amazon.")) and not name.startswith(RESERVED_PREFIXES):
        raise ParameterValueInvalid(
            f"The message attribute name '{name}' must not start with 'AWS.' or 'Amazon.'."
        )


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


_STRING = "String"
_NUMBER = "Number"


def plain_value(raw: object) -> tuple[str, str] | None:
    """``(DataType, text)`` of a plain attribute value that needs no further checks — a
    printable ASCII ``str`` (String) or an ``int`` of at most 39 characters (Number) — or
    ``None`` for anything else (it takes the full checks)."""
    kind = type(raw)
    if kind is str:
        assert isinstance(raw, str)
        if raw and raw.isascii() and raw.isprintable():
            return _STRING, raw
    elif kind is int:
        text = str(raw)
        if len(text) <= 39:  # at most 38 digits (and a sign): within SNS's Number range
            return _NUMBER, text
    return None


def _one_attribute(name: str, raw: object) -> MessageAttributeValue:
    plain = plain_value(raw)  # the common values; anything unusual takes the full checks
    if plain is not None:
        return MessageAttributeValue(*plain)
    return _full_attribute(name, raw)


def _array_error(name: str) -> ParameterValueInvalid:
    return ParameterValueInvalid(
        f"The message attribute '{name}' of type 'String.Array' must be a JSON array of "
        "strings, numbers, booleans or nulls."
    )


def _full_attribute(name: str, raw: object) -> MessageAttributeValue:
    def array_json(values: list[Any]) -> str:
        try:  # bounded: a list nested 100,000 deep is refused, not a RecursionError
            return dumps_json(values, ensure_ascii=False)
        except (TypeError, ValueError):
            raise _array_error(name) from None

    attr = coerce_attribute(
        name, raw, ParameterValueInvalid, label="The message attribute", array=array_json
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
    # A String.Array value is not checked to be a JSON array: nothing AWS documents or was
    # recorded doing refuses one that is not (moto, whose tests say "this is the correct
    # behavior from SNS", takes ``"100"`` and ``"one hundred"``). A filter policy reads a JSON
    # scalar as one value and anything else that is not an array as no value
    # (``filter_policy._item_values``).
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
    return {_attribute_name(n): _one_attribute(n, v) for n, v in attributes.items()}


def attributes_size(attributes: Mapping[str, MessageAttributeValue] | None) -> int:
    size = 0
    if attributes:
        for name, attr in attributes.items():
            size += len(name.encode()) + len(attr.data_type.encode())
            if attr.binary_value is not None:
                size += len(attr.binary_value)
            elif attr.string_value is not None:
                size += len(attr.string_value.encode("utf-8", "surrogatepass"))
    return size


def attributes_json(attributes: Mapping[str, MessageAttributeValue]) -> str:
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
