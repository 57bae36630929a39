"""Lambda event source mappings for the boto3 bridge (SQS sources), on
:class:`~decoupling.EventSourceMapping`.

``CreateEventSourceMapping`` answers 202 with ``State: "Creating"`` (the mapping polls at once;
``GetEventSourceMapping`` then reports ``Enabled``), ``UpdateEventSourceMapping`` and
``DeleteEventSourceMapping`` answer 202 with ``Updating`` / ``Deleting``, as Lambda does.
Parameters that apply to stream or Kafka sources are refused with
``InvalidParameterValueException``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from botocore.utils import parse_timestamp

from ..errors import InvalidParameterValueException, ResourceNotFoundException
from ..functions.event_sources import EventSourceMapping
from ..loop import EventLoop
from ._lambda import _function, runtime_for
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS"]

#: Parameters that only stream (Kinesis, DynamoDB), Kafka, MQ or DocumentDB sources take.
_NOT_FOR_SQS = (
    "StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor", "DestinationConfig",
    "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
    "TumblingWindowInSeconds", "Topics", "Queues", "SourceAccessConfigurations",
    "SelfManagedEventSource", "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig",
)


#: The tags of each mapping (CreateEventSourceMapping's ``Tags``, TagResource on the mapping's
#: ARN: https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html); gone with the mapping.
TAGS: WeakKeyDictionary[EventSourceMapping, dict[str, str]] = WeakKeyDictionary()


def _mapping(loop: EventLoop, uuid: str) -> EventSourceMapping:
    mapping = runtime_for(loop).event_source_mappings.get(uuid)
    if mapping is None:
        raise ResourceNotFoundException("The resource you requested does not exist.")
    return mapping


def _describe(loop: EventLoop, mapping: EventSourceMapping, state: str | None = None) -> dict[str, Any]:
    out = mapping.to_aws()
    out["LastModified"] = parse_timestamp(mapping._last_modified)
    if state is not None:
        out["State"] = state
    out["StateTransitionReason"] = "USER_INITIATED"
    out["EventSourceMappingArn"] = loop.arn("lambda", f"event-source-mapping:{mapping.uuid}")
    if isinstance(out.get("FilterCriteria"), list):
        out["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in out["FilterCriteria"]]}
    return out


def _settings(p: dict[str, Any]) -> dict[str, Any]:
    """EventSourceMapping keyword arguments from the API parameters given."""
    refused = [name for name in _NOT_FOR_SQS if name in p]
    if refused:
        raise InvalidParameterValueException(
            f"{', '.join(refused)} cannot be used with an SQS event source.")
    out: dict[str, Any] = {}
    if "BatchSize" in p:
        out["batch_size"] = p["BatchSize"]
    if "MaximumBatchingWindowInSeconds" in p:
        out["maximum_batching_window"] = p["MaximumBatchingWindowInSeconds"]
    if "FunctionResponseTypes" in p:
        types = p["FunctionResponseTypes"]
        if any(t != "ReportBatchItemFailures" for t in types):
            raise InvalidParameterValueException(
                f"FunctionResponseTypes may only hold ReportBatchItemFailures, got {types}.")
        out["report_batch_item_failures"] = bool(types)
    if "FilterCriteria" in p:
        out["filter_criteria"] = p["FilterCriteria"] if p["FilterCriteria"].get("Filters") else None
    if "ScalingConfig" in p:
        out["maximum_concurrency"] = p["ScalingConfig"].get("MaximumConcurrency")
    if "ProvisionedPollerConfig" in p:
        config = p["ProvisionedPollerConfig"]
        out["provisioned_pollers"] = (
            (config.get("MinimumPollers", 2), config.get("MaximumPollers", 200)) if config else None
        )
    if "Enabled" in p:
        out["enabled"] = p["Enabled"]
    return out


def create_event_source_mapping(loop: EventLoop, p: dict[str, Any]) -> Reply:
    arn = p.get("EventSourceArn")
    if not arn:
        raise InvalidParameterValueException("EventSourceArn is required for an SQS source.")
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise InvalidParameterValueException(
            f"decoupling maps SQS queues to functions; {arn} is not an SQS queue ARN.")
    queue = loop._lookup("sqs", parts[5]) if parts[4] == loop.account_id else None
    if queue is None or queue.arn != arn:
        raise InvalidParameterValueException(
            "Error occurred while ReceiveMessage. SQS Error Code: "
            "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue "
            "does not exist.")
    fn = _function(loop, p["FunctionName"])
    mapping = fn.runtime.add_event_source(queue, fn.name, **_settings(p))
    if p.get("Tags"):
        TAGS[mapping] = dict(p["Tags"])
    return Reply(_describe(loop, mapping, "Creating"), 202)


def get_event_source_mapping(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _describe(loop, _mapping(loop, p["UUID"]))


def list_event_source_mappings(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    mappings = list(runtime_for(loop).event_source_mappings.values())
    if "EventSourceArn" in p:
        mappings = [m for m in mappings if m.queue.arn == p["EventSourceArn"]]
    if "FunctionName" in p:
        name = _function(loop, p["FunctionName"]).name
        mappings = [m for m in mappings if m.function_name == name]
    page, next_marker = lambda_page(mappings, p, lambda m: m.uuid, 100)
    out: dict[str, Any] = {"EventSourceMappings": [_describe(loop, m) for m in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def update_event_source_mapping(loop: EventLoop, p: dict[str, Any]) -> Reply:
    mapping = _mapping(loop, p["UUID"])
    if "FunctionName" in p and _function(loop, p["FunctionName"]).name != mapping.function_name:
        raise InvalidParameterValueException(
            "decoupling cannot move an event source mapping to another function; delete it and "
            "create a new one.")
    mapping.update(**_settings(p))
    return Reply(_describe(loop, mapping, "Updating"), 202)


def delete_event_source_mapping(loop: EventLoop, p: dict[str, Any]) -> Reply:
    mapping = _mapping(loop, p["UUID"])
    mapping.delete()
    return Reply(_describe(loop, mapping, "Deleting"), 202)


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "CreateEventSourceMapping": create_event_source_mapping,
    "GetEventSourceMapping": get_event_source_mapping,
    "ListEventSourceMappings": list_event_source_mappings,
    "UpdateEventSourceMapping": update_event_source_mapping,
    "DeleteEventSourceMapping": delete_event_source_mapping,
}
