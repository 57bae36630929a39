"""EventLoop: timers on a ManualClock, auto-jump modes, the real-clock driver, identifiers."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

import decoupling as dc
from decoupling import errors

# -- timers on virtual time ---------------------------------------------------------------------


def test_timers_fire_in_due_order_and_see_their_own_time(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    seen: list[tuple[str, float]] = []
    loop.call_at(5.0, lambda: seen.append(("c", clock.now())))
    loop.call_at(1.0, lambda: seen.append(("a", clock.now())))
    loop.call_later(2.5, lambda: seen.append(("b", clock.now())))
    assert loop.next_timer_due() == 1.0
    clock.advance(3)
    assert seen == [("a", 1.0), ("b", 2.5)]
    assert clock.now() == 3.0
    clock.advance_to(10)
    assert seen == [("a", 1.0), ("b", 2.5), ("c", 5.0)]
    assert clock.now() == 10.0
    assert loop.next_timer_due() is None


def test_same_due_time_fires_in_scheduling_order(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    order: list[int] = []
    for i in range(10):
        loop.call_at(7.0, lambda i=i: order.append(i))  # type: ignore[misc]
    clock.advance(7)
    assert order == list(range(10))


def test_a_timer_due_exactly_now_fires_on_advance_zero(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    fired: list[float] = []
    loop.call_later(0, lambda: fired.append(clock.now()))
    assert fired == []  # nothing fires until time is advanced
    clock.advance(0)
    assert fired == [0.0]


def test_a_timer_scheduled_in_the_past_fires_at_the_next_advance(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    clock.advance(10)
    fired: list[float] = []
    loop.call_at(3.0, lambda: fired.append(clock.now()))
    clock.advance(1)
    assert fired == [10.0]  # time never goes back for it
    assert clock.now() == 11.0


def test_timers_scheduled_by_callbacks_fire_in_the_same_advance(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    seen: list[float] = []

    def tick() -> None:
        seen.append(clock.now())
        if len(seen) < 5:
            loop.call_later(2, tick)

    loop.call_later(2, tick)
    clock.advance(7)
    assert seen == [2.0, 4.0, 6.0]
    clock.advance(100)
    assert seen == [2.0, 4.0, 6.0, 8.0, 10.0]


def test_cancel(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    fired: list[str] = []
    a = loop.call_at(1.0, lambda: fired.append("a"))
    loop.call_at(2.0, lambda: fired.append("b"))
    a.cancel()
    assert a.cancelled is True
    assert loop.next_timer_due() == 2.0  # the cancelled head is dropped
    clock.advance(5)
    assert fired == ["b"]
    assert repr(a) == "TimerHandle(when=1.0, cancelled=True)"


@pytest.mark.parametrize("delay", [-0.001, float("nan")])
def test_call_later_refuses_bad_delays(loop: dc.EventLoop, delay: float) -> None:
    with pytest.raises(ValueError, match="delay must be >= 0 seconds"):
        loop.call_later(delay, lambda: None)
    assert loop.next_timer_due() is None


@pytest.mark.parametrize("when", [float("nan"), float("inf")])
def test_call_at_refuses_non_finite_times(loop: dc.EventLoop, when: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        loop.call_at(when, lambda: None)
    assert loop.next_timer_due() is None


def test_a_failing_callback_is_logged_and_the_loop_goes_on(
    clock: dc.ManualClock, loop: dc.EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    fired: list[int] = []

    def boom() -> None:
        raise RuntimeError("boom")

    loop.call_at(1.0, boom)
    loop.call_at(2.0, lambda: fired.append(2))
    with caplog.at_level(logging.ERROR, logger="decoupling"):
        clock.advance(3)
    assert fired == [2]
    assert "timer callback" in caplog.text
    assert "RuntimeError: boom" in caplog.text


def test_two_loops_on_one_clock_fire_in_time_order(clock: dc.ManualClock) -> None:
    a, b = dc.EventLoop(clock=clock), dc.EventLoop(clock=clock)
    seen: list[tuple[str, float]] = []
    a.call_at(1.0, lambda: seen.append(("a", clock.now())))
    b.call_at(2.0, lambda: seen.append(("b", clock.now())))
    clock.advance(5)
    assert sorted(seen) == [("a", 1.0), ("b", 2.0)]
    assert clock.now() == 5.0


# -- run_until_idle -----------------------------------------------------------------------------


def test_run_until_idle_follows_chained_timers(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    seen: list[float] = []

    def step() -> None:
        seen.append(clock.now())
        if len(seen) < 4:
            loop.call_later(10, step)

    loop.call_later(10, step)
    loop.run_until_idle()
    assert seen == [10.0, 20.0, 30.0, 40.0]
    assert clock.now() == 40.0
    assert loop.next_timer_due() is None


def test_run_until_idle_stops_at_the_limit(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    seen: list[float] = []
    for t in (5.0, 15.0, 25.0):
        loop.call_at(t, lambda: seen.append(clock.now()))
    loop.run_until_idle(limit=20.0)
    assert seen == [5.0, 15.0]
    assert clock.now() == 20.0
    assert loop.next_timer_due() == 25.0
    loop.run_until_idle(limit=100.0)
    assert seen == [5.0, 15.0, 25.0]
    assert clock.now() == 100.0


def test_run_until_idle_needs_a_manual_clock() -> None:
    loop = dc.EventLoop(clock=dc.MonotonicClock())
    with pytest.raises(TypeError, match="ManualClock"):
        loop.run_until_idle()


# -- auto-jump modes (a long poll is the waiter) ------------------------------------------------


def test_autojump_zero_jumps_to_the_deadline_at_once() -> None:
    clock = dc.ManualClock(autojump_threshold=0.0)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    started = time.monotonic()
    assert q.receive(wait_seconds=20) == []
    assert clock.now() == 20.0
    assert time.monotonic() - started < 10.0  # not the 20 s in real time


def test_autojump_stops_at_each_due_timer_on_the_way() -> None:
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    seen: list[float] = []
    loop.call_at(4.0, lambda: seen.append(clock.now()))
    loop.call_at(7.0, lambda: q.send("from a timer"))
    messages = q.receive(wait_seconds=20)
    assert [m.body for m in messages] == ["from a timer"]
    assert seen == [4.0]
    assert clock.now() == 7.0


@pytest.mark.realtime
def test_autojump_off_waits_for_another_thread() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    result: list[list[dc.Message]] = []
    waiter = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    waiter.start()
    waiter.join(0.05)
    assert waiter.is_alive()  # time does not move by itself
    clock.advance(19.999)
    waiter.join(0.05)
    assert waiter.is_alive()
    clock.advance(0.001)
    waiter.join(2)
    assert not waiter.is_alive()
    assert result == [[]]
    assert clock.now() == 20.0


@pytest.mark.realtime
def test_small_threshold_lets_another_thread_act_first() -> None:
    clock = dc.ManualClock(autojump_threshold=0.5)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    result: list[list[dc.Message]] = []
    waiter = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    waiter.start()
    time.sleep(0.01)  # well inside the 0.5 s threshold
    q.send("hello")
    waiter.join(2)
    assert [m.body for m in result[0]] == ["hello"]
    assert clock.now() == 0.0  # nobody had to jump


@pytest.mark.realtime
def test_waiter_and_advancing_thread_do_not_deadlock() -> None:
    # Thread B advances the clock and is inside a slow timer callback (holding the clock)
    # while thread A starts a long poll that wants to auto-jump (holding the loop). Before the
    # fix, A blocked on the clock while B needed A's loop lock to fire the next timer.
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    inside = threading.Event()

    def slow() -> None:
        inside.set()
        time.sleep(0.05)

    loop.call_at(1.0, slow)
    loop.call_at(2.0, lambda: None)
    mover = threading.Thread(target=lambda: clock.advance(5))
    mover.start()
    assert inside.wait(2)
    result: list[list[dc.Message]] = []
    waiter = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    waiter.start()
    waiter.join(3)
    mover.join(3)
    assert not waiter.is_alive() and not mover.is_alive()
    assert result == [[]]
    assert clock.now() == 21.0  # the poll began at 1.0 (inside the first timer) + 20 s


# -- the real-clock driver ----------------------------------------------------------------------


@pytest.mark.realtime
def test_driver_fires_timers_on_real_time() -> None:
    with dc.EventLoop() as loop:
        fired = threading.Event()
        started = time.monotonic()
        loop.call_later(0.05, fired.set)
        assert fired.wait(2)
        assert time.monotonic() - started >= 0.05
        assert loop._driver is not None and loop._driver.is_alive()
    assert loop._driver is None  # __exit__ stopped it


@pytest.mark.realtime
def test_call_at_starts_the_driver_and_an_earlier_timer_wakes_it() -> None:
    loop = dc.EventLoop()
    try:
        order: list[str] = []
        done = threading.Event()
        loop.call_later(0.3, lambda: (order.append("late"), done.set()))
        assert loop._running
        loop.call_later(0.02, lambda: order.append("early"))
        assert done.wait(2)
        assert order == ["early", "late"]
    finally:
        loop.stop()


@pytest.mark.realtime
def test_stop_leaves_timers_pending_and_start_resumes() -> None:
    loop = dc.EventLoop().start()
    fired = threading.Event()
    loop.stop()
    assert loop.start() is loop
    loop.stop()
    loop.call_later(0.02, fired.set)  # restarts the driver
    try:
        assert fired.wait(2)
    finally:
        loop.stop()


def test_start_does_nothing_on_a_virtual_clock(loop: dc.EventLoop) -> None:
    assert loop.start() is loop
    assert loop._driver is None
    loop.stop()


@pytest.mark.realtime
def test_timers_from_many_threads_on_real_time() -> None:
    with dc.EventLoop() as loop:
        hits: list[int] = []
        lock = threading.Lock()
        done = threading.Event()

        def hit(i: int) -> None:
            with lock:
                hits.append(i)
                if len(hits) == 200:
                    done.set()

        def schedule(base: int) -> None:
            for i in range(base, base + 50):
                loop.call_later(0.001 * (i % 7), lambda i=i: hit(i))  # type: ignore[misc]

        threads = [threading.Thread(target=schedule, args=(b,)) for b in (0, 50, 100, 150)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert done.wait(2)
        assert sorted(hits) == list(range(200))


# -- identifiers --------------------------------------------------------------------------------


def test_arns_urls_and_names() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock(), region="eu-west-1", account_id="123456789012")
    assert loop.arn("sqs", "q") == "arn:aws:sqs:eu-west-1:123456789012:q"
    assert loop.queue_url("q") == "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    assert loop.queue_name_from("q") == "q"
    assert loop.queue_name_from("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "q"
    assert loop.queue_name_from("arn:aws:sqs:eu-west-1:123456789012:q") == "q"
    for bad in (
        "https://sqs.eu-west-1.amazonaws.com/999999999999/q",
        "arn:aws:sqs:eu-west-1:999999999999:q",
        "arn:aws:sns:eu-west-1:123456789012:q",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/",
    ):
        with pytest.raises(errors.InvalidAddress):
            loop.queue_name_from(bad)


def test_defaults_and_bad_account_or_region() -> None:
    loop = dc.EventLoop()
    assert (loop.region, loop.account_id) == ("us-east-1", "000000000000")
    assert isinstance(loop.clock, dc.MonotonicClock)
    for kwargs in ({"account_id": "123"}, {"account_id": "12345678901a"}, {"region": ""},
                   {"region": "us_east_1"}):
        with pytest.raises(ValueError):
            dc.EventLoop(**kwargs)  # type: ignore[arg-type]


def test_new_id_is_uuid_shaped_and_unique(loop: dc.EventLoop) -> None:
    ids = [loop.new_id() for _ in range(10_000)]
    assert len(set(ids)) == 10_000
    shape = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}")
    assert all(shape.fullmatch(i) for i in ids)
    # two fresh loops count from the same number: their random prefixes keep ids apart
    a, b = dc.EventLoop(clock=dc.ManualClock()), dc.EventLoop(clock=dc.ManualClock())
    assert a.new_id() != b.new_id()
