"""Benchmark: events per second through an SQS event source mapping, and invoke overhead.

Figures (median of 5 runs after a warm-up, on a ManualClock):

* events/s through an event source mapping at batch size 1 and 10, handlers run in the worker
  pool (``isolation="thread"``, the default) and inline; sending the messages is not timed;
* the baseline beside them: the same handler called directly on the same records (what the
  mapping adds is receive, record building, invocation bookkeeping, metering and delete);
* per-invocation overhead of ``runtime.invoke`` (RequestResponse) against a direct call.

The mapping's batch-10 inline figure is also taken as a ratio to ``queue.Queue`` put+get timed
right after each run (``esm_batch10_inline_vs_queue_queue``, the median of per-run ratios):
issue #5's 50,000 events/s on issue #9's reference machine (``queue.Queue`` 1.1M/s) is a ratio
of 0.0455 here (issue #23 keeps absolute targets only as ratios to a peer in the same rounds).

Prints a table, then one JSON line ``{"benchmark": "functions", ...}``. Runs in well under 60 s
(``--quick``: 3 runs each).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _harness import REFERENCE_STDLIB_RATE, emit, yardstick

import decoupling as dc
from decoupling.functions.event_sources import sqs_record

REPS = 3 if "--quick" in sys.argv else 5


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    total = 0
    for record in event["Records"]:
        total += len(record["body"])
    return {"batchItemFailures": []}


def median_time(run: Callable[[], float]) -> float:
    run()  # warm-up
    return statistics.median(run() for _ in range(REPS))


def paired_with_yardstick(run: Callable[[], float], n: int) -> tuple[float, float]:
    """Median ``n / seconds`` of ``run`` and the median over runs of that rate divided by
    ``queue.Queue`` put+get's rate timed right after it (wall seconds both)."""
    yard = yardstick(30_000)
    run()
    yard()  # warm-ups
    rates, ratios = [], []
    for _ in range(REPS):
        rate = n / run()
        started = time.perf_counter()
        ops = yard()
        rates.append(rate)
        ratios.append(rate / (ops / (time.perf_counter() - started)))
    return statistics.median(rates), statistics.median(ratios)


def mapping_run(n: int, batch: int, isolation: str) -> float:
    loop = dc.EventLoop(clock=dc.ManualClock())
    runtime = dc.FunctionRuntime(loop, isolation=isolation, keep_records=1000)
    queue = dc.Queue(loop, "bench", visibility_timeout=300)
    runtime.register("h", handler)
    for i in range(0, n, 10):
        queue.send_batch([f"order-{j}" for j in range(i, i + 10)])
    runtime.add_event_source(queue, "h", batch_size=batch, report_batch_item_failures=True,
                             maximum_batching_window=1 if batch > 10 else 0)
    started = time.perf_counter()
    loop.run_until_idle()
    elapsed = time.perf_counter() - started
    assert len(queue) == 0
    runtime.close()
    return elapsed


def direct_run(n: int, batch: int) -> float:
    loop = dc.EventLoop(clock=dc.ManualClock())
    queue = dc.Queue(loop, "bench", visibility_timeout=300)
    for i in range(0, n, 10):
        queue.send_batch([f"order-{j}" for j in range(i, i + 10)])
    messages = []
    while True:
        got = queue.receive(10, wait_seconds=0)
        if not got:
            break
        messages.extend(got)
    events = [{"Records": [sqs_record(m, queue.arn, "us-east-1", False)
                           for m in messages[i:i + batch]]} for i in range(0, n, batch)]
    started = time.perf_counter()
    for event in events:
        handler(event, None)
    return time.perf_counter() - started


def invoke_run(n: int, isolation: str) -> float:
    loop = dc.EventLoop(clock=dc.ManualClock())
    runtime = dc.FunctionRuntime(loop, isolation=isolation, keep_records=1000)
    runtime.register("h", lambda e, c: e)
    started = time.perf_counter()
    for i in range(n):
        runtime.invoke("h", i)
    elapsed = time.perf_counter() - started
    runtime.close()
    return elapsed


def direct_call_run(n: int) -> float:
    fn = lambda e, c: e  # noqa: E731
    started = time.perf_counter()
    for i in range(n):
        fn(i, None)
    return time.perf_counter() - started


def main() -> dict[str, Any]:
    rows: list[tuple[str, float, float]] = []
    results: dict[str, Any] = {"reps": REPS}
    for batch, n in ((1, 1_000), (10, 5_000)):
        direct = n / median_time(lambda n=n, batch=batch: direct_run(n, batch))
        results[f"direct_events_per_s_batch{batch}"] = round(direct)
        for isolation in ("thread", "inline"):
            runner = lambda n=n, batch=batch, isolation=isolation: mapping_run(  # noqa: E731
                n, batch, isolation)
            if (batch, isolation) == (10, "inline"):
                rate, ratio = paired_with_yardstick(runner, n)
                results["esm_batch10_inline_vs_queue_queue"] = round(ratio, 5)
                print(f"ESM batch 10 (inline) vs queue.Queue put+get: {ratio:.4f}x "
                      f"(target >= {50_000 / REFERENCE_STDLIB_RATE:.4f}x: 50,000/s at 1.1M/s)")
            else:
                rate = n / median_time(runner)
            rows.append((f"ESM batch {batch:>2} ({isolation})", rate, direct))
            results[f"esm_events_per_s_batch{batch}_{isolation}"] = round(rate)
    n = 1_000
    direct_us = median_time(lambda: direct_call_run(n)) / n * 1e6
    results["direct_call_us"] = round(direct_us, 3)
    for isolation in ("thread", "inline"):
        invoke_us = median_time(lambda isolation=isolation: invoke_run(n, isolation)) / n * 1e6
        results[f"invoke_us_{isolation}"] = round(invoke_us, 1)
        rows.append((f"invoke() us/call ({isolation})", invoke_us, direct_us))
    print(f"{'measure':<28} {'figure':>14} {'baseline (direct)':>18}")
    print("-" * 62)
    for name, figure, base in rows:
        print(f"{name:<28} {figure:>14,.1f} {base:>18,.2f}")
    emit("functions", **results)
    return results


if __name__ == "__main__":
    main()
