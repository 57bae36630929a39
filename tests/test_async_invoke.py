"""Asynchronous invocation: retries at 0 s, 60 s, 180 s, destinations, dead letters, event age;
schedules; the SNS lambda protocol; the consumer pool."""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sns.topic import Topic


@pytest.fixture
def rt(loop: dc.EventLoop) -> dc.FunctionRuntime:
    runtime = dc.FunctionRuntime(loop)
    yield runtime
    runtime.close()


def test_failing_event_is_tried_3_times_then_reaches_on_failure_queue(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    failures = dc.Queue(loop, "failures")
    attempts: list[tuple[float, str]] = []

    def always_fails(event: Any, context: Any) -> None:
        attempts.append((loop.clock.now(), context.aws_request_id))
        raise ValueError(f"cannot process {event['order']}")

    rt.register("charge", always_fails, on_failure=failures)
    accepted = rt.invoke("charge", {"order": 7}, "Event")
    assert accepted.status_code == 202 and accepted.payload is None
    loop.run_until_idle()
    assert [t for t, _ in attempts] == [0.0, 60.0, 180.0]
    assert {rid for _, rid in attempts} == {accepted.request_id}
    (message,) = failures.receive(10)
    record = json.loads(message.body)
    assert record == {
        "version": "1.0",
        "timestamp": "2026-01-01T00:03:00.000Z",
        "requestContext": {
            "requestId": accepted.request_id,
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:charge:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"order": 7},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": record["responsePayload"],
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "cannot process 7"


def test_success_destination_retry_setting_and_dead_letter_queue(
        loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    done: list[dict[str, Any]] = []
    dlq = dc.Queue(loop, "fn-dlq")
    rt.register("ok", lambda e, c: {"doubled": e * 2}, on_success=done.append)
    rt.register("bad", lambda e, c: 1 / 0, maximum_retry_attempts=0, dead_letter=dlq)
    rt.invoke("ok", 21, "Event")
    accepted = rt.invoke("bad", {"x": 1}, "Event")
    loop.run_until_idle()
    assert done[0]["requestContext"]["condition"] == "Success"
    assert done[0]["responsePayload"] == {"doubled": 42}
    assert done[0]["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    (message,) = dlq.receive(10)
    assert json.loads(message.body) == {"x": 1}
    attrs = {k: v.string_value for k, v in message.message_attributes.items()}
    assert attrs == {"RequestID": accepted.request_id, "ErrorCode": "200",
                     "ErrorMessage": "division by zero"}
    assert rt.get_function("bad").invocations == 1
    with pytest.raises(errors.InvalidParameterValueException):
        rt.configure_async("ok", on_failure=dc.FifoQueue(loop, "f.fifo"))


def test_throttled_events_wait_then_expire(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    expired: list[dict[str, Any]] = []
    rt.register("none", lambda e, c: None, reserved_concurrency=0, maximum_event_age=60,
                on_failure=expired.append)
    rt.invoke("none", {"n": 1}, "Event")
    loop.run_until_idle()
    assert loop.clock.now() == pytest.approx(60.0, abs=1e-3)
    assert expired[0]["requestContext"]["condition"] == "EventAgeExceeded"
    assert expired[0]["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in expired[0]
    rt.register("later", lambda e, c: None, reserved_concurrency=1, simulated_duration=30.0, timeout=60)
    for i in range(3):
        rt.invoke("later", i, "Event")
    loop.run_until_idle()
    fn = rt.get_function("later")
    assert fn.invocations == 3 and fn.peak_concurrent == 1


def test_schedule_invokes_with_the_scheduled_event(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    events: list[dict[str, Any]] = []
    rt.register("nightly", lambda e, c: events.append(e))
    rule = rt.schedule("nightly", "cron(0 2 * * ? *)", name="nightly-report")
    loop.clock.advance(3 * 86400)
    assert [e["time"] for e in events] == ["2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z",
                                           "2026-01-03T02:00:00Z"]
    assert events[0]["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/nightly-report"]
    assert events[0]["detail-type"] == "Scheduled Event" and events[0]["source"] == "aws.events"
    rule.disable()
    loop.clock.advance(86400)
    assert len(events) == 3
    with pytest.raises(errors.ValidationException):
        rt.schedule("nightly", "rate(0 minutes)")


def test_sns_lambda_subscription_record(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    events: list[dict[str, Any]] = []
    fn = rt.register("notify", lambda e, c: events.append(e))
    topic = Topic(loop, "orders")
    sub = topic.subscribe(fn, "lambda")
    topic.publish("hello", subject="New order", message_attributes={"kind": "book"})
    loop.run_until_idle()
    (record,) = events[0]["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub.arn
    sns = record["Sns"]
    assert list(sns) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                         "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl",
                         "MessageAttributes"]
    assert (sns["Type"], sns["TopicArn"], sns["Subject"], sns["Message"]) == (
        "Notification", "arn:aws:sns:us-east-1:000000000000:orders", "New order", "hello")
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "book"}}
    assert topic.subscribe(fn.arn, "lambda").endpoint == fn.arn


def test_consumer_pool_scales_out_and_back_in(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "work", visibility_timeout=60)
    handled: list[str] = []
    pool = dc.ConsumerPool(q, lambda m: handled.append(m.body), min_workers=1, max_workers=8,
                           target_backlog_per_worker=100, processing_time=0.5,
                           evaluation_period=60, scale_out_cooldown=60, scale_in_cooldown=120)
    for i in range(0, 2000, 10):
        q.send_batch([str(j) for j in range(i, i + 10)])
    loop.run_until_idle()
    assert len(handled) == 2000 and len(q) == 0
    workers = [w for _, w, _ in pool.history]
    assert max(workers) == 8 and workers[-1] == 1
    assert pool.history[0] == (0.0, 8, 2000)
    pool.stop()
