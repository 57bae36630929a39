"""Model-based test of ``Topic`` fan-out and filter policies: a reference model runs beside it.

Two machines, each on a ``ManualClock``:

* ``TopicMachine``: a standard topic and four standard queues. Hypothesis drives random
  programs of subscribe (raw or enveloped, with or without a filter policy in either scope),
  re-subscribe (the same subscription back, or ``InvalidParameter`` for other attributes),
  unsubscribe (and again with the stale ARN: ``NotFound``), set filter policy / scope / raw
  delivery, publish and publish batch (random attributes of every type, JSON and plain bodies,
  ``MessageStructure="json"``, failing entries), and consuming a queue.
* ``FifoTopicMachine``: a FIFO topic (content-based deduplication and throughput scope drawn)
  and three FIFO queues (deduplication scope drawn), with few groups, deduplication ids and
  bodies so that duplicates are common, and time steps around the 5-minute window.

Filter policies are drawn from a small grammar: exact strings and numbers, ``prefix``,
``anything-but`` (list, single value, prefix), numeric equality and ranges, ``exists``
true/false, nested keys in body scope.

After every step each queue must hold exactly what ``tests/model/sns_model.py`` says, in publish
order: the same SNS ``MessageId``, text, attributes (raw) or envelope (``Type``, ``MessageId``,
``TopicArn``, ``Subject``, ``Message``, ``Timestamp``, ``UnsubscribeURL``, ``MessageAttributes``,
and ``SequenceNumber`` on FIFO), so nothing reaches an unsubscribed or non-matching queue and a
message nobody wants is dropped. FIFO queues also keep each group in sequence-number order.

Size: ``DECOUPLING_MODEL_EXAMPLES`` / ``DECOUPLING_MODEL_STEPS`` (ci: 30 standard and 20 FIFO
programs of up to 30 steps; soak: 2,500 and 1,500, of up to 60). See RELIABILITY.md.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from model.sns_model import Expected, Publish, SnsModel, SubModel, policy_matches

import decoupling as dc
from decoupling.errors import InvalidParameter, NotFound
from decoupling.sns.message import iso_timestamp

PROFILE = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE", "ci")
SOAK = PROFILE == "soak"
EXAMPLES = int(os.environ.get("DECOUPLING_MODEL_EXAMPLES", 0)) or None
STEPS = int(os.environ.get("DECOUPLING_MODEL_STEPS", 60 if SOAK else 30))


def _settings(ci_examples: int, soak_examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or (soak_examples if SOAK else ci_examples),
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# -- strategies -------------------------------------------------------------------------------

STRINGS = ["red", "green", "rouge", "blue", "5"]
NUMBER_TEXTS = ["5", "5.0", "10", "-3", "10.5", "1e1", "0"]
CONDITIONS: list[Any] = [
    "red", "green", "5", 5, 10, -3,
    {"prefix": "r"}, {"prefix": "gr"},
    {"anything-but": ["red"]}, {"anything-but": "green"}, {"anything-but": [5, 10]},
    {"anything-but": {"prefix": "r"}},
    {"numeric": [">", 0, "<=", 10]}, {"numeric": ["=", 5]}, {"numeric": ["<", 0]},
    {"numeric": [">=", 10.5]},
    {"exists": True}, {"exists": False},
]
conditions = st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=3)
ATTRIBUTE_KEYS = ["color", "size", "tags", "blob", "other"]
attribute_policies = st.dictionaries(st.sampled_from(ATTRIBUTE_KEYS), conditions, max_size=3)
body_policies = st.dictionaries(
    st.sampled_from(["color", "size", "tags", "other"]),
    conditions, max_size=3,
).flatmap(lambda p: st.one_of(
    st.just(p),
    st.dictionaries(st.just("level"), conditions, min_size=1).map(
        lambda nested: {**dict(list(p.items())[:2]), "detail": nested}),
))
#: (policy, scope); an empty policy {} now and then.
policies = st.one_of(
    attribute_policies.map(lambda p: (p, "MessageAttributes")),
    body_policies.map(lambda p: (p, "MessageBody")),
)
maybe_policies = st.one_of(st.none(), policies)

scalars = st.one_of(st.sampled_from(STRINGS), st.sampled_from([5, 10, -3, 10.5, 0]),
                    st.sampled_from([None, True]))
# The strategies the composites below draw from, built once: a strategy built inside a draw
# is built and validated again on every draw (a third of this file's run time). The same
# choices make the same examples.
_bools = st.booleans()
_string_kinds = st.sampled_from(["String", "String", "String.custom"])
_strings = st.sampled_from(STRINGS)
_number_kinds = st.sampled_from(["Number", "Number", "Number.int"])
_number_texts = st.sampled_from(NUMBER_TEXTS)
_four, _five, _six, _ten = st.integers(0, 3), st.integers(0, 4), st.integers(0, 5), st.integers(0, 9)
_three = st.integers(0, 2)
_tag_lists = st.lists(st.sampled_from(STRINGS + [5, 10]), max_size=3)
_blobs = st.sampled_from([b"\x00\xff", b"red"])
_plain_texts = st.sampled_from(["hello", "{}", "[]", "null", "5", "{not json"])
_scalar_lists = st.lists(scalars, max_size=3)
_detail_shapes = st.sampled_from(["object", "list", "empty", "flat"])
_subjects = st.sampled_from([None, None, "Hi", "Ünïcode subject"])


@st.composite
def attribute_sets(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """(the publish's MessageAttributes in AWS form, the model's name -> (type, value))."""
    wire: dict[str, Any] = {}
    model: dict[str, tuple[str, str]] = {}
    if draw(_bools):
        kind = draw(_string_kinds)
        value = draw(_strings)
        wire["color"], model["color"] = {"DataType": kind, "StringValue": value}, (kind, value)
    if draw(_bools):
        kind = draw(_number_kinds)
        value = draw(_number_texts)
        wire["size"], model["size"] = {"DataType": kind, "StringValue": value}, (kind, value)
    if draw(_four) == 0:
        value = json.dumps(draw(_tag_lists))
        wire["tags"] = {"DataType": "String.Array", "StringValue": value}
        model["tags"] = ("String.Array", value)
    if draw(_five) == 0:
        blob = draw(_blobs)
        wire["blob"] = {"DataType": "Binary", "BinaryValue": blob}
        model["blob"] = ("Binary", base64.b64encode(blob).decode())
    return wire, model


@st.composite
def body_texts(draw: st.DrawFn) -> str:
    """A message text: mostly a JSON object with some of the body-scope keys, else plain."""
    kind = draw(_ten)
    if kind == 0:
        return draw(_plain_texts)
    doc: dict[str, Any] = {}
    for key in ("color", "size", "other"):
        if draw(_bools):
            doc[key] = draw(scalars)
    if draw(_four) == 0:
        doc["tags"] = draw(_scalar_lists)
    if draw(_three) == 0:
        level = draw(scalars)
        doc["detail"] = {
            "object": {"level": level}, "list": [{"level": level}, {"x": 1}], "empty": {},
            "flat": "flat",
        }[draw(_detail_shapes)]
    return json.dumps(doc)


_body_texts, _attribute_sets = body_texts(), attribute_sets()


@st.composite
def publishes(draw: st.DrawFn, bodies: st.SearchStrategy[str] | None = None) -> Publish:
    bodies = bodies if bodies is not None else _body_texts
    text = draw(bodies)
    wire, model = draw(_attribute_sets)
    pub = Publish(text, draw(_subjects), model)
    pub.wire_attributes = wire  # type: ignore[attr-defined]
    if draw(_six) == 0:
        structure: dict[str, Any] = {"default": text}
        if draw(_bools):
            structure["sqs"] = draw(bodies)
        if draw(_bools):
            structure["email"] = "for email only"
        pub.message = json.dumps(structure)
        pub.structure = True
    return pub


def envelope_attributes(attributes: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return {name: {"Type": t, "Value": v} for name, (t, v) in attributes.items()}


def sqs_attribute_view(attributes: dict[str, dc.MessageAttributeValue] | None
                       ) -> dict[str, tuple[str, str]]:
    out = {}
    for name, a in (attributes or {}).items():
        value = base64.b64encode(a.binary_value).decode() if a.binary_value is not None \
            else (a.string_value or "")
        out[name] = (a.data_type, value)
    return out


# -- the machines -----------------------------------------------------------------------------


class _TopicRules(RuleBasedStateMachine):
    """Subscription rules and checks shared by the standard and FIFO machines."""

    clock: dc.ManualClock
    loop: dc.EventLoop
    topic: dc.Topic
    queues: dict[str, dc.Queue]
    model: SnsModel
    names: list[str]

    def _start(self, initial: list[tuple[bool, tuple[dict[str, Any], str] | None]]) -> None:
        self.subs: dict[str, dc.Subscription] = {}
        self.stale: list[dc.Subscription] = []
        #: queue -> SQS MessageId -> the Expected its record was checked against
        self.checked: dict[str, dict[str, Expected]] = {q: {} for q in self.queues}
        for queue, (raw, chosen) in zip(self.names, initial, strict=False):
            self._subscribe(queue, raw, chosen, None)

    # subscriptions

    @rule(data=st.data(), raw=st.booleans(), chosen=maybe_policies,
          lone_scope=st.sampled_from([None, None, "MessageAttributes", "MessageBody"]))
    def subscribe(self, data: st.DataObject, raw: bool,
                  chosen: tuple[dict[str, Any], str] | None, lone_scope: str | None) -> None:
        self._subscribe(data.draw(st.sampled_from(self.names)), raw, chosen, lone_scope)

    def _subscribe(self, queue: str, raw: bool, chosen: tuple[dict[str, Any], str] | None,
                   lone_scope: str | None) -> None:
        policy, scope = chosen if chosen is not None else (None, lone_scope)
        outcome = self.model.subscribe_outcome(queue, raw, policy, scope)
        kwargs: dict[str, Any] = {"raw_message_delivery": raw}
        if policy is not None:
            kwargs["filter_policy"] = json.dumps(policy)
        if scope is not None:
            kwargs["filter_policy_scope"] = scope
        if outcome == "differs":
            with pytest.raises(InvalidParameter):
                self.topic.subscribe(self.queues[queue], **kwargs)
            event("subscribe: same endpoint, other attributes (refused)")
            return
        sub = self.topic.subscribe(self.queues[queue], **kwargs)
        assert sub.endpoint == self.queues[queue].arn and not sub.pending_confirmation
        if outcome == "same":
            assert sub is self.subs[queue]
            event("subscribe: same endpoint again (same subscription)")
            return
        self.subs[queue] = sub
        self.model.subs[queue] = SubModel(queue, sub.arn, raw, policy,
                                          scope or "MessageAttributes")

    @rule(data=st.data(), by_arn=st.booleans())
    def unsubscribe(self, data: st.DataObject, by_arn: bool) -> None:
        if not self.subs:
            return
        queue = data.draw(st.sampled_from(sorted(self.subs)))
        sub = self.subs.pop(queue)
        self.topic.unsubscribe(sub.arn if by_arn else sub)
        del self.model.subs[queue]
        self.stale.append(sub)

    @rule(data=st.data())
    def use_stale_subscription(self, data: st.DataObject) -> None:
        if not self.stale:
            return
        sub = data.draw(st.sampled_from(self.stale))
        with pytest.raises(NotFound):
            self.topic.unsubscribe(sub.arn)
        with pytest.raises(NotFound):
            sub.set_attributes({"RawMessageDelivery": "true"})

    @rule(data=st.data(), chosen=maybe_policies)
    def set_filter_policy(self, data: st.DataObject,
                          chosen: tuple[dict[str, Any], str] | None) -> None:
        if not self.subs:
            return
        queue = data.draw(st.sampled_from(sorted(self.subs)))
        sub, model = self.subs[queue], self.model.subs[queue]
        if chosen is None:
            sub.set_attributes({"FilterPolicy": ""})
            model.policy = None
            return
        policy, scope = chosen
        sub.set_attributes({"FilterPolicy": json.dumps(policy), "FilterPolicyScope": scope})
        model.policy, model.scope = policy, scope
        assert sub.filter_policy == policy and sub.filter_policy_scope == scope

    @rule(data=st.data(), scope=st.sampled_from(["MessageAttributes", "MessageBody"]))
    def set_scope(self, data: st.DataObject, scope: str) -> None:
        if not self.subs:
            return
        queue = data.draw(st.sampled_from(sorted(self.subs)))
        sub, model = self.subs[queue], self.model.subs[queue]
        nested = model.policy is not None and any(isinstance(v, dict)
                                                   for v in model.policy.values())
        if nested and scope == "MessageAttributes":
            with pytest.raises(InvalidParameter):
                sub.set_attribute("FilterPolicyScope", scope)
            event("set scope: nested policy refused in attribute scope")
            return
        sub.set_attribute("FilterPolicyScope", scope)
        model.scope = scope

    @rule(data=st.data(), raw=st.booleans())
    def set_raw(self, data: st.DataObject, raw: bool) -> None:
        if not self.subs:
            return
        queue = data.draw(st.sampled_from(sorted(self.subs)))
        self.subs[queue].set_attribute("RawMessageDelivery", "true" if raw else "false")
        self.model.subs[queue].raw = raw

    # publishing

    def _kwargs(self, pub: Publish) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"subject": pub.subject,
                                  "message_attributes": pub.wire_attributes or None}  # type: ignore[attr-defined]
        if pub.structure:
            kwargs["message_structure"] = "json"
        if pub.group is not None:
            kwargs["message_group_id"] = pub.group
        if pub.dedup_id is not None:
            kwargs["message_deduplication_id"] = pub.dedup_id
        return kwargs

    def _entry(self, index: int, pub: Publish) -> dict[str, Any]:
        kwargs = self._kwargs(pub)
        entry = {"Id": f"e{index}", "Message": pub.message,
                 "MessageAttributes": kwargs["message_attributes"]}
        for key, name in (("subject", "Subject"), ("message_structure", "MessageStructure"),
                          ("message_group_id", "MessageGroupId"),
                          ("message_deduplication_id", "MessageDeduplicationId")):
            if kwargs.get(key) is not None:
                entry[name] = kwargs[key]
        return entry

    def _accepted(self, pub: Publish, message_id: str, sequence: str | None) -> None:
        """Apply a publish the topic accepted (and did not deduplicate) to the model."""
        reached = self.model.publish(pub, message_id, sequence, self.clock.now(),
                                     self.clock.wall_ms())
        text = pub.text_for_sqs()
        if not reached:
            event("publish: no matching subscription (dropped)")
        elif len(reached) < len(self.model.subs):
            event("publish: filtered out of some subscriptions")
        if any(m.policy is not None and m.scope == "MessageBody"
               and policy_matches(m.policy, m.scope, text, pub.attributes)
               for m in self.model.subs.values()):
            event("publish: a body-scope policy matched")

    # checks

    def _check_message(self, queue: str, body: str, attributes: Any, expected: Expected,
                       group: str | None) -> None:
        if expected.raw:
            assert body == expected.text
            assert sqs_attribute_view(attributes) == expected.attributes
        else:
            assert not attributes
            env = json.loads(body)
            assert env["Type"] == "Notification"
            assert env["MessageId"] == expected.message_id
            assert env["TopicArn"] == self.topic.arn
            assert env["Message"] == expected.text
            assert env.get("Subject") == expected.subject
            assert ("Subject" in env) == (expected.subject is not None)
            assert env["Timestamp"] == iso_timestamp(expected.wall_ms)
            assert env["UnsubscribeURL"].endswith("SubscriptionArn=" + expected.sub_arn)
            assert env.get("MessageAttributes") == (envelope_attributes(expected.attributes)
                                                    or None)
            if self.topic.is_fifo:
                assert env["SequenceNumber"] == expected.sequence_number
                assert "Signature" not in env
            else:
                assert env["SignatureVersion"] == "1" and "SequenceNumber" not in env
        if self.topic.is_fifo:
            assert group == expected.group

    @invariant()
    def queues_hold_what_the_model_says(self) -> None:
        """Each queue holds exactly the model's messages, in publish order. A record already
        checked against the same expected message is not parsed again (records never change)."""
        for name, queue in self.queues.items():
            held = [e.record for e in queue._ledger.entries()]
            expected = self.model.held[name]
            assert len(held) == len(expected), (name, len(held), len(expected))
            checked = self.checked[name]
            for record, exp in zip(held, expected, strict=True):
                if checked.get(record.message_id) is exp:
                    continue
                self._check_message(name, record.body, record.attributes, exp, record.group_id)
                checked[record.message_id] = exp
            assert len({r.message_id for r in held}) == len(held)

    @rule(data=st.data())
    def consume(self, data: st.DataObject) -> None:
        """Receive everything a queue holds through the public API, and delete it."""
        if not any(self.model.held.values()):
            return
        name = data.draw(st.sampled_from([q for q in self.names if self.model.held[q]]))
        queue = self.queues[name]
        got: list[dc.Message] = []
        while True:
            batch = queue.receive(10, wait_seconds=0, visibility_timeout=600)
            if not batch:
                break
            got.extend(batch)
            result = queue.delete_batch([{"Id": str(i), "ReceiptHandle": m.receipt_handle}
                                         for i, m in enumerate(batch)])
            assert not result.failed
        expected = self.model.held[name]
        assert len(got) == len(expected)
        if self.topic.is_fifo:
            # Within each group, the order published; across groups, any interleaving.
            by_group: dict[str | None, list[Expected]] = {}
            for e in expected:
                by_group.setdefault(e.group, []).append(e)
            for m in got:
                exp = by_group[m.message_group_id].pop(0)
                self._check_message(name, m.body, m.message_attributes, exp, m.message_group_id)
            if len({m.message_group_id for m in got}) > 1:
                event("consume: several groups, each in order")
        else:
            # Standard queues pick freely: match by the SNS MessageId (envelope) or by content.
            remaining = list(expected)
            for m in got:
                for i, exp in enumerate(remaining):
                    try:
                        self._check_message(name, m.body, m.message_attributes, exp, None)
                    except AssertionError:
                        continue
                    del remaining[i]
                    break
                else:
                    raise AssertionError(f"{name}: unexpected message {m.body!r}")
        self.model.held[name] = []
        self.checked[name] = {}


class TopicMachine(_TopicRules):
    """A standard topic fanning out to four standard queues."""

    @initialize(initial=st.lists(st.tuples(st.booleans(), maybe_policies), max_size=4))
    def setup(self, initial: list[tuple[bool, tuple[dict[str, Any], str] | None]]) -> None:
        self.clock = dc.ManualClock()
        self.loop = dc.EventLoop(clock=self.clock)
        self.topic = dc.Topic(self.loop, "t")
        self.names = ["q0", "q1", "q2", "q3"]
        self.queues = {n: dc.Queue(self.loop, n) for n in self.names}
        self.model = SnsModel(self.names)
        self._start(initial)

    @rule(pub=publishes())
    def publish(self, pub: Publish) -> None:
        result = self.topic.publish(pub.message, **self._kwargs(pub))
        assert result.sequence_number is None
        self._accepted(pub, result.message_id, None)

    @rule(pubs=st.lists(st.tuples(publishes(), st.sampled_from(["ok"] * 6 + ["empty", "subject"])),
                        min_size=1, max_size=6))
    def publish_batch(self, pubs: list[tuple[Publish, str]]) -> None:
        entries = []
        for i, (pub, kind) in enumerate(pubs):
            entry = self._entry(i, pub)
            if kind == "empty":
                entry["Message"] = ""
            elif kind == "subject":
                entry["Subject"] = "two\nlines"
            entries.append(entry)
        result = self.topic.publish_batch(entries)
        assert [f["Id"] for f in result.failed] == [
            f"e{i}" for i, (_, kind) in enumerate(pubs) if kind != "ok"]
        ok = iter(result.successful)
        for i, (pub, kind) in enumerate(pubs):
            if kind == "ok":
                entry = next(ok)
                assert entry["Id"] == f"e{i}"
                self._accepted(pub, entry["MessageId"], None)
        if result.failed and result.successful:
            event("publish batch: some entries failed")


FIFO_BODIES = st.sampled_from(['{"color": "red", "size": 5}', '{"color": "green"}', "plain",
                               '{"size": 10, "tags": ["rouge"]}'])


class FifoTopicMachine(_TopicRules):
    """A FIFO topic fanning out to three FIFO queues: group order and deduplication."""

    @initialize(content_dedup=st.booleans(),
                topic_scope=st.sampled_from(["Topic", "MessageGroup"]),
                queue_scopes=st.lists(st.sampled_from(["queue", "messageGroup"]),
                                      min_size=3, max_size=3),
                initial=st.lists(st.tuples(st.booleans(), maybe_policies), max_size=3))
    def setup(self, content_dedup: bool, topic_scope: str, queue_scopes: list[str],
              initial: list[tuple[bool, tuple[dict[str, Any], str] | None]]) -> None:
        self.clock = dc.ManualClock()
        self.loop = dc.EventLoop(clock=self.clock)
        self.topic = dc.Topic(self.loop, "t.fifo", content_based_deduplication=content_dedup,
                              fifo_throughput_scope=topic_scope)
        self.names = ["f0.fifo", "f1.fifo", "f2.fifo"]
        self.queues = {n: dc.FifoQueue(self.loop, n, deduplication_scope=s)
                       for n, s in zip(self.names, queue_scopes, strict=True)}
        self.model = SnsModel(self.names, fifo=True, content_dedup=content_dedup,
                              topic_scope=topic_scope,
                              queue_scope=dict(zip(self.names, queue_scopes, strict=True)))
        self.last_sequence = 0
        self._start(initial)

    def _fifo_publish(self, pub: Publish, send: Any) -> None:
        """Publish through ``send(pub)`` -> (message id, sequence) or an exception."""
        if pub.dedup_id is None and not self.model.content_dedup:
            with pytest.raises(InvalidParameter):
                send(pub)
            return
        original = self.model.duplicate(pub, self.clock.now())
        message_id, sequence = send(pub)
        if original is not None:
            assert (message_id, sequence) == original
            event("fifo: duplicate publish accepted, not delivered")
            return
        assert int(sequence) > self.last_sequence
        self.last_sequence = int(sequence)
        before = sum(len(h) for h in self.model.held.values())
        self._accepted(pub, message_id, sequence)
        matched = [q for q, s in self.model.subs.items()
                   if policy_matches(s.policy, s.scope, pub.text_for_sqs(), pub.attributes)]
        if sum(len(h) for h in self.model.held.values()) - before < len(matched):
            event("fifo: a queue's own deduplication dropped a topic message")

    @rule(pub=publishes(FIFO_BODIES), group=st.sampled_from(["g1", "g2", "g3"]),
          dedup=st.sampled_from([None, None, "d1", "d2", "d3"]))
    def publish(self, pub: Publish, group: str, dedup: str | None) -> None:
        pub.group, pub.dedup_id = group, dedup

        def send(p: Publish) -> tuple[str, str]:
            r = self.topic.publish(p.message, **self._kwargs(p))
            assert r.sequence_number is not None
            return r.message_id, r.sequence_number

        self._fifo_publish(pub, send)

    @rule(pubs=st.lists(st.tuples(publishes(FIFO_BODIES), st.sampled_from(["g1", "g2"]),
                                  st.sampled_from(["d1", "d2", "d3", "d4"])),
                        min_size=1, max_size=10))
    def publish_batch(self, pubs: list[tuple[Publish, str, str]]) -> None:
        """Entries are published in order: a later entry may duplicate an earlier one."""
        for pub, group, dedup in pubs:
            pub.group, pub.dedup_id = group, dedup
        result = self.topic.publish_batch([self._entry(i, p) for i, (p, _, _) in enumerate(pubs)])
        assert not result.failed
        answers = iter(result.successful)
        for pub, _, _ in pubs:
            answer = next(answers)
            self._fifo_publish(pub, lambda _p, a=answer: (a["MessageId"], a["SequenceNumber"]))

    @rule(seconds=st.sampled_from([1.0, 60.0, 120.0, 299.0, 299.999, 300.0, 301.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def groups_in_sequence_order(self) -> None:
        for queue in self.queues.values():
            last: dict[str | None, int] = {}
            for entry in queue._ledger.entries():
                seq = int(json.loads(entry.record.body)["SequenceNumber"]) \
                    if entry.record.body.startswith('{\n  "Type" : "Notification"') else None
                if seq is not None:
                    group = entry.record.group_id
                    assert seq > last.get(group, 0)
                    last[group] = seq


TestTopicModel = TopicMachine.TestCase
TestTopicModel.settings = _settings(30, 2500)
TestFifoTopicModel = FifoTopicMachine.TestCase
TestFifoTopicModel.settings = _settings(20, 1500)


# -- regressions and edges found while writing the model --------------------------------------


def test_model_sanity_attribute_and_body_policies() -> None:
    """The model agrees with FilterPolicy on hand-picked edges (a cheap guard on the model)."""
    from decoupling.sns.filter_policy import FilterPolicy
    cases = [
        ({"size": [{"numeric": [">", 0, "<=", 10]}]}, {"size": ("Number", "1e1")}, True),
        ({"color": [{"exists": False}]}, {"blob": ("Binary", "AA==")}, False),
        ({"color": [{"exists": False}]}, {"size": ("Number", "5")}, True),
        ({"tags": [{"anything-but": ["red"]}]}, {"tags": ("String.Array", "[]")}, False),
        ({"color": ["5"]}, {"color": ("Number", "5")}, False),
        ({}, {}, True),
    ]
    for policy, attributes, want in cases:
        assert policy_matches(policy, "MessageAttributes", "", attributes) is want
        got = FilterPolicy.compile(policy).matches_attributes(attributes)
        assert got is want, (policy, attributes)
    body = json.dumps({"detail": [{"level": 5}, {"x": 1}]})
    policy = {"detail": {"level": [{"numeric": ["=", 5]}]}}
    assert policy_matches(policy, "MessageBody", body, {})
    assert FilterPolicy.compile(policy, "MessageBody").matches_body(body)
