"""The visibility ledger alone: send -> receive -> delete cycles with many messages in flight.

Figures: cycles per second with 1e3 and 1e6 other messages in flight (O(log n) shown, not
claimed: the 1e6 figure should stay >= 80% of the 1e3 one), beside a ``collections.deque``
append/popleft baseline measured in the same run.

Run: ``python benchmarks/bench_core.py`` (about 30 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import sys
from collections import deque

from _harness import emit, fmt, rate, table

from decoupling._core.ledger import Ledger

CYCLES = 200_000


def _ledger_with_in_flight(in_flight: int) -> Ledger:
    ledger = Ledger(345_600.0, "bench/")
    for i in range(in_flight):
        ledger.enqueue(i, 0.0)
    # Receive everything with a long timeout: it stays in flight while the cycles run.
    while ledger.n_visible:
        ledger.receive(0.0, 10, 43_200.0)
    return ledger


def core_cycles(in_flight: int, cycles: int) -> float:
    ledger = _ledger_with_in_flight(in_flight)
    enqueue, receive, remove = ledger.enqueue, ledger.receive, ledger.remove

    def run() -> int:
        for i in range(cycles):
            enqueue(i, 1.0)
            received, _ = receive(1.0, 1, 30.0)
            remove(received[0])
        return cycles

    figure = rate(run)
    assert ledger.n_inflight == in_flight
    return figure


def deque_cycles(cycles: int) -> float:
    d: deque[int] = deque()

    def run() -> int:
        append, popleft = d.append, d.popleft
        for i in range(cycles):
            append(i)
            popleft()
        return cycles

    return rate(run)


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    cycles = CYCLES // 4 if quick else CYCLES
    big = 100_000 if quick else 1_000_000
    small_rate = core_cycles(1_000, cycles)
    big_rate = core_cycles(big, cycles)
    baseline = deque_cycles(cycles * 5)
    ratio = big_rate / small_rate
    table(
        "Visibility ledger: send -> receive -> delete cycles (median of 5)",
        [
            ("case", "cycles/s", "baseline / target"),
            ("1e3 in flight", fmt(small_rate), "target >= 300,000/s"),
            (f"{big:.0e} in flight", fmt(big_rate), f"{ratio:.0%} of 1e3 (target >= 80%)"),
            ("deque append+popleft", fmt(baseline), f"ledger is {baseline / small_rate:.0f}x slower"),
        ],
    )
    figures = {
        "cycles_per_s_1e3_in_flight": round(small_rate),
        "cycles_per_s_big_in_flight": round(big_rate),
        "big_in_flight": big,
        "ratio_big_to_small": round(ratio, 3),
        "deque_ops_per_s": round(baseline),
    }
    emit("core", **figures)
    return figures


if __name__ == "__main__":
    main()
