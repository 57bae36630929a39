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

Deadlines: on a real clock an asyncio waiter's deadline is an asyncio timer
(``call_later``). On a :class:`~decoupling.ManualClock` advancing the clock wakes every waiter
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
from typing import TYPE_CHECKING, Any

from .clock import ManualClock

if TYPE_CHECKING:
    import asyncio

    from .loop import EventLoop

__all__ = ["Waiters", "AsyncWaiter"]


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

    __slots__ = ("cond", "future", "aloop", "thread", "until", "woken", "timer")

    def __init__(self, cond: Waiters, aloop: asyncio.AbstractEventLoop, until: float) -> None:
        self.cond = cond
        self.aloop = aloop
        self.future: asyncio.Future[None] = aloop.create_future()
        self.thread = threading.get_ident()
        self.until = until
        self.woken = False
        self.timer: asyncio.TimerHandle | None = None

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
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
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


def _expire(waiter: AsyncWaiter) -> None:
    """A real-clock deadline (an asyncio timer, in the waiter's own asyncio loop)."""
    waiter.timer = None
    _resolve(waiter.future)


def new_async_waiter(loop: EventLoop, cond: Waiters, until: float) -> AsyncWaiter:
    """Register the running asyncio task as a waiter on ``cond`` until ``until`` (lock held)."""
    import asyncio

    aloop = asyncio.get_running_loop()
    waiter = AsyncWaiter(cond, aloop, until)
    cond._tasks.append(waiter)
    clock = loop.clock
    if isinstance(clock, ManualClock):
        threshold = clock.autojump_threshold
        if threshold is not None:
            _jump_when_idle(loop, waiter, threshold)
        return waiter
    delay = until - clock.now()
    store = loop._store
    if store is not None:  # shared stores: look for other processes' news now and then
        delay = store._wait_cap(delay)
    waiter.timer = aloop.call_later(max(delay, 0.0), _expire, waiter)
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
