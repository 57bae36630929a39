"""HTTP/S subscriptions against a real ``http.server`` on 127.0.0.1 (ephemeral port).

The POSTs are real (from the loop's worker pool); the retry backoff runs on virtual time, so a
retry "20 seconds later" costs no real wait. ``Topic.drain`` waits for the POSTs and advances
the virtual clock through the retry timers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


class Endpoint:
    """A local HTTP server recording every POST; ``plan[path]`` lists the statuses to answer
    (the last one repeats)."""

    def __init__(self, clock: dc.Clock) -> None:
        self.clock = clock
        self.plan: dict[str, list[int]] = {}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                with endpoint.lock:
                    endpoint.requests.append({
                        "path": self.path, "at": endpoint.clock.now(),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    })
                    plan = endpoint.plan.get(self.path, [200])
                    status = plan.pop(0) if len(plan) > 1 else plan[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str, *statuses: int) -> str:
        if statuses:
            self.plan[path] = list(statuses)
        return self.base + path

    def posts(self, path: str, kind: str = "Notification") -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests
                    if r["path"] == path and r["headers"]["x-amz-sns-message-type"] == kind]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def endpoint(clock: dc.ManualClock) -> Iterator[Endpoint]:
    server = Endpoint(clock)
    yield server
    server.close()


@pytest.fixture
def topic(loop: dc.EventLoop) -> dc.Topic:
    return dc.Topic(loop, "webhooks")


def confirmed(topic: dc.Topic, endpoint: Endpoint, url: str, **kwargs: Any) -> dc.Subscription:
    sub = topic.subscribe(url, **kwargs)
    assert topic.drain()
    path = url[len(endpoint.base):]
    (confirmation,) = endpoint.posts(path, "SubscriptionConfirmation")
    topic.confirm_subscription(json.loads(confirmation["body"])["Token"])
    return sub


def test_confirmation_handshake(topic: dc.Topic, endpoint: Endpoint) -> None:
    url = endpoint.url("/hook")
    sub = topic.subscribe(url)
    assert sub.protocol == "http" and sub.pending_confirmation
    assert sub.get_attributes()["PendingConfirmation"] == "true"
    assert topic.drain()
    (post,) = endpoint.posts("/hook", "SubscriptionConfirmation")
    headers, body = post["headers"], json.loads(post["body"])
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert headers["x-amz-sns-message-id"] == body["MessageId"]
    assert "x-amz-sns-subscription-arn" not in headers
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert list(body) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                          "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"]
    assert body["Message"] == (
        f"You have chosen to subscribe to the topic {topic.arn}.\nTo confirm the subscription, "
        "visit the SubscribeURL included in this message.")
    assert body["SubscribeURL"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
        f"{topic.arn}&Token={body['Token']}")
    topic.publish("before confirmation")
    assert topic.drain() and endpoint.posts("/hook") == []
    assert topic.confirm_subscription(body["Token"]) is sub
    assert sub.get_attributes()["PendingConfirmation"] == "false"


def test_a_delivery(topic: dc.Topic, endpoint: Endpoint) -> None:
    sub = confirmed(topic, endpoint, endpoint.url("/hook"))
    result = topic.publish("hello", subject="Hi", message_attributes={"k": "v"})
    assert topic.drain()
    (post,) = endpoint.posts("/hook")
    headers, body = post["headers"], json.loads(post["body"])
    assert headers["x-amz-sns-message-id"] == result.message_id
    assert headers["x-amz-sns-subscription-arn"] == sub.arn
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert "x-amz-sns-rawdelivery" not in headers
    assert (body["Type"], body["Message"], body["Subject"]) == ("Notification", "hello", "Hi")
    assert body["UnsubscribeURL"].endswith(sub.arn)
    assert body["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert sub.delivered == 1
    eff = json.loads(sub.get_attributes()["EffectiveDeliveryPolicy"])
    assert eff["healthyRetryPolicy"]["numRetries"] == 3


def test_fails_twice_then_succeeds(
    clock: dc.ManualClock, topic: dc.Topic, endpoint: Endpoint
) -> None:
    sub = confirmed(topic, endpoint, endpoint.url("/flaky", 200, 500, 500, 200))
    topic.publish("retry me")
    assert topic.drain()
    posts = endpoint.posts("/flaky")
    assert [p["at"] for p in posts] == [0.0, 20.0, 40.0]  # 3 retries, 20 s apart (default)
    assert len({p["headers"]["x-amz-sns-message-id"] for p in posts}) == 1
    assert (sub.delivered, sub.undeliverable) == (1, 0)
    assert clock.now() == 40.0


def test_always_failing_endpoint_ends_in_the_dlq(
    loop: dc.EventLoop, topic: dc.Topic, endpoint: Endpoint
) -> None:
    dlq = dc.Queue(loop, "webhooks-dlq")
    sub = confirmed(topic, endpoint, endpoint.url("/down", 200, 503), redrive_policy=dlq)
    result = topic.publish("never lands")
    assert topic.drain()
    assert [p["at"] for p in endpoint.posts("/down")] == [0.0, 20.0, 40.0, 60.0]
    (dead,) = dlq.receive(max_messages=10)
    envelope = json.loads(dead.body)
    assert (envelope["MessageId"], envelope["Message"]) == (result.message_id, "never lands")
    assert envelope["UnsubscribeURL"].endswith(sub.arn)
    assert (sub.undeliverable, sub.dead_lettered) == (1, 1)


def test_client_errors_are_not_retried(
    loop: dc.EventLoop, topic: dc.Topic, endpoint: Endpoint
) -> None:
    dlq = dc.Queue(loop, "dlq")
    sub = confirmed(topic, endpoint, endpoint.url("/gone", 200, 404), redrive_policy=dlq)
    topic.publish("m")
    assert topic.drain()
    assert len(endpoint.posts("/gone")) == 1
    assert sub.dead_lettered == 1 and len(dlq) == 1


def test_429_is_retried(topic: dc.Topic, endpoint: Endpoint) -> None:
    sub = confirmed(topic, endpoint, endpoint.url("/busy", 200, 429, 200))
    topic.publish("m")
    assert topic.drain()
    assert [p["at"] for p in endpoint.posts("/busy")] == [0.0, 20.0]
    assert sub.delivered == 1


def test_delivery_policy_and_raw_delivery(topic: dc.Topic, endpoint: Endpoint) -> None:
    sub = confirmed(topic, endpoint, endpoint.url("/custom", 200, 500, 200),
                    raw_message_delivery=True,
                    delivery_policy={
                        "healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 5,
                                               "maxDelayTarget": 5},
                        "requestPolicy": {"headerContentType": "application/json"},
                    })
    topic.publish('{"raw": true}')
    assert topic.drain()
    posts = endpoint.posts("/custom")
    assert [p["at"] for p in posts] == [0.0, 5.0]
    assert posts[-1]["body"] == '{"raw": true}'
    assert posts[-1]["headers"]["x-amz-sns-rawdelivery"] == "true"
    assert posts[-1]["headers"]["content-type"] == "application/json"
    assert sub.delivered == 1


def test_throttle_policy_spaces_deliveries(topic: dc.Topic, endpoint: Endpoint) -> None:
    confirmed(topic, endpoint, endpoint.url("/slow"),
              delivery_policy={"throttlePolicy": {"maxReceivesPerSecond": 2}})
    for i in range(4):
        topic.publish(f"m{i}")
    assert topic.drain()
    assert [p["at"] for p in endpoint.posts("/slow")] == [0.0, 0.5, 1.0, 1.5]


def test_topic_delivery_policy_is_inherited(topic: dc.Topic, endpoint: Endpoint) -> None:
    topic.set_attribute("DeliveryPolicy", {"http": {"defaultHealthyRetryPolicy": {
        "numRetries": 1, "minDelayTarget": 7, "maxDelayTarget": 7}}})
    sub = confirmed(topic, endpoint, endpoint.url("/inherit", 200, 500))
    topic.publish("m")
    assert topic.drain()
    assert [p["at"] for p in endpoint.posts("/inherit")] == [0.0, 7.0]
    assert sub.undeliverable == 1


def test_unreachable_endpoint_is_retried(loop: dc.EventLoop, topic: dc.Topic) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sub = topic.subscribe(f"http://127.0.0.1:{port}/nothing")
    assert topic.drain()
    # Nobody answered the confirmation; confirm with the token we know, as a user would.
    assert sub._token is not None
    topic.confirm_subscription(sub._token)
    topic.publish("m")
    assert topic.drain()
    assert sub.undeliverable == 1 and loop.clock.now() == 60.0


def test_unsubscribe_sends_an_unsubscribe_confirmation(
    topic: dc.Topic, endpoint: Endpoint
) -> None:
    sub = confirmed(topic, endpoint, endpoint.url("/bye"))
    sub.unsubscribe()
    assert topic.drain()
    (post,) = endpoint.posts("/bye", "UnsubscribeConfirmation")
    body = json.loads(post["body"])
    assert post["headers"]["x-amz-sns-subscription-arn"] == sub.arn
    assert body["Message"].startswith(f"You have chosen to deactivate subscription {sub.arn}.")


def test_https_endpoints_and_fifo_topics(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    assert topic.subscribe("https://127.0.0.1:9/hook").protocol == "https"  # loopback only
    fifo = dc.Topic(loop, "t.fifo")
    with pytest.raises(errors.InvalidParameter, match="FIFO topics deliver to SQS queues only"):
        fifo.subscribe("https://127.0.0.1:9/hook")


@pytest.mark.realtime
def test_real_clock_delivery_and_retry() -> None:
    with dc.EventLoop() as loop:
        server = Endpoint(loop.clock)
        try:
            topic = dc.Topic(loop, "live")
            sub = topic.subscribe(server.url("/live", 200, 500, 200), delivery_policy={
                "healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1,
                                       "maxDelayTarget": 1}})
            assert topic.drain(timeout=2)
            (confirmation,) = server.posts("/live", "SubscriptionConfirmation")
            topic.confirm_subscription(json.loads(confirmation["body"])["Token"])
            topic.publish("real time")
            assert topic.drain(timeout=2.5)
            first, second = server.posts("/live")
            assert 0.9 <= second["at"] - first["at"] < 1.8
            assert sub.delivered == 1
        finally:
            server.close()
