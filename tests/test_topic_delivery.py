"""Topic deliveries on the loop: callables, retries on virtual time, dead letters, protocols.

Every retry is a timer on the loop's clock, so a six-hour retry policy runs in microseconds
and the tests assert exact attempt times.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sns.delivery import _PROTOCOLS
from decoupling.sns.policy import CUSTOMER_RETRY, HTTP_DEFAULT_RETRY, MANAGED_RETRY, RetryPolicy


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "events")


class Flaky:
    """A callable subscriber that raises ``fail`` times, then succeeds; records attempt times."""

    def __init__(self, clock: dc.ManualClock, fail: int, error: Exception | None = None) -> None:
        self.clock = clock
        self.fail = fail
        self.error = error or RuntimeError("endpoint down")
        self.attempts: list[tuple[float, int]] = []
        self.received: list[dc.Notification] = []

    def __call__(self, notification: dc.Notification) -> None:
        self.attempts.append((self.clock.now(), notification.attempt))
        if len(self.attempts) <= self.fail:
            raise self.error
        self.received.append(notification)


def test_callable_gets_the_notification_on_the_loop(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    seen: list[dc.Notification] = []
    sub = topic.subscribe(seen.append)
    assert sub.protocol == "application" and not sub.pending_confirmation
    result = topic.publish("hello", subject="S", message_attributes={"k": "v"})
    assert seen == []  # delivered from a timer, never inside publish
    loop.run_until_idle()
    (n,) = seen
    assert (n.message_id, n.message, n.subject, n.attempt, n.replayed, n.raw) == (
        result.message_id, "hello", "S", 1, False, False)
    assert n.topic_arn == topic.arn and n.subscription_arn == sub.arn
    assert n.timestamp == "2026-01-01T00:00:00.000Z"
    assert n.message_attributes == {"k": dc.MessageAttributeValue("String", "v")}
    assert n.envelope()["UnsubscribeURL"].endswith(sub.arn)
    assert json.loads(n.body) == n.envelope()
    assert sub.delivered == 1 and clock.now() == 0.0


def test_raw_callable_body_is_the_message(loop: dc.EventLoop, topic: dc.Topic) -> None:
    seen: list[dc.Notification] = []
    topic.subscribe(seen.append, raw_message_delivery=True)
    topic.publish('{"x": 1}')
    loop.run_until_idle()
    assert seen[0].body == '{"x": 1}'


def test_lambda_event_shape(loop: dc.EventLoop, topic: dc.Topic) -> None:
    seen: list[dc.Notification] = []
    sub = topic.subscribe(seen.append)
    topic.publish("m")
    loop.run_until_idle()
    event = seen[0].lambda_event()
    record = event["Records"][0]
    assert (record["EventSource"], record["EventVersion"], record["EventSubscriptionArn"]) == (
        "aws:sns", "1.0", sub.arn)
    assert list(record["Sns"]) == [
        "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
        "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes",
    ]
    assert record["Sns"]["Subject"] is None and record["Sns"]["MessageAttributes"] == {}


def test_fails_twice_then_succeeds_on_the_customer_policy(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    flaky = Flaky(clock, fail=2)
    sub = topic.subscribe(flaky)
    topic.publish("m")
    assert topic.drain()
    # Customer-managed endpoints: no immediate retries, 2 retries 10 s apart (pre-backoff).
    assert flaky.attempts == [(0.0, 1), (10.0, 2), (20.0, 3)]
    assert len(flaky.received) == 1 and sub.delivered == 1 and sub.undeliverable == 0


def test_always_failing_callable_ends_in_its_dead_letter_queue(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    dlq = dc.Queue(loop, "events-dlq")
    flaky = Flaky(clock, fail=10**9)
    sub = topic.subscribe(flaky, redrive_policy={"deadLetterTargetArn": dlq.arn})
    result = topic.publish("lost?", message_attributes={"k": "v"})
    assert topic.drain()
    assert len(flaky.attempts) == CUSTOMER_RETRY.num_retries + 1 == 51
    delays = [b[0] - a[0] for a, b in zip(flaky.attempts, flaky.attempts[1:], strict=False)]
    assert delays[:2] == [10.0, 10.0] and delays[-38:] == pytest.approx([600.0] * 38)
    assert delays[2:12] == sorted(delays[2:12]) and 10.0 < delays[2] < delays[11]
    assert delays[11] == pytest.approx(600.0)
    assert clock.now() == pytest.approx(sum(delays))
    (dead,) = dlq.receive(max_messages=10)
    envelope = json.loads(dead.body)
    assert (envelope["MessageId"], envelope["Message"]) == (result.message_id, "lost?")
    assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert dead.message_attributes == {}
    assert (sub.undeliverable, sub.dead_lettered, sub.delivered) == (1, 1, 0)


def test_raw_dead_letter_keeps_the_attributes(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    dlq = dc.Queue(loop, "dlq")
    topic.subscribe(Flaky(clock, fail=10**9, error=dc.ClientDeliveryError("gone")),
                    raw_message_delivery=True, redrive_policy=dlq)
    topic.publish("body", message_attributes={"n": 1})
    topic.drain()
    (dead,) = dlq.receive(max_messages=10)
    assert dead.body == "body"
    assert dead.message_attributes == {"n": dc.MessageAttributeValue("Number", "1")}


def test_client_errors_are_not_retried(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    flaky = Flaky(clock, fail=1, error=dc.ClientDeliveryError("endpoint deleted"))
    sub = topic.subscribe(flaky)
    topic.publish("m")
    topic.drain()
    assert flaky.attempts == [(0.0, 1)]
    assert (sub.undeliverable, sub.dead_lettered) == (1, 0)  # no DLQ: dropped


def test_a_failing_subscriber_blocks_nobody(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    queue = dc.Queue(loop, "fast")
    broken = Flaky(clock, fail=10**9)
    fine: list[dc.Notification] = []
    topic.subscribe(broken)
    topic.subscribe(queue)
    topic.subscribe(fine.append)
    topic.publish("one")
    assert len(queue) == 1  # inline, during publish
    clock.advance(0)
    assert [n.message for n in fine] == ["one"] and len(broken.attempts) == 1
    topic.publish("two")
    clock.advance(0)
    assert [n.message for n in fine] == ["one", "two"] and len(queue) == 2


def test_unsubscribing_stops_retries(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    flaky = Flaky(clock, fail=10**9)
    sub = topic.subscribe(flaky)
    topic.publish("m")
    clock.advance(15)
    assert len(flaky.attempts) == 2
    sub.unsubscribe()
    assert topic.drain()
    assert len(flaky.attempts) == 2


def test_delivery_policy_on_a_callable_sets_its_retries(
    loop: dc.EventLoop, clock: dc.ManualClock, topic: dc.Topic
) -> None:
    flaky = Flaky(clock, fail=10**9)
    topic.subscribe(flaky, delivery_policy={"healthyRetryPolicy": {
        "numRetries": 4, "numNoDelayRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 40,
        "numMaxDelayRetries": 1, "backoffFunction": "linear"}})
    topic.publish("m")
    topic.drain()
    # 1 immediate, backoff 5 -> 40 over 2 retries (22.5, 40), then 1 at the maximum (40).
    assert [t for t, _ in flaky.attempts] == [0.0, 0.0, 22.5, 62.5, 102.5]


def test_deleted_queue_subscription_goes_to_the_dlq(loop: dc.EventLoop, topic: dc.Topic) -> None:
    queue, dlq = dc.Queue(loop, "gone"), dc.Queue(loop, "gone-dlq")
    sub = topic.subscribe(queue, redrive_policy=dlq)
    queue.delete_queue()
    result = topic.publish("m")
    (dead,) = dlq.receive(max_messages=10)
    assert json.loads(dead.body)["MessageId"] == result.message_id
    assert (sub.undeliverable, sub.dead_lettered) == (1, 1)


# --- retry policies ---------------------------------------------------------------------------


def test_managed_retry_policy_phases() -> None:
    delays = [MANAGED_RETRY.delay(i) for i in range(1, 17)]
    assert delays[:5] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert delays[5:15] == sorted(delays[5:15]) and delays[14] == 20.0
    assert delays[15] == 20.0
    assert MANAGED_RETRY.delay(100_015) == 20.0 and MANAGED_RETRY.delay(100_016) is None


def test_http_default_retry_policy() -> None:
    assert [HTTP_DEFAULT_RETRY.delay(i) for i in range(1, 5)] == [20.0, 20.0, 20.0, None]
    assert HTTP_DEFAULT_RETRY.total_seconds() == 60.0


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("linear", [17.5, 25.0, 32.5, 40.0]),
        ("arithmetic", [11.875, 17.5, 26.875, 40.0]),
        ("geometric", [10.46875, 13.75, 22.65625, 40.0]),
        ("exponential", [10 * 4**0.25, 20.0, 10 * 4**0.75, 40.0]),
    ],
)
def test_backoff_functions(backoff: str, delays: list[float]) -> None:
    policy = RetryPolicy(4, 0, 0, 0, 10.0, 40.0, backoff)
    assert [policy.delay(i) for i in range(1, 5)] == pytest.approx(delays)
    assert policy.delay(5) is None


def test_total_retry_time_is_capped_at_an_hour(topic: dc.Topic) -> None:
    sub = topic.subscribe(lambda n: None)
    with pytest.raises(errors.InvalidParameter, match="must not exceed 3600 seconds"):
        sub.set_attribute("DeliveryPolicy", {"healthyRetryPolicy": {
            "numRetries": 100, "minDelayTarget": 60, "maxDelayTarget": 60}})


# --- registered protocols ------------------------------------------------------------------------


@pytest.fixture
def echo_protocol() -> Any:
    delivered: list[tuple[str, str]] = []

    def deliver(sub: dc.Subscription, n: dc.Notification) -> None:
        delivered.append((sub.target, n.message))

    spec = dc.register_protocol("echo", deliver, mode="publish", retry="customer")
    yield spec, delivered
    _PROTOCOLS.pop("echo", None)


def test_a_registered_protocol_delivers(topic: dc.Topic, echo_protocol: Any) -> None:
    spec, delivered = echo_protocol
    assert spec.retry is CUSTOMER_RETRY
    sub = topic.subscribe("endpoint-1", "echo")
    topic.publish(json.dumps({"default": "d", "echo": "for echo"}), message_structure="json")
    assert delivered == [("endpoint-1", "for echo")]
    assert sub.get_attributes()["Protocol"] == "echo"


def test_register_protocol_validates(echo_protocol: Any) -> None:
    with pytest.raises(ValueError, match="already registered"):
        dc.register_protocol("echo", lambda s, n: None)
    with pytest.raises(ValueError, match="mode"):
        dc.register_protocol("other", lambda s, n: None, mode="sometimes")
    with pytest.raises(ValueError, match="retry"):
        dc.register_protocol("other", lambda s, n: None, retry="forever")
    with pytest.raises(ValueError, match="protocol name"):
        dc.register_protocol("bad name", lambda s, n: None)
    assert "other" not in _PROTOCOLS


def test_lambda_protocol_invokes_a_function(loop: dc.EventLoop, topic: dc.Topic) -> None:
    runtime = dc.FunctionRuntime(loop)
    events: list[dict[str, Any]] = []

    @runtime.function("on-event")
    def handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)

    sub = topic.subscribe(runtime.get_function("on-event"), "lambda")
    topic.publish("to lambda")
    topic.drain()
    loop.run_until_idle()
    assert [e["Records"][0]["Sns"]["Message"] for e in events] == ["to lambda"]
    assert events[0]["Records"][0]["EventSubscriptionArn"] == sub.arn
