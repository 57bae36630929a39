"""One invocation from start to finish: the execution environment it takes (warm or cold),
its handler run on the engine, its metering, and the synchronous caller's result.

``_InvocationLifecycle`` is a mixin of :class:`~decoupling.FunctionRuntime`; the runtime decides
whether an invocation may start (concurrency), this module runs it.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..loop import EventLoop
from .context import LambdaContext, _Timing
from .function import ExecutionEnvironment, Function
from .invocation import (
    LOG_TAIL_BYTES,
    MAX_SYNC_PAYLOAD,
    Engine,
    Handler,
    InvocationResult,
    _Outcome,
    load_handler,
    make_job,
    timeout_payload,
)
from .logs import _LogStore
from .usage import InvocationRecord, Meter, billed_ms

if TYPE_CHECKING:
    from .._waiters import Waiters


#: The largest synchronous response, bytes: 6 MB and 100 bytes. AWS-validated in LocalStack's
#: tests/aws/services/lambda_/test_lambda.py: a 6 MiB string returns (``test_lambda_large_response``,
#: "+ 100 is the upper limit") and a larger one fails with "Response payload size exceeded
#: maximum allowed payload size (6291556 bytes)." (``test_lambda_too_large_response`` snapshot).
MAX_SYNC_RESPONSE = MAX_SYNC_PAYLOAD + 100


class _Invocation:
    """One running invocation (internal)."""

    __slots__ = ("request_id", "function", "env", "tenant_id", "event", "invocation_type",
                 "start", "cold", "outcome", "on_done", "finished")

    def __init__(self, request_id: str, function: Function, env: ExecutionEnvironment,
                 tenant_id: str | None, event: Any, invocation_type: str, start: float,
                 cold: bool, on_done: Callable[[_Invocation], None] | None) -> None:
        self.request_id = request_id
        self.function = function
        self.env = env
        self.tenant_id = tenant_id
        self.event = event
        self.invocation_type = invocation_type
        self.start = start
        self.cold = cold
        self.outcome: _Outcome | None = None
        self.on_done = on_done
        self.finished = False


class _InvocationLifecycle:
    """Mixin of :class:`~decoupling.FunctionRuntime`: start, finish and await invocations.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    meter: Meter
    hang_guard: float | None
    environment_idle_timeout: float | None
    concurrent: int
    peak_concurrent: int
    _lock: Any
    _cond: Waiters
    _engine: Engine
    _unreserved_in_use: int
    _logs: _LogStore

    if TYPE_CHECKING:

        def _wake(self, fn: Function) -> None: ...

    def _await_result(self, inv: _Invocation, log_type: str) -> InvocationResult:
        loop = self.loop
        with self._lock:
            while not inv.finished:
                loop._wait(self._cond, self._end_of(inv))
        return self._result(inv, log_type)

    async def _await_result_async(self, inv: _Invocation, log_type: str) -> InvocationResult:
        """:meth:`_await_result` for an asyncio task: a future in the runtime's condition,
        woken when an invocation finishes (see :meth:`EventLoop._async_waiter`)."""
        loop = self.loop
        lock = self._lock
        while True:
            with lock:
                if inv.finished:
                    break
                waiter = loop._async_waiter(self._cond, self._end_of(inv))
            try:  # never holding the lock across an await
                await waiter.future
            except BaseException:
                with lock:
                    waiter.abandon()
                raise
            with lock:
                waiter.finish()
        return self._result(inv, log_type)

    def _end_of(self, inv: _Invocation) -> float:
        """When a running invocation ends at the latest (loop clock seconds; lock held)."""
        assert inv.outcome is not None or not self.loop.clock.is_virtual
        return inv.start + (inv.outcome.init_duration + inv.outcome.duration
                            if inv.outcome is not None else inv.function.timeout + 1)

    def _result(self, inv: _Invocation, log_type: str) -> InvocationResult:
        """What Invoke returns for a finished ``RequestResponse`` invocation."""
        outcome = inv.outcome
        assert outcome is not None
        billed = billed_ms(outcome.duration + outcome.init_duration)
        tail = _log_tail(inv, outcome) if log_type == "Tail" else None
        if outcome.status == "ok":
            value = outcome.value
            data = json.dumps(value).encode()
            if len(data) > MAX_SYNC_RESPONSE:
                error = {"errorMessage": "Response payload size exceeded maximum allowed payload "
                         f"size ({MAX_SYNC_RESPONSE} bytes).",
                         "errorType": "Function.ResponseSizeTooLarge"}
                return InvocationResult(200, error, "Unhandled", tail, inv.function.version, inv.request_id,
                                        outcome.duration, billed, inv.cold)
            return InvocationResult(200, json.loads(data), None, tail, inv.function.version, inv.request_id,
                                    outcome.duration, billed, inv.cold)
        return InvocationResult(200, outcome.error, "Unhandled", tail, inv.function.version, inv.request_id,
                                outcome.duration, billed, inv.cold)

    def _take_env(self, fn: Function, tenant_id: str | None) -> tuple[ExecutionEnvironment, bool]:
        idle = fn._idle.get(tenant_id)
        now = self.loop.clock.now()
        limit = self.environment_idle_timeout
        while idle:
            env = idle.pop()
            if limit is not None and now - env.idle_since > limit:
                fn.environments.remove(env)
                continue
            return env, False
        env = ExecutionEnvironment(self.loop.new_id().replace("-", ""), fn, tenant_id, now,
                                   self.loop.clock.wall(), self.loop.region)
        fn.environments.append(env)
        fn.cold_starts += 1
        return env, True

    def _handler_of(self, env: ExecutionEnvironment, fn: Function) -> Handler:
        handler = env.handler
        if handler is None:
            from .invocation import InitError

            env.init_count += 1
            for path in fn.layer_paths:  # a layer's python/, as /opt/python is on Lambda
                if path not in sys.path:
                    sys.path.append(path)
            handler = load_handler(fn.handler) if isinstance(fn.handler, str) else fn.handler
            if fn.init is not None:
                try:
                    fn.init()
                except Exception as exc:
                    raise InitError(type(exc).__name__, str(exc)) from None
            env.handler = handler
        return handler

    def _begin(self, fn: Function, event: Any, invocation_type: str, tenant_id: str | None,
               on_done: Callable[[_Invocation], None] | None, *, serialize: bool,
               request_id: str | None = None) -> _Invocation:
        """Start one invocation; the caller checked capacity with the lock held. Runs the
        handler (virtual clock) or hands it to the pool (real clock); never holds the lock while
        the handler runs."""
        loop = self.loop
        clock = loop.clock
        fn.concurrent += 1
        if fn.concurrent > fn.peak_concurrent:
            fn.peak_concurrent = fn.concurrent
        self.concurrent += 1
        if self.concurrent > self.peak_concurrent:
            self.peak_concurrent = self.concurrent
        if fn.reserved_concurrency is None:
            self._unreserved_in_use += 1
        env, cold = self._take_env(fn, tenant_id)
        if request_id is None:
            request_id = loop.new_id()
        now = clock.now()
        virtual = clock.is_virtual
        init_duration = fn.cold_start_duration if cold and virtual else 0.0
        timing = _Timing(clock, now + init_duration, fn.timeout)
        inv_arn = fn.arn if fn.version == "$LATEST" else fn.qualified_arn
        context = LambdaContext(
            function_name=fn.name, invoked_function_arn=inv_arn, memory_limit_in_mb=fn.memory_mb,
            aws_request_id=request_id, log_stream_name=env.log_stream_name, timing=timing,
            function_version=fn.version,
            tenant_id=tenant_id,
        )
        inv = _Invocation(request_id, fn, env, tenant_id, event, invocation_type, now, cold, on_done)
        tap = loop._tap
        if tap is not None:
            tap.lambda_begin(inv)
        guard = self.hang_guard if self.hang_guard is not None else float(fn.timeout)
        job = make_job(functools.partial(self._handler_of, env, fn), event, context, timing,
                       env.view, timeout=fn.timeout, guard=guard,
                       simulated_duration=fn.simulated_duration, serialize=serialize)
        if virtual:
            outcome = self._engine.run_blocking(
                job, guard, self._lock,
                lambda: _Outcome("timeout", error=timeout_payload(request_id, fn.timeout),
                                 duration=float(fn.timeout)))
            outcome.init_duration = init_duration
            inv.outcome = outcome
            end = now + init_duration + outcome.duration
            if end <= clock.now():
                self._finish(inv)
            else:
                loop.call_at(end, functools.partial(self._finish, inv))
        else:
            def on_timeout() -> None:
                with self._lock:
                    if inv.outcome is not None:
                        return
                    inv.outcome = _Outcome("timeout", error=timeout_payload(request_id, fn.timeout),
                                           duration=float(fn.timeout))
                    inv.outcome.abandoned = True
                self._finish(inv)

            def on_result(outcome: _Outcome) -> None:
                with self._lock:
                    if inv.outcome is not None:
                        return
                    outcome.duration = min(clock.now() - now, float(fn.timeout))
                    inv.outcome = outcome
                    timer.cancel()
                self._finish(inv)

            timer = loop.call_at(now + fn.timeout, on_timeout)
            with _unlocked(self._lock):
                self._engine.submit(job, on_result)
        return inv

    def _finish(self, inv: _Invocation) -> None:
        fn = inv.function
        outcome = inv.outcome
        assert outcome is not None
        with self._lock:
            if inv.finished:
                return
            inv.finished = True
            tap = self.loop._tap
            if tap is not None:  # chaos may turn the outcome into an error first
                tap.lambda_finish(inv)
            fn.concurrent -= 1
            self.concurrent -= 1
            if fn.reserved_concurrency is None:
                self._unreserved_in_use -= 1
            env = inv.env
            env.invocations += 1
            fn.invocations += 1
            status = outcome.status
            if (status == "timeout" or outcome.abandoned or fn._deleted
                    or env.generation != fn._generation):
                # Lambda resets the execution environment after a timeout; a deleted
                # function's environments, and those of an older configuration, are released.
                if env in fn.environments:
                    fn.environments.remove(env)
            else:
                env.idle_since = self.loop.clock.now()
                fn._idle.setdefault(inv.tenant_id, []).append(env)
            result = "Success"
            if status == "error":
                fn.errors += 1
                result = "Error"
            elif status == "timeout":
                fn.timeouts += 1
                result = "Timeout"
            self._store_logs(inv, outcome)
            self.meter.record(InvocationRecord(
                fn.name, inv.request_id, inv.invocation_type, inv.start, outcome.duration,
                outcome.init_duration, billed_ms(outcome.duration + outcome.init_duration),
                fn.memory_mb, fn.architecture, inv.cold, result, inv.tenant_id))
            self._wake(fn)
            self._cond.notify_all()
        if inv.on_done is not None:
            inv.on_done(inv)


    def _store_logs(self, inv: _Invocation, outcome: _Outcome) -> None:
        """Put a finished invocation's events in its function's log group (lock held)."""
        clock = self.loop.clock
        offset = (clock.wall() - clock.now()) * 1000  # loop seconds -> epoch milliseconds
        end = inv.start + outcome.init_duration + outcome.duration  # the last event's time
        ingested = max(clock.wall_ms(), int(end * 1000 + offset + 0.5))
        env = inv.env
        self._logs.append(inv.function.name, env.log_stream_name,
                          int(env.created_at * 1000 + offset + 0.5),
                          [(int(t * 1000 + offset + 0.5), message, ingested)
                           for t, message in _log_events(inv, outcome)], ingested)


