"""DeadlineQueue against a plain sorted-list model: pushes, discards and pops in any order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from decoupling._core.deadlines import DeadlineQueue

# An operation: ("push", now step, duration) | ("discard", index) | ("pop", now step)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 3), st.sampled_from([1.0, 5.0, 30.0, 0.5])),
        st.tuples(st.just("discard"), st.integers(0, 50), st.just(0.0)),
        st.tuples(st.just("pop"), st.integers(0, 40), st.just(0.0)),
        st.tuples(st.just("push_early"), st.integers(0, 3), st.just(2.0)),
    ),
    max_size=120,
)


@given(ops)
def test_matches_sorted_model(operations: list[tuple[str, int, float]]) -> None:
    queue: DeadlineQueue[int] = DeadlineQueue()
    live: dict[int, tuple[float, float]] = {}  # item -> (deadline, duration)
    now = 0.0
    next_item = 0
    for op, n, duration in operations:
        if op in ("push", "push_early"):
            now += n
            # push_early passes an earlier "now": the order-breaking path
            deadline = (now - 10 if op == "push_early" else now) + duration
            queue.push(deadline, duration, next_item)
            live[next_item] = (deadline, duration)
            next_item += 1
        elif op == "discard" and live:
            item = sorted(live)[n % len(live)]
            deadline, dur = live[item]
            if queue.discard(deadline, dur, item):
                del live[item]
        elif op == "pop":
            now += n
            due = queue.pop_due(now)
            expected = sorted((d, i) for i, (d, _) in live.items() if d <= now)
            assert sorted(due) == expected
            assert [d for d, _ in due] == sorted(d for d, _ in due)
            for _, item in due:
                del live[item]
        assert len(queue) == len(live)
        assert queue.earliest() <= min((d for d, _ in live.values()), default=float("inf"))


def test_discard_at_either_end_is_exact() -> None:
    queue: DeadlineQueue[str] = DeadlineQueue()
    a, b, c, d = names = ["a", "b", "c", "d"]  # discard compares identity, so keep these objects
    for i, name in enumerate(names):
        queue.push(30.0 + i, 30.0, name)
    assert queue.discard(33.0, 30.0, d) is True   # newest
    assert queue.discard(30.0, 30.0, a) is True   # oldest
    assert queue.discard(31.5, 30.0, b) is False  # wrong deadline: left alone
    assert queue.earliest() == 31.0
    assert queue.pop_due(32.0) == [(31.0, b), (32.0, c)]
    assert len(queue) == 0
    assert queue.earliest() == float("inf")


def test_push_then_discard_cycles_keep_no_stale_heads() -> None:
    # A queue that receives one message and deletes it, again and again, on a clock that has
    # not yet reached their deadlines: each run empties as it fills. The run heads must not
    # pile up one stale entry per cycle (200k entries after 2 s of real-clock cycles).
    queue: DeadlineQueue[int] = DeadlineQueue()
    for i in range(1000):
        queue.push(30.0 + i * 0.001, 30.0, i)
        assert queue.discard(30.0 + i * 0.001, 30.0, i)
    assert len(queue._heads) == 0
    assert len(queue) == 0
    assert queue.earliest() == float("inf")
    queue.push(99.0, 30.0, 7)
    assert queue.earliest() == 99.0
    assert queue.pop_due(99.0) == [(99.0, 7)]
