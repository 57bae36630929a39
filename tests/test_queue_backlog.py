"""The plain send's backlog (messages never received, kept as tuples until first received):
what a user sees must not differ from any other message's."""

from __future__ import annotations

import re

import pytest

import decoupling as dc

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _queue(**kwargs: object) -> tuple[dc.ManualClock, dc.Queue]:
    clock = dc.ManualClock(epoch=1_800_000_000.0)
    loop = dc.EventLoop(clock=clock)
    return clock, dc.Queue(loop, "q", **kwargs)  # type: ignore[arg-type]


def _bodies(queue: dc.Queue) -> list[str]:
    out: list[str] = []
    while got := queue.receive(10):
        out += [m.body for m in got]
    return out


def test_a_delayed_message_joins_behind_the_plain_messages_sent_before_it_turned_visible() -> None:
    clock, q = _queue()
    q.send("a")
    q.send("b", delay_seconds=5)
    q.send("c")
    clock.advance(5)
    q.send("d")  # (a send does not settle: the delay's end is applied by the receive)
    assert _bodies(q) == ["a", "c", "d", "b"]
    q.send("e", delay_seconds=5)
    q.send("f")
    clock.advance(5)
    assert q.approximate_number_of_messages == 2  # settles: e turns visible behind f
    q.send("g")
    assert _bodies(q) == ["f", "e", "g"]


def test_retention_drops_backlog_messages_by_send_time() -> None:
    clock, q = _queue(message_retention_period=60)
    for body in ("old1", "old2", "old3"):
        q.send(body)
    clock.advance(30)
    q.send("new1")
    q.send_batch(["new2"])
    assert q.approximate_number_of_messages == 5
    clock.advance(30)  # the first three are 60 s old: gone
    assert q.approximate_number_of_messages == 2
    assert len(q) == 2
    assert _bodies(q) == ["new1", "new2"]
    clock.advance(30)
    assert len(q) == 0


def test_message_ids_are_uuid_shaped_and_unique_across_blocks() -> None:
    _, q = _queue()
    ids = [q.send(f"m{i}").message_id for i in range(4_200)]  # two blocks of 4,096
    ids += [e["MessageId"] for e in q.send_batch(["x", "y"]).successful]
    assert len(set(ids)) == 4_202
    assert all(UUID.fullmatch(i) for i in ids)
    received = []
    while got := q.receive(10):
        received += [m.message_id for m in got]
    assert received == ids


def test_timestamps_are_those_of_the_send_and_first_receive() -> None:
    clock, q = _queue()
    clock.advance(1.25)
    sent = q.send("hello")
    clock.advance(10)
    [m] = q.receive()
    assert m.message_id == sent.message_id
    assert m.sent_timestamp == 1_800_000_001_250
    assert m.first_receive_timestamp == 1_800_000_011_250
    assert m.receive_count == 1
    assert m.md5_of_body == sent.md5_of_message_body == "5d41402abc4b2a76b9719d911017c592"
    assert m.message_attributes == {}
    assert m.attributes["SentTimestamp"] == "1800000001250"
    q.change_visibility(m.receipt_handle, 0)
    clock.advance(2)
    [again] = q.receive()
    assert again.receive_count == 2
    assert again.sent_timestamp == 1_800_000_001_250
    assert again.first_receive_timestamp == 1_800_000_011_250


def test_an_observer_added_after_plain_sends_sees_those_messages() -> None:
    _, q = _queue()
    sent = [q.send(f"m{i}").message_id for i in range(3)]
    events: list[tuple[str, str]] = []
    q.add_observer(lambda event, queue, entry: events.append(
        (event, entry.record.message_id if entry is not None else "")))
    q.send("later")
    got = q.receive(10)
    q.delete_batch([m.receipt_handle for m in got])
    assert [m.body for m in got] == ["m0", "m1", "m2", "later"]
    assert [e for e in events if e[0] == "received"] == [("received", i) for i in sent] + [
        ("received", got[3].message_id)
    ]
    assert sum(1 for e in events if e[0] == "deleted") == 4


def test_a_fair_queue_message_after_plain_sends_loses_none() -> None:
    _, q = _queue()
    for i in range(5):
        q.send(f"plain{i}")
    q.send("tenant", message_group_id="t1")
    assert q.approximate_number_of_messages == 6
    assert sorted(_bodies(q)) == sorted([f"plain{i}" for i in range(5)] + ["tenant"])
    assert q.approximate_number_of_messages_not_visible == 6


def test_purge_and_stale_handles_with_a_backlog() -> None:
    clock, q = _queue()
    for i in range(2_500):  # more than two sealed chunks
        q.send(f"m{i}")
    [first] = q.receive()
    handle = first.receipt_handle
    q.delete(handle)
    result = q.delete_batch([handle])  # a stale handle still succeeds
    assert result.successful == [{"Id": "0"}] and result.failed == []
    with pytest.raises(dc.errors.ReceiptHandleIsInvalid):
        q.delete("not-a-handle")
    q.purge()
    assert len(q) == 0 and q.receive(10) == []
    clock.advance(61)
    q.send("after")
    assert _bodies(q) == ["after"]
