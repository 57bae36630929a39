"""The Lambda context object, and what a handler sees of its environment while it runs.

:class:`LambdaContext` carries what the Python runtime's context object carries
(https://docs.aws.amazon.com/lambda/latest/dg/python-context.html): ``function_name``,
``function_version`` (``"$LATEST"``), ``invoked_function_arn``, ``memory_limit_in_mb``,
``aws_request_id``, ``log_group_name`` (``/aws/lambda/<name>``), ``log_stream_name``,
``identity``, ``client_context``, ``get_remaining_time_in_millis()``, and for tenant-isolated
functions ``tenant_id``. It adds one thing of ours: :meth:`LambdaContext.sleep`, a sleep that
costs virtual time only on a :class:`~decoupling.ManualClock`.

Environment variables
    Lambda code reads its configuration from ``os.environ``. Many invocations of many functions
    run at once in this one process, so the runtime never writes the process environment.
    Instead, the first :class:`~decoupling.FunctionRuntime` replaces ``os.environ`` with a proxy
    that behaves exactly like the process environment, except inside a handler: there, a
    context variable (:mod:`contextvars`) points it at the current execution environment's own
    variables (the function's ``environment`` plus the variables Lambda defines, such as
    ``AWS_LAMBDA_FUNCTION_NAME`` and ``AWS_REGION``), layered over the process environment.
    Each execution environment has its own layer, so a handler that sets a variable sees it again
    on the next invocation in the same environment (as on Lambda) and never in another function,
    tenant or environment; nothing leaks between concurrent invocations, and ``os.putenv`` is never
    called. ``os.getenv`` and ``os.environ.get`` go through the proxy; a module that did
    ``from os import environ`` before the runtime existed keeps the plain process environment.

Logs
    On Lambda everything a function writes to stdout and stderr goes to its log, and so do the
    records of the runtime's root-logger handler
    (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html). Here, while a handler
    runs (its init code too, on any engine, sync or ``async``), text written to ``sys.stdout``
    or ``sys.stderr`` (``print``, ``traceback.print_exc``, ...) becomes lines of that
    invocation's log, in order with the :mod:`logging` records that reach the root logger
    (as the Python runtime formats them: ``[LEVEL]\t<UTC time>.<ms>Z\t<request id>\tmessage``,
    the time from the loop's clock). A line is text up to a newline: the pieces of a partial line
    (``print(..., end="")``) are joined, and a partial line still open when the handler ends,
    or when a ``logging`` record arrives, becomes a line of its own. The text still reaches the
    real stream too, so a developer's ``print`` stays visible in the terminal (or in pytest's
    captured output). A handler's failure adds what the Python runtime logs for it: ``[ERROR]
    <type>: <message>``, ``Traceback (most recent call last):`` and the frames, as one log event.

    The routing is by a context variable: the first :class:`~decoupling.FunctionRuntime` wraps
    ``sys.stdout`` and ``sys.stderr`` once in a pass-through that also appends to the log of the
    invocation running in the writer's context (outside handlers it only passes text on). If
    something replaces ``sys.stdout`` later (pytest does, between tests), the next invocation
    wraps the new stream. Writes to ``sys.stdout.buffer`` or straight to file descriptors 1 and
    2 (a subprocess) are not seen, nor is the output of a thread the handler starts itself
    (threads do not inherit context variables; run its target with
    ``contextvars.copy_context().run`` to keep it in the log). Tasks of an ``async`` handler
    inherit them, so their output is in the log.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from ..clock import Clock

__all__ = ["LambdaContext", "CognitoIdentity", "install_environ_proxy"]

#: The execution environment's variables while a handler runs (``None`` outside handlers).
_current_env: ContextVar[MutableMapping[str, str] | None] = ContextVar(
    "decoupling_lambda_env", default=None
)
#: The log of the invocation running in this context (``None`` outside handlers).
_current_log: ContextVar[_InvocationLog | None] = ContextVar("decoupling_lambda_log", default=None)


class _TimedOut(BaseException):
    """Raised inside a sync handler whose virtual time ran past its timeout.

    A ``BaseException`` so that handler code catching ``Exception`` does not swallow it.
    """


class CognitoIdentity:
    """``context.identity``: the Amazon Cognito identity (both ids ``None`` unless invoked
    through the AWS Mobile SDK)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class _Timing:
    """The clock of one invocation: its start, deadline and (virtual) elapsed time."""

    __slots__ = ("clock", "start", "deadline", "virtual", "elapsed", "aloop")

    def __init__(self, clock: Clock, start: float, timeout: float) -> None:
        self.clock = clock
        self.start = start
        self.deadline = start + timeout
        self.virtual = clock.is_virtual
        self.elapsed = 0.0
        self.aloop: asyncio.AbstractEventLoop | None = None

    def now(self) -> float:
        """The invocation's own current time (loop seconds)."""
        if self.virtual:
            if self.aloop is not None:
                return max(self.aloop.time(), self.clock.now())
            return max(self.start + self.elapsed, self.clock.now())
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"sleep length must be >= 0 seconds, got {seconds}")
        if not self.virtual:
            time.sleep(seconds)
            return
        now = self.now()
        if now + seconds >= self.deadline:
            self.elapsed = self.deadline - self.start
            raise _TimedOut()
        self.elapsed = now + seconds - self.start


