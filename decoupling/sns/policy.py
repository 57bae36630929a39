"""SNS policies: delivery (retry) policies, subscription redrive and replay, topic archive.

* Delivery retries follow "Amazon SNS message delivery retries"
  (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html): four phases —
  immediate (no delay), pre-backoff (at the minimum delay), backoff (from the minimum to the
  maximum delay along a backoff function), post-backoff (at the maximum delay). AWS-managed
  endpoints (SQS, Lambda, Firehose): 3 immediate, 2 at 1 s, 10 backing off 1-20 s, 100,000 at
  20 s. Customer-managed endpoints (email, SMS, mobile push): 0, 2 at 10 s, 10 backing off
  10-600 s, 38 at 600 s. HTTP/S default: 3 retries 20 s apart, overridable by ``DeliveryPolicy``
  (``numRetries`` <= 100, total retry time <= 3,600 s).
* AWS applies jitter to retries; we do not, so retry times are exact on a virtual clock.
  AWS does not publish the exact curves of its four backoff functions; ours, for retry i of n in
  the backoff phase with t = i/n, are: ``linear`` min + (max-min)·t, ``arithmetic``
  min + (max-min)·t², ``geometric`` min + (max-min)·t³ and ``exponential``
  min·(max/min)^t — all start near ``minDelayTarget`` and reach ``maxDelayTarget``.
* Subscription ``RedrivePolicy``: ``{"deadLetterTargetArn": <SQS ARN>}``
  ("Amazon SNS dead-letter queues").
* Subscription ``ReplayPolicy`` and topic ``ArchivePolicy``: "Amazon SNS message archiving and
  replay for FIFO topics".
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import InvalidParameter
from ..message import loads_json

__all__ = [
    "RetryPolicy",
    "DeliveryPolicy",
    "MANAGED_RETRY",
    "CUSTOMER_RETRY",
    "HTTP_DEFAULT_RETRY",
    "parse_bool",
    "parse_redrive_policy",
    "ReplayPolicy",
    "parse_archive_policy",
    "parse_iso_ms",
]

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_HTTP_RETRIES = 100
MAX_HTTP_RETRY_SECONDS = 3_600
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"


def _json_object(name: str, value: object) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            data = loads_json(value)
        except ValueError as exc:
            raise InvalidParameter(f"Invalid parameter: {name}: failed to parse JSON. {exc}") from None
        if isinstance(data, dict):
            return data
    raise InvalidParameter(f"Invalid parameter: {name}: must be a JSON object")


def parse_bool(name: str, value: object) -> bool:
    """``true``/``false`` (any case) or a ``bool``; else ``InvalidParameter`` as AWS words it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidParameter(
        f"Invalid parameter: {name}: Invalid value [{value}]. Must be true or false."
    )


