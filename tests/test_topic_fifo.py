"""FIFO topics: groups, deduplication (topic or group scope), sequence numbers, FIFO queues."""

from __future__ import annotations

import hashlib
import json

import pytest

import decoupling as dc
from decoupling import errors

FIFO_ENVELOPE_KEYS = ["Type", "MessageId", "SequenceNumber", "TopicArn", "Subject", "Message",
                      "Timestamp", "UnsubscribeURL", "MessageAttributes"]


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "prices.fifo")


@pytest.fixture
def queue(loop: dc.EventLoop, topic: dc.Topic) -> dc.FifoQueue:
    q = dc.FifoQueue(loop, "prices.fifo")
    topic.subscribe(q)
    return q


def drain_queue(queue: dc.Queue) -> list[dc.Message]:
    out: list[dc.Message] = []
    while batch := queue.receive(max_messages=10):
        out += batch
        for m in batch:
            queue.delete(m.receipt_handle)
    return out


def test_fifo_envelope_and_sqs_fifo_attributes(
    topic: dc.Topic, queue: dc.FifoQueue
) -> None:
    result = topic.publish("price 10", subject="S", message_attributes={"sku": "a"},
                           message_group_id="sku-a", message_deduplication_id="d1")
    assert result.sequence_number is not None and result.sequence_number.isdigit()
    (message,) = drain_queue(queue)
    envelope = json.loads(message.body)
    assert list(envelope) == FIFO_ENVELOPE_KEYS  # no signature fields on FIFO topics
    assert (envelope["MessageId"], envelope["SequenceNumber"]) == (
        result.message_id, result.sequence_number)
    assert (message.message_group_id, message.message_deduplication_id) == ("sku-a", "d1")
    assert message.sequence_number is not None  # the queue's own sequence number


