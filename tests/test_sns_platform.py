"""Mobile push natively: platform applications, endpoints, direct and topic publishes, the push
transport, retries and endpoint disabling (``decoupling.sns.platform``)."""

from __future__ import annotations

import json

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sns.delivery import ClientDeliveryError


def gcm_app(loop: dc.EventLoop, name: str = "app") -> dc.PlatformApplication:
    return dc.PlatformApplication(loop, name, "GCM", {"PlatformCredential": "api-key"})


def test_application_arn_and_attributes_hide_credentials(loop: dc.EventLoop) -> None:
    app = dc.PlatformApplication(
        loop, "phone.app-1", "APNS", {"PlatformCredential": "key", "PlatformPrincipal": "cert"}
    )
    assert app.arn == "arn:aws:sns:us-east-1:000000000000:app/APNS/phone.app-1"
    assert app.get_attributes() == {"Enabled": "true"}
    app.set_attributes({"SuccessFeedbackSampleRate": "50"})
    assert app.get_attributes() == {"Enabled": "true", "SuccessFeedbackSampleRate": "50"}
    assert dc.PlatformApplication(loop, "phone.app-1", "APNS", {"Enabled": "false"}) is app
    assert app.enabled is False


@pytest.mark.parametrize(
    ("name", "platform", "attributes", "error", "text"),
    [
        ("", "GCM", {"PlatformCredential": "k"}, errors.InvalidParameter,
         "Invalid parameter:  Reason: cannot be empty"),
        ("a" * 257, "GCM", {"PlatformCredential": "k"}, errors.InvalidParameter,
         "Reason: must be at most 256 characters long"),
        ("@name", "GCM", {"PlatformCredential": "k"}, errors.InvalidParameter,
         "Invalid parameter: @name Reason: must contain only characters 'a'-'z', 'A'-'Z', "
         "'0'-'9', '_', '-', and '.'"),
        ("a", "AAA", {"PlatformCredential": "k"}, errors.InvalidParameter,
         "Invalid parameter: Platform Reason: AAA is not supported"),
        ("a", "GCM", None, errors.ValidationError,
         "1 validation error detected: Value null at 'attributes' failed to satisfy "
         "constraint: Member must not be null"),
        ("a", "ADM", {"PlatformPrincipal": "id"}, errors.InvalidParameter,
         "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without "
         "PlatformCredential"),
        ("a", "ADM", {"PlatformCredential": "secret"}, errors.InvalidParameter,
         "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without "
         "PlatformPrincipal"),
        ("a", "GCM", {"PlatformCredential": "k", "Colour": "red"}, errors.InvalidParameter,
         "Invalid parameter: Attributes Reason: Invalid attribute name: Colour"),
        ("a", "GCM", {"PlatformCredential": "k", "Enabled": "maybe"}, errors.InvalidParameter,
         "Enabled must be true or false"),
    ],
)
def test_bad_applications_are_refused_and_nothing_is_created(
    loop: dc.EventLoop, name: str, platform: str, attributes: dict[str, str] | None,
    error: type[errors.DecouplingError], text: str,
) -> None:
    with pytest.raises(error) as info:
        dc.PlatformApplication(loop, name, platform, attributes)
    assert text in info.value.message
    assert loop._resources_of("sns-app") == []


def test_application_without_credentials_is_created(loop: dc.EventLoop) -> None:
    # AWS refuses a principal without a credential and the reverse (LocalStack's AWS-validated
    # snapshot); an application with neither is accepted, as moto accepts it.
    app = dc.PlatformApplication(loop, "bare", "APNS", {"Enabled": "false"})
    assert app.arn == "arn:aws:sns:us-east-1:000000000000:app/APNS/bare"
    assert app.get_attributes() == {"Enabled": "false"}
    assert dc.PlatformApplication(loop, "empty", "ADM", {}).get_attributes() == {
        "Enabled": "true"}
    assert sorted(a.name for a in loop._resources_of("sns-app")) == ["bare", "empty"]


