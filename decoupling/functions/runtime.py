"""``FunctionRuntime``: Lambda-style functions on the loop, with Lambda's rules.

A runtime registers Python callables (or handler strings such as ``"app.orders.handler"``) as
functions and invokes them as Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/):

* **Configuration** (CreateFunction): name 1-64 of ``A-Za-z0-9-_``; timeout 1-1,800 s (3); memory
  128-32,768 MB (128); environment variables at most 4 KB, names ``[a-zA-Z][a-zA-Z0-9_]+``, not
  Lambda's reserved names; architecture ``x86_64`` or ``arm64``; reserved concurrency; tenant
  isolation ``PER_TENANT`` (set at creation only).
* **Invocation** (Invoke): ``RequestResponse`` (200 and the result, or the error payload with
  ``FunctionError: "Unhandled"``), ``Event`` (202; queued, retried, sent to destinations — see
  :mod:`decoupling.functions.async_invoke`) and ``DryRun`` (204; validates only). Payloads at most 6 MB
  synchronous and 1 MB asynchronous (``RequestTooLargeException``).
* **Concurrency**: an account limit (default 1,000) shared by the functions without reserved
  concurrency (at least ``unreserved_minimum``, default 100, stays unreserved); a function with
  reserved concurrency N never runs more than N at once. Over the limit a synchronous invoke
  fails ``TooManyRequestsException`` (429); asynchronous events wait in the queue.
* **Execution environments** are reused: an invocation takes an idle environment of its function
  (and tenant) if there is one (warm start), else creates one (cold start: the handler string is
  imported afresh and the ``init`` hook runs). Environments are never shared between tenants.
* **Metering**: every invocation is recorded (:mod:`decoupling.functions.usage`); :meth:`report` prices
  them.

A function and its execution environments: see :mod:`decoupling.functions.function`. Starting
and finishing one invocation: ``decoupling.functions._lifecycle``.
Timing, timeouts, errors and how handlers are run: see :mod:`decoupling.functions.invocation`.
Environment variables and the context object: see :mod:`decoupling.functions.context`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
    ResourceConflictException,
    ResourceNotFoundException,
    TooManyRequestsException,
)
from ..loop import EventLoop
from . import topic_delivery as _topic_delivery  # noqa: F401  (registers SNS's 'lambda' protocol)
from ._checks import ARCHITECTURES as ARCHITECTURES  # re-exported, as all below
from ._checks import ENV_LIMIT_BYTES as ENV_LIMIT_BYTES
from ._checks import FUNCTION_NAME as FUNCTION_NAME
from ._checks import INVOCATION_TYPES as INVOCATION_TYPES
from ._checks import RESERVED_ENV as RESERVED_ENV
from ._checks import (
    TENANT_ID,
    check_options,
    duration_model,
    encode_payload,
    function_name_error,
    validate_function,
    validate_runtime,
)
from ._lifecycle import _Invocation as _Invocation  # re-exported: taps, sources, async
from ._lifecycle import _InvocationLifecycle
from .context import install_environ_proxy, install_log_capture
from .function import ExecutionEnvironment as ExecutionEnvironment
from .function import Function as Function
from .invocation import MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD, Engine, Handler, InvocationResult
from .layers import LayerVersion, _Layers
from .logs import (
    DEFAULT_LOG_BYTES,
    DEFAULT_LOG_EVENTS,
    DEFAULT_LOG_KEEP_SECONDS,
    LogEvent,
    LogGroup,
    LogStream,
    _LogStore,
)
from .policy import _Policies
from .provisioned import ProvisionedConcurrencyConfig, _Provisioned
from .urls import FunctionUrl, _Urls, _UrlServer
from .usage import LambdaPrices, Meter
from .versions import _Versions

if TYPE_CHECKING:
    from .async_invoke import AsyncInvoker, Destination
    from .event_sources import EventSourceMapping
    from .schedules import ScheduleRule

__all__ = ["FunctionRuntime", "Function", "ExecutionEnvironment"]

_validate_function = validate_function  # its old name here: decoupling.boto imports it

F = TypeVar("F", bound=Callable[..., Any])


class FunctionRuntime(_Versions, _Layers, _Policies, _Urls, _Provisioned, _InvocationLifecycle):
    """Lambda functions on one :class:`~decoupling.EventLoop`.

    Args:
        loop: the loop (account) to run on, or an AWS account from
            ``decoupling.aws.connect()`` (handlers then run here, fed by real queues).
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
        keep_records: invocation records the meter keeps, 0 to ``sys.maxsize`` or ``None`` for
            all (default 100,000; totals cover all), of the last day of loop time at most
            (:class:`~decoupling.functions.usage.Meter`'s ``keep_seconds``).
        environment_idle_timeout: seconds an idle execution environment is kept before it is
            reclaimed (checked lazily when one is needed; default ``None``: kept forever).
        seed: seeds the draws of aliases' weighted routing (default 0), so a run repeats.
        log_events: events each function's log group keeps, 1 or more or ``None`` for no
            limit (default 10,000; the oldest invocations' events go first); see
            :mod:`decoupling.functions.logs`.
        log_bytes: bytes each log group keeps (message bytes plus 26 per event, as CloudWatch
            Logs counts), 1 or more or ``None`` for no limit (default 8 MiB).
        log_keep_seconds: seconds of loop time a log group keeps an invocation's events after
            newer ones arrive: events stored more than this before the newest are dropped
            (default 86,400: one day, so a long-running process's memory is flat after its
            first day; ``None`` for no age bound).
        enforce_resource_policies: check functions' resource policies when a service of the
            loop (an SNS topic) invokes them (default ``False``; see
            :mod:`decoupling.functions.policy`).

    Versions, aliases and invoking by qualifier: see :mod:`decoupling.functions.versions`;
    layers: :mod:`decoupling.functions.layers`; what handlers print and log, in CloudWatch
    Logs' shape: :meth:`log_groups`, :meth:`log_streams`, :meth:`log_events`
    (:mod:`decoupling.functions.logs`); provisioned concurrency:
    :mod:`decoupling.functions.provisioned`; resource policies:
    :mod:`decoupling.functions.policy`; function URLs (served over HTTP on 127.0.0.1):
    :mod:`decoupling.functions.urls`.

    Every public method is thread-safe.
    """

    def __new__(cls, loop: EventLoop, *args: Any, **kwargs: Any) -> FunctionRuntime:
        if type(loop) is not EventLoop and hasattr(loop, "_implementation"):
            made: FunctionRuntime = object.__new__(loop._implementation(cls))  # AWS backend
            return made
        return super().__new__(cls)

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
        seed: int = 0,
        enforce_resource_policies: bool = False,
        log_events: int | None = DEFAULT_LOG_EVENTS,
        log_bytes: int | None = DEFAULT_LOG_BYTES,
        log_keep_seconds: float | None = DEFAULT_LOG_KEEP_SECONDS,
    ) -> None:
        if not isinstance(loop, EventLoop):
            raise InvalidParameterValueException(
                "FunctionRuntime needs an EventLoop as its first argument (the account it "
                f"belongs to), got {type(loop).__name__}.")
        validate_runtime(concurrency_limit, prices, unreserved_minimum, max_workers, isolation,
                         hang_guard, keep_records, environment_idle_timeout)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidParameterValueException(f"seed must be an integer, got {seed!r}.")
        for setting, value in (("log_events", log_events), ("log_bytes", log_bytes)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise InvalidParameterValueException(
                    f"{setting} must be an integer >= 1 or None, got {value!r}.")
        if log_keep_seconds is not None and (
                isinstance(log_keep_seconds, bool)
                or not isinstance(log_keep_seconds, (int, float))
                or not 0 < log_keep_seconds < float("inf")):
            raise InvalidParameterValueException(
                "log_keep_seconds must be a positive finite number of seconds or None, "
                f"got {log_keep_seconds!r}.")
        self._logs = _LogStore(log_events, log_bytes, log_keep_seconds)
        self.loop = loop
        self._routing_rng = random.Random(f"{seed}:routing")
        self._layers: dict[str, dict[int, LayerVersion]] = {}
        self._policies: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
        self._policy_revisions: dict[tuple[str, str | None], str] = {}
        self._urls: dict[tuple[str, str | None], FunctionUrl] = {}
        self._url_ids: dict[str, FunctionUrl] = {}
        self._url_server: _UrlServer | None = None
        self._provisioned: dict[tuple[str, str], ProvisionedConcurrencyConfig] = {}
        #: Whether services' invocations are checked against resource policies.
        self.enforce_resource_policies = bool(enforce_resource_policies)
        self._layer_seq: dict[str, int] = {}
        self.concurrency_limit = concurrency_limit
        self.unreserved_minimum = min(unreserved_minimum, concurrency_limit)
        self.hang_guard = hang_guard
        self.environment_idle_timeout = environment_idle_timeout
        self.meter = Meter(prices or LambdaPrices(), keep_records)
        self._lock = loop._lock
        self._cond = loop._new_condition()  # invocations ending wake threads and tasks
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
        layers: list[LayerVersion] | None = None,
    ) -> Function:
        """Create a function (CreateFunction). O(1).

        Args:
            name: 1-64 characters of ``A-Za-z0-9-_``.
            handler: ``handler(event, context)`` (plain or ``async def``), or a handler string
                ``"package.module.function"`` imported per execution environment.
            timeout: seconds, 1-1,800 (default 3; Lambda's limit since 2026).
            memory_mb: 128-32,768 (default 128).
            environment: variables (names ``[a-zA-Z][a-zA-Z0-9_]+``, not reserved; at most 4 KB
                as JSON).
            reserved_concurrency: 0 or more (``None``: use the unreserved pool).
            tenant_isolation: ``"PER_TENANT"`` or ``None``.
            architecture: ``"x86_64"`` (default) or ``"arm64"`` (priced differently).
            description: free text (at most 256 characters).
            simulated_duration: virtual seconds each invocation takes on a ManualClock, on top
                of what the handler spends itself — a number (0-900) or ``f(event) -> seconds``.
            cold_start_duration: virtual seconds of INIT on a cold start (ManualClock), 0-900.
            init: called once per new execution environment before its first invocation.
            maximum_retry_attempts, maximum_event_age, on_success, on_failure, dead_letter:
                asynchronous invocation settings; see :meth:`configure_async`.
            layers: layer versions (:meth:`publish_layer_version`, at most 5) whose
                ``python/`` directories go on the handler's import path.

        Raises:
            ResourceConflictException: the name exists.
            ValidationException: a value outside its range.
            InvalidParameterValueException: a bad environment, reserved concurrency, handler or
                tenant isolation mode.
        """
        cfg = validate_function(name, handler, timeout, memory_mb, environment, architecture,
                                tenant_isolation, description, cold_start_duration)
        duration_fn = duration_model(simulated_duration)
        if init is not None and not callable(init):
            raise InvalidParameterValueException(f"init must be a callable, got {init!r}.")
        if layers is not None and (len(layers) > 5
                                   or not all(isinstance(x, LayerVersion) for x in layers)):
            raise InvalidParameterValueException(
                "layers must be at most 5 LayerVersion objects (publish_layer_version).")
        with self._lock:
            if name in self._functions:
                raise ResourceConflictException(f"Function already exist: {name}")
            fn = Function(self, name, handler, reserved_concurrency=None,
                          simulated_duration=duration_fn, init=init, **cfg)
            if reserved_concurrency is not None:
                self._check_reserved(fn, reserved_concurrency)
            self._async.check_config(fn, maximum_retry_attempts, maximum_event_age,
                                     on_success, on_failure, dead_letter)
            fn.layer_paths = [layer.python_path for layer in layers or ()]
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
            # no name and a nameless handler: register refuses the empty name
            self.register(name or cast(str, getattr(handler, "__name__", "")), handler, **options)
            return handler

        return decorate

    def get_function(self, name: str) -> Function:
        """The function of that name (GetFunction). Raises ``ResourceNotFoundException``."""
        if not isinstance(name, str):  # also keeps unhashable names away from the dict
            raise function_name_error(name)
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
            for version in fn.versions.values():
                version.environments.clear()
                version._idle.clear()
            # Its execution environments (and the handler modules they loaded) go with it;
            # one still running an invocation finishes and is not put back.
            fn.environments.clear()
            fn._idle.clear()
            del self._functions[name]
            self._forget_policies(name)
            self._forget_urls(name)
            self._forget_provisioned(name)
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

        Options not given keep their value. See :mod:`decoupling.functions.async_invoke`.
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
        qualifier: str | None = None,
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
            qualifier: ``"$LATEST"`` (default), a version number or an alias (whose routing
                picks the version; ``executed_version`` says which ran).

        A synchronous invoke returns when the invocation ends — on a ManualClock, once virtual
        time reaches its end (auto-jump moves it). O(payload size).

        Raises:
            ResourceNotFoundException, InvalidParameterValueException,
            InvalidRequestContentException (bytes that are not JSON), RequestTooLargeException
            (over 6 MB, or 1 MB for ``Event``), TooManyRequestsException (no concurrency left,
            ``RequestResponse`` only).
        """
        started = self._start_invoke(function_name, payload, invocation_type, tenant_id, log_type,
                                     qualifier)
        if isinstance(started, InvocationResult):
            return started
        return self._await_result(started, log_type)

    async def invoke_async(
        self,
        function_name: str,
        payload: Any = None,
        invocation_type: str = "RequestResponse",
        *,
        tenant_id: str | None = None,
        log_type: str = "None",
        qualifier: str | None = None,
    ) -> InvocationResult:
        """:meth:`invoke` for asyncio: same arguments, result and errors, and no thread to
        wait in: a ``RequestResponse`` invocation's end wakes the awaiting task.

        The handler runs as :meth:`invoke` runs it: on a real clock in the runtime's workers
        while the asyncio loop goes on; on a :class:`~decoupling.ManualClock` at once in the
        calling thread (it takes no virtual time to run), after which the task waits for
        virtual time to reach the invocation's end — with auto-jump on, it moves the clock
        itself once its asyncio loop has nothing else ready, as :meth:`invoke` does. A
        cancelled ``invoke_async`` does not stop the invocation: it runs to its end, as a
        Lambda invocation does when its caller goes away.
        """
        started = self._start_invoke(function_name, payload, invocation_type, tenant_id, log_type,
                                     qualifier)
        if isinstance(started, InvocationResult):
            return started
        return await self._await_result_async(started, log_type)

    def _start_invoke(
        self,
        function_name: str,
        payload: Any,
        invocation_type: str,
        tenant_id: str | None,
        log_type: str,
        qualifier: str | None = None,
    ) -> InvocationResult | _Invocation:
        """Check an Invoke and start it: the result of ``Event`` and ``DryRun``, or the
        started ``RequestResponse`` invocation."""
        if invocation_type not in INVOCATION_TYPES:
            raise InvalidParameterValueException(
                f"InvocationType must be one of {', '.join(INVOCATION_TYPES)}, got {invocation_type!r}.")
        if log_type not in ("None", "Tail"):
            raise InvalidParameterValueException(f"LogType must be 'None' or 'Tail', got {log_type!r}.")
        fn = self._invocation_target(function_name, qualifier)
        self._check_tenant(fn, tenant_id)
        data = encode_payload(payload)
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
            return self._begin(fn, event, "RequestResponse", tenant_id, None, serialize=True)

    def _check_tenant(self, fn: Function, tenant_id: str | None) -> None:
        if fn.tenant_isolation == "PER_TENANT":
            if tenant_id is None:
                raise InvalidParameterValueException(
                    f"Function {fn.name} uses tenant isolation mode PER_TENANT: every invocation "
                    "needs a tenant id.")
            if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
                raise InvalidParameterValueException(
                    f"Tenant id {tenant_id!r} is invalid: use 1-256 printable ASCII characters.")
        elif tenant_id is not None:
            raise InvalidParameterValueException(
                f"Function {fn.name} does not use tenant isolation: a tenant id is not allowed.")

    # -- triggers --------------------------------------------------------------------------------

    def add_event_source(self, queue: Any, function_name: str, **options: Any) -> EventSourceMapping:
        """Map an SQS queue to a function (CreateEventSourceMapping). See
        :class:`~decoupling.functions.event_sources.EventSourceMapping` for the options."""
        from .event_sources import EventSourceMapping

        check_options(EventSourceMapping, options)
        return EventSourceMapping(self, queue, function_name, **options)

    def schedule(self, function_name: str, expression: str, **options: Any) -> ScheduleRule:
        """Invoke a function on a schedule (an EventBridge rule with a Lambda target). See
        :class:`~decoupling.functions.schedules.ScheduleRule` for the options."""
        from .schedules import ScheduleRule

        check_options(ScheduleRule, options)
        if options.get("payload") is not None:
            encode_payload(options["payload"])  # else every fire would fail, silently
        return ScheduleRule(self, function_name, expression, **options)

    # -- logs ------------------------------------------------------------------------------------

    def log_groups(self) -> list[LogGroup]:
        """The functions' log groups (``/aws/lambda/<name>``), by name. A group exists once its
        function has logged (its first invocation ended) and outlives the function, as on
        Lambda. O(groups)."""
        with self._lock:
            store = self._logs
            return [store.group_info(store.groups[name]) for name in sorted(store.groups)]

    def log_streams(self, function_name: str) -> list[LogStream]:
        """The log streams of a function's group (one per execution environment that
        logged), by name. O(streams).

        Raises:
            ResourceNotFoundException: "The specified log group does not exist." (the function
                never logged).
            ValidationException: a name that is not a string.
        """
        if not isinstance(function_name, str):  # also keeps unhashable names from the dict
            raise function_name_error(function_name)
        with self._lock:
            group = self._logs.group(function_name)
            return [group.streams[name].info() for name in sorted(group.streams)]

    def log_events(self, function_name: str, stream_name: str | None = None) -> list[LogEvent]:
        """A function's kept log events: one stream's in order, or (no ``stream_name``) all its
        streams' by timestamp (stable: events of one stream keep their order). O(events).

        Raises:
            ResourceNotFoundException: "The specified log group does not exist." or "The
                specified log stream does not exist."
            ValidationException, InvalidParameterValueException: a name that is not a string.
        """
        if not isinstance(function_name, str):
            raise function_name_error(function_name)
        if stream_name is not None and not isinstance(stream_name, str):
            raise InvalidParameterValueException(
                f"stream_name must be a log stream name (str) or None, got {stream_name!r}.")
        with self._lock:
            if stream_name is not None:
                return self._logs.stream(function_name, stream_name).read()
            group = self._logs.group(function_name)
            merged = [e for name in sorted(group.streams) for e in group.streams[name].read()]
        merged.sort(key=lambda e: e.timestamp)
        return merged

    # -- reporting -------------------------------------------------------------------------------

    def report(self, prices: LambdaPrices | None = None) -> Any:
        """Usage and estimated cost per function (a :class:`~decoupling.functions.usage.CostReport`)."""
        if prices is not None and not isinstance(prices, LambdaPrices):
            raise InvalidParameterValueException(f"prices must be LambdaPrices, got {prices!r}.")
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
        """Stop event source mappings and schedules, the function URLs' HTTP server, and shut
        the worker pool down."""
        for mapping in list(self.event_source_mappings.values()):
            mapping.delete()
        for rule in list(self.schedules):
            rule.delete()
        self._stop_url_server()
        self._engine.shutdown()

    def __repr__(self) -> str:
        return f"FunctionRuntime(functions={len(self._functions)}, limit={self.concurrency_limit})"
