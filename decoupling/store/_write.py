"""The durable store's write path: what one call changed, as rows, in one transaction.

The queue observers of :mod:`decoupling.store.sqlite_store` note the entries a call touched; when the call
lets go of the loop's lock, :func:`write_pending` writes each touched message as it is now
(``INSERT`` for arrivals, ``UPDATE`` of the receive columns, ``DELETE`` for messages gone), the
FIFO deduplication ids and deleted handles, the queue rows whose counters or attributes moved,
and in multi-process mode the ``changes`` records the other processes read. Rows of one kind go
in one ``executemany``, so a batch of 10 costs three statements, not thirty.
"""

from __future__ import annotations

import sqlite3
from hashlib import md5 as _md5
from typing import TYPE_CHECKING, Any

from .._core.ledger import GONE, Entry
from ..message import md5_of_body
from . import _load as rows

if TYPE_CHECKING:
    from .sqlite_store import SqliteStore, _QueueState

__all__ = ["write_pending", "write_changes", "prune", "KEEP_CHANGES", "BLOCK"]

#: Counter values reserved per write in single-process mode (gaps after a restart are fine:
#: sequences only need to grow).
BLOCK = 4096
#: Change records kept for other processes; one further behind reloads everything.
KEEP_CHANGES = 100_000

#: Rows per statement at most: SQLite before 3.32 allows 999 parameters per statement.
_MAX_PARAMS = 999
#: A message row in full (``MESSAGE_COLUMNS``), and the common case: a standard-queue message
#: with no attributes, never received (the other columns keep their defaults).
_FULL_COLUMNS = "(" + rows.MESSAGE_COLUMNS + ")"
_PLAIN_COLUMNS = "(id, message_id, body, md5, sent_ms, sent_at, available_at, receive_count)"
#: What a receive or a visibility change rewrites: the key, then the changing columns.
_UPDATE = (
    "UPDATE messages SET receive_count = v.column2, first_received_at = v.column3, "
    "received_at = v.column4, deadline = v.column5, timeout = v.column6, receipt = v.column7, "
    "available_at = v.column8 FROM (VALUES {}) AS v WHERE messages.id = v.column1"
)
_UPDATE_ONE = (
    "UPDATE messages SET receive_count = ?2, first_received_at = ?3, received_at = ?4, "
    "deadline = ?5, timeout = ?6, receipt = ?7, available_at = ?8 WHERE id = ?1"
)
#: A run of messages received together: consecutive keys, consecutive receipt ticks (a handle
#: is the queue's prefix and the tick in hex), the same counts and times.
_UPDATE_RUN = (
    "UPDATE messages SET receive_count = ?1, first_received_at = ?2, received_at = ?3, "
    "deadline = ?4, timeout = ?5, receipt = ?6 || printf('%x', id - ?7), available_at = ?8 "
    "WHERE id BETWEEN ?9 AND ?10"
)
#: ``UPDATE ... FROM`` needs SQLite 3.33; before it, one statement per row.
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)

_WIDTH = {"plain": 7, "full": 19, "update": 8}
_sql_cache: dict[tuple[str, int], str] = {}


def _sql(kind: str, n: int) -> str:
    """The statement writing ``n`` rows of ``kind`` (``"plain"``, ``"full"``, ``"update"``)."""
    sql = _sql_cache.get((kind, n))
    if sql is None:
        width = _WIDTH[kind]
        row = "(" + ", ".join("?" * width) + (", 0)" if kind == "plain" else ")")
        values = ", ".join([row] * n)
        if kind == "full":
            sql = f"INSERT OR REPLACE INTO messages {_FULL_COLUMNS} VALUES {values}"
        elif kind == "plain":
            sql = f"INSERT OR REPLACE INTO messages {_PLAIN_COLUMNS} VALUES {values}"
        elif n == 1 or not _UPDATE_FROM:
            sql = _UPDATE_ONE
        else:
            sql = _UPDATE.format(values)
        _sql_cache[(kind, n)] = sql
    return sql


