"""Bad input, fuzzed: every public method of ``Queue`` with hypothesis-generated arguments.

Wrong types, out-of-range and non-finite numbers, lone UTF-16 surrogates and forbidden
characters in bodies, oversized bodies and batches, duplicate and malformed batch ids, unknown
attribute names, malformed redrive policies, stale, foreign and malformed receipt handles.

Two rules, checked on every example:

* the only exceptions are :class:`decoupling.errors.DecouplingError` subclasses carrying an AWS
  ``.code`` (never a ``TypeError``, ``AttributeError``, ``ValueError``... from inside);
* a rejected call changes nothing: a snapshot of both queues (every attribute and count, the
  tags, every held message's id, place, receive count, deadline and receipt handle, the live
  handles, the move tasks, the loop's registry and clock) is the same before and after.

A call that succeeds is fine (random arguments are sometimes valid); the model-based test
checks what successful calls do.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fuzz_support import attempt
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import decoupling as dc
from decoupling.message import MessageAttributeValue

MIB = 1_048_576
PROFILE = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE", "ci")
#: Examples per fuzzed callable: 10 at CI size (26 callables: 260 calls; the FIFO, topic and
#: function fuzzers' size too; derandomized, so the same calls every run), 1,000 at soak.
EXAMPLES = int(os.environ.get("DECOUPLING_FUZZ_EXAMPLES", 1000 if PROFILE == "soak" else 10))


# -- the world each example starts from ---------------------------------------------------------


class World:
    """A source queue with a DLQ, holding a message in every place: visible, delayed, in flight,
    visible again after a receive, and dead-lettered."""

    def __init__(self) -> None:
        self.clock = dc.ManualClock(start=1000.0)
        self.loop = dc.EventLoop(clock=self.clock)
        self.dlq = dc.Queue(self.loop, "dlq", visibility_timeout=30)
        self.src = dc.Queue(
            self.loop, "src", visibility_timeout=30, tags={"team": "a"},
            redrive_policy=dc.RedrivePolicy(self.dlq, 3),
        )
        self.src.send("dead")
        for _ in range(3):
            self.src.receive(visibility_timeout=0)
        assert self.src.receive() == []  # receive count 3 reached: "dead" moves to the DLQ
        self.src.send("visible", message_attributes={"n": 1, "s": "x", "b": b"\x00"})
        self.src.send("in flight")
        first = {m.body: m for m in self.src.receive(10, visibility_timeout=0)}
        second = {m.body: m for m in self.src.receive(10, visibility_timeout=30)}
        self.src.change_visibility(second["visible"].receipt_handle, 0)
        self.src.send("delayed", delay_seconds=60)
        self.src.send("again")
        self.stale = first["visible"].receipt_handle
        self.handles = [self.stale, second["visible"].receipt_handle,
                        second["in flight"].receipt_handle]
        self.dlq_handle = self.dlq.receive(visibility_timeout=0)[0].receipt_handle
        self.prefix = self.src._ledger.receipt_prefix

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"now": self.clock.now(), "wall": self.clock.wall_ms()}
        out["registry"] = sorted(self.loop._resources)
        for queue in (self.src, self.dlq):
            ledger = queue._ledger
            out[queue.name] = {
                "attributes": queue.get_attributes(),
                "tags": queue.list_tags(),
                "entries": [
                    (e.record.body, e.record.message_id, e.state, e.receive_count, e.receipt,
                     e.deadline, e.available_at, e.sent_at, e.record.attributes)
                    for e in ledger.entries()
                ],
                "handles": sorted(ledger.handles),
                "counts": (ledger.n_visible, ledger.n_inflight, ledger.n_delayed),
                "tasks": queue.list_message_move_tasks(10),
                "last_purge": queue._last_purge,
            }
        return out


# -- strategies ---------------------------------------------------------------------------------

surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
forbidden = st.sampled_from(["\x00", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800",
                             "a\udfffb", "\x7f\x00"])
bad_text = st.one_of(surrogates, forbidden, st.builds(lambda a, b: a + b, st.text(), forbidden))


class Big(str):
    """A long string that prints short (hypothesis prints failing examples)."""

    def __repr__(self) -> str:
        return f"<{len(self)} chars: {self[:1]!r}...>"


huge = st.sampled_from([
    Big("x" * (MIB + 1)), Big("é" * (MIB // 2 + 1)), Big("😀" * (MIB // 4 + 1)), Big("x" * MIB),
])
numbers = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True),
    st.sampled_from([-1, 0, 1, 10, 11, 20, 21, 900, 901, 43_200, 43_201, 2**63, True, False]),
)
scalars = st.one_of(
    st.none(), st.booleans(), numbers, st.text(max_size=8), bad_text, st.binary(max_size=8),
    st.just(object()), st.just(Decimal("sNaN")), st.just(float("nan")),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.tuples(inner), st.sets(st.integers(), max_size=2),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.none()), inner,
                        max_size=3),
    ),
    max_leaves=6,
)
#: Dictionary keys: anything hashable.
keys = st.one_of(st.text(max_size=6), st.integers(), st.none(), st.booleans(), st.tuples())
unhashables = st.one_of(st.just([]), st.just({}), st.just([["x"]]), st.just({"a": []}))

attribute_names = st.one_of(
    st.sampled_from(["VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod",
                     "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy",
                     "RedriveAllowPolicy", "FifoQueue", "ContentBasedDeduplication", "All",
                     "QueueArn", "ApproximateNumberOfMessages", "visibilitytimeout", "",
                     "Policy", "KmsMasterKeyId"]),
    st.text(max_size=10), anything,
)
dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq"


def to_json(value: Any) -> str:
    """JSON text of any generated value (unknown types as their repr)."""
    return json.dumps(value, default=repr, skipkeys=True)


redrive_values = st.one_of(
    anything,
    st.builds(to_json, st.fixed_dictionaries(
        {"deadLetterTargetArn": st.one_of(st.just(dlq_arn), anything),
         "maxReceiveCount": st.one_of(st.sampled_from(["²", "٣", " 5 ", "1e3", "0", "1001"]),
                                      anything)},
        optional={"extra": anything},
    )),
    st.sampled_from(["{", "[]", "null", '{"maxReceiveCount": 5}',
                     '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:src",'
                     ' "maxReceiveCount": 5}',
                     '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope",'
                     ' "maxReceiveCount": 5}']),
    st.fixed_dictionaries({"deadLetterTargetArn": anything, "maxReceiveCount": anything}),
)
allow_values = st.one_of(
    anything,
    st.fixed_dictionaries(
        {"redrivePermission": st.one_of(st.sampled_from(["allowAll", "denyAll", "byQueue"]),
                                        anything)},
        optional={"sourceQueueArns": st.one_of(anything, st.lists(anything, max_size=12)),
                  "other": anything},
    ).map(lambda d: st.sampled_from([d, to_json(d)])).flatmap(lambda s: s),
)
attribute_maps = st.one_of(
    anything,
    st.dictionaries(attribute_names.filter(lambda n: isinstance(n, str)),
                    st.one_of(anything, redrive_values, allow_values), max_size=3),
    st.builds(lambda v: {"RedrivePolicy": v}, redrive_values),
    st.builds(lambda v: {"RedriveAllowPolicy": v}, allow_values),
)
message_attribute_values = st.one_of(
    anything,
    st.builds(MessageAttributeValue, st.one_of(st.sampled_from(
        ["String", "Number", "Binary", "String.x", "Number.", "Blob", "string", ""]), anything),
        st.one_of(st.none(), st.text(max_size=4), bad_text, anything),
        st.one_of(st.none(), st.binary(max_size=4), st.text(max_size=4), anything)),
    st.fixed_dictionaries({}, optional={
        "DataType": st.one_of(st.sampled_from(["String", "Number", "Binary", "Number.i"]),
                              anything),
        "StringValue": st.one_of(st.text(max_size=4), bad_text, st.sampled_from(
            ["1e127", "1e-130", "1" * 39, "NaN", "0x1", "", " 1"]), anything),
        "BinaryValue": st.one_of(st.binary(max_size=4), anything),
    }),
)
message_attribute_maps = st.one_of(
    anything,
    st.dictionaries(
        st.one_of(st.sampled_from(["a", "AWS.x", "amazon.y", "a..b", ".a", "a.", "x" * 257,
                                   "ok_1-2.3", ""]), st.text(max_size=4), keys),
        message_attribute_values, max_size=11,
    ),
    st.just({f"a{i}": "v" for i in range(11)}),
    st.just({"big": Big("x" * MIB)}),
)
bodies = st.one_of(st.text(max_size=10), bad_text, huge, anything, st.just(""))


#: A receipt handle: a marker that :func:`resolve` swaps for a real one of the world, or garbage.
handle_refs = st.one_of(
    st.sampled_from(["<stale>", "<visible-again>", "<in-flight>", "<dlq>", "<prefix>",
                     "<prefix>0", "<prefix>fffffff", "<prefix>-1", "<prefix> 1",
                     "<prefix>0x1", "<prefix>1_0", "<prefix>A", "<prefix>zz"]),
    st.text(max_size=12), anything,
)


def resolve(world: World, value: Any) -> Any:
    """Swap markers for real handles of ``world`` (recursively in lists and dicts)."""
    if isinstance(value, str) and value.startswith("<"):
        table = {"<stale>": world.stale, "<visible-again>": world.handles[1],
                 "<in-flight>": world.handles[2], "<dlq>": world.dlq_handle}
        if value in table:
            return table[value]
        if value.startswith("<prefix>"):
            return world.prefix + value[len("<prefix>"):]
    if isinstance(value, list):
        return [resolve(world, v) for v in value]
    if isinstance(value, dict):
        return {k: resolve(world, v) for k, v in value.items()}
    return value


batch_ids = st.one_of(st.sampled_from(["1", "a-b_C", "x" * 80, "x" * 81, "", "a b", "é", "1"]),
                      anything)


def batch_of(entry: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        anything,
        st.lists(entry, max_size=12),
        st.lists(entry, min_size=2, max_size=4).map(lambda es: es + [es[0]]),  # repeats
        st.just([]),
        st.just("a string is not a batch"),
    )


send_entries = st.one_of(
    bodies,
    st.fixed_dictionaries(
        {"Id": batch_ids},
        optional={
            "MessageBody": bodies, "DelaySeconds": anything,
            "MessageAttributes": message_attribute_maps,
            "MessageSystemAttributes": st.one_of(anything, st.fixed_dictionaries(
                {"AWSTraceHeader": st.one_of(anything, st.fixed_dictionaries(
                    {"StringValue": anything, "DataType": anything}))})),
            "MessageGroupId": anything, "MessageDeduplicationId": anything, "Unknown": anything,
        },
    ),
    st.just({"Id": "big1", "MessageBody": Big("x" * (MIB // 2))}),
)
#: One otherwise valid send entry with one odd field.
odd_send_entries = st.builds(
    lambda field, value: [{"Id": "ok", "MessageBody": "fine", field: value}],
    st.sampled_from(["MessageBody", "DelaySeconds", "MessageAttributes", "MessageSystemAttributes",
                     "MessageGroupId", "MessageDeduplicationId", "Id", "Other"]),
    st.one_of(anything, bad_text, huge, message_attribute_maps,
              st.just({"AWSTraceHeader": "not a dict"}), st.just({"AWSTraceHeader": {}}),
              st.just({"AWSTraceHeader": {"DataType": "String", "StringValue": 5}}),
              st.just({"Other": {"DataType": "String", "StringValue": "x"}})),
)
handle_entries = st.one_of(
    handle_refs,
    st.fixed_dictionaries(
        {"Id": batch_ids},
        optional={"ReceiptHandle": handle_refs, "VisibilityTimeout": anything, "x": anything},
    ),
)
#: One otherwise valid handle entry with one odd field.
odd_handle_entries = st.builds(
    lambda field, value: [{"Id": "ok", "ReceiptHandle": "<in-flight>", "VisibilityTimeout": 5,
                           field: value}],
    st.sampled_from(["ReceiptHandle", "VisibilityTimeout", "Id", "Other"]),
    st.one_of(anything, handle_refs),
)


# -- the calls ------------------------------------------------------------------------------------

# name -> (strategy of (args, kwargs), how to call it on a world)
CALLS: dict[str, tuple[st.SearchStrategy[Any], Callable[[World, Any], Callable[[], object]]]] = {}


def fuzz(name: str, strategy: st.SearchStrategy[Any]) -> Callable[[Any], Any]:
    def register(make: Callable[[World, Any], Callable[[], object]]) -> Any:
        CALLS[name] = (strategy, make)
        return make
    return register


@fuzz("send", st.tuples(bodies, st.fixed_dictionaries({}, optional={
    "message_attributes": message_attribute_maps, "delay_seconds": anything,
    "message_group_id": st.one_of(anything, st.just("g" * 129), st.just("ü")),
    "message_deduplication_id": anything, "aws_trace_header": st.one_of(anything, st.just("")),
})))
def _send(world: World, args: Any) -> Callable[[], object]:
    body, kwargs = args
    return lambda: world.src.send(body, **kwargs)


@fuzz("send_batch", st.one_of(batch_of(send_entries), odd_send_entries))
def _send_batch(world: World, entries: Any) -> Callable[[], object]:
    return lambda: world.src.send_batch(entries)


@fuzz("receive", st.tuples(st.one_of(anything, st.integers(-2, 12)), st.fixed_dictionaries({}, optional={
    "wait_seconds": st.one_of(anything, st.integers(-2, 22)),
    "visibility_timeout": st.one_of(anything, st.integers(-2, 43_202)),
    "receive_request_attempt_id": anything,
})))
def _receive(world: World, args: Any) -> Callable[[], object]:
    max_messages, kwargs = args
    return lambda: world.src.receive(max_messages, **kwargs)


@fuzz("delete", handle_refs)
def _delete(world: World, handle: Any) -> Callable[[], object]:
    return lambda: world.src.delete(resolve(world, handle))


@fuzz("delete_batch", st.one_of(batch_of(handle_entries), odd_handle_entries))
def _delete_batch(world: World, entries: Any) -> Callable[[], object]:
    return lambda: world.src.delete_batch(resolve(world, entries))


@fuzz("change_visibility", st.tuples(handle_refs, st.one_of(anything, st.integers(-2, 43_202))))
def _change_visibility(world: World, args: Any) -> Callable[[], object]:
    handle, timeout = args
    return lambda: world.src.change_visibility(resolve(world, handle), timeout)


@fuzz("change_visibility_batch", st.one_of(batch_of(handle_entries), odd_handle_entries))
def _change_visibility_batch(world: World, entries: Any) -> Callable[[], object]:
    return lambda: world.src.change_visibility_batch(resolve(world, entries))


@fuzz("purge", st.sampled_from(["src", "dlq"]))
def _purge(world: World, which: str) -> Callable[[], object]:
    queue = world.src if which == "src" else world.dlq
    queue.purge()  # succeeds; the fuzzed call is the second, inside the 60 s cooldown
    return queue.purge


@fuzz("get_attributes", st.one_of(anything, st.lists(attribute_names, max_size=4), unhashables))
def _get_attributes(world: World, names: Any) -> Callable[[], object]:
    return lambda: world.src.get_attributes(names)


@fuzz("set_attributes", attribute_maps)
def _set_attributes(world: World, attributes: Any) -> Callable[[], object]:
    return lambda: world.src.set_attributes(attributes)


@fuzz("set_attributes_dlq", attribute_maps)
def _set_attributes_dlq(world: World, attributes: Any) -> Callable[[], object]:
    return lambda: world.dlq.set_attributes(attributes)


@fuzz("tag", st.one_of(anything, st.dictionaries(st.one_of(st.text(max_size=130), keys),
                                                 st.one_of(st.text(max_size=3), anything),
                                                 max_size=3),
                       st.just({f"k{i}": "v" for i in range(51)}), st.just({"": "v"}),
                       st.just({"k": "v" * 257})))
def _tag(world: World, tags: Any) -> Callable[[], object]:
    return lambda: world.src.tag(tags)


@fuzz("untag", st.one_of(anything, unhashables, st.lists(st.one_of(st.text(max_size=3), anything))))
def _untag(world: World, keys: Any) -> Callable[[], object]:
    return lambda: world.src.untag(keys)


@fuzz("start_message_move_task", st.tuples(
    st.sampled_from(["dlq", "src"]),
    st.one_of(anything, st.sampled_from(["src", "arn:aws:sqs:us-east-1:000000000000:src",
                                         "arn:aws:sqs:us-east-1:111111111111:src", "nope",
                                         "https://sqs.us-east-1.amazonaws.com/000000000000/src",
                                         "arn:aws:sns:us-east-1:000000000000:src", "arn:"])),
    st.one_of(anything, st.integers(-1, 501)),
))
def _start_task(world: World, args: Any) -> Callable[[], object]:
    which, destination, rate = args
    queue = world.dlq if which == "dlq" else world.src
    if which == "dlq" and isinstance(rate, int) and rate % 3 == 0:
        queue.start_message_move_task()  # a task already running: the fuzzed call must fail
    return lambda: queue.start_message_move_task(destination, max_messages_per_second=rate)


@fuzz("list_message_move_tasks", st.one_of(anything, st.integers(-1, 12)))
def _list_tasks(world: World, max_results: Any) -> Callable[[], object]:
    return lambda: world.dlq.list_message_move_tasks(max_results)


@fuzz("cancel_message_move_task", st.one_of(
    anything,
    st.builds(lambda d: __import__("base64").b64encode(to_json(d).encode()).decode(),
              st.dictionaries(st.sampled_from(["taskId", "sourceArn", "x"]),
                              st.one_of(anything, st.just(dlq_arn)), max_size=3)),
    st.sampled_from(["", "=", "e30=", "bnVsbA==", "!!"]),
))
def _cancel_task(world: World, handle: Any) -> Callable[[], object]:
    return lambda: world.dlq.cancel_message_move_task(handle)


@fuzz("receive_async", st.tuples(st.one_of(anything, st.integers(-2, 12)), anything, anything))
def _receive_async(world: World, args: Any) -> Callable[[], object]:
    max_messages, wait, timeout = args
    return lambda: asyncio.run(world.src.receive_async(
        max_messages, wait_seconds=wait, visibility_timeout=timeout))


@fuzz("send_async", st.tuples(bodies, anything))
def _send_async(world: World, args: Any) -> Callable[[], object]:
    body, delay = args
    return lambda: asyncio.run(world.src.send_async(body, delay_seconds=delay))


@fuzz("delete_async", handle_refs)
def _delete_async(world: World, handle: Any) -> Callable[[], object]:
    return lambda: asyncio.run(world.src.delete_async(resolve(world, handle)))


@fuzz("send_batch_async", st.one_of(batch_of(send_entries), odd_send_entries))
def _send_batch_async(world: World, entries: Any) -> Callable[[], object]:
    return lambda: asyncio.run(world.src.send_batch_async(entries))


@fuzz("delete_batch_async", st.one_of(batch_of(handle_entries), odd_handle_entries))
def _delete_batch_async(world: World, entries: Any) -> Callable[[], object]:
    return lambda: asyncio.run(world.src.delete_batch_async(resolve(world, entries)))


@fuzz("change_visibility_async",
      st.tuples(handle_refs, st.one_of(anything, st.integers(-2, 43_202))))
def _change_visibility_async(world: World, args: Any) -> Callable[[], object]:
    handle, timeout = args
    return lambda: asyncio.run(world.src.change_visibility_async(resolve(world, handle), timeout))


@fuzz("change_visibility_batch_async", st.one_of(batch_of(handle_entries), odd_handle_entries))
def _change_visibility_batch_async(world: World, entries: Any) -> Callable[[], object]:
    return lambda: asyncio.run(world.src.change_visibility_batch_async(resolve(world, entries)))


@fuzz("Queue", st.tuples(
    st.one_of(anything, st.sampled_from(["src", "dlq", "new", "x" * 81, "a.fifo", "a b", ""])),
    st.fixed_dictionaries({}, optional={
        "visibility_timeout": anything, "message_retention_period": anything,
        "delay_seconds": anything, "maximum_message_size": anything,
        "receive_message_wait_time_seconds": anything,
        "redrive_policy": st.one_of(redrive_values, st.just(dc.RedrivePolicy(dlq_arn, 3))),
        "redrive_allow_policy": allow_values, "tags": anything, "attributes": attribute_maps,
    }),
))
def _queue(world: World, args: Any) -> Callable[[], object]:
    name, kwargs = args
    return lambda: dc.Queue(world.loop, name, **kwargs)


@fuzz("RedrivePolicy", st.tuples(st.one_of(anything, st.just(dlq_arn)), anything))
def _redrive_policy(world: World, args: Any) -> Callable[[], object]:
    return lambda: (dc.RedrivePolicy(*args), dc.RedrivePolicy.parse(args[1]))


@fuzz("RedriveAllowPolicy", st.tuples(
    st.one_of(anything, st.sampled_from(["allowAll", "denyAll", "byQueue"])),
    st.one_of(anything, st.lists(anything, max_size=11), st.just((dlq_arn,) * 11)),
    allow_values,
))
def _redrive_allow_policy(world: World, args: Any) -> Callable[[], object]:
    return lambda: (dc.RedriveAllowPolicy(args[0], args[1]), dc.RedriveAllowPolicy.parse(args[2]))


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=EXAMPLES,
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(data=st.data())
def test_bad_input_raises_only_aws_errors_and_changes_nothing(method: str, data: st.DataObject) -> None:
    strategy, make = CALLS[method]
    world = World()
    attempt(world, make(world, data.draw(strategy, label=method)))


def test_every_public_method_is_fuzzed() -> None:
    public = {n for n in dir(dc.Queue) if not n.startswith("_")}
    not_calls = {"is_fifo", "approximate_number_of_messages", "delay_seconds",
                 "approximate_number_of_messages_delayed", "maximum_message_size",
                 "approximate_number_of_messages_not_visible", "message_retention_period",
                 "receive_message_wait_time_seconds", "redrive_allow_policy", "redrive_policy",
                 "visibility_timeout"}
    # Observers are Python callbacks, not AWS input: tested in tests/test_queue_observers.py.
    # large_payloads is a Python object (a PayloadOffload), fuzzed in test_payload_offload.py.
    separately = {"delete_queue", "list_tags", "list_dead_letter_source_queues",
                  "add_observer", "remove_observer", "large_payloads"}
    assert public - not_calls - separately <= set(CALLS), public - not_calls - separately - set(CALLS)


# -- deleted queues, read-only calls ------------------------------------------------------------


def test_calls_on_a_deleted_queue_raise_queue_does_not_exist() -> None:
    world = World()
    world.src.delete_queue()
    calls: list[Callable[[], object]] = [
        lambda: world.src.send("x"), lambda: world.src.send_batch(["x"]),
        lambda: world.src.receive(), lambda: world.src.delete(world.stale),
        lambda: world.src.delete_batch([world.stale]),
        lambda: world.src.change_visibility(world.stale, 0),
        lambda: world.src.change_visibility_batch(
            [{"Id": "1", "ReceiptHandle": world.stale, "VisibilityTimeout": 0}]),
        world.src.purge, world.src.get_attributes, lambda: world.src.set_attributes({}),
        lambda: world.src.tag({"a": "b"}), lambda: world.src.untag(["a"]), world.src.list_tags,
        world.src.list_dead_letter_source_queues, world.src.delete_queue,
        lambda: asyncio.run(world.src.receive_async()),
        lambda: asyncio.run(world.src.send_async("x")),
        lambda: asyncio.run(world.src.delete_async(world.stale)),
    ]
    for call in calls:
        with pytest.raises(dc.errors.QueueDoesNotExist):
            call()


def test_read_only_calls_change_nothing() -> None:
    world = World()
    before = world.snapshot()
    world.src.list_tags()
    world.src.get_attributes()
    world.dlq.list_dead_letter_source_queues()
    assert len(world.src) == 4
    assert world.src.approximate_number_of_messages == 2
    assert world.src.approximate_number_of_messages_not_visible == 1
    assert world.src.approximate_number_of_messages_delayed == 1
    assert world.snapshot() == before


# -- regressions found by the fuzzer and the model ----------------------------------------------


@pytest.mark.parametrize("tail", ["-1", " 1", "0x1", "1_0", "+1", "A", "ｆ"])
def test_receipt_handles_with_malformed_hex_are_invalid(tail: str) -> None:
    """``int(tail, 16)`` accepted "-1", " 1", "0x1", "1_0": such handles were taken for stale
    ones and a delete silently succeeded (DeleteMessage: a malformed handle fails
    ``ReceiptHandleIsInvalid``)."""
    world = World()
    handle = world.prefix + tail
    for call in (lambda: world.src.delete(handle),
                 lambda: world.src.change_visibility(handle, 5)):
        error = attempt(world, call)
        assert error is not None and error.code == "ReceiptHandleIsInvalid"


def test_batch_entry_with_a_malformed_trace_header_fails_alone() -> None:
    """``{"AWSTraceHeader": "text"}`` raised AttributeError ('str' has no 'get') from
    send_batch; now that entry fails InvalidParameterValue and the others are sent
    (SendMessageBatch: one bad entry does not fail the others)."""
    world = World()
    result = world.src.send_batch([
        {"Id": "bad", "MessageBody": "x", "MessageSystemAttributes": {"AWSTraceHeader": "t"}},
        {"Id": "ok", "MessageBody": "y", "MessageSystemAttributes": {
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-a-b"}}},
    ])
    assert [f["Id"] for f in result.failed] == ["bad"]
    assert result.failed[0]["Code"] == "InvalidParameterValue"
    assert [s["Id"] for s in result.successful] == ["ok"]


@pytest.mark.parametrize("names", [None, 5, [["x"]], [None], "Nope", [b"All"]])
def test_get_attributes_with_bad_names(names: Any) -> None:
    """None, 5 (TypeError: not iterable) and [["x"]] (unhashable) escaped as TypeError."""
    world = World()
    error = attempt(world, lambda: world.src.get_attributes(names))
    assert error is not None and error.code == "InvalidAttributeName"


@pytest.mark.parametrize("keys", [None, 5, [[]], [None], {"a": []}.values()])
def test_untag_with_bad_keys(keys: Any) -> None:
    world = World()
    error = attempt(world, lambda: world.src.untag(keys))
    assert error is not None and error.code == "InvalidParameterValue"


def test_untag_takes_one_key_or_a_list() -> None:
    world = World()
    world.src.tag({"a": "1", "b": "2", "c": "3"})
    world.src.untag("a")
    world.src.untag(["b", "missing"])
    assert world.src.list_tags() == {"team": "a", "c": "3"}


@pytest.mark.parametrize("count", ["²", "٣", "1e3", "", "-1"])
def test_redrive_policy_max_receive_count_needs_ascii_digits(count: str) -> None:
    """int("²") raised ValueError although "²".isdigit() is true."""
    world = World()
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": count})
    error = attempt(world, lambda: world.src.set_attributes({"RedrivePolicy": policy}))
    assert error is not None and error.code == "InvalidAttributeValue"
    world.src.set_attributes({"RedrivePolicy": policy.replace(json.dumps(count), '" 7 "')})
    assert world.src.redrive_policy == dc.RedrivePolicy(world.dlq, 7)


@pytest.mark.parametrize("target", [None, 5, object(), b"arn"])
def test_redrive_policy_needs_a_queue_or_an_arn(target: Any) -> None:
    with pytest.raises(dc.errors.InvalidAttributeValue):
        dc.RedrivePolicy(target, 3)


@pytest.mark.parametrize("attributes", [
    {"VisibilityTimeout": {"": None, 0: None}},  # mixed key types: sort_keys failed
    {"VisibilityTimeout": {"b": b""}},  # bytes: not JSON
    {"RedrivePolicy": {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": {1, 2}}},
])
def test_queue_with_unjsonable_attribute_values(attributes: dict[str, Any]) -> None:
    """Queue() turned mapping values into JSON for its "same attributes?" check before
    validating them: a TypeError escaped."""
    world = World()
    for name in ("src", "new"):
        error = attempt(world, lambda name=name: dc.Queue(world.loop, name, attributes=attributes))
        assert error is not None and error.code == "InvalidAttributeValue"
    assert world.loop._lookup("sqs", "new") is None


def test_redrive_allow_policy_with_odd_keys_or_arns() -> None:
    """sorted() of unknown keys of mixed types, and len() of a non-list, raised TypeError."""
    world = World()
    for value in ({"": None, None: None}, {"redrivePermission": "byQueue",
                                           "sourceQueueArns": "arn:aws:sqs:x"}):
        error = attempt(world, lambda value=value: world.dlq.set_attributes(
            {"RedriveAllowPolicy": value}))
        assert error is not None and error.code == "InvalidAttributeValue"
    for arns in (None, 5, [1]):
        with pytest.raises(dc.errors.InvalidAttributeValue):
            dc.RedriveAllowPolicy("byQueue", arns)


@pytest.mark.parametrize("destination", [[], 5, b"src", object()])
def test_move_task_destination_must_be_a_queue_or_an_arn(destination: Any) -> None:
    """A non-string destination raised AttributeError ('list' has no 'startswith')."""
    world = World()
    error = attempt(world, lambda: world.dlq.start_message_move_task(destination))
    assert error is not None and error.code == "InvalidParameterValue"
