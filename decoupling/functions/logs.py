"""A function's logs in CloudWatch Logs' shape: its log group, one stream per execution
environment, and the events of every invocation.

On Lambda, a function's log group is ``/aws/lambda/<function name>``; each execution environment
writes to a log stream of its own named ``YYYY/MM/DD/[<version>]<32 hex digits>`` (the day it
was created, UTC); every invocation adds ``START``, what the handler wrote to stdout/stderr and
logged, its error report, and ``END`` and ``REPORT`` lines
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html). The group is
created when the function first logs, and it outlives the function.

Here the runtime keeps those events in memory, in that shape: an event's ``timestamp`` is the
loop time it was written, in epoch milliseconds of the loop's clock (as ``SentTimestamp``:
virtual on a :class:`~decoupling.ManualClock`), its ``ingestion_time`` when the invocation ended.
What a handler writes: see "Logs" in :mod:`decoupling.functions.context`.

Bounded memory
    CloudWatch Logs keeps events forever unless a retention period is set; a library that lives
    in one process cannot. Each log group keeps at most ``log_events`` events (default 10,000)
    and ``log_bytes`` bytes (default 8 MiB, counted as CloudWatch Logs counts an event: the
    UTF-8 bytes of its message plus 26), of invocations stored in the last ``log_keep_seconds``
    of loop time before the newest one (default 86,400: one day); past any limit the events of
    the oldest invocations are dropped first (whole invocations), and a stream left with no
    events goes with them. The defaults keep thousands of invocations of each function — enough
    for a test or a developer reading back what just happened — at a few megabytes per function
    at most. The time bound makes a long-running process's memory flat after its first day (a
    function invoked every few minutes would take weeks to reach the count cap); it is the
    invocation meter's rule too (:class:`~decoupling.functions.usage.Meter`'s
    ``keep_seconds``). See :class:`~decoupling.FunctionRuntime`'s ``log_events``,
    ``log_bytes`` and ``log_keep_seconds``.

Reading them: :meth:`~decoupling.FunctionRuntime.log_groups`,
:meth:`~decoupling.FunctionRuntime.log_streams` and :meth:`~decoupling.FunctionRuntime.log_events`
here; ``DescribeLogGroups``, ``DescribeLogStreams``, ``GetLogEvents`` and ``FilterLogEvents``
through the boto3 bridge (``decoupling.boto``).
"""

from __future__ import annotations

from collections import deque
from typing import Final

import attrs

from ..errors import ResourceNotFoundException

__all__ = ["LogGroup", "LogStream", "LogEvent", "LOG_GROUP_PREFIX"]

#: Lambda's log groups are ``/aws/lambda/<function name>``.
LOG_GROUP_PREFIX: Final = "/aws/lambda/"
#: Bytes CloudWatch Logs adds to each event's message when it counts sizes.
EVENT_OVERHEAD: Final = 26
#: Default cap of events per log group.
DEFAULT_LOG_EVENTS: Final = 10_000
#: Default cap of bytes per log group (8 MiB).
DEFAULT_LOG_BYTES: Final = 8 * 1024 * 1024
#: Default age bound: invocations stored in the last day of loop time (seconds).
DEFAULT_LOG_KEEP_SECONDS: Final = 86_400.0

GROUP_MISSING: Final = "The specified log group does not exist."
STREAM_MISSING: Final = "The specified log stream does not exist."


@attrs.frozen(slots=True)
class LogEvent:
    """One log event (CloudWatch Logs' ``OutputLogEvent``).

    Attributes:
        timestamp: when it was written, epoch milliseconds of the loop's clock.
        message: the text (one line, or the multi-line error report).
        ingestion_time: when it was stored (the invocation's end), epoch milliseconds.
    """

    timestamp: int
    message: str
    ingestion_time: int


@attrs.frozen(slots=True)
class LogStream:
    """A log stream (one execution environment's), as ``DescribeLogStreams`` shows it.

    Attributes:
        name: ``YYYY/MM/DD/[<version>]<32 hex digits>``.
        creation_time: when its execution environment was created, epoch milliseconds.
        first_event_timestamp: the timestamp of its oldest kept event (epoch ms).
        last_event_timestamp: the timestamp of its newest event (epoch ms).
        last_ingestion_time: when its newest events were stored (epoch ms).
        stored_bytes: the size of its kept events (message bytes plus 26 each).
    """

    name: str
    creation_time: int
    first_event_timestamp: int
    last_event_timestamp: int
    last_ingestion_time: int
    stored_bytes: int


