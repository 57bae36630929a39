"""An expiring map: keys remembered until a deadline, forgotten lazily, never by a scan.

FIFO queues remember three kinds of keys for a limited time:

* message deduplication ids, for 5 minutes after the first send (the deduplication interval);
* ``ReceiveRequestAttemptId`` values, for 5 minutes after the receive that used them;
* receipt handles of messages deleted while their visibility timeout ran, until that timeout
  ends (so a retried delete succeeds while the handle is still valid).

:class:`ExpiringMap` holds ``key -> value`` and ``key -> expires_at`` in two ``dict`` s and the
keys ordered by expiry in two structures: a run that takes every insert whose expiry is not
earlier than the last one it took (with a fixed lifetime on a monotonic clock that is every
insert, O(1)), and a heap for the others (O(log n)). The run is two deques side by side,
expiries and keys, so an insert allocates no pair for it. Two dicts rather than one of
``(expires_at, value)`` pairs: with string or number keys and values an insert then creates no
object the garbage collector tracks, and both dicts stay untracked, so a window of millions of
ids costs the collector nothing (a pair per insert made FIFO's young collections run several
times as often as a standard queue's). Lookups and inserts first drop what
has expired by popping the fronts, so forgetting is paid once per key; the earliest expiry held
is kept as one number, so a lookup or insert with nothing expired pays a single comparison for
it. A key re-added before or after it expired leaves its old item behind; that item is
recognised as stale (its expiry no longer matches the dict) and skipped when it reaches the
front. Times are seconds on the loop's clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["ExpiringKeys", "ExpiringMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """A mapping whose entries vanish at their own expiry time.

    An entry is live while ``now < expires_at``: at exactly ``expires_at`` it is gone.
    """

    __slots__ = (
        "_values", "_expires", "_times", "_keys", "_last", "_heap", "_tie", "_due", "_countdown"
    )

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._expires: dict[K, float] = {}
        # The run: expiries in order (the common case) and their keys, side by side.
        self._times: deque[float] = deque()
        self._keys: deque[K] = deque()
        self._last = -_INF  # the newest expiry in the run (-inf: take anything)
        self._heap: list[tuple[float, int, K]] = []  # expiries that arrived out of order
        self._tie = itertools.count()
        # No held item expires before this (a lower bound; its item may be stale): until then
        # expire() has nothing to do, and get/put skip it after one comparison.
        self._due = _INF
        self._countdown = _CHECK_EVERY  # puts until the next look at the stale share

    def __len__(self) -> int:
        """Entries held, including any that expired but were not yet dropped. O(1)."""
        return len(self._values)

    def expire(self, now: float) -> None:
        """Drop every entry whose expiry is at or before ``now``.

        O(1) when nothing expired, else O(k) for k items (O(log n) more each for items that
        arrived out of order).
        """
        if now < self._due:
            return
        values, expires = self._values, self._expires
        times = self._times
        if times and times[0] <= now:
            pop_time, pop_key = times.popleft, self._keys.popleft
            while times and times[0] <= now:
                expires_at = pop_time()
                key = pop_key()
                if expires.get(key) == expires_at:
                    del expires[key], values[key]
            if not times:
                self._last = -_INF
        heap = self._heap
        if heap and heap[0][0] <= now:
            pop = heapq.heappop
            while heap and heap[0][0] <= now:
                expires_at, _, key = pop(heap)
                if expires.get(key) == expires_at:
                    del expires[key], values[key]
        self._due = min(times[0] if times else _INF, heap[0][0] if heap else _INF)

    def get(self, key: K, now: float) -> V | None:
        """The value of a live ``key`` at time ``now``, or ``None``. O(1) amortized."""
        if now >= self._due:
            self.expire(now)
        return self._values.get(key)

    def put(self, key: K, value: V, expires_at: float, now: float) -> None:
        """Remember ``key -> value`` until ``expires_at`` (replacing any earlier entry).

        O(1) amortized when ``expires_at`` is not earlier than the previous in-order insert's,
        else O(log n).
        """
        if now >= self._due:
            self.expire(now)
        self._values[key] = value
        self._expires[key] = expires_at
        self._track(key, expires_at)
        # A replaced key leaves a stale order item: look at their share now and then.
        self._countdown -= 1
        if self._countdown <= 0:
            self._countdown = _CHECK_EVERY
            if len(self._keys) + len(self._heap) > 2 * len(self._values) + 512:
                self._rebuild()

    def add(self, key: K, value: V, expires_at: float, now: float) -> V | None:
        """The value of a live ``key``, or else remember ``key -> value`` until ``expires_at``
        and return ``None``: :meth:`get` then :meth:`put` with one lookup of ``key``.
        O(1) amortized (O(log n) for an expiry earlier than the previous in-order insert's)."""
        if now >= self._due:
            self.expire(now)
        values = self._values
        if key in values:  # (every held item is live once expire() ran)
            return values[key]
        values[key] = value
        self._expires[key] = expires_at
        # A new key: no order item goes stale, so no look at the stale share either.
        if expires_at >= self._last:  # _track's common case, inline
            self._last = expires_at
            self._times.append(expires_at)
            self._keys.append(key)
            if expires_at < self._due:  # (only when the run was empty)
                self._due = expires_at
        else:
            self._track(key, expires_at)
        return None

    def _track(self, key: K, expires_at: float) -> None:
        # Order a new item for expiry: appended to the run when in order (the common case,
        # O(1)), else in the heap (O(log n)).
        if expires_at >= self._last:
            self._last = expires_at
            self._times.append(expires_at)
            self._keys.append(key)
            if expires_at < self._due:  # (only when the run was empty)
                self._due = expires_at
            return
        heapq.heappush(self._heap, (expires_at, next(self._tie), key))
        if expires_at < self._due:
            self._due = expires_at

    def pop(self, key: K) -> V | None:
        """Forget ``key`` now; return its value if it was held. O(1) (its item goes stale)."""
        self._expires.pop(key, None)
        return self._values.pop(key, None)

    def clear(self) -> None:
        """Forget everything. O(1)."""
        self._values = {}
        self._expires = {}
        self._times = deque()
        self._keys = deque()
        self._last = -_INF
        self._heap = []
        self._due = _INF

    def keys(self) -> Iterator[K]:
        """The keys held (live or not yet dropped), in no particular order."""
        return iter(list(self._values))

    def _rebuild(self) -> None:
        # Too many stale items (keys popped or replaced): rebuild from the dict, O(n log n),
        # at most once per n stale items, so O(log n) amortized per insert.
        pairs = [(exp, key) for key, exp in self._expires.items()]
        pairs.sort(key=_expiry)  # keys themselves need not be comparable
        self._times = deque([exp for exp, _ in pairs])
        self._keys = deque([key for _, key in pairs])
        self._last = pairs[-1][0] if pairs else -_INF
        self._heap = []
        self._due = pairs[0][0] if pairs else _INF


class ExpiringKeys(Generic[K]):
    """A set whose keys vanish at their own expiry time, for inserts that far outnumber lookups
    (a FIFO queue remembers the handle of every message deleted in flight, and is asked about
    one only when a delete is retried).

    An insert in expiry order (every insert, with one visibility timeout on a monotonic clock)
    is two deque appends: no dict, no object the garbage collector tracks. A lookup first
    indexes what was inserted since the last one in an :class:`ExpiringMap` and asks it; an
    insert out of expiry order goes to that map at once. Keys whose expiry has passed are
    dropped from the front as inserts go by. A key is live while ``now < expires_at``.
    """

    __slots__ = ("_times", "_keys", "_index")

    def __init__(self) -> None:
        # Inserted since the last lookup, in expiry order: expiries and keys side by side.
        self._times: deque[float] = deque()
        self._keys: deque[K] = deque()
        self._index: ExpiringMap[K, bool] = ExpiringMap()

    def add(self, key: K, expires_at: float, now: float) -> None:
        """Remember ``key`` until ``expires_at``. O(1) amortized in expiry order, else
        O(log n)."""
        times = self._times
        if times and times[-1] > expires_at:
            self._index.put(key, True, expires_at, now)  # out of order: indexed at once
            return
        times.append(expires_at)
        self._keys.append(key)
        if times[0] <= now:  # forget what expired, from the front
            pop_time, pop_key = times.popleft, self._keys.popleft
            while times and times[0] <= now:
                pop_time()
                pop_key()

    def contains(self, key: K, now: float) -> bool:
        """Whether ``key`` is live at time ``now``. O(k) for k keys inserted since the last
        lookup (each is indexed once), then O(1) amortized."""
        self._fold(now)
        return self._index.get(key, now) is not None

    def expiries(self, now: float) -> dict[K, float]:
        """Every key held with its expiry (some may have expired but not yet been dropped)."""
        self._fold(now)
        return dict(self._index._expires)

    def clear(self) -> None:
        """Forget everything. O(1)."""
        self._times = deque()
        self._keys = deque()
        self._index.clear()

    def _fold(self, now: float) -> None:
        # Index the keys inserted since the last lookup (in expiry order, so each put is O(1)).
        times, keys = self._times, self._keys
        if times:
            put = self._index.put
            for expires_at, key in zip(times, keys, strict=True):
                if expires_at > now:
                    put(key, True, expires_at, now)
            times.clear()
            keys.clear()


_INF = float("inf")
#: Puts between two looks at how much of the order structures is stale (a look costs a few
#: len() calls; between looks at most this many stale items pile up).
_CHECK_EVERY = 512


def _expiry(pair: tuple[float, object]) -> float:
    return pair[0]
