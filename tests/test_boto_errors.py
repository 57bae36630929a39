"""Errors through the bridge are the errors botocore raises for the real service.

One case per error code the bridge can raise for SQS. Each checks the exception class (the
modeled ``client.exceptions.X`` or a plain ``ClientError``), ``Error.Code`` (SQS's legacy code
where it has one, as botocore reports it for the JSON protocol), ``Error.QueryErrorCode``, the
HTTP status and the message, then feeds the same wire bytes through botocore's real HTTP path
(a ``before-send`` hook standing in for the network) and checks that botocore builds the very
same exception and response there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling import errors  # noqa: E402
from decoupling.boto import inline_code, serve  # noqa: E402
from decoupling.boto._errors import _lambda_wire, _sns_wire, _sqs_wire  # noqa: E402
from decoupling.sns.sms_account import SmsAccount  # noqa: E402

NO_QUEUE = "The specified queue does not exist."


class _Raw:
    """A urllib3-like raw body for an ``AWSResponse``."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def through_http(
    operation: str,
    params: dict[str, Any],
    status: int,
    headers: dict[str, str],
    body: bytes,
    service: str = "sqs",
) -> ClientError:
    """The exception botocore raises when the service answers ``operation`` with these bytes."""
    client = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register(f"before-send.{service}", answer)
    with pytest.raises(ClientError) as info:
        getattr(client, operation)(**params)
    return info.value


class Env:
    def __init__(self, loop: dc.EventLoop, sqs: Any) -> None:
        self.loop = loop
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName="q")["QueueUrl"]
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, operation: str, **params: Any) -> Any:
        self.calls.append((operation, params))
        return getattr(self.sqs, operation)(**params)

    @property
    def queue(self) -> dc.Queue:
        return self.loop._lookup("sqs", "q")  # type: ignore[no-any-return]

    def dlq(self) -> str:
        self.call("create_queue", QueueName="dlq")
        arn = self.loop.arn("sqs", "dlq")
        redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
        self.call("set_queue_attributes", QueueUrl=self.url, Attributes={"RedrivePolicy": redrive})
        return arn


def native(call: Callable[[], object]) -> str:
    """The message the native API gives for the same mistake."""
    with pytest.raises(errors.DecouplingError) as info:
        call()
    return info.value.message


# (case id, trigger, modeled class or None, Error.Code, QueryErrorCode, status, message or
# a function of the env giving it)
Case = tuple[str, Callable[[Env], Any], "str | None", str, str, int, "str | Callable[[Env], str]"]