class LambdaContext:
    """The ``context`` argument of a handler, as the Lambda Python runtime builds it.

    Attributes:
        function_name: the function's name.
        function_version: ``"$LATEST"``.
        invoked_function_arn: ``arn:aws:lambda:<region>:<account>:function:<name>``.
        memory_limit_in_mb: the configured memory (int, MB).
        aws_request_id: this invocation's request id.
        log_group_name: ``/aws/lambda/<name>``.
        log_stream_name: the execution environment's stream,
            ``YYYY/MM/DD/[$LATEST]<32 hex digits>``.
        identity: a :class:`CognitoIdentity` (ids ``None``).
        client_context: ``None`` (set only by the AWS Mobile SDK).
        tenant_id: the tenant of a ``PER_TENANT`` function's invocation, else ``None``.
    """

    __slots__ = (
        "function_name",
        "function_version",
        "invoked_function_arn",
        "memory_limit_in_mb",
        "aws_request_id",
        "log_group_name",
        "log_stream_name",
        "identity",
        "client_context",
        "tenant_id",
        "_timing",
    )

    def __init__(
        self,
        *,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_stream_name: str,
        timing: _Timing,
        tenant_id: str | None = None,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self.identity = CognitoIdentity()
        self.client_context: Any = None
        self.tenant_id = tenant_id
        self._timing = timing

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out (never negative).

        Counted on the loop's clock: on a :class:`~decoupling.ManualClock`, from the
        invocation's virtual start plus the virtual time it has used (:meth:`sleep`, or the
        virtual ``asyncio`` time of an ``async`` handler). O(1).
        """
        timing = self._timing
        return max(0, int(round((timing.deadline - timing.now()) * 1000, 6)))

    def sleep(self, seconds: float) -> None:
        """Spend ``seconds`` (>= 0) of the invocation's time, as ``time.sleep`` would on Lambda.

        On a real clock this is ``time.sleep``. On a :class:`~decoupling.ManualClock` it
        returns at once and adds ``seconds`` to the invocation's virtual duration; if that
        passes the function's timeout, the handler is stopped there (the invocation reports
        ``Task timed out``). Async handlers use ``await asyncio.sleep(seconds)``, which is
        virtual on a ManualClock.
        """
        self._timing.sleep(seconds)

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )


# --- environment variables --------------------------------------------------------------------


class _EnvView(MutableMapping[str, str]):
    """One execution environment's variables over the process environment.

    Reads look in the environment's own layer, then in the process environment; writes and
    deletes touch the layer only.
    """

    __slots__ = ("layer", "base")

    def __init__(self, layer: dict[str, str], base: Mapping[str, str]) -> None:
        self.layer = layer
        self.base = base

    def __getitem__(self, key: str) -> str:
        try:
            return self.layer[key]
        except KeyError:
            return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("environment variable names and values must be str")
        self.layer[key] = value

    def __delitem__(self, key: str) -> None:
        del self.layer[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.layer
        for key in self.base:
            if key not in self.layer:
                yield key

    def __len__(self) -> int:
        return len(self.layer) + sum(1 for k in self.base if k not in self.layer)

    def __contains__(self, key: object) -> bool:
        return key in self.layer or key in self.base

    def copy(self) -> dict[str, str]:
        return dict(self)


class _EnvironProxy(MutableMapping[str, str]):
    """``os.environ`` after :func:`install_environ_proxy`: the process environment, or inside a
    handler the current execution environment's :class:`_EnvView`."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self._real = real

    def _target(self) -> MutableMapping[str, str]:
        env = _current_env.get()
        return self._real if env is None else env

    def __getitem__(self, key: str) -> str:
        return self._target()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._target()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._target()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def get(self, key: str, default: Any = None) -> Any:
        return self._target().get(key, default)

    def copy(self) -> dict[str, str]:
        return dict(self._target())

    def __getattr__(self, name: str) -> Any:
        # os._Environ's extras (encodekey, decodevalue, ...) stay reachable.
        return getattr(self._real, name)

    def __repr__(self) -> str:
        return f"environ({dict(self._target())!r})"


