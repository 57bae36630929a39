"""examples/visibility_and_dlq.py: heartbeat vs none, a poison message to the DLQ and back."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "visibility_and_dlq.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("visibility_and_dlq_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("visibility_and_dlq_example", module)
    spec.loader.exec_module(module)
    return module


def test_visibility_and_dlq(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    assert figures == {
        # B polls at 10 and 20 s (nothing), takes the job at 30 s, then is busy.
        "without_heartbeat": {"runs": 2, "extensions": 0, "empty_polls_b": 2,
                              "left_in_queue": 1},
        # Heartbeats at 20, 40, 60, 80 s; B polls at 10..90 s and never sees the job.
        "with_heartbeat": {"runs": 1, "extensions": 4, "empty_polls_b": 9, "left_in_queue": 0},
        "poison": {"processed": ["o-1", "o-2", "o-4", "o-3"], "failures": 3, "moved": 1,
                   "task": "COMPLETED", "o-3 message ids": 2, "left": 0},
    }
    assert capsys.readouterr().out.splitlines() == [
        '1. a 100 s job on a queue with a 30 s visibility timeout',
        '  without a heartbeat:',
        '    t=0 s: worker A starts the job (receive #1)',
        '    t=30 s: visible again; worker B starts the same job (receive #2)',
        '    t=100 s: worker A deletes with its receipt handle #1: 1 left in the queue (a stale handle: the delete succeeds and does nothing)',
        "    the job ran 2 times; worker B's polls found nothing 2 times",
        '  with a heartbeat:',
        '    t=0 s: worker A starts the job (receive #1)',
        '    t=20 s: worker A extends the visibility timeout: hidden until t=50 s',
        '    t=40 s: worker A extends the visibility timeout: hidden until t=70 s',
        '    t=60 s: worker A extends the visibility timeout: hidden until t=90 s',
        '    t=80 s: worker A extends the visibility timeout: hidden until t=110 s',
        '    t=100 s: worker A deletes with its receipt handle #1: 0 left in the queue',
        "    the job ran 1 time; worker B's polls found nothing 9 times",
        '2. orders with a dead-letter queue (maxReceiveCount 3)',
        '  a poison message:',
        '    t=0 s: processed o-1 (quantity 1, receive #1)',
        '    t=0 s: processed o-2 (quantity 2, receive #1)',
        "    t=0 s: o-3 failed on receive #1 (quantity 'two'); not deleted",
        '    t=0 s: processed o-4 (quantity 1, receive #1)',
        "    t=30 s: o-3 failed on receive #2 (quantity 'two'); not deleted",
        "    t=60 s: o-3 failed on receive #3 (quantity 'two'); not deleted",
        '    t=90 s: nothing received',
        '    orders-dlq holds 1: o-3 (from orders, moved there by the receive at t=90 s); orders holds 0',
        '  t=120 s: the fix is deployed; a message move task sends the dead letters back:',
        '    move task COMPLETED: 1 of 1 moved back to orders (with a new MessageId)',
        '    t=120 s: processed o-3 (quantity 2, receive #1)',
        '    orders holds 0, orders-dlq holds 0; processed o-1, o-2, o-4, o-3',
    ]
