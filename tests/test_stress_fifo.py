"""Stress on the real clock for FifoQueue: 8 producers, 8 consumers that crash, a FIFO DLQ.

Each of 8 producer threads owns some message groups and sends their messages in order (single
sends and batches of 10). 8 consumer threads long-poll in batches; on a message they either
process and delete it or "crash": hand the rest of the batch back at once
(``change_visibility(handle, 0)``). After ``maxReceiveCount`` (3) receives a message moves to the
FIFO DLQ. Afterwards:

* nothing is lost: every message sent was deleted or is in the DLQ, never both;
* per group, the messages a consumer processed come in send order, apart from messages that went
  to the DLQ; the processing is never concurrent within a group (the group lock);
* the DLQ holds exactly the messages received 3 times and never deleted (each shows receive
  count 4 on its first receive there: SQS carries the count over).

Size: N = 4,000 x ``DECOUPLING_STRESS_SCALE`` messages in 64 groups. Marked ``stress`` and
``realtime``.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict

import pytest

import decoupling as dc

pytestmark = [pytest.mark.stress, pytest.mark.realtime]

SCALE = float(os.environ.get("DECOUPLING_STRESS_SCALE", "1"))
N = int(4_000 * SCALE)
GROUPS = 64
PRODUCERS = CONSUMERS = 8
MAX_RECEIVE_COUNT = 3
CRASH = 0.05
DEADLINE = 120.0 * max(SCALE, 1.0)


def test_fifo_threads_keep_group_order_and_lose_nothing() -> None:
    loop = dc.EventLoop()
    dlq = dc.FifoQueue(loop, "stress-dlq.fifo")
    src = dc.FifoQueue(loop, "stress.fifo", visibility_timeout=30,
                       redrive_policy=dc.RedrivePolicy(dlq, MAX_RECEIVE_COUNT))
    per_group = N // GROUPS
    sent: dict[str, list[int]] = defaultdict(list)
    processed: dict[str, list[int]] = defaultdict(list)
    deleted: set[str] = set()
    busy: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    crashes = [0]
    lock = threading.Lock()
    done_sending = threading.Event()

    def produce(index: int) -> None:
        rng = random.Random(index)
        groups = [f"g{g}" for g in range(index, GROUPS, PRODUCERS)]
        for n in range(per_group):
            batch = [{"Id": str(i), "MessageBody": f"{g}:{n}", "MessageGroupId": g,
                      "MessageDeduplicationId": f"{g}:{n}"} for i, g in enumerate(groups)]
            for start in range(0, len(batch), 10):
                if rng.random() < 0.5:
                    result = src.send_batch(batch[start:start + 10])
                    assert result.failed == []
                else:
                    for entry in batch[start:start + 10]:
                        src.send(entry["MessageBody"], message_group_id=entry["MessageGroupId"],
                                 message_deduplication_id=entry["MessageDeduplicationId"])
            with lock:
                for g in groups:
                    sent[g].append(n)

    def consume(index: int) -> None:
        rng = random.Random(100 + index)
        while time.monotonic() < stop_at:
            got = src.receive(10, wait_seconds=1)
            if not got:
                if done_sending.is_set() and len(src) == 0:
                    return
                continue
            for position, m in enumerate(got):
                group, n = m.body.split(":")
                if rng.random() < CRASH:
                    with lock:
                        crashes[0] += 1
                    # crash: the rest of this batch goes back at once, in order
                    for rest in got[position:]:
                        src.change_visibility(rest.receipt_handle, 0)
                    break
                with lock:
                    busy[group] += 1
                    if busy[group] > 1:
                        overlaps.append(group)
                with lock:  # the "work", while the group is held
                    processed[group].append(int(n))
                with lock:
                    # Released before the delete: the delete itself frees the group, and
                    # another consumer may take its next message as soon as it returns.
                    busy[group] -= 1
                src.delete(m.receipt_handle)
                with lock:
                    deleted.add(m.body)

    stop_at = time.monotonic() + DEADLINE
    producers = [threading.Thread(target=produce, args=(i,)) for i in range(PRODUCERS)]
    consumers = [threading.Thread(target=consume, args=(i,)) for i in range(CONSUMERS)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    done_sending.set()
    for t in consumers:
        t.join()

    dead = {}
    while got := dlq.receive(10):
        for m in got:
            dead[m.body] = m.receive_count
            dlq.delete(m.receipt_handle)
    total_sent = {f"{g}:{n}" for g, ns in sent.items() for n in ns}
    assert len(total_sent) == per_group * GROUPS
    assert crashes[0] > N // 100, crashes  # the consumers did crash, often
    print(f"fifo stress: {len(total_sent)} sent, {len(deleted)} deleted, {len(dead)} dead, "
          f"{crashes[0]} crashes")
    assert not overlaps, f"a group processed concurrently: {overlaps[:3]}"
    assert not (deleted & set(dead)), "a message both deleted and dead-lettered"
    assert deleted | set(dead) == total_sent, "lost messages"
    # a dead letter keeps its receive count; its first receive from the DLQ adds one
    assert all(count == MAX_RECEIVE_COUNT + 1 for count in dead.values()), set(dead.values())
    for group, order in processed.items():
        expected = [n for n in sent[group] if f"{group}:{n}" not in dead]
        assert order == expected, f"group {group} out of order"
    loop.stop()