@attrs.frozen(slots=True)
class LogGroup:
    """A function's log group, as ``DescribeLogGroups`` shows it.

    Attributes:
        name: ``/aws/lambda/<function name>``.
        function_name: the function whose group it is.
        creation_time: when the function first logged, epoch milliseconds.
        stored_bytes: the size of its kept events (message bytes plus 26 each).
    """

    name: str
    function_name: str
    creation_time: int
    stored_bytes: int


class _Stream:
    """A stream's kept events, oldest first, as ``(timestamp, message, ingestion time)``
    tuples (cheaper to keep than :class:`LogEvent` objects, made on reading); ``first_seq``
    numbers ``events[0]`` (sequence numbers never repeat within a stream, so read positions
    survive dropped events)."""

    __slots__ = ("name", "created", "events", "first_seq", "last_ingestion", "size")

    def __init__(self, name: str, created: int) -> None:
        self.name = name
        self.created = created
        self.events: deque[tuple[int, str, int]] = deque()
        self.first_seq = 0
        self.last_ingestion = created
        self.size = 0

    def info(self) -> LogStream:
        return LogStream(self.name, self.created, self.events[0][0], self.events[-1][0],
                         self.last_ingestion, self.size)

    def read(self) -> list[LogEvent]:
        return [LogEvent(*event) for event in self.events]


class _Group:
    __slots__ = ("name", "function_name", "created", "streams", "batches", "count", "size")

    def __init__(self, function_name: str, created: int) -> None:
        self.name = LOG_GROUP_PREFIX + function_name
        self.function_name = function_name
        self.created = created
        self.streams: dict[str, _Stream] = {}
        #: One entry per stored invocation, oldest first: (stream, events, bytes, ingested ms).
        self.batches: deque[tuple[_Stream, int, int, int]] = deque()
        self.count = 0
        self.size = 0


class _LogStore:
    """The runtime's log groups (internal; the loop's lock guards it). Appending an
    invocation costs O(its events) plus O(1) per event dropped."""

    def __init__(self, max_events: int | None, max_bytes: int | None,
                 keep_seconds: float | None = None) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        #: The age bound in milliseconds (``None``: no age bound).
        self.keep_ms = None if keep_seconds is None else keep_seconds * 1000.0
        self.groups: dict[str, _Group] = {}

    def append(self, function_name: str, stream_name: str, stream_created: int,
               events: list[tuple[int, str, int]], ingested: int) -> None:
        """Store one invocation's ``(timestamp ms, message, ingestion ms)`` events."""
        group = self.groups.get(function_name)
        if group is None:
            group = self.groups[function_name] = _Group(function_name, stream_created)
        stream = group.streams.get(stream_name)
        if stream is None:
            stream = group.streams[stream_name] = _Stream(stream_name, stream_created)
        text = "".join([event[1] for event in events])
        size = EVENT_OVERHEAD * len(events) + (
            len(text) if text.isascii() else len(text.encode("utf-8", "replace")))
        stream.events.extend(events)
        stream.last_ingestion = ingested
        stream.size += size
        group.batches.append((stream, len(events), size, ingested))
        group.count += len(events)
        group.size += size
        keep_ms = self.keep_ms
        oldest = -1.0 if keep_ms is None else ingested - keep_ms
        if ((self.max_events is not None and group.count > self.max_events)
                or (self.max_bytes is not None and group.size > self.max_bytes)
                or group.batches[0][3] < oldest):
            self._trim(group, oldest)

    def _trim(self, group: _Group, oldest: float) -> None:
        """Drop the oldest invocations until every limit holds (``oldest``: the earliest
        ingestion time in epoch ms that may stay)."""
        max_events, max_bytes = self.max_events, self.max_bytes
        batches = group.batches
        while batches and ((max_events is not None and group.count > max_events)
                           or (max_bytes is not None and group.size > max_bytes)
                           or batches[0][3] < oldest):
            stream, count, size, _ = batches.popleft()
            for _ in range(count):
                stream.events.popleft()
            stream.first_seq += count
            stream.size -= size
            group.count -= count
            group.size -= size
            if not stream.events and group.streams.get(stream.name) is stream:
                del group.streams[stream.name]

    def group(self, function_name: str) -> _Group:
        group = self.groups.get(function_name)
        if group is None:
            raise ResourceNotFoundException(GROUP_MISSING)
        return group

    def stream(self, function_name: str, stream_name: str) -> _Stream:
        stream = self.group(function_name).streams.get(stream_name)
        if stream is None:
            raise ResourceNotFoundException(STREAM_MISSING)
        return stream

    def group_info(self, group: _Group) -> LogGroup:
        return LogGroup(group.name, group.function_name, group.created, group.size)
