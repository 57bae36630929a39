"""A function's log: what a handler prints or logs reaches its ``LogResult`` tail (and, below,
its CloudWatch Logs group), as on Lambda
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html)."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import sys
import threading
from typing import Any

import pytest

import decoupling as dc


@pytest.fixture(params=["thread", "inline"])
def rt(loop: dc.EventLoop, request: pytest.FixtureRequest) -> Any:
    runtime = dc.FunctionRuntime(loop, hang_guard=2.0, isolation=request.param)
    yield runtime
    runtime.close()


def _body(result: dc.InvocationResult) -> list[str]:
    """The tail's lines between START and END."""
    lines = result.logs.splitlines()
    rid = result.request_id
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    end = lines.index(f"END RequestId: {rid}")
    assert lines[end + 1].startswith(f"REPORT RequestId: {rid}\tDuration: ")
    return lines[1:end]


def test_print_stdout_stderr_and_logging_reach_the_tail_in_order(
        rt: dc.FunctionRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(event: Any, context: Any) -> str:
        print("custom log event")
        print("part one,", end="")
        print(" part two")
        sys.stderr.write("to stderr\n")
        logging.getLogger("app").warning("stock %s low", "B-7")
        sys.stdout.writelines(["x", "y\n", "two\nlines\n"])
        print("no newline at the end", end="")
        return "ok"

    rt.register("printer", handler)
    result = rt.invoke("printer", {}, log_type="Tail")
    assert result.payload == "ok"
    # a logging record as the Python runtime formats it: level, UTC time (the loop's), request id
    record = f"[WARNING]\t2026-01-01T00:00:00.000Z\t{result.request_id}\tstock B-7 low"
    assert _body(result) == [
        "custom log event", "part one, part two", "to stderr", record,
        "xy", "two", "lines", "no newline at the end"]
    out, err = capsys.readouterr()  # the text still reaches the real streams
    assert out == "custom log event\npart one, part two\nxy\ntwo\nlines\nno newline at the end"
    assert err == "to stderr\n"


def test_a_partial_line_before_a_logging_record_becomes_its_own_line(
        rt: dc.FunctionRuntime, clock: dc.ManualClock) -> None:
    def handler(event: Any, context: Any) -> None:
        print("waiting...", end="")
        logging.getLogger().error("gave up on %d", 7)
        print(" done")

    rt.register("partial", handler)
    clock.advance(61.25)  # the record's time is the loop's wall clock, to the millisecond
    result = rt.invoke("partial", None, log_type="Tail")
    assert _body(result) == [
        "waiting...", f"[ERROR]\t2026-01-01T00:01:01.250Z\t{result.request_id}\tgave up on 7",
        " done"]


def test_async_handler_and_init_code_print_to_the_log(rt: dc.FunctionRuntime) -> None:
    async def handler(event: Any, context: Any) -> int:
        print("before sleep")
        await asyncio.sleep(1.5)
        print("after sleep")
        return 1

    rt.register("aprint", handler, init=lambda: print("init ran"))
    first = rt.invoke("aprint", None, log_type="Tail")
    assert _body(first) == ["init ran", "before sleep", "after sleep"]
    assert _body(rt.invoke("aprint", None, log_type="Tail")) == ["before sleep", "after sleep"]


def test_an_error_logs_what_the_python_runtime_logs(rt: dc.FunctionRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        print("about to fail")
        raise KeyError("order-7")

    rt.register("fails", handler)
    result = rt.invoke("fails", None, log_type="Tail")
    assert result.function_error == "Unhandled"
    body = _body(result)
    assert body[:3] == ["about to fail", "[ERROR] KeyError: 'order-7'",
                        "Traceback (most recent call last):"]
    # frame lines indented with no-break spaces, as the runtime writes them to CloudWatch
    assert body[3].startswith('\u00a0\u00a0File "') and body[3].endswith(', in handler')
    assert body[4] == '\u00a0\u00a0\u00a0\u00a0raise KeyError("order-7")'
    assert len(body) == 5


def test_a_handler_string_that_fails_to_import_logs_its_runtime_error(
        rt: dc.FunctionRuntime) -> None:
    rt.register("missing", "no_such_module_for_logs.handler")
    result = rt.invoke("missing", None, log_type="Tail")
    assert _body(result) == [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'no_such_module_for_logs': "
        "No module named 'no_such_module_for_logs'",
        "Traceback (most recent call last):"]


def test_print_outside_handlers_is_not_logged_and_a_replaced_stdout_is_wrapped_again(
        rt: dc.FunctionRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    rt.register("echo", lambda event, context: print(f"event {event}"))
    rt.invoke("echo", 1)
    print("outside any handler")
    replaced = io.StringIO()
    monkeypatch.setattr(sys, "stdout", replaced)  # as pytest's capture does between tests
    result = rt.invoke("echo", 2, log_type="Tail")
    assert _body(result) == ["event 2"]
    assert replaced.getvalue() == "event 2\n"
    print("outside again")
    assert replaced.getvalue() == "event 2\noutside again\n"
    assert _body(rt.invoke("echo", 3, log_type="Tail")) == ["event 3"]


def test_concurrent_invocations_keep_their_own_lines(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, hang_guard=5.0)
    barrier = threading.Barrier(2, timeout=5)

    def handler(event: Any, context: Any) -> None:
        print(f"{event} begins", end="")
        barrier.wait()  # both are mid-line here
        print(f" and {event} ends")

    rt.register("both", handler)
    results: dict[str, dc.InvocationResult] = {}

    def call(name: str) -> None:
        results[name] = rt.invoke("both", name, log_type="Tail")

    threads = [threading.Thread(target=call, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    rt.close()
    assert _body(results["a"]) == ["a begins and a ends"]
    assert _body(results["b"]) == ["b begins and b ends"]



def test_the_tail_is_the_last_4_kb_and_stays_valid_utf8(rt: dc.FunctionRuntime) -> None:
    rt.register("wide", lambda event, context: print("é" * 3000))  # 6,000 bytes of text
    result = rt.invoke("wide", None, log_type="Tail")
    assert result.log_result is not None
    raw = base64.b64decode(result.log_result)
    assert 4094 <= len(raw) <= 4096
    lines = result.logs.splitlines()
    assert lines[0] == "é" * lines[0].count("é") and lines[-2].startswith("END RequestId: ")
