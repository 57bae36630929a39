"""Tightly coupled tiers fail together; a queue between them loses nothing.

The same burst of orders meets the same application tier twice, on virtual time:

* **Coupled.** The web tier calls the app tier directly. The app tier has 4 workers that take
  1 s an order; when all 4 are busy the call fails at once (think HTTP 503), and the web tier has
  nowhere to put the order: it is lost.
* **Decoupled.** The web tier sends each order to the ``orders`` queue and is done. The same
  4 workers (a :class:`~decoupling.ConsumerPool` fixed at 4) receive, process and delete at
  their own pace: the queue holds the excess until they get to it.

The burst is 120 orders in 15 s (8 a second, twice what the app tier can do). Each order
arrives at the tick after the previous one, so a worker that frees up at the very moment an
order arrives takes it.

Run: ``python examples/coupled_vs_decoupled.py`` (well under a second).
"""

from __future__ import annotations

from typing import Any

import decoupling as dc

ORDERS = 120
PER_SECOND = 8
WORKERS = 4
SECONDS_PER_ORDER = 1.0


class AppTierBusy(Exception):
    """Every worker of the app tier is busy: the direct call fails (HTTP 503)."""


class AppTier:
    """The application tier called directly: ``workers`` orders at a time, each taking
    ``seconds_per_order`` virtual seconds; a call with every worker busy raises
    :class:`AppTierBusy`."""

    def __init__(self, loop: dc.EventLoop, workers: int, seconds_per_order: float) -> None:
        self.loop = loop
        self.workers = workers
        self.seconds_per_order = seconds_per_order
        self.busy = 0
        self.processed = 0
        self.last_done = 0.0

    def handle(self, order: int) -> None:
        if self.busy == self.workers:
            raise AppTierBusy(f"order {order}: all {self.workers} workers busy")
        self.busy += 1
        self.loop.call_later(self.seconds_per_order, self._done)

    def _done(self) -> None:
        self.busy -= 1
        self.processed += 1
        self.last_done = self.loop.clock.now()


def arrivals(loop: dc.EventLoop, place_order: Any) -> None:
    """Call ``place_order(n)`` for orders 0..ORDERS-1, one every 1/PER_SECOND seconds; each
    arrival schedules the next, so it comes after anything already due at that instant."""

    def arrive(n: int) -> None:
        place_order(n)
        if n + 1 < ORDERS:
            loop.call_later(1 / PER_SECOND, lambda: arrive(n + 1))

    loop.call_later(0, lambda: arrive(0))


def coupled() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    app = AppTier(loop, WORKERS, SECONDS_PER_ORDER)
    lost: list[int] = []

    def place_order(n: int) -> None:
        try:
            app.handle(n)  # the web tier waits on the app tier: no buffer in between
        except AppTierBusy:
            lost.append(n)  # the customer gets an error page; the order is gone

    arrivals(loop, place_order)
    loop.run_until_idle()
    return {"processed": app.processed, "lost": len(lost), "first_lost": lost[0],
            "last_done": app.last_done}


def decoupled() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    orders = dc.Queue(loop, "orders")
    done_at: list[float] = []
    peak_waiting = 0

    def place_order(n: int) -> None:
        nonlocal peak_waiting
        orders.send(f"order {n}")  # returns as soon as the queue has it
        peak_waiting = max(peak_waiting, orders.approximate_number_of_messages)

    def process(message: dc.Message) -> None:
        done_at.append(loop.clock.now() + SECONDS_PER_ORDER)

    pool = dc.ConsumerPool(orders, process, min_workers=WORKERS, max_workers=WORKERS,
                           batch_size=1, processing_time=SECONDS_PER_ORDER)
    arrivals(loop, place_order)
    loop.run_until_idle()
    pool.stop()
    return {"processed": pool.processed, "lost": ORDERS - pool.processed - len(orders),
            "peak_waiting": peak_waiting, "last_done": max(done_at)}


def main() -> dict[str, dict[str, Any]]:
    print(f"burst: {ORDERS} orders in {ORDERS / PER_SECOND:.0f} s ({PER_SECOND} a second); "
          f"the app tier has {WORKERS} workers at {SECONDS_PER_ORDER:.1f} s an order "
          f"({WORKERS / SECONDS_PER_ORDER:.0f} a second)")
    direct = coupled()
    print("coupled (the web tier calls the app tier directly):")
    print(f"  processed {direct['processed']}, lost {direct['lost']} "
          f"(the first at order {direct['first_lost']}: the app tier was at capacity)")
    print(f"  last order done at t={direct['last_done']:.1f} s")
    queued = decoupled()
    print("decoupled (a queue between the tiers):")
    print(f"  processed {queued['processed']}, lost {queued['lost']}; "
          f"up to {queued['peak_waiting']} orders waited in the queue")
    print(f"  last order done at t={queued['last_done']:.1f} s")
    return {"coupled": direct, "decoupled": queued}


if __name__ == "__main__":
    main()
