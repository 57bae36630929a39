"""Multi-process stores under contention: a call or a checkpoint that finds another process
holding SQLite's lock waits it out (bounded exponential backoff with jitter) instead of failing,
and a wait past the bound fails ``ServiceUnavailable`` without reloading anything.

The other process is another connection to the file (SQLite locks two connections of one
process exactly as it locks two processes); it takes the lock at the moment the store needs it,
found through the store connection's trace callback.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest

import decoupling as dc
from decoupling.errors import ServiceUnavailable
from decoupling.store import _sync
from decoupling.store._retry import MAX_PAUSE, Busy, Contention


class FakeTime:
    """A monotonic clock that moves only by the pauses slept."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        assert seconds > 0  # never a spin
        self.pauses.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def locked() -> None:
    raise sqlite3.OperationalError("database is locked")


def test_pauses_double_from_0_1_ms_to_2_ms_with_jitter_until_the_bound() -> None:
    fake = FakeTime()
    contention = Contention(0.02, random.Random(7), fake.sleep, fake.monotonic)
    with pytest.raises(Busy) as caught:
        contention.run(locked, "BEGIN IMMEDIATE")
    draws = random.Random(7)
    expected = []
    base, spent = 0.0001, 0.0
    while spent < 0.02:
        pause = min(0.02 - spent, base * (0.5 + 0.5 * draws.random()))
        expected.append(pause)
        spent += pause
        base = min(base * 2, MAX_PAUSE)
    assert fake.pauses == pytest.approx(expected, abs=1e-12)
    assert sum(fake.pauses) == pytest.approx(0.02)  # the bound, exactly
    for pause, base in zip(fake.pauses, (0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.002, 0.002),
                           strict=False):
        assert base / 2 <= pause <= base  # doubling, each drawn in its upper half
    assert max(fake.pauses) <= MAX_PAUSE == 0.002
    assert caught.value.tries == len(fake.pauses) + 1
    assert str(caught.value).startswith(
        f"BEGIN IMMEDIATE: other processes held the lock for 0.02 s ({caught.value.tries} tries"
    )
    # Another seed, other pauses: processes that collided do not retry in step.
    other = FakeTime()
    with pytest.raises(Busy):
        Contention(0.02, random.Random(8), other.sleep, other.monotonic).run(locked, "x")
    assert other.pauses[:3] != fake.pauses[:3]


def test_a_refusal_that_ends_is_waited_out_and_other_errors_are_not_retried() -> None:
    fake = FakeTime()
    contention = Contention(10.0, random.Random(1), fake.sleep, fake.monotonic)
    tries = iter([locked, locked, lambda: None])
    assert contention.run(lambda: next(tries)() or "done", "BEGIN IMMEDIATE") == "done"
    assert len(fake.pauses) == 2

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        contention.run(broken, "COMMIT")
    assert len(fake.pauses) == 2  # no pause: not a lock


def shared_store(path: Path, **settings: object) -> dc.EventLoop:
    store = dc.SqliteStore(path, multiprocess=True, synchronous="NORMAL",
                           **settings)  # type: ignore[arg-type]
    return dc.EventLoop(clock=dc.ManualClock(epoch=1_800_000_000.0), store=store)


class OtherProcess:
    """Another connection that takes the write lock when the store starts ``statement`` and
    gives it back ``hold`` seconds later."""

    def __init__(self, loop: dc.EventLoop, statement: str, hold: float) -> None:
        assert loop.store is not None and loop.store._conn is not None
        self.conn = sqlite3.connect(loop.store.path, isolation_level=None,
                                    check_same_thread=False)
        self.statement = statement
        self.hold = hold
        self.took = 0
        self.released = threading.Event()
        loop.store._conn.set_trace_callback(self.trace)

    def trace(self, sql: str) -> None:
        if sql.startswith(self.statement) and not self.took:
            self.took += 1
            self.conn.execute("BEGIN IMMEDIATE")
            threading.Timer(self.hold, self.release).start()

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.released.set()


def reloads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full reloads of the store."""
    seen: list[int] = []
    real = _sync.reload_all

    def counted(store: dc.SqliteStore) -> None:
        seen.append(1)
        real(store)

    monkeypatch.setattr(_sync, "reload_all", counted)
    return seen


@pytest.mark.realtime
def test_checkpoint_waits_for_another_process_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = shared_store(tmp_path / "shared.db")
    q = dc.Queue(loop, "jobs")
    for _ in range(20):
        q.send_batch(["x" * 2000] * 10)
    q.purge()
    q.send("kept")
    counted = reloads(monkeypatch)
    other = OtherProcess(loop, "PRAGMA wal_checkpoint", hold=0.03)  # SQLite alone waits 5 ms
    assert loop.store is not None
    sizes = loop.store.checkpoint()
    assert other.took == 1 and other.released.is_set()
    assert sizes["wal_bytes"] == 0
    assert sizes["db_bytes"] <= 16 * 4096  # the purged pages went back to the file system
    assert [m.body for m in q.receive()] == ["kept"]
    assert counted == []  # nothing reloaded


@pytest.mark.realtime
def test_a_checkpoint_blocked_past_the_bound_fails_without_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = shared_store(tmp_path / "shared.db", busy_timeout=0.05)
    q = dc.Queue(loop, "jobs")
    q.send("kept")
    counted = reloads(monkeypatch)
    other = OtherProcess(loop, "PRAGMA wal_checkpoint", hold=0.3)
    assert loop.store is not None
    with pytest.raises(ServiceUnavailable, match=(
        "could not be checkpointed \\(checkpoint: other processes held the lock for "
        ".*; its queues are committed and unchanged"
    )):
        loop.store.checkpoint()
    other.released.wait(5)
    assert [m.body for m in q.receive()] == ["kept"]
    assert counted == []


@pytest.mark.realtime
def test_a_call_blocked_past_the_bound_fails_busy_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = shared_store(tmp_path / "shared.db", busy_timeout=0.05)
    q = dc.Queue(loop, "jobs")
    q.send("a")
    counted = reloads(monkeypatch)
    other = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(ServiceUnavailable, match=(
        "is busy: BEGIN IMMEDIATE: other processes held the lock for [0-9.]+ s .*; nothing "
        "changed, try again"
    )):
        q.send("b")
    other.execute("COMMIT")
    q.send("c")
    assert sorted(m.body for m in q.receive(10)) == ["a", "c"]
    assert counted == []
