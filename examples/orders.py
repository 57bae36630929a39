"""Orders through a queue: the web tier returns at once, workers process, nothing is lost.

The decoupling chapter's first pattern, on virtual time:

1. The web tier accepts 5 orders into the ``orders`` queue and returns immediately.
2. Worker A takes order 1 and crashes before deleting it.
3. Worker B processes and deletes the other good orders.
4. 30 seconds later (the visibility timeout) order 1 is visible again; worker B finishes it.
5. Order ``poison`` fails every time; after 3 receives it lands in ``orders-dlq``.

Run: ``python examples/orders.py`` (finishes in well under a second).
"""

from __future__ import annotations

import json

import decoupling as dc


def main() -> dict[str, int]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    dlq = dc.Queue(loop, "orders-dlq")
    orders = dc.Queue(
        loop, "orders", visibility_timeout=30,
        redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3),
    )

    # 1. The web tier: enqueue and return.
    for order_id, item in [("1", "book"), ("2", "pen"), ("3", "poison"), ("4", "lamp"),
                           ("5", "mug")]:
        orders.send(json.dumps({"order": order_id, "item": item}),
                    message_attributes={"item": item})
    print(f"web tier: accepted 5 orders, queue holds {len(orders)}")

    processed: list[str] = []

    def work(worker: str, crash_on: str | None = None) -> None:
        for msg in orders.receive(max_messages=10):
            order = json.loads(msg.body)
            if order["order"] == crash_on:
                print(f"{worker}: crashed while handling order {order['order']} "
                      f"(receive #{msg.receive_count})")
                return  # never deletes: the message comes back after the visibility timeout
            if order["item"] == "poison":
                print(f"{worker}: order {order['order']} failed (receive #{msg.receive_count})")
                continue
            processed.append(order["order"])
            orders.delete(msg.receipt_handle)
            print(f"{worker}: processed order {order['order']}")

    # 2. Worker A takes one message and dies holding it.
    first = orders.receive(max_messages=1)[0]
    print(f"worker-a: took order {json.loads(first.body)['order']} and crashed")
    # 3. Worker B does the rest.
    work("worker-b")
    # 4. After the visibility timeout the crashed order and the poison order come back.
    for _ in range(3):
        loop.clock.advance(30)
        print(f"t={loop.clock.now():.0f}s: {orders.approximate_number_of_messages} visible")
        work("worker-b")

    dead = dlq.receive(max_messages=10)
    print(f"dead-letter queue holds: {[json.loads(m.body)['order'] for m in dead]}")
    summary = {
        "accepted": 5,
        "processed": len(processed),
        "dead_lettered": len(dead),
        "lost": 5 - len(processed) - len(dead),
    }
    print("summary: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


if __name__ == "__main__":
    main()
