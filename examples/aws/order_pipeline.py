"""An order pipeline: a topic fans orders out, a function ships the paid ones from a queue.

1. ``order-events`` has two subscribers: the ``shipping`` queue takes paid orders only (a
   filter policy on ``status``, raw delivery) and the ``audit`` queue takes every order (the
   SNS envelope).
2. The ``ship`` function (``handler.py`` beside this file, a plain Lambda handler) is fed by the
   shipping queue through an event source mapping with ``ReportBatchItemFailures``: the order
   it cannot ship stays in the queue for a retry, the others are deleted.
3. Four orders are published; the audit queue holds all four envelopes.

Backends: in process on virtual time (default), or ``DECOUPLING_BACKEND=aws`` for real SNS and
SQS (or a local server through ``AWS_ENDPOINT_URL``): the handler then runs here as a
self-hosted consumer of the real queue. ``template.yaml`` beside this file deploys the same handler
as a real Lambda function with a real SQS trigger.

Run: ``python examples/aws/order_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import decoupling as dc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handler import ship  # noqa: E402  (the deployable handler, unchanged)

ORDERS = [
    {"order": "1", "item": "book", "status": "paid"},
    {"order": "2", "item": "pen", "status": "pending"},
    {"order": "3", "item": "broken", "status": "paid"},
    {"order": "4", "item": "lamp", "status": "paid"},
]


def main() -> dict[str, Any]:
    on_aws = os.environ.get("DECOUPLING_BACKEND", "memory") == "aws"
    if on_aws:
        import decoupling.aws

        account: Any = decoupling.aws.connect(endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
                                              poll_wait_seconds=1)
        suffix, poll = f"-{uuid.uuid4().hex[:8]}", 1
    else:
        account = dc.EventLoop(clock=dc.ManualClock())
        suffix, poll = "", 0
    topic = dc.Topic(account, f"order-events{suffix}")
    shipping = dc.Queue(account, f"shipping{suffix}", visibility_timeout=30)
    audit = dc.Queue(account, f"audit{suffix}")
    topic.subscribe(shipping, raw_message_delivery=True, filter_policy={"status": ["paid"]})
    topic.subscribe(audit)

    runtime = dc.FunctionRuntime(account)
    seen: list[str] = []
    all_seen = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(json.loads(r["body"])["order"] for r in event["Records"])
        if len(seen) >= 3:
            all_seen.set()
        return ship(event, context)

    runtime.register("ship", handler, timeout=30)
    mapping = runtime.add_event_source(shipping, "ship", batch_size=10,
                                       report_batch_item_failures=True)
    for order in ORDERS:
        topic.publish(json.dumps(order), message_attributes={"status": order["status"]})

    if on_aws:
        all_seen.wait(30)  # the self-hosted poller runs in its own threads
    else:
        account.run_until_idle(limit=account.clock.now() + 5)
    runtime.close()  # pollers stop after their batch (deletes included)

    envelopes: list[dc.Message] = []
    while len(envelopes) < len(ORDERS):
        got = audit.receive(10, wait_seconds=poll)
        if not got:
            break
        envelopes += got
        audit.delete_batch([m.receipt_handle for m in got])
    audited = sorted(json.loads(json.loads(m.body)["Message"])["order"] for m in envelopes)
    summary = {
        "records": sorted(seen),
        "deleted": mapping.metrics["deleted"],
        "left_for_retry": len(shipping),
        "audited": audited,
    }
    print(f"summary: {summary}")
    if on_aws:
        for queue in (shipping, audit):
            queue.delete_queue()
        topic.delete()
    return summary


if __name__ == "__main__":
    main()