def test_create_endpoint_is_idempotent_on_token_and_attributes(loop: dc.EventLoop) -> None:
    app = gcm_app(loop)
    first = app.create_endpoint("token-1", attributes={"Enabled": "false"})
    assert first.arn.startswith("arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/")
    assert app.create_endpoint("token-1", attributes={"Enabled": "false"}) is first
    with pytest.raises(errors.InvalidParameter) as info:
        app.create_endpoint("token-1", "some user data", {"Enabled": "false"})
    assert info.value.message == (
        f"Invalid parameter: Token Reason: Endpoint {first.arn} already exists with the same "
        "Token, but different attributes."
    )
    with pytest.raises(errors.InvalidParameter, match="different attributes"):
        app.create_endpoint("token-1")  # Enabled defaults to true
    assert app.endpoints() == [first]


def test_endpoint_attributes_and_custom_user_data(loop: dc.EventLoop) -> None:
    app = gcm_app(loop)
    both = app.create_endpoint("t1", "bar", {"CustomUserData": "foo"})
    assert both.get_attributes() == {"Token": "t1", "CustomUserData": "foo", "Enabled": "true"}
    plain = app.create_endpoint("t2")
    assert plain.get_attributes() == {"Token": "t2", "Enabled": "true"}
    plain.set_attributes({"Enabled": "false", "CustomUserData": "x", "Token": "t3"})
    assert plain.get_attributes() == {"Token": "t3", "Enabled": "false", "CustomUserData": "x"}
    assert app.create_endpoint("t3", "x", {"Enabled": "false"}) is plain
    with pytest.raises(errors.InvalidParameter,
                       match="Invalid attribute name: PlatformCredential"):
        plain.set_attributes({"PlatformCredential": "k"})
    with pytest.raises(errors.InvalidParameter) as info:
        app.create_endpoint("t4", "é" * 1025)
    assert info.value.message == (
        "Invalid parameter: Attributes Reason: Invalid value for attribute: CustomUserData: "
        "must be at most 2048 bytes long in UTF-8 encoding"
    )
    with pytest.raises(errors.InvalidParameter, match="already exists with the same Token"):
        plain.set_attributes({"Token": "t1"})
    assert plain.token == "t3"


def test_delete_application_deletes_its_endpoints(loop: dc.EventLoop) -> None:
    app = gcm_app(loop)
    device = app.create_endpoint("t1")
    app.delete()
    app.delete()  # twice: not an error
    with pytest.raises(errors.NotFound, match="NotFound: Endpoint does not exist$"):
        device.get_attributes()
    with pytest.raises(errors.NotFound, match="NotFound: PlatformApplication does not exist$"):
        app.get_attributes()
    assert loop._resources_of("sns-endpoint") == []


def test_direct_publish_lands_in_the_outbox_with_the_platform_payload(loop: dc.EventLoop) -> None:
    app = gcm_app(loop)
    device = app.create_endpoint("tok", "user-7")
    message_id = device.publish(
        json.dumps({"default": "hello", "GCM": '{"notification": {"title": "hi"}}'}),
        message_structure="json",
        message_attributes={"AWS.SNS.MOBILE.FCM.TTL": "60"},
    )
    [push] = app.outbox
    assert (push.endpoint_arn, push.application_arn, push.platform, push.token) == (
        device.arn, app.arn, "GCM", "tok")
    assert push.payload == '{"notification": {"title": "hi"}}'
    assert push.message_id == message_id
    assert push.custom_user_data == "user-7"
    assert push.message_attributes["AWS.SNS.MOBILE.FCM.TTL"].string_value == "60"
    assert (push.topic_arn, push.subscription_arn, push.attempt) == (None, None, 1)
    device.publish("plain text")
    assert app.outbox[-1].payload == "plain text"
    assert device.delivered == 2


def test_disabled_endpoint_refuses_before_the_message_is_checked(loop: dc.EventLoop) -> None:
    app = gcm_app(loop)
    device = app.create_endpoint("tok", attributes={"Enabled": "false"})
    with pytest.raises(errors.EndpointDisabled, match="EndpointDisabled: Endpoint is disabled$"):
        device.publish("not json", message_structure="json")
    on = app.create_endpoint("tok2")
    app.set_attributes({"Enabled": "false"})
    with pytest.raises(errors.PlatformApplicationDisabled):
        on.publish("m")
    assert app.outbox == []