class _unlocked:
    """Release the loop's lock (all levels held by this thread) for a block."""

    def __init__(self, lock: Any) -> None:
        from .invocation import released

        self._cm = released(lock)

    def __enter__(self) -> None:
        self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


def _log_events(inv: _Invocation, outcome: _Outcome) -> list[tuple[float, str]]:
    """The invocation's log events, ``(loop time, message)``: ``START``, what the handler wrote
    and logged (and its error report), the timeout notice, ``END`` and ``REPORT``."""
    fn = inv.function
    rid = inv.request_id
    begin = inv.start + outcome.init_duration
    end = begin + outcome.duration
    events = [(begin, f"START RequestId: {rid} Version: {fn.version}"), *outcome.logs]
    if outcome.status == "timeout":
        events.append((end, f"{rid} Task timed out after {fn.timeout:.2f} seconds"))
    events.append((end, f"END RequestId: {rid}"))
    billed = billed_ms(outcome.duration + outcome.init_duration)
    report = (f"REPORT RequestId: {rid}\tDuration: {outcome.duration * 1000:.2f} ms\t"
              f"Billed Duration: {billed} ms\tMemory Size: {fn.memory_mb} MB\t"
              f"Max Memory Used: {fn.memory_mb} MB")
    if inv.cold:
        report += f"\tInit Duration: {outcome.init_duration * 1000:.2f} ms"
    events.append((end, report))
    return events


def _log_tail(inv: _Invocation, outcome: _Outcome) -> str:
    """``LogResult``: the base64 of the last 4 KB of the invocation's log."""
    import base64

    text = "".join(f"{message}\n" for _, message in _log_events(inv, outcome))
    data = text.encode()[-LOG_TAIL_BYTES:]
    start = 0
    while start < len(data) and data[start] & 0xC0 == 0x80:  # not inside a UTF-8 character
        start += 1
    return base64.b64encode(data[start:]).decode()
