"""Stress on the real clock: many producers and consumers, consumers that crash, a DLQ.

8 producer threads send N messages (batches of 10 and single sends) while 8 consumer threads
receive in batches with long polling and either delete what they got or "crash": give it back at
once (``change_visibility(handle, 0)``) or just drop it, so it returns when its 1-second
visibility timeout ends. The source queue dead-letters a message on the receive after its third
(``maxReceiveCount`` 3). Afterwards, from every receive and delete recorded:

* nothing is lost: every message sent was deleted, or is in the DLQ, and not both (unless the
  consumer's delete came after the message had already moved: then it took longer than the
  visibility timeout, which is checked);
* no message is delivered twice at once: the receive counts of a message are 1, 2, 3... with no
  repeat;
* nothing is received after its delete: a receive that began after an effective delete returned
  never hands the message out again;
* the DLQ holds exactly the messages received ``maxReceiveCount`` times and never deleted, each
  once, with its receive count carried over.

The same runs through asyncio tasks (``send_async``, ``receive_async``, ``delete_async``).

Size: N = 10,000 x ``DECOUPLING_STRESS_SCALE`` (default 1; the soak run uses 10 or more, i.e.
100,000+ messages). Marked ``stress`` and ``realtime``. See RELIABILITY.md for the figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

import decoupling as dc

pytestmark = [pytest.mark.stress, pytest.mark.realtime]

SCALE = float(os.environ.get("DECOUPLING_STRESS_SCALE", "1"))
N = int(10_000 * SCALE)
PRODUCERS = CONSUMERS = 8
MAX_RECEIVE_COUNT = 3
VISIBILITY = 1  # seconds: a crashed consumer's messages come back after this
CRASH = 0.25  # chance a consumer crashes on a message
DROP = 0.1  # of the crashes, the share that just drop the message (wait out the timeout)
DEADLINE = 120.0 * max(SCALE, 1.0)  # real seconds before the test gives up


@dataclass
class Log:
    """What one worker saw, merged at the end."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (message id, body)
    received: list[tuple[str, int, float]] = field(default_factory=list)  # (id, count, began)
    deleted: list[tuple[str, int, float]] = field(default_factory=list)  # (id, count, returned)
    crashed: int = 0


def make_queues(loop: dc.EventLoop) -> tuple[dc.Queue, dc.Queue]:
    dlq = dc.Queue(loop, "stress-dlq")
    src = dc.Queue(loop, "stress", visibility_timeout=VISIBILITY,
                   redrive_policy=dc.RedrivePolicy(dlq, MAX_RECEIVE_COUNT))
    return src, dlq


def bodies_for(producer: int) -> list[str]:
    share = N // PRODUCERS + (1 if producer < N % PRODUCERS else 0)
    return [f"p{producer}-{i}" for i in range(share)]


def handle_batch(src: dc.Queue, messages: list[dc.Message], began: float, log: Log,
                 rng: random.Random) -> list[dc.Message]:
    """Record a receive; crash on some messages; return the ones to delete."""
    keep = []
    for m in messages:
        log.received.append((m.message_id, m.receive_count, began))
        if rng.random() < CRASH:
            log.crashed += 1
            if rng.random() >= DROP:
                give_back(src, m, began)
        else:
            keep.append(m)
    return keep


def give_back(src: dc.Queue, m: dc.Message, began: float) -> None:
    """``change_visibility(handle, 0)``. A thread paused past the 1 s visibility timeout (a
    loaded machine does that) may find the message already back and received again: then SQS
    refuses the old handle with ``InvalidParameterValue``, rightly. Any sooner, that is a bug."""
    try:
        src.change_visibility(m.receipt_handle, 0)
    except dc.errors.InvalidParameterValue:
        if time.monotonic() - began <= VISIBILITY:
            raise


def drain_dlq(dlq: dc.Queue) -> list[dc.Message]:
    out: list[dc.Message] = []
    while batch := dlq.receive(10, visibility_timeout=3600):
        out.extend(batch)
    return out


def check(logs: list[Log], src: dc.Queue, dlq_messages: list[dc.Message]) -> dict[str, int]:
    """Every property in the module docstring; returns the figures."""
    sent = {mid: body for log in logs for mid, body in log.sent}
    assert len(sent) == N == sum(len(log.sent) for log in logs), "message ids not unique"
    counts: dict[str, list[int]] = defaultdict(list)
    began: dict[tuple[str, int], float] = {}
    for log in logs:
        for mid, count, t in log.received:
            counts[mid].append(count)
            began[(mid, count)] = t
    for mid, seen in counts.items():
        assert mid in sent, f"received {mid}, which was never sent"
        assert sorted(seen) == list(range(1, len(seen) + 1)), (
            f"{mid}: receive counts {sorted(seen)} (a repeat is a double delivery)"
        )
        assert len(seen) <= MAX_RECEIVE_COUNT, f"{mid} received {len(seen)} times from src"
    deletes = [d for log in logs for d in log.deleted]
    for mid, count, returned in deletes:
        later = began.get((mid, count + 1))
        assert later is None or later < returned, (
            f"{mid} was received again (count {count + 1}) by a receive that began "
            f"{later - returned:.3f} s after its delete returned"
        )
    last = {mid: max(seen) for mid, seen in counts.items()}
    deleted_last = {mid for mid, count, _ in deletes if last.get(mid) == count}
    in_dlq = [m.message_id for m in dlq_messages]
    dead = set(in_dlq)
    assert len(dead) == len(in_dlq), "a message is in the DLQ twice"
    assert dead <= set(sent), "the DLQ holds a message never sent"
    for m in dlq_messages:
        assert last.get(m.message_id) == MAX_RECEIVE_COUNT, (
            f"{m.message_id} dead-lettered after {last.get(m.message_id)} receives"
        )
        assert m.receive_count == MAX_RECEIVE_COUNT + 1  # the count travels with it
        assert m.body == sent[m.message_id]
    # Deleted *and* dead: the delete came too late (after the timeout, the message had moved).
    late = deleted_last & dead
    late_deletes = {(mid, count): returned for mid, count, returned in deletes}
    for mid in late:
        took = late_deletes[(mid, MAX_RECEIVE_COUNT)] - began[(mid, MAX_RECEIVE_COUNT)]
        assert took > VISIBILITY, f"{mid}: deleted in {took:.3f} s yet moved to the DLQ"
    lost = set(sent) - deleted_last - dead
    assert not lost, f"{len(lost)} messages lost, e.g. {sorted(lost)[:5]}"
    assert len(src) == 0
    expected_dead = {mid for mid, c in last.items() if c == MAX_RECEIVE_COUNT} - (
        deleted_last - late
    )
    assert dead == expected_dead, "the DLQ does not hold exactly the exhausted messages"
    return {
        "sent": len(sent),
        "receives": sum(len(seen) for seen in counts.values()),
        "crashes": sum(log.crashed for log in logs),
        "deleted": len(deleted_last - late),
        "dead": len(dead),
        "late deletes": len(late),
    }


