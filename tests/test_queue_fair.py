"""Fair queues: a standard queue with MessageGroupId as the tenant key (SQS, July 2025).

A tenant is noisy when it holds more than 10% of the queue's in-flight messages with at least 30
of its own in flight; while a quiet tenant has messages available, receives return quiet
tenants' messages first. Nothing is dropped, there is no ordering and no group lock.
"""

from __future__ import annotations

import pytest

import decoupling as dc


def tenants(messages: list[dc.Message]) -> list[str | None]:
    return [m.message_group_id for m in messages]


def fill(q: dc.Queue, tenant: str | None, n: int) -> None:
    for i in range(n):
        q.send(f"{tenant}-{i}", message_group_id=tenant)


def hold(q: dc.Queue, n: int) -> list[dc.Message]:
    """Receive n messages and keep them in flight."""
    out: list[dc.Message] = []
    while len(out) < n:
        out += q.receive(max_messages=min(10, n - len(out)), visibility_timeout=3600)
    return out


def test_the_group_id_is_returned(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x", message_group_id="tenant-1")
    q.send("y")
    a, b = q.receive(max_messages=10)
    assert a.attributes["MessageGroupId"] == "tenant-1"
    assert "MessageGroupId" not in b.attributes


def test_a_noisy_tenant_does_not_starve_quiet_ones(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "big", 100)
    assert set(tenants(hold(q, 30))) == {"big"}  # 30 of 30 in flight: noisy
    fill(q, "a", 2)
    fill(q, "b", 2)
    got = q.receive(max_messages=10, visibility_timeout=3600)
    assert tenants(got) == ["a", "a", "b", "b", "big", "big", "big", "big", "big", "big"]
    assert [m.body for m in got[:4]] == ["a-0", "a-1", "b-0", "b-1"]
    assert [m.body for m in got[4:]] == [f"big-{i}" for i in range(30, 36)]


def test_without_noise_the_oldest_message_goes_first(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "big", 100)
    hold(q, 29)  # 29 in flight: not noisy yet
    fill(q, "a", 2)
    got = q.receive(max_messages=3, visibility_timeout=3600)
    # big-29 (oldest) goes first; big now has 30 of 30 in flight and is noisy
    assert [m.body for m in got] == ["big-29", "a-0", "a-1"]


def test_thirty_in_flight_is_not_noisy_below_ten_percent(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "crowd", 300)
    hold(q, 271)  # only crowd has messages: 271 in flight
    fill(q, "big", 40)
    hold(q, 30)  # big is quiet while it holds fewer than 30
    fill(q, "late", 1)
    assert (q._ledger.lane_inflight("crowd"), q._ledger.lane_inflight("big")) == (271, 30)
    got = q.receive(max_messages=3, visibility_timeout=3600)
    # big: 30 of 301 in flight = 9.97%, not noisy: its older head goes first. Then 31 of 302
    # is over 10%: noisy, so the quiet "late" goes next; then, both big and crowd noisy, the
    # one with fewer in flight (big).
    assert [m.body for m in got] == ["big-30", "late-0", "big-31"]


def test_among_noisy_tenants_the_one_with_fewest_in_flight_goes_first(
    loop: dc.EventLoop,
) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "x", 50)
    fill(q, "y", 50)
    hold(q, 80)
    assert (q._ledger.lane_inflight("x"), q._ledger.lane_inflight("y")) == (40, 40)
    got = q.receive(max_messages=4, visibility_timeout=3600)
    assert [m.body for m in got] == ["x-40", "y-40", "x-41", "y-41"]


def test_messages_without_a_group_are_never_noisy(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    fill(q, None, 50)
    q.send("first tenant message", message_group_id="t")  # the queue becomes fair here
    hold(q, 40)  # the 40 oldest: all without a group
    fill(q, "u", 1)
    got = q.receive(max_messages=3, visibility_timeout=3600)
    assert [m.body for m in got] == ["None-40", "None-41", "None-42"]


def test_no_group_lock_and_nothing_dropped(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "only", 25)
    assert len(q.receive(max_messages=10, visibility_timeout=5)) == 10  # many of one group
    seen: set[str] = set()
    clock.advance(5)
    while True:
        got = q.receive(max_messages=10)
        if not got:
            break
        for m in got:
            seen.add(m.body)
            q.delete(m.receipt_handle)
    assert seen == {f"only-{i}" for i in range(25)}
    assert len(q) == 0


def test_turning_fair_with_messages_in_flight(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("before")
    [m] = q.receive()
    q.send("tenant", message_group_id="t")
    q.delete(m.receipt_handle)  # raised KeyError before the fix
    assert [x.body for x in q.receive()] == ["tenant"]
    assert len(q) == 1


@pytest.mark.parametrize("noisy_in_flight", [30, 60])
def test_quiet_tenants_keep_flowing_while_noise_persists(
    loop: dc.EventLoop, noisy_in_flight: int
) -> None:
    q = dc.Queue(loop, "q")
    fill(q, "noisy", 200)
    hold(q, noisy_in_flight)
    for round_ in range(5):
        q.send(f"quiet-{round_}", message_group_id=f"quiet-{round_ % 2}")
        [m] = q.receive(visibility_timeout=3600)
        assert m.body == f"quiet-{round_}"
        q.delete(m.receipt_handle)
