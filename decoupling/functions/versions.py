"""Function versions and aliases (PublishVersion, CreateAlias, invoking by qualifier).

As Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html):

* ``$LATEST`` is the function itself: its code and configuration change with
  UpdateFunctionCode and UpdateFunctionConfiguration.
* :meth:`~decoupling.FunctionRuntime.publish_version` takes an immutable snapshot of
  ``$LATEST`` (handler and configuration) as version ``"1"``, ``"2"``, ...: numbers are never
  reused, even after a version is deleted. Publishing when nothing changed since the last
  version returns that version. A version has its own execution environments (a version keeps
  running its own code after ``$LATEST`` changes) but shares the function's concurrency,
  counters and asynchronous invocation settings.
* An alias names a version (or ``$LATEST``) and may route a share of invocations to one more
  version (``routing={"2": 0.1}``: 10 % to version 2, the rest to the alias's version). The draw
  uses the runtime's own random stream (``FunctionRuntime(seed=...)``), so a run is repeatable.
  The invocation's ``executed_version`` says which version ran.
* A qualifier is ``"$LATEST"``, a version number or an alias name; ``invoke(name, qualifier=q)``
  runs it.
"""

from __future__ import annotations

import math
import random
import re
from typing import TYPE_CHECKING, Any, Final

from ..errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from .function import Function

if TYPE_CHECKING:
    from ..loop import EventLoop

__all__ = ["FunctionVersion", "Alias", "ALIAS_NAME"]

#: An alias name: 1-128 of ``A-Za-z0-9-_``, not all digits (a version number).
ALIAS_NAME: Final = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}")
LATEST: Final = "$LATEST"

# What a version shares with its function: concurrency and the counters of ``metrics``.
_SHARED: Final = ("concurrent", "peak_concurrent", "reserved_concurrency", "_waiters",
                  "invocations", "errors", "timeouts", "throttles", "cold_starts")


class FunctionVersion(Function):
    """A published version: a frozen copy of its function's handler and configuration.

    Attributes:
        base: the function (``$LATEST``).
        version: ``"1"``, ``"2"``, ...
        Everything else as :class:`~decoupling.Function` (read-only).
    """

    base: Function

    def __init__(self, base: Function, version: str, description: str | None) -> None:
        # Not Function.__init__: the configuration is copied, the shared counters delegate
        # (class properties, which take precedence over the copied instance attributes).
        self.__dict__.update(base.__dict__)
        self.base = base
        self.runtime = base.runtime
        self.name = base.name
        self.arn = base.arn
        self.version = version
        self.handler = base.handler
        self.handler_name = base.handler_name
        self.timeout = base.timeout
        self.memory_mb = base.memory_mb
        self.environment = dict(base.environment)
        self.tenant_isolation = base.tenant_isolation
        self.architecture = base.architecture
        self.description = base.description if description is None else description
        self.simulated_duration = base.simulated_duration
        self.cold_start_duration = base.cold_start_duration
        self.init = base.init
        self.is_async = base.is_async
        self.layer_paths = list(base.layer_paths)
        self._idle = {}
        self.environments = []
        self.versions = {}
        self.aliases = {}
        self._generation = 0
        self._own_deleted = False
        self._source_change = base._changes

    @property
    def _deleted(self) -> bool:
        return self._own_deleted or self.base._deleted

    @_deleted.setter
    def _deleted(self, value: bool) -> None:
        self._own_deleted = value

    def __repr__(self) -> str:
        return f"FunctionVersion({self.name!r}, {self.version!r})"


def _delegate(name: str) -> property:
    def get(self: FunctionVersion) -> Any:
        return getattr(self.base, name)

    def put(self: FunctionVersion, value: Any) -> None:
        setattr(self.base, name, value)

    return property(get, put)


for _name in _SHARED:
    setattr(FunctionVersion, _name, _delegate(_name))


class Alias:
    """An alias of a function (CreateAlias).

    Attributes:
        name: the alias name.
        function_name: its function.
        arn: ``arn:aws:lambda:<region>:<account>:function:<function>:<alias>``.
        function_version: the version it points to (``"$LATEST"`` or a number).
        routing: additional versions and their weights (0.0-1.0), at most one.
        description: free text.
        revision_id: changes with every update.
    """

    __slots__ = ("name", "function_name", "arn", "function_version", "routing", "description",
                 "revision_id")

    def __init__(self, name: str, function: Function, function_version: str,
                 routing: dict[str, float], description: str, revision_id: str) -> None:
        self.name = name
        self.function_name = function.name
        self.arn = f"{function.arn}:{name}"
        self.function_version = function_version
        self.routing = routing
        self.description = description
        self.revision_id = revision_id

    def __repr__(self) -> str:
        return f"Alias({self.name!r} -> {self.function_version!r}, routing={self.routing!r})"


def check_qualifier(value: object, label: str = "Qualifier") -> None:
    """A qualifier (version number, ``$LATEST`` or alias name) is a short string."""
    if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 128):
        raise InvalidParameterValueException(
            f"{label} must be a version number, $LATEST or an alias name, got {value!r}.")


