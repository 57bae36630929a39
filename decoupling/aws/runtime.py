"""``AwsFunctionRuntime``: Lambda-style handlers in this process, fed by real SQS queues.

The functions themselves run as in process (a private real-time :class:`~decoupling.EventLoop`
holds them: timeouts, concurrency, metering, ``invoke`` are the in-process runtime's). What
changes is the event source: :meth:`AwsFunctionRuntime.add_event_source` starts a self-hosted
poller of a real queue with the in-process mapping's settings and semantics:

* batches of ``batch_size`` (1-10,000), gathered with long polls for up to
  ``maximum_batching_window`` seconds of real time from the first message (SQS's long polls
  count whole seconds, so a window may run up to a second longer); at most 6 MB of bodies;
* success deletes the batch (DeleteMessageBatch, 10 a request); an error deletes nothing and
  leaves the messages to the queue's visibility timeout and redrive policy (SQS, not us,
  moves them to the dead-letter queue); ``report_batch_item_failures`` deletes all but the
  named ones, an invalid response fails the batch;
* ``filter_criteria``: messages that match no pattern are deleted without an invocation;
* scaling: one poller thread to start; one more each time a poll returns a full batch, up to
  ``maximum_concurrency`` (default 5: the number of pollers Lambda starts with, kept as the
  ceiling for a self-hosted consumer); a poller beyond the first stops after an empty poll.

Threads, because boto3 calls block: a bounded number per mapping (never one per message), each
in a long poll of ``account.poll_wait_seconds``; :meth:`EventSourceMapping.delete` and
:meth:`AwsFunctionRuntime.close` stop them and wait for them (at most one long poll).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterValueException, TooManyRequestsException
from ..functions.event_sources import (
    MAX_BATCH_BYTES,
    EventSourceMapping,
    _failed_ids,
    _filter_view,
    sqs_record,
)
from ..functions.runtime import FunctionRuntime
from ..functions.schedules import ScheduleRule
from ..loop import EventLoop
from ..message import Message
from .queue import AwsQueue

if TYPE_CHECKING:
    from .account import Account

__all__ = ["AwsFunctionRuntime", "AwsEventSourceMapping"]

_log = logging.getLogger("decoupling.aws.runtime")
#: Concurrent batches of a mapping without ``maximum_concurrency``.
DEFAULT_POLLERS = 5


class AwsFunctionRuntime(FunctionRuntime):
    """:class:`~decoupling.FunctionRuntime` on an AWS account (made by
    ``FunctionRuntime(account, ...)``, same keyword arguments). Handlers run in this process;
    event sources are real queues polled from here.

    Attributes:
        account: the :class:`~decoupling.aws.Account`.
        loop: the private real-time loop that runs the functions (started here).
    """

    def __init__(self, loop: Account, **kwargs: Any) -> None:
        self.account = loop
        inner = EventLoop(region=loop.region)
        super().__init__(inner, **kwargs)
        inner.start()

    def add_event_source(self, queue: Any, function_name: str, **options: Any) -> EventSourceMapping:
        """Poll a real queue and invoke ``function_name`` with its messages (the self-hosted
        equivalent of CreateEventSourceMapping); options as
        :class:`~decoupling.functions.event_sources.EventSourceMapping`."""
        if not isinstance(queue, AwsQueue):
            raise InvalidParameterValueException(
                f"{queue!r} is not a queue of this AWS account (make it with Queue(account, ...)).")
        allowed = {"batch_size", "maximum_batching_window", "report_batch_item_failures",
                   "filter_criteria", "enabled", "maximum_concurrency", "provisioned_pollers"}
        unknown = set(options) - allowed
        if unknown:
            raise InvalidParameterValueException(
                f"Unknown option(s) {', '.join(sorted(unknown))}; allowed: "
                f"{', '.join(sorted(allowed))}.")
        return AwsEventSourceMapping(self, queue, function_name, **options)

    def schedule(self, function_name: str, expression: str, **options: Any) -> ScheduleRule:
        """A schedule on this process's real clock (an EventBridge rule would run it on AWS)."""
        return super().schedule(function_name, expression, **options)

    def close(self) -> None:
        """Stop the pollers (each finishes its current long poll and batch), then the loop."""
        super().close()
        self.loop.stop()


