"""Shared helpers for the benchmark scripts: repetition, medians, the table and the JSON line."""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Let every script run from a checkout without installing (python benchmarks/bench_x.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEATS = 5


def rate(fn: Callable[[], int], repeats: int = REPEATS) -> float:
    """Median operations per second of ``fn`` (which returns how many operations it did),
    over ``repeats`` runs after one warm-up run. The garbage collector runs between runs.

    Single-threaded figures are timed in this process's CPU seconds (``time.process_time``),
    so other work on a shared 2-core machine does not count against them; real-clock and
    threaded benchmarks time wall seconds themselves."""
    fn()
    results = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        ops = fn()
        elapsed = time.process_time() - start
        results.append(ops / elapsed)
    return statistics.median(results)


def table(title: str, rows: list[tuple[str, str, str]]) -> None:
    """Print a three-column table: what, figure, and the baseline or target beside it."""
    print(f"\n{title}")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


def fmt(value: float, unit: str = "/s") -> str:
    """A rate with thousands separators."""
    return f"{value:,.0f}{unit}"


def emit(name: str, **figures: float | str | bool) -> None:
    """Print the last line: one JSON object of this benchmark's figures."""
    print(json.dumps({"benchmark": name, **figures}))
