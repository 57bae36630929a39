"""Archive and replay on FIFO topics, on virtual days."""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sns import archive as sns_archive

DAY = 86_400.0


def iso(day: float) -> str:
    """The ISO timestamp of virtual day ``day`` (the clock starts at 2026-01-01T00:00:00Z)."""
    seconds = int(day * DAY)
    return f"2026-01-{1 + seconds // 86_400:02d}T{seconds % 86_400 // 3600:02d}:00:00.000Z"


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "ledger.fifo", archive_policy={"MessageRetentionPeriod": "7"})


def received(queue: dc.Queue) -> list[dict[str, Any]]:
    out = []
    while len(queue):
        for m in queue.receive(max_messages=10):
            out.append(json.loads(m.body))
            queue.delete(m.receipt_handle)
    return out


def publish_days(clock: dc.ManualClock, topic: dc.Topic, days: range) -> dict[str, str]:
    """Publish two messages a day (a book and a pen) at noon; return body -> MessageId."""
    ids = {}
    for day in days:
        clock.advance_to(day * DAY + 12 * 3600)
        for kind in ("book", "pen"):
            body = f"{kind}-day{day}"
            ids[body] = topic.publish(body, message_group_id="ledger",
                                      message_deduplication_id=body,
                                      message_attributes={"kind": kind}).message_id
    return ids


