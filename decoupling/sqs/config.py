"""Queue attributes: names, ranges, defaults, and the redrive policies.

Values follow the CreateQueue and SetQueueAttributes API reference
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html).
``MaximumMessageSize`` follows the August 2025 change that raised the ceiling to 1 MiB and made
it the default for new queues.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import InvalidAttributeName, InvalidAttributeValue
from ..message import dumps_json, loads_json

if TYPE_CHECKING:
    from .queue import Queue

__all__ = [
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "INTEGER_ATTRIBUTES",
    "FIFO_ONLY_ATTRIBUTES",
    "READ_ONLY_ATTRIBUTES",
    "QUEUE_NAME",
]

QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")

#: Writable integer attributes: (minimum, maximum, default). Units: seconds, except
#: ``MaximumMessageSize`` in bytes.
INTEGER_ATTRIBUTES: dict[str, tuple[int, int, int]] = {
    "VisibilityTimeout": (0, 43_200, 30),
    "MessageRetentionPeriod": (60, 1_209_600, 345_600),
    "DelaySeconds": (0, 900, 0),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
    "MaximumMessageSize": (1_024, 1_048_576, 1_048_576),
}

#: Attributes only FIFO queues accept.
FIFO_ONLY_ATTRIBUTES = frozenset(
    {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)

#: Attributes that can be read but not written.
READ_ONLY_ATTRIBUTES = frozenset(
    {
        "QueueArn",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    }
)

#: Writable attributes we accept and keep as given, without rules of their own.
OPAQUE_ATTRIBUTES = frozenset(
    {"Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"}
)


def parse_int_attribute(name: str, value: object) -> int:
    """Parse and range-check one integer attribute. Raises ``InvalidAttributeValue``.

    A string is ASCII digits with an optional minus and nothing else: SQS refuses ``" 30"``
    (``InvalidAttributeValue``) as it refuses ``"30s"``.
    """
    low, high, _ = INTEGER_ATTRIBUTES[name]
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value):
        number = int(value)
    else:
        number = None
    if number is None or not low <= number <= high:
        raise InvalidAttributeValue(
            f"Invalid value for the parameter {name}: {value}. "
            f"It must be an integer from {low} to {high}."
        )
    return number


@attrs.frozen(init=False)  # our __init__ takes a Queue or an ARN (the attrs mypy plugin needs it said)
class RedrivePolicy:
    """Where messages go after too many receives (``RedrivePolicy``).

    Args:
        dead_letter_queue: the dead-letter queue, as a :class:`~decoupling.Queue` or its ARN.
        max_receive_count: receives allowed before the next one moves the message to the
            dead-letter queue instead (1-1000).
    """

    dead_letter_target_arn: str
    max_receive_count: int

    def __init__(self, dead_letter_queue: Queue | str, max_receive_count: int) -> None:
        arn = dead_letter_queue if isinstance(dead_letter_queue, str) else getattr(
            dead_letter_queue, "arn", None
        )
        if not isinstance(arn, str):
            raise InvalidAttributeValue(
                f"Value {dead_letter_queue!r} for parameter RedrivePolicy is invalid. Reason: "
                "the dead-letter queue must be a Queue or a queue ARN."
            )
        if isinstance(max_receive_count, bool) or not isinstance(max_receive_count, int):
            raise InvalidAttributeValue(
                f"Value {max_receive_count!r} for parameter RedrivePolicy is invalid. Reason: "
                "maxReceiveCount must be an integer from 1 to 1000."
            )
        if not 1 <= max_receive_count <= 1000:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Invalid value for "
                f"maxReceiveCount: {max_receive_count}, valid values are from 1 to 1000 both "
                "inclusive."
            )
        self.__attrs_init__(arn, max_receive_count)

    @classmethod
    def parse(cls, value: object) -> RedrivePolicy | None:
        """From the AWS JSON form (``str`` or ``dict``), a :class:`RedrivePolicy`, or ``None``/``""``."""
        if value is None or value == "" or isinstance(value, RedrivePolicy):
            return value or None  # type: ignore[return-value]
        data = _json_object("RedrivePolicy", value)
        unknown = set(data) - {"deadLetterTargetArn", "maxReceiveCount"}
        if unknown or "deadLetterTargetArn" not in data or "maxReceiveCount" not in data:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Redrive policy must "
                "have exactly deadLetterTargetArn and maxReceiveCount."
            )
        count = data["maxReceiveCount"]
        if isinstance(count, str) and re.fullmatch(r"[0-9]{1,12}", count.strip()):
            count = int(count)  # ASCII digits only: "²".isdigit() is true, int("²") fails
        target = data["deadLetterTargetArn"]
        if not isinstance(target, str) or not re.match(r"arn:aws[a-z-]*:sqs:", target):
            raise InvalidAttributeValue(
                f"Value for parameter RedrivePolicy is invalid. Reason: Invalid "
                f"deadLetterTargetArn {target!r}."
            )
        return cls(target, count)

    def to_json(self) -> str:
        """The AWS attribute value."""
        return json.dumps(
            {"deadLetterTargetArn": self.dead_letter_target_arn,
             "maxReceiveCount": self.max_receive_count},
            separators=(",", ":"),
        )


_PERMISSIONS = ("allowAll", "denyAll", "byQueue")


@attrs.frozen
class RedriveAllowPolicy:
    """Which source queues may use this queue as their dead-letter queue (``RedriveAllowPolicy``).

    Args:
        redrive_permission: ``"allowAll"`` (default), ``"denyAll"`` or ``"byQueue"``.
        source_queue_arns: with ``"byQueue"``, 1-10 source queue ARNs allowed.
    """

    redrive_permission: str = "allowAll"
    source_queue_arns: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.redrive_permission not in _PERMISSIONS:
            raise InvalidAttributeValue(
                "Value for parameter RedriveAllowPolicy is invalid. Reason: redrivePermission "
                f"must be one of {', '.join(_PERMISSIONS)}, got {self.redrive_permission!r}."
            )
        arns = self.source_queue_arns
        if not isinstance(arns, (tuple, list)) or not all(isinstance(a, str) for a in arns):
            raise InvalidAttributeValue(
                "Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns "
                f"must be a list of ARNs, got {arns!r}."
            )
        if self.redrive_permission == "byQueue":
            if not 1 <= len(arns) <= 10:
                raise InvalidAttributeValue(
                    "Value for parameter RedriveAllowPolicy is invalid. Reason: byQueue needs "
                    f"1 to 10 sourceQueueArns, got {len(arns)}."
                )
        elif arns:
            raise InvalidAttributeValue(
                "Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns is "
                "allowed only with redrivePermission byQueue."
            )

    def allows(self, source_arn: str) -> bool:
        """Whether a queue with ARN ``source_arn`` may send dead letters here."""
        if self.redrive_permission == "allowAll":
            return True
        if self.redrive_permission == "denyAll":
            return False
        return source_arn in self.source_queue_arns

    @classmethod
    def parse(cls, value: object) -> RedriveAllowPolicy | None:
        """From the AWS JSON form, a :class:`RedriveAllowPolicy`, or ``None``."""
        if value is None or value == "" or isinstance(value, RedriveAllowPolicy):
            return value or None  # type: ignore[return-value]
        data = _json_object("RedriveAllowPolicy", value)
        unknown = set(data) - {"redrivePermission", "sourceQueueArns"}
        if unknown:
            raise InvalidAttributeValue(
                "Value for parameter RedriveAllowPolicy is invalid. Reason: unknown keys "
                f"{sorted(map(str, unknown))}."
            )
        arns = data.get("sourceQueueArns", [])
        if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
            raise InvalidAttributeValue(
                "Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns "
                "must be a list of ARNs."
            )
        return cls(data.get("redrivePermission", "allowAll"), tuple(arns))

    def to_json(self) -> str:
        """The AWS attribute value."""
        data: dict[str, Any] = {"redrivePermission": self.redrive_permission}
        if self.source_queue_arns:
            data["sourceQueueArns"] = list(self.source_queue_arns)
        return json.dumps(data, separators=(",", ":"))


def _json_object(name: str, value: object) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            data = loads_json(value)
        except ValueError:  # not JSON, or nested deeper than MAX_JSON_DEPTH
            data = None
        if isinstance(data, dict):
            return data
    raise InvalidAttributeValue(
        f"Value {value!r} for parameter {name} is invalid. Reason: must be a JSON object."
    )


def parse_policy(value: object) -> str:
    """The ``Policy`` attribute: ``""`` (no policy) or the text of a JSON object, kept as given
    (a mapping is written as JSON).

    SQS parses the policy when it is set and answers ``InvalidAttributeValue`` with
    "Invalid value for the parameter Policy." when it cannot (SetQueueAttributes and
    CreateQueue). Its statements are not evaluated here: nothing in process is denied.
    """
    if value == "":
        return ""
    if isinstance(value, Mapping):
        try:
            value = dumps_json(value, separators=(",", ":"))
        except (TypeError, ValueError):
            value = None
    if isinstance(value, str):
        try:
            document = loads_json(value)
        except ValueError:  # not JSON, or nested deeper than MAX_JSON_DEPTH
            document = None
        if isinstance(document, dict):
            return value
    raise InvalidAttributeValue("Invalid value for the parameter Policy.")


def check_attribute_names(names: object, *, fifo: bool, writable: bool) -> None:
    """Raise ``InvalidAttributeName`` for a name the queue does not know."""
    if not isinstance(names, (list, tuple, set, frozenset, Mapping)):
        raise InvalidAttributeName("Attribute names must be a list of strings.")
    for name in names:
        known = (
            name in INTEGER_ATTRIBUTES
            or name in OPAQUE_ATTRIBUTES
            or name in ("RedrivePolicy", "RedriveAllowPolicy")
            or (fifo and name in FIFO_ONLY_ATTRIBUTES)
            or (not writable and (name in READ_ONLY_ATTRIBUTES or name == "All"))
        )
        if not known:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
