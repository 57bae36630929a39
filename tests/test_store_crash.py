"""Crash test of durable mode: a child process sends, receives and deletes on a durable loop
and is killed with SIGKILL at random points, again and again.

The child writes a line to its log only after a call returned (``S`` sent, ``D`` deleted; for
the FIFO queue ``F`` sent, ``R`` received, ``X`` deleted), and ``d``/``x`` just before it calls
delete (a message killed mid-delete may be gone without a ``D``). After every kill the parent reads the
store and checks, and at the end it drains every queue through the library:

* never lost: every message whose send returned is still in its queue or its dead-letter queue,
  or a delete of it was called;
* never back: no message whose delete returned is in any queue;
* FIFO order across restarts: within a group, no message goes out while an earlier one is
  still held unless that one goes out first in the same receive (see :func:`check_order`),
  the final drain included.

8 kills by default, each child living 0.05-0.35 s: a few seconds here; 24 (or 24 x
DECOUPLING_STRESS_SCALE) with DECOUPLING_HYPOTHESIS_PROFILE=soak or a scale set.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

import decoupling as dc

pytestmark = pytest.mark.realtime

CHILD = r'''
import os, random, sys
import decoupling as dc

db, log, start, seed, sync = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = random.Random(seed)
loop = dc.EventLoop(store=dc.SqliteStore(db, synchronous=sync))
dlq = dc.Queue(loop, "work-dlq")
work = dc.Queue(loop, "work", visibility_timeout=1,
                redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
fifo = dc.FifoQueue(loop, "ordered.fifo", visibility_timeout=1)
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def note(text):
    os.write(fd, (text + "\n").encode())
os.write(1, b"ready\n")
n = start
while True:
    n += 1
    step = rng.random()
    if step < 0.3:
        work.send(f"m{n}")
        note(f"S m{n}")
    elif step < 0.4:
        bodies = [f"m{n}-{i}" for i in range(rng.randint(1, 10))]
        work.send_batch(bodies)
        for body in bodies:
            note(f"S {body}")
    elif step < 0.6:
        for m in work.receive(rng.randint(1, 10)):
            if rng.random() < 0.7:
                note(f"d {m.body}")
                work.delete(m.receipt_handle)
                note(f"D {m.body}")
    elif step < 0.65:
        got = dlq.receive(10)
        if got:
            for m in got:
                note(f"d {m.body}")
            dlq.delete_batch([m.receipt_handle for m in got])
            for m in got:
                note(f"D {m.body}")
    elif step < 0.82:
        group = f"g{rng.randint(0, 3)}"
        fifo.send(f"{group}:{n}", message_group_id=group, message_deduplication_id=str(n))
        note(f"F {group}:{n}")
    else:
        got = fifo.receive(rng.randint(1, 4))
        if got:
            note("R " + " ".join(m.body for m in got))
        for m in got:
            if rng.random() < 0.8:
                note(f"x {m.body}")
                fifo.delete(m.receipt_handle)
                note(f"X {m.body}")
'''


class Acks:
    """What the children reported, across all their lives."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.deleted: set[str] = set()
        self.deleting: set[str] = set()  # a delete was called (it may not have returned)
        self.fifo_sent: set[str] = set()
        self.fifo_deleted: set[str] = set()
        self.fifo_deleting: set[str] = set()
        # group -> the numbers each receive call returned, call by call
        self.receives: dict[str, list[list[int]]] = defaultdict(list)

    def read(self, log: Path) -> None:
        if not log.exists():
            return
        for line in log.read_text().split("\n"):
            kind, _, body = line.partition(" ")
            if not body:
                continue  # a line cut short by the kill (or the last, empty one)
            if kind == "S":
                self.sent.add(body)
            elif kind == "d":
                self.deleting.add(body)
            elif kind == "x":
                self.fifo_deleting.add(body)
            elif kind == "D":
                self.deleted.add(body)
            elif kind == "F":
                self.fifo_sent.add(body)
            elif kind == "X":
                self.fifo_deleted.add(body)
            elif kind == "R":
                self.add_call(body.split(" "))

    def add_call(self, bodies: list[str]) -> None:
        calls: dict[str, list[int]] = defaultdict(list)
        for body in bodies:
            group, _, n = body.partition(":")
            calls[group].append(int(n))
        for group, numbers in calls.items():
            self.receives[group].append(numbers)


