"""Durable mode (decoupling.store.sqlite_store): what a reopened store restores, with exact values.

Every test runs on a ManualClock whose epoch is set, closes the store (or just drops the loop, as
a crash would), and reopens the same file on a new clock whose epoch says how much wall time
passed while "down".
"""

from __future__ import annotations

from pathlib import Path

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue, ServiceUnavailable

E = 1_800_000_000.0  # the wall clock at the first open (epoch seconds)


def open_loop(path: Path, down_for: float = 0.0, **settings: object) -> dc.EventLoop:
    """A loop on the store, on a clock that starts ``down_for`` seconds after E."""
    store = dc.SqliteStore(path, synchronous="OFF", **settings)  # type: ignore[arg-type]
    return dc.EventLoop(clock=dc.ManualClock(epoch=E + down_for), store=store)


def reopen(loop: dc.EventLoop, path: Path, down_for: float) -> dc.EventLoop:
    assert loop.store is not None
    loop.store.close()
    return open_loop(path, down_for)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queues.db"


def test_in_flight_and_delayed_messages_keep_their_times(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send("a")
    q.send("b", delay_seconds=20)
    loop.clock.advance(5)  # type: ignore[attr-defined]
    (first,) = q.receive()
    assert first.body == "a" and first.receive_count == 1
    # Down for 10 s: at E+10, "a" is in flight until E+35 and "b" delayed until E+20.
    loop = reopen(loop, db, down_for=10)
    q = loop._lookup("sqs", "orders")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    counts = (q.approximate_number_of_messages, q.approximate_number_of_messages_not_visible,
              q.approximate_number_of_messages_delayed)
    assert counts == (0, 1, 1)
    clock.advance_to(9.999)
    assert q.approximate_number_of_messages_delayed == 1
    clock.advance_to(10.0)  # E+20
    assert [m.body for m in q.receive(visibility_timeout=100)] == ["b"]
    clock.advance_to(24.999)
    assert q.receive() == []
    clock.advance_to(25.0)  # E+35: "a" is back
    (again,) = q.receive()
    assert (again.body, again.receive_count) == ("a", 2)


def test_exact_times_after_restore(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send("a")
    loop.clock.advance(5)  # type: ignore[attr-defined]
    (m,) = q.receive()
    loop = reopen(loop, db, down_for=10)
    q = loop._lookup("sqs", "orders")
    assert q.receive() == []
    loop.clock.advance(25)  # type: ignore[attr-defined]  # E+35: the deadline
    (again,) = q.receive(visibility_timeout=60)
    assert again.message_id == m.message_id
    assert again.receive_count == 2
    assert again.sent_timestamp == int(E * 1000)
    assert again.first_receive_timestamp == int((E + 5) * 1000)
    assert again.receipt_handle != m.receipt_handle


def test_visibility_that_ran_out_while_down_is_visible_and_old_handle_still_deletes(
    db: Path,
) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send("a")
    (m,) = q.receive()
    loop = reopen(loop, db, down_for=100)  # the deadline (E+30) passed while down
    q = loop._lookup("sqs", "orders")
    assert q.approximate_number_of_messages == 1
    # The latest handle still deletes the message (DeleteMessage on SQS).
    q.delete(m.receipt_handle)
    assert len(q) == 0
    loop = reopen(loop, db, down_for=101)
    assert len(loop._lookup("sqs", "orders")) == 0


def test_handle_issued_before_a_crash_deletes_while_in_flight(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch(["a", "b", "c"])
    got = q.receive(3)
    # A crash: the loop is dropped without closing its store.
    assert loop.store is not None
    loop.store._conn.close()  # type: ignore[union-attr]
    loop = open_loop(db, down_for=1)
    q = loop._lookup("sqs", "orders")
    assert q.approximate_number_of_messages_not_visible == 3
    for m in got:
        q.delete(m.receipt_handle)
    assert len(q) == 0
    # A handle this queue never issued is still refused.
    with pytest.raises(dc.errors.ReceiptHandleIsInvalid):
        q.delete("nonsense")
    # New handles never repeat old ones.
    q.send("d")
    (d,) = q.receive()
    assert d.receipt_handle not in {m.receipt_handle for m in got}


def test_attributes_tags_and_redrive_policy_survive(db: Path) -> None:
    loop = open_loop(db)
    dlq = dc.Queue(loop, "dlq", redrive_allow_policy={"redrivePermission": "allowAll"})
    q = dc.Queue(loop, "orders", visibility_timeout=45, delay_seconds=3, tags={"team": "a"},
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=2))
    loop.clock.advance(7)  # type: ignore[attr-defined]
    q.set_attributes({"MessageRetentionPeriod": "120"})
    q.tag({"env": "test"})
    q.untag(["team"])
    before = q.get_attributes()
    loop = reopen(loop, db, down_for=50)
    q = loop._lookup("sqs", "orders")
    assert q.get_attributes() == before
    assert q.list_tags() == {"env": "test"}
    assert q.message_retention_period == 120
    assert q.redrive_policy == dc.RedrivePolicy(loop._lookup("sqs", "dlq"), max_receive_count=2)
    # Creating it again with the same attributes returns the restored queue.
    assert dc.Queue(loop, "orders", visibility_timeout=45) is q


def test_dead_letters_and_their_receive_counts_survive(db: Path) -> None:
    loop = open_loop(db)
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "orders", visibility_timeout=10,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    sent = q.send("poison")
    q.receive()
    loop.clock.advance(10)  # type: ignore[attr-defined]
    assert q.receive() == []  # moved to the DLQ
    loop = reopen(loop, db, down_for=20)
    q, dlq = loop._lookup("sqs", "orders"), loop._lookup("sqs", "dlq")
    assert len(q) == 0
    (dead,) = dlq.receive()
    assert dead.message_id == sent.message_id
    assert dead.receive_count == 2
    assert dead.dead_letter_queue_source_arn == q.arn


def test_dead_letter_received_but_not_deleted_is_in_flight_for_the_dlq_timeout(db: Path) -> None:
    # What the crash test's child does when killed between a DLQ receive and its deletes: the
    # messages are held in flight for the DLQ's own (default 30 s) visibility timeout, not lost.
    loop = open_loop(db)
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "orders", visibility_timeout=1,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    q.send_batch(["a", "b"])
    q.receive(10)
    loop.clock.advance(1)  # type: ignore[attr-defined]
    assert q.receive(10) == []  # both moved to the DLQ
    assert sorted(m.body for m in dlq.receive(10)) == ["a", "b"]  # then the process dies
    loop = reopen(loop, db, down_for=6)  # 5 s after the receive: still in flight
    dlq = loop._lookup("sqs", "dlq")
    assert (len(dlq), dlq.receive(10)) == (2, [])
    loop = reopen(loop, db, down_for=31)  # the 30 s timeout ended at E+31
    dlq = loop._lookup("sqs", "dlq")
    assert sorted((m.body, m.receive_count) for m in dlq.receive(10)) == [("a", 3), ("b", 3)]


def test_retention_that_ended_while_down_drops_the_message(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", message_retention_period=60)
    q.send("old")
    loop.clock.advance(30)  # type: ignore[attr-defined]
    q.send("young")
    loop = reopen(loop, db, down_for=61)
    q = loop._lookup("sqs", "orders")
    assert [m.body for m in q.receive(10)] == ["young"]


def test_purge_and_delete_queue_are_journaled(db: Path) -> None:
    loop = open_loop(db)
    a = dc.Queue(loop, "a")
    b = dc.Queue(loop, "b")
    a.send("x")
    b.send("y")
    a.purge()
    a.send("after purge")
    b.delete_queue()
    loop = reopen(loop, db, down_for=1)
    assert loop._lookup("sqs", "b") is None
    a = loop._lookup("sqs", "a")
    assert [m.body for m in a.receive(10)] == ["after purge"]
    with pytest.raises(dc.errors.PurgeQueueInProgress):  # the cooldown is kept too
        a.purge()


def test_a_batch_is_one_transaction(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders")
    store = loop.store
    assert store is not None
    before = store._commits
    q.send_batch([str(i) for i in range(10)])
    got = q.receive(10)
    q.delete_batch([m.receipt_handle for m in got])
    assert store._commits - before == 3
    assert q.approximate_number_of_messages == 0  # a read commits nothing
    assert store._commits - before == 3


def test_fifo_dedup_window_and_sequence_numbers_survive(db: Path) -> None:
    loop = open_loop(db)
    q = dc.FifoQueue(loop, "pay.fifo")
    first = q.send("a", message_group_id="g", message_deduplication_id="d1")
    loop = reopen(loop, db, down_for=200)  # inside the 5-minute window
    q = loop._lookup("sqs", "pay.fifo")
    dup = q.send("a", message_group_id="g", message_deduplication_id="d1")
    assert (dup.message_id, dup.sequence_number) == (first.message_id, first.sequence_number)
    assert len(q) == 1
    loop.clock.advance(99.999)  # type: ignore[attr-defined]  # E+299.999: still a duplicate
    assert q.send("a", message_group_id="g", message_deduplication_id="d1").message_id == (
        first.message_id
    )
    loop = reopen(loop, db, down_for=300)  # E+300: the window has ended
    q = loop._lookup("sqs", "pay.fifo")
    fresh = q.send("a", message_group_id="g", message_deduplication_id="d1")
    assert fresh.message_id != first.message_id
    assert fresh.sequence_number is not None and first.sequence_number is not None
    assert int(fresh.sequence_number) > int(first.sequence_number)
    assert len(fresh.sequence_number) == 20


def test_fifo_topic_republish_after_restart_reaches_its_fifo_queue_once(db: Path) -> None:
    # Topics are not journaled (re-created at start-up), but SNS hands the publish's
    # deduplication id to each FIFO queue subscriber, whose window is journaled: a producer
    # retrying a publish after a crash does not deliver the message twice.
    loop = open_loop(db)
    q = dc.FifoQueue(loop, "orders.fifo")
    dc.Topic(loop, "orders.fifo").subscribe(q, raw_message_delivery=True)
    dc.Topic(loop, "orders.fifo").publish("o-1", message_group_id="g",
                                          message_deduplication_id="p1")
    loop = reopen(loop, db, down_for=60)
    q = loop._lookup("sqs", "orders.fifo")
    topic = dc.Topic(loop, "orders.fifo")
    topic.subscribe(q, raw_message_delivery=True)
    topic.publish("o-1", message_group_id="g", message_deduplication_id="p1")  # the retry
    topic.publish("o-2", message_group_id="g", message_deduplication_id="p2")
    assert len(q) == 2
    assert [m.body for m in q.receive(10)] == ["o-1", "o-2"]


def test_fifo_group_order_and_group_lock_survive(db: Path) -> None:
    loop = open_loop(db)
    q = dc.FifoQueue(loop, "pay.fifo", content_based_deduplication=True, visibility_timeout=30)
    for body in ("1", "2", "3"):
        q.send(body, message_group_id="g")
    q.send("x", message_group_id="h")
    (one,) = q.receive()
    assert one.body == "1"
    loop = reopen(loop, db, down_for=5)
    q = loop._lookup("sqs", "pay.fifo")
    # "1" is still in flight: group g waits, h flows.
    assert [m.body for m in q.receive(10)] == ["x"]
    q.delete(one.receipt_handle)
    got = q.receive(10)
    assert [m.body for m in got] == ["2", "3"]
    # A handle of a message deleted while in flight may be deleted again (FIFO), after a restart.
    loop = reopen(loop, db, down_for=6)
    q = loop._lookup("sqs", "pay.fifo")
    q.delete(one.receipt_handle)
    # An expired handle is refused as before.
    loop = reopen(loop, db, down_for=100)
    q = loop._lookup("sqs", "pay.fifo")
    with pytest.raises(InvalidParameterValue, match="expired"):
        q.delete(got[0].receipt_handle)


def test_move_task_resumes_after_reopen(db: Path) -> None:
    loop = open_loop(db)
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "orders", visibility_timeout=1,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    for i in range(5):
        q.send(str(i))
    for _ in range(2):
        q.receive(10)
        loop.clock.advance(1)  # type: ignore[attr-defined]
    assert len(dlq) == 5
    dlq.start_message_move_task(max_messages_per_second=2)
    loop.clock.advance(0)  # type: ignore[attr-defined]  # the first second's quota
    assert len(q) == 2
    loop = reopen(loop, db, down_for=10)
    q, dlq = loop._lookup("sqs", "orders"), loop._lookup("sqs", "dlq")
    (task,) = dlq.list_message_move_tasks()
    assert task["Status"] == "RUNNING" and task["ApproximateNumberOfMessagesMoved"] == 2
    loop.run_until_idle()
    assert len(q) == 5 and len(dlq) == 0
    assert dlq.list_message_move_tasks()[0]["Status"] == "COMPLETED"


def test_settings_are_checked(db: Path) -> None:
    for bad in ({"synchronous": "SOMETIMES"}, {"busy_timeout": 0}, {"poll_interval": -1},
                {"prune_every": 0}):
        with pytest.raises(ValueError):
            dc.SqliteStore(db, **bad)  # type: ignore[arg-type]
    store = dc.SqliteStore(db)
    dc.EventLoop(clock=dc.ManualClock(), store=store)
    with pytest.raises(ValueError, match="already serves"):
        dc.EventLoop(clock=dc.ManualClock(), store=store)


def test_a_second_process_without_multiprocess_is_refused(db: Path) -> None:
    loop = open_loop(db)
    dc.Queue(loop, "orders").send("a")
    with pytest.raises(ServiceUnavailable, match="multiprocess=True"):
        dc.EventLoop(clock=dc.ManualClock(), store=dc.SqliteStore(db, busy_timeout=0.05))


def test_closed_store_refuses_calls(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders")
    assert loop.store is not None
    loop.store.close()
    loop.store.close()  # idempotent
    with pytest.raises(ServiceUnavailable, match="closed"):
        q.send("a")


def test_in_memory_loop_has_no_store() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    assert loop.store is None
    assert type(loop._lock).__module__ != "decoupling.store.sqlite_store"


def test_file_stays_bounded_under_steady_traffic(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders")
    body = "x" * 200
    sizes = []
    for _round in range(3):  # each round writes ~200 KB, three times the bound below
        for _ in range(1000):
            q.send(body)
            (m,) = q.receive()
            q.delete(m.receipt_handle)
        assert loop.store is not None
        sizes.append(loop.store.checkpoint())
    # After each checkpoint the WAL is empty and the database holds a few pages.
    assert all(s["wal_bytes"] == 0 for s in sizes)
    assert sizes[-1]["db_bytes"] <= sizes[0]["db_bytes"] <= 64 * 1024
