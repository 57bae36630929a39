"""Buckets: objects, ranges, listing, versioning, multipart uploads and S3's errors."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.s3 import _body

MiB = 1024 * 1024


@pytest.fixture
def bucket(loop: dc.EventLoop) -> dc.Bucket:
    return dc.Bucket(loop, "photos")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_put_get_head_with_etag_metadata_and_time(loop: dc.EventLoop, bucket: dc.Bucket) -> None:
    loop.clock.advance(2.5)
    info = bucket.put("cats/tom.jpg", b"meow", metadata={"Owner": "ann"}, content_type="image/jpeg")
    assert info == dc.ObjectInfo(
        key="cats/tom.jpg", size=4, etag=f'"{md5(b"meow")}"',
        last_modified_ms=loop.clock.wall_ms(), metadata={"owner": "ann"},
        content_type="image/jpeg",
    )
    assert bucket.head("cats/tom.jpg") == info
    got = bucket.get("cats/tom.jpg")
    assert (got.body, got.info, got.content_range) == (b"meow", info, None)


def test_a_bytes_body_is_kept_as_given(bucket: dc.Bucket) -> None:
    data = b"x" * (3 * MiB)
    bucket.put("big", data)
    assert bucket.get("big").body is data


@pytest.mark.parametrize(
    ("spec", "body", "content_range"),
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-30", b"0123456789", "bytes 0-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("pages=1-2", b"0123456789", None),  # malformed: ignored, as S3 does
    ],
)
def test_ranges(bucket: dc.Bucket, spec: str, body: bytes, content_range: str | None) -> None:
    bucket.put("digits", b"0123456789")
    got = bucket.get("digits", range=spec)
    assert (got.body, got.content_range) == (body, content_range)


def test_a_range_past_the_end_is_invalid_range(bucket: dc.Bucket) -> None:
    bucket.put("digits", b"0123456789")
    with pytest.raises(errors.InvalidRange) as caught:
        bucket.get("digits", range="bytes=10-12")
    assert (caught.value.code, caught.value.status) == ("InvalidRange", 416)


def test_missing_keys_and_versions(bucket: dc.Bucket) -> None:
    with pytest.raises(errors.NoSuchKey) as caught:
        bucket.get("nope")
    assert (caught.value.code, caught.value.status) == ("NoSuchKey", 404)
    assert caught.value.message == "The specified key does not exist. (nope)"
    bucket.put("k", b"v")
    with pytest.raises(errors.NoSuchVersion):
        bucket.get("k", version_id="abc")


def test_key_length_is_counted_in_utf8_bytes(bucket: dc.Bucket) -> None:
    bucket.put("é" * 512, b"")  # 1024 bytes
    with pytest.raises(errors.KeyTooLongError) as caught:
        bucket.put("é" * 512 + "a", b"")
    assert caught.value.code == "KeyTooLongError"
    assert bucket.keys() == ["é" * 512]


def test_metadata_over_2_kb_is_refused(bucket: dc.Bucket) -> None:
    with pytest.raises(errors.MetadataTooLarge):
        bucket.put("k", b"v", metadata={"a": "x" * 2048})
    assert bucket.keys() == []


def test_conditional_writes(bucket: dc.Bucket) -> None:
    first = bucket.put("k", b"1", if_none_match="*")
    with pytest.raises(errors.PreconditionFailed) as caught:
        bucket.put("k", b"2", if_none_match="*")
    assert caught.value.status == 412
    with pytest.raises(errors.PreconditionFailed):
        bucket.put("k", b"2", if_match='"0000"')
    assert bucket.get("k").body == b"1"
    bucket.put("k", b"3", if_match=first.etag)
    assert bucket.get("k").body == b"3"


def test_delete_and_copy(bucket: dc.Bucket, loop: dc.EventLoop) -> None:
    bucket.put("a", b"hello", metadata={"m": "1"})
    other = dc.Bucket(loop, "backup")
    copied = bucket.copy("a", "b", dest_bucket=other)
    assert (copied.key, copied.etag, copied.metadata) == ("b", f'"{md5(b"hello")}"', {"m": "1"})
    assert other.get("b").body == b"hello"
    replaced = bucket.copy("a", "a", metadata={"m": "2"})
    assert replaced.metadata == {"m": "2"}
    with pytest.raises(errors.InvalidRequest):
        bucket.copy("a", "a")
    assert bucket.delete("a") == dc.DeleteResult()
    assert bucket.delete("a") == dc.DeleteResult()  # a missing key is not an error
    assert bucket.keys() == []


def test_listing_with_prefix_delimiter_and_pages(bucket: dc.Bucket) -> None:
    for key in ["a.txt", "docs/1", "docs/2", "docs/x/3", "img/1", "img/2", "z"]:
        bucket.put(key, b".")
    page = bucket.list_objects(delimiter="/", max_keys=3)
    assert [o.key for o in page.contents] == ["a.txt"]
    assert page.common_prefixes == ("docs/", "img/")
    assert (page.is_truncated, page.key_count) == (True, 3)
    rest = bucket.list_objects(delimiter="/", continuation_token=page.next_continuation_token)
    assert [o.key for o in rest.contents] == ["z"]
    assert (rest.common_prefixes, rest.is_truncated, rest.next_continuation_token) == (
        (), False, None
    )
    docs = bucket.list_objects(prefix="docs/", delimiter="/")
    assert ([o.key for o in docs.contents], docs.common_prefixes) == (["docs/1", "docs/2"],
                                                                      ("docs/x/",))
    pages: list[str] = []
    token = None
    while True:
        result = bucket.list_objects(max_keys=2, continuation_token=token)
        pages.append(",".join(o.key for o in result.contents))
        token = result.next_continuation_token
        if not result.is_truncated:
            break
    assert pages == ["a.txt,docs/1", "docs/2,docs/x/3", "img/1,img/2", "z"]
    after = bucket.list_objects(start_after="img/1")
    assert [o.key for o in after.contents] == ["img/2", "z"]
    empty = bucket.list_objects(max_keys=0)
    assert (empty.contents, empty.is_truncated, empty.key_count) == ((), True, 0)
    with pytest.raises(errors.InvalidArgument):
        bucket.list_objects(continuation_token="***")


def test_bucket_names_and_lifecycle(loop: dc.EventLoop) -> None:
    for bad in ["ab", "a" * 64, "Upper", "has_underscore", "-start", "end-", "a..b",
                "192.168.1.1", "xn--abc", "bucket-s3alias"]:
        with pytest.raises(errors.InvalidBucketName) as caught:
            dc.Bucket(loop, bad)
        assert caught.value.code == "InvalidBucketName"
    bucket = dc.Bucket(loop, "my.bucket-1")
    with pytest.raises(errors.BucketAlreadyOwnedByYou) as already:
        dc.Bucket(loop, "my.bucket-1")
    assert already.value.status == 409
    bucket.put("k", b"v")
    with pytest.raises(errors.BucketNotEmpty) as not_empty:
        bucket.delete_bucket()
    assert not_empty.value.status == 409
    assert bucket.get("k").body == b"v"
    bucket.delete("k")
    bucket.delete_bucket()
    with pytest.raises(errors.NoSuchBucket) as gone:
        bucket.put("k", b"v")
    assert (gone.value.code, gone.value.status) == ("NoSuchBucket", 404)
    dc.Bucket(loop, "my.bucket-1")  # the name is free again
    with pytest.raises(errors.InvalidArgument) as not_a_loop:
        dc.Bucket(object(), "elsewhere")  # type: ignore[arg-type]
    assert "buckets run in process only" in not_a_loop.value.message


def test_versioning(bucket: dc.Bucket) -> None:
    bucket.put("k", b"before")  # the null version
    bucket.put_versioning("Enabled")
    v1 = bucket.put("k", b"one")
    v2 = bucket.put("k", b"two")
    assert v1.version_id and v2.version_id and v1.version_id != v2.version_id
    assert bucket.get("k").body == b"two"
    assert bucket.get("k", version_id=v1.version_id).body == b"one"
    assert bucket.get("k", version_id="null").body == b"before"
    marker = bucket.delete("k")
    assert marker.delete_marker and marker.version_id
    with pytest.raises(errors.NoSuchKey):
        bucket.get("k")
    with pytest.raises(errors.MethodNotAllowed) as caught:
        bucket.get("k", version_id=marker.version_id)
    assert caught.value.status == 405
    assert bucket.keys() == []
    versions = bucket.list_versions().versions
    assert [(v.version_id, v.is_delete_marker, v.is_latest) for v in versions] == [
        (marker.version_id, True, True), (v2.version_id, False, False),
        (v1.version_id, False, False), (None, False, False),
    ]
    assert bucket.delete("k", version_id=marker.version_id) == dc.DeleteResult(
        marker.version_id, True
    )
    assert bucket.get("k").body == b"two"
    assert bucket.keys() == ["k"]
    bucket.put_versioning("Suspended")
    assert bucket.put("k", b"s1").version_id == "null"
    assert bucket.put("k", b"s2").version_id == "null"
    assert [v.version_id for v in bucket.list_versions().versions] == [
        "null", v2.version_id, v1.version_id
    ]


def test_multipart_upload_etag_and_errors(bucket: dc.Bucket) -> None:
    p1, p2 = b"a" * (5 * MiB), b"tail"
    upload = bucket.create_multipart_upload("big", metadata={"kind": "blob"})
    e2 = bucket.upload_part("big", upload, 2, p2)
    e1 = bucket.upload_part("big", upload, 1, p1)
    assert (e1, e2) == (f'"{md5(p1)}"', f'"{md5(p2)}"')
    with pytest.raises(errors.InvalidPartOrder):
        bucket.complete_multipart_upload("big", upload, [(2, e2), (1, e1)])
    with pytest.raises(errors.InvalidPart):
        bucket.complete_multipart_upload("big", upload, [(1, e1), (3, e2)])
    with pytest.raises(errors.InvalidPart):
        bucket.complete_multipart_upload("big", upload, [(1, e2), (2, e2)])
    with pytest.raises(errors.EntityTooSmall):
        bucket.complete_multipart_upload("big", upload, _small_first(bucket, upload))
    with pytest.raises(errors.MalformedXML):
        bucket.complete_multipart_upload("big", upload, [])
    with pytest.raises(errors.InvalidArgument) as bad_number:
        bucket.upload_part("big", upload, 10_001, b"x")
    assert bad_number.value.message == "Part number must be an integer between 1 and 10000, inclusive"
    assert bucket.keys() == []  # the failures changed nothing
    info = bucket.complete_multipart_upload(
        "big", upload, [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
    )
    expected = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
    assert (info.etag, info.size, info.metadata) == (f'"{expected}-2"', len(p1) + len(p2),
                                                     {"kind": "blob"})
    assert bucket.get("big", range=f"bytes={len(p1) - 2}-").body == b"aatail"
    assert bucket.get("big").body == p1 + p2
    assert bucket.copy("big", "big-copy").etag == f'"{md5(p1 + p2)}"'  # a copy's ETag is its MD5
    with pytest.raises(errors.NoSuchUpload) as gone:
        bucket.upload_part("big", upload, 3, b"x")
    assert gone.value.status == 404
    assert bucket.list_multipart_uploads() == []


def _small_first(bucket: dc.Bucket, upload: str) -> list[tuple[int, str]]:
    small = bucket.upload_part("big", upload, 3, b"small")
    tail = bucket.upload_part("big", upload, 4, b"tail")
    return [(3, small), (4, tail)]


def test_abort_and_list_parts(bucket: dc.Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    bucket.upload_part("k", upload, 1, b"x")
    assert [(p.part_number, p.size) for p in bucket.list_parts("k", upload)] == [(1, 1)]
    assert bucket.list_multipart_uploads() == [("k", upload)]
    bucket.abort_multipart_upload("k", upload)
    with pytest.raises(errors.NoSuchUpload):
        bucket.abort_multipart_upload("k", upload)


class _Stream:
    """A readable stream of ``size`` bytes that holds no copy of them."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"z" * n