def test_sequence_numbers_increase(topic: dc.Topic, queue: dc.FifoQueue) -> None:
    numbers = [int(topic.publish(f"m{i}", message_group_id="g",
                                 message_deduplication_id=f"d{i}").sequence_number or 0)
               for i in range(5)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert len(str(numbers[0])) == 20


def test_order_within_a_group(topic: dc.Topic, queue: dc.FifoQueue) -> None:
    for i in range(25):
        topic.publish(f"{i}", message_group_id="g", message_deduplication_id=str(i))
    assert [json.loads(m.body)["Message"] for m in drain_queue(queue)] == [
        str(i) for i in range(25)]


def test_group_id_is_required(topic: dc.Topic) -> None:
    with pytest.raises(errors.InvalidParameter,
                       match="The MessageGroupId parameter is required for FIFO topics"):
        topic.publish("m", message_deduplication_id="d")


def test_dedup_id_or_content_based_dedup_is_required(topic: dc.Topic) -> None:
    with pytest.raises(errors.InvalidParameter,
                       match="either have ContentBasedDeduplication enabled or "
                             "MessageDeduplicationId provided explicitly"):
        topic.publish("m", message_group_id="g")


def test_duplicates_within_five_minutes_are_accepted_not_delivered(
    clock: dc.ManualClock, topic: dc.Topic, queue: dc.FifoQueue
) -> None:
    first = topic.publish("a", message_group_id="g", message_deduplication_id="same")
    clock.advance(299)
    again = topic.publish("b", message_group_id="g", message_deduplication_id="same")
    assert again == first
    clock.advance(1)
    third = topic.publish("c", message_group_id="g", message_deduplication_id="same")
    assert third.message_id != first.message_id
    assert [json.loads(m.body)["Message"] for m in drain_queue(queue)] == ["a", "c"]


def test_content_based_deduplication_hashes_the_body_only(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "cbd.fifo", content_based_deduplication=True)
    queue = dc.FifoQueue(loop, "cbd.fifo")
    topic.subscribe(queue, raw_message_delivery=True)
    first = topic.publish("same body", message_group_id="g", message_attributes={"v": "1"})
    second = topic.publish("same body", message_group_id="h", message_attributes={"v": "2"})
    assert second == first
    topic.publish("other body", message_group_id="g")
    messages = drain_queue(queue)
    assert [m.body for m in messages] == ["same body", "other body"]
    assert messages[0].message_deduplication_id == hashlib.sha256(b"same body").hexdigest()


def test_message_group_throughput_scope_deduplicates_per_group(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "scoped.fifo", fifo_throughput_scope="MessageGroup")
    queue = dc.FifoQueue(loop, "scoped-q.fifo", attributes={"DeduplicationScope": "messageGroup",
                                                            "FifoThroughputLimit":
                                                                "perMessageGroupId"})
    topic.subscribe(queue)
    a = topic.publish("a", message_group_id="g1", message_deduplication_id="d")
    b = topic.publish("b", message_group_id="g2", message_deduplication_id="d")
    assert a != b
    assert topic.publish("c", message_group_id="g1", message_deduplication_id="d") == a
    assert sorted(json.loads(m.body)["Message"] for m in drain_queue(queue)) == ["a", "b"]
    topic.set_attribute("FifoThroughputScope", "Topic")
    assert topic.get_attributes()["FifoThroughputScope"] == "Topic"


def test_fifo_topic_delivers_to_standard_queues_too(loop: dc.EventLoop, topic: dc.Topic) -> None:
    standard = dc.Queue(loop, "analytics")
    topic.subscribe(standard)
    topic.publish("m", message_group_id="g", message_deduplication_id="d")
    (message,) = standard.receive(max_messages=10)
    assert message.message_group_id is None  # best-effort ordering, no group on standard
    assert json.loads(message.body)["SequenceNumber"]


def test_only_sqs_subscribes_to_fifo_topics(topic: dc.Topic) -> None:
    for endpoint, proto in [("a@example.com", "email"), ("+15551234567", "sms"),
                            (lambda n: None, "application")]:
        with pytest.raises(errors.InvalidParameter, match="FIFO topics deliver to SQS queues"):
            topic.subscribe(endpoint, proto)


def test_at_most_100_subscriptions(topic: dc.Topic) -> None:
    for i in range(100):
        topic.subscribe(f"arn:aws:sqs:us-east-1:000000000000:q{i}.fifo")
    with pytest.raises(errors.SubscriptionLimitExceeded, match="at most 100"):
        topic.subscribe("arn:aws:sqs:us-east-1:000000000000:one-more.fifo")


def test_fifo_subscription_needs_a_fifo_dlq(loop: dc.EventLoop, topic: dc.Topic,
                                           queue: dc.FifoQueue) -> None:
    sub = topic.subscriptions[0]
    with pytest.raises(errors.InvalidParameter,
                       match="must use a FIFO queue as DLQ for a FIFO Subscription"):
        sub.set_attribute("RedrivePolicy", dc.Queue(loop, "plain-dlq"))
    sub.set_attribute("RedrivePolicy", dc.FifoQueue(loop, "dlq.fifo"))


def test_fifo_dead_letters_keep_group_and_dedup_ids(loop: dc.EventLoop, topic: dc.Topic) -> None:
    gone = dc.FifoQueue(loop, "gone.fifo")
    dlq = dc.FifoQueue(loop, "gone-dlq.fifo")
    topic.subscribe(gone, redrive_policy=dlq)
    gone.delete_queue()
    topic.publish("m", message_group_id="g", message_deduplication_id="d")
    (dead,) = drain_queue(dlq)
    assert (dead.message_group_id, dead.message_deduplication_id) == ("g", "d")


def test_fifo_publish_batch(topic: dc.Topic, queue: dc.FifoQueue) -> None:
    result = topic.publish_batch([
        {"Id": "1", "Message": "a", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
        {"Id": "2", "Message": "b", "MessageGroupId": "g", "MessageDeduplicationId": "2"},
        {"Id": "3", "Message": "c", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
    ])
    assert [set(e) for e in result.successful] == [{"Id", "MessageId", "SequenceNumber"}] * 3
    assert result.successful[2]["MessageId"] == result.successful[0]["MessageId"]
    assert int(result.successful[1]["SequenceNumber"]) > int(result.successful[0]["SequenceNumber"])
    assert [json.loads(m.body)["Message"] for m in drain_queue(queue)] == ["a", "b"]
    with pytest.raises(errors.InvalidParameter, match="MessageGroupId parameter is required"):
        topic.publish_batch([{"Id": "1", "Message": "x", "MessageDeduplicationId": "x"}])
    with pytest.raises(errors.InvalidParameter, match="ContentBasedDeduplication"):
        topic.publish_batch([{"Id": "1", "Message": "x", "MessageGroupId": "g"}])
