"""Request metering: billable requests as AWS counts them (64 KiB chunks, batches, empty
receives, FIFO rates) and the exact cost of a run."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue

KIB = 1024


@pytest.fixture
def rt(loop: dc.EventLoop) -> Iterator[dc.FunctionRuntime]:
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    yield runtime
    runtime.close()


def idle_polls(wait_seconds: int, every: int, span: int = 20_000) -> tuple[int, Decimal]:
    """Poll an empty queue for ``span`` virtual seconds; return (requests, cost in $)."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    meter = dc.RequestMeter(loop)
    metrics = dc.Metrics(loop)
    q = dc.Queue(loop, "idle")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    while clock.now() < span:
        start = clock.now()
        assert q.receive(wait_seconds=wait_seconds) == []
        clock.advance_to(start + every)  # a long poll already waited its 20 s
    requests = meter.requests(q, "ReceiveMessage")
    assert metrics.total(q, "NumberOfEmptyReceives") == requests  # every one was empty
    return requests, meter.bill().total


def test_short_polls_against_long_polls_over_20000_seconds() -> None:
    # 1,000 short polls, one every 20 s, cost exactly what 1,000 long polls of 20 s cost:
    # AWS bills requests, and an empty receive is a request either way.
    assert idle_polls(wait_seconds=0, every=20) == (1_000, Decimal("0.0004"))
    assert idle_polls(wait_seconds=20, every=20) == (1_000, Decimal("0.0004"))
    # A realistic short-polling consumer polls every second: 20,000 requests, 20 times the
    # cost of long polling the same 20,000 s ($0.40 per million standard requests).
    assert idle_polls(wait_seconds=0, every=1) == (20_000, Decimal("0.008"))


def test_batching_divides_requests(loop: dc.EventLoop) -> None:
    meter = dc.RequestMeter(loop)
    single = dc.Queue(loop, "single")
    batched = dc.Queue(loop, "batched")
    for i in range(100):
        single.send(f"m{i}")
    while got := single.receive():
        single.delete(got[0].receipt_handle)
    for start in range(0, 100, 10):
        batched.send_batch([f"m{i}" for i in range(start, start + 10)])
    while got := batched.receive(10):
        batched.delete_batch([m.receipt_handle for m in got])
    # single: 100 sends + 100 receives + 1 empty receive + 100 deletes
    assert meter.requests(single) == 301
    # batched: 10 batch sends + 10 receives of 10 + 1 empty receive + 10 batch deletes
    assert meter.requests(batched) == 31
    assert meter.calls(batched, "DeleteMessage") == 0
    assert meter.calls(batched, "DeleteMessageBatch") == 10
    bill = meter.bill()
    assert bill.sqs == Decimal("0.0001328")  # 332 requests at $0.40 per million
    assert bill.total == bill.sqs


