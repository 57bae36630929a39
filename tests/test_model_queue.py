"""Model-based test of the standard ``Queue``: a reference model runs beside the real queues.

Three queues on one virtual clock: ``src`` (redrive policy to ``dlq``, optionally a small
in-flight limit), ``dlq``, and ``alt`` (a plain queue, a destination for move tasks). Hypothesis
drives random programs of sends, batch sends (with failing entries), receives (short and long
polls, any batch size and visibility timeout), deletes and visibility changes with current,
stale, foreign and malformed handles, purges, attribute changes, move tasks and time steps up
to past retention. The plain model in ``tests/model/sqs_model.py`` judges every outcome.

After every step the real queues must agree with the model exactly: each message in exactly
one place (visible, delayed or in flight in one queue, or deleted, or expired), the same
``MessageId``, receive count, deadline and latest receipt handle, the approximate counts, and no
receipt handle kept for a message that is gone. A deleted message never comes back and nothing
is delivered after its retention period: both are checked on every receive.

Size: ``DECOUPLING_MODEL_EXAMPLES`` / ``DECOUPLING_MODEL_STEPS`` override the profile's figures
(ci: 40 programs of up to 30 steps; soak: 5,000 of up to 60). See RELIABILITY.md.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from model.sqs_model import (
    MAX_VISIBILITY,
    Delivery,
    Place,
    QueueModel,
    SqsModel,
)

import decoupling as dc
from decoupling._core.ledger import DELAYED, INFLIGHT, VISIBLE
from decoupling.clock import DEFAULT_EPOCH
from decoupling.message import md5_of_body

QUEUES = ("src", "dlq", "alt")
SENDABLE = ("src", "alt")  # the DLQ gets messages only as dead letters (see RELIABILITY.md)
PLACES = {DELAYED: Place.DELAYED, VISIBLE: Place.VISIBLE, INFLIGHT: Place.IN_FLIGHT}
#: The DLQ's visibility timeouts stay short so that a running move task (one step a second)
#: never has to wait long for a message in flight; long timeouts are tried on src and alt.
DLQ_MAX_TIMEOUT = 30

PROFILE = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE", "ci")
EXAMPLES = int(os.environ.get("DECOUPLING_MODEL_EXAMPLES", 5000 if PROFILE == "soak" else 40))
STEPS = int(os.environ.get("DECOUPLING_MODEL_STEPS", 60 if PROFILE == "soak" else 30))

# -- strategies -------------------------------------------------------------------------------

GOOD_CHARS = ["a", "Z", "0", " ", "\t", "\n", "\r", "é", "\ud7ff", "\ue000", "\ufffd", "😀",
              "\U0010ffff", "<", "&"]
BAD_BODIES = ["", "\x00", "a\x1f", "\ud800", "x\udfff", "\ufffe", "\uffff", "ok\x0b"]
suffixes = st.text(st.sampled_from(GOOD_CHARS), max_size=4)
bad_bodies = st.sampled_from(BAD_BODIES)
#: A message text: a suffix for a fresh, unique, valid body, or "!" and a body that must fail.
texts = st.one_of(*[suffixes] * 7, bad_bodies.map(lambda b: "!" + b))
# Valid arguments come more often than invalid ones (repeats in sampled_from weight them).
delays = st.sampled_from([None] * 8 + [0, 0, 1, 3, 30, 900] + [-1, 901, True, "5", 2.5])
max_counts = st.sampled_from([1, 1, 1, 2, 3, 10, 10, 10] + [0, 11, True])
waits = st.sampled_from([None] * 5 + [0, 0, 0, 1, 5, 20] + [21, -1])
set_timeouts = st.sampled_from([0, 0, 0, 1, 1, 2, 5, 30, 30, 600, 43_200] + [-1, 43_201, True, "30"])
timeouts = st.one_of(st.none(), st.none(), set_timeouts)
steps = st.one_of(
    st.sampled_from([0, 0.5, 1, 2, 5, 29.5, 30, 31, 59, 60, 61]),
    st.integers(0, 90).map(float),
    st.sampled_from([0.5, 1.0, 1.0, 2.0, 5.0, 30.0, 31.0]),
    st.sampled_from([120.0, 600.0, 3600.0, 43_200.0, 345_600.0, 1_209_601.0]),
)
garbage_handles = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "AQEB" * 10, "0", "ff", " 1", "-1", "0x1", "1_0", "F"]),
    st.none(),
    st.integers(),
    st.just(b"bytes"),
)
receive_queues = st.sampled_from(["src", "src", "src", "dlq", "dlq", "alt"])
#: A handle reference: mostly an issued handle (an int: 0 is the latest issued, 1 the one
#: before, ...; recent handles are more often current), sometimes a malformed one.
handle_refs = st.one_of(
    st.integers(0, 12), st.integers(0, 12), st.integers(0, 12),
    st.tuples(garbage_handles, st.sampled_from(["as is", "prefix+", "prefix+hex", "prefix+x"])),
)


def _queue_name(arn: str | None) -> str | None:
    return None if arn is None else arn.rsplit(":", 1)[1]


def timeout_for(queue: str, timeout: Any) -> Any:
    """Cap valid DLQ timeouts (see DLQ_MAX_TIMEOUT); leave invalid ones alone."""
    if queue == "dlq" and type(timeout) is int and DLQ_MAX_TIMEOUT < timeout <= MAX_VISIBILITY:
        return DLQ_MAX_TIMEOUT
    return timeout


class QueueMachine(RuleBasedStateMachine):

    @initialize(
        src_timeout=st.sampled_from([0, 1, 1, 5, 30]),
        src_retention=st.sampled_from([60, 120, 3600, 345_600]),
        src_delay=st.sampled_from([0, 0, 3]),
        max_receive_count=st.sampled_from([1, 2, 3]),
        in_flight_limit=st.sampled_from([None, None, 2, 5]),
        dlq_timeout=st.sampled_from([1, 5, 30]),
        dlq_retention=st.sampled_from([60, 600, 1_209_600]),
        alt_wait=st.sampled_from([0, 2]),
        preload=st.lists(st.tuples(st.sampled_from(SENDABLE), suffixes), max_size=12),
    )
    def setup(
        self,
        src_timeout: int,
        src_retention: int,
        src_delay: int,
        max_receive_count: int,
        in_flight_limit: int | None,
        dlq_timeout: int,
        dlq_retention: int,
        alt_wait: int,
        preload: list[tuple[str, str]],
    ) -> None:
        self.clock = dc.ManualClock()
        self.loop = dc.EventLoop(clock=self.clock)
        dlq = dc.Queue(self.loop, "dlq", visibility_timeout=dlq_timeout,
                       message_retention_period=dlq_retention)
        src = dc.Queue(
            self.loop, "src", visibility_timeout=src_timeout,
            message_retention_period=src_retention, delay_seconds=src_delay,
            redrive_policy=dc.RedrivePolicy(dlq, max_receive_count),
        )
        if in_flight_limit is not None:
            src.max_in_flight = in_flight_limit
        alt = dc.Queue(self.loop, "alt", receive_message_wait_time_seconds=alt_wait)
        self.queues: dict[str, dc.Queue] = {"src": src, "dlq": dlq, "alt": alt}
        self.model = SqsModel()
        self.model.add_queue(QueueModel(
            "src", src_timeout, src_retention, src_delay, dead_letter_queue="dlq",
            max_receive_count=max_receive_count, max_in_flight=in_flight_limit,
        ))
        self.model.add_queue(QueueModel("dlq", dlq_timeout, dlq_retention))
        self.model.add_queue(QueueModel("alt", wait=alt_wait))
        self.sent_ms: dict[str, int] = {}
        self.issued: list[tuple[str, str]] = []  # (queue, handle), oldest first
        self.task_handles: list[str] = []
        self.n = 0
        for queue, suffix in preload:
            self._send(queue, suffix, None)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.clock.now()

    def pick(self, index: int) -> tuple[str, str]:
        return self.issued[-1 - index % len(self.issued)]

    def new_body(self, suffix: str) -> str:
        self.n += 1
        return f"m{self.n}|{suffix}"

    def observe(self, name: str) -> tuple[dict[str, str], dict[str, Any]]:
        """The real queue's attributes and its held entries by body (settles it)."""
        queue = self.queues[name]
        attributes = queue.get_attributes()
        return attributes, {e.record.body: e for e in queue._ledger.entries()}

    def moved_out_of(self, source: str) -> dict[str, str]:
        """Bodies the model holds in ``source`` that the real queues now hold elsewhere, with
        their (real) MessageId there."""
        out: dict[str, str] = {}
        for name in QUEUES:
            if name == source:
                continue
            for body, entry in self.observe(name)[1].items():
                m = self.model.messages.get(body)
                if m is not None and m.queue == source:
                    out[body] = entry.record.message_id
        return out

    def raises(self, codes: set[str], call: Any, *args: Any, **kwargs: Any) -> Any:
        """Call; if ``codes`` is non-empty the call must fail with one of them."""
        try:
            result = call(*args, **kwargs)
        except dc.DecouplingError as error:
            assert codes, f"{call.__name__}{args} failed unexpectedly: {error}"
            assert error.code in codes, f"{call.__name__}: {error.code}, expected one of {codes}"
            return None
        assert not codes, f"{call.__name__}{args} succeeded; expected one of {codes}"
        return result

    def well_formed(self, name: str, handle: object) -> bool:
        """Shaped like a handle ``name`` issues (such a handle, never issued, counts as stale)."""
        prefix = self.queues[name]._ledger.receipt_prefix
        return (
            isinstance(handle, str) and handle.startswith(prefix)
            and len(handle) > len(prefix)
            and all(c in "0123456789abcdef" for c in handle[len(prefix):])
        )

    # -- sending ----------------------------------------------------------------------------

    def _send(self, queue: str, text: str, delay: Any) -> None:
        body = text[1:] if text.startswith("!") else self.new_body(text)
        codes = self.model.send_errors(body, delay)
        now = self.now
        result = self.raises(codes, self.queues[queue].send, body, delay_seconds=delay)
        if result is not None:
            assert result.md5_of_message_body == md5_of_body(body)
            self.model.send(queue, body, delay, now, result.message_id)
            self.sent_ms[body] = self.clock.wall_ms()

    @rule(queue=st.sampled_from(SENDABLE), text=texts, delay=delays)
    def send(self, queue: str, text: str, delay: Any) -> None:
        self._send(queue, text, delay)

    @rule(queue=st.sampled_from(SENDABLE), text=texts, delay=delays)
    def send_more(self, queue: str, text: str, delay: Any) -> None:
        self._send(queue, text, delay)

    @rule(
        queue=st.sampled_from(SENDABLE),
        entries=st.lists(st.tuples(texts, delays), max_size=11),
        ids=st.sampled_from(["plain", "plain", "plain", "duplicate", "bad"]),
    )
    def send_batch(self, queue: str, entries: list[tuple[str, Any]], ids: str) -> None:
        batch: list[dict[str, Any]] = []
        for index, (text, delay) in enumerate(entries):
            body = text[1:] if text.startswith("!") else self.new_body(text)
            entry: dict[str, Any] = {"Id": f"e{index}", "MessageBody": body}
            if delay is not None:
                entry["DelaySeconds"] = delay
            batch.append(entry)
        if batch and ids == "duplicate":
            if len(batch) == 1:
                batch.append({"Id": "e1", "MessageBody": self.new_body("dup")})
            batch[-1]["Id"] = batch[0]["Id"]
        elif batch and ids == "bad":
            batch[len(batch) // 2]["Id"] = "bad id!"
        codes = self.model.batch_errors([e["Id"] for e in batch])
        now = self.now
        result = self.raises(codes, self.queues[queue].send_batch, batch)
        if result is None:
            return
        expected_failed = {
            e["Id"]: self.model.send_errors(e["MessageBody"], e.get("DelaySeconds"))
            for e in batch
        }
        failed = {f["Id"]: f for f in result.failed}
        assert set(failed) == {i for i, c in expected_failed.items() if c}, result.failed
        for entry_id, failure in failed.items():
            assert failure["Code"] in expected_failed[entry_id]
            assert failure["SenderFault"] is True
        ok = {s["Id"]: s for s in result.successful}
        assert set(ok) | set(failed) == {e["Id"] for e in batch}
        for e in batch:
            if e["Id"] in ok:
                assert ok[e["Id"]]["MD5OfMessageBody"] == md5_of_body(e["MessageBody"])
                self.model.send(queue, e["MessageBody"], e.get("DelaySeconds"), now,
                                ok[e["Id"]]["MessageId"])
                self.sent_ms[e["MessageBody"]] = self.clock.wall_ms()
        if failed and ok:
            event("send batch: some entries failed")

    # -- receiving --------------------------------------------------------------------------

    def _receive(self, queue: str, max_messages: Any, wait: Any, timeout: Any) -> None:
        if self.model.running_task() is not None:
            wait = 0  # a long poll would fire the task's timers mid-call (see RELIABILITY.md)
        timeout = timeout_for(queue, timeout)
        codes = self.model.receive_errors(max_messages, wait, timeout)
        if codes:
            self.raises(codes, self.queues[queue].receive, max_messages, wait_seconds=wait,
                        visibility_timeout=timeout)
            return
        t0 = self.now
        end, outcome = self.model.receive_plan(queue, t0, wait)
        try:
            messages = self.queues[queue].receive(
                max_messages, wait_seconds=wait, visibility_timeout=timeout
            )
        except dc.errors.OverLimit:
            assert outcome == "OverLimit", f"OverLimit at {self.now}; the model says {outcome}"
            assert self.now == end
            event("receive: OverLimit")
            return
        assert outcome != "OverLimit", f"expected OverLimit at {end}, received at {self.now}"
        assert self.now == end, f"receive returned at {self.now}; the model says {end} ({outcome})"
        if outcome == "empty":
            assert messages == []
        moved: set[str] = set()
        if queue == "src":
            # Dead letters: visible messages the real src no longer holds and did not return.
            # (Not "now in the DLQ": one past the DLQ's retention expires on arrival.)
            held = self.observe("src")[1]
            returned = {m.body for m in messages}
            moved = {
                m.body for m in self.model.held("src", Place.VISIBLE)
                if m.body not in held and m.body not in returned
            }
        deliveries = [
            Delivery(m.body, m.message_id, m.receipt_handle, m.receive_count,
                     _queue_name(m.dead_letter_queue_source_arn))
            for m in messages
        ]
        self.model.receive(queue, end, max_messages, timeout, deliveries, moved)
        for m in messages:
            record = self.model.messages[m.body]
            assert m.md5_of_body == md5_of_body(m.body)
            if not record.moved_by_task:
                assert m.sent_timestamp == self.sent_ms[m.body]
            assert record.first_received_at is not None
            first_ms = (record.first_received_at + DEFAULT_EPOCH) * 1000
            assert abs(m.first_receive_timestamp - first_ms) <= 1
        self.issued.extend((queue, m.receipt_handle) for m in messages)
        event(f"receive: {outcome}" + (" after waiting" if end > t0 else ""))
        if any(m.receive_count > 1 for m in messages):
            event("receive: redelivery")
        if moved:
            event("receive: moved dead letters")

    @rule(queue=receive_queues, max_messages=max_counts, wait=waits, timeout=timeouts)
    def receive(self, queue: str, max_messages: Any, wait: Any, timeout: Any) -> None:
        self._receive(queue, max_messages, wait, timeout)

    @rule(queue=receive_queues, max_messages=max_counts, wait=waits, timeout=timeouts)
    def receive_more(self, queue: str, max_messages: Any, wait: Any, timeout: Any) -> None:
        self._receive(queue, max_messages, wait, timeout)

    @rule(queue=receive_queues, max_messages=max_counts, timeout=timeouts,
          keep=st.lists(st.booleans(), min_size=10, max_size=10))
    def consume(self, queue: str, max_messages: Any, timeout: Any, keep: list[bool]) -> None:
        """A consumer: receive (short poll), then delete the messages it processed; the others
        ("crashed") come back when their visibility timeout ends."""
        before = len(self.issued)
        self._receive(queue, max_messages, 0, timeout)
        for (name, handle), crashed in zip(self.issued[before:], keep, strict=False):
            if not crashed:
                self.model.settle(self.now)
                codes = self.delete_codes(name, handle)
                self.raises(codes, self.queues[name].delete, handle)

    @rule(rounds=st.integers(1, 4), max_messages=st.sampled_from([1, 3, 10]))
    def poison(self, rounds: int, max_messages: int) -> None:
        """Consumers that keep failing: receive src again and again, giving every message back
        at once (visibility timeout 0), so messages pass maxReceiveCount and dead-letter."""
        for _ in range(rounds):
            self._receive("src", max_messages, 0, 0)

    # -- deleting and changing visibility ---------------------------------------------------

    def handle_for(self, ref: int | tuple[Any, str], on: str | None) -> tuple[str, Any]:
        """(queue, handle) for a rule's handle reference: an issued handle (an int picks one;
        none issued yet: a garbage one) or a malformed one shaped by ``(raw, shape)``."""
        if isinstance(ref, int):
            if self.issued:
                queue, handle = self.pick(ref)
                return on or queue, handle
            ref = ("", "as is")
        raw, shape = ref
        queue = on or "src"
        prefix = self.queues[queue]._ledger.receipt_prefix
        if shape == "prefix+":
            return queue, prefix
        if shape == "prefix+hex":
            return queue, prefix + "fffffff"  # well-formed, never issued
        if shape == "prefix+x":
            return queue, prefix + str(raw)
        return queue, raw

    def delete_codes(self, name: str, handle: object) -> set[str]:
        """Judge (and apply to the model) a delete."""
        if not self.model.issued_by(name, handle) and self.well_formed(name, handle):
            return set()  # a handle of this queue's shape it never issued: stale, a no-op
        return self.model.delete(name, handle)

    @rule(ref=handle_refs, on=st.sampled_from([None, None, None, *QUEUES]))
    def delete(self, ref: Any, on: str | None) -> None:
        target, handle = self.handle_for(ref, on)
        self.model.settle(self.now)
        held = len(self.model.held(target))
        codes = self.delete_codes(target, handle)
        self.raises(codes, self.queues[target].delete, handle)
        gone = held - len(self.model.held(target))
        event("delete: " + ("refused" if codes else "deleted" if gone else "stale, no-op"))

    @rule(ref=handle_refs, on=st.sampled_from([None, None, None, *QUEUES]))
    def delete_more(self, ref: Any, on: str | None) -> None:
        self.delete(ref, on)

    @rule(refs=st.lists(handle_refs, max_size=11), on=st.sampled_from([None, *QUEUES]))
    def delete_batch(self, refs: list[Any], on: str | None) -> None:
        picked = [self.handle_for(r, on) for r in refs]
        queue = picked[0][0] if picked else on or "src"
        entries = [{"Id": f"d{i}", "ReceiptHandle": h} for i, (_, h) in enumerate(picked)]
        codes = self.model.batch_errors([e["Id"] for e in entries])
        self.model.settle(self.now)
        if codes:
            self.raises(codes, self.queues[queue].delete_batch, entries)
            return
        expected = {e["Id"]: self.delete_codes(queue, e["ReceiptHandle"]) for e in entries}
        result = self.queues[queue].delete_batch(entries)
        assert {f["Id"] for f in result.failed} == {i for i, c in expected.items() if c}
        for failure in result.failed:
            assert failure["Code"] in expected[failure["Id"]]
        assert {s["Id"] for s in result.successful} == {i for i, c in expected.items() if not c}

    def change_codes(self, queue: str, handle: object, timeout: object, now: float) -> set[str]:
        codes = self.model.change_visibility_errors(queue, handle, timeout, now)
        if not self.model.issued_by(queue, handle) and self.well_formed(queue, handle):
            # Shaped like this queue's handles but never issued: treated as a stale handle.
            codes.discard("ReceiptHandleIsInvalid")
            codes.add("InvalidParameterValue")
        return codes

    @rule(ref=handle_refs, timeout=set_timeouts,
          on=st.sampled_from([None, None, None, None, *QUEUES]))
    def change_visibility(self, ref: Any, timeout: Any, on: str | None) -> None:
        target, handle = self.handle_for(ref, on)
        timeout = timeout_for(target, timeout)
        now = self.now
        self.model.settle(now)
        codes = self.change_codes(target, handle, timeout, now)
        self.raises(codes, self.queues[target].change_visibility, handle, timeout)
        if not codes:
            self.model.change_visibility(target, handle, timeout, now)
            event("change visibility: " + ("to 0" if timeout == 0 else "changed"))

    @rule(refs=st.lists(st.tuples(handle_refs, timeouts), min_size=1, max_size=10),
          on=st.sampled_from([None, None, *QUEUES]))
    def change_visibility_batch(self, refs: list[tuple[Any, Any]], on: str | None) -> None:
        picked = [(self.handle_for(r, on), t) for r, t in refs]
        queue = picked[0][0][0]
        now = self.now
        self.model.settle(now)
        entries = []
        for i, ((_, handle), timeout) in enumerate(picked):
            entry = {"Id": f"c{i}", "ReceiptHandle": handle}
            if timeout is not None:
                entry["VisibilityTimeout"] = timeout_for(queue, timeout)
            entries.append(entry)
        # Judge entry by entry, in order, applying each to the model as the queue does.
        expected: dict[str, set[str]] = {}
        for e in entries:
            timeout = e.get("VisibilityTimeout")
            codes = self.change_codes(queue, e["ReceiptHandle"], timeout, now)
            expected[e["Id"]] = codes
            if not codes:
                self.model.change_visibility(queue, e["ReceiptHandle"], timeout, now)
        result = self.queues[queue].change_visibility_batch(entries)
        assert {f["Id"] for f in result.failed} == {i for i, c in expected.items() if c}
        for failure in result.failed:
            assert failure["Code"] in expected[failure["Id"]]

    # -- time -------------------------------------------------------------------------------

    def advance_to(self, target: float) -> None:
        """Move the clock to ``target``, one move-task step at a time."""
        while (due := self.loop.next_timer_due()) is not None and due <= target:
            self.model.settle(due)
            plan = self.model.task_step_plan()
            assert plan is not None, f"a timer is due at {due} but the model has no task"
            self.clock.advance_to(due)
            moved = self.moved_out_of(plan[0].source) if plan[1] else {}
            self.model.task_step(due, moved)
            if moved:
                event("move task: moved messages")
        expired = sum(m.place is Place.EXPIRED for m in self.model.all_messages())
        self.clock.advance_to(target)
        self.model.settle(target)
        if sum(m.place is Place.EXPIRED for m in self.model.all_messages()) > expired:
            event("advance: messages expired")

    @rule(dt=steps)
    def advance(self, dt: float) -> None:
        if self.model.running_task() is not None:
            dt = min(dt, 61.0)  # a task steps every second: keep the walk short
        self.advance_to(self.now + dt)

    @rule(dt=steps)
    def advance_more(self, dt: float) -> None:
        self.advance(dt)

    # -- whole queues -----------------------------------------------------------------------

    @rule(queue=st.sampled_from(QUEUES))
    def purge(self, queue: str) -> None:
        now = self.now
        self.model.settle(now)
        self.raises(self.model.purge(queue, now), self.queues[queue].purge)

    @rule(
        queue=st.sampled_from(QUEUES),
        name=st.sampled_from(["VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod"]),
        value=st.one_of(
            st.sampled_from([0, 1, 5, 30, 59, 60, 61, 120, 900, 901, 3600, 1_209_600]),
            st.sampled_from([-1, 1_209_601, "30", "x", None, 2.5]),
        ),
    )
    def set_attribute(self, queue: str, name: str, value: Any) -> None:
        if queue == "dlq" and name == "VisibilityTimeout":
            value = timeout_for("dlq", value)
        low, high = {
            "VisibilityTimeout": (0, MAX_VISIBILITY),
            "DelaySeconds": (0, 900),
            "MessageRetentionPeriod": (60, 1_209_600),
        }[name]
        number = int(value) if isinstance(value, str) and value.isdigit() else value
        valid = type(number) is int and low <= number <= high
        self.raises(set() if valid else {"InvalidAttributeValue"},
                    self.queues[queue].set_attributes, {name: value})
        if valid:
            q = self.model.queues[queue]
            if name == "VisibilityTimeout":
                q.visibility_timeout = number
            elif name == "DelaySeconds":
                q.delay = number
            else:
                q.retention = number
            self.model.settle(self.now)

    # -- move tasks -------------------------------------------------------------------------

    @rule(
        source=st.sampled_from(["dlq", "dlq", "dlq", "alt"]),
        rate=st.sampled_from([None, None, 1, 2, 3, 500, 0, 501]),
        destination=st.sampled_from([None, None, "src", "alt"]),
    )
    def start_move_task(self, source: str, rate: Any, destination: str | None) -> None:
        now = self.now
        self.model.settle(now)
        codes = self.model.start_task_errors(source, rate)
        target = None if destination is None else self.queues[destination]
        handle = self.raises(codes, self.queues[source].start_message_move_task, target,
                             max_messages_per_second=rate)
        if handle is not None:
            self.model.start_task(source, destination, rate, now)
            self.task_handles.insert(0, handle)

    @rule(garbage=st.sampled_from(["", "x", "e30=", "bm90IGpzb24="]))
    def cancel_move_task(self, garbage: str) -> None:
        if not self.task_handles:
            with pytest.raises(dc.errors.InvalidParameterValue):
                self.queues["dlq"].cancel_message_move_task(garbage)
            return
        moved = self.model.cancel_task()
        try:
            result = self.queues["dlq"].cancel_message_move_task(self.task_handles[0])
        except dc.errors.UnsupportedOperation:
            assert moved is None
        else:
            assert result == moved

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def agrees_with_model(self) -> None:
        model = self.model
        model.settle(self.now)
        everywhere: dict[str, str] = {}
        for name in QUEUES:
            attributes, seen = self.observe(name)
            expected = {m.body: m for m in model.held(name)}
            missing, extra = set(expected) - set(seen), set(seen) - set(expected)
            assert not missing and not extra, (
                f"{name}: lost {sorted(missing)} (model: "
                f"{[model.messages[b].place.value for b in missing]}); "
                f"unexpected {sorted(extra)} "
                f"(model: {[(model.messages[b].queue, model.messages[b].place.value) for b in extra if b in model.messages]})"
            )
            for body, entry in seen.items():
                assert body not in everywhere, f"{body} is in {everywhere[body]} and {name}"
                everywhere[body] = name
                m = expected[body]
                assert PLACES[entry.state] is m.place, (
                    f"{name}: {body} is {PLACES[entry.state].value}, model: {m.place.value}"
                )
                assert entry.record.message_id == m.message_id
                assert entry.receive_count == m.receive_count, (
                    f"{name}: {body} receive count {entry.receive_count}, "
                    f"model {m.receive_count}"
                )
                assert entry.sent_at == m.sent_at
                assert entry.receipt == m.receipt, f"{name}: {body} latest handle differs"
                if m.place is Place.IN_FLIGHT:
                    assert entry.deadline == m.deadline, f"{name}: {body} deadline differs"
                elif m.place is Place.DELAYED:
                    assert entry.available_at == m.available_at
            live_handles = {m.receipt for m in expected.values() if m.receipt is not None}
            assert set(self.queues[name]._ledger.handles) == live_handles, (
                f"{name}: receipt handles kept for messages that are gone"
            )
            visible, in_flight, delayed = model.counts(name)
            assert attributes["ApproximateNumberOfMessages"] == str(visible)
            assert attributes["ApproximateNumberOfMessagesNotVisible"] == str(in_flight)
            assert attributes["ApproximateNumberOfMessagesDelayed"] == str(delayed)

    @invariant()
    def move_tasks_agree(self) -> None:
        tasks = self.queues["dlq"].list_message_move_tasks(10)
        model_tasks = [t for t in self.model.tasks if t.source == "dlq"][:10]
        assert [t["Status"] for t in tasks] == [t.status for t in model_tasks]
        for real, model in zip(tasks, model_tasks, strict=True):
            assert real["ApproximateNumberOfMessagesMoved"] == model.moved
            assert real["ApproximateNumberOfMessagesToMove"] == model.to_move
        running = self.model.running_task()
        due = None if running is None else running.next_step
        assert self.loop.next_timer_due() == due

    def teardown(self) -> None:
        loop = getattr(self, "loop", None)
        if loop is not None:
            loop.stop()


QueueMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    # No "explain" phase: on a state machine it reruns the failing program hundreds of times.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStandardQueueModel = QueueMachine.TestCase
