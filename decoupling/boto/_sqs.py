"""SQS operations for the boto3 bridge: botocore parameters in, the operation's output shape out.

Each function takes the loop and the parameters botocore validated (AWS names, Python values)
and returns the parsed response (without ``ResponseMetadata``), or raises a
:class:`~decoupling.errors.DecouplingError`. Shapes follow botocore's SQS service model
(``botocore/data/sqs/2012-11-05/service-2.json``); empty lists and maps are left out of a
response, as SQS leaves them out (``Messages`` of an empty receive, ``QueueUrls`` of an empty
listing), so ``response.get("Messages", [])`` works as it does against AWS.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import (
    InvalidParameterValue,
    MissingParameter,
    OverLimit,
    QueueDoesNotExist,
    ResourceNotFoundException,
)
from ..loop import EventLoop
from ..message import Message, MessageAttributeValue, md5_of_attributes
from ..sqs.move_tasks import cancel_message_move_task as _cancel_move_task
from ..sqs.queue import Queue

__all__ = ["OPERATIONS"]

_NO_QUEUE = "The specified queue does not exist."
#: The path of a queue URL: ``<12-digit account>/<name>``.
_ACCOUNT_AND_NAME = re.compile(r"[0-9]{12}/[^/]+")
_MAX_LIST = 1000


# -- lookups ------------------------------------------------------------------------------------


def _queue(loop: EventLoop, url: str) -> Queue:
    if url.startswith(("https://", "http://")) and not _ACCOUNT_AND_NAME.fullmatch(
        url.partition("//")[2].partition("/")[2]
    ):
        # A URL without the /<account>/<name> path names no queue at all: SQS answers
        # NonExistentQueue (400), not InvalidAddress (checked against AWS by moto's
        # test_get_queue_url_error_not_exists with "http://whatever-incorrect-queue-address").
        raise QueueDoesNotExist(_NO_QUEUE)
    queue = loop._lookup("sqs", loop.queue_name_from(url))
    if queue is None:
        raise QueueDoesNotExist(_NO_QUEUE)
    return queue  # type: ignore[no-any-return]


def _queue_by_arn(loop: EventLoop, arn: str, parameter: str) -> Queue:
    queue = loop._lookup("sqs", loop.queue_name_from(arn))
    if queue is None or queue.arn != arn:
        raise ResourceNotFoundException(
            f"The resource that you specified for the {parameter} parameter doesn't exist."
        )
    return queue  # type: ignore[no-any-return]


def _fifo_class() -> type[Queue]:
    """``decoupling.FifoQueue``, or a clear error while this version has none."""
    import decoupling

    cls = getattr(decoupling, "FifoQueue", None)
    if cls is None:
        raise NotImplementedError(
            "CreateQueue with FifoQueue=true needs decoupling.FifoQueue, which this version of "
            "decoupling does not have yet."
        )
    return cls  # type: ignore[no-any-return]


def _page(
    items: list[str], max_results: int | None, next_token: str | None
) -> tuple[list[str], str | None]:
    """One page of a listing sorted by name; tokens are opaque (base64 of the last item)."""
    if max_results is not None and not 1 <= max_results <= _MAX_LIST:
        raise InvalidParameterValue(
            f"Value {max_results} for parameter MaxResults is invalid. Reason: MaxResults must "
            f"be an integer between 1 and {_MAX_LIST}."
        )
    start = 0
    if next_token:
        try:
            after = base64.urlsafe_b64decode(next_token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidParameterValue("Invalid NextToken value.") from None
        start = next((i for i, item in enumerate(items) if item > after), len(items))
    limit = max_results or _MAX_LIST
    page = items[start : start + limit]
    more = max_results is not None and start + limit < len(items)
    token = base64.urlsafe_b64encode(page[-1].encode()).decode() if more and page else None
    return page, token


def _blob(value: Any) -> bytes:
    """A blob parameter as botocore accepts it (bytes, bytearray, str, file-like) as bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    data = value.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _message_attributes(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """MessageAttributes with blob values turned to bytes (the queue validates the rest)."""
    if not raw:
        return None
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, Mapping) and value.get("BinaryValue") is not None:
            value = dict(value)
            value["BinaryValue"] = _blob(value["BinaryValue"])
        out[name] = value
    return out


