"""Plain messages in flight (received from the backlog): their entry makes its record only when
read, and their ``Message`` leaves the empty fields as defaults. Nothing a user or an observer
sees may differ from any other message's."""

from __future__ import annotations

import copy
import pickle

import decoupling as dc
from decoupling.sqs.queue import _Record


def _queue(name: str = "q", **kwargs: object) -> tuple[dc.ManualClock, dc.EventLoop, dc.Queue]:
    clock = dc.ManualClock(epoch=1_800_000_000.0)
    loop = dc.EventLoop(clock=clock)
    return clock, loop, dc.Queue(loop, name, **kwargs)  # type: ignore[arg-type]


def test_an_observer_added_while_plain_messages_are_in_flight_reads_their_records() -> None:
    clock, _, q = _queue()
    sent = [q.send(f"m{i}") for i in range(3)]
    clock.advance(2)
    got = q.receive(10)
    seen: list[tuple[str, _Record]] = []
    q.add_observer(lambda event, queue, entry: seen.append((event, entry.record)))
    q.delete_batch([m.receipt_handle for m in got])
    assert [event for event, _ in seen] == ["deleted"] * 3
    records = [record for _, record in seen]
    assert [r.message_id for r in records] == [s.message_id for s in sent]
    assert [r.body for r in records] == ["m0", "m1", "m2"]
    assert [r.sent_ms for r in records] == [1_800_000_000_000] * 3
    assert [m.sent_timestamp for m in got] == [1_800_000_000_000] * 3
    assert [m.first_receive_timestamp for m in got] == [1_800_000_002_000] * 3
    assert all(r.attributes is None and r.group_id is None and r.trace_header is None
               for r in records)


def test_a_plain_message_redelivered_keeps_its_id_timestamps_and_counts() -> None:
    clock, _, q = _queue(visibility_timeout=10)
    q.send("a")
    clock.advance(1)
    first = q.receive(1)
    clock.advance(10)
    again = q.receive(1)
    assert [m.message_id for m in again] == [m.message_id for m in first]
    assert again[0].receive_count == 2
    assert again[0].first_receive_timestamp == first[0].first_receive_timestamp == 1_800_000_001_000
    assert again[0].sent_timestamp == first[0].sent_timestamp == 1_800_000_000_000
    assert again[0].receipt_handle != first[0].receipt_handle
    assert first[0].receive_count == 1  # a snapshot: the later receive changed nothing in it
    q.delete(first[0].receipt_handle)  # an older handle: succeeds and does nothing
    assert q.approximate_number_of_messages_not_visible == 1
    q.delete(again[0].receipt_handle)
    assert len(q) == 0


def test_a_plain_message_moved_to_the_dead_letter_queue_arrives_whole() -> None:
    clock, loop, dlq = _queue("dlq")
    q = dc.Queue(loop, "src", visibility_timeout=5,
                 redrive_policy=dc.RedrivePolicy(dlq.arn, max_receive_count=1))
    sent = q.send("poison")
    q.receive(1)
    clock.advance(5)
    assert q.receive(1) == []  # past maxReceiveCount: moved, not returned
    (moved,) = dlq.receive(1)
    assert moved.message_id == sent.message_id
    assert moved.body == "poison"
    assert moved.dead_letter_queue_source_arn == q.arn
    assert moved.receive_count == 2
    assert moved.sent_timestamp == 1_800_000_000_000


def test_the_message_of_a_plain_receive_reads_as_any_other() -> None:
    _, _, q = _queue()
    q.send("hello")
    q.send("world")
    a, b = q.receive(2)
    assert isinstance(a, dc.Message)
    assert a.message_attributes == {} and b.message_attributes == {}
    a.message_attributes["x"] = dc.MessageAttributeValue("String", "1")
    assert b.message_attributes == {}  # each message has its own dict
    assert (a.message_group_id, a.message_deduplication_id, a.sequence_number) == (None,) * 3
    assert (a.dead_letter_queue_source_arn, a.aws_trace_header) == (None, None)
    assert a.md5_of_body == "5d41402abc4b2a76b9719d911017c592"
    assert a.md5_of_message_attributes is not None  # the attribute set above counts
    assert b.md5_of_message_attributes is None
    assert b.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": "1800000000000",
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": "1800000000000",
    }
    for clone in (copy.copy(b), pickle.loads(pickle.dumps(b))):
        assert (clone.message_id, clone.body, clone.receipt_handle) == (
            b.message_id, b.body, b.receipt_handle)
        assert clone.message_attributes == {} and clone.aws_trace_header is None
    b.aws_trace_header = "Root=1"
    assert b.aws_trace_header == "Root=1"
    q.delete_batch([a.receipt_handle, b.receipt_handle])
    assert len(q) == 0
