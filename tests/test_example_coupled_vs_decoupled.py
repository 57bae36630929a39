"""examples/coupled_vs_decoupled.py: the coupled design loses half the burst, the queue none."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "coupled_vs_decoupled.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coupled_vs_decoupled_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("coupled_vs_decoupled_example", module)
    spec.loader.exec_module(module)
    return module


def test_coupled_vs_decoupled_tallies(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    # 8 orders a second against 4 workers at 1 s each: in every second the first 4 orders find
    # a free worker (the ones that arrive as a worker frees up included) and the other 4 fail.
    assert figures == {
        "coupled": {"processed": 60, "lost": 60, "first_lost": 4, "last_done": 15.375},
        "decoupled": {"processed": 120, "lost": 0, "peak_waiting": 60, "last_done": 30.375},
    }
    assert capsys.readouterr().out.splitlines() == [
        "burst: 120 orders in 15 s (8 a second); the app tier has 4 workers at 1.0 s an order "
        "(4 a second)",
        "coupled (the web tier calls the app tier directly):",
        "  processed 60, lost 60 (the first at order 4: the app tier was at capacity)",
        "  last order done at t=15.4 s",
        "decoupled (a queue between the tiers):",
        "  processed 120, lost 0; up to 60 orders waited in the queue",
        "  last order done at t=30.4 s",
    ]
