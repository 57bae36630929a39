"""``AwsQueue`` and ``AwsFifoQueue``: the public queue classes over boto3.

Every public method of :class:`~decoupling.Queue` / :class:`~decoupling.FifoQueue` is
reimplemented here (mypy checks the signatures against the in-process ones); the in-process
``__init__`` and state are never used. Arguments are checked with the same validators as in
process before any request, so bad input raises the same class and code on both backends;
what only the service can judge (a queue that does not exist, a receipt handle that is
stale) comes back as the service's error, translated (:mod:`decoupling.aws._errors`).

Real-AWS details handled here: a batch of more than 10 entries (or more than 1 MiB) is split
into requests of at most 10 entries and 1 MiB and the results merged in the entries' order;
``RedrivePolicy(dlq)`` takes the DLQ's ARN from ``dlq.arn``, which asks the service once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    BatchEntryIdsNotDistinct,
    DecouplingError,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidParameterValue,
    MissingParameter,
    ReceiptHandleIsInvalid,
)
from ..message import (
    AttributeInput,
    Message,
    MessageAttributeValue,
    error_entry,
    message_size,
    normalize_attributes,
    validate_body,
)
from ..sqs._attributes import _canonical
from ..sqs._batches import _BATCH_ID, MAX_BATCH, MAX_BATCH_BYTES
from ..sqs._state import QueueObserver
from ..sqs.config import RedriveAllowPolicy, RedrivePolicy, check_attribute_names
from ..sqs.fifo import FIFO_QUEUE_NAME, FifoQueue
from ..sqs.large_payloads import PayloadOffload
from ..sqs.queue import Queue
from ..sqs.results import BatchResult, SendResult
from ._errors import _class_for

if TYPE_CHECKING:
    from .account import Account

__all__ = ["AwsQueue", "AwsFifoQueue"]

#: Messages larger than this go unbatched under automatic batching (a tenth of a batch).
_BATCHABLE_BYTES = MAX_BATCH_BYTES // 10


def _failure(entry: Mapping[str, Any]) -> DecouplingError:
    """The error a batch response's failed entry stands for."""
    code = str(entry.get("Code") or "InternalError")
    sender = bool(entry.get("SenderFault", True))
    return _class_for(code, 400 if sender else 500, sender)(str(entry.get("Message") or code))


def _message(raw: Mapping[str, Any]) -> Message:
    """A :class:`~decoupling.Message` from one ReceiveMessage entry."""
    system = raw.get("Attributes") or {}
    attributes: dict[str, MessageAttributeValue] | None = None
    user = raw.get("MessageAttributes")
    if user:
        attributes = {
            name: MessageAttributeValue(
                value["DataType"], value.get("StringValue"), value.get("BinaryValue"))
            for name, value in user.items()
        }
    return Message(
        raw["MessageId"], raw["Body"], raw["ReceiptHandle"], attributes,
        int(system.get("ApproximateReceiveCount", "1")),
        int(system.get("SentTimestamp", "0")),
        int(system.get("ApproximateFirstReceiveTimestamp", "0")),
        system.get("SenderId", ""),
        system.get("MessageGroupId"), system.get("MessageDeduplicationId"),
        system.get("SequenceNumber"), system.get("DeadLetterQueueSourceArn"),
        system.get("AWSTraceHeader"),
    )


def _attribute_value(value: Any) -> str:
    """An attribute value as the string SQS takes."""
    canonical = _canonical(value)
    return canonical if isinstance(canonical, str) else str(canonical)


