"""``ConsumerPool``: plain Python workers on a queue, autoscaled as an EC2 group would be.

The pattern of a worker fleet behind a queue, scaled by a target-tracking policy on "backlog per
instance" (AWS Auto Scaling User Guide, "Scaling policy based on Amazon SQS": the metric is
``ApproximateNumberOfMessages / running instances`` and the target is the backlog one instance
may hold). Every ``evaluation_period`` seconds the pool computes the desired workers
``ceil(backlog / target_backlog_per_worker)`` within ``[min_workers, max_workers]``; it scales
out at once (then not again for ``scale_out_cooldown``) and scales in only after
``scale_in_cooldown`` since the last change (target tracking is conservative about scaling in).
:attr:`ConsumerPool.history` records ``(time, workers, backlog)`` at each evaluation, for plots.

Which mode runs depends on the loop's clock:

* **Simulation** (a virtual clock, :class:`~decoupling.ManualClock`): workers are timers on the
  loop, never threads. Each receives up to ``batch_size`` messages, calls ``worker_fn(message)``
  for each (deleting it when the call returns, leaving it for its visibility timeout when it
  raises), and takes ``processing_time`` virtual seconds per message before it receives again.
  An idle pool sleeps until a message arrives (see :mod:`decoupling.sqs._watch`), so
  ``loop.run_until_idle()`` returns once the work is done and the pool is back at
  ``min_workers``. Runs are deterministic.
* **Real clock** (the default :class:`~decoupling.MonotonicClock`): workers are the pool's own
  threads, at most ``max_workers``, so handlers run in parallel and a blocking handler never
  delays the loop's timers. Each thread receives a batch, calls the handler for each message
  (deleting it on return, leaving it on raise) and receives again; the handler's own running
  time is the processing time. An idle thread waits on the pool's condition until a message
  arrives, a delayed or in-flight message becomes visible, or ``wait_seconds`` pass (a long
  poll), never spinning. The scaling evaluations stay loop timers and start or retire threads
  by the same rule; a retired thread finishes its batch first. ``async def`` handlers run as
  tasks on an asyncio loop (``asyncio_loop``, or the one running where the pool is created),
  awaited by the worker threads, so at most ``workers`` run at once.

:meth:`ConsumerPool.stop` with ``drain=True`` (real clock) stops receiving, lets each handler in
flight finish and deletes its message, and makes the messages a thread received but had not
started visible again at once (``ChangeMessageVisibility`` to 0): nothing is lost.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import DecouplingError, InvalidParameterValueException
from ..message import Message
from ..sqs import _watch as _queue_watch
from .invocation import released

if TYPE_CHECKING:
    import asyncio

__all__ = ["ConsumerPool"]

_log = logging.getLogger("decoupling.functions.consumer_pool")

#: Upper bounds of the pool's numeric settings: a day for periods and cooldowns, SQS's longest
#: visibility timeout (12 hours) for one message's simulated processing time, and a backlog
#: target far past any queue's reach.
MAX_SECONDS = 86_400
MAX_PROCESSING = 43_200
MAX_BACKLOG = 1_000_000_000


def _check_number(label: str, value: object, low: float, high: float, *,
                  low_open: bool = False) -> None:
    """A finite int or float within [low, high] (or (low, high]), else
    InvalidParameterValueException naming the setting and the range."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and (isinstance(value, int) or math.isfinite(value))  # a huge int has no float
          and (value > low if low_open else value >= low)
          and value <= high)
    if not ok:
        bracket = "(" if low_open else "["
        raise InvalidParameterValueException(
            f"{label} must be a number in {bracket}{low:g}, {high:g}], got {value!r}.")


