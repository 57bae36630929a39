"""examples/long_polling_cost.py: billable receive requests and their cost, short vs long polling."""

from __future__ import annotations

import importlib.util
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "long_polling_cost.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("long_polling_cost_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("long_polling_cost_example", module)
    spec.loader.exec_module(module)
    return module


def test_long_polling_cost(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 60.0  # an hour of virtual time, not waited in real time
    # Short: one receive every 0.05 s for 3,600 s; 3,000 of them find an order (one arrives
    # every 0.2 s). Long: 3,000 receives that return an order at once, plus 20 s waits that end
    # empty while idle (1,800 s before the burst, 1,200 s after).
    assert figures == {
        "short": {"orders": 3000, "receives": 72_000, "empty_receives": 69_000,
                  "requests": 78_000, "receive_cost": Decimal("0.0288"),
                  "cost": Decimal("0.0312"), "slowest_pickup": 0.05},
        "long": {"orders": 3000, "receives": 3149, "empty_receives": 149, "requests": 9149,
                 "receive_cost": Decimal("0.0012596"), "cost": Decimal("0.0036596"),
                 "slowest_pickup": 0.0},
    }
    assert capsys.readouterr().out.splitlines() == [
        "one hour: idle, then 3000 orders from t=1800 s to t=2400 s (5 a second), then"
        " idle; a request takes 0.05 s",
        "price: $0.40 per million requests (empty receives included)",
        "short polling (WaitTimeSeconds=0):",
        "  72,000 receive requests, 69,000 of them empty: $0.028800",
        "  all requests (sends and deletes too): 78,000, $0.031200; every order picked up"
        " within 0.05 s",
        "long polling (WaitTimeSeconds=20):",
        "  3,149 receive requests, 149 of them empty: $0.001260",
        "  all requests (sends and deletes too): 9,149, $0.003660; every order picked up"
        " within 0.00 s",
        "long polling made 22.9 times fewer receive requests",
        "a 30-day month of such hours: short polling $22.46 (receives $20.74), long"
        " polling $2.63 (receives $0.91)",
    ]
