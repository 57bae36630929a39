"""Topics under threads and asyncio: concurrent publishers, no lost or doubled deliveries."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import decoupling as dc


def test_concurrent_publishers_fan_out_exactly_once(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "busy")
    queues = [dc.Queue(loop, f"q{i}") for i in range(3)]
    for q in queues:
        topic.subscribe(q)
    seen: list[str] = []
    lock = threading.Lock()

    def record(n: dc.Notification) -> None:
        with lock:
            seen.append(n.message)

    topic.subscribe(record)

    def publisher(k: int) -> None:
        for i in range(200):
            topic.publish(f"{k}-{i}")

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert topic.drain()
    expected = sorted(f"{k}-{i}" for k in range(4) for i in range(200))
    for q in queues:
        bodies = []
        while len(q):
            for m in q.receive(max_messages=10):
                bodies.append(json.loads(m.body)["Message"])
                q.delete(m.receipt_handle)
        assert sorted(bodies) == expected
    assert sorted(seen) == expected


def test_publish_async(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "aio")
    queue = dc.Queue(loop, "aio-q")
    topic.subscribe(queue, raw_message_delivery=True)

    async def main() -> dc.PublishResult:
        return await topic.publish_async("from asyncio", subject="S")

    result = asyncio.run(main())
    assert result.message_id and queue.receive()[0].body == "from asyncio"


@pytest.mark.realtime
def test_real_clock_callables_run_in_the_worker_pool() -> None:
    with dc.EventLoop() as loop:
        topic = dc.Topic(loop, "live")
        threads_seen: set[str] = set()
        count = 0
        lock = threading.Lock()
        release = threading.Event()

        def blocked(n: dc.Notification) -> None:
            nonlocal count
            release.wait(2.0)  # a stuck subscriber must not hold up publish
            with lock:
                count += 1
                threads_seen.add(threading.current_thread().name)

        topic.subscribe(blocked)
        queue = dc.Queue(loop, "fast")
        topic.subscribe(queue)
        for i in range(100):
            topic.publish(f"m{i}")
        assert len(queue) == 100 and count == 0  # publish returned; the callables wait
        release.set()
        assert topic.drain(timeout=2.5)
        assert count == 100
        assert threads_seen == {"decoupling-sns"}
