"""Asynchronous (``Event``) invocation: the internal queue, retries, destinations, dead letters.

As the Lambda Developer Guide describes it
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html and
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html):

* ``Invoke`` with ``InvocationType=Event`` returns 202 at once; the event waits in the function's
  internal queue (a deque on the loop) until a concurrency slot is free.
* On a function error (an exception, a timeout), Lambda runs it "two more times, with a
  one-minute wait between the first two attempts, and two minutes between the second and third"
  — ``maximum_retry_attempts`` 0-2 (default 2) — keeping the same request id.
* An event older than ``maximum_event_age`` (60-21,600 s, default 21,600 = 6 h) when its turn
  comes is discarded with condition ``EventAgeExceeded``. Throttled events (no concurrency) wait
  in the queue for up to that age; here they start as soon as a slot frees, where Lambda retries
  them with a backoff from 1 s to 5 min (only the exact moment differs).
* A discarded event goes to the on-failure destination with condition ``RetriesExhausted`` or
  ``EventAgeExceeded``, and to the dead-letter queue (an SQS queue or an SNS topic) as its
  original payload with the ``RequestID``, ``ErrorCode`` (200) and ``ErrorMessage`` message
  attributes. A success goes to the on-success destination.

The destination record:
``{"version": "1.0", "timestamp", "requestContext": {"requestId", "functionArn",
"condition", "approximateInvokeCount"}, "requestPayload", "responseContext": {"statusCode",
"executedVersion", "functionError"?}, "responsePayload"}``. An event that expired before any
attempt has no ``responseContext``/``responsePayload``.

Destinations are duck-typed: a standard :class:`~decoupling.Queue` (``send``); anything with a
``publish(message, ...)`` method (an SNS :class:`Topic`); a function (its name, or a
:class:`~decoupling.functions.runtime.Function`), invoked asynchronously with the record; or, as an
extension for tests, any other callable taking the record.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterValueException, ValidationException
from ..message import MessageAttributeValue

if TYPE_CHECKING:
    from .runtime import Function, FunctionRuntime, _Invocation

__all__ = ["AsyncInvoker", "Destination", "RETRY_DELAYS"]

_log = logging.getLogger("decoupling.functions.runtime")

#: A destination: a Queue, a topic (``publish``), a function (name or Function) or a callable.
Destination = Any
#: Seconds before the first and second retry of a failed event.
RETRY_DELAYS = (60.0, 120.0)


def iso_timestamp(epoch: float) -> str:
    """``2026-01-01T00:00:00.000Z``: ISO-8601 UTC with milliseconds."""
    when = datetime.fromtimestamp(epoch, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class _Config:
    __slots__ = ("max_retries", "max_age", "on_success", "on_failure", "dead_letter")

    def __init__(self, max_retries: int, max_age: int, on_success: Destination,
                 on_failure: Destination, dead_letter: Destination) -> None:
        self.max_retries = max_retries
        self.max_age = max_age
        self.on_success = on_success
        self.on_failure = on_failure
        self.dead_letter = dead_letter


class _Event:
    __slots__ = ("request_id", "payload", "tenant_id", "enqueued_at", "attempts", "target")

    def __init__(self, request_id: str, payload: Any, tenant_id: str | None, now: float,
                 target: Function) -> None:
        self.target = target  # the function or the published version to run
        self.request_id = request_id
        self.payload = payload
        self.tenant_id = tenant_id
        self.enqueued_at = now
        self.attempts = 0


class AsyncInvoker:
    """The internal event queues of a runtime's functions (internal to
    :class:`~decoupling.FunctionRuntime`)."""

    def __init__(self, runtime: FunctionRuntime) -> None:
        self.runtime = runtime
        self.loop = runtime.loop
        self._configs: dict[str, _Config] = {}
        self._queues: dict[str, deque[_Event]] = {}
        self._pending_pump: set[str] = set()
        self._expiry_timer: dict[str, Any] = {}
        #: Events discarded, as ``(function name, request id, condition)``, oldest first.
        self.discarded: list[tuple[str, str, str]] = []

    # -- configuration ---------------------------------------------------------------------------

    def check_config(self, fn: Function, max_retries: object, max_age: object,
                     on_success: Destination, on_failure: Destination,
                     dead_letter: Destination) -> None:
        _check_range("maximumRetryAttempts", max_retries, 0, 2)
        _check_range("maximumEventAgeInSeconds", max_age, 60, 21_600)
        for label, dest in (("OnSuccess", on_success), ("OnFailure", on_failure),
                            ("DeadLetterConfig", dead_letter)):
            _check_destination(label, dest, allow_function=label != "DeadLetterConfig")

    def configure(self, fn: Function, max_retries: int, max_age: int, on_success: Destination,
                  on_failure: Destination, dead_letter: Destination) -> None:
        self._configs[fn.name] = _Config(max_retries, max_age, on_success, on_failure, dead_letter)
        self._queues.setdefault(fn.name, deque())

    def update(self, fn: Function, max_retries: int | None, max_age: int | None,
               on_success: Destination, on_failure: Destination, dead_letter: Destination) -> None:
        cfg = self._configs[fn.name]
        new = _Config(
            cfg.max_retries if max_retries is None else max_retries,
            cfg.max_age if max_age is None else max_age,
            cfg.on_success if on_success is None else on_success,
            cfg.on_failure if on_failure is None else on_failure,
            cfg.dead_letter if dead_letter is None else dead_letter,
        )
        self.check_config(fn, new.max_retries, new.max_age, new.on_success, new.on_failure,
                          new.dead_letter)
        self._configs[fn.name] = new

    def config(self, fn: Function) -> _Config:
        return self._configs[fn.name]

    def backlog(self, fn: Function) -> int:
        """Events waiting in the function's queue."""
        queue = self._queues.get(fn.name)
        return len(queue) if queue else 0

    # -- the queue -------------------------------------------------------------------------------

    def enqueue(self, fn: Function, payload: Any, tenant_id: str | None) -> str:
        """Queue one event; return its request id. O(1)."""
        request_id = self.loop.new_id()
        with self.runtime._lock:
            self._queues[fn.name].append(_Event(request_id, payload, tenant_id,
                                                self.loop.clock.now(), fn))
            self._schedule_pump(fn)
        return request_id

    def _schedule_pump(self, fn: Function) -> None:
        fn = getattr(fn, "base", fn)  # a version's events wait in its function's queue
        if fn.name not in self._pending_pump:
            self._pending_pump.add(fn.name)
            self.loop.call_later(0, functools.partial(self._pump, fn))

    def _pump(self, fn: Function) -> None:
        """Start queued events while the function has concurrency (a loop timer)."""
        runtime = self.runtime
        expired: list[_Event] = []
        with runtime._lock:
            self._pending_pump.discard(fn.name)
            if fn._deleted:
                return
            queue = self._queues[fn.name]
            cfg = self._configs[fn.name]
            while queue and runtime._has_capacity(fn):
                event = queue.popleft()
                now = self.loop.clock.now()
                if now - event.enqueued_at > cfg.max_age:
                    expired.append(event)
                    continue
                event.attempts += 1
                if event.target._deleted:  # a version deleted while its event waited
                    continue
                runtime._begin(event.target, event.payload, "Event", event.tenant_id,
                               functools.partial(self._done, event), serialize=True,
                               request_id=event.request_id)
            if queue:
                runtime._wait_for_capacity(fn, id(self), functools.partial(self._pump, fn))
                self._arm_expiry(fn, queue[0].enqueued_at + cfg.max_age)
        for event in expired:
            self._discard(fn, event, "EventAgeExceeded", None)

    def _arm_expiry(self, fn: Function, when: float) -> None:
        timer = self._expiry_timer.get(fn.name)
        if timer is not None and not timer.cancelled and timer.when <= when:
            return
        if timer is not None:
            timer.cancel()
        self._expiry_timer[fn.name] = self.loop.call_at(when + 1e-6,
                                                        functools.partial(self._expire, fn))

    def _expire(self, fn: Function) -> None:
        """Discard events that waited past the maximum age while throttled."""
        expired: list[_Event] = []
        with self.runtime._lock:
            self._expiry_timer.pop(fn.name, None)
            queue = self._queues.get(fn.name)
            if not queue or fn._deleted:
                return
            max_age = self._configs[fn.name].max_age
            now = self.loop.clock.now()
            kept = deque(e for e in queue if now - e.enqueued_at <= max_age)
            expired = [e for e in queue if now - e.enqueued_at > max_age]
            self._queues[fn.name] = kept
            if kept:
                self._arm_expiry(fn, min(e.enqueued_at for e in kept) + max_age)
        for event in expired:
            self._discard(fn, event, "EventAgeExceeded", None)

    def _done(self, event: _Event, inv: _Invocation) -> None:
        fn = inv.function
        outcome = inv.outcome
        assert outcome is not None
        cfg = self._configs.get(fn.name)
        if cfg is None:
            return
        if outcome.status == "ok":
            if cfg.on_success is not None:
                self._deliver(cfg.on_success, self._record(fn, event, "Success", inv))
            return
        if event.attempts <= cfg.max_retries:
            delay = RETRY_DELAYS[min(event.attempts, len(RETRY_DELAYS)) - 1]
            self.loop.call_later(delay, functools.partial(self._retry, fn, event))
            return
        self._discard(fn, event, "RetriesExhausted", inv)

    def _retry(self, fn: Function, event: _Event) -> None:
        with self.runtime._lock:
            if fn._deleted:
                return
            self._queues[fn.name].appendleft(event)
            self._schedule_pump(fn)

    # -- results ---------------------------------------------------------------------------------

    def _record(self, fn: Function, event: _Event, condition: str,
                inv: _Invocation | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": iso_timestamp(self.loop.clock.wall()),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": fn.qualified_arn,
                "condition": condition,
                "approximateInvokeCount": event.attempts,
            },
            "requestPayload": event.payload,
        }
        if inv is not None and inv.outcome is not None:
            outcome = inv.outcome
            response: dict[str, Any] = {"statusCode": 200,
                                        "executedVersion": inv.function.version}
            if outcome.status == "ok":
                record["responseContext"] = response
                record["responsePayload"] = outcome.value
            else:
                response["functionError"] = "Unhandled"
                record["responseContext"] = response
                record["responsePayload"] = outcome.error
        return record

    def _discard(self, fn: Function, event: _Event, condition: str,
                 inv: _Invocation | None) -> None:
        cfg = self._configs.get(fn.name)
        self.discarded.append((fn.name, event.request_id, condition))
        if cfg is None:
            return
        if cfg.on_failure is not None:
            self._deliver(cfg.on_failure, self._record(fn, event, condition, inv))
        if cfg.dead_letter is not None:
            message = "Event expired before it could be processed"
            if inv is not None and inv.outcome is not None and inv.outcome.error:
                message = str(inv.outcome.error.get("errorMessage", ""))[:1024]
            attributes = {
                "RequestID": MessageAttributeValue("String", event.request_id),
                "ErrorCode": MessageAttributeValue("Number", "200"),
                "ErrorMessage": MessageAttributeValue("String", message or "Unhandled"),
            }
            self._deliver(cfg.dead_letter, event.payload, attributes)

    def _deliver(self, dest: Destination, body: Any,
                 attributes: dict[str, MessageAttributeValue] | None = None) -> None:
        """Send a record to a destination; a failing destination is logged, never raised."""
        from .runtime import Function

        text = json.dumps(body)
        try:
            if isinstance(dest, (str, Function)):
                name = dest if isinstance(dest, str) else dest.name
                self.runtime.invoke(name, body, "Event")
            elif hasattr(dest, "send") and hasattr(dest, "is_fifo"):
                dest.send(text, message_attributes=attributes)
            elif hasattr(dest, "publish"):
                if attributes:
                    dest.publish(text, message_attributes=attributes)
                else:
                    dest.publish(text)
            else:
                dest(body)
        except Exception:
            _log.exception("delivery to destination %r failed", dest)


def _check_range(member: str, value: object, low: int, high: int) -> None:
    """An integer member within ``[low, high]``, refused in the service's own validation words
    ("1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy
    constraint: Member must have value less than or equal to 2")."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must be an integer between {low} and {high}")
    if value > high:
        bound = f"less than or equal to {high}"
    elif value < low:
        bound = f"greater than or equal to {low}"
    else:
        return
    raise ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value {bound}")


def _check_destination(label: str, dest: Destination, *, allow_function: bool) -> None:
    from .runtime import Function

    if dest is None:
        return
    if isinstance(dest, (str, Function)):
        if not allow_function:
            raise InvalidParameterValueException(
                f"{label}: a dead-letter target must be an SQS queue or an SNS topic.")
        return
    if hasattr(dest, "send") and hasattr(dest, "is_fifo"):
        if dest.is_fifo:
            raise InvalidParameterValueException(
                f"{label}: FIFO queues are not supported as destinations ({dest!r}).")
        return
    if hasattr(dest, "publish") or callable(dest):
        return
    raise InvalidParameterValueException(
        f"{label}: {dest!r} is not a queue, topic, function or callable.")

