"""Every response the bridge returns, walked against botocore's service model.

For each served operation, the response is checked member by member against the operation's
output shape: every key is a member of the shape (``ResponseMetadata`` aside), every required
member is present, and every value has the type botocore's parser would give it (``str`` for
strings, ``int`` for integers and longs, ``bool``, ``bytes`` for blobs, ``datetime`` for
timestamps, lists and maps recursively). The cases are chosen so optional members appear too
(``NextToken``, ``MD5OfMessageSystemAttributes``, binary message attributes, ...).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

from botocore.response import StreamingBody  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.boto import SERVICES, serve  # noqa: E402
from decoupling.sns.sms_account import SmsAccount  # noqa: E402

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "blob": (bytes,),
    "timestamp": (datetime.datetime,),
    "double": (float, int),
    "float": (float, int),
}


def shape_problems(shape: Any, value: Any, path: str = "") -> list[str]:
    """What in ``value`` does not fit ``shape`` (a botocore ``Shape``); empty when it fits."""
    kind = shape.type_name
    where = path or "<response>"
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected a dict for {shape.name}, got {type(value).__name__}"]
        problems = []
        for key, member in value.items():
            if key == "ResponseMetadata" and not path:
                continue
            if key not in shape.members:
                problems.append(f"{where}: {key!r} is not a member of {shape.name}")
                continue
            problems += shape_problems(shape.members[key], member, f"{path}.{key}".lstrip("."))
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{where}: required member {key!r} of {shape.name} is missing")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        return [p for i, v in enumerate(value) for p in shape_problems(shape.member, v, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a dict (map), got {type(value).__name__}"]
        problems = []
        for key, item in value.items():
            problems += shape_problems(shape.key, key, f"{path}<key>")
            problems += shape_problems(shape.value, item, f"{path}[{key!r}]")
        return problems
    expected = _SCALARS[kind]
    if kind == "blob" and isinstance(value, StreamingBody):
        return []  # a payload blob (Invoke's Payload) comes as a stream, as botocore gives it
    if kind in ("integer", "long") and isinstance(value, bool):
        return [f"{where}: expected {kind}, got bool"]
    if not isinstance(value, expected):
        return [f"{where}: expected {kind}, got {type(value).__name__} {value!r}"]
    enum = shape.enum if kind == "string" else None
    if enum and value not in enum:
        return [f"{where}: {value!r} is not one of {shape.name}'s values"]
    return []


def test_the_walker_catches_what_it_should() -> None:
    model = boto3.client("sqs", region_name="us-east-1").meta.service_model
    shape = model.operation_model("ReceiveMessage").output_shape
    assert shape_problems(shape, {"Messages": [{"Body": "x"}]}) == []
    assert shape_problems(shape, {"Messages": [{"Bodyy": "x"}]}) == [
        "Messages[0]: 'Bodyy' is not a member of Message"
    ]
    assert shape_problems(shape, {"Messages": [{"MessageAttributes": {"a": {}}}]}) == [
        "Messages[0].MessageAttributes['a']: required member 'DataType' of "
        "MessageAttributeValue is missing"
    ]
    assert shape_problems(shape, {"Messages": [{"Body": 3}]}) == [
        "Messages[0].Body: expected string, got int 3"
    ]


# -- SQS ----------------------------------------------------------------------------------------


class World:
    """Queues and messages every case can use."""

    def __init__(self, sqs: Any, loop: dc.EventLoop) -> None:
        self.sqs = sqs
        self.loop = loop
        self.dlq = sqs.create_queue(QueueName="shapes-dlq")["QueueUrl"]
        self.dlq_arn = loop.arn("sqs", "shapes-dlq")
        redrive = json.dumps({"deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": 1})
        self.url = sqs.create_queue(
            QueueName="shapes",
            Attributes={"RedrivePolicy": redrive},
            tags={"team": "orders"},
        )["QueueUrl"]
        for name in ("shapes-b", "shapes-c"):
            sqs.create_queue(
                QueueName=name,
                Attributes={"RedrivePolicy": redrive.replace("1}", "2}")},
            )

    def send_full(self) -> dict[str, Any]:
        return self.sqs.send_message(  # type: ignore[no-any-return]
            QueueUrl=self.url,
            MessageBody="body",
            MessageAttributes={
                "s": {"DataType": "String", "StringValue": "text"},
                "n": {"DataType": "Number.int", "StringValue": "42"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
            MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
            },
        )

    def received(self) -> dict[str, Any]:
        self.send_full()
        return self.sqs.receive_message(  # type: ignore[no-any-return]
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )

    def handle(self) -> str:
        return str(self.received()["Messages"][0]["ReceiptHandle"])

    def dead_letters(self) -> None:
        """Put a message into the DLQ (two receives with maxReceiveCount 1)."""
        self.send_full()
        self.sqs.receive_message(QueueUrl=self.url, VisibilityTimeout=0)
        self.sqs.receive_message(QueueUrl=self.url)


def _sqs_cases() -> dict[str, Callable[[World], dict[str, Any]]]:
    def move(w: World) -> dict[str, Any]:
        w.dead_letters()
        return w.sqs.start_message_move_task(SourceArn=w.dlq_arn)  # type: ignore[no-any-return]

    def list_tasks(w: World) -> dict[str, Any]:
        move(w)
        w.loop.run_until_idle()
        move(w)
        return w.sqs.list_message_move_tasks(SourceArn=w.dlq_arn, MaxResults=10)  # type: ignore[no-any-return]

    return {
        "CreateQueue": lambda w: w.sqs.create_queue(QueueName="shapes-new"),
        "GetQueueUrl": lambda w: w.sqs.get_queue_url(QueueName="shapes"),
        "ListQueues": lambda w: w.sqs.list_queues(QueueNamePrefix="shapes", MaxResults=2),
        "DeleteQueue": lambda w: w.sqs.delete_queue(QueueUrl=w.url),
        "GetQueueAttributes": lambda w: w.sqs.get_queue_attributes(
            QueueUrl=w.url, AttributeNames=["All"]
        ),
        "SetQueueAttributes": lambda w: w.sqs.set_queue_attributes(
            QueueUrl=w.url, Attributes={"VisibilityTimeout": "60"}
        ),
        "TagQueue": lambda w: w.sqs.tag_queue(QueueUrl=w.url, Tags={"k": "v"}),
        "UntagQueue": lambda w: w.sqs.untag_queue(QueueUrl=w.url, TagKeys=["team"]),
        "ListQueueTags": lambda w: w.sqs.list_queue_tags(QueueUrl=w.url),
        "PurgeQueue": lambda w: w.sqs.purge_queue(QueueUrl=w.url),
        "AddPermission": lambda w: w.sqs.add_permission(
            QueueUrl=w.url, Label="l", AWSAccountIds=["111111111111"], Actions=["SendMessage"]
        ),
        "RemovePermission": lambda w: (
            w.sqs.add_permission(
                QueueUrl=w.url, Label="l", AWSAccountIds=["111111111111"], Actions=["*"]
            ),
            w.sqs.remove_permission(QueueUrl=w.url, Label="l"),
        )[1],
        "ListDeadLetterSourceQueues": lambda w: w.sqs.list_dead_letter_source_queues(
            QueueUrl=w.dlq, MaxResults=2
        ),
        "SendMessage": lambda w: w.send_full(),
        "SendMessageBatch": lambda w: w.sqs.send_message_batch(
            QueueUrl=w.url,
            Entries=[
                {
                    "Id": "ok",
                    "MessageBody": "b",
                    "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "text"}},
                    "MessageSystemAttributes": {
                        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}
                    },
                },
                {"Id": "bad", "MessageBody": "\x00"},
            ],
        ),
        "ReceiveMessage": lambda w: w.received(),
        "DeleteMessage": lambda w: w.sqs.delete_message(QueueUrl=w.url, ReceiptHandle=w.handle()),
        "DeleteMessageBatch": lambda w: w.sqs.delete_message_batch(
            QueueUrl=w.url,
            Entries=[{"Id": "ok", "ReceiptHandle": w.handle()}, {"Id": "bad", "ReceiptHandle": "x"}],
        ),
        "ChangeMessageVisibility": lambda w: w.sqs.change_message_visibility(
            QueueUrl=w.url, ReceiptHandle=w.handle(), VisibilityTimeout=10
        ),
        "ChangeMessageVisibilityBatch": lambda w: w.sqs.change_message_visibility_batch(
            QueueUrl=w.url,
            Entries=[
                {"Id": "ok", "ReceiptHandle": w.handle(), "VisibilityTimeout": 5},
                {"Id": "bad", "ReceiptHandle": "x", "VisibilityTimeout": 5},
            ],
        ),
        "StartMessageMoveTask": move,
        "ListMessageMoveTasks": list_tasks,
        "CancelMessageMoveTask": lambda w: w.sqs.cancel_message_move_task(
            TaskHandle=move(w)["TaskHandle"]
        ),
    }


SQS_CASES = _sqs_cases()


@pytest.fixture
def world(loop: dc.EventLoop) -> Iterator[World]:
    with serve(loop):
        yield World(boto3.client("sqs"), loop)


def test_every_served_sqs_operation_has_a_case() -> None:
    assert sorted(SQS_CASES) == sorted(SERVICES["sqs"][0])


@pytest.mark.parametrize("operation", sorted(SQS_CASES))
def test_sqs_response_matches_the_service_model(operation: str, world: World) -> None:
    response = SQS_CASES[operation](world)
    shape = world.sqs.meta.service_model.operation_model(operation).output_shape
    if shape is None:
        assert set(response) == {"ResponseMetadata"}
    else:
        assert shape_problems(shape, response) == []
    metadata = response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 200
    assert metadata["RetryAttempts"] == 0
    assert metadata["HTTPHeaders"]["x-amzn-requestid"] == metadata["RequestId"]


def test_optional_members_appear_where_aws_sends_them(world: World) -> None:
    sent = world.send_full()
    assert set(sent) - {"ResponseMetadata"} == {
        "MessageId",
        "MD5OfMessageBody",
        "MD5OfMessageAttributes",
        "MD5OfMessageSystemAttributes",
    }
    (message,) = world.sqs.receive_message(
        QueueUrl=world.url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["b"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    assert message["Attributes"]["AWSTraceHeader"] == "Root=1-abc"
    listed = world.sqs.list_queues(QueueNamePrefix="shapes", MaxResults=2)
    assert listed["QueueUrls"] == [world.loop.queue_url(n) for n in ("shapes", "shapes-b")]
    rest = world.sqs.list_queues(QueueNamePrefix="shapes", MaxResults=2, NextToken=listed["NextToken"])
    assert rest["QueueUrls"] == [world.loop.queue_url(n) for n in ("shapes-c", "shapes-dlq")]
    assert "NextToken" not in rest


def test_fifo_responses_match_the_service_model(world: World) -> None:
    sqs = world.sqs
    model = sqs.meta.service_model
    url = sqs.create_queue(
        QueueName="shapes.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g")
    assert shape_problems(model.operation_model("SendMessage").output_shape, sent) == []
    assert sent["SequenceNumber"].isdigit()
    batch = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "n", "MessageGroupId": "g"}]
    )
    assert shape_problems(model.operation_model("SendMessageBatch").output_shape, batch) == []
    assert batch["Successful"][0]["SequenceNumber"] > sent["SequenceNumber"]
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], ReceiveRequestAttemptId="a"
    )
    assert shape_problems(model.operation_model("ReceiveMessage").output_shape, received) == []
    assert set(received["Messages"][0]["Attributes"]) >= {
        "MessageGroupId", "MessageDeduplicationId", "SequenceNumber"
    }


# -- Lambda -------------------------------------------------------------------------------------

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def echo(event: Any, context: Any) -> Any:
    if event.get("fail"):
        raise ValueError("failed on purpose")
    return event


class LambdaWorld:
    def __init__(self, loop: dc.EventLoop) -> None:
        from decoupling.boto import inline_code

        self.loop = loop
        self.lam = boto3.client("lambda")
        self.sqs = boto3.client("sqs")
        self.queue_arn = loop.arn("sqs", "destinations")
        self.sqs.create_queue(QueueName="destinations")
        self.created = self.lam.create_function(
            FunctionName="echo",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.echo",
            Code=inline_code(echo),
            Environment={"Variables": {"STAGE": "test"}},
            Tags={"team": "orders"},
            DeadLetterConfig={"TargetArn": self.queue_arn},
        )
        self.lam.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=5)
        self.lam.put_function_event_invoke_config(
            FunctionName="echo",
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": self.queue_arn}},
        )
        self.mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.queue_arn,
            FunctionName="echo",
            BatchSize=10,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["book"]}}'}]},
        )
        self.lam.create_event_source_mapping(EventSourceArn=self.queue_arn, FunctionName="echo")

    def alias(self) -> dict[str, Any]:
        self.lam.publish_version(FunctionName="echo")
        self.lam.update_function_configuration(FunctionName="echo", Timeout=9)
        self.lam.publish_version(FunctionName="echo")
        return self.lam.create_alias(  # type: ignore[no-any-return]
            FunctionName="echo", Name="live", FunctionVersion="1", Description="main",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})

    def permit(self) -> dict[str, Any]:
        return self.lam.add_permission(  # type: ignore[no-any-return]
            FunctionName="echo", StatementId="sns", Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com", SourceArn=self.loop.arn("sns", "orders"),
            SourceAccount=self.loop.account_id)

    def provision(self) -> dict[str, Any]:
        self.lam.publish_version(FunctionName="echo")
        return self.lam.put_provisioned_concurrency_config(  # type: ignore[no-any-return]
            FunctionName="echo", Qualifier="1", ProvisionedConcurrentExecutions=2)

    def url(self) -> dict[str, Any]:
        return self.lam.create_function_url_config(  # type: ignore[no-any-return]
            FunctionName="echo", AuthType="NONE",
            Cors={"AllowOrigins": ["*"], "AllowMethods": ["GET"], "MaxAge": 60})

    def layer(self) -> dict[str, Any]:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("python/shared.py", "VALUE = 1\n")
        return self.lam.publish_layer_version(  # type: ignore[no-any-return]
            LayerName="lib", Content={"ZipFile": archive.getvalue()},
            CompatibleRuntimes=["python3.12"], LicenseInfo="MIT")


def _lambda_cases() -> dict[str, Callable[[LambdaWorld], dict[str, Any]]]:
    return {
        "CreateFunction": lambda w: w.created,
        "GetFunction": lambda w: w.lam.get_function(FunctionName="echo"),
        "GetFunctionConfiguration": lambda w: w.lam.get_function_configuration(
            FunctionName=w.created["FunctionArn"]
        ),
        "ListFunctions": lambda w: w.lam.list_functions(MaxItems=1),
        "DeleteFunction": lambda w: w.lam.delete_function(FunctionName="echo"),
        "UpdateFunctionConfiguration": lambda w: w.lam.update_function_configuration(
            FunctionName="echo", Timeout=30, MemorySize=256, Description="d"
        ),
        "Invoke": lambda w: w.lam.invoke(
            FunctionName="echo", Payload=b'{"fail": true}', LogType="Tail"
        ),
        "PutFunctionEventInvokeConfig": lambda w: w.lam.put_function_event_invoke_config(
            FunctionName="echo", MaximumEventAgeInSeconds=60
        ),
        "UpdateFunctionEventInvokeConfig": lambda w: w.lam.update_function_event_invoke_config(
            FunctionName="echo", DestinationConfig={"OnSuccess": {"Destination": w.queue_arn}}
        ),
        "GetFunctionEventInvokeConfig": lambda w: w.lam.get_function_event_invoke_config(
            FunctionName="echo"
        ),
        "DeleteFunctionEventInvokeConfig": lambda w: w.lam.delete_function_event_invoke_config(
            FunctionName="echo"
        ),
        "PutFunctionConcurrency": lambda w: w.lam.put_function_concurrency(
            FunctionName="echo", ReservedConcurrentExecutions=7
        ),
        "GetFunctionConcurrency": lambda w: w.lam.get_function_concurrency(FunctionName="echo"),
        "DeleteFunctionConcurrency": lambda w: w.lam.delete_function_concurrency(
            FunctionName="echo"
        ),
        "CreateEventSourceMapping": lambda w: w.mapping,
        "GetEventSourceMapping": lambda w: w.lam.get_event_source_mapping(UUID=w.mapping["UUID"]),
        "ListEventSourceMappings": lambda w: w.lam.list_event_source_mappings(
            EventSourceArn=w.queue_arn, MaxItems=1
        ),
        "UpdateEventSourceMapping": lambda w: w.lam.update_event_source_mapping(
            UUID=w.mapping["UUID"], BatchSize=5, ScalingConfig={"MaximumConcurrency": 3}
        ),
        "DeleteEventSourceMapping": lambda w: w.lam.delete_event_source_mapping(
            UUID=w.mapping["UUID"]
        ),
        "UpdateFunctionCode": lambda w: w.lam.update_function_code(
            FunctionName="echo", ZipFile=__import__("decoupling.boto").boto.inline_code(echo)["ZipFile"], Publish=True
        ),
        "PublishVersion": lambda w: w.lam.publish_version(FunctionName="echo", Description="v"),
        "ListVersionsByFunction": lambda w: w.lam.list_versions_by_function(FunctionName="echo"),
        "CreateAlias": lambda w: w.alias(),
        "GetAlias": lambda w: (w.alias(), w.lam.get_alias(FunctionName="echo", Name="live"))[1],
        "UpdateAlias": lambda w: (w.alias(), w.lam.update_alias(
            FunctionName="echo", Name="live", Description="d"))[1],
        "DeleteAlias": lambda w: (w.alias(), w.lam.delete_alias(
            FunctionName="echo", Name="live"))[1],
        "ListAliases": lambda w: (w.alias(), w.lam.list_aliases(FunctionName="echo"))[1],
        "AddPermission": lambda w: w.permit(),
        "GetPolicy": lambda w: (w.permit(), w.lam.get_policy(FunctionName="echo"))[1],
        "RemovePermission": lambda w: (w.permit(), w.lam.remove_permission(
            FunctionName="echo", StatementId="sns"))[1],
        "PublishLayerVersion": lambda w: w.layer(),
        "GetLayerVersion": lambda w: (w.layer(), w.lam.get_layer_version(
            LayerName="lib", VersionNumber=1))[1],
        "GetLayerVersionByArn": lambda w: w.lam.get_layer_version_by_arn(
            Arn=w.layer()["LayerVersionArn"]),
        "ListLayers": lambda w: (w.layer(), w.lam.list_layers())[1],
        "ListLayerVersions": lambda w: (w.layer(), w.lam.list_layer_versions(LayerName="lib"))[1],
        "DeleteLayerVersion": lambda w: (w.layer(), w.lam.delete_layer_version(
            LayerName="lib", VersionNumber=1))[1],
        "AddLayerVersionPermission": lambda w: (w.layer(), w.lam.add_layer_version_permission(
            LayerName="lib", VersionNumber=1, StatementId="x", Action="lambda:GetLayerVersion",
            Principal="111111111111"))[1],
        "GetLayerVersionPolicy": lambda w: (w.layer(), w.lam.add_layer_version_permission(
            LayerName="lib", VersionNumber=1, StatementId="x", Action="lambda:GetLayerVersion",
            Principal="*"), w.lam.get_layer_version_policy(LayerName="lib", VersionNumber=1))[2],
        "RemoveLayerVersionPermission": lambda w: (w.layer(), w.lam.add_layer_version_permission(
            LayerName="lib", VersionNumber=1, StatementId="x", Action="lambda:GetLayerVersion",
            Principal="*"), w.lam.remove_layer_version_permission(
            LayerName="lib", VersionNumber=1, StatementId="x"))[2],
        "TagResource": lambda w: w.lam.tag_resource(
            Resource=w.created["FunctionArn"], Tags={"env": "test"}),
        "UntagResource": lambda w: w.lam.untag_resource(
            Resource=w.created["FunctionArn"], TagKeys=["team"]),
        "ListTags": lambda w: w.lam.list_tags(Resource=w.created["FunctionArn"]),
        "ListFunctionEventInvokeConfigs": lambda w: w.lam.list_function_event_invoke_configs(
            FunctionName="echo"),
        "PutProvisionedConcurrencyConfig": lambda w: w.provision(),
        "GetProvisionedConcurrencyConfig": lambda w: (w.provision(),
            w.lam.get_provisioned_concurrency_config(FunctionName="echo", Qualifier="1"))[1],
        "DeleteProvisionedConcurrencyConfig": lambda w: (w.provision(),
            w.lam.delete_provisioned_concurrency_config(FunctionName="echo", Qualifier="1"))[1],
        "ListProvisionedConcurrencyConfigs": lambda w: (w.provision(),
            w.lam.list_provisioned_concurrency_configs(FunctionName="echo"))[1],
        "GetAccountSettings": lambda w: w.lam.get_account_settings(),
        "GetFunctionRecursionConfig": lambda w: w.lam.get_function_recursion_config(
            FunctionName="echo"),
        "PutFunctionRecursionConfig": lambda w: w.lam.put_function_recursion_config(
            FunctionName="echo", RecursiveLoop="Allow"),
        "GetRuntimeManagementConfig": lambda w: w.lam.get_runtime_management_config(
            FunctionName="echo"),
        "PutRuntimeManagementConfig": lambda w: w.lam.put_runtime_management_config(
            FunctionName="echo", UpdateRuntimeOn="FunctionUpdate"),
        "InvokeAsync": lambda w: w.lam.invoke_async(FunctionName="echo", InvokeArgs=b"{}"),
        "CreateFunctionUrlConfig": lambda w: w.url(),
        "GetFunctionUrlConfig": lambda w: (w.url(), w.lam.get_function_url_config(
            FunctionName="echo"))[1],
        "UpdateFunctionUrlConfig": lambda w: (w.url(), w.lam.update_function_url_config(
            FunctionName="echo", AuthType="AWS_IAM"))[1],
        "DeleteFunctionUrlConfig": lambda w: (w.url(), w.lam.delete_function_url_config(
            FunctionName="echo"))[1],
        "ListFunctionUrlConfigs": lambda w: (w.url(), w.lam.list_function_url_configs(
            FunctionName="echo"))[1],
    }


LAMBDA_CASES = _lambda_cases()
LAMBDA_STATUS = {
    "CreateFunction": 201,
    "CreateEventSourceMapping": 202,
    "UpdateEventSourceMapping": 202,
    "DeleteEventSourceMapping": 202,
    "DeleteFunction": 204,
    "DeleteFunctionEventInvokeConfig": 204,
    "DeleteFunctionConcurrency": 204,
    "UpdateFunctionCode": 200,
    "PublishVersion": 201,
    "CreateAlias": 201,
    "DeleteAlias": 204,
    "AddPermission": 201,
    "RemovePermission": 204,
    "PublishLayerVersion": 201,
    "DeleteLayerVersion": 204,
    "AddLayerVersionPermission": 201,
    "RemoveLayerVersionPermission": 204,
    "TagResource": 204,
    "UntagResource": 204,
    "CreateFunctionUrlConfig": 201,
    "InvokeAsync": 202,
    "PutProvisionedConcurrencyConfig": 202,
    "DeleteProvisionedConcurrencyConfig": 204,
    "DeleteFunctionUrlConfig": 204,
}


@pytest.fixture
def lambda_world(loop: dc.EventLoop) -> Iterator[LambdaWorld]:
    from decoupling.boto import runtime_for

    with serve(loop):
        yield LambdaWorld(loop)
    runtime_for(loop).close()  # stops the function URLs' HTTP server


def test_every_served_lambda_operation_has_a_case() -> None:
    assert sorted(LAMBDA_CASES) == sorted(SERVICES["lambda"][0])


@pytest.mark.parametrize("operation", sorted(LAMBDA_CASES))
def test_lambda_response_matches_the_service_model(
    operation: str, lambda_world: LambdaWorld
) -> None:
    response = LAMBDA_CASES[operation](lambda_world)
    shape = lambda_world.lam.meta.service_model.operation_model(operation).output_shape
    if shape is None:
        assert set(response) == {"ResponseMetadata"}
    else:
        assert shape_problems(shape, response) == []
    assert response["ResponseMetadata"]["HTTPStatusCode"] == LAMBDA_STATUS.get(operation, 200)


def test_lambda_optional_members_appear(lambda_world: LambdaWorld) -> None:
    lam = lambda_world.lam
    invoked = lam.invoke(FunctionName="echo", Payload=b'{"fail": true}', LogType="Tail")
    assert invoked["StatusCode"] == 200
    assert invoked["FunctionError"] == "Unhandled"
    assert invoked["ExecutedVersion"] == "$LATEST"
    assert base64.b64decode(invoked["LogResult"]).decode().startswith("START RequestId: ")
    error = json.loads(invoked["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert invoked["ResponseMetadata"]["RequestId"] == error["requestId"]
    assert invoked["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == error["requestId"]
    got = lam.get_function(FunctionName="echo")
    assert got["Tags"] == {"team": "orders"}
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert got["Configuration"]["Environment"] == {"Variables": {"STAGE": "test"}}
    assert got["Configuration"]["DeadLetterConfig"] == {"TargetArn": lambda_world.queue_arn}
    config = lam.get_function_event_invoke_config(FunctionName="echo")
    assert config["DestinationConfig"] == {
        "OnSuccess": {},
        "OnFailure": {"Destination": lambda_world.queue_arn},
    }
    assert config["LastModified"] == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    event = lam.invoke(FunctionName="echo", InvocationType="Event")
    assert (event["StatusCode"], event["Payload"].read()) == (202, b"")
    assert event["ResponseMetadata"]["HTTPStatusCode"] == 202
    dry = lam.invoke(FunctionName="echo", InvocationType="DryRun")
    assert (dry["StatusCode"], dry["ResponseMetadata"]["HTTPStatusCode"]) == (204, 204)


# -- SNS ----------------------------------------------------------------------------------------


class SnsWorld:
    def __init__(self, loop: dc.EventLoop) -> None:
        self.loop = loop
        self.sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        sqs.create_queue(QueueName="sns-target")
        self.queue_arn = loop.arn("sqs", "sns-target")
        self.topic = self.sns.create_topic(Name="events", Tags=[{"Key": "team", "Value": "a"}])[
            "TopicArn"
        ]
        self.sns.create_topic(Name="more")
        self.sub = self.sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=self.queue_arn,
            Attributes={"FilterPolicy": '{"kind": ["book"]}', "RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.pending = self.sns.subscribe(
            TopicArn=self.topic, Protocol="email", Endpoint="ops@example.com"
        )
        self.token = dc.Topic(loop, "events").outbox[0].token
        self.app = self.sns.create_platform_application(
            Name="phone-app", Platform="GCM", Attributes={"PlatformCredential": "key"}
        )["PlatformApplicationArn"]
        self.endpoint = self.sns.create_platform_endpoint(
            PlatformApplicationArn=self.app, Token="device-1", CustomUserData="user-1"
        )["EndpointArn"]
        self.sns.create_sms_sandbox_phone_number(PhoneNumber="+15555550100")
        self.otp = SmsAccount.of(loop).outbox[-1].text.rsplit(" ", 1)[-1]
        SmsAccount.of(loop).opt_out("+15555550199")


def _sns_cases() -> dict[str, Callable[[SnsWorld], dict[str, Any]]]:
    return {
        "CreateTopic": lambda w: w.sns.create_topic(Name="new", Attributes={"DisplayName": "N"}),
        "DeleteTopic": lambda w: w.sns.delete_topic(TopicArn=w.topic),
        "ListTopics": lambda w: w.sns.list_topics(),
        "GetTopicAttributes": lambda w: w.sns.get_topic_attributes(TopicArn=w.topic),
        "SetTopicAttributes": lambda w: w.sns.set_topic_attributes(
            TopicArn=w.topic, AttributeName="DisplayName", AttributeValue="Events"
        ),
        "Subscribe": lambda w: w.pending,
        "ConfirmSubscription": lambda w: w.sns.confirm_subscription(
            TopicArn=w.topic, Token=w.token
        ),
        "Unsubscribe": lambda w: w.sns.unsubscribe(SubscriptionArn=w.sub),
        "ListSubscriptions": lambda w: w.sns.list_subscriptions(),
        "ListSubscriptionsByTopic": lambda w: w.sns.list_subscriptions_by_topic(TopicArn=w.topic),
        "GetSubscriptionAttributes": lambda w: w.sns.get_subscription_attributes(
            SubscriptionArn=w.sub
        ),
        "SetSubscriptionAttributes": lambda w: w.sns.set_subscription_attributes(
            SubscriptionArn=w.sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
        ),
        "Publish": lambda w: w.sns.publish(
            TopicArn=w.topic,
            Message="hello",
            Subject="greeting",
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": "book"},
                "blob": {"DataType": "Binary", "BinaryValue": b"\x00"},
            },
        ),
        "PublishBatch": lambda w: w.sns.publish_batch(
            TopicArn=w.topic,
            PublishBatchRequestEntries=[
                {"Id": "ok", "Message": "m"},
                {"Id": "bad", "Message": ""},
            ],
        ),
        "TagResource": lambda w: w.sns.tag_resource(
            ResourceArn=w.topic, Tags=[{"Key": "k", "Value": "v"}]
        ),
        "UntagResource": lambda w: w.sns.untag_resource(ResourceArn=w.topic, TagKeys=["team"]),
        "ListTagsForResource": lambda w: w.sns.list_tags_for_resource(ResourceArn=w.topic),
        "AddPermission": lambda w: w.sns.add_permission(
            TopicArn=w.topic, Label="partner", AWSAccountId=["111122223333"],
            ActionName=["Publish"],
        ),
        "RemovePermission": lambda w: w.sns.remove_permission(TopicArn=w.topic, Label="partner"),
        "PutDataProtectionPolicy": lambda w: w.sns.put_data_protection_policy(
            ResourceArn=w.topic, DataProtectionPolicy='{"Name": "p", "Statement": []}'
        ),
        "GetDataProtectionPolicy": lambda w: w.sns.get_data_protection_policy(
            ResourceArn=w.topic
        ),
        "CreatePlatformApplication": lambda w: w.sns.create_platform_application(
            Name="other-app", Platform="APNS",
            Attributes={"PlatformCredential": "key", "PlatformPrincipal": "cert"},
        ),
        "GetPlatformApplicationAttributes": lambda w: w.sns.get_platform_application_attributes(
            PlatformApplicationArn=w.app
        ),
        "SetPlatformApplicationAttributes": lambda w: w.sns.set_platform_application_attributes(
            PlatformApplicationArn=w.app, Attributes={"SuccessFeedbackSampleRate": "50"}
        ),
        "DeletePlatformApplication": lambda w: w.sns.delete_platform_application(
            PlatformApplicationArn=w.app
        ),
        "ListPlatformApplications": lambda w: w.sns.list_platform_applications(),
        "CreatePlatformEndpoint": lambda w: w.sns.create_platform_endpoint(
            PlatformApplicationArn=w.app, Token="device-2"
        ),
        "GetEndpointAttributes": lambda w: w.sns.get_endpoint_attributes(EndpointArn=w.endpoint),
        "SetEndpointAttributes": lambda w: w.sns.set_endpoint_attributes(
            EndpointArn=w.endpoint, Attributes={"Enabled": "false"}
        ),
        "DeleteEndpoint": lambda w: w.sns.delete_endpoint(EndpointArn=w.endpoint),
        "ListEndpointsByPlatformApplication":
            lambda w: w.sns.list_endpoints_by_platform_application(PlatformApplicationArn=w.app),
        "SetSMSAttributes": lambda w: w.sns.set_sms_attributes(
            attributes={"DefaultSMSType": "Transactional"}
        ),
        "GetSMSAttributes": lambda w: w.sns.get_sms_attributes(),
        "CheckIfPhoneNumberIsOptedOut": lambda w: w.sns.check_if_phone_number_is_opted_out(
            phoneNumber="+15555550199"
        ),
        "ListPhoneNumbersOptedOut": lambda w: w.sns.list_phone_numbers_opted_out(),
        "OptInPhoneNumber": lambda w: w.sns.opt_in_phone_number(phoneNumber="+15555550199"),
        "CreateSMSSandboxPhoneNumber": lambda w: w.sns.create_sms_sandbox_phone_number(
            PhoneNumber="+15555550101", LanguageCode="en-GB"
        ),
        "VerifySMSSandboxPhoneNumber": lambda w: w.sns.verify_sms_sandbox_phone_number(
            PhoneNumber="+15555550100", OneTimePassword=w.otp
        ),
        "DeleteSMSSandboxPhoneNumber": lambda w: w.sns.delete_sms_sandbox_phone_number(
            PhoneNumber="+15555550100"
        ),
        "ListSMSSandboxPhoneNumbers": lambda w: w.sns.list_sms_sandbox_phone_numbers(),
        "GetSMSSandboxAccountStatus": lambda w: w.sns.get_sms_sandbox_account_status(),
        "ListOriginationNumbers": lambda w: w.sns.list_origination_numbers(),
    }


SNS_CASES = _sns_cases()


@pytest.fixture
def sns_world(loop: dc.EventLoop) -> Iterator[SnsWorld]:
    with serve(loop):
        yield SnsWorld(loop)


def test_every_served_sns_operation_has_a_case() -> None:
    assert sorted(SNS_CASES) == sorted(SERVICES["sns"][0])


@pytest.mark.parametrize("operation", sorted(SNS_CASES))
def test_sns_response_matches_the_service_model(operation: str, sns_world: SnsWorld) -> None:
    response = SNS_CASES[operation](sns_world)
    shape = sns_world.sns.meta.service_model.operation_model(operation).output_shape
    if shape is None:
        assert set(response) == {"ResponseMetadata"}
    else:
        assert shape_problems(shape, response) == []
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sns_fan_out_to_a_queue_with_a_filter_policy(sns_world: SnsWorld) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="sns-target")["QueueUrl"]
    sns_world.sns.publish(
        TopicArn=sns_world.topic,
        Message="for books",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "book"}},
    )
    sns_world.sns.publish(
        TopicArn=sns_world.topic,
        Message="for toys",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "toy"}},
    )
    (message,) = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert message["Body"] == "for books"  # raw delivery: the body itself, no envelope
    assert message["MessageAttributes"] == {"kind": {"DataType": "String", "StringValue": "book"}}
    listed = sns_world.sns.list_subscriptions_by_topic(TopicArn=sns_world.topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [sns_world.sub, "PendingConfirmation"]
    assert sns_world.pending["SubscriptionArn"] == "pending confirmation"
