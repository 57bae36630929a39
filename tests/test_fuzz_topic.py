"""Bad input, fuzzed: every public method of ``Topic`` (and the setters of ``Subscription``)
with hypothesis-generated arguments.

Wrong types, out-of-range numbers, lone surrogates and forbidden characters, oversized messages
and batches, duplicate batch ids, unknown attribute names, malformed filter, redrive, delivery,
archive and replay policies (JSON text and dicts), bad tokens and subscription ARNs.

The same two rules as tests/test_fuzz_queue.py, checked on every example:

* the only exceptions are :class:`decoupling.errors.DecouplingError` subclasses carrying an AWS
  ``.code``;
* a rejected call changes nothing: a snapshot (both topics' attributes, their subscriptions and
  every subscription's attributes, the pending tokens, the dedup window and archive, the outbox,
  the loop's registry, and the bodies held by every subscribed queue) is the same after it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_support import attempt
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_queue import (
    PROFILE,
    Big,
    anything,
    bad_text,
    batch_ids,
    huge,
    keys,
    message_attribute_maps,
    to_json,
)

import decoupling as dc

#: Examples per fuzzed callable: 10 by default (13 callables), 500 at soak.
EXAMPLES = int(os.environ.get("DECOUPLING_FUZZ_EXAMPLES", 500 if PROFILE == "soak" else 10))
ARN = "arn:aws:sqs:us-east-1:000000000000:"


# -- the world each example starts from ---------------------------------------------------------


class World:
    """A standard topic with two queue subscriptions (one raw and filtered, one with a DLQ) and a
    pending email subscription; a FIFO topic with an archive and a FIFO queue subscription.
    Each has been published to."""

    def __init__(self) -> None:
        self.clock = dc.ManualClock(start=1000.0)
        self.loop = dc.EventLoop(clock=self.clock)
        self.q1 = dc.Queue(self.loop, "q1")
        self.q2 = dc.Queue(self.loop, "q2")
        self.dlq = dc.Queue(self.loop, "dlq")
        self.fq = dc.FifoQueue(self.loop, "fq.fifo")
        self.fdlq = dc.FifoQueue(self.loop, "fdlq.fifo")
        self.topic = dc.Topic(self.loop, "t", display_name="T")
        self.fifo = dc.Topic(self.loop, "t.fifo", archive_policy={"MessageRetentionPeriod": "2"})
        self.s1 = self.topic.subscribe(self.q1, raw_message_delivery=True,
                                       filter_policy={"kind": ["a"]})
        self.s2 = self.topic.subscribe(self.q2, redrive_policy=self.dlq)
        self.email = self.topic.subscribe("me@example.com", "email")
        self.token = self.topic.outbox[-1].token
        self.fs = self.fifo.subscribe(self.fq, redrive_policy=self.fdlq)
        self.topic.publish("one", message_attributes={"kind": "a"})
        self.topic.publish("two", subject="s")
        self.fifo.publish("f1", message_group_id="g", message_deduplication_id="d1")
        self.clock.advance(1)
        self.subs = {"s1": self.s1, "s2": self.s2, "email": self.email, "fs": self.fs}

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"now": self.clock.now(), "registry": sorted(self.loop._resources)}
        for topic in (self.topic, self.fifo):
            out[topic.name] = {
                "attributes": topic.get_attributes(),
                "subscriptions": [(s.arn, s.get_attributes()) for s in topic.subscriptions],
                "tokens": sorted(topic._tokens),
                "routes": [(id(p), k, [s.arn for s in subs]) for p, k, subs in topic._routes],
                "dedup": dict(topic._dedup),
                "counters": (topic._published, topic._sequence, topic._deleted_subs),
                "archive": None if topic._archive is None else len(topic._archive),
                "outbox": len(topic.outbox),
                "pending": topic._pending,
                "data_protection": topic.get_data_protection_policy(),
            }
        for queue in (self.q1, self.q2, self.dlq, self.fq, self.fdlq):
            out[queue.name] = [e.record.body for e in queue._ledger.entries()]
        return out


# -- strategies ---------------------------------------------------------------------------------

ISO = st.sampled_from(["1970-01-01T00:16:40.000Z", "1970-01-01T00:16:41Z", "2099-01-01T00:00:00Z",
                       "1960-01-01T00:00:00Z", "not a time", "", "1970-01-01T00:16:40+99:00"])


def json_or_dict(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A generated value, or its JSON text."""
    return strategy.flatmap(lambda v: st.sampled_from([v, to_json(v)]))