CASES: list[Case] = [
    (
        "QueueDoesNotExist",
        lambda e: e.call("get_queue_url", QueueName="missing"),
        "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
        400, NO_QUEUE,
    ),
    (
        "QueueAlreadyExists",
        lambda e: e.call("create_queue", QueueName="q", Attributes={"VisibilityTimeout": "5"}),
        "QueueNameExists", "QueueAlreadyExists", "QueueNameExists", 400,
        lambda e: native(lambda: dc.Queue(e.loop, "q", attributes={"VisibilityTimeout": "5"})),
    ),
    (
        "QueueDeletedRecently",
        lambda e: (e.call("delete_queue", QueueUrl=e.url), e.call("create_queue", QueueName="q")),
        "QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently",
        "QueueDeletedRecently", 400,
        "You must wait 60 seconds after deleting a queue before you can create another with "
        "the same name (q).",
    ),
    (
        "InvalidAttributeName",
        lambda e: e.call("get_queue_attributes", QueueUrl=e.url, AttributeNames=["Colour"]),
        "InvalidAttributeName", "InvalidAttributeName", "InvalidAttributeName", 400,
        "Unknown Attribute Colour.",
    ),
    (
        "InvalidAttributeValue",
        lambda e: e.call(
            "set_queue_attributes", QueueUrl=e.url, Attributes={"VisibilityTimeout": "50000"}
        ),
        "InvalidAttributeValue", "InvalidAttributeValue", "InvalidAttributeValue", 400,
        lambda e: native(lambda: e.queue.set_attributes({"VisibilityTimeout": "50000"})),
    ),
    (
        "InvalidMessageContents",
        lambda e: e.call("send_message", QueueUrl=e.url, MessageBody="nul \x00"),
        "InvalidMessageContents", "InvalidMessageContents", "InvalidMessageContents", 400,
        lambda e: native(lambda: e.queue.send("nul \x00")),
    ),
    (
        "InvalidParameterValue",
        lambda e: e.call("receive_message", QueueUrl=e.url, MaxNumberOfMessages=11),
        None, "InvalidParameterValue", "InvalidParameterValueException", 400,
        lambda e: native(lambda: e.queue.receive(11)),
    ),
    (
        "ReceiptHandleIsInvalid",
        lambda e: e.call("delete_message", QueueUrl=e.url, ReceiptHandle="not-a-handle"),
        "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 400,
        'The input receipt handle "not-a-handle" is not a valid receipt handle.',
    ),
    (
        "MissingParameter",
        lambda e: (
            url := e.call("create_queue", QueueName="q.fifo", Attributes={"FifoQueue": "true"})[
                "QueueUrl"
            ],
            e.call("send_message", QueueUrl=url, MessageBody="m", MessageDeduplicationId="d"),
        ),
        None, "MissingParameter", "MissingParameterException", 400,
        lambda e: native(lambda: e.loop._lookup("sqs", "q.fifo").send("m", message_deduplication_id="d")),
    ),
    (
        "EmptyBatchRequest",
        lambda e: e.call("send_message_batch", QueueUrl=e.url, Entries=[]),
        "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest",
        400, "There should be at least one SendMessageBatchRequestEntry in the request.",
    ),
    (
        "TooManyEntriesInBatchRequest",
        lambda e: e.call(
            "delete_message_batch", QueueUrl=e.url,
            Entries=[{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)],
        ),
        "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "TooManyEntriesInBatchRequest", 400,
        "Maximum number of entries per request are 10. You have sent 11.",
    ),
    (
        "BatchEntryIdsNotDistinct",
        lambda e: e.call(
            "send_message_batch", QueueUrl=e.url,
            Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}],
        ),
        "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "BatchEntryIdsNotDistinct", 400, "Id a repeated.",
    ),
    (
        "InvalidBatchEntryId",
        lambda e: e.call(
            "change_message_visibility_batch", QueueUrl=e.url,
            Entries=[{"Id": "bad id!", "ReceiptHandle": "h", "VisibilityTimeout": 1}],
        ),
        "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
        "InvalidBatchEntryId", 400,
        lambda e: native(lambda: e.queue.delete_batch([{"Id": "bad id!", "ReceiptHandle": "h"}])),
    ),
    (
        "BatchRequestTooLong",
        lambda e: e.call(
            "send_message_batch", QueueUrl=e.url,
            Entries=[{"Id": str(i), "MessageBody": "x" * 600_000} for i in range(2)],
        ),
        "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
        "BatchRequestTooLong", 400,
        lambda e: native(lambda: e.queue.send_batch(["x" * 600_000, "x" * 600_000])),
    ),
    (
        "PurgeQueueInProgress",
        lambda e: (e.call("purge_queue", QueueUrl=e.url), e.call("purge_queue", QueueUrl=e.url)),
        "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
        "PurgeQueueInProgress", 403, "Only one PurgeQueue operation on q is allowed every 60 seconds.",
    ),
    (
        "OverLimit",
        lambda e: (
            setattr(e.queue, "max_in_flight", 1),
            e.call("send_message_batch", QueueUrl=e.url, Entries=[
                {"Id": "1", "MessageBody": "1"}, {"Id": "2", "MessageBody": "2"}]),
            e.call("receive_message", QueueUrl=e.url),
            e.call("receive_message", QueueUrl=e.url),
        ),
        "OverLimit", "OverLimit", "OverLimit", 403,
        "Too many messages in flight: the queue has 1 and the limit is 1.",
    ),
    (
        "UnsupportedOperation",
        lambda e: (
            arn := e.dlq(),
            e.call("send_message", QueueUrl=e.url, MessageBody="m"),
            e.call("receive_message", QueueUrl=e.url, VisibilityTimeout=0),
            e.call("receive_message", QueueUrl=e.url),
            handle := e.call("start_message_move_task", SourceArn=arn)["TaskHandle"],
            e.loop.run_until_idle(),
            e.call("cancel_message_move_task", TaskHandle=handle),
        ),
        "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
        "UnsupportedOperation", 400,
        lambda e: native(
            lambda: e.loop._lookup("sqs", "dlq").cancel_message_move_task(
                e.calls[-1][1]["TaskHandle"]
            )
        ),
    ),
    (
        "ResourceNotFoundException",
        lambda e: e.call(
            "start_message_move_task", SourceArn="arn:aws:sqs:us-east-1:000000000000:missing"
        ),
        "ResourceNotFoundException", "ResourceNotFoundException", "ResourceNotFoundException",
        404, "The resource that you specified for the SourceArn parameter doesn't exist.",
    ),
    (
        "InvalidAddress",
        lambda e: e.call(
            "send_message", QueueUrl="https://sqs.us-east-1.amazonaws.com/111111111111/q",
            MessageBody="m",
        ),
        "InvalidAddress", "InvalidAddress", "InvalidAddress", 404,
        "The address https://sqs.us-east-1.amazonaws.com/111111111111/q is not valid for this "
        "endpoint.",
    ),
]


