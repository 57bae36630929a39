"""Bad input, fuzzed: the FIFO-specific inputs of ``FifoQueue``.

Constructor attributes (``FifoQueue``, ``ContentBasedDeduplication``, ``DeduplicationScope``,
``FifoThroughputLimit``, FIFO redrive policies), ``send``/``send_batch`` with bad
``MessageGroupId``, ``MessageDeduplicationId`` and ``DelaySeconds``, ``receive`` with a bad
``receive_request_attempt_id``, ``set_attributes`` with FIFO attributes. The generic inputs
are fuzzed by tests/test_fuzz_queue.py.

The same two rules: only :class:`decoupling.errors.DecouplingError` subclasses with an AWS
``.code`` escape, and a rejected call changes nothing (both queues' attributes and held
messages, the deduplication window, the receive attempts, the sequence counter, the deleted
handles, the loop's registry).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_support import attempt
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_queue import PROFILE, anything, bad_text, batch_ids, bodies, to_json

import decoupling as dc

#: Examples per fuzzed callable: 10 by default, 500 at soak.
EXAMPLES = int(os.environ.get("DECOUPLING_FUZZ_EXAMPLES", 500 if PROFILE == "soak" else 10))
ARN = "arn:aws:sqs:us-east-1:000000000000:"


class World:
    """A FIFO queue with a FIFO DLQ: two groups, one message in flight from a receive with an
    attempt id, deduplication ids in the window."""

    def __init__(self) -> None:
        self.clock = dc.ManualClock(start=1000.0)
        self.loop = dc.EventLoop(clock=self.clock)
        self.dlq = dc.FifoQueue(self.loop, "dlq.fifo")
        self.q = dc.FifoQueue(self.loop, "q.fifo", content_based_deduplication=False,
                              redrive_policy=dc.RedrivePolicy(self.dlq, 3))
        self.q.send("a1", message_group_id="a", message_deduplication_id="d1")
        self.q.send("a2", message_group_id="a", message_deduplication_id="d2")
        self.q.send("b1", message_group_id="b", message_deduplication_id="d3")
        self.q.receive(1, receive_request_attempt_id="att")
        self.clock.advance(1)

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"now": self.clock.now(), "registry": sorted(self.loop._resources)}
        for queue in (self.q, self.dlq):
            ledger = queue._ledger
            out[queue.name] = {
                "attributes": queue.get_attributes(),
                "entries": [(e.record.body, e.record.message_id, e.state, e.receive_count,
                             e.receipt, e.deadline, e.available_at) for e in ledger.entries()],
                "handles": sorted(ledger.handles),
                "dedup": (dict(queue._dedup._values), dict(queue._dedup._expires)),
                "attempts": sorted(queue._attempts._values),
                "deleted": queue._deleted_handles.expiries(queue.loop.clock.now()),
                "sequence": queue._last_sequence,
            }
        return out


ids = st.one_of(anything, bad_text, st.sampled_from(
    ["a", "d1", "d3", "", "g" * 128, "g" * 129, "ü", "a b", "\x7f", "\t", "!~"]))
delays = st.one_of(anything, st.sampled_from([0, 1, -1, 900, "0", 0.0, True, None]))
flags = st.one_of(anything, st.sampled_from(["true", "false", "TRUE", "yes", 1, 0, True, False]))
scopes = st.one_of(anything, st.sampled_from(["queue", "messageGroup", "Queue", "", "group"]))
limits = st.one_of(anything, st.sampled_from(["perQueue", "perMessageGroupId", "perGroup"]))
fifo_attribute_maps = st.one_of(
    anything,
    st.fixed_dictionaries({}, optional={
        "FifoQueue": flags, "ContentBasedDeduplication": flags, "DeduplicationScope": scopes,
        "FifoThroughputLimit": limits,
        "RedrivePolicy": st.one_of(anything, st.builds(to_json, st.fixed_dictionaries({
            "deadLetterTargetArn": st.sampled_from([ARN + "dlq.fifo", ARN + "std", ARN + "q.fifo"]),
            "maxReceiveCount": st.one_of(anything, st.just(3))}))),
        "Unknown": anything, 5: anything,
    }),
)
send_kwargs = st.fixed_dictionaries({}, optional={
    "message_group_id": ids, "message_deduplication_id": ids, "delay_seconds": delays,
})
send_entries = st.one_of(
    bodies,
    st.fixed_dictionaries({"Id": batch_ids}, optional={
        "MessageBody": st.one_of(bodies, st.just("ok")), "MessageGroupId": ids,
        "MessageDeduplicationId": ids, "DelaySeconds": delays, "Other": anything,
    }),
)
send_batches = st.one_of(
    anything,
    st.lists(send_entries, max_size=12),
    st.lists(send_entries, min_size=2, max_size=4).map(lambda es: es + [es[0]]),
    st.builds(lambda field, value: [{"Id": "ok", "MessageBody": "m", "MessageGroupId": "g",
                                     "MessageDeduplicationId": "d9", field: value}],
              st.sampled_from(["MessageGroupId", "MessageDeduplicationId", "DelaySeconds"]),
              st.one_of(ids, delays)),
)

CALLS: dict[str, tuple[st.SearchStrategy[Any], Callable[[World, Any], Callable[[], object]]]] = {
    "FifoQueue": (
        st.tuples(
            st.one_of(anything, st.sampled_from(["q.fifo", "dlq.fifo", "new.fifo", "std", ".fifo",
                                                 "x" * 76 + ".fifo", "x" * 77 + ".fifo"])),
            st.fixed_dictionaries({}, optional={
                "content_based_deduplication": flags, "deduplication_scope": scopes,
                "fifo_throughput_limit": limits, "delay_seconds": delays,
                "redrive_policy": st.one_of(anything, st.just(dc.RedrivePolicy(ARN + "std", 3))),
                "attributes": fifo_attribute_maps,
            }),
        ),
        lambda w, a: lambda: dc.FifoQueue(w.loop, a[0], **a[1]),
    ),
    "send": (st.tuples(st.one_of(bodies, st.just("ok")), send_kwargs),
             lambda w, a: lambda: w.q.send(a[0], **a[1])),
    "send_batch": (send_batches, lambda w, a: lambda: w.q.send_batch(a)),
    "receive": (
        st.tuples(st.one_of(ids, st.just("att"), st.just("x" * 129)),
                  st.one_of(st.just(1), anything)),
        lambda w, a: lambda: w.q.receive(a[1], receive_request_attempt_id=a[0]),
    ),
    "set_attributes": (fifo_attribute_maps, lambda w, a: lambda: w.q.set_attributes(a)),
}


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_bad_fifo_input_raises_only_aws_errors_and_changes_nothing(
    method: str, data: st.DataObject
) -> None:
    strategy, make = CALLS[method]
    world = World()
    attempt(world, make(world, data.draw(strategy, label=method)))


@pytest.mark.parametrize("kwargs", [
    {}, {"message_group_id": "a"}, {"message_group_id": "a", "message_deduplication_id": "x",
                                    "delay_seconds": 5},
    {"message_group_id": "g" * 129, "message_deduplication_id": "x"},
    {"message_group_id": "a", "message_deduplication_id": "\ud800"},
])
def test_bad_fifo_sends_are_refused(kwargs: dict[str, Any]) -> None:
    world = World()
    assert attempt(world, lambda: world.q.send("m", **kwargs)) is not None


def test_the_world_holds_what_it_should() -> None:
    world = World()
    snap = world.snapshot()["q.fifo"]
    assert [e[0] for e in snap["entries"]] == ["a1", "a2", "b1"]
    assert snap["attempts"] == ["att"] and len(snap["dedup"][0]) == 3
