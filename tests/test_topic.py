"""Topic: creation, attributes, publish validation, envelopes, batches and subscriptions.

Filter policies are in test_topic_filters.py, callables/retries/dead letters in
test_topic_delivery.py, HTTP/S in test_topic_http.py, FIFO topics in test_topic_fifo.py and
archive/replay in test_topic_replay.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

ENVELOPE_KEYS = [
    "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
    "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes",
]


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "orders")


def one(queue: dc.Queue) -> dc.Message:
    messages = queue.receive(max_messages=10)
    assert len(messages) == 1, messages
    return messages[0]


# --- creating topics ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a" * 257, "has space", "dot.name", "slash/x", "x.fifo.fifo"])
def test_bad_topic_names_are_refused(loop: dc.EventLoop, name: str) -> None:
    with pytest.raises(errors.InvalidParameter, match="Invalid parameter: Topic Name"):
        dc.Topic(loop, name)
    assert loop._lookup("sns", name) is None


def test_name_of_256_characters_and_arn(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "a" * 256)
    assert topic.arn == "arn:aws:sns:us-east-1:000000000000:" + "a" * 256
    assert not topic.is_fifo


def test_fifo_is_inferred_from_the_suffix_and_must_agree(loop: dc.EventLoop) -> None:
    assert dc.Topic(loop, "prices.fifo").is_fifo
    assert dc.Topic(loop, "p2.fifo", fifo_topic=True).is_fifo
    with pytest.raises(errors.InvalidParameter, match="Invalid parameter: Topic Name$"):
        dc.Topic(loop, "plain", fifo_topic=True)
    with pytest.raises(errors.InvalidParameter, match="Invalid parameter: Topic Name$"):
        dc.Topic(loop, "p3.fifo", attributes={"FifoTopic": "false"})


def test_create_twice_same_attributes_returns_the_topic(loop: dc.EventLoop) -> None:
    first = dc.Topic(loop, "t", display_name="Shop")
    assert dc.Topic(loop, "t", display_name="Shop") is first
    with pytest.raises(errors.InvalidParameter,
                       match="Topic already exists with different attributes"):
        dc.Topic(loop, "t", display_name="Other")


def test_default_attributes_of_a_standard_topic(topic: dc.Topic) -> None:
    attrs = topic.get_attributes()
    assert set(attrs) == {
        "Owner", "Policy", "TopicArn", "DisplayName", "SubscriptionsConfirmed",
        "SubscriptionsPending", "SubscriptionsDeleted", "EffectiveDeliveryPolicy",
    }  # no MaximumMessageSize: GetTopicAttributes has it only once set
    assert attrs["Owner"] == "000000000000"
    assert attrs["TopicArn"] == topic.arn
    assert attrs["DisplayName"] == ""
    assert topic.maximum_message_size == 262_144
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"],
            attrs["SubscriptionsDeleted"]) == ("0", "0", "0")
    assert json.loads(attrs["EffectiveDeliveryPolicy"]) == {"http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
            "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }}
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == topic.arn


def test_fifo_topic_attributes(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "p.fifo", content_based_deduplication=True,
                     fifo_throughput_scope="MessageGroup")
    attrs = topic.get_attributes()
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"],
            attrs["FifoThroughputScope"]) == ("true", "true", "MessageGroup")
    assert "ArchivePolicy" not in attrs and "BeginningArchiveTime" not in attrs


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Bogus", "1", "Invalid parameter: AttributeName"),
        ("ContentBasedDeduplication", "true", "only valid for FIFO topics"),
        ("FifoThroughputScope", "Topic", "only valid for FIFO topics"),
        ("ArchivePolicy", {"MessageRetentionPeriod": "3"}, "only valid for FIFO topics"),
        ("MaximumMessageSize", 1023, "from 1024 to 1048576"),
        ("MaximumMessageSize", 1_048_577, "from 1024 to 1048576"),
        ("MaximumMessageSize", "big", "from 1024 to 1048576"),
        ("DisplayName", "x" * 101, "at most 100 characters"),
        ("SignatureVersion", "3", "SignatureVersion must be 1 or 2"),
        ("FifoTopic", "true", "can only be set when the topic is created"),
        ("DeliveryPolicy", "{not json", "DeliveryPolicy: failed to parse JSON"),
    ],
)
def test_bad_topic_attributes_change_nothing(
    topic: dc.Topic, name: str, value: Any, message: str
) -> None:
    before = topic.get_attributes()
    with pytest.raises(errors.InvalidParameter, match=message):
        topic.set_attributes({"DisplayName": "Changed", name: value})
    assert topic.get_attributes() == before


def test_set_and_read_back_attributes(topic: dc.Topic) -> None:
    policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2,
                                                     "maxDelayTarget": 30}}}
    topic.set_attributes({"DisplayName": "Shop", "MaximumMessageSize": "2048",
                          "DeliveryPolicy": policy, "TracingConfig": "Active"})
    attrs = topic.get_attributes()
    assert attrs["DisplayName"] == "Shop"
    assert attrs["MaximumMessageSize"] == "2048"
    assert attrs["TracingConfig"] == "Active"
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (effective["numRetries"], effective["minDelayTarget"],
            effective["maxDelayTarget"]) == (5, 2, 30)


# --- MaximumMessageSize --------------------------------------------------------------------


def test_size_limit_counts_message_and_attributes(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "small", maximum_message_size=1024)
    # "k" + "String" + "v" = 8 bytes of attributes
    topic.publish("x" * 1016, message_attributes={"k": "v"})
    with pytest.raises(errors.InvalidParameter, match="Invalid parameter: Message too long"):
        topic.publish("x" * 1017, message_attributes={"k": "v"})
    with pytest.raises(errors.InvalidParameter, match="Message too long"):
        topic.publish("é" * 513)  # 1,026 bytes of UTF-8


def test_default_limit_is_256_kib(topic: dc.Topic) -> None:
    topic.publish("x" * 262_144)
    with pytest.raises(errors.InvalidParameter, match="Message too long"):
        topic.publish("x" * 262_145)


def test_large_topics_allow_only_sqs_and_100_subscriptions(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "big", maximum_message_size=1_048_576)
    raw, wrapped = dc.Queue(loop, "big-raw"), dc.Queue(loop, "big-wrapped")
    topic.subscribe(raw, raw_message_delivery=True)
    enveloped = topic.subscribe(wrapped)
    topic.publish("x" * 1_048_576)
    assert len(one(raw).body) == 1_048_576
    # The envelope around 1 MiB is over the queue's 1 MiB: a client-side failure, dropped.
    assert len(wrapped) == 0 and enveloped.undeliverable == 1
    with pytest.raises(errors.InvalidParameter, match="not supported on a topic whose"):
        topic.subscribe("a@example.com", "email")
    for i in range(98):
        topic.subscribe(f"arn:aws:sqs:us-east-1:000000000000:q{i}")
    with pytest.raises(errors.InvalidParameter, match="at most 100 subscriptions"):
        topic.subscribe("arn:aws:sqs:us-east-1:000000000000:q-last")


def test_raising_the_limit_needs_eligible_subscriptions(topic: dc.Topic) -> None:
    topic.subscribe("+15551234567", "sms")
    with pytest.raises(errors.InvalidParameter, match="at most 100 subscriptions, all of them"):
        topic.set_attributes({"MaximumMessageSize": 262_145})
    assert topic.maximum_message_size == 262_144


# --- publishing -------------------------------------------------------------------------------


def test_envelope_delivered_to_sqs_is_aws_shaped(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue)
    clock.advance(1.5)
    result = topic.publish("Hello world!", subject="Greeting",
                           message_attributes={"store": "example_corp", "price": 10.5,
                                               "blob": b"\x02\x03\x04", "tags": ["a", "b"]})
    body = one(queue).body
    envelope = json.loads(body)
    assert list(envelope) == ENVELOPE_KEYS
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == result.message_id
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "Greeting"
    assert envelope["Message"] == "Hello world!"
    assert envelope["Timestamp"] == "2026-01-01T00:00:01.500Z"
    assert envelope["SignatureVersion"] == "1"
    # Queue deliveries are signed under EventLoop(sns_signatures="all"): tests/test_sns_signing.py
    assert envelope["Signature"].startswith("UNSIGNED (")
    assert envelope["SigningCertURL"].startswith(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")
    assert envelope["UnsubscribeURL"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + sub.arn)
    assert envelope["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "example_corp"},
        "price": {"Type": "Number", "Value": "10.5"},
        "blob": {"Type": "Binary", "Value": "AgME"},
        "tags": {"Type": "String.Array", "Value": '["a", "b"]'},
    }
    # AWS's layout: "Key" : value pairs, two-space indent, one compact object per attribute.
    assert body.startswith('{\n  "Type" : "Notification",\n  "MessageId" : "')
    assert '\n    "store" : {"Type":"String","Value":"example_corp"},\n' in body
    assert body.endswith('"Value":"[\\"a\\", \\"b\\"]"}\n  }\n}')


def test_envelope_without_subject_or_attributes(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    topic.publish("plain")
    envelope = json.loads(one(queue).body)
    assert list(envelope) == [k for k in ENVELOPE_KEYS if k not in ("Subject", "MessageAttributes")]


def test_each_subscription_gets_its_own_unsubscribe_url(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    a, b = dc.Queue(loop, "a"), dc.Queue(loop, "b")
    sub_a, sub_b = topic.subscribe(a), topic.subscribe(b)
    topic.publish("m", subject="s")
    env_a, env_b = json.loads(one(a).body), json.loads(one(b).body)
    assert env_a["UnsubscribeURL"].endswith(sub_a.arn)
    assert env_b["UnsubscribeURL"].endswith(sub_b.arn)
    assert {k: v for k, v in env_a.items() if k != "UnsubscribeURL"} == {
        k: v for k, v in env_b.items() if k != "UnsubscribeURL"}


def test_sqs_message_of_a_notification(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    result = topic.publish("m", message_attributes={"k": "v"})
    message = one(queue)
    assert message.message_id != result.message_id  # SQS gives its own id
    assert message.message_attributes == {}  # attributes travel inside the envelope
    assert message.sent_timestamp == 1_767_225_600_000
    second = topic.publish("n")
    assert one(queue).message_id != message.message_id != second.message_id


def test_raw_delivery_passes_body_and_attributes(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "raw")
    topic.subscribe(queue, raw_message_delivery=True)
    topic.publish('{"order": 7}', subject="ignored",
                  message_attributes={"n": 3, "b": b"\x00\x01", "s": "x"})
    message = one(queue)
    assert message.body == '{"order": 7}'
    assert message.message_attributes == {
        "n": dc.MessageAttributeValue("Number", "3"),
        "b": dc.MessageAttributeValue("Binary", None, b"\x00\x01"),
        "s": dc.MessageAttributeValue("String", "x"),
    }


def test_message_structure_json_picks_the_protocol_key(loop: dc.EventLoop, topic: dc.Topic) -> None:
    sqs_q, raw_q = dc.Queue(loop, "s"), dc.Queue(loop, "r")
    topic.subscribe(sqs_q)
    topic.subscribe(raw_q, raw_message_delivery=True)
    topic.subscribe("+15551234567", "sms")
    topic.publish(json.dumps({"default": "dflt", "sqs": "for sqs", "email": "for email",
                              "sms": 5}), message_structure="json")
    assert json.loads(one(sqs_q).body)["Message"] == "for sqs"
    assert one(raw_q).body == "for sqs"
    assert [e.body for e in topic.outbox] == ["dflt"]  # non-string "sms" is ignored


@pytest.mark.parametrize(
    ("message", "message_text"),
    [
        ("not json", "JSON message body failed to parse"),
        ("[1, 2]", "JSON message body failed to parse"),
        ('{"sqs": "x"}', "No default entry in JSON message body"),
        ('{"default": 1}', "No default entry in JSON message body"),
    ],
)
def test_message_structure_errors(topic: dc.Topic, message: str, message_text: str) -> None:
    with pytest.raises(errors.InvalidParameter, match=message_text):
        topic.publish(message, message_structure="json")


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"message": ""}, errors.InvalidParameter, "Invalid parameter: Empty message"),
        ({"message": "a\x00b"}, errors.InvalidParameter, "Invalid parameter: Message"),
        ({"message": 5}, errors.InvalidParameter, "Message must be a str"),
        ({"subject": ""}, errors.InvalidParameter, "Invalid parameter: Subject"),
        ({"subject": "x" * 101}, errors.InvalidParameter, "Invalid parameter: Subject"),
        ({"subject": "two\nlines"}, errors.InvalidParameter, "Invalid parameter: Subject"),
        ({"message_structure": "xml"}, errors.InvalidParameter, "MessageStructure"),
        ({"message_deduplication_id": "d"}, errors.InvalidParameter,
         "MessageDeduplicationId parameter that is not valid for this topic type"),
        ({"message_group_id": "x" * 129}, errors.InvalidParameter, "MessageGroupId"),
        ({"message_attributes": {"a^b": "v"}}, errors.ParameterValueInvalid,
         "Invalid non-alphanumeric character '#x5E'"),
        ({"message_attributes": {".a": "v"}}, errors.ParameterValueInvalid, "starting with"),
        ({"message_attributes": {"a.": "v"}}, errors.ParameterValueInvalid, "ending with"),
        ({"message_attributes": {"a..b": "v"}}, errors.ParameterValueInvalid, "successive"),
        ({"message_attributes": {"AWS.x": "v"}}, errors.ParameterValueInvalid, "AWS."),
        ({"message_attributes": {"a": ""}}, errors.ParameterValueInvalid,
         "must contain non-empty message attribute value for message attribute type 'String'"),
        ({"message_attributes": {"a": {"DataType": "Blob", "StringValue": "x"}}},
         errors.ParameterValueInvalid, "invalid message attribute type"),
        ({"message_attributes": {"a": {"DataType": "Number", "StringValue": "ten"}}},
         errors.ParameterValueInvalid, "Could not cast message attribute 'a' value to number"),
        ({"message_attributes": {"a": {"DataType": "String", "BinaryValue": b"x"}}},
         errors.ParameterValueInvalid, "with type 'String' must use field 'String'"),
        ({"message_attributes": {"a": {"DataType": "Binary", "StringValue": "x"}}},
         errors.ParameterValueInvalid, "with type 'Binary' must use field 'Binary'"),
        ({"message_attributes": {"a": True}}, errors.ParameterValueInvalid, "bool"),
    ],
)
def test_publish_validation(
    loop: dc.EventLoop, topic: dc.Topic, kwargs: dict[str, Any],
    error: type[errors.DecouplingError], text: str,
) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    args = {"message": "ok", **kwargs}
    with pytest.raises(error, match=text):
        topic.publish(args.pop("message"), **args)
    assert len(queue) == 0


def test_subject_of_100_characters_is_fine(topic: dc.Topic) -> None:
    topic.publish("m", subject="s" * 100)


def test_message_with_no_matching_subscription_is_dropped(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    queue = dc.Queue(loop, "books")
    topic.subscribe(queue, filter_policy={"kind": ["book"]})
    result = topic.publish("pen", message_attributes={"kind": "pen"})
    assert result.sequence_number is None and result.to_aws() == {"MessageId": result.message_id}
    assert len(queue) == 0


def test_group_id_on_a_standard_topic_reaches_standard_queues_only(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    fair = dc.Queue(loop, "fair")
    topic.subscribe(fair)
    seen: list[dc.Notification] = []
    topic.subscribe(seen.append)
    topic.publish("m", message_group_id="tenant-1")
    message = fair.receive(max_messages=10)[0]
    assert message.message_group_id == "tenant-1"
    assert "MessageGroupId" not in json.loads(message.body)
    loop.run_until_idle()
    assert seen[0].message_group_id is None


def test_deleted_topic(loop: dc.EventLoop, topic: dc.Topic) -> None:
    topic.delete()
    with pytest.raises(errors.NotFound, match="Topic does not exist"):
        topic.publish("m")
    with pytest.raises(errors.NotFound):
        topic.get_attributes()
    assert loop._lookup("sns", "orders") is None
    assert dc.Topic(loop, "orders") is not topic


# --- batches ----------------------------------------------------------------------------------


def test_publish_batch_mixes_successes_and_failures(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue, raw_message_delivery=True)
    result = topic.publish_batch([
        {"Id": "a", "Message": "one", "MessageAttributes": {"k": {"DataType": "String",
                                                                  "StringValue": "v"}}},
        {"Id": "b", "Message": ""},
        {"Id": "c", "Message": "three", "Subject": "x" * 101},
        "four",
    ])
    assert [e["Id"] for e in result.successful] == ["a", "3"]
    assert all(set(e) == {"Id", "MessageId"} for e in result.successful)
    assert result.failed == [
        {"Id": "b", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message",
         "SenderFault": True},
        {"Id": "c", "Code": "InvalidParameter", "Message": "Invalid parameter: Subject",
         "SenderFault": True},
    ]
    assert [m.body for m in queue.receive(max_messages=10)] == ["one", "four"]


@pytest.mark.parametrize(
    ("entries", "error", "text"),
    [
        ([], errors.EmptyBatchRequest, "doesn't contain any entries"),
        (["m"] * 11, errors.TooManyEntriesInBatchRequest, "more entries than permissible"),
        ([{"Id": "x", "Message": "a"}, {"Id": "x", "Message": "b"}],
         errors.BatchEntryIdsNotDistinct, "the same Id"),
        ([{"Id": "message.id", "Message": "a"}], errors.InvalidBatchEntryId,
         "impermissible character: message.id"),
        ([{"Id": "a" * 81, "Message": "a"}], errors.InvalidBatchEntryId, "is too long"),
        ([{"Id": "1", "Message": "x" * 200_000}, {"Id": "2", "Message": "y" * 70_000}],
         errors.BatchRequestTooLong, "more than the limit"),
    ],
)
def test_publish_batch_refused_whole(
    loop: dc.EventLoop, topic: dc.Topic, entries: list[Any],
    error: type[errors.DecouplingError], text: str,
) -> None:
    queue = dc.Queue(loop, "inbox")
    topic.subscribe(queue)
    with pytest.raises(error, match=text):
        topic.publish_batch(entries)
    assert len(queue) == 0


# --- subscriptions ------------------------------------------------------------------------------


def test_subscription_attributes_of_a_queue(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue)
    assert sub.arn.startswith(topic.arn + ":")
    assert sub.get_attributes() == {
        "ConfirmationWasAuthenticated": "true",
        "Endpoint": queue.arn,
        "Owner": "000000000000",
        "PendingConfirmation": "false",
        "Protocol": "sqs",
        "RawMessageDelivery": "false",
        "SubscriptionArn": sub.arn,
        "SubscriptionPrincipal": "arn:aws:iam::000000000000:root",
        "TopicArn": topic.arn,
    }
    assert topic.list_subscriptions() == [{
        "SubscriptionArn": sub.arn, "Owner": "000000000000", "Protocol": "sqs",
        "Endpoint": queue.arn, "TopicArn": topic.arn,
    }]


def test_subscribe_is_idempotent(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue, raw_message_delivery=True, filter_policy={"a": ["b"]})
    assert topic.subscribe(queue.arn, "sqs") is sub
    assert topic.subscribe(queue, attributes={"RawMessageDelivery": "true",
                                              "FilterPolicy": '{"a": ["b"]}'}) is sub
    with pytest.raises(errors.InvalidParameter,
                       match="Subscription already exists with different attributes"):
        topic.subscribe(queue, raw_message_delivery=False)
    assert len(topic.subscriptions) == 1


def test_subscribing_a_queue_by_arn_before_it_exists(loop: dc.EventLoop, topic: dc.Topic) -> None:
    topic.subscribe("arn:aws:sqs:us-east-1:000000000000:later")
    queue = dc.Queue(loop, "later")
    topic.publish("m")
    assert json.loads(one(queue).body)["Message"] == "m"


@pytest.mark.parametrize(
    ("endpoint", "proto", "text"),
    [
        ("x", "carrier-pigeon",
         "Amazon SNS does not support this protocol string: carrier-pigeon"),
        ("https://q.example", "sqs", "Invalid parameter: SQS endpoint ARN"),
        # Another region or account is fine (tests/test_regions.py); a malformed one is not.
        ("arn:aws:sqs:eu west:000000000000:q", "sqs", "Invalid parameter: SQS endpoint ARN"),
        ("not-a-mail", "email", "Email address"),
        ("12ab", "sms", "Invalid SMS endpoint: 12ab"),
        ("ftp://x", "http", "must match the specified protocol"),
        ("not callable", "application", "must be callable"),
        (object(), None, "Protocol is required"),
    ],
)
def test_bad_endpoints(topic: dc.Topic, endpoint: Any, proto: str | None, text: str) -> None:
    with pytest.raises(errors.InvalidParameter, match=text):
        topic.subscribe(endpoint, proto)
    assert topic.subscriptions == []


def test_fifo_queue_cannot_subscribe_to_a_standard_topic(
    loop: dc.EventLoop, topic: dc.Topic
) -> None:
    with pytest.raises(errors.InvalidParameter,
                       match="FIFO SQS Queues can not be subscribed to standard SNS topics"):
        topic.subscribe("arn:aws:sqs:us-east-1:000000000000:q.fifo")


@pytest.mark.parametrize(
    ("attributes", "text"),
    [
        ({"RawMessageDelivery": "wrongvalue"},
         r"RawMessageDelivery: Invalid value \[wrongvalue\]. Must be true or false."),
        ({"FilterPolicyScope": "Body"}, r"FilterPolicyScope: Invalid value \[Body\]"),
        ({"FilterPolicy": "{invalid"}, "FilterPolicy: failed to parse JSON"),
        ({"FilterPolicy": {"a": [{"nope": 1}]}}, "FilterPolicy"),
        ({"FilterPolicy": {"a": {"b": ["c"]}}},
         "Filter policy scope MessageAttributes does not support nested filter policy"),
        ({"RedrivePolicy": {"deadLetterTargetArn": "not-an-arn"}},
         "RedrivePolicy: deadLetterTargetArn is an invalid arn"),
        ({"RedrivePolicy": "{bad"}, "RedrivePolicy: failed to parse JSON"),
        ({"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:d.fifo"}},
         "must use a standard queue as DLQ"),
        ({"ReplayPolicy": {"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z"}},
         "replay is available on FIFO topics only"),
        ({"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 101}}},
         "numRetries must be an integer from 0 to 100"),
        ({"Unknown": "1"}, "Invalid parameter: AttributeName"),
        ({"PendingConfirmation": "false"}, "Invalid parameter: AttributeName"),
    ],
)
def test_bad_subscription_attributes_change_nothing(
    loop: dc.EventLoop, topic: dc.Topic, attributes: dict[str, Any], text: str
) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue)
    before = sub.get_attributes()
    with pytest.raises(errors.InvalidParameter, match=text):
        sub.set_attributes({"RawMessageDelivery": True, **attributes})
    assert sub.get_attributes() == before
    with pytest.raises(errors.InvalidParameter, match=text):
        topic.subscribe(dc.Queue(loop, "other"), attributes={**attributes})
    assert len(topic.subscriptions) == 1


def test_raw_delivery_is_refused_for_email(topic: dc.Topic) -> None:
    sub = topic.subscribe("a@example.com", "email")
    with pytest.raises(errors.InvalidParameter,
                       match=r"Delivery protocol \[email\] does not support raw message delivery"):
        sub.set_attribute("RawMessageDelivery", "true")


def test_set_attributes_are_read_back(loop: dc.EventLoop, topic: dc.Topic) -> None:
    dlq = dc.Queue(loop, "dlq")
    sub = topic.subscribe(dc.Queue(loop, "inbox"))
    sub.set_attributes({"RawMessageDelivery": "TRUE", "FilterPolicy": {"k": ["v"]},
                        "FilterPolicyScope": "MessageBody", "RedrivePolicy": dlq})
    attrs = sub.get_attributes()
    assert attrs["RawMessageDelivery"] == "true"
    assert json.loads(attrs["FilterPolicy"]) == {"k": ["v"]}
    assert attrs["FilterPolicyScope"] == "MessageBody"
    assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn}
    sub.set_attributes({"FilterPolicy": "", "RedrivePolicy": ""})
    attrs = sub.get_attributes()
    assert "FilterPolicy" not in attrs and "RedrivePolicy" not in attrs
    assert sub.filter_policy is None


def test_200_filter_policies_per_topic(loop: dc.EventLoop, topic: dc.Topic) -> None:
    for i in range(200):
        topic.subscribe(f"arn:aws:sqs:us-east-1:000000000000:q{i}", filter_policy={"n": [i]})
    plain = topic.subscribe("arn:aws:sqs:us-east-1:000000000000:plain")
    with pytest.raises(errors.FilterPolicyLimitExceeded, match="at most 200"):
        plain.set_attribute("FilterPolicy", {"n": [1]})
    with pytest.raises(errors.FilterPolicyLimitExceeded):
        topic.subscribe("arn:aws:sqs:us-east-1:000000000000:one-more", filter_policy={"n": [1]})
    topic.subscriptions[0].set_attribute("FilterPolicy", {"n": [-1]})  # changing one is fine
    assert errors.FilterPolicyLimitExceeded.code == "FilterPolicyLimitExceeded"


def test_unsubscribe(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue = dc.Queue(loop, "inbox")
    sub = topic.subscribe(queue)
    sub.unsubscribe()
    topic.publish("m")
    assert len(queue) == 0
    assert topic.get_attributes()["SubscriptionsDeleted"] == "1"
    with pytest.raises(errors.NotFound, match="Subscription does not exist"):
        topic.unsubscribe(sub.arn)
    with pytest.raises(errors.NotFound):
        sub.get_attributes()
    assert topic.subscribe(queue) is not sub


# --- email, email-json and sms --------------------------------------------------------------------


def test_email_confirmation_and_delivery(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    sub = topic.subscribe("ops@example.com", "email")
    assert sub.pending_confirmation
    assert topic.list_subscriptions()[0]["SubscriptionArn"] == "PendingConfirmation"
    assert topic.get_attributes()["SubscriptionsPending"] == "1"
    confirmation = topic.outbox[0]
    assert (confirmation.kind, confirmation.protocol, confirmation.endpoint) == (
        "SubscriptionConfirmation", "email", "ops@example.com")
    assert confirmation.token is not None and confirmation.token in confirmation.body
    topic.publish("not yet")
    assert len(topic.outbox) == 1
    with pytest.raises(errors.InvalidParameter, match="Invalid parameter: Token"):
        topic.confirm_subscription("nope")
    assert topic.confirm_subscription(confirmation.token) is sub
    assert not sub.pending_confirmation
    topic.publish("hello", subject="Order shipped")
    topic.publish("no subject")
    assert [(e.kind, e.subject, e.body) for e in topic.outbox[1:]] == [
        ("Notification", "Order shipped", "hello"),
        ("Notification", "AWS Notification Message", "no subject"),
    ]


def test_confirmation_tokens_expire_after_2_days(
    clock: dc.ManualClock, topic: dc.Topic
) -> None:
    topic.subscribe("late@example.com", "email")
    token = topic.outbox[0].token
    assert token is not None
    clock.advance(2 * 86_400 + 1)
    with pytest.raises(errors.InvalidParameter, match="Invalid token"):
        topic.confirm_subscription(token)


def test_email_json_and_sms_outbox(loop: dc.EventLoop, topic: dc.Topic) -> None:
    sub = topic.subscribe("dev@example.com", "email-json")
    token = topic.outbox[0].token
    assert token is not None
    topic.confirm_subscription(token)
    topic.subscribe("+15551234567", "sms")
    topic.publish("ping", subject="S")
    email_json, sms = topic.outbox[1:]
    assert json.loads(email_json.body)["Message"] == "ping"
    assert json.loads(email_json.body)["UnsubscribeURL"].endswith(sub.arn)
    assert (sms.protocol, sms.endpoint, sms.subject, sms.body) == (
        "sms", "+15551234567", None, "ping")


@pytest.mark.parametrize("digits", ["²", "1²", " ٣ "])  # str.isdigit() is true; int() fails or reads non-ASCII
def test_non_ascii_digits_in_numeric_settings_are_invalid_parameters(
    loop: dc.EventLoop, digits: str
) -> None:
    from decoupling.sns.policy import _int_field, parse_archive_policy

    with pytest.raises(errors.InvalidParameter):
        dc.Topic(loop, "sized", maximum_message_size=digits)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidParameter):
        _int_field("DeliveryPolicy", {"numRetries": digits}, "numRetries", 3, 0, 100)
    with pytest.raises(errors.InvalidParameter):
        parse_archive_policy(json.dumps({"MessageRetentionPeriod": digits}))
    assert loop._lookup("sns", "sized") is None
