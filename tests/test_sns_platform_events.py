"""Platform application events: ``EventEndpointCreated``, ``EventEndpointDeleted``,
``EventEndpointUpdated`` and ``EventDeliveryFailure`` publish SNS's event messages to the topics
they name, natively and through the boto3 bridge (``decoupling.sns.platform``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling.sns.delivery import ClientDeliveryError

APP_ARN = "arn:aws:sns:us-east-1:000000000000:app/GCM/app"
TIME = "2026-01-01T00:00:00.000Z"  # the ManualClock's wall time at 0 s


def events(queue: dc.Queue) -> list[dict[str, Any]]:
    """The event bodies the topic delivered to ``queue`` (raw delivery), oldest first."""
    return [json.loads(m.body) for m in queue.receive(max_messages=10)]


def watched_app(loop: dc.EventLoop, *kinds: str) -> tuple[dc.PlatformApplication, dc.Queue]:
    """A GCM application whose ``Event<kind>`` attributes all name one topic, delivering raw
    to a queue."""
    topic = dc.Topic(loop, "app-events")
    queue = dc.Queue(loop, "app-events")
    topic.subscribe(queue, raw_message_delivery=True)
    attributes = {"PlatformCredential": "api-key"}
    attributes.update({f"Event{kind}": topic.arn for kind in kinds})
    return dc.PlatformApplication(loop, "app", "GCM", attributes), queue


def test_endpoint_created_updated_deleted_events(loop: dc.EventLoop) -> None:
    app, queue = watched_app(loop, "EndpointCreated", "EndpointUpdated", "EndpointDeleted")
    device = app.create_endpoint("tok")
    assert app.create_endpoint("tok") is device  # idempotent: no second event
    device.set_attributes({"CustomUserData": "u1"})
    device.set_attributes({"CustomUserData": "u1"})  # nothing changed: no event
    device.delete()
    device.delete()
    common = {"EndpointArn": device.arn, "Resource": APP_ARN, "Service": "SNS", "Time": TIME}
    got = events(queue)
    assert got == [
        {**common, "EventType": "EndpointCreated"},
        {**common, "EventType": "EndpointUpdated"},
        {**common, "EventType": "EndpointDeleted"},
    ]
    # SNS's field order: sorted by name.
    assert list(got[0]) == ["EndpointArn", "EventType", "Resource", "Service", "Time"]


def test_only_the_events_the_application_names_are_published(loop: dc.EventLoop) -> None:
    app, queue = watched_app(loop, "EndpointDeleted")
    first = app.create_endpoint("a")
    second = app.create_endpoint("b")
    first.set_attributes({"Enabled": "false"})
    app.delete()  # deletes both endpoints: one event each
    assert sorted((e["EventType"], e["EndpointArn"]) for e in events(queue)) == sorted(
        [("EndpointDeleted", first.arn), ("EndpointDeleted", second.arn)])


def test_event_topic_that_does_not_exist_drops_the_event(
    loop: dc.EventLoop, caplog: pytest.LogCaptureFixture,
) -> None:
    missing = "arn:aws:sns:us-east-1:000000000000:gone"
    app = dc.PlatformApplication(
        loop, "app", "GCM", {"PlatformCredential": "k", "EventEndpointCreated": missing})
    device = app.create_endpoint("tok")  # the endpoint is created all the same
    assert app.endpoints() == [device]
    assert f"SNS application event to {missing} dropped: no such topic" in caplog.text


def test_delivery_failure_event_for_a_permanent_direct_publish_failure(
    clock: dc.ManualClock,
) -> None:
    def unregistered(push: dc.PushMessage) -> None:
        raise ClientDeliveryError("UNREGISTERED")

    loop = dc.EventLoop(clock, push=unregistered)
    app, queue = watched_app(loop, "DeliveryFailure", "EndpointUpdated")
    device = app.create_endpoint("tok")
    clock.advance(5)
    message_id = device.publish("hello")
    clock.advance(1)
    assert device.enabled is False
    common = {"EndpointArn": device.arn, "Resource": APP_ARN, "Service": "SNS",
              "Time": "2026-01-01T00:00:05.000Z"}
    assert events(queue) == [
        # SNS disables the endpoint: an attribute changed.
        {**common, "EventType": "EndpointUpdated"},
        {**common, "EventType": "DeliveryFailure", "DeliveryAttempts": 1,
         "FailureMessage": "Platform token associated with the endpoint is not valid",
         "FailureType": "InvalidPlatformToken", "MessageId": message_id},
    ]


def test_delivery_failure_event_when_the_endpoint_is_disabled_before_delivery(
    clock: dc.ManualClock,
) -> None:
    sent: list[dc.PushMessage] = []
    loop = dc.EventLoop(clock, push=sent.append)
    app, queue = watched_app(loop, "DeliveryFailure")
    device = app.create_endpoint("tok")
    message_id = device.publish("hello")  # accepted: the endpoint is enabled
    device.set_attributes({"Enabled": "false"})  # ... and disabled before the attempt runs
    clock.advance(1)
    assert sent == []
    [event] = events(queue)
    assert (event["EventType"], event["FailureType"], event["FailureMessage"],
            event["MessageId"], event["DeliveryAttempts"]) == (
        "DeliveryFailure", "EndpointDisabled", "Endpoint is disabled", message_id, 1)


def test_retried_failures_and_topic_deliveries_send_no_delivery_failure_event(
    clock: dc.ManualClock,
) -> None:
    attempts: list[int] = []

    def flaky(push: dc.PushMessage) -> None:
        attempts.append(push.attempt)
        if push.attempt < 2:
            raise ConnectionError("provider down")
        raise ClientDeliveryError("UNREGISTERED")

    loop = dc.EventLoop(clock, push=flaky)
    app, queue = watched_app(loop, "DeliveryFailure")
    device = app.create_endpoint("tok")
    topic = dc.Topic(loop, "alerts")
    topic.subscribe(device.arn, "application")
    topic.publish("through a topic")  # not a direct publish: no DeliveryFailure event
    clock.advance(60)
    assert attempts == [1, 2] and not device.enabled
    assert events(queue) == []


# --- through the boto3 bridge ----------------------------------------------------------------

boto3 = pytest.importorskip("boto3")


def test_events_through_the_bridge(loop: dc.EventLoop) -> None:
    from decoupling.boto import serve

    with serve(loop):
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic_arn = sns.create_topic(Name="app-events")["TopicArn"]
        url = sqs.create_queue(QueueName="app-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        app_arn = sns.create_platform_application(
            Name="app", Platform="GCM", Attributes={"PlatformCredential": "api-key"},
        )["PlatformApplicationArn"]
        sns.set_platform_application_attributes(
            PlatformApplicationArn=app_arn,
            Attributes={"EventEndpointCreated": topic_arn, "EventEndpointDeleted": topic_arn},
        )
        assert sns.get_platform_application_attributes(PlatformApplicationArn=app_arn)[
            "Attributes"]["EventEndpointCreated"] == topic_arn
        endpoint_arn = sns.create_platform_endpoint(
            PlatformApplicationArn=app_arn, Token="tok")["EndpointArn"]
        sns.delete_endpoint(EndpointArn=endpoint_arn)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    envelopes = [json.loads(m["Body"]) for m in got]
    assert {e["TopicArn"] for e in envelopes} == {topic_arn}
    bodies = [json.loads(e["Message"]) for e in envelopes]
    assert bodies == [
        {"EndpointArn": endpoint_arn, "EventType": kind, "Resource": app_arn,
         "Service": "SNS", "Time": TIME}
        for kind in ("EndpointCreated", "EndpointDeleted")
    ]
