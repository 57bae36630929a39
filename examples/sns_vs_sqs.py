"""SNS vs SQS with the same three order events: push vs poll, 1:N vs 1:1, kept or dropped.

Three orders are placed at t=0, 10 and 20 s and handed once to a topic and once to a queue, on
virtual time:

1. **Push vs poll.** The topic calls its subscriber the moment each order is published. The
   queue's consumer decides when to ask: it polls every 30 s and gets the orders then.
2. **1:N vs 1:1.** The topic has three subscribers (inventory, billing, analytics): every one of
   them gets every order. The queue has three competing workers: each order goes to exactly one.
3. **Persistence.** A topic with no subscriber accepts a publish and drops it: a subscriber that
   arrives an hour later never sees it. A queue with no consumer keeps the messages, for its
   retention period (4 days by default): a consumer that starts 3 days later gets all three; on a
   queue whose consumer comes back after 5 days they are gone.

Run: ``python examples/sns_vs_sqs.py`` (well under a second).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import decoupling as dc

ORDERS = [(0.0, "order-1"), (10.0, "order-2"), (20.0, "order-3")]
DAY = 86_400


def place_orders(loop: dc.EventLoop, hand_over: Callable[[str], object]) -> None:
    """Hand each order over (publish or send) at its time, as a timer on the loop."""
    for when, order in ORDERS:
        loop.call_at(when, lambda order=order: hand_over(order))


def push_vs_poll() -> dict[str, Any]:
    print("1. push vs poll")
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    topic = dc.Topic(loop, "orders")
    pushed: list[tuple[str, float]] = []
    topic.subscribe(lambda n: pushed.append((n.message, clock.now())))
    queue = dc.Queue(loop, "orders-queue")
    place_orders(loop, topic.publish)
    place_orders(loop, queue.send)
    polled: list[tuple[str, float]] = []
    answers = []
    for poll_at in (30.0, 60.0):
        loop.run_until_idle(limit=poll_at)
        got = queue.receive(max_messages=10)
        answers.append(f"at t={poll_at:.0f} s {', '.join(m.body for m in got) or 'nothing'}")
        for m in got:
            polled.append((m.body, clock.now()))
            queue.delete(m.receipt_handle)
    print("  SNS: the subscriber was called at " + ", ".join(
        f"t={t:.0f} s ({order})" for order, t in pushed) + ": as each was published")
    print("  SQS: the consumer polls every 30 s and gets " + "; ".join(answers))
    sent_at = {order: when for when, order in ORDERS}
    print("  time from hand-over to consumer: SNS " + ", ".join(
        f"{t - sent_at[order]:.0f} s" for order, t in pushed) + "; SQS " + ", ".join(
        f"{t - sent_at[order]:.0f} s" for order, t in polled))
    return {"pushed_at": [t for _, t in pushed], "polled_at": [t for _, t in polled]}


def one_to_many_vs_one_to_one() -> dict[str, Any]:
    print("2. 1:N vs 1:1")
    loop = dc.EventLoop(clock=dc.ManualClock())
    topic = dc.Topic(loop, "orders")
    fan_out: dict[str, list[str]] = defaultdict(list)
    for name in ("inventory", "billing", "analytics"):
        topic.subscribe(lambda n, name=name: fan_out[name].append(n.message))
    queue = dc.Queue(loop, "orders-queue")
    place_orders(loop, topic.publish)
    place_orders(loop, queue.send)
    loop.run_until_idle()
    shared: dict[str, list[str]] = defaultdict(list)
    workers = ["worker-1", "worker-2", "worker-3"]
    while len(queue):
        for worker in workers:  # competing consumers: each takes one message at a time
            for m in queue.receive(max_messages=1):
                shared[worker].append(m.body)
                queue.delete(m.receipt_handle)
    fan_total = sum(len(v) for v in fan_out.values())
    print(f"  SNS: {fan_total} deliveries: " + "; ".join(
        f"{name} got {', '.join(got)}" for name, got in fan_out.items()))
    shared_total = sum(len(v) for v in shared.values())
    print(f"  SQS: {shared_total} deliveries: " + "; ".join(
        f"{name} got {', '.join(got)}" for name, got in shared.items()))
    return {"topic_deliveries": fan_total, "queue_deliveries": shared_total}


def persistence() -> dict[str, Any]:
    print("3. nobody listening")
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    topic = dc.Topic(loop, "orders")
    queue = dc.Queue(loop, "orders-queue")
    late_queue = dc.Queue(loop, "orders-queue-2")
    ids = []
    place_orders(loop, lambda order: ids.append(topic.publish(order).message_id))
    place_orders(loop, queue.send)
    place_orders(loop, late_queue.send)
    loop.run_until_idle()
    late: list[str] = []
    clock.advance(3600)
    topic.subscribe(lambda n: late.append(n.message))
    loop.run_until_idle()
    print(f"  SNS: {len(ids)} publishes accepted with no subscriber; a subscriber added an hour "
          f"later got {len(late)}: the messages were dropped")
    clock.advance(3 * DAY - 3600)
    kept = []
    while got := queue.receive(max_messages=10):
        kept += [m.body for m in got]
        queue.delete_batch([m.receipt_handle for m in got])
    print(f"  SQS: a consumer that starts 3 days later gets {', '.join(kept)} "
          f"(retention {queue.message_retention_period // DAY} days)")
    clock.advance(2 * DAY)
    expired = late_queue.receive(max_messages=10)
    print(f"  SQS: a consumer that starts 5 days later gets {len(expired)}: past the retention "
          "period")
    return {"topic_late_subscriber": len(late), "queue_after_3_days": len(kept),
            "queue_after_5_days": len(expired)}


def main() -> dict[str, Any]:
    print("the same events, " + ", ".join(f"{order} at t={when:.0f} s" for when, order in ORDERS)
          + ", to an SNS topic and to an SQS queue")
    figures = {**push_vs_poll(), **one_to_many_vs_one_to_one(), **persistence()}
    print("in short: SNS pushes each message to every subscriber at once and keeps nothing;")
    print("          SQS keeps each message until one consumer asks for it and deletes it")
    return figures


if __name__ == "__main__":
    main()
