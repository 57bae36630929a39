"""What a function's settings and an invocation's inputs must be (CreateFunction, Invoke).

Each check raises the Lambda error with its AWS code before anything is created or changed.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeGuard

from ..errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    ValidationException,
)
from ..message import dumps_json, loads_json
from .usage import LambdaPrices

FUNCTION_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
ENV_KEY: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
HANDLER_STRING: Final = re.compile(r"[^\s]{1,128}")
TENANT_ID: Final = re.compile(r"[\x21-\x7e]{1,256}")
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
#: The longest function timeout, seconds (Lambda's limit); a simulated duration or cold start
#: is at most this long.
MAX_TIMEOUT: Final = 900
#: A function's timeout, seconds: 1-1,800 (Lambda API reference, CreateFunction ``Timeout``,
#: since 2026; 900 before).
MAX_FUNCTION_TIMEOUT: Final = 1800
#: A function's memory, MB: 128-32,768 (botocore's ``MemorySize`` shape).
MAX_MEMORY_MB: Final = 32_768
_MAX_FLOAT_INT = int(sys.float_info.max)


def _is_number(value: object) -> TypeGuard[float]:
    """An int or a finite float (not a bool): NaN and infinity would never let time pass. An
    int too big for a float is not a number of seconds either."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return abs(value) <= _MAX_FLOAT_INT
    return math.isfinite(value)


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_runtime(concurrency_limit: object, prices: object, unreserved_minimum: object,
                     max_workers: object, isolation: object, hang_guard: object,
                     keep_records: object, environment_idle_timeout: object) -> None:
    """Refuse a ``FunctionRuntime`` setting of the wrong type or out of range."""
    if not _is_count(concurrency_limit) or concurrency_limit < 1:
        raise InvalidParameterValueException(
            f"concurrency_limit must be a positive integer, got {concurrency_limit!r}.")
    if isolation not in ("thread", "inline"):
        raise InvalidParameterValueException(
            f"isolation must be 'thread' or 'inline', got {isolation!r}.")
    if not _is_count(max_workers) or max_workers < 1:
        raise InvalidParameterValueException(f"max_workers must be >= 1, got {max_workers!r}.")
    if hang_guard is not None and (not _is_number(hang_guard) or hang_guard <= 0):
        raise InvalidParameterValueException(f"hang_guard must be > 0, got {hang_guard!r}.")
    if prices is not None and not isinstance(prices, LambdaPrices):
        raise InvalidParameterValueException(f"prices must be LambdaPrices, got {prices!r}.")
    if not _is_count(unreserved_minimum) or unreserved_minimum < 0:
        raise InvalidParameterValueException(
            f"unreserved_minimum must be an integer >= 0, got {unreserved_minimum!r}.")
    if keep_records is not None and (
            not _is_count(keep_records) or not 0 <= keep_records <= sys.maxsize):
        # (a deque's maxlen: beyond sys.maxsize it is an OverflowError, not a bound)
        raise InvalidParameterValueException(
            f"keep_records must be an integer from 0 to {sys.maxsize} or None, got "
            f"{keep_records!r}.")
    if environment_idle_timeout is not None and (
            not _is_number(environment_idle_timeout) or environment_idle_timeout < 0):
        raise InvalidParameterValueException(
            f"environment_idle_timeout must be seconds >= 0 or None, got {environment_idle_timeout!r}.")


def function_name_error(name: object) -> ValidationException:
    """The error for a function name that is not 1-64 of ``A-Za-z0-9-_``."""
    return ValidationException(
        f"1 validation error detected: Value {name!r} at 'functionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_]{1,64}")


@functools.cache
def _keywords(target: Callable[..., object]) -> frozenset[str]:
    return frozenset(p.name for p in inspect.signature(target).parameters.values()
                     if p.kind is inspect.Parameter.KEYWORD_ONLY)


