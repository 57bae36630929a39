"""Resources of a loop outside the ``aws`` partition: every ARN it writes (IAM root principals,
S3 buckets) and every URL (queues, SNS links) names its partition and domain, as AWS does in
China (``arn:aws-cn:``, ``amazonaws.com.cn``; botocore's ``partitions.json``)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

import decoupling as dc

ACCOUNT = "000000000000"


@pytest.fixture
def china() -> dc.EventLoop:
    return dc.EventLoop(clock=dc.ManualClock(), region="cn-north-1")


def test_queue_urls_use_the_partitions_domain(china: dc.EventLoop) -> None:
    assert dc.Queue(china, "q").url == f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/q"
    assert china.queue_name_from(f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/q") == "q"
    iso = dc.EventLoop(clock=dc.ManualClock(), region="us-iso-east-1")
    assert iso.queue_url("q") == f"https://sqs.us-iso-east-1.c2s.ic.gov/{ACCOUNT}/q"
    eusc = dc.EventLoop(clock=dc.ManualClock(), region="eusc-de-east-1")
    assert (eusc.partition, eusc.queue_url("q")) == (
        "aws-eusc", f"https://sqs.eusc-de-east-1.amazonaws.eu/{ACCOUNT}/q")
    gov = dc.EventLoop(clock=dc.ManualClock(), region="us-gov-west-1")
    assert gov.queue_url("q") == f"https://sqs.us-gov-west-1.amazonaws.com/{ACCOUNT}/q"
    us = dc.EventLoop(clock=dc.ManualClock())
    assert us.queue_url("q") == f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q"


def test_sns_subscription_principal_and_links(china: dc.EventLoop) -> None:
    topic = dc.Topic(china, "t")
    sub = topic.subscribe(dc.Queue(china, "q"))
    got = sub.get_attributes()
    assert got["SubscriptionPrincipal"] == f"arn:aws-cn:iam::{ACCOUNT}:root"
    assert sub._unsub_url.startswith("https://sns.cn-north-1.amazonaws.com.cn/?Action=Unsubscribe&")
    assert topic._subscribe_url("tok").startswith(
        "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&")


def test_email_links_use_the_partitions_domain() -> None:
    sent: list[Any] = []

    class Outbox:
        def send(self, message: Any) -> None:
            sent.append(message)

    loop = dc.EventLoop(clock=dc.ManualClock(), region="cn-north-1", email=Outbox())
    topic = dc.Topic(loop, "t")
    topic.subscribe("user@example.com", "email")
    assert topic.drain()
    (confirmation,) = sent
    body = confirmation.get_body().get_content()
    assert "https://sns.cn-north-1.amazonaws.com.cn/confirmation.html?TopicArn=" in body
    assert "amazonaws.com/" not in body


def test_bucket_arn_and_event_records(china: dc.EventLoop) -> None:
    bucket = dc.Bucket(china, "uploads")
    assert bucket.arn == "arn:aws-cn:s3:::uploads"
    queue = dc.Queue(china, "events")
    bucket.add_notification(queue, ["s3:ObjectCreated:*"])
    bucket.put("k", b"v")
    bodies = [json.loads(m.body) for m in queue.receive(10)]
    (record,) = [r for body in bodies for r in body.get("Records", [])]
    assert record["s3"]["bucket"]["arn"] == "arn:aws-cn:s3:::uploads"
    assert record["awsRegion"] == "cn-north-1"


def test_function_policy_account_principal(china: dc.EventLoop) -> None:
    runtime = dc.FunctionRuntime(china)
    try:
        runtime.function("f")(lambda event, context: None)
        fn = runtime.get_function("f")
        statement = runtime.add_permission("f", "other", "lambda:InvokeFunction", "111122223333")
        assert statement["Principal"] == {"AWS": "arn:aws-cn:iam::111122223333:root"}
        assert runtime.allows(fn, "111122223333") is True
        assert runtime.allows(fn, "444455556666") is False
        runtime.add_permission("f", "arn", "lambda:InvokeFunction",
                               "arn:aws-cn:iam::444455556666:root")
        assert runtime.allows(fn, "444455556666") is True
    finally:
        runtime.close()


boto3 = pytest.importorskip("boto3")


def test_bridge_sqs_and_layer_permissions_in_china(loop: dc.EventLoop) -> None:
    from decoupling.boto import serve

    with serve(loop):
        sqs = boto3.client("sqs", region_name="cn-north-1")
        lam = boto3.client("lambda", region_name="cn-north-1")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        assert url == f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/jobs"
        assert sqs.get_queue_url(QueueName="jobs")["QueueUrl"] == url
        sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["111122223333"],
                           Actions=["SendMessage"])
        policy = json.loads(sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
        assert policy["Statement"][0]["Principal"] == {
            "AWS": "arn:aws-cn:iam::111122223333:root"}
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("python/shared.py", "VALUE = 1\n")
        layer = lam.publish_layer_version(LayerName="lib", Content={"ZipFile": archive.getvalue()})
        assert layer["LayerArn"] == f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:layer:lib"
        got: Any = lam.add_layer_version_permission(
            LayerName="lib", VersionNumber=layer["Version"], StatementId="share",
            Action="lambda:GetLayerVersion", Principal="111122223333")
        assert json.loads(got["Statement"])["Principal"] == {
            "AWS": "arn:aws-cn:iam::111122223333:root"}
