"""Crash tests of the claim-check on a durable loop: a child process sending large and small
messages through a queue with ``large_payloads`` (and receiving and deleting them) is killed
with SIGKILL, again and again.

After every kill the parent opens the store as the next run would and checks:

* no message points at nothing: every pointer message in the queue (visible, delayed or in
  flight) has its object, of the size its ``ExtendedPayloadSize`` says;
* never lost: every message whose send returned is there, unless a delete of it was called;
  never back: none whose delete returned is there;
* orphans are reported: every object no message points at (``PayloadOffload.orphans``) holds
  the payload of a send that was cut short (the object is written first, then the message is
  sent, as AWS's extended clients do: they leave such objects too). A delete removes the
  message and its object in one transaction, so it leaves none.

And deterministically: killed between the object write and the message send, the store has the
object, no message, and ``orphans()`` lists it.

4 kills by default, each child living 0.1-0.4 s; 16 with DECOUPLING_HYPOTHESIS_PROFILE=soak.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import decoupling as dc
from decoupling.sqs import large_payloads as lp

pytestmark = pytest.mark.realtime

CHILD = r'''
import os, random, signal, sys
import decoupling as dc

db, log, seed, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
loop = dc.EventLoop(store=dc.SqliteStore(db))
bucket = loop._lookup("s3", "payloads") or dc.Bucket(loop, "payloads")
offload = dc.PayloadOffload(bucket, threshold=1024)
work = dc.Queue(loop, "work", visibility_timeout=1, large_payloads=offload)
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def note(text):
    os.write(fd, (text + "\n").encode())
if mode == "between":
    keep = offload._store
    def store_then_die(plan):
        keep(plan)  # the object is written (and committed)...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the message never sent
    offload._store = store_then_die
    note("s doomed")
    work.send("doomed " + "d" * 5000)
os.write(1, b"ready\n")
n = seed * 1_000_000
while True:
    n += 1
    if rng.random() < 0.6:
        size = rng.choice([10, 900, 5_000, 300_000, 1_500_000])
        note(f"s m{n}")
        work.send(f"m{n} " + "x" * size)
        note(f"S m{n}")
    else:
        for message in work.receive(10, wait_seconds=0):
            name = message.body.split(" ", 1)[0]
            note(f"d {name}")
            work.delete(message.receipt_handle)
            note(f"D {name}")
'''


def _run_child(tmp: Path, db: Path, log: Path, seed: int, mode: str) -> subprocess.Popen[bytes]:
    script = tmp / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen(
        [sys.executable, str(script), str(db), str(log), str(seed), mode],
        stdout=subprocess.PIPE, env=env,
    )


def _name(data: bytes | str) -> str:
    head = data[:40].decode() if isinstance(data, bytes) else data[:40]
    return head.split(" ", 1)[0]


def _check(db: Path, log: Path) -> list[str]:
    """Open the store as the next run would, check it against the child's log; return the
    names of the payloads orphaned so far."""
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    try:
        bucket = loop._lookup("s3", "payloads")
        work = loop._lookup("sqs", "work")
        events: dict[str, set[str]] = {}
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:  # else a line cut by the kill
                events.setdefault(parts[1], set()).add(parts[0])
        if work is None:
            assert not any("S" in e for e in events.values())
            return []
        present: list[str] = []
        for entry in work._ledger.entries():
            record = entry.record
            if lp.is_pointer(record.attributes):
                name, key = lp.parse_pointer(record.body)
                assert bucket is not None and name == "payloads"
                info = bucket.head(key)  # NoSuchKey here: a message pointing at nothing
                assert info.size == int(record.attributes["ExtendedPayloadSize"].string_value)
                present.append(_name(bucket.get(key, range="bytes=0-39").body))
            else:
                present.append(_name(record.body))
        assert len(present) == len(set(present)), "a message twice"
        for name, seen in events.items():
            if "S" in seen and "d" not in seen:
                assert name in present, f"{name} was sent and is lost"
            if "D" in seen:
                assert name not in present, f"{name} was deleted and is back"
        orphans = [] if bucket is None else dc.PayloadOffload(bucket).orphans(work)
        names = [_name(bucket.get(key, range="bytes=0-39").body) for key in orphans]
        for name in names:
            # Only a send cut short leaves an object behind: its send never returned.
            assert events.get(name) == {"s"}, f"{name}: orphaned after {events.get(name)}"
        return names
    finally:
        loop._store.close()


def test_killed_at_random_points_no_message_points_at_nothing(tmp_path: Path) -> None:
    soak = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE") == "soak"
    kills = 16 if soak else 4
    db, log = tmp_path / "offload.db", tmp_path / "log.txt"
    rng = random.Random(2026)
    orphaned: list[str] = []
    for round_ in range(kills):
        child = _run_child(tmp_path, db, log, round_ + 1, "random")
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.1, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        orphaned = _check(db, log)
    text = log.read_text()
    assert "S " in text and "D " in text  # the children did send and delete
    print(f"payload objects orphaned by {kills} kills (reported by orphans()): {len(orphaned)}")


def test_killed_between_the_object_write_and_the_send(tmp_path: Path) -> None:
    db, log = tmp_path / "offload.db", tmp_path / "log.txt"
    child = _run_child(tmp_path, db, log, 1, "between")
    assert child.wait() == -signal.SIGKILL
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    try:
        work = loop._lookup("sqs", "work")
        bucket = loop._lookup("s3", "payloads")
        assert len(work) == 0  # no message: none points at nothing
        offload = dc.PayloadOffload(bucket)
        [orphan] = offload.orphans(work)
        got = bucket.get(orphan)
        assert got.body == ("doomed " + "d" * 5000).encode()
        assert got.info.size == 5007
    finally:
        loop._store.close()
    assert _check(db, log) == ["doomed"]
