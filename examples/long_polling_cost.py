"""What polling costs: the same idle-then-busy hour with short polling and with long polling.

SQS bills every request, and an empty ReceiveMessage is a request like any other ($0.40 per
million standard-queue requests in us-east-1; each 64 KiB chunk of a request's payload counts as
one request). A consumer that wants to pick up an order within a fraction of a second must ask
all the time:

* **Short polling** (``WaitTimeSeconds=0``): every receive answers at once, empty or not, so the
  consumer asks again as soon as it has the answer: one request per round trip (taken as 50 ms)
  all hour long.
* **Long polling** (``WaitTimeSeconds=20``): a receive waits until a message arrives or 20 s
  pass, so an idle consumer makes 3 requests a minute and a busy one gets each order the moment
  it arrives.

The hour, on virtual time: idle for 30 minutes, 3,000 orders in the next 10 (5 a second), idle
for the last 20. Both consumers receive up to 10 messages per request and delete what they got
with one DeleteMessageBatch. A :class:`~decoupling.RequestMeter` counts the billable requests as
AWS bills them and prices them; :class:`~decoupling.Metrics` counts the empty receives
(CloudWatch's ``NumberOfEmptyReceives``).

Run: ``python examples/long_polling_cost.py`` (well under 5 seconds).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import decoupling as dc

HOUR = 3600.0
BUSY = (1800.0, 2400.0)
PER_SECOND = 5
ROUND_TRIP = 0.05  # seconds per request, as the consumer sees it


def run(wait_seconds: int) -> dict[str, Any]:
    """One hour of the workload with a consumer polling with ``wait_seconds``."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    orders = dc.Queue(loop, "orders")
    meter = dc.RequestMeter(loop)  # billable requests, as AWS counts them
    metrics = dc.Metrics(loop)  # CloudWatch's NumberOfEmptyReceives and friends
    clock = loop.clock
    orders_total = int((BUSY[1] - BUSY[0]) * PER_SECOND)
    latency: list[float] = []

    def send(n: int) -> None:
        orders.send(f'{{"order": {n}, "item": "book", "quantity": 1}}')
        if n + 1 < orders_total:
            loop.call_at(BUSY[0] + (n + 1) / PER_SECOND, lambda: send(n + 1))

    loop.call_at(BUSY[0], lambda: send(0))
    while clock.now() < HOUR:
        got = orders.receive(max_messages=10, wait_seconds=wait_seconds)
        if got:
            now_ms = clock.wall_ms()
            latency += [(now_ms - int(m.attributes["SentTimestamp"])) / 1000 for m in got]
            orders.delete_batch([m.receipt_handle for m in got])
        clock.advance(ROUND_TRIP)
    bill = meter.bill(include_lambda=False)
    figures = {
        "orders": len(latency),
        "receives": meter.requests(orders, "ReceiveMessage"),
        "empty_receives": int(metrics.total(orders, "NumberOfEmptyReceives")),
        "requests": meter.requests(orders),
        "receive_cost": sum(line.cost for line in bill.lines
                            if line.item.startswith("ReceiveMessage")),
        "cost": bill.sqs,
        "slowest_pickup": round(max(latency), 3),
    }
    meter.close()
    metrics.close()
    return figures


def main() -> dict[str, dict[str, Any]]:
    print(f"one hour: idle, then {int((BUSY[1] - BUSY[0]) * PER_SECOND)} orders from "
          f"t={BUSY[0]:.0f} s to t={BUSY[1]:.0f} s ({PER_SECOND} a second), then idle; "
          f"a request takes {ROUND_TRIP} s")
    price = dc.SqsPrices().standard
    print(f"price: ${price:.2f} per million requests (empty receives included)")
    results = {}
    for label, wait in (("short polling (WaitTimeSeconds=0)", 0),
                        ("long polling (WaitTimeSeconds=20)", 20)):
        r = run(wait)
        results["short" if wait == 0 else "long"] = r
        print(f"{label}:")
        print(f"  {r['receives']:,} receive requests, {r['empty_receives']:,} of them empty: "
              f"${r['receive_cost']:.6f}")
        print(f"  all requests (sends and deletes too): {r['requests']:,}, ${r['cost']:.6f}; "
              f"every order picked up within {r['slowest_pickup']:.2f} s")
    short, long = results["short"], results["long"]
    month = Decimal(24 * 30)
    print(f"long polling made {short['receives'] / long['receives']:.1f} times fewer receive "
          "requests")
    print(f"a 30-day month of such hours: short polling ${short['cost'] * month:.2f} (receives "
          f"${short['receive_cost'] * month:.2f}), long polling ${long['cost'] * month:.2f} "
          f"(receives ${long['receive_cost'] * month:.2f})")
    return results


if __name__ == "__main__":
    main()
