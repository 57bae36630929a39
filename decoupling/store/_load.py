"""The durable store's tables, and how their rows become queues again.

Used by :mod:`decoupling.store.sqlite_store` when a store opens (every queue is rebuilt from its rows) and, in
multi-process mode, at the start of each call (the queues another process changed are brought
up to date from the rows it wrote).

Tables (times are wall-clock epoch seconds, so they mean the same after a restart, on another
clock or in another process):

* ``queues``: one row per queue — its name, kind, attributes and tags and move tasks (JSON),
  its receipt-handle prefix and three counters (message sequence, receipt tick, FIFO
  ``SequenceNumber``);
* ``messages``: one row per message held, updated in place: the record (body, attributes, ids),
  ``sent_at`` (retention), ``available_at`` (delay), receive count, first and last receive,
  visibility ``deadline`` and the latest ``receipt``. Its key is ``qid << 40 | seq``, so one
  queue's rows are one key range, in the order they were sent;
* ``dedup``: FIFO deduplication ids with the original's ``MessageId``/``SequenceNumber``, until
  they expire;
* ``handles``: FIFO receipt handles of messages deleted while in flight, until their visibility
  timeout would have ended (a retried delete still succeeds);
* ``changes``: multi-process mode only: what each call changed, for the other processes;
* ``quarantine``: message rows found damaged on load (see :func:`quarantine`), kept for a
  person to look at;
* ``meta``: the store's format (``version``); the file's identity is in its header
  (:mod:`decoupling.store._file`).

Every message row carries its body's MD5 (``MD5OfMessageBody``, :func:`decoupling.message.md5_of_body`),
written with the row and checked whenever the row is read back: a body altered on disk (a bad
sector, a stray write, an edit by hand) is caught before it is delivered as if it were the
message sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from .._core.ledger import GONE, Entry, Ledger
from ..message import MessageAttributeValue
from ..sqs._state import _Record
from ..sqs.config import RedriveAllowPolicy, RedrivePolicy

if TYPE_CHECKING:
    import sqlite3

    from ..sqs.queue import Queue
    from .sqlite_store import SqliteStore, _QueueState

__all__ = ["SCHEMA", "SCHEMA_VERSION", "QUARANTINE_TABLE", "SEQ_BITS", "SEQ_MASK",
           "MESSAGE_COLUMNS", "LOAD_COLUMNS", "key_range", "encode_attributes",
           "decode_attributes", "queue_meta", "apply_meta", "restore_tasks", "restore_row",
           "quarantine", "reload_messages", "reload_fifo_windows", "load_queue", "prune_gone"]

_log = logging.getLogger("decoupling.store")
_md5 = hashlib.md5

SCHEMA_VERSION = 2
#: A message row's key is ``qid << SEQ_BITS | seq``: 2**40 messages per queue.
SEQ_BITS = 40
SEQ_MASK = (1 << SEQ_BITS) - 1

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE queues (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fifo INTEGER NOT NULL,
    meta TEXT NOT NULL,
    receipt_prefix TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    next_tick INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT,
    sent_ms INTEGER NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    sequence_number TEXT,
    dlq_source_arn TEXT,
    trace_header TEXT,
    sent_at REAL NOT NULL,
    available_at REAL NOT NULL,
    receive_count INTEGER NOT NULL,
    first_received_at REAL,
    received_at REAL,
    deadline REAL,
    timeout REAL,
    receipt TEXT,
    md5 TEXT
);
CREATE TABLE dedup (
    qid INTEGER NOT NULL,
    scope TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT,
    expires REAL NOT NULL,
    PRIMARY KEY (qid, scope, dedup_id)
) WITHOUT ROWID;
CREATE TABLE handles (
    qid INTEGER NOT NULL,
    receipt TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (qid, receipt)
) WITHOUT ROWID;
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    qid INTEGER NOT NULL,
    kind TEXT NOT NULL,
    mid INTEGER,
    key TEXT
);
"""

#: Where a damaged message row goes (:func:`quarantine`): its columns as they were (untyped, so
#: any damage fits), its key, its queue, why and when (wall-clock epoch seconds). Nothing
#: reads or prunes it: it is for a person to look at, and to delete.
QUARANTINE_TABLE = """CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    found_at REAL NOT NULL,
    queue TEXT NOT NULL,
    reason TEXT NOT NULL,
    key INTEGER NOT NULL,
    message_id, body, attributes, sent_ms, group_id, dedup_id, sequence_number, dlq_source_arn,
    trace_header, sent_at, available_at, receive_count, first_received_at, received_at,
    deadline, timeout, receipt, md5
)"""
SCHEMA += QUARANTINE_TABLE + ";"