@pytest.fixture
def env(loop: dc.EventLoop) -> Iterator[Env]:
    with serve(loop):
        yield Env(loop, boto3.client("sqs"))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_sqs_error(case: Case, env: Env) -> None:
    code_name, trigger, modeled, code, query_code, status, message = case
    with pytest.raises(ClientError) as info:
        trigger(env)
    error = info.value
    expected_message = message(env) if callable(message) else message
    if modeled is None:
        assert type(error) is ClientError
    else:
        assert type(error) is getattr(env.sqs.exceptions, modeled)
    assert error.response["Error"] == {
        "Code": code,
        "Message": expected_message,
        "QueryErrorCode": query_code,
        "Type": "Sender",
    }
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error.operation_name == "".join(w.title() for w in env.calls[-1][0].split("_"))
    assert str(error) == (
        f"An error occurred ({code}) when calling the {error.operation_name} operation: "
        f"{expected_message}"
    )
    # The same bytes through botocore's real HTTP path give the same exception and response.
    operation, params = env.calls[-1]
    cls = errors.error_for_code(code_name)
    model = env.sqs.meta.service_model.operation_model(error.operation_name)
    headers, body = _sqs_wire(model, cls(expected_message), "req-1")
    real = through_http(operation, params, status, headers, body)
    assert type(real).__name__ == type(error).__name__
    assert real.response["Error"] == error.response["Error"]
    assert {k: v for k, v in real.response.items() if k != "ResponseMetadata"} == {
        k: v for k, v in error.response.items() if k != "ResponseMetadata"
    }


def test_every_sqs_error_code_has_a_case() -> None:
    sqs_codes = {
        getattr(errors, name).code
        for name in errors.__all__[1 : errors.__all__.index("InvalidParameter")]
    }
    # MessageNotInflight: the queues never raise it (a standard queue re-hides a message on a
    # visibility change with its latest handle; FIFO answers an expired handle with
    # InvalidParameterValue, as AWS does).
    assert sqs_codes - {c[0] for c in CASES} == {"MessageNotInflight"}


