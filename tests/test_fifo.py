"""FifoQueue: names, attributes, sending, sequence numbers and the 5-minute deduplication window.

Receiving (groups, handles, attempt ids, dead letters) is in test_fifo_receive.py; the
real-clock concurrency test in test_fifo_realtime.py.
"""

from __future__ import annotations

import hashlib

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.message import md5_of_body
from decoupling.sqs.fifo import SEQUENCE_BASE, SEQUENCE_STEP


def seq(n: int) -> str:
    """The n-th sequence number a fresh queue issues."""
    return str(SEQUENCE_BASE + n * SEQUENCE_STEP)


@pytest.fixture
def q(loop: dc.EventLoop) -> dc.FifoQueue:
    return dc.FifoQueue(loop, "orders.fifo")


def bodies(messages: list[dc.Message]) -> list[str]:
    return [m.body for m in messages]


# -- names and attributes -------------------------------------------------------------------


def test_exported_from_the_package() -> None:
    assert "FifoQueue" in dc.__all__
    assert dc.FifoQueue.is_fifo is True
    assert issubclass(dc.FifoQueue, dc.Queue)


@pytest.mark.parametrize(
    "name", ["orders.fifo", "a.fifo", "x" * 75 + ".fifo", "A-b_9.fifo"]
)
def test_valid_names(loop: dc.EventLoop, name: str) -> None:
    queue = dc.FifoQueue(loop, name)
    assert queue.name == name
    assert queue.url == f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}"
    assert queue.arn == f"arn:aws:sqs:us-east-1:000000000000:{name}"


@pytest.mark.parametrize(
    "name", ["orders", ".fifo", "x" * 76 + ".fifo", "a b.fifo", "a.fifo.fifo", "a.FIFO", ""]
)
def test_invalid_names(loop: dc.EventLoop, name: str) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="ending in '.fifo'"):
        dc.FifoQueue(loop, name)
    assert loop._lookup("sqs", name) is None


def test_a_standard_queue_cannot_be_named_fifo(loop: dc.EventLoop) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        dc.Queue(loop, "orders.fifo")


def test_default_attributes(q: dc.FifoQueue) -> None:
    attrs = q.get_attributes()
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    assert q.get_attributes(["FifoQueue", "DelaySeconds"]) == {
        "FifoQueue": "true", "DelaySeconds": "0",
    }


