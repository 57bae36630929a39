"""Running one invocation: the handler call, its result or error, its duration and timeout.

How a handler runs
    * A sync handler runs in the runtime's bounded worker pool (a ``ThreadPoolExecutor`` with a
      fixed number of threads), so a handler that never returns cannot stall the loop; with
      ``isolation="inline"`` it runs in the thread that fires the loop's timer instead (faster,
      no protection against a hung handler).
    * An ``async def`` handler (or one that returns an awaitable) runs to completion on a fresh
      asyncio event loop in a worker thread, and is cancelled when it reaches its timeout.

How long it took
    On a real clock, duration is the real time from start to return.
    On a :class:`~decoupling.ManualClock`, duration is *virtual* and deterministic: the virtual
    time the handler spends through :meth:`LambdaContext.sleep`, through ``asyncio`` sleeps and
    timers of an async handler (its event loop runs on a virtual clock that jumps, as trio's
    autojump clock does), through loop time it moves itself (a long poll, a nested invoke), plus
    the function's ``simulated_duration``. The real time a handler spends computing is not
    counted. A handler still running after ``hang_guard`` real seconds (default: its timeout) is
    treated as hung: it is reported as timed out at its virtual deadline and its thread is left
    to finish on its own (its result is discarded and its execution environment is not reused).

Timeouts
    A handler that runs past its timeout reports, as Lambda's managed runtimes do
    (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html#troubleshooting-timeouts),
    ``{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed out
    after 2.00 seconds"}``; its result is discarded and its concurrency slot freed at the deadline.
    Lambda then resets the execution environment, so the next invocation is a cold start.

Errors
    An exception becomes the payload the Python runtime returns:
    ``{"errorMessage", "errorType", "requestId", "stackTrace"}``, with ``FunctionError:
    "Unhandled"``. Initialization failures of a handler string use Lambda's ``Runtime.*`` types
    (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.MalformedHandlerName``,
    ``Runtime.UserCodeSyntaxError``); a result that is not JSON-serializable fails with
    ``Runtime.MarshalError``.
"""

from __future__ import annotations

import base64
import contextvars
import importlib.util
import inspect
import json
import os
import selectors
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from .context import (
    LambdaContext,
    _current_env,
    _current_log,
    _EnvView,
    _InvocationLog,
    _TimedOut,
    _Timing,
    error_lines,
    wrap_std_streams,
)

if TYPE_CHECKING:
    import asyncio

__all__ = ["InvocationResult", "Handler", "MAX_SYNC_PAYLOAD", "MAX_ASYNC_PAYLOAD"]

#: Synchronous request and response payload limit, bytes (6 MB).
MAX_SYNC_PAYLOAD: Final = 6 * 1024 * 1024
#: Asynchronous (``Event``) request payload limit, bytes (1 MB).
MAX_ASYNC_PAYLOAD: Final = 1024 * 1024
#: Bytes of log tail returned with ``log_type="Tail"`` (the last 4 KB).
LOG_TAIL_BYTES: Final = 4096

#: A handler: ``handler(event, context)``, plain or ``async def``.
Handler = Callable[[Any, LambdaContext], Any]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
Status = Literal["ok", "error", "timeout"]


@attrs.frozen(slots=True)
class InvocationResult:
    """What ``invoke`` returns (the Invoke API response, in Python terms).

    Attributes:
        status_code: 200 (``RequestResponse``), 202 (``Event``) or 204 (``DryRun``).
        payload: the handler's return value as JSON decodes it (a fresh copy), the error payload
            ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` when
            :attr:`function_error` is set, or ``None`` for 202/204.
        function_error: ``"Unhandled"`` when the function failed, else ``None``.
        log_result: with ``log_type="Tail"``, the base64 of the last 4 KB of the invocation's
            log (``START``, what the handler printed and logged, its error report, ``END``, ``REPORT``), else ``None``.
        executed_version: ``"$LATEST"`` for ``RequestResponse``, else ``None``.
        request_id: the invocation's request id.
        duration: seconds the handler ran (0.0 for 202/204).
        billed_duration_ms: billed milliseconds (0 for 202/204).
        cold_start: whether this invocation created an execution environment.
    """

    status_code: int
    payload: Any = None
    function_error: str | None = None
    log_result: str | None = None
    executed_version: str | None = None
    request_id: str = ""
    duration: float = 0.0
    billed_duration_ms: int = 0
    cold_start: bool = False

    @property
    def raw_payload(self) -> bytes:
        """The payload as the JSON bytes Lambda would return (``b""`` when there is none)."""
        if self.payload is None and self.status_code != 200:
            return b""
        return json.dumps(self.payload).encode()

    @property
    def logs(self) -> str:
        """:attr:`log_result` decoded (``""`` when no tail was asked for)."""
        return base64.b64decode(self.log_result).decode() if self.log_result else ""


