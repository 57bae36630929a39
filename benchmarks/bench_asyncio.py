"""asyncio tasks through a queue, beside ``asyncio.Queue`` in the same layout (issue #17).

Two producer tasks and two consumer tasks on one asyncio loop move N messages:

* ``asyncio.Queue``: ``await put(body)`` / ``await get()``, one message a call;
* ``dc.Queue`` (real clock): ``await send_async(body)`` per message; consumers
  ``await receive_async(10, wait_seconds=20)`` and ``await delete_batch_async(handles)`` (as
  SQS consumers receive and acknowledge: the target's figure), or ``receive_async(1)`` and
  ``delete_async`` (one message a call, as ``asyncio.Queue``; printed beside it) — the whole
  SQS cycle either way;
* the floor under both: the same calls as the batch-10 consumer on the blocking API in one
  thread, no asyncio (blocks of 100 sends, then receives until empty).

Each producer sends N/2 messages, yielding to the loop every 100; the consumers stop when N
have been consumed (the last one ends the other's wait with a sentinel message, as an
``asyncio.Queue`` consumer is sent ``None``). The four run in interleaved rounds (harness
:func:`interleaved`, CPU seconds of this process), and each figure's ratio to
``asyncio.Queue`` is the median of the per-round ratios. Target: ``receive_async`` with
``max_messages=10`` moves >= 0.25x what ``asyncio.Queue`` moves (the issue measured 0.06-0.07x
with a thread per wait); the one-a-call figure is printed beside it, and the blocking floor
says how much of the gap is the asyncio face and how much the SQS cycle itself.

Run: ``python benchmarks/bench_asyncio.py`` (about 10 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from _harness import REPEATS, emit, fmt, interleaved, paired_ratio, table

import decoupling as dc

BODY = "x" * 100
STOP = "stop"


async def _stdlib(n: int) -> int:
    q: asyncio.Queue[str | None] = asyncio.Queue()
    consumed = [0]

    async def producer() -> None:
        for i in range(n // 2):
            await q.put(BODY)
            if i % 100 == 0:
                await asyncio.sleep(0)

    async def consumer() -> None:
        while True:
            body = await q.get()
            if body is None:
                return
            consumed[0] += 1
            if consumed[0] == n:
                await q.put(None)  # the other consumer is waiting: end it
                return

    await asyncio.gather(producer(), producer(), consumer(), consumer())
    return consumed[0]


async def _ours(n: int, batch: int) -> int:
    loop = dc.EventLoop()
    q = dc.Queue(loop, "aio")
    consumed = [0]

    async def producer() -> None:
        for i in range(n // 2):
            await q.send_async(BODY)
            if i % 100 == 0:
                await asyncio.sleep(0)

    async def consumer() -> None:
        while True:
            got = await q.receive_async(batch, wait_seconds=20)
            if not got:  # a long poll that outlasted its 20 s (a very slow run): poll again
                continue
            if batch == 1:
                for m in got:
                    await q.delete_async(m.receipt_handle)
            else:
                await q.delete_batch_async([m.receipt_handle for m in got])
            for m in got:
                if m.body == STOP:
                    return
                consumed[0] += 1
                if consumed[0] == n:
                    await q.send_async(STOP)  # the other consumer is waiting: end it
                    return

    await asyncio.gather(producer(), producer(), consumer(), consumer())
    loop.stop()
    return consumed[0]


def _blocking(n: int) -> int:
    """The floor under the asyncio figures: the same calls on the blocking API in one thread
    (blocks of 100 sends, then receives of 10 and batch deletes until they are gone)."""
    loop = dc.EventLoop()
    q = dc.Queue(loop, "blocking")
    send, receive, delete_batch = q.send, q.receive, q.delete_batch
    consumed = 0
    for _ in range(n // 100):
        for _ in range(100):
            send(BODY)
        while got := receive(10):
            delete_batch([m.receipt_handle for m in got])
            consumed += len(got)
    loop.stop()
    return consumed


def _contender(make: Callable[[], object]) -> Callable[[], int]:
    def run() -> int:
        result = asyncio.run(make())  # type: ignore[arg-type]
        assert isinstance(result, int)
        return result

    return run


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    n = 20_000 if quick else 40_000  # receive_async(1): ~0.6 s a round
    samples = interleaved(
        {
            "asyncio.Queue": _contender(lambda: _stdlib(n)),
            "receive_async(10)": _contender(lambda: _ours(n, 10)),
            "receive_async(1)": _contender(lambda: _ours(n, 1)),
            "blocking": lambda: _blocking(n),
        },
        rounds=REPEATS,
    )

    def median(name: str) -> float:
        values = sorted(samples[name])
        return values[len(values) // 2]

    ratio10 = paired_ratio(samples, "receive_async(10)", "asyncio.Queue")
    ratio1 = paired_ratio(samples, "receive_async(1)", "asyncio.Queue")
    floor = paired_ratio(samples, "blocking", "asyncio.Queue")
    overhead = paired_ratio(samples, "receive_async(10)", "blocking")
    table(
        f"asyncio: 2 producer + 2 consumer tasks, {n:,} messages (median of {REPEATS} rounds)",
        [
            ("contender", "messages/s", "ratio to asyncio.Queue (same rounds)"),
            ("asyncio.Queue put/get", fmt(median("asyncio.Queue")), "1.00x"),
            ("dc.Queue receive_async(10) + delete_batch_async",
             fmt(median("receive_async(10)")), f"{ratio10:.2f}x; target >= 0.25x"),
            ("dc.Queue receive_async(1) + delete_async", fmt(median("receive_async(1)")),
             f"{ratio1:.2f}x"),
            ("same calls as (10), blocking API, one thread", fmt(median("blocking")),
             f"{floor:.2f}x (the asyncio face runs at {overhead:.2f}x of it)"),
        ],
    )
    figures = {
        "asyncio_2x2_batch10_msgs_per_s": round(median("receive_async(10)")),
        "asyncio_2x2_single_msgs_per_s": round(median("receive_async(1)")),
        "stdlib_asyncio_queue_2x2_msgs_per_s": round(median("asyncio.Queue")),
        "ratio_to_asyncio_queue_batch10": round(ratio10, 3),
        "ratio_to_asyncio_queue_single": round(ratio1, 3),
        "blocking_floor_msgs_per_s": round(median("blocking")),
        "blocking_floor_ratio_to_asyncio_queue": round(floor, 3),
        "asyncio_vs_blocking_batch10": round(overhead, 3),
    }
    emit("asyncio", **figures)
    return figures


if __name__ == "__main__":
    main()