_install_lock = threading.Lock()


def install_environ_proxy() -> None:
    """Replace ``os.environ`` with the per-invocation proxy (idempotent, thread-safe).

    Outside handlers the proxy reads and writes the real process environment (including
    ``putenv``), so other code sees no difference.
    """
    with _install_lock:
        if not isinstance(os.environ, _EnvironProxy):
            os.environ = _EnvironProxy(os.environ)  # type: ignore[assignment]  # noqa: B003


def process_environ() -> MutableMapping[str, str]:
    """The real process environment (under the proxy, if installed)."""
    env = os.environ
    return env._real if isinstance(env, _EnvironProxy) else env


# --- logs ---------------------------------------------------------------------------------------


class _InvocationLog:
    """The log of one running invocation: ``(loop time, text)`` entries, in the order written.

    Each entry is one log event (a line of stdout/stderr, a ``logging`` record, or the
    multi-line error report). Thread-safe: a handler's own threads may write to it too.
    """

    __slots__ = ("entries", "_partial", "_now", "_lock", "request_id", "epoch_offset")

    def __init__(self, now: Callable[[], float], request_id: str = "",
                 epoch_offset: float = 0.0) -> None:
        self.entries: list[tuple[float, str]] = []
        self._partial: dict[int, tuple[float, str]] = {}  # per stream: (time begun, text)
        self._now = now
        self._lock = threading.Lock()
        self.request_id = request_id
        self.epoch_offset = epoch_offset  # loop seconds + this = epoch seconds

    def write(self, stream: int, text: str) -> None:
        """Text written to a stream (1 stdout, 2 stderr): complete lines become entries."""
        if not text:
            return
        with self._lock:
            at, partial = self._partial.pop(stream, (self._now(), ""))
            *lines, rest = (partial + text).split("\n")
            for line in lines:
                self.entries.append((at, line))
                at = self._now()
            if rest:
                self._partial[stream] = (at, rest)

    def line(self, text: str) -> None:
        """One whole entry (a ``logging`` record, the error report): open partial lines first."""
        with self._lock:
            self._flush()
            self.entries.append((self._now(), text))

    def record(self, level: str, message: str) -> None:
        """A ``logging`` record, in the Python runtime's text format: ``[LEVEL]``, the UTC time
        to the millisecond, the request id and the message, tab-separated."""
        with self._lock:
            self._flush()
            at = self._now()
            self.entries.append((at, f"[{level}]\t{utc_stamp(at + self.epoch_offset)}\t"
                                     f"{self.request_id}\t{message}"))

    def close(self) -> list[tuple[float, str]]:
        """The entries, with any partial line ended."""
        with self._lock:
            self._flush()
            return self.entries

    def _flush(self) -> None:
        for stream in sorted(self._partial):
            self.entries.append(self._partial[stream])
        self._partial.clear()


