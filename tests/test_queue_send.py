"""Sending: results, body and size rules, delays, group ids, and SendMessageBatch."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH_MS = 1_767_225_600_000
MIB = 1_048_576


def state(q: dc.Queue) -> Any:
    ledger = q._ledger
    return (
        q.get_attributes(),
        [(e.record.message_id, e.state, e.receive_count, e.available_at)
         for e in ledger.entries()],
    )


# -- send ---------------------------------------------------------------------------------------


def test_send_result(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    plain = q.send("message-1")
    assert UUID.fullmatch(plain.message_id)
    assert plain.md5_of_message_body == "3d6b824fd8c1520e9a047d21fee6fb1f"
    assert plain.md5_of_message_attributes is None and plain.sequence_number is None
    assert plain.to_aws() == {
        "MessageId": plain.message_id, "MD5OfMessageBody": "3d6b824fd8c1520e9a047d21fee6fb1f",
    }
    with_attrs = q.send("message-1", message_attributes={"MyAttribute": "foobar"})
    assert with_attrs.to_aws() == {
        "MessageId": with_attrs.message_id,
        "MD5OfMessageBody": "3d6b824fd8c1520e9a047d21fee6fb1f",
        "MD5OfMessageAttributes": "adb59cd4678ea5a855436b949cd07ab6",
    }
    assert with_attrs.message_id != plain.message_id


def test_sent_message_comes_back_as_sent(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    clock.advance(2.5)
    sent = q.send("hello", message_attributes={"n": 5, "s": "x", "b": b"\x00"},
                  aws_trace_header="Root=1-abc")
    clock.advance(1)
    [m] = q.receive()
    assert (m.message_id, m.body) == (sent.message_id, "hello")
    assert m.message_attributes == {
        "n": dc.MessageAttributeValue("Number", "5"),
        "s": dc.MessageAttributeValue("String", "x"),
        "b": dc.MessageAttributeValue("Binary", None, b"\x00"),
    }
    assert m.md5_of_message_attributes == sent.md5_of_message_attributes
    assert m.attributes["SentTimestamp"] == str(EPOCH_MS + 2_500)
    assert m.attributes["AWSTraceHeader"] == "Root=1-abc"


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ("", errors.MissingParameter, "MissingParameter"),
        ("bad \x00", errors.InvalidMessageContents, "InvalidMessageContents"),
        ("lone \udc00", errors.InvalidMessageContents, "InvalidMessageContents"),
        (b"bytes", errors.InvalidParameterValue, "InvalidParameterValue"),
        (None, errors.InvalidParameterValue, "InvalidParameterValue"),
    ],
)
def test_bad_bodies_change_nothing(
    loop: dc.EventLoop, body: Any, error: type[Exception], code: str
) -> None:
    q = dc.Queue(loop, "q")
    q.send("existing")
    before = state(q)
    with pytest.raises(error) as info:
        q.send(body)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert state(q) == before


def test_size_limit_counts_body_and_attributes(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", maximum_message_size=1024)
    q.send("a" * 1024)  # exactly the limit is allowed
    q.send("a" * 1016, message_attributes={"k": "x"})  # 1016 + 1 + 6 + 1
    q.send("é" * 512)  # 1024 UTF-8 bytes
    before = state(q)
    for body, attrs in (("a" * 1025, None), ("a" * 1017, {"k": "x"}), ("é" * 512 + "a", None)):
        with pytest.raises(errors.InvalidParameterValue) as info:
            q.send(body, message_attributes=attrs)
        assert info.value.message == (
            "One or more parameters are invalid. Reason: Message must be shorter than 1024 "
            "bytes."
        )
    assert state(q) == before


def test_default_size_limit_is_one_mebibyte(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("a" * (MIB - 8), message_attributes={"k": "x"})
    with pytest.raises(errors.InvalidParameterValue, match="shorter than 1048576 bytes"):
        q.send("a" * (MIB - 7), message_attributes={"k": "x"})
    assert len(q) == 1


def test_bad_attributes_change_nothing(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    before = state(q)
    for attrs in ({f"a{i}": "v" for i in range(11)}, {"AWS.x": "v"}, {"n": float("nan")},
                  {"e": ""}, {"x": {"DataType": "Bogus", "StringValue": "v"}}):
        with pytest.raises(errors.InvalidParameterValue):
            q.send("x", message_attributes=attrs)  # type: ignore[arg-type]
    assert state(q) == before


# -- delays -------------------------------------------------------------------------------------


def take(q: dc.Queue) -> list[str]:
    """Receive what is visible and delete it; the bodies."""
    got = q.receive(max_messages=10)
    for m in got:
        q.delete(m.receipt_handle)
    return [m.body for m in got]


def test_per_message_delay(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("late", delay_seconds=900)
    q.send("now", delay_seconds=0)
    assert take(q) == ["now"]
    clock.advance(899.999)
    assert take(q) == []
    assert q.approximate_number_of_messages_delayed == 1
    clock.advance_to(900.0)
    assert take(q) == ["late"]


def test_queue_delay_applies_unless_the_message_says_otherwise(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", delay_seconds=10)
    q.send("queue default")
    q.send("own zero", delay_seconds=0)
    q.send("own five", delay_seconds=5)
    assert take(q) == ["own zero"]
    clock.advance(5)
    assert take(q) == ["own five"]
    clock.advance(4.999)
    assert take(q) == []
    clock.advance_to(10.0)
    assert take(q) == ["queue default"]


def test_changing_the_queue_delay_affects_new_messages_only(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", delay_seconds=60)
    q.send("old")
    q.set_attributes({"DelaySeconds": "0"})
    q.send("new")
    assert take(q) == ["new"]
    clock.advance(60)
    assert take(q) == ["old"]


@pytest.mark.parametrize("delay", [-1, 901, True, "5", 1.5])
def test_bad_delays(loop: dc.EventLoop, delay: Any) -> None:
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(errors.InvalidParameterValue, match="DelaySeconds"):
        q.send("x", delay_seconds=delay)
    assert state(q) == before


# -- parameters that do not belong to a standard queue, group ids, trace headers ----------------


def test_deduplication_id_is_for_fifo_queues_only(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidParameterValue, match="MessageDeduplicationId"):
        q.send("x", message_deduplication_id="d")
    assert len(q) == 0


@pytest.mark.parametrize("group", ["t", "tenant-1", "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "g" * 128])
def test_valid_message_group_ids(loop: dc.EventLoop, group: str) -> None:
    q = dc.Queue(loop, "q")
    q.send("x", message_group_id=group)
    assert q.receive()[0].attributes["MessageGroupId"] == group


@pytest.mark.parametrize("group", ["", "group 123", "g" * 129, "ü", "tab\t", 5])
def test_invalid_message_group_ids(loop: dc.EventLoop, group: Any) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.send("x", message_group_id=group)
    assert info.value.message == (
        f"Value {group} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only "
        "include alphanumeric and punctuation characters. 1 to 128 in length."
    )
    assert len(q) == 0


@pytest.mark.parametrize("header", ["", 5, "x" * 16_385])
def test_invalid_trace_headers(loop: dc.EventLoop, header: Any) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.InvalidParameterValue, match="AWSTraceHeader"):
        q.send("x", aws_trace_header=header)
    assert len(q) == 0


# -- SendMessageBatch ---------------------------------------------------------------------------


def test_batch_of_plain_bodies(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    result = q.send_batch(["a", "message"])
    assert result.failed == []
    assert [(e["Id"], e["MD5OfMessageBody"]) for e in result.successful] == [
        ("0", "0cc175b9c0f1b6a831c399e269772661"), ("1", "78e731027d8fd50ed642340b7c9a63b3"),
    ]
    assert all(set(e) == {"Id", "MessageId", "MD5OfMessageBody"} for e in result.successful)
    got = q.receive(max_messages=10)
    assert [(m.message_id, m.body) for m in got] == [
        (result.successful[0]["MessageId"], "a"), (result.successful[1]["MessageId"], "message"),
    ]


def test_batch_with_per_entry_failures(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", maximum_message_size=1024)
    entries: list[Any] = [{"Id": str(i), "MessageBody": str(i)} for i in range(6)]
    entries[1] = {"Id": "1", "MessageBody": "\x01"}
    entries[2] = {"Id": "2", "MessageBody": "a" * 1025}
    entries[3] = {"Id": "3", "MessageBody": "x", "DelaySeconds": 901}
    entries[4] = {"Id": "4", "MessageBody": "late", "DelaySeconds": 10,
                  "MessageAttributes": {"k": {"DataType": "String", "StringValue": "x"}},
                  "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String",
                                                                 "StringValue": "Root=1"}}}
    entries.append({"Id": "6", "Body": "typo"})
    entries.append({"Id": "7"})
    result = q.send_batch(entries)
    assert [e["Id"] for e in result.successful] == ["0", "4", "5"]
    assert result.successful[1] == {
        "Id": "4", "MessageId": result.successful[1]["MessageId"],
        "MD5OfMessageBody": hashlib.md5(b"late").hexdigest(),
        "MD5OfMessageAttributes": "a45daa70926828a2f0a1db3418e6feb4",
    }
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in result.failed] == [
        ("1", "InvalidMessageContents", True),
        ("2", "InvalidParameterValue", True),
        ("3", "InvalidParameterValue", True),
        ("6", "InvalidParameterValue", True),
        ("7", "InvalidParameterValue", True),
    ]
    assert result.failed[1]["Message"] == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    )
    assert result.failed[3]["Message"] == "Unknown batch entry field(s): Body."
    assert result.failed[4]["Message"] == "The request must contain MessageBody."
    assert [m.body for m in q.receive(max_messages=10)] == ["0", "5"]
    clock.advance(10)
    [late] = q.receive()
    assert (late.body, late.attributes["AWSTraceHeader"]) == ("late", "Root=1")


def test_batch_total_is_held_to_one_mebibyte_not_the_queue_maximum(loop: dc.EventLoop) -> None:
    small = dc.Queue(loop, "small", maximum_message_size=2048)
    ok = small.send_batch([
        {"Id": "1", "MessageBody": "a" * 2040,
         "MessageAttributes": {"k": {"DataType": "String", "StringValue": "x"}}},
        {"Id": "2", "MessageBody": "a"},
    ])
    assert [e["Id"] for e in ok.successful] == ["1", "2"] and ok.failed == []
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(errors.BatchRequestTooLong) as info:
        q.send_batch([
            {"Id": "1", "MessageBody": "a" * (MIB - 8),
             "MessageAttributes": {"k": {"DataType": "String", "StringValue": "x"}}},
            {"Id": "2", "MessageBody": "a"},
        ])
    assert info.value.code == "BatchRequestTooLong"
    assert info.value.message == (
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
    )
    assert state(q) == before


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        ([], errors.EmptyBatchRequest, "There should be at least one SendMessageBatchRequestEntry in the request."),
        ([{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)],
         errors.TooManyEntriesInBatchRequest,
         "Maximum number of entries per request are 10. You have sent 11."),
        ([{"Id": "message:1", "MessageBody": "x"}], errors.InvalidBatchEntryId,
         "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
         "It can be at most 80 letters long."),
        ([{"Id": "", "MessageBody": "x"}], errors.InvalidBatchEntryId, None),
        ([{"Id": "i" * 81, "MessageBody": "x"}], errors.InvalidBatchEntryId, None),
        ([{"Id": 1, "MessageBody": "x"}], errors.InvalidBatchEntryId, None),
        ([{"MessageBody": "x"}], errors.InvalidBatchEntryId, None),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
         errors.BatchEntryIdsNotDistinct, "Id a repeated."),
        ("not a list", errors.InvalidParameterValue, "Batch entries must be a list."),
        ([{"Id": "a", "MessageBody": "x"}, 5], errors.InvalidParameterValue, None),
    ],
)
def test_whole_batch_errors_send_nothing(
    loop: dc.EventLoop, entries: Any, error: type[errors.DecouplingError], message: str | None
) -> None:
    q = dc.Queue(loop, "q")
    before = state(q)
    with pytest.raises(error) as info:
        q.send_batch(entries)
    if message is not None:
        assert info.value.message == message
    assert state(q) == before


def test_batch_ids_may_be_80_characters(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    ids = ["i" * 80, "A-z_09"]
    result = q.send_batch([{"Id": i, "MessageBody": "x"} for i in ids])
    assert [e["Id"] for e in result.successful] == ids
