"""The durable store's write path: what one call changed, as rows, in one transaction.

The queue observers of :mod:`decoupling.store` note the entries a call touched; when the call
lets go of the loop's lock, :func:`write_pending` writes each touched message as it is now
(``INSERT`` for arrivals, ``UPDATE`` of the receive columns, ``DELETE`` for messages gone), the
FIFO deduplication ids and deleted handles, the queue rows whose counters or attributes moved,
and in multi-process mode the ``changes`` records the other processes read. Rows of one kind go
in one ``executemany``, so a batch of 10 costs three statements, not thirty.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from . import _store_load as rows
from ._core.ledger import GONE, Entry

if TYPE_CHECKING:
    from .store import SqliteStore, _QueueState

__all__ = ["write_pending", "prune", "KEEP_CHANGES", "BLOCK"]

#: Counter values reserved per write in single-process mode (gaps after a restart are fine:
#: sequences only need to grow).
BLOCK = 4096
#: Change records kept for other processes; one further behind reloads everything.
KEEP_CHANGES = 100_000

_INSERT = (
    "INSERT OR REPLACE INTO messages (" + rows.MESSAGE_COLUMNS + ") VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE messages SET receive_count = ?, first_received_at = ?, received_at = ?, "
    "deadline = ?, timeout = ?, receipt = ?, available_at = ? WHERE id = ?"
)
_DELETE = "DELETE FROM messages WHERE id = ?"



def write_pending(store: SqliteStore) -> None:
    """Write what the observers noted. Each message is written as it is now, so several
    changes of one message in a call cost one row write each. A call that comes down to one
    statement (a send, a receive, a delete, a batch of one kind: the common case in
    single-process mode) runs it as its own implicit transaction; anything more runs inside
    the call's ``BEGIN IMMEDIATE`` transaction."""
    if not store._touched:
        return
    conn = store._live()
    offset = store._offset
    now = store._loop.clock.now()
    multiprocess = store.multiprocess
    changes = store._changes
    ops: list[tuple[str, list[tuple[Any, ...]]]] = []
    if store._new:
        inserts = []
        for state, entry in store._new:
            if entry.state == GONE:
                continue
            inserts.append(_row(state, entry, offset))
            if multiprocess:
                assert state.by_seq is not None
                state.by_seq[entry.seq] = entry
                changes.append((state.qid, "m", inserts[-1][0], None))
        if inserts:
            ops.append((_INSERT, inserts))
        store._new = []
    if store._dirty:
        updates = []
        deletes = []
        for state, entry in store._dirty:
            key = state.qid << rows.SEQ_BITS | entry.seq
            if entry.state == GONE:
                deletes.append((key,))
                if multiprocess:
                    assert state.by_seq is not None
                    state.by_seq.pop(entry.seq, None)
            else:
                updates.append(_update(entry, key, offset))
            if multiprocess:
                changes.append((state.qid, "m", key, None))
        if updates:
            ops.append((_UPDATE, updates))
        if deletes:
            ops.append((_DELETE, deletes))
        store._dirty = []
    if (
        len(ops) == 1 and not store._in_tx and not multiprocess and not store._dedup
        and not store._handles and (store._commits + 1) % store.prune_every
        and not any(_queue_due(state) for state in store._touched)
    ):
        conn.executemany(*ops[0])  # one statement: its own transaction, committed here
        store._commits += 1
        for state in store._touched:
            state.touched = False
        store._touched = []
        return
    store._tx()
    for sql, params in ops:
        conn.executemany(sql, params)
    if store._dedup:
        write_dedup(store, conn, offset)
    if store._handles:
        write_handles(store, conn, now, offset)
    for state in store._touched:
        state.touched = False
        write_queue(store, conn, state)
    store._touched = []
    if changes:
        conn.executemany(
            "INSERT INTO changes (qid, kind, mid, key) VALUES (?, ?, ?, ?)", changes
        )
        store._seen += len(changes)
        store._changes = []


def write_dedup(store: SqliteStore, conn: sqlite3.Connection, offset: float) -> None:
    from .fifo import DEDUPLICATION_INTERVAL

    params = []
    for state, entry in store._dedup:
        record = entry.record
        queue: Any = state.queue
        scope = record.group_id if queue._scope_in_effect == "messageGroup" else ""
        params.append((state.qid, scope, record.dedup_id, record.message_id,
                       record.sequence_number,
                       entry.sent_at + DEDUPLICATION_INTERVAL + offset))
        if store.multiprocess:
            store._changes.append((state.qid, "d", None, f"{scope}\x00{record.dedup_id}"))
    conn.executemany("INSERT OR REPLACE INTO dedup VALUES (?, ?, ?, ?, ?, ?)", params)
    store._dedup = []