def _check_description(description: object) -> str:
    if not isinstance(description, str) or len(description) > 256:
        raise InvalidParameterValueException(
            f"Description must be a string of at most 256 characters, got {description!r}.")
    return description


class _Versions:
    """Mixin of :class:`~decoupling.FunctionRuntime`: versions, aliases and qualifiers.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    _lock: Any
    _routing_rng: random.Random

    if TYPE_CHECKING:

        def get_function(self, name: str) -> Function: ...

    # -- versions -------------------------------------------------------------------------------

    def publish_version(self, name: str, *, description: str | None = None) -> FunctionVersion:
        """Publish ``$LATEST`` as a new version (PublishVersion). O(1).

        Args:
            name: the function.
            description: the version's description (default: the function's).

        Returns the new version, or the newest version when nothing changed since it was
        published (as Lambda does).
        """
        if description is not None:
            _check_description(description)
        with self._lock:
            fn = self.get_function(name)
            if fn.versions:
                newest = fn.versions[max(fn.versions, key=int)]
                if newest._source_change == fn._changes:
                    return newest
            fn._version_seq += 1
            version = FunctionVersion(fn, str(fn._version_seq), description)
            fn.versions[version.version] = version
            return version

    def list_versions(self, name: str) -> list[Function]:
        """``$LATEST`` and the published versions, oldest first (ListVersionsByFunction)."""
        with self._lock:
            fn = self.get_function(name)
            return [fn, *(fn.versions[v] for v in sorted(fn.versions, key=int))]

    def function_version(self, name: str, qualifier: str | None) -> Function:
        """The function or version a qualifier names: ``None`` or ``"$LATEST"`` (the
        function), a version number, or an alias (its main version; no routing).

        Raises:
            ResourceNotFoundException: no such version or alias.
        """
        check_qualifier(qualifier)
        with self._lock:
            fn = self.get_function(name)
            if qualifier is None or qualifier == LATEST:
                return fn
            alias = fn.aliases.get(qualifier)
            if alias is not None:
                qualifier = alias.function_version
                if qualifier == LATEST:
                    return fn
            version = fn.versions.get(qualifier)
            if version is None:
                raise ResourceNotFoundException(f"Function not found: {fn.arn}:{qualifier}")
            return version

    def _invocation_target(self, name: str, qualifier: str | None) -> Function:
        """What an invocation with ``qualifier`` runs: an alias's routing draws a version."""
        check_qualifier(qualifier)
        with self._lock:
            fn = self.get_function(name)
            alias = fn.aliases.get(qualifier) if qualifier is not None else None
            if alias is not None and alias.routing:
                draw = self._routing_rng.random()
                for version, weight in alias.routing.items():
                    if draw < weight:
                        return fn.versions[version]
                    draw -= weight
            return self.function_version(name, qualifier)

    def delete_version(self, name: str, version: str) -> None:
        """Delete one published version (DeleteFunction with a qualifier).

        Raises:
            ResourceNotFoundException: no such version.
            ResourceConflictException: an alias points to it.
            InvalidParameterValueException: ``$LATEST`` or an alias name (delete the function,
                or the alias, instead).
        """
        check_qualifier(version, "version")
        with self._lock:
            fn = self.get_function(name)
            if version == LATEST or version in fn.aliases:
                raise InvalidParameterValueException(
                    f"Deletion of {version} is not allowed: delete the function or the alias.")
            target = fn.versions.get(version)
            if target is None:
                raise ResourceNotFoundException(f"Function not found: {fn.arn}:{version}")
            users = sorted(a.name for a in fn.aliases.values()
                           if a.function_version == version or version in a.routing)
            if users:
                raise ResourceConflictException(
                    f"Unable to delete version because the following aliases reference it: "
                    f"{users}")
            target._deleted = True
            target.environments.clear()
            target._idle.clear()
            del fn.versions[version]

    # -- aliases --------------------------------------------------------------------------------

    def _check_alias_target(self, fn: Function, version: object,
                            routing: object) -> dict[str, float]:
        if not isinstance(version, str) or (version != LATEST and version not in fn.versions):
            raise ResourceNotFoundException(f"Function not found: {fn.arn}:{version}")
        if routing is None:
            return {}
        if not isinstance(routing, dict):
            raise InvalidParameterValueException(
                f"routing must map a version to a weight, got {routing!r}.")
        if len(routing) > 1:
            raise InvalidParameterValueException(
                "Number of items in AdditionalVersionWeights cannot be greater than 1")
        out: dict[str, float] = {}
        for extra, weight in routing.items():
            if (isinstance(weight, bool) or not isinstance(weight, (int, float))
                    or not math.isfinite(weight) or not 0.0 <= weight <= 1.0):
                raise InvalidParameterValueException(
                    f"The weight of version {extra} must be between 0.0 and 1.0, got {weight!r}.")
            if version == LATEST or extra == LATEST:
                raise InvalidParameterValueException(
                    "$LATEST is not supported for an alias pointing to more than 1 version")
            if extra == version:
                raise InvalidParameterValueException(
                    f"Invalid function version {extra}. Function version {extra} is already "
                    "included in routing configuration.")
            if extra not in fn.versions:
                raise InvalidParameterValueException(
                    f"Invalid function version {extra}: the version does not exist.")
            out[str(extra)] = float(weight)
        return out

    def create_alias(self, name: str, alias: str, function_version: str, *,
                     description: str = "", routing: dict[str, float] | None = None) -> Alias:
        """Create an alias (CreateAlias). O(1).

        Args:
            name: the function.
            alias: 1-128 of ``A-Za-z0-9-_``, not all digits.
            function_version: ``"$LATEST"`` or a published version.
            description: at most 256 characters.
            routing: ``{version: weight}`` — at most one more version, weight 0.0-1.0, the share
                of invocations it gets (published versions only).

        Raises:
            ResourceNotFoundException (no such function or version), ResourceConflictException
            (the alias exists), InvalidParameterValueException (bad name, routing).
        """
        if not isinstance(alias, str) or not ALIAS_NAME.fullmatch(alias):
            raise InvalidParameterValueException(
                f"Alias name {alias!r} is invalid: use 1-128 of A-Za-z0-9-_, not all digits.")
        _check_description(description)
        with self._lock:
            fn = self.get_function(name)
            weights = self._check_alias_target(fn, function_version, routing)
            if alias in fn.aliases:
                raise ResourceConflictException(f"Alias already exists: {fn.arn}:{alias}")
            made = Alias(alias, fn, function_version, weights, description, self.loop.new_id())
            fn.aliases[alias] = made
            return made

    def get_alias(self, name: str, alias: str) -> Alias:
        """An alias (GetAlias). Raises ResourceNotFoundException."""
        check_qualifier(alias, "alias")
        with self._lock:
            fn = self.get_function(name)
            found = fn.aliases.get(alias)
            if found is None:
                raise ResourceNotFoundException(
                    f"Cannot find alias arn: {fn.arn}:{alias}")
            return found

    def list_aliases(self, name: str, function_version: str | None = None) -> list[Alias]:
        """A function's aliases by name, optionally only those pointing to one version."""
        check_qualifier(function_version, "function_version")
        with self._lock:
            fn = self.get_function(name)
            return [fn.aliases[a] for a in sorted(fn.aliases)
                    if function_version is None or fn.aliases[a].function_version == function_version]

    def update_alias(self, name: str, alias: str, *, function_version: str | None = None,
                     description: str | None = None,
                     routing: dict[str, float] | None = None) -> Alias:
        """Change an alias (UpdateAlias); what is not given is kept (``routing={}`` clears)."""
        if description is not None:
            _check_description(description)
        check_qualifier(function_version, "function_version")
        with self._lock:
            found = self.get_alias(name, alias)
            fn = self.get_function(name)
            version = found.function_version if function_version is None else function_version
            weights = self._check_alias_target(
                fn, version, found.routing if routing is None else routing)
            found.function_version = version
            found.routing = weights
            if description is not None:
                found.description = description
            found.revision_id = self.loop.new_id()
            return found

    def delete_alias(self, name: str, alias: str) -> None:
        """Delete an alias (DeleteAlias). Raises ResourceNotFoundException."""
        with self._lock:
            self.get_alias(name, alias)
            del self.get_function(name).aliases[alias]

    # -- code -----------------------------------------------------------------------------------

    def update_function_code(self, name: str, handler: Any, *,
                             layer_paths: list[str] | None = None) -> Function:
        """Give ``$LATEST`` new code (UpdateFunctionCode): a callable or handler string. New
        invocations run it in new execution environments; running ones finish on the old code
        (their environments are then retired). Published versions keep their code."""
        from ._checks import validate_function

        if layer_paths is not None and (not isinstance(layer_paths, list) or not all(
                isinstance(path, str) for path in layer_paths)):
            raise InvalidParameterValueException(
                f"layer_paths must be a list of directories, got {layer_paths!r}.")
        with self._lock:
            fn = self.get_function(name)
            validate_function(fn.name, handler, fn.timeout, fn.memory_mb, fn.environment,
                              fn.architecture, fn.tenant_isolation, fn.description,
                              fn.cold_start_duration)
            fn.handler = handler
            fn.handler_name = handler if isinstance(handler, str) else (
                f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', 'handler')}")
            fn.is_async = not isinstance(handler, str) and _is_coroutine(handler)
            if layer_paths is not None:
                fn.layer_paths = list(layer_paths)
            retire_environments(fn)
            return fn


def retire_environments(fn: Function) -> None:
    """After a change to ``$LATEST``: idle environments go now, busy ones when their
    invocation ends; the next version published is a new one (lock held)."""
    fn._generation += 1
    fn._changes += 1
    for idle in fn._idle.values():
        for env in idle:
            if env in fn.environments:
                fn.environments.remove(env)
    fn._idle.clear()


def _is_coroutine(handler: Any) -> bool:
    from .function import _is_coroutine_function

    return _is_coroutine_function(handler)
