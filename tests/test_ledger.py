"""The visibility ledger alone: states, settling, lazy deletion, compaction, next_change, lanes."""

from __future__ import annotations

import random

import pytest

from decoupling._core.ledger import DELAYED, GONE, INFLIGHT, VISIBLE, Entry, Ledger


def counts(ledger: Ledger) -> tuple[int, int, int]:
    return ledger.n_visible, ledger.n_inflight, ledger.n_delayed


def drain(ledger: Ledger, now: float, timeout: float = 30.0) -> list[Entry]:
    out: list[Entry] = []
    while True:
        got, _ = ledger.receive(now, 10, timeout)
        if not got:
            return out
        out += got


def test_enqueue_receive_and_timeout() -> None:
    ledger = Ledger(345_600.0, "p/")
    a = ledger.enqueue("a", 0.0)
    b = ledger.enqueue("b", 0.0)
    assert (a.seq, b.seq) == (1, 2)
    assert (a.state, a.receive_count, a.receipt) == (VISIBLE, 0, None)
    assert counts(ledger) == (2, 0, 0) and len(ledger) == 2
    got, dead = ledger.receive(1.0, 10, 30.0)
    assert [e.record for e in got] == ["a", "b"] and dead == []
    assert (a.state, a.receive_count, a.first_received_at, a.received_at, a.deadline) == (
        INFLIGHT, 1, 1.0, 1.0, 31.0,
    )
    assert a.receipt is not None and a.receipt.startswith("p/")
    assert ledger.handles == {a.receipt: a, b.receipt: b}
    assert counts(ledger) == (0, 2, 0)
    assert ledger.next_change() == 31.0
    ledger.settle(30.999)
    assert counts(ledger) == (0, 2, 0)
    ledger.settle(31.0)
    assert counts(ledger) == (2, 0, 0)
    assert a.state == VISIBLE and a.receipt in ledger.handles  # the latest handle stays valid
    # Returned messages go back to the front, the last returned first (best-effort order).
    again, _ = ledger.receive(40.0, 10, 30.0)
    assert again == [b, a]
    assert (a.receive_count, a.first_received_at, a.received_at) == (2, 1.0, 40.0)


def test_every_receive_issues_a_new_handle_and_drops_the_old() -> None:
    ledger = Ledger(345_600.0, "p/")
    entry = ledger.enqueue("x", 0.0)
    handles = []
    for t in range(5):
        ledger.receive(float(t), 1, 0.5)
        handles.append(entry.receipt)
        ledger.settle(t + 0.5)
    assert len(set(handles)) == 5
    assert list(ledger.handles) == [handles[-1]]


def test_delay() -> None:
    ledger = Ledger(345_600.0, "p/")
    entry = ledger.enqueue("d", 10.0, delay=5.0)
    assert (entry.state, entry.available_at, entry.sent_at) == (DELAYED, 15.0, 10.0)
    assert counts(ledger) == (0, 0, 1)
    assert ledger.next_change() == 15.0
    assert ledger.receive(14.999, 10, 30.0) == ([], [])
    got, _ = ledger.receive(15.0, 10, 30.0)
    assert got == [entry]
    assert counts(ledger) == (0, 1, 0)


def test_change_visibility_and_remove() -> None:
    ledger = Ledger(345_600.0, "p/")
    a, b, c = (ledger.enqueue(x, 0.0) for x in "abc")
    ledger.receive(0.0, 3, 30.0)
    ledger.change_visibility(a, 10.0, 100.0)
    assert a.deadline == 110.0
    ledger.change_visibility(b, 10.0, 0.0)
    assert b.state == VISIBLE and counts(ledger) == (1, 2, 0)
    ledger.remove(c)
    assert c.state == GONE and c.receipt not in ledger.handles
    assert counts(ledger) == (1, 1, 0) and len(ledger) == 2
    ledger.settle(30.0)  # a's old deadline is stale: nothing happens
    assert counts(ledger) == (1, 1, 0)
    assert ledger.next_change() is not None and ledger.next_change() <= 110.0
    ledger.settle(110.0)
    assert counts(ledger) == (2, 0, 0)
    ledger.remove(c)  # removing twice is harmless
    assert len(ledger) == 2


