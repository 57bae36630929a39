"""Durable mode's fsync levels: which commits SQLite syncs at ``synchronous`` FULL and EXTRA.

At ``FULL`` in one process a call that only received messages commits at SQLite's ``NORMAL``
level (no fsync of its own: the next fsynced commit covers it); everything else commits at
``FULL``. ``EXTRA`` fsyncs every commit. The SQL each call runs is read through the
connection's trace callback; the level in force through ``PRAGMA synchronous`` (2 FULL,
1 NORMAL, 0 OFF).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import decoupling as dc

E = 1_800_000_000.0


def open_loop(path: Path, synchronous: str, down_for: float = 0.0) -> dc.EventLoop:
    store = dc.SqliteStore(path, synchronous=synchronous)
    return dc.EventLoop(clock=dc.ManualClock(epoch=E + down_for), store=store)


class Trace:
    """The SQL statements a store's connection runs, one call at a time."""

    def __init__(self, loop: dc.EventLoop) -> None:
        assert loop.store is not None and loop.store._conn is not None
        self.conn: sqlite3.Connection = loop.store._conn
        self.sql: list[str] = []
        self.conn.set_trace_callback(self.sql.append)

    def take(self) -> list[str]:
        """The statements since the last take, each cut to its first four words."""
        out = [" ".join(s.split()[:4]) for s in self.sql]
        self.sql.clear()
        return out

    def level(self) -> int:
        self.conn.set_trace_callback(None)
        try:
            return int(self.conn.execute("PRAGMA synchronous").fetchone()[0])
        finally:
            self.conn.set_trace_callback(self.sql.append)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queues.db"


def test_full_receives_and_deletes_commit_at_normal_everything_else_at_full(db: Path) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch(["a", "b", "c"])
    trace = Trace(loop)
    assert trace.level() == 2
    (first,) = q.receive()
    assert trace.take() == [
        "PRAGMA synchronous = NORMAL",
        "UPDATE messages SET receive_count",
    ]
    assert trace.level() == 1
    (second,) = q.receive()
    assert trace.take() == ["UPDATE messages SET receive_count"]
    (third,) = q.receive()  # still NORMAL: no second PRAGMA
    assert trace.take() == ["UPDATE messages SET receive_count"]
    assert trace.level() == 1
    q.delete(first.receipt_handle)  # a delete: at NORMAL too
    assert trace.take() == ["DELETE FROM messages WHERE"]
    assert trace.level() == 1
    q.send("d")  # a send: at FULL, its fsync makes the receives and the delete durable
    assert trace.take() == ["PRAGMA synchronous = FULL", "INSERT OR REPLACE INTO"]
    assert trace.level() == 2
    q.change_visibility(second.receipt_handle, 60)  # not a receive or delete: FULL
    assert trace.take() == ["UPDATE messages SET receive_count"]
    assert trace.level() == 2
    assert q.receive(10)[0].body == "d"
    assert trace.take() == ["PRAGMA synchronous = NORMAL", "UPDATE messages SET receive_count"]
    q.delete_batch([second.receipt_handle, third.receipt_handle])
    assert trace.take() == ["DELETE FROM messages WHERE"]
    assert trace.level() == 1


