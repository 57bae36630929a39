"""Message move tasks: moving a dead-letter queue's messages back (DLQ redrive).

Mirrors StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html):

* the source must be a dead-letter queue (some queue's redrive policy targets it);
* the destination defaults to each message's original source queue;
* ``MaxNumberOfMessagesPerSecond`` is 1-500 (default: as fast as possible, here 500/s);
* only one task may be active per source queue;
* moved messages get a new ``MessageId``;
* the task moves the messages that were in the queue when it started, one second of quota at a
  time, as timers on the loop;
* if the destination queue disappears the task fails (``FailureReason``
  ``AWS.SimpleQueueService.NonExistentQueue``) and the messages not yet moved stay put.

Error codes and texts, and the task handle's form (base64 of ``{"taskId": <uuid>, "sourceArn":
<arn>}``), are as SQS answers them: AWS-validated snapshots of LocalStack's
``tests/aws/services/sqs/test_sqs_move_task.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterValue, ResourceNotFoundException, UnsupportedOperation
from ..message import loads_json

if TYPE_CHECKING:
    from ..loop import EventLoop, TimerHandle
    from .queue import Queue

__all__ = ["MessageMoveTask", "start_message_move_task", "list_message_move_tasks",
           "cancel_message_move_task"]

DEFAULT_RATE = 500
_NON_EXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


class MessageMoveTask:
    """One move task: its status and counts, as ListMessageMoveTasks reports them."""

    def __init__(self, source: Queue, destination: Queue | None, rate: int | None) -> None:
        self.source = source
        self.destination = destination
        self.rate = rate
        self.task_id = source.loop.new_id()
        doc = json.dumps({"taskId": self.task_id, "sourceArn": source.arn}, separators=(",", ":"))
        self.handle = base64.b64encode(doc.encode()).decode()
        self.status = "RUNNING"
        self.moved = 0
        self.to_move = source._ledger.n_visible + source._ledger.n_inflight
        self.started_ms = source.loop.clock.wall_ms()
        self.failure_reason: str | None = None
        self._timer: TimerHandle | None = None

    def to_aws(self) -> dict[str, Any]:
        """The ListMessageMoveTasks result entry."""
        out: dict[str, Any] = {
            "TaskHandle": self.handle,
            "Status": self.status,
            "SourceArn": self.source.arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status != "RUNNING":
            out.pop("TaskHandle")
        if self.destination is not None:
            out["DestinationArn"] = self.destination.arn
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out

    def _step(self) -> None:
        """Move up to one second's quota, then schedule the next second."""
        source = self.source
        with source._lock:
            if self.status != "RUNNING":
                return
            if source._deleted:
                self.status, self.failure_reason = "FAILED", _NON_EXISTENT
                return
            loop = source.loop
            now = loop.clock.now()
            ledger = source._ledger
            ledger.settle(now)
            quota = self.rate or DEFAULT_RATE
            while quota and self.moved < self.to_move:
                received, _ = ledger.receive(now, 1, 0)
                if not received:
                    break
                entry = received[0]
                record = entry.record
                if self.destination is not None:
                    target = None if self.destination._deleted else self.destination
                else:
                    target = _original_source(loop, record.dlq_source_arn)
                if target is None:
                    # The destination is gone: put the message back and fail the task.
                    ledger.change_visibility(entry, now, 0)
                    self.status = "FAILED"
                    self.failure_reason = _NON_EXISTENT
                    if source._observers:
                        source._emit("visibility_changed", entry)
                        source._emit("move_task", None)
                    return
                ledger.remove(entry)
                if source._observers:
                    source._emit("moved_out", entry)
                record.message_id = loop.new_id()
                record.dlq_source_arn = None
                target._accept_moved(record, now)
                self.moved += 1
                quota -= 1
            if self.moved >= self.to_move or not len(ledger):
                self.status = "COMPLETED"
            else:
                self._timer = loop.call_later(1.0, self._step)
            if source._observers:
                source._emit("move_task", None)