def test_hide_makes_a_visible_message_invisible_again_with_the_same_handle() -> None:
    ledger = Ledger(345_600.0, "p/")
    a = ledger.enqueue("a", 0.0)
    b = ledger.enqueue("b", 0.0)
    ledger.receive(0.0, 1, 10.0)
    handle = a.receipt
    ledger.settle(10.0)
    assert a.state == VISIBLE
    ledger.hide(a, 12.0, 0.0)  # 0 leaves it visible
    assert a.state == VISIBLE and counts(ledger) == (2, 0, 0)
    ledger.hide(a, 12.0, 20.0)
    assert (a.state, a.deadline, a.receipt, a.receive_count) == (INFLIGHT, 32.0, handle, 1)
    assert counts(ledger) == (1, 1, 0)
    got, _ = ledger.receive(12.0, 10, 30.0)
    assert got == [b]  # a's stale place in the deque is skipped
    ledger.settle(32.0)
    got, _ = ledger.receive(32.0, 10, 30.0)
    assert got == [a] and a.receive_count == 2
    assert counts(ledger) == (0, 2, 0)


def test_max_receive_count_returns_dead_messages() -> None:
    ledger = Ledger(345_600.0, "p/")
    entry = ledger.enqueue("poison", 0.0)
    for t in range(3):
        got, dead = ledger.receive(float(t), 10, 0.5, max_receive_count=3)
        assert got == [entry] and dead == []
        ledger.settle(t + 0.5)
    got, dead = ledger.receive(3.0, 10, 0.5, max_receive_count=3)
    assert got == [] and dead == [entry]
    assert entry.state == GONE and entry.receive_count == 3
    assert len(ledger) == 0 and ledger.handles == {}


def test_retention_ends_at_sent_plus_retention_exactly() -> None:
    ledger = Ledger(60.0, "p/")
    flying = ledger.enqueue("f", 0.3)
    visible = ledger.enqueue("v", 0.3)
    delayed = ledger.enqueue("d", 0.3, delay=900.0)
    ledger.receive(0.3, 1, 1000.0)
    assert flying.state == INFLIGHT and visible.state == VISIBLE
    assert ledger.next_change() == 60.3
    ledger.settle(60.29999)
    assert len(ledger) == 3
    ledger.settle(60.3)  # 0.3 + 60 - 60 rounds below 0.3: a cutoff test would miss this
    assert (visible.state, flying.state, delayed.state) == (GONE, GONE, GONE)
    assert len(ledger) == 0 and ledger.handles == {}


def test_retention_keeps_a_given_sent_at() -> None:
    ledger = Ledger(100.0, "p/")
    entry = ledger.enqueue("dead letter", 50.0, sent_at=10.0, receive_count=3)
    assert (entry.sent_at, entry.receive_count) == (10.0, 3)
    assert ledger.oldest_sent_at() == 10.0
    ledger.settle(109.999)
    assert len(ledger) == 1
    ledger.settle(110.0)
    assert len(ledger) == 0 and ledger.oldest_sent_at() is None


def test_next_change_is_the_earliest_of_delay_deadline_and_retention() -> None:
    ledger = Ledger(1000.0, "p/")
    assert ledger.next_change() is None
    ledger.enqueue("a", 0.0)
    assert ledger.next_change() == 1000.0
    ledger.enqueue("b", 0.0, delay=500.0)
    assert ledger.next_change() == 500.0
    ledger.receive(0.0, 1, 30.0)
    assert ledger.next_change() == 30.0


def test_purge_entries_and_oldest() -> None:
    ledger = Ledger(1000.0, "p/")
    a = ledger.enqueue("a", 3.0)
    b = ledger.enqueue("b", 1.0, delay=10.0)
    c = ledger.enqueue("c", 2.0)
    ledger.receive(3.0, 1, 30.0)
    assert [e.record for e in ledger.entries()] == ["b", "c", "a"]  # by sent time
    assert ledger.oldest_sent_at() == 1.0
    held = ledger.purge()
    assert {e.record for e in held} == {"a", "b", "c"}
    assert {e.state for e in (a, b, c)} == {GONE}
    assert counts(ledger) == (0, 0, 0) and ledger.handles == {}
    assert ledger.next_change() is None