class AwsQueue(Queue):
    """A standard SQS queue on an AWS account: :class:`~decoupling.Queue`'s methods, results
    and exceptions over boto3. Made by ``Queue(account, name, ...)``.

    Creating attaches to a queue that exists with the same attributes (CreateQueue's rules:
    only the attributes given are compared; a difference raises ``QueueAlreadyExists``).

    Attributes:
        account: the :class:`~decoupling.aws.Account`.
        name, url: the queue's name and URL.
    """

    def __init__(self, loop: Account, name: str, **kwargs: Any) -> None:
        self._check_name(name)
        tags = kwargs.pop("tags", None)
        requested = type(self)._requested(loop, name, **kwargs)
        self._bind(loop, name, None)
        attributes = {k: _attribute_value(v) for k, v in requested.items()}
        self._check_attribute_names(attributes, writable=True)
        params: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if tags:
            if not isinstance(tags, Mapping):
                raise InvalidParameterValue("Tags must be a mapping of strings to strings.")
            params["tags"] = dict(tags)
        self.url = self._request("CreateQueue", "create_queue", params)["QueueUrl"]

    def _bind(self, account: Account, name: str, url: str | None) -> None:
        self.account = account
        self.name = name
        if url is not None:
            self.url = url
        self._arn: str | None = None
        self._client = account.sqs

    @classmethod
    def _attach(cls, account: Account, url: str) -> AwsQueue:
        """The queue at ``url`` (no request)."""
        name = url.rstrip("/").rsplit("/", 1)[-1]
        impl = AwsFifoQueue if name.endswith(".fifo") else AwsQueue
        queue = object.__new__(impl)
        queue._bind(account, name, url)
        return queue

    def _request(self, action: str, method: str, params: dict[str, Any],
                 payload_bytes: int = 0) -> Any:
        return self.account._call(self._client, "sqs", action, method, self.name, self.is_fifo,
                                  payload_bytes, params)

    def _check_attribute_names(self, names: Iterable[str], *, writable: bool) -> None:
        check_attribute_names(list(names), fifo=self.is_fifo, writable=writable)

    @property
    def arn(self) -> str:  # type: ignore[override]
        """``QueueArn``, asked of the service once (GetQueueAttributes)."""
        if self._arn is None:
            self._arn = self.get_attributes(["QueueArn"])["QueueArn"]
        return self._arn

    @property
    def large_payloads(self) -> None:
        """Always ``None``: the claim-check (``PayloadOffload``) runs in process only; on AWS,
        AWS's ``amazon-sqs-extended-client`` does it."""
        return None

    @large_payloads.setter
    def large_payloads(self, offload: PayloadOffload | None) -> None:
        if offload is not None:
            raise InvalidParameterValue(
                "large_payloads is for in-process queues; on AWS use AWS's "
                "amazon-sqs-extended-client with the queue's URL."
            )

    # -- sending --------------------------------------------------------------------------------

    def _send_entry(
        self, body: object, message_attributes: Mapping[str, AttributeInput] | None,
        delay_seconds: object, group_id: object, dedup_id: object, trace_header: object,
    ) -> tuple[dict[str, Any], int]:
        """One message checked as in process and written as a SendMessage request (without
        ``QueueUrl``), and its size."""
        body = validate_body(body)
        entry: dict[str, Any] = {"MessageBody": body}
        size = len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
        if message_attributes:
            normalized = normalize_attributes(message_attributes)
            if normalized:
                entry["MessageAttributes"] = {n: v.to_aws() for n, v in normalized.items()}
                size = message_size(body, normalized)
        if size > MAX_BATCH_BYTES:
            raise InvalidParameterValue(
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{MAX_BATCH_BYTES} bytes."
            )
        if delay_seconds is not None:
            entry["DelaySeconds"] = Queue._check_delay(delay_seconds)
        if group_id is not None:
            entry["MessageGroupId"] = group_id
        elif self.is_fifo:
            raise MissingParameter("The request must contain the parameter MessageGroupId.")
        if dedup_id is not None:
            entry["MessageDeduplicationId"] = dedup_id
        trace = Queue._check_trace_header(trace_header)
        if trace is not None:
            entry["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
        return entry, size

    def send(
        self,
        body: str,
        *,
        message_attributes: Mapping[str, AttributeInput] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        aws_trace_header: str | None = None,
    ) -> SendResult:
        """Send one message (SendMessage); see :meth:`decoupling.Queue.send`. Under automatic
        batching, concurrent sends share SendMessageBatch requests."""
        entry, size = self._send_entry(body, message_attributes, delay_seconds,
                                       message_group_id, message_deduplication_id,
                                       aws_trace_header)
        coalescer = self.account._coalescer
        if coalescer is not None and size <= _BATCHABLE_BYTES:
            outcome = coalescer.submit((self.url, "send"), (entry, size), self._flush_sends)
            assert isinstance(outcome, SendResult)
            return outcome
        entry["QueueUrl"] = self.url
        out = self._request("SendMessage", "send_message", entry, size)
        return SendResult(out["MessageId"], out.get("MD5OfMessageBody"),
                          out.get("MD5OfMessageAttributes"), out.get("SequenceNumber"))

    def _flush_sends(self, entries: Sequence[tuple[dict[str, Any], int]]) -> list[object]:
        batch = [{"Id": str(i), **entry} for i, (entry, _) in enumerate(entries)]
        size = sum(size for _, size in entries)
        out = self._request("SendMessageBatch", "send_message_batch",
                            {"QueueUrl": self.url, "Entries": batch}, size)
        outcomes: list[object] = [None] * len(entries)
        for ok in out.get("Successful", []):
            outcomes[int(ok["Id"])] = SendResult(
                ok["MessageId"], ok.get("MD5OfMessageBody"), ok.get("MD5OfMessageAttributes"),
                ok.get("SequenceNumber"))
        for bad in out.get("Failed", []):
            outcomes[int(bad["Id"])] = _failure(bad)
        return outcomes

    async def send_async(
        self,
        body: str,
        *,
        message_attributes: Mapping[str, AttributeInput] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        aws_trace_header: str | None = None,
    ) -> SendResult:
        """:meth:`send` in a worker thread (a request blocks; the asyncio loop does not)."""
        return await asyncio.to_thread(
            self.send, body, message_attributes=message_attributes, delay_seconds=delay_seconds,
            message_group_id=message_group_id, message_deduplication_id=message_deduplication_id,
            aws_trace_header=aws_trace_header,
        )

    async def send_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`send_batch` in a worker thread."""
        return await asyncio.to_thread(self.send_batch, entries)

    async def delete_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`delete_batch` in a worker thread."""
        return await asyncio.to_thread(self.delete_batch, entries)

    async def change_visibility_async(self, receipt_handle: str, visibility_timeout: int) -> None:
        """:meth:`change_visibility` in a worker thread."""
        await asyncio.to_thread(self.change_visibility, receipt_handle, visibility_timeout)

    async def change_visibility_batch_async(
        self, entries: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        """:meth:`change_visibility_batch` in a worker thread."""
        return await asyncio.to_thread(self.change_visibility_batch, entries)

    # -- batches --------------------------------------------------------------------------------

    @staticmethod
    def _entries(entries: Sequence[Mapping[str, Any] | str],
                 body_key: str) -> list[tuple[str, Mapping[str, Any]]]:
        """``(Id, entry)`` pairs, checked as in process, but any number of them (they are
        split into requests of 10)."""
        if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
            raise InvalidParameterValue("Batch entries must be a list.")
        if not entries:
            raise EmptyBatchRequest("There should be at least one entry in the request.")
        out: list[tuple[str, Mapping[str, Any]]] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"Id": str(index), body_key: entry}
            elif not isinstance(entry, Mapping):
                raise InvalidParameterValue(f"Batch entry {index} must be a mapping or a string.")
            entry_id = entry.get("Id")
            if not isinstance(entry_id, str) or not _BATCH_ID.fullmatch(entry_id):
                raise InvalidBatchEntryId(
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long."
                )
            if entry_id in seen:
                raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
            seen.add(entry_id)
            out.append((entry_id, entry))
        return out

    def _batched(
        self, action: str, method: str, ready: list[tuple[str, dict[str, Any], int]],
        failed: dict[str, dict[str, Any]], order: list[str],
    ) -> BatchResult:
        """Send ``ready`` entries (id, request entry, bytes) in requests of at most 10 entries
        and 1 MiB; merge with the entries ``failed`` locally, in ``order``."""
        successful: dict[str, dict[str, Any]] = {}
        chunk: list[dict[str, Any]] = []
        chunk_bytes = 0

        def flush() -> None:
            nonlocal chunk, chunk_bytes
            if not chunk:
                return
            out = self._request(action, method, {"QueueUrl": self.url, "Entries": chunk},
                                chunk_bytes)
            for ok in out.get("Successful", []):
                successful[ok["Id"]] = dict(ok)
            for bad in out.get("Failed", []):
                failed[bad["Id"]] = {"Id": bad["Id"], "Code": bad.get("Code"),
                                     "Message": bad.get("Message", ""),
                                     "SenderFault": bool(bad.get("SenderFault", True))}
            chunk, chunk_bytes = [], 0

        for entry_id, entry, size in ready:
            if len(chunk) == MAX_BATCH or chunk_bytes + size > MAX_BATCH_BYTES:
                flush()
            chunk.append({"Id": entry_id, **entry})
            chunk_bytes += size
        flush()
        return BatchResult([successful[i] for i in order if i in successful],
                           [failed[i] for i in order if i in failed])

    def send_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Send messages (SendMessageBatch); see :meth:`decoupling.Queue.send_batch`. Any
        number of entries: more than 10 (or more than 1 MiB) go as several requests, the
        results merged in the entries' order."""
        normalized = self._entries(entries, "MessageBody")
        ready: list[tuple[str, dict[str, Any], int]] = []
        failed: dict[str, dict[str, Any]] = {}
        for entry_id, entry in normalized:
            try:
                system = entry.get("MessageSystemAttributes")
                trace = None
                if isinstance(system, Mapping) and isinstance(system.get("AWSTraceHeader"),
                                                              Mapping):
                    trace = system["AWSTraceHeader"].get("StringValue")
                if "MessageBody" not in entry:
                    raise InvalidParameterValue("The request must contain MessageBody.")
                request, size = self._send_entry(
                    entry["MessageBody"], entry.get("MessageAttributes"),
                    entry.get("DelaySeconds"), entry.get("MessageGroupId"),
                    entry.get("MessageDeduplicationId"), trace)
            except DecouplingError as error:
                failed[entry_id] = error_entry(entry_id, error)
                continue
            ready.append((entry_id, request, size))
        return self._batched("SendMessageBatch", "send_message_batch", ready, failed,
                             [i for i, _ in normalized])

    def delete_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Delete messages (DeleteMessageBatch), any number, in requests of 10."""
        normalized = self._entries(entries, "ReceiptHandle")
        ready: list[tuple[str, dict[str, Any], int]] = []
        failed: dict[str, dict[str, Any]] = {}
        for entry_id, entry in normalized:
            handle = entry.get("ReceiptHandle")
            if not isinstance(handle, str) or not handle:
                failed[entry_id] = error_entry(entry_id, ReceiptHandleIsInvalid(
                    f"The input receipt handle {handle!r} is not a valid receipt handle."))
                continue
            ready.append((entry_id, {"ReceiptHandle": handle}, 0))
        return self._batched("DeleteMessageBatch", "delete_message_batch", ready, failed,
                             [i for i, _ in normalized])

    def change_visibility_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Change visibility of messages (ChangeMessageVisibilityBatch), any number, in
        requests of 10."""
        normalized = self._entries(entries, "ReceiptHandle")
        ready: list[tuple[str, dict[str, Any], int]] = []
        failed: dict[str, dict[str, Any]] = {}
        for entry_id, entry in normalized:
            handle = entry.get("ReceiptHandle")
            try:
                if not isinstance(handle, str) or not handle:
                    raise ReceiptHandleIsInvalid(
                        f"The input receipt handle {handle!r} is not a valid receipt handle.")
                timeout = Queue._check_visibility(entry.get("VisibilityTimeout"))
            except DecouplingError as error:
                failed[entry_id] = error_entry(entry_id, error)
                continue
            ready.append((entry_id, {"ReceiptHandle": handle, "VisibilityTimeout": timeout}, 0))
        return self._batched("ChangeMessageVisibilityBatch", "change_message_visibility_batch",
                             ready, failed, [i for i, _ in normalized])

    # -- receiving ------------------------------------------------------------------------------

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """Receive up to ``max_messages`` (ReceiveMessage); see :meth:`decoupling.Queue.receive`.
        A long poll blocks this thread for up to ``wait_seconds`` of real time."""
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) or not (
            1 <= max_messages <= 10
        ):
            raise InvalidParameterValue(
                f"Value {max_messages!r} for parameter MaxNumberOfMessages is invalid. Reason: "
                "Must be between 1 and 10, if provided."
            )
        params: dict[str, Any] = {
            "QueueUrl": self.url, "MaxNumberOfMessages": max_messages,
            "MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"],
        }
        if wait_seconds is not None:
            if isinstance(wait_seconds, bool) or not isinstance(wait_seconds, int) or not (
                0 <= wait_seconds <= 20
            ):
                raise InvalidParameterValue(
                    f"Value {wait_seconds!r} for parameter WaitTimeSeconds is invalid. Reason: "
                    "Must >= 0 and <= 20, if provided."
                )
            params["WaitTimeSeconds"] = wait_seconds
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = Queue._check_visibility(visibility_timeout)
        if receive_request_attempt_id is not None and self.is_fifo:
            params["ReceiveRequestAttemptId"] = receive_request_attempt_id
        out = self._request("ReceiveMessage", "receive_message", params)
        raw = out.get("Messages") or []
        messages = [_message(m) for m in raw]
        if messages:  # a receive is billed by what it returned (64 KiB chunks)
            extra = sum(len(m.body) for m in messages) - 1
            if extra >= 65_536:
                self.account.meter._count("sqs", self.name, "ReceiveMessage", self.is_fifo,
                                          extra)
        return messages

    async def receive_async(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """:meth:`receive` in a worker thread, never blocking the asyncio event loop."""
        return await asyncio.to_thread(
            self.receive, max_messages, wait_seconds=wait_seconds,
            visibility_timeout=visibility_timeout,
            receive_request_attempt_id=receive_request_attempt_id,
        )

    # -- deleting and visibility ----------------------------------------------------------------

    @staticmethod
    def _check_handle(receipt_handle: object) -> str:
        if not isinstance(receipt_handle, str) or not receipt_handle:
            raise ReceiptHandleIsInvalid(
                f"The input receipt handle {receipt_handle!r} is not a valid receipt handle."
            )
        return receipt_handle

    def delete(self, receipt_handle: str) -> None:
        """Delete a message by receipt handle (DeleteMessage); see :meth:`decoupling.Queue.delete`.
        Under automatic batching, concurrent deletes share DeleteMessageBatch requests."""
        handle = self._check_handle(receipt_handle)
        coalescer = self.account._coalescer
        if coalescer is not None:
            coalescer.submit((self.url, "delete"), {"ReceiptHandle": handle},
                             self._flush_deletes)
            return
        self._request("DeleteMessage", "delete_message",
                      {"QueueUrl": self.url, "ReceiptHandle": handle})

    def _flush_deletes(self, entries: Sequence[dict[str, Any]]) -> list[object]:
        return self._flush_plain("DeleteMessageBatch", "delete_message_batch", entries)

    def _flush_plain(self, action: str, method: str,
                     entries: Sequence[dict[str, Any]]) -> list[object]:
        batch = [{"Id": str(i), **entry} for i, entry in enumerate(entries)]
        out = self._request(action, method, {"QueueUrl": self.url, "Entries": batch})
        outcomes: list[object] = [None] * len(entries)
        for bad in out.get("Failed", []):
            outcomes[int(bad["Id"])] = _failure(bad)
        return outcomes

    async def delete_async(self, receipt_handle: str) -> None:
        """:meth:`delete` in a worker thread."""
        await asyncio.to_thread(self.delete, receipt_handle)

    def change_visibility(self, receipt_handle: str, visibility_timeout: int) -> None:
        """Set how long a received message stays invisible, from now
        (ChangeMessageVisibility); see :meth:`decoupling.Queue.change_visibility`. Under
        automatic batching, concurrent calls share ChangeMessageVisibilityBatch requests."""
        handle = self._check_handle(receipt_handle)
        timeout = Queue._check_visibility(visibility_timeout)
        entry = {"ReceiptHandle": handle, "VisibilityTimeout": timeout}
        coalescer = self.account._coalescer
        if coalescer is not None:
            coalescer.submit((self.url, "visibility"), entry, self._flush_visibility)
            return
        self._request("ChangeMessageVisibility", "change_message_visibility",
                      {"QueueUrl": self.url, **entry})

    def _flush_visibility(self, entries: Sequence[dict[str, Any]]) -> list[object]:
        return self._flush_plain("ChangeMessageVisibilityBatch",
                                 "change_message_visibility_batch", entries)

    # -- whole queue ----------------------------------------------------------------------------

    def purge(self) -> None:
        """Delete every message (PurgeQueue)."""
        self._request("PurgeQueue", "purge_queue", {"QueueUrl": self.url})

    def delete_queue(self) -> None:
        """Delete the queue (DeleteQueue)."""
        self._request("DeleteQueue", "delete_queue", {"QueueUrl": self.url})

    def list_dead_letter_source_queues(self) -> list[Queue]:
        """Queues whose redrive policy targets this queue (ListDeadLetterSourceQueues)."""
        out = self._request("ListDeadLetterSourceQueues", "list_dead_letter_source_queues",
                            {"QueueUrl": self.url})
        return [AwsQueue._attach(self.account, url) for url in out.get("queueUrls", [])]

    # -- attributes and tags --------------------------------------------------------------------

    def get_attributes(self, names: Iterable[str] = ("All",)) -> dict[str, str]:
        """Attributes by AWS name, values as strings (GetQueueAttributes)."""
        wanted = [names] if isinstance(names, str) else names
        if not isinstance(wanted, (list, tuple, set, frozenset)) or not all(
            isinstance(name, str) for name in wanted
        ):
            raise InvalidAttributeName(
                f"AttributeNames must be a list of attribute names, got {names!r}."
            )
        self._check_attribute_names(wanted, writable=False)
        out = self._request("GetQueueAttributes", "get_queue_attributes",
                            {"QueueUrl": self.url, "AttributeNames": list(wanted)})
        values: dict[str, str] = out.get("Attributes", {})
        return values

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Change attributes by AWS name (SetQueueAttributes); all or nothing, as on SQS."""
        if not isinstance(attributes, Mapping):
            raise InvalidAttributeValue("attributes must be a mapping of AWS names to values.")
        self._check_attribute_names(attributes, writable=True)
        values = {k: _attribute_value(v) for k, v in attributes.items()}
        self._request("SetQueueAttributes", "set_queue_attributes",
                      {"QueueUrl": self.url, "Attributes": values})

    def _attribute(self, name: str) -> str:
        return self.get_attributes([name]).get(name, "")

    @property
    def visibility_timeout(self) -> int:
        """The queue's default visibility timeout, seconds (one GetQueueAttributes)."""
        return int(self._attribute("VisibilityTimeout"))

    @property
    def delay_seconds(self) -> int:
        """The queue's delivery delay, seconds (one GetQueueAttributes)."""
        return int(self._attribute("DelaySeconds"))

    @property
    def message_retention_period(self) -> int:
        """Seconds a message is kept (one GetQueueAttributes)."""
        return int(self._attribute("MessageRetentionPeriod"))

    @property
    def maximum_message_size(self) -> int:
        """Bytes a message may have (one GetQueueAttributes)."""
        return int(self._attribute("MaximumMessageSize"))

    @property
    def receive_message_wait_time_seconds(self) -> int:
        """The default long-poll wait, seconds (one GetQueueAttributes)."""
        return int(self._attribute("ReceiveMessageWaitTimeSeconds"))

    @property
    def redrive_policy(self) -> RedrivePolicy | None:
        """The dead-letter configuration, or ``None`` (one GetQueueAttributes)."""
        return RedrivePolicy.parse(self._attribute("RedrivePolicy") or None)

    @property
    def redrive_allow_policy(self) -> RedriveAllowPolicy | None:
        """Who may use this queue as a dead-letter queue (one GetQueueAttributes)."""
        return RedriveAllowPolicy.parse(self._attribute("RedriveAllowPolicy") or None)

    def _counts(self) -> tuple[int, int, int]:
        values = self.get_attributes([
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])
        return (int(values.get("ApproximateNumberOfMessages", 0)),
                int(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
                int(values.get("ApproximateNumberOfMessagesDelayed", 0)))

    @property
    def approximate_number_of_messages(self) -> int:
        """Visible messages (``ApproximateNumberOfMessages``; approximate on SQS)."""
        return self._counts()[0]

    @property
    def approximate_number_of_messages_not_visible(self) -> int:
        """Messages in flight (``ApproximateNumberOfMessagesNotVisible``)."""
        return self._counts()[1]

    @property
    def approximate_number_of_messages_delayed(self) -> int:
        """Delayed messages (``ApproximateNumberOfMessagesDelayed``)."""
        return self._counts()[2]

    def __len__(self) -> int:
        """Visible, in-flight and delayed messages, as SQS approximates them."""
        return sum(self._counts())

    def tag(self, tags: Mapping[str, str]) -> None:
        """Add or replace tags (TagQueue)."""
        if not isinstance(tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise InvalidParameterValue("Tags must be a mapping of strings to strings.")
        self._request("TagQueue", "tag_queue", {"QueueUrl": self.url, "Tags": dict(tags)})

    def untag(self, keys: Iterable[str]) -> None:
        """Remove tags by key (UntagQueue)."""
        wanted = [keys] if isinstance(keys, str) else keys
        if not isinstance(wanted, (list, tuple, set, frozenset)) or not all(
            isinstance(key, str) for key in wanted
        ):
            raise InvalidParameterValue(f"TagKeys must be a list of strings, got {keys!r}.")
        self._request("UntagQueue", "untag_queue", {"QueueUrl": self.url, "TagKeys": list(wanted)})

    def list_tags(self) -> dict[str, str]:
        """The queue's tags (ListQueueTags)."""
        out = self._request("ListQueueTags", "list_queue_tags", {"QueueUrl": self.url})
        tags: dict[str, str] = out.get("Tags") or {}
        return tags

    # -- message move tasks ---------------------------------------------------------------------

    def start_message_move_task(
        self,
        destination: Queue | str | None = None,
        *,
        max_messages_per_second: int | None = None,
    ) -> str:
        """Move this dead-letter queue's messages back (StartMessageMoveTask); the task handle."""
        params: dict[str, Any] = {"SourceArn": self.arn}
        if destination is not None:
            params["DestinationArn"] = destination if isinstance(destination, str) else (
                destination.arn)
        if max_messages_per_second is not None:
            params["MaxNumberOfMessagesPerSecond"] = max_messages_per_second
        out = self._request("StartMessageMoveTask", "start_message_move_task", params)
        handle: str = out["TaskHandle"]
        return handle

    def list_message_move_tasks(self, max_results: int = 1) -> list[dict[str, Any]]:
        """The most recent move tasks of this queue, newest first (ListMessageMoveTasks)."""
        out = self._request("ListMessageMoveTasks", "list_message_move_tasks",
                            {"SourceArn": self.arn, "MaxResults": max_results})
        tasks: list[dict[str, Any]] = out.get("Results", [])
        return tasks

    def cancel_message_move_task(self, task_handle: str) -> int:
        """Cancel a running move task (CancelMessageMoveTask); messages moved so far."""
        out = self._request("CancelMessageMoveTask", "cancel_message_move_task",
                            {"TaskHandle": task_handle})
        return int(out.get("ApproximateNumberOfMessagesMoved", 0))

    # -- in process only ------------------------------------------------------------------------

    def add_observer(self, observer: QueueObserver) -> None:
        """In process only: raises ``UnsupportedOperation`` (SQS has no change feed)."""
        raise self.account.in_process_only("Queue.add_observer")

    def remove_observer(self, observer: QueueObserver) -> None:
        """In process only: raises ``UnsupportedOperation``."""
        raise self.account.in_process_only("Queue.remove_observer")

    def __getattr__(self, name: str) -> Any:
        # ``loop`` (and the in-process state behind it) is what Chaos, ConsumerPool and the
        # in-process event source mapping reach for: say why it is missing.
        if name == "loop":
            raise self.account.in_process_only("Queue.loop (chaos, observers, in-process pollers)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, url={self.url!r})"


class AwsFifoQueue(AwsQueue, FifoQueue):
    """An SQS FIFO queue on an AWS account: :class:`~decoupling.FifoQueue` over boto3."""

    _requested = FifoQueue._requested

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str) or not FIFO_QUEUE_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"Queue name {name!r} is invalid: a FIFO queue name is 1 to 80 characters of "
                "A-Za-z0-9, '-' and '_' ending in '.fifo' (the suffix counts)."
            )

    def send_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Send messages in order (SendMessageBatch on a FIFO queue), in requests of 10. As on
        SQS (and in process), an entry without ``MessageGroupId`` fails the whole call
        (``InvalidParameterValue``) before any request."""
        for _, entry in self._entries(entries, "MessageBody"):
            if entry.get("MessageGroupId") is None:
                raise InvalidParameterValue(
                    "The request must contain the parameter MessageGroupId.")
        return super().send_batch(entries)

    def _flag(self, name: str) -> str:
        return self._attribute(name)

    @property
    def content_based_deduplication(self) -> bool:
        """``ContentBasedDeduplication`` (one GetQueueAttributes)."""
        return self._flag("ContentBasedDeduplication") == "true"

    @property
    def deduplication_scope(self) -> str:
        """``DeduplicationScope`` (one GetQueueAttributes)."""
        return self._flag("DeduplicationScope") or "queue"

    @property
    def fifo_throughput_limit(self) -> str:
        """``FifoThroughputLimit`` (one GetQueueAttributes)."""
        return self._flag("FifoThroughputLimit") or "perQueue"

