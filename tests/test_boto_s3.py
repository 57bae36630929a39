"""S3 through the boto3 bridge: real boto3 clients answered by in-process buckets."""

from __future__ import annotations

import hashlib
import io
import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

import decoupling as dc
from decoupling.boto import UnservedService, attach, serve, served_loop

MiB = 1024 * 1024


@pytest.fixture
def loop() -> dc.EventLoop:
    return dc.EventLoop(clock=dc.ManualClock())


@pytest.fixture
def s3(loop: dc.EventLoop) -> Any:
    with serve(loop):
        client = boto3.client("s3")
    client.create_bucket(Bucket="photos")
    return client


def _md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_put_get_head_round_trip(loop: dc.EventLoop, s3: Any) -> None:
    loop.clock.advance(1.5)
    put = s3.put_object(
        Bucket="photos", Key="cats/tom.jpg", Body=b"meow" * 10, ContentType="image/jpeg",
        Metadata={"Owner": "ann"},
    )
    assert put["ETag"] == _md5(b"meow" * 10)
    assert "VersionId" not in put
    got = s3.get_object(Bucket="photos", Key="cats/tom.jpg")
    assert got["Body"].read() == b"meow" * 10
    assert got["ContentLength"] == 40
    assert got["ContentType"] == "image/jpeg"
    assert got["ETag"] == _md5(b"meow" * 10)
    assert got["Metadata"] == {"owner": "ann"}
    assert got["AcceptRanges"] == "bytes"
    assert got["LastModified"] == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-owner"] == "ann"
    head = s3.head_object(Bucket="photos", Key="cats/tom.jpg")
    assert (head["ContentLength"], head["ETag"], head["Metadata"]) == (
        40, _md5(b"meow" * 10), {"owner": "ann"}
    )
    # The bridge's object is the library's object.
    bucket = loop._lookup("s3", "photos")
    assert isinstance(bucket, dc.Bucket)
    assert bucket.get("cats/tom.jpg").body == b"meow" * 10
    # A str body is sent as its UTF-8 bytes; a stream is read to its end.
    s3.put_object(Bucket="photos", Key="s", Body="héllo")
    s3.put_object(Bucket="photos", Key="f", Body=io.BytesIO(b"from a stream"))
    assert s3.get_object(Bucket="photos", Key="s")["Body"].read() == "héllo".encode()
    assert s3.get_object(Bucket="photos", Key="f")["Body"].read() == b"from a stream"


def test_ranges_and_streaming_body(s3: Any) -> None:
    data = bytes(range(256)) * 4
    s3.put_object(Bucket="photos", Key="k", Body=data)
    part = s3.get_object(Bucket="photos", Key="k", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (part["ContentRange"], part["ContentLength"]) == ("bytes 10-19/1024", 10)
    assert part["Body"].read() == data[10:20]
    tail = s3.get_object(Bucket="photos", Key="k", Range="bytes=-5")
    assert tail["Body"].read() == data[-5:]
    body = s3.get_object(Bucket="photos", Key="k")["Body"]
    assert body.read(100) == data[:100]
    assert b"".join(body.iter_chunks(300)) == data[100:]
    assert body.read() == b""
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket="photos", Key="k", Range="bytes=5000-")
    assert _code(error) == ("InvalidRange", 416)


