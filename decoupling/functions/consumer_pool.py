"""``ConsumerPool``: plain Python workers on a queue, autoscaled as an EC2 group would be.

The pattern of a worker fleet behind a queue, scaled by a target-tracking policy on "backlog per
instance" (AWS Auto Scaling User Guide, "Scaling policy based on Amazon SQS": the metric is
``ApproximateNumberOfMessages / running instances`` and the target is the backlog one instance
may hold). Every ``evaluation_period`` seconds the pool computes the desired workers
``ceil(backlog / target_backlog_per_worker)`` within ``[min_workers, max_workers]``; it scales
out at once (then not again for ``scale_out_cooldown``) and scales in only after
``scale_in_cooldown`` since the last change (target tracking is conservative about scaling in).
:attr:`ConsumerPool.history` records ``(time, workers, backlog)`` at each evaluation, for plots.

Workers are timers on the loop, never threads: each receives up to ``batch_size`` messages,
calls ``worker_fn(message)`` for each (deleting it when the call returns, leaving it for its
visibility timeout when it raises), and takes ``processing_time`` virtual seconds per message
before it receives again. An idle pool sleeps until a message arrives (see
:mod:`decoupling.sqs._watch`), so ``loop.run_until_idle()`` returns once the work is done and
the pool is back at ``min_workers``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from ..errors import DecouplingError, InvalidParameterValueException
from ..message import Message
from ..sqs import _watch as _queue_watch
from .invocation import released

__all__ = ["ConsumerPool"]

_log = logging.getLogger("decoupling.functions.consumer_pool")


class ConsumerPool:
    """Autoscaled workers consuming a queue.

    Args:
        queue: a :class:`~decoupling.Queue` or FIFO queue.
        worker_fn: ``worker_fn(message)`` for each :class:`~decoupling.Message`.
        min_workers: at least this many (default 1).
        max_workers: at most this many (default 10).
        target_backlog_per_worker: messages one worker may have waiting (default 100).
        processing_time: virtual seconds per message — a number or ``f(message) -> seconds``
            (default 0.0).
        batch_size: messages per receive, 1-10 (default 10).
        evaluation_period: seconds between scaling evaluations (default 60).
        scale_out_cooldown: seconds after a scale-out before the next (default 60).
        scale_in_cooldown: seconds after any change before a scale-in (default 300).

    Attributes:
        workers: workers running now. history: ``(time, workers, backlog)`` per evaluation.
        processed / failed: messages handled / raised.
    """

    def __init__(self, queue: Any, worker_fn: Callable[[Message], object], *,
                 min_workers: int = 1, max_workers: int = 10,
                 target_backlog_per_worker: float = 100, processing_time: float | Callable[[Message], float] = 0.0,
                 batch_size: int = 10, evaluation_period: float = 60.0,
                 scale_out_cooldown: float = 60.0, scale_in_cooldown: float = 300.0) -> None:
        for label, value, low in (("min_workers", min_workers, 0), ("max_workers", max_workers, 1),
                                  ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidParameterValueException(f"{label} must be an integer >= {low}, got {value!r}.")
        if min_workers > max_workers:
            raise InvalidParameterValueException("min_workers must not exceed max_workers.")
        if batch_size > 10:
            raise InvalidParameterValueException("batch_size must be 1-10.")
        if target_backlog_per_worker <= 0 or evaluation_period <= 0:
            raise InvalidParameterValueException(
                "target_backlog_per_worker and evaluation_period must be > 0.")
        if scale_out_cooldown < 0 or scale_in_cooldown < 0:
            raise InvalidParameterValueException("cooldowns must be >= 0 seconds.")
        self.queue = queue
        self.loop = queue.loop
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
        self.workers = min_workers
        self.history: list[tuple[float, int, int]] = []
        self.processed = 0
        self.failed = 0
        self._busy: set[int] = set()
        self._last_out = -math.inf
        self._last_change = -math.inf
        self._evaluating = False
        self._stopped = False
        with self.loop._lock:
            _queue_watch.watch(queue, self, self._wake)
            self._wake()

    # -- scaling ---------------------------------------------------------------------------------

    def _wake(self) -> None:
        if self._stopped:
            return
        if not self._evaluating:
            self._evaluating = True
            self.loop.call_later(0, self._evaluate)
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
            self.history.append((now, self.workers, backlog))
            in_flight = self.queue.approximate_number_of_messages_not_visible
            if backlog:
                self._start_idle_workers()
            if backlog or in_flight or self.workers > self.min_workers or self._busy:
                self.loop.call_later(self.evaluation_period, self._evaluate)
            else:
                self._evaluating = False

    # -- working ---------------------------------------------------------------------------------

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

    def stop(self) -> None:
        """Stop every worker and the scaling evaluations."""
        with self.loop._lock:
            self._stopped = True
            _queue_watch.unwatch(self.queue, self)

    def __repr__(self) -> str:
        return f"ConsumerPool(queue={self.queue.name!r}, workers={self.workers})"
