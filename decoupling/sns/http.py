"""HTTP/S subscriptions: real POSTs with ``urllib`` from the loop's bounded worker pool.

Follows "Parsing message formats" and "HTTP/HTTPS headers" in the SNS Developer Guide
(https://docs.aws.amazon.com/sns/latest/dg/http-header.html):

* every POST carries ``x-amz-sns-message-type`` (``SubscriptionConfirmation``,
  ``Notification`` or ``UnsubscribeConfirmation``), ``x-amz-sns-message-id``,
  ``x-amz-sns-topic-arn``, ``x-amz-sns-subscription-arn`` (not on a subscription confirmation,
  as AWS sends it), ``Content-Type: text/plain; charset=UTF-8`` (or the delivery policy's
  ``headerContentType``) and ``User-Agent: Amazon Simple Notification Service Agent``; raw
  deliveries add ``x-amz-sns-rawdelivery: true``;
* a new subscription is ``PendingConfirmation`` until :meth:`Topic.confirm_subscription` is
  called with the ``Token`` POSTed in the ``SubscriptionConfirmation`` message;
* a 2xx answer is a delivery; 5xx, 429, a refused connection or a timeout are server-side
  errors, retried along the delivery policy; other answers (3xx, 4xx) are client-side errors,
  not retried (AWS does not document the split; this is our reading of "Amazon SNS dead-letter
  queues").

Proxies from the environment are not used and redirects are not followed. Each request times
out after :data:`HTTP_TIMEOUT` real seconds.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameter
from .delivery import ClientDeliveryError, WorkerPool, register_protocol
from .message import Notification, confirmation_body, iso_timestamp

if TYPE_CHECKING:
    import urllib.request

    from ..loop import EventLoop
    from .subscription import Subscription

__all__ = ["HTTP_TIMEOUT", "USER_AGENT"]

_log = logging.getLogger("decoupling.sns")

#: Real seconds a POST may take before it counts as a failed (retried) delivery.
HTTP_TIMEOUT = 15.0
USER_AGENT = "Amazon Simple Notification Service Agent"


class ServerDeliveryError(Exception):
    """The endpoint failed in a way SNS retries (5xx, 429, no connection, timeout)."""


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """The opener every POST uses: no proxies, no redirects followed. Built on the first POST:
    ``urllib.request`` (with ``http.client``, ``email`` and ``ssl``) costs ~10 ms to import, and
    a program without an http/https subscription never needs it."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def post(url: str, body: str, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url``; return the status code. Raises :class:`ServerDeliveryError`
    when no answer came (refused, reset, timed out)."""
    import urllib.error
    import urllib.request

    opener = _opener()
    request = urllib.request.Request(url, data=body.encode("utf-8", "surrogatepass"),
                                     headers=headers, method="POST")
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            status: int = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise ServerDeliveryError(f"POST {url} failed: {error}") from None
    return status


def _resolve(protocol: str) -> Any:
    def resolve(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
        if not isinstance(endpoint, str) or not endpoint.startswith(f"{protocol}://") \
                or len(endpoint) <= len(protocol) + 3:
            raise InvalidParameter(
                f"Invalid parameter: Endpoint must match the specified protocol ({protocol}://...)"
            )
        return endpoint, endpoint

    return resolve


def _headers(sub: Subscription, kind: str, message_id: str, content_type: str) -> dict[str, str]:
    headers = {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": sub.topic.arn,
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
    }
    if kind != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = sub.arn
    return headers


def _deliver(sub: Subscription, n: Notification) -> None:
    """Deliver one notification (a worker thread; no lock held)."""
    policy = sub.effective_delivery_policy()
    headers = _headers(sub, "Notification", n.message_id, policy.content_type or "")
    if n.raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    status = post(sub.endpoint, n.body, headers)
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise ServerDeliveryError(f"the endpoint answered HTTP {status}")
    raise ClientDeliveryError(f"the endpoint answered HTTP {status}")


def send_confirmation(sub: Subscription, kind: str, token: str, text: str) -> None:
    """POST a ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation`` (lock held; the POST
    runs on the worker pool, once, without retries)."""
    topic = sub.topic
    message_id = topic.loop.new_id()
    body = confirmation_body(
        kind, message_id, token, topic.arn, text, topic._subscribe_url(token),
        iso_timestamp(topic.loop.clock.wall_ms()), topic._signing_cert_url,
    )
    headers = _headers(sub, kind, message_id, "text/plain; charset=UTF-8")
    url = sub.endpoint

    def job() -> None:
        try:
            status = post(url, body, headers)
            if not 200 <= status < 300:
                _log.info("%s to %s answered HTTP %s", kind, url, status)
        except ServerDeliveryError as error:
            _log.info("%s to %s failed: %s", kind, url, error)
        finally:
            with topic._lock:
                topic._in_pool -= 1
                topic._job_done()

    topic._pending += 1
    topic._in_pool += 1
    WorkerPool.of(topic.loop).submit(job)


for _name in ("http", "https"):
    register_protocol(
        _name, _deliver, resolve=_resolve(_name), mode="pool", retry="managed", raw=True,
        confirmation=True, delivery_policy=True,
    )
