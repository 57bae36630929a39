"""Observed plain queues keep their receive flights (issue #23): with Metrics, Journal and
RequestMeter attached, a plain receive holds its messages as one flight and a delete by a
current handle leaves it whole, while every instrument sees what it saw with entries."""

from __future__ import annotations

import decoupling as dc
from decoupling._core.ledger import _Flight


def _attach(loop: dc.EventLoop) -> tuple[dc.Metrics, dc.Journal, dc.RequestMeter]:
    return dc.Metrics(loop), dc.Journal(loop, max_entries=1_000), dc.RequestMeter(loop)


def test_receive_of_three_then_deletes_out_of_order(loop: dc.EventLoop) -> None:
    metrics, journal, meter = _attach(loop)
    q = dc.Queue(loop, "q", visibility_timeout=40)
    ids = [q.send(body).message_id for body in ("a", "bb", "ccc")]
    loop.clock.advance(2)
    got = q.receive(3)
    assert [m.message_id for m in got] == ids
    handles = [m.receipt_handle for m in got]
    flight = q._ledger.handles[handles[0]]
    assert type(flight) is _Flight  # one flight for the receive, tap or not
    loop.clock.advance(3)
    for i in (1, 2, 0):
        q.delete(handles[i])
        if i != 0:  # (a delete leaves the rest of the flight whole: no entries made)
            assert q._ledger.handles[handles[0]] is flight
    assert q._ledger.handles == {}
    for message_id, handle in zip(ids, handles, strict=True):
        sent, received, deleted = journal.history(message_id)
        assert (sent.kind, sent.time, sent.resource) == ("sent", 0.0, "q")
        assert (received.kind, received.time) == ("received", 2.0)
        assert received.detail == {"receive_count": 1, "receipt_handle": handle,
                                   "visible_at": 42.0}
        assert (deleted.kind, deleted.time, deleted.resource) == ("deleted", 5.0, "q")
    assert metrics.total(q, "NumberOfMessagesSent") == 3.0
    assert metrics.total(q, "NumberOfMessagesReceived") == 3.0
    assert metrics.total(q, "NumberOfMessagesDeleted") == 3.0
    size = metrics.statistics(q, "SentMessageSize")
    assert (size.sample_count, size.sum, size.minimum, size.maximum) == (3.0, 6.0, 1.0, 3.0)
    assert [meter.calls(q, action) for action in
            ("SendMessage", "ReceiveMessage", "DeleteMessage")] == [3, 1, 3]


def test_stale_and_repeated_deletes_of_a_flight(loop: dc.EventLoop) -> None:
    metrics, journal, meter = _attach(loop)
    q = dc.Queue(loop, "q")
    message_id = q.send("m").message_id
    handle = q.receive()[0].receipt_handle
    q.delete(handle)
    q.delete(handle)  # a handle already used: succeeds, deletes nothing, is billed
    assert journal.kinds(message_id) == ["sent", "received", "deleted"]
    assert meter.calls(q, "DeleteMessage") == 2
    assert metrics.total(q, "NumberOfMessagesDeleted") == 2.0


def test_instruments_attached_between_receive_and_delete(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    message_id = q.send("m").message_id
    handle = q.receive()[0].receipt_handle  # a flight made with no tap
    _, journal, meter = _attach(loop)
    q.delete(handle)
    assert journal.kinds(message_id) == ["deleted"]
    assert meter.calls(q, "DeleteMessage") == 1


def test_a_closed_journal_leaves_no_slot_behind(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    q = dc.Queue(loop, "q")
    first = q.send("one").message_id
    journal.close()
    q.send("two")
    again = dc.Journal(loop)
    third = q.send("three").message_id
    handles = [m.receipt_handle for m in q.receive(3)]
    for handle in handles:
        q.delete(handle)
    assert journal.kinds(first) == ["sent"]
    assert [e.kind for e in again.events()] == ["sent"] + ["received"] * 3 + ["deleted"] * 3
    assert again.kinds(third) == ["sent", "received", "deleted"]


def test_plain_counts_settle_before_every_read(loop: dc.EventLoop) -> None:
    # The plain paths count a request once in the queue's tap slot for Metrics and
    # RequestMeter both; every read, period end, reset, batch and close sees them settled.
    metrics, meter = dc.Metrics(loop, period=60), dc.RequestMeter(loop)
    q = dc.Queue(loop, "q")

    def cycles(n: int) -> None:
        for _ in range(n):
            q.send("body")
            q.delete(q.receive()[0].receipt_handle)

    def calls() -> list[int]:
        return [meter.calls(q, a) for a in ("SendMessage", "ReceiveMessage", "DeleteMessage")]

    cycles(3)
    assert calls() == [3, 3, 3]
    cycles(2)
    assert metrics.total(q, "NumberOfMessagesSent") == 5.0
    assert metrics.total(q, "NumberOfMessagesReceived") == 5.0
    assert calls() == [5, 5, 5]  # (a metrics read settled them: counted once, not twice)
    cycles(1)
    loop.clock.advance(61)  # the next request ends the period: the last one's counts first
    cycles(2)
    assert metrics.total(q, "NumberOfMessagesDeleted", start=0, end=60) == 6.0
    assert metrics.total(q, "NumberOfMessagesDeleted", start=60, end=120) == 2.0
    assert calls() == [8, 8, 8]
    cycles(1)
    meter.reset()  # counts before the reset are forgotten, the metrics keep them
    assert calls() == [0, 0, 0]
    cycles(2)
    q.send("x")
    q.send("y")
    got = q.receive(2)  # (a receive of two: counted directly)
    q.delete(got[0].receipt_handle)
    result = q.delete_batch([got[1].receipt_handle])
    assert len(result.successful) == 1
    assert calls() == [4, 3, 3] and meter.calls(q, "DeleteMessageBatch") == 1
    assert meter.bill().total > 0
    metrics.close()
    cycles(1)
    assert calls() == [5, 4, 4]
    assert metrics.total(q, "NumberOfMessagesSent") == 13.0
    assert metrics.total(q, "NumberOfMessagesDeleted") == 13.0
