"""SQS event source mappings: batches, partial failures, filters, FIFO order, scaling."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

import decoupling as dc
from decoupling import errors


@pytest.fixture
def rt(loop: dc.EventLoop) -> dc.FunctionRuntime:
    runtime = dc.FunctionRuntime(loop)
    yield runtime
    runtime.close()


def test_partial_batch_failure_deletes_7_and_3_return_after_visibility_timeout(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    orders = dc.Queue(loop, "orders", visibility_timeout=30)
    batches: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        batches.append([r["body"] for r in records])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                      if r["body"] in ("2", "5", "8") and len(batches) == 1]}

    rt.register("proc", handler)
    ids = [orders.send(str(i)).message_id for i in range(10)]
    mapping = rt.add_event_source(orders, "proc", batch_size=10, report_batch_item_failures=True)
    loop.run_until_idle(limit=29.999)
    assert batches == [[str(i) for i in range(10)]]
    assert len(orders) == 3 and orders.approximate_number_of_messages_not_visible == 3
    assert mapping.metrics["deleted"] == 7 and mapping.metrics["failed_records"] == 3
    loop.run_until_idle(limit=30.0)
    assert sorted(batches[1]) == ["2", "5", "8"]
    assert len(orders) == 0 and mapping.metrics["deleted"] == 10
    assert mapping.invocations == 2 and ids[2] not in [m for m in ()]


def test_record_is_lambdas_sqs_record(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "shapes")
    got: list[dict[str, Any]] = []
    rt.register("see", lambda e, c: got.extend(e["Records"]))
    sent = q.send("hello", message_attributes={"kind": "book", "n": 3, "blob": b"\x00\x01"})
    rt.add_event_source(q, "see")
    loop.run_until_idle()
    (record,) = got
    assert record == {
        "messageId": sent.message_id,
        "receiptHandle": record["receiptHandle"],
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000",
                       "SenderId": "000000000000",
                       "ApproximateFirstReceiveTimestamp": "1767225600000"},
        "messageAttributes": {
            "kind": {"stringValue": "book", "stringListValues": [], "binaryListValues": [],
                     "dataType": "String"},
            "n": {"stringValue": "3", "stringListValues": [], "binaryListValues": [],
                  "dataType": "Number"},
            "blob": {"binaryValue": base64.b64encode(b"\x00\x01").decode(),
                     "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        },
        "md5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:shapes",
        "awsRegion": "us-east-1",
    }


def test_powertools_batch_processor_partial_failures_are_honoured(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    processor = BatchProcessor(event_type=EventType.SQS)
    done: list[int] = []

    def record_handler(record: SQSRecord) -> None:
        order = json.loads(record.body)
        if order["id"] % 4 == 0:
            raise ValueError(f"cannot ship {order['id']}")
        done.append(order["id"])

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(event=event, record_handler=record_handler,
                                        processor=processor, context=context)

    q = dc.Queue(loop, "ship", visibility_timeout=60)
    rt.register("ship", handler)
    for i in range(1, 11):
        q.send(json.dumps({"id": i}))
    mapping = rt.add_event_source(q, "ship", report_batch_item_failures=True)
    loop.run_until_idle(limit=59)
    assert sorted(done) == [1, 2, 3, 5, 6, 7, 9, 10]
    assert len(q) == 2 and mapping.metrics["failed_records"] == 2


def test_whole_batch_error_returns_messages_and_redrives_to_dlq(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q", visibility_timeout=10,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
    calls: list[float] = []

    def boom(event: Any, context: Any) -> None:
        calls.append(loop.clock.now())
        raise RuntimeError("down")

    rt.register("boom", boom)
    for i in range(4):
        q.send(f"m{i}")
    mapping = rt.add_event_source(q, "boom")
    loop.run_until_idle()
    assert calls == [0.0, 10.0, 20.0]
    assert len(q) == 0 and dlq.approximate_number_of_messages == 4
    assert mapping.failed_batches == 3


def test_filter_criteria_deletes_non_matching_messages(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "filtered")
    got: list[str] = []
    rt.register("books", lambda e, c: got.extend(r["body"] for r in e["Records"]))
    for body in ['{"kind": "book", "price": 12}', '{"kind": "pen"}', "plain text",
                 '{"kind": "book", "price": 3}']:
        q.send(body)
    mapping = rt.add_event_source(
        q, "books",
        filter_criteria={"Filters": [{"Pattern": json.dumps(
            {"body": {"kind": ["book"], "price": [{"numeric": [">", 10]}]}})},
            {"Pattern": {"body": ["plain text"]}}]})
    loop.run_until_idle()
    assert got == ['{"kind": "book", "price": 12}', "plain text"]
    assert len(q) == 0 and mapping.filtered == 2
    with pytest.raises(errors.InvalidParameterValueException):
        rt.add_event_source(q, "books", filter_criteria={"Filters": [{"Pattern": "{bad"}]})


def test_fifo_keeps_group_order_through_failures(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.FifoQueue(loop, "orders.fifo", visibility_timeout=5, content_based_deduplication=True)
    seen: list[str] = []
    failed_once: set[str] = set()

    def handler(event: Any, context: Any) -> None:
        for record in event["Records"]:
            assert record["attributes"]["MessageGroupId"] in ("a", "b")
            body = record["body"]
            if body == "a2" and body not in failed_once:
                failed_once.add(body)
                raise RuntimeError("retry me")
            seen.append(body)

    rt.register("fifo", handler)
    for i in range(1, 5):
        q.send(f"a{i}", message_group_id="a")
        q.send(f"b{i}", message_group_id="b")
    with pytest.raises(errors.InvalidParameterValueException):
        rt.add_event_source(q, "fifo", batch_size=11, maximum_batching_window=1)
    rt.add_event_source(q, "fifo", batch_size=2)
    loop.run_until_idle()
    assert [b for b in seen if b.startswith("a")][-4:] == ["a1", "a2", "a3", "a4"]
    assert [b for b in seen if b.startswith("b")] == ["b1", "b2", "b3", "b4"]


def test_reserved_concurrency_5_never_runs_a_6th_under_10000_backlog(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "backlog", visibility_timeout=300)
    rt.register("work", lambda e, c: None, simulated_duration=1.0, timeout=30,
                reserved_concurrency=5)
    for i in range(0, 10_000, 10):
        q.send_batch([str(j) for j in range(i, i + 10)])
    mapping = rt.add_event_source(q, "work", batch_size=10)
    loop.run_until_idle()
    fn = rt.get_function("work")
    assert fn.peak_concurrent == 5 and mapping.peak_concurrency == 5
    assert max(running for _, _, running in mapping.history) == 5
    assert loop.clock.now() == 200.0 and len(q) == 0 and fn.invocations == 1000


def test_standard_scaling_5_then_300_per_minute_then_back_to_5(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "burst", visibility_timeout=600)
    rt.register("slow", lambda e, c: None, simulated_duration=100.0, timeout=120)
    for i in range(0, 10_000, 10):
        q.send_batch([str(j) for j in range(i, i + 10)])
    mapping = rt.add_event_source(q, "slow")

    def running_at(t: float) -> int:
        return [r for when, _, r in mapping.history if when <= t][-1]

    loop.run_until_idle(limit=0.0)
    assert running_at(0.0) == 5
    loop.run_until_idle(limit=60.0)
    assert mapping.target_concurrency == 305 and running_at(60.0) == 305
    loop.run_until_idle()
    assert len(q) == 0 and mapping.target_concurrency == 5 and mapping.in_flight == 0


def test_maximum_concurrency_and_provisioned_modes(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "capped", visibility_timeout=600)
    rt.register("slow", lambda e, c: None, simulated_duration=100.0, timeout=120)
    for i in range(0, 20_000, 10):
        q.send_batch([str(j) for j in range(i, i + 10)])
    capped = rt.add_event_source(q, "slow", maximum_concurrency=50)
    loop.run_until_idle(limit=99.0)
    assert capped.peak_concurrency == 50
    capped.delete()
    q2 = dc.Queue(loop, "provisioned", visibility_timeout=600)
    for i in range(0, 20_000, 10):
        q2.send_batch([str(j) for j in range(i, i + 10)])
    prov = rt.add_event_source(q2, "slow", provisioned_pollers=(3, 20))
    start = loop.clock.now()
    loop.run_until_idle(limit=start)
    assert prov.target_concurrency == 30
    loop.run_until_idle(limit=start + 6.0)
    assert prov.target_concurrency == 130  # +100 pollers a minute: 10 pollers after 6 s
    with pytest.raises(errors.InvalidParameterValueException):
        rt.add_event_source(q2, "slow", maximum_concurrency=5, provisioned_pollers=True)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"batch_size": 0}, errors.ValidationException),
        ({"batch_size": 10_001, "maximum_batching_window": 1}, errors.ValidationException),
        ({"batch_size": 11}, errors.InvalidParameterValueException),
        ({"maximum_batching_window": 301}, errors.ValidationException),
        ({"maximum_concurrency": 1}, errors.ValidationException),
        ({"maximum_concurrency": 1001}, errors.ValidationException),
        ({"provisioned_pollers": (1, 10)}, errors.InvalidParameterValueException),
        ({"provisioned_pollers": (2, 10_001)}, errors.InvalidParameterValueException),
        ({"filter_criteria": [{"a": [1]}] * 6}, errors.InvalidParameterValueException),
    ],
)
def test_mapping_validation(loop: dc.EventLoop, rt: dc.FunctionRuntime, kwargs: dict[str, Any],
                            error: type[Exception]) -> None:
    q = dc.Queue(loop, "v")
    rt.register("f", lambda e, c: None)
    with pytest.raises(error):
        rt.add_event_source(q, "f", **kwargs)
    assert rt.event_source_mappings == {}


def test_batching_window_waits_for_a_full_batch(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    q = dc.Queue(loop, "window", visibility_timeout=60)
    sizes: list[tuple[float, int]] = []
    rt.register("f", lambda e, c: sizes.append((loop.clock.now(), len(e["Records"]))))
    mapping = rt.add_event_source(q, "f", batch_size=100, maximum_batching_window=5)
    for i in range(30):
        q.send(str(i))
    loop.run_until_idle()
    assert sizes == [(5.0, 30)]
    for i in range(250):
        q.send(str(i))
    loop.run_until_idle()
    assert sizes[1:] == [(5.0, 100), (5.0, 100), (10.0, 50)]
    mapping.disable()
    q.send("later")
    loop.run_until_idle()
    assert len(sizes) == 4 and mapping.state == "Disabled"
    mapping.enable()
    loop.run_until_idle()
    assert sizes[-1] == (15.0, 1)
    assert mapping.to_aws()["BatchSize"] == 100 and mapping.to_aws()["State"] == "Enabled"


def test_a_refused_mapping_takes_no_id_and_registers_nothing(
    loop: dc.EventLoop, rt: dc.FunctionRuntime
) -> None:
    q = dc.Queue(loop, "ids")
    rt.register("f", lambda event, context: None)
    before = loop.new_id()
    with pytest.raises(errors.ValidationException):
        rt.add_event_source(q, "f", batch_size=0)
    assert rt.event_source_mappings == {}
    mapping = rt.add_event_source(q, "f")
    # The next id after `before`: the refused call consumed none.
    assert int(mapping.uuid[-12:], 16) == int(before[-12:], 16) + 1
