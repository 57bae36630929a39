"""Journal: each message's life, in order, with loop times; linked across SNS deliveries,
Lambda invocations and move tasks; bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue


@pytest.fixture
def rt(loop: dc.EventLoop) -> Iterator[dc.FunctionRuntime]:
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    yield runtime
    runtime.close()


def test_received_twice_then_dead_lettered(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    dlq = dc.Queue(loop, "orders-dlq")
    orders = dc.Queue(loop, "orders", visibility_timeout=30,
                      redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=2))
    message_id = orders.send("order-1").message_id
    first = orders.receive()[0]
    loop.clock.advance(30)
    second = orders.receive()[0]
    loop.clock.advance(30)
    assert orders.receive() == []  # its third receive moves it to the DLQ instead

    assert journal.kinds(message_id) == [
        "sent", "received", "received", "dead_lettered", "dead_letter_arrived",
    ]
    sent, r1, r2, dead, arrived = journal.history(message_id)
    assert (sent.time, sent.resource) == (0.0, "orders")
    assert (r1.time, r1.detail["receive_count"], r1.detail["receipt_handle"]) == (
        0.0, 1, first.receipt_handle)
    assert r1.detail["visible_at"] == 30.0
    assert (r2.time, r2.detail["receive_count"], r2.detail["receipt_handle"]) == (
        30.0, 2, second.receipt_handle)
    assert (dead.time, dead.resource, dead.detail) == (
        60.0, "orders", {"dead_letter_queue": "orders-dlq"})
    assert (arrived.time, arrived.resource, arrived.detail) == (
        60.0, "orders-dlq", {"source_queue": "orders", "receive_count": 2})


def test_visibility_change_and_delete(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    q = dc.Queue(loop, "q")
    message_id = q.send("m").message_id
    handle = q.receive()[0].receipt_handle
    loop.clock.advance(5)
    q.change_visibility(handle, 100)
    q.delete(handle)
    assert journal.kinds(message_id) == ["sent", "received", "visibility_changed", "deleted"]
    assert journal.history(message_id)[2].detail == {"visible_at": 105.0}
    assert journal.history(message_id)[3].time == 5.0
    assert "visibility_changed" in journal.format(message_id)


def test_sns_to_sqs_links_the_two_message_ids(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    topic = dc.Topic(loop, "events")
    inbox = dc.Queue(loop, "inbox")
    sub = topic.subscribe(inbox)
    other = topic.subscribe(dc.Queue(loop, "books"), filter_policy={"kind": ["book"]})
    sns_id = topic.publish("hello").message_id
    sqs_message = inbox.receive()[0]
    assert sqs_message.message_id != sns_id  # SNS-to-SQS delivery makes a new MessageId

    published, delivered, filtered = journal.history(sns_id)
    assert published.kind == "published" and published.resource == "events"
    assert delivered.kind == "delivered"
    assert delivered.detail == {"subscription": sub.arn, "protocol": "sqs",
                                "endpoint": inbox.arn, "sqs_message_id": sqs_message.message_id}
    assert filtered.kind == "filtered_out" and filtered.detail == {"subscription": other.arn}
    sent, received = journal.history(sqs_message.message_id)
    assert sent.kind == "sent"
    assert sent.detail == {"sns_message_id": sns_id, "topic": "events", "subscription": sub.arn}
    assert received.kind == "received"


def test_failed_deliveries_are_retried_then_dead_lettered(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    topic = dc.Topic(loop, "t")
    dlq = dc.Queue(loop, "sns-dlq")
    attempts: list[int] = []

    def flaky(notification: dc.Notification) -> None:
        attempts.append(notification.attempt)
        raise RuntimeError("endpoint down")

    topic.subscribe(flaky, redrive_policy=dlq,
                    delivery_policy={"healthyRetryPolicy": {
                        "numRetries": 2, "minDelayTarget": 10, "maxDelayTarget": 10}})
    sns_id = topic.publish("m").message_id
    assert topic.drain(timeout=10)
    assert attempts == [1, 2, 3]
    kinds = journal.kinds(sns_id)
    assert kinds == ["published", "delivery_failed", "delivery_failed", "delivery_failed",
                     "undeliverable"]
    failed = journal.history(sns_id)[1:4]
    assert [(e.time, e.detail["attempt"]) for e in failed] == [(0.0, 1), (10.0, 2), (20.0, 3)]
    assert failed[0].detail["error"] == "RuntimeError: endpoint down"
    assert len(dlq) == 1


def test_event_source_invocations(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    journal = dc.Journal(loop)
    jobs = dc.Queue(loop, "jobs")
    rt.register("work", lambda event, context: None)
    rt.add_event_source(jobs, "work")
    message_id = jobs.send("job").message_id
    loop.run_until_idle()
    assert journal.kinds(message_id) == ["sent", "received", "invoked", "invocation_finished",
                                         "deleted"]
    invoked, finished = journal.history(message_id)[2:4]
    assert invoked.resource == "work" and invoked.detail["invocation_type"] == "SQS"
    assert finished.detail == {"request_id": invoked.detail["request_id"], "outcome": "Success"}


def test_sns_lambda_subscription_invocation(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    journal = dc.Journal(loop)
    topic = dc.Topic(loop, "t")
    fn = rt.register("on-event", lambda event, context: None)
    topic.subscribe(fn, "lambda")
    sns_id = topic.publish("x").message_id
    loop.run_until_idle()
    assert journal.kinds(sns_id) == ["published", "delivered", "invoked", "invocation_finished"]
    assert journal.history(sns_id)[2].detail["invocation_type"] == "Event"


def test_move_task_links_old_and_new_ids(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    dlq = dc.Queue(loop, "dlq")
    source = dc.Queue(loop, "source", visibility_timeout=1,
                      redrive_policy=dc.RedrivePolicy(dlq, 1))
    old_id = source.send("m").message_id
    source.receive()
    loop.clock.advance(1)
    source.receive()  # moves it to the DLQ
    dlq.start_message_move_task()
    loop.run_until_idle()
    (moved,) = source.receive()
    assert moved.message_id != old_id
    assert journal.kinds(old_id)[-1] == "moved_out"
    assert journal.history(old_id)[-1].detail == {"new_message_id": moved.message_id}
    assert journal.kinds(moved.message_id) == ["moved_in", "received"]
    assert journal.history(moved.message_id)[0].detail == {"previous_message_id": old_id}


def test_bounded_oldest_events_go_first(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop, max_entries=3)
    q = dc.Queue(loop, "q")
    first = q.send("1").message_id
    second = q.send("2").message_id
    got = q.receive(10)
    assert len(got) == 2
    assert len(journal) == 3 and journal.dropped == 1
    assert journal.kinds(first) == ["received"]
    assert journal.kinds(second) == ["sent", "received"]
    q.delete(got[0].receipt_handle)
    q.delete(got[1].receipt_handle)
    assert journal.message_ids() == [first, second]
    assert journal.kinds(second) == ["received", "deleted"]
    assert journal.kinds(first) == ["deleted"]
    journal.clear()
    assert journal.events() == [] and journal.history(second) == []


def test_ids_without_kept_events_are_forgotten(loop: dc.EventLoop) -> None:
    # Issue #19: a journal that runs for months holds no id whose events all left the ring, so
    # its memory levels off with the ring. (Before, ids stayed until a prune at max_entries +
    # 1,024 of them: three times the ring's ids here, and memory rose for days.) Events are
    # kept in chunks of 64 (an eighth of max_entries for larger journals, at most 1,024); the
    # oldest goes once the others hold max_entries, and nothing else is kept per id.
    journal = dc.Journal(loop, max_entries=6)
    q = dc.Queue(loop, "q")
    ids = []
    held = []
    for n in range(2_000):
        ids.append(q.send(f"m{n}").message_id)
        (got,) = q.receive()
        q.delete(got.receipt_handle)  # 3 events a message: the ring holds the last 2 messages
        held.append(journal._held())
        assert len(journal) == min(3 * (n + 1), 6)
    assert max(held) == 2 * 64 - 1 and min(held[22:]) == 64 and len(journal._sealed) == 1
    assert journal.message_ids() == ids[-2:]
    q.send("unreceived")  # one event of the 2nd-newest message falls out; its id stays first
    assert journal.message_ids() == ids[-2:] + [journal.events()[-1].message_id]
    assert journal.kinds(ids[-2]) == ["received", "deleted"]
    assert len(journal._index) == 3  # (a read indexes the kept events only)
    assert journal.dropped == 2_000 * 3 + 1 - 6
    assert [e.kind for e in journal.events()] == ["received", "deleted"] + [
        "sent", "received", "deleted", "sent"]


def test_sealed_chunks_are_not_tracked_by_the_collector(loop: dc.EventLoop) -> None:
    # Issue #23: a full collection does not walk the journal's events (a chunk of strings and
    # numbers is a tuple the collector stops tracking), and receives of several messages at a
    # chunk's end keep every event in order.
    import gc

    journal = dc.Journal(loop, max_entries=1_000)  # chunks of 125 events
    q = dc.Queue(loop, "q")
    sent = [q.send(f"m{n}").message_id for n in range(300)]
    got = []
    while len(got) < 300:
        got.extend(q.receive(7))
    gc.collect()
    assert len(journal._sealed) == 4 and not any(map(gc.is_tracked, journal._sealed))
    assert [e.kind for e in journal.events()] == ["sent"] * 300 + ["received"] * 300
    assert [e.message_id for e in journal.events()] == sent + [m.message_id for m in got]
    assert journal.history(sent[299])[1].detail["receipt_handle"] == got[299].receipt_handle
    assert len(journal) == 600 and journal.dropped == 0


def test_closed_journal_records_nothing(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    q = dc.Queue(loop, "q")
    journal.close()
    journal.close()
    message_id = q.send("m").message_id
    assert journal.history(message_id) == [] and loop._tap is None


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_bad_max_entries(loop: dc.EventLoop, bad: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        dc.Journal(loop, max_entries=bad)
    assert loop._tap is None


def test_one_journal_per_loop(loop: dc.EventLoop) -> None:
    dc.Journal(loop)
    with pytest.raises(InvalidParameterValue):
        dc.Journal(loop)


def test_reads_match_the_last_max_entries_events_across_chunks(loop: dc.EventLoop) -> None:
    # Chunk arithmetic: after every request, events(), history(), kinds(), len and dropped
    # agree with the log of every event recorded (read as each request's new events).
    import random

    rng = random.Random(7)
    journal = dc.Journal(loop, max_entries=70)  # chunks of 64: up to 3 held
    q = dc.Queue(loop, "q")
    log: list[dc.JournalEvent] = []
    inflight: list[str] = []
    for step in range(700):
        roll = rng.random()
        if roll < 0.4:
            q.send(f"m{step}")
            new = 1
        elif roll < 0.7:
            got = q.receive(rng.randint(1, 10))
            inflight.extend(m.receipt_handle for m in got)
            new = len(got)
        elif inflight:
            q.delete(inflight.pop(rng.randrange(len(inflight))))
            new = 1
        else:
            continue
        if new:
            log.extend(journal.events()[-new:])
        kept = log[-70:]
        assert journal.events() == kept
        assert len(journal) == len(kept) and journal.dropped == len(log) - len(kept)
        if step % 50 == 0:
            for message_id in {e.message_id for e in kept}:
                assert journal.history(message_id) == [e for e in kept
                                                       if e.message_id == message_id]
                assert journal.kinds(message_id) == [e.kind for e in kept
                                                     if e.message_id == message_id]
            assert set(journal.message_ids()) == {e.message_id for e in kept}
    assert len(log) > 500 and journal._held() <= 70 + 2 * 64