#: The columns of ``messages`` in the order they are written (``md5``: the body's
#: ``MD5OfMessageBody``, checked on every load).
MESSAGE_COLUMNS = (
    "id, message_id, body, attributes, sent_ms, group_id, dedup_id, sequence_number, "
    "dlq_source_arn, trace_header, sent_at, available_at, receive_count, first_received_at, "
    "received_at, deadline, timeout, receipt, md5"
)
#: The same columns as :func:`restore_row` reads them: the body as its stored bytes, whose MD5
#: is checked before they are decoded, and last whether every column holds the type it was
#: written with (checked by SQLite, where it costs nothing).
LOAD_COLUMNS = MESSAGE_COLUMNS.replace(" body,", " CAST(body AS BLOB),", 1) + (
    ", typeof(message_id) = 'text' AND typeof(body) = 'text' AND typeof(sent_ms) = 'integer' "
    "AND typeof(receive_count) = 'integer' AND receive_count >= 0 "
    "AND typeof(sent_at) = 'real' AND typeof(available_at) = 'real' "
    "AND typeof(attributes) IN ('null', 'text') AND typeof(group_id) IN ('null', 'text') "
    "AND typeof(dedup_id) IN ('null', 'text') AND typeof(sequence_number) IN ('null', 'text') "
    "AND typeof(dlq_source_arn) IN ('null', 'text') "
    "AND typeof(trace_header) IN ('null', 'text') AND typeof(receipt) IN ('null', 'text') "
    "AND typeof(first_received_at) IN ('null', 'real') "
    "AND typeof(received_at) IN ('null', 'real') AND typeof(deadline) IN ('null', 'real') "
    "AND typeof(timeout) IN ('null', 'real')"
)
_QUARANTINED = MESSAGE_COLUMNS.replace("id, ", "", 1)


def key_range(qid: int) -> tuple[int, int]:
    """The first and last message key of queue ``qid``."""
    return qid << SEQ_BITS, ((qid + 1) << SEQ_BITS) - 1


# -- message attributes ---------------------------------------------------------------------


def encode_attributes(attributes: dict[str, MessageAttributeValue] | None) -> str | None:
    """Message attributes as JSON: ``{name: [data_type, string_value, base64 binary]}``."""
    if not attributes:
        return None
    return json.dumps(
        {
            name: [
                a.data_type,
                a.string_value,
                None if a.binary_value is None else base64.b64encode(a.binary_value).decode(),
            ]
            for name, a in attributes.items()
        },
        separators=(",", ":"),
    )


def decode_attributes(text: str | None) -> dict[str, MessageAttributeValue] | None:
    """The inverse of :func:`encode_attributes`."""
    if text is None:
        return None
    return {
        name: MessageAttributeValue(
            data_type, string, None if binary is None else base64.b64decode(binary)
        )
        for name, (data_type, string, binary) in json.loads(text).items()
    }


# -- queue attributes -------------------------------------------------------------------------


def queue_meta(queue: Queue, offset: float) -> str:
    """A queue's attributes, tags, timestamps and move tasks as JSON (``offset`` turns loop
    seconds into wall-clock seconds)."""
    meta: dict[str, Any] = {
        "values": queue._values,
        "opaque": queue._opaque,
        "redrive": None if queue._redrive is None else queue._redrive.to_json(),
        "redrive_allow": None if queue._redrive_allow is None else queue._redrive_allow.to_json(),
        "tags": queue._tags,
        "created_ms": queue._created_ms,
        "modified_ms": queue._modified_ms,
        "last_purge": queue._last_purge + offset,
        "tasks": [
            {
                "task_id": t.task_id,
                "handle": t.handle,
                "status": t.status,
                "moved": t.moved,
                "to_move": t.to_move,
                "rate": t.rate,
                "destination": None if t.destination is None else t.destination.name,
                "started_ms": t.started_ms,
                "failure_reason": t.failure_reason,
            }
            for t in queue._move_history
        ],
    }
    if queue.is_fifo:
        meta["fifo"] = {
            "content_based": queue._content_based,  # type: ignore[attr-defined]
            "scope": queue._scope,  # type: ignore[attr-defined]
            "scope_in_effect": queue._scope_in_effect,  # type: ignore[attr-defined]
            "throughput": queue._throughput,  # type: ignore[attr-defined]
        }
    return json.dumps(meta, separators=(",", ":"))


