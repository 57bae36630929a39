"""Waiting on a loop: threads block on a condition, asyncio tasks await a future beside them.

A :class:`Waiters` is the condition a resource's blocking calls wait on (on the loop's one
lock). It also holds *asyncio waiters*: one future per waiting task, on the asyncio loop that
task runs on. ``notify(n)`` wakes ``n`` threads and ``n`` asyncio waiters, ``notify_all()``
every one of both; a future is resolved directly in its own asyncio loop's thread and through
``call_soon_threadsafe`` from any other. No thread is started for an asyncio waiter.

The future carries nothing but "look again": a woken task takes its messages itself, when it
runs in its own asyncio loop, with the lock held. A task cancelled before it runs therefore
takes nothing, and :meth:`AsyncWaiter.abandon` passes a wake-up it had received on to the next
waiter, so none is lost (the idea of ``asyncio.Queue``'s getters, written for a condition that
threads share).

Deadlines: on a real clock an asyncio waiter's deadline waits in a heap kept per asyncio loop
(:class:`_Deadlines`), under one asyncio timer set for its earliest entry: a wait that ends
early (the common case: a send wakes it) costs a heap push and no timer of its own, and
finished entries leave the heap from its top or in a compaction (so it holds at most about
twice the live waiters). On a :class:`~decoupling.ManualClock` advancing the clock wakes every waiter
(as it wakes threads), and with auto-jump on, a waiter whose asyncio loop has nothing else
ready to run moves virtual time to the earlier of its deadline and the loop's next due timer —
what a blocked thread does (:meth:`decoupling.EventLoop._wait`). The check that the asyncio
loop is idle reads the ready queue of CPython's event loops (``_ready``); on a loop without
one, it jumps one pass of the loop after the waiter began.

``asyncio`` is imported only when a task first waits.
"""

from __future__ import annotations

import threading
from collections import deque
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any

from .clock import ManualClock

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from .loop import EventLoop

__all__ = ["Waiters", "AsyncWaiter"]

# asyncio.get_running_loop, once a task first waits (asyncio is imported then, not before).
_get_running_loop: Callable[[], asyncio.AbstractEventLoop] | None = None


class Waiters(threading.Condition):
    """A condition on the loop's lock that wakes asyncio waiters as well as threads.

    Every method is called with the lock held, as ``threading.Condition`` requires.
    """

    def __init__(self, lock: Any) -> None:
        super().__init__(lock)
        self._tasks: deque[AsyncWaiter] = deque()

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiting threads and up to ``n`` asyncio waiters."""
        if self._waiters:  # type: ignore[attr-defined]
            super().notify(n)
        tasks = self._tasks
        while n > 0 and tasks:
            if tasks.popleft()._wake():
                n -= 1

    def notify_all(self) -> None:
        """Wake every waiting thread and asyncio waiter."""
        super().notify(len(self._waiters))  # type: ignore[attr-defined]
        tasks = self._tasks
        while tasks:
            tasks.popleft()._wake()

    @property
    def async_waiting(self) -> int:
        """Asyncio waiters not woken yet."""
        return len(self._tasks)


class AsyncWaiter:
    """One asyncio task waiting on a :class:`Waiters` until ``until`` (loop clock seconds).

    Made by :meth:`decoupling.EventLoop._async_waiter` with the lock held; the task then
    releases the lock, awaits :attr:`future`, takes the lock again and calls :meth:`finish`
    (woken) or :meth:`abandon` (cancelled).
    """

    __slots__ = ("cond", "future", "aloop", "thread", "until", "woken", "deadlines")

    def __init__(self, cond: Waiters, aloop: asyncio.AbstractEventLoop, until: float) -> None:
        self.cond = cond
        self.aloop = aloop
        self.future: asyncio.Future[None] = aloop.create_future()
        self.thread = threading.get_ident()
        self.until = until
        self.woken = False
        # The heap holding this waiter's real-clock deadline while it is pending there.
        self.deadlines: _Deadlines | None = None

    def _wake(self) -> bool:
        """Resolve the future (lock held); ``False`` if its task is gone already."""
        future = self.future
        if future.done():
            return False
        self.woken = True
        if threading.get_ident() == self.thread:
            future.set_result(None)
            return True
        try:
            self.aloop.call_soon_threadsafe(_resolve, future)
        except RuntimeError:  # its asyncio loop is closed: nobody is waiting any more
            return False
        return True

    def finish(self) -> None:
        """The task runs again (lock held): forget the waiter wherever it is still listed."""
        deadlines = self.deadlines
        if deadlines is not None:
            self.deadlines = None
            deadlines.forget()
        if not self.woken:  # woken by its own deadline: still in the condition's list
            self.woken = True
            try:
                self.cond._tasks.remove(self)
            except ValueError:
                pass

    def abandon(self) -> None:
        """The task was cancelled (lock held): forget the waiter, and pass a wake-up it had
        received on to another waiter, which may take the message this one will not."""
        woken = self.woken
        self.finish()
        if woken:
            self.cond.notify(1)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Deadlines:
    """The real-clock deadlines of one asyncio loop's waiters on one :class:`EventLoop`: a
    heap of ``(when, seq, waiter)`` under one asyncio timer set at or before its earliest
    live entry. Touched with the loop's lock held (the timer takes it).

    An entry whose waiter finished stays until it reaches the top (popped then) or until
    finished entries outnumber the live ones (compaction): O(log n) a wait, amortised."""

    __slots__ = ("heap", "seq", "stale", "armed", "timer")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, AsyncWaiter]] = []
        self.seq = 0
        self.stale = 0  # entries whose waiter finished
        self.armed = 0.0  # clock time the timer is set for (when ``timer`` is not None)
        self.timer: asyncio.TimerHandle | None = None

    def forget(self) -> None:
        """One entry's waiter finished (lock held): drop what is finished at the top, and
        compact the heap once finished entries are the majority."""
        self.stale += 1
        heap = self.heap
        while heap and heap[0][2].deadlines is None:
            heappop(heap)
            self.stale -= 1
        if self.stale > 32 and 2 * self.stale > len(heap):
            heap[:] = [entry for entry in heap if entry[2].deadlines is not None]
            heapify(heap)
            self.stale = 0


def _add_deadline(
    loop: EventLoop, waiter: AsyncWaiter, aloop: asyncio.AbstractEventLoop, when: float,
    now: float,
) -> None:
    """File ``waiter``'s real-clock deadline ``when`` (loop clock seconds; lock held)."""
    table = loop._async_deadlines
    deadlines = table.get(aloop)
    if deadlines is None:
        # Forget the heaps of closed asyncio loops (their entries hold them alive).
        for other in [a for a in table if a.is_closed()]:
            del table[other]
        deadlines = table[aloop] = _Deadlines()
    seq = deadlines.seq
    deadlines.seq = seq + 1
    heappush(deadlines.heap, (when, seq, waiter))
    waiter.deadlines = deadlines
    if deadlines.timer is None or when < deadlines.armed:
        if deadlines.timer is not None:
            deadlines.timer.cancel()
        deadlines.armed = when
        deadlines.timer = aloop.call_later(max(when - now, 0.0), _expire, loop, aloop)


