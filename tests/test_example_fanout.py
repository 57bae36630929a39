"""examples/fanout.py runs and reports what each consumer got, exactly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fanout.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fanout_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fanout_example", module)
    spec.loader.exec_module(module)
    return module


def test_fanout_output(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    got = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    assert got == {
        "inventory": ["order 1: reserve 1 book", "order 2: reserve 1 pen",
                      "order 3: reserve 1 lamp"],
        "billing": ["order 1: charge 12.5", "order 3: charge 40.0"],
        "email": ["Order 1 placed", "Order 2 placed", "Order 3 placed"],
    }
    assert capsys.readouterr().out.splitlines() == [
        "email: SubscriptionConfirmation sent to ops@example.com",
        "email: confirmed (pending=False)",
        "inventory: order 1 (book, paid by card)",
        "inventory: order 2 (pen, paid by invoice)",
        "inventory: order 3 (lamp, paid by card)",
        "billing: charge 12.5 for order 1 (subject 'Order 1 placed')",
        "billing: charge 40.0 for order 3 (subject 'Order 3 placed')",
        "email to ops@example.com: Order 1 placed",
        "email to ops@example.com: Order 2 placed",
        "email to ops@example.com: Order 3 placed",
    ]