def apply_meta(store: SqliteStore, queue: Queue, text: str, *, with_redrive: bool) -> str | None:
    """Set a queue's attributes, tags and timestamps from :func:`queue_meta`'s JSON, as they
    were validated when first set. Returns the ``RedrivePolicy`` JSON (applied here only with
    ``with_redrive``: on open, after every queue exists). Move tasks are restored by
    :func:`restore_tasks`."""
    meta = json.loads(text)
    queue._values = dict(meta["values"])
    queue._ledger.retention = float(queue._values["MessageRetentionPeriod"])
    queue._opaque = dict(meta["opaque"])
    queue._redrive_allow = RedriveAllowPolicy.parse(meta["redrive_allow"])
    queue._tags = dict(meta["tags"])
    queue._created_ms = meta["created_ms"]
    queue._modified_ms = meta["modified_ms"]
    queue._last_purge = meta["last_purge"] - store._offset
    fifo = meta.get("fifo")
    if fifo is not None:
        q: Any = queue
        q._content_based = fifo["content_based"]
        q._scope = fifo["scope"]
        q._scope_in_effect = fifo["scope_in_effect"]
        q._throughput = fifo["throughput"]
    redrive: str | None = meta["redrive"]
    if with_redrive:
        queue._redrive = RedrivePolicy.parse(redrive)
    # The plain-send plan reads DelaySeconds and MaximumMessageSize: recompute it from the
    # values just set (a durable queue does not take the plain path today, but the plan must
    # never describe attributes the queue no longer has).
    queue._replan()
    return redrive


def restore_tasks(store: SqliteStore, queue: Queue, text: str, *, resume: bool) -> None:
    """Rebuild a queue's message move tasks; with ``resume``, running ones carry on."""
    from ..sqs.move_tasks import MessageMoveTask

    loop = store._loop
    tasks = []
    for data in json.loads(text)["tasks"]:
        task = MessageMoveTask.__new__(MessageMoveTask)
        task.source = queue
        name = data["destination"]
        task.destination = None if name is None else loop._lookup("sqs", name)
        task.rate = data["rate"]
        task.task_id = data["task_id"]
        task.handle = data["handle"]
        task.status = data["status"]
        task.moved = data["moved"]
        task.to_move = data["to_move"]
        task.started_ms = data["started_ms"]
        task.failure_reason = data["failure_reason"]
        task._timer = None
        if resume and task.status == "RUNNING":
            task._timer = loop.call_later(0.0, task._step)
        tasks.append(task)
    for old in queue._move_history:
        timer = old._timer
        if timer is None or old.status != "RUNNING":
            continue
        # The same task, now run by the object just read (its counts are the stored ones).
        for new in tasks:
            if new.task_id == old.task_id and new._timer is None:
                new._timer, old._timer = timer, None
                timer.callback = new._step
    queue._move_history = tasks


# -- messages ---------------------------------------------------------------------------------


def restore_row(state: _QueueState, row: tuple[Any, ...], now: float) -> Entry | None:
    """Put one ``messages`` row (columns :data:`LOAD_COLUMNS`) back into its queue's ledger;
    ``None`` if it is past its retention period, or damaged: a column holds a value of another
    type than written, the body does not match its MD5, or a column cannot be read. A damaged
    row is noted for :func:`quarantine` (the caller's to call once its cursor is done) and never
    reaches the queue."""
    (key, message_id, body, attributes, sent_ms, group_id, dedup_id, sequence_number,
     dlq_source_arn, trace_header, sent_at, available_at, receive_count, first_received_at,
     received_at, deadline, timeout, receipt, digest, well_typed) = row
    if not well_typed:
        _damaged(state, key, message_id, "a column holds a value of the wrong type")
        return None
    actual = _md5(body, usedforsecurity=False).hexdigest()
    if actual != digest:
        _damaged(state, key, message_id, f"its body's MD5 is {actual}, the row says {digest!r}")
        return None
    try:
        text = body.decode()
        decoded = decode_attributes(attributes)
    except Exception as error:  # whatever the damage: the row is not a message
        _damaged(state, key, message_id, f"it cannot be read ({error})")
        return None
    offset = state.store._offset
    ledger = state.queue._ledger
    sent = sent_at - offset
    if sent + ledger.retention <= now:
        return None
    record = _Record(
        message_id, text, decoded, sent_ms, group_id, dedup_id,
        sequence_number, dlq_source_arn, trace_header,
    )
    entry = ledger.restore(
        key & SEQ_MASK,
        record,
        now,
        sent_at=sent,
        lane=group_id,
        available_at=available_at - offset,
        receive_count=receive_count,
        first_received_at=-1.0 if first_received_at is None else first_received_at - offset,
        received_at=-1.0 if received_at is None else received_at - offset,
        receipt=receipt,
        deadline=0.0 if deadline is None else deadline - offset,
        timeout=0.0 if timeout is None else timeout,
    )
    if state.by_seq is not None:
        state.by_seq[entry.seq] = entry
    return entry


def _damaged(state: _QueueState, key: int, message_id: Any, reason: str) -> None:
    state.store._damaged_rows.append((state, key, message_id, reason))