def check_options(target: Callable[..., object], options: Mapping[str, object]) -> None:
    """Refuse keyword options ``target`` does not take, as AWS refuses unknown parameters
    (before Python would raise ``TypeError`` deep inside)."""
    unknown = set(options) - _keywords(target)
    if unknown:
        raise InvalidParameterValueException(f"Unknown setting(s): {', '.join(sorted(unknown))}.")


def validate_function(name: object, handler: object, timeout: object, memory_mb: object,
                      environment: Mapping[str, str] | None, architecture: object,
                      tenant_isolation: object, description: object,
                      cold_start_duration: object) -> dict[str, Any]:
    """The checked settings of a new function, as keyword arguments of ``Function``."""
    if not isinstance(name, str) or not FUNCTION_NAME.fullmatch(name):
        raise function_name_error(name)
    if isinstance(handler, str):
        if not HANDLER_STRING.fullmatch(handler):
            raise InvalidParameterValueException(
                f"Handler {handler!r} is invalid: 1-128 characters without whitespace.")
    elif not callable(handler):
        raise InvalidParameterValueException("handler must be a callable or a handler string.")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_FUNCTION_TIMEOUT:
        raise ValidationException(
            f"1 validation error detected: Value {timeout!r} at 'timeout' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_FUNCTION_TIMEOUT} (seconds)")
    if (isinstance(memory_mb, bool) or not isinstance(memory_mb, int)
            or not 128 <= memory_mb <= MAX_MEMORY_MB):
        raise ValidationException(
            f"1 validation error detected: Value {memory_mb!r} at 'memorySize' failed to satisfy "
            f"constraint: Member must have value between 128 and {MAX_MEMORY_MB} (MB)")
    if architecture not in ARCHITECTURES:
        raise ValidationException(
            f"1 validation error detected: Value {architecture!r} at 'architectures' failed to "
            "satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
    if tenant_isolation not in (None, "PER_TENANT"):
        raise InvalidParameterValueException(
            f"TenantIsolationMode must be PER_TENANT, got {tenant_isolation!r}.")
    if not isinstance(description, str) or len(description) > 256:
        raise ValidationException("Description must be a string of at most 256 characters.")
    if not _is_number(cold_start_duration) or not 0 <= cold_start_duration <= MAX_TIMEOUT:
        raise InvalidParameterValueException(
            f"cold_start_duration must be seconds from 0 to {MAX_TIMEOUT}, got "
            f"{cold_start_duration!r}.")
    if environment is not None and not isinstance(environment, Mapping):
        raise InvalidParameterValueException(
            f"Environment variables must be a mapping of names to values, got {environment!r}.")
    env = dict(environment or {})
    for key, value in env.items():
        if not isinstance(key, str) or not ENV_KEY.fullmatch(key):
            raise InvalidParameterValueException(
                f"Environment variable name {key!r} is invalid: use [a-zA-Z][a-zA-Z0-9_]+.")
        if not isinstance(value, str):
            raise InvalidParameterValueException(
                f"Environment variable {key} must have a string value, got {type(value).__name__}.")
        if not _is_utf8(value):
            raise InvalidParameterValueException(
                f"Environment variable {key} must be valid Unicode text (no lone surrogates).")
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


def duration_model(value: float | Callable[[Any], float] | None) -> Callable[[Any], float] | None:
    """``simulated_duration`` as ``f(event) -> seconds`` (or ``None``)."""
    if value is None or callable(value):
        return value
    if not _is_number(value) or not 0 <= value <= MAX_TIMEOUT:
        raise InvalidParameterValueException(
            f"simulated_duration must be seconds from 0 to {MAX_TIMEOUT} or a callable, got "
            f"{value!r}.")
    seconds = float(value)
    return lambda event: seconds


def encode_payload(payload: Any) -> bytes:
    """An Invoke payload as JSON bytes (bytes given are checked to be JSON text)."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            loads_json(payload)  # bounded depth: a hostile payload is refused, not a crash
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: {exc}") from None
        return bytes(payload)
    try:
        return dumps_json(payload).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContentException(
            f"Could not serialize the payload as JSON: {exc}") from None
