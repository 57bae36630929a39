"""Hostile inputs (issue #19): each operation fails whole with an AWS error, or succeeds whole.

JSON a user hands us is parsed with a bounded depth (``decoupling.message.MAX_JSON_DEPTH``, 500
levels): a body nested deeper is one a filter cannot parse (SNS: no match; Lambda's event
filtering: the message is discarded), and a policy, structure or attribute nested deeper is
refused with the error its service gives for JSON it cannot parse. Then the small items: a
queue on something that is not a loop, a malformed ``Policy``, an integer attribute with a
space, and Chaos duplicates (receive count, durable store).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import (
    InvalidAttributeValue,
    InvalidParameter,
    InvalidParameterValue,
    InvalidParameterValueException,
    ParameterValueInvalid,
)
from decoupling.message import MAX_JSON_DEPTH
from decoupling.sns.filter_policy import FilterPolicy

#: A JSON object nested 33,000 levels: 198 KB, under every size limit.
DEEP_BODY = '{"a":' * 33_000 + "1" + "}" * 33_000


def nested_body(depth: int) -> str:
    """``{"kind": "x", "deep": [[...[1]...]]}``: objects and arrays nested ``depth`` levels."""
    return '{"kind": "x", "deep": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def nested_list(depth: int) -> list[Any]:
    """A list nested ``depth`` levels (``[[[]]]`` is 3)."""
    inner: list[Any] = []
    for _ in range(depth - 1):
        inner = [inner]
    return inner


def fan_out(loop: dc.EventLoop) -> tuple[dc.Topic, list[dc.Queue]]:
    """A topic with an unfiltered queue, a body-filtered one, then another unfiltered one."""
    topic = dc.Topic(loop, "events")
    queues = [dc.Queue(loop, name) for name in ("all", "kind-x", "audit")]
    topic.subscribe(queues[0], raw_message_delivery=True)
    topic.subscribe(queues[1], raw_message_delivery=True, filter_policy={"kind": ["x"]},
                    filter_policy_scope="MessageBody")
    topic.subscribe(queues[2], raw_message_delivery=True)
    return topic, queues


# --- SNS: bodies a filter cannot parse ------------------------------------------------------------


def test_body_nested_too_deep_to_filter_matches_no_body_policy_and_reaches_the_rest(
        loop: dc.EventLoop) -> None:
    topic, (everything, kind_x, audit) = fan_out(loop)
    assert len(DEEP_BODY) == 198_001
    result = topic.publish(DEEP_BODY)
    assert result.message_id
    # As SNS treats a body it cannot parse: the body-scope policy does not match.
    assert (len(everything), len(kind_x), len(audit)) == (1, 0, 1)
    assert everything.receive()[0].body == DEEP_BODY


def test_body_filtering_parses_500_levels_and_no_more(loop: dc.EventLoop) -> None:
    assert MAX_JSON_DEPTH == 500
    topic, (everything, kind_x, _audit) = fan_out(loop)
    topic.publish(nested_body(MAX_JSON_DEPTH))  # the object and 499 arrays: 500 levels
    topic.publish(nested_body(MAX_JSON_DEPTH + 1))
    assert [m.body for m in kind_x.receive(max_messages=10)] == [nested_body(MAX_JSON_DEPTH)]
    assert len(everything) == 2


def test_brackets_inside_strings_do_not_count_as_nesting(loop: dc.EventLoop) -> None:
    topic, (_everything, kind_x, _audit) = fan_out(loop)
    body = json.dumps({"kind": "x", "note": "[{" * 1_000 + '\\"[' * 1_000})
    topic.publish(body)
    assert [m.body for m in kind_x.receive()] == [body]


def test_publish_batch_with_a_deep_body_publishes_every_entry(loop: dc.EventLoop) -> None:
    topic, (everything, kind_x, audit) = fan_out(loop)
    result = topic.publish_batch([
        {"Id": "deep", "Message": DEEP_BODY},
        {"Id": "plain", "Message": '{"kind": "x"}'},
    ])
    assert [entry["Id"] for entry in result.successful] == ["deep", "plain"]
    assert result.failed == []
    assert (len(everything), len(kind_x), len(audit)) == (2, 1, 2)
    assert kind_x.receive()[0].body == '{"kind": "x"}'


def test_a_filter_that_fails_mid_fan_out_delivers_to_nobody(
        loop: dc.EventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = dc.Journal(loop)
    metrics = dc.Metrics(loop)
    topic, queues = fan_out(loop)

    def broken(self: FilterPolicy, body: str) -> bool:
        raise RuntimeError("filter engine failure")

    monkeypatch.setattr(FilterPolicy, "matches_body", broken)
    with pytest.raises(RuntimeError, match="filter engine failure"):
        topic.publish('{"kind": "x"}')
    # The unfiltered queue ahead of the failing policy got nothing; nothing was counted.
    assert [len(q) for q in queues] == [0, 0, 0]
    assert journal.events() == []
    assert metrics.total(topic, "NumberOfMessagesPublished") == 0
    monkeypatch.undo()
    topic.publish('{"kind": "x"}')
    assert [len(q) for q in queues] == [1, 1, 1]
    assert metrics.total(topic, "NumberOfMessagesPublished") == 1


# --- SNS: JSON a publish or a subscription hands in --------------------------------------------------


def test_message_structure_nested_too_deep_is_refused_and_delivers_nothing(
        loop: dc.EventLoop) -> None:
    topic, queues = fan_out(loop)
    deep = '{"default": "x", "sqs": "y", "extra": ' + "[" * 600 + "]" * 600 + "}"
    with pytest.raises(InvalidParameter) as caught:
        topic.publish(deep, message_structure="json")
    assert caught.value.code == "InvalidParameter"
    assert caught.value.message == (
        "Invalid parameter: Message Structure - JSON message body failed to parse")
    assert [len(q) for q in queues] == [0, 0, 0]


def test_string_array_attribute_nested_too_deep_is_delivered_and_matches_nothing(
        loop: dc.EventLoop) -> None:
    # SNS takes any text as a String.Array value; one too deep to parse is kept as sent and
    # gives a filter no value (no RecursionError on the way).
    topic, queues = fan_out(loop)
    tagged = dc.Queue(loop, "tagged")
    topic.subscribe(tagged, filter_policy={"tags": [{"exists": True}]})
    text = "[" * 2_000 + "]" * 2_000
    topic.publish("m", message_attributes={
        "tags": {"DataType": "String.Array", "StringValue": text}})
    assert [len(q) for q in queues] == [1, 0, 1]
    assert len(tagged) == 0
    (got,) = queues[0].receive()
    assert got.message_attributes["tags"].string_value == text
    # A Python list nested too deep cannot be encoded at all: refused.
    expected = ("The message attribute 'tags' of type 'String.Array' must be a JSON array of "
                "strings, numbers, booleans or nulls.")
    with pytest.raises(ParameterValueInvalid) as caught:
        topic.publish("m", message_attributes={"tags": nested_list(2_000)})
    assert (caught.value.code, caught.value.message) == ("ParameterValueInvalid", expected)
    assert [len(q) for q in queues] == [1, 0, 1]


def test_filter_policy_nested_too_deep_is_refused_at_subscribe(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    q = dc.Queue(loop, "q")
    text = '{"a":' * 2_000 + '["x"]' + "}" * 2_000
    with pytest.raises(InvalidParameter) as caught:
        topic.subscribe(q, filter_policy=text, filter_policy_scope="MessageBody")
    assert caught.value.message == (
        "Invalid parameter: FilterPolicy: failed to parse JSON. "
        "JSON nested deeper than 500 levels")
    policy: dict[str, Any] = {"x": ["y"]}
    for _ in range(2_000):
        policy = {"a": policy}
    with pytest.raises(InvalidParameter) as caught:
        topic.subscribe(q, filter_policy=policy, filter_policy_scope="MessageBody")
    assert caught.value.message == (
        "Invalid parameter: FilterPolicy: failed to serialize the policy as JSON: "
        "JSON nested deeper than 500 levels")
    assert topic.subscriptions == []


# --- Lambda: event source mappings ----------------------------------------------------------------


def test_mapping_discards_a_body_it_cannot_parse_and_keeps_polling(loop: dc.EventLoop) -> None:
    runtime = dc.FunctionRuntime(loop)
    queue = dc.Queue(loop, "jobs")
    bodies: list[str] = []

    @runtime.function("work")
    def work(event: dict[str, Any], context: Any) -> None:
        bodies.extend(record["body"] for record in event["Records"])

    pattern = json.dumps({"body": {"kind": ["x"]}})
    mapping = dc.EventSourceMapping(runtime, queue, "work",
                                    filter_criteria={"Filters": [{"Pattern": pattern}]})
    queue.send(DEEP_BODY)
    queue.send('{"kind": "x"}')
    loop.clock.advance(1)
    # Filter criteria on body data do not match a body Lambda cannot parse as JSON: the message
    # is discarded (deleted, no invocation), and the other one is processed.
    assert bodies == ['{"kind": "x"}']
    assert (mapping.state, mapping.filtered, mapping.records, mapping.deleted) == (
        "Enabled", 1, 1, 2)
    assert len(queue) == 0
    queue.send('{"kind": "x", "n": 2}')
    loop.clock.advance(1)
    assert bodies == ['{"kind": "x"}', '{"kind": "x", "n": 2}']


def test_a_mapping_whose_poll_fails_polls_again_when_the_messages_return(
        loop: dc.EventLoop, caplog: pytest.LogCaptureFixture) -> None:
    dlq = dc.Queue(loop, "jobs-dlq")
    queue = dc.Queue(loop, "jobs", visibility_timeout=30,
                     redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=2))
    runtime = dc.FunctionRuntime(loop)
    counts: list[str] = []

    @runtime.function("work")
    def work(event: dict[str, Any], context: Any) -> None:
        counts.extend(r["attributes"]["ApproximateReceiveCount"] for r in event["Records"])

    mapping = dc.EventSourceMapping(runtime, queue, "work", filter_criteria={
        "Filters": [{"Pattern": json.dumps({"body": {"kind": ["x"]}})}]})
    (compiled,) = mapping._filters

    def broken(view: Any) -> bool:
        raise RuntimeError("filter engine failure")

    healthy = compiled._match_body
    compiled._match_body = broken
    queue.send('{"kind": "x"}')
    loop.clock.advance(1)
    assert "poll failed" in caplog.text
    assert (counts, queue.approximate_number_of_messages_not_visible) == ([], 1)
    compiled._match_body = healthy
    loop.clock.advance(30)  # back after its visibility timeout: polled again, no new send
    assert counts == ["2"]
    assert (mapping.state, len(queue), len(dlq)) == ("Enabled", 0, 0)


def test_mapping_with_a_pattern_nested_too_deep_is_refused(loop: dc.EventLoop) -> None:
    runtime = dc.FunctionRuntime(loop)
    queue = dc.Queue(loop, "jobs")
    runtime.register("work", lambda event, context: None)
    pattern = '{"body":' * 1_000 + '["x"]' + "}" * 1_000
    with pytest.raises(InvalidParameterValueException) as caught:
        dc.EventSourceMapping(runtime, queue, "work",
                              filter_criteria={"Filters": [{"Pattern": pattern}]})
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message.endswith(
        ": Invalid parameter: FilterPolicy: failed to parse JSON. "
        "JSON nested deeper than 500 levels")
    assert runtime.event_source_mappings == {}


@pytest.mark.parametrize("payload", [
    ("[" * 5_000 + "]" * 5_000).encode(), nested_list(5_000),
], ids=["json-bytes", "python-list"])
def test_invoke_with_a_payload_nested_too_deep_is_refused(loop: dc.EventLoop,
                                                          payload: Any) -> None:
    runtime = dc.FunctionRuntime(loop)
    calls: list[Any] = []
    runtime.register("work", lambda event, context: calls.append(event))
    with pytest.raises(dc.errors.InvalidRequestContentException) as caught:
        runtime.invoke("work", payload)
    assert caught.value.code == "InvalidRequestContentException"
    assert caught.value.message.endswith("JSON nested deeper than 500 levels")
    assert calls == []


def test_a_runtime_keeping_more_records_than_a_deque_can_hold_is_refused(
        loop: dc.EventLoop) -> None:
    with pytest.raises(InvalidParameterValueException) as caught:
        dc.FunctionRuntime(loop, keep_records=sys.maxsize + 1)
    assert caught.value.message == (
        f"keep_records must be an integer from 0 to {sys.maxsize} or None, got "
        f"{sys.maxsize + 1}.")
    assert dc.FunctionRuntime(loop, keep_records=sys.maxsize).meter.records.maxlen == sys.maxsize


# --- SQS --------------------------------------------------------------------------------------------


def test_a_move_task_handle_nested_too_deep_is_refused(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    handle = base64.b64encode(("[" * 5_000 + "]" * 5_000).encode()).decode()
    with pytest.raises(InvalidParameterValue) as caught:
        q.cancel_message_move_task(handle)
    assert caught.value.message == "Value for parameter TaskHandle is invalid."


def test_redrive_policy_nested_too_deep_is_refused(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    deep = '{"deadLetterTargetArn": ' + "[" * 5_000 + "]" * 5_000 + "}"
    with pytest.raises(InvalidAttributeValue) as caught:
        q.set_attributes({"RedrivePolicy": deep})
    assert caught.value.message.startswith("Value '{\"deadLetterTargetArn\": [[[")
    assert caught.value.message.endswith(
        " for parameter RedrivePolicy is invalid. Reason: must be a JSON object.")
    assert q.redrive_policy is None


@pytest.mark.parametrize(("kind", "loop_arg", "name"), [
    (dc.Queue, None, "x"), (dc.FifoQueue, None, "x.fifo"), (dc.Queue, "us-east-1", "x"),
])
def test_a_queue_needs_a_loop(kind: type[dc.Queue], loop_arg: Any, name: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        kind(loop_arg, name)
    assert caught.value.code == "InvalidParameterValue"
    assert caught.value.message == (
        f"{kind.__name__} needs an EventLoop as its first argument (the account it belongs "
        f"to), got {type(loop_arg).__name__}.")


def test_a_topic_and_a_runtime_need_a_loop() -> None:
    with pytest.raises(InvalidParameter) as topic_error:
        dc.Topic(None, "t")  # type: ignore[arg-type]
    assert topic_error.value.message == (
        "Invalid parameter: Topic needs an EventLoop as its first argument (the account it "
        "belongs to), got NoneType")
    with pytest.raises(InvalidParameterValueException) as runtime_error:
        dc.FunctionRuntime(None)  # type: ignore[arg-type]
    assert runtime_error.value.message == (
        "FunctionRuntime needs an EventLoop as its first argument (the account it belongs "
        "to), got NoneType.")


@pytest.mark.parametrize("policy", [
    "{not json", "[]", '"text"', "null", "[" * 600 + "]" * 600, 42,
], ids=["malformed", "array", "string", "null", "600-deep", "number"])
def test_a_policy_that_is_not_a_json_object_is_refused(loop: dc.EventLoop, policy: Any) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(InvalidAttributeValue) as caught:
        q.set_attributes({"Policy": policy})
    assert (caught.value.code, caught.value.message) == (
        "InvalidAttributeValue", "Invalid value for the parameter Policy.")
    assert "Policy" not in q.get_attributes()
    with pytest.raises(InvalidAttributeValue):
        dc.Queue(loop, "q2", attributes={"Policy": policy})
    assert loop._lookup("sqs", "q2") is None


def test_a_json_policy_is_kept_as_given_and_empty_removes_it(loop: dc.EventLoop) -> None:
    text = '{"Version": "2012-10-17", "Statement": []}'
    q = dc.Queue(loop, "q", attributes={"Policy": text})
    assert q.get_attributes(["Policy"]) == {"Policy": text}
    q.set_attributes({"Policy": {"Version": "2012-10-17"}})
    assert q.get_attributes(["Policy"]) == {"Policy": '{"Version":"2012-10-17"}'}
    q.set_attributes({"Policy": ""})
    assert q.get_attributes(["Policy"]) == {}


@pytest.mark.parametrize("value", [" 30", "30 ", "3 0", "\t30", "30\n"])
def test_an_integer_attribute_with_whitespace_is_refused(loop: dc.EventLoop, value: str) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(InvalidAttributeValue) as caught:
        q.set_attributes({"VisibilityTimeout": value})
    assert caught.value.message == (
        f"Invalid value for the parameter VisibilityTimeout: {value}. "
        "It must be an integer from 0 to 43200.")
    assert q.visibility_timeout == 30
    with pytest.raises(InvalidAttributeValue):
        dc.Queue(loop, "q2", attributes={"DelaySeconds": value})
    q.set_attributes({"VisibilityTimeout": "31"})
    assert q.visibility_timeout == 31


# --- Chaos duplicates -------------------------------------------------------------------------------


def test_a_duplicate_processed_and_deleted_every_time_never_reaches_the_dlq(
        loop: dc.EventLoop) -> None:
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q", redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
    chaos = dc.Chaos(seed=3, duplicate_rate=1.0, duplicate_delay=5).attach(q)
    sent = q.send("job")
    counts = []
    for _ in range(4):  # the original and three copies, each received once and deleted
        (message,) = q.receive(wait_seconds=20)
        assert message.message_id == sent.message_id
        counts.append(message.receive_count)
        q.delete(message.receipt_handle)
    assert counts == [1, 1, 1, 1]
    assert chaos.duplicates == 4
    assert len(dlq) == 0


def test_a_duplicate_that_arrived_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "queues.db"
    epoch = 1_800_000_000.0
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=epoch),
                        store=dc.SqliteStore(path, synchronous="OFF"))
    q = dc.Queue(loop, "q")
    chaos = dc.Chaos(seed=3, duplicate_rate=1.0, duplicate_delay=5).attach(q)
    sent = q.send("job", message_attributes={"k": "v"})
    q.delete(q.receive()[0].receipt_handle)
    chaos.detach()
    loop.clock.advance(5)  # type: ignore[attr-defined]  # the copy is back (seeded delay)
    assert len(q) == 1
    assert loop.store is not None
    loop.store.close()
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=epoch + 10),
                        store=dc.SqliteStore(path, synchronous="OFF"))
    q = loop._lookup("sqs", "q")
    (copy,) = q.receive()
    assert (copy.message_id, copy.body, copy.receive_count) == (sent.message_id, "job", 1)
    assert copy.message_attributes == {"k": dc.MessageAttributeValue("String", "v")}
    q.delete(copy.receipt_handle)
    assert len(q) == 0