def test_errors_are_s3s(s3: Any) -> None:
    with pytest.raises(s3.exceptions.NoSuchKey) as missing:
        s3.get_object(Bucket="photos", Key="nope")
    assert _code(missing) == ("NoSuchKey", 404)  # type: ignore[arg-type]
    with pytest.raises(s3.exceptions.NoSuchBucket) as no_bucket:
        s3.put_object(Bucket="nobucket", Key="k", Body=b"")
    assert _code(no_bucket) == ("NoSuchBucket", 404)  # type: ignore[arg-type]
    # HEAD answers carry no body: botocore reports the status, as against S3.
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket="photos", Key="nope")
    assert _code(head) == ("404", 404)
    assert head.value.response["Error"]["Message"] == "Not Found"
    with pytest.raises(ClientError) as head_bucket:
        s3.head_bucket(Bucket="nobucket")
    assert _code(head_bucket) == ("404", 404)
    s3.put_object(Bucket="photos", Key="k", Body=b"x")
    with pytest.raises(ClientError) as not_empty:
        s3.delete_bucket(Bucket="photos")
    assert _code(not_empty) == ("BucketNotEmpty", 409)
    with pytest.raises(ClientError) as bad_name:
        s3.create_bucket(Bucket="ab")
    assert _code(bad_name) == ("InvalidBucketName", 400)
    with pytest.raises(ClientError) as precondition:
        s3.put_object(Bucket="photos", Key="k", Body=b"y", IfNoneMatch="*")
    assert _code(precondition) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket="photos", Key="k")["Body"].read() == b"x"  # unchanged


def test_buckets(loop: dc.EventLoop, s3: Any) -> None:
    assert s3.head_bucket(Bucket="photos")["BucketRegion"] == "us-east-1"
    # us-east-1 answers 200 to re-creating a bucket you own (S3's legacy behaviour).
    assert s3.create_bucket(Bucket="photos")["Location"] == "/photos"
    loop.clock.advance(2)
    s3.create_bucket(Bucket="archive")
    listed = s3.list_buckets()
    assert [(b["Name"], b["CreationDate"]) for b in listed["Buckets"]] == [
        ("archive", datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)),
        ("photos", datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)),
    ]
    assert len(listed["Owner"]["ID"]) == 64
    assert s3.get_bucket_location(Bucket="archive")["LocationConstraint"] is None
    assert s3.delete_bucket(Bucket="archive")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["photos"]


def test_other_regions_need_their_location_constraint() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock(), region="eu-west-1")
    with serve(loop):
        s3 = boto3.client("s3")
    with pytest.raises(ClientError) as unspecified:
        s3.create_bucket(Bucket="data")
    assert _code(unspecified) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as other:
        s3.create_bucket(
            Bucket="data", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
    assert "us-west-2 location constraint is incompatible" in str(other.value)
    made = s3.create_bucket(
        Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert made["Location"] == "http://data.s3.amazonaws.com/"
    with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(
            Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert s3.get_bucket_location(Bucket="data")["LocationConstraint"] == "eu-west-1"


def test_list_objects_v2_pages_prefixes_and_encodes(s3: Any) -> None:
    keys = ["a/1", "a/2", "b/1", "c", "d e+f", "é"]
    for key in keys:
        s3.put_object(Bucket="photos", Key=key, Body=key.encode())
    whole = s3.list_objects_v2(Bucket="photos")
    assert [o["Key"] for o in whole["Contents"]] == keys  # decoded again by botocore
    assert (whole["KeyCount"], whole["IsTruncated"], whole["Prefix"]) == (6, False, "")
    assert whole["Contents"][0]["Size"] == 3 and whole["Contents"][0]["ETag"] == _md5(b"a/1")
    rolled = s3.list_objects_v2(Bucket="photos", Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in rolled["Contents"]] == ["c", "d e+f", "é"]
    assert s3.list_objects_v2(Bucket="photos", Prefix="a/")["KeyCount"] == 2
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="photos", StartAfter="c")["Contents"]] \
        == ["d e+f", "é"]
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket="photos", Delimiter="/", PaginationConfig={"PageSize": 2}
        )
    )
    assert [
        ([o["Key"] for o in p.get("Contents", [])], [c["Prefix"] for c in p.get("CommonPrefixes", [])])
        for p in pages
    ] == [([], ["a/", "b/"]), (["c", "d e+f"], []), (["é"], [])]
    with pytest.raises(ClientError) as bad:
        s3.list_objects_v2(Bucket="photos", ContinuationToken="bogus")
    assert _code(bad) == ("InvalidArgument", 400)


