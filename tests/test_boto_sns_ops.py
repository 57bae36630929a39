"""SNS's mobile push, SMS, permission, data protection and tag operations through boto3, with
the wording AWS answers (AWS-validated texts: moto's ``aws_verified`` tests, LocalStack's
validated snapshots)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

from botocore.exceptions import ClientError  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.boto import SERVICES, serve  # noqa: E402

ACCOUNT = "000000000000"


@pytest.fixture
def sns(loop: dc.EventLoop) -> Iterator[Any]:
    with serve(loop):
        yield boto3.client("sns")


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def test_every_sns_operation_of_the_model_is_served(sns: Any) -> None:
    model = set(sns.meta.service_model.operation_names)
    assert len(model) == 42
    assert set(SERVICES["sns"][0]) == model


def test_platform_application_and_endpoint_lifecycle(sns: Any, loop: dc.EventLoop) -> None:
    app = sns.create_platform_application(
        Name="my-app", Platform="GCM", Attributes={"PlatformCredential": "api-key"}
    )["PlatformApplicationArn"]
    assert app == f"arn:aws:sns:us-east-1:{ACCOUNT}:app/GCM/my-app"
    assert sns.get_platform_application_attributes(PlatformApplicationArn=app)[
        "Attributes"] == {"Enabled": "true"}
    sns.set_platform_application_attributes(
        PlatformApplicationArn=app, Attributes={"SuccessFeedbackSampleRate": "50"})
    assert sns.list_platform_applications()["PlatformApplications"] == [{
        "PlatformApplicationArn": app,
        "Attributes": {"Enabled": "true", "SuccessFeedbackSampleRate": "50"},
    }]
    endpoint = sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="token", Attributes={"Enabled": "false"}
    )["EndpointArn"]
    assert endpoint.startswith(f"arn:aws:sns:us-east-1:{ACCOUNT}:endpoint/GCM/my-app/")
    assert sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="token", Attributes={"Enabled": "false"}
    )["EndpointArn"] == endpoint
    assert error_of(lambda: sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="token", CustomUserData="some user data",
        Attributes={"Enabled": "false"},
    )) == ("InvalidParameter", f"Invalid parameter: Token Reason: Endpoint {endpoint} already "
           "exists with the same Token, but different attributes.", 400)
    assert error_of(lambda: sns.publish(TargetArn=endpoint, Message="msg",
                                        MessageStructure="json")) == (
        "EndpointDisabled", "Endpoint is disabled", 400)
    sns.set_endpoint_attributes(EndpointArn=endpoint,
                                Attributes={"Enabled": "true", "CustomUserData": "u"})
    assert sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"] == {
        "Token": "token", "Enabled": "true", "CustomUserData": "u"}
    message_id = sns.publish(TargetArn=endpoint, MessageStructure="json",
                             Message=json.dumps({"default": "d", "GCM": "g"}))["MessageId"]
    [push] = dc.PlatformApplication(loop, "my-app", "GCM", {}).outbox
    assert (push.payload, push.message_id, push.endpoint_arn) == ("g", message_id, endpoint)
    assert sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)[
        "Endpoints"] == [{"EndpointArn": endpoint, "Attributes": {
            "Token": "token", "Enabled": "true", "CustomUserData": "u"}}]
    assert sns.delete_endpoint(EndpointArn=endpoint)["ResponseMetadata"]["HTTPStatusCode"] == 200
    sns.delete_endpoint(EndpointArn=endpoint)  # idempotent
    assert error_of(lambda: sns.get_endpoint_attributes(EndpointArn=endpoint)) == (
        "NotFound", "Endpoint does not exist", 404)
    assert error_of(lambda: sns.publish(TargetArn=endpoint, Message="m")) == (
        "InvalidParameter",
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
        400)
    sns.delete_platform_application(PlatformApplicationArn=app)
    assert error_of(lambda: sns.list_endpoints_by_platform_application(
        PlatformApplicationArn=app)) == ("NotFound", "PlatformApplication does not exist", 404)
    assert error_of(lambda: sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="t")) == (
        "NotFound", "PlatformApplication does not exist", 404)


def test_platform_validation_wording(sns: Any) -> None:
    assert error_of(lambda: sns.get_platform_application_attributes(
        PlatformApplicationArn="invalid-arn")) == (
        "InvalidParameter", "Invalid parameter: PlatformApplicationArn Reason: An ARN must have "
        "at least 6 elements, not 1", 400)
    assert error_of(lambda: sns.create_platform_application(
        Name="a", Platform="ADM", Attributes={})) == (
        "ValidationError", "1 validation error detected: Value null at 'attributes' failed to "
        "satisfy constraint: Member must not be null", 400)
    assert error_of(lambda: sns.create_platform_application(
        Name="a", Platform="AAA", Attributes={"PlatformCredential": "k"})) == (
        "InvalidParameter", "Invalid parameter: Platform Reason: AAA is not supported", 400)
    app = sns.create_platform_application(
        Name="a", Platform="ADM", Attributes={"PlatformCredential": "s", "PlatformPrincipal": "i"}
    )["PlatformApplicationArn"]
    assert error_of(lambda: sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="t", Attributes={"InvalidKey": "x"})) == (
        "InvalidParameter", "Invalid parameter: Attributes Reason: Invalid attribute name: "
        "InvalidKey", 400)
    assert sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)[
        "Endpoints"] == []


def test_topic_subscription_to_an_endpoint(sns: Any, loop: dc.EventLoop) -> None:
    app = sns.create_platform_application(
        Name="a", Platform="GCM", Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)
    sns.publish(TopicArn=topic, Message="hello")
    assert dc.Topic(loop, "alerts").drain()
    assert [p.payload for p in dc.PlatformApplication(loop, "a", "GCM", {}).outbox] == ["hello"]
    sns.delete_endpoint(EndpointArn=endpoint)
    # Deleting an endpoint leaves its subscriptions (AWS: unsubscribe them too).
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(
        TopicArn=topic)["Subscriptions"]] == [sub["SubscriptionArn"]]
    assert error_of(lambda: sns.subscribe(
        TopicArn=topic, Protocol="application", Endpoint=endpoint + "x")) == (
        "InvalidParameter", "Invalid parameter: Endpoint Reason: Endpoint does not exist for "
        f"endpoint arn{endpoint}x", 400)


def test_sms_operations(sns: Any, loop: dc.EventLoop) -> None:
    assert sns.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional",
                                       "DefaultSenderID": "Shop"})
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {
        "DefaultSMSType": "Transactional"}
    assert error_of(lambda: sns.set_sms_attributes(attributes={"test": "test"})) == (
        "InvalidParameter", "test is not a valid attribute", 400)
    account = dc.SmsAccount.of(loop)
    account.opt_out("+15555550100")
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550100")["isOptedOut"]
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15555550100"]
    sns.opt_in_phone_number(phoneNumber="+15555550100")
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == []
    assert error_of(lambda: sns.opt_in_phone_number(phoneNumber="+1a2")) == (
        "InvalidParameter", "Invalid parameter: PhoneNumber Reason: input incorrectly formatted",
        400)
    message_id = sns.publish(PhoneNumber="+15555550100", Message="hello")["MessageId"]
    assert [(s.phone_number, s.text, s.sender_name, s.message_id) for s in account.outbox] == [
        ("+15555550100", "hello", "Shop", message_id)]
    assert error_of(lambda: sns.publish(PhoneNumber="+1a234", Message="m")) == (
        "InvalidParameter", "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to "
        "publish to", 400)
    sns.create_sms_sandbox_phone_number(PhoneNumber="+15555550101", LanguageCode="de-DE")
    password = account.outbox[-1].text.rsplit(" ", 1)[-1]
    sns.verify_sms_sandbox_phone_number(PhoneNumber="+15555550101", OneTimePassword=password)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [
        {"PhoneNumber": "+15555550101", "Status": "Verified"}]
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    assert sns.list_origination_numbers()["PhoneNumbers"] == []


def test_opted_out_list_pages(sns: Any, loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    numbers = [f"+1555555{i:04d}" for i in range(150)]
    for number in numbers:
        account.opt_out(number)
    first = sns.list_phone_numbers_opted_out()
    second = sns.list_phone_numbers_opted_out(nextToken=first["nextToken"])
    assert first["phoneNumbers"] + second["phoneNumbers"] == numbers
    assert "nextToken" not in second


def test_permissions_and_data_protection(sns: Any) -> None:
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.add_permission(TopicArn=topic, Label="test", AWSAccountId=["111111111111"],
                       ActionName=["Publish"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])[
        "Statement"]
    assert statements[1] == {
        "Sid": "test", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SNS:Publish", "Resource": topic}
    assert error_of(lambda: sns.add_permission(
        TopicArn=topic, Label="test", AWSAccountId=["111111111111"], ActionName=["Publish"])) == (
        "InvalidParameter", "Invalid parameter: Statement already exists", 400)
    assert error_of(lambda: sns.add_permission(
        TopicArn=topic + "-not-existing", Label="x", AWSAccountId=["111111111111"],
        ActionName=["Publish"])) == ("NotFound", "Topic does not exist", 404)
    sns.remove_permission(TopicArn=topic, Label="test")
    assert len(json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])[
        "Statement"]) == 1
    assert "DataProtectionPolicy" not in sns.get_data_protection_policy(ResourceArn=topic)
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy='{"Name": "p"}')
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == (
        '{"Name": "p"}')
    assert sorted(sns.get_topic_attributes(TopicArn=topic)["Attributes"]) == [
        "DisplayName", "EffectiveDeliveryPolicy", "Owner", "Policy", "SubscriptionsConfirmed",
        "SubscriptionsDeleted", "SubscriptionsPending", "TopicArn"]


def test_tag_calls_on_a_missing_topic(sns: Any) -> None:
    for call in (lambda: sns.list_tags_for_resource(ResourceArn="not-existing-topic"),
                 lambda: sns.tag_resource(ResourceArn="not-existing-topic",
                                          Tags=[{"Key": "k", "Value": "v"}]),
                 lambda: sns.untag_resource(ResourceArn="not-existing-topic", TagKeys=["k"])):
        assert error_of(call) == ("ResourceNotFound", "Resource does not exist", 404)
    topic = sns.create_topic(Name="t")["TopicArn"]
    assert error_of(lambda: sns.tag_resource(ResourceArn=topic, Tags=[
        {"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])) == (
        "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.", 400)
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == []


def test_publish_with_more_than_ten_attributes(sns: Any, loop: dc.EventLoop) -> None:
    topic = sns.create_topic(Name="t")["TopicArn"]
    queue = dc.Queue(loop, "q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue.arn)
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(12)}
    sns.publish(TopicArn=topic, Message="m", MessageAttributes=attributes)
    assert len(json.loads(queue.receive()[0].body)["MessageAttributes"]) == 12
    assert error_of(lambda: sns.publish(TopicArn=topic, Message="m", MessageAttributes={
        "é": {"DataType": "String", "StringValue": "v"}}))[0] == "ParameterValueInvalid"


def test_create_topic_takes_a_fifo_name_only_with_fifo_topic(sns: Any) -> None:
    for name, attributes in (("test.fifo", {}), ("test", {"FifoTopic": "true"}),
                             ("test.fifo", {"FifoTopic": "false"})):
        assert error_of(lambda n=name, a=attributes: sns.create_topic(Name=n, Attributes=a)) == (
            "InvalidParameter", "Invalid parameter: Topic Name", 400)
    assert sns.list_topics()["Topics"] == []
    arn = sns.create_topic(Name="test.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT}:test.fifo"
