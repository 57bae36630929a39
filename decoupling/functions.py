"""``FunctionRuntime``: Lambda-style functions on the loop, with Lambda's rules.

A runtime registers Python callables (or handler strings such as ``"app.orders.handler"``) as
functions and invokes them as Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/):

* **Configuration** (CreateFunction): name 1-64 of ``A-Za-z0-9-_``; timeout 1-900 s (3); memory
  128-10,240 MB (128); environment variables at most 4 KB, names ``[a-zA-Z][a-zA-Z0-9_]+``, not
  Lambda's reserved names; architecture ``x86_64`` or ``arm64``; reserved concurrency; tenant
  isolation ``PER_TENANT`` (set at creation only).
* **Invocation** (Invoke): ``RequestResponse`` (200 and the result, or the error payload with
  ``FunctionError: "Unhandled"``), ``Event`` (202; queued, retried, sent to destinations — see
  :mod:`decoupling.async_invoke`) and ``DryRun`` (204; validates only). Payloads at most 6 MB
  synchronous and 1 MB asynchronous (``RequestTooLargeException``).
* **Concurrency**: an account limit (default 1,000) shared by the functions without reserved
  concurrency (at least ``unreserved_minimum``, default 100, stays unreserved); a function with
  reserved concurrency N never runs more than N at once. Over the limit a synchronous invoke
  fails ``TooManyRequestsException`` (429); asynchronous events wait in the queue.
* **Execution environments** are reused: an invocation takes an idle environment of its function
  (and tenant) if there is one (warm start), else creates one (cold start: the handler string is
  imported afresh and the ``init`` hook runs). Environments are never shared between tenants.
* **Metering**: every invocation is recorded (:mod:`decoupling.metering`); :meth:`report` prices
  them.

Timing, timeouts, errors and how handlers are run: see :mod:`decoupling.invocation`.
Environment variables and the context object: see :mod:`decoupling.context`.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .context import (
    LambdaContext,
    _EnvView,
    _Timing,
    install_environ_proxy,
    install_log_capture,
    process_environ,
)
from .errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceConflictException,
    ResourceNotFoundException,
    TooManyRequestsException,
    ValidationException,
)
from .invocation import (
    MAX_ASYNC_PAYLOAD,
    MAX_SYNC_PAYLOAD,
    Engine,
    Handler,
    InvocationResult,
    _Outcome,
    load_handler,
    make_job,
    timeout_payload,
)
from .loop import EventLoop
from .metering import InvocationRecord, LambdaPrices, Meter, billed_ms

if TYPE_CHECKING:
    from .async_invoke import AsyncInvoker, Destination
    from .event_sources import EventSourceMapping
    from .schedules import ScheduleRule

__all__ = ["FunctionRuntime", "Function", "ExecutionEnvironment"]

F = TypeVar("F", bound=Callable[..., Any])

FUNCTION_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENV_KEY: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
_HANDLER_STRING: Final = re.compile(r"[^\s]{1,128}")
_TENANT_ID: Final = re.compile(r"[\x21-\x7e]{1,256}")
#: Variables Lambda defines that a function may not set (Lambda Developer Guide,
#: "Defined runtime environment variables").
RESERVED_ENV: Final = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
ARCHITECTURES: Final = ("x86_64", "arm64")
INVOCATION_TYPES: Final = ("RequestResponse", "Event", "DryRun")
ENV_LIMIT_BYTES: Final = 4096


class ExecutionEnvironment:
    """One execution environment: its own variables, loaded handler and counters.

    Attributes:
        id: a unique id (also the tail of :attr:`log_stream_name`).
        function_name: the function it belongs to.
        tenant_id: its tenant (``PER_TENANT`` functions), else ``None``.
        log_stream_name: ``YYYY/MM/DD/[$LATEST]<id>``.
        variables: the environment's own variable layer (what ``os.environ`` adds inside it).
        init_count: how many times its INIT phase ran (1, or more after failed inits).
        invocations: invocations it has served.
        created_at: loop time it was created.
    """

    __slots__ = ("id", "function_name", "tenant_id", "log_stream_name", "variables", "view",
                 "handler", "init_count", "invocations", "created_at", "idle_since")

    def __init__(self, env_id: str, function: Function, tenant_id: str | None, created_at: float,
                 wall: float, region: str) -> None:
        self.id = env_id
        self.function_name = function.name
        self.tenant_id = tenant_id
        day = datetime.fromtimestamp(wall, UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[$LATEST]{env_id}"
        self.variables: dict[str, str] = {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": function.handler_name,
            **function.environment,
        }
        self.view = _EnvView(self.variables, process_environ())
        self.handler: Handler | None = None
        self.init_count = 0
        self.invocations = 0
        self.created_at = created_at
        self.idle_since = created_at


class Function:
    """A registered function: its configuration (read-only attributes) and live counters.

    Counters: ``invocations``, ``errors``, ``timeouts``, ``throttles``, ``cold_starts``,
    ``concurrent`` (running now) and ``peak_concurrent`` (most ever at once).
    """

    def __init__(self, runtime: FunctionRuntime, name: str, handler: Handler | str, *,
                 timeout: int, memory_mb: int, environment: dict[str, str],
                 reserved_concurrency: int | None, tenant_isolation: str | None,
                 architecture: str, description: str,
                 simulated_duration: Callable[[Any], float] | None,
                 cold_start_duration: float, init: Callable[[], object] | None) -> None:
        self.runtime = runtime
        self.name = name
        self.arn = runtime.loop.arn("lambda", f"function:{name}")
        self.handler = handler
        self.handler_name = handler if isinstance(handler, str) else (
            f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', 'handler')}")
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.environment = environment
        self.reserved_concurrency = reserved_concurrency
        self.tenant_isolation = tenant_isolation
        self.architecture = architecture
        self.description = description
        self.simulated_duration = simulated_duration
        self.cold_start_duration = cold_start_duration
        self.init = init
        self.is_async = not isinstance(handler, str) and (
            _is_coroutine_function(handler))
        # live state (guarded by the loop's lock)
        self.concurrent = 0
        self.peak_concurrent = 0
        self.invocations = 0
        self.errors = 0
        self.timeouts = 0
        self.throttles = 0
        self.cold_starts = 0
        self._idle: dict[str | None, list[ExecutionEnvironment]] = {}
        self.environments: list[ExecutionEnvironment] = []
        self._waiters: dict[int, Callable[[], None]] = {}
        self._deleted = False

    @property
    def qualified_arn(self) -> str:
        """The ARN with the ``$LATEST`` qualifier (as in destination records)."""
        return f"{self.arn}:$LATEST"

    def __repr__(self) -> str:
        return f"Function({self.name!r}, timeout={self.timeout}, memory_mb={self.memory_mb})"


def _is_coroutine_function(fn: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None))  # noqa: B004 - an object whose __call__ is async


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


class FunctionRuntime:
    """Lambda functions on one :class:`~decoupling.EventLoop`.

    Args:
        loop: the loop (account) to run on.
        concurrency_limit: the account's concurrent executions (default 1,000).
        prices: prices for :meth:`report` (default: us-east-1 on-demand).
        unreserved_minimum: concurrency that reserved concurrency may not take from the account
            (default 100, as Lambda keeps).
        max_workers: threads of the worker pool that runs sync handlers (default 32, fixed).
        isolation: ``"thread"`` (default: handlers run in the worker pool, a hung handler
            cannot stall the loop) or ``"inline"`` (handlers run in the thread that fires the
            timer or calls :meth:`invoke`; faster, no hang protection).
        hang_guard: on a :class:`~decoupling.ManualClock`, real seconds a handler may run before
            it is treated as hung and timed out (default ``None``: the function's timeout).
        keep_records: invocation records the meter keeps (default 100,000; totals cover all).
        environment_idle_timeout: seconds an idle execution environment is kept before it is
            reclaimed (checked lazily when one is needed; default ``None``: kept forever).

    Every public method is thread-safe.
    """

    def __init__(
        self,
        loop: EventLoop,
        *,
        concurrency_limit: int = 1000,
        prices: LambdaPrices | None = None,
        unreserved_minimum: int = 100,
        max_workers: int = 32,
        isolation: str = "thread",
        hang_guard: float | None = None,
        keep_records: int | None = 100_000,
        environment_idle_timeout: float | None = None,
    ) -> None:
        if isinstance(concurrency_limit, bool) or not isinstance(concurrency_limit, int) or concurrency_limit < 1:
            raise InvalidParameterValueException(
                f"concurrency_limit must be a positive integer, got {concurrency_limit!r}.")
        if isolation not in ("thread", "inline"):
            raise InvalidParameterValueException(
                f"isolation must be 'thread' or 'inline', got {isolation!r}.")
        if not isinstance(max_workers, int) or max_workers < 1:
            raise InvalidParameterValueException(f"max_workers must be >= 1, got {max_workers!r}.")
        if hang_guard is not None and hang_guard <= 0:
            raise InvalidParameterValueException(f"hang_guard must be > 0, got {hang_guard!r}.")
        self.loop = loop
        self.concurrency_limit = concurrency_limit
        self.unreserved_minimum = min(unreserved_minimum, concurrency_limit)
        self.hang_guard = hang_guard
        self.environment_idle_timeout = environment_idle_timeout
        self.meter = Meter(prices or LambdaPrices(), keep_records)
        self._lock = loop._lock
        self._cond = threading.Condition(self._lock)
        self._engine = Engine(max_workers, isolation)
        self._functions: dict[str, Function] = {}
        self.concurrent = 0
        self.peak_concurrent = 0
        self._unreserved_in_use = 0
        self._reserved_total = 0
        from .async_invoke import AsyncInvoker

        self._async: AsyncInvoker = AsyncInvoker(self)
        self.event_source_mappings: dict[str, EventSourceMapping] = {}
        self.schedules: list[ScheduleRule] = []
        install_environ_proxy()
        install_log_capture()

    # -- functions ----------------------------------------------------------------------------

    def register(
        self,
        name: str,
        handler: Handler | str,
        *,
        timeout: int = 3,
        memory_mb: int = 128,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
        tenant_isolation: str | None = None,
        architecture: str = "x86_64",
        description: str = "",
        simulated_duration: float | Callable[[Any], float] | None = None,
        cold_start_duration: float = 0.0,
        init: Callable[[], object] | None = None,
        maximum_retry_attempts: int = 2,
        maximum_event_age: int = 21_600,
        on_success: Destination | None = None,
        on_failure: Destination | None = None,
        dead_letter: Destination | None = None,
    ) -> Function:
        """Create a function (CreateFunction). O(1).

        Args:
            name: 1-64 characters of ``A-Za-z0-9-_``.
            handler: ``handler(event, context)`` (plain or ``async def``), or a handler string
                ``"package.module.function"`` imported per execution environment.
            timeout: seconds, 1-900 (default 3).
            memory_mb: 128-10,240 (default 128).
            environment: variables (names ``[a-zA-Z][a-zA-Z0-9_]+``, not reserved; at most 4 KB
                as JSON).
            reserved_concurrency: 0 or more (``None``: use the unreserved pool).
            tenant_isolation: ``"PER_TENANT"`` or ``None``.
            architecture: ``"x86_64"`` (default) or ``"arm64"`` (priced differently).
            description: free text (at most 256 characters).
            simulated_duration: virtual seconds each invocation takes on a ManualClock, on top
                of what the handler spends itself — a number or ``f(event) -> seconds``.
            cold_start_duration: virtual seconds of INIT on a cold start (ManualClock).
            init: called once per new execution environment before its first invocation.
            maximum_retry_attempts, maximum_event_age, on_success, on_failure, dead_letter:
                asynchronous invocation settings; see :meth:`configure_async`.

        Raises:
            ResourceConflictException: the name exists.
            ValidationException: a value outside its range.
            InvalidParameterValueException: a bad environment, reserved concurrency, handler or
                tenant isolation mode.
        """
        cfg = _validate_function(name, handler, timeout, memory_mb, environment, architecture,
                                 tenant_isolation, description, cold_start_duration)
        duration_fn = _duration_model(simulated_duration)
        with self._lock:
            if name in self._functions:
                raise ResourceConflictException(f"Function already exist: {name}")
            fn = Function(self, name, handler, reserved_concurrency=None,
                          simulated_duration=duration_fn, init=init, **cfg)
            if reserved_concurrency is not None:
                self._check_reserved(fn, reserved_concurrency)
            self._async.check_config(fn, maximum_retry_attempts, maximum_event_age,
                                     on_success, on_failure, dead_letter)
            self._functions[name] = fn
            self.loop._register("lambda", name, fn)
            if reserved_concurrency is not None:
                self._set_reserved(fn, reserved_concurrency)
            self._async.configure(fn, maximum_retry_attempts, maximum_event_age,
                                  on_success, on_failure, dead_letter)
            return fn

    def function(self, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Decorator form of :meth:`register`; returns the handler unchanged.

        >>> @runtime.function("ship", timeout=30, memory_mb=256)  # doctest: +SKIP
        ... def ship(event, context): ...
        """

        def decorate(handler: F) -> F:
            self.register(name or handler.__name__, handler, **options)
            return handler

        return decorate

    def get_function(self, name: str) -> Function:
        """The function of that name (GetFunction). Raises ``ResourceNotFoundException``."""
        with self._lock:
            fn = self._functions.get(name)
            if fn is None:
                raise ResourceNotFoundException(
                    f"Function not found: {self.loop.arn('lambda', f'function:{name}')}")
            return fn

    @property
    def functions(self) -> list[Function]:
        """Registered functions, by name."""
        with self._lock:
            return [self._functions[n] for n in sorted(self._functions)]

    def delete_function(self, name: str) -> None:
        """Delete a function (DeleteFunction); its event source mappings and schedules stop."""
        with self._lock:
            fn = self.get_function(name)
            for mapping in list(self.event_source_mappings.values()):
                if mapping.function_name == name:
                    mapping.delete()
            for rule in list(self.schedules):
                if rule.function_name == name:
                    rule.delete()
            if fn.reserved_concurrency is not None:
                self._reserved_total -= fn.reserved_concurrency
            fn._deleted = True
            del self._functions[name]
            self.loop._unregister("lambda", name)

    def put_function_concurrency(self, name: str, reserved_concurrency: int) -> None:
        """Reserve concurrency for a function (PutFunctionConcurrency); 0 throttles it."""
        with self._lock:
            fn = self.get_function(name)
            self._check_reserved(fn, reserved_concurrency)
            self._set_reserved(fn, reserved_concurrency)

    def delete_function_concurrency(self, name: str) -> None:
        """Remove a function's reserved concurrency (DeleteFunctionConcurrency)."""
        with self._lock:
            fn = self.get_function(name)
            self._set_reserved(fn, None)

    def configure_async(self, name: str, *, maximum_retry_attempts: int | None = None,
                        maximum_event_age: int | None = None,
                        on_success: Destination | None = None,
                        on_failure: Destination | None = None,
                        dead_letter: Destination | None = None) -> None:
        """Set asynchronous invocation options (PutFunctionEventInvokeConfig, DeadLetterConfig).

        Args:
            maximum_retry_attempts: retries after a function error, 0-2 (default 2).
            maximum_event_age: seconds an event may wait, 60-21,600 (default 21,600).
            on_success, on_failure: a :class:`~decoupling.Queue` (standard), anything with a
                ``publish(message)`` method (an SNS topic), or a function (name or
                :class:`Function`); receives the destination record.
            dead_letter: a standard Queue or a topic; receives the event of a discarded
                invocation.

        Options not given keep their value. See :mod:`decoupling.async_invoke`.
        """
        with self._lock:
            fn = self.get_function(name)
            self._async.update(fn, maximum_retry_attempts, maximum_event_age,
                               on_success, on_failure, dead_letter)

    # -- concurrency ---------------------------------------------------------------------------

    def _check_reserved(self, fn: Function, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterValueException(
                f"ReservedConcurrentExecutions must be a non-negative integer, got {value!r}.")
        others = self._reserved_total - (fn.reserved_concurrency or 0)
        if self.concurrency_limit - others - value < self.unreserved_minimum:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of "
                f"[{self.unreserved_minimum}].")

    def _set_reserved(self, fn: Function, value: int | None) -> None:
        old = fn.reserved_concurrency
        if old is None and value is not None:
            self._unreserved_in_use -= fn.concurrent
        elif old is not None and value is None:
            self._unreserved_in_use += fn.concurrent
        self._reserved_total += (value or 0) - (old or 0)
        fn.reserved_concurrency = value
        self._wake(fn)

    def _has_capacity(self, fn: Function) -> bool:
        """Whether one more invocation of ``fn`` may start now (lock held). O(1)."""
        reserved = fn.reserved_concurrency
        if reserved is not None:
            return fn.concurrent < reserved
        return self._unreserved_in_use < self.concurrency_limit - self._reserved_total

    def _free_slots(self, fn: Function) -> int:
        reserved = fn.reserved_concurrency
        if reserved is not None:
            return reserved - fn.concurrent
        return self.concurrency_limit - self._reserved_total - self._unreserved_in_use

    def _wait_for_capacity(self, fn: Function, key: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once (from the thread that frees it) when a slot of ``fn`` frees."""
        fn._waiters[key] = callback

    def _wake(self, fn: Function) -> None:
        """Wake the waiters that a freed slot of ``fn`` may serve (lock held)."""
        if fn.reserved_concurrency is not None:
            targets = [fn]
        else:
            targets = [f for f in self._functions.values()
                       if f._waiters and f.reserved_concurrency is None]
        callbacks: list[Callable[[], None]] = []
        for target in targets:
            if target._waiters:
                callbacks.extend(target._waiters.values())
                target._waiters.clear()
        for callback in callbacks:
            self.loop.call_later(0, callback)

    # -- invoking ------------------------------------------------------------------------------

    def invoke(
        self,
        function_name: str,
        payload: Any = None,
        invocation_type: str = "RequestResponse",
        *,
        tenant_id: str | None = None,
        log_type: str = "None",
    ) -> InvocationResult:
        """Invoke a function (Invoke).

        Args:
            function_name: the function's name.
            payload: the event — any JSON-serializable value (the handler gets a fresh decoded
                copy); ``bytes`` are parsed as JSON text, as the API takes them.
            invocation_type: ``"RequestResponse"`` (wait for the result), ``"Event"`` (queue it;
                202) or ``"DryRun"`` (validate only; 204).
            tenant_id: required for ``PER_TENANT`` functions, refused otherwise.
            log_type: ``"Tail"`` to get the last 4 KB of the log in ``log_result``.

        A synchronous invoke returns when the invocation ends — on a ManualClock, once virtual
        time reaches its end (auto-jump moves it). O(payload size).

        Raises:
            ResourceNotFoundException, InvalidParameterValueException,
            InvalidRequestContentException (bytes that are not JSON), RequestTooLargeException
            (over 6 MB, or 1 MB for ``Event``), TooManyRequestsException (no concurrency left,
            ``RequestResponse`` only).
        """
        if invocation_type not in INVOCATION_TYPES:
            raise InvalidParameterValueException(
                f"InvocationType must be one of {', '.join(INVOCATION_TYPES)}, got {invocation_type!r}.")
        if log_type not in ("None", "Tail"):
            raise InvalidParameterValueException(f"LogType must be 'None' or 'Tail', got {log_type!r}.")
        fn = self.get_function(function_name)
        self._check_tenant(fn, tenant_id)
        data = _encode_payload(payload)
        limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(data) > limit:
            raise RequestTooLargeException(
                f"Request must be smaller than {limit} bytes for the Invoke operation "
                f"(this one is {len(data)} bytes).")
        if invocation_type == "DryRun":
            return InvocationResult(204, request_id=self.loop.new_id())
        event = json.loads(data)
        if invocation_type == "Event":
            request_id = self._async.enqueue(fn, event, tenant_id)
            return InvocationResult(202, request_id=request_id)
        with self._lock:
            tap = self.loop._tap
            if not self._has_capacity(fn) or (tap is not None and tap.lambda_throttle(fn)):
                fn.throttles += 1
                self.meter.throttled(fn.name)
                if tap is not None:
                    tap.lambda_throttled(fn)
                reason = ("ReservedFunctionConcurrentInvocationLimitExceeded"
                          if fn.reserved_concurrency is not None
                          else "ConcurrentInvocationLimitExceeded")
                raise TooManyRequestsException(f"Rate Exceeded. Reason: {reason}")
            inv = self._begin(fn, event, "RequestResponse", tenant_id, None, serialize=True)
        return self._await_result(inv, log_type)

    def _check_tenant(self, fn: Function, tenant_id: str | None) -> None:
        if fn.tenant_isolation == "PER_TENANT":
            if tenant_id is None:
                raise InvalidParameterValueException(
                    f"Function {fn.name} uses tenant isolation mode PER_TENANT: every invocation "
                    "needs a tenant id.")
            if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
                raise InvalidParameterValueException(
                    f"Tenant id {tenant_id!r} is invalid: use 1-256 printable ASCII characters.")
        elif tenant_id is not None:
            raise InvalidParameterValueException(
                f"Function {fn.name} does not use tenant isolation: a tenant id is not allowed.")

    def _await_result(self, inv: _Invocation, log_type: str) -> InvocationResult:
        loop = self.loop
        with self._lock:
            while not inv.finished:
                assert inv.outcome is not None or not loop.clock.is_virtual
                end = inv.start + (inv.outcome.init_duration + inv.outcome.duration
                                   if inv.outcome is not None else inv.function.timeout + 1)
                loop._wait(self._cond, end)
        outcome = inv.outcome
        assert outcome is not None
        billed = billed_ms(outcome.duration + outcome.init_duration)
        tail = _log_tail(inv, outcome, billed) if log_type == "Tail" else None
        if outcome.status == "ok":
            value = outcome.value
            data = json.dumps(value).encode()
            if len(data) > MAX_SYNC_PAYLOAD:
                error = {"errorMessage": "Response payload size exceeded maximum allowed payload "
                         f"size ({MAX_SYNC_PAYLOAD} bytes).",
                         "errorType": "Function.ResponseSizeTooLarge"}
                return InvocationResult(200, error, "Unhandled", tail, "$LATEST", inv.request_id,
                                        outcome.duration, billed, inv.cold)
            return InvocationResult(200, json.loads(data), None, tail, "$LATEST", inv.request_id,
                                    outcome.duration, billed, inv.cold)
        return InvocationResult(200, outcome.error, "Unhandled", tail, "$LATEST", inv.request_id,
                                outcome.duration, billed, inv.cold)

    # -- the engine: start and finish an invocation ---------------------------------------------

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
        context = LambdaContext(
            function_name=fn.name, invoked_function_arn=fn.arn, memory_limit_in_mb=fn.memory_mb,
            aws_request_id=request_id, log_stream_name=env.log_stream_name, timing=timing,
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
            if status == "timeout" or outcome.abandoned:
                # Lambda resets the execution environment after a timeout.
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
            self.meter.record(InvocationRecord(
                fn.name, inv.request_id, inv.invocation_type, inv.start, outcome.duration,
                outcome.init_duration, billed_ms(outcome.duration + outcome.init_duration),
                fn.memory_mb, fn.architecture, inv.cold, result, inv.tenant_id))
            self._wake(fn)
            self._cond.notify_all()
        if inv.on_done is not None:
            inv.on_done(inv)

    # -- triggers --------------------------------------------------------------------------------

    def add_event_source(self, queue: Any, function_name: str, **options: Any) -> EventSourceMapping:
        """Map an SQS queue to a function (CreateEventSourceMapping). See
        :class:`~decoupling.event_sources.EventSourceMapping` for the options."""
        from .event_sources import EventSourceMapping

        return EventSourceMapping(self, queue, function_name, **options)

    def schedule(self, function_name: str, expression: str, **options: Any) -> ScheduleRule:
        """Invoke a function on a schedule (an EventBridge rule with a Lambda target). See
        :class:`~decoupling.schedules.ScheduleRule` for the options."""
        from .schedules import ScheduleRule

        return ScheduleRule(self, function_name, expression, **options)

    # -- reporting -------------------------------------------------------------------------------

    def report(self, prices: LambdaPrices | None = None) -> Any:
        """Usage and estimated cost per function (a :class:`~decoupling.metering.CostReport`)."""
        with self._lock:
            return self.meter.report(prices)

    @property
    def metrics(self) -> dict[str, Any]:
        """Live counters: account concurrency and, per function, invocations, errors,
        timeouts, throttles, cold starts, environments, concurrency now and at peak."""
        with self._lock:
            return {
                "concurrent_executions": self.concurrent,
                "peak_concurrent_executions": self.peak_concurrent,
                "functions": {
                    fn.name: {
                        "invocations": fn.invocations, "errors": fn.errors,
                        "timeouts": fn.timeouts, "throttles": fn.throttles,
                        "cold_starts": fn.cold_starts, "environments": len(fn.environments),
                        "concurrent": fn.concurrent, "peak_concurrent": fn.peak_concurrent,
                        "async_queue": self._async.backlog(fn),
                    } for fn in self.functions
                },
            }

    def close(self) -> None:
        """Stop event source mappings and schedules, and shut the worker pool down."""
        for mapping in list(self.event_source_mappings.values()):
            mapping.delete()
        for rule in list(self.schedules):
            rule.delete()
        self._engine.shutdown()

    def __repr__(self) -> str:
        return f"FunctionRuntime(functions={len(self._functions)}, limit={self.concurrency_limit})"


class _unlocked:
    """Release the loop's lock (all levels held by this thread) for a block."""

    def __init__(self, lock: Any) -> None:
        from .invocation import released

        self._cm = released(lock)

    def __enter__(self) -> None:
        self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


def _encode_payload(payload: Any) -> bytes:
    if isinstance(payload, (bytes, bytearray)):
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: {exc}") from None
        return bytes(payload)
    try:
        return json.dumps(payload).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContentException(
            f"Could not serialize the payload as JSON: {exc}") from None


def _duration_model(value: float | Callable[[Any], float] | None) -> Callable[[Any], float] | None:
    if value is None or callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidParameterValueException(
            f"simulated_duration must be seconds >= 0 or a callable, got {value!r}.")
    seconds = float(value)
    return lambda event: seconds


def _validate_function(name: object, handler: object, timeout: object, memory_mb: object,
                       environment: Mapping[str, str] | None, architecture: object,
                       tenant_isolation: object, description: object,
                       cold_start_duration: object) -> dict[str, Any]:
    if not isinstance(name, str) or not FUNCTION_NAME.fullmatch(name):
        raise ValidationException(
            f"1 validation error detected: Value {name!r} at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_]{1,64}")
    if isinstance(handler, str):
        if not _HANDLER_STRING.fullmatch(handler):
            raise InvalidParameterValueException(
                f"Handler {handler!r} is invalid: 1-128 characters without whitespace.")
    elif not callable(handler):
        raise InvalidParameterValueException("handler must be a callable or a handler string.")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise ValidationException(
            f"1 validation error detected: Value {timeout!r} at 'timeout' failed to satisfy "
            "constraint: Member must have value between 1 and 900 (seconds)")
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or not 128 <= memory_mb <= 10240:
        raise ValidationException(
            f"1 validation error detected: Value {memory_mb!r} at 'memorySize' failed to satisfy "
            "constraint: Member must have value between 128 and 10240 (MB)")
    if architecture not in ARCHITECTURES:
        raise ValidationException(
            f"1 validation error detected: Value {architecture!r} at 'architectures' failed to "
            "satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
    if tenant_isolation not in (None, "PER_TENANT"):
        raise InvalidParameterValueException(
            f"TenantIsolationMode must be PER_TENANT, got {tenant_isolation!r}.")
    if not isinstance(description, str) or len(description) > 256:
        raise ValidationException("Description must be a string of at most 256 characters.")
    if isinstance(cold_start_duration, bool) or not isinstance(cold_start_duration, (int, float)) \
            or cold_start_duration < 0:
        raise InvalidParameterValueException(
            f"cold_start_duration must be seconds >= 0, got {cold_start_duration!r}.")
    env = dict(environment or {})
    for key, value in env.items():
        if not isinstance(key, str) or not _ENV_KEY.fullmatch(key):
            raise InvalidParameterValueException(
                f"Environment variable name {key!r} is invalid: use [a-zA-Z][a-zA-Z0-9_]+.")
        if not isinstance(value, str):
            raise InvalidParameterValueException(
                f"Environment variable {key} must have a string value, got {type(value).__name__}.")
    reserved = sorted(k for k in env if k in RESERVED_ENV)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}")
    measured = json.dumps(env, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > ENV_LIMIT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            f"variables you have provided exceeded the 4KB limit. String measured: {measured[:200]}"
            f"... ({len(measured.encode())} bytes)")
    return {"timeout": timeout, "memory_mb": memory_mb, "environment": env,
            "tenant_isolation": tenant_isolation, "architecture": architecture,
            "description": description, "cold_start_duration": float(cold_start_duration)}


def _log_tail(inv: _Invocation, outcome: _Outcome, billed: int) -> str:
    import base64

    fn = inv.function
    rid = inv.request_id
    lines = [f"START RequestId: {rid} Version: $LATEST", *outcome.logs]
    if outcome.status == "error" and outcome.error:
        lines.append(f"[ERROR] {outcome.error.get('errorType')}: {outcome.error.get('errorMessage')}")
    if outcome.status == "timeout":
        lines.append(f"{rid} Task timed out after {fn.timeout:.2f} seconds")
    lines.append(f"END RequestId: {rid}")
    report = (f"REPORT RequestId: {rid}\tDuration: {outcome.duration * 1000:.2f} ms\t"
              f"Billed Duration: {billed} ms\tMemory Size: {fn.memory_mb} MB\t"
              f"Max Memory Used: {fn.memory_mb} MB")
    if inv.cold:
        report += f"\tInit Duration: {outcome.init_duration * 1000:.2f} ms"
    lines.append(report)
    data = ("\n".join(lines) + "\n").encode()[-4096:]
    return base64.b64encode(data).decode()
