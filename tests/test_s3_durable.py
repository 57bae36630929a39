"""Buckets in the durable store: what comes back after a restart, and the body files."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import boto3
import pytest

import decoupling as dc
from decoupling.boto import serve
from decoupling.errors import InvalidArgument, NoSuchKey

MiB = 1024 * 1024


def _open(path: Path) -> dc.EventLoop:
    return dc.EventLoop(clock=dc.ManualClock(), store=dc.SqliteStore(path))


def _files(path: Path) -> list[str]:
    directory = Path(str(path) + ".blobs")
    return sorted(os.listdir(directory)) if directory.exists() else []


def _bucket(loop: dc.EventLoop, name: str) -> dc.Bucket:
    found = loop._lookup("s3", name)
    assert isinstance(found, dc.Bucket)
    return found


def test_buckets_objects_versions_tags_and_notifications_survive_a_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    queue = dc.Queue(loop, "events")
    bucket = dc.Bucket(loop, "docs")
    created = bucket.created_ms
    bucket.put_versioning("Enabled")
    v1 = bucket.put("a.txt", b"one", metadata={"Who": "ann"}, content_type="text/plain",
                    tags={"t": "1"})
    v2 = bucket.put("a.txt", b"two")
    big = bytes(range(256)) * (36 * 1024)  # 9 MiB: read from a stream, spilled
    bucket.put("big.bin", io.BytesIO(big))
    bucket.copy("big.bin", "copy.bin")
    marker = bucket.delete("gone.txt")
    bucket.put_tagging({"env": "test"})
    bucket.add_notification(queue, ["s3:ObjectCreated:*"], prefix="in/", id="to-events")
    plain = dc.Bucket(loop, "plain")
    plain.put("k", b"")
    sequence = bucket._sequence
    loop._store.close()

    again = _open(db)
    docs = _bucket(again, "docs")
    assert (docs.created_ms, docs.versioning) == (created, "Enabled")
    assert docs.get_tagging() == {"env": "test"}
    assert [(c.id, c.destination_arn, c.events, c.prefix) for c in docs.notifications] == [
        ("to-events", queue.arn, ("s3:ObjectCreated:*",), "in/")
    ]
    assert docs.keys() == ["a.txt", "big.bin", "copy.bin"]
    current = docs.get("a.txt")
    assert (current.body, current.info) == (b"two", v2)
    old = docs.get("a.txt", version_id=v1.version_id)
    assert (old.body, old.info.metadata, old.info.content_type) == (b"one", {"who": "ann"},
                                                                    "text/plain")
    assert docs.get_object_tagging("a.txt", version_id=v1.version_id) == {"t": "1"}
    assert docs.get("big.bin", range="bytes=1000-1999").body == big[1000:2000]
    assert docs.get("copy.bin").info.etag == f'"{hashlib.md5(big).hexdigest()}"'
    versions = docs.list_versions().versions
    assert [(v.key, v.version_id, v.is_latest, v.is_delete_marker) for v in versions] == [
        ("a.txt", v2.version_id, True, False), ("a.txt", v1.version_id, False, False),
        ("big.bin", versions[2].version_id, True, False),
        ("copy.bin", versions[3].version_id, True, False),
        ("gone.txt", marker.version_id, True, True),
    ]
    assert _bucket(again, "plain").get("k").body == b""
    # Three bodies in files (the copy shares big.bin's), plus plain's empty one.
    assert len(_files(db)) == 4
    # The event sequencer goes on increasing after the restart.
    docs.put("in/new", b"x")
    record = json.loads(again._lookup("sqs", "events").receive(10)[-1].body)["Records"][0]
    assert int(record["s3"]["object"]["sequencer"], 16) == sequence + 1
    assert again._store.orphaned_bodies == [] and again._store.damaged == []
    again._store.close()


def test_removed_versions_free_their_files_once_nothing_refers_to_them(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    bucket = dc.Bucket(loop, "files")
    bucket.put("k", b"first")
    [first] = _files(db)
    bucket.put("k", b"second")  # unversioned overwrite: the first body's file goes
    [second] = _files(db)
    assert second != first
    bucket.copy("k", "c")  # shares the file
    bucket.delete("k")
    assert _files(db) == [second]  # still the copy's
    bucket.delete("c")
    assert _files(db) == []
    uid = bucket.create_multipart_upload("mp")
    bucket.upload_part("mp", uid, 1, b"x" * (5 * MiB))
    bucket.upload_part("mp", uid, 2, b"y")
    bucket.upload_part("mp", uid, 3, b"unused")
    assert len(_files(db)) == 3
    etag1 = bucket.list_parts("mp", uid)[0].etag
    etag2 = bucket.list_parts("mp", uid)[1].etag
    bucket.complete_multipart_upload("mp", uid, [(1, etag1), (2, etag2)])
    assert len(_files(db)) == 2  # the part not listed is gone
    aborted = bucket.create_multipart_upload("other")
    bucket.upload_part("other", aborted, 1, b"z")
    bucket.abort_multipart_upload("other", aborted)
    assert len(_files(db)) == 2
    loop._store.close()
    again = _open(db)
    assert _bucket(again, "files").get("mp").body == b"x" * (5 * MiB) + b"y"
    bucket = _bucket(again, "files")
    bucket.delete("mp")
    bucket.delete_bucket()
    assert _files(db) == []
    again._store.close()
    assert _open(db)._lookup("s3", "files") is None


def test_a_refused_put_leaves_no_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    bucket = dc.Bucket(loop, "cond")
    bucket.put("k", b"v")
    before = _files(db)
    with pytest.raises(dc.errors.PreconditionFailed):
        bucket.put("k", io.BytesIO(b"w"), if_none_match="*")
    assert _files(db) == before
    assert bucket.get("k").body == b"v"
    loop._store.close()


def test_orphans_and_missing_bodies_are_reported_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    bucket = dc.Bucket(loop, "b-1")
    bucket.put("kept", b"kept")
    bucket.put("lost", b"lost body")
    loop._store.close()
    blobs = Path(str(db) + ".blobs")
    orphan = blobs / "0123456789abcdef0123456789abcdef"
    orphan.write_bytes(b"12345")
    (blobs / "tmp-feedfeedfeedfeedfeedfeedfeedfeed").write_bytes(b"half")
    lost_file = next(
        f for f in blobs.iterdir() if f.read_bytes() == b"lost body"
    )
    lost_file.unlink()
    again = _open(db)
    store = again._store
    assert sorted((Path(o["file"]).name, o["bytes"]) for o in store.orphaned_bodies) == [
        ("0123456789abcdef0123456789abcdef", 5), ("tmp-feedfeedfeedfeedfeedfeedfeedfeed", 4)
    ]
    assert [(d["bucket"], d["key"]) for d in store.damaged] == [("b-1", "lost")]
    assert "body file missing" in store.damaged[0]["reason"]
    assert not orphan.exists()
    kept = _bucket(again, "b-1")
    assert kept.get("kept").body == b"kept"
    with pytest.raises(NoSuchKey):
        kept.get("lost")  # never half there
    assert "removed the body file" in caplog.text
    store.close()


def test_multiprocess_stores_refuse_buckets(tmp_path: Path) -> None:
    loop = dc.EventLoop(store=dc.SqliteStore(tmp_path / "mp.db", multiprocess=True))
    with pytest.raises(InvalidArgument, match="multiprocess=True, which does not keep buckets"):
        dc.Bucket(loop, "shared")
    assert loop._lookup("s3", "shared") is None
    loop._store.close()


def test_the_boto3_bridge_on_a_durable_loop(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    data = os.urandom(6 * MiB)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    with serve(loop):
        s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads")
    s3.upload_file(str(source), "uploads", "blob", Config=boto3.s3.transfer.TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
    s3.put_object_tagging(Bucket="uploads", Key="blob",
                          Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    loop._store.close()
    again = _open(db)
    with serve(again):
        s3 = boto3.client("s3")
    got = s3.get_object(Bucket="uploads", Key="blob")
    assert got["Body"].read() == data
    assert got["ETag"].endswith('-2"') and got["TagCount"] == 1
    again._store.close()


def test_a_failed_write_is_undone_in_memory_at_the_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from decoupling.store import _buckets

    db = tmp_path / "app.db"
    loop = _open(db)
    bucket = dc.Bucket(loop, "flaky")
    bucket.put("kept", b"1")
    real = _buckets.write_bucket

    def fail(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_buckets, "write_bucket", fail)
    with pytest.raises(dc.errors.ServiceUnavailable, match="could not record the change"):
        bucket.put("lost", b"2")
    with pytest.raises(dc.errors.ServiceUnavailable):
        dc.Bucket(loop, "never")
    monkeypatch.setattr(_buckets, "write_bucket", real)
    assert bucket.keys() == ["kept"]  # the next call reloaded the bucket from the store
    assert loop._lookup("s3", "never") is None
    assert loop._lookup("s3", "flaky") is bucket
    bucket.put("after", b"3")
    loop._store.close()
    again = _open(db)
    assert _bucket(again, "flaky").keys() == ["after", "kept"]
    again._store.close()


class _Zeros(io.RawIOBase):
    """``size`` bytes of ``b"z"``, made as they are read (never whole in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"z" * n


def test_a_large_body_is_never_held_whole(tmp_path: Path) -> None:
    import tracemalloc

    from decoupling.s3 import _body

    size = 40 * MiB
    loop = _open(tmp_path / "app.db")
    bucket = dc.Bucket(loop, "large")
    with serve(loop):
        s3 = boto3.client("s3")
    tracemalloc.start()
    try:
        bucket.put("z", _Zeros(size))
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.md5()
        for chunk in s3.get_object(Bucket="large", Key="z")["Body"].iter_chunks(MiB):
            digest.update(chunk)
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # At most the in-memory threshold (8 MiB) and a chunk or two, not the 40 MiB.
    assert put_peak < _body.SPOOL_BYTES + 3 * MiB
    assert get_peak < 3 * MiB
    assert f'"{digest.hexdigest()}"' == bucket.head("z").etag
    assert [os.path.getsize(Path(str(tmp_path / "app.db") + ".blobs") / f)
            for f in _files(tmp_path / "app.db")] == [size]
    loop._store.close()


def test_a_part_copied_from_another_object_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    loop = _open(db)
    bucket = dc.Bucket(loop, "parts")
    bucket.put("src", b"0123456789")
    uid = bucket.create_multipart_upload("dst")
    part = bucket.upload_part_copy("dst", uid, 1, bucket, "src", range="bytes=2-5")
    bucket.complete_multipart_upload("dst", uid, [(1, part.etag)])
    bucket.delete("src")
    loop._store.close()
    again = _open(db)
    assert _bucket(again, "parts").get("dst").body == b"2345"
    assert len(_files(db)) == 1
    again._store.close()
