"""Lambda through the boto3 bridge: code from S3 and images, UpdateFunctionCode, versions,
aliases, layers, policies, tags and the model's validation."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.boto import register_image, serve  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def _zip(files: dict[str, str]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return archive.getvalue()


def _code(value: int) -> bytes:
    return _zip({"app.py": f"def handler(event, context):\n    return {{'code': {value}}}\n"})


@pytest.fixture
def lam(loop: dc.EventLoop) -> Iterator[Any]:
    with serve(loop):
        yield boto3.client("lambda")


def _create(lam: Any, name: str = "f", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE,
                              "Handler": "app.handler", "Code": {"ZipFile": _code(1)}}
    params.update(extra)
    return lam.create_function(**params)  # type: ignore[no-any-return]


def _payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_code_from_an_s3_object_of_the_loop(lam: Any, loop: dc.EventLoop) -> None:
    bucket = dc.Bucket(loop, "artifacts")
    bucket.put("builds/f.zip", _code(7))
    made = _create(lam, Code={"S3Bucket": "artifacts", "S3Key": "builds/f.zip"})
    assert made["CodeSize"] == len(_code(7))
    assert _payload(lam.invoke(FunctionName="f")) == {"code": 7}


@pytest.mark.parametrize(("code", "message"), [
    ({"S3Bucket": "nowhere", "S3Key": "f.zip"},
     "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The "
     "specified bucket does not exist"),
    ({"S3Bucket": "artifacts", "S3Key": "missing.zip"},
     "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The "
     "specified key does not exist."),
])
def test_a_missing_s3_object_is_named(lam: Any, loop: dc.EventLoop, code: dict[str, str],
                                      message: str) -> None:
    dc.Bucket(loop, "artifacts")
    with pytest.raises(ClientError) as info:
        _create(lam, Code=code)
    assert info.value.response["Error"] == {"Code": "InvalidParameterValueException",
                                            "Message": message}
    assert lam.list_functions()["Functions"] == []


def test_an_image_runs_its_registered_handler(lam: Any, loop: dc.EventLoop) -> None:
    uri = "000000000000.dkr.ecr.us-east-1.amazonaws.com/orders:prod"
    register_image(loop, uri, lambda event, context: {"image": event["n"]})
    made = lam.create_function(FunctionName="img", Role=ROLE, PackageType="Image",
                               Code={"ImageUri": uri})
    assert made["PackageType"] == "Image" and "Handler" not in made
    assert _payload(lam.invoke(FunctionName="img", Payload=b'{"n": 3}')) == {"image": 3}
    got = lam.get_function(FunctionName="img")["Code"]
    assert (got["RepositoryType"], got["ImageUri"]) == ("ECR", uri)
    lam.create_function(FunctionName="unknown", Role=ROLE, Code={"ImageUri": uri + "x"})
    failed = lam.invoke(FunctionName="unknown")
    assert failed["FunctionError"] == "Unhandled"
    assert _payload(failed)["errorType"] == "Runtime.InvalidEntrypoint"


def test_update_code_publish_and_qualified_invokes(lam: Any) -> None:
    made = _create(lam, Publish=True)
    # CreateFunction answers the published version under the function's own ARN
    assert (made["Version"], made["FunctionArn"]) == (
        "1", "arn:aws:lambda:us-east-1:000000000000:function:f")
    updated = lam.update_function_code(FunctionName="f", ZipFile=_code(2))
    assert updated["CodeSha256"] != made["CodeSha256"]
    assert _payload(lam.invoke(FunctionName="f")) == {"code": 2}
    old = lam.invoke(FunctionName="f", Qualifier="1")
    assert (_payload(old), old["ExecutedVersion"]) == ({"code": 1}, "1")
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="f", CodeSha256=made["CodeSha256"])
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="f", RevisionId="stale")
    assert info.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert lam.publish_version(FunctionName="f", CodeSha256=updated["CodeSha256"])["Version"] == "2"
    versions = lam.list_versions_by_function(FunctionName="f")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    pinned = lam.invoke(FunctionName=arn)
    assert (_payload(pinned), pinned["ExecutedVersion"]) == ({"code": 1}, "1")
    lam.delete_alias(FunctionName="f", Name="live")
    lam.delete_function(FunctionName="f", Qualifier="1")
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="f", Qualifier="1")
    assert info.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:1"}
    assert _payload(lam.invoke(FunctionName="f", Qualifier="2")) == {"code": 2}


def test_a_function_imports_from_its_layer(lam: Any) -> None:
    layer = lam.publish_layer_version(
        LayerName="shared", Content={"ZipFile": _zip({"python/dc_boto_layer.py": "X = 5\n"})},
        CompatibleRuntimes=["python3.12"], LicenseInfo="MIT")
    assert layer["LayerVersionArn"] == "arn:aws:lambda:us-east-1:000000000000:layer:shared:1"
    code = _zip({"app.py": "import dc_boto_layer\n"
                           "def handler(event, context):\n    return dc_boto_layer.X\n"})
    made = _create(lam, Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
    assert made["Layers"] == [{"Arn": layer["LayerVersionArn"],
                               "CodeSize": layer["Content"]["CodeSize"]}]
    assert _payload(lam.invoke(FunctionName="f")) == 5
    unknown = "arn:aws:lambda:us-east-1:000000000000:layer:shared:9"
    with pytest.raises(ClientError) as info:
        _create(lam, "g", Layers=[unknown])
    assert info.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"One or more LayerVersion does not exist ['{unknown}']"}
    listed = lam.list_layers()["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in listed] == [
        ("shared", 1)]


def test_policy_tags_and_settings(lam: Any) -> None:
    made = _create(lam, TracingConfig={"Mode": "Active"}, EphemeralStorage={"Size": 1024},
                   Timeout=1800, MemorySize=32768)
    assert made["TracingConfig"] == {"Mode": "Active"}
    assert (made["EphemeralStorage"], made["Timeout"], made["MemorySize"]) == (
        {"Size": 1024}, 1800, 32768)
    statement = json.loads(lam.add_permission(
        FunctionName="f", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads",
        SourceAccount="000000000000")["Statement"])
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
                                      "StringEquals": {"AWS:SourceAccount": "000000000000"}}
    policy = json.loads(lam.get_policy(FunctionName="f")["Policy"])
    assert (policy["Id"], policy["Statement"]) == ("default", [statement])
    lam.tag_resource(Resource=made["FunctionArn"], Tags={"team": "orders", "env": "dev"})
    lam.untag_resource(Resource=made["FunctionArn"], TagKeys=["env"])
    assert lam.list_tags(Resource=made["FunctionArn"])["Tags"] == {"team": "orders"}


@pytest.mark.parametrize(("extra", "code", "message"), [
    ({"Architectures": ["foo"]}, "ValidationException",
     "1 validation error detected: Value '['foo']' at 'architectures' failed to satisfy "
     "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
     "[x86_64, arm64], Member must not be null]"),
    ({"EphemeralStorage": {"Size": 3000000}}, "ValidationException",
     "1 validation error detected: Value '3000000' at 'ephemeralStorage.size' failed to "
     "satisfy constraint: Member must have value less than or equal to 10240"),
    ({"Timeout": 1801}, "ValidationException",
     "1 validation error detected: Value 1801 at 'timeout' failed to satisfy constraint: "
     "Member must have value between 1 and 1800 (seconds)"),
    ({"Role": "not-a-role"}, "ValidationException",
     "1 validation error detected: Value 'not-a-role' at 'role' failed to satisfy "
     "constraint: Member must satisfy regular expression pattern: "
     r"arn:(aws[a-zA-Z-]*)?:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+"),
    ({"Role": "arn:aws:iam::111111111111:role/x"}, "AccessDeniedException",
     "Cross-account pass role is not allowed."),
])
def test_model_validation_codes(lam: Any, extra: dict[str, Any], code: str,
                                message: str) -> None:
    with pytest.raises(ClientError) as info:
        _create(lam, **extra)
    assert info.value.response["Error"] == {"Code": code, "Message": message}
    assert lam.list_functions()["Functions"] == []


def test_a_url_made_through_the_bridge_answers_http(lam: Any, loop: dc.EventLoop) -> None:
    import urllib.request

    from decoupling.boto import runtime_for

    _create(lam)
    made = lam.create_function_url_config(FunctionName="f", AuthType="NONE")
    assert made["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:f"
    try:
        with urllib.request.urlopen(made["FunctionUrl"], timeout=10) as response:
            assert json.loads(response.read()) == {"code": 1}
        assert lam.get_function_url_config(FunctionName="f")["FunctionUrl"] == made["FunctionUrl"]
        lam.delete_function_url_config(FunctionName="f")
        with pytest.raises(ClientError) as info:
            lam.get_function_url_config(FunctionName="f")
        assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        runtime_for(loop).close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"MaximumRetryAttempts": 3},
         "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy "
         "constraint: Member must have value less than or equal to 2"),
        ({"MaximumEventAgeInSeconds": 21_601},
         "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to "
         "satisfy constraint: Member must have value less than or equal to 21600"),
        ({"DestinationConfig": {"OnSuccess": {"Destination": "invalid"}}},
         "1 validation error detected: Value 'invalid' at 'destinationConfig.onSuccess."
         "destination' failed to satisfy constraint: Member must satisfy regular expression "
         "pattern: "),
        ({"DestinationConfig": {"OnFailure": {"Destination": "invalid"}}},
         "1 validation error detected: Value 'invalid' at 'destinationConfig.onFailure."
         "destination' failed to satisfy constraint: Member must satisfy regular expression "
         "pattern: "),
    ],
)
def test_event_invoke_config_out_of_model_is_a_validation_exception(
    lam: Any, arguments: dict[str, Any], message: str
) -> None:
    _create(lam)
    with pytest.raises(ClientError) as caught:
        lam.put_function_event_invoke_config(FunctionName="f", **arguments)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(message)
    with pytest.raises(ClientError) as missing:  # nothing was configured
        lam.get_function_event_invoke_config(FunctionName="f")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_latest_qualifier_gives_the_qualified_arn(lam: Any) -> None:
    _create(lam)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert lam.get_function_configuration(FunctionName="f")["FunctionArn"] == arn
    assert lam.get_function(FunctionName="f")["Configuration"]["FunctionArn"] == arn
    latest = lam.get_function_configuration(FunctionName="f", Qualifier="$LATEST")
    assert latest["FunctionArn"] == f"{arn}:$LATEST"
    assert latest["Version"] == "$LATEST"
    got = lam.get_function(FunctionName=f"{arn}:$LATEST")["Configuration"]
    assert got["FunctionArn"] == f"{arn}:$LATEST"


def test_an_event_source_mapping_carries_tags(lam: Any, loop: dc.EventLoop) -> None:
    queue = dc.Queue(loop, "jobs")
    _create(lam)
    made = lam.create_event_source_mapping(EventSourceArn=queue.arn, FunctionName="f",
                                           Tags={"team": "a"})
    arn = made["EventSourceMappingArn"]
    assert arn == f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{made['UUID']}"
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"foo": "bar", "team": "b"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "b", "foo": "bar"}
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"foo": "bar"}
    assert lam.list_tags(Resource="arn:aws:lambda:us-east-1:000000000000:function:f")[
        "Tags"] == {}
    lam.delete_event_source_mapping(UUID=made["UUID"])
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=arn)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "The resource you requested does not exist."


def test_an_image_function_reports_its_digest_and_no_code_size(lam: Any) -> None:
    repo = "000000000000.dkr.ecr.us-east-1.amazonaws.com/orders"
    digest = "ab" * 32
    made = lam.create_function(FunctionName="img", Role=ROLE, PackageType="Image",
                               Code={"ImageUri": f"{repo}@sha256:{digest}"})
    assert (made["CodeSize"], made["CodeSha256"]) == (0, digest)
    assert lam.get_function(FunctionName="img")["Code"] == {
        "RepositoryType": "ECR", "ImageUri": f"{repo}@sha256:{digest}",
        "ResolvedImageUri": f"{repo}@sha256:{digest}"}
    lam.update_function_code(FunctionName="img", ImageUri=f"{repo}:v2")
    tagged = hashlib.sha256(f"{repo}:v2".encode()).hexdigest()
    got = lam.get_function(FunctionName="img")
    assert (got["Configuration"]["CodeSize"], got["Configuration"]["CodeSha256"]) == (0, tagged)
    assert got["Code"]["ResolvedImageUri"] == f"{repo}@sha256:{tagged}"


def test_arns_name_the_partition_of_the_region(loop: dc.EventLoop) -> None:
    with serve(loop):
        cn = boto3.client("lambda", region_name="cn-northwest-1")
        iso = boto3.client("lambda", region_name="us-isob-east-1")
        sqs = boto3.client("sqs", region_name="cn-northwest-1")
    made = _create(cn)
    assert made["FunctionArn"] == "arn:aws-cn:lambda:cn-northwest-1:000000000000:function:f"
    assert _create(iso)["FunctionArn"] == (
        "arn:aws-iso-b:lambda:us-isob-east-1:000000000000:function:f")
    assert _payload(cn.invoke(FunctionName=made["FunctionArn"])) == {"code": 1}
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    assert dlq_arn == "arn:aws-cn:sqs:cn-northwest-1:000000000000:dlq"
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    jobs = sqs.create_queue(QueueName="jobs", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["RedrivePolicy"])
    assert json.loads(got["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    china = dc.EventLoop(clock=dc.ManualClock(), region="cn-north-1")
    queue = dc.Queue(china, "q")
    assert queue.arn == "arn:aws-cn:sqs:cn-north-1:000000000000:q"
    assert dc.Topic(china, "t").subscribe(queue.arn).protocol == "sqs"
    assert dc.EventLoop(clock=dc.ManualClock(), region="us-gov-west-1").partition == "aws-us-gov"
    assert loop.partition == "aws"
