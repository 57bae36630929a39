"""``Chaos``: seeded faults that AWS's contracts allow, so consumers can prove they cope.

Off by default; attach one to a loop (every standard queue, topic and function on it) or to a
single queue, topic or function::

    chaos = dc.Chaos(seed=1, duplicate_rate=0.05, reorder=True, short_poll_sampling=True)
    chaos.attach(loop)

What it does, and the AWS rule that allows it:

* **Duplicates** (``duplicate_rate``): standard queues deliver *at least once*. "On rare
  occasions, one of the servers which stores a copy of the message is unavailable when you
  send the request to delete the message. The copy remains on the server and might be returned
  to you during a subsequent receive request" (DeleteMessage API reference). So after a
  successful delete, with this probability a copy of the message — the same ``MessageId``,
  body, attributes and ``SentTimestamp`` — becomes visible again up to ``duplicate_delay``
  seconds later (a loop timer; journal kind ``duplicate_arrived``). The copy's receive count
  starts again from 0: a consumer that processes and deletes every copy it gets is doing its
  job, and its message must not end in the dead-letter queue for it. A durable store keeps the
  copy once it has arrived (it is a message of the queue like any other).
* **Reordering** (``reorder``): standard queues give *best-effort ordering* ("occasionally,
  messages are delivered in an order different from which they were sent", SQS Developer
  Guide, standard queues). Each message sent is placed at a random position among the last
  ``reorder_window`` visible messages instead of at the end.
* **Short-poll sampling** (``short_poll_sampling``): "with short polling, the ReceiveMessage
  request queries only a subset of the servers (based on a weighted random distribution) ...
  If the number of messages in the queue is small (fewer than 1,000), you most likely get fewer
  messages than you requested per ReceiveMessage call. If the number of messages in the queue
  is extremely small, you might not receive any messages in a particular ReceiveMessage
  response" (SQS Developer Guide, short and long polling). A receive with ``wait_seconds=0``
  finds each visible message with probability ``short_poll_fraction`` and returns at most what
  it found — possibly nothing although messages are visible. Long polls query every server:
  never sampled; nor are the receives of event source mappings and consumer pools (Lambda's
  pollers long-poll).
* **Delivery failures** (``delivery_failure_rate``): a topic's delivery attempt to a
  non-SQS subscription (callables, HTTP/S, Lambda, email, SMS) fails as a server-side error
  would, and SNS retries it along the subscription's retry policy, then dead-letters it.
* **Invocation faults**: ``invocation_error_rate`` turns a successful invocation into a
  function error *after its handler ran* (its side effects stand: the runtime crashed on the
  way out), so event sources retry work that was done; ``throttle_rate`` refuses a
  synchronous invoke with ``TooManyRequestsException`` although there is capacity.

FIFO queues are left alone (exactly-once, strictly ordered). Each kind of fault draws from its
own random stream derived from ``seed``, so a run is reproducible and turning one fault on does
not change the draws of another.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterValue
from ..sqs import _watch as _queue_watch
from ._tap import Tap

if TYPE_CHECKING:
    from .._core.ledger import Entry
    from ..functions.runtime import Function, _Invocation
    from ..sns.message import Notification
    from ..sns.subscription import Subscription
    from ..sqs.queue import Queue

__all__ = ["Chaos", "ChaosDeliveryError"]


class ChaosDeliveryError(Exception):
    """The server-side failure :class:`Chaos` injects into a topic's delivery attempt."""


def _rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidParameterValue(f"{name} must be a probability from 0 to 1, got {value!r}.")
    return float(value)


