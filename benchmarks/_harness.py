"""Shared helpers for the benchmark scripts: repetition, medians, the table and the JSON line."""

from __future__ import annotations

import gc
import json
import queue
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Let every script run from a checkout without installing (python benchmarks/bench_x.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEATS = 5

#: ``queue.Queue`` put+get per second on one thread on the reference machine of issue #9 (its
#: stated reference point). Issue #9's absolute targets are kept as ratios to this yardstick run
#: in the same rounds: a target of T/s there is a ratio of T / 1.1M here.
REFERENCE_STDLIB_RATE = 1_100_000


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


def interleaved(contenders: dict[str, Callable[[], int]], rounds: int = REPEATS) -> dict[str, list[float]]:
    """Operations per CPU second of each contender in each of ``rounds`` rounds, after one
    warm-up round; within a round the contenders run one after another (the garbage collector
    runs before each). A ratio taken within one round compares runs seconds apart, so it
    holds while the machine's speed drifts, which a ratio of two medians does not.

    What the contenders hold when the rounds start (a ledger of 1e6 messages, say) is frozen
    (``gc.freeze``) for the rounds: the collection before each run then costs milliseconds,
    not a walk of every held object each time (0.3-0.5 s at 1e6, untimed but most of a
    script's run time). A contender's run is timed as before: held objects are old, and
    steady cycling makes no survivors, so no full collection would walk them in a run."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    gc.collect()
    gc.freeze()
    try:
        for round_ in range(rounds + 1):
            for name, fn in contenders.items():
                gc.collect()
                start = time.process_time()
                ops = fn()
                elapsed = time.process_time() - start
                if round_:
                    samples[name].append(ops / elapsed)
    finally:
        gc.unfreeze()
    return samples


def paired_ratio(samples: dict[str, list[float]], top: str, bottom: str) -> float:
    """The median over rounds of ``top``'s rate divided by ``bottom``'s in the same round."""
    return statistics.median(a / b for a, b in zip(samples[top], samples[bottom], strict=True))


def yardstick(n: int = 50_000) -> Callable[[], int]:
    """The machine yardstick as a contender: ``n`` ``queue.Queue`` put+get pairs on one thread
    (issue #9's reference point: ~1.1M/s on its reference machine)."""
    q: queue.Queue[str] = queue.Queue()
    put, get = q.put, q.get

    def run() -> int:
        for _ in range(n):
            put("x")
            get()
        return n

    return run


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
    """Print the last line: one JSON object of this benchmark's figures (``run_all.py`` reads
    it). Every target is a ratio to a peer measured in the same interleaved rounds, so no
    machine factor is needed (issue #23 dropped the "at reference" scaling)."""
    print(json.dumps({"benchmark": name, **figures}))
