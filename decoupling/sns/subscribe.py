"""Managing a topic's subscriptions: ``Subscribe``, ``ConfirmSubscription``, ``Unsubscribe``,
``ListSubscriptionsByTopic``, and routing published messages by filter policy.

FIFO topics deliver to SQS queues only (FIFO or standard), and at most 100 subscriptions
("Amazon SNS message delivery for FIFO topics"); standard topics refuse FIFO queues. A topic
whose ``MaximumMessageSize`` exceeds 256 KiB takes at most 100 subscriptions, of SQS, Lambda
and Firehose ("Publishing large messages with Amazon SNS").
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import InvalidParameter, NotFound, SubscriptionLimitExceeded
from ..sqs.queue import Queue
from . import http as sns_http
from .archive import Archive, Replay
from .delivery import OutboxEntry, to_outbox
from .delivery import protocol as protocol_spec
from .filter_policy import FilterPolicy
from .message import iso_timestamp
from .policy import ReplayPolicy
from .subscription import Subscription

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .topic import Topic

__all__: list[str] = []

DEFAULT_MAX_SIZE = 262_144
#: Subscriptions a FIFO topic, or a topic allowing messages over 256 KiB, may have.
SMALL_TOPIC_SUBSCRIPTIONS = 100
#: Seconds (loop time) a confirmation token stays valid: two days ("Confirmation tokens are
#: valid for two days", ``Subscribe`` in the current SNS API reference).
TOKEN_VALIDITY = 2 * 86_400.0


class _Subscribing:
    """The subscription half of :class:`~decoupling.Topic` (a mixin; state lives on Topic)."""

    loop: EventLoop
    arn: str
    is_fifo: bool
    _lock: threading.RLock
    _max_size: int
    _archive: Archive | None
    _subs: dict[str, Subscription]
    _by_endpoint: dict[tuple[str, str], Subscription]
    _tokens: dict[str, tuple[Subscription, float]]
    _deleted_subs: int
    _routes: tuple[tuple[FilterPolicy | None, str, tuple[Subscription, ...]], ...]
    _policies: dict[tuple[str, str], FilterPolicy]
    outbox: list[OutboxEntry]

    def _check_alive(self) -> None:
        raise NotImplementedError

    def subscribe(
        self,
        endpoint: Any,
        protocol: str | None = None,
        *,
        filter_policy: str | Mapping[str, Any] | None = None,
        filter_policy_scope: str | None = None,
        raw_message_delivery: bool | None = None,
        redrive_policy: str | Mapping[str, Any] | Queue | None = None,
        delivery_policy: str | Mapping[str, Any] | None = None,
        replay_policy: str | Mapping[str, Any] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Subscription:
        """Subscribe an endpoint (``Subscribe``); return the :class:`~decoupling.Subscription`.

        Args:
            endpoint: a :class:`~decoupling.Queue` or SQS queue ARN (``sqs``), an
                ``http(s)://`` URL, an email address, a phone number (``sms``), a Python
                callable taking a :class:`~decoupling.Notification` or a mobile push
                :class:`~decoupling.PlatformEndpoint` or its ARN (``application``), or what a
                registered protocol resolves.
            protocol: the protocol (``sqs``, ``http``, ``https``, ``email``, ``email-json``, ``sms``, ``application``, ``lambda``); inferred for queues, queue ARNs, URLs and callables.
            filter_policy, filter_policy_scope, raw_message_delivery, redrive_policy,
                delivery_policy, replay_policy: the subscription attributes of the same AWS
                names (JSON text or Python values; a queue object for ``redrive_policy``).
            attributes: further attributes by AWS name.

        HTTP/S and email subscriptions start pending confirmation: a ``SubscriptionConfirmation``
        is POSTed (HTTP/S), emailed through the loop's ``email`` transport or, without one, put in
        :attr:`outbox` (email), carrying the ``Token`` for
        :meth:`confirm_subscription`. Subscribing the same endpoint again returns the same
        subscription, unless other attributes are asked for (``InvalidParameter``).
        O(s) for s subscriptions: the topic regroups them by filter policy.

        Raises:
            InvalidParameter: an unknown protocol, a bad endpoint or attribute, a FIFO queue on
            a standard topic, a protocol a FIFO or large-message topic does not allow.
            SubscriptionLimitExceeded: 100 subscriptions on a FIFO topic.
            FilterPolicyLimitExceeded: 200 filter policies on the topic.
        """
        requested: dict[str, Any] = {}
        for key, value in (
            ("FilterPolicy", filter_policy), ("FilterPolicyScope", filter_policy_scope),
            ("RawMessageDelivery", raw_message_delivery), ("RedrivePolicy", redrive_policy),
            ("DeliveryPolicy", delivery_policy), ("ReplayPolicy", replay_policy),
        ):
            if value is not None:
                requested[key] = value
        if attributes:
            if not isinstance(attributes, Mapping):
                raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
            requested.update(attributes)
        with self._lock:
            self._check_alive()
            name = protocol or _infer_protocol(endpoint)
            spec = protocol_spec(name)
            if spec is None:
                raise InvalidParameter(
                    f"Invalid parameter: Amazon SNS does not support this protocol string: {name}"
                )
            endpoint_text, target = spec.resolve(self.loop, endpoint)
            existing = self._by_endpoint.get((name, endpoint_text))
            if existing is not None:
                if existing._differs(existing._parse(requested)):
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Subscription already exists with "
                        "different attributes"
                    )
                return existing
            self._check_can_subscribe(spec.name, spec.fifo_topics, spec.large_messages,
                                      endpoint_text)
            sub = Subscription(cast("Topic", self), spec, endpoint_text, target, self.loop.new_id())
            parsed = sub._parse(requested)
            self._subs[sub.arn] = sub
            self._by_endpoint[(name, endpoint_text)] = sub
            self.loop._register("sns-subscription", sub.arn, sub)
            sub._apply(parsed)
            if sub._pending:
                self._ask_confirmation(sub)
            return sub

    def _check_can_subscribe(self, name: str, fifo_ok: bool, large_ok: bool, endpoint: str) -> None:
        active = len(self._subs)
        if self.is_fifo:
            if not fifo_ok:
                raise InvalidParameter(
                    f"Invalid parameter: Invalid protocol type: {name}. FIFO topics deliver to "
                    "SQS queues only"
                )
            if active >= SMALL_TOPIC_SUBSCRIPTIONS:
                raise SubscriptionLimitExceeded(
                    f"A FIFO topic can have at most {SMALL_TOPIC_SUBSCRIPTIONS} subscriptions."
                )
        elif name == "sqs" and endpoint.endswith(".fifo"):
            raise InvalidParameter(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not "
                "be subscribed to standard SNS topics"
            )
        if self._max_size > DEFAULT_MAX_SIZE:
            if not large_ok:
                raise InvalidParameter(
                    f"Invalid parameter: Protocol {name} is not supported on a topic whose "
                    f"MaximumMessageSize exceeds {DEFAULT_MAX_SIZE} bytes"
                )
            if active >= SMALL_TOPIC_SUBSCRIPTIONS:
                raise InvalidParameter(
                    "Invalid parameter: a topic whose MaximumMessageSize exceeds "
                    f"{DEFAULT_MAX_SIZE} bytes can have at most {SMALL_TOPIC_SUBSCRIPTIONS} "
                    "subscriptions"
                )

    def _ask_confirmation(self, sub: Subscription) -> None:
        token = secrets.token_hex(64)
        sub._token = token
        sub._token_expires = self.loop.clock.now() + TOKEN_VALIDITY
        self._tokens[token] = (sub, sub._token_expires)
        text = (
            f"You have chosen to subscribe to the topic {self.arn}.\nTo confirm the "
            "subscription, visit the SubscribeURL included in this message."
        )
        if sub.protocol in ("http", "https"):
            sns_http.send_confirmation(sub, "SubscriptionConfirmation", token, text)
        elif sub.protocol in ("email", "email-json") and self.loop.email is not None:
            from . import mail

            mail.send_confirmation(sub, token, text)
        else:
            to_outbox(self.outbox, OutboxEntry(
                sub.protocol, sub.endpoint, "SubscriptionConfirmation",
                "AWS Notification - Subscription Confirmation",
                f"{text}\n{self._subscribe_url(token)}", self.loop.new_id(), sub.arn,
                iso_timestamp(self.loop.clock.wall_ms()), token,
            ))

    def _subscribe_url(self, token: str) -> str:
        return (
            f"https://sns.{self.loop.region}.{self.loop._dns_suffix}/?Action=ConfirmSubscription&"
            f"TopicArn={self.arn}&Token={token}"
        )

    def confirm_subscription(self, token: str) -> Subscription:
        """Confirm a pending subscription with the ``Token`` sent to its endpoint
        (``ConfirmSubscription``). Tokens are valid for 2 days of loop time.

        Raises:
            InvalidParameter: an unknown token ("Invalid parameter: Token") or an expired one
            ("Invalid token").
        """
        with self._lock:
            self._check_alive()
            found = self._tokens.get(token) if isinstance(token, str) else None
            if found is None or not found[0]._active:
                raise InvalidParameter("Invalid parameter: Token")
            sub, expires = found
            if self.loop.clock.now() > expires:
                raise InvalidParameter("Invalid token")
            if sub._pending:
                sub._pending = False
                self._routes_changed()
            return sub

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Delete a subscription (``Unsubscribe``), given the object or its ARN. A confirmed
        HTTP/S endpoint is sent an ``UnsubscribeConfirmation``.

        Raises:
            NotFound: no such subscription on this topic.
        """
        with self._lock:
            arn = subscription.arn if isinstance(subscription, Subscription) else subscription
            sub = self._subs.pop(arn, None) if isinstance(arn, str) else None
            if sub is None:
                raise NotFound("Subscription does not exist")
            self._by_endpoint.pop((sub.protocol, sub.endpoint), None)
            self.loop._unregister("sns-subscription", sub.arn)
            if sub._token is not None:
                self._tokens.pop(sub._token, None)
            if sub._replay is not None:
                sub._replay.cancel()
            was_confirmed = not sub._pending
            sub._active = False
            self._deleted_subs += 1
            self._routes_changed()
            if was_confirmed and sub.protocol in ("http", "https"):
                token = secrets.token_hex(64)
                sns_http.send_confirmation(
                    sub, "UnsubscribeConfirmation", token,
                    f"You have chosen to deactivate subscription {sub.arn}.\nTo cancel this "
                    "operation and restore the subscription, visit the SubscribeURL included in "
                    "this message.",
                )

    @property
    def subscriptions(self) -> list[Subscription]:
        """The topic's subscriptions, oldest first (pending ones included)."""
        with self._lock:
            return list(self._subs.values())

    def list_subscriptions(self) -> list[dict[str, str]]:
        """``ListSubscriptionsByTopic`` entries (``SubscriptionArn`` is
        ``PendingConfirmation`` for a pending subscription)."""
        with self._lock:
            self._check_alive()
            return [sub.to_aws() for sub in self._subs.values()]

    # -- routing (lock held) ---------------------------------------------------------------------

    def _compile_policy(self, policy: str | Mapping[str, Any], scope: str) -> FilterPolicy:
        """Compile a filter policy; equal policies share one compiled object, so a publish
        evaluates each distinct policy once."""
        compiled = FilterPolicy.compile(policy, scope)
        key = (scope, json.dumps(compiled.policy, sort_keys=True))
        return self._policies.setdefault(key, compiled)

    def _n_filter_policies(self) -> int:
        return sum(1 for s in self._subs.values() if s._policy is not None)

    def _routes_changed(self) -> None:
        """Regroup confirmed subscriptions by filter policy. O(s)."""
        groups: dict[tuple[int, str], tuple[FilterPolicy | None, str, list[Subscription]]] = {}
        for sub in self._subs.values():
            if sub._pending or not sub._active:
                continue
            policy = sub._policy
            key = sub.protocol if policy is not None and policy.scope == "MessageBody" else ""
            group = groups.setdefault((id(policy), key), (policy, key, []))
            group[2].append(sub)
        self._routes = tuple((p, k, tuple(subs)) for p, k, subs in groups.values())
        used = {id(p) for p, _, _ in self._routes}
        self._policies = {k: p for k, p in self._policies.items() if id(p) in used}

    # -- archive and replay ----------------------------------------------------------------------

    def _check_replay(self, policy: ReplayPolicy) -> None:
        archive = self._archive
        if archive is None:
            raise InvalidParameter(
                "Invalid parameter: ReplayPolicy: the topic has no ArchivePolicy to replay from"
            )
        now_ms = self.loop.clock.wall_ms()
        if policy.starting_ms > now_ms:
            raise InvalidParameter(
                "Invalid parameter: ReplayPolicy: StartingPoint must not be in the future"
            )
        beginning = archive.beginning_ms(now_ms)
        if policy.starting_ms < beginning:
            raise InvalidParameter(
                "Invalid parameter: ReplayPolicy: StartingPoint is before the topic's "
                f"BeginningArchiveTime ({iso_timestamp(beginning)})"
            )

    def _start_replay(self, sub: Subscription) -> None:
        old = sub._replay
        held = old.cancel() if old is not None else []
        policy = sub._replay_policy
        if policy is None:
            sub._replay = None
            sub._replay_status = None
            sub._restore_fan()
            for pub in held:
                sub._live(pub, False)
            return
        replay = Replay(sub, policy)
        replay._held = held
        sub._replay = replay
        replay.start()


def _infer_protocol(endpoint: Any) -> str:
    if isinstance(endpoint, Queue):
        return "sqs"
    if isinstance(endpoint, str):
        if re.match(r"arn:aws[a-z-]*:sqs:", endpoint):
            return "sqs"
        if endpoint.startswith("https://"):
            return "https"
        if endpoint.startswith("http://"):
            return "http"
        if endpoint.startswith("arn:") and endpoint.split(":")[5:6] != [] and \
                endpoint.split(":")[5].startswith("endpoint/"):
            return "application"  # a mobile push endpoint
    elif callable(endpoint) or hasattr(endpoint, "_push_notification"):
        return "application"
    raise InvalidParameter(
        f"Invalid parameter: Protocol is required for endpoint {endpoint!r} (e.g. 'email', 'sms')"
    )