def test_push_transport_gets_each_message_from_the_loop(clock: dc.ManualClock) -> None:
    sent: list[dc.PushMessage] = []
    loop = dc.EventLoop(clock, push=sent.append)
    device = gcm_app(loop).create_endpoint("tok")
    device.publish("hello")
    assert sent == []  # never inside publish
    clock.advance(0)
    assert [(p.payload, p.attempt) for p in sent] == [("hello", 1)]
    assert device.delivered == 1


def test_transport_errors_are_retried_along_the_customer_policy(clock: dc.ManualClock) -> None:
    attempts: list[tuple[float, int]] = []

    def flaky(push: dc.PushMessage) -> None:
        attempts.append((clock.now(), push.attempt))
        if push.attempt < 4:
            raise ConnectionError("provider down")

    loop = dc.EventLoop(clock, push=flaky)
    device = gcm_app(loop).create_endpoint("tok")
    device.publish("hello")
    clock.advance(3600)
    # SNS's customer-managed policy: 0 s, then 2 retries 10 s apart, then backoff.
    assert [a for _, a in attempts] == [1, 2, 3, 4]
    assert [t for t, _ in attempts][:3] == [0.0, 10.0, 20.0]
    assert device.delivered == 1 and device.enabled


def test_permanent_failure_disables_the_endpoint(clock: dc.ManualClock) -> None:
    calls: list[int] = []

    def unregistered(push: dc.PushMessage) -> None:
        calls.append(push.attempt)
        raise ClientDeliveryError("UNREGISTERED")

    loop = dc.EventLoop(clock, push=unregistered)
    device = gcm_app(loop).create_endpoint("tok")
    device.publish("hello")
    clock.advance(3600)
    assert calls == [1]  # not retried
    assert device.get_attributes()["Enabled"] == "false"
    assert device.undeliverable == 1
    with pytest.raises(errors.EndpointDisabled):
        device.publish("again")


def test_topic_subscription_delivers_to_the_device(clock: dc.ManualClock) -> None:
    sent: list[dc.PushMessage] = []
    loop = dc.EventLoop(clock, push=sent.append)
    app = dc.PlatformApplication(
        loop, "ios", "APNS", {"PlatformCredential": "k", "PlatformPrincipal": "p"})
    device = app.create_endpoint("tok")
    topic = dc.Topic(loop, "alerts")
    sub = topic.subscribe(device.arn)  # protocol inferred: application
    assert (sub.protocol, sub.endpoint, sub.target) == ("application", device.arn, device)
    assert topic.subscribe(device, "application") is sub
    topic.publish(json.dumps({"default": "d", "APNS": '{"aps": {"alert": "a"}}'}),
                  message_structure="json")
    assert topic.drain()
    [push] = sent
    assert push.payload == '{"aps": {"alert": "a"}}'
    assert (push.topic_arn, push.subscription_arn) == (topic.arn, sub.arn)
    assert sub.delivered == 1


def test_topic_delivery_to_a_disabled_or_deleted_endpoint_goes_to_the_dlq(
    loop: dc.EventLoop,
) -> None:
    app = gcm_app(loop)
    device = app.create_endpoint("tok")
    dlq = dc.Queue(loop, "push-dlq")
    topic = dc.Topic(loop, "alerts")
    sub = topic.subscribe(device.arn, "application", redrive_policy=dlq)
    device.set_attributes({"Enabled": "false"})
    topic.publish("one")
    assert topic.drain()
    device.delete()
    topic.publish("two")
    assert topic.drain()
    assert sub.dead_lettered == 2
    bodies = [json.loads(m.body)["Message"] for m in dlq.receive(max_messages=10)]
    assert sorted(bodies) == ["one", "two"]
    assert app.outbox == []


def test_subscribing_a_missing_endpoint_arn_is_refused(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "alerts")
    arn = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/nope"
    with pytest.raises(errors.InvalidParameter) as info:
        topic.subscribe(arn, "application")
    assert info.value.message == (
        f"Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint arn{arn}"
    )
    assert topic.subscriptions == []


def test_loop_refuses_a_push_transport_that_is_not_callable() -> None:
    with pytest.raises(ValueError, match="push must be a callable"):
        dc.EventLoop(push="fcm")  # type: ignore[arg-type]
