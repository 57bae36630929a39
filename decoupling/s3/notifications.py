"""S3 event notifications: configurations, their validation, event records and delivery.

A configuration sends the events it names (``s3:ObjectCreated:*``, ``s3:ObjectRemoved:Delete``,
...) for keys matching its prefix and suffix to a queue, a topic or a function. Shapes follow
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html and
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html.

Destinations are found through the loop's registry by ARN and called duck-typed (a queue's
``send``, a topic's ``publish``, a function's ``runtime.invoke(..., "Event")``), so this module
imports none of ``sqs``, ``sns`` or ``functions``.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import DecouplingError, InvalidArgument, MalformedXML

if TYPE_CHECKING:
    from ..loop import EventLoop

#: The event types this library emits, with the wildcards that cover them.
EVENT_TYPES = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
)
#: The key of each destination kind in S3's NotificationConfiguration shape.
_SHAPES = {
    "sqs": ("QueueConfigurations", "QueueArn"),
    "sns": ("TopicConfigurations", "TopicArn"),
    "lambda": ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
}
_OVERLAP = (
    "Configurations overlap. Configurations on the same bucket cannot share a common event type."
)


@attrs.frozen
class NotificationConfiguration:
    """One destination of a bucket's events.

    Attributes:
        id: the configuration's id (``configurationId`` in records).
        destination_arn: the queue, topic or function ARN.
        events: the event types, e.g. ``("s3:ObjectCreated:*",)``.
        prefix: keys must start with this (``""``: any key).
        suffix: keys must end with this (``""``: any key).
    """

    id: str
    destination_arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    @property
    def kind(self) -> str:
        """``"sqs"``, ``"sns"`` or ``"lambda"``: the destination's service."""
        return self.destination_arn.split(":")[2]

    def matches(self, event_name: str, key: str) -> bool:
        """Whether an event ``event_name`` (``"s3:ObjectCreated:Put"``) on ``key`` goes here."""
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)):
            return False
        family = event_name.rsplit(":", 1)[0] + ":*"
        return event_name in self.events or family in self.events

    def to_aws(self) -> dict[str, Any]:
        """This configuration in S3's shape (one entry of ``QueueConfigurations`` etc.)."""
        shape: dict[str, Any] = {
            "Id": self.id,
            _SHAPES[self.kind][1]: self.destination_arn,
            "Events": list(self.events),
        }
        rules = [{"Name": "Prefix", "Value": self.prefix}] if self.prefix else []
        rules += [{"Name": "Suffix", "Value": self.suffix}] if self.suffix else []
        if rules:
            shape["Filter"] = {"Key": {"FilterRules": rules}}
        return shape


def _events_overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    for x in a:
        for y in b:
            if x == y or (x.endswith(":*") and y.startswith(x[:-1])) or (
                y.endswith(":*") and x.startswith(y[:-1])
            ):
                return True
    return False


def check_overlaps(configs: Sequence[NotificationConfiguration]) -> None:
    """Refuse two configurations that could both fire for one event on one key.

    S3 refuses configurations sharing an event type unless their prefixes or their suffixes
    cannot both match a key (neither prefix starts the other, or neither suffix ends the other).

    Raises:
        InvalidArgument: "Configurations overlap. ..." as S3 words it.
    """
    for i, a in enumerate(configs):
        for b in configs[i + 1 :]:
            if not _events_overlap(a.events, b.events):
                continue
            prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
            suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
            if prefixes and suffixes:
                raise InvalidArgument(_OVERLAP)


def make_configuration(
    loop: EventLoop,
    destination_arn: str,
    events: Sequence[str],
    prefix: str = "",
    suffix: str = "",
    id: str | None = None,
) -> NotificationConfiguration:
    """A validated configuration: known events, an existing destination of this account.

    Raises:
        InvalidArgument: an unknown event type, no events, or a destination that does not exist.
    """
    if isinstance(events, str):
        events = [events]
    if not events:
        raise InvalidArgument("A notification configuration must name at least one event.")
    for event in events:
        if event not in EVENT_TYPES:
            raise InvalidArgument(f"The event is not supported for notifications: {event}")
    if resolve(loop, destination_arn) is None:
        raise InvalidArgument(
            "Unable to validate the following destination configurations: "
            f"{destination_arn} (no such destination)"
        )
    if destination_arn.split(":")[2] == "sqs" and destination_arn.endswith(".fifo"):
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
        raise InvalidArgument(
            "Unable to validate the following destination configurations: "
            f"{destination_arn} (a FIFO queue cannot be an S3 event notification destination)"
        )
    return NotificationConfiguration(
        id=id if id is not None else loop.new_id(),
        destination_arn=destination_arn,
        events=tuple(dict.fromkeys(events)),
        prefix=prefix,
        suffix=suffix,
    )


