"""Message archiving and replay for FIFO topics.

Follows "Amazon SNS message archiving and replay for FIFO topics" and "Amazon SNS message
replay for FIFO topic subscribers" (https://docs.aws.amazon.com/sns/latest/dg/
message-archiving-and-replay-subscriber.html):

* A FIFO topic with ``ArchivePolicy`` ``{"MessageRetentionPeriod": "1".."365"}`` (days) keeps
  every accepted (non-duplicate) message for that long. ``BeginningArchiveTime`` is the
  earliest point a replay can start from: the later of when archiving began and
  now minus the retention period.
* Setting a subscription's ``ReplayPolicy`` (``{"PointType": "Timestamp", "StartingPoint":
  ..., "EndingPoint"?: ...}``) redelivers the archived messages published in that window, in
  order, with their original ``MessageId`` and ``Timestamp``, through the subscription's
  current filter policy, each marked replayed (the envelope carries ``"Replayed" : true``;
  AWS documents "a ``Replayed`` attribute" without its exact shape). ``ReplayStatus`` goes
  ``Pending`` -> ``In progress`` -> ``Completed`` (``Failed`` if the archive is switched off
  mid-way). Messages published while a replay runs are held and delivered after it, so the
  subscription sees the replay, then the live messages, in order. With an ``EndingPoint`` the
  subscription receives no newly published messages once the replay completes (as the API
  reference describes ``Completed``). A new replay policy replaces a running replay.

Expiry runs on the loop's clock and is lazy: the archive is a list in publish order with a
moving head, pruned on each publish and read. Finding a replay window is a binary search.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from .message import Published
from .policy import ReplayPolicy

if TYPE_CHECKING:
    from .subscription import Subscription

__all__ = ["Archive", "Replay", "REPLAY_CHUNK"]

DAY_MS = 86_400_000
#: Archived messages a replay delivers per loop callback (the rest follow at the same time).
REPLAY_CHUNK = 500


class Archive:
    """A FIFO topic's archive: messages in publish order, expiring after ``days``."""

    __slots__ = ("retention_ms", "enabled_ms", "_items", "_head")

    def __init__(self, days: int, enabled_ms: int) -> None:
        self.retention_ms = days * DAY_MS
        self.enabled_ms = enabled_ms
        self._items: list[Published] = []
        self._head = 0

    def prune(self, now_ms: int) -> None:
        """Drop messages older than the retention period. Amortized O(1) per message."""
        items = self._items
        cutoff = now_ms - self.retention_ms
        head = self._head
        while head < len(items) and items[head].wall_ms < cutoff:
            head += 1
        if head > 1024 and head * 2 > len(items):
            del items[:head]
            head = 0
        self._head = head

    def add(self, pub: Published) -> None:
        """Archive an accepted message (publish order is time order). O(1) amortized."""
        self.prune(pub.wall_ms)
        self._items.append(pub)

    def __len__(self) -> int:
        return len(self._items) - self._head

    def beginning_ms(self, now_ms: int) -> int:
        """``BeginningArchiveTime`` in epoch milliseconds."""
        return max(self.enabled_ms, now_ms - self.retention_ms)

    def window(self, start_ms: int, end_ms: int | None, now_ms: int) -> list[Published]:
        """Archived messages published in [start_ms, end_ms], in order. O(log n + k)."""
        self.prune(now_ms)
        items = self._items
        lo = bisect.bisect_left(items, start_ms, lo=self._head, key=_wall_ms)
        hi = len(items) if end_ms is None else bisect.bisect_right(items, end_ms, lo=lo,
                                                                    key=_wall_ms)
        return items[lo:hi]


def _wall_ms(pub: Published) -> int:
    return pub.wall_ms


class Replay:
    """One replay to one subscription: delivers archived messages on the loop, then releases
    the live messages held meanwhile."""

    __slots__ = ("sub", "policy", "_items", "_cursor", "_held", "_cancelled")

    def __init__(self, sub: Subscription, policy: ReplayPolicy) -> None:
        self.sub = sub
        self.policy = policy
        self._items: list[Published] | None = None
        self._cursor = 0
        self._held: list[Published] = []
        self._cancelled = False

    def start(self) -> None:
        """Take the replay window, hold live messages and schedule the replay (loop lock
        held). Messages published from now on are live ones, delivered after the replay."""
        sub = self.sub
        topic = sub.topic
        archive = topic._archive
        if archive is not None:
            self._items = archive.window(
                self.policy.starting_ms, self.policy.ending_ms, topic.loop.clock.wall_ms()
            )
        sub._replay_status = "Pending"
        sub._fan = self._hold
        topic._pending += 1
        topic.loop.call_later(0.0, self._step)

    def _hold(self, pub: Published, replayed: bool = False) -> None:
        self._held.append(pub)

    def cancel(self) -> list[Published]:
        """Stop (a newer replay replaces this one); return the live messages held so far."""
        self._cancelled = True
        held, self._held = self._held, []
        return held

    def _step(self) -> None:
        sub = self.sub
        topic = sub.topic
        with topic._lock:
            if self._cancelled or not sub._active:
                topic._job_done()
                return
            items = self._items
            if topic._archive is None or items is None:
                sub._replay_status = "Failed"
                self._release()
                return
            sub._replay_status = "In progress"
            stop = min(len(items), self._cursor + REPLAY_CHUNK)
            for index in range(self._cursor, stop):
                pub = items[index]
                if sub._matches(pub):
                    sub._live(pub, True)
            self._cursor = stop
            if stop < len(items):
                topic.loop.call_later(0.0, self._step)
                return
            sub._replay_status = "Completed"
            self._release()

    def _release(self) -> None:
        sub = self.sub
        held, self._held = self._held, []
        if self.policy.ending_ms is not None:
            sub._fan = _drop
        else:
            sub._restore_fan()
            for pub in held:
                sub._live(pub, False)
        if sub._replay is self:
            sub._replay = None
        sub.topic._job_done()


def _drop(pub: Published, replayed: bool = False) -> None:
    """A subscription whose replay had an ``EndingPoint`` receives no new messages."""
