"""ConsumerPool on the real clock: worker threads that run handlers in parallel, never delay the
loop's timers, scale by the target-tracking rule and drain on stop without losing a message."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

import decoupling as dc

pytestmark = pytest.mark.realtime


def _timed_run(workers: int, count: int, seconds: float) -> float:
    """Real seconds a pool of ``workers`` threads takes for ``count`` messages of a handler
    that blocks ``seconds``."""
    loop = dc.EventLoop()
    queue = dc.Queue(loop, "work")
    for i in range(count):
        queue.send(str(i))
    done = threading.Event()
    handled: list[str] = []
    guard = threading.Lock()

    def handler(message: dc.Message) -> None:
        time.sleep(seconds)
        with guard:
            handled.append(message.body)
            if len(handled) == count:
                done.set()

    started = time.monotonic()
    pool = dc.ConsumerPool(queue, handler, min_workers=workers, max_workers=workers,
                           batch_size=1)
    assert done.wait(10)
    elapsed = time.monotonic() - started
    assert pool.stop(drain=True, timeout=5) == 0
    assert sorted(handled, key=int) == [str(i) for i in range(count)]
    assert (pool.processed, pool.failed, len(queue)) == (count, 0, 0)
    loop.stop()
    return elapsed


def test_four_workers_block_in_parallel() -> None:
    # 4 workers with 4 times the messages take about as long as 1 worker (run one after the
    # other, they would take 4 times as long).
    one = _timed_run(1, 8, 0.05)
    four = _timed_run(4, 32, 0.05)
    assert four / one < 1.6, (one, four)


def _blocking_pool(queue: dc.Queue, release: threading.Event, entered: list[str],
                   started: threading.Event, **kwargs: object) -> dc.ConsumerPool:
    """A pool whose handler records the message and blocks until ``release`` is set."""
    guard = threading.Lock()

    def handler(message: dc.Message) -> None:
        with guard:
            entered.append(message.body)
        started.set()
        release.wait(5)

    return dc.ConsumerPool(queue, handler, **kwargs)  # type: ignore[arg-type]


def test_a_loop_timer_fires_on_time_while_four_workers_block() -> None:
    with dc.EventLoop() as loop:
        queue = dc.Queue(loop, "work")
        for i in range(4):
            queue.send(str(i))
        release = threading.Event()
        entered: list[str] = []
        fired: list[tuple[float, int]] = []
        fired_event = threading.Event()

        def timer() -> None:
            fired.append((loop.clock.now(), len(entered)))
            fired_event.set()

        pool = _blocking_pool(queue, release, entered, threading.Event(), min_workers=4,
                              max_workers=4, batch_size=1)
        scheduled = loop.clock.now()
        loop.call_later(0.2, timer)
        assert fired_event.wait(2)
        release.set()
        assert pool.stop(drain=True, timeout=5) == 0
    (when, blocked), = fired
    assert blocked == 4
    assert 0.2 <= when - scheduled < 0.3
    assert (pool.processed, len(queue)) == (4, 0)


def test_drain_finishes_the_handler_in_flight_and_releases_the_rest_at_once() -> None:
    with dc.EventLoop() as loop:
        queue = dc.Queue(loop, "work", visibility_timeout=600)
        queue.send_batch([str(i) for i in range(10)])
        third_started = threading.Event()
        release = threading.Event()
        handled: list[str] = []

        def handler(message: dc.Message) -> None:
            if message.body == "2":
                third_started.set()
                release.wait(5)
            handled.append(message.body)

        pool = dc.ConsumerPool(queue, handler, min_workers=1, max_workers=1, batch_size=10)
        assert third_started.wait(5)
        loop.call_later(0.1, release.set)  # the handler in flight ends after stop has begun
        assert pool.stop(drain=True, timeout=5) == 0
        # The three handled are deleted; the seven received but not started are visible now,
        # not after the 600-second visibility timeout.
        assert handled == ["0", "1", "2"]
        assert pool.processed == 3
        assert (queue.approximate_number_of_messages,
                queue.approximate_number_of_messages_not_visible) == (7, 0)
        again = queue.receive(10, wait_seconds=0)
        assert [m.body for m in again] == [str(i) for i in range(3, 10)]
        assert {m.receive_count for m in again} == {2}


def test_a_handler_past_the_drain_timeout_is_reported_and_its_message_kept() -> None:
    with dc.EventLoop() as loop:
        queue = dc.Queue(loop, "work", visibility_timeout=600)
        queue.send("slow")
        release = threading.Event()
        entered: list[str] = []
        started = threading.Event()
        pool = _blocking_pool(queue, release, entered, started, min_workers=1, max_workers=1)
        assert started.wait(5)
        assert pool.stop(drain=True, timeout=0.05) == 1  # one thread still running
        assert (len(queue), queue.approximate_number_of_messages_not_visible) == (1, 1)
        release.set()
        assert pool.stop(drain=True, timeout=5) == 0
        assert (entered, pool.processed, len(queue)) == (["slow"], 1, 0)


def test_idle_workers_wake_at_once_on_stop() -> None:
    with dc.EventLoop() as loop:
        queue = dc.Queue(loop, "idle")
        handled = threading.Event()
        pool = dc.ConsumerPool(queue, lambda m: handled.set(), min_workers=4, max_workers=4)
        queue.send("one")
        assert handled.wait(5)  # the threads are up; now all idle in their 20-second wait

        def pool_threads() -> int:
            return sum(t.name.startswith("decoupling-pool-idle-") for t in threading.enumerate())

        assert pool_threads() == 4
        started = time.monotonic()
        assert pool.stop(drain=True, timeout=15) == 0
        assert time.monotonic() - started < 10  # not their 20-second waits
        assert pool_threads() == 0


def test_a_failing_handler_leaves_the_message_for_redelivery_then_the_dlq() -> None:
    with dc.EventLoop() as loop:
        dlq = dc.Queue(loop, "work-dlq")
        queue = dc.Queue(loop, "work", visibility_timeout=0,
                         redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=2))
        attempts: list[int] = []

        def handler(message: dc.Message) -> None:
            attempts.append(message.receive_count)
            raise ValueError("cannot process")

        pool = dc.ConsumerPool(queue, handler, min_workers=1, max_workers=1)
        queue.send("bad")
        dead = dlq.receive(wait_seconds=5)
        assert pool.stop(drain=True, timeout=5) == 0
    assert [m.body for m in dead] == ["bad"]
    assert (attempts, pool.failed, pool.processed, len(queue)) == ([1, 2], 2, 0, 0)


def test_threads_follow_the_target_tracking_rule_and_stay_within_max_workers() -> None:
    with dc.EventLoop() as loop:
        queue = dc.Queue(loop, "work")
        queue.send_batch([str(i) for i in range(10)])
        queue.send_batch([str(i) for i in range(10, 12)])
        names: set[str] = set()
        done = threading.Event()
        guard = threading.Lock()
        handled: list[str] = []

        def handler(message: dc.Message) -> None:
            with guard:
                names.add(threading.current_thread().name)
                handled.append(message.body)
                if len(handled) == 12:
                    done.set()

        pool = dc.ConsumerPool(queue, handler, min_workers=0, max_workers=3,
                               target_backlog_per_worker=1, batch_size=1,
                               evaluation_period=0.05, scale_in_cooldown=0)
        assert done.wait(5)
        settled = threading.Event()
        loop.call_later(0.2, settled.set)
        assert settled.wait(5)
        history = list(pool.history)
        assert pool.stop(drain=True, timeout=5) == 0
    assert history[0][1:] == (3, 12)  # 12 waiting, 1 per worker, at most 3
    assert history[-1][1:] == (0, 0)  # back to min_workers once the queue is empty
    assert pool.workers == 0
    assert names <= {f"decoupling-pool-work-{i}" for i in range(3)}


def test_async_handlers_run_as_tasks_on_the_asyncio_loop() -> None:
    async def main() -> tuple[int, set[bool], int]:
        here = asyncio.get_running_loop()
        with dc.EventLoop() as loop:
            queue = dc.Queue(loop, "work")
            queue.send_batch([str(i) for i in range(8)])
            done = asyncio.Event()
            running = 0
            most = 0
            on_loop: set[bool] = set()
            handled: list[str] = []

            async def handler(message: dc.Message) -> None:
                nonlocal running, most
                on_loop.add(asyncio.get_running_loop() is here)
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.05)
                running -= 1
                handled.append(message.body)
                if len(handled) == 8:
                    done.set()

            pool = dc.ConsumerPool(queue, handler, min_workers=4, max_workers=4, batch_size=1)
            await asyncio.wait_for(done.wait(), 5)
            with pytest.raises(RuntimeError, match="asyncio.to_thread"):
                pool.stop()
            left = await asyncio.to_thread(pool.stop)
            assert (pool.processed, len(queue)) == (8, 0)
            return most, on_loop, left

    assert asyncio.run(main()) == (4, {True}, 0)


async def _async_handler(message: dc.Message) -> None:
    return None


@pytest.mark.parametrize(("clock", "problem"), [
    (dc.ManualClock, "needs a real clock"),
    (dc.MonotonicClock, "needs an asyncio loop"),
])
def test_async_handlers_need_a_real_clock_and_an_asyncio_loop(
        clock: Callable[[], dc.clock.Clock], problem: str) -> None:
    loop = dc.EventLoop(clock=clock())
    queue = dc.Queue(loop, "work")
    with pytest.raises(dc.errors.InvalidParameterValueException, match=problem):
        dc.ConsumerPool(queue, _async_handler)
    assert loop.next_timer_due() is None  # refused before anything was scheduled


def test_drain_on_a_fifo_queue_gives_the_group_back_in_order() -> None:
    with dc.EventLoop() as loop:
        queue = dc.FifoQueue(loop, "work.fifo", visibility_timeout=600,
                             content_based_deduplication=True)
        for i in range(10):
            queue.send(str(i), message_group_id="account-1")
        third_started = threading.Event()
        release = threading.Event()
        handled: list[str] = []

        def handler(message: dc.Message) -> None:
            if message.body == "2":
                third_started.set()
                release.wait(5)
            handled.append(message.body)

        pool = dc.ConsumerPool(queue, handler, min_workers=2, max_workers=2, batch_size=10)
        assert third_started.wait(5)
        loop.call_later(0.1, release.set)
        assert pool.stop(drain=True, timeout=5) == 0
        assert handled == ["0", "1", "2"]
        # The group is unlocked at once and its remaining messages come back in order.
        again = queue.receive(10, wait_seconds=0)
        assert [m.body for m in again] == [str(i) for i in range(3, 10)]


@pytest.mark.parametrize("wait_seconds", [0, 21])
def test_wait_seconds_is_a_long_poll_of_1_to_20_seconds(wait_seconds: int) -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    queue = dc.Queue(loop, "work")
    with pytest.raises(dc.errors.InvalidParameterValueException) as refused:
        dc.ConsumerPool(queue, lambda m: None, wait_seconds=wait_seconds)
    assert str(refused.value).endswith(
        "wait_seconds must be an integer >= 1, got 0." if wait_seconds == 0
        else "wait_seconds must be 1-20, got 21.")
    assert loop.next_timer_due() is None
