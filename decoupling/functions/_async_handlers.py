"""Async handlers on virtual time: each awaitable a handler returns runs to completion on a
fresh asyncio loop whose clock is the invocation's (virtual on a ManualClock, where idle waits
jump to the next timer), cancelled at the function's timeout.

Its own module so that ``asyncio`` loads only when a handler is ``async``
(:mod:`decoupling.functions.invocation` imports it on first use).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Mapping
from typing import Any

from .context import _TimedOut, _Timing

__all__ = ["run_coroutine"]


class _VirtualSelector(selectors.BaseSelector):
    """A selector for an asyncio loop on virtual time: when nothing is ready it moves the loop's
    clock to the next timer instead of sleeping. Real I/O, if any is registered, gets up to
    ``guard`` real seconds first."""

    def __init__(self, start: float, guard: float) -> None:
        self._inner = selectors.DefaultSelector()
        self.now = start
        self.guard = guard

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if len(self._inner.get_map()) > 1:  # real I/O besides the loop's self-pipe
            wait = self.guard if timeout is None else min(timeout, self.guard)
            ready = self._inner.select(wait)
            if ready:
                return ready
        if timeout is not None:
            self.now += timeout
        return []


class _VirtualEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is virtual and jumps to the next timer when idle."""

    def __init__(self, start: float, guard: float) -> None:
        self._vsel = _VirtualSelector(start, guard)
        super().__init__(self._vsel)

    def time(self) -> float:
        return self._vsel.now


def run_coroutine(awaitable: Any, timing: _Timing, guard: float) -> Any:
    """Run an awaitable to completion on a fresh loop; raise ``_TimedOut`` at the deadline."""
    if timing.virtual:
        aloop: asyncio.AbstractEventLoop = _VirtualEventLoop(timing.start, guard)
        timing.aloop = aloop
        deadline = timing.deadline
    else:
        aloop = asyncio.new_event_loop()
        deadline = aloop.time() + (timing.deadline - timing.clock.now())
    timed_out = False

    async def main() -> Any:
        return await awaitable

    task = aloop.create_task(main())

    def on_deadline() -> None:
        nonlocal timed_out
        if not task.done():
            timed_out = True
            task.cancel()

    aloop.call_at(deadline, on_deadline)
    try:
        return aloop.run_until_complete(task)
    except asyncio.CancelledError:
        if timed_out:
            raise _TimedOut() from None
        raise
    finally:
        try:
            for pending in asyncio.all_tasks(aloop):
                pending.cancel()
            aloop.run_until_complete(aloop.shutdown_asyncgens())
        finally:
            if timing.virtual:
                timing.elapsed = min(aloop.time(), timing.deadline) - timing.start
                timing.aloop = None
            aloop.close()
