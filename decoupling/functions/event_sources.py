"""SQS event source mappings: pollers on the loop that batch messages into invocations.

What a mapping does, as the Lambda Developer Guide describes it
(https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html and the pages under it):

* **Polling.** Pollers are loop timers, never threads: a mapping sleeps while its queue is empty
  and is woken when a message arrives (see :mod:`decoupling.sqs._watch`), when delayed or
  in-flight messages become visible again, and when one of its batches finishes.
* **Batching.** ``batch_size`` 1-10,000 (default 10; at most 10 for FIFO queues; more than 10
  needs a batching window); ``maximum_batching_window`` 0-300 s (not for FIFO queues): with a
  window, a batch starts when ``batch_size`` messages are waiting or the window (counted from the
  first waiting message) ends. A batch carries at most 6 MB of bodies.
* **Results.** Success deletes the batch. An error (an exception, a timeout) deletes nothing: the
  messages return after the visibility timeout, and the queue's redrive policy moves them to its
  dead-letter queue after ``maxReceiveCount`` receives. With ``report_batch_item_failures`` the
  response ``{"batchItemFailures": [{"itemIdentifier": messageId}]}`` names the messages that
  failed; the others are deleted. An empty or null list is a full success; an invalid response
  (an identifier that is empty, missing, or not in the batch) fails the whole batch
  (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
* **Filtering.** ``filter_criteria`` (``{"Filters": [{"Pattern": ...}]}``, at most 5 patterns,
  ORed) is matched against each record, with ``body`` parsed as JSON when it is JSON (else matched
  as the plain string). A message that matches no pattern is deleted from the queue without an
  invocation, as Lambda does for SQS
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html). Patterns compile
  through the filter-policy engine of :mod:`decoupling.sns.filter_policy`, so its operators apply
  (and its limits of 5 keys and 150 combinations per pattern).
* **FIFO.** The queue's message-group locking keeps each group in order: while a batch holds
  messages of a group, later messages of that group are not received; a failed batch's messages
  return first.
* **Scaling.** See :mod:`decoupling.functions.scaling`. A mapping never starts more batches than its target
  concurrency, nor than its function has concurrency for (Lambda's pollers may receive and then be
  throttled, returning messages after the visibility timeout; here they wait instead).
* **The record** is Lambda's, field for field: ``messageId``, ``receiptHandle``, ``body``,
  ``attributes`` (``ApproximateReceiveCount``, ``SentTimestamp``, ``SenderId``,
  ``ApproximateFirstReceiveTimestamp``, and on FIFO queues ``SequenceNumber``,
  ``MessageGroupId``, ``MessageDeduplicationId``), ``messageAttributes`` (``{name:
  {"stringValue"|"binaryValue", "stringListValues": [], "binaryListValues": [], "dataType"}}``,
  binary values in base64), ``md5OfBody``, ``eventSource`` ``"aws:sqs"``, ``eventSourceARN``,
  ``awsRegion``.
"""

from __future__ import annotations

import base64
import functools
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ..errors import DecouplingError, InvalidParameterValueException, ValidationException
from ..message import Message, loads_json
from ..sns.filter_policy import FilterPolicy
from ..sqs import _watch as _queue_watch
from .scaling import ProvisionedScaling, StandardScaling

if TYPE_CHECKING:
    from ..loop import TimerHandle
    from .runtime import FunctionRuntime, _Invocation

__all__ = ["EventSourceMapping", "sqs_record"]

_log = logging.getLogger("decoupling.functions.runtime")

MAX_BATCH_BYTES: Final = 6 * 1024 * 1024
MAX_FILTERS: Final = 5
#: Batches one poll callback starts before it yields to other timers due at the same time.
_BATCHES_PER_CALLBACK: Final = 100