def _expire(loop: EventLoop, aloop: asyncio.AbstractEventLoop) -> None:
    """The deadlines timer of ``aloop`` (in that loop's thread): wake the waiters whose
    deadline has come, and set the timer again for the next one."""
    with loop._lock:
        table = loop._async_deadlines
        deadlines = table.get(aloop)
        if deadlines is None:
            return
        deadlines.timer = None
        heap = deadlines.heap
        now = loop.clock.now()
        while heap:
            when, _, waiter = heap[0]
            if waiter.deadlines is None:  # finished already
                heappop(heap)
                deadlines.stale -= 1
                continue
            if when > now:
                break
            heappop(heap)
            waiter.deadlines = None
            _resolve(waiter.future)
        if not heap:
            del table[aloop]
            return
        when = heap[0][0]
        deadlines.armed = when
        deadlines.timer = aloop.call_later(max(when - now, 0.0), _expire, loop, aloop)


def new_async_waiter(loop: EventLoop, cond: Waiters, until: float) -> AsyncWaiter:
    """Register the running asyncio task as a waiter on ``cond`` until ``until`` (lock held)."""
    global _get_running_loop
    if _get_running_loop is None:
        import asyncio

        _get_running_loop = asyncio.get_running_loop
    aloop = _get_running_loop()
    waiter = AsyncWaiter(cond, aloop, until)
    cond._tasks.append(waiter)
    clock = loop.clock
    if isinstance(clock, ManualClock):
        threshold = clock.autojump_threshold
        if threshold is not None:
            _jump_when_idle(loop, waiter, threshold)
        return waiter
    now = clock.now()
    store = loop._store
    if store is not None:  # shared stores: look for other processes' news now and then
        until = now + store._wait_cap(until - now)
    _add_deadline(loop, waiter, aloop, until, now)
    return waiter


def _jump_when_idle(loop: EventLoop, waiter: AsyncWaiter, threshold: float) -> None:
    """Have virtual time jump for ``waiter`` once its asyncio loop has nothing else ready
    (after ``threshold`` real seconds). One pending check per asyncio loop serves all its
    waiters: two checks would each see the other ready and never find the loop idle."""
    aloop = waiter.aloop
    pending = loop._idle_jumps.get(aloop)
    if pending is not None:
        pending.append(waiter)
        return
    loop._idle_jumps[aloop] = [waiter]
    if threshold > 0:
        aloop.call_later(threshold, _idle_check, loop, aloop)
    else:
        aloop.call_soon(_idle_check, loop, aloop)


def _idle_check(loop: EventLoop, aloop: asyncio.AbstractEventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, ManualClock)
    with loop._lock:
        waiters = loop._idle_jumps.get(aloop)
        if waiters:
            waiters[:] = [w for w in waiters if not w.woken and not w.future.done()]
        if not waiters:  # every waiter was woken or cancelled meanwhile: nothing to jump for
            loop._idle_jumps.pop(aloop, None)
            return
        if getattr(aloop, "_ready", None):
            # Other callbacks can still run (and may send): let them go first.
            aloop.call_soon(_idle_check, loop, aloop)
            return
        del loop._idle_jumps[aloop]
        target = min(w.until for w in waiters)
        due = loop.next_timer_due()
        if due is not None and due < target:
            target = due
        # As a blocked thread does: if another thread is advancing the clock, it wakes every
        # waiter when it is done, and they plan again.
        clock._try_advance_to(target)
