"""Response time seen by the web tier: waiting for the work (sync) or only for the enqueue (async).

The same burst of 40 orders (20 a second for 2 s) meets the same app tier, 4 workers at 0.5 s an
order (8 a second), on virtual time:

* **Sync.** The web tier calls the app tier and waits for the answer. Requests the app tier
  cannot start at once wait in its backlog, and the customer waits with them: the response time
  is the wait plus the processing.
* **Async.** The web tier sends the order to the ``orders`` queue and answers at once; its wait
  is one SendMessage round trip (taken here as 20 ms: on virtual time the send itself takes no
  time). The same 4 workers (a :class:`~decoupling.ConsumerPool` fixed at 4) process the queue.

Both designs do the same work in the same time; what changes is who waits for it, and how many
requests the web tier holds open.

Run: ``python examples/sync_vs_async.py`` (well under a second).
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from typing import Any

import decoupling as dc

ORDERS = 40
PER_SECOND = 20
WORKERS = 4
SECONDS_PER_ORDER = 0.5
#: One SendMessage round trip as the async web tier sees it (an assumption, in seconds).
ENQUEUE_SECONDS = 0.02


def arrivals(loop: dc.EventLoop, place_order: Callable[[int], None]) -> None:
    """Call ``place_order(n)`` for orders 0..ORDERS-1, one every 1/PER_SECOND seconds."""

    def arrive(n: int) -> None:
        place_order(n)
        if n + 1 < ORDERS:
            loop.call_later(1 / PER_SECOND, lambda: arrive(n + 1))

    loop.call_later(0, lambda: arrive(0))


def spread(values: list[float]) -> dict[str, float]:
    return {"fastest": round(min(values), 3), "median": round(statistics.median(values), 3),
            "slowest": round(max(values), 3)}


def sync() -> dict[str, Any]:
    """The web tier calls the app tier and waits; the app tier takes requests in arrival order."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    backlog: deque[tuple[int, float]] = deque()
    busy = 0
    response: list[float] = []
    open_requests = peak_open = 0
    last_done = 0.0

    def start_next() -> None:
        nonlocal busy
        while busy < WORKERS and backlog:
            busy += 1
            _, arrived = backlog.popleft()
            loop.call_later(SECONDS_PER_ORDER, lambda arrived=arrived: finish(arrived))

    def finish(arrived: float) -> None:
        nonlocal busy, open_requests, last_done
        busy -= 1
        now = loop.clock.now()
        response.append(now - arrived)  # the answer reaches the customer only now
        open_requests -= 1
        last_done = now
        start_next()

    def place_order(n: int) -> None:
        nonlocal open_requests, peak_open
        open_requests += 1
        peak_open = max(peak_open, open_requests)
        backlog.append((n, loop.clock.now()))
        start_next()

    arrivals(loop, place_order)
    loop.run_until_idle()
    return {"response": spread(response), "peak_open_requests": peak_open,
            "last_done": round(last_done, 3)}


def asynchronous() -> dict[str, Any]:
    """The web tier enqueues and answers; a fixed pool of 4 workers drains the queue."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    orders = dc.Queue(loop, "orders")
    response: list[float] = []
    waited: list[float] = []
    done_at: list[float] = []
    open_requests = peak_open = 0

    def answer(arrived: float) -> None:
        nonlocal open_requests
        open_requests -= 1
        response.append(loop.clock.now() - arrived)

    def place_order(n: int) -> None:
        nonlocal open_requests, peak_open
        open_requests += 1
        peak_open = max(peak_open, open_requests)
        orders.send(f"order {n}")
        # The answer goes out once SendMessage's round trip is over.
        arrived = loop.clock.now()
        loop.call_later(ENQUEUE_SECONDS, lambda: answer(arrived))

    def process(message: dc.Message) -> None:
        now = loop.clock.now()
        sent = int(message.attributes["SentTimestamp"]) / 1000
        waited.append(loop.clock.wall() - sent)  # time in the queue, unseen by the customer
        done_at.append(now + SECONDS_PER_ORDER)

    pool = dc.ConsumerPool(orders, process, min_workers=WORKERS, max_workers=WORKERS,
                           batch_size=1, processing_time=SECONDS_PER_ORDER)
    arrivals(loop, place_order)
    loop.run_until_idle()
    pool.stop()
    return {"response": spread(response), "peak_open_requests": peak_open,
            "longest_queue_wait": round(max(waited), 3), "last_done": round(max(done_at), 3)}


def main() -> dict[str, dict[str, Any]]:
    print(f"burst: {ORDERS} orders in {ORDERS / PER_SECOND:.0f} s ({PER_SECOND} a second); "
          f"the app tier has {WORKERS} workers at {SECONDS_PER_ORDER} s an order "
          f"({WORKERS / SECONDS_PER_ORDER:.0f} a second)")
    waits = sync()
    r = waits["response"]
    print("sync (the web tier waits until the app tier has processed the order):")
    print(f"  response time: fastest {r['fastest']:.2f} s, median {r['median']:.2f} s, "
          f"slowest {r['slowest']:.2f} s")
    print(f"  the web tier held up to {waits['peak_open_requests']} requests open at once")
    print(f"  last order processed at t={waits['last_done']:.2f} s")
    queued = asynchronous()
    r = queued["response"]
    print(f"async (the web tier waits only for SendMessage, {ENQUEUE_SECONDS} s):")
    print(f"  response time: fastest {r['fastest']:.2f} s, median {r['median']:.2f} s, "
          f"slowest {r['slowest']:.2f} s")
    print(f"  the web tier held up to {queued['peak_open_requests']} request open at once")
    print(f"  orders waited in the queue up to {queued['longest_queue_wait']:.2f} s; "
          f"last order processed at t={queued['last_done']:.2f} s")
    return {"sync": waits, "async": queued}


if __name__ == "__main__":
    main()
