"""Crash tests of durable buckets: a child process writing objects is killed with SIGKILL.

* At random points (4 kills by default, each child living 0.1-0.4 s; 18 with
  DECOUPLING_HYPOTHESIS_PROFILE=soak): after each, every object the reopened store shows has a
  body whose MD5 is its ETag and that one of the child's puts wrote whole; every put that
  returned (and was not overwritten or deleted after) is there; every delete that returned
  stays deleted; and no body file is left that no object refers to.
* At the two windows that matter, deterministically: killed after a body file is written but
  before its row commits (the object is not there; the file is an orphan, removed and reported
  at the next open), and after a delete commits but before its file is unlinked (the object is
  gone; the file is removed and reported at the next open).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import decoupling as dc

pytestmark = pytest.mark.realtime

CHILD = r'''
import hashlib, io, os, random, sys
import decoupling as dc

db, log, seed, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
loop = dc.EventLoop(store=dc.SqliteStore(db))
bucket = loop._lookup("s3", "crash") or dc.Bucket(loop, "crash")
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def note(text):
    os.write(fd, (text + "\n").encode())
def body(key, n, size):
    seed = hashlib.sha256(f"{key}:{n}".encode()).digest()
    return (seed * (size // 32 + 1))[:size]
if mode == "after-body":
    store = loop._store
    keep = store._s3_body
    def write_then_die(data):
        kept = keep(data)
        os.kill(os.getpid(), 9)
    store._s3_body = write_then_die
    bucket.put("doomed", b"never committed")
if mode == "before-unlink":
    from decoupling.store import _buckets
    def die(store, conn):
        os.kill(os.getpid(), 9)
    _buckets.collect = die
    bucket.delete("victim")
if mode == "setup":
    bucket.put("victim", b"to be deleted")
    loop._store.close()
    sys.exit(0)
os.write(1, b"ready\n")
n = seed * 1_000_000
while True:
    n += 1
    key = f"k{rng.randint(0, 9)}"
    step = rng.random()
    if step < 0.6:
        size = rng.choice([0, 10, 1000, 200_000, 1_500_000, 3_000_000])
        data = body(key, n, size)
        etag = hashlib.md5(data).hexdigest()
        note(f"p {key} {etag}")
        bucket.put(key, io.BytesIO(data) if size > 100_000 else data)
        note(f"P {key} {etag}")
    elif step < 0.8:
        note(f"x {key}")
        bucket.delete(key)
        note(f"X {key}")
    else:
        target = f"k{rng.randint(0, 9)}"
        try:
            etag = bucket.head(key).etag.strip('"')
        except dc.errors.NoSuchKey:
            continue
        note(f"p {target} {etag}")
        bucket.copy(key, target, metadata={"n": str(n)})
        note(f"P {target} {etag}")
'''


def _run_child(tmp: Path, db: Path, log: Path, seed: int, mode: str) -> subprocess.Popen[bytes]:
    script = tmp / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(log), str(seed), mode],
        stdout=subprocess.PIPE, env=env,
    )


def _files(db: Path) -> set[str]:
    directory = Path(str(db) + ".blobs")
    return set(os.listdir(directory)) if directory.exists() else set()


def _check(db: Path, log: Path) -> int:
    """Open the store as the next run would; check it against the child's log."""
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    try:
        bucket = loop._lookup("s3", "crash")
        attempted: dict[str, set[str]] = {}
        last: dict[str, tuple[str, str | None]] = {}  # key -> (event, etag)
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue  # a line cut by the kill
            event, key = parts[0], parts[1]
            etag = parts[2] if len(parts) > 2 else None
            if event == "p":
                attempted.setdefault(key, set()).add(str(etag))
            last[key] = (event, etag)
        if bucket is None:
            assert not any(e in ("P", "X") for e, _ in last.values())
            return 0
        for key in bucket.keys():
            got = bucket.get(key)
            digest = hashlib.md5(got.body).hexdigest()
            assert f'"{digest}"' == got.info.etag, f"{key}: body does not match its ETag"
            assert digest in attempted.get(key, set()), f"{key}: a body no put wrote"
        live = set(bucket.keys())
        for key, (event, etag) in last.items():
            if event == "P":
                assert key in live and bucket.head(key).etag == f'"{etag}"', key
            if event == "X":
                assert key not in live, key
        referenced = {
            seg.name for versions in bucket._keys.values() for v in versions
            if v.body is not None for seg in v.body.segments
        }
        assert _files(db) == referenced
        return len(loop._store.orphaned_bodies)
    finally:
        loop._store.close()


def test_killed_at_random_points_nothing_is_half_visible(tmp_path: Path) -> None:
    soak = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE") == "soak"
    kills = 18 if soak else 4
    db, log = tmp_path / "s3.db", tmp_path / "log.txt"
    rng = random.Random(2026)
    orphans = 0
    for round_ in range(kills):
        child = _run_child(tmp_path, db, log, round_ + 1, "random")
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.1, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        orphans += _check(db, log)
    assert "P " in log.read_text()  # the children did write objects
    print(f"orphaned body files removed at reopen: {orphans} in {kills} kills")


def test_killed_between_the_body_file_and_its_row(tmp_path: Path) -> None:
    db, log = tmp_path / "s3.db", tmp_path / "log.txt"
    assert _run_child(tmp_path, db, log, 1, "setup").wait() == 0
    before = _files(db)
    child = _run_child(tmp_path, db, log, 1, "after-body")
    assert child.wait() == -signal.SIGKILL
    assert len(_files(db) - before) == 1  # the body file was written...
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    store = loop._store
    bucket = loop._lookup("s3", "crash")
    with pytest.raises(dc.errors.NoSuchKey):
        bucket.get("doomed")  # ...its row never committed: no object
    assert [o["bytes"] for o in store.orphaned_bodies] == [len(b"never committed")]
    assert _files(db) == before
    assert bucket.get("victim").body == b"to be deleted"
    store.close()


def test_killed_after_a_delete_commits_before_its_file_goes(tmp_path: Path) -> None:
    db, log = tmp_path / "s3.db", tmp_path / "log.txt"
    assert _run_child(tmp_path, db, log, 1, "setup").wait() == 0
    [victim_file] = _files(db)
    child = _run_child(tmp_path, db, log, 1, "before-unlink")
    assert child.wait() == -signal.SIGKILL
    assert _files(db) == {victim_file}
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    store = loop._store
    assert loop._lookup("s3", "crash").keys() == []
    assert [(Path(o["file"]).name, o["bytes"]) for o in store.orphaned_bodies] == [
        (victim_file, len(b"to be deleted"))
    ]
    assert _files(db) == set()
    store.close()
