"""AWS facts about topics that the native API follows (issue 20): message attribute counts,
``MessageStructure="json"`` and attributes, token validity, ``GetTopicAttributes`` contents,
permissions and the data protection policy."""

from __future__ import annotations

import json

import pytest

import decoupling as dc
from decoupling import errors

ELEVEN = {f"a{i}": f"v{i}" for i in range(11)}


def test_publish_takes_more_than_ten_attributes(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    enveloped = dc.Queue(loop, "enveloped")
    raw = dc.Queue(loop, "raw")
    dlq = dc.Queue(loop, "raw-dlq")
    topic.subscribe(enveloped)
    raw_sub = topic.subscribe(raw, raw_message_delivery=True, redrive_policy=dlq)
    seen: list[dc.Notification] = []
    topic.subscribe(seen.append)
    topic.publish("many", message_attributes=ELEVEN)
    assert topic.drain()
    [envelope] = enveloped.receive()
    assert json.loads(envelope.body)["MessageAttributes"] == {
        name: {"Type": "String", "Value": value} for name, value in ELEVEN.items()}
    assert raw.receive() == []  # SQS takes 10 attributes at most
    assert raw_sub.undeliverable == 1 and raw_sub.dead_lettered == 1
    [dead] = dlq.receive()
    assert dead.body == "many"
    assert dead.message_attributes == {}
    assert len(seen[0].message_attributes) == 11


def test_reserved_sns_attribute_names_are_accepted_but_not_by_a_raw_queue(
    loop: dc.EventLoop,
) -> None:
    topic = dc.Topic(loop, "t")
    raw = dc.Queue(loop, "raw")
    raw_sub = topic.subscribe(raw, raw_message_delivery=True)
    topic.publish("m", message_attributes={"AWS.SNS.SMS.SenderID": "Shop"})
    assert raw.receive() == [] and raw_sub.undeliverable == 1
    with pytest.raises(errors.ParameterValueInvalid, match="must not start with 'AWS.'"):
        topic.publish("m", message_attributes={"AWS.Other": "x"})


def test_message_structure_json_does_not_deliver_attributes(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    enveloped = dc.Queue(loop, "enveloped")
    raw = dc.Queue(loop, "raw")
    filtered = dc.Queue(loop, "filtered")
    topic.subscribe(enveloped)
    topic.subscribe(raw, raw_message_delivery=True)
    topic.subscribe(filtered, filter_policy={"kind": ["book"]})
    topic.publish(json.dumps({"default": "d", "sqs": "for queues"}), message_structure="json",
                  message_attributes={"kind": "book"})
    envelope = json.loads(enveloped.receive()[0].body)
    assert envelope["Message"] == "for queues"
    assert "MessageAttributes" not in envelope
    [raw_message] = raw.receive()
    assert (raw_message.body, raw_message.message_attributes) == ("for queues", {})
    assert len(filtered.receive()) == 1  # filter policies still see the attributes


def test_confirmation_tokens_are_valid_two_days(clock: dc.ManualClock,
                                                loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    topic.subscribe("a@example.com", "email")
    topic.subscribe("b@example.com", "email")
    first, second = (entry.token for entry in topic.outbox)
    assert first is not None and second is not None
    clock.advance(2 * 86_400)
    assert topic.confirm_subscription(first).endpoint == "a@example.com"
    clock.advance(1)
    with pytest.raises(errors.InvalidParameter, match="Invalid token"):
        topic.confirm_subscription(second)


def test_maximum_message_size_is_listed_only_once_set(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    assert "MaximumMessageSize" not in topic.get_attributes()
    topic.set_attribute("MaximumMessageSize", "2048")
    assert topic.get_attributes()["MaximumMessageSize"] == "2048"
    created = dc.Topic(loop, "sized", maximum_message_size=4096)
    assert created.get_attributes()["MaximumMessageSize"] == "4096"


def test_add_and_remove_permissions(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    default = json.loads(topic.get_attributes()["Policy"])
    topic.add_permission("one", ["111122223333"], ["Publish"])
    topic.add_permission("two", ["111122223333", "444455556666"], ["Publish", "Subscribe"])
    statements = json.loads(topic.get_attributes()["Policy"])["Statement"]
    assert statements[0] == default["Statement"][0]
    assert statements[1:] == [
        {"Sid": "one", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "SNS:Publish", "Resource": topic.arn},
        {"Sid": "two", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111122223333:root",
                               "arn:aws:iam::444455556666:root"]},
         "Action": ["SNS:Publish", "SNS:Subscribe"], "Resource": topic.arn},
    ]
    with pytest.raises(errors.InvalidParameter) as info:
        topic.add_permission("one", ["111122223333"], ["AddPermission"])
    assert info.value.message == "Invalid parameter: Statement already exists"
    with pytest.raises(errors.InvalidParameter) as info:
        topic.add_permission("three", ["111122223333"], ["InvalidAction"])
    assert info.value.message == (
        "Invalid parameter: Policy statement action out of service scope!")
    topic.remove_permission("one")
    topic.remove_permission("never-added")  # not an error, as SNS
    sids = [s["Sid"] for s in json.loads(topic.get_attributes()["Policy"])["Statement"]]
    assert sids == ["__default_statement_ID", "two"]


def test_data_protection_policy_is_not_a_topic_attribute(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    assert topic.get_data_protection_policy() == ""
    policy = {"Name": "p", "Version": "2021-06-01", "Statement": []}
    topic.put_data_protection_policy(json.dumps(policy))
    assert json.loads(topic.get_data_protection_policy()) == policy
    assert "DataProtectionPolicy" not in topic.get_attributes()
    topic.put_data_protection_policy({"Name": "q", "Statement": []})
    assert json.loads(topic.get_data_protection_policy())["Name"] == "q"
    with pytest.raises(errors.InvalidParameter, match="must be a JSON object"):
        topic.put_data_protection_policy("[1]")
    assert json.loads(topic.get_data_protection_policy())["Name"] == "q"