def _original_source(loop: EventLoop, arn: str | None) -> Queue | None:
    if arn is None:
        return None
    queue = loop._lookup("sqs", arn.rsplit(":", 1)[-1])
    return queue if queue is not None and not queue._deleted else None


def _tasks(queue: Queue) -> list[MessageMoveTask]:
    return queue._move_history


def start_message_move_task(
    source: Queue, destination: Queue | str | None, rate: int | None
) -> str:
    """Start moving ``source``'s messages; return the task handle."""
    from .queue import Queue

    with source._lock:
        source._check_alive()
        loop = source.loop
        if not source.list_dead_letter_source_queues():
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= 500
        ):
            raise InvalidParameterValue(
                f"MaxNumberOfMessagesPerSecond must be an integer from 1 to 500, got {rate!r}."
            )
        target: Queue | None
        if destination is None or isinstance(destination, Queue):
            target = destination
        elif not isinstance(destination, str):
            raise InvalidParameterValue(
                f"DestinationArn must be a queue ARN (or a Queue), got {destination!r}."
            )
        else:
            target = loop._lookup("sqs", loop.queue_name_from(destination))
            if target is None:
                raise ResourceNotFoundException(
                    "The resource that you specified for the DestinationArn parameter doesn't "
                    "exist."
                )
        if target is not None and target.is_fifo != source.is_fifo:
            raise InvalidParameterValue("Source and destination queues must be of the same type.")
        if any(t.status == "RUNNING" for t in _tasks(source)):
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source "
                "queue arn at a given time."
            )
        task = MessageMoveTask(source, target, rate)
        _tasks(source).insert(0, task)
        if source._observers:
            source._emit("move_task", None)
        # The first second's quota moves as soon as the loop runs timers (on a ManualClock:
        # the next advance, even advance(0)).
        task._timer = loop.call_later(0.0, task._step)
        return task.handle


def list_message_move_tasks(source: Queue, max_results: int = 1) -> list[dict[str, Any]]:
    """The most recent tasks of ``source``, newest first (1-10)."""
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not (
        1 <= max_results <= 10
    ):
        raise InvalidParameterValue(f"MaxResults must be from 1 to 10, got {max_results!r}.")
    with source._lock:
        source._check_alive()
        return [t.to_aws() for t in _tasks(source)[:max_results]]


def _decode_handle(task_handle: object) -> tuple[str, str]:
    """``(taskId, sourceArn)`` from a task handle; ``InvalidParameterValue`` if malformed."""
    invalid = InvalidParameterValue("Value for parameter TaskHandle is invalid.")
    if not isinstance(task_handle, str):
        raise invalid
    try:
        doc = loads_json(base64.b64decode(task_handle, validate=True))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(doc, dict):
        raise invalid
    task_id, source_arn = doc.get("taskId"), doc.get("sourceArn")
    if not isinstance(task_id, str) or not isinstance(source_arn, str):
        raise invalid
    return task_id, source_arn


def cancel_message_move_task(loop: EventLoop, task_handle: str) -> int:
    """Cancel a running task; return how many messages it had moved.

    Raises:
        InvalidParameterValue: a malformed handle.
        ResourceNotFoundException: the handle's source queue, or its task, does not exist.
        UnsupportedOperation: the task is no longer running.
    """
    task_id, source_arn = _decode_handle(task_handle)
    parts = source_arn.split(":")
    with loop._lock:
        source = None
        if len(parts) == 6 and parts[2] == "sqs" and parts[4] == loop.account_id:
            source = loop._lookup("sqs", parts[5])
        if source is None or source.arn != source_arn:
            raise ResourceNotFoundException(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        for task in _tasks(source):
            if task.task_id == task_id:
                if task.status != "RUNNING":
                    raise UnsupportedOperation(f"Task {task_id} is not running.")
                task.status = "CANCELLED"
                if task._timer is not None:
                    task._timer.cancel()
                if source._observers:
                    source._emit("move_task", None)
                return task.moved
        raise ResourceNotFoundException("Task does not exist.")
