"""FifoQueue on the real clock: concurrent consumers that crash keep every group in order and
process each message exactly once."""

from __future__ import annotations

import os
import random
import sys
import threading
import time

import pytest

import decoupling as dc

GROUPS = ("a", "b", "c")
yield_cpu = getattr(os, "sched_yield", lambda: None)
PER_GROUP = 100


@pytest.mark.realtime
def test_four_crashing_consumers_keep_each_group_in_order_exactly_once() -> None:
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # make the four threads interleave finely (no sleeping)
    try:
        _run_four_crashing_consumers()
    finally:
        sys.setswitchinterval(switch)


def _run_four_crashing_consumers() -> None:
    with dc.EventLoop() as loop:
        queue = dc.FifoQueue(loop, "payments.fifo", visibility_timeout=30)
        for i in range(PER_GROUP):
            for group in GROUPS:
                queue.send(f"{group}-{i}", message_group_id=group,
                           message_deduplication_id=f"{group}-{i}")
        processed: dict[str, list[int]] = {g: [] for g in GROUPS}
        by_worker = [0, 0, 0, 0]
        crashes: list[int] = []
        failures: list[BaseException] = []
        start = threading.Barrier(4)
        # Set once two workers have each processed a message: the order checks below are then
        # checks of consumers that really ran concurrently.
        shared = threading.Event()

        def consumer(worker: int) -> None:
            rng = random.Random(worker)
            start.wait()
            try:
                while True:
                    batch = queue.receive(10, wait_seconds=2)
                    for k, message in enumerate(batch):
                        if message.body == "stop":
                            queue.delete(message.receipt_handle)
                            for other in batch[k + 1:]:  # leave the others their stop
                                queue.change_visibility(other.receipt_handle, 0)
                            return
                        if rng.random() < 0.08:
                            # "Crash" before processing message k: it and the rest of the batch
                            # are never deleted; returning them (in order) stands in for their
                            # visibility timeout running out.
                            for rest in batch[k:]:
                                queue.change_visibility(rest.receipt_handle, 0)
                            crashes.append(len(batch) - k)
                            break
                        group, index = message.body.split("-")
                        processed[group].append(int(index))
                        by_worker[worker] += 1
                        queue.delete(message.receipt_handle)
                        # Let the other threads in (releases the GIL, no waiting): a fast
                        # worker on a busy machine could otherwise drain all three groups alone.
                        yield_cpu()
                        if not shared.is_set() and sum(1 for n in by_worker if n) >= 2:
                            shared.set()
                        if sum(by_worker) == len(GROUPS) * PER_GROUP:
                            # All done: wake every long poll with one stop message each.
                            for n in range(4):
                                queue.send("stop", message_group_id=f"stop-{n}",
                                           message_deduplication_id=f"stop-{n}")
                    if by_worker[worker] and not shared.is_set():
                        # Between batches (holding nothing in flight), a worker that has done
                        # work lets another one in before it takes more: otherwise on a loaded
                        # machine the OS may run one fast worker through all three groups
                        # before the others are scheduled at all.
                        shared.wait(5)
            except BaseException as error:  # surfaced by the assertion below
                failures.append(error)

        started = time.monotonic()
        threads = [threading.Thread(target=consumer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        elapsed = time.monotonic() - started

    # Each assertion says what was seen, so that a failure on a loaded machine can be read.
    seen = f"by_worker={by_worker} crashes={len(crashes)} elapsed={elapsed:.2f}s"
    assert failures == [], seen
    assert not any(thread.is_alive() for thread in threads), seen
    for group in GROUPS:
        assert processed[group] == list(range(PER_GROUP)), (group, processed[group], seen)
    assert crashes  # some batches really did come back
    assert sum(1 for n in by_worker if n) >= 2, seen  # the work really was shared
    assert len(queue) == 0, (len(queue), seen)
    assert elapsed < 20.0, seen  # no group was stuck in flight (that takes its 30 s timeout)


@pytest.mark.realtime
def test_silent_crash_returns_the_group_after_the_visibility_timeout() -> None:
    with dc.EventLoop() as loop:
        queue = dc.FifoQueue(loop, "slow.fifo", content_based_deduplication=True)
        for i in range(5):
            queue.send(f"m{i}", message_group_id="g")
        crashed = queue.receive(3, visibility_timeout=1)  # then the worker dies
        assert [m.body for m in crashed] == ["m0", "m1", "m2"]
        started = time.monotonic()
        again = queue.receive(10, wait_seconds=20)
        waited = time.monotonic() - started
        assert [m.body for m in again] == ["m0", "m1", "m2", "m3", "m4"]
        assert [m.receive_count for m in again] == [2, 2, 2, 1, 1]
        assert 0.9 <= waited < 10  # at the 1 s timeout, not at the poll's 20 s deadline
