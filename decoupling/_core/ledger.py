"""The visibility ledger: where every message of one queue is, settled lazily against time.

A message is in exactly one state:

* ``DELAYED``  — sent with a delay; becomes visible at ``available_at``;
* ``VISIBLE``  — can be received;
* ``INFLIGHT`` — received; invisible until ``deadline``, then visible again;
* ``GONE``     — deleted, moved out, or past its retention period.

Nothing here runs on a timer. Every operation first calls :meth:`Ledger.settle` with the current
time, which moves what fell due since the last call: matured delays become visible, expired
visibility timeouts return messages, and messages past retention leave. Each of those is a pop
from the top of a heap, so settling costs O(k log n) for k due messages and O(1) when nothing is
due. No operation scans.

Structures (n = messages held):

* never-received messages of a plain standard queue (sent with only a body, no lane): the
  *backlog*, tuples ``(sent_at, message_id, body)`` in send order, in chunks of 1,024 — atoms
  only, so the cyclic garbage collector untracks them and a full collection does not walk a
  growing backlog; the entry and the record (``make_record``) are made when a message is first
  received, or for the whole backlog at once before any other message joins the visible ones;
* visible messages: one ``deque`` (standard queues), or one ``deque`` per *lane* — a FIFO message
  group or a fair-queue tenant — plus a ``SortedList`` (fair queues) or a heap (FIFO) of
  ``(head sequence, lane)`` over the lanes that can be served, so the oldest servable lane is
  found in O(log L);
* delayed messages: a heap by ``(available_at, seq)``;
* in-flight messages: a :class:`~decoupling._core.deadlines.DeadlineQueue` (O(1) push and pop
  for deadlines that arrive in order per timeout value); entries superseded by a delete or a
  visibility change stay in it and are skipped when they fall due ("lazy deletion"), and it is
  rebuilt when more than half of it is stale, so its size stays O(n);
* retention: a ``deque`` of entries in send order (the common case: an append), plus a heap
  by ``(sent_at, seq)`` for the rare message sent earlier than the newest held one, both with
  the same lazy deletion;
* receipt handles: a ``dict`` from the latest handle of each received message to its entry.

The ledger knows nothing of SQS attributes: it stores an opaque ``record`` per message.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from sortedcontainers import SortedList

from .deadlines import DeadlineQueue

__all__ = ["Entry", "Ledger", "DELAYED", "VISIBLE", "INFLIGHT", "GONE"]

DELAYED, VISIBLE, INFLIGHT, GONE = 0, 1, 2, 3
_INF = float("inf")
_STATE_NAMES = ("DELAYED", "VISIBLE", "INFLIGHT", "GONE")
#: Consumes an iterator in C (a deque that keeps nothing).
_exhaust: Callable[[Iterator[object]], None] = deque[object](maxlen=0).extend


class Entry:
    """One message's place in a ledger. Times are seconds on the loop's clock."""

    __slots__ = (
        "seq",
        "record",
        "sent_at",
        "lane",
        "state",
        "receive_count",
        "first_received_at",
        "received_at",
        "deadline",
        "receipt",
        "available_at",
        "timeout",
    )

    def __init__(self, seq: int, record: Any, sent_at: float, lane: Hashable | None) -> None:
        self.seq = seq
        self.record = record
        self.sent_at = sent_at
        self.lane = lane
        self.state = VISIBLE
        self.receive_count = 0
        self.first_received_at = -1.0
        self.received_at = -1.0
        self.deadline = 0.0
        self.receipt: str | None = None
        self.available_at = sent_at
        self.timeout = 0.0

    def __lt__(self, other: Entry) -> bool:
        # Heap items are (time, seq, entry). A message put back under its own seq (a durable
        # store catching up with another process) can tie with its own stale item: the tie
        # must never compare entries, which have no order.
        return False

    def __repr__(self) -> str:
        return (
            f"Entry(seq={self.seq}, state={_STATE_NAMES[self.state]}, "
            f"receive_count={self.receive_count}, lane={self.lane!r})"
        )


_RECORD_SLOT: Any = Entry.__dict__["record"]  # the slot itself (the plain entry's ``record`` property shadows it)


class _PlainEntry(Entry):
    """The entry of a backlog message handed out by a receive: its ``record`` is made on first
    read from ``_item``, the backlog tuple ``(sent_at, message_id, body)`` (a receive that only
    hands the message out, and a delete, never read it). Each ledger with a ``make_record``
    has its own subclass carrying it as ``_make``."""

    __slots__ = ("_item",)
    _item: tuple[float, str, str]
    _make: Callable[[str, str, float], Any]

    @property
    def record(self) -> Any:
        try:
            return _RECORD_SLOT.__get__(self)
        except AttributeError:
            sent_at, message_id, body = self._item
            record = type(self)._make(message_id, body, sent_at)
            _RECORD_SLOT.__set__(self, record)
            return record

    @record.setter
    def record(self, value: Any) -> None:
        _RECORD_SLOT.__set__(self, value)


def _plain_entry_class(make_record: Callable[[str, str, float], Any]) -> type[_PlainEntry]:
    # ``__init__`` is object's: ``cls()`` makes a bare instance for the caller to fill, a cheaper
    # call than ``object.__new__(cls)``.
    return type("_PlainEntry", (_PlainEntry,), {
        "__slots__": (), "_make": staticmethod(make_record), "__init__": object.__init__,
    })


class _Flight:
    """Backlog messages one receive handed out together (first receives of a plain queue),
    while nothing but deletes has touched them: one object for the batch instead of an entry
    per message. :attr:`Ledger.handles` maps each of their live handles to it; the
    deadline index and the retention deque hold it once, keyed by its first message's
    ``sent_at`` (the earliest: the backlog is in send order). Anything else that needs one of
    its messages — an expiry, a visibility change, retention, a reader of entries, an
    observer — first turns it into entries (:meth:`Ledger._explode`), which are then exactly
    the entries such a receive made before flights existed."""

    __slots__ = ("items", "tick", "seq", "sent_at", "received_at", "deadline", "timeout",
                 "state", "live")

    items: tuple[tuple[float, str, str], ...] | list[Any]
    tick: int  # the first message's handle tick; message i's handle has tick + i
    seq: int  # the first message's seq; message i has seq + i
    sent_at: float
    received_at: float
    deadline: float
    timeout: float
    state: int  # INFLIGHT while any message is live, then GONE (stale where still indexed)
    live: int  # messages not deleted yet


#: (``type(x) is _FLIGHT``: a test mypy does not read as narrowing ``Entry``.)
_FLIGHT: Any = _Flight


class Ledger:
    """Visible, delayed and in-flight messages of one queue.

    Args:
        retention: seconds a message is kept after it was sent (``MessageRetentionPeriod``).
        receipt_prefix: the text every receipt handle of this ledger starts with.
        lock_groups: FIFO rule: while a lane has a message in flight, none of its later
            messages are handed out, and a receive takes as many as it can from one lane
            before moving to the next.
    """

    def __init__(
        self,
        retention: float,
        receipt_prefix: str,
        *,
        lock_groups: bool = False,
        make_record: Callable[[str, str, float], Any] | None = None,
    ) -> None:
        self._retention = retention
        self.receipt_prefix = receipt_prefix
        self.lock_groups = lock_groups
        self.make_record = make_record
        #: The class of the entries _receive_backlog makes (``None`` without make_record).
        self.plain_entry = None if make_record is None else _plain_entry_class(make_record)
        self._seq = itertools.count(1)
        self._tick = itertools.count(1)
        self._reset()

    @property
    def retention(self) -> float:
        """Seconds a message is kept after it was sent (``MessageRetentionPeriod``)."""
        return self._retention

    @retention.setter
    def retention(self, seconds: float) -> None:
        self._retention = seconds
        self._due = -_INF  # expiry times moved: the next settle recomputes

    def _reset(self) -> None:
        # The earliest time a settle could change anything (a lower bound; -inf = unknown):
        # every settle before it returns after one comparison.
        self._due = _INF
        self._compact_countdown = 1024
        self._visible: deque[Entry] = deque()
        self._laned = self.lock_groups
        # The backlog: messages sent by push_visible and never received, as plain tuples
        # (sent_at, message_id, body) that the cyclic garbage collector does not
        # track, in send order, in sealed chunks of _CHUNK (tuples of tuples: also untracked
        # once their items are). Order: _head[_pos:], then _chunks, then _tail. Every backlog
        # message comes after every entry in _visible; an entry is made (with its seq) when a
        # message is first received, or for all at once before any other message joins the
        # visible ones (_materialize), so seq order stays send order.
        self._head: tuple[tuple[float, str, str], ...] = ()
        self._pos = 0
        self._chunks: deque[tuple[tuple[float, str, str], ...]] = deque()
        self._tail: list[tuple[float, str, str]] = []
        self.n_backlog = 0
        #: push_visible may be used: a record factory was given and the queue has no lanes.
        self.accepts_plain = self.make_record is not None and not self._laned
        self._lanes: dict[Hashable | None, deque[Entry]] = {}
        self._ready: SortedList = SortedList()  # (head seq, lane key) of servable lanes
        self._ready_seq: dict[Hashable | None, int] = {}
        # lock_groups: the same lanes by head seq (plain ints: no tuple to build or compare)
        # in two structures, a run and a heap, and _ready_key, head seq -> lane, the inverse
        # of _ready_seq. A group usually becomes ready again with a head newer than every
        # ready one (its next message, sent after theirs): such a seq is appended to the run,
        # a deque kept in order (O(1) push and pop); any other goes to the heap (O(log L)).
        # The oldest ready head is the smaller of the two fronts. An item not in _ready_key
        # is stale and dropped when it reaches a front.
        self._ready_heap: list[int] = []
        self._ready_run: deque[int] = deque()
        self._ready_key: dict[int, Hashable | None] = {}
        self._lane_inflight: dict[Hashable | None, int] = {}
        # lock_groups: a group with exactly one message in flight (the common case: receive
        # one, delete it) is held here, group -> that entry, with no count or heap. A group
        # with more is in _lane_inflight (its count) and _lane_flight (a heap of (seq, tick,
        # entry); stale items, whose entry left flight, are dropped when they reach the top).
        # A group is never in both.
        self._solo: dict[Hashable | None, Entry] = {}
        self._lane_flight: dict[Hashable | None, list[tuple[int, int, Entry]]] = {}
        self._delayed: list[tuple[float, int, Entry]] = []
        self._deadlines: DeadlineQueue[Entry] = DeadlineQueue()
        # Retention order: messages arrive in send order almost always, so a deque of entries
        # keeps them sorted for the price of an append (no tuple per message); the rare
        # message sent earlier than the newest held one (a standard DLQ keeps the original send
        # time; a restored store) goes to a heap beside it.
        self._fresh: deque[Entry] = deque()
        self._retained: list[tuple[float, int, Entry]] = []
        self.handles: dict[str, Entry] = {}  # (or a _Flight: see admit_flight)
        # Flights in flight and the messages they hold (for the stale counts of _compact).
        self._n_flights = 0
        self._flight_msgs = 0
        self.n_visible = 0
        self.n_inflight = 0
        self.n_delayed = 0

    # -- counts ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Messages held (visible + in flight + delayed). O(1)."""
        return self.n_visible + self.n_inflight + self.n_delayed

    def lane_inflight(self, lane: Hashable | None) -> int:
        """Messages of ``lane`` in flight. O(1)."""
        if lane in self._solo:
            return 1
        return self._lane_inflight.get(lane, 0)

    # -- adding ---------------------------------------------------------------------------------

    def enqueue(
        self,
        record: Any,
        now: float,
        *,
        delay: float = 0.0,
        sent_at: float | None = None,
        lane: Hashable | None = None,
        receive_count: int = 0,
    ) -> Entry:
        """Add a message, visible at ``now + delay``. O(log n).

        ``sent_at`` (default ``now``) is when retention starts counting; a standard DLQ passes
        the original send time. ``receive_count`` carries a count over (durable restore).
        """
        if self.n_backlog:
            self._materialize()
        entry = Entry(next(self._seq), record, now if sent_at is None else sent_at, lane)
        entry.receive_count = receive_count
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= entry.sent_at:
            fresh.append(entry)  # the common case, inlined from _retain
        else:
            heapq.heappush(self._retained, (entry.sent_at, entry.seq, entry))
        if entry.sent_at + self._retention < self._due:
            self._due = entry.sent_at + self._retention
        if lane is not None and not self._laned:
            self._become_laned()
        if delay <= 0 and not self._laned:
            entry.available_at = now  # visible at once in a plain queue: _make_visible inlined
            self.n_visible += 1
            self._visible.append(entry)
            return entry
        if delay <= 0 and self.lock_groups:
            lanes = self._lanes
            group = lanes.get(lane)
            if group and group[0].state == VISIBLE:
                # FIFO, behind a live head of its group (a new seq is the highest): the group's
                # readiness cannot change, so _make_visible's re-index is skipped.
                entry.available_at = now
                self.n_visible += 1
                group.append(entry)
                return entry
            if group is None and lane not in self._solo and lane not in self._lane_inflight:
                # FIFO, the first message of a group with nothing visible or in flight: it is
                # the group's head and the group is ready (_make_visible, _set_ready and
                # _set_group_ready in one step).
                entry.available_at = now
                self.n_visible += 1
                lanes[lane] = deque((entry,))
                self._mark_ready(lane, entry.seq)
                return entry
        if delay > 0:
            entry.state = DELAYED
            entry.available_at = now + delay
            heapq.heappush(self._delayed, (entry.available_at, entry.seq, entry))
            if entry.available_at < self._due:
                self._due = entry.available_at
            self.n_delayed += 1
        else:
            entry.available_at = now
            self._make_visible(entry, back=False)
        return entry

    def enqueue_group(self, record: Any, now: float, lane: Hashable) -> Entry:
        """(lock_groups) :meth:`enqueue` of a message of group ``lane``, sent now and visible
        now (a FIFO send with no delay): the same result, without the general path's
        branches and calls when the group has a live head or nothing held. O(log L) for L
        ready groups."""
        lanes = self._lanes
        group = lanes.get(lane)
        if group:
            if group[0].state != VISIBLE:
                return self.enqueue(record, now, lane=lane)
        elif group is not None or lane in self._solo or lane in self._lane_inflight:
            return self.enqueue(record, now, lane=lane)
        entry = _new(Entry)  # Entry.__init__'s fields, set once
        entry.seq = seq = next(self._seq)
        entry.record = record
        entry.sent_at = entry.available_at = now
        entry.lane = lane
        entry.state = VISIBLE
        entry.receive_count = 0
        entry.first_received_at = entry.received_at = -1.0
        entry.deadline = entry.timeout = 0.0
        entry.receipt = None
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= now:
            fresh.append(entry)
        else:
            heapq.heappush(self._retained, (now, seq, entry))
        if now + self._retention < self._due:
            self._due = now + self._retention
        self.n_visible += 1
        if group:
            group.append(entry)  # behind a live head: the group's readiness cannot change
        else:
            lanes[lane] = deque((entry,))  # the group's head, and nothing of it in flight
            self._mark_ready(lane, seq)
        return entry

    def push_visible(self, now: float, message_id: str, body: str) -> None:
        """Add a message sent now and visible now, stored as ``make_record(message_id, body,
        now)`` returns; the record and entry are made when it is first received. Only while
        :attr:`accepts_plain`. O(1)."""
        tail = self._tail
        tail.append((now, message_id, body))
        self.n_visible += 1
        self.n_backlog += 1
        if self.n_backlog == 1 and now + self._retention < self._due:
            # (With an older backlog message held, _due is at or before its expiry already.)
            self._due = now + self._retention
        if len(tail) >= _CHUNK:
            self._seal_tail()

    def _seal_tail(self) -> None:
        """Seal the backlog's tail as a chunk (a tuple the collector untracks)."""
        tail = self._tail
        self._chunks.append(tuple(tail))
        tail.clear()

    def _backlog_items(self) -> list[tuple[float, str, str]]:
        """The backlog, in order (a copy). O(b)."""
        items = list(self._head[self._pos:])
        for chunk in self._chunks:
            items += chunk
        items += self._tail
        return items

    def _materialize(self) -> None:
        """Turn the whole backlog into entries at the back of the visible ones. O(b)."""
        items = self._backlog_items()
        self._clear_backlog()
        make_record = self.make_record
        assert make_record is not None
        seq = self._seq
        visible = self._visible
        retain = self._retain
        for sent_at, message_id, body in items:
            entry = Entry(next(seq), make_record(message_id, body, sent_at), sent_at, None)
            retain(entry)
            visible.append(entry)

    def _clear_backlog(self) -> None:
        self._head = ()
        self._pos = 0
        self._chunks = deque()
        self._tail = []
        self.n_backlog = 0

    def _snapshots(self) -> list[Entry]:
        """Detached entries of the backlog's messages, in order (for readers of
        :meth:`entries`, :meth:`oldest_entry` and :meth:`purge`; the backlog is unchanged).
        Their seqs sort after every real entry's. O(b)."""
        make_record = self.make_record
        assert make_record is not None
        out = []
        for i, (sent_at, message_id, body) in enumerate(self._backlog_items()):
            out.append(Entry(_SNAPSHOT_SEQ + i, make_record(message_id, body, sent_at),
                             sent_at, None))
        return out

    def _backlog_front(self) -> tuple[float, str, str] | None:
        if self._pos < len(self._head):
            return self._head[self._pos]
        if self._chunks:
            return self._chunks[0][0]
        return self._tail[0] if self._tail else None

    def enqueue_visible(self, records: list[Any], now: float) -> list[Entry]:
        """:meth:`enqueue` each of ``records``, visible now and sent now, in order (a batch sent
        to a plain standard queue with no delay); returns their entries. O(k)."""
        if self.n_backlog:
            self._materialize()
        if self._laned:
            return [self.enqueue(record, now) for record in records]
        seq = self._seq
        entries = [Entry(next(seq), record, now, None) for record in records]  # visible now
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= now:
            fresh.extend(entries)
        else:
            for entry in entries:
                self._retain(entry)
        if now + self._retention < self._due:
            self._due = now + self._retention
        self.n_visible += len(entries)
        self._visible.extend(entries)
        return entries

    def _become_laned(self) -> None:
        # The first message with a lane key turns a standard queue into a fair queue.
        if self.n_backlog:
            self._materialize()
        self._explode_all()
        self._laned = True
        self.accepts_plain = False
        if self._visible:
            self._lanes[None] = self._visible
            self._set_ready(None)
        self._visible = deque()
        if self.n_inflight:
            # Everything received so far had no lane key: count it under ``None`` so that it
            # can leave flight like any laned message.
            self._lane_inflight[None] = self.n_inflight

    def _make_visible(self, entry: Entry, *, back: bool) -> None:
        """Put an entry among the visible; ``back`` marks a return from flight."""
        entry.state = VISIBLE
        self.n_visible += 1
        if not self._laned:
            if back:
                self._visible.appendleft(entry)
            else:
                if self.n_backlog:
                    self._materialize()
                self._visible.append(entry)
            return
        key = entry.lane
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
        if self.lock_groups:
            if lane and lane[0].state == VISIBLE and lane[-1].seq < entry.seq:
                # Behind a live head: the lane's readiness cannot change (no re-index).
                lane.append(entry)
                return
            _insert_by_seq(lane, entry)
        elif back:
            lane.appendleft(entry)
        else:
            lane.append(entry)
        self._set_ready(key)

    # -- lanes ----------------------------------------------------------------------------------

    def _set_ready(self, key: Hashable | None) -> None:
        """Re-index lane ``key`` in ``_ready`` by its current head (or drop it). O(log L)."""
        if self.lock_groups:
            self._set_group_ready(key)
            return
        old = self._ready_seq.pop(key, None)
        if old is not None:
            self._ready.remove((old, _Key(key)))
        lane = self._lanes.get(key)
        while lane and lane[0].state != VISIBLE:
            lane.popleft()
        if not lane:
            self._lanes.pop(key, None)
            return
        seq = lane[0].seq
        self._ready_seq[key] = seq
        self._ready.add((seq, _Key(key)))

    def _set_group_ready(self, key: Hashable | None) -> None:
        """(lock_groups) Index group ``key`` among the ready heads if no earlier
        message of it is in flight, else drop it (or drop an empty lane). O(log L)."""
        ready_seq = self._ready_seq
        old = ready_seq.pop(key, None)
        if old is not None:
            del self._ready_key[old]
        lane = self._lanes.get(key)
        while lane and lane[0].state != VISIBLE:
            lane.popleft()
        if not lane:
            self._lanes.pop(key, None)
            return
        seq = lane[0].seq
        if self._first_in_flight(key) < seq:
            return  # an earlier message of the group is in flight
        ready_seq[key] = seq
        self._ready_key[seq] = key
        if seq != old:  # with the same head its item is still there and valid
            self._push_ready(seq)

    def _push_ready(self, seq: int) -> None:
        """(lock_groups) Order ``seq`` among the ready heads: appended to the run when newer
        than its tail (O(1)), else pushed on the heap (O(log L))."""
        run = self._ready_run
        if not run or run[-1] < seq:
            run.append(seq)
        else:
            heapq.heappush(self._ready_heap, seq)
        if len(run) + len(self._ready_heap) > 2 * len(self._ready_key) + 1024:
            self._rebuild_ready_heap()

    def _first_ready(self) -> int:
        """(lock_groups) The oldest head seq of a ready group, or -1 (stale items at the
        fronts dropped). O(1) amortized, O(log L) more per stale heap item."""
        heap, run, ready_key = self._ready_heap, self._ready_run, self._ready_key
        while True:
            if run and (not heap or run[0] <= heap[0]):
                seq = run[0]
                if seq in ready_key:
                    return seq
                run.popleft()
            elif heap:
                seq = heap[0]
                if seq in ready_key:
                    return seq
                heapq.heappop(heap)
            else:
                return -1

    def _pop_ready(self, seq: int) -> None:
        """(lock_groups) Drop ``seq``, which :meth:`_first_ready` just returned, from the
        front it is on."""
        run = self._ready_run
        if run and run[0] == seq:
            run.popleft()
        else:
            heapq.heappop(self._ready_heap)

    def _mark_ready(self, key: Hashable | None, seq: int) -> None:
        """(lock_groups) Index group ``key`` as ready with head ``seq``, which the caller has
        checked is live with nothing of the group in flight. O(log L)."""
        ready_seq = self._ready_seq
        old = ready_seq.get(key)
        if old != seq:
            ready_seq[key] = seq
            ready_key = self._ready_key
            ready_key[seq] = key
            if old is not None:  # its old item goes stale
                del ready_key[old]
            run = self._ready_run  # _push_ready, inline for the common case
            if not run or run[-1] < seq:
                run.append(seq)
                if len(run) > 2 * len(ready_key) + 1024:
                    self._rebuild_ready_heap()
            else:
                self._push_ready(seq)

    def _rebuild_ready_heap(self) -> None:
        # Mostly stale items: rebuild from _ready_key, O(L), at most once per L pushes: all
        # in the run, sorted. In place: receive holds both while it calls _set_group_ready.
        self._ready_heap.clear()
        run = self._ready_run
        run.clear()
        run.extend(sorted(self._ready_key))

    def _noisy(self, key: Hashable | None) -> bool:
        # Fair queues (SQS Developer Guide, "Amazon SQS fair queues"): a tenant is noisy when it
        # holds more than 10% of the in-flight messages with at least 30 of its own in flight.
        if key is None:
            return False
        mine = self._lane_inflight.get(key, 0)
        return mine >= 30 and mine * 10 > self.n_inflight

    def _next_lane(self) -> Hashable | None | _NoLane:
        # Fair queues (FIFO groups are chosen in receive, from _first_ready).
        ready = self._ready
        if not ready:
            return _NO_LANE
        fallback: Hashable | None | _NoLane = _NO_LANE
        fewest = -1
        for _, wrapped in ready:  # quiet lanes first; noisy lanes are few (each > 10%)
            key: Hashable | None = wrapped.key
            if not self._noisy(key):
                return key
            mine = self._lane_inflight.get(key, 0)
            if fewest < 0 or mine < fewest:
                fallback, fewest = key, mine
        return fallback

    # -- receiving ------------------------------------------------------------------------------

    def receive(
        self,
        now: float,
        max_messages: int,
        visibility_timeout: float,
        max_receive_count: int = 0,
    ) -> tuple[list[Entry], list[Entry]]:
        """Hand out up to ``max_messages`` visible messages for ``visibility_timeout`` seconds.

        Returns ``(received, dead)``: ``dead`` are messages whose receive count had already
        reached ``max_receive_count`` (0 = no limit); they are removed, for the caller to move
        to a dead-letter queue. O(m log n) for m messages handed out.
        """
        if now >= self._due:  # (settle's own first test, without the call)
            self.settle(now)
        received: list[Entry] = []
        dead: list[Entry] = []
        if not self._laned:
            # Every message of one receive shares its deadline, so they join the deadline run
            # together, after the loop.
            visible = self._visible
            deadline = now + visibility_timeout
            handles = self.handles
            tick = self._tick
            prefix = self.receipt_prefix
            append = received.append
            while visible and len(received) < max_messages:
                entry = visible.popleft()
                if entry.state != VISIBLE:
                    continue
                self.n_visible -= 1
                count = entry.receive_count
                if max_receive_count and count >= max_receive_count:
                    self._drop(entry)
                    dead.append(entry)
                    continue
                # _hand_out, inlined
                old = entry.receipt
                if old is not None:
                    handles.pop(old, None)
                receipt = entry.receipt = f"{prefix}{next(tick):x}"
                entry.state = INFLIGHT
                entry.receive_count = count + 1
                if not count:  # (not first_received_at < 0: a restored time may be < 0)
                    entry.first_received_at = now
                entry.received_at = now
                entry.deadline = deadline
                entry.timeout = visibility_timeout
                handles[receipt] = entry
                append(entry)
            if self.n_backlog and len(received) < max_messages:
                self._receive_backlog(now, max_messages - len(received), deadline,
                                      visibility_timeout, received)
            if received:
                self.n_inflight += len(received)
                self._deadlines.push_many(deadline, visibility_timeout, received)
                if deadline < self._due:
                    self._due = deadline
            if dead:
                self._compact()
            return received, dead
        if self.lock_groups:
            # FIFO: as many messages as allowed from the group with the oldest head, then the
            # next group. O(log L) per group, O(1) per message. As in the plain branch, every
            # message of one receive shares its deadline.
            heap, run = self._ready_heap, self._ready_run
            ready_key, lanes = self._ready_key, self._lanes
            solo = self._solo
            if max_messages == 1 and (run or heap):
                # The common receive, one message: the oldest ready group's head when it is
                # live, nothing of its group is in flight, and it is not due for the
                # dead-letter queue. What the loop below does in that case, in one pass.
                from_run = bool(run) and (not heap or run[0] <= heap[0])
                seq = run[0] if from_run else heap[0]
                key = ready_key.get(seq, _NO_LANE)
                if key is not _NO_LANE and key not in solo and key not in self._lane_flight:
                    lane = lanes[key]
                    entry = lane[0]
                    if entry.state == VISIBLE and (
                        not max_receive_count or entry.receive_count < max_receive_count
                    ):
                        lane.popleft()
                        if not lane:
                            del lanes[key]
                        del self._ready_seq[key]
                        del ready_key[seq]
                        if from_run:
                            run.popleft()
                        else:
                            heapq.heappop(heap)
                        deadline = now + visibility_timeout
                        # _hand_out, inlined
                        handles = self.handles
                        old = entry.receipt
                        if old is not None:
                            handles.pop(old, None)
                        count = entry.receive_count
                        if not count:  # (not first_received_at < 0: a restored time may be < 0)
                            entry.first_received_at = now
                        receipt = entry.receipt = f"{self.receipt_prefix}{next(self._tick):x}"
                        entry.state = INFLIGHT
                        entry.receive_count = count + 1
                        entry.received_at = now
                        entry.deadline = deadline
                        entry.timeout = visibility_timeout
                        handles[receipt] = entry
                        solo[key] = entry
                        self.n_visible -= 1
                        self.n_inflight += 1
                        self._deadlines.push(deadline, visibility_timeout, entry)
                        if deadline < self._due:
                            self._due = deadline
                        return [entry], dead
            hand_out = self._hand_out
            deadline = now + visibility_timeout
            first_ready = self._first_ready
            while len(received) < max_messages:
                seq = first_ready()  # the ready group with the oldest head
                if seq < 0:
                    break  # no group is ready
                key = ready_key[seq]
                lane = lanes[key]
                # Only messages ahead of the group's first in-flight message may go out.
                first = solo.get(key)
                if first is not None:
                    block = float(first.seq)
                    free = False
                else:
                    free = key not in self._lane_flight  # nothing of the group in flight
                    block = _NO_BLOCK if free else self._first_in_flight(key)
                took = False
                while lane and len(received) < max_messages:
                    entry = lane.popleft()
                    if entry.state != VISIBLE:
                        continue
                    if entry.seq > block:
                        lane.appendleft(entry)
                        break
                    self.n_visible -= 1
                    if max_receive_count and entry.receive_count >= max_receive_count:
                        self._drop(entry)
                        dead.append(entry)
                        continue
                    t = hand_out(entry, now, deadline, visibility_timeout)
                    received.append(entry)
                    if free:
                        solo[key] = entry  # the group's only message in flight (so far)
                        free = False
                    else:
                        self._enter_group_flight(key, entry, t)
                    took = True
                if took:
                    # What the group still holds comes after a message now in flight: it waits
                    # until that message leaves flight, which re-indexes it (_leave_flight). Its
                    # item is still at its front. Stale heads are dropped at that re-index.
                    del self._ready_seq[key]
                    del ready_key[seq]
                    self._pop_ready(seq)
                    if not lane:
                        del lanes[key]
                else:
                    self._set_group_ready(key)
            if received:
                self.n_inflight += len(received)
                self._deadlines.push_many(deadline, visibility_timeout, received)
                if deadline < self._due:
                    self._due = deadline
        else:
            while len(received) < max_messages:
                key = self._next_lane()
                if key is _NO_LANE:
                    break
                lane = self._lanes[key]
                while lane:
                    entry = lane.popleft()
                    if entry.state != VISIBLE:
                        continue
                    self.n_visible -= 1
                    if max_receive_count and entry.receive_count >= max_receive_count:
                        self._drop(entry)
                        dead.append(entry)
                        continue
                    self._deliver(entry, now, visibility_timeout)
                    received.append(entry)
                    break  # fair queues choose a lane per message
                self._set_ready(key)
        if dead:
            self._compact()
        return received, dead

    def take_backlog(self, wanted: int) -> tuple[tuple[float, str, str], ...] | list[Any]:
        """Take up to ``wanted`` messages off the front of the backlog, as its items
        ``(sent_at, message_id, body)``, for a receive to hand out: it makes each one's
        :attr:`plain_entry` (with a seq from :attr:`seqs` and a handle tick from
        :attr:`ticks`, in order) and then calls :meth:`admit_backlog`. O(k)."""
        head, pos = self._head, self._pos
        end = pos + wanted
        items: tuple[tuple[float, str, str], ...] | list[Any]
        if end <= len(head):
            items = head[pos:end]
            pos = end
        else:
            items = list(head[pos:])
            pos = len(head)
            while len(items) < wanted:
                if self._chunks:
                    head = self._chunks.popleft()
                elif self._tail:
                    head = tuple(self._tail)
                    self._tail.clear()
                else:
                    break
                take = wanted - len(items)
                items += head[:take]
                pos = min(take, len(head))
        if pos >= len(head):
            head, pos = (), 0
        self._head, self._pos = head, pos
        return items

    @property
    def seqs(self) -> Iterator[int]:
        """The counter that numbers entries (``next()`` gives the next seq)."""
        return self._seq

    @property
    def ticks(self) -> Iterator[int]:
        """The counter that numbers receipt handles (a handle is ``receipt_prefix`` + the
        tick in lowercase hex; a durable store may replace it)."""
        return self._tick

    def admit_backlog(self, got: list[Entry]) -> None:
        """Count in flight the entries a receive made for the items :meth:`take_backlog`
        returned (with their handles already in :attr:`handles`, state ``INFLIGHT``, one
        ``deadline`` and ``timeout``) and index them. O(k)."""
        if not got:
            return
        # The backlog is in send order: retention order needs one check for the batch.
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= got[0].sent_at:
            fresh.extend(got)
        else:
            for entry in got:
                self._retain(entry)
        n = len(got)
        self.n_backlog -= n
        self.n_visible -= n
        self.n_inflight += n
        first = got[0]
        deadline = first.deadline
        self._deadlines.push_many(deadline, first.timeout, got)
        if deadline < self._due:
            self._due = deadline

    def new_flight(
        self, items: tuple[tuple[float, str, str], ...] | list[Any], seq: int, tick: int
    ) -> _Flight:
        """A flight for the messages of ``items`` (what :meth:`take_backlog` returned) that a
        receive is handing out: message i has seq ``seq + i`` and the handle of tick
        ``tick + i`` (both drawn from :attr:`seqs` and :attr:`ticks` in turn). The receive
        maps each handle to it in :attr:`handles`, then calls :meth:`admit_flight`."""
        flight = _new(_Flight)
        flight.items = items
        flight.seq = seq
        flight.tick = tick
        flight.sent_at = items[0][0]
        return flight

    def admit_flight(self, flight: _Flight, now: float, timeout: float) -> None:
        """Count in flight, as one, the messages of ``flight`` (from :meth:`new_flight`, their
        handles mapped to it), received at ``now`` for ``timeout`` seconds. Deleting them is
        :meth:`remove_handle` / :meth:`remove_handles`; anything else reads them through
        :meth:`entry_for`. O(1)."""
        sent_at = flight.sent_at
        flight.received_at = now
        deadline = flight.deadline = now + timeout
        flight.timeout = timeout
        flight.state = INFLIGHT
        n = flight.live = len(flight.items)
        self.n_backlog -= n
        self.n_visible -= n
        self.n_inflight += n
        self._n_flights += 1
        self._flight_msgs += n
        self._deadlines.push(deadline, timeout, flight)  # type: ignore[arg-type]
        if deadline < self._due:
            self._due = deadline
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= sent_at:
            fresh.append(flight)  # type: ignore[arg-type]
        else:  # (a message sent earlier than the newest held one: entries, one by one)
            self._explode(flight)

    def entry_for(self, receipt: str) -> Entry | None:
        """The entry the current handle ``receipt`` names (``None`` if none): a message of a
        flight is given its entry first. O(1), O(k) for a flight of k."""
        held: Any = self.handles.get(receipt)
        if type(held) is _FLIGHT:
            self._explode(held)
            return self.handles.get(receipt)
        entry: Entry | None = held
        return entry

    def remove_handle(self, receipt: str, flight: Any) -> None:
        """Delete the message of ``flight`` (its ``handles`` value) that ``receipt`` names.
        O(1)."""
        del self.handles[receipt]
        self.n_inflight -= 1
        self._flight_msgs -= 1
        left = flight.live = flight.live - 1
        if not left:
            self._flight_done(flight)

    def remove_handles(self, receipts: list[str], held: list[Any]) -> None:
        """Delete the messages the current handles ``receipts`` name (``held``: their
        ``handles`` values, entries or flights; a handle given twice deletes once). O(k)."""
        handles = self.handles
        first: Any = held[0] if held else None
        if (
            type(first) is _FLIGHT
            and held.count(first) == len(held)
            and len(set(receipts)) == len(receipts)
        ):
            # The common batch: distinct current handles of one flight (what one receive
            # handed out), deleted in C.
            _exhaust(map(handles.__delitem__, receipts))
            n = len(receipts)
            self.n_inflight -= n
            self._flight_msgs -= n
            left = first.live = first.live - n
            if not left:
                self._flight_done(first)
            return
        entries = []
        n = 0
        item: Any
        for receipt, item in zip(receipts, held, strict=True):
            if type(item) is _FLIGHT:
                current: Any = handles.get(receipt)
                if current is not item:
                    if current is not None:  # (made an entry since: removed as one)
                        entries.append(current)
                    continue  # (else given twice)
                del handles[receipt]
                n += 1
                left = item.live = item.live - 1
                if not left:
                    self._flight_done(item)
            else:
                entries.append(item)
        self.n_inflight -= n
        self._flight_msgs -= n
        if entries:
            self.remove_many(entries)

    def _flight_done(self, flight: _Flight) -> None:
        """Every message of ``flight`` deleted: unindex it (at either end of its run and of the
        retention deque, the common cases; elsewhere it stays, stale). O(1)."""
        flight.state = GONE
        self._n_flights -= 1
        self._unindex_flight(flight)
        if self._compact_countdown <= 1:
            self._compact()
        else:
            self._compact_countdown -= 1

    def _unindex_flight(self, flight: _Flight, *, deadline: bool = True) -> None:
        """Take ``flight`` out of the deadline run (unless ``deadline`` is false: its caller has
        just popped it as due) and, at either end, out of the retention deque (the common
        cases; elsewhere it stays, stale, until compaction). O(1)."""
        if deadline:
            self._deadlines.discard(flight.deadline, flight.timeout, flight)  # type: ignore[arg-type]
        fresh: deque[Any] = self._fresh
        if fresh:
            if fresh[0] is flight:
                fresh.popleft()
            elif fresh[-1] is flight:
                fresh.pop()

    def _explode(self, flight: _Flight, *, index: bool = True) -> list[Entry]:
        """Turn ``flight``'s live messages into entries (in flight, as the receive made them
        before flights existed; retention-indexed in the heap; deadline-indexed unless
        ``index`` is false, when the caller has just popped the flight as due) and return
        them. O(k log n)."""
        if flight.state != INFLIGHT:
            return []
        flight.state = GONE
        self._n_flights -= 1
        self._flight_msgs -= flight.live
        deadline, timeout = flight.deadline, flight.timeout
        self._unindex_flight(flight, deadline=index)
        cls = self.plain_entry
        assert cls is not None
        handles = self.handles
        retained = self._retained
        deadlines = self._deadlines
        now = flight.received_at
        made: list[Entry] = []
        prefix, tick = self.receipt_prefix, flight.tick
        for i, item in enumerate(flight.items):
            receipt = f"{prefix}{tick + i:x}"
            if handles.get(receipt) is not flight:  # type: ignore[comparison-overlap]
                continue  # deleted
            entry = cls()  # type: ignore[call-arg]
            entry._item = item
            seq = entry.seq = flight.seq + i
            sent_at = entry.sent_at = entry.available_at = item[0]
            entry.lane = None
            entry.state = INFLIGHT
            entry.receive_count = 1
            entry.first_received_at = entry.received_at = now
            entry.deadline = deadline
            entry.timeout = timeout
            entry.receipt = receipt
            handles[receipt] = entry
            heapq.heappush(retained, (sent_at, seq, entry))
            if index:
                deadlines.push(deadline, timeout, entry)
            made.append(entry)
        return made

    def _explode_all(self) -> None:
        """:meth:`_explode` every flight (before a reader walks the entries). O(n)."""
        if self._n_flights:
            for flight in [f for f in self._fresh if type(f) is _FLIGHT]:
                self._explode(flight)  # type: ignore[arg-type]

    def _receive_backlog(
        self, now: float, wanted: int, deadline: float, timeout: float, received: list[Entry]
    ) -> None:
        """Hand out up to ``wanted`` backlog messages (first receives: none is due for a
        dead-letter queue), making their entries (:class:`_PlainEntry`: the record waits until
        read). The caller counts them in flight and indexes their deadline. O(k)."""
        items = self.take_backlog(wanted)
        if not items:
            return
        cls = self.plain_entry
        assert cls is not None  # (a backlog needs make_record)
        prefix = self.receipt_prefix
        handles = self.handles
        got: list[Entry] = []
        append = got.append
        # Entry.__init__ and _hand_out in one: every field set once.
        for item, seq, tick in zip(items, self._seq, self._tick, strict=False):  # (endless counters)
            entry = cls()  # type: ignore[call-arg]  # (bare: its __init__ is object's)
            entry._item = item
            entry.seq = seq
            entry.sent_at = entry.available_at = item[0]
            entry.lane = None
            entry.state = INFLIGHT
            entry.receive_count = 1
            entry.first_received_at = entry.received_at = now
            entry.deadline = deadline
            entry.timeout = timeout
            receipt = entry.receipt = f"{prefix}{tick:x}"
            handles[receipt] = entry
            append(entry)
        # The backlog is in send order: retention order needs one check for the batch.
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= got[0].sent_at:
            fresh.extend(got)
        else:
            for made in got:
                self._retain(made)
        received += got
        self.n_backlog -= len(got)
        self.n_visible -= len(got)

    def _hand_out(self, entry: Entry, now: float, deadline: float, timeout: float) -> int:
        """Put a visible entry in flight until ``deadline``: a new receipt handle (the old one
        stops naming it), one more receive, the times. Returns the handle's tick. The caller
        counts it in flight and indexes its deadline. O(1)."""
        handles = self.handles
        old = entry.receipt
        if old is not None:
            handles.pop(old, None)
        tick = next(self._tick)
        receipt = entry.receipt = f"{self.receipt_prefix}{tick:x}"
        entry.state = INFLIGHT
        count = entry.receive_count
        entry.receive_count = count + 1
        if not count:  # (not first_received_at < 0: a restored time may be < 0)
            entry.first_received_at = now
        entry.received_at = now
        entry.deadline = deadline
        entry.timeout = timeout
        handles[receipt] = entry
        return tick

    def _deliver(self, entry: Entry, now: float, visibility_timeout: float) -> None:
        deadline = now + visibility_timeout
        tick = self._hand_out(entry, now, deadline, visibility_timeout)
        self.n_inflight += 1
        if self.lock_groups:
            self._enter_group_flight(entry.lane, entry, tick)
        elif self._laned:
            key = entry.lane
            self._lane_inflight[key] = self._lane_inflight.get(key, 0) + 1
        self._deadlines.push(deadline, visibility_timeout, entry)
        if deadline < self._due:
            self._due = deadline

    def _enter_group_flight(self, key: Hashable | None, entry: Entry, tick: int) -> None:
        """(lock_groups) Count ``entry`` (just put in flight) among its group's. O(log k) for
        k of the group in flight, O(1) for the first."""
        solo = self._solo
        other = solo.pop(key, None)
        if other is not None:  # a second message in flight: the group needs a count and heap
            self._lane_inflight[key] = 2
            flight = [(other.seq, 0, other), (entry.seq, tick, entry)]
            heapq.heapify(flight)
            self._lane_flight[key] = flight
        elif key in self._lane_inflight:
            self._lane_inflight[key] += 1
            heapq.heappush(self._lane_flight[key], (entry.seq, tick, entry))
        else:
            solo[key] = entry

    def _leave_flight(self, entry: Entry) -> None:
        self.n_inflight -= 1
        if self.lock_groups:
            key = entry.lane
            if self._solo.pop(key, None) is None:  # (a solo group's one message is this one)
                left = self._lane_inflight[key] - 1
                if left:
                    self._lane_inflight[key] = left
                    self._set_group_ready(key)  # an earlier message may have left: re-check
                    return
                del self._lane_inflight[key]
                del self._lane_flight[key]
            # _set_group_ready inlined for the common case: nothing of the group is in flight
            # now, so a live head makes it ready.
            lane = self._lanes.get(key)
            if lane and lane[0].state == VISIBLE:
                self._mark_ready(key, lane[0].seq)
            else:
                self._set_group_ready(key)
        elif self._laned:
            key = entry.lane
            left = self._lane_inflight[key] - 1
            if left:
                self._lane_inflight[key] = left
            else:
                del self._lane_inflight[key]

    def _first_in_flight(self, key: Hashable | None) -> float:
        """(lock_groups) The seq of lane ``key``'s earliest message in flight, or infinity.
        O(1) amortized: each stale heap item is popped once."""
        first = self._solo.get(key)
        if first is not None:
            return first.seq
        flight = self._lane_flight.get(key)
        while flight:
            top = flight[0]
            if top[2].state == INFLIGHT:
                return top[0]
            heapq.heappop(flight)
        return _NO_BLOCK

    # -- deleting and changing visibility -------------------------------------------------------

    def remove(self, entry: Entry) -> None:
        """Remove a held message for good (delete, or move out). O(1) amortized."""
        self._unlink(entry)
        if self._compact_countdown <= 1:
            self._compact()
        else:
            self._compact_countdown -= 1

    def remove_group_solo(self, entry: Entry) -> None:
        """(lock_groups) :meth:`remove`, with one step for the common FIFO delete: a message
        in flight, the only one of its group. O(log L) for L ready groups."""
        key = entry.lane
        solo = self._solo
        if entry.state != INFLIGHT or solo.get(key) is not entry:
            self.remove(entry)
            return
        entry.state = GONE
        self._deadlines.discard(entry.deadline, entry.timeout, entry)
        del solo[key]
        self.n_inflight -= 1
        lane = self._lanes.get(key)  # _leave_flight's step for a solo group
        if lane and lane[0].state == VISIBLE:
            self._mark_ready(key, lane[0].seq)
        else:
            self._set_group_ready(key)
        self.handles.pop(entry.receipt, None)  # type: ignore[arg-type]  # (set in flight)
        fresh = self._fresh
        if fresh and fresh[0] is entry:
            fresh.popleft()
        else:
            self._forget(entry)
        if self._compact_countdown <= 1:
            self._compact()
        else:
            self._compact_countdown -= 1

    def remove_many(self, entries: list[Entry]) -> None:
        """:meth:`remove` each of ``entries`` (a batch delete). O(k) amortized."""
        unlink = self._unlink
        if self._laned:
            for entry in entries:
                unlink(entry)
        else:
            # _unlink inlined for messages in flight (the common delete: received, then
            # deleted in the order received).
            handles = self.handles
            fresh = self._fresh
            inflight = []
            for entry in entries:
                if entry.state != INFLIGHT:
                    unlink(entry)
                    continue
                inflight.append(entry)
                entry.state = GONE
                handles.pop(entry.receipt, None)  # type: ignore[arg-type]  # (set in flight)
                if fresh and fresh[0] is entry:
                    fresh.popleft()
                else:
                    self._forget(entry)
            self.n_inflight -= len(inflight)
            self._deadlines.discard_timed(inflight)
        left = self._compact_countdown - len(entries)
        if left <= 1:
            self._compact_countdown = 1
            self._compact()
        else:
            self._compact_countdown = left

    def _unlink(self, entry: Entry) -> None:
        state = entry.state
        if state == GONE:
            return
        if state == INFLIGHT:
            entry.state = GONE
            self._deadlines.discard(entry.deadline, entry.timeout, entry)
            if self._laned:
                self._leave_flight(entry)
            else:
                self.n_inflight -= 1
        elif state == VISIBLE:
            entry.state = GONE  # skipped lazily when it reaches the front of its deque
            self.n_visible -= 1
        else:
            entry.state = GONE
            self.n_delayed -= 1
        if entry.receipt is not None:
            self.handles.pop(entry.receipt, None)
        self._forget(entry)

    def _forget(self, entry: Entry) -> None:
        # Drop its retention item now when it sits at either end of the heap (the common
        # cases); otherwise it goes stale and is skipped or compacted later.
        fresh = self._fresh
        if fresh and fresh[-1] is entry:
            fresh.pop()
        elif fresh and fresh[0] is entry:
            fresh.popleft()
        else:
            retained = self._retained
            if retained:
                if retained[-1][2] is entry:
                    retained.pop()
                elif retained[0][2] is entry:
                    heapq.heappop(retained)

    def _drop(self, entry: Entry) -> None:
        """Remove an entry already taken off the visible deque (moving to a DLQ)."""
        entry.state = GONE
        if entry.receipt is not None:
            self.handles.pop(entry.receipt, None)

    def change_visibility(self, entry: Entry, now: float, timeout: float) -> None:
        """Set an in-flight message's deadline to ``now + timeout``; 0 returns it now. O(log n)."""
        assert entry.state == INFLIGHT
        self._deadlines.discard(entry.deadline, entry.timeout, entry)
        if timeout <= 0:
            self._leave_flight(entry)
            self._make_visible(entry, back=True)
            return
        deadline = entry.deadline = now + timeout
        entry.timeout = timeout
        self._deadlines.push(deadline, timeout, entry)
        if deadline < self._due:
            self._due = deadline
        self._compact()

    def hide(self, entry: Entry, now: float, timeout: float) -> None:
        """Make a visible message invisible again until ``now + timeout``, keeping its receipt
        handle and receive count (a standard queue's ChangeMessageVisibility with the latest
        handle after the timeout ended). ``timeout`` 0 leaves it visible. O(log n).

        Its place in the visible deque goes stale and is skipped when reached.
        """
        assert entry.state == VISIBLE
        if timeout <= 0:
            return
        entry.state = INFLIGHT
        self.n_visible -= 1
        self.n_inflight += 1
        entry.deadline = now + timeout
        entry.timeout = timeout
        self._deadlines.push(entry.deadline, timeout, entry)
        if entry.deadline < self._due:
            self._due = entry.deadline
        if self.lock_groups:
            self._enter_group_flight(entry.lane, entry, 0)  # (the tick only breaks seq ties)
            self._set_ready(entry.lane)
        elif self._laned:
            key = entry.lane
            self._lane_inflight[key] = self._lane_inflight.get(key, 0) + 1
            self._set_ready(key)

    def restore(
        self,
        seq: int,
        record: Any,
        now: float,
        *,
        sent_at: float,
        lane: Hashable | None,
        available_at: float,
        receive_count: int,
        first_received_at: float,
        received_at: float,
        receipt: str | None,
        deadline: float,
        timeout: float,
    ) -> Entry:
        """Put back a message with a known history (a durable store reopening, or a change
        another process made): in flight until ``deadline`` if it has a ``receipt`` and
        ``deadline > now``, else delayed until ``available_at`` if that is later than ``now``,
        else visible. Its receipt handle keeps naming it. ``seq`` is kept as given; the
        counters that number new messages and handles are the caller's to move past it.
        Restoring in ``seq`` order rebuilds the original order. O(log n).
        """
        if self.n_backlog:
            self._materialize()
        entry = Entry(seq, record, sent_at, lane)
        entry.receive_count = receive_count
        entry.first_received_at = first_received_at
        entry.received_at = received_at
        entry.available_at = available_at
        entry.deadline = deadline
        entry.timeout = timeout
        entry.receipt = receipt
        self._retain(entry)
        if sent_at + self._retention < self._due:
            self._due = sent_at + self._retention
        if lane is not None and not self._laned:
            self._become_laned()
        if receipt is not None:
            self.handles[receipt] = entry
            if deadline > now:
                entry.state = INFLIGHT
                self.n_inflight += 1
                if self.lock_groups:
                    self._enter_group_flight(lane, entry, next(self._tick))
                    self._set_ready(lane)  # later messages of the group now wait
                elif self._laned:
                    self._lane_inflight[lane] = self._lane_inflight.get(lane, 0) + 1
                self._deadlines.push(deadline, timeout, entry)
                if deadline < self._due:
                    self._due = deadline
                return entry
        if available_at > now:
            entry.state = DELAYED
            heapq.heappush(self._delayed, (available_at, seq, entry))
            if available_at < self._due:
                self._due = available_at
            self.n_delayed += 1
        else:
            self._make_visible(entry, back=False)
        return entry

    def redelay(self, now: float, delay: float) -> list[Entry]:
        """Re-time every delayed message to become visible at ``sent_at + delay`` (a FIFO
        queue's ``DelaySeconds`` change reaches the messages still waiting); those already due
        then become visible. Returns the messages whose time changed, in seq order.
        O(d log d) for d delayed messages."""
        items: list[tuple[float, int, Entry]] = []
        changed: list[Entry] = []
        seen: set[int] = set()
        for available_at, seq, entry in self._delayed:
            if entry.state != DELAYED or available_at != entry.available_at or seq in seen:
                continue  # stale (left the delay, or superseded)
            seen.add(seq)
            due = entry.sent_at + delay
            if due != available_at:
                entry.available_at = due
                changed.append(entry)
            items.append((due, seq, entry))
        heapq.heapify(items)
        self._delayed = items
        self._due = -_INF  # the next settle recomputes (and makes the due ones visible)
        self.settle(now)
        changed.sort(key=_seq_of)
        return changed

    # -- time -----------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Apply everything due by ``now``: delays end, timeouts expire, retention ends.

        O(1) when nothing is due, else O(k log n) for k due messages.
        """
        if now < self._due:
            return
        delayed = self._delayed
        if delayed and delayed[0][0] <= now:
            pop = heapq.heappop
            while delayed and delayed[0][0] <= now:
                entry = pop(delayed)[2]
                if entry.state == DELAYED:
                    self.n_delayed -= 1
                    self._make_visible(entry, back=False)
        deadlines = self._deadlines
        if deadlines.earliest() <= now:
            for deadline, entry in deadlines.pop_due(now):
                if entry.state == INFLIGHT and entry.deadline == deadline:
                    if type(entry) is _FLIGHT:  # its live messages return, as entries
                        for made in self._explode(entry, index=False):  # type: ignore[arg-type]
                            self._leave_flight(made)
                            self._make_visible(made, back=True)
                        continue
                    self._leave_flight(entry)
                    self._make_visible(entry, back=True)
        # A message expires at ``sent_at + retention`` (the same sum :meth:`next_change`
        # reports): comparing ``sent_at <= now - retention`` instead can round the other way and
        # leave a waiter spinning at a "change" that never comes.
        retention = self._retention
        fresh = self._fresh
        while fresh and fresh[0].sent_at + retention <= now:
            entry = fresh.popleft()
            if entry.state != GONE:
                if type(entry) is _FLIGHT:  # its entries go to the heap, checked next
                    self._explode(entry)  # type: ignore[arg-type]
                else:
                    self._unlink(entry)
        retained = self._retained
        if retained and retained[0][0] + retention <= now:
            pop = heapq.heappop
            while retained and retained[0][0] + retention <= now:
                entry = pop(retained)[2]
                if entry.state != GONE:
                    self._unlink(entry)
        if self.n_backlog:
            self._expire_backlog(now)
        due = self.next_change()
        self._due = _INF if due is None else due

    def _expire_backlog(self, now: float) -> None:
        """Drop backlog messages past retention (the oldest first). O(k) for k dropped, plus
        O(log c) per chunk passed."""
        retention = self._retention
        dropped = 0
        while self.n_backlog:
            head = self._head
            if self._pos >= len(head):
                if self._chunks:
                    chunk = self._chunks[0]
                    if chunk[-1][0] + retention <= now:  # the whole chunk expired
                        self._chunks.popleft()
                        self.n_backlog -= len(chunk)
                        dropped += len(chunk)
                        continue
                    self._head = self._chunks.popleft()
                else:
                    self._head = tuple(self._tail)
                    self._tail.clear()
                self._pos = 0
                continue
            if head[self._pos][0] + retention > now:
                break
            self._pos += 1
            self.n_backlog -= 1
            dropped += 1
        self.n_visible -= dropped

    def next_change(self) -> float | None:
        """The earliest time at which settling would change something, or ``None``. O(1)."""
        times = []
        if self.n_backlog:
            front = self._backlog_front()
            assert front is not None
            times.append(front[0] + self._retention)
        if self._delayed:
            times.append(self._delayed[0][0])
        if len(self._deadlines):
            times.append(self._deadlines.earliest())
        if self._fresh:
            times.append(self._fresh[0].sent_at + self._retention)
        if self._retained:
            times.append(self._retained[0][0] + self._retention)
        return min(times) if times else None

    def _compact(self) -> None:
        # Rebuild a heap once most of it is stale: amortized O(1) per operation, and memory
        # stays proportional to the messages actually held. The size check itself runs only
        # every 1024 removals, so the common path pays one decrement.
        self._compact_countdown -= 1
        if self._compact_countdown > 0:
            return
        self._compact_countdown = 1024
        # Each held message has exactly one live item in each heap, or shares its flight's
        # one (a flight of k: k - 1 fewer items); the rest are stale.
        shared = self._flight_msgs - self._n_flights
        stale = len(self._deadlines) - (self.n_inflight - shared)
        if stale > 1024 and stale * 2 > len(self._deadlines):
            self._deadlines.rebuild(
                (e.deadline, -1.0, e)
                for e in dict.fromkeys(self.handles.values())  # (a flight once)
                if e.state == INFLIGHT
            )
        size = len(self._retained) + len(self._fresh)
        stale = size - (len(self) - self.n_backlog - shared)
        if stale > 1024 and stale * 2 > size:
            self._fresh = deque(e for e in self._fresh if e.state != GONE)
            self._retained = [t for t in self._retained if t[2].state != GONE]
            heapq.heapify(self._retained)

    # -- whole-queue operations -----------------------------------------------------------------

    def purge(self) -> list[Entry]:
        """Remove every message; return the ones that were held. O(n)."""
        self._explode_all()
        held = [e for e in self._fresh if e.state != GONE]
        held += [t[2] for t in self._retained if t[2].state != GONE]
        for entry in held:
            entry.state = GONE
        if self.n_backlog:
            for entry in self._snapshots():
                entry.state = GONE
                held.append(entry)
        self._reset()
        return held

    def entries(self) -> Iterator[Entry]:
        """Every held message, oldest sent first. O(n log n)."""
        self._explode_all()
        live = [(e.sent_at, e.seq, e) for e in self._fresh if e.state != GONE]
        live += [t for t in self._retained if t[2].state != GONE]
        if self.n_backlog:
            live += [(e.sent_at, e.seq, e) for e in self._snapshots()]
        return iter([t[2] for t in sorted(live)])

    def oldest_sent_at(self) -> float | None:
        """When the oldest held message was sent, or ``None``. O(1) amortized."""
        oldest = self.oldest_entry()
        return None if oldest is None else oldest.sent_at

    def oldest_entry(self) -> Entry | None:
        """The held message sent first (ties: the first enqueued), or ``None``. O(1) amortized."""
        fresh, retained = self._fresh, self._retained
        while fresh and (fresh[0].state == GONE or type(fresh[0]) is _FLIGHT):
            if fresh[0].state == GONE:
                fresh.popleft()
            else:  # (its entries go to the heap)
                self._explode(fresh[0])  # type: ignore[arg-type]
        while retained and retained[0][2].state == GONE:
            heapq.heappop(retained)
        best: Entry | None
        if not retained:
            best = fresh[0] if fresh else None
        elif not fresh:
            best = retained[0][2]
        else:
            head = fresh[0]
            best = head if (head.sent_at, head.seq) <= retained[0][:2] else retained[0][2]
        if self.n_backlog:
            front = self._backlog_front()
            assert front is not None and self.make_record is not None
            if best is None or front[0] < best.sent_at:
                # A detached entry of the backlog's first message (its seq sorts last).
                sent_at, message_id, body = front
                return Entry(_SNAPSHOT_SEQ, self.make_record(message_id, body, sent_at),
                             sent_at, None)
        return best

    def _retain(self, entry: Entry) -> None:
        """Index ``entry`` for retention: O(1) in send order, O(log n) otherwise."""
        fresh = self._fresh
        if not fresh or fresh[-1].sent_at <= entry.sent_at:
            fresh.append(entry)
        else:
            heapq.heappush(self._retained, (entry.sent_at, entry.seq, entry))


#: Messages per sealed backlog chunk.
_CHUNK = 1024
#: The seq of a detached backlog entry (see Ledger._snapshots): after every real seq.
_SNAPSHOT_SEQ = 1 << 62
_new = object.__new__


class _NoLane:
    """Marker: no lane can be served."""


#: (lock_groups) "nothing of this lane is in flight": every visible message may go out.
_NO_BLOCK = float("inf")


_NO_LANE = _NoLane()


class _Key:
    """Wraps a lane key so ``(seq, key)`` tuples never compare keys of different types."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable | None) -> None:
        self.key = key

    def __lt__(self, other: _Key) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def _seq_of(entry: Entry) -> int:
    return entry.seq


def _insert_by_seq(lane: deque[Entry], entry: Entry) -> None:
    """Insert keeping ``lane`` sorted by ``seq``; returns land near the front. O(k)."""
    if not lane or lane[-1].seq < entry.seq:
        lane.append(entry)
        return
    for i, other in enumerate(lane):
        if other.seq > entry.seq:
            lane.insert(i, entry)
            return
    lane.append(entry)  # pragma: no cover - unreachable: the tail check above covers it
