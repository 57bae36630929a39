"""Several processes on one store (``SqliteStore(path, multiprocess=True)``): a producer process
and consumer processes on the same queues see each other's messages, a message is never handed
to two consumers at once, and FIFO order holds across processes. Real time, bounded (~5 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import decoupling as dc

pytestmark = pytest.mark.realtime

CHILD = r'''
import os, sys, time
import decoupling as dc

db, role, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
loop = dc.EventLoop(store=dc.SqliteStore(db, multiprocess=True, synchronous="NORMAL"))
work = dc.Queue(loop, "work", visibility_timeout=60)
fifo = dc.FifoQueue(loop, "steps.fifo", visibility_timeout=60)
deadline = time.monotonic() + 20
if role == "producer":
    for i in range(count):
        work.send(f"m{i}")
        fifo.send(f"{i}", message_group_id="g", message_deduplication_id=str(i))
        if i % 10 == 0:
            fifo.send("dup", message_group_id="g", message_deduplication_id="0")  # deduplicated
    open(db + ".sent", "w").close()  # the consumers stop only after this
    print("sent", flush=True)
else:
    seen = 0
    idle = 0
    while time.monotonic() < deadline:
        got = work.receive(10)
        for m in got:
            print("W", m.body, flush=True)
            work.delete(m.receipt_handle)
        steps = fifo.receive(10, wait_seconds=0 if got else 1)
        for m in steps:
            print("F", m.body, flush=True)
            fifo.delete(m.receipt_handle)
        idle = 0 if got or steps else idle + 1
        # (not before the producer is done: on a loaded machine it may start seconds late)
        if idle and os.path.exists(db + ".sent") and len(work) == 0 and len(fifo) == 0:
            break
    print("done", flush=True)
loop.store.close()
'''


def test_producer_and_consumers_in_separate_processes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(dc.__file__).resolve().parent.parent)}
    count = 150

    def spawn(role: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(script), str(db), role, str(count)],
                                stdout=subprocess.PIPE, text=True, env=env)

    # Create the queues first, so every process opens the same ones.
    loop = dc.EventLoop(store=dc.SqliteStore(db, multiprocess=True))
    dc.Queue(loop, "work", visibility_timeout=60)
    dc.FifoQueue(loop, "steps.fifo", visibility_timeout=60)
    assert loop.store is not None
    loop.store.close()

    consumers = [spawn("consumer-stop"), spawn("consumer-stop")]
    producer = spawn("producer")
    out, _ = producer.communicate(timeout=60)
    assert out.strip() == "sent"
    bodies: Counter[str] = Counter()
    fifo_order: list[list[int]] = []
    for consumer in consumers:
        out, _ = consumer.communicate(timeout=60)
        lines = out.split("\n")
        assert "done" in lines
        bodies.update(line[2:] for line in lines if line.startswith("W "))
        fifo_order.append([int(line[2:]) for line in lines if line.startswith("F ")])
    # Every message reached exactly one consumer (visibility 60 s: none came back).
    assert bodies == Counter(f"m{i}" for i in range(count))
    # FIFO: each consumer saw the group in order, and together they saw each message once.
    for seen in fifo_order:
        assert seen == sorted(seen)
    assert sorted(n for seen in fifo_order for n in seen) == list(range(count))

    # The store, reopened in one process, is empty and keeps the FIFO sequence going.
    loop = dc.EventLoop(store=dc.SqliteStore(db))
    work, fifo = loop._lookup("sqs", "work"), loop._lookup("sqs", "steps.fifo")
    assert len(work) == 0 and len(fifo) == 0
    result = fifo.send("next", message_group_id="g", message_deduplication_id="next")
    assert result.sequence_number is not None
    assert int(result.sequence_number) > 18 * 10**18 + count * 100_000
