"""Stress on the real clock: a topic fanning out to queues and to a subscriber that raises.

4 publisher threads publish N messages (mostly ``publish_batch`` of 10, some single publishes)
to a standard topic with four subscriptions:

* ``raw``: a queue, raw delivery;
* ``env``: a queue, JSON envelope;
* ``even``: a queue, raw, filter policy ``{"parity": ["even"]}`` on a message attribute;
* an ``application`` subscriber (a Python callable, delivered from the loop's worker pool)
  that raises on 40 % of attempts. Its ``DeliveryPolicy`` allows 4 retries (3 immediate, 1
  after 1 s) and its ``RedrivePolicy`` names a dead-letter queue.

One consumer thread per queue receives (1 s long polls) and deletes while the publishers run.
Afterwards, from everything recorded:

* every queue got exactly the messages it should (all of them, or the even ones), each once:
  none lost, none duplicated, none that the filter excludes;
* each message reached the callable with attempts 1, 2, ... in order, every attempt but the
  last failing; a message whose last attempt failed had all 5 and is in the subscription's DLQ
  exactly once (with its envelope); the others succeeded exactly once; the subscription's
  ``delivered`` and ``dead_lettered`` counters agree. Nothing is silently lost.

Size: N = 10,000 x ``DECOUPLING_STRESS_SCALE``. Marked ``stress`` and ``realtime``.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict

import pytest

import decoupling as dc

pytestmark = [pytest.mark.stress, pytest.mark.realtime]

SCALE = float(os.environ.get("DECOUPLING_STRESS_SCALE", "1"))
N = int(10_000 * SCALE)
PUBLISHERS = 4
FAIL = 0.4  # chance one attempt of the callable raises
RETRIES = 4  # 3 immediate, 1 after 1 s: 5 attempts in all
DEADLINE = 60.0 * max(SCALE, 1.0)  # real seconds before the test gives up
DELIVERY_POLICY = {"healthyRetryPolicy": {
    "numRetries": RETRIES, "numNoDelayRetries": 3, "numMinDelayRetries": 1,
    "minDelayTarget": 1, "maxDelayTarget": 1,
}}


def test_topic_fan_out_under_threads_with_a_failing_subscriber() -> None:
    loop = dc.EventLoop().start()
    topic = dc.Topic(loop, "stress-topic")
    queues = {name: dc.Queue(loop, f"stress-{name}") for name in ("raw", "env", "even")}
    sub_dlq = dc.Queue(loop, "stress-sub-dlq")
    topic.subscribe(queues["raw"], raw_message_delivery=True)
    topic.subscribe(queues["env"])
    topic.subscribe(queues["even"], raw_message_delivery=True,
                    filter_policy={"parity": ["even"]})

    attempts: list[tuple[str, int, bool]] = []  # (SNS MessageId, attempt, succeeded)
    rng_lock = threading.Lock()
    rng = random.Random(20260101)

    def flaky(n: dc.Notification) -> None:
        with rng_lock:
            fails = rng.random() < FAIL
        attempts.append((n.message_id, n.attempt, not fails))
        if fails:
            raise RuntimeError(f"subscriber down for {n.message}")

    app = topic.subscribe(flaky, delivery_policy=DELIVERY_POLICY, redrive_policy=sub_dlq)

    published: dict[str, str] = {}  # body -> SNS MessageId
    published_lock = threading.Lock()
    errors: list[BaseException] = []

    def publisher(k: int) -> None:
        try:
            share = range(k, N, PUBLISHERS)
            bodies = [f"p{k}-{i}" for i in share]
            parities = ["even" if i % 2 == 0 else "odd" for i in share]
            local: dict[str, str] = {}
            j = 0
            while j < len(bodies):
                if (j // 10) % 3 == 2:  # every third block of ten: single publishes
                    for b, p in zip(bodies[j:j + 10], parities[j:j + 10], strict=True):
                        local[b] = topic.publish(b, message_attributes={"parity": p}).message_id
                else:
                    entries = [{"Id": str(x), "Message": b, "MessageAttributes": {"parity": p}}
                               for x, (b, p) in enumerate(zip(bodies[j:j + 10],
                                                              parities[j:j + 10], strict=True))]
                    result = topic.publish_batch(entries)
                    assert not result.failed, result.failed
                    for entry in result.successful:
                        local[entries[int(entry["Id"])]["Message"]] = entry["MessageId"]
                j += 10
            with published_lock:
                published.update(local)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    consumed: dict[str, list[str]] = {name: [] for name in queues}
    done = threading.Event()

    def consumer(name: str) -> None:
        q = queues[name]
        try:
            while True:
                finishing = done.is_set()
                batch = q.receive(10, wait_seconds=0 if finishing else 1)
                if not batch:
                    if finishing:
                        return
                    continue
                for m in batch:
                    consumed[name].append(
                        json.loads(m.body)["Message"] if name == "env" else m.body)
                result = q.delete_batch([{"Id": str(i), "ReceiptHandle": m.receipt_handle}
                                         for i, m in enumerate(batch)])
                assert not result.failed, result.failed
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    started = time.monotonic()
    consumers = [threading.Thread(target=consumer, args=(n,)) for n in queues]
    publishers = [threading.Thread(target=publisher, args=(k,)) for k in range(PUBLISHERS)]
    for t in consumers + publishers:
        t.start()
    for t in publishers:
        t.join(DEADLINE)
    published_at = time.monotonic()
    assert topic.drain(timeout=DEADLINE), "deliveries to the callable did not finish"
    done.set()
    for t in consumers:
        t.join(DEADLINE)
    elapsed = time.monotonic() - started
    loop.stop()
    assert not errors, errors[:3]
    assert len(published) == N and len(set(published.values())) == N

    # Queues: exactly the messages they should hold, each once.
    everything = Counter(list(published))
    assert Counter(consumed["raw"]) == everything
    assert Counter(consumed["env"]) == everything
    evens = Counter(b for b in published if int(b.split("-")[1]) % 2 == 0)
    assert Counter(consumed["even"]) == evens
    assert all(len(q) == 0 for q in queues.values())

    # The failing subscriber: retried in order, then delivered once or dead-lettered once.
    by_message: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for message_id, attempt, ok in attempts:
        by_message[message_id].append((attempt, ok))
    assert set(by_message) == set(published.values())
    succeeded, failed_for_good = set(), set()
    for message_id, tries in by_message.items():
        assert [a for a, _ in tries] == list(range(1, len(tries) + 1)), (message_id, tries)
        assert all(not ok for _, ok in tries[:-1]), (message_id, tries)
        if tries[-1][1]:
            succeeded.add(message_id)
        else:
            assert len(tries) == RETRIES + 1, (message_id, tries)
            failed_for_good.add(message_id)
    dead: list[str] = []
    while len(sub_dlq):
        for m in sub_dlq.receive(10):
            envelope = json.loads(m.body)
            assert envelope["TopicArn"] == topic.arn and envelope["Type"] == "Notification"
            assert published[envelope["Message"]] == envelope["MessageId"]
            dead.append(envelope["MessageId"])
            sub_dlq.delete(m.receipt_handle)
    assert len(dead) == len(set(dead)) and set(dead) == failed_for_good
    assert app.delivered == len(succeeded) and app.dead_lettered == len(failed_for_good)
    assert app.undeliverable == len(failed_for_good)
    print(
        f"\ntopic stress: {N} messages from {PUBLISHERS} publishers in "
        f"{published_at - started:.2f} s, all settled in {elapsed:.2f} s; queues got "
        f"{len(consumed['raw'])} + {len(consumed['env'])} + {len(consumed['even'])} (even); "
        f"callable: {len(attempts)} attempts, {len(attempts) - len(succeeded)} raised, "
        f"{len(succeeded)} delivered, {len(failed_for_good)} dead-lettered, 0 lost"
    )