def quarantine(store: SqliteStore, conn: sqlite3.Connection) -> None:
    """Move the damaged rows :func:`restore_row` found to the ``quarantine`` table (inside the
    caller's transaction), and report each: appended to :attr:`SqliteStore.damaged` and logged
    as a warning on the ``decoupling.store`` logger. In multi-process mode the other processes
    are told the row is gone, so they stop serving it too."""
    found, store._damaged_rows = store._damaged_rows, []
    wall = store._loop.clock.now() + store._offset
    for state, key, message_id, reason in found:
        conn.execute(
            f"INSERT INTO quarantine (found_at, queue, reason, key, {_QUARANTINED}) "
            f"SELECT ?, ?, ?, id, {_QUARANTINED} FROM messages WHERE id = ?",
            (wall, state.queue.name, reason, key),
        )
        conn.execute("DELETE FROM messages WHERE id = ?", (key,))
        if store.multiprocess:
            store._changes.append((state.qid, "m", key, None))
        shown_id = message_id if isinstance(message_id, str) else None
        store.damaged.append(
            {"queue": state.queue.name, "message_id": shown_id, "key": key, "reason": reason}
        )
        _log.warning(
            "store %s: message %s of queue %s is damaged (%s); moved to the quarantine table, "
            "not delivered", store.path, shown_id, state.queue.name, reason,
        )


def reload_messages(state: _QueueState, conn: sqlite3.Connection, now: float) -> None:
    """Give a queue a fresh ledger rebuilt from its rows (in send order), with its FIFO
    deduplication window and deleted handles. O(n log n)."""
    queue = state.queue
    old = queue._ledger
    ledger = Ledger(old.retention, old.receipt_prefix, lock_groups=old.lock_groups)
    ledger._seq = state.seq  # type: ignore[assignment]
    ledger._tick = state.tick  # type: ignore[assignment]
    queue._ledger = ledger
    if state.by_seq is not None:
        state.by_seq = {}
    lo, hi = key_range(state.qid)
    rows = conn.execute(
        f"SELECT {LOAD_COLUMNS} FROM messages WHERE id BETWEEN ? AND ? ORDER BY id", (lo, hi)
    )
    for row in rows:
        restore_row(state, row, now)
    if state.store._damaged_rows:
        quarantine(state.store, conn)
    if queue.is_fifo:
        reload_fifo_windows(state, conn, now)
    if queue._waiting:
        queue._cond.notify_all()


def reload_fifo_windows(state: _QueueState, conn: sqlite3.Connection, now: float) -> None:
    """Rebuild a FIFO queue's deduplication window and deleted-handle memory from rows."""
    from .._core.dedup import ExpiringKeys, ExpiringMap
    from ..sqs.fifo import _window_key, _window_value

    queue: Any = state.queue
    offset = state.store._offset
    dedup: ExpiringMap[str, str] = ExpiringMap()
    for scope, dedup_id, message_id, sequence_number, expires in conn.execute(
        "SELECT scope, dedup_id, message_id, sequence_number, expires FROM dedup "
        "WHERE qid = ? ORDER BY expires", (state.qid,)
    ):
        if expires - offset > now:
            dedup.put(_window_key(scope or None, dedup_id),
                      _window_value(message_id, sequence_number), expires - offset, now)
    queue._dedup = dedup
    handles: ExpiringKeys[str] = ExpiringKeys()
    for receipt, expires in conn.execute(
        "SELECT receipt, expires FROM handles WHERE qid = ? ORDER BY expires", (state.qid,)
    ):
        if expires - offset > now:
            handles.add(receipt, expires - offset, now)
    queue._deleted_handles = handles


def load_queue(store: SqliteStore, row: tuple[Any, ...]) -> tuple[Queue, str | None]:
    """Create the queue a ``queues`` row describes (without its messages); return it and its
    ``RedrivePolicy`` JSON, to be applied once every queue exists."""
    from ..sqs.fifo import FifoQueue
    from ..sqs.queue import Queue

    qid, name, fifo, meta, prefix, next_seq, next_tick, last_sequence = row
    loop = store._loop
    queue = FifoQueue(loop, name) if fifo else Queue(loop, name)
    redrive = apply_meta(store, queue, meta, with_redrive=False)
    queue._ledger.receipt_prefix = prefix
    if fifo:
        queue._last_sequence = last_sequence  # type: ignore[attr-defined]
    store._adopt(queue, qid, next_seq, next_tick, last_sequence)
    return queue, redrive


def prune_gone(by_seq: dict[int, Entry]) -> dict[int, Entry]:
    """The map without entries that left the queue (multi-process bookkeeping). O(n)."""
    return {seq: e for seq, e in by_seq.items() if e.state != GONE}
