"""Fan-out: one order event, three consumers, each getting what it needs.

The decoupling chapter's publish/subscribe pattern, on virtual time:

1. The ``order-events`` topic has three subscribers: the inventory queue takes every order
   (raw message delivery: the body as published, attributes as SQS message attributes), the
   billing queue takes only card payments (a filter policy on the ``payment`` attribute) and
   gets the SNS JSON envelope, and the operations team gets an email for each order.
2. The email subscription must be confirmed first, as on AWS: the confirmation lands in the
   topic's outbox with its token.
3. Three orders are published once each; every consumer reads what reached it.

Run: ``python examples/fanout.py`` (finishes in well under a second).
"""

from __future__ import annotations

import json

import decoupling as dc

ORDERS = [
    {"order": "1", "item": "book", "payment": "card", "total": 12.5},
    {"order": "2", "item": "pen", "payment": "invoice", "total": 2.0},
    {"order": "3", "item": "lamp", "payment": "card", "total": 40.0},
]


def main() -> dict[str, list[str]]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    inventory = dc.Queue(loop, "inventory")
    billing = dc.Queue(loop, "billing")
    orders = dc.Topic(loop, "order-events", display_name="Shop")

    orders.subscribe(inventory, raw_message_delivery=True)
    orders.subscribe(billing, filter_policy={"payment": ["card"]})
    email = orders.subscribe("ops@example.com", "email")
    confirmation = orders.outbox[-1]
    print(f"email: {confirmation.kind} sent to {confirmation.endpoint}")
    assert confirmation.token is not None
    orders.confirm_subscription(confirmation.token)
    print(f"email: confirmed (pending={email.pending_confirmation})")

    # The web tier publishes each order once; SNS does the fan-out.
    for order in ORDERS:
        orders.publish(
            json.dumps(order),
            subject=f"Order {order['order']} placed",
            message_attributes={"payment": order["payment"], "total": order["total"]},
        )
        loop.clock.advance(1)

    got: dict[str, list[str]] = {"inventory": [], "billing": [], "email": []}
    while len(inventory):
        for msg in inventory.receive(max_messages=10):
            order = json.loads(msg.body)  # raw: the order itself
            payment = msg.message_attributes["payment"].string_value
            got["inventory"].append(f"order {order['order']}: reserve 1 {order['item']}")
            print(f"inventory: order {order['order']} ({order['item']}, paid by {payment})")
            inventory.delete(msg.receipt_handle)
    while len(billing):
        for msg in billing.receive(max_messages=10):
            envelope = json.loads(msg.body)  # the SNS notification envelope
            order = json.loads(envelope["Message"])
            total = envelope["MessageAttributes"]["total"]["Value"]
            got["billing"].append(f"order {order['order']}: charge {total}")
            print(f"billing: charge {total} for order {order['order']} "
                  f"(subject {envelope['Subject']!r})")
            billing.delete(msg.receipt_handle)
    for entry in orders.outbox:
        if entry.kind == "Notification":
            got["email"].append(f"{entry.subject}")
            print(f"email to {entry.endpoint}: {entry.subject}")
    return got


if __name__ == "__main__":
    main()
