"""AWS's own extended clients (``amazon-sqs-extended-client``, ``amazon-sns-extended-client``),
unchanged, through the boto3 bridge: what they send our queues read, what we offload they read.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import boto3
import boto3.session
import botocore.session
import pytest

import decoupling as dc
from decoupling.boto import serve


def _import_leaving_boto3_alone(name: str) -> ModuleType:
    """Import an extended client package, undoing what importing it does to boto3: it
    replaces ``boto3.Session`` (and the default session) with its own for the whole process,
    which would turn every other test's boto3 client into an extended client."""
    saved = (boto3.Session, boto3.session.Session, boto3.DEFAULT_SESSION)
    try:
        return pytest.importorskip(name)
    finally:
        boto3.Session, boto3.session.Session, boto3.DEFAULT_SESSION = saved


sqs_extended = _import_leaving_boto3_alone("sqs_extended_client")
sns_extended = _import_leaving_boto3_alone("sns_extended_client")

CREDENTIALS = {
    "region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
}
BIG = "x" * 300_000  # over the 262,144-byte threshold
#: One loader of botocore's service models for every session below: each test's session is
#: new (an extended client session registers its own event handlers on it), but the models
#: are read and parsed once.
_LOADER = botocore.session.get_session().get_component("data_loader")


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER)
    return session


@pytest.fixture
def bucket(loop: dc.EventLoop) -> dc.Bucket:
    return dc.Bucket(loop, "payloads")


@pytest.fixture
def offload(bucket: dc.Bucket) -> dc.PayloadOffload:
    return dc.PayloadOffload(bucket)


@pytest.fixture
def their_sqs(loop: dc.EventLoop) -> Any:
    with serve(loop):
        client = sqs_extended.SQSExtendedClientSession(
            botocore_session=_botocore_session(), **CREDENTIALS).client("sqs")
    client.large_payload_support = "payloads"
    return client


@pytest.fixture
def their_sns(loop: dc.EventLoop) -> Any:
    with serve(loop):
        client = sns_extended.SNSExtendedClientSession(
            botocore_session=_botocore_session(), **CREDENTIALS).client("sns")
    client.large_payload_support = "payloads"
    return client


def test_their_large_send_is_received_intact_by_our_queue(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    q = dc.Queue(loop, "jobs", large_payloads=offload)
    their_sqs.send_message(
        QueueUrl=q.url, MessageBody=BIG,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "report"}},
    )
    [key] = bucket.keys()
    assert bucket.get(key).body == BIG.encode()
    [msg] = q.receive()
    assert msg.body == BIG
    assert msg.message_attributes == {"kind": dc.MessageAttributeValue("String", "report")}
    q.delete(msg.receipt_handle)
    assert bucket.keys() == []
    assert q.approximate_number_of_messages_not_visible == 0


def test_their_batch_and_small_and_legacy_sends_are_read(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    q = dc.Queue(loop, "jobs", large_payloads=offload)
    their_sqs.send_message_batch(QueueUrl=q.url, Entries=[
        {"Id": "1", "MessageBody": BIG}, {"Id": "2", "MessageBody": "small"},
    ])
    their_sqs.use_legacy_attribute = True
    their_sqs.send_message(QueueUrl=q.url, MessageBody="L" * 270_000)
    assert len(bucket.keys()) == 2
    bodies = sorted((len(m.body), m.body[0]) for m in q.receive(10))
    assert bodies == [(5, "s"), (270_000, "L"), (300_000, "x")]


def test_what_our_queue_offloads_their_client_reads_and_deletes(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    q = dc.Queue(loop, "jobs", large_payloads=offload)
    q.send(BIG, message_attributes={"kind": "report"})
    [key] = bucket.keys()
    their_sqs.delete_payload_from_s3 = True
    [msg] = their_sqs.receive_message(QueueUrl=q.url, MessageAttributeNames=["All"])["Messages"]
    assert msg["Body"] == BIG
    assert msg["MessageAttributes"] == {"kind": {"DataType": "String", "StringValue": "report"}}
    assert msg["ReceiptHandle"].startswith(
        f"-..s3BucketName..-payloads-..s3BucketName..--..s3Key..-{key}-..s3Key..-"
    )
    their_sqs.delete_message(QueueUrl=q.url, ReceiptHandle=msg["ReceiptHandle"])
    assert bucket.keys() == []
    assert q.approximate_number_of_messages + q.approximate_number_of_messages_not_visible == 0


def test_their_delete_without_payload_cleanup_leaves_the_object_as_sqs_would(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    q = dc.Queue(loop, "jobs", large_payloads=offload)
    q.send(BIG)
    [msg] = their_sqs.receive_message(QueueUrl=q.url)["Messages"]  # delete_payload_from_s3 off
    their_sqs.delete_message(QueueUrl=q.url, ReceiptHandle=msg["ReceiptHandle"])
    assert q.approximate_number_of_messages_not_visible == 0
    [orphan] = bucket.keys()  # the bridge served SQS: only a client deletes payloads
    assert offload.orphans(q) == [orphan]


def test_their_fifo_send_is_read_by_our_fifo_queue(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    q = dc.FifoQueue(loop, "jobs.fifo", large_payloads=offload)
    their_sqs.send_message(QueueUrl=q.url, MessageBody=BIG, MessageGroupId="g",
                           MessageDeduplicationId="d")
    [msg] = q.receive()
    assert (msg.body, msg.message_group_id) == (BIG, "g")


def test_their_sns_publish_reaches_our_queues_through_our_topic(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sns: Any
) -> None:
    topic = dc.Topic(loop, "reports")
    a = dc.Queue(loop, "a", large_payloads=offload)
    b = dc.Queue(loop, "b", large_payloads=offload)
    topic.subscribe(a, raw_message_delivery=True)
    topic.subscribe(b, raw_message_delivery=True)
    their_sns.publish(
        TopicArn=topic.arn, Message=BIG,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "pdf"}},
    )
    [key] = bucket.keys()
    for q in (a, b):
        [msg] = q.receive()
        assert msg.body == BIG
        assert msg.message_attributes == {"kind": dc.MessageAttributeValue("String", "pdf")}
    assert bucket.keys() == [key]


def test_what_our_topic_offloads_their_sqs_client_reads(
    loop: dc.EventLoop, bucket: dc.Bucket, offload: dc.PayloadOffload, their_sqs: Any
) -> None:
    topic = dc.Topic(loop, "reports", large_payloads=offload)
    q = dc.Queue(loop, "plain")  # no offload here: their client resolves
    topic.subscribe(q, raw_message_delivery=True)
    topic.publish(BIG, message_attributes={"kind": "pdf"})
    [msg] = their_sqs.receive_message(QueueUrl=q.url, MessageAttributeNames=["All"])["Messages"]
    assert msg["Body"] == BIG
    assert msg["MessageAttributes"] == {"kind": {"DataType": "String", "StringValue": "pdf"}}
