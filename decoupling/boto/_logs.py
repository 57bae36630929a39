"""CloudWatch Logs operations for the boto3 bridge: the log groups of the loop's functions.

Shapes follow botocore's CloudWatch Logs model (``botocore/data/logs/2014-03-28/service-2.json``,
AWS JSON 1.1). What is served is what reading a function's logs needs: ``DescribeLogGroups``,
``DescribeLogStreams``, ``GetLogEvents`` and ``FilterLogEvents``, over the groups
``/aws/lambda/<function name>`` that :class:`~decoupling.FunctionRuntime` keeps (see
:mod:`decoupling.functions.logs`). Other groups do not exist here (``ResourceNotFoundException``,
"The specified log group does not exist.").

Pages and tokens are AWS's: ``DescribeLogGroups`` and ``DescribeLogStreams`` return up to 50
entries (``limit``) and an opaque ``nextToken``; ``GetLogEvents`` returns up to 10,000 events or
1 MB, the latest first unless ``startFromHead``, with ``nextForwardToken`` /
``nextBackwardToken`` that are never null and come back unchanged at the end of the stream;
``FilterLogEvents`` returns up to 10,000 events or 1 MB of all (or the chosen) streams ordered
by timestamp, with a ``nextToken`` only while more may follow. Error codes, messages and the
entries' keys are those of LocalStack's AWS-validated CloudWatch Logs snapshots
(``tests/aws/services/logs/test_logs_{events,filter_events,groups,streams}.snapshot.json``:
"The specified nextToken is invalid.", "LogGroup name and LogGroup ARN are mutually exclusive
parameters.", a ``limit`` over the maximum as "1 validation error detected: ...", HTTP 400). A stream's ``storedBytes`` is 0
("no longer supported for log streams, and is always reported as zero", LogStream in the
CloudWatch Logs API reference); a group's is the size of its kept events.

Filter patterns: the plain-term syntax for unstructured events
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html): terms
that must all appear (``ERROR timeout``), ``"quoted phrases"``, ``?term`` of which one must
appear, ``-term`` that must not; matching is case-sensitive. JSON (``{ ... }``), space-delimited
(``[ ... ]``) and regular-expression (``%...%``) patterns are refused with an
``InvalidParameterException`` that says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import InvalidParameterException, ResourceNotFoundException
from ..functions.logs import GROUP_MISSING, LOG_GROUP_PREFIX, LogEvent, LogGroup, LogStream
from ..functions.runtime import FunctionRuntime
from ..loop import EventLoop

__all__ = ["OPERATIONS"]

#: Bytes a page of events may hold (GetLogEvents / FilterLogEvents: "up to 1 MB").
_PAGE_BYTES = 1024 * 1024
_EVENT_OVERHEAD = 26
_BAD_TOKEN = "The specified nextToken is invalid."

T = TypeVar("T")


def _runtimes(loop: EventLoop) -> list[FunctionRuntime]:
    """The runtimes keeping the loop's functions' logs (the one the Lambda bridge serves, and
    those of functions registered natively)."""
    from ._lambda import _runtimes as served

    found: list[FunctionRuntime] = []
    runtime = served.get(loop)
    if runtime is not None:
        found.append(runtime)
    for fn in loop._resources_of("lambda"):
        if all(fn.runtime is not r for r in found):
            found.append(fn.runtime)
    return found


def _groups(loop: EventLoop) -> dict[str, tuple[FunctionRuntime, LogGroup]]:
    groups: dict[str, tuple[FunctionRuntime, LogGroup]] = {}
    for runtime in _runtimes(loop):
        for group in runtime.log_groups():
            groups.setdefault(group.name, (runtime, group))
    return groups


def _too_large(value: object, member: str, maximum: int) -> InvalidParameterException:
    return InvalidParameterException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value less than or equal to {maximum}")


def _limit(p: dict[str, Any], maximum: int) -> int:
    limit = p.get("limit", maximum)
    if limit > maximum:
        raise _too_large(limit, "limit", maximum)
    return int(limit)


def _group_name(loop: EventLoop, p: dict[str, Any]) -> str:
    """The log group a request names (``logGroupName`` or ``logGroupIdentifier``)."""
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise InvalidParameterException(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name is None and identifier is None:
        raise InvalidParameterException("Either logGroupName or logGroupIdentifier is required.")
    if name is None:
        name = str(identifier)
        prefix = f"arn:{loop.partition}:logs:{loop.region}:{loop.account_id}:log-group:"
        if name.startswith(prefix):
            name = name[len(prefix):].removesuffix(":*")
        elif name.startswith("arn:"):
            raise ResourceNotFoundException(GROUP_MISSING)
    return str(name)


def _group(loop: EventLoop, p: dict[str, Any]) -> tuple[FunctionRuntime, str]:
    """The runtime keeping the named group, and its function's name."""
    name = _group_name(loop, p)
    found = _groups(loop).get(name)
    if found is None:
        raise ResourceNotFoundException(GROUP_MISSING)
    return found[0], name[len(LOG_GROUP_PREFIX):]


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _decode(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameterException(_BAD_TOKEN) from None


def _page(items: Sequence[T], key: Callable[[T], Any], p: dict[str, Any],
          maximum: int) -> tuple[Sequence[T], str | None]:
    """One page of a Describe* list in order: after the token's key, at most ``limit``."""
    limit = _limit(p, maximum)
    start = 0
    token = p.get("nextToken")
    if token is not None:
        after = _decode(token)
        if not isinstance(after, list):
            raise InvalidParameterException(_BAD_TOKEN)
        start = next((i for i, item in enumerate(items) if _key_list(key(item)) == after), -1) + 1
        if start == 0:
            raise InvalidParameterException(_BAD_TOKEN)
    page = items[start:start + limit]
    more = start + limit < len(items) and len(page) > 0
    return page, _encode(_key_list(key(page[-1]))) if more else None


def _key_list(key: Any) -> list[Any]:
    return list(key) if isinstance(key, tuple) else [key]


# -- log groups ------------------------------------------------------------------------------


def describe_log_groups(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    prefix, pattern = p.get("logGroupNamePrefix"), p.get("logGroupNamePattern")
    if prefix is not None and pattern is not None:
        raise InvalidParameterException(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    groups = [g for _, g in sorted(_groups(loop).values(), key=lambda rg: rg[1].name)]
    if prefix is not None:
        groups = [g for g in groups if g.name.startswith(prefix)]
    if pattern:  # a case-sensitive substring search
        groups = [g for g in groups if pattern in g.name]
    if p.get("logGroupClass") not in (None, "STANDARD"):
        groups = []  # Lambda's groups here are all of the STANDARD class
    identifiers = p.get("logGroupIdentifiers")
    if identifiers is not None:
        names = {_group_name(loop, {"logGroupIdentifier": i}) for i in identifiers}
        groups = [g for g in groups if g.name in names]
    page, token = _page(groups, lambda g: g.name, p, 50)
    base = f"arn:{loop.partition}:logs:{loop.region}:{loop.account_id}:log-group:"
    out: list[dict[str, Any]] = []
    for group in page:
        entry: dict[str, Any] = {
            "logGroupName": group.name, "creationTime": group.creation_time,
            "metricFilterCount": 0, "arn": f"{base}{group.name}:*",
            "logGroupClass": "STANDARD", "logGroupArn": f"{base}{group.name}",
        }
        if pattern is None:  # with a pattern AWS leaves these two out
            entry.update(storedBytes=group.stored_bytes, deletionProtectionEnabled=False)
        out.append(entry)
    body: dict[str, Any] = {"logGroups": out}
    if token is not None:
        body["nextToken"] = token
    return body


# -- log streams -----------------------------------------------------------------------------


def _stream_shape(loop: EventLoop, group: str, stream: LogStream) -> dict[str, Any]:
    return {
        "logStreamName": stream.name,
        "creationTime": stream.creation_time,
        "firstEventTimestamp": stream.first_event_timestamp,
        "lastEventTimestamp": stream.last_event_timestamp,
        "lastIngestionTime": stream.last_ingestion_time,
        "arn": f"arn:{loop.partition}:logs:{loop.region}:{loop.account_id}:log-group:{group}"
               f":log-stream:{stream.name}",
        "storedBytes": 0,
    }


def describe_log_streams(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime, function_name = _group(loop, p)
    order, prefix = p.get("orderBy", "LogStreamName"), p.get("logStreamNamePrefix")
    if order == "LastEventTime" and prefix is not None:
        raise InvalidParameterException("Cannot order by LastEventTime with a logStreamNamePrefix.")
    streams = runtime.log_streams(function_name)
    if prefix is not None:
        streams = [s for s in streams if s.name.startswith(prefix)]
    key: Callable[[LogStream], Any]
    if order == "LastEventTime":
        def key(s: LogStream) -> Any:
            return (s.last_event_timestamp, s.name)
    else:
        def key(s: LogStream) -> Any:
            return s.name
    streams.sort(key=key, reverse=bool(p.get("descending")))
    page, token = _page(streams, key, p, 50)
    group = LOG_GROUP_PREFIX + function_name
    body: dict[str, Any] = {"logStreams": [_stream_shape(loop, group, s) for s in page]}
    if token is not None:
        body["nextToken"] = token
    return body


# -- events ----------------------------------------------------------------------------------


def _size(event: LogEvent) -> int:
    return len(event.message.encode("utf-8", "replace")) + _EVENT_OVERHEAD


def _event_shape(event: LogEvent) -> dict[str, Any]:
    return {"timestamp": event.timestamp, "message": event.message,
            "ingestionTime": event.ingestion_time}


def _stream_events(runtime: FunctionRuntime, function_name: str,
                   stream_name: str) -> tuple[int, list[LogEvent]]:
    """A stream's kept events and the position of the first (positions never repeat)."""
    with runtime._lock:
        stream = runtime._logs.stream(function_name, stream_name)
        return stream.first_seq, stream.read()


def _stream_token(token: str) -> tuple[str, int]:
    """``f/<position>/s`` or ``b/<position>/s``: direction and event position."""
    parts = token.split("/")
    if len(parts) != 3 or parts[0] not in ("f", "b") or parts[2] != "s" or not parts[1].isdigit():
        raise InvalidParameterException(_BAD_TOKEN)
    return parts[0], int(parts[1])


def get_log_events(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime, function_name = _group(loop, p)
    limit = _limit(p, 10_000)
    first, events = _stream_events(runtime, function_name, p["logStreamName"])
    start, end = p.get("startTime"), p.get("endTime")
    chosen = [(first + i, e) for i, e in enumerate(events)
              if (start is None or e.timestamp >= start) and (end is None or e.timestamp < end)]
    end_position = first + len(events)
    token = p.get("nextToken")
    if token is not None:
        direction, position = _stream_token(token)
    elif p.get("startFromHead"):
        direction, position = "f", first
    else:
        direction, position = "b", end_position
    page: list[tuple[int, LogEvent]] = []
    size = 0
    if direction == "f":
        for item in (c for c in chosen if c[0] >= position):
            size += _size(item[1])
            if len(page) == limit or (page and size > _PAGE_BYTES):
                break
            page.append(item)
    else:
        for item in reversed([c for c in chosen if c[0] < position]):
            size += _size(item[1])
            if len(page) == limit or (page and size > _PAGE_BYTES):
                break
            page.append(item)
        page.reverse()
    if page:
        forward, backward = f"f/{page[-1][0] + 1:056d}/s", f"b/{page[0][0]:056d}/s"
    else:
        forward, backward = f"f/{position:056d}/s", f"b/{position:056d}/s"
        if token is not None:  # "at the end of the stream, it returns the same token"
            forward = token if direction == "f" else forward
            backward = token if direction == "b" else backward
    return {"events": [_event_shape(e) for _, e in page], "nextForwardToken": forward,
            "nextBackwardToken": backward}


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A plain-term filter pattern as a predicate on a message."""
    text = pattern.strip()
    if not text:
        return lambda message: True
    if text[0] in "{[%":
        kind = {"{": "JSON", "[": "space-delimited", "%": "regular-expression"}[text[0]]
        raise InvalidParameterException(
            f"decoupling serves plain-term filter patterns only (terms, \"phrases\", ?term, "
            f"-term); the {kind} pattern {pattern!r} is not supported.")
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        kind = ""
        if text[i] in "?-":
            kind, i = text[i], i + 1
        if i < n and text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise InvalidParameterException(f"Invalid filter pattern: {pattern!r} (unclosed quote).")
            term, i = text[i + 1:close], close + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            term, i = text[i:j], j
        if not term:
            raise InvalidParameterException(f"Invalid filter pattern: {pattern!r}.")
        {"": required, "?": optional, "-": excluded}[kind].append(term)

    def match(message: str) -> bool:
        return (all(t in message for t in required)
                and (not optional or any(t in message for t in optional))
                and not any(t in message for t in excluded))

    return match


def filter_log_events(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime, function_name = _group(loop, p)
    names, prefix = p.get("logStreamNames"), p.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise InvalidParameterException(
            "logStreamNames and logStreamNamePrefix are mutually exclusive: give one of them.")
    limit = _limit(p, 10_000)
    match = _matcher(p.get("filterPattern") or "")
    start, end = p.get("startTime"), p.get("endTime")
    streams = [s.name for s in runtime.log_streams(function_name)]
    if names is not None:
        wanted = set(names)
        streams = [s for s in streams if s in wanted]
    elif prefix is not None:
        streams = [s for s in streams if s.startswith(prefix)]
    found: list[tuple[int, str, int, LogEvent]] = []
    for name in streams:
        first, events = _stream_events(runtime, function_name, name)
        for i, event in enumerate(events):
            if ((start is None or event.timestamp >= start)
                    and (end is None or event.timestamp <= end) and match(event.message)):
                found.append((event.timestamp, name, first + i, event))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    token = p.get("nextToken")
    if token is not None:
        after = _decode(token)
        if (not isinstance(after, list) or len(after) != 3 or not isinstance(after[0], int)
                or not isinstance(after[1], str) or not isinstance(after[2], int)):
            raise InvalidParameterException(_BAD_TOKEN)
        key = (after[0], after[1], after[2])
        found = [f for f in found if (f[0], f[1], f[2]) > key]
    page: list[tuple[int, str, int, LogEvent]] = []
    size = 0
    for item in found:
        size += _size(item[3])
        if len(page) == limit or (page and size > _PAGE_BYTES):
            break
        page.append(item)
    shapes: list[dict[str, Any]] = [{
        "logStreamName": name, "timestamp": event.timestamp, "message": event.message,
        "ingestionTime": event.ingestion_time,
        "eventId": f"{timestamp:020d}{zlib.crc32(name.encode()):010d}{seq:026d}",
    } for timestamp, name, seq, event in page]
    body: dict[str, Any] = {"events": shapes, "searchedLogStreams": []}
    if len(page) < len(found):
        last = page[-1] if page else None
        if last is not None:
            body["nextToken"] = _encode([last[0], last[1], last[2]])
    return body


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
}