def resolve(loop: EventLoop, arn: str) -> Any:
    """The queue, topic or function an ARN of this loop names, or ``None``."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[4] != loop.account_id:
        return None
    kind = parts[2]
    if kind == "lambda":
        if len(parts) < 7 or parts[5] != "function":
            return None
        return loop._lookup("lambda", parts[6])
    if kind in ("sqs", "sns"):
        return loop._lookup(kind, parts[5])
    return None


def parse_configuration(
    loop: EventLoop, shape: Mapping[str, Any]
) -> list[NotificationConfiguration]:
    """Configurations from S3's ``NotificationConfiguration`` shape (as boto3 passes it).

    Raises:
        MalformedXML: an entry without its ARN or events, or a filter rule not named
            prefix or suffix.
        InvalidArgument: as :func:`make_configuration`.
    """
    found: list[NotificationConfiguration] = []
    for section, arn_key in _SHAPES.values():
        for entry in shape.get(section, ()) or ():
            arn, events = entry.get(arn_key), entry.get("Events")
            if not isinstance(arn, str) or not isinstance(events, (list, tuple)):
                raise MalformedXML(
                    "The XML you provided was not well-formed or did not validate against our "
                    "published schema"
                )
            prefix = suffix = ""
            for rule in entry.get("Filter", {}).get("Key", {}).get("FilterRules", ()):
                name = str(rule.get("Name", "")).lower()
                if name == "prefix":
                    prefix = str(rule.get("Value", ""))
                elif name == "suffix":
                    suffix = str(rule.get("Value", ""))
                else:
                    raise InvalidArgument(
                        "filter rule name must be either prefix or suffix"
                    )
            found.append(make_configuration(loop, arn, events, prefix, suffix, entry.get("Id")))
    return found


def iso_time(wall_ms: int) -> str:
    """S3's ``eventTime``: ISO 8601 in UTC with milliseconds, e.g. ``1970-01-01T00:00:00.000Z``."""
    seconds, ms = divmod(int(wall_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def encode_key(key: str) -> str:
    """A key as S3 writes it in records: URL-encoded, spaces as ``+``, ``/`` kept."""
    return urllib.parse.quote_plus(key, safe="/")


def event_record(
    loop: EventLoop,
    config: NotificationConfiguration,
    bucket: str,
    event_name: str,
    key: str,
    *,
    size: int | None,
    etag: str | None,
    version_id: str | None,
    sequencer: str,
    request_id: str,
    wall_ms: int,
) -> dict[str, Any]:
    """One ``Records`` entry in S3's event shape (``eventVersion`` 2.1).

    ``size`` and ``eTag`` (without quotes) appear for ObjectCreated events only; ``versionId``
    only on versioned buckets.
    """
    owner = {"principalId": f"AWS:{loop.account_id}"}
    obj: dict[str, Any] = {"key": encode_key(key)}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag.strip('"')
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": loop.region,
        "eventTime": iso_time(wall_ms),
        "eventName": event_name.removeprefix("s3:"),
        "userIdentity": owner,
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": request_id,
            "x-amz-id-2": request_id,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config.id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": owner,
                "arn": f"arn:{loop.partition}:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def test_event(bucket: str, request_id: str, wall_ms: int) -> dict[str, Any]:
    """The ``s3:TestEvent`` S3 sends when a configuration is set."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_time(wall_ms),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": request_id,
    }


def deliver(loop: EventLoop, arn: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to the destination ``arn`` names: a queue gets the JSON as a message
    body, a topic publishes it (Subject ``Amazon S3 Notification``), a function is invoked
    asynchronously with it. A destination deleted since is skipped, as S3 drops such events."""
    target = resolve(loop, arn)
    if target is None:
        return
    kind = arn.split(":")[2]
    body = json.dumps(payload, separators=(",", ":"))
    try:
        if kind == "sqs":
            target.send(body)
        elif kind == "sns":
            target.publish(body, subject="Amazon S3 Notification")
        else:
            target.runtime.invoke(target.name, payload, "Event")
    except DecouplingError:  # S3 drops an event its destination refuses
        return