def stored_bodies(db: Path) -> dict[str, set[str]]:
    """The bodies of the messages each queue holds, read straight from the file."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, set[str]] = defaultdict(set)
        for name, body in conn.execute(
            "SELECT q.name, m.body FROM messages m JOIN queues q ON m.id >> 40 = q.id"
        ):
            out[name].add(body)
        return out
    finally:
        conn.close()


def check(acks: Acks, held: dict[str, set[str]]) -> None:
    standard = held["work"] | held["work-dlq"]
    lost = acks.sent - acks.deleting - standard
    assert not lost, f"lost: {sorted(lost)[:5]}"
    back = acks.deleted & standard
    assert not back, f"deleted yet still held: {sorted(back)[:5]}"
    fifo = held["ordered.fifo"]
    lost = acks.fifo_sent - acks.fifo_deleting - fifo
    assert not lost, f"FIFO lost: {sorted(lost)[:5]}"
    back = acks.fifo_deleted & fifo
    assert not back, f"FIFO deleted yet still held: {sorted(back)[:5]}"
    for group, calls in acks.receives.items():
        check_order(group, calls)


def check_order(group: str, calls: list[list[int]]) -> None:
    """FIFO within a group: a call returns messages in order, and a message n goes out only
    when every earlier message still held goes out with it (before it). So a message received
    in a later call that is earlier than one of a previous call's must have been in that call
    (it was handed out, not deleted, and came back)."""
    for i, call in enumerate(calls):
        assert call == sorted(call), f"group {group}: a call out of order: {call}"
        highest, returned = max(call), set(call)
        for later in calls[i + 1:]:
            skipped = [m for m in later if m < highest and m not in returned]
            assert not skipped, f"group {group}: {skipped} went out after {call}"


def test_sigkill_at_random_points_loses_nothing_and_resurrects_nothing(tmp_path: Path) -> None:
    scale = float(os.environ.get("DECOUPLING_STRESS_SCALE", "1"))
    # 8 lives by default (each a fresh interpreter, ~0.5 s); 24 x scale at soak or when scaled.
    full = os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE") == "soak" or scale != 1
    kills = max(20, int(24 * scale)) if full else 8
    db = tmp_path / "crash.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(20260601)
    acks = Acks()
    env = {**os.environ, "PYTHONPATH": str(Path(dc.__file__).resolve().parent.parent)}
    def enough() -> bool:
        return len(acks.sent) > 100 and len(acks.deleted) > 20 and len(acks.fifo_deleted) > 20

    life = 0
    # At least `kills` lives; on a loaded machine a life gets less done, so go on (up to three
    # times as many lives) until the run has done enough work to mean something.
    while life < kills or (not enough() and life < 3 * kills):
        life += 1
        log = tmp_path / f"life{life}.log"
        sync = rng.choice(["FULL", "NORMAL", "OFF"])
        child = subprocess.Popen(
            [sys.executable, str(script), str(db), str(log), str(life * 10_000_000),
             str(rng.randrange(1 << 30)), sync],
            stdout=subprocess.PIPE, env=env,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n", "the child did not start"
            time.sleep(rng.uniform(0.05, 0.35))  # let it work, then kill it mid-call
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == -signal.SIGKILL
        acks.read(log)
        check(acks, stored_bodies(db))
    assert enough(), (len(acks.sent), len(acks.deleted), len(acks.fifo_deleted))

    # Drain everything through the library, after every visibility timeout ended: the work
    # queue's is 1 s but the DLQ's is the default 30 s, and a child killed after a DLQ receive
    # returned but before its "d" notes leaves those messages in flight (not lost) that long.
    conn = sqlite3.connect(db)
    try:
        latest = conn.execute("SELECT max(deadline) FROM messages").fetchone()[0]
    finally:
        conn.close()
    clock = dc.ManualClock(epoch=max(time.time(), latest or 0.0) + 5)
    loop = dc.EventLoop(clock=clock, store=dc.SqliteStore(db, synchronous="OFF"))
    drained: dict[str, set[str]] = defaultdict(set)
    for name in ("work", "work-dlq"):
        queue = loop._lookup("sqs", name)
        while got := queue.receive(10):
            drained[name].update(m.body for m in got)
            queue.delete_batch([m.receipt_handle for m in got])
    fifo = loop._lookup("sqs", "ordered.fifo")
    while got := fifo.receive(10):
        acks.add_call([m.body for m in got])  # the drain continues each group's story
        for m in got:
            drained["ordered.fifo"].add(m.body)
            fifo.delete(m.receipt_handle)
    check(acks, drained)  # with the drain's receives as the last calls of each group
    assert drained["ordered.fifo"] and drained["work"] | drained["work-dlq"]