def _trace_header(system: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """``(AWSTraceHeader, MD5OfMessageSystemAttributes)`` from MessageSystemAttributes."""
    if not system:
        return None, None
    for name, value in system.items():
        if name != "AWSTraceHeader":
            raise InvalidParameterValue(
                f"Message system attribute name '{name}' is invalid; only AWSTraceHeader can "
                "be sent."
            )
        if value.get("DataType") != "String" or not isinstance(value.get("StringValue"), str):
            raise InvalidParameterValue(
                "Message system attribute AWSTraceHeader must have DataType String and a "
                "StringValue."
            )
    header: str = system["AWSTraceHeader"]["StringValue"]
    md5 = md5_of_attributes({"AWSTraceHeader": MessageAttributeValue("String", header)})
    return header, md5


# -- queues -------------------------------------------------------------------------------------


def create_queue(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    name = p["QueueName"]
    attributes = dict(p.get("Attributes") or {})
    fifo = attributes.get("FifoQueue")
    cls: type[Queue] = Queue
    if fifo is not None:
        flag = str(fifo).lower()
        if flag == "true":
            cls = _fifo_class()
        elif flag == "false":
            del attributes["FifoQueue"]
    tags = p.get("tags")
    with loop._lock:
        existed = loop._lookup("sqs", name) is not None
        queue = cls(loop, name, attributes=attributes or None)
        if tags and not existed:
            queue.tag(tags)
    return {"QueueUrl": queue.url}


def get_queue_url(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    owner = p.get("QueueOwnerAWSAccountId")
    queue = loop._lookup("sqs", p["QueueName"])
    if queue is None or (owner is not None and owner != loop.account_id):
        raise QueueDoesNotExist(_NO_QUEUE)
    return {"QueueUrl": queue.url}


def list_queues(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    prefix = p.get("QueueNamePrefix") or ""
    names = sorted(q.name for q in loop._resources_of("sqs") if q.name.startswith(prefix))
    page, token = _page(names, p.get("MaxResults"), p.get("NextToken"))
    out: dict[str, Any] = {}
    if page:
        out["QueueUrls"] = [loop.queue_url(name) for name in page]
    if token:
        out["NextToken"] = token
    return out


def delete_queue(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).delete_queue()
    return {}


def get_queue_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    values = _queue(loop, p["QueueUrl"]).get_attributes(p.get("AttributeNames") or ())
    return {"Attributes": values} if values else {}


def set_queue_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).set_attributes(p["Attributes"])
    return {}


def tag_queue(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).tag(p["Tags"])
    return {}


def untag_queue(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).untag(p["TagKeys"])
    return {}


def list_queue_tags(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    tags = _queue(loop, p["QueueUrl"]).list_tags()
    return {"Tags": tags} if tags else {}


def purge_queue(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).purge()
    return {}


def list_dead_letter_source_queues(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    sources = sorted(q.name for q in _queue(loop, p["QueueUrl"]).list_dead_letter_source_queues())
    page, token = _page(sources, p.get("MaxResults"), p.get("NextToken"))
    out: dict[str, Any] = {"queueUrls": [loop.queue_url(name) for name in page]}
    if token:
        out["NextToken"] = token
    return out


def _policy(queue: Queue) -> dict[str, Any]:
    text = queue.get_attributes(["Policy"]).get("Policy")
    if text:
        try:
            policy = json.loads(text)
        except ValueError:
            policy = None
        if isinstance(policy, dict) and isinstance(policy.get("Statement"), list):
            return policy
    return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}


#: The actions AddPermission may grant to another account; the rest are the queue owner's
#: (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html).
_SHAREABLE = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)
#: "An Amazon SQS policy can have a maximum of seven actions per statement." (AddPermission).
_MAX_ACTIONS = 7


def _one_or_list(values: list[str]) -> str | list[str]:
    """A policy value as SQS writes it: a single value as a string, several as a list."""
    return values[0] if len(values) == 1 else values


def add_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """AddPermission: a ``Sid``-labelled statement in the queue's ``Policy`` (not enforced).

    Checks in SQS's order, with its texts (as moto's ``test_add_permission_errors`` records
    them): no actions, no accounts, more than seven actions (``OverLimit``, 403), an action
    only the owner may call, a label already used.
    """
    queue = _queue(loop, p["QueueUrl"])
    label, accounts, actions = p["Label"], p["AWSAccountIds"], p["Actions"]
    if not actions:
        raise MissingParameter("The request must contain the parameter Actions.")
    if not accounts:
        raise InvalidParameterValue(
            "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify."
        )
    if len(actions) > _MAX_ACTIONS:
        raise OverLimit(f"{len(actions)} Actions were found, maximum allowed is {_MAX_ACTIONS}.")
    for action in actions:
        if action not in _SHAREABLE:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the "
                "queue owner is allowed to invoke this action."
            )
    policy = _policy(queue)
    if any(s.get("Sid") == label for s in policy["Statement"]):
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. Reason: Already exists."
        )
    policy["Statement"].append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {
                "AWS": _one_or_list([f"arn:{loop.partition}:iam::{a}:root" for a in accounts])},
            "Action": _one_or_list([f"SQS:{a}" for a in actions]),
            "Resource": queue.arn,
        }
    )
    queue.set_attributes({"Policy": json.dumps(policy, separators=(",", ":"))})
    return {}