@attrs.frozen(slots=True)
class RetryPolicy:
    """A four-phase retry schedule; :meth:`delay` is O(1).

    Attributes:
        num_retries: retries after the first attempt (total attempts = ``num_retries + 1``).
        num_no_delay, num_min_delay, num_max_delay: retries in the immediate, pre-backoff and
            post-backoff phases; the backoff phase has the rest.
        min_delay, max_delay: seconds.
        backoff: ``linear``, ``arithmetic``, ``geometric`` or ``exponential``.
    """

    num_retries: int
    num_no_delay: int = 0
    num_min_delay: int = 0
    num_max_delay: int = 0
    min_delay: float = 20.0
    max_delay: float = 20.0
    backoff: str = "linear"

    def delay(self, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` (1-based), ``None`` when exhausted."""
        if retry < 1 or retry > self.num_retries:
            return None
        if retry <= self.num_no_delay:
            return 0.0
        retry -= self.num_no_delay
        if retry <= self.num_min_delay:
            return self.min_delay
        retry -= self.num_min_delay
        n_backoff = self.num_retries - self.num_no_delay - self.num_min_delay - self.num_max_delay
        if retry > n_backoff:
            return self.max_delay
        lo, hi = self.min_delay, self.max_delay
        t = retry / n_backoff
        if self.backoff == "linear":
            return lo + (hi - lo) * t
        if self.backoff == "arithmetic":
            return lo + (hi - lo) * t * t
        if self.backoff == "geometric":
            return lo + (hi - lo) * t * t * t
        return lo * (hi / lo) ** t if lo > 0 else hi * t

    def total_seconds(self) -> float:
        """The sum of all retry delays (what AWS caps at 3,600 s for HTTP/S)."""
        head = self.num_min_delay * self.min_delay + self.num_max_delay * self.max_delay
        n_backoff = self.num_retries - self.num_no_delay - self.num_min_delay - self.num_max_delay
        start = self.num_no_delay + self.num_min_delay
        return head + sum(self.delay(start + i) or 0.0 for i in range(1, n_backoff + 1))

    def to_aws(self) -> dict[str, Any]:
        """The ``healthyRetryPolicy`` JSON object."""
        return {
            "minDelayTarget": _number(self.min_delay),
            "maxDelayTarget": _number(self.max_delay),
            "numRetries": self.num_retries,
            "numMaxDelayRetries": self.num_max_delay,
            "numNoDelayRetries": self.num_no_delay,
            "numMinDelayRetries": self.num_min_delay,
            "backoffFunction": self.backoff,
        }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


#: SQS, Lambda and Firehose endpoints: 100,015 retries over about 23 days.
MANAGED_RETRY = RetryPolicy(100_015, 3, 2, 100_000, 1.0, 20.0, "exponential")
#: Email, SMS and mobile push (here also ``application`` callables): 50 retries over ~6 hours.
CUSTOMER_RETRY = RetryPolicy(50, 0, 2, 38, 10.0, 600.0, "exponential")
#: HTTP/S without a ``DeliveryPolicy``: 3 retries, 20 seconds apart.
HTTP_DEFAULT_RETRY = RetryPolicy(3, 0, 0, 0, 20.0, 20.0, "linear")


def _int_field(name: str, data: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, str) and value.isascii() and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameter(
            f"Invalid parameter: {name}: {key} must be an integer from {low} to {high}, "
            f"got {value!r}"
        )
    return value


def _retry_policy(name: str, data: Mapping[str, Any]) -> RetryPolicy:
    known = {
        "minDelayTarget", "maxDelayTarget", "numRetries", "numNoDelayRetries",
        "numMinDelayRetries", "numMaxDelayRetries", "backoffFunction",
    }
    unknown = set(data) - known
    if unknown:
        raise InvalidParameter(f"Invalid parameter: {name}: unknown field(s) {sorted(unknown, key=repr)}")
    retries = _int_field(name, data, "numRetries", 3, 0, MAX_HTTP_RETRIES)
    no_delay = _int_field(name, data, "numNoDelayRetries", 0, 0, MAX_HTTP_RETRIES)
    min_count = _int_field(name, data, "numMinDelayRetries", 0, 0, MAX_HTTP_RETRIES)
    max_count = _int_field(name, data, "numMaxDelayRetries", 0, 0, MAX_HTTP_RETRIES)
    max_delay = _int_field(name, data, "maxDelayTarget", 20, 1, MAX_HTTP_RETRY_SECONDS)
    min_delay = _int_field(name, data, "minDelayTarget", min(20, max_delay), 1, max_delay)
    backoff = data.get("backoffFunction", "linear")
    if backoff not in BACKOFF_FUNCTIONS:
        raise InvalidParameter(
            f"Invalid parameter: {name}: backoffFunction must be one of "
            f"{', '.join(BACKOFF_FUNCTIONS)}, got {backoff!r}"
        )
    if no_delay + min_count + max_count > retries:
        raise InvalidParameter(
            f"Invalid parameter: {name}: numNoDelayRetries + numMinDelayRetries + "
            f"numMaxDelayRetries ({no_delay + min_count + max_count}) must not exceed "
            f"numRetries ({retries})"
        )
    policy = RetryPolicy(retries, no_delay, min_count, max_count, float(min_delay),
                         float(max_delay), backoff)
    if policy.total_seconds() > MAX_HTTP_RETRY_SECONDS:
        raise InvalidParameter(
            f"Invalid parameter: {name}: the total retry time ({policy.total_seconds():.0f} s) "
            f"must not exceed {MAX_HTTP_RETRY_SECONDS} seconds"
        )
    return policy


@attrs.frozen(slots=True)
class DeliveryPolicy:
    """A parsed HTTP/S ``DeliveryPolicy`` (subscription shape).

    Attributes:
        retry: the ``healthyRetryPolicy``, or ``None`` to inherit.
        max_receives_per_second: ``throttlePolicy.maxReceivesPerSecond`` or ``None``.
        content_type: ``requestPolicy.headerContentType`` or ``None``.
    """

    retry: RetryPolicy | None = None
    max_receives_per_second: int | None = None
    content_type: str | None = None
    disable_subscription_overrides: bool = False

    @classmethod
    def parse_subscription(cls, value: object) -> DeliveryPolicy | None:
        """From ``{"healthyRetryPolicy": {...}, "throttlePolicy": {...}, "requestPolicy":
        {...}}`` (JSON text or dict); ``None``/``""`` clears it."""
        if value is None or value == "":
            return None
        data = _json_object("DeliveryPolicy", value)
        return cls._from(data, "healthyRetryPolicy", "throttlePolicy", "requestPolicy", False)

    @classmethod
    def parse_topic(cls, value: object) -> DeliveryPolicy | None:
        """From the topic shape ``{"http": {"defaultHealthyRetryPolicy": ...,
        "disableSubscriptionOverrides": ..., "defaultThrottlePolicy": ...,
        "defaultRequestPolicy": ...}}``; ``None``/``""`` clears it."""
        if value is None or value == "":
            return None
        data = _json_object("DeliveryPolicy", value)
        unknown = set(data) - {"http", "https"}
        if unknown:
            raise InvalidParameter(
                f"Invalid parameter: DeliveryPolicy: unknown protocol(s) {sorted(unknown, key=repr)}"
            )
        http = data.get("http", data.get("https", {}))
        if not isinstance(http, Mapping):
            raise InvalidParameter("Invalid parameter: DeliveryPolicy: http must be an object")
        disable = parse_bool(
            "DeliveryPolicy: disableSubscriptionOverrides",
            http.get("disableSubscriptionOverrides", False),
        )
        return cls._from(
            {k: v for k, v in http.items() if k != "disableSubscriptionOverrides"},
            "defaultHealthyRetryPolicy", "defaultThrottlePolicy", "defaultRequestPolicy", disable,
        )

    @classmethod
    def _from(
        cls, data: Mapping[str, Any], retry_key: str, throttle_key: str, request_key: str,
        disable: bool,
    ) -> DeliveryPolicy:
        unknown = set(data) - {retry_key, throttle_key, request_key, "sicklyRetryPolicy",
                               "guaranteed"}
        if unknown:
            raise InvalidParameter(
                f"Invalid parameter: DeliveryPolicy: unknown field(s) {sorted(unknown, key=repr)}"
            )
        retry = None
        if data.get(retry_key) is not None:
            section = data[retry_key]
            if not isinstance(section, Mapping):
                raise InvalidParameter(f"Invalid parameter: DeliveryPolicy: {retry_key} must be an object")
            retry = _retry_policy("DeliveryPolicy", section)
        rate = None
        throttle = data.get(throttle_key)
        if throttle is not None:
            if not isinstance(throttle, Mapping):
                raise InvalidParameter(f"Invalid parameter: DeliveryPolicy: {throttle_key} must be an object")
            if "maxReceivesPerSecond" in throttle:
                rate = _int_field("DeliveryPolicy", throttle, "maxReceivesPerSecond", 1, 1, 10**9)
        content_type = None
        request = data.get(request_key)
        if request is not None:
            if not isinstance(request, Mapping):
                raise InvalidParameter(f"Invalid parameter: DeliveryPolicy: {request_key} must be an object")
            content_type = request.get("headerContentType")
            if content_type is not None and (
                not isinstance(content_type, str) or "/" not in content_type
            ):
                raise InvalidParameter(
                    "Invalid parameter: DeliveryPolicy: headerContentType must be a MIME type, "
                    f"got {content_type!r}"
                )
        return cls(retry, rate, content_type, disable)

    def to_subscription_json(self) -> str:
        """The subscription ``DeliveryPolicy`` attribute value."""
        data: dict[str, Any] = {}
        if self.retry is not None:
            data["healthyRetryPolicy"] = self.retry.to_aws()
        if self.max_receives_per_second is not None:
            data["throttlePolicy"] = {"maxReceivesPerSecond": self.max_receives_per_second}
        if self.content_type is not None:
            data["requestPolicy"] = {"headerContentType": self.content_type}
        return json.dumps(data, separators=(",", ":"))

    def to_topic_json(self) -> str:
        """The topic ``DeliveryPolicy`` attribute value."""
        http: dict[str, Any] = {}
        if self.retry is not None:
            http["defaultHealthyRetryPolicy"] = self.retry.to_aws()
        http["disableSubscriptionOverrides"] = self.disable_subscription_overrides
        if self.max_receives_per_second is not None:
            http["defaultThrottlePolicy"] = {"maxReceivesPerSecond": self.max_receives_per_second}
        if self.content_type is not None:
            http["defaultRequestPolicy"] = {"headerContentType": self.content_type}
        return json.dumps({"http": http}, separators=(",", ":"))


def effective_http_policy(
    topic: DeliveryPolicy | None, subscription: DeliveryPolicy | None
) -> DeliveryPolicy:
    """The policy an HTTP/S subscription runs with: the subscription's fields over the topic's
    (unless the topic disables overrides) over the defaults."""
    retry: RetryPolicy = HTTP_DEFAULT_RETRY
    rate: int | None = None
    content_type = DEFAULT_CONTENT_TYPE
    layers = [topic] if topic is not None and topic.disable_subscription_overrides else [
        topic, subscription
    ]
    for layer in layers:
        if layer is None:
            continue
        retry = layer.retry or retry
        rate = layer.max_receives_per_second or rate
        content_type = layer.content_type or content_type
    return DeliveryPolicy(retry, rate, content_type)


def effective_topic_json(topic: DeliveryPolicy | None) -> str:
    """The topic's ``EffectiveDeliveryPolicy`` attribute value."""
    eff = effective_http_policy(topic, None)
    assert eff.retry is not None
    http: dict[str, Any] = {
        "defaultHealthyRetryPolicy": eff.retry.to_aws(),
        "disableSubscriptionOverrides": bool(topic and topic.disable_subscription_overrides),
    }
    if eff.max_receives_per_second is not None:
        http["defaultThrottlePolicy"] = {"maxReceivesPerSecond": eff.max_receives_per_second}
    http["defaultRequestPolicy"] = {"headerContentType": eff.content_type}
    return json.dumps({"http": http}, separators=(",", ":"))


def effective_subscription_json(policy: DeliveryPolicy) -> str:
    """A subscription's ``EffectiveDeliveryPolicy`` attribute value."""
    assert policy.retry is not None
    throttle = (
        None if policy.max_receives_per_second is None
        else {"maxReceivesPerSecond": policy.max_receives_per_second}
    )
    return json.dumps(
        {
            "healthyRetryPolicy": policy.retry.to_aws(),
            "sicklyRetryPolicy": None,
            "throttlePolicy": throttle,
            "requestPolicy": {"headerContentType": policy.content_type},
            "guaranteed": False,
        },
        separators=(",", ":"),
    )


# --- redrive, replay, archive -------------------------------------------------------------


def parse_redrive_policy(value: object, region: str, account_id: str) -> str | None:
    """The dead-letter queue ARN of a subscription ``RedrivePolicy``, or ``None`` to clear.

    Accepts the AWS JSON (``{"deadLetterTargetArn": "arn:aws:sqs:..."}``), a dict, or a queue
    object (anything with an ``arn`` attribute).
    """
    if value is None or value == "":
        return None
    arn_attr = getattr(value, "arn", None)
    if isinstance(arn_attr, str):
        target: object = arn_attr
    else:
        data = _json_object("RedrivePolicy", value)
        unknown = set(data) - {"deadLetterTargetArn"}
        if unknown:
            raise InvalidParameter(
                f"Invalid parameter: RedrivePolicy: unknown field(s) {sorted(unknown, key=repr)}"
            )
        target = data.get("deadLetterTargetArn")
    parts = target.split(":") if isinstance(target, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        raise InvalidParameter("Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn")
    if parts[3] != region or parts[4] != account_id:
        raise InvalidParameter(
            "Invalid parameter: RedrivePolicy: the dead-letter queue must be in the same account "
            "and region as the subscription"
        )
    assert isinstance(target, str)
    return target


def parse_iso_ms(name: str, value: object) -> int:
    """An ISO-8601 timestamp (``2026-01-01T00:00:00.000Z``; naive means UTC) as epoch ms."""
    if not isinstance(value, str):
        raise InvalidParameter(f"Invalid parameter: {name} must be an ISO-8601 timestamp")
    try:
        parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidParameter(
            f"Invalid parameter: {name}: {value!r} is not an ISO-8601 timestamp"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return int(round(parsed.timestamp() * 1000))


@attrs.frozen(slots=True)
class ReplayPolicy:
    """A parsed ``ReplayPolicy``: replay archived messages published in [start, end] (epoch ms)."""

    starting_ms: int
    ending_ms: int | None
    text: str

    @classmethod
    def parse(cls, value: object) -> ReplayPolicy | None:
        """From ``{"PointType": "Timestamp", "StartingPoint": ISO, "EndingPoint"?: ISO}``."""
        if value is None or value == "":
            return None
        data = _json_object("ReplayPolicy", value)
        unknown = set(data) - {"PointType", "StartingPoint", "EndingPoint"}
        if unknown:
            raise InvalidParameter(f"Invalid parameter: ReplayPolicy: unknown field(s) {sorted(unknown, key=repr)}")
        if data.get("PointType") != "Timestamp":
            raise InvalidParameter(
                "Invalid parameter: ReplayPolicy: PointType must be Timestamp, got "
                f"{data.get('PointType')!r}"
            )
        if "StartingPoint" not in data:
            raise InvalidParameter("Invalid parameter: ReplayPolicy: StartingPoint is required")
        start = parse_iso_ms("ReplayPolicy: StartingPoint", data["StartingPoint"])
        end = None
        if data.get("EndingPoint") is not None:
            end = parse_iso_ms("ReplayPolicy: EndingPoint", data["EndingPoint"])
            if end < start:
                raise InvalidParameter(
                    "Invalid parameter: ReplayPolicy: EndingPoint must not be before StartingPoint"
                )
        text = value if isinstance(value, str) else json.dumps(dict(data), separators=(",", ":"))
        return cls(start, end, text)


def parse_archive_policy(value: object) -> int | None:
    """``ArchivePolicy`` ``{"MessageRetentionPeriod": "1".."365"}`` as days; ``{}``, ``""`` or
    ``None`` turn archiving off."""
    if value is None or value == "":
        return None
    data = _json_object("ArchivePolicy", value)
    if not data:
        return None
    unknown = set(data) - {"MessageRetentionPeriod"}
    if unknown:
        raise InvalidParameter(f"Invalid parameter: ArchivePolicy: unknown field(s) {sorted(unknown, key=repr)}")
    days = data.get("MessageRetentionPeriod")
    if isinstance(days, str) and days.isascii() and days.strip().isdigit():
        days = int(days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise InvalidParameter(
            "Invalid parameter: ArchivePolicy: MessageRetentionPeriod must be a number of days "
            f"from 1 to 365, got {data.get('MessageRetentionPeriod')!r}"
        )
    return days
