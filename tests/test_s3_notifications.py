"""S3 event notifications: record shapes, filters, destinations and S3's validation errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

MiB = 1024 * 1024
OVERLAP = (
    "Configurations overlap. Configurations on the same bucket cannot share a common event type."
)


@pytest.fixture
def bucket(loop: dc.EventLoop) -> dc.Bucket:
    return dc.Bucket(loop, "uploads")


@pytest.fixture
def rt(loop: dc.EventLoop) -> Any:
    runtime = dc.FunctionRuntime(loop)
    yield runtime
    runtime.close()


def bodies(queue: dc.Queue) -> list[Any]:
    found = []
    while batch := queue.receive(10):
        for m in batch:
            found.append(json.loads(m.body))
            queue.delete(m.receipt_handle)
    return found


def records(queue: dc.Queue) -> list[dict[str, Any]]:
    return [r for body in bodies(queue) if "Records" in body for r in body["Records"]]


def test_a_queue_gets_the_test_event_then_records_in_s3s_shape(
        loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "events")
    config = bucket.add_notification(queue, ["s3:ObjectCreated:*"], prefix="in/", id="new-files")
    (test,) = bodies(queue)
    assert test == {
        "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-01T00:00:00.000Z",
        "Bucket": "uploads", "RequestId": test["RequestId"], "HostId": test["HostId"],
    }
    loop.clock.advance(1.25)
    bucket.put("in/my cat=1.jpg", b"meow")
    bucket.put("out/skip.jpg", b"no")
    (body,) = bodies(queue)
    (record,) = body["Records"]
    request_id = record["responseElements"]["x-amz-request-id"]
    assert body == {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:01.250Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:000000000000"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "new-files",
            "bucket": {
                "name": "uploads",
                "ownerIdentity": {"principalId": "AWS:000000000000"},
                "arn": "arn:aws:s3:::uploads",
            },
            "object": {
                "key": "in/my+cat%3D1.jpg",
                "size": 4,
                "eTag": hashlib.md5(b"meow").hexdigest(),
                "sequencer": "0000000000000001",
            },
        },
    }]}
    assert config.to_aws() == {
        "Id": "new-files", "QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}},
    }


def test_removed_events_have_no_size_or_etag_and_sequencers_increase(
        loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "events")
    bucket.add_notification(queue, ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"], suffix=".txt")
    bodies(queue)
    bucket.put("a.txt", b"1")
    bucket.put("a.txt", b"2")
    bucket.delete("a.txt")
    bucket.put("b.csv", b"x")
    found = records(queue)
    assert [r["eventName"] for r in found] == [
        "ObjectCreated:Put", "ObjectCreated:Put", "ObjectRemoved:Delete"
    ]
    assert found[2]["s3"]["object"] == {
        "key": "a.txt", "sequencer": found[2]["s3"]["object"]["sequencer"]
    }
    sequencers = [r["s3"]["object"]["sequencer"] for r in found]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 3


def test_versioned_events_carry_version_ids(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "events")
    bucket.put_versioning("Enabled")
    bucket.add_notification(queue, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    bodies(queue)
    put = bucket.put("k", b"v")
    marker = bucket.delete("k")
    bucket.delete("k", version_id=put.version_id)
    found = records(queue)
    assert [(r["eventName"], r["s3"]["object"].get("versionId")) for r in found] == [
        ("ObjectCreated:Put", put.version_id),
        ("ObjectRemoved:DeleteMarkerCreated", marker.version_id),
        ("ObjectRemoved:Delete", put.version_id),
    ]


def test_copy_and_multipart_events(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "events")
    bucket.add_notification(queue, ["s3:ObjectCreated:Copy",
                                    "s3:ObjectCreated:CompleteMultipartUpload"])
    bodies(queue)
    upload = bucket.create_multipart_upload("big")
    e1 = bucket.upload_part("big", upload, 1, b"a" * (5 * MiB))
    e2 = bucket.upload_part("big", upload, 2, b"b")
    info = bucket.complete_multipart_upload("big", upload, [(1, e1), (2, e2)])
    bucket.put("plain", b"p")  # Put: not configured
    bucket.copy("plain", "copy")
    found = records(queue)
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"]["eTag"]) for r in found] == [
        ("ObjectCreated:CompleteMultipartUpload", "big", info.etag.strip('"')),
        ("ObjectCreated:Copy", "copy", bucket.head("copy").etag.strip('"')),
    ]
    assert info.etag.endswith('-2"')


def test_a_topic_publishes_with_s3s_subject(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    topic = dc.Topic(loop, "s3-events")
    inbox = dc.Queue(loop, "inbox")
    topic.subscribe(inbox)
    bucket.add_notification(topic, ["s3:ObjectRemoved:Delete"])
    bucket.put("k", b"v")
    bucket.delete("k")
    envelopes = bodies(inbox)
    assert [e["Subject"] for e in envelopes] == ["Amazon S3 Notification"] * 2
    assert json.loads(envelopes[0]["Message"])["Event"] == "s3:TestEvent"
    (record,) = json.loads(envelopes[1]["Message"])["Records"]
    assert record["eventName"] == "ObjectRemoved:Delete"


def test_a_function_is_invoked_asynchronously_with_the_event(
        loop: dc.EventLoop, bucket: dc.Bucket, rt: Any) -> None:
    seen: list[dict[str, Any]] = []
    fn = rt.register("on-upload", lambda event, context: seen.append(event))
    bucket.add_notification(fn, ["s3:ObjectCreated:*"])
    bucket.put("photo.png", b"png")
    loop.run_until_idle()
    assert [e["Records"][0]["s3"]["object"]["key"] for e in seen] == ["photo.png"]
    assert seen[0]["Records"][0]["eventSource"] == "aws:s3"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectCreated:Put"]}),
        ({"events": ["s3:ObjectCreated:Put"], "prefix": "a/"},
         {"events": ["s3:ObjectCreated:Put"], "prefix": "a/b/"}),
        ({"events": ["s3:ObjectCreated:Put"], "suffix": ".jpg"},
         {"events": ["s3:ObjectCreated:Put"], "suffix": "x.jpg", "prefix": "p/"}),
    ],
)
def test_overlapping_configurations_are_refused(
        loop: dc.EventLoop, bucket: dc.Bucket, first: dict[str, Any],
        second: dict[str, Any]) -> None:
    q1, q2 = dc.Queue(loop, "q1"), dc.Queue(loop, "q2")
    bucket.add_notification(q1, **first)
    before = bucket.get_notification_configuration()
    bodies(q2)
    with pytest.raises(errors.InvalidArgument) as caught:
        bucket.add_notification(q2, **second)
    assert (caught.value.code, caught.value.message) == ("InvalidArgument", OVERLAP)
    assert bucket.get_notification_configuration() == before
    assert bodies(q2) == []  # no test event for a refused configuration


def test_disjoint_filters_and_event_families_may_share_a_bucket(
        loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    q1, q2, q3 = dc.Queue(loop, "q1"), dc.Queue(loop, "q2"), dc.Queue(loop, "q3")
    bucket.add_notification(q1, ["s3:ObjectCreated:*"], prefix="a/")
    bucket.add_notification(q2, ["s3:ObjectCreated:*"], prefix="b/")
    bucket.add_notification(q3, ["s3:ObjectRemoved:*"])
    for q in (q1, q2, q3):
        bodies(q)
    bucket.put("a/1", b"")
    bucket.put("b/1", b"")
    bucket.delete("a/1")
    assert [r["s3"]["object"]["key"] for r in records(q1)] == ["a/1"]
    assert [r["s3"]["object"]["key"] for r in records(q2)] == ["b/1"]
    assert [r["eventName"] for r in records(q3)] == ["ObjectRemoved:Delete"]


def test_unknown_events_and_destinations_are_refused(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidArgument) as unknown:
        bucket.add_notification(queue, ["s3:ObjectCreated:Nope"])
    assert unknown.value.message == (
        "The event is not supported for notifications: s3:ObjectCreated:Nope"
    )
    with pytest.raises(errors.InvalidArgument) as missing:
        bucket.add_notification("arn:aws:sqs:us-east-1:000000000000:nowhere")
    assert missing.value.message.startswith(
        "Unable to validate the following destination configurations"
    )
    assert bucket.notifications == ()


def test_the_aws_shape_round_trips_and_replaces(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "q")
    topic = dc.Topic(loop, "t")
    shape = {
        "QueueConfigurations": [{
            "Id": "images", "QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "img/"},
                                               {"Name": "Suffix", "Value": ".png"}]}},
        }],
        "TopicConfigurations": [{"Id": "gone", "TopicArn": topic.arn,
                                 "Events": ["s3:ObjectRemoved:*"]}],
    }
    bucket.put_notification_configuration(shape)
    assert bucket.get_notification_configuration() == shape
    with pytest.raises(errors.MalformedXML):
        bucket.put_notification_configuration({"QueueConfigurations": [{"Id": "x"}]})
    assert bucket.get_notification_configuration() == shape
    bucket.put_notification_configuration({})
    assert bucket.get_notification_configuration() == {}


def test_events_to_a_deleted_queue_are_dropped(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    queue = dc.Queue(loop, "q")
    bucket.add_notification(queue)
    queue.delete_queue()
    assert bucket.put("k", b"v").size == 1


def test_a_fifo_queue_is_not_a_destination(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    fifo = dc.FifoQueue(loop, "events.fifo")
    with pytest.raises(errors.InvalidArgument) as caught:
        bucket.add_notification(fifo, "s3:ObjectCreated:Put")
    assert "a FIFO queue cannot be an S3 event notification destination" in caught.value.message
    assert bucket.notifications == ()
    plain = dc.Queue(loop, "events")
    config = bucket.add_notification(plain, "s3:ObjectCreated:Put")  # one event as a string
    assert config.events == ("s3:ObjectCreated:Put",)