def test_list_objects_v1_markers(s3: Any) -> None:
    for key in ["a/1", "a/2", "b", "c/1", "d"]:
        s3.put_object(Bucket="photos", Key=key, Body=b"")
    first = s3.list_objects(Bucket="photos", Delimiter="/", MaxKeys=2)
    assert ([c["Prefix"] for c in first["CommonPrefixes"]], [o["Key"] for o in first["Contents"]]) \
        == (["a/"], ["b"])
    assert (first["IsTruncated"], first["NextMarker"]) == (True, "b")
    pages = list(
        s3.get_paginator("list_objects").paginate(
            Bucket="photos", Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    seen = [o["Key"] for p in pages for o in p.get("Contents", [])] + [
        c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])
    ]
    assert sorted(seen) == ["a/", "b", "c/", "d"]
    plain = s3.list_objects(Bucket="photos", Marker="b")
    assert [o["Key"] for o in plain["Contents"]] == ["c/1", "d"]
    assert "Owner" in plain["Contents"][0]


def test_copy_object(loop: dc.EventLoop, s3: Any) -> None:
    s3.create_bucket(Bucket="backup")
    s3.put_object(Bucket="photos", Key="src", Body=b"data", ContentType="text/plain",
                  Metadata={"a": "1"}, Tagging="team=x")
    copied = s3.copy_object(Bucket="backup", Key="dst", CopySource={"Bucket": "photos",
                                                                    "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == _md5(b"data")
    got = s3.get_object(Bucket="backup", Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"data", "text/plain", {"a": "1"}
    )
    assert s3.get_object_tagging(Bucket="backup", Key="dst")["TagSet"] == [
        {"Key": "team", "Value": "x"}
    ]
    s3.copy_object(Bucket="photos", Key="src", CopySource="photos/src",
                   MetadataDirective="REPLACE", Metadata={"b": "2"})
    head = s3.head_object(Bucket="photos", Key="src")
    assert (head["Metadata"], head["ContentType"]) == ({"b": "2"}, "binary/octet-stream")
    with pytest.raises(ClientError) as onto_itself:
        s3.copy_object(Bucket="photos", Key="src", CopySource="photos/src")
    assert _code(onto_itself) == ("InvalidRequest", 400)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.copy_object(Bucket="photos", Key="x", CopySource="photos/missing")


def test_delete_objects(s3: Any) -> None:
    for key in ("a", "b"):
        s3.put_object(Bucket="photos", Key=key, Body=b"")
    answer = s3.delete_objects(
        Bucket="photos", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never"}]}
    )
    assert answer["Deleted"] == [{"Key": "a"}, {"Key": "b"}, {"Key": "never"}]
    assert "Errors" not in answer
    assert s3.list_objects_v2(Bucket="photos")["KeyCount"] == 0
    s3.put_object(Bucket="photos", Key="c", Body=b"")
    quiet = s3.delete_objects(Bucket="photos", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.delete_object(Bucket="photos", Key="c")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_versioning_and_versions(loop: dc.EventLoop, s3: Any) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket="photos")
    s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="photos")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="photos", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="photos", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="photos", Key="k", VersionId=v1)["Body"].read() == b"one"
    gone = s3.delete_object(Bucket="photos", Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="photos", Key="k")
    listed = s3.list_object_versions(Bucket="photos")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        (v2, False), (v1, False)
    ]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        (gone["VersionId"], True)
    ]
    s3.delete_object(Bucket="photos", Key="k", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket="photos", Key="k")["Body"].read() == b"two"