# -- lazy deletion and compaction ---------------------------------------------------------------


def test_heaps_stay_proportional_to_held_messages_after_many_cycles() -> None:
    rng = random.Random(7)
    ledger = Ledger(1_000_000.0, "p/")
    now = 0.0
    peak_deadlines = peak_retained = peak_visible = 0
    for cycle in range(200):
        for i in range(100):
            ledger.enqueue((cycle, i), now)
        received = drain(ledger, now, timeout=40_000.0)
        rng.shuffle(received)  # deletes in random order leave stale items mid-structure
        for entry in received[:-2]:
            ledger.remove(entry)
        for entry in received[-2:-1]:
            ledger.change_visibility(entry, now, 30_000.0)
        now += 1.0
        ledger.settle(now)
        peak_deadlines = max(peak_deadlines, len(ledger._deadlines))
        peak_retained = max(peak_retained, len(ledger._retained) + len(ledger._fresh))
        peak_visible = max(peak_visible, len(ledger._visible))
    assert len(ledger) == 400  # 2 kept per cycle of 100
    # 20,000 messages went through; every structure stays within held + a constant.
    assert peak_deadlines < len(ledger) + 2 * 1024 + 100
    assert peak_retained < len(ledger) + 2 * 1024 + 200
    assert peak_visible <= 400
    assert len(ledger._deadlines) >= ledger.n_inflight
    assert len(ledger._retained) + len(ledger._fresh) >= len(ledger)


def test_settle_is_consistent_after_compaction() -> None:
    ledger = Ledger(1_000_000.0, "p/")
    entries = [ledger.enqueue(i, 0.0) for i in range(5000)]
    received = drain(ledger, 0.0, timeout=100.0)
    assert len(received) == 5000
    for entry in received[1::2]:  # every other one: most stale items sit mid-run
        ledger.remove(entry)
    for entry in received[0:2000:2]:
        ledger.change_visibility(entry, 1.0, 10.0)
    assert counts(ledger) == (0, 2500, 0)
    ledger.settle(11.0)
    assert counts(ledger) == (1000, 1500, 0)
    ledger.settle(100.0)
    assert counts(ledger) == (2500, 0, 0)
    back = drain(ledger, 100.0)
    assert sorted(e.record for e in back) == [e.record for e in entries[0::2]]


# -- lanes --------------------------------------------------------------------------------------


def test_switching_to_lanes_with_messages_in_flight() -> None:
    ledger = Ledger(345_600.0, "p/")
    old = ledger.enqueue("no tenant", 0.0)
    ledger.receive(0.0, 1, 30.0)
    ledger.enqueue("tenant a", 0.0, lane="a")  # the queue becomes a fair queue now
    assert ledger.lane_inflight(None) == 1
    ledger.remove(old)  # raised KeyError before the fix
    assert ledger.lane_inflight(None) == 0
    got, _ = ledger.receive(1.0, 10, 30.0)
    assert [e.record for e in got] == ["tenant a"]
    assert ledger.lane_inflight("a") == 1


def test_fair_lanes_serve_quiet_tenants_before_a_noisy_one() -> None:
    ledger = Ledger(345_600.0, "p/")
    for i in range(40):
        ledger.enqueue(f"noisy-{i}", 0.0, lane="noisy")
    got, _ = ledger.receive(0.0, 10, 300.0)
    got += ledger.receive(0.0, 10, 300.0)[0] + ledger.receive(0.0, 10, 300.0)[0]
    assert len(got) == 30 and ledger.lane_inflight("noisy") == 30  # 30 of 30: noisy
    for tenant in ("q1", "q2"):
        for i in range(3):
            ledger.enqueue(f"{tenant}-{i}", 1.0, lane=tenant)
    got, _ = ledger.receive(2.0, 10, 300.0)
    # Quiet tenants first (oldest message first among them), then the noisy one.
    assert [e.record for e in got] == [
        "q1-0", "q1-1", "q1-2", "q2-0", "q2-1", "q2-2", "noisy-30", "noisy-31", "noisy-32",
        "noisy-33",
    ]


