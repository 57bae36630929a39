"""Bucket and object tags on :class:`decoupling.Bucket`, with S3's limits, and ``Bucket.open``."""

from __future__ import annotations

import threading

import pytest

import decoupling as dc
from decoupling.errors import (
    BadRequest,
    InvalidTag,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchTagSet,
    PreconditionFailed,
)


@pytest.fixture
def bucket() -> dc.Bucket:
    return dc.Bucket(dc.EventLoop(clock=dc.ManualClock()), "tags")


def test_object_tags_belong_to_a_version(bucket: dc.Bucket) -> None:
    bucket.put("k", b"1", tags={"team": "a"})
    assert bucket.get_object_tagging("k") == {"team": "a"}
    bucket.put_object_tagging("k", [{"Key": "x", "Value": "1"}, {"Key": "y", "Value": ""}])
    assert bucket.get_object_tagging("k") == {"x": "1", "y": ""}
    bucket.put("k", b"2")  # an overwrite starts without tags
    assert bucket.get_object_tagging("k") == {}
    bucket.put_versioning("Enabled")
    v1 = bucket.put("v", b"1", tags={"n": "1"}).version_id
    v2 = bucket.put("v", b"2").version_id
    assert v1 is not None and v2 is not None
    assert bucket.put_object_tagging("v", {"n": "2"}) == v2
    assert bucket.get_object_tagging("v", version_id=v1) == {"n": "1"}
    assert bucket.get_object_tagging("v") == {"n": "2"}
    bucket.delete("v")
    assert bucket.get_object_tagging("v", version_id=v2) == {"n": "2"}  # kept under the marker
    marker = bucket.list_versions(prefix="v").versions[0].version_id
    with pytest.raises(MethodNotAllowed):
        bucket.get_object_tagging("v", version_id=marker)
    assert bucket.delete_object_tagging("v", version_id=v1) == v1
    assert bucket.get_object_tagging("v", version_id=v1) == {}
    with pytest.raises(NoSuchKey):
        bucket.put_object_tagging("missing", {"a": "b"})


def test_copies_and_multipart_uploads_carry_tags(bucket: dc.Bucket) -> None:
    bucket.put("src", b"x", tags={"a": "1"})
    bucket.copy("src", "same")
    bucket.copy("src", "new", tags={"b": "2"})
    assert bucket.get_object_tagging("same") == {"a": "1"}
    assert bucket.get_object_tagging("new") == {"b": "2"}
    uid = bucket.create_multipart_upload("mp", tags={"c": "3"})
    etag = bucket.upload_part("mp", uid, 1, b"part")
    bucket.complete_multipart_upload("mp", uid, [(1, etag)])
    assert bucket.get_object_tagging("mp") == {"c": "3"}


@pytest.mark.parametrize(
    ("tags", "error", "message"),
    [
        ({f"k{i}": "" for i in range(11)}, BadRequest, "Object tags cannot be greater than 10"),
        ({"x" * 129: ""}, InvalidTag, "TagKey you have provided is invalid"),
        ({"": "v"}, InvalidTag, "TagKey you have provided is invalid"),
        ({"k": "v" * 257}, InvalidTag, "TagValue you have provided is too long, max 256"),
        ({"aws:owner": "me"}, InvalidTag, "cannot be prefixed with aws:"),
        ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], InvalidTag,
         "multiple Tags with the same key"),
        ([{"Value": "1"}], InvalidTag, "mapping"),
    ],
)
def test_object_tag_limits(bucket: dc.Bucket, tags: object, error: type, message: str) -> None:
    bucket.put("k", b"", tags={"kept": "yes"})
    with pytest.raises(error, match=message):
        bucket.put_object_tagging("k", tags)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        bucket.put("k", b"new", tags=tags)  # type: ignore[arg-type]
    assert bucket.get("k").body == b""  # nothing changed
    assert bucket.get_object_tagging("k") == {"kept": "yes"}


def test_the_limits_themselves_are_allowed(bucket: dc.Bucket) -> None:
    ten = {f"k{i}": "v" * 256 for i in range(9)} | {"x" * 128: ""}
    bucket.put("k", b"", tags=ten)
    assert bucket.get_object_tagging("k") == ten


def test_bucket_tags(bucket: dc.Bucket) -> None:
    with pytest.raises(NoSuchTagSet, match="The TagSet does not exist"):
        bucket.get_tagging()
    fifty = {f"k{i}": str(i) for i in range(50)}
    bucket.put_tagging(fifty)
    assert bucket.get_tagging() == fifty
    with pytest.raises(InvalidTag, match="cannot be greater than 50"):
        bucket.put_tagging({f"k{i}": "" for i in range(51)})
    assert bucket.get_tagging() == fifty
    bucket.delete_tagging()
    bucket.delete_tagging()
    with pytest.raises(NoSuchTagSet):
        bucket.get_tagging()


def test_open_streams_the_version_it_opened(bucket: dc.Bucket) -> None:
    data = bytes(range(256)) * 64
    bucket.put("k", data, tags={"a": "1"})
    stream = bucket.open("k", range="bytes=100-")
    assert (stream.size, stream.content_range, stream.tag_count) == (
        len(data) - 100, f"bytes 100-{len(data) - 1}/{len(data)}", 1
    )
    bucket.put("k", b"replaced")
    assert stream.read(10) == data[100:110]
    assert stream.tell() == 10
    buffer = bytearray(6)
    assert stream.readinto(buffer) == 6 and bytes(buffer) == data[110:116]
    assert stream.read() == data[116:]
    assert stream.read() == b""
    with bucket.open("k") as whole:
        assert whole.read() == b"replaced"
    assert whole.closed and whole.read() == b""
    with pytest.raises(PreconditionFailed):
        bucket.open("k", if_match='"nope"')


def test_open_reads_a_spilled_body_from_many_threads(bucket: dc.Bucket) -> None:
    import io

    data = bytes(range(251)) * 40_000  # ~10 MB: past the 8 MiB spill, so a file segment
    bucket.put("big", io.BytesIO(data))
    found: dict[int, bytes] = {}

    def read(i: int) -> None:
        start = i * 1_000_000
        with bucket.open("big", range=f"bytes={start}-{start + 999_999}") as stream:
            pieces = []
            while piece := stream.read(65_536):
                pieces.append(piece)
            found[i] = b"".join(pieces)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b"".join(found[i] for i in range(10)) == data[:10_000_000]


@pytest.mark.parametrize("tags", [5, "a=b", b"x", [("a", "b")]])
def test_tags_of_another_shape_are_refused(bucket: dc.Bucket, tags: object) -> None:
    with pytest.raises(InvalidTag):
        bucket.put("k", b"", tags=tags)  # type: ignore[arg-type]
    with pytest.raises(InvalidTag):
        bucket.put_tagging(tags)  # type: ignore[arg-type]
    assert bucket.keys() == []


@pytest.mark.parametrize("digest", [5, "", "not base64!", "YWJj"])
def test_a_content_md5_that_is_no_md5_is_refused(bucket: dc.Bucket, digest: object) -> None:
    from decoupling.errors import InvalidDigest

    with pytest.raises(InvalidDigest):
        bucket.put("k", b"", content_md5=digest)  # type: ignore[arg-type]
    assert bucket.keys() == []