def test_a_large_stream_is_not_held_in_memory(bucket: dc.Bucket) -> None:
    size = 40 * MiB
    tracemalloc.start()
    try:
        bucket.put("stream", _Stream(size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # At most the in-memory threshold (8 MiB) and a chunk or two, not the 40 MiB.
    assert peak < _body.SPOOL_BYTES + 3 * MiB
    info = bucket.head("stream")
    assert (info.size, info.etag) == (size, f'"{md5(b"z" * size)}"')
    out = io.BytesIO()
    bucket.download("stream", out)
    assert out.getvalue() == b"z" * size


def test_a_small_stream_is_kept_in_memory(bucket: dc.Bucket) -> None:
    bucket.put("s", io.BytesIO(b"abc"))
    assert bucket.get("s", range="bytes=1-").body == b"bc"


def test_version_listing_pages(bucket: dc.Bucket) -> None:
    bucket.put_versioning("Enabled")
    ids = {key: [bucket.put(key, b".").version_id for _ in range(n)] for key, n in
           [("a", 3), ("b", 1), ("c", 2)]}
    expected = [(k, v) for k in "abc" for v in reversed(ids[k])]
    pages: list[list[tuple[str, str | None]]] = []
    key_marker = version_marker = None
    while True:
        page = bucket.list_versions(max_keys=2, key_marker=key_marker,
                                    version_id_marker=version_marker)
        pages.append([(v.key, v.version_id) for v in page.versions])
        if not page.is_truncated:
            break
        key_marker, version_marker = page.next_key_marker, page.next_version_id_marker
    assert pages == [expected[0:2], expected[2:4], expected[4:6]]
    assert [v.key for v in bucket.list_versions(key_marker="a").versions] == ["b", "c", "c"]
    assert [v.key for v in bucket.list_versions(prefix="c").versions] == ["c", "c"]
    with pytest.raises(errors.InvalidArgument):
        bucket.list_versions(version_id_marker=ids["a"][0])


def _reference_listing(keys: list[str], prefix: str, delimiter: str) -> list[str]:
    """Keys and common prefixes as ListObjectsV2 defines them, computed naively."""
    entries: list[str] = []
    for key in sorted(keys):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entry = key[: cut + len(delimiter)] if cut >= 0 else key
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


@pytest.mark.parametrize("seed", range(5))
def test_paged_listings_match_a_naive_listing(loop: dc.EventLoop, seed: int) -> None:
    rng = random.Random(seed)
    bucket = dc.Bucket(loop, f"random-{seed}")
    keys = ["".join(rng.choice("ab/") for _ in range(rng.randint(1, 6))) for _ in range(60)]
    for key in keys:
        bucket.put(key, b"")
    for prefix in ["", "a", "a/", "b/a"]:
        for delimiter in ["", "/", "b"]:
            seen: list[str] = []
            token = None
            while True:
                page = bucket.list_objects(prefix=prefix, delimiter=delimiter or None,
                                           max_keys=rng.randint(1, 4), continuation_token=token)
                seen += [o.key for o in page.contents] + list(page.common_prefixes)
                token = page.next_continuation_token
                if not page.is_truncated:
                    break
            expected = sorted(_reference_listing(keys, prefix, delimiter))
            assert sorted(seen) == expected, (prefix, delimiter)
