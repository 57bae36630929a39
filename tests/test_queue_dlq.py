"""Dead-letter queues: redrive, RedrivePolicy/RedriveAllowPolicy rules, source listing, and
message move tasks."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

EPOCH_MS = 1_767_225_600_000


def state(q: dc.Queue) -> Any:
    ledger = q._ledger
    return (
        q.get_attributes(),
        [(e.record.message_id, e.state, e.receive_count) for e in ledger.entries()],
        q.list_message_move_tasks(10),
    )


def pipe(loop: dc.EventLoop, max_receive_count: int = 3, **dlq_kwargs: Any
         ) -> tuple[dc.Queue, dc.Queue]:
    dlq = dc.Queue(loop, "dlq", **dlq_kwargs)
    source = dc.Queue(loop, "source", visibility_timeout=30,
                      redrive_policy=dc.RedrivePolicy(dlq, max_receive_count))
    return source, dlq


# -- redrive ------------------------------------------------------------------------------------


def test_the_fourth_receive_finds_it_in_the_dlq(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    source, dlq = pipe(loop, 3)
    clock.advance(1)
    sent = source.send("poison", message_attributes={"MyAttribute": "foobar"})
    for count in (1, 2, 3):
        [m] = source.receive()
        assert m.receive_count == count
        clock.advance(30)
    assert (source.approximate_number_of_messages, dlq.approximate_number_of_messages) == (1, 0)
    assert source.receive(max_messages=10) == []  # the 4th receive moves it instead
    assert (len(source), dlq.approximate_number_of_messages) == (0, 1)
    [dead] = dlq.receive()
    assert dead.message_id == sent.message_id
    assert dead.body == "poison"
    assert dead.md5_of_message_attributes == "adb59cd4678ea5a855436b949cd07ab6"
    assert dead.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": str(EPOCH_MS + 1_000),  # the original send
        "ApproximateReceiveCount": "4",  # 3 in the source, kept, + this receive
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 1_000),  # kept too
        "DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:000000000000:source",
    }


def test_max_receive_count_one_shows_two_on_the_first_dlq_receive(loop: dc.EventLoop) -> None:
    # The AWS-validated sequence of LocalStack's test_dead_letter_queue_message_attributes.
    source, dlq = pipe(loop, 1)
    source.send("message-1")
    assert [m.receive_count for m in source.receive(visibility_timeout=0)] == [1]
    assert source.receive(visibility_timeout=0) == []
    [dead] = dlq.receive()
    assert dead.attributes["ApproximateReceiveCount"] == "2"


def test_a_standard_dlq_keeps_the_original_enqueue_time(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    source, dlq = pipe(loop, 1, message_retention_period=200)
    source.send("x")
    source.receive(visibility_timeout=100)
    clock.advance(100)
    source.receive()  # moved at t=100
    assert len(dlq) == 1
    clock.advance_to(199.999)
    assert len(dlq) == 1
    clock.advance_to(200.0)  # sent at 0 + the DLQ's 200 s
    assert len(dlq) == 0


def test_a_long_poll_on_the_dlq_wakes_when_a_message_moves() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    source, dlq = pipe(loop, 1)
    source.send("x")
    source.receive(visibility_timeout=0)
    result: list[list[dc.Message]] = []
    poll = threading.Thread(target=lambda: result.append(dlq.receive(wait_seconds=20)))
    poll.start()
    while not dlq._waiting:
        poll.join(0.001)
    assert source.receive() == []
    poll.join(2)
    assert [m.body for m in result[0]] == ["x"]


def test_without_a_dlq_there_is_no_limit(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    source, dlq = pipe(loop, 1)
    dlq.delete_queue()
    source.send("x")
    for count in range(1, 6):
        assert [m.receive_count for m in source.receive(visibility_timeout=0)] == [count]


def test_messages_under_the_limit_stay(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    source, dlq = pipe(loop, 2)
    source.send("a")
    source.send("b")
    source.receive(max_messages=10, visibility_timeout=0)  # both at 1
    [b] = [m for m in source.receive(max_messages=10, visibility_timeout=0) if m.body == "b"]
    source.delete(b.receipt_handle)  # a is at 2, b deleted
    assert source.receive(max_messages=10) == []
    assert [m.body for m in dlq.receive(max_messages=10)] == ["a"]


# -- RedrivePolicy ------------------------------------------------------------------------------


def test_redrive_policy_round_trip(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q", attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "42"})})
    assert q.redrive_policy == dc.RedrivePolicy(dlq.arn, 42)
    assert q.get_attributes(["RedrivePolicy"]) == {"RedrivePolicy": (
        '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":42}'
    )}
    q.set_attributes({"RedrivePolicy": ""})
    assert q.redrive_policy is None
    assert "RedrivePolicy" not in q.get_attributes()


@pytest.mark.parametrize("count", [1, 1000])
def test_max_receive_count_bounds(loop: dc.EventLoop, count: int) -> None:
    dlq = dc.Queue(loop, "dlq")
    assert dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, count)).redrive_policy == (
        dc.RedrivePolicy(dlq, count)
    )


@pytest.mark.parametrize(
    "policy",
    [
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 0},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 1001},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq",
         "maxReceiveCount": "invalid"},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": True},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
        {"maxReceiveCount": 3},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 3,
         "extra": 1},
        {"deadLetterTargetArn": "dummy", "maxReceiveCount": 3},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:missing",
         "maxReceiveCount": 3},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:999999999999:dlq", "maxReceiveCount": 3},
        {"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:000000000000:dlq", "maxReceiveCount": 3},
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:q", "maxReceiveCount": 3},
        "not json",
        "[1, 2]",
    ],
)
def test_bad_redrive_policies_change_nothing(loop: dc.EventLoop, policy: Any) -> None:
    dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q")
    before = state(q)
    value = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(errors.InvalidAttributeValue) as info:
        q.set_attributes({"RedrivePolicy": value})
    assert info.value.message.startswith("Value ")
    assert "RedrivePolicy is invalid" in info.value.message
    assert state(q) == before
    if value.endswith(':q", "maxReceiveCount": 3}'):
        return  # only q may not be its own dead-letter queue
    with pytest.raises(errors.InvalidAttributeValue):
        dc.Queue(loop, "other", attributes={"RedrivePolicy": value})
    assert loop._lookup("sqs", "other") is None


def test_the_dlq_must_be_of_the_same_type(loop: dc.EventLoop) -> None:
    fifo_dlq = dc.FifoQueue(loop, "dlq.fifo")
    with pytest.raises(errors.InvalidAttributeValue, match="must also be a standard queue"):
        dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(fifo_dlq, 3))
    assert loop._lookup("sqs", "q") is None


# -- RedriveAllowPolicy -------------------------------------------------------------------------


def test_deny_all_refuses_every_source(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq", redrive_allow_policy=dc.RedriveAllowPolicy("denyAll"))
    assert dlq.get_attributes(["RedriveAllowPolicy"]) == {
        "RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'
    }
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(errors.InvalidAttributeValue, match="does not allow"):
        q.set_attributes({"RedrivePolicy": dc.RedrivePolicy(dlq, 3)})
    assert state(q) == before


def test_by_queue_allows_only_the_listed_sources(loop: dc.EventLoop) -> None:
    allowed_arn = loop.arn("sqs", "allowed")
    dlq = dc.Queue(loop, "dlq", attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [allowed_arn]})})
    assert dlq.redrive_allow_policy == dc.RedriveAllowPolicy("byQueue", (allowed_arn,))
    ok = dc.Queue(loop, "allowed", redrive_policy=dc.RedrivePolicy(dlq, 3))
    assert ok.redrive_policy is not None
    with pytest.raises(errors.InvalidAttributeValue, match="does not allow"):
        dc.Queue(loop, "other", redrive_policy=dc.RedrivePolicy(dlq, 3))
    assert dlq.list_dead_letter_source_queues() == [ok]


def test_allow_all_is_the_default(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq", redrive_allow_policy={"redrivePermission": "allowAll"})
    assert dlq.redrive_allow_policy == dc.RedriveAllowPolicy()
    assert dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, 3)).redrive_policy is not None


@pytest.mark.parametrize(
    "policy",
    [
        {"redrivePermission": "sometimes"},
        {"redrivePermission": "byQueue"},
        {"redrivePermission": "byQueue", "sourceQueueArns": []},
        {"redrivePermission": "byQueue", "sourceQueueArns": [f"arn:{i}" for i in range(11)]},
        {"redrivePermission": "allowAll", "sourceQueueArns": ["arn:x"]},
        {"redrivePermission": "byQueue", "sourceQueueArns": "arn:x"},
        {"redrivePermission": "denyAll", "unknown": 1},
        "not json",
    ],
)
def test_bad_redrive_allow_policies(loop: dc.EventLoop, policy: Any) -> None:
    q = dc.Queue(loop, "q")
    before = state(q)
    value = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(errors.InvalidAttributeValue, match="RedriveAllowPolicy is invalid"):
        q.set_attributes({"RedriveAllowPolicy": value})
    assert state(q) == before


def test_list_dead_letter_source_queues(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq")
    b = dc.Queue(loop, "b", redrive_policy=dc.RedrivePolicy(dlq, 3))
    a = dc.Queue(loop, "a", redrive_policy=dc.RedrivePolicy(dlq, 5))
    dc.Queue(loop, "unrelated")
    assert dlq.list_dead_letter_source_queues() == [a, b]
    b.delete_queue()
    assert dlq.list_dead_letter_source_queues() == [a]
    a.set_attributes({"RedrivePolicy": ""})
    assert dlq.list_dead_letter_source_queues() == []


# -- message move tasks -------------------------------------------------------------------------


def dead_letters(clock: dc.ManualClock, loop: dc.EventLoop, n: int) -> tuple[dc.Queue, dc.Queue]:
    """A source with n messages moved to its DLQ (maxReceiveCount 1)."""
    source, dlq = pipe(loop, 1)
    source.send_batch([f"m{i}" for i in range(min(n, 10))])
    for start in range(10, n, 10):
        source.send_batch([f"m{i}" for i in range(start, min(n, start + 10))])
    while source.receive(max_messages=10, visibility_timeout=0):
        pass
    assert (len(source), len(dlq)) == (0, n)
    return source, dlq


def test_move_back_to_the_original_source(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    source, dlq = dead_letters(clock, loop, 2)
    before_ids = {e.record.message_id for e in dlq._ledger.entries()}
    handle = dlq.start_message_move_task()
    doc = json.loads(base64.b64decode(handle))
    assert set(doc) == {"taskId", "sourceArn"} and doc["sourceArn"] == dlq.arn
    clock.advance(0)  # the task runs as timers on the loop
    assert (len(source), len(dlq)) == (2, 0)
    moved = source.receive(max_messages=10)
    assert sorted(m.body for m in moved) == ["m0", "m1"]
    assert not {m.message_id for m in moved} & before_ids  # moved messages get new ids
    for m in moved:
        assert m.receive_count == 1  # a fresh start
        assert "DeadLetterQueueSourceArn" not in m.attributes
    assert dlq.list_message_move_tasks() == [{
        "Status": "COMPLETED",
        "SourceArn": dlq.arn,
        "ApproximateNumberOfMessagesMoved": 2,
        "ApproximateNumberOfMessagesToMove": 2,
        "StartedTimestamp": EPOCH_MS,
    }]


def test_move_at_a_rate_on_virtual_time(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    _, dlq = dead_letters(clock, loop, 25)
    dest = dc.Queue(loop, "dest")
    handle = dlq.start_message_move_task(dest.arn, max_messages_per_second=10)
    running = {
        "TaskHandle": handle,
        "Status": "RUNNING",
        "SourceArn": dlq.arn,
        "DestinationArn": dest.arn,
        "MaxNumberOfMessagesPerSecond": 10,
        "ApproximateNumberOfMessagesMoved": 0,
        "ApproximateNumberOfMessagesToMove": 25,
        "StartedTimestamp": EPOCH_MS,
    }
    assert dlq.list_message_move_tasks() == [running]
    clock.advance(0)
    assert (len(dest), len(dlq)) == (10, 15)
    clock.advance(0.999)
    assert len(dest) == 10
    clock.advance_to(1.0)
    assert len(dest) == 20
    assert dlq.list_message_move_tasks() == [dict(running, ApproximateNumberOfMessagesMoved=20)]
    clock.advance_to(2.0)
    assert (len(dest), len(dlq)) == (25, 0)
    [done] = dlq.list_message_move_tasks()
    assert (done["Status"], done["ApproximateNumberOfMessagesMoved"], "TaskHandle" in done) == (
        "COMPLETED", 25, False,
    )


def test_one_active_task_per_source(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    _, dlq = dead_letters(clock, loop, 5)
    dlq.start_message_move_task(max_messages_per_second=1)
    before = state(dlq)
    with pytest.raises(errors.InvalidParameterValue) as info:
        dlq.start_message_move_task()
    assert info.value.message == (
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time."
    )
    assert state(dlq) == before
    clock.advance(5)
    second = dlq.start_message_move_task()  # the first one completed: a new one may start
    assert [t.get("TaskHandle") for t in dlq.list_message_move_tasks(10)] == [second, None]


def test_cancel(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    _, dlq = dead_letters(clock, loop, 10)
    dest = dc.Queue(loop, "dest")
    handle = dlq.start_message_move_task(dest, max_messages_per_second=1)
    clock.advance(1)
    assert len(dest) == 2
    assert dlq.cancel_message_move_task(handle) == 2
    clock.advance(100)
    assert (len(dest), len(dlq)) == (2, 8)  # the rest stays in the DLQ
    [task] = dlq.list_message_move_tasks()
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"], "TaskHandle" in task) == (
        "CANCELLED", 2, False,
    )
    with pytest.raises(errors.UnsupportedOperation):
        dlq.cancel_message_move_task(handle)


def test_cancel_errors(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    _, dlq = dead_letters(clock, loop, 1)
    with pytest.raises(errors.InvalidParameterValue) as bad:
        dlq.cancel_message_move_task("foobared")
    assert bad.value.message == "Value for parameter TaskHandle is invalid."

    def handle(task_id: str, arn: str) -> str:
        return base64.b64encode(
            json.dumps({"taskId": task_id, "sourceArn": arn}).encode()).decode()

    with pytest.raises(errors.ResourceNotFoundException) as no_source:
        dlq.cancel_message_move_task(handle("t", "arn:aws:sqs:us-east-1:878966065785:nope"))
    assert no_source.value.message == (
        "The resource that you specified for the SourceArn parameter doesn't exist."
    )
    with pytest.raises(errors.ResourceNotFoundException) as no_task:
        dlq.cancel_message_move_task(handle("10f57157-fc38-4da9-a113-4de7e12d05aa", dlq.arn))
    assert (no_task.value.message, no_task.value.status) == ("Task does not exist.", 404)


def test_start_errors_change_nothing(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    source, dlq = dead_letters(clock, loop, 1)
    fifo = dc.FifoQueue(loop, "f.fifo")
    before = state(dlq)
    with pytest.raises(errors.InvalidParameterValue) as not_dlq:
        source.start_message_move_task()
    assert not_dlq.value.message == "Source queue must be configured as a Dead Letter Queue."
    with pytest.raises(errors.ResourceNotFoundException) as missing:
        dlq.start_message_move_task(dlq.arn + "doesntexist")
    assert missing.value.message == (
        "The resource that you specified for the DestinationArn parameter doesn't exist."
    )
    with pytest.raises(errors.InvalidParameterValue, match="same type"):
        dlq.start_message_move_task(fifo)
    for rate in (0, 501, True, 2.5):
        with pytest.raises(errors.InvalidParameterValue, match="MaxNumberOfMessagesPerSecond"):
            dlq.start_message_move_task(max_messages_per_second=rate)  # type: ignore[arg-type]
    for results in (0, 11):
        with pytest.raises(errors.InvalidParameterValue, match="MaxResults"):
            dlq.list_message_move_tasks(results)
    assert state(dlq) == before


def test_a_deleted_destination_fails_the_task(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    _, dlq = dead_letters(clock, loop, 10)
    dest = dc.Queue(loop, "dest")
    dlq.start_message_move_task(dest, max_messages_per_second=1)
    clock.advance(2)  # 3 moved (t = 0, 1, 2)
    dest.delete_queue()
    clock.advance(1)
    [task] = dlq.list_message_move_tasks()
    assert (task["Status"], task["FailureReason"], task["ApproximateNumberOfMessagesMoved"]) == (
        "FAILED", "AWS.SimpleQueueService.NonExistentQueue", 3,
    )
    assert len(dlq) == 7  # nothing was lost
    clock.advance(10)
    assert len(dlq) == 7


def test_a_deleted_original_source_fails_the_task(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    source, dlq = dead_letters(clock, loop, 3)
    other = dc.Queue(loop, "other", redrive_policy=dc.RedrivePolicy(dlq, 1))
    source.delete_queue()
    dlq.start_message_move_task()
    clock.advance(0)
    [task] = dlq.list_message_move_tasks()
    assert (task["Status"], task["FailureReason"]) == (
        "FAILED", "AWS.SimpleQueueService.NonExistentQueue",
    )
    assert (len(dlq), len(other)) == (3, 0)