def test_multipart_calls(s3: Any) -> None:
    upload = s3.create_multipart_upload(Bucket="photos", Key="big", ContentType="video/mp4",
                                        Metadata={"m": "v"})
    uid = upload["UploadId"]
    first = b"a" * (5 * MiB)
    e1 = s3.upload_part(Bucket="photos", Key="big", UploadId=uid, PartNumber=1, Body=first)["ETag"]
    e2 = s3.upload_part(Bucket="photos", Key="big", UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    assert (e1, e2) == (_md5(first), _md5(b"tail"))
    parts = s3.list_parts(Bucket="photos", Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts["Parts"]] == [
        (1, 5 * MiB, e1), (2, 4, e2)
    ]
    uploads = s3.list_multipart_uploads(Bucket="photos")
    assert [(u["Key"], u["UploadId"]) for u in uploads["Uploads"]] == [("big", uid)]
    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(
            Bucket="photos", Key="big", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]},
        )
    assert _code(wrong) == ("InvalidPart", 400)
    done = s3.complete_multipart_upload(
        Bucket="photos", Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    joined = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(b"tail").digest()).hexdigest()
    assert done["ETag"] == f'"{joined}-2"'
    assert done["Location"] == "https://photos.s3.us-east-1.amazonaws.com/big"
    got = s3.get_object(Bucket="photos", Key="big", Range="bytes=5242878-5242881")
    assert got["Body"].read() == b"aata"
    assert (got["ContentType"], got["Metadata"]) == ("video/mp4", {"m": "v"})
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="photos")
    other = s3.create_multipart_upload(Bucket="photos", Key="x")["UploadId"]
    assert s3.abort_multipart_upload(Bucket="photos", Key="x", UploadId=other)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.upload_part(Bucket="photos", Key="x", UploadId=other, PartNumber=1, Body=b"")


def test_upload_and_download_files_with_s3transfer(s3: Any, tmp_path: Path) -> None:
    data = bytes(range(256)) * (48 * 1024 + 7)  # ~12 MiB: multipart, in threads
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=4)
    progress: list[int] = []
    s3.upload_file(str(source), "photos", "blob", Config=config, Callback=progress.append)
    assert sum(progress) == len(data)
    head = s3.head_object(Bucket="photos", Key="blob")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')
    target = tmp_path / "out.bin"
    s3.download_file("photos", "blob", str(target), Config=config)
    assert target.read_bytes() == data
    out = io.BytesIO()
    s3.download_fileobj("photos", "blob", out)
    assert out.getvalue() == data
    s3.upload_fileobj(io.BytesIO(b"small"), "photos", "small")
    assert s3.get_object(Bucket="photos", Key="small")["Body"].read() == b"small"


def test_tagging(s3: Any) -> None:
    s3.put_object(Bucket="photos", Key="k", Body=b"", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}
    ]
    assert s3.get_object(Bucket="photos", Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket="photos", Key="k",
                          Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == [
        {"Key": "c", "Value": "3"}
    ]
    eleven = [{"Key": f"k{i}", "Value": ""} for i in range(11)]
    with pytest.raises(ClientError) as too_many:
        s3.put_object_tagging(Bucket="photos", Key="k", Tagging={"TagSet": eleven})
    assert _code(too_many) == ("BadRequest", 400)
    with pytest.raises(ClientError) as long_key:
        s3.put_object_tagging(Bucket="photos", Key="k",
                              Tagging={"TagSet": [{"Key": "x" * 129, "Value": ""}]})
    assert _code(long_key) == ("InvalidTag", 400)
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == [
        {"Key": "c", "Value": "3"}
    ]
    assert s3.delete_object_tagging(Bucket="photos", Key="k")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket="photos", Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as none:
        s3.get_bucket_tagging(Bucket="photos")
    assert _code(none) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket="photos", Tagging={"TagSet": [{"Key": "env", "Value": "ci"}]})
    assert s3.get_bucket_tagging(Bucket="photos")["TagSet"] == [{"Key": "env", "Value": "ci"}]
    s3.delete_bucket_tagging(Bucket="photos")
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket="photos")