def test_the_documented_aws_error_response_parses_as_the_bridge_reports_it(env: Env) -> None:
    # The example of the SQS Developer Guide, "Interpreting Amazon SQS JSON API responses".
    headers = {
        "x-amzn-RequestId": "66916324-67ca-54bb-a410-3f567a7a0571",
        "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender",
        "Content-Type": "application/x-amz-json-1.0",
    }
    body = b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}'
    real = through_http("get_queue_url", {"QueueName": "missing"}, 400, headers, body)
    with pytest.raises(env.sqs.exceptions.QueueDoesNotExist) as info:
        env.sqs.get_queue_url(QueueName="missing")
    assert type(real) is type(info.value)
    assert real.response["Error"] == info.value.response["Error"]
    assert str(real) == str(info.value)


# -- Lambda -------------------------------------------------------------------------------------

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def handler(event: Any, context: Any) -> Any:
    return event


class LambdaEnv:
    def __init__(self, loop: dc.EventLoop) -> None:
        self.loop = loop
        self.lam = boto3.client("lambda")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call("create_function", FunctionName="f", Role=ROLE, Handler="app.handler",
                  Runtime="python3.12", Code=inline_code(handler))

    def call(self, operation: str, **params: Any) -> Any:
        self.calls.append((operation, params))
        return getattr(self.lam, operation)(**params)

    @property
    def runtime(self) -> Any:
        from decoupling.boto import runtime_for

        return runtime_for(self.loop)


ARN = "arn:aws:lambda:us-east-1:000000000000:function"
# (code, trigger, status, message or a function of the env giving it, extra modeled members)
LambdaCase = tuple[str, Callable[[LambdaEnv], Any], int, "str | Callable[[LambdaEnv], str]",
                   dict[str, Any]]