def write_handles(store: SqliteStore, conn: sqlite3.Connection, now: float, offset: float) -> None:
    params = []
    for state, entry in store._handles:
        if entry.receipt is not None and entry.deadline > now:
            params.append((state.qid, entry.receipt, entry.deadline + offset))
            if store.multiprocess:
                store._changes.append((state.qid, "h", None, entry.receipt))
    if params:
        conn.executemany("INSERT OR REPLACE INTO handles VALUES (?, ?, ?)", params)
    store._handles = []

def _queue_due(state: _QueueState) -> bool:
    """Whether :func:`write_queue` has something to write for this queue."""
    queue: Any = state.queue
    return bool(
        state.meta_dirty or state.seq.value > state.saved_seq
        or state.tick.value > state.saved_tick
        or (queue.is_fifo and queue._last_sequence > state.saved_sequence)
    )


def write_queue(store: SqliteStore, conn: sqlite3.Connection, state: _QueueState) -> None:
    """Write a queue's counters when they passed what is reserved, and its attributes when
    they changed."""
    queue: Any = state.queue
    sequence = queue._last_sequence if queue.is_fifo else 0
    seq, tick = state.seq.value, state.tick.value
    changed = False
    if seq > state.saved_seq or tick > state.saved_tick or sequence > state.saved_sequence:
        block = 0 if store.multiprocess else BLOCK
        state.saved_seq = seq + block
        state.saved_tick = tick + block
        state.saved_sequence = sequence + block if queue.is_fifo else 0
        conn.execute(
            "UPDATE queues SET next_seq = ?, next_tick = ?, last_sequence = ? WHERE id = ?",
            (state.saved_seq, state.saved_tick, state.saved_sequence, state.qid),
        )
        changed = True
    if state.meta_dirty:
        state.meta_dirty = False
        conn.execute("UPDATE queues SET meta = ? WHERE id = ?",
                     (rows.queue_meta(queue, store._offset), state.qid))
        changed = True
    if changed and store.multiprocess:
        store._changes.append((state.qid, "q", None, None))


def prune(store: SqliteStore) -> None:
    """Delete rows nothing can use any more: messages past retention, expired dedup ids
    and deleted handles, change records every process has had time to read. O(rows)."""
    conn = store._live()
    write_pending(store)
    store._tx()
    wall = store._loop.clock.now() + store._offset
    for state in list(store._states.values()):
        lo, hi = rows.key_range(state.qid)
        retention = float(state.queue._values["MessageRetentionPeriod"])
        conn.execute(
            "DELETE FROM messages WHERE id BETWEEN ? AND ? AND sent_at + ? <= ?",
            (lo, hi, retention, wall),
        )
        if state.by_seq is not None:
            state.by_seq = rows.prune_gone(state.by_seq)
    conn.execute("DELETE FROM dedup WHERE expires <= ?", (wall,))
    conn.execute("DELETE FROM handles WHERE expires <= ?", (wall,))
    conn.execute(
        "DELETE FROM changes WHERE id <= (SELECT max(id) FROM changes) - ?",
        (KEEP_CHANGES,),
    )


def _row(state: _QueueState, entry: Entry, offset: float) -> tuple[Any, ...]:
    """A new message's ``messages`` row."""
    r = entry.record
    received = entry.receive_count > 0
    return (
        state.qid << rows.SEQ_BITS | entry.seq, r.message_id, r.body,
        rows.encode_attributes(r.attributes), r.sent_ms, r.group_id, r.dedup_id,
        r.sequence_number, r.dlq_source_arn, r.trace_header, entry.sent_at + offset,
        entry.available_at + offset, entry.receive_count,
        entry.first_received_at + offset if received else None,
        entry.received_at + offset if entry.receipt is not None else None,
        entry.deadline + offset if entry.receipt is not None else None,
        entry.timeout, entry.receipt,
    )


def _update(entry: Entry, key: int, offset: float) -> tuple[Any, ...]:
    """A received (or re-timed) message's changing columns."""
    has_receipt = entry.receipt is not None
    return (
        entry.receive_count,
        entry.first_received_at + offset if entry.receive_count > 0 else None,
        entry.received_at + offset if has_receipt else None,
        entry.deadline + offset if has_receipt else None,
        entry.timeout,
        entry.receipt,
        entry.available_at + offset,
        key,
    )

