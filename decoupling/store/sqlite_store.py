"""Durable queues: every change of every queue journaled to SQLite, restored on open.

``EventLoop(store="app.db")`` (or ``store=SqliteStore("app.db", synchronous="NORMAL")``) turns
on durable mode. Every state change of a :class:`~decoupling.Queue` or
:class:`~decoupling.FifoQueue` — creating and deleting queues, attributes and tags, sends,
receives (receive count, new receipt handle, visibility deadline), deletes, visibility changes,
purges, dead-letter moves, message move tasks, the FIFO deduplication window and sequence
numbers — is written to the store before the call that made it returns, all of one call in one
transaction (a batch call is one transaction). Opening the same store again restores every
queue as it was:

* messages with their receive counts, delays, retention and FIFO order;
* in-flight messages until their visibility deadline, kept as wall-clock epoch times: a message
  whose visibility timeout ran out while the process was down is visible again;
* receipt handles: a handle issued before the restart still deletes its message (and still
  changes its visibility) while it is the message's latest handle, as on SQS;
* the FIFO deduplication window (5 minutes), sequence numbers (they keep increasing), and the
  handles of messages deleted while in flight.

Buckets (:class:`~decoupling.Bucket`) are kept too: bucket settings, tags and notification
configurations, every object version with its metadata and tags, in the call's transaction;
bodies are files beside the database, written and fsynced before the row that refers to them
commits (see :mod:`decoupling.store._buckets` for the crash-safety steps, orphans reported in
:attr:`SqliteStore.orphaned_bodies`, and what is not kept: multipart uploads in progress). A
multi-process store refuses buckets.

Not kept: ``ReceiveRequestAttemptId`` replays (a retried receive after a restart gets new
messages), the 60-second name cooldown after ``delete_queue``, ``max_in_flight`` changes, and
topics, subscriptions and functions (they hold no messages; re-create them at start-up). A FIFO
topic's own deduplication window goes with it: a publish retried after a restart gets a new
``MessageId`` from the topic, but its FIFO queue subscribers, which receive the publish's
deduplication id and keep their windows, still drop the duplicate (a *standard* queue
subscribed to a FIFO topic would receive it again).

How it is stored. A state table, not a log: one row per message held, updated in place by
receives and visibility changes and deleted by deletes, so the file holds what the queues hold
plus free pages that SQLite reuses; the write-ahead log (WAL) is checkpointed by SQLite every
~1,000 pages (4 MB) and cut back to 8 MB. Rows of messages past their retention period, expired
deduplication ids and old multi-process change records are pruned every ``prune_every`` commits
and by :meth:`SqliteStore.checkpoint`, which also truncates the WAL and returns free pages to
the file system. So under steady traffic the files stay bounded by what the queues hold, with no
log to replay on open. (An append-only log would make each write cheaper by a row update at the
price of compaction passes and a replay on open; SQLite's own WAL already is that log.)

Durability (``synchronous``; the database is always in WAL mode). "Survives" means the call's
change is there when the store is opened again; a crash never leaves half of a call:

* ``"EXTRA"``: every commit fsyncs the WAL (SQLite ``synchronous=FULL`` throughout): every call
  that returned survives a process crash *and* a power loss or OS crash. Three fsyncs per
  send -> receive -> delete cycle, whether single messages or batches.
* ``"FULL"`` (default): every call that returned survives a process crash, and every call
  that sends or changes anything but receives and deletes survives a power loss or OS crash
  once it returns: its commit fsyncs the WAL (the connection runs at SQLite's ``NORMAL``
  level and the store fdatasyncs the WAL itself right after such a commit, which is all
  SQLite's ``FULL`` adds at a commit; see ``SqliteStore._sync_wal``; if that fsync fails the
  call raises ``ServiceUnavailable``, its change committed but not known durable). A call that
  only received messages, or only
  deleted messages of a standard queue (``DeleteMessage``, ``DeleteMessageBatch``), commits
  at SQLite's ``NORMAL`` level: its WAL frames are written before it returns (so it survives
  a process crash at once), and it survives a power loss once a later fsync covers it: the
  next call that commits at ``FULL`` (an fsync of the WAL makes every earlier frame durable
  with it), a checkpoint (SQLite's own, every ~1,000 WAL pages, fsyncs the WAL first; so do
  :meth:`SqliteStore.checkpoint` and :meth:`SqliteStore.close`). What a power loss can undo
  is thus only receives and deletes since the last fsync, never a send: those messages come
  back as they were before -- visible again, or in flight under their earlier handle and
  deadline, with the receive count they had (one extra attempt before a dead-letter queue per
  lost receive) -- and are delivered again. A message already processed and deleted may so be
  delivered a second time: a duplicate, which SQS's at-least-once delivery allows
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html),
  never a loss. Everything else is fsynced at commit: sends (and dead-letter moves, message
  moves, purges, queue and attribute changes, visibility changes), FIFO deletes (they record
  the deleted handle), and any call writing more than one statement (a call that reserves a
  block of receipt ticks among them: handles are never issued twice). This is at least what
  ``persist-queue``'s defaults (WAL, ``synchronous=FULL``, one commit per call) keep where it
  counts: they fsync a ``get`` and an ``ack`` too, but on reopen put every un-acked item back
  to ready, so a received message is redelivered after any crash. One fsync per cycle, single
  messages or batches. In multi-process mode ``FULL`` fsyncs every commit, as ``EXTRA`` does
  (a call's transaction starts before it is known to receive or delete only, and SQLite fixes
  the level per transaction).
* ``"NORMAL"``: no fsync at commit, only at checkpoints: a call that returned survives a process
  crash (SIGKILL, an exception, ``os._exit``); a power loss may lose the last calls of any kind
  but leaves the database consistent.
* ``"OFF"``: never fsyncs: survives a process crash; a power loss may corrupt the file.

An fsync costs 0.2-3.5 ms on this project's virtual disk (the more while the WAL file grows
after an open, or the disk is busy; nothing on tmpfs); a commit without one costs a few
microseconds, and the rows of one call go in one multi-row statement. Counted with ``strace``
(``benchmarks/bench_durable.py``): a send -> receive -> delete cycle makes 1.0 fsyncs at
``FULL`` (single messages or batches of 10) and 3.0 at ``EXTRA``; persist-queue's ack queue
makes 3.0.

Several processes (``multiprocess=True`` in every process that opens the store): SQLite's locks
serialise the calls: each public call starts a write transaction (``BEGIN IMMEDIATE``), first
applies what other processes changed since its last call (read from the ``changes`` table,
O(changes)), then acts and commits. A producer process and a consumer process thus see each
other's messages, and a message is never handed to both. Limits: calls are serialised across
processes (one writer at a time, each call ~50 µs more); a long poll notices another process's
send within ``poll_interval`` (50 ms); pollers driven by arrival events (event source mappings,
consumer pools) see only this process's sends; each process's clock must be a real clock (wall
times are compared across processes); a process that falls more than 100,000 changes behind
reloads every queue. Every change is recorded for the others, a queue's creation or
deletion in a call that does nothing else included. A call that finds another process holding
the write lock waits for it (pauses of 0.1-2 ms doubling with jitter, never a spin; see
:mod:`decoupling.store._retry`) for up to ``busy_timeout`` seconds (10 by default), then fails
:class:`~decoupling.errors.ServiceUnavailable` ("busy ... nothing changed"), with nothing
changed and nothing to reload; :meth:`SqliteStore.checkpoint` waits the same way for the other
processes to leave the WAL. Without ``multiprocess`` the store is locked to its one process
(SQLite ``EXCLUSIVE`` locking mode): a second opener fails with
:class:`~decoupling.errors.ServiceUnavailable` instead of corrupting anything.

Which files are stores (:mod:`decoupling.store._file`). A store's header carries ``PRAGMA
application_id`` 0x6463706C (ASCII ``dcpl``) and its ``meta`` table the format (2). Opening
anything else -- another application's database, a store of another format, a file that is
not SQLite -- fails with :class:`~decoupling.errors.InvalidParameterValue` naming the file and
what it holds, before a byte of it changes, and the file is closed at once. A new store is
built under a temporary name and linked into place whole, so a store is never zero-length: a
zero-length file at the path is refused too (a truncated store, or someone else's file)
unless ``create="empty"`` says to make it one. Stores of format 1 (before the
``application_id``) are upgraded on open.

Damaged rows. Each message row holds its body's MD5 (``MD5OfMessageBody``), checked whenever
the row is loaded (on open, on a reload, on catching up with another process). A row whose
body does not match, or with a column that cannot be read, is moved to the ``quarantine``
table (kept as found, with the reason), appended to :attr:`SqliteStore.damaged`, logged as a
warning on the ``decoupling.store`` logger, and never delivered; the queue's other messages
load as usual. Attributes, queue rows and FIFO windows carry no digest: a queue row that
cannot be read makes the open fail with ``InvalidParameterValue`` (file closed again).
"""