LAMBDA_CASES: list[LambdaCase] = [
    (
        "ResourceNotFoundException",
        lambda e: e.call("invoke", FunctionName="missing"),
        404, f"Function not found: {ARN}:missing", {"Type": "User"},
    ),
    (
        "ResourceConflictException",
        lambda e: e.call("create_function", FunctionName="f", Role=ROLE, Handler="app.handler",
                         Code=inline_code(handler)),
        409, "Function already exist: f", {"Type": "User"},
    ),
    (
        "InvalidParameterValueException",
        lambda e: e.call("update_function_configuration", FunctionName="f",
                         Environment={"Variables": {"AWS_REGION": "x"}}),
        400,
        lambda e: native(lambda: e.runtime.register("g", handler, environment={"AWS_REGION": "x"})),
        {"Type": "User"},
    ),
    (
        "TooManyRequestsException",
        lambda e: (
            e.call("put_function_concurrency", FunctionName="f", ReservedConcurrentExecutions=0),
            e.call("invoke", FunctionName="f", Payload=b"{}"),
        ),
        429, "Rate Exceeded. Reason: ReservedFunctionConcurrentInvocationLimitExceeded",
        {"Type": "User", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
    ),
    (
        "RequestTooLargeException",
        lambda e: e.call("invoke", FunctionName="f", InvocationType="Event",
                         Payload=json.dumps({"x": "y" * 1_100_000})),
        413, lambda e: native(lambda: e.runtime.invoke("f", {"x": "y" * 1_100_000}, "Event")),
        {"Type": "User"},
    ),
    (
        "InvalidRequestContentException",
        lambda e: e.call("invoke", FunctionName="f", Payload=b"{not json"),
        400, lambda e: native(lambda: e.runtime.invoke("f", b"{not json")), {"Type": "User"},
    ),
    (
        "ValidationException",
        lambda e: e.call("update_function_configuration", FunctionName="f", Timeout=1801),
        400, lambda e: native(lambda: e.runtime.register("g", handler, timeout=1801)), {},
    ),
    (
        "PreconditionFailedException",
        lambda e: e.call("update_function_configuration", FunctionName="f", Timeout=5,
                         RevisionId="not-the-revision"),
        412, "The Revision Id provided does not match the latest Revision Id. Call the "
             "GetFunction/GetAlias API to retrieve the latest Revision Id", {"Type": "User"},
    ),
    (
        "AccessDeniedException",
        lambda e: e.call("update_function_configuration", FunctionName="f",
                         Role="arn:aws:iam::111111111111:role/other"),
        403, "Cross-account pass role is not allowed.", {},
    ),
    (
        "ProvisionedConcurrencyConfigNotFoundException",
        lambda e: (
            e.call("publish_version", FunctionName="f"),
            e.call("get_provisioned_concurrency_config", FunctionName="f", Qualifier="1"),
        ),
        404, "No Provisioned Concurrency Config found for this function", {"Type": "User"},
    ),
]


@pytest.fixture
def lambda_env(loop: dc.EventLoop) -> Iterator[LambdaEnv]:
    with serve(loop):
        yield LambdaEnv(loop)


@pytest.mark.parametrize("case", LAMBDA_CASES, ids=[c[0] for c in LAMBDA_CASES])
def test_lambda_error(case: LambdaCase, lambda_env: LambdaEnv) -> None:
    code, trigger, status, message, extra = case
    with pytest.raises(ClientError) as info:
        trigger(lambda_env)
    error = info.value
    expected_message = message(lambda_env) if callable(message) else message
    modeled = getattr(lambda_env.lam.exceptions, code, None)
    assert type(error) is (modeled or ClientError)
    assert error.response["Error"] == {"Code": code, "Message": expected_message}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    members = {k: v for k, v in error.response.items() if k not in ("Error", "ResponseMetadata")}
    message_key = {"Message", "message"} & set(members)
    assert {k: v for k, v in members.items() if k not in message_key} == extra
    if modeled is not None:
        assert [members[k] for k in message_key] == [expected_message]
    operation, params = lambda_env.calls[-1]
    cls = errors.error_for_code(code)
    model = lambda_env.lam.meta.service_model.operation_model(error.operation_name)
    headers, body = _lambda_wire(model, cls(expected_message), "req-1")
    real = through_http(operation, params, status, headers, body, service="lambda")
    assert type(real).__name__ == type(error).__name__
    assert {k: v for k, v in real.response.items() if k != "ResponseMetadata"} == {
        k: v for k, v in error.response.items() if k != "ResponseMetadata"
    }


def test_every_lambda_error_code_has_a_case() -> None:
    lambda_codes = {
        getattr(errors, name).code
        for name in errors.__all__[
            errors.__all__.index("InvalidParameterValueException") : errors.__all__.index(
                "NoSuchBucket"
            )
        ]
        if isinstance(getattr(errors, name), type)
    }
    assert lambda_codes - {c[0] for c in LAMBDA_CASES} <= {"ResourceNotFoundException"}


# -- SNS ----------------------------------------------------------------------------------------


class SnsEnv:
    def __init__(self, loop: dc.EventLoop) -> None:
        self.loop = loop
        self.sns = boto3.client("sns")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.topic = self.call("create_topic", Name="t")["TopicArn"]

    def call(self, operation: str, **params: Any) -> Any:
        self.calls.append((operation, params))
        return getattr(self.sns, operation)(**params)

    @property
    def native(self) -> dc.Topic:
        return dc.Topic(self.loop, "t")


def _many_filter_policies(e: SnsEnv) -> None:
    for i in range(200):
        e.native.subscribe(f"user{i}@example.com", "email", filter_policy={"k": [str(i)]})


def _a_full_fifo_topic(e: SnsEnv) -> str:
    topic = dc.Topic(e.loop, "full.fifo")
    for i in range(100):
        topic.subscribe(dc.FifoQueue(e.loop, f"q{i}.fifo"))
    dc.FifoQueue(e.loop, "extra.fifo")
    return topic.arn


SNS_TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000"
# (code, trigger, modeled class, status, message or a function of the env giving it)
SnsCase = tuple[str, Callable[[SnsEnv], Any], str, int, "str | Callable[[SnsEnv], str]"]

SNS_CASES: list[SnsCase] = [
    (
        "InvalidParameter",
        lambda e: e.call("publish", TopicArn=e.topic, Message=""),
        "InvalidParameterException", 400, "Invalid parameter: Empty message",
    ),
    (
        "NotFound",
        lambda e: e.call("get_topic_attributes", TopicArn=f"{SNS_TOPIC_ARN}:missing"),
        "NotFoundException", 404, "Topic does not exist",
    ),
    (
        "ParameterValueInvalid",
        lambda e: e.call("publish", TopicArn=e.topic, Message="m",
                         MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}}),
        "InvalidParameterValueException", 400,
        lambda e: native(lambda: e.native.publish("m", message_attributes={"AWS.x": "v"})),
    ),
    (
        "FilterPolicyLimitExceeded",
        lambda e: (
            _many_filter_policies(e),
            e.call("subscribe", TopicArn=e.topic, Protocol="email", Endpoint="last@example.com",
                   Attributes={"FilterPolicy": '{"k": ["last"]}'}),
        ),
        "FilterPolicyLimitExceededException", 403,
        lambda e: native(lambda: e.native.subscribe(
            "last@example.com", "email", filter_policy={"k": ["last"]})),
    ),
    (
        "SubscriptionLimitExceeded",
        lambda e: e.call("subscribe", TopicArn=_a_full_fifo_topic(e), Protocol="sqs",
                         Endpoint=e.loop.arn("sqs", "extra.fifo")),
        "SubscriptionLimitExceededException", 403,
        lambda e: native(lambda: dc.Topic(e.loop, "full.fifo").subscribe(
            e.loop._lookup("sqs", "extra.fifo"))),
    ),
    (
        "EmptyBatchRequest",
        lambda e: e.call("publish_batch", TopicArn=e.topic, PublishBatchRequestEntries=[]),
        "EmptyBatchRequestException", 400, "The batch request doesn't contain any entries.",
    ),
    (
        "TooManyEntriesInBatchRequest",
        lambda e: e.call("publish_batch", TopicArn=e.topic, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "m"} for i in range(11)]),
        "TooManyEntriesInBatchRequestException", 400,
        lambda e: native(lambda: e.native.publish_batch(["m"] * 11)),
    ),
    (
        "BatchEntryIdsNotDistinct",
        lambda e: e.call("publish_batch", TopicArn=e.topic, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}]),
        "BatchEntryIdsNotDistinctException", 400,
        lambda e: native(lambda: e.native.publish_batch(
            [{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}])),
    ),
    (
        "InvalidBatchEntryId",
        lambda e: e.call("publish_batch", TopicArn=e.topic, PublishBatchRequestEntries=[
            {"Id": "bad id!", "Message": "m"}]),
        "InvalidBatchEntryIdException", 400,
        lambda e: native(lambda: e.native.publish_batch([{"Id": "bad id!", "Message": "m"}])),
    ),
    (
        "BatchRequestTooLong",
        lambda e: e.call("publish_batch", TopicArn=e.topic, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "x" * 200_000} for i in range(2)]),
        "BatchRequestTooLongException", 400,
        "The length of all the messages put together is more than the limit.",
    ),
    (
        "AuthorizationError",
        lambda e: (setattr(SmsAccount.of(e.loop), "in_sandbox", True),
                   e.call("publish", PhoneNumber="+15555550100", Message="m")),
        "AuthorizationErrorException", 403,
        "The account is in the SMS sandbox and +15555550100 is not a verified destination "
        "phone number",
    ),
    (
        "EndpointDisabled",
        lambda e: e.call("publish", TargetArn=_an_endpoint(e, "false"), Message="m"),
        "EndpointDisabledException", 400, "Endpoint is disabled",
    ),
    (
        "PlatformApplicationDisabled",
        lambda e: e.call("publish", TargetArn=_an_endpoint(e, "true", app_enabled="false"),
                         Message="m"),
        "PlatformApplicationDisabledException", 400, "Platform application is disabled",
    ),
    (
        "ResourceNotFound",
        lambda e: e.call("list_tags_for_resource", ResourceArn=f"{SNS_TOPIC_ARN}:missing"),
        "ResourceNotFoundException", 404, "Resource does not exist",
    ),
    (
        "OptedOut",
        lambda e: (SmsAccount.of(e.loop).opt_out("+15555550100"),
                   e.call("create_sms_sandbox_phone_number", PhoneNumber="+15555550100")),
        "OptedOutException", 400, "The phone number +15555550100 has opted out",
    ),
    (
        "UserError",
        lambda e: [e.call("create_sms_sandbox_phone_number", PhoneNumber=f"+1555555010{i}")
                   for i in range(11)],
        "UserErrorException", 400,
        "The SMS sandbox holds at most 10 destination phone numbers",
    ),
    (
        "VerificationException",
        lambda e: (e.call("create_sms_sandbox_phone_number", PhoneNumber="+15555550100"),
                   e.call("verify_sms_sandbox_phone_number", PhoneNumber="+15555550100",
                          OneTimePassword="wrong")),
        "VerificationException", 400, "Invalid one-time password",
    ),
    (
        "ValidationError",
        lambda e: e.call("set_endpoint_attributes", EndpointArn=_an_endpoint(e, "true"),
                         Attributes={}),
        "ClientError", 400,
        "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: "
        "Member must not be null",
    ),
    (
        "TagLimitExceeded",
        lambda e: e.call("tag_resource", ResourceArn=e.topic,
                         Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]),
        "TagLimitExceededException", 400,
        "Could not complete request: tag quota of per resource exceeded",
    ),
]


