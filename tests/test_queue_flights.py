"""Messages one receive took from the backlog of a plain queue are held in flight together (one
flight, no entry per message) until something other than a delete needs one of them. Nothing a
user sees may differ: partial deletes, expiry, visibility changes, retention, purge, observers,
stale and repeated handles, and the index sizes stay bounded."""

from __future__ import annotations

import random
from typing import Any

import decoupling as dc


def _queue(**kwargs: Any) -> tuple[dc.ManualClock, dc.Queue]:
    clock = dc.ManualClock(epoch=1_800_000_000.0)
    loop = dc.EventLoop(clock=clock)
    return clock, dc.Queue(loop, "q", **kwargs)


def _counts(q: dc.Queue) -> tuple[int, int]:
    attributes = q.get_attributes(
        ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def test_the_undeleted_messages_of_a_receive_come_back_when_its_timeout_ends() -> None:
    clock, q = _queue(visibility_timeout=30)
    ids = [q.send(f"m{i}").message_id for i in range(10)]
    got = q.receive(10)
    assert [m.message_id for m in got] == ids
    q.delete(got[0].receipt_handle)
    q.delete_batch([got[3].receipt_handle, got[4].receipt_handle])
    q.delete_batch([{"Id": "a", "ReceiptHandle": got[9].receipt_handle}])
    assert _counts(q) == (0, 6)
    clock.advance(29.9)
    assert q.receive(10) == []
    clock.advance(0.1)
    again = q.receive(10)
    assert sorted(m.message_id for m in again) == sorted(ids[i] for i in (1, 2, 5, 6, 7, 8))
    assert {m.receive_count for m in again} == {2}
    assert {m.first_receive_timestamp for m in again} == {1_800_000_000_000}
    assert {m.body for m in again} == {f"m{i}" for i in (1, 2, 5, 6, 7, 8)}
    # The first receive's handles no longer name them: deleting with one succeeds, changes
    # nothing.
    q.delete(got[1].receipt_handle)
    assert _counts(q) == (0, 6)
    q.delete_batch([m.receipt_handle for m in again])
    assert _counts(q) == (0, 0)


def test_a_visibility_change_moves_one_message_of_a_receive_only() -> None:
    clock, q = _queue(visibility_timeout=30)
    for i in range(4):
        q.send(f"m{i}")
    got = q.receive(10)
    q.change_visibility(got[1].receipt_handle, 100)
    q.change_visibility(got[2].receipt_handle, 0)
    assert [m.body for m in q.receive(10)] == ["m2"]
    clock.advance(30)
    returned = sorted(q.receive(10), key=lambda m: m.body)
    assert [(m.body, m.receive_count) for m in returned] == [("m0", 2), ("m2", 3), ("m3", 2)]
    q.delete(got[2].receipt_handle)  # (stale: m2 was received again since; nothing changes)
    assert _counts(q) == (0, 4)
    q.delete_batch([m.receipt_handle for m in returned])
    clock.advance(69.9)
    assert q.receive(10) == []
    clock.advance(0.1)
    back = q.receive(10)
    assert [(m.body, m.receive_count) for m in back] == [("m1", 2)]
    q.delete(back[0].receipt_handle)
    assert _counts(q) == (0, 0)


def test_a_handle_given_twice_in_a_batch_deletes_once() -> None:
    _, q = _queue()
    for i in range(3):
        q.send(f"m{i}")
    got = q.receive(3)
    handle = got[1].receipt_handle
    result = q.delete_batch([handle, handle, got[0].receipt_handle])
    assert [entry["Id"] for entry in result.successful] == ["0", "1", "2"]
    assert result.failed == []
    assert _counts(q) == (0, 1)
    q.delete(got[2].receipt_handle)
    assert _counts(q) == (0, 0)


def test_retention_ends_messages_in_flight_by_their_send_times() -> None:
    clock, q = _queue(message_retention_period=60, visibility_timeout=43_200)
    q.send("early")
    clock.advance(10)
    q.send("late")
    got = q.receive(10)
    assert [m.body for m in got] == ["early", "late"]
    clock.advance(50)  # "early" is 60 s old
    assert _counts(q) == (0, 1)
    q.delete(got[0].receipt_handle)  # (gone: a stale handle's delete succeeds)
    clock.advance(10)
    assert _counts(q) == (0, 0)
    q.delete(got[1].receipt_handle)


def test_purge_and_delete_queue_drop_messages_in_flight() -> None:
    _, q = _queue()
    for i in range(5):
        q.send(f"m{i}")
    got = q.receive(10)
    q.purge()
    assert _counts(q) == (0, 0)
    q.delete_batch([m.receipt_handle for m in got])  # stale handles: success, nothing else
    q.send("after")
    assert [m.body for m in q.receive(10)] == ["after"]


def test_an_observer_added_while_a_receive_is_in_flight_hears_each_delete() -> None:
    _, q = _queue()
    for i in range(4):
        q.send(f"m{i}")
    got = q.receive(4)
    seen: list[tuple[str, str]] = []
    q.add_observer(lambda event, queue, entry: seen.append((event, entry.record.body)))
    q.delete(got[0].receipt_handle)
    q.delete_batch([got[2].receipt_handle, got[1].receipt_handle])
    q.delete_batch([{"Id": "x", "ReceiptHandle": got[3].receipt_handle}])
    assert seen == [("deleted", "m0"), ("deleted", "m2"), ("deleted", "m1"), ("deleted", "m3")]
    assert _counts(q) == (0, 0)


def test_the_oldest_message_held_counts_messages_in_flight() -> None:
    # (What the ApproximateAgeOfOldestMessage metric reads.)
    clock, q = _queue()
    q.send("old")
    clock.advance(5)
    q.send("new")
    got = q.receive(10)
    ledger = q._ledger
    oldest = ledger.oldest_entry()
    assert oldest is not None and oldest.record.body == "old"
    assert ledger.oldest_sent_at() == clock.now() - 5
    q.delete(got[0].receipt_handle)
    oldest = ledger.oldest_entry()
    assert oldest is not None and oldest.record.body == "new"
    assert [e.record.body for e in ledger.entries()] == ["new"]
    q.delete(got[1].receipt_handle)
    assert ledger.oldest_entry() is None


def test_deletes_in_any_order_keep_the_indexes_bounded() -> None:
    clock, q = _queue(visibility_timeout=43_200)
    rng = random.Random(7)
    ledger = q._ledger
    for _ in range(300):
        for i in range(100):
            q.send(f"m{i}")
        batches = []
        while got := q.receive(10):
            batches.append([m.receipt_handle for m in got])
        flat = [h for batch in batches for h in batch]
        rng.shuffle(flat)
        for i in range(0, len(flat), 7):
            q.delete_batch(flat[i:i + 7])
        clock.advance(1)
    assert _counts(q) == (0, 0)
    assert len(ledger.handles) == 0
    # 3,000 receives of 10, deleted out of order: what stays indexed is bounded by the
    # compaction rule (stale items at most about half, and at most ~1,024 more).
    assert len(ledger._deadlines) <= 2_100
    assert len(ledger._fresh) + len(ledger._retained) <= 2_100


def test_receipt_handles_are_the_prefix_and_the_tick_in_hex_past_many_blocks() -> None:
    _, q = _queue()
    prefix = q._ledger.receipt_prefix
    handles = []
    for _ in range(9_000):
        q.send("m")
        handles += [m.receipt_handle for m in q.receive()]
    assert handles == [f"{prefix}{tick:x}" for tick in range(1, 9_001)]
    q.delete_batch(handles[-3:])
    assert _counts(q) == (0, 8_997)
