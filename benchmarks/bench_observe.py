"""Observability on vs off: the single-message cycle with Metrics, RequestMeter and Journal.

Each contender runs send -> receive -> delete cycles (100-byte bodies) on its own loop and
ManualClock:

* ``off`` — nothing attached (the queue pays one ``if`` per call);
* ``tap`` — the tap alone (what the queue's hooks cost before any instrument does anything);
* ``metrics``, ``journal``, ``meter`` — one instrument each;
* ``on`` — ``Metrics`` (period 60), ``Journal`` (10,000 events) and ``RequestMeter`` together.

All run in the same interleaved rounds (each round runs every contender once, seconds apart),
and each figure is the median over rounds of a contender's rate divided by ``off``'s in the
same round, so the ratio holds while a shared machine's speed drifts. Issue #23's goal:
``on`` >= 0.7x ``off``. Before issue #23's second round: 0.28-0.33x (per-event points, a
JournalEvent object per event, a dictionary key per request); then 0.47-0.57x; with the tap
keeping a quiet queue's plain paths (one call a request, no observer event per message), about
0.55-0.64x on a loaded 2-core machine (instructions per cycle: 69.6k off, 110k -> 92.6k on).

Run: ``python benchmarks/bench_observe.py`` (about 12 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable

from _harness import emit, fmt, interleaved, paired_ratio, table

import decoupling as dc
from decoupling.observe._tap import Tap

BODY = "x" * 100
CONTENDERS = ("off", "tap", "metrics", "journal", "meter", "on")


def cycles(kind: str, n: int) -> Callable[[], int]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    if kind in ("metrics", "on"):
        dc.Metrics(loop)
    if kind in ("journal", "on"):
        dc.Journal(loop, max_entries=10_000)
    if kind in ("meter", "on"):
        dc.RequestMeter(loop)
    if kind == "tap":
        Tap.attach(loop)
    q = dc.Queue(loop, f"observe-{kind}")
    send, receive, delete = q.send, q.receive, q.delete

    def run() -> int:
        for _ in range(n):
            send(BODY)
            delete(receive()[0].receipt_handle)
        return n

    return run


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    n = 5_000 if quick else 8_000
    rounds = 7 if quick else 11
    samples = interleaved({kind: cycles(kind, n) for kind in CONTENDERS}, rounds=rounds)
    rates = {kind: statistics.median(samples[kind]) for kind in CONTENDERS}
    ratios = {kind: paired_ratio(samples, kind, "off") for kind in CONTENDERS}
    rows = [("contender", "cycles/s (median)", "x off (median of per-round ratios)")]
    for kind in CONTENDERS:
        target = "; target >= 0.70x" if kind == "on" else ""
        rows.append((kind, fmt(rates[kind]), f"{ratios[kind]:.2f}x{target}"))
    table(f"Single send -> receive -> delete cycles, observability off vs on ({rounds} "
          "interleaved rounds)", rows)
    figures: dict[str, float] = {
        "off_cycles_per_s": round(rates["off"]),
        "on_cycles_per_s": round(rates["on"]),
        "on_vs_off": round(ratios["on"], 3),
        "tap_vs_off": round(ratios["tap"], 3),
        "metrics_vs_off": round(ratios["metrics"], 3),
        "journal_vs_off": round(ratios["journal"], 3),
        "meter_vs_off": round(ratios["meter"], 3),
    }
    emit("observe", **figures)
    return figures


if __name__ == "__main__":
    main()