def _statements(kind: str, params: list[Any], ops: list[tuple[str, list[Any]]]) -> None:
    """Append to ``ops`` one multi-row statement (per up to ``_MAX_PARAMS`` parameters) for
    ``params``, the rows' values one after another: one statement costs SQLite and the
    ``sqlite3`` module far less than one per row (``executemany``)."""
    width = _WIDTH[kind]
    n = len(params) // width
    if n <= 10 and (_UPDATE_FROM or kind != "update"):
        ops.append((_sql_cache.get((kind, n)) or _sql(kind, n), params))
        return
    per = _MAX_PARAMS // width if kind != "update" or _UPDATE_FROM else 1
    for at in range(0, len(params), per * width):
        chunk = params[at:at + per * width]
        ops.append((_sql(kind, len(chunk) // width), chunk))


def _run(updated: list[tuple[_QueueState, Entry]], offset: float,
         ops: list[tuple[str, list[Any]]]) -> bool:
    """Append one range ``UPDATE`` for messages received together (a batch receive of a batch
    sent together), if they are such a run; else leave ``ops`` alone and return False. Each
    entry's values are checked, so the statement writes exactly what the rows would hold."""
    state, e0 = updated[0]
    receipt = e0.receipt
    prefix = state.queue._ledger.receipt_prefix
    if receipt is None or not receipt.startswith(prefix):
        return False
    try:
        tick0 = int(receipt[len(prefix):], 16)
    except ValueError:
        return False
    seq0 = e0.seq
    count, first, received = e0.receive_count, e0.first_received_at, e0.received_at
    deadline, timeout, available = e0.deadline, e0.timeout, e0.available_at
    i = 0
    for other, entry in updated:
        if (
            other is not state or entry.seq != seq0 + i
            or entry.receipt != f"{prefix}{tick0 + i:x}" or entry.receive_count != count
            or entry.received_at != received or entry.deadline != deadline
            or entry.timeout != timeout or entry.first_received_at != first
            or entry.available_at != available
        ):
            return False
        i += 1
    key0 = state.base | seq0
    ops.append((_UPDATE_RUN, [
        count, first + offset if count else None, received + offset, deadline + offset,
        timeout, prefix, key0 - tick0, available + offset, key0, key0 + i - 1,
    ]))
    return True


def _deletes(keys: list[int]) -> list[tuple[str, list[Any]]]:
    """``DELETE`` statements for message keys: one range when the keys are consecutive (a
    batch sent together and deleted together), else one ``IN`` list per chunk."""
    keys = sorted(set(keys))
    if keys[-1] - keys[0] == len(keys) - 1:
        if len(keys) == 1:
            return [("DELETE FROM messages WHERE id = ?", keys)]
        return [("DELETE FROM messages WHERE id BETWEEN ? AND ?", [keys[0], keys[-1]])]
    out = []
    for at in range(0, len(keys), _MAX_PARAMS):
        chunk = keys[at:at + _MAX_PARAMS]
        sql = _sql_cache.get(("delete", len(chunk)))
        if sql is None:
            sql = _sql_cache[("delete", len(chunk))] = (
                "DELETE FROM messages WHERE id IN (" + ", ".join("?" * len(chunk)) + ")"
            )
        out.append((sql, chunk))
    return out


def write_pending(store: SqliteStore) -> None:
    """Write what the observers noted. Each message is written as it is now, so several
    changes of one message in a call cost one row write each; rows of one kind go in one
    statement. A call that comes down to one statement (a send, a receive, a delete, a batch of
    one kind: the common case in single-process mode) runs it as its own implicit transaction;
    anything more runs inside the call's ``BEGIN IMMEDIATE`` transaction.

    At ``synchronous="FULL"`` (single process) a call that only received messages, or only
    deleted messages of a standard queue, commits at SQLite's ``synchronous=NORMAL``: no fsync
    of its own; the next fsynced commit (every other change) makes it durable with everything
    before it. Everything else commits at ``FULL``."""
    touched = store._touched
    if not touched:
        return
    if len(touched) == 1 and len(store._new) + len(store._dirty) == 1 and _one(store):
        return
    conn = store._live()
    offset = store._offset
    multiprocess = store.multiprocess
    changes = store._changes
    ops: list[tuple[str, list[Any]]] = []
    if store._new:
        plain: list[Any] = []
        full: list[Any] = []
        for state, entry in store._new:
            if entry.state == GONE:
                continue
            key = state.base | entry.seq
            r = entry.record
            if (
                entry.receive_count == 0 and r.group_id is None and not r.attributes
                and r.dlq_source_arn is None and r.trace_header is None
                and r.dedup_id is None and r.sequence_number is None
            ):
                body = r.body
                plain += (key, r.message_id, body,
                          _md5(body.encode(), usedforsecurity=False).hexdigest(),  # md5_of_body
                          r.sent_ms, entry.sent_at + offset, entry.available_at + offset)
            else:
                full += _row(key, entry, offset)
            if multiprocess:
                assert state.by_seq is not None
                state.by_seq[entry.seq] = entry
                changes.append((state.qid, "m", key, None))
        if plain:
            _statements("plain", plain, ops)
        if full:
            _statements("full", full, ops)
        store._new = []
    if store._dirty:
        updated: list[tuple[_QueueState, Entry]] = []
        deletes = []
        for state, entry in store._dirty:
            if entry.state == GONE:
                key = state.base | entry.seq
                deletes.append(key)
                if multiprocess:
                    assert state.by_seq is not None
                    state.by_seq.pop(entry.seq, None)
                    changes.append((state.qid, "m", key, None))
            else:
                updated.append((state, entry))
                if multiprocess:
                    changes.append((state.qid, "m", state.base | entry.seq, None))
        if updated and not (len(updated) > 1 and _run(updated, offset, ops)):
            updates: list[Any] = []
            for state, entry in updated:
                key = state.base | entry.seq
                count = entry.receive_count
                if entry.receipt is None:
                    updates += (key, count, entry.first_received_at + offset if count else None,
                                None, None, entry.timeout, None, entry.available_at + offset)
                else:
                    updates += (key, count, entry.first_received_at + offset if count else None,
                                entry.received_at + offset, entry.deadline + offset,
                                entry.timeout, entry.receipt, entry.available_at + offset)
            _statements("update", updates, ops)
        if deletes:
            if len(deletes) == 1:
                ops.append(("DELETE FROM messages WHERE id = ?", deletes))
            else:
                ops += _deletes(deletes)
        store._dirty = []
    if len(ops) == 1 and not store._in_tx and not multiprocess and not store._dedup \
            and not store._handles and (store._commits + 1) % store.prune_every:
        for state in touched:
            if state.meta_dirty or state.seq.value > state.saved_seq \
                    or state.tick.value > state.saved_tick or (state.fifo and _fifo_due(state)):
                break
        else:
            # One statement: its own transaction, committed here. Only receives or deletes:
            # no fsync (at FULL; the next fsynced commit covers them).
            store._write(*ops[0])
            store._commits += 1
            for state in touched:
                state.touched = False
            store._touched = []
            if store._strict:
                store._strict = False
                if store._relax:
                    store._sync_wal()
            return
    store._strict = False
    store._tx()
    write = store._write
    for sql, params in ops:
        write(sql, params)
    if store._dedup:
        write_dedup(store, conn, offset)
    if store._handles:
        write_handles(store, conn, store._loop.clock.now(), offset)
    for state in touched:
        state.touched = False
        write_queue(store, conn, state)
    store._touched = []
    if store._changes:
        write_changes(store, conn)


_PLAIN_ONE = (
    "INSERT OR REPLACE INTO messages " + _PLAIN_COLUMNS + " VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
)
_DELETE_ONE = "DELETE FROM messages WHERE id = ?"


def _one(store: SqliteStore) -> bool:
    """The commonest call, written with the least work: one message of one queue sent (a
    plain one: a standard queue's, without attributes), received or deleted, in one process,
    outside a transaction, with no counters to reserve and no prune due. Writes its one
    statement as its own transaction and returns True; False (nothing done) for anything else,
    which :func:`write_pending` writes in general. (A standard queue's call never notes FIFO
    deduplication ids or deleted handles, so a single touched standard queue means none.)"""
    state = store._touched[0]
    if state.fifo or store._in_tx or store.multiprocess or store._dedup or store._handles \
            or state.meta_dirty \
            or state.seq.value > state.saved_seq or state.tick.value > state.saved_tick \
            or not (store._commits + 1) % store.prune_every:
        return False
    if store._new:
        owner, entry = store._new[0]
        r = entry.record
        if owner is not state or entry.state == GONE or entry.receive_count or r.attributes \
                or r.group_id is not None or r.dlq_source_arn is not None \
                or r.trace_header is not None or r.dedup_id is not None \
                or r.sequence_number is not None:
            return False
        offset = store._offset
        body = r.body
        sql = _PLAIN_ONE
        params: Any = (state.base | entry.seq, r.message_id, body,
                       _md5(body.encode(), usedforsecurity=False).hexdigest(),  # md5_of_body
                       r.sent_ms, entry.sent_at + offset, entry.available_at + offset)
        store._new = []
    else:
        owner, entry = store._dirty[0]
        if owner is not state:
            return False
        if entry.state == GONE:
            sql = _DELETE_ONE
            params = (state.base | entry.seq,)
        else:
            offset = store._offset
            count = entry.receive_count
            sql = _UPDATE_ONE
            if entry.receipt is None:
                params = (state.base | entry.seq, count,
                          entry.first_received_at + offset if count else None, None, None,
                          entry.timeout, None, entry.available_at + offset)
            else:
                params = (state.base | entry.seq, count,
                          entry.first_received_at + offset if count else None,
                          entry.received_at + offset, entry.deadline + offset,
                          entry.timeout, entry.receipt, entry.available_at + offset)
        store._dirty = []
    state.touched = False
    store._touched = []
    store._write(sql, params)  # (if it fails, the caller's _fail reloads)
    store._commits += 1
    if store._strict:
        store._strict = False
        if store._relax:
            store._sync_wal()
    return True


def write_changes(store: SqliteStore, conn: sqlite3.Connection) -> None:
    """Multi-process mode: the ``changes`` records of this call, for the other processes (in
    the call's transaction, which holds the write lock: their ids follow the last one read)."""
    changes = store._changes
    conn.executemany("INSERT INTO changes (qid, kind, mid, key) VALUES (?, ?, ?, ?)", changes)
    store._seen += len(changes)
    store._changes = []


def write_dedup(store: SqliteStore, conn: sqlite3.Connection, offset: float) -> None:
    from ..sqs.fifo import DEDUPLICATION_INTERVAL

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

def _fifo_due(state: _QueueState) -> bool:
    """Whether a FIFO queue's ``SequenceNumber`` passed what its row reserves."""
    queue: Any = state.queue
    return bool(queue._last_sequence > state.saved_sequence)


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


def _row(key: int, entry: Entry, offset: float) -> tuple[Any, ...]:
    """A new message's ``messages`` row, in full."""
    r = entry.record
    received = entry.receive_count > 0
    return (
        key, r.message_id, r.body,
        rows.encode_attributes(r.attributes), r.sent_ms, r.group_id, r.dedup_id,
        r.sequence_number, r.dlq_source_arn, r.trace_header, entry.sent_at + offset,
        entry.available_at + offset, entry.receive_count,
        entry.first_received_at + offset if received else None,
        entry.received_at + offset if entry.receipt is not None else None,
        entry.deadline + offset if entry.receipt is not None else None,
        entry.timeout, entry.receipt, md5_of_body(r.body),
    )