filter_policies = st.one_of(
    anything, st.sampled_from(["{", "[]", "null", "{}", '{"a": []}', '{"a": [{"numeric": [">"]}]}',
                               '{"a": [{"prefix": 5}]}', '{"a": [{"exists": "yes"}]}',
                               '{"$or": [{"a": ["x"]}]}', '{"a": [{"anything-but": []}]}']),
    json_or_dict(st.dictionaries(st.one_of(st.text(max_size=4), keys),
                                 st.one_of(anything, st.lists(anything, max_size=3)), max_size=3)),
    st.just({f"k{i}": list(range(30)) for i in range(6)}),  # over the 150 combinations
)
redrive_policies = st.one_of(
    anything, st.sampled_from(["{", "[]", ARN + "dlq", ARN + "nope", ARN + "fdlq.fifo",
                               "arn:aws:sqs:eu-west-1:000000000000:dlq"]),
    json_or_dict(st.fixed_dictionaries({}, optional={
        "deadLetterTargetArn": st.one_of(anything, st.sampled_from(
            [ARN + "dlq", ARN + "fdlq.fifo", "arn:aws:sqs:us-east-1:1:dlq", "arn:aws:sqs", ""])),
        "x": anything, 5: anything,
    })),
)
retry = st.fixed_dictionaries({}, optional={
    k: st.one_of(anything, st.integers(-1, 3601)) for k in
    ("minDelayTarget", "maxDelayTarget", "numRetries", "numNoDelayRetries", "numMinDelayRetries",
     "numMaxDelayRetries", "backoffFunction")
})
delivery_policies = st.one_of(
    anything, st.sampled_from(["{", "[]", "null"]),
    json_or_dict(st.fixed_dictionaries({}, optional={
        "healthyRetryPolicy": st.one_of(anything, retry),
        "throttlePolicy": st.one_of(anything, st.fixed_dictionaries(
            {"maxReceivesPerSecond": st.one_of(anything, st.integers(-1, 2))})),
        "requestPolicy": st.one_of(anything, st.fixed_dictionaries(
            {"headerContentType": st.one_of(anything, st.just("text/plain"))})),
        "http": st.one_of(anything, st.fixed_dictionaries({}, optional={
            "defaultHealthyRetryPolicy": st.one_of(anything, retry),
            "disableSubscriptionOverrides": anything,
            "defaultThrottlePolicy": anything, "defaultRequestPolicy": anything})),
        "smtp": anything, None: anything,
    })),
)
archive_policies = st.one_of(
    anything, st.sampled_from(["{", "[]", "{}", "", '{"MessageRetentionPeriod": "²"}',
                               '{"MessageRetentionPeriod": " 3 "}']),
    json_or_dict(st.fixed_dictionaries({}, optional={
        "MessageRetentionPeriod": st.one_of(anything, st.sampled_from(
            ["0", "1", "365", "366", "٣", "1e2", -1, 400, True])),
        "x": anything, 1: anything,
    })),
)
replay_policies = st.one_of(
    anything, st.sampled_from(["{", "[]", "null"]),
    json_or_dict(st.fixed_dictionaries({}, optional={
        "PointType": st.one_of(anything, st.just("Timestamp")),
        "StartingPoint": st.one_of(anything, ISO), "EndingPoint": st.one_of(anything, ISO),
        "x": anything, 2: anything,
    })),
)
topic_attribute_names = st.one_of(
    st.sampled_from(["DisplayName", "DeliveryPolicy", "MaximumMessageSize", "ArchivePolicy",
                     "ContentBasedDeduplication", "FifoThroughputScope", "FifoTopic", "Policy",
                     "KmsMasterKeyId", "SignatureVersion", "TracingConfig", "TopicArn", "",
                     "HTTPSuccessFeedbackRoleArn", "displayname", "Owner"]),
    st.text(max_size=8), keys,
)
topic_values = st.one_of(
    anything, delivery_policies, archive_policies,
    st.sampled_from(["1023", "1024", "262145", "1048577", "²", " 2048 ", 1_048_576, "x" * 101,
                     "Topic", "MessageGroup", "true", "TRUE", "yes", "1", "2", 3, "Active"]),
)
topic_attribute_maps = st.one_of(
    anything,
    st.dictionaries(topic_attribute_names, topic_values, max_size=3),
    st.builds(lambda v: {"ArchivePolicy": v}, archive_policies),
    st.builds(lambda v: {"DeliveryPolicy": v}, delivery_policies),
)
sub_attribute_names = st.one_of(
    st.sampled_from(["RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy",
                     "DeliveryPolicy", "ReplayPolicy", "SubscriptionRoleArn", "Endpoint",
                     "Protocol", "rawmessagedelivery", ""]),
    st.text(max_size=6), keys,
)
sub_values = st.one_of(anything, filter_policies, redrive_policies, delivery_policies,
                       replay_policies, st.sampled_from(["MessageBody", "MessageAttributes",
                                                         "true", "False", "x"]))