class AwsEventSourceMapping(EventSourceMapping):
    """A self-hosted poller of a real queue (see the module docstring)."""

    runtime: AwsFunctionRuntime
    queue: AwsQueue

    def __init__(self, runtime: AwsFunctionRuntime, queue: AwsQueue,
                 function_name: str, *, batch_size: int = 10, maximum_batching_window: int = 0,
                 report_batch_item_failures: bool = False, filter_criteria: Any = None,
                 enabled: bool = True, maximum_concurrency: int | None = None,
                 provisioned_pollers: tuple[int, int] | bool | None = None) -> None:
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
        self.uuid = self.loop.new_id()
        self._apply(settings)
        self.invocations = self.records = self.deleted = self.filtered = 0
        self.failed_records = self.failed_batches = 0
        self.in_flight = 0
        self.peak_concurrency = 0
        self.history: deque[tuple[float, int, int]] = deque(maxlen=100_000)
        self._last_modified = time.time()
        self._state_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.enabled = False
        self.state = "Disabled"
        runtime.event_source_mappings[self.uuid] = self
        if enabled:
            self.enable()

    # -- configuration ---------------------------------------------------------------------------

    @property
    def _ceiling(self) -> int:
        if self.provisioned_pollers is not None:
            return self.provisioned_pollers[1]
        return self.maximum_concurrency or DEFAULT_POLLERS

    @property
    def target_concurrency(self) -> int:
        """Poller threads running now."""
        with self._state_lock:
            return sum(t.is_alive() for t in self._threads)

    def update(self, **changes: Any) -> None:
        """Change settings (as UpdateEventSourceMapping); pollers pick them up on their next
        poll."""
        allowed = {"batch_size", "maximum_batching_window", "report_batch_item_failures",
                   "filter_criteria", "maximum_concurrency", "provisioned_pollers", "enabled"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidParameterValueException(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        enabled = changes.pop("enabled", None)
        cfg = {"batch_size": self.batch_size,
               "maximum_batching_window": self.maximum_batching_window,
               "report_batch_item_failures": self.report_batch_item_failures,
               "filter_criteria": self.filter_criteria,
               "maximum_concurrency": self.maximum_concurrency,
               "provisioned_pollers": self.provisioned_pollers, **changes}
        self._apply(self._validate(**cfg))
        self._last_modified = time.time()
        if enabled is not None:
            self.enable() if enabled else self.disable()

    def enable(self) -> None:
        """Start polling (one poller thread; more as the backlog asks)."""
        with self._state_lock:
            if self.state == "Deleting" or self.enabled:
                return
            self.enabled = True
            self.state = "Enabled"
            self._stop = threading.Event()
            self._threads = [t for t in self._threads if t.is_alive()]
            self._spawn_locked()

    def disable(self) -> None:
        """Stop polling: each poller finishes its long poll and its batch; returns when they
        have stopped."""
        with self._state_lock:
            self.enabled = False
            if self.state != "Deleting":
                self.state = "Disabled"
            self._stop.set()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()

    def delete(self) -> None:
        """Stop polling and forget the mapping."""
        self.disable()
        self.state = "Deleting"
        self.runtime.event_source_mappings.pop(self.uuid, None)

    def to_aws(self) -> dict[str, Any]:
        """The mapping as GetEventSourceMapping describes it."""
        out = super().to_aws()
        out["LastModified"] = datetime.fromtimestamp(self._last_modified, UTC).isoformat()
        return out

    @property
    def metrics(self) -> dict[str, int]:
        """Counters as on the in-process mapping."""
        with self._state_lock:
            return {"invocations": self.invocations, "records": self.records,
                    "deleted": self.deleted, "filtered": self.filtered,
                    "failed_records": self.failed_records, "failed_batches": self.failed_batches,
                    "in_flight": self.in_flight,
                    "target_concurrency": sum(t.is_alive() for t in self._threads),
                    "peak_concurrency": self.peak_concurrency}

    # -- pollers ---------------------------------------------------------------------------------

    def _spawn_locked(self) -> bool:
        alive = [t for t in self._threads if t.is_alive()]
        if len(alive) >= self._ceiling or not self.enabled:
            return False
        first = not alive
        thread = threading.Thread(target=self._run, args=(first, self._stop),
                                  name=f"decoupling-poller-{self.queue.name}", daemon=True)
        alive.append(thread)
        self._threads = alive
        thread.start()
        return True

    def _run(self, first: bool, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                messages = self._gather(stop)
            except Exception as error:  # a poller outlives a failed request
                # (a service error, or botocore's connection errors after its retries):
                # wait a second, as Lambda's pollers back off, then poll again.
                _log.warning("poller of %s: receive failed: %s", self.queue.name, error)
                stop.wait(1.0)
                continue
            if not messages:
                if not first:
                    return  # scale in: the first poller keeps watching
                continue
            if len(messages) >= self.batch_size:
                with self._state_lock:
                    self._spawn_locked()  # a full batch: the backlog may need another poller
            self._process(messages)

    def _gather(self, stop: threading.Event) -> list[Message]:
        """Long-poll until a batch is full, the window ends, or (without a window) a poll
        returned messages."""
        queue, size = self.queue, self.batch_size
        wait_max = self.runtime.account.poll_wait_seconds
        window = self.maximum_batching_window
        deadline = None
        messages: list[Message] = []
        total = 0
        while len(messages) < size and not stop.is_set():
            wait = wait_max
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # Whole seconds, rounded up (a long poll returns early when messages come):
                # never a short-poll loop until the window ends.
                wait = min(wait_max, math.ceil(left))
            got = queue.receive(min(10, size - len(messages)), wait_seconds=wait)
            for message in got:
                body = len(message.body.encode())
                if messages and total + body > MAX_BATCH_BYTES:
                    queue.change_visibility(message.receipt_handle, 0)
                    continue
                total += body
                messages.append(message)
            if not window:
                if messages:
                    break
                if not got:
                    break
            elif messages and deadline is None:
                deadline = time.monotonic() + window
            if not got and not messages:
                break
        return messages

    def _process(self, messages: list[Message]) -> None:
        queue = self.queue
        records = {m.message_id: sqs_record(m, queue.arn, self.runtime.account.region,
                                            queue.is_fifo) for m in messages}
        by_id = {m.message_id: m for m in messages}
        if self._filters:
            unmatched = [m for m in messages if not any(
                f._match_body(_filter_view(records[m.message_id])) for f in self._filters)]
            for message in unmatched:
                del records[message.message_id]
                del by_id[message.message_id]
            with self._state_lock:
                self.filtered += len(unmatched)
            self._delete_messages(unmatched)
        if not records:
            return
        with self._state_lock:
            self.in_flight += 1
            self.peak_concurrency = max(self.peak_concurrency, self.in_flight)
            self.invocations += 1
            self.records += len(records)
        try:
            try:
                result = self.runtime.invoke(self.function_name, {"Records": list(records.values())})
            except TooManyRequestsException:
                failed: set[str] | None = None  # throttled: back after the visibility timeout
            else:
                if result.function_error is not None:
                    failed = None
                elif self.report_batch_item_failures:
                    failed = _failed_ids(result.payload, set(by_id))
                else:
                    failed = set()
            with self._state_lock:
                if failed is None:
                    self.failed_batches += 1
                    self.failed_records += len(by_id)
                else:
                    self.failed_records += len(failed)
            if failed is not None:
                self._delete_messages([m for i, m in by_id.items() if i not in failed])
        finally:
            with self._state_lock:
                self.in_flight -= 1

    def _delete_messages(self, messages: list[Message]) -> None:
        if not messages:
            return
        try:
            result = self.queue.delete_batch([
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)])
        except Exception as error:  # they come back; the poller goes on
            _log.warning("poller of %s: delete failed: %s", self.queue.name, error)
            return
        with self._state_lock:
            self.deleted += len(result.successful)

    def __repr__(self) -> str:
        return (f"AwsEventSourceMapping({self.uuid!r}, queue={self.queue.name!r}, "
                f"function={self.function_name!r}, state={self.state!r})")
