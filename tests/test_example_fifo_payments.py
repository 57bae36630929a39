"""examples/fifo_payments.py runs and reports what happened, exactly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fifo_payments.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fifo_payments_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fifo_payments_example", module)
    spec.loader.exec_module(module)
    return module


def test_fifo_payments(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.process_time()
    summary = load_example().main()
    assert time.process_time() - started < 5.0  # 30 s of virtual time: no spinning
    assert summary == {
        "balances": {"alice": 120, "bob": 125},
        "applied": ["tx-1", "tx-4", "tx-5", "tx-2", "tx-3"],
        "duplicates_ignored": 1,
        "left_in_queue": 0,
    }
    assert capsys.readouterr().out.splitlines() == [
        "t=0s: the service submits five transactions",
        "  worker: applied tx-1 +100 to alice (receive #1), balance 100",
        "  worker: tx-2 for alice failed (ledger database timed out); alice's later updates "
        "wait for the retry",
        "  worker: applied tx-4 +200 to bob (receive #1), balance 200",
        "  worker: applied tx-5 -75 to bob (receive #1), balance 125",
        "t=10s: a client resubmits tx-2",
        "  queue: accepted as a duplicate (same MessageId: True); 2 messages held",
        "  nothing for alice yet: 2 of her messages in flight",
        "t=30s: the visibility timeout ends",
        "  worker: applied tx-2 -30 to alice (receive #2), balance 70",
        "  worker: applied tx-3 +50 to alice (receive #2), balance 120",
        "final balances: alice 120, bob 125",
        "applied in this order: tx-1, tx-4, tx-5, tx-2, tx-3",
    ]
