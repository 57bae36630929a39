"""FifoQueue receiving: message groups, redelivery order, expiring receipt handles, receive
attempt ids, dead letters and the in-flight limit, on virtual time."""

from __future__ import annotations

import threading

import pytest

import decoupling as dc
from decoupling import errors


@pytest.fixture
def q(loop: dc.EventLoop) -> dc.FifoQueue:
    return dc.FifoQueue(loop, "q.fifo", content_based_deduplication=True)


def send(queue: dc.FifoQueue, *items: str) -> None:
    """Send ``"g1-m1"``-style bodies; the group is the part before the dash."""
    for body in items:
        queue.send(body, message_group_id=body.split("-")[0])


def bodies(messages: list[dc.Message]) -> list[str]:
    return [m.body for m in messages]


def expired(handle: str) -> str:
    return f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."


# -- what a received message carries --------------------------------------------------------


def test_every_field_of_a_plain_message_whichever_way_it_is_read(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    """A message sent with only a body and its ids keeps its fields until read: the receive
    builds the message from them, and an observer reading the entry's record first sees
    the same values (here group "b"'s record is read at its send)."""
    queue = dc.FifoQueue(loop, "fields.fifo")
    records: dict[str, tuple[object, ...]] = {}

    def observer(event: str, _: dc.Queue, entry: object) -> None:
        record = getattr(entry, "record", None)
        if event == "sent" and record is not None and record.group_id == "b":
            records["b"] = (record.message_id, record.body, record.attributes, record.sent_ms,
                            record.group_id, record.dedup_id, record.sequence_number,
                            record.dlq_source_arn, record.trace_header)

    queue.add_observer(observer)
    clock.advance(1.5)
    sent_a = queue.send("alpha", message_group_id="a", message_deduplication_id="d-a")
    clock.advance(0.25)
    sent_b = queue.send("beta", message_group_id="b", message_deduplication_id="d-b")
    clock.advance(2)
    wall = clock.wall_ms()
    assert records["b"] == (sent_b.message_id, "beta", None, wall - 2000, "b", "d-b",
                            "18000000000000200000", None, None)
    first = queue.receive()  # one message: built from the stored fields
    second = queue.receive(10)  # the general receive: "b"'s record was made at its send
    for [m], sent, body, group, sent_ms in (
        (first, sent_a, "alpha", "a", wall - 2250),
        (second, sent_b, "beta", "b", wall - 2000),
    ):
        assert (m.message_id, m.body, m.message_group_id, m.message_deduplication_id) == (
            sent.message_id, body, group, f"d-{group}")
        assert m.sequence_number == sent.sequence_number
        assert m.message_attributes == {}
        assert m.md5_of_body == sent.md5_of_message_body
        assert (m.dead_letter_queue_source_arn, m.aws_trace_header) == (None, None)
        assert m.attributes == {
            "SenderId": "000000000000",
            "SentTimestamp": str(sent_ms),
            "ApproximateReceiveCount": "1",
            "ApproximateFirstReceiveTimestamp": str(wall),
            "MessageGroupId": group,
            "MessageDeduplicationId": f"d-{group}",
            "SequenceNumber": sent.sequence_number,
        }
    clock.advance(31)  # both return; received again, their first receive time is kept
    again = queue.receive(10) + queue.receive(10)
    assert [(m.body, m.receive_count, m.first_receive_timestamp) for m in again] == [
        ("alpha", 2, wall), ("beta", 2, wall)]


def test_sent_timestamp_on_a_real_clock() -> None:
    """On a MonotonicClock the SentTimestamp a receive reports (worked out from the send
    time) and the one of the record made later agree, within the send's wall-clock span."""
    clock = dc.MonotonicClock()
    loop = dc.EventLoop(clock=clock)
    queue = dc.FifoQueue(loop, "real.fifo")
    before = clock.wall_ms()
    queue.send("x", message_group_id="g", message_deduplication_id="d")
    after = clock.wall_ms()
    [m] = queue.receive()
    assert before <= m.sent_timestamp <= after
    assert m.sent_timestamp <= m.first_receive_timestamp <= clock.wall_ms()
    record = queue._ledger.handles[m.receipt_handle].record  # made now, from the send time
    assert (record.message_id, record.sent_ms) == (m.message_id, m.sent_timestamp)


# -- groups ---------------------------------------------------------------------------------


def test_receive_takes_a_whole_group_before_the_next(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g2-m1", "g1-m2", "g1-m3")
    assert bodies(q.receive(10)) == ["g1-m1", "g1-m2", "g1-m3", "g2-m1"]


def test_receive_fills_from_the_first_group_then_the_next(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g1-m2", "g1-m3", "g2-m1", "g2-m2", "g3-m1")
    assert bodies(q.receive(4)) == ["g1-m1", "g1-m2", "g1-m3", "g2-m1"]
    assert bodies(q.receive(4)) == ["g3-m1"]  # g1 and g2 have messages in flight


def test_a_group_waits_while_its_message_is_in_flight(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g2-m1", "g1-m2", "g1-m3")
    first = q.receive()
    assert bodies(first) == ["g1-m1"]
    assert bodies(q.receive(10)) == ["g2-m1"]
    assert q.receive(10) == []
    assert q.approximate_number_of_messages == 2  # visible, but their group is locked
    q.delete(first[0].receipt_handle)
    assert bodies(q.receive(10)) == ["g1-m2", "g1-m3"]


def test_new_messages_of_a_locked_group_wait(q: dc.FifoQueue) -> None:
    send(q, "g1-m1")
    held = q.receive()
    send(q, "g1-m2")
    assert q.receive(10) == []
    q.delete(held[0].receipt_handle)
    assert bodies(q.receive(10)) == ["g1-m2"]


def test_redelivery_after_the_timeout_keeps_group_order(
    q: dc.FifoQueue, clock: dc.ManualClock
) -> None:
    send(q, "g1-m1", "g1-m2", "g1-m3", "g2-m1")
    assert bodies(q.receive(3, visibility_timeout=30)) == ["g1-m1", "g1-m2", "g1-m3"]
    clock.advance(29.999)
    assert bodies(q.receive(10, visibility_timeout=30)) == ["g2-m1"]
    clock.advance(0.001)
    again = q.receive(10)
    assert bodies(again) == ["g1-m1", "g1-m2", "g1-m3"]
    assert [m.receive_count for m in again] == [2, 2, 2]


def test_partial_delete_keeps_the_group_locked(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1", "g2-m1", "g1-m2", "g1-m3", "g3-m1")
    got = q.receive(2)
    assert bodies(got) == ["g1-m1", "g1-m2"]
    q.delete(got[0].receipt_handle)
    assert bodies(q.receive(10)) == ["g2-m1", "g3-m1"]  # g1-m3 waits behind g1-m2


def test_an_earlier_message_returned_early_can_go_out_again(q: dc.FifoQueue) -> None:
    # AWS-validated (LocalStack test_fifo_message_group_visibility_after_terminate_visibility_
    # timeout): only *later* messages wait behind one in flight.
    send(q, "g1-m1", "g1-m2", "g2-m1")
    got = q.receive(2)
    assert bodies(got) == ["g1-m1", "g1-m2"]
    q.change_visibility(got[0].receipt_handle, 0)
    again = q.receive(3)
    assert bodies(again) == ["g1-m1", "g2-m1"]  # g1-m2 is still in flight
    assert again[0].receive_count == 2


@pytest.mark.parametrize(
    ("extended", "expected"), [(0, []), (1, ["foo"]), (2, ["foo", "bar"])]
)
def test_messages_after_an_extended_one_wait(
    loop: dc.EventLoop, clock: dc.ManualClock, extended: int, expected: list[str]
) -> None:
    # AWS-validated (LocalStack test_fifo_group_visibility_extends_with_change_message_
    # visibility): the extended message and every later one of its group stay invisible.
    queue = dc.FifoQueue(loop, "x.fifo", visibility_timeout=1, content_based_deduplication=True)
    for body in ("foo", "bar", "baz"):
        queue.send(body, message_group_id="1")
    got = queue.receive(5)
    assert bodies(got) == ["foo", "bar", "baz"]
    queue.change_visibility(got[extended].receipt_handle, 4)
    clock.advance(2.5)
    assert bodies(queue.receive(5)) == expected


def test_zero_visibility_receive_frees_the_group(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g2-m1", "g2-m2", "g3-m1", "g1-m2")
    assert bodies(q.receive(3, visibility_timeout=0)) == ["g1-m1", "g1-m2", "g2-m1"]
    assert bodies(q.receive(10, visibility_timeout=0)) == [
        "g1-m1", "g1-m2", "g2-m1", "g2-m2", "g3-m1",
    ]


def test_long_poll_wakes_when_a_delete_frees_the_group(loop: dc.EventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    clock.autojump_threshold = None  # nobody jumps time: the waiter needs the delete
    queue = dc.FifoQueue(loop, "w.fifo", content_based_deduplication=True)
    send(queue, "g1-m1", "g1-m2")
    held = queue.receive()
    got: list[list[dc.Message]] = []
    waiter = threading.Thread(target=lambda: got.append(queue.receive(wait_seconds=20)))
    waiter.start()
    queue.delete(held[0].receipt_handle)
    waiter.join(5)
    assert not waiter.is_alive()
    assert bodies(got[0]) == ["g1-m2"]
    assert clock.now() == 0.0


# -- receipt handles ------------------------------------------------------------------------


def test_delete_after_the_visibility_timeout_fails(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1")
    handle = q.receive(visibility_timeout=30)[0].receipt_handle
    clock.advance(30)
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.delete(handle)
    assert info.value.message == expired(handle)
    with pytest.raises(errors.InvalidParameterValue, match="The receipt handle has expired."):
        q.change_visibility(handle, 10)
    assert bodies(q.receive()) == ["g1-m1"]  # not deleted


def test_handle_of_a_zero_visibility_receive_is_expired(q: dc.FifoQueue) -> None:
    send(q, "g1-m1")
    handle = q.receive(visibility_timeout=0)[0].receipt_handle
    with pytest.raises(errors.InvalidParameterValue, match="expired"):
        q.delete(handle)
    assert len(q) == 1


def test_extended_visibility_extends_the_handle(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1")
    handle = q.receive(visibility_timeout=1)[0].receipt_handle
    q.change_visibility(handle, 5)
    clock.advance(1.5)
    q.delete(handle)
    assert len(q) == 0


def test_superseded_handle_is_expired(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1")
    old = q.receive(visibility_timeout=10)[0].receipt_handle
    clock.advance(10)
    new = q.receive(visibility_timeout=10)[0].receipt_handle
    assert new != old
    with pytest.raises(errors.InvalidParameterValue, match="expired"):
        q.delete(old)
    q.delete(new)
    assert len(q) == 0


def test_deleting_twice_within_the_timeout_succeeds(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1")
    handle = q.receive(visibility_timeout=30)[0].receipt_handle
    q.delete(handle)
    clock.advance(29)
    q.delete(handle)  # a retried delete: still valid, does nothing
    with pytest.raises(errors.InvalidParameterValue, match="Message does not exist"):
        q.change_visibility(handle, 10)
    clock.advance(1)
    with pytest.raises(errors.InvalidParameterValue, match="expired"):
        q.delete(handle)


def test_handle_left_behind_by_a_dead_letter_move_is_expired(loop: dc.EventLoop) -> None:
    dlq = dc.FifoQueue(loop, "dlq.fifo")
    source = dc.FifoQueue(
        loop, "src.fifo", content_based_deduplication=True,
        redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1),
    )
    send(source, "g1-m1")
    handle = source.receive(visibility_timeout=0)[0].receipt_handle
    assert source.receive() == []  # moved to the DLQ
    with pytest.raises(errors.InvalidParameterValue, match="expired"):
        source.delete(handle)
    assert len(dlq) == 1


def test_foreign_handles_are_invalid(loop: dc.EventLoop, q: dc.FifoQueue) -> None:
    other = dc.FifoQueue(loop, "other.fifo", content_based_deduplication=True)
    send(other, "g1-m1")
    foreign = other.receive()[0].receipt_handle
    for handle in (foreign, "not-a-handle", ""):
        with pytest.raises(errors.ReceiptHandleIsInvalid):
            q.delete(handle)


def test_batch_reports_expired_handles_per_entry(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1", "g2-m1")
    stale = q.receive(visibility_timeout=5)[0].receipt_handle
    clock.advance(5)
    fresh = q.receive(10, visibility_timeout=60)
    assert bodies(fresh) == ["g1-m1", "g2-m1"]
    result = q.delete_batch(
        [{"Id": "old", "ReceiptHandle": stale},
         {"Id": "new", "ReceiptHandle": fresh[1].receipt_handle}]
    )
    assert result.successful == [{"Id": "new"}]
    assert result.failed == [
        {"Id": "old", "Code": "ReceiptHandleIsInvalid",
         "Message": "The receipt handle has expired", "SenderFault": True},
    ]
    result = q.change_visibility_batch(
        [{"Id": "old", "ReceiptHandle": stale, "VisibilityTimeout": 1}]
    )
    assert [f["Code"] for f in result.failed] == ["ReceiptHandleIsInvalid"]


# -- ReceiveRequestAttemptId ----------------------------------------------------------------


def test_retry_with_the_same_attempt_id_returns_the_same_messages(
    q: dc.FifoQueue, clock: dc.ManualClock
) -> None:
    send(q, "g1-m1", "g1-m2", "g2-m1")
    first = q.receive(2, receive_request_attempt_id="attempt-1")
    clock.advance(20)
    retry = q.receive(2, receive_request_attempt_id="attempt-1")
    assert [(m.message_id, m.receipt_handle, m.receive_count) for m in retry] == [
        (m.message_id, m.receipt_handle, 1) for m in first
    ]
    # The retry restarted the 30 s visibility timeout at t=20: the group is locked until 50.
    clock.advance(29)
    assert bodies(q.receive(10)) == ["g2-m1"]
    clock.advance(1)
    assert bodies(q.receive(10)) == ["g1-m1", "g1-m2"]


def test_a_different_attempt_id_is_a_new_receive(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g2-m1")
    assert bodies(q.receive(receive_request_attempt_id="a")) == ["g1-m1"]
    assert bodies(q.receive(receive_request_attempt_id="b")) == ["g2-m1"]


def test_attempt_is_void_once_a_message_is_deleted_or_changed(q: dc.FifoQueue) -> None:
    send(q, "g1-m1", "g1-m2", "g2-m1", "g3-m1")
    first = q.receive(2, receive_request_attempt_id="a")
    q.delete(first[0].receipt_handle)
    # Not retryable any more: a fresh receive (g1 is still locked by g1-m2).
    assert bodies(q.receive(1, receive_request_attempt_id="a")) == ["g2-m1"]
    second = q.receive(1, receive_request_attempt_id="b")
    assert bodies(second) == ["g3-m1"]
    q.change_visibility(second[0].receipt_handle, 100)
    assert q.receive(1, receive_request_attempt_id="b") == []


def test_attempt_id_lasts_five_minutes(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    queue = dc.FifoQueue(loop, "a.fifo", visibility_timeout=900, content_based_deduplication=True)
    send(queue, "g1-m1")
    first = queue.receive(receive_request_attempt_id="a")
    clock.advance(299)
    assert bodies(queue.receive(receive_request_attempt_id="a")) == ["g1-m1"]
    clock.advance(1)
    assert queue.receive(receive_request_attempt_id="a") == []  # expired; g1 is in flight
    assert first[0].receipt_handle in queue._ledger.handles


def test_attempt_after_the_messages_returned_is_a_new_receive(
    q: dc.FifoQueue, clock: dc.ManualClock
) -> None:
    send(q, "g1-m1")
    first = q.receive(visibility_timeout=10, receive_request_attempt_id="a")
    clock.advance(10)
    again = q.receive(visibility_timeout=10, receive_request_attempt_id="a")
    assert bodies(again) == ["g1-m1"]
    assert again[0].receipt_handle != first[0].receipt_handle
    assert again[0].receive_count == 2


def test_empty_receive_is_not_remembered(q: dc.FifoQueue) -> None:
    assert q.receive(receive_request_attempt_id="a") == []
    send(q, "g1-m1")
    assert bodies(q.receive(receive_request_attempt_id="a")) == ["g1-m1"]


@pytest.mark.parametrize("attempt_id", ["", "a" * 129, "has space"])
def test_invalid_attempt_ids(q: dc.FifoQueue, attempt_id: str) -> None:
    send(q, "g1-m1")
    with pytest.raises(errors.InvalidParameterValue, match="ReceiveRequestAttemptId"):
        q.receive(receive_request_attempt_id=attempt_id)
    assert q.approximate_number_of_messages == 1


def test_standard_queues_ignore_attempt_ids(loop: dc.EventLoop) -> None:
    queue = dc.Queue(loop, "std")
    queue.send("a")
    queue.send("b")
    assert bodies(queue.receive(receive_request_attempt_id="x")) == ["a"]
    assert bodies(queue.receive(receive_request_attempt_id="x")) == ["b"]


# -- dead letters ---------------------------------------------------------------------------


def test_head_moves_to_the_dead_letter_queue_and_the_group_unblocks(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    dlq = dc.FifoQueue(loop, "dlq.fifo", message_retention_period=60)
    source = dc.FifoQueue(
        loop, "src.fifo", content_based_deduplication=True,
        redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=2),
    )
    first = source.send("g1-m1", message_group_id="g1")
    source.send("g1-m2", message_group_id="g1")
    clock.advance(100)
    assert bodies(source.receive(1, visibility_timeout=0)) == ["g1-m1"]
    assert bodies(source.receive(1, visibility_timeout=0)) == ["g1-m1"]
    # The third receive would exceed maxReceiveCount: g1-m1 moves, g1-m2 comes out.
    assert bodies(source.receive(1)) == ["g1-m2"]
    dead = dlq.receive(visibility_timeout=0)[0]
    assert dead.body == "g1-m1"
    assert dead.message_id == first.message_id
    assert dead.message_group_id == "g1"
    assert dead.message_deduplication_id == first.message_id
    assert dead.sequence_number == "18000000000000100000"
    assert dead.dead_letter_queue_source_arn == source.arn
    assert dead.receive_count == 3
    # Retention restarted when it arrived (t=100): gone at 160, not at 60 after the send.
    clock.advance(59.999)
    assert len(dlq) == 1
    clock.advance(0.001)
    assert len(dlq) == 0


def test_dead_letter_queue_keeps_group_order(loop: dc.EventLoop) -> None:
    dlq = dc.FifoQueue(loop, "dlq.fifo")
    source = dc.FifoQueue(
        loop, "src.fifo", content_based_deduplication=True,
        redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1),
    )
    send(source, "g1-m1", "g1-m2", "g2-m1")
    assert bodies(source.receive(10, visibility_timeout=0)) == ["g1-m1", "g1-m2", "g2-m1"]
    assert source.receive(10) == []
    assert bodies(dlq.receive(10)) == ["g1-m1", "g1-m2", "g2-m1"]


# -- limits and purge -----------------------------------------------------------------------


def test_in_flight_limit_stalls_without_error(q: dc.FifoQueue) -> None:
    assert q.max_in_flight == 120_000
    q.max_in_flight = 3
    send(q, "a-1", "b-1", "c-1", "d-1", "e-1")
    got = q.receive(10)
    assert bodies(got) == ["a-1", "b-1", "c-1"]
    assert q.receive(10) == []
    assert q.receive(10, wait_seconds=1) == []
    q.delete(got[0].receipt_handle)
    assert bodies(q.receive(10)) == ["d-1"]


def test_in_flight_limit_counts_after_timeouts_end(q: dc.FifoQueue) -> None:
    q.max_in_flight = 2
    send(q, "g1-m1", "g1-m2")
    assert bodies(q.receive(10, visibility_timeout=0)) == ["g1-m1", "g1-m2"]
    # Their zero timeouts ended at once: nothing is in flight, so nothing stalls.
    assert bodies(q.receive(10, visibility_timeout=0)) == ["g1-m1", "g1-m2"]


def test_purge_clears_messages_attempts_and_handles(q: dc.FifoQueue, clock: dc.ManualClock) -> None:
    send(q, "g1-m1", "g2-m1")
    got = q.receive(1, receive_request_attempt_id="a")
    q.purge()
    assert len(q) == 0
    with pytest.raises(errors.InvalidParameterValue, match="expired"):
        q.delete(got[0].receipt_handle)
    assert q.receive(receive_request_attempt_id="a") == []
    send(q, "g1-m1")  # the deduplication window was cleared too
    assert bodies(q.receive()) == ["g1-m1"]


def test_retention_applies(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    queue = dc.FifoQueue(
        loop, "r.fifo", message_retention_period=60, content_based_deduplication=True
    )
    send(queue, "g1-m1", "g1-m2")
    clock.advance(60)
    assert len(queue) == 0
    assert queue.receive(10) == []


def test_a_move_task_gives_fifo_messages_new_ids_and_sequence_numbers(
    loop: dc.EventLoop,
) -> None:
    dlq = dc.FifoQueue(loop, "pay-dlq.fifo")
    src = dc.FifoQueue(loop, "pay.fifo", content_based_deduplication=True,
                       redrive_policy=dc.RedrivePolicy(dlq, 1))
    sent = src.send("debit 5", message_group_id="acct")
    assert src.receive(visibility_timeout=1)[0].message_id == sent.message_id
    loop.clock.advance(1)
    assert src.receive() == []  # the second receive dead-letters it
    later = src.send("credit 1", message_group_id="other")
    dlq.start_message_move_task()
    loop.clock.advance(0)
    [credit, back] = sorted(src.receive(10), key=lambda m: m.body)
    assert back.body == "debit 5"
    assert back.message_id != sent.message_id
    assert back.message_group_id == "acct"
    assert back.sequence_number is not None and later.sequence_number is not None
    assert int(back.sequence_number) > int(later.sequence_number)
    assert credit.sequence_number == later.sequence_number
