"""Filter policies through real topics and subscriptions (the matcher itself is unit-tested in
test_filter_policy.py): the examples of the SNS Developer Guide's "Amazon SNS message
filtering" pages, in both scopes, with raw and enveloped delivery.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

#: The message attributes of the Developer Guide's filter policy examples.
ATTRIBUTES: dict[str, Any] = {
    "customer_interests": ["soccer", "rugby", "hockey"],
    "store": "example_corp",
    "event": "order_placed",
    "price_usd": 210.75,
    "source_ip": "10.0.0.42",
    "image": "photo.png",
    "signature": b"\x01\x02",
}

#: The same facts as a message body, with nesting, for FilterPolicyScope=MessageBody.
BODY = {
    "customer_interests": ["soccer", "rugby", "hockey"],
    "store": "example_corp",
    "event": "order_placed",
    "price_usd": 210.75,
    "delivery": {"address": {"city": "Seattle", "zip": "98101"}, "express": True},
    "items": [{"sku": "book-1", "qty": 2}, {"sku": "pen-9", "qty": 1}],
}

ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("all four keys (AND)", {
        "store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
        "customer_interests": ["rugby", "football", "baseball"],
        "price_usd": [{"numeric": [">=", 100]}]}, True),
    ("array attribute, one value matches", {"customer_interests": ["rugby"]}, True),
    ("array attribute, no value matches", {"customer_interests": ["basketball"]}, False),
    ("exact string", {"store": ["example_corp"]}, True),
    ("exact string is case-sensitive", {"store": ["Example_Corp"]}, False),
    ("OR within a key", {"event": ["order_cancelled", "order_placed"]}, True),
    ("prefix", {"store": [{"prefix": "example"}]}, True),
    ("suffix", {"store": [{"suffix": "_corp"}]}, True),
    ("equals-ignore-case", {"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, True),
    ("anything-but list", {"event": [{"anything-but": ["order_cancelled", "order_failed"]}]},
     True),
    ("anything-but prefix", {"event": [{"anything-but": {"prefix": "order"}}]}, False),
    ("anything-but suffix", {"event": [{"anything-but": {"suffix": "_cancelled"}}]}, True),
    ("numeric range miss", {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, False),
    ("numeric equals", {"price_usd": [{"numeric": ["=", 210.75]}]}, True),
    ("exact number", {"price_usd": [210.75]}, True),
    ("exists true", {"store": [{"exists": True}]}, True),
    ("exists false", {"encrypted": [{"exists": False}]}, True),
    ("exists false on a present key", {"store": [{"exists": False}]}, False),
    ("cidr", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, True),
    ("cidr miss", {"source_ip": [{"cidr": "10.0.1.0/24"}]}, False),
    ("wildcard", {"image": [{"wildcard": "*.png"}]}, True),
    ("$or", {"store": ["other"], "$or": [{"event": ["order_placed"]},
                                         {"price_usd": [{"numeric": ["<", 10]}]}]}, False),
    ("$or, one branch", {"$or": [{"store": ["other"]}, {"event": ["order_placed"]}]}, True),
    ("binary attributes are not compared", {"signature": [{"exists": True}]}, False),
    ("missing key", {"colour": ["red"]}, False),
]

BODY_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("top-level keys", {"store": ["example_corp"], "event": ["order_placed"]}, True),
    ("nested key", {"delivery": {"address": {"city": ["Seattle"]}}}, True),
    ("nested key miss", {"delivery": {"address": {"city": ["Portland"]}}}, False),
    ("boolean", {"delivery": {"express": [True]}}, True),
    ("array of objects, any element", {"items": {"sku": [{"prefix": "pen"}]}}, True),
    ("numeric in body", {"price_usd": [{"numeric": [">", 200]}]}, True),
    ("array value in body", {"customer_interests": ["hockey"]}, True),
    ("exists false nested", {"delivery": {"address": {"state": [{"exists": False}]}}}, True),
]


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "orders")


def delivered(queue: dc.Queue) -> list[dc.Message]:
    return queue.receive(max_messages=10)


@pytest.mark.parametrize(("case", "policy", "matches"), ATTRIBUTE_CASES,
                         ids=[c[0] for c in ATTRIBUTE_CASES])
@pytest.mark.parametrize("raw", [False, True], ids=["envelope", "raw"])
def test_attribute_scope(
    loop: dc.EventLoop, topic: dc.Topic, case: str, policy: dict[str, Any], matches: bool,
    raw: bool,
) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue, filter_policy=policy, raw_message_delivery=raw)
    topic.publish("order 1", message_attributes=ATTRIBUTES)
    messages = delivered(queue)
    assert len(messages) == int(matches)
    if matches and raw:
        (message,) = messages
        assert message.body == "order 1"
        assert message.message_attributes["customer_interests"] == dc.MessageAttributeValue(
            "String.Array", '["soccer", "rugby", "hockey"]')
        assert message.message_attributes["signature"] == dc.MessageAttributeValue(
            "Binary", None, b"\x01\x02")
    elif matches:
        envelope = json.loads(messages[0].body)
        assert envelope["Message"] == "order 1"
        assert envelope["MessageAttributes"]["price_usd"] == {"Type": "Number",
                                                              "Value": "210.75"}


@pytest.mark.parametrize(("case", "policy", "matches"), BODY_CASES,
                         ids=[c[0] for c in BODY_CASES])
def test_body_scope(
    loop: dc.EventLoop, topic: dc.Topic, case: str, policy: dict[str, Any], matches: bool
) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue, filter_policy=policy, filter_policy_scope="MessageBody")
    assert sub.filter_policy_scope == "MessageBody"
    topic.publish(json.dumps(BODY))
    assert len(delivered(queue)) == int(matches)


def test_attribute_policies_ignore_the_body_and_vice_versa(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    by_attr, by_body = dc.Queue(loop, "attr"), dc.Queue(loop, "body")
    topic.subscribe(by_attr, filter_policy={"store": ["example_corp"]})
    topic.subscribe(by_body, filter_policy={"store": ["example_corp"]},
                    filter_policy_scope="MessageBody")
    topic.publish(json.dumps({"store": "example_corp"}))
    topic.publish("not json", message_attributes={"store": "example_corp"})
    assert [json.loads(m.body)["Message"] for m in delivered(by_attr)] == ["not json"]
    assert [json.loads(json.loads(m.body)["Message"]) for m in delivered(by_body)] == [
        {"store": "example_corp"}]


def test_no_attributes_match_no_attribute_policy(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue, filter_policy={"encrypted": [{"exists": False}]})
    topic.publish("bare")  # "exists": false needs at least one attribute ("Key matching")
    assert delivered(queue) == []


def test_body_scope_reads_the_protocol_message_of_a_json_structure(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue, filter_policy={"for": ["sqs"]}, filter_policy_scope="MessageBody")
    topic.subscribe("+15551234567", "sms", filter_policy={"for": ["sms"]},
                    filter_policy_scope="MessageBody")
    topic.publish(json.dumps({"default": '{"for": "default"}', "sqs": '{"for": "sqs"}',
                              "sms": '{"for": "sms"}'}), message_structure="json")
    assert len(delivered(queue)) == 1
    assert [e.body for e in topic.outbox] == ['{"for": "sms"}']


def test_policy_changes_apply_to_the_next_publish(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue, filter_policy={"kind": ["book"]})
    topic.publish("pen", message_attributes={"kind": "pen"})
    sub.set_attribute("FilterPolicy", {"kind": ["pen"]})
    topic.publish("pen again", message_attributes={"kind": "pen"})
    sub.set_attribute("FilterPolicy", "")
    topic.publish("anything")
    assert [json.loads(m.body)["Message"] for m in delivered(queue)] == ["pen again", "anything"]


def test_scope_change_recompiles_and_validates(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue, filter_policy={"delivery": {"express": [True]}},
                          filter_policy_scope="MessageBody")
    with pytest.raises(errors.InvalidParameter, match="does not support nested filter policy"):
        sub.set_attribute("FilterPolicyScope", "MessageAttributes")
    assert sub.filter_policy_scope == "MessageBody"
    topic.publish(json.dumps(BODY))
    assert len(delivered(queue)) == 1


def test_subscriptions_with_equal_policies_share_one_evaluation(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    queues = [dc.Queue(loop, f"q{i}") for i in range(3)]
    for q in queues[:2]:
        topic.subscribe(q, filter_policy={"store": ["example_corp"], "event": ["order_placed"]})
    topic.subscribe(queues[2], filter_policy='{"event": ["order_placed"], '
                                            '"store": ["example_corp"]}')
    policies = {id(s._policy) for s in topic.subscriptions}
    assert len(policies) == 1  # key order does not matter
    topic.publish("m", message_attributes=ATTRIBUTES)
    assert [len(delivered(q)) for q in queues] == [1, 1, 1]


def test_filter_policy_attribute_text_is_kept(loop: dc.EventLoop, topic: dc.Topic) -> None:
    text = '{"store": ["example_corp"]}'
    sub = topic.subscribe(dc.Queue(loop, "inbox"), filter_policy=text)
    assert sub.get_attributes()["FilterPolicy"] == text
    assert sub.get_attributes()["FilterPolicyScope"] == "MessageAttributes"
    assert sub.filter_policy == {"store": ["example_corp"]}