def _seconds(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        bounds = f">= {low}" if high is None else f"from {low} to {high:,}"
        raise InvalidParameterValue(f"{name} must be an integer {bounds}, got {value!r}.")
    return value


class Chaos:
    """Seeded, AWS-allowed faults (see :mod:`decoupling.observe.chaos`).

    Args:
        seed: seeds every random draw (default 0).
        duplicate_rate: probability (0-1) that a deleted standard-queue message comes back as a
            second copy (default 0).
        duplicate_delay: the copy reappears 0 to this many whole seconds after the delete,
            uniformly (0 to 1,209,600, SQS's longest retention period; default 30).
        reorder: place each sent message at a random position among the last
            ``reorder_window`` visible ones (default ``False``).
        reorder_window: how far back a message may be placed (>= 1; default 10).
        short_poll_sampling: short polls see only a random sample of the visible messages
            (default ``False``).
        short_poll_fraction: the chance (0-1) that a short poll sees a given visible message
            (default 0.5).
        delivery_failure_rate: probability that a topic's delivery attempt to a non-SQS
            subscription fails and is retried (default 0).
        invocation_error_rate: probability that a successful invocation is reported as a
            function error after its handler ran (default 0).
        throttle_rate: probability that a synchronous invoke is throttled (default 0).

    Counters (how often each fault struck): :attr:`duplicates`, :attr:`reordered`,
    :attr:`sampled_receives`, :attr:`false_empty_receives`, :attr:`failed_deliveries`,
    :attr:`injected_errors`, :attr:`injected_throttles`.

    Raises:
        InvalidParameterValue: a rate outside 0-1, a negative delay, a window below 1.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        duplicate_rate: float = 0.0,
        duplicate_delay: int = 30,
        reorder: bool = False,
        reorder_window: int = 10,
        short_poll_sampling: bool = False,
        short_poll_fraction: float = 0.5,
        delivery_failure_rate: float = 0.0,
        invocation_error_rate: float = 0.0,
        throttle_rate: float = 0.0,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidParameterValue(f"seed must be an integer, got {seed!r}.")
        self.seed = seed
        self.duplicate_rate = _rate("duplicate_rate", duplicate_rate)
        # A copy can come back no later than SQS keeps a message (14 days at most); a longer
        # delay would only overflow the loop's clock.
        self.duplicate_delay = _seconds("duplicate_delay", duplicate_delay, 0, 1_209_600)
        self.reorder = bool(reorder)
        self.reorder_window = _seconds("reorder_window", reorder_window, 1)
        self.short_poll_sampling = bool(short_poll_sampling)
        self.short_poll_fraction = _rate("short_poll_fraction", short_poll_fraction)
        self.delivery_failure_rate = _rate("delivery_failure_rate", delivery_failure_rate)
        self.invocation_error_rate = _rate("invocation_error_rate", invocation_error_rate)
        self.throttle_rate = _rate("throttle_rate", throttle_rate)
        streams = ("duplicate", "reorder", "sample", "delivery", "invocation", "throttle")
        self._rng = {name: random.Random(f"{seed}:{name}") for name in streams}
        self.duplicates = 0
        self.reordered = 0
        self.sampled_receives = 0
        self.false_empty_receives = 0
        self.failed_deliveries = 0
        self.injected_errors = 0
        self.injected_throttles = 0
        self._attached: list[tuple[Tap, object | None]] = []

    # -- attaching ------------------------------------------------------------------------------

    def attach(self, target: Any) -> Chaos:
        """Apply to a whole loop (an :class:`~decoupling.EventLoop`) or to one standard
        :class:`~decoupling.Queue`, :class:`~decoupling.Topic` or Lambda
        :class:`~decoupling.Function`. A resource's own chaos takes precedence over its loop's.
        Returns ``self``.

        Raises:
            InvalidParameterValue: a FIFO queue, anything else that is not one of those, or a
                loop that already has a loop-wide chaos.
            UnsupportedOperation: an AWS account (chaos exists only in process).
        """
        from ..functions.runtime import Function
        from ..loop import EventLoop
        from ..sns.topic import Topic
        from ..sqs.queue import Queue

        resource: object | None
        if isinstance(target, EventLoop):
            loop, resource = target, None
        elif isinstance(target, Queue):
            if target.is_fifo:
                raise InvalidParameterValue(
                    "Chaos applies to standard queues: FIFO queues deliver exactly once, in "
                    "order.")
            loop, resource = target.loop, target
        elif isinstance(target, Topic):
            loop, resource = target.loop, target
        elif isinstance(target, Function):
            loop, resource = target.runtime.loop, target
        elif hasattr(target, "in_process_only"):  # an account of another backend (decoupling.aws)
            raise target.in_process_only("Chaos")
        else:
            raise InvalidParameterValue(
                f"Chaos attaches to an EventLoop, a Queue, a Topic or a Function; got {target!r}.")
        with loop._lock:
            tap = Tap.attach(loop)
            if resource is None:
                if tap.chaos is not None and tap.chaos is not self:
                    tap.release()
                    raise InvalidParameterValue(
                        "This loop already has a loop-wide Chaos: detach it first.")
                tap.chaos = self
            else:
                tap.chaos_by_resource[id(resource)] = (resource, self)
            tap.rewire()  # every queue on its general path while chaos is attached
            self._attached.append((tap, resource))
        return self

    def detach(self) -> None:
        """Stop every fault this chaos injects, everywhere it was attached. Idempotent."""
        for tap, resource in self._attached:
            with tap.loop._lock:
                if resource is None:
                    if tap.chaos is self:
                        tap.chaos = None
                else:
                    own = tap.chaos_by_resource.get(id(resource))
                    if own is not None and own[1] is self:
                        del tap.chaos_by_resource[id(resource)]
                tap.rewire()
                tap.release()
        self._attached.clear()

    close = detach

    def __repr__(self) -> str:
        return (f"Chaos(seed={self.seed}, duplicate_rate={self.duplicate_rate}, "
                f"reorder={self.reorder}, short_poll_sampling={self.short_poll_sampling})")

    # -- SQS (loop lock held) -------------------------------------------------------------------

    def _queue_event(self, event: str, queue: Queue, entry: Entry | None) -> None:
        if entry is None or queue.is_fifo:
            return
        if event == "deleted" and self.duplicate_rate:
            if self._rng["duplicate"].random() < self.duplicate_rate:
                self._schedule_copy(queue, entry)
        elif event == "sent" and self.reorder:
            self._reorder(queue, entry)

    def _schedule_copy(self, queue: Queue, entry: Entry) -> None:
        from ..sqs.queue import _Record

        r = entry.record
        copy = _Record(r.message_id, r.body, r.attributes, r.sent_ms, r.group_id, r.dedup_id,
                       r.sequence_number, r.dlq_source_arn, r.trace_header)
        delay = self._rng["duplicate"].randint(0, self.duplicate_delay)
        sent_at = entry.sent_at
        self.duplicates += 1

        def reappear() -> None:
            with queue._lock:
                if queue._deleted:
                    return
                now = queue.loop.clock.now()
                queue._ledger.settle(now)
                # Receive count 0: the copy's deliveries are counted afresh (see the module
                # docstring); retention still counts from the original send.
                arrived = queue._ledger.enqueue(copy, now, sent_at=sent_at, lane=copy.group_id)
                if queue._observers:
                    queue._emit("duplicate_arrived", arrived)
                if queue._waiting:
                    queue._cond.notify(queue._waiting)

        queue.loop.call_later(delay, reappear)

    def _reorder(self, queue: Queue, entry: Entry) -> None:
        ledger = queue._ledger
        visible = ledger._visible
        if ledger._laned or not visible or visible[-1] is not entry:
            return  # delayed, or a fair queue's lanes: left in order
        back = self._rng["reorder"].randint(0, min(self.reorder_window, len(visible) - 1))
        if back:
            visible.pop()
            visible.insert(len(visible) - back, entry)
            self.reordered += 1

    def _short_poll(self, queue: Queue, max_messages: int) -> int:
        if not self.short_poll_sampling or queue.__dict__.get(_queue_watch._ATTR):
            # A queue drained by an event source mapping or a ConsumerPool: their receives
            # stand for Lambda's pollers, which long-poll (and here poll only when messages
            # are visible). Sampling them would stall the mapping.
            return max_messages
        visible = queue._settled().n_visible
        if not visible:
            return max_messages
        self.sampled_receives += 1
        rng = self._rng["sample"]
        fraction = self.short_poll_fraction
        found = 0
        for _ in range(visible):
            if rng.random() < fraction:
                found += 1
                if found == max_messages:
                    break
        if not found:
            self.false_empty_receives += 1
        return found

    # -- SNS ------------------------------------------------------------------------------------

    def _delivery_attempt(self, sub: Subscription, n: Notification) -> None:
        if self.delivery_failure_rate and \
                self._rng["delivery"].random() < self.delivery_failure_rate:
            self.failed_deliveries += 1
            raise ChaosDeliveryError(
                f"injected delivery failure (decoupling.Chaos) on attempt {n.attempt}")

    # -- Lambda ---------------------------------------------------------------------------------

    def _throttle(self, fn: Function) -> bool:
        if self.throttle_rate and self._rng["throttle"].random() < self.throttle_rate:
            self.injected_throttles += 1
            return True
        return False

    def _invocation_outcome(self, inv: _Invocation) -> None:
        outcome = inv.outcome
        if outcome is None or outcome.status != "ok" or not self.invocation_error_rate:
            return
        if self._rng["invocation"].random() < self.invocation_error_rate:
            self.injected_errors += 1
            outcome.status = "error"
            outcome.value = None
            outcome.error = {
                "errorMessage": "injected after the handler returned (decoupling.Chaos)",
                "errorType": "ChaosInjectedError",
                "requestId": inv.request_id,
                "stackTrace": [],
            }
