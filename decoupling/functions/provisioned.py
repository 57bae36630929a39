"""Provisioned concurrency: execution environments initialised ahead of invocations
(PutProvisionedConcurrencyConfig; Lambda Developer Guide, "Configuring provisioned
concurrency").

:meth:`~decoupling.FunctionRuntime.put_provisioned_concurrency` creates that many execution
environments for a published version (or an alias's version) at once, runs their INIT (the
handler is imported, the ``init`` hook runs; ``AWS_LAMBDA_INITIALIZATION_TYPE`` is
``provisioned-concurrency``) and leaves them idle, so the next invocations are warm: no cold
start is counted and no ``cold_start_duration`` is spent. ``$LATEST`` cannot have provisioned
concurrency, as on Lambda. An INIT that fails makes the configuration ``FAILED`` with its
error as ``status_reason``. Deleting the configuration leaves the environments as ordinary idle
ones. (Provisioned concurrency is not priced by the meter.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import (
    InvalidParameterValueException,
    ProvisionedConcurrencyConfigNotFoundException,
)
from .function import ExecutionEnvironment

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .function import Function

__all__ = ["ProvisionedConcurrencyConfig"]


class ProvisionedConcurrencyConfig:
    """A function version's provisioned concurrency.

    Attributes:
        function_name, qualifier: the function and the version or alias it applies to.
        requested: environments asked for; allocated: environments initialised;
        available: those initialised without error.
        status: ``"READY"`` or ``"FAILED"``; status_reason: why it failed, else ``None``.
        last_modified: ISO-8601 time of the loop's wall clock.
    """

    def __init__(self, function_name: str, qualifier: str, requested: int) -> None:
        self.function_name = function_name
        self.qualifier = qualifier
        self.requested = requested
        self.allocated = 0
        self.available = 0
        self.status = "READY"
        self.status_reason: str | None = None
        self.last_modified = ""

    def __repr__(self) -> str:
        return (f"ProvisionedConcurrencyConfig({self.function_name!r}, {self.qualifier!r}, "
                f"{self.available}/{self.requested}, {self.status})")


class _Provisioned:
    """Mixin of :class:`~decoupling.FunctionRuntime`: provisioned concurrency.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    _lock: Any
    _provisioned: dict[tuple[str, str], ProvisionedConcurrencyConfig]

    if TYPE_CHECKING:

        def get_function(self, name: str) -> Function: ...

        def function_version(self, name: str, qualifier: str | None) -> Function: ...

        def _handler_of(self, env: ExecutionEnvironment, fn: Function) -> Any: ...

    def put_provisioned_concurrency(self, name: str, qualifier: str,
                                    executions: int) -> ProvisionedConcurrencyConfig:
        """Initialise ``executions`` environments for a version or alias
        (PutProvisionedConcurrencyConfig); replaces an earlier setting.

        Raises:
            ResourceNotFoundException: no such function, version or alias.
            InvalidParameterValueException: ``$LATEST``, or ``executions`` below 1.
        """
        if isinstance(executions, bool) or not isinstance(executions, int) or executions < 1:
            raise InvalidParameterValueException(
                f"ProvisionedConcurrentExecutions must be an integer of at least 1, got "
                f"{executions!r}.")
        if qualifier in (None, "$LATEST"):
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.")
        from .invocation import InitError
        from .versions import check_qualifier

        check_qualifier(qualifier)
        with self._lock:
            base = self.get_function(name)
            target = self.function_version(name, qualifier)
            config = ProvisionedConcurrencyConfig(base.name, qualifier, executions)
            idle = target._idle.setdefault(None, [])
            now = self.loop.clock.now()
            ready = [env for env in idle if env.variables.get(
                "AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency"]
            for _ in range(max(0, executions - len(ready))):
                env = ExecutionEnvironment(self.loop.new_id().replace("-", ""), target, None,
                                           now, self.loop.clock.wall(), self.loop.region)
                env.variables["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
                try:
                    self._handler_of(env, target)
                except InitError as error:
                    config.status, config.status_reason = "FAILED", f"{error.error_type}: {error}"
                    break
                target.environments.append(env)
                idle.append(env)
                ready.append(env)
            config.allocated = config.available = min(len(ready), executions)
            config.last_modified = datetime.fromtimestamp(
                self.loop.clock.wall(), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            self._provisioned[(base.name, qualifier)] = config
            return config

    def get_provisioned_concurrency(self, name: str,
                                    qualifier: str) -> ProvisionedConcurrencyConfig:
        """A version's provisioned concurrency. Raises
        ProvisionedConcurrencyConfigNotFoundException when there is none."""
        from .versions import check_qualifier

        check_qualifier(qualifier)
        with self._lock:
            fn = self.get_function(name)
            config = self._provisioned.get((fn.name, qualifier))
            if config is None:
                raise ProvisionedConcurrencyConfigNotFoundException(
                    "No Provisioned Concurrency Config found for this function")
            return config

    def delete_provisioned_concurrency(self, name: str, qualifier: str) -> None:
        """Remove a version's provisioned concurrency (its environments stay, idle)."""
        with self._lock:
            config = self.get_provisioned_concurrency(name, qualifier)
            del self._provisioned[(config.function_name, qualifier)]

    def list_provisioned_concurrency(self, name: str) -> list[ProvisionedConcurrencyConfig]:
        """A function's provisioned concurrency configurations, by qualifier."""
        with self._lock:
            fn = self.get_function(name)
            return [c for (n, q), c in sorted(self._provisioned.items()) if n == fn.name]

    def _forget_provisioned(self, name: str) -> None:
        for key in [k for k in self._provisioned if k[0] == name]:
            del self._provisioned[key]