from __future__ import annotations

import _thread
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from .._core.ledger import Entry
from ..errors import DecouplingError, InvalidParameterValue, ServiceUnavailable
from ..sqs.config import RedrivePolicy
from . import _buckets, _file, _write
from . import _load as rows
from ._retry import Busy, Contention

if TYPE_CHECKING:
    from ..loop import EventLoop
    from ..sqs.queue import Queue

__all__ = ["SqliteStore", "SYNCHRONOUS"]

#: The ``synchronous`` settings, strongest first.
SYNCHRONOUS = ("EXTRA", "FULL", "NORMAL", "OFF")
# (a Chaos duplicate is a message of the queue once it arrives: a restart must keep it)
_ARRIVALS = frozenset({"sent", "dead_letter_arrived", "moved_in", "duplicate_arrived"})
_MESSAGE_EVENTS = frozenset(
    {"received", "visibility_changed", "deleted", "dead_lettered", "moved_out", "delay_changed"}
)


class _Counter:
    """A ledger counter (message ``seq``, receipt tick) the store can read and move."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value  # the last number handed out

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> int:
        self.value += 1
        return self.value


class _QueueState:
    """The store's view of one queue: its row id, counters and what it last wrote."""

    __slots__ = ("store", "queue", "fifo", "qid", "base", "seq", "tick", "saved_seq", "saved_tick",
                 "saved_sequence", "touched", "meta_dirty", "by_seq")

    def __init__(self, store: SqliteStore, queue: Queue, qid: int) -> None:
        self.store = store
        self.queue = queue
        self.fifo = queue.is_fifo
        self.qid = qid
        self.base = qid << rows.SEQ_BITS  # message keys are base | seq
        self.seq = _Counter(0)
        self.tick = _Counter(0)
        self.saved_seq = self.saved_tick = self.saved_sequence = 0
        self.touched = False
        self.meta_dirty = False
        # multi-process mode: seq -> entry, to find what another process changed
        self.by_seq: dict[int, Entry] | None = {} if store.multiprocess else None

    def observe(self, event: str, queue: Queue, entry: Entry | None) -> None:
        """The queue observer: note what changed, to be written when the call ends."""
        store = self.store
        if store._replaying:
            return
        if not self.touched:
            self.touched = True
            store._touched.append(self)
        if entry is not None:
            if event == "received":
                store._dirty.append((self, entry))
                return
            if event == "deleted":  # relaxed too (a FIFO delete writes its handle: strict)
                store._dirty.append((self, entry))
                if self.fifo:
                    store._handles.append((self, entry))
                return
            store._strict = True
            if event == "sent":
                store._new.append((self, entry))
                if self.fifo:
                    store._dedup.append((self, entry))
            elif event in _ARRIVALS:
                store._new.append((self, entry))
            elif event in _MESSAGE_EVENTS:
                store._dirty.append((self, entry))
        elif event == "purged":
            store._strict = True
            store._purged(self)
        else:  # attributes_changed, move_task
            store._strict = True
            self.meta_dirty = True


