"""One behaviour suite for every backend: in process, durable (SQLite) and AWS (moto's HTTP
server). The same calls give the same results and the same exception classes and codes.

Tests marked ``virtual_time`` need a ManualClock and are skipped for AWS. The AWS runs use
long polls of at most 1 s.

What moto 5.2.1 does not model (so not asserted for AWS here), or models differently:

* ``SendMessage`` on a FIFO queue returns no ``SequenceNumber``, and a duplicate send (within
  the deduplication window) gets a new ``MessageId`` instead of the first send's.
* ``CreatedTimestamp`` / ``LastModifiedTimestamp`` are fractional seconds (SQS: integers).
* Counts (``ApproximateNumberOfMessages*``) are exact, where SQS's are approximate; the
  assertions below hold on both.
* ``PurgeQueue``'s 60-second rule and ``QueueDeletedRecently`` are not enforced.
* Long polls return as soon as a message arrives (as SQS); receive sampling of short polls
  is not modelled (every short poll sees every message).
* ``CreateTopic`` with attributes that differ from the existing topic's answers with the
  topic instead of ``InvalidParameter`` ("Topic already exists with different attributes").
* Concurrent deletes on one queue race: moto rebuilds the queue's message list without a lock,
  so two delete requests served at once can undo each other (the batching test in
  test_aws_backend.py therefore checks its requests and results, not the queue's length).
* SNS deliveries to SQS ignore the queue policy (real SNS needs it: ``Topic.subscribe``
  writes it, checked in test_aws_backend.py by reading it back).

Known divergence between the backends, by design (issue #18): ``send_batch``,
``delete_batch`` and ``change_visibility_batch`` of more than 10 entries are split into
requests of 10 on AWS; in process they raise ``TooManyEntriesInBatchRequest``
(test_aws_backend.py::test_batches_of_more_than_ten_are_split).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


def _receive(queue: dc.Queue, n: int = 10, **kwargs: Any) -> list[dc.Message]:
    kwargs.setdefault("wait_seconds", 1)
    return queue.receive(n, **kwargs)


def test_send_receive_delete_round_trip(backend: Any) -> None:
    queue = dc.Queue(backend, "orders", visibility_timeout=30)
    sent = queue.send("order-1", message_attributes={"kind": "book", "n": 3})
    [message] = _receive(queue)
    assert message.message_id == sent.message_id
    assert message.body == "order-1"
    assert message.receive_count == 1
    assert message.attributes["ApproximateReceiveCount"] == "1"
    assert message.message_attributes == {
        "kind": dc.MessageAttributeValue("String", "book"),
        "n": dc.MessageAttributeValue("Number", "3"),
    }
    assert sent.md5_of_message_body == message.md5_of_body == "6e7f85a9d0fe9b5dfb504c6f2991d744"
    assert _receive(queue, wait_seconds=0) == []  # in flight
    queue.delete(message.receipt_handle)
    assert queue.get_attributes(["ApproximateNumberOfMessages",
                                 "ApproximateNumberOfMessagesNotVisible"]) == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_change_visibility_zero_redelivers_with_a_new_count(backend: Any) -> None:
    queue = dc.Queue(backend, "jobs", visibility_timeout=60)
    queue.send("job")
    first = _receive(queue)[0]
    queue.change_visibility(first.receipt_handle, 0)
    again = _receive(queue)[0]
    assert (again.message_id, again.receive_count) == (first.message_id, 2)
    assert again.receipt_handle != first.receipt_handle


def test_batches_report_each_entry(backend: Any) -> None:
    queue = dc.Queue(backend, "batch")
    result = queue.send_batch([
        {"Id": "a", "MessageBody": "one"},
        {"Id": "b", "MessageBody": "bad \x00 body"},
        {"Id": "c", "MessageBody": "three", "MessageAttributes": {"k": "v"}},
    ])
    assert [ok["Id"] for ok in result.successful] == ["a", "c"]
    assert [(bad["Id"], bad["Code"], bad["SenderFault"]) for bad in result.failed] == [
        ("b", "InvalidMessageContents", True)]
    messages = _receive(queue)
    while len(messages) < 2:
        messages += _receive(queue)
    assert sorted(m.body for m in messages) == ["one", "three"]
    deleted = queue.delete_batch([
        {"Id": f"d{i}", "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)])
    assert len(deleted.successful) == 2 and deleted.failed == []
    assert len(queue) == 0


def test_existing_queue_is_attached_and_different_attributes_refused(backend: Any) -> None:
    first = dc.Queue(backend, "shared", visibility_timeout=45)
    again = dc.Queue(backend, "shared", visibility_timeout=45)
    bare = dc.Queue(backend, "shared")
    assert again.arn == bare.arn == first.arn
    assert first.arn.endswith(":shared")
    with pytest.raises(errors.QueueAlreadyExists) as caught:
        dc.Queue(backend, "shared", visibility_timeout=46)
    assert caught.value.code == "QueueAlreadyExists"


def test_attributes_and_tags_round_trip(backend: Any) -> None:
    queue = dc.Queue(backend, "attrs", visibility_timeout=45, delay_seconds=2,
                     tags={"team": "orders"})
    assert queue.get_attributes(["VisibilityTimeout", "DelaySeconds"]) == {
        "VisibilityTimeout": "45", "DelaySeconds": "2"}
    queue.set_attributes({"VisibilityTimeout": 60, "DelaySeconds": "0"})
    assert queue.visibility_timeout == 60
    assert queue.delay_seconds == 0
    queue.tag({"env": "test"})
    assert queue.list_tags() == {"team": "orders", "env": "test"}
    queue.untag(["team"])
    assert queue.list_tags() == {"env": "test"}


def test_redrive_policy_moves_to_the_dead_letter_queue(backend: Any) -> None:
    dlq = dc.Queue(backend, "jobs-dlq")
    queue = dc.Queue(backend, "jobs", visibility_timeout=60,
                     redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    assert queue.redrive_policy == dc.RedrivePolicy(dlq.arn, 1)
    sent = queue.send("poison")
    first = _receive(queue)[0]
    queue.change_visibility(first.receipt_handle, 0)
    assert _receive(queue, wait_seconds=0) == []  # the second receive moved it
    [dead] = _receive(dlq)
    assert (dead.message_id, dead.body) == (sent.message_id, "poison")


def test_purge_empties_the_queue(backend: Any) -> None:
    queue = dc.Queue(backend, "purged")
    queue.send_batch(["a", "b", "c"])
    assert len(queue) == 3
    queue.purge()
    assert len(queue) == 0
    assert _receive(queue, wait_seconds=0) == []


def test_deleted_queue_does_not_exist(backend: Any) -> None:
    queue = dc.Queue(backend, "gone")
    queue.delete_queue()
    with pytest.raises(errors.QueueDoesNotExist) as caught:
        queue.send("x")
    assert caught.value.code == "QueueDoesNotExist"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda q: q.receive(11), errors.InvalidParameterValue),
        (lambda q: q.receive(0), errors.InvalidParameterValue),
        (lambda q: q.receive(1, wait_seconds=21), errors.InvalidParameterValue),
        (lambda q: q.receive(1, visibility_timeout=43_201), errors.InvalidParameterValue),
        (lambda q: q.send(""), errors.MissingParameter),
        (lambda q: q.send("nul \x00"), errors.InvalidMessageContents),
        (lambda q: q.send("x", delay_seconds=901), errors.InvalidParameterValue),
        (lambda q: q.send("x", message_attributes={"AWS.x": "v"}), errors.InvalidParameterValue),
        (lambda q: q.send("x", message_attributes={"n": {"DataType": "Number",
                                                          "StringValue": "abc"}}),
         errors.InvalidParameterValue),
        (lambda q: q.send_batch([]), errors.EmptyBatchRequest),
        (lambda q: q.send_batch([{"Id": "a", "MessageBody": "1"},
                                 {"Id": "a", "MessageBody": "2"}]),
         errors.BatchEntryIdsNotDistinct),
        (lambda q: q.send_batch([{"Id": "no spaces", "MessageBody": "1"}]),
         errors.InvalidBatchEntryId),
        (lambda q: q.delete_batch([]), errors.EmptyBatchRequest),
        (lambda q: q.get_attributes(["NoSuchAttribute"]), errors.InvalidAttributeName),
        (lambda q: q.set_attributes({"NoSuchAttribute": "1"}), errors.InvalidAttributeName),
        (lambda q: q.change_visibility(12345, 10), errors.ReceiptHandleIsInvalid),
    ],
)
def test_bad_input_gets_the_same_class_and_code(backend: Any, call: Any, error: type) -> None:
    queue = dc.Queue(backend, "strict")
    queue.send("kept")
    with pytest.raises(error) as caught:
        call(queue)
    assert caught.value.code == error.code
    assert len(queue) == 1  # nothing changed


def test_bad_names_and_handles(backend: Any) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        dc.Queue(backend, "bad name!")
    with pytest.raises(errors.InvalidParameterValue):
        dc.FifoQueue(backend, "no-suffix")
    queue = dc.Queue(backend, "handles")
    with pytest.raises(errors.ReceiptHandleIsInvalid) as caught:
        queue.delete("not-a-handle-this-queue-issued")
    assert caught.value.code == "ReceiptHandleIsInvalid"


def test_fifo_keeps_group_order_and_drops_duplicates(backend: Any) -> None:
    queue = dc.FifoQueue(backend, "payments.fifo", content_based_deduplication=True)
    first = queue.send("debit 10", message_group_id="acct-1")
    queue.send("credit 5", message_group_id="acct-1")
    duplicate = queue.send("debit 10", message_group_id="acct-1")
    if isinstance(backend, dc.EventLoop):  # moto answers a duplicate with a new MessageId
        assert duplicate.message_id == first.message_id
    batch = _receive(queue)
    assert [m.body for m in batch] == ["debit 10", "credit 5"]
    assert all(m.message_group_id == "acct-1" for m in batch)
    assert _receive(queue, wait_seconds=0) == []  # the group is locked while in flight
    with pytest.raises(errors.MissingParameter):
        queue.send("no group")
    with pytest.raises(errors.MissingParameter):  # the whole batch, nothing sent
        queue.send_batch([{"Id": "a", "MessageBody": "x", "MessageGroupId": "g"},
                          {"Id": "b", "MessageBody": "y"}])
    assert len(queue) == 2  # the two received above, still in flight
    assert queue.content_based_deduplication is True


def test_topic_fans_out_with_filters_and_raw_delivery(backend: Any) -> None:
    topic = dc.Topic(backend, "order-events")
    inventory = dc.Queue(backend, "inventory")
    billing = dc.Queue(backend, "billing")
    audit = dc.Queue(backend, "audit")
    topic.subscribe(inventory, raw_message_delivery=True)
    topic.subscribe(billing, filter_policy={"kind": ["book"]}, raw_message_delivery=True)
    topic.subscribe(audit)
    result = topic.publish('{"order": 1}', subject="New order",
                           message_attributes={"kind": "pen"})
    [raw] = _receive(inventory)
    assert raw.body == '{"order": 1}'
    assert _receive(billing, wait_seconds=0) == []
    [wrapped] = _receive(audit)
    envelope = json.loads(wrapped.body)
    assert (envelope["Type"], envelope["Message"], envelope["Subject"], envelope["MessageId"]) == (
        "Notification", '{"order": 1}', "New order", result.message_id)
    assert envelope["TopicArn"] == topic.arn
    assert envelope["MessageAttributes"]["kind"] == {"Type": "String", "Value": "pen"}
    topic.publish("a book", message_attributes={"kind": "book"})
    assert [m.body for m in _receive(billing)] == ["a book"]
    assert sorted(s["Endpoint"] for s in topic.list_subscriptions()) == sorted(
        [inventory.arn, billing.arn, audit.arn])


def test_topic_batch_and_bad_input(backend: Any) -> None:
    topic = dc.Topic(backend, "batched")
    queue = dc.Queue(backend, "sink")
    topic.subscribe(queue, raw_message_delivery=True)
    result = topic.publish_batch(["one", {"Id": "x", "Message": "two"}])
    assert [ok["Id"] for ok in result.successful] == ["0", "x"]
    bodies: list[str] = []
    while len(bodies) < 2:
        bodies += [m.body for m in _receive(queue)]
    assert sorted(bodies) == ["one", "two"]
    with pytest.raises(errors.InvalidParameter) as caught:
        dc.Topic(backend, "bad name!")
    assert caught.value.code == "InvalidParameter"
    with pytest.raises(errors.InvalidParameter):
        topic.publish("x", subject="")


@pytest.mark.virtual_time
def test_visibility_timeout_returns_the_message(backend: Any) -> None:
    queue = dc.Queue(backend, "vt", visibility_timeout=30)
    queue.send("m")
    first = queue.receive()[0]
    backend.clock.advance(29)
    assert queue.receive() == []
    backend.clock.advance(1)
    assert queue.receive()[0].message_id == first.message_id


def test_existing_topic_is_attached_and_different_attributes_refused(backend: Any) -> None:
    first = dc.Topic(backend, "shared-topic", display_name="Shop")
    again = dc.Topic(backend, "shared-topic", display_name="Shop")
    assert again.arn == first.arn and first.arn.endswith(":shared-topic")
    if isinstance(backend, dc.EventLoop):  # moto re-creates a topic with other attributes
        with pytest.raises(errors.InvalidParameter) as caught:
            dc.Topic(backend, "shared-topic", display_name="Other")
        assert caught.value.code == "InvalidParameter"


def test_fifo_topic_delivers_to_a_fifo_queue_in_order(backend: Any) -> None:
    topic = dc.Topic(backend, "ledger.fifo", content_based_deduplication=True)
    queue = dc.FifoQueue(backend, "ledger.fifo", content_based_deduplication=True)
    topic.subscribe(queue, raw_message_delivery=True)
    for body in ("open", "debit", "close"):
        topic.publish(body, message_group_id="acct-1")
    with pytest.raises(errors.InvalidParameter):
        topic.publish("no group")
    messages: list[dc.Message] = []
    while len(messages) < 3:
        got = _receive(queue)
        assert got
        messages += got
        queue.delete_batch([m.receipt_handle for m in got])
    assert [m.body for m in messages] == ["open", "debit", "close"]
    assert {m.message_group_id for m in messages} == {"acct-1"}
