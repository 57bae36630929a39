"""FunctionRuntime: configuration, invoke, context, environments, timeouts, concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


@pytest.fixture
def rt(loop: dc.EventLoop) -> dc.FunctionRuntime:
    runtime = dc.FunctionRuntime(loop, hang_guard=0.05)
    yield runtime
    runtime.close()


def test_invoke_returns_result_and_context(rt: dc.FunctionRuntime) -> None:
    @rt.function("hello", timeout=30, memory_mb=256)
    def hello(event: Any, context: dc.LambdaContext) -> dict[str, Any]:
        return {
            "event": event, "name": context.function_name, "version": context.function_version,
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "group": context.log_group_name, "stream": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(), "id": context.aws_request_id,
            "identity": context.identity.cognito_identity_id, "client": context.client_context,
        }

    result = rt.invoke("hello", {"a": [1, 2]})
    assert result.status_code == 200 and result.function_error is None
    payload = result.payload
    assert payload["event"] == {"a": [1, 2]}
    assert payload["name"] == "hello" and payload["version"] == "$LATEST"
    assert payload["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:hello"
    assert payload["memory"] == 256 and payload["group"] == "/aws/lambda/hello"
    assert payload["stream"].startswith("2026/01/01/[$LATEST]") and len(payload["stream"]) == 20 + 32
    assert payload["remaining"] == 30_000 and payload["id"] == result.request_id
    assert payload["identity"] is None and payload["client"] is None
    assert result.executed_version == "$LATEST" and result.cold_start is True
    assert rt.invoke("hello", 1).cold_start is False  # the environment is reused
    assert callable(hello) and hello.__name__ == "hello"  # the decorator returns the function


def test_error_payload_is_the_python_runtime_shape(rt: dc.FunctionRuntime) -> None:
    def fail(event: Any, context: Any) -> None:
        raise KeyError("order-7")

    rt.register("fail", fail)
    result = rt.invoke("fail", {})
    assert result.status_code == 200 and result.function_error == "Unhandled"
    assert list(result.payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert result.payload["errorMessage"] == "'order-7'"
    assert result.payload["errorType"] == "KeyError"
    assert result.payload["requestId"] == result.request_id
    assert len(result.payload["stackTrace"]) == 1 and "in fail" in result.payload["stackTrace"][0]


def test_virtual_duration_billing_and_log_tail(rt: dc.FunctionRuntime, clock: dc.ManualClock) -> None:
    def work(event: Any, context: dc.LambdaContext) -> int:
        context.sleep(0.25)
        return context.get_remaining_time_in_millis()

    rt.register("work", work, simulated_duration=0.0005, memory_mb=512)
    result = rt.invoke("work", None, log_type="Tail")
    assert result.payload == 2750
    assert result.duration == pytest.approx(0.2505) and result.billed_duration_ms == 251
    assert clock.now() == pytest.approx(0.2505)  # the caller waited on virtual time
    lines = result.logs.splitlines()
    assert lines[0] == f"START RequestId: {result.request_id} Version: $LATEST"
    assert lines[-2] == f"END RequestId: {result.request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {result.request_id}\tDuration: 250.50 ms\t"
                                "Billed Duration: 251 ms\tMemory Size: 512 MB")
    record = rt.meter.records[-1]
    assert record.billed_duration_ms == 251 and record.gb_seconds == pytest.approx(0.5 * 0.251)


def test_timeout_of_a_handler_that_never_returns_frees_the_slot(rt: dc.FunctionRuntime, clock: dc.ManualClock) -> None:
    release = threading.Event()

    def hang(event: Any, context: Any) -> None:
        release.wait(5)

    rt.register("hang", hang, timeout=2, reserved_concurrency=1)
    result = rt.invoke("hang")
    release.set()
    rid = result.request_id
    assert result.function_error == "Unhandled"
    assert result.payload == {"errorType": "Sandbox.Timedout",
                              "errorMessage": f"RequestId: {rid} Error: Task timed out after 2.00 seconds"}
    assert clock.now() == 2.0 and result.duration == 2.0 and result.billed_duration_ms == 2000
    fn = rt.get_function("hang")
    assert fn.concurrent == 0 and fn.timeouts == 1 and fn.environments == []
    # the slot is free: the next invocation runs (on a fresh environment: a timeout resets it)
    assert rt.invoke("hang").cold_start is True


def test_async_handler_is_cancelled_at_its_virtual_deadline(rt: dc.FunctionRuntime, clock: dc.ManualClock) -> None:
    cancelled = []

    async def forever(event: Any, context: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(context.aws_request_id)
            raise

    async def naps(event: Any, context: dc.LambdaContext) -> int:
        await asyncio.sleep(1.5)
        return context.get_remaining_time_in_millis()

    rt.register("forever", forever, timeout=2)
    rt.register("naps", naps, timeout=2)
    result = rt.invoke("forever")
    assert result.payload["errorType"] == "Sandbox.Timedout" and cancelled == [result.request_id]
    assert clock.now() == 2.0
    assert rt.invoke("naps").payload == 500 and clock.now() == 3.5


def test_sync_handler_sleeping_past_timeout_times_out(rt: dc.FunctionRuntime) -> None:
    seen = []

    def loop_forever(event: Any, context: dc.LambdaContext) -> None:
        while True:
            try:
                context.sleep(1)
            except Exception:  # a handler's broad except does not swallow the timeout
                seen.append("caught")

    rt.register("spin", loop_forever, timeout=3)
    result = rt.invoke("spin")
    assert result.payload["errorMessage"].endswith("Task timed out after 3.00 seconds")
    assert seen == [] and result.duration == 3.0


def test_concurrency_throttles_sync_invokes(rt: dc.FunctionRuntime, clock: dc.ManualClock) -> None:
    results: list[dc.InvocationResult] = []
    rt.register("slow", lambda e, c: "ok", simulated_duration=10.0, timeout=30,
                reserved_concurrency=1)
    rt.register("probe", lambda e, c: results.append(rt.invoke("slow")) or "done")
    # a timer starts "slow" at t=1; while it runs, a second sync invoke is throttled
    clock_events: list[str] = []

    def start() -> None:
        with rt._lock:
            fn = rt.get_function("slow")
            rt._begin(fn, None, "RequestResponse", None, None, serialize=True)
        clock_events.append("started")

    rt.loop.call_at(1.0, start)
    clock.advance(2)
    with pytest.raises(errors.TooManyRequestsException) as info:
        rt.invoke("slow")
    assert info.value.status == 429
    assert str(info.value) == ("TooManyRequestsException: Rate Exceeded. Reason: "
                               "ReservedFunctionConcurrentInvocationLimitExceeded")
    assert rt.get_function("slow").throttles == 1 and rt.report().functions["slow"].throttles == 1
    clock.advance(9)
    assert rt.invoke("slow").payload == "ok"


def test_payload_limits_and_types(rt: dc.FunctionRuntime) -> None:
    rt.register("echo", lambda e, c: e)
    assert rt.invoke("echo", b'{"x": 1}').payload == {"x": 1}
    with pytest.raises(errors.InvalidRequestContentException):
        rt.invoke("echo", b"{not json")
    big = "x" * (1024 * 1024)
    with pytest.raises(errors.RequestTooLargeException):
        rt.invoke("echo", big, "Event")
    assert rt.invoke("echo", "x" * 1_000_000, "Event").status_code == 202
    with pytest.raises(errors.RequestTooLargeException):
        rt.invoke("echo", "x" * (6 * 1024 * 1024))
    dry = rt.invoke("echo", {"a": 1}, "DryRun")
    assert dry.status_code == 204 and dry.payload is None
    with pytest.raises(errors.InvalidParameterValueException):
        rt.invoke("echo", 1, "Sometimes")
    with pytest.raises(errors.ResourceNotFoundException) as info:
        rt.invoke("nope")
    assert "function:nope" in str(info.value)
    rt.register("setlike", lambda e, c: {1, 2})
    marshal = rt.invoke("setlike")
    assert marshal.function_error == "Unhandled"
    assert marshal.payload["errorType"] == "Runtime.MarshalError"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": 0}, errors.ValidationException),
        ({"timeout": 1801}, errors.ValidationException),
        ({"memory_mb": 127}, errors.ValidationException),
        ({"memory_mb": 32769}, errors.ValidationException),
        ({"architecture": "sparc"}, errors.ValidationException),
        ({"environment": {"AWS_REGION": "x"}}, errors.InvalidParameterValueException),
        ({"environment": {"1BAD": "x"}}, errors.InvalidParameterValueException),
        ({"environment": {"BIG": "x" * 4096}}, errors.InvalidParameterValueException),
        ({"reserved_concurrency": 901}, errors.InvalidParameterValueException),
        ({"tenant_isolation": "PER_REQUEST"}, errors.InvalidParameterValueException),
        ({"maximum_retry_attempts": 3}, errors.ValidationException),
        ({"maximum_event_age": 59}, errors.ValidationException),
    ],
)
def test_register_validation_changes_nothing(rt: dc.FunctionRuntime, kwargs: dict[str, Any],
                                             error: type[Exception]) -> None:
    with pytest.raises(error):
        rt.register("f", lambda e, c: None, **kwargs)
    assert rt.functions == []
    rt.register("f", lambda e, c: None, timeout=1800, memory_mb=32768, reserved_concurrency=900)
    with pytest.raises(errors.ResourceConflictException):
        rt.register("f", lambda e, c: None)
    with pytest.raises(errors.ValidationException):
        rt.register("bad name", lambda e, c: None)


def test_environment_is_per_execution_environment(rt: dc.FunctionRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_ONLY", "host")

    def read(event: Any, context: Any) -> dict[str, Any]:
        before = os.environ.get("COUNTER", "0")
        os.environ["COUNTER"] = str(int(before) + 1)
        return {"table": os.environ["TABLE"], "counter": os.environ["COUNTER"],
                "host": os.getenv("HOST_ONLY"), "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                "region": os.environ["AWS_REGION"]}

    rt.register("a", read, environment={"TABLE": "orders"})
    rt.register("b", read, environment={"TABLE": "invoices"})
    assert rt.invoke("a").payload == {"table": "orders", "counter": "1", "host": "host",
                                      "fn": "a", "region": "us-east-1"}
    assert rt.invoke("a").payload["counter"] == "2"  # same environment, as on Lambda
    assert rt.invoke("b").payload == {"table": "invoices", "counter": "1", "host": "host",
                                      "fn": "b", "region": "us-east-1"}
    assert "TABLE" not in os.environ and "COUNTER" not in os.environ


def test_tenant_isolation(rt: dc.FunctionRuntime) -> None:
    def who(event: Any, context: dc.LambdaContext) -> Any:
        os.environ["SEEN"] = os.environ.get("SEEN", "") + (context.tenant_id or "")
        return [context.tenant_id, os.environ["SEEN"]]

    rt.register("t", who, tenant_isolation="PER_TENANT")
    with pytest.raises(errors.InvalidParameterValueException):
        rt.invoke("t", {})
    assert rt.invoke("t", {}, tenant_id="acme").payload == ["acme", "acme"]
    assert rt.invoke("t", {}, tenant_id="globex").payload == ["globex", "globex"]
    assert rt.invoke("t", {}, tenant_id="acme").payload == ["acme", "acmeacme"]
    fn = rt.get_function("t")
    assert sorted(e.tenant_id for e in fn.environments) == ["acme", "globex"]
    rt.register("plain", who)
    with pytest.raises(errors.InvalidParameterValueException):
        rt.invoke("plain", {}, tenant_id="acme")


def test_handler_string_imports_per_environment(rt: dc.FunctionRuntime, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "shopapp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "orders.py").write_text(
        "INITS = []\nINITS.append(1)\n"
        "def handler(event, context):\n    INITS.append(2)\n    return len(INITS)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rt.register("orders", "shopapp.orders.handler")
    assert [rt.invoke("orders").payload for _ in range(3)] == [2, 3, 4]
    env = rt.get_function("orders").environments[0]
    assert env.init_count == 1 and env.invocations == 3
    assert "shopapp.orders" not in sys.modules
    rt.register("missing", "shopapp.nothere.handler")
    assert rt.invoke("missing").payload["errorType"] == "Runtime.ImportModuleError"
    rt.register("noattr", "shopapp.orders.nope")
    result = rt.invoke("noattr")
    assert result.payload == {"errorMessage": "Handler 'nope' missing on module 'shopapp.orders'",
                              "errorType": "Runtime.HandlerNotFound", "requestId": "",
                              "stackTrace": []}
    rt.register("malformed", "handler")
    assert rt.invoke("malformed").payload["errorType"] == "Runtime.MalformedHandlerName"


def test_cold_start_duration_and_report(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, prices=dc.LambdaPrices())
    rt.register("x", lambda e, c: 1, simulated_duration=0.1, cold_start_duration=0.4,
                memory_mb=1024)
    rt.register("arm", lambda e, c: 1, simulated_duration=1.0, memory_mb=2048, architecture="arm64")
    first = rt.invoke("x")
    assert first.cold_start and first.billed_duration_ms == 500 and loop.clock.now() == pytest.approx(0.5)
    assert rt.invoke("x").billed_duration_ms == 100
    rt.invoke("arm")
    report = rt.report()
    x = report.functions["x"]
    assert (x.invocations, x.cold_starts, x.billed_duration_ms) == (2, 1, 600)
    assert x.gb_seconds == pytest.approx(0.6)
    assert x.compute_cost == pytest.approx(0.6 * 0.0000166667)
    assert report.functions["arm"].compute_cost == pytest.approx(2.0 * 0.0000133334)
    assert report.total.request_cost == pytest.approx(3 * 0.20 / 1_000_000)
    assert "TOTAL" in report.format()
    rt.close()


def test_metrics_count_environments(rt: dc.FunctionRuntime) -> None:
    rt.register("m", lambda e, c: json.dumps(e))
    rt.invoke("m", 1)
    rt.invoke("m", 2)
    metrics = rt.metrics["functions"]["m"]
    assert metrics["invocations"] == 2 and metrics["cold_starts"] == 1 and metrics["environments"] == 1


def test_inline_isolation_runs_in_the_calling_thread(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, isolation="inline")
    rt.register("where", lambda e, c: threading.get_ident())
    assert rt.invoke("where").payload == threading.get_ident()
    with pytest.raises(errors.InvalidParameterValueException):
        dc.FunctionRuntime(loop, isolation="process")


@pytest.mark.realtime
def test_real_clock_timeout_and_result() -> None:
    with dc.EventLoop() as loop:
        rt = dc.FunctionRuntime(loop)
        release = threading.Event()
        rt.register("quick", lambda e, c: e * 2)
        rt.register("stuck", lambda e, c: release.wait(30), timeout=1)
        assert rt.invoke("quick", 21).payload == 42
        result = rt.invoke("stuck")
        release.set()
        assert result.payload["errorType"] == "Sandbox.Timedout"
        assert 1.0 <= result.duration < 10  # its 1 s timeout, not the handler's 30 s
        rt.close()


def test_the_largest_response_is_6_mb_and_100_bytes(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, isolation="inline")
    limit = 6 * 1024 * 1024 + 100
    rt.register("sized", lambda event, context: "a" * (event - 2))  # JSON adds the quotes
    assert len(rt.invoke("sized", limit).payload) == limit - 2
    too_large = rt.invoke("sized", limit + 1)
    assert too_large.function_error == "Unhandled"
    assert too_large.payload == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
                        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge"}