#: How the WAL is fsynced: ``fdatasync`` where there is one (as SQLite does on Linux).
_fdatasync = getattr(os, "fdatasync", os.fsync)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

_rlock_acquire = _thread.RLock.acquire
_rlock_release = _thread.RLock.release


class _JournalLock(_thread.RLock):  # type: ignore[misc]
    """The loop's re-entrant lock in durable mode: the outermost release commits the changes
    made while it was held, before letting go (so does a condition wait); in multi-process mode
    the outermost acquire starts the write transaction and catches up with other processes."""

    __slots__ = ("_store", "_depth")

    _store: SqliteStore
    _depth: int

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = _rlock_acquire(self, blocking, timeout)
        if got:
            depth = self._depth = self._depth + 1
            store = self._store
            # (_begin has nothing to do for an open, healthy single-process store)
            if depth == 1 and (store._conn is None or store._broken or store.multiprocess):
                try:
                    store._begin()
                except BaseException:
                    self._depth -= 1
                    _rlock_release(self)
                    raise
        return got

    def __enter__(self, blocking: bool = True, timeout: float = -1) -> bool:
        # (acquire's body once more: ``with loop._lock`` is every call's way in, and a call
        # less per way in and out is a tenth of a durable call's own cost)
        if not _rlock_acquire(self, blocking, timeout):
            return False
        depth = self._depth = self._depth + 1
        if depth == 1:
            store = self._store
            if store._conn is None or store._broken or store.multiprocess:
                try:
                    store._begin()
                except BaseException:
                    self._depth -= 1
                    _rlock_release(self)
                    raise
        return True

    def release(self) -> None:
        if self._depth == 1:
            store = self._store
            try:
                if store._touched or store._in_tx or store._s3_doomed:
                    store._end()
            finally:
                self._depth = 0
                _rlock_release(self)
            return
        self._depth -= 1
        _rlock_release(self)

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self._depth == 1:  # (release's body once more)
            store = self._store
            try:
                if store._touched or store._in_tx or store._s3_doomed:
                    store._end()
            finally:
                self._depth = 0
                _rlock_release(self)
            return
        self._depth -= 1
        _rlock_release(self)

    def _release_save(self) -> Any:
        self._store._end()  # if it raises, the lock is still held, as the caller expects
        depth, self._depth = self._depth, 0
        return (super()._release_save(), depth)  # type: ignore[misc]

    def _acquire_restore(self, state: Any) -> None:
        saved, depth = state
        super()._acquire_restore(saved)  # type: ignore[misc]
        self._depth = depth
        self._store._begin()


