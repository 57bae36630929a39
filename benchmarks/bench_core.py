"""The visibility ledger alone: send -> receive -> delete cycles with many messages in flight.

Figures: cycles per second with 1e3 and 1e6 other messages in flight (O(log n) shown, not
claimed: the 1e6 figure should stay >= 80% of the 1e3 one), beside a ``collections.deque``
append/popleft baseline measured in the same run.

Run: ``python benchmarks/bench_core.py`` (about 10 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import statistics
import sys
from collections import deque
from collections.abc import Callable

from _harness import REFERENCE_STDLIB_RATE, emit, fmt, interleaved, paired_ratio, table, yardstick

from decoupling._core.ledger import Ledger

CYCLES = 100_000  # ~0.3 s CPU a round per ledger contender


def _ledger_with_in_flight(in_flight: int) -> Ledger:
    ledger = Ledger(345_600.0, "bench/")
    for i in range(in_flight):
        ledger.enqueue(i, 0.0)
    # Receive everything with a long timeout: it stays in flight while the cycles run.
    while ledger.n_visible:
        ledger.receive(0.0, 10, 43_200.0)
    return ledger


def core_cycles(in_flight: int, cycles: int) -> Callable[[], int]:
    ledger = _ledger_with_in_flight(in_flight)
    enqueue, receive, remove = ledger.enqueue, ledger.receive, ledger.remove

    def run() -> int:
        for i in range(cycles):
            enqueue(i, 1.0)
            received, _ = receive(1.0, 1, 30.0)
            remove(received[0])
        assert ledger.n_inflight == in_flight
        return cycles

    return run


def deque_cycles(cycles: int) -> Callable[[], int]:
    d: deque[int] = deque()

    def run() -> int:
        append, popleft = d.append, d.popleft
        for i in range(cycles):
            append(i)
            popleft()
        return cycles

    return run


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    cycles = CYCLES // 4 if quick else CYCLES
    big = 100_000 if quick else 1_000_000
    # Interleaved rounds: the ratios (and the reference-machine equivalent, against the
    # queue.Queue yardstick) are taken within a round, so they hold while the machine drifts.
    samples = interleaved({
        "small": core_cycles(1_000, cycles),
        "big": core_cycles(big, cycles),
        "deque": deque_cycles(cycles * 5),
        "yardstick": yardstick(cycles // 2),
    })
    small_rate, big_rate, baseline = (
        statistics.median(samples[k]) for k in ("small", "big", "deque")
    )
    ratio = paired_ratio(samples, "big", "small")
    small_vs_yardstick = paired_ratio(samples, "small", "yardstick")
    table(
        "Visibility ledger: send -> receive -> delete cycles (median of 5 interleaved rounds)",
        [
            ("case", "cycles/s", "baseline / target"),
            ("1e3 in flight", fmt(small_rate),
             f"{small_vs_yardstick:.3f}x queue.Queue put+get, same rounds "
             f"(target >= {300_000 / REFERENCE_STDLIB_RATE:.3f}x: 300,000/s at 1.1M/s)"),
            (f"{big:.0e} in flight", fmt(big_rate), f"{ratio:.0%} of 1e3 (target >= 80%)"),
            ("deque append+popleft", fmt(baseline), f"ledger is {baseline / small_rate:.0f}x slower"),
        ],
    )
    figures = {
        "cycles_per_s_1e3_in_flight": round(small_rate),
        "cycles_vs_queue_queue": round(small_vs_yardstick, 4),
        "cycles_per_s_big_in_flight": round(big_rate),
        "big_in_flight": big,
        "ratio_big_to_small": round(ratio, 3),
        "deque_ops_per_s": round(baseline),
    }
    emit("core", **figures)
    return figures


if __name__ == "__main__":
    main()
