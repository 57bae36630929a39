"""Application code as a user writes it, type-checked by `.ci/run` (`mypy --strict`).

Not a test module (pytest does not collect it): it guards the public API's types from the user's
side — e.g. `RedrivePolicy(queue, ...)`, which the attrs mypy plugin once typed as taking only a
str.
"""

from __future__ import annotations

from typing import Any

import decoupling as dc
import decoupling.aws


def in_process() -> list[str]:
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock=clock)
    dlq = dc.Queue(loop, "orders-dlq")
    orders = dc.Queue(loop, "orders", visibility_timeout=30,
                      redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
    orders.send("order-1", message_attributes={"kind": "book"})
    bodies = [m.body for m in orders.receive(max_messages=10, wait_seconds=20)]
    clock.advance(31)
    payments = dc.FifoQueue(loop, "payments.fifo", content_based_deduplication=True)
    payments.send("pay-1", message_group_id="customer-1")
    events = dc.Topic(loop, "order-events")
    events.subscribe(orders, filter_policy={"kind": ["book"]}, raw_message_delivery=True)
    runtime = dc.FunctionRuntime(loop)

    @runtime.function("ship", timeout=30, memory_mb=256)
    def ship(event: dict[str, Any], context: dc.LambdaContext) -> None:
        return None

    runtime.add_event_source(orders, "ship", batch_size=10, report_batch_item_failures=True)
    groups: list[dc.LogGroup] = runtime.log_groups()
    if groups:  # a function's log group exists once it has logged
        streams: list[dc.LogStream] = runtime.log_streams("ship")
        printed: list[str] = [e.message for e in runtime.log_events("ship", streams[0].name)]
        assert printed[0].startswith("START RequestId: ")
    offload = dc.PayloadOffload(dc.Bucket(loop, "large-payloads"), threshold=262_144)
    documents = dc.Queue(loop, "documents", large_payloads=offload)
    documents.send("x" * 300_000)
    scans = dc.Topic(loop, "scans", large_payloads=offload)
    scans.large_payloads = None
    orphans: list[str] = offload.orphans(documents)
    return bodies + orphans


def on_aws() -> None:
    account = decoupling.aws.connect(region_name="eu-west-1")
    dlq = dc.Queue(account, "orders-dlq")
    dc.Queue(account, "orders", visibility_timeout=30,
             redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