sub_attribute_maps = st.one_of(
    anything,
    st.dictionaries(sub_attribute_names, sub_values, max_size=3),
    st.builds(lambda v: {"FilterPolicy": v, "FilterPolicyScope": "MessageBody"}, filter_policies),
    st.builds(lambda v: {"ReplayPolicy": v}, replay_policies),
    st.builds(lambda v: {"RedrivePolicy": v}, redrive_policies),
)
messages = st.one_of(st.text(max_size=10), bad_text, huge, anything, st.just(""),
                     st.just(Big("x" * 262_000)))
structured = st.one_of(
    st.sampled_from(['{"default": "x"}', '{"sqs": "x"}', "{", '{"default": 5}', "[]",
                     '{"default": "x", "email": ["y"]}']),
    json_or_dict(st.dictionaries(st.one_of(st.sampled_from(["default", "sqs", "email"]), keys),
                                 anything, max_size=3)),
)
ids = st.one_of(anything, st.sampled_from(["g", "d1", "", "g" * 129, "ü", "a b", "\x7f"]))
publish_kwargs = st.fixed_dictionaries({}, optional={
    "subject": st.one_of(anything, bad_text, st.just("s" * 101), st.just(""), st.just("a\nb")),
    "message_attributes": message_attribute_maps,
    "message_structure": st.one_of(anything, st.sampled_from(["json", "JSON", "text", ""])),
    "message_group_id": ids, "message_deduplication_id": ids,
})


def _publish_args(draw: Any) -> Any:
    structure = draw(publish_kwargs)
    message = draw(st.one_of(messages, structured) if structure.get("message_structure") == "json"
                   else messages)
    return message, structure


publish_args = st.composite(lambda draw: _publish_args(draw))()
publish_entries = st.one_of(
    messages,
    st.fixed_dictionaries({"Id": batch_ids}, optional={
        "Message": messages, "Subject": anything, "MessageStructure": anything,
        "MessageAttributes": message_attribute_maps, "MessageGroupId": ids,
        "MessageDeduplicationId": ids, "Unknown": anything, 7: anything, None: anything,
    }),
    st.just({"Id": "big", "Message": Big("x" * 200_000), "MessageGroupId": "g",
             "MessageDeduplicationId": "big"}),
)
publish_batches = st.one_of(
    anything,
    st.lists(publish_entries, max_size=12),
    st.lists(publish_entries, min_size=2, max_size=4).map(lambda es: es + [es[0]]),
    st.just([]), st.just("not a batch"),
    st.builds(lambda field, value: [{"Id": "ok", "Message": "m", "MessageGroupId": "g",
                                     "MessageDeduplicationId": "d9", field: value}],
              st.sampled_from(["Message", "Subject", "MessageAttributes", "MessageGroupId",
                               "MessageDeduplicationId", "MessageStructure", "Id", "Other"]),
              st.one_of(anything, bad_text, huge, message_attribute_maps)),
)
#: Endpoints: markers swapped for the world's queues and subscriptions by :func:`resolve`.
endpoints = st.one_of(
    anything, bad_text,
    st.sampled_from(["<q1>", "<q2>", "<fq>", "<dlq>", ARN + "q1", ARN + "nope", ARN + "fq.fifo",
                     "arn:aws:sqs:", "me@example.com", "not an email", "+15555550100", "12",
                     "me@example.com\x00", "<lambda>", "arn:aws:lambda:us-east-1:0:function:f"]),
)
protocols = st.one_of(anything, st.sampled_from(
    ["sqs", "email", "email-json", "sms", "application", "lambda", "firehose", "SQS", "", "http",
     "https"]))
