"""An expiring map: keys remembered until a deadline, forgotten lazily, never by a scan.

FIFO queues remember three kinds of keys for a limited time:

* message deduplication ids, for 5 minutes after the first send (the deduplication interval);
* ``ReceiveRequestAttemptId`` values, for 5 minutes after the receive that used them;
* receipt handles of messages deleted while their visibility timeout ran, until that timeout
  ends (so a retried delete succeeds while the handle is still valid).

:class:`ExpiringMap` holds ``key -> (expires_at, value)`` in a ``dict`` and the same pairs in a
heap ordered by expiry. Lookups and inserts first drop what has expired by popping the top of the
heap, so the cost of forgetting is paid once per key, O(log n), and a lookup with nothing expired
is O(1). A key re-added before or after it expired leaves its old heap item behind; that item is
recognised as stale (its expiry no longer matches the dict) and skipped when it reaches the top.
Times are seconds on the loop's clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["ExpiringMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """A mapping whose entries vanish at their own expiry time.

    An entry is live while ``now < expires_at``: at exactly ``expires_at`` it is gone.
    """

    __slots__ = ("_items", "_heap", "_tie")

    def __init__(self) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._tie = itertools.count()

    def __len__(self) -> int:
        """Entries held, including any that expired but were not yet dropped. O(1)."""
        return len(self._items)

    def expire(self, now: float) -> None:
        """Drop every entry whose expiry is at or before ``now``.

        O(1) when nothing expired, else O(k log n) for k heap items popped.
        """
        heap = self._heap
        if not heap or heap[0][0] > now:
            return
        items = self._items
        pop = heapq.heappop
        while heap and heap[0][0] <= now:
            expires_at, _, key = pop(heap)
            current = items.get(key)
            if current is not None and current[0] == expires_at:
                del items[key]

    def get(self, key: K, now: float) -> V | None:
        """The value of a live ``key`` at time ``now``, or ``None``. O(1) amortized."""
        self.expire(now)
        item = self._items.get(key)
        return None if item is None else item[1]

    def put(self, key: K, value: V, expires_at: float, now: float) -> None:
        """Remember ``key -> value`` until ``expires_at`` (replacing any earlier entry). O(log n)."""
        self.expire(now)
        self._items[key] = (expires_at, value)
        heapq.heappush(self._heap, (expires_at, next(self._tie), key))
        if len(self._heap) > 2 * len(self._items) + 1024:
            self._rebuild()

    def pop(self, key: K) -> V | None:
        """Forget ``key`` now; return its value if it was held. O(1) (its heap item goes stale)."""
        item = self._items.pop(key, None)
        return None if item is None else item[1]

    def clear(self) -> None:
        """Forget everything. O(1)."""
        self._items = {}
        self._heap = []

    def keys(self) -> Iterator[K]:
        """The keys held (live or not yet dropped), in no particular order."""
        return iter(list(self._items))

    def _rebuild(self) -> None:
        # Too many stale heap items (keys popped or replaced): rebuild from the dict. O(n),
        # paid at most once per n replacements, so amortized O(1).
        tie = self._tie
        self._heap = [(exp, next(tie), key) for key, (exp, _) in self._items.items()]
        heapq.heapify(self._heap)