def test_replay_from_day_1_then_live_messages(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = publish_days(clock, topic, range(0, 5))  # days 0-4, archived
    clock.advance_to(5 * DAY)  # day 5: a new subscriber replays from day 1
    queue = dc.FifoQueue(loop, "books.fifo")
    statuses: list[str | None] = []
    step = sns_archive.Replay._step

    def spy(self: sns_archive.Replay) -> None:
        statuses.append(self.sub.replay_status)
        step(self)
        statuses.append(self.sub.replay_status)

    monkeypatch.setattr(sns_archive, "REPLAY_CHUNK", 2)
    monkeypatch.setattr(sns_archive.Replay, "_step", spy)
    sub = topic.subscribe(queue, filter_policy={"kind": ["book"]},
                          replay_policy={"PointType": "Timestamp", "StartingPoint": iso(1)})
    assert sub.replay_status == "Pending"
    assert sub.get_attributes()["ReplayStatus"] == "Pending"
    topic.publish("book-live-1", message_group_id="ledger", message_deduplication_id="l1",
                  message_attributes={"kind": "book"})  # held until the replay is done
    assert len(queue) == 0
    loop.run_until_idle()
    assert statuses[0] == "Pending" and statuses[-1] == "Completed"
    assert "In progress" in statuses
    assert sub.get_attributes()["ReplayStatus"] == "Completed"
    topic.publish("book-live-2", message_group_id="ledger", message_deduplication_id="l2",
                  message_attributes={"kind": "book"})
    topic.publish("pen-live", message_group_id="ledger", message_deduplication_id="l3",
                  message_attributes={"kind": "pen"})
    got = received(queue)
    assert [e["Message"] for e in got] == [
        "book-day1", "book-day2", "book-day3", "book-day4", "book-live-1", "book-live-2"]
    for envelope in got[:4]:
        assert envelope["Replayed"] is True
        assert envelope["MessageId"] == ids[envelope["Message"]]
        day = int(envelope["Message"][-1])
        assert envelope["Timestamp"] == iso(day + 0.5)
    assert all("Replayed" not in e for e in got[4:])
    assert json.loads(sub.get_attributes()["ReplayPolicy"]) == {
        "PointType": "Timestamp", "StartingPoint": iso(1)}


def test_archive_expires_on_the_loop_clock(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    topic = dc.Topic(loop, "short.fifo", archive_policy={"MessageRetentionPeriod": 2})
    assert topic.get_attributes()["ArchivePolicy"] == '{"MessageRetentionPeriod":"2"}'
    assert topic.get_attributes()["BeginningArchiveTime"] == iso(0)
    publish_days(clock, topic, range(0, 4))
    clock.advance_to(4 * DAY)
    assert topic.get_attributes()["BeginningArchiveTime"] == iso(2)
    queue = dc.FifoQueue(loop, "late.fifo")
    with pytest.raises(errors.InvalidParameter, match="before the topic's BeginningArchiveTime"):
        topic.subscribe(queue, replay_policy={"PointType": "Timestamp", "StartingPoint": iso(1)})
    topic.subscribe(queue, replay_policy={"PointType": "Timestamp", "StartingPoint": iso(2)})
    loop.run_until_idle()
    assert [e["Message"] for e in received(queue)] == [
        "book-day2", "pen-day2", "book-day3", "pen-day3"]


def test_ending_point_bounds_the_replay_and_stops_live_delivery(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    publish_days(clock, topic, range(0, 4))
    queue = dc.Queue(loop, "window")
    sub = topic.subscribe(queue, replay_policy={
        "PointType": "Timestamp", "StartingPoint": iso(1), "EndingPoint": iso(2.6)})
    loop.run_until_idle()
    assert sub.replay_status == "Completed"
    topic.publish("after", message_group_id="ledger", message_deduplication_id="after")
    assert sorted(e["Message"] for e in received(queue)) == [
        "book-day1", "book-day2", "pen-day1", "pen-day2"]


def test_a_new_replay_replaces_a_running_one(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    publish_days(clock, topic, range(0, 3))
    queue = dc.FifoQueue(loop, "again.fifo")
    sub = topic.subscribe(queue, replay_policy={"PointType": "Timestamp",
                                                "StartingPoint": iso(0)})
    sub.set_attribute("ReplayPolicy", {"PointType": "Timestamp", "StartingPoint": iso(2)})
    loop.run_until_idle()
    assert [e["Message"] for e in received(queue)] == ["book-day2", "pen-day2"]


def test_replay_through_raw_delivery_and_clearing_the_policy(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    publish_days(clock, topic, range(0, 2))
    queue = dc.FifoQueue(loop, "raw.fifo")
    sub = topic.subscribe(queue, raw_message_delivery=True, replay_policy={
        "PointType": "Timestamp", "StartingPoint": iso(1)})
    topic.publish("live", message_group_id="ledger", message_deduplication_id="live")
    sub.set_attribute("ReplayPolicy", "")  # cancel: the held live message is delivered now
    assert sub.replay_status is None and "ReplayStatus" not in sub.get_attributes()
    loop.run_until_idle()
    messages = queue.receive(max_messages=10)
    assert [m.body for m in messages] == ["live"]


def test_turning_the_archive_off_fails_a_pending_replay(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    publish_days(clock, topic, range(0, 2))
    sub = topic.subscribe(dc.FifoQueue(loop, "q.fifo"), replay_policy={
        "PointType": "Timestamp", "StartingPoint": iso(0)})
    topic.set_attribute("ArchivePolicy", {})
    loop.run_until_idle()
    assert sub.replay_status == "Failed"
    assert "ArchivePolicy" not in topic.get_attributes()


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        ({"MessageRetentionPeriod": "0"}, "from 1 to 365"),
        ({"MessageRetentionPeriod": "366"}, "from 1 to 365"),
        ({"MessageRetentionPeriod": "week"}, "from 1 to 365"),
        ({"Retention": "3"}, "unknown field"),
        ("{nope", "ArchivePolicy: failed to parse JSON"),
    ],
)
def test_bad_archive_policies(loop: dc.EventLoop, policy: Any, text: str) -> None:
    topic = dc.Topic(loop, "a.fifo")
    with pytest.raises(errors.InvalidParameter, match=text):
        topic.set_attribute("ArchivePolicy", policy)
    assert "ArchivePolicy" not in topic.get_attributes()


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        ({"PointType": "Sequence", "StartingPoint": "2026-01-01T00:00:00Z"},
         "PointType must be Timestamp"),
        ({"PointType": "Timestamp"}, "StartingPoint is required"),
        ({"PointType": "Timestamp", "StartingPoint": "yesterday"}, "not an ISO-8601 timestamp"),
        ({"PointType": "Timestamp", "StartingPoint": "2026-01-03T00:00:00Z"},
         "must not be in the future"),
        ({"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z",
          "EndingPoint": "2025-12-31T00:00:00Z"}, "EndingPoint must not be before"),
    ],
)
def test_bad_replay_policies(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic, policy: Any, text: str
) -> None:
    clock.advance(DAY)
    sub = topic.subscribe(dc.FifoQueue(loop, "q.fifo"))
    with pytest.raises(errors.InvalidParameter, match=text):
        sub.set_attribute("ReplayPolicy", policy)
    assert sub.replay_status is None


def test_replay_needs_an_archive(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "plain.fifo")
    with pytest.raises(errors.InvalidParameter, match="has no ArchivePolicy"):
        topic.subscribe(dc.FifoQueue(loop, "q.fifo"), replay_policy={
            "PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z"})
    assert topic.subscriptions == []
