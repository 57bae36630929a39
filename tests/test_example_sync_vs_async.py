"""examples/sync_vs_async.py: the web tier's response time in both designs, exactly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sync_vs_async.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_vs_async_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sync_vs_async_example", module)
    spec.loader.exec_module(module)
    return module


def test_sync_vs_async_response_times(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    # 40 orders, 4 workers, 0.5 s each: 10 rounds, so the last finishes at 1.95 + 3.2 = 5.15 s
    # (order 39 arrives at 1.95 s and waits 2.7 s for a worker) in both designs.
    assert figures == {
        "sync": {"response": {"fastest": 0.5, "median": 1.85, "slowest": 3.2},
                 "peak_open_requests": 28, "last_done": 5.15},
        "async": {"response": {"fastest": 0.02, "median": 0.02, "slowest": 0.02},
                  "peak_open_requests": 1, "longest_queue_wait": 2.7, "last_done": 5.15},
    }
    assert capsys.readouterr().out.splitlines() == [
        "burst: 40 orders in 2 s (20 a second); the app tier has 4 workers at 0.5 s an order "
        "(8 a second)",
        "sync (the web tier waits until the app tier has processed the order):",
        "  response time: fastest 0.50 s, median 1.85 s, slowest 3.20 s",
        "  the web tier held up to 28 requests open at once",
        "  last order processed at t=5.15 s",
        "async (the web tier waits only for SendMessage, 0.02 s):",
        "  response time: fastest 0.02 s, median 0.02 s, slowest 0.02 s",
        "  the web tier held up to 1 request open at once",
        "  orders waited in the queue up to 2.70 s; last order processed at t=5.15 s",
    ]
