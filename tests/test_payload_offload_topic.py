"""Claim-check on topics: a large publish is stored once; every subscribed queue gets the
pointer; the object goes with the last queue's delete."""

from __future__ import annotations

import json

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sqs import large_payloads as lp


@pytest.fixture
def bucket(loop: dc.EventLoop) -> dc.Bucket:
    return dc.Bucket(loop, "payloads")


def test_publish_stores_once_and_both_raw_subscribers_resolve(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "reports", large_payloads=offload)
    a = dc.Queue(loop, "a", large_payloads=offload)
    b = dc.Queue(loop, "b", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.subscribe(b, raw_message_delivery=True)
    body = "p" * 500_000
    topic.publish(body, message_attributes={"kind": "pdf"})
    [key] = bucket.keys()
    [ma] = a.receive()
    [mb] = b.receive()
    assert ma.body == mb.body == body
    assert ma.message_attributes == {"kind": dc.MessageAttributeValue("String", "pdf")}
    a.delete(ma.receipt_handle)
    assert bucket.keys() == [key]  # b still needs it
    b.delete(mb.receipt_handle)
    assert bucket.keys() == []


def test_filtered_out_subscriber_does_not_hold_the_object(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "t", large_payloads=offload)
    a = dc.Queue(loop, "a", large_payloads=offload)
    other = dc.Queue(loop, "other", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.subscribe(other, raw_message_delivery=True, filter_policy={"kind": ["csv"]})
    topic.publish("p" * 300_000, message_attributes={"kind": "pdf"})
    assert other.receive() == []
    [m] = a.receive()
    a.delete(m.receipt_handle)
    assert bucket.keys() == []


def test_envelope_delivery_carries_the_pointer_in_the_message(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    topic = dc.Topic(loop, "env", large_payloads=dc.PayloadOffload(bucket))
    q = dc.Queue(loop, "q")
    topic.subscribe(q)
    topic.publish("e" * 300_000)
    [key] = bucket.keys()
    [m] = q.receive()
    envelope = json.loads(m.body)
    assert lp.parse_pointer(envelope["Message"]) == ("payloads", key)
    assert envelope["MessageAttributes"]["ExtendedPayloadSize"] == {
        "Type": "Number", "Value": "300000"}


def test_small_publish_is_untouched_and_json_structure_cannot_be_offloaded(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    topic = dc.Topic(loop, "t", large_payloads=dc.PayloadOffload(bucket))
    q = dc.Queue(loop, "q")
    topic.subscribe(q, raw_message_delivery=True)
    topic.publish("hello")
    [m] = q.receive()
    assert (m.body, bucket.keys()) == ("hello", [])
    big = json.dumps({"default": "j" * 300_000})
    with pytest.raises(errors.InvalidParameterValue, match="JSON messages"):
        topic.publish(big, message_structure="json")
    with pytest.raises(errors.InvalidParameter):  # a refused publish stores nothing
        topic.publish("x" * 300_000, subject="")
    assert bucket.keys() == []


def test_publish_batch_offloads_and_keeps_shared_payloads(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "batch", large_payloads=offload)
    a = dc.Queue(loop, "a", large_payloads=offload)
    b = dc.Queue(loop, "b", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.subscribe(b, raw_message_delivery=True)
    result = topic.publish_batch(["q" * 300_000, "small"])
    assert (len(result.successful), result.failed) == (2, [])
    [key] = bucket.keys()
    for q in (a, b):
        msgs = q.receive(10)
        assert sorted(len(m.body) for m in msgs) == [5, 300_000]
        for m in msgs:
            q.delete(m.receipt_handle)
    assert bucket.keys() == [key]  # kept: a batch does not count its subscribers
    assert offload.orphans(a, b) == [key]


def test_fifo_topic_duplicate_is_stored_once(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "t.fifo", large_payloads=offload)
    q = dc.FifoQueue(loop, "q.fifo", large_payloads=offload)
    topic.subscribe(q, raw_message_delivery=True)
    for _ in range(2):
        topic.publish("f" * 300_000, message_group_id="g", message_deduplication_id="d")
    assert len(bucket.keys()) == 1
    [m] = q.receive(10)
    assert m.body == "f" * 300_000


def test_topic_of_another_loop_bucket_is_refused(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    other = dc.EventLoop(clock=dc.ManualClock())
    with pytest.raises(errors.InvalidParameterValue, match="another EventLoop"):
        dc.Topic(other, "t", large_payloads=dc.PayloadOffload(bucket))
    with pytest.raises(errors.InvalidParameter, match="must be a PayloadOffload"):
        dc.Topic(loop, "t", large_payloads=3)  # type: ignore[arg-type]


def test_publish_batch_entry_the_extended_client_refuses_fails_alone(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    topic = dc.Topic(loop, "t", large_payloads=dc.PayloadOffload(bucket))
    q = dc.Queue(loop, "q")
    topic.subscribe(q, raw_message_delivery=True)
    result = topic.publish_batch([
        {"Id": "many", "Message": "m" * 300_000,
         "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"}
                               for i in range(10)}},
        {"Id": "ok", "Message": "fine"},
    ])
    assert [e["Id"] for e in result.successful] == ["ok"]
    assert [(e["Id"], e["Code"]) for e in result.failed] == [("many", "InvalidParameterValue")]
    assert bucket.keys() == []
    [m] = q.receive(10)
    assert m.body == "fine"
    with pytest.raises(errors.TooManyEntriesInBatchRequest):
        topic.publish_batch([{"Id": str(i), "Message": "x" * 300_000,
                              "MessageAttributes": {"ExtendedPayloadSize": "1"}}
                             for i in range(11)])


def test_topic_attributes_over_the_threshold_are_refused(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    topic = dc.Topic(loop, "t", large_payloads=dc.PayloadOffload(bucket, threshold=100))
    # "k" + "String" + 100 characters: 107 bytes of attributes, over the 100-byte threshold.
    with pytest.raises(errors.InvalidParameterValue, match="107 bytes .* threshold of 100 bytes"):
        topic.publish("body", message_attributes={"k": "v" * 100})
    assert bucket.keys() == []


def test_shared_payload_survives_a_lost_count(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "t", large_payloads=offload)
    a = dc.Queue(loop, "a", large_payloads=offload)
    b = dc.Queue(loop, "b", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.subscribe(b, raw_message_delivery=True)
    topic.publish("s" * 300_000)
    [key] = bucket.keys()
    assert bucket.head(key).metadata == {"payload-readers": "2"}
    lp._shared.clear()  # what a restart of a durable loop forgets
    for q in (a, b):
        [m] = q.receive()
        assert m.body == "s" * 300_000
        q.delete(m.receipt_handle)
    assert bucket.keys() == [key]  # kept rather than pulled from under the other reader
    assert offload.orphans(a, b) == [key]


def test_a_payload_for_one_queue_carries_no_readers_metadata(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    offload = dc.PayloadOffload(bucket)
    topic = dc.Topic(loop, "t", large_payloads=offload)
    a = dc.Queue(loop, "a", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.publish("s" * 300_000)
    [key] = bucket.keys()
    assert bucket.head(key).metadata == {}
    lp._shared.clear()
    [m] = a.receive()
    a.delete(m.receipt_handle)
    assert bucket.keys() == []