def sqs_record(message: Message, queue_arn: str, region: str, fifo: bool) -> dict[str, Any]:
    """The record Lambda builds for one SQS message (see the module docstring). O(attributes)."""
    attributes = {
        "ApproximateReceiveCount": str(message.receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.first_receive_timestamp),
    }
    if fifo:
        attributes["SequenceNumber"] = message.sequence_number or ""
        attributes["MessageGroupId"] = message.message_group_id or ""
        attributes["MessageDeduplicationId"] = message.message_deduplication_id or ""
    if message.aws_trace_header is not None:
        attributes["AWSTraceHeader"] = message.aws_trace_header
    message_attributes: dict[str, Any] = {}
    for name, value in message.message_attributes.items():
        if value.binary_value is not None:
            message_attributes[name] = {
                "binaryValue": base64.b64encode(value.binary_value).decode(),
                "stringListValues": [], "binaryListValues": [], "dataType": value.data_type}
        else:
            message_attributes[name] = {
                "stringValue": value.string_value,
                "stringListValues": [], "binaryListValues": [], "dataType": value.data_type}
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _failed_ids(response: Any, ids: set[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response names; ``None`` when it is invalid
    (the whole batch then fails)."""
    if not isinstance(response, Mapping):
        return set()
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out: set[str] = set()
    for failure in failures:
        if not isinstance(failure, Mapping):
            return None
        ident = failure.get("itemIdentifier")
        if not isinstance(ident, str) or not ident or ident not in ids:
            return None
        out.add(ident)
    return out


def _compile_filters(criteria: Any) -> list[FilterPolicy]:
    if criteria is None:
        return []
    if isinstance(criteria, Mapping):
        filters = criteria.get("Filters")
        if not isinstance(filters, list):
            raise InvalidParameterValueException(
                'FilterCriteria must be {"Filters": [{"Pattern": ...}, ...]}.')
        patterns = []
        for entry in filters:
            if not isinstance(entry, Mapping) or "Pattern" not in entry:
                raise InvalidParameterValueException("Each filter must have a Pattern.")
            patterns.append(entry["Pattern"])
    elif isinstance(criteria, Sequence) and not isinstance(criteria, str):
        patterns = list(criteria)
    else:
        raise InvalidParameterValueException(
            'FilterCriteria must be {"Filters": [{"Pattern": ...}]} or a list of patterns.')
    if len(patterns) > MAX_FILTERS:
        raise InvalidParameterValueException(
            f"FilterCriteria can have at most {MAX_FILTERS} filters, got {len(patterns)}.")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(FilterPolicy.compile(pattern, "MessageBody"))
        except DecouplingError as exc:
            raise InvalidParameterValueException(
                f"Invalid filter pattern {pattern!r}: {exc.message}") from None
    return compiled


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as filters see it: ``body`` parsed when it is JSON Lambda can parse, else the
    plain string (which only patterns without ``body`` fields, or with plain-string ones, match;
    the others discard it, as the table for SQS on the event-filtering page says)."""
    body = record["body"]
    try:
        parsed = loads_json(body)
    except ValueError:
        parsed = body
    return {**record, "body": parsed}


class EventSourceMapping:
    """An SQS queue mapped to a function (CreateEventSourceMapping).

    Args:
        runtime: the :class:`~decoupling.FunctionRuntime`.
        queue: a :class:`~decoupling.Queue` or FIFO queue on the same loop.
        function_name: the function to invoke (not a ``PER_TENANT`` one).
        batch_size: 1-10,000 (default 10; at most 10 for FIFO).
        maximum_batching_window: seconds, 0-300 (default 0; must be > 0 when ``batch_size`` >
            10; 0 for FIFO queues).
        report_batch_item_failures: honour ``batchItemFailures`` in responses.
        filter_criteria: ``{"Filters": [{"Pattern": ...}]}`` or a list of patterns.
        enabled: start polling now (default ``True``).
        maximum_concurrency: ``ScalingConfig.MaximumConcurrency``, 2-1,000.
        provisioned_pollers: ``(minimum, maximum)`` pollers for provisioned mode (2-200,
            2-10,000), or ``True`` for the defaults (2, 200); exclusive with
            ``maximum_concurrency``.

    Attributes:
        uuid: the mapping's id. history: ``(loop time, target concurrency, batches running)``
        each time one of them changes, for plots. Counters: ``invocations``, ``records``,
        ``deleted``, ``filtered``, ``failed_records``, ``failed_batches``,
        ``peak_concurrency``.

    Raises:
        ResourceNotFoundException, ValidationException, InvalidParameterValueException.
    """

    def __init__(self, runtime: FunctionRuntime, queue: Any, function_name: str, *,
                 batch_size: int = 10, maximum_batching_window: int = 0,
                 report_batch_item_failures: bool = False, filter_criteria: Any = None,
                 enabled: bool = True, maximum_concurrency: int | None = None,
                 provisioned_pollers: tuple[int, int] | bool | None = None) -> None:
        if not all(hasattr(queue, a) for a in ("receive", "delete", "arn", "is_fifo", "loop")):
            raise InvalidParameterValueException(f"{queue!r} is not an SQS queue.")
        if queue.loop is not runtime.loop:
            raise InvalidParameterValueException("The queue belongs to another loop (account).")
        fn = runtime.get_function(function_name)
        if fn.tenant_isolation is not None:
            raise InvalidParameterValueException(
                f"Function {function_name} uses tenant isolation; event source mappings cannot "
                "invoke it.")
        self.runtime = runtime
        self.loop = runtime.loop
        self.queue = queue
        self.function_name = function_name
        self._function = fn
        settings = self._validate(
            batch_size=batch_size, maximum_batching_window=maximum_batching_window,
            report_batch_item_failures=report_batch_item_failures,
            filter_criteria=filter_criteria, maximum_concurrency=maximum_concurrency,
            provisioned_pollers=provisioned_pollers)
        self.uuid = self.loop.new_id()  # only once valid: a refused mapping takes no id
        self._apply(settings)
        self.enabled = bool(enabled)
        self.state = "Enabled" if self.enabled else "Disabled"
        self.in_flight = 0
        self.peak_concurrency = 0
        self.invocations = self.records = self.deleted = self.filtered = 0
        self.failed_records = self.failed_batches = 0
        self.history: deque[tuple[float, int, int]] = deque(maxlen=100_000)
        self._target = 0
        self._timer: TimerHandle | None = None
        self._polling = False
        self._repoll = False
        self._window_start: float | None = None
        self._last_modified = self.loop.clock.wall()
        with runtime._lock:
            runtime.event_source_mappings[self.uuid] = self
            _queue_watch.watch(queue, self, self._wake)
            if self.enabled:
                self._schedule(self.loop.clock.now())

    # -- configuration ---------------------------------------------------------------------------

    def _validate(self, **cfg: Any) -> dict[str, Any]:
        fifo = bool(self.queue.is_fifo)
        size, window = cfg["batch_size"], cfg["maximum_batching_window"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
            raise ValidationException(
                f"1 validation error detected: Value {size!r} at 'batchSize' failed to satisfy "
                "constraint: Member must have value between 1 and 10000")
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 300:
            raise ValidationException(
                f"1 validation error detected: Value {window!r} at 'maximumBatchingWindowInSeconds' "
                "failed to satisfy constraint: Member must have value between 0 and 300")
        if fifo and size > 10:
            raise InvalidParameterValueException(
                f"BatchSize must be between 1 and 10 for FIFO queues, got {size}.")
        if fifo and window:
            raise InvalidParameterValueException(
                "MaximumBatchingWindowInSeconds is not supported for FIFO queues.")
        if size > 10 and not window:
            raise InvalidParameterValueException(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                "greater than 10")
        maximum, provisioned = cfg["maximum_concurrency"], cfg["provisioned_pollers"]
        if maximum is not None and (isinstance(maximum, bool) or not isinstance(maximum, int)
                                    or not 2 <= maximum <= 1000):
            raise ValidationException(
                f"1 validation error detected: Value {maximum!r} at 'scalingConfig."
                "maximumConcurrency' failed to satisfy constraint: Member must have value between "
                "2 and 1000")
        if provisioned is True:
            provisioned = (2, 200)
        if provisioned not in (None, False):
            if maximum is not None:
                raise InvalidParameterValueException(
                    "ProvisionedPollerConfig and ScalingConfig.MaximumConcurrency cannot be used "
                    "together.")
            if not (isinstance(provisioned, tuple) and len(provisioned) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in provisioned)):
                raise InvalidParameterValueException(
                    "provisioned_pollers must be (MinimumPollers, MaximumPollers).")
            low, high = provisioned
            if not 2 <= low <= 200 or not 2 <= high <= 10_000 or low > high:
                raise InvalidParameterValueException(
                    f"ProvisionedPollerConfig needs 2 <= MinimumPollers <= 200, 2 <= "
                    f"MaximumPollers <= 10000 and MinimumPollers <= MaximumPollers; got {provisioned}.")
        else:
            provisioned = None
        cfg["provisioned_pollers"] = provisioned
        cfg["filters"] = _compile_filters(cfg["filter_criteria"])
        cfg["report_batch_item_failures"] = bool(cfg["report_batch_item_failures"])
        return cfg

    def _apply(self, cfg: dict[str, Any]) -> None:
        self.batch_size: int = cfg["batch_size"]
        self.maximum_batching_window: int = cfg["maximum_batching_window"]
        self.report_batch_item_failures: bool = cfg["report_batch_item_failures"]
        self.filter_criteria: Any = cfg["filter_criteria"]
        self._filters: list[FilterPolicy] = cfg["filters"]
        self.maximum_concurrency: int | None = cfg["maximum_concurrency"]
        self.provisioned_pollers: tuple[int, int] | None = cfg["provisioned_pollers"]
        if self.provisioned_pollers is not None:
            self.scaling: StandardScaling | ProvisionedScaling = ProvisionedScaling(
                *self.provisioned_pollers)
        else:
            self.scaling = StandardScaling(self.maximum_concurrency)

    def update(self, **changes: Any) -> None:
        """Change settings (UpdateEventSourceMapping): any constructor keyword but ``queue``
        and ``function_name``; ``enabled`` enables or disables."""
        allowed = {"batch_size", "maximum_batching_window", "report_batch_item_failures",
                   "filter_criteria", "maximum_concurrency", "provisioned_pollers", "enabled"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidParameterValueException(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        with self.runtime._lock:
            cfg = {"batch_size": self.batch_size,
                   "maximum_batching_window": self.maximum_batching_window,
                   "report_batch_item_failures": self.report_batch_item_failures,
                   "filter_criteria": self.filter_criteria,
                   "maximum_concurrency": self.maximum_concurrency,
                   "provisioned_pollers": self.provisioned_pollers}
            enabled = changes.pop("enabled", None)
            cfg.update(changes)
            self._apply(self._validate(**cfg))
            self._last_modified = self.loop.clock.wall()
            if enabled is not None:
                self.enable() if enabled else self.disable()
            elif self.enabled:
                self._schedule(self.loop.clock.now())

    def enable(self) -> None:
        """Start polling again."""
        with self.runtime._lock:
            if self.state == "Deleting":
                return
            self.enabled = True
            self.state = "Enabled"
            self._schedule(self.loop.clock.now())

    def disable(self) -> None:
        """Stop polling; running batches finish (and delete what they processed)."""
        with self.runtime._lock:
            self.enabled = False
            if self.state != "Deleting":
                self.state = "Disabled"
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def delete(self) -> None:
        """Delete the mapping (DeleteEventSourceMapping)."""
        with self.runtime._lock:
            self.disable()
            self.state = "Deleting"
            _queue_watch.unwatch(self.queue, self)
            self.runtime.event_source_mappings.pop(self.uuid, None)

    def to_aws(self) -> dict[str, Any]:
        """The mapping as GetEventSourceMapping describes it."""
        out: dict[str, Any] = {
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window,
            "EventSourceArn": self.queue.arn,
            "FunctionArn": self._function.arn,
            "LastModified": datetime.fromtimestamp(self._last_modified, UTC).isoformat(),
            "State": self.state,
            "FunctionResponseTypes": ["ReportBatchItemFailures"]
            if self.report_batch_item_failures else [],
        }
        if self.filter_criteria is not None:
            out["FilterCriteria"] = self.filter_criteria
        if self.maximum_concurrency is not None:
            out["ScalingConfig"] = {"MaximumConcurrency": self.maximum_concurrency}
        if self.provisioned_pollers is not None:
            out["ProvisionedPollerConfig"] = {"MinimumPollers": self.provisioned_pollers[0],
                                              "MaximumPollers": self.provisioned_pollers[1]}
        return out

    @property
    def target_concurrency(self) -> int:
        """Batches the mapping may run at once now."""
        return self._target

    # -- polling ---------------------------------------------------------------------------------

    def _wake(self) -> None:
        if self.enabled:
            self._schedule(self.loop.clock.now())

    def _schedule(self, when: float) -> None:
        """Poll at ``when`` unless a poll is already due by then (lock held)."""
        if self._polling and when <= self.loop.clock.now():
            self._repoll = True
            return
        timer = self._timer
        if timer is not None and not timer.cancelled:
            if timer.when <= when:
                return
            timer.cancel()
        self._timer = self.loop.call_at(when, self._poll)

    def _note(self, now: float) -> None:
        last = self.history[-1] if self.history else None
        if last is None or last[1] != self._target or last[2] != self.in_flight:
            self.history.append((now, self._target, self.in_flight))

    def _poll(self) -> None:
        """Start batches while there are messages, target concurrency and function capacity."""
        runtime = self.runtime
        with runtime._lock:
            self._timer = None
            if not self.enabled:
                return
            self._polling = True
            try:
                self._poll_locked()
            except Exception:
                # Lambda's pollers do not stop: log it, and poll again when the queue next
                # changes. What this poll received returns after its visibility timeout with
                # one more receive counted, so a message that always fails here ends in the
                # dead-letter queue instead of stalling the mapping.
                _log.exception("event source mapping %s: poll failed", self.uuid)
                change = _queue_watch.next_change(self.queue)
                if change is not None:
                    self._schedule(max(change, self.loop.clock.now()))
            finally:
                self._polling = False
            if self._repoll and self.enabled:
                self._repoll = False
                self._schedule(self.loop.clock.now())

    def _poll_locked(self) -> None:
        runtime, queue, fn = self.runtime, self.queue, self._function
        clock = self.loop.clock
        started = 0
        visible = 0
        stalled = False
        while True:
            self._repoll = False
            now = clock.now()
            visible = queue.approximate_number_of_messages
            self._target = self.scaling.target(now, visible > 0)
            self._note(now)
            if not visible or self.in_flight >= self._target:
                break
            if not runtime._has_capacity(fn):
                runtime._wait_for_capacity(fn, id(self), self._wake)
                break
            if self.maximum_batching_window and visible < self.batch_size:
                if self._window_start is None:
                    self._window_start = now
                end = self._window_start + self.maximum_batching_window
                if now < end:
                    self._schedule(end)
                    break
            messages = self._receive_batch()
            self._window_start = None
            if not messages:  # FIFO: every visible message is in a locked group
                stalled = True
                break
            records = self._records(messages)
            if not records:
                continue
            self.in_flight += 1
            if self.in_flight > self.peak_concurrency:
                self.peak_concurrency = self.in_flight
            self._note(now)
            self.invocations += 1
            self.records += len(records)
            by_id = {m.message_id: m for m in messages if m.message_id in records}
            runtime._begin(fn, {"Records": list(records.values())}, "SQS", None,
                           functools.partial(self._batch_done, by_id), serialize=False)
            started += 1
            if started >= _BATCHES_PER_CALLBACK:
                self._schedule(clock.now())
                return
        now = clock.now()
        if visible and self.in_flight >= self._target:
            step = self.scaling.next_step(now)
            if step is not None:
                self._schedule(step)
        if stalled and not queue.approximate_number_of_messages:
            self._target = self.scaling.target(now, False)  # the last ones went to the DLQ
            self._note(now)
        if (not visible or stalled) and len(queue):
            change = _queue_watch.next_change(queue)
            if change is not None:
                self._schedule(max(change, now))

    def _receive_batch(self) -> list[Message]:
        queue = self.queue
        messages: list[Message] = []
        size = 0
        while len(messages) < self.batch_size:
            got = queue.receive(min(10, self.batch_size - len(messages)), wait_seconds=0)
            if not got:
                break
            for message in got:
                body = len(message.body.encode()) if not message.body.isascii() else len(message.body)
                if messages and size + body > MAX_BATCH_BYTES:
                    queue.change_visibility(message.receipt_handle, 0)
                    continue
                size += body
                messages.append(message)
            if size >= MAX_BATCH_BYTES:
                break
        return messages

    def _records(self, messages: list[Message]) -> dict[str, dict[str, Any]]:
        queue = self.queue
        arn, region, fifo = queue.arn, self.loop.region, bool(queue.is_fifo)
        records = {m.message_id: sqs_record(m, arn, region, fifo) for m in messages}
        filters = self._filters
        if filters:
            for message in messages:
                view = _filter_view(records[message.message_id])
                if not any(f._match_body(view) for f in filters):
                    del records[message.message_id]
                    self.filtered += 1
                    self._delete(message)
        return records

    def _delete(self, message: Message) -> None:
        try:
            self.queue.delete(message.receipt_handle)
        except DecouplingError as exc:
            _log.warning("event source mapping %s: delete failed: %s", self.uuid, exc)
        else:
            self.deleted += 1

    def _batch_done(self, messages: dict[str, Message], inv: _Invocation) -> None:
        outcome = inv.outcome
        assert outcome is not None
        with self.runtime._lock:
            self.in_flight -= 1
            self._note(self.loop.clock.now())
            failed: set[str] | None
            if outcome.status != "ok":
                failed = None
            elif self.report_batch_item_failures:
                failed = _failed_ids(outcome.value, set(messages))
            else:
                failed = set()
            if failed is None:
                self.failed_batches += 1
                self.failed_records += len(messages)
            else:
                self.failed_records += len(failed)
                for message_id, message in messages.items():
                    if message_id not in failed:
                        self._delete(message)
            if self.enabled:
                self._schedule(self.loop.clock.now())

    @property
    def metrics(self) -> dict[str, int]:
        """Counters: invocations, records, deleted, filtered, failed_records, failed_batches,
        in_flight, target_concurrency, peak_concurrency."""
        with self.runtime._lock:
            return {"invocations": self.invocations, "records": self.records,
                    "deleted": self.deleted, "filtered": self.filtered,
                    "failed_records": self.failed_records, "failed_batches": self.failed_batches,
                    "in_flight": self.in_flight, "target_concurrency": self._target,
                    "peak_concurrency": self.peak_concurrency}

    def __repr__(self) -> str:
        return (f"EventSourceMapping({self.uuid!r}, queue={self.queue.name!r}, "
                f"function={self.function_name!r}, state={self.state!r})")