def remove_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """RemovePermission: drop the statement with ``Sid`` = ``Label``."""
    queue = _queue(loop, p["QueueUrl"])
    label = p["Label"]
    policy = _policy(queue)
    kept = [s for s in policy["Statement"] if s.get("Sid") != label]
    if len(kept) == len(policy["Statement"]):
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. Reason: can't find label on "
            "existing policy."
        )
    policy["Statement"] = kept
    queue.set_attributes({"Policy": json.dumps(policy, separators=(",", ":")) if kept else ""})
    return {}


# -- sending ------------------------------------------------------------------------------------


def send_message(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(loop, p["QueueUrl"])
    trace, md5_system = _trace_header(p.get("MessageSystemAttributes"))
    kwargs: dict[str, Any] = {}
    if "MessageGroupId" in p:
        kwargs["message_group_id"] = p["MessageGroupId"]
    if "MessageDeduplicationId" in p:
        kwargs["message_deduplication_id"] = p["MessageDeduplicationId"]
    if trace is not None:
        kwargs["aws_trace_header"] = trace
    result = queue.send(
        p["MessageBody"],
        message_attributes=_message_attributes(p.get("MessageAttributes")),
        delay_seconds=p.get("DelaySeconds"),
        **kwargs,
    )
    out = result.to_aws()
    if md5_system is not None:
        out["MD5OfMessageSystemAttributes"] = md5_system
    return out


def send_message_batch(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(loop, p["QueueUrl"])
    entries: list[Mapping[str, Any]] = []
    system_md5: dict[str, str] = {}
    for entry in p["Entries"]:
        if "MessageAttributes" in entry or "MessageSystemAttributes" in entry:
            entry = dict(entry)
            if "MessageAttributes" in entry:
                entry["MessageAttributes"] = _message_attributes(entry["MessageAttributes"])
            if entry.get("MessageSystemAttributes"):
                _, md5 = _trace_header(entry["MessageSystemAttributes"])
                if md5 is not None:
                    system_md5[entry["Id"]] = md5
        entries.append(entry)
    result = queue.send_batch(entries)
    successful = result.successful
    if system_md5:
        for item in successful:
            if item["Id"] in system_md5:
                item["MD5OfMessageSystemAttributes"] = system_md5[item["Id"]]
    return {"Successful": successful, "Failed": result.failed}


# -- receiving ----------------------------------------------------------------------------------


def _selector(names: Iterable[str]) -> Callable[[str], bool] | None:
    """A predicate for MessageAttributeNames (``All``, ``.*``, ``prefix.*``, exact names), or
    ``None`` when nothing is selected.

    ``bar.*`` selects every name starting with ``bar`` (``.*`` read as the pattern it is, so
    that ``.*`` alone means all names, as the ReceiveMessage reference says:
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html;
    moto's ``test_message_attributes_with_wildcards`` selects ``Custom1`` with ``Custom.*``).
    """
    exact: set[str] = set()
    prefixes: list[str] = []
    for name in names:
        if name in ("All", ".*"):
            return lambda _: True
        if name.endswith(".*"):
            prefixes.append(name[:-2])
        else:
            exact.add(name)
    if not exact and not prefixes:
        return None
    if not prefixes:
        return exact.__contains__
    starts = tuple(prefixes)
    return lambda n: n in exact or n.startswith(starts)


def _message(
    m: Message,
    system: set[str] | None,
    all_system: bool,
    pick: Callable[[str], bool] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": m.md5_of_body,
        "Body": m.body,
    }
    if all_system:
        out["Attributes"] = m.attributes
    elif system:
        chosen = {k: v for k, v in m.attributes.items() if k in system}
        if chosen:
            out["Attributes"] = chosen
    if pick is not None and m.message_attributes:
        chosen_attrs = {k: v for k, v in m.message_attributes.items() if pick(k)}
        if chosen_attrs:
            out["MD5OfMessageAttributes"] = md5_of_attributes(chosen_attrs)
            out["MessageAttributes"] = {k: v.to_aws() for k, v in chosen_attrs.items()}
    return out


def receive_message(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(loop, p["QueueUrl"])
    messages = queue.receive(
        p.get("MaxNumberOfMessages", 1),
        wait_seconds=p.get("WaitTimeSeconds"),
        visibility_timeout=p.get("VisibilityTimeout"),
        receive_request_attempt_id=p.get("ReceiveRequestAttemptId"),
    )
    if not messages:
        return {}
    names = [*(p.get("AttributeNames") or ()), *(p.get("MessageSystemAttributeNames") or ())]
    pick = _selector(p.get("MessageAttributeNames") or ())
    if not names and pick is None:  # the common case: bodies and handles only
        return {
            "Messages": [
                {
                    "MessageId": m.message_id,
                    "ReceiptHandle": m.receipt_handle,
                    "MD5OfBody": m.md5_of_body,
                    "Body": m.body,
                }
                for m in messages
            ]
        }
    system = set(names) if names else None
    all_system = system is not None and "All" in system
    return {"Messages": [_message(m, system, all_system, pick) for m in messages]}


# -- deleting and visibility --------------------------------------------------------------------


def delete_message(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).delete(p["ReceiptHandle"])
    return {}


def delete_message_batch(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    result = _queue(loop, p["QueueUrl"]).delete_batch(p["Entries"])
    return {"Successful": result.successful, "Failed": result.failed}


def change_message_visibility(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _queue(loop, p["QueueUrl"]).change_visibility(p["ReceiptHandle"], p["VisibilityTimeout"])
    return {}


def change_message_visibility_batch(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    result = _queue(loop, p["QueueUrl"]).change_visibility_batch(p["Entries"])
    return {"Successful": result.successful, "Failed": result.failed}


# -- message move tasks -------------------------------------------------------------------------


def start_message_move_task(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    source = _queue_by_arn(loop, p["SourceArn"], "SourceArn")
    destination = p.get("DestinationArn")
    if destination is not None:
        _queue_by_arn(loop, destination, "DestinationArn")
    handle = source.start_message_move_task(
        destination, max_messages_per_second=p.get("MaxNumberOfMessagesPerSecond")
    )
    return {"TaskHandle": handle}


def list_message_move_tasks(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    source = _queue_by_arn(loop, p["SourceArn"], "SourceArn")
    return {"Results": source.list_message_move_tasks(p.get("MaxResults", 1))}


def cancel_message_move_task(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    moved = _cancel_move_task(loop, p["TaskHandle"])
    return {"ApproximateNumberOfMessagesMoved": moved}


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], dict[str, Any]]] = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "ListQueues": list_queues,
    "DeleteQueue": delete_queue,
    "GetQueueAttributes": get_queue_attributes,
    "SetQueueAttributes": set_queue_attributes,
    "TagQueue": tag_queue,
    "UntagQueue": untag_queue,
    "ListQueueTags": list_queue_tags,
    "PurgeQueue": purge_queue,
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "ListDeadLetterSourceQueues": list_dead_letter_source_queues,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
    "ChangeMessageVisibility": change_message_visibility,
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    "StartMessageMoveTask": start_message_move_task,
    "ListMessageMoveTasks": list_message_move_tasks,
    "CancelMessageMoveTask": cancel_message_move_task,
}
