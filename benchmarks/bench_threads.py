"""Real-clock concurrency: long-poll wake-up latency, threads, and the asyncio face.

Figures:

* a long poll blocked in one thread wakes after a send in another: median and p99 of the time
  from ``send`` returning to ``receive`` returning (targets: median < 0.5 ms, p99 < 5 ms),
  beside the same hand-off through ``queue.Queue``;
* 4 producer + 4 consumer threads on one queue, consumers taking up to 10 a call (receive and
  delete_batch): messages/s total, beside ``queue.Queue`` with the same threads and batch size
  in interleaved rounds (issue #23: >= 0.5x of it, the median of per-round ratios);
* asyncio producer/consumer tasks through ``send_async``/``receive_async``: messages/s (target
  >= 50,000), beside ``asyncio.Queue``.

Run: ``python benchmarks/bench_threads.py`` (about 30 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import asyncio
import queue as stdlib_queue
import statistics
import sys
import threading
import time
from collections.abc import Callable

from _harness import REPEATS, emit, fmt, table

import decoupling as dc

BODY = "x" * 100


def _wake_latency(make: Callable[[], tuple[Callable[[], None], Callable[[], None]]],
                  rounds: int) -> tuple[float, float]:
    """Median and p99 seconds from a send to the blocked receiver's return."""
    send, receive = make()
    sent_at = [0.0]
    woke: list[float] = []
    ready = threading.Event()
    done = threading.Event()

    def consumer() -> None:
        for _ in range(rounds):
            ready.set()
            receive()
            woke.append(time.perf_counter() - sent_at[0])
        done.set()

    thread = threading.Thread(target=consumer)
    thread.start()
    for _ in range(rounds):
        ready.wait()
        ready.clear()
        time.sleep(0.0005)  # let the consumer block in its receive
        sent_at[0] = time.perf_counter()
        send()
        while len(woke) < _ + 1 and not done.is_set():
            time.sleep(0)
    thread.join()
    woke.sort()
    return statistics.median(woke), woke[int(len(woke) * 0.99) - 1]


def ours_wake() -> tuple[Callable[[], None], Callable[[], None]]:
    loop = dc.EventLoop()
    q = dc.Queue(loop, "wake")

    def receive() -> None:
        while True:
            got = q.receive(wait_seconds=20)
            if got:
                q.delete(got[0].receipt_handle)
                return

    return (lambda: (q.send(BODY), None)[1]), receive


def stdlib_wake() -> tuple[Callable[[], None], Callable[[], None]]:
    q: stdlib_queue.Queue[str] = stdlib_queue.Queue()
    return (lambda: q.put(BODY)), (lambda: (q.get(), None)[1])


def _one_threads_run(per_producer: int, send: Callable[[], None],
                     consume: Callable[[], int]) -> float:
    """Messages/s with 4 producers and 4 consumers, until the last message is consumed."""
    total = per_producer * 4
    consumed = [0]
    finished = [0.0]  # when the last message was consumed (idle waiters then time out)
    lock = threading.Lock()

    def producer() -> None:
        for _ in range(per_producer):
            send()

    def consumer() -> None:
        while True:
            with lock:
                if consumed[0] >= total:
                    return
            got = consume()
            if got:
                with lock:
                    consumed[0] += got
                    if consumed[0] == total:
                        finished[0] = time.perf_counter()

    producers = [threading.Thread(target=producer) for _ in range(4)]
    consumers = [threading.Thread(target=consumer) for _ in range(4)]
    start = time.perf_counter()
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    # The timing ends when the last message is consumed. A consumer still blocked in its
    # long poll then (ours waits up to 1 s, queue.Queue's 50 ms) is woken by one more message,
    # untimed, instead of idling out its wait (6 s of each full run's 18).
    for t in consumers:
        while t.is_alive():
            with lock:
                done = consumed[0] >= total
            if done:
                send()
            t.join(0.002 if done else 0.01)
    return total / (finished[0] - start)


def ours_threads() -> tuple[Callable[[], None], Callable[[], int]]:
    loop = dc.EventLoop()
    q = dc.Queue(loop, "threads")

    def consume() -> int:
        got = q.receive(10, wait_seconds=1)  # as SQS consumers do: up to 10 per call
        if got:
            q.delete_batch([m.receipt_handle for m in got])
        return len(got)

    return (lambda: (q.send(BODY), None)[1]), consume


