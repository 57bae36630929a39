"""A Lambda function's configuration and counters (``Function``), and the execution
environments that run it (``ExecutionEnvironment``).

:class:`~decoupling.FunctionRuntime` creates both; their settings are checked before (see
``decoupling.functions._checks``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .context import _EnvView, process_environ
from .invocation import Handler

if TYPE_CHECKING:
    from .runtime import FunctionRuntime
    from .versions import Alias, FunctionVersion

__all__ = ["Function", "ExecutionEnvironment"]


class ExecutionEnvironment:
    """One execution environment: its own variables, loaded handler and counters.

    Attributes:
        id: a unique id (also the tail of :attr:`log_stream_name`).
        function_name: the function it belongs to.
        tenant_id: its tenant (``PER_TENANT`` functions), else ``None``.
        log_stream_name: ``YYYY/MM/DD/[<version>]<id>`` (``$LATEST`` or the version number).
        variables: the environment's own variable layer (what ``os.environ`` adds inside it).
        init_count: how many times its INIT phase ran (1, or more after failed inits).
        invocations: invocations it has served.
        created_at: loop time it was created.
    """

    __slots__ = ("id", "function_name", "tenant_id", "log_stream_name", "variables", "view",
                 "handler", "init_count", "invocations", "created_at", "idle_since",
                 "generation")

    def __init__(self, env_id: str, function: Function, tenant_id: str | None, created_at: float,
                 wall: float, region: str) -> None:
        self.id = env_id
        self.function_name = function.name
        self.tenant_id = tenant_id
        day = datetime.fromtimestamp(wall, UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[{function.version}]{env_id}"
        self.variables: dict[str, str] = {
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
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
        # The function's configuration it was made for: an older one is not reused.
        self.generation = function._generation


class Function:
    """A registered function: its configuration (read-only attributes) and live counters.

    Counters: ``invocations``, ``errors``, ``timeouts``, ``throttles``, ``cold_starts``,
    ``concurrent`` (running now) and ``peak_concurrent`` (most ever at once).

    ``version`` is ``"$LATEST"``; ``versions`` (number -> :class:`~decoupling.FunctionVersion`)
    and ``aliases`` (name -> :class:`~decoupling.Alias`) are what was published and named (see
    :mod:`decoupling.functions.versions`); ``layer_paths`` are the directories its layers add to
    the import path.
    """

    version: str = "$LATEST"

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
        self._generation = 0  # bumped by a configuration update
        self.versions: dict[str, FunctionVersion] = {}
        self.aliases: dict[str, Alias] = {}
        self.layer_paths: list[str] = []
        self._version_seq = 0  # the last version number given
        self._changes = 0  # bumped by changes to code or configuration

    @property
    def qualified_arn(self) -> str:
        """The ARN with the version qualifier (``:$LATEST`` here, as in destination records)."""
        return f"{self.arn}:{self.version}"

    def __repr__(self) -> str:
        return f"Function({self.name!r}, timeout={self.timeout}, memory_mb={self.memory_mb})"


def _is_coroutine_function(fn: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None))  # noqa: B004 - an object whose __call__ is async