sub_refs = st.one_of(anything, st.sampled_from(["<s1>", "<s2>", "<email>", "<fs>", "<s1>x",
                                                "PendingConfirmation", ARN + "q1"]))


def resolve(world: World, value: Any) -> Any:
    """Swap markers for the world's objects."""
    if isinstance(value, str) and value.startswith("<"):
        table: dict[str, Any] = {"<q1>": world.q1, "<q2>": world.q2, "<fq>": world.fq,
                                 "<dlq>": world.dlq, "<lambda>": lambda n: None,
                                 "<token>": world.token, "<token>x": world.token + "x",
                                 "<token>upper": world.token.upper()}
        table.update({f"<{k}>": s for k, s in world.subs.items()})
        table.update({f"<{k}>x": s.arn + "x" for k, s in world.subs.items()})
        return table.get(value, value)
    return value


def is_http(value: Any) -> bool:
    """HTTP/S subscriptions POST a real confirmation: keep them out."""
    text = value if isinstance(value, str) else ""
    return text.startswith(("http:", "https:"))


# -- the calls ------------------------------------------------------------------------------------

CALLS: dict[str, tuple[st.SearchStrategy[Any], Callable[[World, Any], Callable[[], object]]]] = {}


def fuzz(name: str, strategy: st.SearchStrategy[Any]) -> Callable[[Any], Any]:
    def register(make: Callable[[World, Any], Callable[[], object]]) -> Any:
        CALLS[name] = (strategy, make)
        return make
    return register


@fuzz("Topic", st.tuples(
    st.one_of(anything, st.sampled_from(["t", "t.fifo", "new", "new.fifo", "x" * 257, "a b",
                                         "", ".fifo", "é"])),
    st.fixed_dictionaries({}, optional={
        "fifo_topic": st.one_of(anything, st.sampled_from(["true", "false", True])),
        "content_based_deduplication": st.one_of(anything, st.just("true")),
        "fifo_throughput_scope": st.one_of(anything, st.sampled_from(["Topic", "MessageGroup"])),
        "archive_policy": archive_policies,
        "maximum_message_size": st.one_of(anything, st.sampled_from([1023, 262_145, "²"])),
        "display_name": st.one_of(anything, bad_text, st.just("T"), st.just("x" * 101)),
        "delivery_policy": delivery_policies, "attributes": topic_attribute_maps,
    }),
))
def _topic(world: World, args: Any) -> Callable[[], object]:
    name, kwargs = args
    return lambda: dc.Topic(world.loop, name, **kwargs)


@fuzz("publish", st.tuples(st.sampled_from(["t", "t.fifo"]), publish_args))
def _publish(world: World, args: Any) -> Callable[[], object]:
    which, (message, kwargs) = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: topic.publish(message, **kwargs)


@fuzz("publish_async", st.tuples(st.sampled_from(["t", "t.fifo"]), publish_args))
def _publish_async(world: World, args: Any) -> Callable[[], object]:
    which, (message, kwargs) = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: asyncio.run(topic.publish_async(message, **kwargs))


@fuzz("publish_batch_async", st.tuples(st.sampled_from(["t", "t.fifo"]), publish_batches))
def _publish_batch_async(world: World, args: Any) -> Callable[[], object]:
    which, entries = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: asyncio.run(topic.publish_batch_async(entries))


@fuzz("publish_batch", st.tuples(st.sampled_from(["t", "t.fifo"]), publish_batches))
def _publish_batch(world: World, args: Any) -> Callable[[], object]:
    which, entries = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: topic.publish_batch(entries)


@fuzz("subscribe", st.tuples(
    st.sampled_from(["t", "t.fifo"]), endpoints, st.one_of(st.none(), protocols),
    st.fixed_dictionaries({}, optional={
        "filter_policy": filter_policies,
        "filter_policy_scope": st.one_of(anything, st.sampled_from(["MessageBody", "x"])),
        "raw_message_delivery": st.one_of(anything, st.sampled_from(["true", "false"])),
        "redrive_policy": st.one_of(redrive_policies, st.just("<dlq>")),
        "delivery_policy": delivery_policies, "replay_policy": replay_policies,
        "attributes": sub_attribute_maps,
    }),
))
def _subscribe(world: World, args: Any) -> Callable[[], object]:
    which, endpoint, protocol, kwargs = args
    topic = world.topic if which == "t" else world.fifo
    endpoint = resolve(world, endpoint)
    kwargs = {k: resolve(world, v) for k, v in kwargs.items()}
    if is_http(endpoint) or protocol in ("http", "https"):
        protocol = "email"
    return lambda: topic.subscribe(endpoint, protocol, **kwargs)


