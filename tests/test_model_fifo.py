"""Model-based test of ``FifoQueue``: group order and locking, and the deduplication window.

A FIFO source queue (redrive policy to a FIFO DLQ; deduplication scope, content-based
deduplication, delay and in-flight limit drawn per run) and its DLQ on one virtual clock.
Hypothesis drives random programs of sends and batch sends from a few groups with a few
deduplication ids and bodies (so duplicates are common), receives (short and long polls),
consumers that crash, deletes and visibility changes with current, expired, deleted and
malformed handles, purges and time steps (around the 5-minute window and past retention). The
plain model in ``tests/model/fifo_model.py`` judges every receive: each group's messages in
order and only while no earlier one is in flight, a group drained before the next is served,
as many messages as allowed, and exactly the dead letters the receive reached.

After every step the real queues must agree with the model: each message in exactly one place
with the same receive count, deadline, receipt handle, group, deduplication id and sequence
number; the same arrival order; the same live deduplication ids (with the original's
``MessageId`` and ``SequenceNumber``) and remembered deleted handles; the same counts.

Size: ``DECOUPLING_MODEL_EXAMPLES`` / ``DECOUPLING_MODEL_STEPS`` override the profile's figures
(ci: 40 programs of up to 30 steps; soak: 3,000 of up to 60). See RELIABILITY.md.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from model.fifo_model import FifoDelivery, FifoModel, FifoQueueModel
from model.sqs_model import Place

import decoupling as dc
from decoupling._core.ledger import DELAYED, INFLIGHT, VISIBLE
from decoupling.message import md5_of_body
from decoupling.sqs.fifo import _window_key, _window_original

Q, DLQ = "q.fifo", "dlq.fifo"
QUEUES = (Q, DLQ)
PLACES = {DELAYED: Place.DELAYED, VISIBLE: Place.VISIBLE, INFLIGHT: Place.IN_FLIGHT}

PROFILE = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE", "ci")
EXAMPLES = int(os.environ.get("DECOUPLING_MODEL_EXAMPLES", 3000 if PROFILE == "soak" else 40))
STEPS = int(os.environ.get("DECOUPLING_MODEL_STEPS", 60 if PROFILE == "soak" else 30))

groups = st.sampled_from(["g1", "g1", "g2", "g2", "g3"] + [None])  # None: MissingParameter
dedup_ids = st.sampled_from(["d1", "d2", "d3", "d4", None, None])  # None: content-based
bodies = st.sampled_from(["a", "b", "c", "a", "unique"])
delays = st.sampled_from([None] * 8 + [0, 5])
max_counts = st.sampled_from([1, 1, 2, 3, 10, 10])
waits = st.sampled_from([None, 0, 0, 0, 1, 5, 20])
timeouts = st.sampled_from([None, None, 0, 0, 1, 2, 5, 30, 600, 43_200])
set_timeouts = st.sampled_from([0, 0, 1, 5, 30, 600, 43_200, 43_201, -1])
steps = st.one_of(
    st.sampled_from([0.5, 1.0, 1.0, 2.0, 5.0, 30.0, 31.0, 60.0, 61.0]),
    st.sampled_from([299.0, 300.0, 301.0, 600.0, 3600.0, 345_600.0]),
    st.integers(0, 120).map(float),
)
garbage_handles = st.one_of(st.text(max_size=8), st.none(), st.integers(),
                            st.sampled_from(["", "0", "ff", "-1"]))
handle_refs = st.one_of(
    st.integers(0, 12), st.integers(0, 12), st.integers(0, 12),
    st.tuples(garbage_handles, st.sampled_from(["as is", "prefix+hex"])),
)
receive_queues = st.sampled_from([Q, Q, Q, DLQ])


class FifoMachine(RuleBasedStateMachine):
    @initialize(
        timeout=st.sampled_from([0, 1, 1, 5, 30]),
        retention=st.sampled_from([60, 600, 345_600]),
        delay=st.sampled_from([0, 0, 0, 2]),
        content_based=st.booleans(),
        scope=st.sampled_from(["queue", "messageGroup"]),
        max_receive_count=st.sampled_from([1, 2, 3]),
        in_flight_limit=st.sampled_from([None, None, 2, 4]),
        dlq_retention=st.sampled_from([60, 600]),
    )
    def setup(self, timeout: int, retention: int, delay: int, content_based: bool, scope: str,
              max_receive_count: int, in_flight_limit: int | None, dlq_retention: int) -> None:
        self.clock = dc.ManualClock()
        self.loop = dc.EventLoop(clock=self.clock)
        dlq = dc.FifoQueue(self.loop, DLQ, visibility_timeout=5,
                           message_retention_period=dlq_retention)
        q = dc.FifoQueue(
            self.loop, Q, visibility_timeout=timeout, message_retention_period=retention,
            delay_seconds=delay, content_based_deduplication=content_based,
            deduplication_scope=scope, redrive_policy=dc.RedrivePolicy(dlq, max_receive_count),
        )
        if in_flight_limit is not None:
            q.max_in_flight = in_flight_limit
        self.queues: dict[str, dc.FifoQueue] = {Q: q, DLQ: dlq}
        self.model = FifoModel()
        self.model.add_queue(FifoQueueModel(
            Q, timeout, retention, delay, content_based, scope, DLQ, max_receive_count,
            in_flight_limit,
        ))
        self.model.add_queue(FifoQueueModel(DLQ, 5, dlq_retention))
        self.issued: list[tuple[str, str]] = []
        self.n = 0

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.clock.now()

    def body(self, text: str) -> str:
        if text == "unique":
            self.n += 1
            return f"u{self.n}"
        return text

    def entries(self, name: str) -> dict[str, Any]:
        queue = self.queues[name]
        queue.get_attributes()  # settles
        return {e.record.message_id: e for e in queue._ledger.entries()}

    def raises(self, codes: set[str], call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = call(*args, **kwargs)
        except dc.DecouplingError as error:
            assert codes, f"{call.__name__}{args} failed unexpectedly: {error}"
            assert error.code in codes, f"{call.__name__}: {error.code}, expected {codes}"
            return None
        assert not codes, f"{call.__name__}{args} succeeded; expected one of {codes}"
        return result

    def well_formed(self, name: str, handle: object) -> bool:
        prefix = self.queues[name]._ledger.receipt_prefix
        tail = handle[len(prefix):] if isinstance(handle, str) else ""
        return (isinstance(handle, str) and handle.startswith(prefix) and bool(tail)
                and all(c in "0123456789abcdef" for c in tail))

    def handle_for(self, ref: Any, on: str | None) -> tuple[str, Any]:
        if isinstance(ref, int):
            if self.issued:
                queue, handle = self.issued[-1 - ref % len(self.issued)]
                return on or queue, handle
            ref = ("", "as is")
        raw, shape = ref
        queue = on or Q
        if shape == "prefix+hex":
            return queue, self.queues[queue]._ledger.receipt_prefix + "fffffff"
        return queue, raw

    # -- sending ----------------------------------------------------------------------------

    @rule(group=groups, dedup=dedup_ids, text=bodies, delay=delays)
    def send(self, group: str | None, dedup: str | None, text: str, delay: int | None) -> None:
        body, now = self.body(text), self.now
        codes = self.model.send_errors(Q, group, dedup, delay)
        result = self.raises(codes, self.queues[Q].send, body, message_group_id=group,
                             message_deduplication_id=dedup, delay_seconds=delay)
        if result is not None:
            assert group is not None
            assert result.md5_of_message_body == md5_of_body(body)
            assert result.sequence_number is not None and len(result.sequence_number) == 20
            duplicate = self.model.send(Q, body, group, dedup, now, result.message_id,
                                        int(result.sequence_number))
            event("send: duplicate" if duplicate else "send: new")

    @rule(group=groups, dedup=dedup_ids, text=bodies, delay=delays)
    def send_more(self, group: str | None, dedup: str | None, text: str,
                  delay: int | None) -> None:
        self.send(group, dedup, text, delay)

    @rule(entries=st.lists(st.tuples(groups, dedup_ids, bodies), min_size=1, max_size=10))
    def send_batch(self, entries: list[tuple[str | None, str | None, str]]) -> None:
        batch = []
        for i, (group, dedup, text) in enumerate(entries):
            entry: dict[str, Any] = {"Id": f"e{i}", "MessageBody": self.body(text)}
            if group is not None:
                entry["MessageGroupId"] = group
            if dedup is not None:
                entry["MessageDeduplicationId"] = dedup
            batch.append(entry)
        # These fail the whole request: a missing group first (MissingParameter, as for
        # SendMessage), then a missing deduplication id (InvalidParameterValue).
        codes: set[str] = set()
        if any(group is None for group, _, _ in entries):
            codes = {"MissingParameter"}
        elif any(self.model.send_errors(Q, group, dedup, None) for group, dedup, _ in entries):
            codes = {"InvalidParameterValue"}
        now = self.now
        result = self.raises(codes, self.queues[Q].send_batch, batch)
        if result is None:
            return
        assert not result.failed, result.failed
        ok = {s["Id"]: s for s in result.successful}
        for e in batch:  # in order: a later entry may duplicate an earlier one
            s = ok[e["Id"]]
            self.model.send(Q, e["MessageBody"], e["MessageGroupId"],
                            e.get("MessageDeduplicationId"), now, s["MessageId"],
                            int(s["SequenceNumber"]))

    # -- receiving --------------------------------------------------------------------------

    def _receive(self, queue: str, max_messages: int, wait: int | None,
                 timeout: int | None) -> list[dc.Message]:
        t0 = self.now
        effective_wait = self.queues[queue].receive_message_wait_time_seconds if wait is None \
            else wait
        end = self.model.receive_plan(queue, t0, effective_wait)
        messages = self.queues[queue].receive(max_messages, wait_seconds=wait,
                                              visibility_timeout=timeout)
        assert self.now == end, f"receive returned at {self.now}; the model says {end}"
        moved: set[str] = set()
        if queue == Q:
            in_dlq = self.entries(DLQ)
            moved = {mid for mid in in_dlq if self.model.messages[mid].queue == Q}
        deliveries = [
            FifoDelivery(
                m.message_id, m.body, m.message_group_id, m.message_deduplication_id,
                int(m.sequence_number or 0), m.receipt_handle, m.receive_count,
                None if m.dead_letter_queue_source_arn is None
                else m.dead_letter_queue_source_arn.rsplit(":", 1)[1],
            )
            for m in messages
        ]
        self.model.receive(queue, end, max_messages, timeout, deliveries, moved)
        self.model.learn_arrivals(DLQ, {
            mid: (e.seq, int(e.record.sequence_number)) for mid, e in self.entries(DLQ).items()
        })
        self.issued.extend((queue, m.receipt_handle) for m in messages)
        if len({m.message_group_id for m in messages}) > 1:
            event("receive: several groups")
        if len(messages) > len({m.message_group_id for m in messages}):
            event("receive: several of one group")
        if moved:
            event("receive: dead letters")
        if messages and end > t0:
            event("receive: long poll woke")
        return messages

    @rule(queue=receive_queues, max_messages=max_counts, wait=waits, timeout=timeouts)
    def receive(self, queue: str, max_messages: int, wait: int | None,
                timeout: int | None) -> None:
        self._receive(queue, max_messages, wait, timeout)

    @rule(queue=receive_queues, max_messages=max_counts, wait=waits, timeout=timeouts)
    def receive_more(self, queue: str, max_messages: int, wait: int | None,
                     timeout: int | None) -> None:
        self._receive(queue, max_messages, wait, timeout)

    @rule(queue=receive_queues, max_messages=max_counts, timeout=timeouts,
          crashed=st.lists(st.booleans(), min_size=10, max_size=10))
    def consume(self, queue: str, max_messages: int, timeout: int | None,
                crashed: list[bool]) -> None:
        """Receive, then delete what was processed (crashed ones come back later)."""
        for m, crash in zip(self._receive(queue, max_messages, 0, timeout), crashed,
                            strict=False):
            if not crash:
                self.delete_one(queue, m.receipt_handle)

    @rule(rounds=st.integers(1, 4), max_messages=st.sampled_from([1, 3, 10]))
    def poison(self, rounds: int, max_messages: int) -> None:
        """Consumers that always fail at once: messages pass maxReceiveCount and move."""
        for _ in range(rounds):
            self._receive(Q, max_messages, 0, 0)

    # -- handles ----------------------------------------------------------------------------

    def delete_one(self, queue: str, handle: Any) -> set[str]:
        now = self.now
        self.model.settle(now)
        codes = self.model.delete(queue, handle, now, self.well_formed(queue, handle))
        self.raises(codes, self.queues[queue].delete, handle)
        return codes

    @rule(ref=handle_refs, on=st.sampled_from([None, None, None, Q, DLQ]))
    def delete(self, ref: Any, on: str | None) -> None:
        queue, handle = self.handle_for(ref, on)
        codes = self.delete_one(queue, handle)
        event("delete: " + (", ".join(sorted(codes)) or "ok"))

    @rule(refs=st.lists(handle_refs, min_size=1, max_size=10))
    def delete_batch(self, refs: list[Any]) -> None:
        picked = [self.handle_for(r, None) for r in refs]
        queue = picked[0][0]
        now = self.now
        self.model.settle(now)
        entries = [{"Id": f"d{i}", "ReceiptHandle": h} for i, (_, h) in enumerate(picked)]
        expected = {
            e["Id"]: self.model.delete(queue, e["ReceiptHandle"], now,
                                       self.well_formed(queue, e["ReceiptHandle"]))
            for e in entries
        }
        result = self.queues[queue].delete_batch(entries)
        assert {f["Id"] for f in result.failed} == {i for i, c in expected.items() if c}
        for failure in result.failed:
            # An expired handle is reported as ReceiptHandleIsInvalid in batch results.
            allowed = expected[failure["Id"]] | (
                {"ReceiptHandleIsInvalid"} if "InvalidParameterValue" in expected[failure["Id"]]
                else set()
            )
            assert failure["Code"] in allowed

    @rule(ref=handle_refs, timeout=set_timeouts, on=st.sampled_from([None, None, None, Q, DLQ]))
    def change_visibility(self, ref: Any, timeout: int, on: str | None) -> None:
        queue, handle = self.handle_for(ref, on)
        now = self.now
        self.model.settle(now)
        codes = self.model.change_visibility_errors(queue, handle, timeout, now,
                                                    self.well_formed(queue, handle))
        self.raises(codes, self.queues[queue].change_visibility, handle, timeout)
        if not codes:
            self.model.change_visibility(queue, handle, timeout, now)
            event("change visibility: " + ("to 0" if timeout == 0 else "ok"))

    # -- time and purge ---------------------------------------------------------------------

    @rule(dt=steps)
    def advance(self, dt: float) -> None:
        self.clock.advance(dt)
        self.model.settle(self.now)

    @rule(queue=st.sampled_from([Q, Q, DLQ]))
    def purge(self, queue: str) -> None:
        now = self.now
        self.model.settle(now)
        self.raises(self.model.purge(queue, now), self.queues[queue].purge)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def agrees_with_model(self) -> None:
        model, now = self.model, self.now
        model.settle(now)
        everywhere: dict[str, str] = {}
        for name in QUEUES:
            queue = self.queues[name]
            attributes = queue.get_attributes()
            seen = {e.record.message_id: e for e in queue._ledger.entries()}
            expected = {m.message_id: m for m in model.held(name)}
            assert set(seen) == set(expected), (
                f"{name}: lost {sorted(set(expected) - set(seen))}, "
                f"unexpected {sorted(set(seen) - set(expected))}"
            )
            for mid, entry in seen.items():
                assert mid not in everywhere, f"{mid} is in {everywhere[mid]} and {name}"
                everywhere[mid] = name
                m = expected[mid]
                record = entry.record
                assert PLACES[entry.state] is m.place, (
                    f"{name}: {mid} ({m.group}, {m.body}) is {PLACES[entry.state].value}, "
                    f"model: {m.place.value}"
                )
                assert entry.receive_count == m.receive_count
                assert entry.receipt == m.receipt
                assert entry.sent_at == m.sent_at
                assert (record.body, record.group_id, record.dedup_id) == (
                    m.body, m.group, m.dedup_id)
                assert int(record.sequence_number) == m.sequence_number
                if m.place is Place.IN_FLIGHT:
                    assert entry.deadline == m.deadline
            order = sorted(seen, key=lambda mid: seen[mid].seq)
            assert order == [m.message_id for m in model.held(name)], f"{name}: arrival order"
            visible, in_flight, delayed = model.counts(name)
            assert attributes["ApproximateNumberOfMessages"] == str(visible)
            assert attributes["ApproximateNumberOfMessagesNotVisible"] == str(in_flight)
            assert attributes["ApproximateNumberOfMessagesDelayed"] == str(delayed)
            window = queue._dedup
            live_dedup = {}
            for key, value in window._values.items():
                if now < window._expires[key]:
                    mid, seq = _window_original(value)
                    live_dedup[key] = (mid, int(seq))
            assert live_dedup == {
                _window_key(*k): v for k, v in model.live_dedup(name, now).items()
            }, f"{name}: deduplication window"
            live_deleted = {h for h, until in queue._deleted_handles.expiries(now).items()
                            if now < until}
            assert live_deleted == {h for h, until in model.queues[name].deleted_handles.items()
                                    if now < until}

    def teardown(self) -> None:
        loop = getattr(self, "loop", None)
        if loop is not None:
            loop.stop()


FifoMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestFifoQueueModel = FifoMachine.TestCase


def test_long_poll_at_the_in_flight_limit_wakes_when_a_timeout_ends() -> None:
    """Found by this machine: a FIFO queue at its in-flight limit returned from its receive
    before settling the ledger, so a long poll waiting past an in-flight message's timeout saw
    the stale count forever and (on a ManualClock) never returned. The message must come back
    when its timeout ends, within the poll."""
    import threading

    loop = dc.EventLoop(clock=dc.ManualClock())
    q = dc.FifoQueue(loop, "limit.fifo", content_based_deduplication=True,
                     visibility_timeout=5)
    q.max_in_flight = 1
    q.send("a", message_group_id="g1")
    q.send("b", message_group_id="g2")
    assert [m.body for m in q.receive()] == ["a"]
    got: list[list[dc.Message]] = []
    poll = threading.Thread(target=lambda: got.append(q.receive(wait_seconds=10)), daemon=True)
    poll.start()
    poll.join(10)
    assert not poll.is_alive(), "the long poll never returned"
    assert [(m.body, m.receive_count) for m in got[0]] == [("a", 2)]
    assert loop.clock.now() == 5.0


def test_model_long_poll_on_a_group_freed_by_retention_returns_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found at soak size: the model ignored retention expiries. A message still in flight when
    its retention period ends is deleted, which frees its group; a long poll waiting on that
    group returns at that moment with the group's next message (the queue did; the model said
    the poll would run to its end). The falsifying program, replayed step by step."""
    monkeypatch.setattr(sys.modules[__name__], "event", lambda *args, **kwargs: None)
    state = FifoMachine()
    state.setup(timeout=0, retention=60, delay=0, content_based=False, scope="queue",
                max_receive_count=1, in_flight_limit=None, dlq_retention=60)
    state.receive(max_messages=1, queue=Q, timeout=None, wait=None)
    state.send_more(dedup="d2", delay=None, group="g2", text="a")
    state.advance(dt=40.5)
    state.consume(crashed=[True] + [False] * 9, max_messages=1, queue=Q, timeout=30)
    state.agrees_with_model()
    state.send_more(dedup="d1", delay=None, group="g2", text="a")
    state.receive(max_messages=1, queue=Q, timeout=None, wait=20)
    assert state.now == 60.0  # the first message's retention ended; "a" (d1) went out
    state.agrees_with_model()
    state.teardown()