def test_each_64_kib_chunk_is_a_request(loop: dc.EventLoop) -> None:
    meter = dc.RequestMeter(loop)
    q = dc.Queue(loop, "big")
    q.send("x" * (64 * KIB))  # exactly 64 KiB: 1
    q.send("x" * (64 * KIB + 1))  # 2
    q.send("x" * (256 * KIB))  # 4
    q.send("x" * 10, message_attributes={"a": "y" * (64 * KIB)})  # attributes count: 2
    assert meter.requests(q, "SendMessage") == 9
    assert meter.calls(q, "SendMessage") == 4
    q.send_batch(["x" * (100 * KIB), "x" * (100 * KIB), "x" * (100 * KIB)])  # 300 KiB: 5
    assert meter.requests(q, "SendMessageBatch") == 5
    got = q.receive(10)
    assert len(got) == 7  # 192 KiB + 1 + 256 KiB + ... returned in one call
    payload = sum(len(m.body) for m in got) + 1 + 6 + 64 * KIB  # attribute name, type, value
    assert meter.requests(q, "ReceiveMessage") == -(-payload // (64 * KIB))
    q.delete_batch([m.receipt_handle for m in got[:5]])
    q.delete_batch([m.receipt_handle for m in got[5:]])
    assert meter.requests(q, "DeleteMessageBatch") == 2  # handles only: one each


def test_fifo_message_actions_at_the_fifo_rate(loop: dc.EventLoop) -> None:
    meter = dc.RequestMeter(loop)
    q = dc.FifoQueue(loop, "pay.fifo", content_based_deduplication=True)
    q.send("a", message_group_id="g")
    got = q.receive()
    q.change_visibility(got[0].receipt_handle, 60)
    q.delete(got[0].receipt_handle)
    q.get_attributes()  # not a message action: standard rate
    bill = meter.bill()
    # 4 FIFO requests at $0.50 per million + 1 standard at $0.40 per million
    assert bill.sqs == Decimal("0.0000024")
    items = {(line.item, line.quantity) for line in bill.lines}
    assert ("GetQueueAttributes (standard requests)", 1) in items
    assert ("SendMessage (FIFO requests)", 1) in items


def test_failed_batch_entries_and_refused_calls(loop: dc.EventLoop) -> None:
    meter = dc.RequestMeter(loop)
    q = dc.Queue(loop, "q")
    q.send("m")
    handle = q.receive()[0].receipt_handle
    result = q.change_visibility_batch([
        {"Id": "ok", "ReceiptHandle": handle, "VisibilityTimeout": 10},
        {"Id": "bad", "ReceiptHandle": handle, "VisibilityTimeout": -1},
    ])
    assert len(result.successful) == 1 and len(result.failed) == 1
    assert meter.calls(q, "ChangeMessageVisibilityBatch") == 1
    assert meter.calls(q, "ChangeMessageVisibility") == 0
    with pytest.raises(dc.errors.ReceiptHandleIsInvalid):
        q.delete("not-a-handle")  # refused: nothing counted
    q.delete(handle)
    q.delete(handle)  # a stale handle still succeeds: a request
    assert meter.calls(q, "DeleteMessage") == 2
    q.purge()
    assert meter.calls(q) == 6  # send, receive, batch, 2 deletes, purge


def test_sns_publishes_deliveries_and_queue_sends(loop: dc.EventLoop) -> None:
    prices = dc.Prices(sns=dc.SnsPrices(deliveries={"application": 0.60, "sqs": 0.0}))
    meter = dc.RequestMeter(loop, prices)
    topic = dc.Topic(loop, "events")
    inbox = dc.Queue(loop, "inbox")
    topic.subscribe(inbox, raw_message_delivery=True)
    hook: list[str] = []
    topic.subscribe(lambda n: hook.append(n.message))
    topic.publish("small")  # 1
    topic.publish("x" * (100 * KIB))  # 2
    topic.publish_batch([f"m{i}" for i in range(10)])  # one request for the whole batch
    loop.run_until_idle()
    assert meter.requests(topic, service="sns") == 4
    assert meter.calls(topic, "PublishBatch", service="sns") == 1
    # 12 messages reached the callable (one 100 KiB: 2 chunks) and the queue
    assert meter.requests(topic, "application", service="sns-delivery") == 13
    assert meter.requests(topic, "sqs", service="sns-delivery") == 13
    # SNS charges nothing for SQS deliveries; they are SendMessage requests of the queue.
    assert meter.requests(inbox, "SendMessage") == 13
    bill = meter.bill()
    assert bill.sns == Decimal("0.0000098")  # 4 x $0.50/M + 13 x $0.60/M
    assert bill.sqs == Decimal("0.0000052")  # 13 x $0.40/M


def test_lambda_costs_come_from_the_runtime(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    meter = dc.RequestMeter(loop)
    rt.register("work", lambda event, context: None, memory_mb=512, simulated_duration=0.1005)
    for _ in range(4):
        rt.invoke("work", {})
    bill = meter.bill()
    # 4 requests at $0.20 per million; 4 x 101 ms (rounded up to the ms) at 0.5 GB:
    # 0.202 GB-s at $0.0000166667 per GB-s
    assert bill.lambda_ == Decimal("0.0000008") + Decimal("0.202") * Decimal("0.0000166667")
    assert meter.bill(include_lambda=False).lambda_ == 0
    assert "Lambda" in bill.format() and "TOTAL" in str(bill)


def test_reset_and_close(loop: dc.EventLoop) -> None:
    meter = dc.RequestMeter(loop)
    q = dc.Queue(loop, "q")
    q.send("warm-up")
    meter.reset()
    q.send("counted")
    assert meter.requests() == 1
    meter.close()
    q.send("not counted")
    assert meter.requests() == 1 and not meter.enabled and loop._tap is None


@pytest.mark.parametrize("call", [
    lambda loop: dc.RequestMeter(loop, prices="cheap"),
    lambda loop: dc.RequestMeter(loop).requests(service="ses"),
    lambda loop: dc.RequestMeter(loop).bill(prices=0.4),
])
def test_bad_input(loop: dc.EventLoop, call: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        call(loop)


def test_one_meter_per_loop(loop: dc.EventLoop) -> None:
    dc.RequestMeter(loop)
    with pytest.raises(InvalidParameterValue):
        dc.RequestMeter(loop)


def test_an_asyncio_long_poll_is_one_request(loop: dc.EventLoop) -> None:
    import asyncio

    meter = dc.RequestMeter(loop)
    q = dc.Queue(loop, "q")

    async def consume() -> list[dc.Message]:
        return await q.receive_async(wait_seconds=20)

    assert asyncio.run(consume()) == []
    q.send("m")
    assert [m.body for m in asyncio.run(consume())] == ["m"]
    assert meter.calls(q, "ReceiveMessage") == 2
    loop.stop()