def test_high_throughput_attributes(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(
        loop, "fast.fifo", content_based_deduplication=True,
        deduplication_scope="messageGroup", fifo_throughput_limit="perMessageGroupId",
    )
    attrs = queue.get_attributes()
    assert (attrs["ContentBasedDeduplication"], attrs["DeduplicationScope"],
            attrs["FifoThroughputLimit"]) == ("true", "messageGroup", "perMessageGroupId")
    assert queue.content_based_deduplication is True
    assert queue.deduplication_scope == "messageGroup"
    assert queue.fifo_throughput_limit == "perMessageGroupId"


def test_attributes_by_aws_name_override_keywords(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(
        loop, "a.fifo", content_based_deduplication=False,
        attributes={"ContentBasedDeduplication": "True", "VisibilityTimeout": "5"},
    )
    assert queue.content_based_deduplication is True
    assert queue.visibility_timeout == 5


def test_per_message_group_throughput_needs_message_group_scope(loop: dc.EventLoop) -> None:
    with pytest.raises(errors.InvalidAttributeValue, match="perMessageGroupId"):
        dc.FifoQueue(loop, "a.fifo", fifo_throughput_limit="perMessageGroupId")
    assert loop._lookup("sqs", "a.fifo") is None
    queue = dc.FifoQueue(loop, "b.fifo")
    with pytest.raises(errors.InvalidAttributeValue, match="perMessageGroupId"):
        queue.set_attributes({"FifoThroughputLimit": "perMessageGroupId", "VisibilityTimeout": 9})
    assert queue.get_attributes(["FifoThroughputLimit", "VisibilityTimeout"]) == {
        "FifoThroughputLimit": "perQueue", "VisibilityTimeout": "30",
    }
    queue.set_attributes(
        {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    assert queue.fifo_throughput_limit == "perMessageGroupId"
    # Going back to queue scope while perMessageGroupId stays is refused too.
    with pytest.raises(errors.InvalidAttributeValue):
        queue.set_attributes({"DeduplicationScope": "queue"})
    assert queue.deduplication_scope == "messageGroup"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DeduplicationScope", "group"),
        ("FifoThroughputLimit", "perGroup"),
        ("ContentBasedDeduplication", "yes"),
        ("ContentBasedDeduplication", 1),
    ],
)
def test_bad_fifo_attribute_values(q: dc.FifoQueue, name: str, value: object) -> None:
    before = q.get_attributes()
    with pytest.raises(errors.InvalidAttributeValue, match=name):
        q.set_attributes({name: value})
    assert q.get_attributes() == before


def test_fifo_queue_attribute_cannot_change(q: dc.FifoQueue, loop: dc.EventLoop) -> None:
    q.set_attributes({"FifoQueue": "true"})  # the same value is accepted
    with pytest.raises(errors.InvalidAttributeValue, match="Modifying queue type is not supported"):
        q.set_attributes({"FifoQueue": "false"})
    with pytest.raises(errors.InvalidAttributeValue, match="FifoQueue"):
        dc.FifoQueue(loop, "c.fifo", attributes={"FifoQueue": "false"})
    standard = dc.Queue(loop, "standard")
    with pytest.raises(errors.InvalidAttributeName, match="Unknown Attribute FifoQueue."):
        standard.set_attributes({"FifoQueue": "true"})
    with pytest.raises(errors.InvalidAttributeName):
        dc.Queue(loop, "standard2", attributes={"ContentBasedDeduplication": "true"})


def test_recreate_same_or_different(loop: dc.EventLoop) -> None:
    first = dc.FifoQueue(loop, "a.fifo", content_based_deduplication=True)
    assert dc.FifoQueue(loop, "a.fifo", content_based_deduplication=True) is first
    assert dc.FifoQueue(
        loop, "a.fifo", attributes={"ContentBasedDeduplication": "true"}
    ) is first
    with pytest.raises(errors.QueueAlreadyExists):
        dc.FifoQueue(loop, "a.fifo")


def test_dead_letter_queue_must_be_fifo(loop: dc.EventLoop) -> None:
    standard_dlq = dc.Queue(loop, "dlq")
    fifo_dlq = dc.FifoQueue(loop, "dlq.fifo")
    with pytest.raises(errors.InvalidAttributeValue, match="must also be a FIFO queue"):
        dc.FifoQueue(loop, "a.fifo", redrive_policy=dc.RedrivePolicy(standard_dlq, 3))
    with pytest.raises(errors.InvalidAttributeValue, match="must also be a standard queue"):
        dc.Queue(loop, "b", redrive_policy=dc.RedrivePolicy(fifo_dlq, 3))
    ok = dc.FifoQueue(loop, "c.fifo", redrive_policy=dc.RedrivePolicy(fifo_dlq, 3))
    assert ok.redrive_policy == dc.RedrivePolicy(fifo_dlq, 3)


# -- sending --------------------------------------------------------------------------------


def test_message_group_id_is_required(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.MissingParameter) as info:
        q.send("x", message_deduplication_id="d")
    assert info.value.code == "MissingParameter"
    assert info.value.message == "The request must contain the parameter MessageGroupId."
    assert len(q) == 0


def test_deduplication_id_or_content_based_is_required(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.send("x", message_group_id="g")
    assert info.value.message == (
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )
    assert len(q) == 0


@pytest.mark.parametrize("dedup_id", ["", "a" * 129, "group 123", "é", "tab\t"])
def test_invalid_deduplication_ids(q: dc.FifoQueue, dedup_id: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.send("x", message_group_id="g", message_deduplication_id=dedup_id)
    assert info.value.message == (
        f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: "
        "MessageDeduplicationId can only include alphanumeric and punctuation characters. "
        "1 to 128 in length."
    )
    assert len(q) == 0


@pytest.mark.parametrize("dedup_id", ["a" * 128, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "Z9"])
def test_valid_deduplication_ids(q: dc.FifoQueue, dedup_id: str) -> None:
    q.send("x", message_group_id="g", message_deduplication_id=dedup_id)
    assert q.receive()[0].message_deduplication_id == dedup_id


@pytest.mark.parametrize("group_id", ["", "a" * 129, "a b"])
def test_invalid_group_ids(q: dc.FifoQueue, group_id: str) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="parameter MessageGroupId is invalid"):
        q.send("x", message_group_id=group_id, message_deduplication_id="d")
    assert len(q) == 0


def test_per_message_delay_is_rejected(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.send("x", message_group_id="g", message_deduplication_id="d", delay_seconds=2)
    assert info.value.message == (
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter "
        "that is not valid for this queue type."
    )
    assert len(q) == 0
    # 0 is accepted (AWS accepts an explicit 0 and applies the queue's delay).
    q.send("x", message_group_id="g", message_deduplication_id="d", delay_seconds=0)
    assert bodies(q.receive()) == ["x"]


def test_queue_delay_applies(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    queue = dc.FifoQueue(loop, "late.fifo", delay_seconds=10, content_based_deduplication=True)
    queue.send("a", message_group_id="g", delay_seconds=0)
    queue.send("b", message_group_id="g")
    assert queue.approximate_number_of_messages_delayed == 2
    clock.advance(9.999)
    assert queue.receive(10) == []
    clock.advance(0.001)
    assert bodies(queue.receive(10)) == ["a", "b"]


def test_sequence_numbers(q: dc.FifoQueue) -> None:
    results = [
        q.send(f"m{i}", message_group_id=f"g{i % 2}", message_deduplication_id=f"d{i}")
        for i in range(3)
    ]
    assert [r.sequence_number for r in results] == [seq(1), seq(2), seq(3)]
    assert seq(1) == "18000000000000100000"
    assert all(len(r.sequence_number or "") == 20 for r in results)
    assert results[0].to_aws()["SequenceNumber"] == "18000000000000100000"
    received = q.receive(10) + q.receive(10)
    by_body = {m.body: m for m in received}
    assert by_body["m2"].sequence_number == seq(3)
    assert by_body["m2"].attributes["SequenceNumber"] == seq(3)
    assert by_body["m1"].attributes["MessageGroupId"] == "g1"
    assert by_body["m1"].attributes["MessageDeduplicationId"] == "d1"


def test_sequence_numbers_are_per_queue(loop: dc.EventLoop, q: dc.FifoQueue) -> None:
    other = dc.FifoQueue(loop, "other.fifo", content_based_deduplication=True)
    q.send("a", message_group_id="g", message_deduplication_id="a")
    assert other.send("b", message_group_id="g").sequence_number == seq(1)
    assert q.send("c", message_group_id="g", message_deduplication_id="c").sequence_number == seq(2)


# -- deduplication --------------------------------------------------------------------------


def test_duplicate_is_accepted_not_delivered(q: dc.FifoQueue) -> None:
    first = q.send("pay 10", message_group_id="acct-1", message_deduplication_id="tx-1")
    again = q.send("pay 10 (retry)", message_group_id="acct-1", message_deduplication_id="tx-1",
                   message_attributes={"try": "2"})
    assert again.message_id == first.message_id
    assert again.sequence_number == first.sequence_number == seq(1)
    # The MD5s describe what this request sent, so SDKs that check them are satisfied.
    assert again.md5_of_message_body == md5_of_body("pay 10 (retry)")
    assert again.md5_of_message_attributes is not None
    assert len(q) == 1
    assert bodies(q.receive(10)) == ["pay 10"]
    # The next real message takes the next sequence number.
    nxt = q.send("pay 20", message_group_id="acct-1", message_deduplication_id="tx-2")
    assert nxt.sequence_number == seq(2)


def test_duplicate_at_4_59_dropped_at_5_01_delivered(
    q: dc.FifoQueue, clock: dc.ManualClock
) -> None:
    first = q.send("first", message_group_id="g", message_deduplication_id="same")
    message = q.receive()[0]
    q.delete(message.receipt_handle)
    clock.advance(4 * 60 + 59)
    dup = q.send("dup at 4:59", message_group_id="g", message_deduplication_id="same")
    assert dup.message_id == first.message_id
    assert q.receive(10) == []
    assert len(q) == 0
    clock.advance(2)  # 5:01 after the first send
    late = q.send("at 5:01", message_group_id="g", message_deduplication_id="same")
    assert late.message_id != first.message_id
    assert late.sequence_number == seq(2)
    assert bodies(q.receive(10)) == ["at 5:01"]


def test_window_counts_from_the_first_send_not_the_duplicates(
    q: dc.FifoQueue, clock: dc.ManualClock
) -> None:
    q.send("a", message_group_id="g", message_deduplication_id="d")
    clock.advance(200)
    q.send("b", message_group_id="g", message_deduplication_id="d")  # duplicate
    clock.advance(100)  # exactly 300 s after the first: the window has ended
    q.send("c", message_group_id="g", message_deduplication_id="d")
    assert bodies(q.receive(10)) == ["a", "c"]


def test_deduplication_outlives_deletion(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    q.send("x", message_group_id="g", message_deduplication_id="d")
    q.delete(q.receive()[0].receipt_handle)
    clock.advance(60)
    q.send("x", message_group_id="g", message_deduplication_id="d")
    assert q.receive(10) == []


def test_purge_clears_the_window(q: dc.FifoQueue) -> None:
    q.send("x", message_group_id="g", message_deduplication_id="d")
    q.purge()
    result = q.send("x", message_group_id="g", message_deduplication_id="d")
    assert result.sequence_number == seq(2)
    assert bodies(q.receive(10)) == ["x"]


def test_content_based_deduplication(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(loop, "cbd.fifo", content_based_deduplication=True)
    a = queue.send('{"foo": "bar"}', message_group_id="g")
    b = queue.send('{"foo": "bar"}', message_group_id="g")
    c = queue.send('{"foo": "baz"}', message_group_id="g")
    # an explicit id wins over the body hash
    d = queue.send('{"foo": "bar"}', message_group_id="g", message_deduplication_id="explicit")
    assert b.message_id == a.message_id
    assert len({a.message_id, c.message_id, d.message_id}) == 3
    received = queue.receive(10)
    assert bodies(received) == ['{"foo": "bar"}', '{"foo": "baz"}', '{"foo": "bar"}']
    assert received[0].message_deduplication_id == hashlib.sha256(
        b'{"foo": "bar"}'
    ).hexdigest()
    assert received[2].message_deduplication_id == "explicit"


def test_content_based_deduplication_ignores_attributes(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(loop, "cbd.fifo", content_based_deduplication=True)
    queue.send("same", message_group_id="g", message_attributes={"n": 1})
    queue.send("same", message_group_id="g", message_attributes={"n": 2})
    assert len(queue) == 1


def test_turning_content_based_deduplication_on_later(q: dc.FifoQueue) -> None:
    q.set_attributes({"ContentBasedDeduplication": "true"})
    q.send("x", message_group_id="g")
    q.send("x", message_group_id="g")
    assert len(q) == 1


def test_message_group_scope(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(loop, "mg.fifo", deduplication_scope="messageGroup")
    a = queue.send("a", message_group_id="g1", message_deduplication_id="d")
    b = queue.send("b", message_group_id="g2", message_deduplication_id="d")
    c = queue.send("c", message_group_id="g1", message_deduplication_id="d")
    assert a.message_id != b.message_id
    assert c.message_id == a.message_id
    assert bodies(queue.receive(10)) == ["a", "b"]


def test_queue_scope_dedups_across_groups(q: dc.FifoQueue) -> None:
    a = q.send("a", message_group_id="g1", message_deduplication_id="d")
    b = q.send("b", message_group_id="g2", message_deduplication_id="d")
    assert b.message_id == a.message_id
    assert len(q) == 1


def test_scope_in_force_is_the_one_created_with(q: dc.FifoQueue) -> None:
    q.set_attributes(
        {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    assert q.get_attributes()["DeduplicationScope"] == "messageGroup"
    q.send("a", message_group_id="g1", message_deduplication_id="d")
    q.send("b", message_group_id="g2", message_deduplication_id="d")
    assert len(q) == 1


# -- batches --------------------------------------------------------------------------------


def test_send_batch_in_order_with_sequence_numbers(q: dc.FifoQueue) -> None:
    result = q.send_batch(
        [
            {"Id": "a", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
            {"Id": "b", "MessageBody": "2", "MessageGroupId": "g", "MessageDeduplicationId": "2"},
            {"Id": "c", "MessageBody": "1 again", "MessageGroupId": "g",
             "MessageDeduplicationId": "1"},
        ]
    )
    assert result.failed == []
    assert [(s["Id"], s["SequenceNumber"]) for s in result.successful] == [
        ("a", seq(1)), ("b", seq(2)), ("c", seq(1)),
    ]
    assert result.successful[2]["MessageId"] == result.successful[0]["MessageId"]
    assert bodies(q.receive(10)) == ["1", "2"]


def test_send_batch_entry_without_group_fails_the_whole_batch(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.MissingParameter) as info:
        q.send_batch(
            [
                {"Id": "a", "MessageBody": "1", "MessageGroupId": "g",
                 "MessageDeduplicationId": "1"},
                {"Id": "b", "MessageBody": "2", "MessageDeduplicationId": "2"},
            ]
        )
    assert info.value.message == "The request must contain the parameter MessageGroupId."
    assert len(q) == 0


def test_send_batch_entry_without_dedup_id_fails_the_whole_batch(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="ContentBasedDeduplication"):
        q.send_batch(
            [
                {"Id": "a", "MessageBody": "1", "MessageGroupId": "g",
                 "MessageDeduplicationId": "1"},
                {"Id": "b", "MessageBody": "2", "MessageGroupId": "g"},
            ]
        )
    assert len(q) == 0


def test_send_batch_other_bad_entries_fail_alone(loop: dc.EventLoop) -> None:
    queue = dc.FifoQueue(loop, "b.fifo", content_based_deduplication=True)
    result = queue.send_batch(
        [
            {"Id": "ok1", "MessageBody": "1", "MessageGroupId": "g"},
            {"Id": "delay", "MessageBody": "2", "MessageGroupId": "g", "DelaySeconds": 5},
            {"Id": "dedup", "MessageBody": "3", "MessageGroupId": "g",
             "MessageDeduplicationId": "has space"},
            {"Id": "ok2", "MessageBody": "4", "MessageGroupId": "g"},
        ]
    )
    assert [s["Id"] for s in result.successful] == ["ok1", "ok2"]
    assert [s["SequenceNumber"] for s in result.successful] == [seq(1), seq(2)]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result.failed] == [
        ("delay", "InvalidParameterValue", True),
        ("dedup", "InvalidParameterValue", True),
    ]
    assert result.failed[0]["Message"].startswith("Value 5 for parameter DelaySeconds is invalid.")
    assert bodies(queue.receive(10)) == ["1", "4"]


def test_send_batch_shape_errors_still_apply(q: dc.FifoQueue) -> None:
    with pytest.raises(errors.EmptyBatchRequest):
        q.send_batch([])
    with pytest.raises(errors.TooManyEntriesInBatchRequest):
        q.send_batch(
            [{"Id": str(i), "MessageBody": "x", "MessageGroupId": "g",
              "MessageDeduplicationId": str(i)} for i in range(11)]
        )


def test_the_common_send_and_receive_answer_as_the_general_path_does(loop: dc.EventLoop) -> None:
    """The plain FIFO send's result and the one-message receive's ``Message`` keep their empty
    fields as defaults (no attributes, no digests yet, no dead-letter source or trace header):
    each reads, compares, prints and takes new values as the general path's objects do."""
    queue = dc.FifoQueue(loop, "common.fifo")
    sent = queue.send("pay 10", message_group_id="g", message_deduplication_id="d1")
    duplicate = queue.send("pay 10", message_group_id="g", message_deduplication_id="d1")
    queue.send("pay 20", message_group_id="g2", message_deduplication_id="d2")
    md5 = md5_of_body("pay 10")
    assert sent.to_aws() == {"MessageId": sent.message_id, "MD5OfMessageBody": md5,
                             "SequenceNumber": seq(1)}
    assert sent.md5_of_message_attributes is None
    assert sent == duplicate == dc.SendResult(sent.message_id, md5, None, seq(1))
    assert hash(sent) == hash(dc.SendResult(sent.message_id, md5, None, seq(1)))
    assert repr(sent) == (f"SendResult(message_id={sent.message_id!r}, md5_of_message_body="
                          f"{md5!r}, md5_of_message_attributes=None, sequence_number='{seq(1)}')")
    [first] = queue.receive()
    [second] = queue.receive()
    assert (first.body, first.message_group_id, second.body) == ("pay 10", "g", "pay 20")
    assert first.message_attributes == second.message_attributes == {}
    first.message_attributes["note"] = dc.MessageAttributeValue("String", string_value="x")
    assert second.message_attributes == {}  # each message has its own dict
    assert first.md5_of_body == md5
    assert first.md5_of_message_attributes is not None
    assert (second.md5_of_message_attributes, second.dead_letter_queue_source_arn,
            second.aws_trace_header) == (None, None, None)
    second.aws_trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert second.attributes["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert repr(first) == f"Message(message_id={sent.message_id!r}, body='pay 10', receive_count=1)"