class ConsumerPool:
    """Autoscaled workers consuming a queue: timers on a virtual clock, threads on a real one.

    Args:
        queue: a :class:`~decoupling.Queue` or FIFO queue.
        worker_fn: ``worker_fn(message)`` for each :class:`~decoupling.Message`; an ``async def``
            function is supported on a real clock only (see ``asyncio_loop``).
        min_workers: at least this many (default 1).
        max_workers: at most this many (default 10); on a real clock, at most this many threads.
        target_backlog_per_worker: messages one worker may have waiting (default 100; > 0).
        processing_time: virtual seconds per message — a number or ``f(message) -> seconds``
            (default 0.0; a number 0-43,200). Virtual clock only: on a real clock the handler's own running time
            is the processing time and this is ignored.
        batch_size: messages per receive, 1-10 (default 10).
        evaluation_period: seconds between scaling evaluations (default 60; > 0, at most
            86,400).
        scale_out_cooldown: seconds after a scale-out before the next (default 60; 0-86,400).
        scale_in_cooldown: seconds after any change before a scale-in (default 300;
            0-86,400).
        wait_seconds: real clock: the longest an idle worker thread waits before it receives
            again, 1-20 s like an SQS long poll (default 20). It wakes earlier when a message
            arrives, when a delayed or in-flight message becomes visible, and on :meth:`stop`.
        asyncio_loop: real clock, ``async def`` handlers: the asyncio loop their tasks run on
            (default: the loop running where the pool is created; without one the pool refuses
            an ``async def`` handler).

    Attributes:
        workers: workers wanted now (on a real clock a retired thread finishes its batch
            first). history: ``(time, workers, backlog)`` per evaluation.
        processed / failed: messages handled (and deleted) / raised.
        threaded: ``True`` on a real clock (worker threads), ``False`` on a virtual one.

    Raises:
        InvalidParameterValueException: a count, period or cooldown out of range, or an
            ``async def`` handler without a real clock and an asyncio loop.
    """

    def __init__(self, queue: Any, worker_fn: Callable[[Message], object], *,
                 min_workers: int = 1, max_workers: int = 10,
                 target_backlog_per_worker: float = 100, processing_time: float | Callable[[Message], float] = 0.0,
                 batch_size: int = 10, evaluation_period: float = 60.0,
                 scale_out_cooldown: float = 60.0, scale_in_cooldown: float = 300.0,
                 wait_seconds: int = 20,
                 asyncio_loop: asyncio.AbstractEventLoop | None = None) -> None:
        for label, value, low in (("min_workers", min_workers, 0), ("max_workers", max_workers, 1),
                                  ("batch_size", batch_size, 1), ("wait_seconds", wait_seconds, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidParameterValueException(f"{label} must be an integer >= {low}, got {value!r}.")
        if min_workers > max_workers:
            raise InvalidParameterValueException("min_workers must not exceed max_workers.")
        if batch_size > 10:
            raise InvalidParameterValueException("batch_size must be 1-10.")
        if wait_seconds > 20:
            raise InvalidParameterValueException(f"wait_seconds must be 1-20, got {wait_seconds}.")
        # Finite numbers in range, checked here: an inf, NaN or Decimal period used to fail
        # later, inside a timer callback, where only the log saw it.
        _check_number("target_backlog_per_worker", target_backlog_per_worker, 0, MAX_BACKLOG,
                      low_open=True)
        _check_number("evaluation_period", evaluation_period, 0, MAX_SECONDS, low_open=True)
        _check_number("scale_out_cooldown", scale_out_cooldown, 0, MAX_SECONDS)
        _check_number("scale_in_cooldown", scale_in_cooldown, 0, MAX_SECONDS)
        if not callable(processing_time):
            _check_number("processing_time", processing_time, 0, MAX_PROCESSING)
        self.loop = queue.loop
        self.threaded = not self.loop.clock.is_virtual
        self._aloop: asyncio.AbstractEventLoop | None = None
        if inspect.iscoroutinefunction(worker_fn):
            if not self.threaded:
                raise InvalidParameterValueException(
                    "an async def worker_fn needs a real clock: on a virtual clock pass a plain "
                    "function.")
            if asyncio_loop is None:
                import asyncio  # only async handlers need it; `import decoupling` does not

                try:
                    asyncio_loop = asyncio.get_running_loop()
                except RuntimeError:
                    raise InvalidParameterValueException(
                        "an async def worker_fn needs an asyncio loop: pass asyncio_loop= or "
                        "create the pool inside a coroutine.") from None
            self._aloop = asyncio_loop
        self.queue = queue
        self.worker_fn = worker_fn
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.target_backlog_per_worker = target_backlog_per_worker
        if callable(processing_time):
            self._time: Callable[[Message], float] = processing_time
        else:
            seconds = float(processing_time)
            self._time = lambda message: seconds
        self.batch_size = batch_size
        self.evaluation_period = evaluation_period
        self.scale_out_cooldown = scale_out_cooldown
        self.scale_in_cooldown = scale_in_cooldown
        self.wait_seconds = wait_seconds
        self.workers = min_workers
        self.history: list[tuple[float, int, int]] = []
        self.processed = 0
        self.failed = 0
        self._busy: set[int] = set()
        self._last_out = -math.inf
        self._last_change = -math.inf
        self._evaluating = False
        self._stopped = False
        # Real clock: the worker threads by index, and the condition idle ones wait on (on the
        # loop's lock, so a receive and the decision to wait are one step: no arrival is missed).
        self._threads: dict[int, threading.Thread] = {}
        self._idle = threading.Condition(self.loop._lock)
        with self.loop._lock:
            _queue_watch.watch(queue, self, self._wake)
            self._wake()

    # -- scaling ---------------------------------------------------------------------------------

    def _wake(self) -> None:
        # Runs inside a send, with the loop's lock held: schedule, notify, start nothing here.
        if self._stopped:
            return
        if not self._evaluating:
            self._evaluating = True
            self.loop.call_later(0, self._evaluate)
        if self.threaded:
            with self.loop._lock:  # held already by every sender; notify() insists
                self._idle.notify()
        else:
            self._start_idle_workers()

    def _evaluate(self) -> None:
        with self.loop._lock:
            if self._stopped:
                self._evaluating = False
                return
            now = self.loop.clock.now()
            backlog = self.queue.approximate_number_of_messages
            desired = max(self.min_workers,
                          min(self.max_workers, math.ceil(backlog / self.target_backlog_per_worker)))
            if desired > self.workers and now - self._last_out >= self.scale_out_cooldown:
                self.workers = desired
                self._last_out = self._last_change = now
            elif desired < self.workers and now - self._last_change >= self.scale_in_cooldown:
                self.workers = desired
                self._last_change = now
                self._idle.notify_all()  # idle threads past the new count retire now
            self.history.append((now, self.workers, backlog))
            in_flight = self.queue.approximate_number_of_messages_not_visible
            if self.threaded:
                self._start_threads()
            elif backlog:
                self._start_idle_workers()
            if backlog or in_flight or self.workers > self.min_workers or self._busy:
                self.loop.call_later(self.evaluation_period, self._evaluate)
            else:
                self._evaluating = False

    # -- working on a virtual clock: timers ------------------------------------------------------

    def _start_idle_workers(self) -> None:
        for worker in range(self.workers):
            if worker not in self._busy:
                self._busy.add(worker)
                self.loop.call_later(0, functools.partial(self._work, worker))

    def _work(self, worker: int) -> None:
        loop = self.loop
        with loop._lock:
            if self._stopped or worker >= self.workers:
                self._busy.discard(worker)
                return
            try:
                messages = self.queue.receive(self.batch_size, wait_seconds=0)
            except DecouplingError as exc:
                _log.warning("consumer pool: receive failed: %s", exc)
                messages = []
            if not messages:
                self._busy.discard(worker)
                return
            spent = 0.0
            for message in messages:
                spent += float(self._time(message))
                with released(loop._lock):
                    try:
                        self.worker_fn(message)
                    except Exception:
                        self.failed += 1
                        continue
                self.processed += 1
                try:
                    self.queue.delete(message.receipt_handle)
                except DecouplingError as exc:
                    _log.warning("consumer pool: delete failed: %s", exc)
            loop.call_later(spent, functools.partial(self._work, worker))

    # -- working on a real clock: threads --------------------------------------------------------

    def _start_threads(self) -> None:
        """Start a thread for every wanted worker that has none (lock held)."""
        for index in range(self.workers):
            if index not in self._threads:
                thread = threading.Thread(
                    target=self._run_thread, args=(index,), daemon=True,
                    name=f"decoupling-pool-{self.queue.name}-{index}")
                self._threads[index] = thread
                thread.start()

    def _run_thread(self, index: int) -> None:
        lock = self.loop._lock
        try:
            while True:
                with lock:
                    if self._stopped or index >= self.workers:
                        return
                    messages = self._receive_or_wait()
                if messages:
                    self._handle_batch(messages)
        except Exception:  # the thread ends; the next evaluation starts another
            _log.exception("consumer pool on %s: worker thread %d failed", self.queue.name, index)
        finally:
            with lock:
                if self._threads.get(index) is threading.current_thread():
                    del self._threads[index]

    def _receive_or_wait(self) -> list[Message]:
        """One receive; with nothing to take, wait (lock held, released while waiting) until a
        message arrives, one becomes visible, ``wait_seconds`` pass or the pool stops."""
        clock = self.loop.clock
        try:
            messages: list[Message] = self.queue.receive(self.batch_size, wait_seconds=0)
        except DecouplingError as exc:  # a deleted queue: wait, then find out again
            _log.warning("consumer pool: receive failed: %s", exc)
            messages = []
            nxt = None
        else:
            if messages:
                return messages
            nxt = _queue_watch.next_change(self.queue)
        until = clock.now() + self.wait_seconds
        if nxt is not None and nxt < until:
            until = nxt
        self.loop._wait(self._idle, until)
        return messages

    def _handle_batch(self, messages: list[Message]) -> None:
        lock = self.loop._lock
        for position, message in enumerate(messages):
            with lock:
                if self._stopped:
                    self._release(messages[position:])
                    return
            try:
                self._call(message)
            except Exception:
                _log.info("consumer pool: handler raised on message %s; it stays for its "
                          "visibility timeout", message.message_id, exc_info=True)
                with lock:
                    self.failed += 1
                continue
            with lock:
                try:
                    self.queue.delete(message.receipt_handle)
                except DecouplingError as exc:
                    _log.warning("consumer pool: delete failed: %s", exc)
                self.processed += 1

    def _call(self, message: Message) -> None:
        if self._aloop is None:
            self.worker_fn(message)
            return
        coroutine = self.worker_fn(message)
        assert inspect.iscoroutine(coroutine)
        import asyncio

        asyncio.run_coroutine_threadsafe(coroutine, self._aloop).result()

    def _release(self, messages: list[Message]) -> None:
        """Make received messages whose handling never started visible again at once. A
        returning message goes to the front of a standard queue, so the last goes back first:
        the next receive sees them in the order this one did."""
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                   for i, m in enumerate(reversed(messages))]
        try:
            result = self.queue.change_visibility_batch(entries)
        except DecouplingError as exc:
            _log.warning("consumer pool: could not release %d messages: %s", len(messages), exc)
            return
        for failure in result.failed:
            _log.warning("consumer pool: could not release a message: %s", failure)

    # -- stopping --------------------------------------------------------------------------------

    def stop(self, drain: bool = True, timeout: float | None = 30.0) -> int:
        """Stop receiving and stop the scaling evaluations; returns the worker threads still
        running (0 when drained, and always 0 on a virtual clock).

        On a real clock idle threads wake at once and end. A thread in the middle of a batch
        finishes the handler it is running (deleting the message when it returns) and makes the
        messages it received but had not started visible again at once (ChangeMessageVisibility
        to 0; each keeps the receive count of that receive). Nothing is lost: a handler still
        running after ``timeout`` keeps going in its daemon thread and deletes its message if
        it returns while the process lives; if the process ends first, the message comes back
        after its visibility timeout.

        Args:
            drain: wait for the threads to end (default ``True``); ``False`` returns at once.
            timeout: the longest to wait, in seconds (default 30; ``None``: no limit).

        Raises:
            RuntimeError: ``drain=True`` called on the asyncio loop that runs the handlers (it
                would wait for itself); use ``await asyncio.to_thread(pool.stop)`` there.
        """
        if drain and self._aloop is not None:
            import asyncio

            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._aloop:
                raise RuntimeError("ConsumerPool.stop(drain=True) would block the asyncio loop its "
                                   "handlers run on: await asyncio.to_thread(pool.stop) instead.")
        with self.loop._lock:
            self._stopped = True
            _queue_watch.unwatch(self.queue, self)
            self._idle.notify_all()
            threads = [t for t in self._threads.values() if t is not threading.current_thread()]
        if not drain:
            return sum(t.is_alive() for t in threads)
        clock = self.loop.clock
        deadline = None if timeout is None else clock.now() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(deadline - clock.now(), 0.0))
        left = sum(t.is_alive() for t in threads)
        if left:
            _log.warning("consumer pool on %s: %d worker threads still running after %s s",
                         self.queue.name, left, timeout)
        return left

    def __repr__(self) -> str:
        return f"ConsumerPool(queue={self.queue.name!r}, workers={self.workers})"
