"""Durable mode's fsync levels: which commits are fsynced at ``synchronous`` FULL and EXTRA.

At ``FULL`` in one process the connection runs at SQLite's ``NORMAL`` level and the store fsyncs
the WAL itself (``fdatasync``, as SQLite's ``FULL`` does at each commit) after every commit but
those of a call that only received messages or only deleted messages of a standard queue: the
next fsync covers those. ``EXTRA`` runs at SQLite's ``FULL``: every commit fsynced by SQLite.
The SQL each call runs is read through the connection's trace callback, and each fsync of the
WAL by the store is recorded in the same list (``FSYNC``); the level in force is read through
``PRAGMA synchronous`` (2 FULL, 1 NORMAL, 0 OFF). A power loss is simulated by keeping the
files as they were at the last fsync and opening those.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import decoupling as dc
from decoupling.store import sqlite_store

E = 1_800_000_000.0
FSYNC = "<fsync of the WAL>"


def open_loop(path: Path, synchronous: str, down_for: float = 0.0) -> dc.EventLoop:
    store = dc.SqliteStore(path, synchronous=synchronous)
    return dc.EventLoop(clock=dc.ManualClock(epoch=E + down_for), store=store)


class Trace:
    """The SQL statements a store's connection runs, and the store's fsyncs of the WAL, one
    call at a time. ``power_cut`` (a directory) also keeps a copy of the database and its WAL
    as each fsync left them: what a power loss at that moment keeps."""

    def __init__(self, loop: dc.EventLoop, monkeypatch: pytest.MonkeyPatch,
                 power_cut: Path | None = None) -> None:
        assert loop.store is not None and loop.store._conn is not None
        self.conn: sqlite3.Connection = loop.store._conn
        self.path = loop.store.path
        self.sql: list[str] = []
        self.conn.set_trace_callback(self.sql.append)
        real = sqlite_store._fdatasync
        store = loop.store

        def fdatasync(fd: int) -> None:
            real(fd)
            if fd != store._wal_fd:
                return  # another store's
            wal = os.stat(self.path + "-wal")
            mine = os.fstat(fd)
            assert (mine.st_dev, mine.st_ino) == (wal.st_dev, wal.st_ino)
            self.sql.append(FSYNC)
            if power_cut is not None:
                for suffix in ("", "-wal"):
                    shutil.copyfile(self.path + suffix, power_cut / ("queues.db" + suffix))

        monkeypatch.setattr(sqlite_store, "_fdatasync", fdatasync)

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


def test_full_fsyncs_every_commit_but_receives_and_deletes(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    trace = Trace(loop, monkeypatch)
    q.send_batch(["a", "b", "c"])  # the queue's first block of counters is reserved with it
    assert trace.take() == ["BEGIN IMMEDIATE", "INSERT OR REPLACE INTO", "UPDATE queues SET next_seq",
                            "COMMIT", FSYNC]
    assert trace.level() == 1  # SQLite's NORMAL throughout: the store fsyncs itself
    (first,) = q.receive()
    assert trace.take() == ["UPDATE messages SET receive_count"]
    (second,) = q.receive()
    (third,) = q.receive()
    assert trace.take() == ["UPDATE messages SET receive_count"] * 2
    q.delete(first.receipt_handle)  # a delete: not fsynced either
    assert trace.take() == ["DELETE FROM messages WHERE"]
    q.send("d")  # a send: fsynced, and with it the receives and the delete before it
    assert trace.take() == ["INSERT OR REPLACE INTO", FSYNC]
    q.change_visibility(second.receipt_handle, 60)  # not a receive or delete: fsynced
    assert trace.take() == ["UPDATE messages SET receive_count", FSYNC]
    assert q.receive(10)[0].body == "d"
    assert trace.take() == ["UPDATE messages SET receive_count"]
    q.delete_batch([second.receipt_handle, third.receipt_handle])
    assert trace.take() == ["DELETE FROM messages WHERE"]
    assert trace.level() == 1
    assert loop.store is not None
    loop.store.close()  # what the last receives and deletes wrote is fsynced first
    assert trace.take()[:2] == [FSYNC, "PRAGMA wal_checkpoint(PASSIVE)"]


def test_a_receive_that_dead_letters_a_purge_and_a_fifo_delete_are_fsynced(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = open_loop(db, "FULL")
    dlq = dc.Queue(loop, "orders-dlq")
    q = dc.Queue(loop, "orders", visibility_timeout=0,
                 redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    q.send("a")
    q.receive()
    trace = Trace(loop, monkeypatch)
    assert q.receive() == []  # "a" moves to the dead-letter queue: in a transaction, fsynced
    statements = trace.take()
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-2:] == ["COMMIT", FSYNC]
    assert [m.body for m in dlq.receive()] == ["a"]
    assert trace.take() == ["UPDATE messages SET receive_count"]
    dlq.purge()
    assert trace.take() == ["BEGIN IMMEDIATE", "DELETE FROM messages WHERE",
                            "UPDATE queues SET meta", "COMMIT", FSYNC]
    fifo = dc.FifoQueue(loop, "orders.fifo", content_based_deduplication=True)
    fifo.send("x", message_group_id="g")
    (m,) = fifo.receive()
    trace.take()
    fifo.delete(m.receipt_handle)  # a FIFO delete records the deleted handle: fsynced
    assert "INSERT OR REPLACE INTO handles" in trace.sql[2]
    assert trace.take() == ["BEGIN IMMEDIATE", "DELETE FROM messages WHERE",
                            "INSERT OR REPLACE INTO", "COMMIT", FSYNC]


def test_a_power_loss_keeps_every_send_and_brings_back_unsynced_receives_and_deletes(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = tmp_path / "cut"
    cut.mkdir()
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    Trace(loop, monkeypatch, power_cut=cut)
    q.send_batch(["a", "b"])
    (a,) = q.receive()
    q.delete(a.receipt_handle)  # processed and deleted: not fsynced yet
    q.send("c")  # fsynced: the receive and the delete of "a" with it
    (b,) = q.receive()
    q.delete(b.receipt_handle)  # not fsynced: the power goes now
    # The files as the last fsync left them: "a" deleted, "b" back as it was before its
    # receive (a duplicate delivery, never a loss), "c" there.
    loop = open_loop(cut / "queues.db", "FULL", down_for=1)
    q = loop._lookup("sqs", "orders")
    got = q.receive(10)
    assert sorted((m.body, m.receive_count) for m in got) == [("b", 1), ("c", 1)]


@pytest.mark.parametrize("synchronous, level", [("EXTRA", 2), ("NORMAL", 1), ("OFF", 0)])
def test_other_settings_keep_one_level_and_leave_fsyncs_to_sqlite(
    db: Path, synchronous: str, level: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = open_loop(db, synchronous)
    q = dc.Queue(loop, "orders")
    q.send("first")  # (reserves the queue's first block of counters: a transaction)
    trace = Trace(loop, monkeypatch)
    q.send_batch(["a", "b"])
    assert trace.take() == ["INSERT OR REPLACE INTO"]
    q.receive()
    trace.take()
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


def test_a_batch_received_together_is_one_range_update_restored_exactly(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders", visibility_timeout=30)
    q.send_batch([str(i) for i in range(5)])
    q.send("later")
    trace = Trace(loop, monkeypatch)
    got = q.receive(10)
    assert [m.body for m in got] == ["0", "1", "2", "3", "4", "later"]
    # One statement for the run of six (consecutive keys and receipt ticks, the same times).
    assert "WHERE id BETWEEN" in trace.sql[-1]
    assert trace.take() == ["UPDATE messages SET receive_count"]
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


def test_a_failed_fsync_is_reported_and_the_change_stays_committed(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = open_loop(db, "FULL")
    q = dc.Queue(loop, "orders")
    q.send("a")

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sqlite_store, "_fdatasync", failing)
    with pytest.raises(dc.errors.ServiceUnavailable, match="could not fsync its write-ahead log"):
        q.send("b")
    (got,) = q.receive()  # a receive needs no fsync: it works meanwhile
    assert got.body == "a"
    monkeypatch.undo()
    q.delete(got.receipt_handle)
    assert loop.store is not None
    loop.store.close()
    loop = open_loop(db, "FULL", down_for=1)
    q = loop._lookup("sqs", "orders")
    assert [m.body for m in q.receive(10)] == ["b"]  # committed, though not known durable
