"""Queue basics: names, attributes (ranges, defaults, errors), create/delete, counts, tags, purge."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

EPOCH_S = 1_767_225_600  # 2026-01-01T00:00:00Z, the ManualClock's default wall time at 0.0


def state(q: dc.Queue) -> Any:
    """Everything a failed call must leave alone."""
    ledger = q._ledger
    return (
        q.get_attributes(),
        q.list_tags(),
        [(e.record.message_id, e.state, e.receive_count, e.deadline, e.receipt)
         for e in ledger.entries()],
        sorted(ledger.handles),
    )


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "A-z_09", "x" * 80])
def test_valid_names(loop: dc.EventLoop, name: str) -> None:
    q = dc.Queue(loop, name)
    assert q.name == name
    assert q.url == f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}"
    assert q.arn == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert repr(q) == f"Queue({name!r})"


@pytest.mark.parametrize("name", ["", "x" * 81, "a.b", "a b", "jobs.fifo", "a/b", "ü", 5, None])
def test_invalid_names(loop: dc.EventLoop, name: object) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        dc.Queue(loop, name)  # type: ignore[arg-type]
    assert info.value.message == (
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    )
    assert loop._resources_of("sqs") == []


# -- attributes: ranges and defaults ------------------------------------------------------------

RANGES = [
    # (AWS name, keyword, minimum, maximum, default)
    ("VisibilityTimeout", "visibility_timeout", 0, 43_200, 30),
    ("MessageRetentionPeriod", "message_retention_period", 60, 1_209_600, 345_600),
    ("DelaySeconds", "delay_seconds", 0, 900, 0),
    ("ReceiveMessageWaitTimeSeconds", "receive_message_wait_time_seconds", 0, 20, 0),
    ("MaximumMessageSize", "maximum_message_size", 1_024, 1_048_576, 1_048_576),
]


@pytest.mark.parametrize(("aws", "keyword", "low", "high", "default"), RANGES)
def test_attribute_defaults(
    loop: dc.EventLoop, aws: str, keyword: str, low: int, high: int, default: int
) -> None:
    q = dc.Queue(loop, "q")
    assert q.get_attributes([aws]) == {aws: str(default)}
    assert getattr(q, keyword) == default


@pytest.mark.parametrize(("aws", "keyword", "low", "high", "default"), RANGES)
def test_attribute_bounds_are_accepted(
    loop: dc.EventLoop, aws: str, keyword: str, low: int, high: int, default: int
) -> None:
    lo = dc.Queue(loop, "lo", **{keyword: low})
    hi = dc.Queue(loop, "hi", attributes={aws: str(high)})
    assert (getattr(lo, keyword), getattr(hi, keyword)) == (low, high)
    assert lo.get_attributes([aws]) == {aws: str(low)}
    assert hi.get_attributes([aws]) == {aws: str(high)}


@pytest.mark.parametrize(("aws", "keyword", "low", "high", "default"), RANGES)
def test_attribute_out_of_range_is_refused(
    loop: dc.EventLoop, aws: str, keyword: str, low: int, high: int, default: int
) -> None:
    for bad in (low - 1, high + 1):
        with pytest.raises(errors.InvalidAttributeValue) as info:
            dc.Queue(loop, "q", **{keyword: bad})
        assert info.value.code == "InvalidAttributeValue"
        assert info.value.message == (
            f"Invalid value for the parameter {aws}: {bad!r}. "
            f"It must be an integer from {low} to {high}."
        )
    q = dc.Queue(loop, "q")
    before = state(q)
    for bad in (str(low - 1), str(high + 1), "abc", "1.5", True, 1.5, None, ""):
        with pytest.raises(errors.InvalidAttributeValue):
            q.set_attributes({aws: bad})
    assert state(q) == before
    assert loop._resources_of("sqs") == [q]


def test_get_attributes_all_exactly(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    clock.advance(1.5)
    q = dc.Queue(loop, "q")
    assert q.get_attributes() == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "CreatedTimestamp": str(EPOCH_S + 1),  # epoch seconds, whole
        "LastModifiedTimestamp": str(EPOCH_S + 1),
        "VisibilityTimeout": "30",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "MaximumMessageSize": "1048576",
        "SqsManagedSseEnabled": "true",
    }
    assert q.get_attributes(["All"]) == q.get_attributes()
    assert q.get_attributes(["QueueArn", "DelaySeconds"]) == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "DelaySeconds": "0",
    }
    assert q.get_attributes("VisibilityTimeout") == {"VisibilityTimeout": "30"}
    assert q.get_attributes(["RedrivePolicy"]) == {}  # known, but not set


def test_set_attributes_changes_values_and_last_modified(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    clock.advance(100)
    q.set_attributes({"VisibilityTimeout": "60", "DelaySeconds": 5, "Policy": "{}"})
    got = q.get_attributes()
    assert (got["VisibilityTimeout"], got["DelaySeconds"], got["Policy"]) == ("60", "5", "{}")
    assert (got["CreatedTimestamp"], got["LastModifiedTimestamp"]) == (
        str(EPOCH_S), str(EPOCH_S + 100),
    )
    assert (q.visibility_timeout, q.delay_seconds) == (60, 5)


def test_set_attributes_is_all_or_nothing(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(errors.InvalidAttributeValue):
        q.set_attributes({"VisibilityTimeout": "60", "DelaySeconds": "901"})
    with pytest.raises(errors.InvalidAttributeName):
        q.set_attributes({"VisibilityTimeout": "60", "Bogus": "1"})
    with pytest.raises(errors.InvalidAttributeValue, match="mapping"):
        q.set_attributes([("VisibilityTimeout", "60")])  # type: ignore[arg-type]
    assert state(q) == before


@pytest.mark.parametrize(
    "name",
    ["Bogus", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
     "FifoThroughputLimit", "QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp", "All"],
)
def test_unknown_and_read_only_names_are_invalid_attribute_names(
    loop: dc.EventLoop, name: str
) -> None:
    with pytest.raises(errors.InvalidAttributeName) as info:
        dc.Queue(loop, "q", attributes={name: "true"})
    assert info.value.message == f"Unknown Attribute {name}."
    assert loop._resources_of("sqs") == []
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(errors.InvalidAttributeName):
        q.set_attributes({name: "1"})
    assert state(q) == before


def test_get_attributes_with_an_unknown_name(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidAttributeName, match="Unknown Attribute Bogus."):
        q.get_attributes(["VisibilityTimeout", "Bogus"])
    with pytest.raises(errors.InvalidAttributeName):
        q.get_attributes(["FifoQueue"])


def test_sse_attributes(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.set_attributes({"KmsMasterKeyId": "alias/key", "KmsDataKeyReusePeriodSeconds": "6000"})
    got = q.get_attributes()
    assert (got["KmsMasterKeyId"], got["KmsDataKeyReusePeriodSeconds"]) == ("alias/key", "6000")
    assert got["SqsManagedSseEnabled"] == "false"
    q.set_attributes({"KmsMasterKeyId": ""})
    assert "KmsMasterKeyId" not in q.get_attributes()


# -- creating twice -----------------------------------------------------------------------------


def test_create_twice_with_the_same_or_no_attributes_returns_the_same_queue(
    loop: dc.EventLoop,
) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=69, attributes={"DelaySeconds": "1"})
    assert dc.Queue(loop, "q") is q
    assert dc.Queue(loop, "q", visibility_timeout=69) is q
    assert dc.Queue(loop, "q", attributes={"VisibilityTimeout": "69", "DelaySeconds": 1}) is q
    assert dc.Queue(loop, "q", delay_seconds=1, maximum_message_size=1_048_576) is q
    assert q.visibility_timeout == 69


def test_create_twice_with_a_different_value_fails(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", attributes={"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "1"})
    before = state(q)
    with pytest.raises(errors.QueueAlreadyExists) as info:
        dc.Queue(loop, "q", attributes={"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "2"})
    assert info.value.code == "QueueAlreadyExists"
    assert info.value.message == (
        "A queue already exists with the same name and a different value for attribute "
        "DelaySeconds"
    )
    with pytest.raises(errors.QueueAlreadyExists):
        dc.Queue(loop, "q", visibility_timeout=30, receive_message_wait_time_seconds=2)
    assert state(q) == before


def test_create_again_compares_with_the_current_values(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", attributes={"VisibilityTimeout": "1"})
    q.set_attributes({"VisibilityTimeout": "2"})
    assert dc.Queue(loop, "q", attributes={"VisibilityTimeout": "2"}) is q
    with pytest.raises(errors.QueueAlreadyExists, match="attribute VisibilityTimeout"):
        dc.Queue(loop, "q", attributes={"VisibilityTimeout": "1"})


def test_create_again_with_a_redrive_policy_in_any_form(loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq")
    policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}
    q = dc.Queue(loop, "q", redrive_policy=policy)
    assert q.redrive_policy == dc.RedrivePolicy(dlq, 3)
    assert dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, 3)) is q
    assert dc.Queue(loop, "q", attributes={"RedrivePolicy": json.dumps(policy)}) is q
    with pytest.raises(errors.QueueAlreadyExists, match="attribute RedrivePolicy"):
        dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, 4))


def test_create_again_with_a_bad_value_is_refused(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidAttributeValue):
        dc.Queue(loop, "q", visibility_timeout=-1)
    with pytest.raises(errors.InvalidAttributeName):
        dc.Queue(loop, "q", attributes={"Bogus": "1"})
    assert dc.Queue(loop, "q") is q


# -- deleting -----------------------------------------------------------------------------------


def test_deleted_queue_refuses_every_operation(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    handle = q.receive()[0].receipt_handle
    q.delete_queue()
    calls = [
        lambda: q.send("x"),
        lambda: q.send_batch(["x"]),
        lambda: q.receive(),
        lambda: q.delete(handle),
        lambda: q.delete_batch([handle]),
        lambda: q.change_visibility(handle, 10),
        lambda: q.change_visibility_batch([{"Id": "a", "ReceiptHandle": handle,
                                             "VisibilityTimeout": 1}]),
        lambda: q.purge(),
        lambda: q.get_attributes(),
        lambda: q.set_attributes({"DelaySeconds": 1}),
        lambda: q.tag({"a": "b"}),
        lambda: q.untag(["a"]),
        lambda: q.list_tags(),
        lambda: q.list_dead_letter_source_queues(),
        lambda: q.delete_queue(),
    ]
    for call in calls:
        with pytest.raises(errors.QueueDoesNotExist) as info:
            call()
        assert info.value.code == "QueueDoesNotExist"
        assert info.value.query_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert loop._lookup("sqs", "q") is None
    assert q._cond not in loop._conditions  # the loop forgets it: no leak per deleted queue


def test_a_name_can_be_reused_60_seconds_after_delete(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=5)
    q.delete_queue()
    clock.advance(59.999)
    with pytest.raises(errors.QueueDeletedRecently) as info:
        dc.Queue(loop, "q")
    assert info.value.code == "QueueDeletedRecently"
    assert info.value.message == (
        "You must wait 60 seconds after deleting a queue before you can create another with "
        "the same name (q)."
    )
    assert loop._lookup("sqs", "q") is None
    dc.Queue(loop, "other")  # other names are fine meanwhile
    clock.advance_to(60.0)
    fresh = dc.Queue(loop, "q")
    assert fresh is not q
    assert fresh.visibility_timeout == 30
    assert len(fresh) == 0


def test_deleting_wakes_a_long_poll_with_queue_does_not_exist() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    result: list[BaseException] = []

    def poll() -> None:
        try:
            q.receive(wait_seconds=20)
        except errors.DecouplingError as error:
            result.append(error)

    waiter = threading.Thread(target=poll)
    waiter.start()
    while not q._waiting:  # wait until it is blocked
        waiter.join(0.001)
    q.delete_queue()
    waiter.join(2)
    assert [type(e) for e in result] == [errors.QueueDoesNotExist]
    assert clock.now() == 0.0


# -- counts -------------------------------------------------------------------------------------


def test_approximate_counts_are_exact(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    for i in range(5):
        q.send(f"m{i}")
    q.send("later", delay_seconds=10)
    q.receive(max_messages=2, visibility_timeout=20)

    def counts() -> tuple[int, int, int, int]:
        a = q.get_attributes()
        got = (int(a["ApproximateNumberOfMessages"]),
               int(a["ApproximateNumberOfMessagesNotVisible"]),
               int(a["ApproximateNumberOfMessagesDelayed"]), len(q))
        assert got[:3] == (q.approximate_number_of_messages,
                           q.approximate_number_of_messages_not_visible,
                           q.approximate_number_of_messages_delayed)
        return got

    assert counts() == (3, 2, 1, 6)
    clock.advance(9.999)
    assert counts() == (3, 2, 1, 6)
    clock.advance(0.001)
    assert counts() == (4, 2, 0, 6)
    clock.advance(10)
    assert counts() == (6, 0, 0, 6)


# -- tags ---------------------------------------------------------------------------------------


def test_tags(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", tags={"team": "a", "Team": "b"})
    assert q.list_tags() == {"team": "a", "Team": "b"}  # keys are case-sensitive
    q.tag({"team": "c", "env": ""})
    assert q.list_tags() == {"team": "c", "Team": "b", "env": ""}
    q.untag(["Team", "missing"])
    assert q.list_tags() == {"team": "c", "env": ""}


@pytest.mark.parametrize(
    "tags",
    [
        {"": "v"},
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {"k": 1},
        {1: "v"},
        [("k", "v")],
        {f"k{i}": "v" for i in range(49)},  # 2 already there + 49 > 50
    ],
)
def test_bad_tags_change_nothing(loop: dc.EventLoop, tags: Any) -> None:
    q = dc.Queue(loop, "q", tags={"a": "1", "b": "2"})
    before = state(q)
    with pytest.raises(errors.InvalidParameterValue):
        q.tag(tags)
    assert state(q) == before


def test_fifty_tags_are_allowed(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", tags={f"k{i}": "v" for i in range(50)})
    assert len(q.list_tags()) == 50
    q.tag({"k0": "replaced"})  # replacing does not add
    assert q.list_tags()["k0"] == "replaced"
    assert dc.Queue(loop, "q2", tags={"k" * 128: "v" * 256}).list_tags() == {"k" * 128: "v" * 256}


def test_bad_tags_at_creation_create_nothing(loop: dc.EventLoop) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        dc.Queue(loop, "q", tags={"": "v"})
    assert loop._lookup("sqs", "q") is None


# -- purge --------------------------------------------------------------------------------------


def test_purge_deletes_visible_in_flight_and_delayed(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("visible")
    q.send("in flight")
    q.send("delayed", delay_seconds=60)
    flying = q.receive()[0]
    q.purge()
    assert len(q) == 0
    assert q.get_attributes()["ApproximateNumberOfMessagesDelayed"] == "0"
    clock.advance(120)
    assert q.receive(max_messages=10) == []
    q.delete(flying.receipt_handle)  # a handle of a purged message: succeeds, does nothing
    with pytest.raises(errors.InvalidParameterValue):
        q.change_visibility(flying.receipt_handle, 10)


def test_a_second_purge_within_60_seconds_fails(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.purge()
    clock.advance(30)
    q.send("kept")
    clock.advance(29.999)
    with pytest.raises(errors.PurgeQueueInProgress) as info:
        q.purge()
    assert (info.value.code, info.value.status) == ("PurgeQueueInProgress", 403)
    assert info.value.message == "Only one PurgeQueue operation on q is allowed every 60 seconds."
    assert len(q) == 1  # the refused purge deleted nothing
    clock.advance_to(60.0)
    q.purge()
    assert len(q) == 0


def test_threads_creating_one_name_at_once_all_get_that_queue(
    loop: dc.EventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CreateQueue is idempotent: every racer gets the one queue, none an error. The queue is
    # built under the same hold of the loop's lock that found the name free (there is no gap
    # between __new__ and __init__ for another creator to fall into).
    held_on_entry: list[bool] = []
    original = dc.Queue.__init__

    def spy(self: dc.Queue, *args: Any, **kwargs: Any) -> None:
        if not self._initialized:
            held_on_entry.append(loop._lock._is_owned())  # type: ignore[attr-defined]
        original(self, *args, **kwargs)

    monkeypatch.setattr(dc.Queue, "__init__", spy)
    barrier = threading.Barrier(8)
    made: list[dc.Queue] = []
    failed: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            made.append(dc.Queue(loop, "raced", visibility_timeout=7))
        except BaseException as error:  # reported below
            failed.append(error)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    assert len(made) == 8 and all(q is made[0] for q in made)
    assert loop._lookup("sqs", "raced") is made[0]
    assert held_on_entry == [True]
