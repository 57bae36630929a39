"""Queue observers: every change reported once, in order, with the message it concerns."""

from __future__ import annotations

from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue


def test_events_follow_a_message_through_its_life(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, 1))
    seen: list[tuple[str, str, str | None]] = []

    def observer(event: str, queue: Any, entry: Any) -> None:
        seen.append((event, queue.name, None if entry is None else entry.record.message_id))

    q.add_observer(observer)
    q.add_observer(observer)  # idempotent
    dlq.add_observer(observer)
    first = q.send("a").message_id
    second = q.send("b").message_id
    got = q.receive(10, visibility_timeout=5)
    q.change_visibility(got[1].receipt_handle, 10)
    q.delete(got[1].receipt_handle)
    loop.clock.advance(5)
    assert q.receive() == []  # "a" was received once: the next receive dead-letters it
    q.purge()
    assert seen == [
        ("sent", "q", first),
        ("sent", "q", second),
        ("received", "q", first),
        ("received", "q", second),
        ("visibility_changed", "q", second),
        ("deleted", "q", second),
        ("dead_lettered", "q", first),
        ("dead_letter_arrived", "dlq", first),
        ("purged", "q", None),
    ]
    q.remove_observer(observer)
    q.remove_observer(observer)  # no error
    q.send("c")
    assert seen[-1] == ("purged", "q", None)


def test_an_observer_must_be_callable(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(InvalidParameterValue):
        q.add_observer("not a function")  # type: ignore[arg-type]


def test_a_batch_reports_each_sent_and_deleted_message_once(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    seen: list[tuple[str, str]] = []
    q.add_observer(lambda event, queue, entry: seen.append((event, entry.record.body)))
    q.send_batch(["a", "b", "c"])
    got = q.receive(10)
    handles = [m.receipt_handle for m in got]
    result = q.delete_batch([handles[0], handles[2], handles[0], "not-a-handle"])
    assert [ok["Id"] for ok in result.successful] == ["0", "1", "2"]
    assert [bad["Code"] for bad in result.failed] == ["ReceiptHandleIsInvalid"]
    assert seen[:3] == [("sent", "a"), ("sent", "b"), ("sent", "c")]
    assert seen[6:] == [("deleted", "a"), ("deleted", "c")]  # "a" given twice: one event
    assert len(q) == 1


def test_an_observer_that_removes_itself_still_sees_the_event_it_is_in(
    loop: dc.EventLoop,
) -> None:
    q = dc.Queue(loop, "q")
    seen: list[str] = []

    def once(event: str, queue: Any, entry: Any) -> None:
        seen.append(f"once:{event}")
        queue.remove_observer(once)

    q.add_observer(once)
    q.add_observer(lambda event, queue, entry: seen.append(f"other:{event}"))
    q.send("a")
    q.send("b")
    assert seen == ["once:sent", "other:sent", "other:sent"]
