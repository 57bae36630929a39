"""Threads: producers and consumers share queues; every message is handled exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

import decoupling as dc

PRODUCERS = 4
CONSUMERS = 4
PER_PRODUCER = 500


@pytest.mark.realtime
def test_producers_and_consumers_on_the_real_clock() -> None:
    with dc.EventLoop() as loop:
        q = dc.Queue(loop, "work", visibility_timeout=30)
        received: Counter[str] = Counter()
        lock = threading.Lock()
        failures: list[BaseException] = []
        produced = threading.Event()
        total = PRODUCERS * PER_PRODUCER

        def producer(p: int) -> None:
            try:
                for i in range(0, PER_PRODUCER, 10):
                    if i % 20:
                        for j in range(i, i + 10):
                            q.send(f"{p}-{j}")
                    else:
                        result = q.send_batch([f"{p}-{j}" for j in range(i, i + 10)])
                        assert result.failed == []
            except BaseException as error:
                failures.append(error)

        def consumer() -> None:
            try:
                while True:
                    batch = q.receive(max_messages=10, wait_seconds=1)
                    if not batch:
                        if produced.is_set() and len(q) == 0:
                            return
                        continue
                    deleted = q.delete_batch([m.receipt_handle for m in batch])
                    assert deleted.failed == []
                    with lock:
                        received.update(m.body for m in batch)
            except BaseException as error:
                failures.append(error)

        started = time.monotonic()
        consumers = [threading.Thread(target=consumer) for _ in range(CONSUMERS)]
        producers = [threading.Thread(target=producer, args=(p,)) for p in range(PRODUCERS)]
        for thread in consumers + producers:
            thread.start()
        for thread in producers:
            thread.join(20)
        produced.set()
        for thread in consumers:
            thread.join(20)
        elapsed = time.monotonic() - started

    assert failures == []
    assert not any(t.is_alive() for t in consumers + producers)
    assert sum(received.values()) == total
    assert set(received) == {f"{p}-{i}" for p in range(PRODUCERS) for i in range(PER_PRODUCER)}
    assert max(received.values()) == 1  # nothing came twice: every delete was in time
    assert len(q) == 0
    assert elapsed < 20.0  # no message was stuck in flight (that takes its 30 s timeout)


@pytest.mark.realtime
def test_crashing_consumers_lose_nothing() -> None:
    with dc.EventLoop() as loop:
        q = dc.Queue(loop, "jobs", visibility_timeout=1)
        for i in range(0, 200, 10):
            q.send_batch([str(j) for j in range(i, i + 10)])
        done: Counter[str] = Counter()
        lock = threading.Lock()

        def consumer(worker: int) -> None:
            n = 0
            while True:
                batch = q.receive(max_messages=10, wait_seconds=1)
                if not batch:
                    if len(q) == 0:
                        return
                    continue
                n += 1
                if worker == 0 and n % 3 == 0:
                    # "crash": give the batch back at once, as a timeout would later
                    q.change_visibility_batch([
                        {"Id": str(k), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                        for k, m in enumerate(batch)
                    ])
                    continue
                for m in batch:
                    q.delete(m.receipt_handle)
                with lock:
                    done.update(m.body for m in batch)

        threads = [threading.Thread(target=consumer, args=(w,)) for w in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(3)
    assert not any(t.is_alive() for t in threads)
    assert sorted(done, key=int) == [str(i) for i in range(200)]
    assert max(done.values()) == 1


def test_threads_on_virtual_time_with_autojump_off() -> None:
    # A test thread drives virtual time; a worker long-polls three times.
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q", visibility_timeout=30)
    polls: list[tuple[float, list[tuple[str, int]]]] = []

    def worker() -> None:
        for _ in range(3):
            batch = q.receive(wait_seconds=20)
            polls.append((clock.now(), [(m.body, m.receive_count) for m in batch]))

    thread = threading.Thread(target=worker)

    def wait_for(n_polls: int) -> None:
        """Until the worker has finished n_polls polls and is blocked in the next one."""
        deadline = time.monotonic() + 2
        while not (len(polls) == n_polls and q._waiting) and time.monotonic() < deadline:
            thread.join(0.001)

    thread.start()
    wait_for(0)
    q.send("job")  # the first poll returns it at once; the worker never deletes it
    wait_for(1)
    clock.advance(20)  # the second poll ends empty at its deadline
    wait_for(2)
    clock.advance(10)  # the visibility timeout ends at 30: the third poll gets it again
    thread.join(2)
    assert not thread.is_alive()
    assert polls == [(0.0, [("job", 1)]), (20.0, []), (30.0, [("job", 2)])]