def report(name: str, figures: dict[str, int], seconds: float) -> None:
    print(f"\n{name}: {figures} in {seconds:.2f} s "
          f"({figures['sent'] / seconds:,.0f} messages/s end to end)")


def test_threads_lose_nothing_and_dead_letter_exactly_the_exhausted() -> None:
    loop = dc.EventLoop()
    src, dlq = make_queues(loop)
    logs = [Log() for _ in range(PRODUCERS + CONSUMERS)]
    produced = threading.Event()  # every producer is done
    drained = threading.Event()  # ... and the source queue is empty
    stop = threading.Event()
    errors: list[BaseException] = []

    def producer(index: int) -> None:
        log, rng = logs[index], random.Random(index)
        pending = bodies_for(index)
        try:
            while pending:
                if rng.random() < 0.1:
                    body = pending.pop()
                    log.sent.append((src.send(body).message_id, body))
                    continue
                batch, pending = pending[:10], pending[10:]
                result = src.send_batch(batch)
                assert not result.failed
                log.sent.extend((ok["MessageId"], batch[int(ok["Id"])]) for ok in result.successful)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    def consumer(index: int) -> None:
        log, rng = logs[PRODUCERS + index], random.Random(1000 + index)
        try:
            while not stop.is_set():
                began = time.monotonic()
                messages = src.receive(10, wait_seconds=1)
                if not messages and produced.is_set() and not len(src):
                    drained.set()
                keep = handle_batch(src, messages, began, log, rng)
                if keep:
                    result = src.delete_batch([m.receipt_handle for m in keep])
                    returned = time.monotonic()
                    assert not result.failed, result.failed
                    log.deleted.extend((m.message_id, m.receive_count, returned) for m in keep)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    start = time.monotonic()
    threads = [threading.Thread(target=producer, args=(i,), daemon=True)
               for i in range(PRODUCERS)]
    threads += [threading.Thread(target=consumer, args=(i,), daemon=True)
                for i in range(CONSUMERS)]
    for thread in threads:
        thread.start()
    for thread in threads[:PRODUCERS]:
        thread.join(DEADLINE)
    produced.set()
    drained.wait(max(DEADLINE - (time.monotonic() - start), 0))
    stop.set()
    for thread in threads[PRODUCERS:]:
        thread.join(5)
    elapsed = time.monotonic() - start
    loop.stop()
    assert not errors, errors
    assert not len(src), f"gave up after {elapsed:.0f} s with {len(src)} messages left"
    report("threads", check(logs, src, drain_dlq(dlq)), elapsed)


def test_asyncio_tasks_lose_nothing_and_dead_letter_exactly_the_exhausted() -> None:
    loop = dc.EventLoop()
    src, dlq = make_queues(loop)
    logs = [Log() for _ in range(PRODUCERS + CONSUMERS)]

    async def producer(index: int) -> None:
        log = logs[index]
        for body in bodies_for(index):
            log.sent.append(((await src.send_async(body)).message_id, body))
            if len(log.sent) % 50 == 0:
                await asyncio.sleep(0)  # let the consumers in

    async def consumer(index: int, produced: asyncio.Event, drained: asyncio.Event) -> None:
        log, rng = logs[PRODUCERS + index], random.Random(2000 + index)
        while not drained.is_set():
            began = time.monotonic()
            messages = await src.receive_async(10, wait_seconds=1)
            if not messages and produced.is_set() and not len(src):
                drained.set()
            for m in handle_batch(src, messages, began, log, rng):
                await src.delete_async(m.receipt_handle)
                log.deleted.append((m.message_id, m.receive_count, time.monotonic()))

    async def main() -> float:
        produced, drained = asyncio.Event(), asyncio.Event()
        start = time.monotonic()
        consumers = [asyncio.create_task(consumer(i, produced, drained))
                     for i in range(CONSUMERS)]
        await asyncio.wait_for(asyncio.gather(*(producer(i) for i in range(PRODUCERS))),
                               DEADLINE)
        produced.set()
        await asyncio.wait_for(asyncio.gather(*consumers), DEADLINE)
        return time.monotonic() - start

    elapsed = asyncio.run(main())
    loop.stop()
    assert not len(src), f"gave up after {elapsed:.0f} s with {len(src)} messages left"
    report("asyncio", check(logs, src, drain_dlq(dlq)), elapsed)
