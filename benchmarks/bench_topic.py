"""Topic fan-out: publishes per second to 1, 10 and 100 SQS subscribers, with and without a
5-key filter policy on every subscription, beside plain ``Queue.send`` measured in the same run.

Every publish carries 5 message attributes; each subscription's filter policy is different
(so each is evaluated: no two subscriptions share a compiled policy) and every one matches, so
all subscribers get every message, as an SNS notification envelope in their queue. Each figure
is the median of 5 repetitions after a warm-up, each on fresh queues, timed in process CPU
time (``time.process_time``): the benchmark is single-threaded, and CPU time keeps the figures
meaningful on a machine shared with other work.

Targets (issue #4): 10 subscribers >= 25,000 publishes/s; with filters >= 60% of that.

Run: ``python benchmarks/bench_topic.py`` (about 20 seconds).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from _harness import emit, fmt, table

import decoupling as dc

REPEATS = 5
BODY = '{"order": "1042", "item": "book", "qty": 2}'
ATTRIBUTES = {"store": "all", "kind": "book", "price": 10, "region": "eu-west", "vip": "y"}


def measure(setup: Callable[[], Any], run: Callable[[Any, int], None], n: int) -> float:
    """Median of ``n / CPU seconds`` over REPEATS runs of ``run(state, n)`` after one warm-up;
    each run gets a fresh ``setup()`` (not timed)."""
    run(setup(), max(1, n // 10))
    rates = []
    for _ in range(REPEATS):
        state = setup()
        gc.collect()
        start = time.process_time()
        run(state, n)
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates)


def queue_setup() -> dc.Queue:
    return dc.Queue(dc.EventLoop(clock=dc.ManualClock()), "plain")


def queue_run(queue: dc.Queue, n: int) -> None:
    send = queue.send
    for _ in range(n):
        send(BODY)


def topic_setup(subscribers: int, filtered: bool) -> Callable[[], dc.Topic]:
    def setup() -> dc.Topic:
        loop = dc.EventLoop(clock=dc.ManualClock())
        topic = dc.Topic(loop, "orders")
        for i in range(subscribers):
            policy = None
            if filtered:
                policy = {
                    "store": [f"store-{i}", "all"],
                    "kind": ["book", f"kind-{i}"],
                    "price": [{"numeric": [">", i % 5, "<=", 1000]}],
                    "region": [{"prefix": "eu"}],
                    "vip": [{"exists": True}],
                }
            topic.subscribe(dc.Queue(loop, f"q{i}"), filter_policy=policy)
        return topic

    return setup


def topic_run(topic: dc.Topic, n: int) -> None:
    publish = topic.publish
    for _ in range(n):
        publish(BODY, message_attributes=ATTRIBUTES)


def main() -> None:
    started = time.perf_counter()
    baseline = measure(queue_setup, queue_run, 20_000)
    results: dict[tuple[int, bool], float] = {}
    for subscribers, n in ((1, 10_000), (10, 3_000), (100, 400)):
        for filtered in (False, True):
            results[(subscribers, filtered)] = measure(
                topic_setup(subscribers, filtered), topic_run, n
            )
    ten, ten_filtered = results[(10, False)], results[(10, True)]
    rows = [("what", "publishes/s", "deliveries/s"),
            ("Queue.send (baseline)", fmt(baseline), fmt(baseline))]
    for (subscribers, filtered), value in results.items():
        label = f"publish -> {subscribers} queue{'s' if subscribers > 1 else ''}"
        label += ", 5-key filter each" if filtered else ""
        rows.append((label, fmt(value), fmt(value * subscribers)))
    table("Topic fan-out (5 attributes per publish; every subscriber matches)", rows)
    table("Against the targets", [
        ("figure", "measured", "target"),
        ("10 subscribers", fmt(ten), "25,000/s on the reference machine (run_all scales it)"),
        ("10 subscribers, filtered / unfiltered", f"{ten_filtered / ten:.0%}", ">= 60%"),
        ("10 subscribers vs Queue.send", f"{ten / baseline:.1%}", ""),
    ])
    print(f"\n(finished in {time.perf_counter() - started:.1f} s)")
    emit(
        "topic",
        queue_send_per_s=round(baseline),
        publish_1_per_s=round(results[(1, False)]),
        publish_10_per_s=round(ten),
        publish_100_per_s=round(results[(100, False)]),
        publish_1_filtered_per_s=round(results[(1, True)]),
        publish_10_filtered_per_s=round(ten_filtered),
        publish_100_filtered_per_s=round(results[(100, True)]),
        filtered_ratio_10=round(ten_filtered / ten, 3),
    )


if __name__ == "__main__":
    main()