def _an_endpoint(e: SnsEnv, enabled: str, app_enabled: str = "true") -> str:
    app = e.sns.create_platform_application(
        Name="app", Platform="GCM", Attributes={"PlatformCredential": "k", "Enabled": app_enabled}
    )["PlatformApplicationArn"]
    arn: str = e.sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="t", Attributes={"Enabled": enabled}
    )["EndpointArn"]
    return arn


@pytest.fixture
def sns_env(loop: dc.EventLoop) -> Iterator[SnsEnv]:
    with serve(loop):
        yield SnsEnv(loop)


@pytest.mark.parametrize("case", SNS_CASES, ids=[c[0] for c in SNS_CASES])
def test_sns_error(case: SnsCase, sns_env: SnsEnv) -> None:
    code, trigger, modeled, status, message = case
    with pytest.raises(ClientError) as info:
        trigger(sns_env)
    error = info.value
    expected_message = message(sns_env) if callable(message) else message
    assert type(error) is getattr(sns_env.sns.exceptions, modeled)
    assert error.response["Error"] == {"Type": "Sender", "Code": code, "Message": expected_message}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    operation, params = sns_env.calls[-1]
    model = sns_env.sns.meta.service_model.operation_model(error.operation_name)
    headers, body = _sns_wire(model, errors.error_for_code(code)(expected_message), "req-1")
    real = through_http(operation, params, status, headers, body, service="sns")
    assert type(real).__name__ == type(error).__name__
    assert {k: v for k, v in real.response.items() if k != "ResponseMetadata"} == {
        k: v for k, v in error.response.items() if k != "ResponseMetadata"
    }


def test_every_sns_error_code_has_a_case() -> None:
    names = errors.__all__[
        errors.__all__.index("InvalidParameter") : errors.__all__.index(
            "InvalidParameterValueException"
        )
    ]
    sns_codes = {getattr(errors, name).code for name in names}
    assert sns_codes - {c[0] for c in SNS_CASES} == set()