def utc_stamp(epoch: float) -> str:
    """``2026-12-08T01:02:03.456Z``: how the Python runtime stamps a ``logging`` record."""
    ms = int(epoch * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms // 1000))}.{ms % 1000:03d}Z"


def error_lines(error: Mapping[str, Any]) -> str:
    """What the Python runtime logs for a failed invocation: ``[ERROR] <type>: <message>``,
    then ``Traceback (most recent call last):`` and the frames of ``stackTrace`` (one event).

    As the runtime does, the leading spaces of each frame line become no-break spaces (U+00A0)
    (``log_error`` in aws/aws-lambda-python-runtime-interface-client's ``bootstrap.py``).
    """
    head = "[ERROR]"
    if error.get("errorType"):
        head += f" {error['errorType']}"
        if error.get("errorMessage"):
            head += ":"
    if error.get("errorMessage"):
        head += f" {error['errorMessage']}"
    lines = [head, "Traceback (most recent call last):"]
    for frame in error.get("stackTrace") or ():
        for line in str(frame).splitlines() or [""]:
            body = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(body)) + body)
    return "\n".join(lines)


class _InvocationLogHandler(logging.Handler):
    """A root-logger handler that keeps records emitted inside an invocation for its log."""

    def emit(self, record: logging.LogRecord) -> None:
        log = _current_log.get()
        if log is not None:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string must not fail the invocation
                message = repr(record.msg)
            log.record(record.levelname, message)


_in_tee = threading.local()


class _LogTee:
    """``sys.stdout`` / ``sys.stderr`` after :func:`install_log_capture`: passes everything to
    the stream it wraps and, inside a handler, also to the invocation's log."""

    def __init__(self, stream: Any, fd: int) -> None:
        self._stream = stream
        self._fd = fd

    def write(self, text: str) -> int:
        written: int = self._stream.write(text)
        log = _current_log.get()
        if log is not None and not getattr(_in_tee, "busy", False) and isinstance(text, str):
            _in_tee.busy = True  # a tee wrapping a tee logs once
            try:
                log.write(self._fd, text)
            finally:
                _in_tee.busy = False
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __repr__(self) -> str:
        return f"<decoupling log tee of {self._stream!r}>"


_log_handler: _InvocationLogHandler | None = None


def install_log_capture() -> None:
    """Attach the invocation log handler to the root logger once, and wrap ``sys.stdout`` and
    ``sys.stderr`` (idempotent, thread-safe; see "Logs" in the module docstring)."""
    global _log_handler
    with _install_lock:
        if _log_handler is None:
            _log_handler = _InvocationLogHandler(level=logging.NOTSET)
            logging.getLogger().addHandler(_log_handler)
    wrap_std_streams()


def wrap_std_streams() -> None:
    """Wrap ``sys.stdout`` / ``sys.stderr`` in the log tee unless they are wrapped already
    (cheap when they are: two type checks). Called when an invocation starts."""
    if type(sys.stdout) is _LogTee and type(sys.stderr) is _LogTee:
        return
    with _install_lock:
        if sys.stdout is not None and type(sys.stdout) is not _LogTee:
            sys.stdout = _LogTee(sys.stdout, 1)
        if sys.stderr is not None and type(sys.stderr) is not _LogTee:
            sys.stderr = _LogTee(sys.stderr, 2)
