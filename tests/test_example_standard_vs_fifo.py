"""examples/standard_vs_fifo.py: a retried send and a failed message on a standard and a FIFO queue, then seeded chaos on the standard queue."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "standard_vs_fifo.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standard_vs_fifo_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("standard_vs_fifo_example", module)
    spec.loader.exec_module(module)
    return module


def test_standard_vs_fifo(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    received = ["tx-1", "tx-3", "tx-4", "tx-2", "tx-5", "tx-2 (again, t=28 s)"]
    assert figures == {
        "expected_balance": 10,
        "standard": {"held": 6, "applied": ["tx-1", "tx-2", "tx-2", "tx-4", "tx-5", "tx-3"],
                     "rejected": [], "balance": 110},
        "fifo": {"held": 5, "applied": ["tx-1", "tx-2", "tx-3", "tx-4", "tx-5"],
                 "rejected": [], "balance": 10},
        # Seeded chaos: the same deliveries for both consumers (the draws happen on sends and
        # deletes, and both delete every message).
        "chaos": {
            "plain": {"received": received, "applied": ["tx-1", "tx-4", "tx-2", "tx-5", "tx-2"],
                      "rejected": ["tx-3"], "skipped": [], "balance": 190, "duplicates": 1,
                      "reordered": 2},
            "idempotent": {"received": received, "applied": ["tx-1", "tx-4", "tx-2", "tx-5"],
                           "rejected": ["tx-3"], "skipped": ["tx-2"], "balance": 90,
                           "duplicates": 1, "reordered": 2},
            "fifo_refused": True,
        },
    }
    assert capsys.readouterr().out.splitlines() == [
        "events for acct-1: tx-1 open 0, tx-2 deposit 100, tx-3 withdraw 80, tx-4 deposit"
        " 50, tx-5 withdraw 60 (the balance should end at 10)",
        "standard queue (at-least-once, best-effort order):",
        "  sent 5 events plus one retried send: the queue holds 6",
        "  t=0 s: received tx-1, tx-2, tx-2, tx-3, tx-4, tx-5",
        "  t=0 s: tx-3 withdraw 80 failed (ledger down): not deleted, it comes back after"
        " its visibility timeout",
        "  t=30 s: received tx-3",
        "  applied in this order: tx-1, tx-2, tx-2, tx-4, tx-5, tx-3",
        "  final balance 110",
        "FIFO queue (exactly-once, ordered within the message group):",
        "  sent 5 events plus one retried send: the queue holds 5",
        "  t=0 s: received tx-1, tx-2, tx-3, tx-4, tx-5",
        "  t=0 s: tx-3 withdraw 80 failed (ledger down): not deleted, it comes back after"
        " its visibility timeout",
        "  t=30 s: received tx-3, tx-4, tx-5",
        "  applied in this order: tx-1, tx-2, tx-3, tx-4, tx-5",
        "  final balance 10",
        "standard queue with Chaos(seed=14, duplicate_rate=0.2, reorder=True,"
        " reorder_window=2); nothing fails:",
        "  received tx-1, tx-3, tx-4, tx-2, tx-5, tx-2 (again, t=28 s)",
        "  (2 sends landed early, 1 deleted message came back)",
        "  a plain consumer: final balance 190; rejected tx-3",
        "  a consumer that skips transaction ids it has seen: final balance 90; skipped"
        " tx-2, rejected tx-3",
        "FIFO queue with the same Chaos: refused (Chaos applies to standard queues: FIFO"
        " queues deliver exactly once, in order.)",
    ]
