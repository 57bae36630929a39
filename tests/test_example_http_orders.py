"""examples/http_orders.py end to end: real HTTP requests to 127.0.0.1, a threaded pool that
processes the orders, the dead-letter queue, and a SIGTERM that drains and exits 0."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.realtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "http_orders.py"


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), "the example printed nothing"
    return process.stdout.readline().rstrip("\n")


@pytest.fixture
def service() -> Iterator[tuple[subprocess.Popen[str], str]]:
    # Short visibility timeout and 2 receives: a failing order reaches the DLQ in about 2 s.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--port", "0", "--workers", "4",
         "--visibility-timeout", "1", "--max-receive-count", "2", "--work-seconds", "0.01"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = _read_line(process, 10)
        assert first.startswith("listening on http://127.0.0.1:"), first
        yield process, first.removeprefix("listening on ")
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _request(url: str, body: object = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(url: str, done: Callable[[dict[str, Any]], bool], timeout: float = 5.0
              ) -> dict[str, Any]:
    """GET /stats every 20 ms until ``done(stats)`` or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        status, stats = _request(url + "/stats")
        assert status == 200
        if done(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)


def test_orders_are_accepted_processed_dead_lettered_and_drained_on_sigterm(
        service: tuple[subprocess.Popen[str], str]) -> None:
    process, url = service
    ids = set()
    for order in [{"id": i, "item": "book"} for i in range(1, 6)] + [{"id": 6, "fail": True}]:
        status, reply = _request(url + "/orders", order)
        assert status == 202 and set(reply) == {"message_id"}
        ids.add(reply["message_id"])
    assert len(ids) == 6
    assert _request(url + "/orders", b"not json") == (400, {"error": "the body is not JSON"})
    assert _request(url + "/orders", [1, 2]) == (400, {"error": "the body must be a JSON object"})
    assert _request(url + "/nowhere") == (404, {"error": "no such resource: /nowhere"})

    stats = _wait_for(url, lambda s: s["dead_lettered"] == 1)
    assert {k: stats[k] for k in ("accepted", "processed", "failed_attempts", "dead_lettered",
                                  "waiting", "in_flight", "lost")} == {
        "accepted": 6, "processed": 5, "failed_attempts": 2, "dead_lettered": 1, "waiting": 0,
        "in_flight": 0, "lost": 0}

    # An order still being worked on when SIGTERM comes is finished, not dropped.
    assert _request(url + "/orders", {"id": 7, "seconds": 0.3})[0] == 202
    assert _wait_for(url, lambda s: s["working"] == 1)["working"] == 1
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=5)
    assert process.returncode == 0, err
    assert out.splitlines() == [
        "stopping: no new orders; draining the workers",
        "stopped: accepted=7, processed=6, dead_lettered=1, waiting=0, in_flight=0, lost=0, "
        "still_running=0",
    ]