@fuzz("unsubscribe", st.tuples(st.sampled_from(["t", "t.fifo"]), sub_refs))
def _unsubscribe(world: World, args: Any) -> Callable[[], object]:
    which, ref = args
    topic = world.topic if which == "t" else world.fifo
    sub = resolve(world, ref)
    if isinstance(sub, dc.Subscription) and sub.topic is topic:
        sub.unsubscribe()  # succeeds; the fuzzed call unsubscribes it again
    return lambda: topic.unsubscribe(sub)


@fuzz("confirm_subscription", st.tuples(st.sampled_from(["t", "t.fifo"]), st.one_of(
    anything, st.sampled_from(["<token>", "<token>x", "<token>upper", "", "PendingConfirmation"])),
    st.sampled_from(["fresh", "expired", "unsubscribed"])))
def _confirm(world: World, args: Any) -> Callable[[], object]:
    which, token, when = args
    topic = world.topic if which == "t" else world.fifo
    if when == "expired":
        world.clock.advance(3 * 86_400 + 1)
    elif when == "unsubscribed":
        world.email.unsubscribe()
    return lambda: topic.confirm_subscription(resolve(world, token))


@fuzz("get_attributes", st.sampled_from(["t", "t.fifo"]))
def _get_attributes(world: World, which: str) -> Callable[[], object]:
    topic = world.topic if which == "t" else world.fifo
    return topic.get_attributes


@fuzz("set_attributes", st.tuples(st.sampled_from(["t", "t.fifo", "large"]), topic_attribute_maps))
def _set_attributes(world: World, args: Any) -> Callable[[], object]:
    which, attributes = args
    topic = world.topic if which != "t.fifo" else world.fifo
    if which == "large":  # only queue subscriptions: a large MaximumMessageSize is allowed
        world.email.unsubscribe()
    return lambda: topic.set_attributes(attributes)


@fuzz("set_attribute", st.tuples(st.sampled_from(["t", "t.fifo"]), topic_attribute_names,
                                 topic_values))
def _set_attribute(world: World, args: Any) -> Callable[[], object]:
    which, name, value = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: topic.set_attribute(name, value)


@fuzz("Subscription.set_attributes", st.tuples(st.sampled_from(["s1", "s2", "email", "fs"]),
                                               sub_attribute_maps))
def _sub_set_attributes(world: World, args: Any) -> Callable[[], object]:
    which, attributes = args
    return lambda: world.subs[which].set_attributes(resolve(world, attributes))


@fuzz("Subscription.set_attribute", st.tuples(st.sampled_from(["s1", "s2", "email", "fs"]),
                                              sub_attribute_names, sub_values))
def _sub_set_attribute(world: World, args: Any) -> Callable[[], object]:
    which, name, value = args
    return lambda: world.subs[which].set_attribute(name, value)


labels = st.one_of(anything, st.sampled_from(["partner", "__default_statement_ID", "", "a b",
                                              "x" * 81]))
account_lists = st.one_of(anything, st.lists(st.sampled_from(
    ["111122223333", "1234", "", "abcdefghijkl"]), max_size=3))
action_lists = st.one_of(anything, st.lists(st.sampled_from(
    ["Publish", "Subscribe", "Receive", "InvalidAction", "SNS:Publish", ""]), max_size=3))


@fuzz("add_permission", st.tuples(st.sampled_from(["t", "t.fifo"]), labels, account_lists,
                                  action_lists))
def _add_permission(world: World, args: Any) -> Callable[[], object]:
    which, label, accounts, actions = args
    topic = world.topic if which == "t" else world.fifo
    topic.add_permission("partner", ["111122223333"], ["Publish"])  # a label to collide with
    return lambda: topic.add_permission(label, accounts, actions)


@fuzz("remove_permission", st.tuples(st.sampled_from(["t", "t.fifo"]), labels))
def _remove_permission(world: World, args: Any) -> Callable[[], object]:
    which, label = args
    topic = world.topic if which == "t" else world.fifo
    return lambda: topic.remove_permission(label)


@fuzz("get_data_protection_policy", st.sampled_from(["t", "t.fifo"]))
def _get_data_protection_policy(world: World, which: str) -> Callable[[], object]:
    topic = world.topic if which == "t" else world.fifo
    return topic.get_data_protection_policy


