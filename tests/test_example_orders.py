"""examples/orders.py runs and reports what happened, exactly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "orders.py"


def load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("orders_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("orders_example", module)
    spec.loader.exec_module(module)
    return module


def test_orders_summary(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    summary = load_example().main()
    assert time.monotonic() - started < 30.0  # 90 s of virtual time, not waited in real time
    assert summary == {"accepted": 5, "processed": 4, "dead_lettered": 1, "lost": 0}
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "web tier: accepted 5 orders, queue holds 5",
        "worker-a: took order 1 and crashed",
        "worker-b: processed order 2",
        "worker-b: order 3 failed (receive #1)",
        "worker-b: processed order 4",
        "worker-b: processed order 5",
        "t=30s: 2 visible",
        "worker-b: order 3 failed (receive #2)",
        "worker-b: processed order 1",
        "t=60s: 1 visible",
        "worker-b: order 3 failed (receive #3)",
        "t=90s: 1 visible",
        "dead-letter queue holds: ['3']",
        "summary: accepted=5, processed=4, dead_lettered=1, lost=0",
    ]
