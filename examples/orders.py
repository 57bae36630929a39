"""Orders through a queue: the web tier returns at once, workers process, nothing is lost.

The decoupling chapter's first pattern, on virtual time:

1. The web tier accepts 5 orders into the ``orders`` queue and returns immediately.
2. Worker A takes order 1 and crashes before deleting it.
3. Worker B processes and deletes the other good orders.
4. 30 seconds later (the visibility timeout) order 1 is visible again; worker B finishes it.
5. Order ``poison`` fails every time; after 3 receives it lands in ``orders-dlq``.

Run: ``python examples/orders.py`` (finishes in well under a second).

The same code runs on real SQS, or any SQS-compatible server, by changing what the queues are
given (``backend()``): ``DECOUPLING_BACKEND=aws python examples/orders.py`` uses
``decoupling.aws.connect()`` with boto3's usual configuration (credentials, ``AWS_REGION``,
and ``AWS_ENDPOINT_URL`` for a local server such as ElasticMQ, LocalStack or moto). Time is
then real: the visibility timeout is 1 second instead of 30, the queue names get a random
suffix and the queues are deleted at the end.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import decoupling as dc


def backend() -> tuple[Any, Callable[[float], object], int, str]:
    """What the queues belong to, how time passes, the visibility timeout, a name suffix (on
    AWS receives long-poll for up to 1 s: a short poll of SQS samples only some servers)."""
    if os.environ.get("DECOUPLING_BACKEND", "memory") == "aws":
        import decoupling.aws

        account = decoupling.aws.connect(endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
        return account, lambda seconds: time.sleep(seconds + 0.25), 1, f"-{uuid.uuid4().hex[:8]}"
    loop = dc.EventLoop(clock=dc.ManualClock())
    return loop, loop.clock.advance, 30, ""


def main() -> dict[str, int]:
    account, wait, visibility, suffix = backend()
    dlq = dc.Queue(account, f"orders-dlq{suffix}")
    orders = dc.Queue(
        account, f"orders{suffix}", visibility_timeout=visibility,
        redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3),
    )
    try:
        return run(orders, dlq, wait, visibility, 1 if suffix else 0)
    finally:
        if suffix:
            orders.delete_queue()
            dlq.delete_queue()


def run(orders: dc.Queue, dlq: dc.Queue, wait: Callable[[float], object],
        visibility: int, poll: int) -> dict[str, int]:

    # 1. The web tier: enqueue and return.
    for order_id, item in [("1", "book"), ("2", "pen"), ("3", "poison"), ("4", "lamp"),
                           ("5", "mug")]:
        orders.send(json.dumps({"order": order_id, "item": item}),
                    message_attributes={"item": item})
    print(f"web tier: accepted 5 orders, queue holds {len(orders)}")

    processed: list[str] = []

    def work(worker: str, crash_on: str | None = None) -> None:
        for msg in orders.receive(max_messages=10, wait_seconds=poll):
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
    first = orders.receive(max_messages=1, wait_seconds=poll)[0]
    print(f"worker-a: took order {json.loads(first.body)['order']} and crashed")
    # 3. Worker B does the rest.
    work("worker-b")
    # 4. After the visibility timeout the crashed order and the poison order come back.
    for step in range(1, 4):
        wait(visibility)
        print(f"t={step * visibility}s: {orders.approximate_number_of_messages} visible")
        work("worker-b")

    dead = dlq.receive(max_messages=10, wait_seconds=poll)
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