def test_a_receive_that_dead_letters_or_purges_commits_at_full(db: Path) -> None:
    loop = open_loop(db, "FULL")
    dlq = dc.Queue(loop, "orders-dlq")
    q = dc.Queue(loop, "orders", visibility_timeout=0,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    q.send("a")
    q.receive()
    trace = Trace(loop)
    assert q.receive() == []  # "a" moves to the dead-letter queue: at FULL, in a transaction
    statements = trace.take()
    assert statements[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
    assert "PRAGMA synchronous = NORMAL" not in statements
    assert trace.level() == 2
    assert [m.body for m in dlq.receive()] == ["a"]
    assert trace.take() == ["PRAGMA synchronous = NORMAL", "UPDATE messages SET receive_count"]
    dlq.purge()
    assert trace.take() == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE",
                            "DELETE FROM messages WHERE", "UPDATE queues SET meta", "COMMIT"]
    assert trace.level() == 2


@pytest.mark.parametrize("synchronous, level", [("EXTRA", 2), ("NORMAL", 1), ("OFF", 0)])
def test_other_settings_keep_one_level(db: Path, synchronous: str, level: int) -> None:
    loop = open_loop(db, synchronous)
    q = dc.Queue(loop, "orders")
    q.send_batch(["a", "b"])
    q.receive()
    trace = Trace(loop)
    (m,) = q.receive()
    assert trace.take() == ["UPDATE messages SET receive_count"]
    assert trace.level() == level
    q.delete(m.receipt_handle)
    assert trace.take() == ["DELETE FROM messages WHERE"]
    assert trace.level() == level


def test_receives_committed_at_normal_are_restored_exactly(db: Path) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch(["a", "b"])
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    q.receive()  # "a"
    clock.advance(5)
    (b,) = q.receive(visibility_timeout=40)  # at NORMAL, the last commit before the close
    assert b.body == "b"
    assert loop.store is not None
    loop.store.close()
    loop = open_loop(db, "FULL", down_for=10)
    q = loop._lookup("sqs", "orders")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    assert q.approximate_number_of_messages_not_visible == 2
    # Reopened at E+10: "a" is in flight until E+30 (20 s on), "b" until E+45 (35 s on).
    clock.advance_to(19.999)
    assert q.receive() == []
    clock.advance_to(20.0)
    (again,) = q.receive()
    assert (again.body, again.receive_count) == ("a", 2)
    clock.advance_to(34.999)
    assert q.receive() == []
    clock.advance_to(35.0)
    assert q.approximate_number_of_messages == 1  # "b" is back
    q.delete(b.receipt_handle)  # its handle from before the reopen still deletes it
    clock.advance_to(100.0)
    assert [m.body for m in q.receive(10)] == ["a"]


def test_a_crash_after_receives_at_normal_keeps_them(db: Path) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch(["a", "b", "c"])
    q.receive()
    got = q.receive(2)
    assert [m.receive_count for m in got] == [1, 1]
    assert loop.store is not None and loop.store._conn is not None
    loop.store._conn.close()  # a process crash: the WAL frames were written, not fsynced
    loop = open_loop(db, "FULL", down_for=1)
    q = loop._lookup("sqs", "orders")
    assert q.approximate_number_of_messages_not_visible == 3
    q.delete_batch([m.receipt_handle for m in got])
    assert q.approximate_number_of_messages_not_visible == 1


def test_a_batch_received_together_is_one_range_update_restored_exactly(db: Path) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch([str(i) for i in range(5)])
    q.send("later")
    trace = Trace(loop)
    got = q.receive(10)
    assert [m.body for m in got] == ["0", "1", "2", "3", "4", "later"]
    # One statement for the run of six (consecutive keys and receipt ticks, the same times).
    assert "WHERE id BETWEEN" in trace.sql[-1]
    assert trace.take() == ["PRAGMA synchronous = NORMAL", "UPDATE messages SET receive_count"]
    stored = dict(trace.conn.execute("SELECT body, receipt FROM messages"))
    assert stored == {m.body: m.receipt_handle for m in got}
    loop.clock.advance(7)  # type: ignore[attr-defined]
    q.change_visibility(got[2].receipt_handle, 100)  # breaks the run for the next writes
    assert loop.store is not None
    loop.store.close()
    loop = open_loop(db, "FULL", down_for=10)
    q = loop._lookup("sqs", "orders")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    clock.advance_to(19.999)
    assert q.receive(10) == []
    clock.advance_to(20.0)  # E+30: all but "2" (in flight until E+107) are back
    again = q.receive(10)
    assert sorted((m.body, m.receive_count) for m in again) == [
        ("0", 2), ("1", 2), ("3", 2), ("4", 2), ("later", 2)
    ]
    q.delete(got[2].receipt_handle)
    assert q.approximate_number_of_messages_not_visible == 5
