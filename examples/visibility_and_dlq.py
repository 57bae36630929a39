"""Visibility timeouts and dead-letter queues: a slow job, a heartbeat, a poison message, a redrive.

On virtual time:

1. **A slow job.** The ``jobs`` queue hides a received message for 30 s, but the job takes
   100 s. Worker A takes it; worker B polls every 10 s.

   * Without a heartbeat, the message is visible again at t=30 s and worker B starts the same
     job a second time. At t=100 s worker A's DeleteMessage carries a receipt handle that is no
     longer the latest: SQS answers success and deletes nothing.
   * With a heartbeat, worker A calls ChangeMessageVisibility every 20 s to push the timeout
     30 s further. Worker B never sees the job; worker A deletes it once, at t=100 s.

2. **A poison message.** The ``orders`` queue sends a message to ``orders-dlq`` once it has been
   received 3 times (``RedrivePolicy`` ``maxReceiveCount`` 3). Order o-3 has the quantity
   ``"two"``, which the worker cannot parse: it fails on each receive, and the fourth receive
   moves it to the dead-letter queue instead of returning it. The other orders are not held up.
3. **The redrive.** A fix is deployed (the worker now understands ``"two"``), and a message move
   task (StartMessageMoveTask) moves o-3 back to ``orders``, where it is processed.

Run: ``python examples/visibility_and_dlq.py`` (well under a second).
"""

from __future__ import annotations

import json
from typing import Any

import decoupling as dc

JOB_SECONDS = 100
VISIBILITY = 30
HEARTBEAT_EVERY = 20
WORDS = {"one": 1, "two": 2, "three": 3}


def slow_job(heartbeat: bool) -> dict[str, Any]:
    """Worker A runs a 100 s job; worker B polls every 10 s. Returns what happened."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    jobs = dc.Queue(loop, "jobs", visibility_timeout=VISIBILITY)
    jobs.send(json.dumps({"job": "render-report-42"}))
    clock = loop.clock
    label = "with a heartbeat" if heartbeat else "without a heartbeat"
    print(f"  {label}:")

    held = jobs.receive()[0]  # worker A
    print(f"    t=0 s: worker A starts the job (receive #{held.receive_count})")
    starts = 1
    b_busy = False
    extensions = b_empty = 0
    for t in range(10, JOB_SECONDS + 1, 10):
        clock.advance(10)
        if t == JOB_SECONDS:
            break
        if heartbeat and t % HEARTBEAT_EVERY == 0:
            jobs.change_visibility(held.receipt_handle, VISIBILITY)
            extensions += 1
            print(f"    t={t} s: worker A extends the visibility timeout: hidden until "
                  f"t={t + VISIBILITY} s")
        if not b_busy:
            got = jobs.receive()  # worker B
            b_empty += not got
            for message in got:
                b_busy = True
                starts += 1
                print(f"    t={t} s: visible again; worker B starts the same job "
                      f"(receive #{message.receive_count})")
    jobs.delete(held.receipt_handle)
    left = len(jobs)
    why = " (a stale handle: the delete succeeds and does nothing)" if left else ""
    print(f"    t={JOB_SECONDS} s: worker A deletes with its receipt handle #1: "
          f"{left} left in the queue{why}")
    print(f"    the job ran {starts} time{'s' if starts > 1 else ''}; worker B's polls found "
          f"nothing {b_empty} times")
    return {"runs": starts, "extensions": extensions, "empty_polls_b": b_empty,
            "left_in_queue": left}


def poison_and_redrive() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    dlq = dc.Queue(loop, "orders-dlq")
    orders = dc.Queue(loop, "orders", visibility_timeout=VISIBILITY,
                      redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
    clock = loop.clock
    for order_id, quantity in [("o-1", 1), ("o-2", 2), ("o-3", "two"), ("o-4", 1)]:
        orders.send(json.dumps({"order": order_id, "quantity": quantity}))
    processed: list[str] = []
    failures = 0
    ids: dict[str, set[str]] = {}  # MessageIds each order was received under

    def parse_v1(quantity: Any) -> int:
        return int(quantity)  # int("two") raises ValueError

    def parse_v2(quantity: Any) -> int:
        return WORDS[quantity] if quantity in WORDS else int(quantity)

    def poll(parse: Any) -> None:
        nonlocal failures
        got = orders.receive(max_messages=10)
        if not got:
            print(f"    t={clock.now():.0f} s: nothing received")
        for message in got:
            order = json.loads(message.body)
            ids.setdefault(order["order"], set()).add(message.message_id)
            try:
                quantity = parse(order["quantity"])
            except ValueError:
                failures += 1
                print(f"    t={clock.now():.0f} s: {order['order']} failed on receive "
                      f"#{message.receive_count} (quantity {order['quantity']!r}); not deleted")
                continue
            orders.delete(message.receipt_handle)
            processed.append(order["order"])
            print(f"    t={clock.now():.0f} s: processed {order['order']} "
                  f"(quantity {quantity}, receive #{message.receive_count})")

    print("  a poison message:")
    for _ in range(4):
        poll(parse_v1)
        clock.advance(VISIBILITY)
    peek = dlq.receive(max_messages=10, visibility_timeout=0)  # look, leave it visible
    source = peek[0].attributes["DeadLetterQueueSourceArn"].rsplit(":", 1)[1]
    print(f"    {dlq.name} holds {len(dlq)}: {json.loads(peek[0].body)['order']} "
          f"(from {source}, moved there by the receive at t=90 s); "
          f"{orders.name} holds {len(orders)}")

    print(f"  t={clock.now():.0f} s: the fix is deployed; a message move task sends the dead "
          "letters back:")
    dlq.start_message_move_task()
    clock.advance(0)  # the task's first second of work runs as a timer
    status = dlq.list_message_move_tasks()[0]
    print(f"    move task {status['Status']}: {status['ApproximateNumberOfMessagesMoved']} of "
          f"{status['ApproximateNumberOfMessagesToMove']} moved back to {source} "
          "(with a new MessageId)")
    poll(parse_v2)
    print(f"    {orders.name} holds {len(orders)}, {dlq.name} holds {len(dlq)}; "
          f"processed {', '.join(processed)}")
    return {"processed": processed, "failures": failures,
            "moved": status["ApproximateNumberOfMessagesMoved"], "task": status["Status"],
            "o-3 message ids": len(ids["o-3"]), "left": len(orders) + len(dlq)}


def main() -> dict[str, Any]:
    print(f"1. a {JOB_SECONDS} s job on a queue with a {VISIBILITY} s visibility timeout")
    without = slow_job(heartbeat=False)
    with_heartbeat = slow_job(heartbeat=True)
    print("2. orders with a dead-letter queue (maxReceiveCount 3)")
    redrive = poison_and_redrive()
    return {"without_heartbeat": without, "with_heartbeat": with_heartbeat, "poison": redrive}


if __name__ == "__main__":
    main()