def test_a_tenant_below_30_in_flight_is_not_noisy() -> None:
    ledger = Ledger(345_600.0, "p/")
    for i in range(40):
        ledger.enqueue(f"big-{i}", 0.0, lane="big")
    first = ledger.receive(0.0, 10, 300.0)[0][0]
    for _ in range(2):
        ledger.receive(0.0, 10, 300.0)
    ledger.remove(first)  # 29 in flight now: not noisy
    ledger.enqueue("small-0", 1.0, lane="small")
    got, _ = ledger.receive(2.0, 2, 300.0)
    # big's head is older and big is quiet; once big-30 flies big has 30 of 30: noisy
    assert [e.record for e in got] == ["big-30", "small-0"]


def test_lock_groups_hold_back_a_lane_while_it_has_a_message_in_flight() -> None:
    ledger = Ledger(345_600.0, "p/", lock_groups=True)
    for i in range(3):
        ledger.enqueue(f"g1-{i}", 0.0, lane="g1")
    ledger.enqueue("g2-0", 0.0, lane="g2")
    got, _ = ledger.receive(0.0, 2, 30.0)
    assert [e.record for e in got] == ["g1-0", "g1-1"]  # several of one group in one receive
    got, _ = ledger.receive(0.0, 10, 30.0)
    assert [e.record for e in got] == ["g2-0"]  # g1 is locked while g1-0/g1-1 fly
    ledger.settle(30.0)
    got, _ = ledger.receive(30.0, 10, 30.0)
    assert [e.record for e in got] == ["g1-0", "g1-1", "g1-2", "g2-0"]


def test_group_flight_bookkeeping_from_one_to_several_and_back() -> None:
    # A group with one message in flight is held without a count or heap (_solo); a second
    # one moves it to the count and heap. Every way out of flight must free the group.
    ledger = Ledger(345_600.0, "p/", lock_groups=True)
    entries = [ledger.enqueue(f"g-{i}", 0.0, lane="g") for i in range(4)]
    ledger.enqueue("h-0", 0.0, lane="h")
    (first,), _ = ledger.receive(0.0, 1, 30.0)
    assert first is entries[0] and ledger.lane_inflight("g") == 1 and "g" in ledger._solo
    got, _ = ledger.receive(0.0, 10, 30.0)
    assert [e.record for e in got] == ["h-0"]  # g waits: its first message flies
    ledger.remove(first)
    assert ledger.lane_inflight("g") == 0 and not ledger._solo.get("g")
    got, _ = ledger.receive(0.0, 2, 30.0)
    assert got == entries[1:3] and ledger.lane_inflight("g") == 2 and "g" not in ledger._solo
    # The earlier one returns while the later one flies: only it may go out again.
    ledger.change_visibility(entries[1], 0.0, 0.0)
    assert ledger.lane_inflight("g") == 1
    got, _ = ledger.receive(0.0, 10, 30.0)
    assert got == [entries[1]] and ledger.lane_inflight("g") == 2
    ledger.remove(entries[2])
    ledger.remove(entries[1])
    assert ledger.lane_inflight("g") == 0 and not ledger._lane_flight
    got, _ = ledger.receive(0.0, 10, 30.0)
    assert got == [entries[3]] and ledger.lane_inflight("g") == 1
    ledger.settle(30.0)  # its visibility timeout ends: back, and the group is free
    assert ledger.lane_inflight("g") == 0 and ledger.n_visible == 2  # (h-0 is back too)
    got, _ = ledger.receive(30.0, 10, 30.0)
    assert [e.record for e in got] == ["g-3", "h-0"] and entries[3].receive_count == 2


@pytest.mark.parametrize("laned", [False, True])
def test_removed_visible_messages_are_skipped(laned: bool) -> None:
    ledger = Ledger(345_600.0, "p/")
    lane = "t" if laned else None
    entries = [ledger.enqueue(i, 0.0, lane=lane) for i in range(5)]
    ledger.receive(0.0, 5, 1.0)
    ledger.settle(1.0)
    ledger.remove(entries[0])
    ledger.remove(entries[3])
    got = drain(ledger, 2.0)
    assert sorted(e.record for e in got) == [1, 2, 4]
    assert len(ledger) == 3
