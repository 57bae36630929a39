"""Functions' logs in CloudWatch Logs' shape, natively and through the boto3 bridge's ``logs``
client: groups ``/aws/lambda/<name>``, a stream per execution environment, events with the
loop's timestamps, pagination tokens and errors as CloudWatch Logs gives them (messages as in
LocalStack's AWS-validated snapshots, tests/aws/services/logs/*.snapshot.json)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402
from test_boto_shapes import shape_problems  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.boto import SERVICES, runtime_for, serve  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
EPOCH_MS = 1_767_225_600_000  # the ManualClock's wall time at 0.0 s
STREAM = re.compile(r"2026/01/01/\[(\$LATEST|\d+)\][0-9a-f]{32}")
CODE = """
import time
def handler(event, context):
    print("order", event["order"])
    if event.get("fail"):
        raise ValueError("rejected")
    return event["order"]
"""


def _zip(text: str) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shop_logs_app.py", text)
    return archive.getvalue()


@pytest.fixture
def clients(loop: dc.EventLoop) -> Iterator[tuple[Any, Any]]:
    with serve(loop):
        lam = boto3.client("lambda")
        lam.create_function(FunctionName="shop", Runtime="python3.12", Role=ROLE,
                            Handler="shop_logs_app.handler", Code={"ZipFile": _zip(CODE)})
        yield lam, boto3.client("logs")


def _invoke(lam: Any, order: int, clock: dc.ManualClock, **extra: Any) -> str:
    response = lam.invoke(FunctionName="shop", Payload=f'{{"order": {order}{extra.get("x", "")}}}')
    clock.advance(1.0)
    return str(response["ResponseMetadata"]["RequestId"])


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**params)
    return info.value.response  # type: ignore[no-any-return]


def test_a_function_logs_to_its_group_and_stream(clients: tuple[Any, Any], loop: dc.EventLoop,
                                                 clock: dc.ManualClock) -> None:
    lam, logs = clients
    missing = _error(logs.describe_log_streams, logGroupName="/aws/lambda/shop")
    assert missing["Error"] == {"Code": "ResourceNotFoundException",
                                "Message": "The specified log group does not exist."}
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 400
    first = _invoke(lam, 1, clock)
    second = _invoke(lam, 2, clock)
    groups = logs.describe_log_groups()["logGroups"]
    assert groups == [{
        "logGroupName": "/aws/lambda/shop", "creationTime": EPOCH_MS,
        "arn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/shop:*",
        "metricFilterCount": 0, "storedBytes": groups[0]["storedBytes"],
        "logGroupClass": "STANDARD",
        "logGroupArn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/shop",
        "deletionProtectionEnabled": False,
    }]
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/shop")["logStreams"]
    assert len(streams) == 1  # both invocations ran in one execution environment
    name = streams[0]["logStreamName"]
    assert STREAM.fullmatch(name) and "[$LATEST]" in name
    assert streams[0] == {
        "logStreamName": name, "creationTime": EPOCH_MS, "firstEventTimestamp": EPOCH_MS,
        "lastEventTimestamp": EPOCH_MS + 1000, "lastIngestionTime": EPOCH_MS + 1000,
        "arn": f"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/shop:log-stream:{name}",
        "storedBytes": 0,
    }
    events = logs.get_log_events(logGroupName="/aws/lambda/shop", logStreamName=name,
                                 startFromHead=True)["events"]
    assert [e["message"] for e in events] == [
        f"START RequestId: {first} Version: $LATEST", "order 1", f"END RequestId: {first}",
        events[3]["message"],
        f"START RequestId: {second} Version: $LATEST", "order 2", f"END RequestId: {second}",
        events[7]["message"]]
    assert events[3]["message"].startswith(f"REPORT RequestId: {first}\tDuration: 0.00 ms\t")
    assert events[3]["message"].endswith("\tInit Duration: 0.00 ms")  # a cold start
    assert "Init Duration" not in events[7]["message"]
    assert [e["timestamp"] for e in events] == [EPOCH_MS] * 4 + [EPOCH_MS + 1000] * 4
    assert [e["ingestionTime"] for e in events] == [EPOCH_MS] * 4 + [EPOCH_MS + 1000] * 4
    by_arn = logs.describe_log_streams(logGroupIdentifier=groups[0]["logGroupArn"])
    assert by_arn["logStreams"] == streams
    assert _error(logs.describe_log_streams, logGroupName="/aws/lambda/shop",
                  logGroupIdentifier="/aws/lambda/shop")["Error"]["Message"] == (
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    assert logs.describe_log_groups(logGroupNamePattern="sho")["logGroups"] == [
        {k: v for k, v in groups[0].items() if k not in ("storedBytes", "deletionProtectionEnabled")}]
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/x")["logGroups"] == []
    assert _error(logs.describe_log_groups, logGroupNamePrefix="/aws",
                  logGroupNamePattern="shop")["Error"]["Message"] == (
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    # the same, natively
    native = dc.LogEvent(EPOCH_MS, "order 1", EPOCH_MS)
    runtime = runtime_for(loop)
    assert runtime.log_events("shop", name)[1] == native
    assert [s.name for s in runtime.log_streams("shop")] == [name]
    assert [g.name for g in runtime.log_groups()] == ["/aws/lambda/shop"]


def test_a_version_logs_to_a_stream_of_its_own(clients: tuple[Any, Any],
                                              clock: dc.ManualClock) -> None:
    lam, logs = clients
    lam.publish_version(FunctionName="shop")
    _invoke(lam, 1, clock)
    clock.advance(5)
    lam.invoke(FunctionName="shop", Qualifier="1", Payload='{"order": 9}')
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/shop", orderBy="LastEventTime",
                                        descending=True)["logStreams"]
    assert ["[1]" in s["logStreamName"] for s in streams] == [True, False]
    page = logs.describe_log_streams(logGroupName="/aws/lambda/shop", limit=1)
    assert len(page["logStreams"]) == 1 and "[$LATEST]" in page["logStreams"][0]["logStreamName"]
    rest = logs.describe_log_streams(logGroupName="/aws/lambda/shop", nextToken=page["nextToken"])
    assert "[1]" in rest["logStreams"][0]["logStreamName"] and "nextToken" not in rest
    assert _error(logs.describe_log_streams, logGroupName="/aws/lambda/shop",
                  orderBy="LastEventTime", logStreamNamePrefix="2026")["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Cannot order by LastEventTime with a logStreamNamePrefix."}


def test_get_log_events_pages_forward_and_backward(clients: tuple[Any, Any],
                                                   clock: dc.ManualClock) -> None:
    lam, logs = clients
    for order in range(3):
        _invoke(lam, order, clock)
    name = logs.describe_log_streams(logGroupName="/aws/lambda/shop")["logStreams"][0]["logStreamName"]
    get = {"logGroupName": "/aws/lambda/shop", "logStreamName": name}
    latest = logs.get_log_events(**get, limit=3)  # the latest events first (startFromHead false)
    assert [e["message"][:6] for e in latest["events"]] == ["order ", "END Re", "REPORT"]
    assert latest["events"][0]["message"] == "order 2"
    older = logs.get_log_events(**get, limit=3, nextToken=latest["nextBackwardToken"])
    assert [e["message"][:6] for e in older["events"]] == ["END Re", "REPORT", "START "]
    assert older["nextForwardToken"] == latest["nextBackwardToken"].replace("b/", "f/")
    head = logs.get_log_events(**get, limit=5, startFromHead=True)
    assert head["events"][1]["message"] == "order 0"
    seen = [e["message"] for e in head["events"]]
    token = head["nextForwardToken"]
    while True:
        page = logs.get_log_events(**get, limit=5, startFromHead=True, nextToken=token)
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert len(seen) == 12 and seen[9] == "order 2"
    assert page["events"] == []  # at the end: the same token comes back
    window = logs.get_log_events(**get, startTime=EPOCH_MS + 1000, endTime=EPOCH_MS + 2000)
    assert [e["message"] for e in window["events"]][1] == "order 1" and len(window["events"]) == 4
    bad = _error(logs.get_log_events, **get, nextToken="f/x/s")
    assert bad["Error"] == {"Code": "InvalidParameterException",
                            "Message": "The specified nextToken is invalid."}
    gone = _error(logs.get_log_events, logGroupName="/aws/lambda/shop", logStreamName="nope")
    assert gone["Error"]["Message"] == "The specified log stream does not exist."
    assert _error(logs.get_log_events, **get, limit=10_001)["Error"]["Message"] == (
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000")


def test_filter_log_events_with_plain_terms(clients: tuple[Any, Any], clock: dc.ManualClock) -> None:
    lam, logs = clients
    _invoke(lam, 1, clock)
    _invoke(lam, 2, clock, x=', "fail": true')
    _invoke(lam, 3, clock)

    def messages(pattern: str, **extra: Any) -> list[str]:
        found = logs.filter_log_events(logGroupName="/aws/lambda/shop", filterPattern=pattern,
                                       **extra)
        assert found["searchedLogStreams"] == []
        return [e["message"].splitlines()[0] for e in found["events"]]

    assert messages("order") == ["order 1", "order 2", "order 3"]
    assert messages('"order 2"') == ["order 2"]
    assert messages('?ERROR ?"order 3"') == ["[ERROR] ValueError: rejected", "order 3"]
    assert messages("order -2 -3") == ["order 1"]
    assert messages("ValueError Traceback") == ["[ERROR] ValueError: rejected"]
    assert messages("error") == []  # case-sensitive
    assert messages("order", startTime=EPOCH_MS + 1000, endTime=EPOCH_MS + 2000) == [
        "order 2", "order 3"]  # endTime is inclusive here
    first = logs.filter_log_events(logGroupName="/aws/lambda/shop", filterPattern="order",
                                   limit=2)
    assert [e["message"] for e in first["events"]] == ["order 1", "order 2"]
    event = first["events"][0]
    assert STREAM.fullmatch(event["logStreamName"]) and len(event["eventId"]) == 56
    rest = logs.filter_log_events(logGroupName="/aws/lambda/shop", filterPattern="order",
                                  limit=2, nextToken=first["nextToken"])
    assert [e["message"] for e in rest["events"]] == ["order 3"] and "nextToken" not in rest
    refused = _error(logs.filter_log_events, logGroupName="/aws/lambda/shop",
                     filterPattern='{ $.level = "ERROR" }')
    assert refused["Error"]["Code"] == "InvalidParameterException"
    assert "plain-term filter patterns only" in refused["Error"]["Message"]
    assert _error(logs.filter_log_events, logGroupName="/aws/lambda/shop",
                  logStreamNames=["a"], logStreamNamePrefix="a")["Error"]["Code"] == (
        "InvalidParameterException")
    assert _error(logs.filter_log_events, logGroupName="/aws/lambda/nope")["Error"]["Code"] == (
        "ResourceNotFoundException")


def test_log_memory_is_capped_per_function(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, log_events=10)
    rt.register("chatty", lambda event, context: print(f"line {event}"))
    for n in range(5):
        rt.invoke("chatty", n)
    events = rt.log_events("chatty")
    assert len(events) == 8  # whole invocations (4 events each) go, the oldest first
    assert [e.message for e in events if e.message.startswith("line")] == ["line 3", "line 4"]
    group = rt.log_groups()[0]
    assert group.stored_bytes == sum(len(e.message.encode()) + 26 for e in events)
    rt.delete_function("chatty")
    assert [g.name for g in rt.log_groups()] == ["/aws/lambda/chatty"]  # the group outlives it
    with pytest.raises(dc.errors.ResourceNotFoundException, match="log group does not exist"):
        rt.log_streams("other")
    with pytest.raises(dc.errors.InvalidParameterValueException, match="log_events"):
        dc.FunctionRuntime(loop, log_events=0)
    small = dc.FunctionRuntime(loop, log_bytes=200)
    small.register("big", lambda event, context: print("x" * 150))
    small.invoke("big", 1)
    assert small.log_streams("big") == []  # one invocation over the byte cap keeps nothing


def test_log_events_older_than_a_day_go_so_memory_is_flat_after_the_first_day() -> None:
    clock = dc.ManualClock()
    rt = dc.FunctionRuntime(dc.EventLoop(clock=clock))
    rt.register("tick", lambda event, context: print(f"tick {event}"))
    for hour in range(30):  # one invocation an hour for 30 hours
        rt.invoke("tick", hour)
        clock.advance(3600)
    kept = [e.message for e in rt.log_events("tick") if e.message.startswith("tick")]
    # the newest invocation ran at hour 29: those of hours 5..29 are within 86,400 s of it
    assert kept == [f"tick {hour}" for hour in range(5, 30)]
    assert rt.log_groups()[0].stored_bytes == sum(
        len(e.message.encode()) + 26 for e in rt.log_events("tick"))
    forever = dc.FunctionRuntime(dc.EventLoop(clock=dc.ManualClock()), log_keep_seconds=None)
    forever.register("tick", lambda event, context: print("tick"))
    for _ in range(3):
        forever.invoke("tick", 0)
        forever.loop.clock.advance(10 * 86_400)  # type: ignore[attr-defined]
    assert len(forever.log_events("tick")) == 12  # 3 invocations x 4 events, none aged out
    for bad in (0, -1.0, float("inf"), True, "1"):
        with pytest.raises(dc.errors.InvalidParameterValueException, match="log_keep_seconds"):
            dc.FunctionRuntime(dc.EventLoop(clock=dc.ManualClock()), log_keep_seconds=bad)  # type: ignore[arg-type]


def test_every_logs_response_matches_the_service_model(clients: tuple[Any, Any],
                                                      clock: dc.ManualClock) -> None:
    lam, logs = clients
    for order in range(3):
        _invoke(lam, order, clock)
    group = {"logGroupName": "/aws/lambda/shop"}
    name = logs.describe_log_streams(**group)["logStreams"][0]["logStreamName"]
    responses = {
        "DescribeLogGroups": logs.describe_log_groups(limit=1),
        "DescribeLogStreams": logs.describe_log_streams(**group),
        "GetLogEvents": logs.get_log_events(**group, logStreamName=name, limit=2),
        "FilterLogEvents": logs.filter_log_events(**group, limit=2),
    }
    assert sorted(responses) == sorted(SERVICES["logs"][0])
    assert "nextToken" in responses["FilterLogEvents"]
    model = logs.meta.service_model
    for operation, response in responses.items():
        assert shape_problems(model.operation_model(operation).output_shape, response) == []
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