def stdlib_threads() -> tuple[Callable[[], None], Callable[[], int]]:
    q: stdlib_queue.Queue[str] = stdlib_queue.Queue()

    def consume() -> int:
        # The same batch size as ours (issue #23): up to 10 a call, waiting for the first.
        try:
            q.get(timeout=0.05)
        except stdlib_queue.Empty:
            return 0
        got = 1
        while got < 10:
            try:
                q.get_nowait()
            except stdlib_queue.Empty:
                break
            got += 1
        return got

    return (lambda: q.put(BODY)), consume


async def _async_ours(n: int) -> float:
    loop = dc.EventLoop()
    q = dc.Queue(loop, "aio")

    async def producer() -> None:
        for i in range(n):
            await q.send_async(BODY)
            if i % 100 == 0:
                await asyncio.sleep(0)

    async def consumer() -> None:
        got = 0
        while got < n:
            for m in await q.receive_async(10, wait_seconds=1):
                await q.delete_async(m.receipt_handle)
                got += 1

    start = time.perf_counter()
    await asyncio.gather(producer(), consumer())
    elapsed = time.perf_counter() - start
    loop.stop()
    return n / elapsed


async def _async_stdlib(n: int) -> float:
    q: asyncio.Queue[str] = asyncio.Queue()

    async def producer() -> None:
        for _ in range(n):
            await q.put(BODY)

    async def consumer() -> None:
        for _ in range(n):
            await q.get()

    start = time.perf_counter()
    await asyncio.gather(producer(), consumer())
    return n / (time.perf_counter() - start)


def _median_async(fn: Callable[[int], object], n: int) -> float:
    rates = [asyncio.run(fn(n)) for _ in range(REPEATS + 1)]  # type: ignore[arg-type]
    return statistics.median(rates[1:])


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    rounds = 300 if quick else 1000
    ours_median, ours_p99 = _wake_latency(ours_wake, rounds)
    std_median, std_p99 = _wake_latency(stdlib_wake, rounds)
    per_producer = 2_500 if quick else 10_000
    # Interleaved rounds (ours, then queue.Queue, REPEATS times after a warm-up pair); the
    # ratio is the median of per-round ratios (issue #23: same layout, same batch size).
    ours_rates: list[float] = []
    std_rates: list[float] = []
    for round_ in range(REPEATS + 1):
        ours_one = _one_threads_run(per_producer, *ours_threads())
        std_one = _one_threads_run(per_producer, *stdlib_threads())
        if round_:
            ours_rates.append(ours_one)
            std_rates.append(std_one)
    ours_rate = statistics.median(ours_rates)
    std_rate = statistics.median(std_rates)
    threads_ratio = statistics.median(o / s for o, s in zip(ours_rates, std_rates, strict=True))
    n_async = 10_000 if quick else 20_000  # bench_asyncio.py has the paired asyncio figures
    aio_ours = _median_async(_async_ours, n_async)
    aio_std = _median_async(_async_stdlib, n_async)
    table(
        "Real clock: threads and asyncio",
        [
            ("figure", "ours", "baseline / target"),
            ("long-poll wake, median", f"{ours_median * 1000:.3f} ms",
             f"queue.Queue {std_median * 1000:.3f} ms; target < 0.5 ms"),
            ("long-poll wake, p99", f"{ours_p99 * 1000:.3f} ms",
             f"queue.Queue {std_p99 * 1000:.3f} ms; target < 5 ms"),
            ("4 producers + 4 consumers, up to 10 a receive", fmt(ours_rate, " msg/s"),
             f"queue.Queue {fmt(std_rate, ' msg/s')} (up to 10 a call): {threads_ratio:.2f}x "
             "of it, same rounds; target >= 0.5x"),
            ("asyncio tasks", fmt(aio_ours, " msg/s"),
             f"asyncio.Queue {fmt(aio_std, ' msg/s')}; target >= 50,000"),
        ],
    )
    figures = {
        "wake_median_ms": round(ours_median * 1000, 4),
        "wake_p99_ms": round(ours_p99 * 1000, 4),
        "stdlib_wake_median_ms": round(std_median * 1000, 4),
        "threads_4x4_msgs_per_s": round(ours_rate),
        "stdlib_threads_4x4_msgs_per_s": round(std_rate),
        "threads_4x4_ratio_to_queue_queue": round(threads_ratio, 3),
        "asyncio_msgs_per_s": round(aio_ours),
        "stdlib_asyncio_msgs_per_s": round(aio_std),
    }
    emit("threads", **figures)
    return figures


if __name__ == "__main__":
    main()
