"""Multi-process mode: bringing this process's queues up to date with what others wrote.

Every call of a process that opened a store with ``multiprocess=True`` starts a write
transaction, which SQLite grants to one process at a time, and then calls :func:`catch_up`:
the ``changes`` records written by other processes since this process last looked name the
rows they touched, and each of those is read again as it is now (a message row re-placed in its
ledger or dropped, a queue row's attributes and counters applied, a purge or a deletion
repeated). Reading the current row rather than replaying an operation makes the order of
records within one catch-up harmless. Cost: O(changes since the last call), one indexed read
each. A process that fell further behind than the records kept reloads everything
(:func:`reload_all`, O(rows)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core.ledger import GONE, VISIBLE
from ..sqs.config import RedrivePolicy
from . import _load as rows

if TYPE_CHECKING:
    import sqlite3

    from ..sqs.queue import Queue
    from .sqlite_store import SqliteStore, _QueueState

__all__ = ["catch_up", "reload_all"]


def catch_up(store: SqliteStore) -> None:
    """Apply other processes' changes since the last call (inside the call's transaction)."""
    if store._seen < 0:
        return  # still opening: the load reads everything
    conn = store._conn
    assert conn is not None
    changes = conn.execute(
        "SELECT id, qid, kind, mid, key FROM changes WHERE id > ? ORDER BY id", (store._seen,)
    ).fetchall()
    if not changes:
        return
    if changes[0][0] != store._seen + 1:
        reload_all(store)  # records we never read were pruned
        return
    store._replaying = True
    try:
        now = store._loop.clock.now()
        for _, qid, kind, mid, key in changes:
            _apply(store, conn, now, qid, kind, mid, key)
        store._seen = changes[-1][0]
    finally:
        store._replaying = False


def _apply(
    store: SqliteStore, conn: sqlite3.Connection, now: float, qid: int, kind: str,
    mid: int | None, key: str | None,
) -> None:
    state = store._states.get(qid)
    if kind == "c":
        if state is None:
            row = conn.execute("SELECT * FROM queues WHERE id = ?", (qid,)).fetchone()
            if row is not None:
                _load(store, conn, now, [row])
        return
    if state is None:
        return  # a queue deleted since (its "x" record came first)
    queue: Any = state.queue
    if kind == "m":
        assert mid is not None and state.by_seq is not None
        seq = mid & rows.SEQ_MASK
        entry = state.by_seq.pop(seq, None)
        if entry is not None and entry.state != GONE:
            queue._ledger.remove(entry)
        if seq > state.seq.value:
            state.seq.value = seq
        row = conn.execute(
            f"SELECT {rows.LOAD_COLUMNS} FROM messages WHERE id = ?", (mid,)
        ).fetchone()
        if row is not None:
            entry = rows.restore_row(state, row, now)
            if store._damaged_rows:
                rows.quarantine(store, conn)
            elif entry is not None and entry.state == VISIBLE and queue._waiting:
                queue._cond.notify(queue._waiting)
    elif kind == "q":
        row = conn.execute("SELECT * FROM queues WHERE id = ?", (qid,)).fetchone()
        if row is not None:
            _apply_queue_row(store, state, row)
    elif kind == "p":
        queue._ledger.purge()
        if queue.is_fifo:
            queue._after_purge()
        state.by_seq = {}
    elif kind == "x":
        _drop(store, state)
    elif kind == "d" and queue.is_fifo:
        assert key is not None
        from ..sqs.fifo import _window_key, _window_value

        scope, _, dedup_id = key.partition("\x00")
        found = conn.execute(
            "SELECT message_id, sequence_number, expires FROM dedup "
            "WHERE qid = ? AND scope = ? AND dedup_id = ?", (qid, scope, dedup_id)
        ).fetchone()
        if found is not None and found[2] - store._offset > now:
            queue._dedup.put(_window_key(scope or None, dedup_id),
                             _window_value(found[0], found[1]), found[2] - store._offset, now)
    elif kind == "h" and queue.is_fifo:
        found = conn.execute(
            "SELECT expires FROM handles WHERE qid = ? AND receipt = ?", (qid, key)
        ).fetchone()
        if found is not None and found[0] - store._offset > now:
            queue._deleted_handles.add(key, found[0] - store._offset, now)


def _apply_queue_row(store: SqliteStore, state: _QueueState, row: tuple[Any, ...]) -> None:
    """A queue row another process wrote: its attributes, tasks and counters."""
    _, _, fifo, meta, _, next_seq, next_tick, last_sequence = row
    queue: Any = state.queue
    rows.apply_meta(store, queue, meta, with_redrive=True)
    rows.restore_tasks(store, queue, meta, resume=False)
    state.seq.value = max(state.seq.value, next_seq)
    state.tick.value = max(state.tick.value, next_tick)
    state.saved_seq, state.saved_tick = next_seq, next_tick
    if fifo:
        queue._last_sequence = max(queue._last_sequence, last_sequence)
        state.saved_sequence = last_sequence


def _drop(store: SqliteStore, state: _QueueState) -> None:
    """A queue another process deleted: delete it here too (without writing anything)."""
    queue = state.queue
    store._forget(state)
    queue._deleted = True
    queue._ledger.purge()
    queue.loop._unregister("sqs", queue.name)
    queue._cond.notify_all()
    queue.loop._drop_condition(queue._cond)


def _load(
    store: SqliteStore, conn: sqlite3.Connection, now: float, queue_rows: list[tuple[Any, ...]]
) -> None:
    """Create queues from their rows, then their redrive policies and messages."""
    loaded: list[tuple[Queue, str | None]] = []
    for row in queue_rows:
        existing = store._loop._lookup("sqs", row[1])
        if existing is not None:
            old = store._by_queue.get(id(existing))
            if old is not None:
                _drop(store, old)  # a queue of that name deleted and re-created elsewhere
        loaded.append(rows.load_queue(store, row))
    for queue, redrive in loaded:
        queue._redrive = RedrivePolicy.parse(redrive)
        state = store._by_queue[id(queue)]
        rows.reload_messages(state, conn, now)
        meta = conn.execute("SELECT meta FROM queues WHERE id = ?", (state.qid,)).fetchone()[0]
        rows.restore_tasks(store, queue, meta, resume=False)


def reload_all(store: SqliteStore) -> None:
    """Rebuild every queue from the store (inside the current transaction). O(rows)."""
    conn = store._conn
    assert conn is not None
    was = store._replaying
    store._replaying = True
    try:
        now = store._loop.clock.now()
        queue_rows = conn.execute("SELECT * FROM queues ORDER BY id").fetchall()
        present = {row[0] for row in queue_rows}
        for qid, state in list(store._states.items()):
            if qid not in present:
                _drop(store, state)
        fresh: list[tuple[Any, ...]] = []
        for row in queue_rows:
            known = store._states.get(row[0])
            if known is None:
                fresh.append(row)
                continue
            _apply_queue_row(store, known, row)
            rows.reload_messages(known, conn, now)
        _load(store, conn, now, fresh)
        if store.multiprocess:
            store._seen = conn.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]
    finally:
        store._replaying = was