def test_notifications_to_a_queue(loop: dc.EventLoop, s3: Any) -> None:
    queue = dc.Queue(loop, "uploads")
    config = {
        "QueueConfigurations": [{
            "Id": "new-jpegs", "QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
        }]
    }
    s3.put_bucket_notification_configuration(Bucket="photos", NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket="photos")
    assert got["QueueConfigurations"][0]["QueueArn"] == queue.arn
    assert got["QueueConfigurations"][0]["Id"] == "new-jpegs"
    test_event = json.loads(queue.receive()[0].body)
    assert test_event["Event"] == "s3:TestEvent"
    s3.put_object(Bucket="photos", Key="cat one.jpg", Body=b"12345")
    s3.put_object(Bucket="photos", Key="notes.txt", Body=b"")
    [message] = queue.receive(max_messages=10)
    record = json.loads(message.body)["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "cat+one.jpg"
    assert record["s3"]["object"]["size"] == 5


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_addressing_style_does_not_matter(loop: dc.EventLoop, style: str) -> None:
    with serve(loop):
        s3 = boto3.client("s3", config=Config(s3={"addressing_style": style}))
    s3.create_bucket(Bucket="styled")
    s3.put_object(Bucket="styled", Key="k", Body=b"v")
    assert s3.get_object(Bucket="styled", Key="k")["Body"].read() == b"v"


def test_resource_api(loop: dc.EventLoop) -> None:
    with serve(loop):
        resource = boto3.resource("s3")
    bucket = resource.create_bucket(Bucket="res")
    bucket.put_object(Key="a", Body=b"1")
    assert [o.key for o in bucket.objects.all()] == ["a"]
    assert resource.Object("res", "a").get()["Body"].read() == b"1"


def test_unserved_clients_are_refused_before_any_connection(
    loop: dc.EventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "real-looking-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
    with serve(loop):
        for service in ("dynamodb", "ec2"):
            with pytest.raises(UnservedService) as refused:
                boto3.client(service, region_name="us-east-1")
            assert refused.value.service == service
            assert f"does not serve {service!r} clients" in str(refused.value)
            assert "(it serves lambda, logs, s3, sns, sqs)" in str(refused.value)
        with pytest.raises(UnservedService):
            boto3.Session().resource("dynamodb", region_name="us-east-1")
        # Served services are still served.
        assert served_loop(boto3.client("s3")) is loop
    assert attempts == []
    # Outside serve(), clients of any service are made as usual; attach() refuses them.
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(UnservedService):
        attach(dynamodb, loop)
    assert served_loop(dynamodb) is None
    assert attempts == []


def test_content_md5_is_checked(s3: Any) -> None:
    import base64

    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    s3.put_object(Bucket="photos", Key="k", Body=b"body", ContentMD5=good)
    with pytest.raises(ClientError) as bad:
        s3.put_object(Bucket="photos", Key="k", Body=b"other", ContentMD5=good)
    assert _code(bad) == ("BadDigest", 400)
    with pytest.raises(ClientError) as invalid:
        s3.put_object(Bucket="photos", Key="k", Body=b"body", ContentMD5="nope")
    assert _code(invalid) == ("InvalidDigest", 400)
    assert s3.get_object(Bucket="photos", Key="k")["Body"].read() == b"body"
    uid = s3.create_multipart_upload(Bucket="photos", Key="m")["UploadId"]
    with pytest.raises(ClientError) as part:
        s3.upload_part(Bucket="photos", Key="m", UploadId=uid, PartNumber=1, Body=b"x",
                       ContentMD5=good)
    assert _code(part) == ("BadDigest", 400)
    assert "Parts" not in s3.list_parts(Bucket="photos", Key="m", UploadId=uid)


def test_conditional_reads(loop: dc.EventLoop, s3: Any) -> None:
    etag = s3.put_object(Bucket="photos", Key="k", Body=b"v")["ETag"]
    modified = datetime(2026, 1, 1, tzinfo=UTC)
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as same:
            call(Bucket="photos", Key="k", IfNoneMatch=etag)
        assert _code(same) == ("304", 304)
        with pytest.raises(ClientError) as old:
            call(Bucket="photos", Key="k", IfModifiedSince=modified)
        assert _code(old) == ("304", 304)
        with pytest.raises(ClientError) as changed:
            call(Bucket="photos", Key="k", IfUnmodifiedSince=datetime(2025, 1, 1, tzinfo=UTC))
        assert _code(changed)[1] == 412
        assert call(Bucket="photos", Key="k", IfNoneMatch='"other"', IfModifiedSince=modified)[
            "ResponseMetadata"]["HTTPStatusCode"] == 200  # If-None-Match decides
        assert call(Bucket="photos", Key="k", IfMatch=etag,
                    IfUnmodifiedSince=datetime(2025, 1, 1, tzinfo=UTC))["ETag"] == etag
    with pytest.raises(ClientError) as mismatch:
        s3.get_object(Bucket="photos", Key="k", IfMatch='"other"')
    assert _code(mismatch) == ("PreconditionFailed", 412)


def test_bucket_names_are_global_across_regions_and_accounts(loop: dc.EventLoop) -> None:
    with serve(loop):
        here = boto3.client("s3")
        ireland = boto3.client("s3", region_name="eu-west-1")
        other_account = boto3.client("s3", aws_access_key_id="111122223333",
                                     aws_secret_access_key="x")
    ireland.create_bucket(Bucket="eu-data",
                          CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert loop.in_region("eu-west-1")._lookup("s3", "eu-data") is not None
    # A client of another region reaches it (as botocore's redirects do against S3).
    here.put_object(Bucket="eu-data", Key="k", Body=b"v")
    assert ireland.get_object(Bucket="eu-data", Key="k")["Body"].read() == b"v"
    assert here.head_bucket(Bucket="eu-data")["BucketRegion"] == "eu-west-1"
    assert here.get_bucket_location(Bucket="eu-data")["LocationConstraint"] == "eu-west-1"
    here.create_bucket(Bucket="us-data")
    assert [(b["Name"], b["BucketRegion"]) for b in here.list_buckets()["Buckets"]] == [
        ("eu-data", "eu-west-1"), ("us-data", "us-east-1")
    ]
    assert [b["Name"] for b in here.list_buckets(BucketRegion="eu-west-1")["Buckets"]] == [
        "eu-data"
    ]
    with pytest.raises(here.exceptions.BucketAlreadyOwnedByYou):
        here.create_bucket(Bucket="eu-data")
    with pytest.raises(other_account.exceptions.BucketAlreadyExists) as taken:
        other_account.create_bucket(Bucket="eu-data")
    assert _code(taken) == ("BucketAlreadyExists", 409)  # type: ignore[arg-type]
    with pytest.raises(ClientError) as denied:
        other_account.get_object(Bucket="eu-data", Key="k")
    assert _code(denied) == ("AccessDenied", 403)
    assert other_account.list_buckets()["Buckets"] == []
    with pytest.raises(dc.errors.BucketAlreadyExists):
        dc.Bucket(loop.in_account("111122223333"), "us-data")


def test_managed_copy_of_a_large_object_uses_upload_part_copy(s3: Any) -> None:
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB
    s3.put_object(Bucket="photos", Key="src", Body=data)
    s3.create_bucket(Bucket="copies")
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.copy({"Bucket": "photos", "Key": "src"}, "copies", "dst", Config=config)
    head = s3.head_object(Bucket="copies", Key="dst")
    assert head["ETag"].endswith('-2"')  # made of two copied parts
    assert s3.get_object(Bucket="copies", Key="dst")["Body"].read() == data
    uid = s3.create_multipart_upload(Bucket="copies", Key="x")["UploadId"]
    part = s3.upload_part_copy(Bucket="copies", Key="x", UploadId=uid, PartNumber=1,
                               CopySource="photos/src", CopySourceRange="bytes=10-19")
    assert part["CopyPartResult"]["ETag"] == _md5(data[10:20])
    with pytest.raises(ClientError) as bad:
        s3.upload_part_copy(Bucket="copies", Key="x", UploadId=uid, PartNumber=2,
                            CopySource="photos/src", CopySourceRange=f"bytes=0-{len(data)}")
    assert _code(bad) == ("InvalidArgument", 400)
    assert "source object of size: 6291456" in str(bad.value)


def test_a_bucket_has_no_object_lock_configuration(s3: Any) -> None:
    with pytest.raises(ClientError) as none:
        s3.get_object_lock_configuration(Bucket="photos")
    assert _code(none) == ("ObjectLockConfigurationNotFoundError", 404)
    assert none.value.response["Error"]["Message"] == (
        "Object Lock configuration does not exist for this bucket")
    with pytest.raises(ClientError) as missing:
        s3.get_object_lock_configuration(Bucket="nobucket")
    assert _code(missing) == ("NoSuchBucket", 404)
