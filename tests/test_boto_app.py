"""A boto3 application written the way AWS tutorials write it, run unchanged through the bridge.

The ``app_*`` functions below are plain boto3 code (``boto3.client("sqs")``, ``WaitTimeSeconds=20``,
a dead-letter queue through ``RedrivePolicy``); they know nothing of ``decoupling``. The tests
run them inside ``decoupling.boto.serve(loop)`` on a ManualClock: long polls and visibility
timeouts of tens of seconds pass in virtual time and take milliseconds of real time.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

import decoupling as dc  # noqa: E402
from decoupling.boto import attach, detach, serve, served_loop  # noqa: E402

# -- the application (tutorial style) -----------------------------------------------------------


def app_create_queues() -> tuple[str, str]:
    """Create an orders queue with a dead-letter queue after 2 receives."""
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive_policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}
    response = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "DelaySeconds": "0",
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(redrive_policy),
        },
    )
    return response["QueueUrl"], dlq_url


def app_send_order(queue_url: str, order_id: str, kind: str) -> str:
    sqs = boto3.client("sqs")
    response = sqs.send_message(
        QueueUrl=queue_url,
        DelaySeconds=0,
        MessageAttributes={"Kind": {"DataType": "String", "StringValue": kind}},
        MessageBody=json.dumps({"order_id": order_id}),
    )
    return str(response["MessageId"])


def app_poll_once(queue_url: str, handler: Any) -> list[str]:
    """One long poll: handle each message and delete the ones the handler accepted."""
    sqs = boto3.client("sqs")
    response = sqs.receive_message(
        QueueUrl=queue_url,
        AttributeNames=["SentTimestamp"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        VisibilityTimeout=30,
        WaitTimeSeconds=20,
    )
    handled = []
    for message in response.get("Messages", []):
        body = json.loads(message["Body"])
        if handler(body, message["MessageAttributes"]["Kind"]["StringValue"]):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled.append(body["order_id"])
    return handled


# -- the tests ----------------------------------------------------------------------------------


def now(loop: dc.EventLoop) -> float:
    return loop.clock.now()


def test_send_receive_delete_with_a_20_second_long_poll(loop: dc.EventLoop) -> None:
    started = time.perf_counter()
    with serve(loop):
        url, _ = app_create_queues()
        assert url == "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
        # An empty queue: the long poll returns empty at its 20 s deadline (virtual).
        assert app_poll_once(url, lambda body, kind: True) == []
        assert now(loop) == 20.0
        app_send_order(url, "o-1", "book")
        app_send_order(url, "o-2", "toy")
        assert app_poll_once(url, lambda body, kind: True) == ["o-1", "o-2"]
        assert now(loop) == 20.0
        assert app_poll_once(url, lambda body, kind: True) == []
        assert now(loop) == 40.0
    assert time.perf_counter() - started < 20.0  # 40 s of polling, not waited in real time


def test_visibility_timeout_returns_unhandled_messages_after_30_seconds(
    loop: dc.EventLoop,
) -> None:
    with serve(loop):
        url, _ = app_create_queues()
        app_send_order(url, "o-1", "book")
        assert app_poll_once(url, lambda body, kind: False) == []  # received, not deleted
        assert now(loop) == 0.0
        # In flight until t=30: the next poll waits out its 20 s, the one after gets it at 30.
        assert app_poll_once(url, lambda body, kind: True) == []
        assert now(loop) == 20.0
        assert app_poll_once(url, lambda body, kind: True) == ["o-1"]
        assert now(loop) == 30.0


def test_a_message_failing_twice_lands_in_the_dead_letter_queue(loop: dc.EventLoop) -> None:
    with serve(loop):
        url, dlq_url = app_create_queues()
        app_send_order(url, "o-1", "broken")
        sqs = boto3.client("sqs")

        def receive_count() -> str | None:
            response = sqs.receive_message(
                QueueUrl=url, WaitTimeSeconds=20, AttributeNames=["ApproximateReceiveCount"]
            )
            messages = response.get("Messages", [])
            return messages[0]["Attributes"]["ApproximateReceiveCount"] if messages else None

        assert (receive_count(), now(loop)) == ("1", 0.0)  # the handler fails: not deleted
        assert (receive_count(), now(loop)) == (None, 20.0)  # in flight until t=30
        assert (receive_count(), now(loop)) == ("2", 30.0)  # visible again, fails again
        assert (receive_count(), now(loop)) == (None, 50.0)
        # At t=60 a third receive would pass maxReceiveCount=2: the message moves to the DLQ
        # and this long poll runs to its deadline.
        assert (receive_count(), now(loop)) == (None, 70.0)
        dead = sqs.receive_message(
            QueueUrl=dlq_url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
        )["Messages"]
        assert json.loads(dead[0]["Body"]) == {"order_id": "o-1"}
        assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"] == (
            "arn:aws:sqs:us-east-1:000000000000:orders"
        )
        assert dead[0]["MessageAttributes"] == {
            "Kind": {"DataType": "String", "StringValue": "broken"}
        }
        sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
        assert sources == [url]


def test_resource_api_and_sessions_are_served(loop: dc.EventLoop) -> None:
    with serve(loop):
        sqs = boto3.resource("sqs")
        queue = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "45"})
        queue.send_message(MessageBody="job-1")
        (message,) = queue.receive_messages(WaitTimeSeconds=20)
        assert message.body == "job-1"
        message.delete()
        assert queue.attributes["ApproximateNumberOfMessages"] == "0"
        assert queue.attributes["VisibilityTimeout"] == "45"
        session = boto3.Session(region_name="us-east-1")
        client = session.client("sqs")
        assert served_loop(client) is loop
        assert client.get_queue_url(QueueName="jobs")["QueueUrl"] == queue.url
    assert len(loop._resources_of("sqs")) == 1


def test_serve_is_a_decorator_and_nests(loop: dc.EventLoop) -> None:
    other = dc.EventLoop(clock=dc.ManualClock(), account_id="111111111111")

    @serve(loop)
    def make() -> Any:
        return boto3.client("sqs")

    first = make()
    assert served_loop(first) is loop
    with serve(loop):
        with serve(other):
            inner = boto3.client("sqs")
        outer = boto3.client("sqs")
    assert served_loop(inner) is other
    assert served_loop(outer) is loop
    inner.create_queue(QueueName="q")
    assert other._lookup("sqs", "q") is not None and loop._lookup("sqs", "q") is None
    # A served client stays served after the block.
    assert first.create_queue(QueueName="q")["QueueUrl"].endswith("/000000000000/q")


def test_attach_and_detach_one_existing_client(loop: dc.EventLoop) -> None:
    client = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    assert served_loop(client) is None
    assert attach(client, loop) is client
    assert client.create_queue(QueueName="attached")["QueueUrl"].endswith("/attached")
    other = dc.EventLoop(clock=dc.ManualClock())
    attach(client, other)  # rebinding replaces the hooks
    assert client.list_queues().get("QueueUrls") is None
    detach(client)
    assert served_loop(client) is None


def test_other_services_are_refused(loop: dc.EventLoop) -> None:
    with serve(loop), pytest.raises(ValueError, match="does not serve 'dynamodb'"):
        boto3.client("dynamodb", region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    assert served_loop(dynamodb) is None
    with pytest.raises(ValueError, match="serves"):
        attach(dynamodb, loop)


def test_served_clients_need_no_configuration(
    loop: dc.EventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    with serve(loop):
        client = boto3.Session().client("sqs")
    assert client.meta.region_name == "us-east-1"
    assert client.list_queues().get("QueueUrls") is None


def test_parameters_are_still_validated_by_botocore(loop: dc.EventLoop) -> None:
    from botocore.exceptions import ParamValidationError

    with serve(loop):
        sqs = boto3.client("sqs")
        with pytest.raises(ParamValidationError, match="MessageBody"):
            sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/000000000000/x")
        with pytest.raises(ParamValidationError, match="WaitTimeSeconds"):
            sqs.receive_message(QueueUrl="u", WaitTimeSeconds="20")


def test_unserved_operations_raise_not_implemented(loop: dc.EventLoop) -> None:
    with serve(loop):
        sqs = boto3.client("sqs")
    # Every SQS operation in botocore's model is served today; removing one shows the path.
    from decoupling.boto import SERVICES

    operations = SERVICES["sqs"][0]
    assert isinstance(operations, dict)
    operation = operations.pop("PurgeQueue")
    try:
        with pytest.raises(NotImplementedError, match="sqs.PurgeQueue"):
            sqs.purge_queue(QueueUrl="https://sqs.us-east-1.amazonaws.com/000000000000/x")
    finally:
        operations["PurgeQueue"] = operation


def test_the_fixtures_of_the_pytest_plugin(
    decoupling_boto: Any, decoupling_advance: Any, decoupling_loop: dc.EventLoop
) -> None:
    sqs = decoupling_boto.client("sqs")
    assert sqs is decoupling_boto.client("sqs")
    assert decoupling_boto.loop is decoupling_loop
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="job")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    assert decoupling_advance(30) == 30.0
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "job"
    assert boto3.client("sqs").get_queue_url(QueueName="jobs")["QueueUrl"] == url


def test_a_fifo_queue_through_the_bridge(loop: dc.EventLoop) -> None:
    with serve(loop):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(
            QueueName="orders.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        first = sqs.send_message(QueueUrl=url, MessageBody="o-1", MessageGroupId="customer-1")
        again = sqs.send_message(QueueUrl=url, MessageBody="o-1", MessageGroupId="customer-1")
        assert again["MessageId"] == first["MessageId"]  # deduplicated within 5 minutes
        assert again["SequenceNumber"] == first["SequenceNumber"]
        sqs.send_message(QueueUrl=url, MessageBody="o-2", MessageGroupId="customer-1")
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=20,
            ReceiveRequestAttemptId="attempt-1",
            MessageSystemAttributeNames=["MessageGroupId", "SequenceNumber"],
        )["Messages"]
        assert [m["Body"] for m in received] == ["o-1", "o-2"]
        assert received[0]["Attributes"] == {
            "MessageGroupId": "customer-1",
            "SequenceNumber": first["SequenceNumber"],
        }
        # A retried receive with the same attempt id returns the same messages and handles.
        retried = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-1"
        )["Messages"]
        assert [m["ReceiptHandle"] for m in retried] == [m["ReceiptHandle"] for m in received]
        # The group is locked while its messages are in flight: a long poll waits them out.
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages") is None
        assert now(loop) == 20.0


# -- Lambda, the way the AWS tutorials deploy and invoke a function -------------------------------

LAMBDA_SOURCE = '''\
import json
import os

import helpers


def lambda_handler(event, context):
    if "order_id" not in event:
        raise KeyError("order_id")
    return {
        "statusCode": 200,
        "body": json.dumps({"order": event["order_id"], "total": helpers.total(event)}),
        "stage": os.environ.get("STAGE"),
        "function": context.function_name,
    }
'''
HELPERS_SOURCE = "def total(event):\n    return sum(i['price'] * i['qty'] for i in event['items'])\n"


def zipped(files: dict[str, str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_zipped_lambda_function_deployed_and_invoked_with_boto3(loop: dc.EventLoop) -> None:
    with serve(loop):
        lambda_client = boto3.client("lambda")
        response = lambda_client.create_function(
            FunctionName="order-total",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/lambda-ex",
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": zipped({"lambda_function.py": LAMBDA_SOURCE,
                                     "helpers.py": HELPERS_SOURCE})},
            Timeout=15,
            Environment={"Variables": {"STAGE": "prod"}},
        )
        assert response["State"] == "Pending"
        lambda_client.get_waiter("function_active_v2").wait(FunctionName="order-total")
        event = {"order_id": "o-1", "items": [{"price": 5, "qty": 2}, {"price": 1, "qty": 3}]}
        result = lambda_client.invoke(
            FunctionName="order-total",
            InvocationType="RequestResponse",
            Payload=json.dumps(event),
        )
        assert result["StatusCode"] == 200
        assert "FunctionError" not in result
        assert json.loads(result["Payload"].read()) == {
            "statusCode": 200,
            "body": '{"order": "o-1", "total": 13}',
            "stage": "prod",
            "function": "order-total",
        }
        failed = lambda_client.invoke(FunctionName="order-total", Payload=b"{}", LogType="Tail")
        assert failed["FunctionError"] == "Unhandled"
        error = json.loads(failed["Payload"].read())
        assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'order_id'")
        import base64

        log = base64.b64decode(failed["LogResult"]).decode()
        assert "[ERROR] KeyError: 'order_id'" in log and log.startswith("START RequestId:")
        update = lambda_client.update_function_configuration(
            FunctionName="order-total", Environment={"Variables": {"STAGE": "test"}}
        )
        assert update["LastUpdateStatus"] == "InProgress"
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName="order-total")
        again = lambda_client.invoke(FunctionName="order-total", Payload=json.dumps(event))
        assert json.loads(again["Payload"].read())["stage"] == "test"


def test_asynchronous_invocation_with_an_on_failure_destination(loop: dc.EventLoop) -> None:
    from decoupling.boto import inline_code

    def charge(event: Any, context: Any) -> Any:
        raise RuntimeError(f"card declined for {event['order_id']}")

    with serve(loop):
        sqs = boto3.client("sqs")
        failures_url = sqs.create_queue(QueueName="charge-failures")["QueueUrl"]
        failures_arn = sqs.get_queue_attributes(
            QueueUrl=failures_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        lam = boto3.client("lambda")
        lam.create_function(
            FunctionName="charge", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
            Handler="billing.charge", Code=inline_code(charge),
        )
        lam.put_function_event_invoke_config(
            FunctionName="charge",
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": failures_arn}},
        )
        assert lam.invoke(
            FunctionName="charge", InvocationType="Event", Payload=b'{"order_id": "o-9"}'
        )["StatusCode"] == 202
        # Lambda retries twice, 1 and then 2 minutes apart; the record arrives at t=180 s.
        response = sqs.receive_message(QueueUrl=failures_url, WaitTimeSeconds=20)
        assert response.get("Messages") is None
        loop.run_until_idle()
        assert now(loop) == 180.0
        record = json.loads(sqs.receive_message(QueueUrl=failures_url)["Messages"][0]["Body"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"] == {"order_id": "o-9"}
        assert record["responsePayload"]["errorMessage"] == "card declined for o-9"


def test_an_importable_handler_string(
    loop: dc.EventLoop, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop_handlers.py").write_text(
        "def greet(event, context):\n    return {'hello': event['name']}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with serve(loop):
        lam = boto3.client("lambda")
        lam.create_function(
            FunctionName="greet", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
            Handler="shop_handlers.greet", Code={"ZipFile": b"unused"},
        )
        result = lam.invoke(FunctionName="greet", Payload=b'{"name": "Ada"}')
        assert json.loads(result["Payload"].read()) == {"hello": "Ada"}
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["greet"]
        lam.delete_function(FunctionName="greet")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="greet")


# -- SNS fan-out, as in the "fanout to SQS queues" tutorials ---------------------------------------


def test_sns_fan_out_with_filter_policies_and_raw_delivery(loop: dc.EventLoop) -> None:
    with serve(loop):
        sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        topic_arn = sns.create_topic(Name="order-events")["TopicArn"]

        def queue(name: str) -> tuple[str, str]:
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            return url, arn

        books_url, books_arn = queue("books")
        audit_url, audit_arn = queue("big-orders")
        _, dlq_arn = queue("sns-dlq")
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=books_arn,
            Attributes={"FilterPolicy": json.dumps({"kind": ["book"]}), "RawMessageDelivery": "true"},
        )
        audit = sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=audit_arn,
            Attributes={
                "FilterPolicyScope": "MessageBody",
                "FilterPolicy": json.dumps({"total": [{"numeric": [">", 100]}]}),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
            },
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        for total, kind in ((150, "book"), (5, "book"), (500, "toy")):
            sns.publish(
                TopicArn=topic_arn,
                Subject="order",
                Message=json.dumps({"total": total}),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
            )
        books = sqs.receive_message(QueueUrl=books_url, MaxNumberOfMessages=10)["Messages"]
        assert [json.loads(m["Body"]) for m in books] == [{"total": 150}, {"total": 5}]
        big = sqs.receive_message(QueueUrl=audit_url, MaxNumberOfMessages=10)["Messages"]
        envelopes = [json.loads(m["Body"]) for m in big]
        assert [json.loads(e["Message"]) for e in envelopes] == [{"total": 150}, {"total": 500}]
        assert envelopes[0]["Type"] == "Notification"
        assert envelopes[0]["TopicArn"] == topic_arn
        assert envelopes[0]["Subject"] == "order"
        assert envelopes[0]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "book"}}
        attributes = sns.get_subscription_attributes(SubscriptionArn=audit)["Attributes"]
        assert attributes["FilterPolicyScope"] == "MessageBody"
        assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
        sns.unsubscribe(SubscriptionArn=audit)
        assert len(sns.list_subscriptions()["Subscriptions"]) == 1