class _Outcome:
    """What one handler call produced (internal)."""

    __slots__ = ("status", "value", "error", "duration", "init_duration", "logs", "abandoned")

    def __init__(self, status: Status, value: Any = None, error: dict[str, Any] | None = None,
                 duration: float = 0.0) -> None:
        self.status = status
        self.value = value
        self.error = error
        self.duration = duration
        self.init_duration = 0.0
        #: The invocation's log: ``(loop time, text)`` entries (see ``context._InvocationLog``).
        self.logs: list[tuple[float, str]] = []
        self.abandoned = False


# --- error payloads ----------------------------------------------------------------------------


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's error payload for an exception raised by a handler.

    Frames of this package are left out of ``stackTrace``, so it starts at the handler's code.
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def timeout_payload(request_id: str, timeout: float) -> dict[str, Any]:
    """The payload of an invocation that ran past its timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
    }


class InitError(Exception):
    """A handler string failed to load (reported with a ``Runtime.*`` error type)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type

    def payload(self) -> dict[str, Any]:
        return {"errorMessage": str(self), "errorType": self.error_type, "requestId": "",
                "stackTrace": []}


# --- handler strings ---------------------------------------------------------------------------


def load_handler(spec: str) -> Handler:
    """Import ``"package.module.function"`` as Lambda's Python runtime does, in a fresh module.

    Each call executes the module anew (a module object of its own, not the one in
    ``sys.modules``), so module-level state — clients, caches, counters — belongs to one
    execution environment, as on Lambda. While the module runs, ``sys.modules`` maps its name to
    it (so its own imports work); afterwards the previous entry is restored.

    Raises:
        InitError: ``Runtime.MalformedHandlerName``, ``Runtime.ImportModuleError``,
            ``Runtime.UserCodeSyntaxError``, ``Runtime.HandlerNotFound``, or the type of an
            exception the module raised while loading.
    """
    module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise InitError("Runtime.MalformedHandlerName",
                        f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        raise InitError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': {exc}") from None
    if found is None or found.loader is None:
        raise InitError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': No module named '{module_name}'")
    module = importlib.util.module_from_spec(found)
    previous: ModuleType | None = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        found.loader.exec_module(module)
    except SyntaxError as exc:
        raise InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from None
    except ImportError as exc:
        raise InitError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': {exc}") from None
    except Exception as exc:
        raise InitError(type(exc).__name__, str(exc)) from None
    finally:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
    handler = getattr(module, attr, None)
    if handler is None or not callable(handler):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'")
    return handler  # type: ignore[no-any-return]


# --- async handlers on virtual time ------------------------------------------------------------


class _VirtualSelector(selectors.BaseSelector):
    """A selector for an asyncio loop on virtual time: when nothing is ready it moves the loop's
    clock to the next timer instead of sleeping. Real I/O, if any is registered, gets up to
    ``guard`` real seconds first."""

    def __init__(self, start: float, guard: float) -> None:
        self._inner = selectors.DefaultSelector()
        self.now = start
        self.guard = guard

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if len(self._inner.get_map()) > 1:  # real I/O besides the loop's self-pipe
            wait = self.guard if timeout is None else min(timeout, self.guard)
            ready = self._inner.select(wait)
            if ready:
                return ready
        if timeout is not None:
            self.now += timeout
        return []


def _virtual_event_loop(start: float, guard: float) -> asyncio.AbstractEventLoop:
    """An asyncio loop whose ``time()`` is virtual and jumps to the next timer when idle.
    (Its class is made on first use: importing the package does not import asyncio.)"""
    global _VirtualEventLoop
    if _VirtualEventLoop is None:
        import asyncio

        class VirtualEventLoop(asyncio.SelectorEventLoop):
            def __init__(self, start: float, guard: float) -> None:
                self._vsel = _VirtualSelector(start, guard)
                super().__init__(self._vsel)

            def time(self) -> float:
                return self._vsel.now

        _VirtualEventLoop = VirtualEventLoop
    aloop: asyncio.AbstractEventLoop = _VirtualEventLoop(start, guard)
    return aloop


_VirtualEventLoop: Any = None


def _run_coroutine(awaitable: Any, timing: _Timing, guard: float) -> Any:
    """Run an awaitable to completion on a fresh loop; raise ``_TimedOut`` at the deadline."""
    import asyncio

    if timing.virtual:
        aloop: asyncio.AbstractEventLoop = _virtual_event_loop(timing.start, guard)
        timing.aloop = aloop
        deadline = timing.deadline
    else:
        aloop = asyncio.new_event_loop()
        deadline = aloop.time() + (timing.deadline - timing.clock.now())
    timed_out = False

    async def main() -> Any:
        return await awaitable

    task = aloop.create_task(main())

    def on_deadline() -> None:
        nonlocal timed_out
        if not task.done():
            timed_out = True
            task.cancel()

    aloop.call_at(deadline, on_deadline)
    try:
        return aloop.run_until_complete(task)
    except asyncio.CancelledError:
        if timed_out:
            raise _TimedOut() from None
        raise
    finally:
        try:
            for pending in asyncio.all_tasks(aloop):
                pending.cancel()
            aloop.run_until_complete(aloop.shutdown_asyncgens())
        finally:
            if timing.virtual:
                timing.elapsed = min(aloop.time(), timing.deadline) - timing.start
                timing.aloop = None
            aloop.close()


# --- one call --------------------------------------------------------------------------------


def make_job(
    get_handler: Callable[[], Handler],
    event: Any,
    context: LambdaContext,
    timing: _Timing,
    env: _EnvView,
    *,
    timeout: float,
    guard: float,
    simulated_duration: Callable[[Any], float] | None,
    serialize: bool,
) -> Callable[[], _Outcome]:
    """Build the callable that initializes (if needed) and runs a handler, in a fresh context.

    The callable returns an :class:`_Outcome` whose ``duration`` is virtual seconds on a
    ManualClock (see the module docstring) and 0.0 on a real clock (the engine measures it).
    """
    request_id = context.aws_request_id

    def job() -> _Outcome:
        clock = timing.clock
        log = _InvocationLog(timing.now, request_id, clock.wall() - clock.now())
        wrap_std_streams()
        _current_env.set(env)
        _current_log.set(log)
        try:
            try:
                handler = get_handler()
            except InitError as exc:
                outcome = _Outcome("error", error=exc.payload())
                log.line(error_lines(outcome.error or {}))
                outcome.logs = log.close()
                return outcome
            value = handler(event, context)
            if inspect.isawaitable(value):
                value = _run_coroutine(value, timing, guard)
            outcome = _Outcome("ok", value)
            if serialize and value is not None:
                try:
                    json.dumps(value)
                except (TypeError, ValueError) as exc:
                    outcome = _Outcome("error", error={
                        "errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError", "requestId": request_id,
                        "stackTrace": []})
        except _TimedOut:
            outcome = _Outcome("timeout", error=timeout_payload(request_id, timeout))
        except BaseException as exc:  # noqa: B036 - a handler's SystemExit is its error too
            outcome = _Outcome("error", error=error_payload(exc, request_id))
        if outcome.status == "error" and outcome.error is not None:
            log.line(error_lines(outcome.error))
        if timing.virtual:
            duration = timing.now() - timing.start
            if simulated_duration is not None and outcome.status != "timeout":
                duration += float(simulated_duration(event))
            if duration > timeout or outcome.status == "timeout":
                outcome = _Outcome("timeout", error=timeout_payload(request_id, timeout))
                duration = float(timeout)
            outcome.duration = duration
        outcome.logs = log.close()
        return outcome

    return job


# --- the worker pool ---------------------------------------------------------------------------


@contextmanager
def released(lock: Any) -> Any:
    """Release a re-entrant lock held by this thread (all levels) for the block's duration.

    Timers can fire while the loop's lock is held (a long poll auto-jumping virtual time fires
    them from inside its wait); a handler running meanwhile in a worker thread must be able to
    take the lock, exactly as it could while the long poll waits on its condition.
    """
    owned = getattr(lock, "_is_owned", None)
    if owned is None or not owned():
        yield
        return
    state = lock._release_save()
    try:
        yield
    finally:
        lock._acquire_restore(state)


class Engine:
    """Runs jobs: in a bounded thread pool (``isolation="thread"``) or inline.

    Args:
        max_workers: threads in the pool (fixed cap).
        isolation: ``"thread"`` or ``"inline"``.
    """

    def __init__(self, max_workers: int, isolation: str) -> None:
        self.max_workers = max_workers
        self.isolation = isolation
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="decoupling-fn")
            return self._pool

    def run_blocking(self, job: Callable[[], _Outcome], guard: float, loop_lock: Any,
                     on_hang: Callable[[], _Outcome]) -> _Outcome:
        """Run ``job`` now and wait for it (virtual clock); after ``guard`` real seconds without
        a result, return ``on_hang()`` and abandon the job."""
        ctx = contextvars.copy_context()
        if self.isolation == "inline":
            with released(loop_lock):
                return ctx.run(job)
        future: Future[_Outcome] = self._executor().submit(ctx.run, job)
        with released(loop_lock):
            try:
                return future.result(timeout=guard)
            except FutureTimeout:
                outcome = on_hang()
                outcome.abandoned = True
                return outcome

    def submit(self, job: Callable[[], _Outcome], done: Callable[[_Outcome], None]) -> None:
        """Run ``job`` in the pool (real clock) and call ``done(outcome)`` from the worker."""
        ctx = contextvars.copy_context()
        if self.isolation == "inline":
            done(ctx.run(job))
            return
        future = self._executor().submit(ctx.run, job)
        future.add_done_callback(lambda f: done(f.result()))

    def shutdown(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