class SqliteStore:
    """Where a durable :class:`~decoupling.EventLoop` keeps its queues: one SQLite file.

    Args:
        path: the database file (created if missing; ``-wal`` and ``-shm`` files sit beside
            it).
        synchronous: ``"FULL"`` (default: every call that returned survives a process
            crash, and every send a power loss; a power loss can undo receives and deletes
            made since the last fsync, so those messages are delivered again -- duplicates,
            never a loss; one fsync per sending or changing call, none per receive or delete),
            ``"EXTRA"`` (every commit fsynced: every call that returned survives a power loss),
            ``"NORMAL"`` (survives a process crash; no fsync per call) or ``"OFF"`` (survives
            a process crash; a power loss may corrupt the file). See :mod:`decoupling.store.sqlite_store` for exactly what each keeps and costs.
        multiprocess: ``True`` in every process that opens this store when several do at once
            (each call then catches up with the others first); ``False`` (default) locks the
            file to this process.
        busy_timeout: seconds to wait for another process's transaction before failing with
            :class:`~decoupling.errors.ServiceUnavailable` (default 10).
        poll_interval: multi-process mode: the longest a long poll sleeps before looking for
            other processes' sends, in seconds (default 0.05).
        prune_every: commits between prunes of expired rows (default 10,000); see
            :meth:`checkpoint`.
        create: when a new store may be made at ``path``: ``"missing"`` (default) when no file
            is there; ``"empty"`` also when the file is empty (zero bytes, as
            :func:`tempfile.mkstemp` leaves it, or an SQLite database without tables);
            ``"never"``: the file must already be a store. A zero-length file is otherwise
            refused: a store is never zero-length (it is created whole), so it is one
            truncated, or a file made by something else.

    Pass it as ``EventLoop(store=SqliteStore(...))``; a path alone means the defaults. One
    store serves one loop; :meth:`close` it when done.

    The file's identity is checked before anything in it changes: a store carries
    ``PRAGMA application_id`` 0x6463706C (``dcpl``) and its format in a ``meta`` table. Every
    message row holds its body's MD5, checked whenever it is loaded; a damaged row is moved to
    the ``quarantine`` table, listed in :attr:`damaged` and logged (a warning on the
    ``decoupling.store`` logger), and never delivered. See :mod:`decoupling.store._file`.

    Raises:
        ValueError: a bad setting. The loop raises InvalidParameterValue when the file is not a
        store (another application's file, another store format, a zero-length file without
        ``create="empty"``, no store with ``create="never"``), naming the file and what it
        found, and ServiceUnavailable when the file cannot be opened or is locked by another
        process; either way the file is closed again.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        multiprocess: bool = False,
        busy_timeout: float = 10.0,
        poll_interval: float = 0.05,
        prune_every: int = 10_000,
        create: str = "missing",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"path must be a file path, got {path!r}")
        if not isinstance(synchronous, str) or synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, got {synchronous!r}")
        for name, value in (("busy_timeout", busy_timeout), ("poll_interval", poll_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(prune_every, bool) or not isinstance(prune_every, int) or prune_every < 1:
            raise ValueError(f"prune_every must be a positive integer, got {prune_every!r}")
        if create not in _file.CREATE:
            raise ValueError(f"create must be one of {_file.CREATE}, got {create!r}")
        self.path = os.fspath(path)
        if self.path in ("", ":memory:"):
            raise ValueError(
                f"path must name a file, got {self.path!r}; for queues in memory pass no store"
            )
        self.create = create
        self.synchronous = synchronous.upper()
        self.multiprocess = bool(multiprocess)
        self.busy_timeout = float(busy_timeout)
        self.poll_interval = float(poll_interval)
        self.prune_every = prune_every
        #: Message rows found damaged (their body does not match its MD5, or a column cannot
        #: be read) since this store opened, each moved to the ``quarantine`` table and never
        #: delivered: ``{"queue": name, "message_id": id or None, "key": row key, "reason":
        #: text}``, in the order found. Object versions whose body file is missing or cut
        #: short are listed too, as ``{"bucket": name, "key": key, "version_id": id or None,
        #: "reason": text}``: left out of the bucket (their rows stay), never served half.
        self.damaged: list[dict[str, Any]] = []
        #: Body files of buckets removed when the store opened because no object refers to
        #: them (written by a call that did not complete: a crash between the file and its
        #: row): ``{"file": path, "bytes": size}``. See :mod:`decoupling.store._buckets`.
        self.orphaned_bodies: list[dict[str, Any]] = []
        self._s3_doomed: set[str] = set()
        self._damaged_rows: list[tuple[_QueueState, int, Any, str]] = []
        self._contention = Contention(self.busy_timeout)
        self._loop: Any = None
        self._conn: sqlite3.Connection | None = None
        #: How the write path runs a statement: one cursor's ``execute``, kept for the
        #: connection's life (``Connection.execute`` makes a cursor per call).
        self._write: Any = self._write_closed
        self._lock = _JournalLock()
        self._lock._store = self
        self._lock._depth = 0
        self._offset = 0.0
        self._states: dict[int, _QueueState] = {}  # qid -> state
        self._by_queue: dict[int, _QueueState] = {}  # id(queue) -> state
        self._touched: list[_QueueState] = []
        self._new: list[tuple[_QueueState, Entry]] = []
        self._dirty: list[tuple[_QueueState, Entry]] = []
        self._dedup: list[tuple[_QueueState, Entry]] = []
        self._handles: list[tuple[_QueueState, Entry]] = []
        self._changes: list[tuple[int, str, int | None, str | None]] = []
        self._in_tx = False
        # FULL in one process: a call that only received commits at SQLite's NORMAL level
        # FULL in one process: the connection runs at SQLite's NORMAL level and the store
        # fsyncs the WAL itself after each commit that must survive a power loss (_sync_wal)
        self._relax = self.synchronous == "FULL" and not self.multiprocess
        self._wal_fd: int | None = None  # the WAL file, opened at the first _sync_wal
        self._strict = False  # the pending changes include more than receives and deletes
        self._replaying = False
        self._broken = False
        self._commits = 0
        self._seen = -1  # multi-process: the last change record applied (-1: opening)

    def __repr__(self) -> str:
        return (f"SqliteStore({self.path!r}, synchronous={self.synchronous!r}, "
                f"multiprocess={self.multiprocess})")

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def _attach(cls, store: str | os.PathLike[str] | SqliteStore, loop: EventLoop) -> SqliteStore:
        """(EventLoop) open ``store`` for ``loop``; a path means a store with the defaults."""
        if not isinstance(store, SqliteStore):
            store = SqliteStore(store)
        if store._loop is not None:
            raise ValueError(f"{store!r} already serves a loop; open one store per loop")
        store._loop = loop
        clock = loop.clock
        offset = getattr(clock, "_epoch_offset", None)
        if offset is None:
            offset = getattr(clock, "_offset", None)
        store._offset = float(offset) if offset is not None else clock.wall() - clock.now()
        try:
            store._connect()
        except BaseException:
            store._loop = None  # the store may be given to another loop
            raise
        return store

    def _connect(self) -> None:
        """Open the file, if it is a store (or may become one): see :mod:`._file`. Nothing in
        a file that is not a store changes, and a refused file is closed again."""
        in_place = _file.check_path(self)
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                timeout=self.busy_timeout, cached_statements=256,
            )
        except sqlite3.Error as error:
            raise ServiceUnavailable(f"Cannot open the store {self.path}: {error}.") from None

        def set_up() -> None:
            try:
                if not self.multiprocess:
                    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
                if in_place:  # a zero-length file: nothing to change but an empty file
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # (only before a table)
                # Who the file is, and (new or format 1) making it a store, under the write
                # lock: of several processes opening at once, one does it, the others see it.
                conn.execute("BEGIN IMMEDIATE")
                _file.identify(conn, self.path, allow_empty=self.create == "empty")
                conn.execute("COMMIT")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise sqlite3.OperationalError(f"journal mode {mode}, not WAL")
            except sqlite3.OperationalError:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        try:
            # SQLite answers "database is locked" at once, without its busy handler, where
            # waiting could deadlock (another opener changing the journal mode, say): each
            # step above is safe to run again, so it is, with the store's backoff.
            self._contention.run(set_up, "open")
            level = "FULL" if self.synchronous == "EXTRA" else self.synchronous
            if self._relax:
                level = "NORMAL"  # (each commit that needs it is fsynced by _sync_wal)
            conn.execute(f"PRAGMA synchronous = {level}")
            conn.execute("PRAGMA journal_size_limit = 8388608")
            if self.multiprocess:
                # From now on our own retry loop waits for locks (see _retry).
                conn.execute("PRAGMA busy_timeout = 5")
        except DecouplingError:
            conn.close()
            raise
        except sqlite3.Error as error:
            conn.close()
            if "not a database" in str(error):
                raise InvalidParameterValue(
                    f"The file {self.path} is not a store: {error}."
                ) from None
            hint = "" if self.multiprocess else (
                " (opened by another process? open every process with "
                "SqliteStore(path, multiprocess=True))"
            )
            raise ServiceUnavailable(
                f"Cannot use the store {self.path}: {error}{hint}."
            ) from None
        self._conn = conn
        self._write = conn.cursor().execute

    def _write_closed(self, sql: str, params: Any = ()) -> Any:
        raise ServiceUnavailable(f"The store {self.path} is closed.")

    def _restore(self) -> None:
        """(EventLoop) rebuild every queue from the store, as the last commit left them. A
        store that cannot be loaded is closed again (nothing written) before the error is
        raised."""
        failure: BaseException | None = None
        with self._lock:
            self._replaying = True
            try:
                self._tx()
                self._load_all()
            except BaseException as error:
                failure = error
                self._clear_pending()
                self._in_tx = False  # rolled back by the close below
            finally:
                self._replaying = False
        if failure is None:
            return
        self._abandon()
        if isinstance(failure, ServiceUnavailable) or not isinstance(failure, Exception):
            raise failure
        raise InvalidParameterValue(
            f"The store {self.path} cannot be loaded: {type(failure).__name__}: {failure}."
        ) from failure

    def _close_wal(self) -> None:
        fd, self._wal_fd = self._wal_fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _abandon(self) -> None:
        """Close the connection after a failed open, without writing anything."""
        self._close_wal()
        conn, self._conn = self._conn, None
        self._write = self._write_closed
        self._clear_pending()
        self._in_tx = False
        if conn is not None:
            conn.close()  # an open transaction is rolled back
        self._loop = None

    def _load_all(self) -> None:
        conn = self._conn
        assert conn is not None
        loop = self._loop
        now = loop.clock.now()
        pending: list[tuple[Queue, str | None]] = []
        for statement in _buckets.TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)  # (stores made before buckets were kept get them)
        for row in conn.execute("SELECT * FROM queues ORDER BY id").fetchall():
            pending.append(rows.load_queue(self, row))
        for queue, redrive in pending:
            queue._redrive = RedrivePolicy.parse(redrive)
            state = self._by_queue[id(queue)]
            rows.reload_messages(state, conn, now)
            rows.restore_tasks(
                self, queue,
                conn.execute("SELECT meta FROM queues WHERE id = ?", (state.qid,)).fetchone()[0],
                resume=True,
            )
        if not self.multiprocess:
            _buckets.load_buckets(self, conn)
        if self.multiprocess:
            self._seen = conn.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]

    def _adopt(self, queue: Queue, qid: int, seq: int, tick: int, sequence: int) -> _QueueState:
        """Start journaling ``queue`` (row ``qid``), its counters at the stored values."""
        state = _QueueState(self, queue, qid)
        state.seq.value = state.saved_seq = seq
        state.tick.value = state.saved_tick = tick
        state.saved_sequence = sequence
        ledger = queue._ledger
        ledger._seq = state.seq  # type: ignore[assignment]
        ledger._tick = state.tick  # type: ignore[assignment]
        self._states[qid] = state
        self._by_queue[id(queue)] = state
        queue.add_observer(state.observe)
        return state

    # -- the loop's hooks -----------------------------------------------------------------------

    def _registered(self, kind: str, resource: Any) -> None:
        """(EventLoop) a resource was created: a new queue gets its row (and, in
        multi-process mode, a change record, committed with the call even if nothing else
        changed). If the row cannot be written the queue is taken out of the loop's registry
        again: no queue exists that the store does not hold."""
        if kind == "s3" and not self._replaying:
            self._s3_created(resource)
            return
        if kind != "sqs" or self._replaying:
            return
        queue: Queue = resource
        try:
            conn = self._live()
            _write.write_pending(self)
            self._tx()
            cursor = conn.execute(
                "INSERT INTO queues (name, fifo, meta, receipt_prefix, next_seq, next_tick, "
                "last_sequence) VALUES (?, ?, ?, ?, 0, 0, 0)",
                (queue.name, int(queue.is_fifo), rows.queue_meta(queue, self._offset),
                 queue._ledger.receipt_prefix),
            )
        except (sqlite3.Error, DecouplingError) as error:
            registry = self._loop._resources
            if registry.get(("sqs", queue.name)) is queue:
                del registry[("sqs", queue.name)]
            if isinstance(error, DecouplingError):
                raise
            self._fail(error)
        qid = cursor.lastrowid
        assert qid is not None
        self._adopt(queue, qid, 0, 0, 0)
        if self.multiprocess:
            self._changes.append((qid, "c", None, None))

    def _unregistered(self, kind: str, name: str) -> None:
        """(EventLoop) a resource was deleted: a deleted queue's rows go."""
        if kind == "s3" and not self._replaying:
            try:
                self._tx()
                _buckets.drop_bucket(self, self._live(), name)
            except sqlite3.Error as error:
                self._fail(error)
            return
        if kind != "sqs" or self._replaying:
            return
        conn = self._live()
        state = next((s for s in self._states.values() if s.queue.name == name), None)
        if state is None:
            return
        qid = state.qid
        lo, hi = rows.key_range(qid)
        try:
            _write.write_pending(self)
            self._tx()
            self._forget(state)
            conn.execute("DELETE FROM messages WHERE id BETWEEN ? AND ?", (lo, hi))
            for table in ("dedup", "handles"):
                conn.execute(f"DELETE FROM {table} WHERE qid = ?", (qid,))
            conn.execute("DELETE FROM queues WHERE id = ?", (qid,))
        except sqlite3.Error as error:
            self._fail(error)  # the next call reloads the queue from the store
        if self.multiprocess:
            self._changes.append((qid, "x", None, name))

    # -- buckets (see _buckets) -----------------------------------------------------------------

    def _s3_created(self, bucket: Any) -> None:
        """A new bucket gets its row; if it cannot be written, the bucket is taken out of the
        loop's registry again. A multi-process store does not keep buckets: refused."""
        registry = self._loop._resources
        if self.multiprocess:
            del registry[("s3", bucket.name)]
            from ..errors import InvalidArgument

            raise InvalidArgument(
                f"The store {self.path} is opened with multiprocess=True, which does not keep "
                "buckets; use a single-process store (or a loop without a store) for buckets."
            )
        try:
            self._tx()
            _buckets.write_bucket(self, self._live(), bucket, None)
        except sqlite3.Error as error:
            if registry.get(("s3", bucket.name)) is bucket:
                del registry[("s3", bucket.name)]
            self._fail(error)

    def _s3_body(self, body: Any) -> Any:
        """(Bucket, outside the lock) ``body`` written to a new body file, fsynced."""
        if self._conn is None:
            raise ServiceUnavailable(f"The store {self.path} is closed.")
        try:
            return _buckets.write_body(self, body)
        except OSError as error:
            raise ServiceUnavailable(
                f"The store {self.path} could not write an object's body ({error}); nothing "
                "changed."
            ) from None

    def _s3_drop(self, bodies: Any) -> None:
        """(Bucket) bodies no longer held: their files go after the commit if unreferenced."""
        _buckets.doom(self, bodies)

    def _s3_write(self, bucket: Any, key: str | None) -> None:
        """(Bucket) rewrite the bucket's row and ``key``'s version rows in this call's
        transaction."""
        if self._replaying:
            return
        try:
            self._tx()
            _buckets.write_bucket(self, self._live(), bucket, key)
        except sqlite3.Error as error:
            self._fail(error)

    def _forget(self, state: _QueueState) -> None:
        self._states.pop(state.qid, None)
        self._by_queue.pop(id(state.queue), None)
        state.queue.remove_observer(state.observe)
        if state.touched:
            state.touched = False
            self._touched.remove(state)

    def _purged(self, state: _QueueState) -> None:
        """A queue was purged: its rows go now (after what the call wrote before)."""
        conn = self._live()
        lo, hi = rows.key_range(state.qid)
        try:
            _write.write_pending(self)
            self._tx()
            conn.execute("DELETE FROM messages WHERE id BETWEEN ? AND ?", (lo, hi))
            if state.queue.is_fifo:
                for table in ("dedup", "handles"):
                    conn.execute(f"DELETE FROM {table} WHERE qid = ?", (state.qid,))
        except sqlite3.Error as error:
            self._fail(error)
        if state.by_seq is not None:
            state.by_seq = {}
        state.meta_dirty = True  # the purge time
        if self.multiprocess:
            self._changes.append((state.qid, "p", None, None))
        if not state.touched:
            state.touched = True
            self._touched.append(state)

    def _wait_cap(self, timeout: float) -> float:
        """(EventLoop) how long a real-clock wait may sleep: other processes' sends are seen
        only by looking."""
        if self.multiprocess and timeout > self.poll_interval:
            return self.poll_interval
        return timeout

    # -- transactions ---------------------------------------------------------------------------

    def _live(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            raise ServiceUnavailable(f"The store {self.path} is closed.")
        return conn

    def _tx(self) -> None:
        if not self._in_tx:
            conn = self._live()
            if self.multiprocess:
                self._begin_shared(conn)
            else:
                self._write("BEGIN IMMEDIATE")
            self._in_tx = True

    def _sync_wal(self) -> None:
        """At ``FULL`` in one process, after a commit that must survive a power loss: fsync
        the WAL, as SQLite's ``synchronous=FULL`` does at the end of every commit (the frames
        are written; this makes them durable, and every earlier frame with them). SQLite syncs
        the WAL's header itself when it starts the log over, and the log before each
        checkpoint, at ``NORMAL`` as at ``FULL``; so the only difference between the levels
        is this one sync, made here only where it is needed instead of switching the
        connection's level with a ``PRAGMA`` per call.

        Raises:
            ServiceUnavailable: the fsync failed: the call's change is committed (the
                queues hold it) but may not survive a power loss.
        """
        fd = self._wal_fd
        try:
            if fd is None:
                try:
                    fd = self._wal_fd = os.open(self.path + "-wal", os.O_RDWR | _O_CLOEXEC)
                except FileNotFoundError:
                    return  # no log written since the open: all is in the database, synced
            _fdatasync(fd)
        except OSError as error:
            raise ServiceUnavailable(
                f"The store {self.path} committed the change but could not fsync its "
                f"write-ahead log ({error}): it survives a process crash but may not survive a "
                "power loss."
            ) from None

    def _begin_shared(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, retried while other processes hold the write lock (see
        :mod:`._retry`: pauses of 0.1-2 ms with jitter, ``busy_timeout`` seconds in all)."""
        self._contention.run(lambda: conn.execute("BEGIN IMMEDIATE"), "BEGIN IMMEDIATE")

    def _begin(self) -> None:
        """The outermost acquire of the loop's lock."""
        if self._conn is None:
            raise ServiceUnavailable(f"The store {self.path} is closed.")
        if self._broken:
            self._recover()
        elif self.multiprocess:
            try:
                self._tx()
            except Busy as error:
                # Nothing began and nothing in memory is ahead of the store: no reload.
                raise ServiceUnavailable(
                    f"The store {self.path} is busy: {error}; nothing changed, try again."
                ) from None
            except sqlite3.Error as error:
                self._fail(error)
            try:
                from ._sync import catch_up

                catch_up(self)
            except sqlite3.Error as error:
                self._fail(error)

    def _end(self) -> None:
        """The outermost release (or a condition wait): commit what the call changed."""
        touched = self._touched
        if touched:
            try:
                if len(touched) == 1 and len(self._new) + len(self._dirty) == 1 \
                        and _write._one(self):
                    # (one statement, its own transaction: nothing else is open)
                    if not self._s3_doomed:
                        return
                else:
                    _write.write_pending(self)
            except sqlite3.Error as error:
                self._fail(error)
        if self._changes and self._in_tx:  # a call that created or deleted a queue only
            try:
                _write.write_changes(self, self._live())
            except sqlite3.Error as error:
                self._fail(error)
        if self._in_tx:
            self._commits += 1
            try:
                if self._commits % self.prune_every == 0:
                    _write.prune(self)
                self._write("COMMIT")
            except sqlite3.Error as error:
                self._fail(error)
            self._in_tx = False
            if self._relax:  # a transaction is never a receive or delete only: fsynced
                self._sync_wal()
        if self._s3_doomed and self._conn is not None:
            try:
                _buckets.collect(self, self._conn)
            except sqlite3.Error:
                pass  # the files stay: orphans, removed at the next open

    def _fail(self, error: sqlite3.Error) -> None:
        """A write failed: undo the transaction, rebuild from the store at the next call (the
        queues in memory are ahead of it), and tell the caller."""
        self._clear_pending()
        if self._conn is not None and self._in_tx:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        self._in_tx = False
        self._broken = True
        raise ServiceUnavailable(
            f"The store {self.path} could not record the change ({error}); the queues are "
            "reloaded from it at the next call."
        ) from None

    def _recover(self) -> None:
        self._broken = False
        if self._conn is None:
            return
        self._replaying = True
        try:
            self._tx()
            from ._sync import reload_all

            reload_all(self)
            if not self.multiprocess:
                _buckets.load_buckets(self, self._live(), opening=False)
        except sqlite3.Error as error:
            self._replaying = False
            self._fail(error)
        finally:
            self._replaying = False

    def _clear_pending(self) -> None:
        for state in self._touched:
            state.touched = False
        self._touched = []
        self._new = []
        self._dirty = []
        self._dedup = []
        self._handles = []
        self._changes = []
        self._damaged_rows = []
        self._strict = False
        self._s3_doomed = set()  # rolled back: the rows that referred to them are back

    # -- upkeep ----------------------------------------------------------------------------------

    def checkpoint(self) -> dict[str, int]:
        """Compact the store now: prune what expired (as every ``prune_every`` commits), copy
        the WAL into the database and truncate it, and return free pages to the file system.

        Returns ``{"db_bytes": ..., "wal_bytes": ...}`` after the checkpoint. Costs O(rows
        held) and one fsync; the queues wait meanwhile. Under steady traffic calling it is
        optional (SQLite checkpoints the WAL every ~4 MB and reuses free pages).

        In multi-process mode the truncation needs every other process out of the WAL for a
        moment: each step is retried for up to ``busy_timeout`` seconds, as a call waits for the
        write lock.

        Raises:
            ServiceUnavailable: other processes kept the WAL busy for ``busy_timeout``
                seconds, or the file could not be written. What the queues hold is committed
                before the WAL is touched, so nothing is lost or reloaded; try again later.
        """
        with self._lock:
            try:
                _write.prune(self)
            except sqlite3.Error as error:
                self._fail(error)
            self._end()
            conn = self._live()
            run = self._contention.run
            try:
                run(lambda: self._truncate_wal(conn), "checkpoint")
                # (executescript steps the pragma to its end: one execute frees one page)
                run(lambda: conn.executescript("PRAGMA incremental_vacuum"), "incremental vacuum")
                run(lambda: self._truncate_wal(conn), "checkpoint")
            except sqlite3.Error as error:
                raise ServiceUnavailable(
                    f"The store {self.path} could not be checkpointed ({error}); its queues "
                    "are committed and unchanged. Try again later."
                ) from None
        return self.size()

    @staticmethod
    def _truncate_wal(conn: sqlite3.Connection) -> None:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise sqlite3.OperationalError(
                f"database is busy: other processes read the WAL ({copied} of {frames} frames "
                "copied)"
            )

    def size(self) -> dict[str, int]:
        """The sizes in bytes of the database file and of its WAL (0 if absent)."""
        out = {}
        for key, suffix in (("db_bytes", ""), ("wal_bytes", "-wal")):
            try:
                out[key] = os.path.getsize(self.path + suffix)
            except OSError:
                out[key] = 0
        return out

    def close(self) -> None:
        """Commit anything pending and close the file (idempotent). The loop's queues then
        refuse calls (``ServiceUnavailable``) until a new loop opens the store; its real-clock
        driver is stopped first."""
        if self._conn is None:
            return
        self._loop.stop()
        with self._lock:
            if self._conn is None:
                return
            self._end()
            try:
                if self._relax and self._commits:
                    self._sync_wal()  # what receives and deletes committed last
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except (sqlite3.Error, ServiceUnavailable):
                pass
            self._close_wal()
            self._conn.close()
            self._conn = None
            self._write = self._write_closed