@fuzz("put_data_protection_policy", st.tuples(st.sampled_from(["t", "t.fifo"]), st.one_of(
    anything, st.sampled_from(['{"Name": "p"}', "[]", "{", "", "null"]),
    st.dictionaries(st.sampled_from(["Name", "Statement"]), anything, max_size=2))))
def _put_data_protection_policy(world: World, args: Any) -> Callable[[], object]:
    which, policy = args
    topic = world.topic if which == "t" else world.fifo
    topic.put_data_protection_policy({"Name": "before"})
    return lambda: topic.put_data_protection_policy(policy)


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_bad_input_raises_only_aws_errors_and_changes_nothing(method: str, data: st.DataObject) -> None:
    strategy, make = CALLS[method]
    world = World()
    attempt(world, make(world, data.draw(strategy, label=method)))


def test_every_public_method_is_fuzzed() -> None:
    public = {n for n in dir(dc.Topic) if not n.startswith("_")}
    not_calls = {"maximum_message_size", "subscriptions"}
    # Read-only or lifecycle calls without AWS input (tested in test_topic.py); drain() is a
    # test helper whose timeout is Python input; large_payloads is a Python object (a
    # PayloadOffload), fuzzed in test_payload_offload.py.
    separately = {"list_subscriptions", "delete", "drain", "large_payloads"}
    assert public - not_calls - separately <= set(CALLS), public - not_calls - separately - set(CALLS)
    sub_public = {n for n in dir(dc.Subscription) if not n.startswith("_")}
    sub_read_only = {"effective_delivery_policy", "filter_policy", "filter_policy_scope",
                     "get_attributes", "pending_confirmation", "raw_message_delivery",
                     "replay_status", "retry_policy", "to_aws", "unsubscribe"}
    fuzzed = {n.removeprefix("Subscription.") for n in CALLS if n.startswith("Subscription.")}
    assert sub_public - sub_read_only <= fuzzed, sub_public - sub_read_only - fuzzed


def test_read_only_calls_change_nothing() -> None:
    world = World()
    before = world.snapshot()
    for topic in (world.topic, world.fifo):
        topic.get_attributes()
        topic.list_subscriptions()
    for sub in world.subs.values():
        sub.get_attributes()
        sub.to_aws()
    assert world.snapshot() == before


def test_the_world_holds_what_it_should() -> None:
    world = World()
    snap = world.snapshot()
    assert snap["q1"] == ["one"]
    assert [json.loads(b)["Message"] for b in snap["q2"]] == ["one", "two"]
    assert [json.loads(b)["Message"] for b in snap["fq.fifo"]] == ["f1"]
    assert snap["t.fifo"]["archive"] == 1
    assert world.email.pending_confirmation


# -- regressions found by this fuzzer -----------------------------------------------------------


@pytest.mark.parametrize("call", [
    # sorted() of unknown keys of mixed types raised TypeError
    lambda w: w.fifo.set_attributes({"ArchivePolicy": {"x": 1, 2: 3}}),
    lambda w: w.topic.set_attributes({"DeliveryPolicy": {"smtp": 1, None: 2}}),
    lambda w: w.s2.set_attributes({"RedrivePolicy": {"x": 1, 5: 2}}),
    # a non-string attribute name reached re.fullmatch: TypeError
    lambda w: w.topic.set_attribute(None, "x"),  # type: ignore[arg-type]
    # an unhashable protocol reached a dict lookup: TypeError
    lambda w: w.topic.subscribe("x", [None]),  # type: ignore[arg-type]
    # a non-JSON value of an opaque attribute: TypeError from json.dumps
    lambda w: w.topic.set_attribute("HTTPSuccessFeedbackRoleArn", set()),
])
def test_regressions(call: Callable[[World], object]) -> None:
    world = World()
    error = attempt(world, lambda: call(world))
    assert error is not None and error.code == "InvalidParameter"


def test_batch_entry_with_odd_unknown_keys_fails_alone() -> None:
    """sorted() of the unknown keys None and 7 raised TypeError out of publish_batch."""
    world = World()
    result = world.topic.publish_batch([{"Id": "1", "Message": "m", None: 1, 7: 2},
                                        {"Id": "2", "Message": "n"}])
    assert [f["Id"] for f in result.failed] == ["1"]
    assert [s["Id"] for s in result.successful] == ["2"]
