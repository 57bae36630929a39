"""Claim-check (PayloadOffload): large bodies in a bucket, the extended clients' pointer in the
queue, resolved on receive, deleted with the message."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import decoupling as dc
from decoupling import errors
from decoupling.sqs import large_payloads as lp

POINTER = "software.amazon.payloadoffloading.PayloadS3Pointer"


@pytest.fixture
def bucket(loop: dc.EventLoop) -> dc.Bucket:
    return dc.Bucket(loop, "payloads")


@pytest.fixture
def queue(loop: dc.EventLoop, bucket: dc.Bucket) -> dc.Queue:
    return dc.Queue(loop, "jobs", large_payloads=dc.PayloadOffload(bucket))


def stored(queue: dc.Queue) -> list[tuple[str, dict[str, dc.MessageAttributeValue] | None]]:
    """What the queue itself holds: (body, attributes) of every message."""
    return [(e.record.body, e.record.attributes) for e in queue._ledger.entries()]


def test_large_body_is_stored_and_the_message_carries_the_pointer(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    body = "x" * 300_000
    queue.send(body, message_attributes={"kind": "report"})
    [key] = bucket.keys()
    assert bucket.get(key).body == body.encode()
    [(pointer, attributes)] = stored(queue)
    assert pointer == f'["{POINTER}", {{"s3BucketName": "payloads", "s3Key": "{key}"}}]'
    assert attributes == {
        "kind": dc.MessageAttributeValue("String", "report"),
        "ExtendedPayloadSize": dc.MessageAttributeValue("Number", "300000"),
    }


def test_receive_resolves_the_pointer_and_delete_removes_the_object(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    body = "é" * 200_000  # 400,000 bytes of UTF-8
    sent = queue.send(body, message_attributes={"kind": "report"})
    [key] = bucket.keys()
    [msg] = queue.receive()
    assert msg.message_id == sent.message_id
    assert msg.body == body
    assert msg.message_attributes == {"kind": dc.MessageAttributeValue("String", "report")}
    [(_, attributes)] = stored(queue)
    assert attributes is not None
    assert attributes["ExtendedPayloadSize"].string_value == "400000"
    own = queue._ledger.entries().__next__().receipt
    assert msg.receipt_handle == (
        f"-..s3BucketName..-payloads-..s3BucketName..--..s3Key..-{key}-..s3Key..-{own}"
    )
    queue.delete(msg.receipt_handle)
    assert bucket.keys() == []
    assert stored(queue) == []


def test_threshold_counts_body_and_attribute_bytes(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    q = dc.Queue(loop, "small", large_payloads=dc.PayloadOffload(bucket, threshold=1_000))
    # Attribute "a" of type String, value "bc": 1 + 6 + 2 = 9 bytes.
    q.send("y" * 991, message_attributes={"a": "bc"})  # exactly 1,000: stays in the message
    assert bucket.keys() == []
    q.send("y" * 992, message_attributes={"a": "bc"})  # 1,001: offloaded
    assert len(bucket.keys()) == 1
    bodies = sorted(len(m.body) for m in q.receive(10))
    assert bodies == [991, 992]


def test_always_offloads_every_non_empty_body(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    q = dc.Queue(loop, "all", large_payloads=dc.PayloadOffload(bucket, always=True))
    q.send("hi")
    [key] = bucket.keys()
    assert bucket.get(key).body == b"hi"
    [msg] = q.receive()
    assert msg.body == "hi"


def test_payload_larger_than_sqs_allows_travels_whole(queue: dc.Queue, bucket: dc.Bucket) -> None:
    body = "z" * (3 * 1024 * 1024)  # 3 MiB: three times SQS's largest message
    queue.send(body)
    [msg] = queue.receive()
    assert msg.body == body


def test_s3key_attribute_names_the_object(queue: dc.Queue, bucket: dc.Bucket) -> None:
    queue.send("q" * 300_000, message_attributes={"S3Key": "reports/7.txt"})
    assert bucket.keys() == ["reports/7.txt"]
    [msg] = queue.receive()
    assert msg.message_attributes == {"S3Key": dc.MessageAttributeValue("String", "reports/7.txt")}


def test_delete_on_delete_false_keeps_the_object_and_orphans_lists_it(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    offload = dc.PayloadOffload(bucket, delete_on_delete=False)
    q = dc.Queue(loop, "keep", large_payloads=offload)
    q.send("k" * 300_000)
    q.send("k" * 300_001)
    assert offload.orphans(q) == []
    [msg] = q.receive()
    q.delete(msg.receipt_handle)
    assert len(bucket.keys()) == 2
    [orphan] = offload.orphans(q)
    assert bucket.head(orphan).size == len(msg.body)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"message_attributes": {"ExtendedPayloadSize": "1"}}, errors.InvalidParameterValue,
         "ExtendedPayloadSize is reserved"),
        ({"message_attributes": {"SQSLargePayloadSize": "1"}}, errors.InvalidParameterValue,
         "SQSLargePayloadSize is reserved"),
        ({"message_attributes": {f"a{i}": "v" for i in range(10)}},
         errors.InvalidParameterValue, "Number of message attributes 10 exceeds the maximum "
         "allowed for large-payload messages 9"),
        ({"delay_seconds": 901}, errors.InvalidParameterValue, "DelaySeconds"),
        ({"message_attributes": {"": "v"}}, errors.InvalidParameterValue, "name"),
    ],
)
def test_a_refused_large_message_stores_nothing(
    queue: dc.Queue, bucket: dc.Bucket, kwargs: dict[str, object], error: type[Exception],
    text: str,
) -> None:
    with pytest.raises(error, match=text):
        queue.send("b" * 300_000, **kwargs)  # type: ignore[arg-type]
    assert bucket.keys() == []
    assert stored(queue) == []


def test_a_message_that_is_already_a_pointer_is_sent_as_it_is(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    bucket.put("k", b"forwarded")
    size = {"ExtendedPayloadSize": dc.MessageAttributeValue("Number", "9")}
    queue.send(lp.pointer_body("payloads", "k"), message_attributes=size)
    [(body, attributes)] = stored(queue)
    assert (body, attributes) == (lp.pointer_body("payloads", "k"), size)
    [msg] = queue.receive()
    assert msg.body == "forwarded"


def test_ten_attributes_are_fine_on_a_small_message(queue: dc.Queue, bucket: dc.Bucket) -> None:
    queue.send("small", message_attributes={f"a{i}": "v" for i in range(10)})
    [msg] = queue.receive()
    assert (msg.body, len(msg.message_attributes), bucket.keys()) == ("small", 10, [])


def test_missing_object_is_an_error_with_a_code_and_the_message_is_not_lost(
    loop: dc.EventLoop, queue: dc.Queue, bucket: dc.Bucket
) -> None:
    queue.send("m" * 300_000)
    [key] = bucket.keys()
    payload = bucket.get(key).body
    bucket.delete(key)
    with pytest.raises(errors.NoSuchKey) as caught:
        queue.receive(wait_seconds=0)
    assert caught.value.code == "NoSuchKey"
    assert key in caught.value.message and "stays in the queue" in caught.value.message
    assert queue.receive(wait_seconds=0) == []  # in flight for its visibility timeout
    loop.clock.advance(30)
    bucket.put(key, payload)  # the object is back: the message is whole again
    [msg] = queue.receive(wait_seconds=0)
    assert (msg.body, msg.receive_count) == ("m" * 300_000, 2)


def test_missing_object_message_goes_to_its_dlq_as_redrive_says(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    dlq = dc.Queue(loop, "jobs-dlq")
    q = dc.Queue(
        loop, "jobs", large_payloads=dc.PayloadOffload(bucket),
        redrive_policy=dc.RedrivePolicy(dlq.arn, max_receive_count=2),
    )
    q.send("d" * 300_000)
    [key] = bucket.keys()
    bucket.delete(key)
    for _ in range(2):
        with pytest.raises(errors.NoSuchKey):
            q.receive(wait_seconds=0)
        loop.clock.advance(30)
    assert q.receive(wait_seconds=0) == []
    [dead] = dlq.receive()  # no offload there: the pointer, as it was sent
    assert lp.parse_pointer(dead.body) == ("payloads", key)
    assert dead.message_attributes["ExtendedPayloadSize"].string_value == "300000"


def test_other_messages_of_a_failed_receive_are_visible_again_at_once(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    queue.send("g" * 300_000)
    [key] = bucket.keys()
    bucket.delete(key)
    queue.send("fine")
    with pytest.raises(errors.NoSuchKey):
        queue.receive(10)
    [msg] = queue.receive(10, wait_seconds=0)
    assert (msg.body, msg.receive_count) == ("fine", 2)


def test_missing_bucket_and_malformed_pointer_are_errors(
    loop: dc.EventLoop, queue: dc.Queue
) -> None:
    with lp.raw():  # what another client could have sent
        queue.send(lp.pointer_body("gone-bucket", "k"),
                   message_attributes={"ExtendedPayloadSize": dc.MessageAttributeValue("Number", "5")})
    with pytest.raises(errors.NoSuchBucket, match="gone-bucket"):
        queue.receive()
    loop.clock.advance(30)
    q2 = dc.Queue(loop, "other", large_payloads=queue.large_payloads)
    with lp.raw():
        q2.send("not a pointer", message_attributes={"ExtendedPayloadSize": "5"})
    with pytest.raises(errors.InvalidMessageContents, match="not a payload pointer"):
        q2.receive()


def test_legacy_pointer_and_attribute_are_read(queue: dc.Queue, bucket: dc.Bucket) -> None:
    bucket.put("old", b"legacy payload")
    body = json.dumps(["com.amazon.sqs.javamessaging.MessageS3Pointer",
                       {"s3BucketName": "payloads", "s3Key": "old"}])
    with lp.raw():
        queue.send(body, message_attributes={
            "SQSLargePayloadSize": dc.MessageAttributeValue("Number", "14")})
    [msg] = queue.receive()
    assert (msg.body, msg.message_attributes) == ("legacy payload", {})
    queue.delete(msg.receipt_handle)
    assert bucket.keys() == []


def test_plain_and_extended_handles_both_work(
    loop: dc.EventLoop, queue: dc.Queue, bucket: dc.Bucket
) -> None:
    queue.send("h" * 300_000)
    queue.send("h" * 300_001)
    msgs = queue.receive(10)
    assert len(msgs) == 2
    first, second = msgs
    queue.change_visibility(first.receipt_handle, 0)  # the extended handle
    [again] = queue.receive()
    plain = lp.plain_handle(again.receipt_handle)
    assert isinstance(plain, str) and "s3Key" not in plain
    queue.delete(plain)  # the queue's own handle deletes the object too
    result = queue.delete_batch([{"Id": "1", "ReceiptHandle": second.receipt_handle}])
    assert (len(result.successful), result.failed) == (1, [])
    assert bucket.keys() == []


def test_stale_handle_delete_keeps_the_payload_of_a_message_still_there(
    loop: dc.EventLoop, queue: dc.Queue, bucket: dc.Bucket
) -> None:
    queue.send("s" * 300_000)
    [old] = queue.receive()
    loop.clock.advance(30)
    [new] = queue.receive()  # received again: the first handle is stale
    queue.delete(old.receipt_handle)  # succeeds and does nothing, as SQS
    assert len(bucket.keys()) == 1
    queue.delete(new.receipt_handle)
    assert bucket.keys() == []


def test_fifo_queue_and_duplicates_store_once(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    q = dc.FifoQueue(loop, "orders.fifo", large_payloads=dc.PayloadOffload(bucket))
    first = q.send("f" * 300_000, message_group_id="g", message_deduplication_id="d1")
    again = q.send("f" * 300_000, message_group_id="g", message_deduplication_id="d1")
    assert again.message_id == first.message_id
    assert len(bucket.keys()) == 1
    q.send("small", message_group_id="g", message_deduplication_id="d2")
    [big, small] = q.receive(10)
    assert (big.body, small.body) == ("f" * 300_000, "small")
    q.delete(big.receipt_handle)
    q.delete(small.receipt_handle)
    assert bucket.keys() == []


def test_send_batch_offloads_large_entries_and_cleans_up_failed_ones(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    result = queue.send_batch([
        {"Id": "big", "MessageBody": "a" * 300_000},
        {"Id": "small", "MessageBody": "tiny"},
        {"Id": "bad", "MessageBody": "c" * 300_000, "DelaySeconds": 9_999},
    ])
    assert sorted(e["Id"] for e in result.successful) == ["big", "small"]
    assert [e["Id"] for e in result.failed] == ["bad"]
    assert len(bucket.keys()) == 1
    bodies = sorted(m.body for m in queue.receive(10))
    assert bodies == ["a" * 300_000, "tiny"]


def test_raw_calls_see_the_queue_as_sqs_does(queue: dc.Queue, bucket: dc.Bucket) -> None:
    with lp.raw():
        queue.send("r" * 300_000)
        assert bucket.keys() == []
    queue.send("r" * 300_000)
    with lp.raw():
        msgs = queue.receive(10)
    assert sorted(len(m.body) for m in msgs)[0] < 1_000  # the pointer, unresolved
    assert sorted(len(m.body) for m in msgs)[1] == 300_000


def test_existing_queue_takes_large_payloads_and_it_can_be_turned_off(
    loop: dc.EventLoop, bucket: dc.Bucket
) -> None:
    plain = dc.Queue(loop, "late")
    assert plain.large_payloads is None
    offload = dc.PayloadOffload(bucket)
    same = dc.Queue(loop, "late", large_payloads=offload)
    assert same is plain and plain.large_payloads is offload
    plain.large_payloads = None
    plain.send("p" * 300_000)
    assert bucket.keys() == []


def test_bad_configuration_is_refused(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    other = dc.EventLoop(clock=dc.ManualClock())
    with pytest.raises(errors.InvalidParameterValue, match="another EventLoop"):
        dc.Queue(other, "q", large_payloads=dc.PayloadOffload(bucket))
    assert other._lookup("sqs", "q") is None
    with pytest.raises(errors.InvalidParameterValue, match="must be a PayloadOffload"):
        dc.Queue(loop, "q", large_payloads="payloads")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidParameterValue, match="from 0 to 1048576"):
        dc.PayloadOffload(bucket, threshold=1_048_577)
    with pytest.raises(errors.InvalidParameterValue, match="needs a Bucket"):
        dc.PayloadOffload("payloads")
    with pytest.raises(errors.InvalidParameterValue, match="always must be True or False"):
        dc.PayloadOffload(bucket, always=1)  # type: ignore[arg-type]
    assert repr(dc.PayloadOffload(bucket)) == (
        "PayloadOffload(bucket='payloads', threshold=262144, always=False, delete_on_delete=True)"
    )


def test_pointer_helpers_round_trip() -> None:
    handle = lp.handle_with_pointer("b", "k-1-2", "abc/1")
    assert lp.split_handle(handle) == ("b", "k-1-2", "abc/1")
    assert lp.split_handle("abc/1") is None
    assert lp.plain_handle(handle) == "abc/1"
    with pytest.raises(errors.InvalidMessageContents):
        lp.parse_pointer('["other.Class", {"s3BucketName": "b", "s3Key": "k"}]')


def test_a_send_that_fails_after_the_object_write_leaves_no_object(
    queue: dc.Queue, bucket: dc.Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        assert len(bucket.keys()) == 1  # the object is written before the message
        raise RuntimeError("disk full")

    monkeypatch.setattr(queue, "_commit", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        queue.send("w" * 300_000)
    assert bucket.keys() == []
    assert stored(queue) == []


def test_send_batch_entry_the_extended_client_refuses_fails_alone(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    result = queue.send_batch([
        {"Id": "reserved", "MessageBody": "small",
         "MessageAttributes": {"ExtendedPayloadSize": {"DataType": "Number", "StringValue": "1"}}},
        {"Id": "ok", "MessageBody": "o" * 300_000},
    ])
    assert [e["Id"] for e in result.successful] == ["ok"]
    assert [(e["Id"], e["Code"]) for e in result.failed] == [
        ("reserved", "InvalidParameterValue")]
    assert "reserved for use by the SQS extended client" in result.failed[0]["Message"]
    [msg] = queue.receive(10)
    assert msg.body == "o" * 300_000
    only = queue.send_batch([{"Id": "a", "MessageBody": "x",
                              "MessageAttributes": {"SQSLargePayloadSize": "1"}}])
    assert (only.successful, [e["Id"] for e in only.failed]) == ([], ["a"])
    assert len(bucket.keys()) == 1


def test_asyncio_calls_offload_and_resolve_too(queue: dc.Queue, bucket: dc.Bucket) -> None:
    import asyncio

    async def main() -> str:
        waiting = asyncio.ensure_future(queue.receive_async(wait_seconds=20))
        await asyncio.sleep(0)
        await queue.send_async("a" * 300_000, message_attributes={"k": "v"})
        [msg] = await waiting
        await queue.delete_async(msg.receipt_handle)
        await queue.send_async("b" * 300_000)
        [again] = await queue.receive_async()
        await queue.delete_async(again.receipt_handle)
        return msg.body + again.body

    assert asyncio.run(main()) == "a" * 300_000 + "b" * 300_000
    assert bucket.keys() == []


# -- hostile input ------------------------------------------------------------------------------

_ANY_TEXT = st.text(st.characters(codec=None), max_size=40)  # lone surrogates included
_VALUES = st.one_of(_ANY_TEXT, st.integers(), st.binary(max_size=20), st.none(), st.floats())


@settings(max_examples=int(os.environ.get("DECOUPLING_FUZZ_EXAMPLES", 50)), deadline=None)
@given(
    body=st.one_of(_ANY_TEXT, st.integers(), st.none(), st.binary(max_size=10)),
    pad=st.sampled_from([0, 300_000]),
    attributes=st.one_of(st.none(), st.dictionaries(_ANY_TEXT, _VALUES, max_size=12)),
    always=st.booleans(),
)
def test_bad_input_raises_an_aws_error_and_stores_nothing(
    body: object, pad: int, attributes: dict[str, object] | None, always: bool
) -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    bucket = dc.Bucket(loop, "payloads")
    queue = dc.Queue(loop, "q", large_payloads=dc.PayloadOffload(bucket, always=always))
    if isinstance(body, str):
        body = body + "p" * pad
    try:
        queue.send(body, message_attributes=attributes)  # type: ignore[arg-type]
    except errors.DecouplingError:
        assert bucket.keys() == [] and stored(queue) == []
        return
    [msg] = queue.receive()
    assert msg.body == body
    sent = {k: v for k, v in msg.message_attributes.items()}
    assert lp.SIZE_ATTRIBUTE not in sent
    queue.delete(msg.receipt_handle)
    assert bucket.keys() == [] and stored(queue) == []


def test_delete_batch_with_the_queues_own_handles_deletes_the_payloads(
    queue: dc.Queue, bucket: dc.Bucket
) -> None:
    queue.send("a" * 300_000)
    queue.send("b" * 300_000)
    msgs = queue.receive(10)
    plain = [lp.plain_handle(m.receipt_handle) for m in msgs]
    assert all(isinstance(h, str) and "s3Key" not in h for h in plain)
    result = queue.delete_batch(plain)  # type: ignore[arg-type]
    assert (len(result.successful), result.failed) == (2, [])
    assert bucket.keys() == [] and stored(queue) == []
