"""``Subscription``: one endpoint subscribed to a topic, with its attributes.

Attributes follow ``GetSubscriptionAttributes`` / ``SetSubscriptionAttributes`` in the SNS API
reference: ``DeliveryPolicy``, ``FilterPolicy``, ``FilterPolicyScope``, ``RawMessageDelivery``,
``RedrivePolicy``, ``ReplayPolicy``, ``SubscriptionRoleArn`` are writable; ``SubscriptionArn``,
``TopicArn``, ``Protocol``, ``Endpoint``, ``Owner``, ``PendingConfirmation``,
``ConfirmationWasAuthenticated``, ``EffectiveDeliveryPolicy`` (HTTP/S), ``ReplayStatus`` and
``SubscriptionPrincipal`` are read-only. A filter policy is compiled once, when it is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import FilterPolicyLimitExceeded, InvalidParameter, NotFound
from .delivery import ProtocolSpec, SqsSink, dispatch
from .filter_policy import SCOPES, FilterPolicy
from .message import Published
from .policy import (
    DeliveryPolicy,
    ReplayPolicy,
    RetryPolicy,
    effective_http_policy,
    effective_subscription_json,
    parse_bool,
    parse_redrive_policy,
)

if TYPE_CHECKING:
    from .archive import Replay
    from .topic import Topic

__all__ = ["Subscription", "WRITABLE_ATTRIBUTES"]

#: Subscription attributes :meth:`Subscription.set_attributes` accepts.
WRITABLE_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "ReplayPolicy",
        "SubscriptionRoleArn",
    }
)
#: Filter policies per topic (SNS quota, "Amazon SNS endpoints and quotas").
MAX_FILTER_POLICIES = 200


class Subscription:
    """An endpoint subscribed to a :class:`~decoupling.Topic` (create with
    :meth:`Topic.subscribe`).

    Attributes:
        topic: the topic.
        arn: the subscription ARN (``<topic ARN>:<id>``), also while pending confirmation.
        protocol: ``sqs``, ``http``, ``https``, ``email``, ``email-json``, ``sms``,
            ``application`` or a registered protocol.
        endpoint: the ``Endpoint`` attribute (a queue ARN, URL, address, number, ...).
        target: the resolved endpoint object (the :class:`~decoupling.Queue`, the callable, ...).
        delivered: deliveries that succeeded (non-``sqs`` protocols).
        undeliverable: messages that failed for good (dead-lettered or dropped).
        dead_lettered: of those, messages sent to the ``RedrivePolicy`` dead-letter queue.
    """

    def __init__(
        self, topic: Topic, spec: ProtocolSpec, endpoint: str, target: Any, sub_id: str
    ) -> None:
        self.topic = topic
        self.spec = spec
        self.protocol = spec.name
        self.endpoint = endpoint
        self.target = target
        self.arn = f"{topic.arn}:{sub_id}"
        self.delivered = 0
        self.undeliverable = 0
        self.dead_lettered = 0
        self._pending = spec.confirmation
        self._token: str | None = None
        self._token_expires = 0.0
        self._active = True
        self._raw = False
        self._policy: FilterPolicy | None = None
        self._policy_text: str | None = None
        self._scope = "MessageAttributes"
        self._scope_set = False
        self._dlq_arn: str | None = None
        self._redrive_text: str | None = None
        self._delivery: DeliveryPolicy | None = None
        self._replay_policy: ReplayPolicy | None = None
        self._replay_status: str | None = None
        self._replay: Replay | None = None
        self._role_arn: str | None = None
        self._rate: int | None = None
        self._next_slot = 0.0
        self._unsub_url = (
            f"https://sns.{topic.loop.region}.{topic.loop._dns_suffix}/?Action=Unsubscribe&"
            f"SubscriptionArn={self.arn}"
        )
        self._unsub_json = json.dumps(self._unsub_url)
        # SQS message ids of the messages this subscription delivers: a per-subscription head
        # plus the publish's counter (Published.id_suffix) — unique within the loop (the "b"
        # variant nibble keeps them apart from EventLoop.new_id's "a") and one concatenation
        # instead of a UUID build per delivery.
        index = topic._sub_count = topic._sub_count + 1
        self._sqs_id_head = f"{topic._id_head}4{index >> 12 & 0xFFF:03x}-b{index & 0xFFF:03x}-"
        self._sink = SqsSink(self) if spec.name == "sqs" else None
        #: What the topic's fan-out calls for this subscription: the delivery itself (the
        #: queue sink directly, for speed), or a replay's holding list while one runs.
        self._fan: Callable[[Published, bool], None] = self._live
        self._restore_fan()

    # -- delivery (loop lock held) ----------------------------------------------------------

    def _live(self, pub: Published, replayed: bool = False) -> None:
        """Deliver a message now."""
        sink = self._sink
        if sink is not None:
            sink.deliver(pub, replayed)
        else:
            dispatch(self, pub, replayed)

    def _restore_fan(self) -> None:
        """Deliver live messages directly again (after a replay)."""
        self._fan = self._sink.deliver if self._sink is not None else self._live

    def _matches(self, pub: Published) -> bool:
        policy = self._policy
        if policy is None:
            return True
        if policy.scope == "MessageBody":
            return policy.matches_body(pub.message_for(self.protocol))
        return policy.matches_attributes(pub.filter_attributes())

    def retry_policy(self) -> RetryPolicy:
        """The retry schedule of a failed delivery to this subscription."""
        if self.protocol in ("http", "https"):
            retry = self.effective_delivery_policy().retry
            assert retry is not None
            return retry
        if self.spec.delivery_policy and self._delivery is not None and self._delivery.retry:
            return self._delivery.retry
        return self.spec.retry

    def effective_delivery_policy(self) -> DeliveryPolicy:
        """The HTTP/S delivery policy in force: subscription over topic over defaults."""
        return effective_http_policy(self.topic._delivery, self._delivery)

    # -- attributes -------------------------------------------------------------------------

    @property
    def pending_confirmation(self) -> bool:
        """``True`` until the endpoint owner confirms (HTTP/S and email)."""
        return self._pending

    @property
    def raw_message_delivery(self) -> bool:
        """``RawMessageDelivery``: deliver the message body without the JSON envelope."""
        return self._raw

    @property
    def filter_policy(self) -> dict[str, Any] | None:
        """The parsed ``FilterPolicy``, or ``None``."""
        return None if self._policy is None else self._policy.policy

    @property
    def filter_policy_scope(self) -> str:
        """``FilterPolicyScope``: ``MessageAttributes`` (default) or ``MessageBody``."""
        return self._scope

    @property
    def replay_status(self) -> str | None:
        """``ReplayStatus``: ``Pending``, ``In progress``, ``Completed``, ``Failed`` or
        ``None`` when no replay was asked for."""
        return self._replay_status

    def _parse(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate attributes (AWS names) against this subscription; change nothing."""
        if not isinstance(attributes, Mapping):
            raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
        topic = self.topic
        parsed: dict[str, Any] = {}
        for name, value in attributes.items():
            if name not in WRITABLE_ATTRIBUTES:
                raise InvalidParameter("Invalid parameter: AttributeName")
            if name == "RawMessageDelivery":
                raw = parse_bool("RawMessageDelivery", value)
                if raw and not self.spec.raw:
                    raise InvalidParameter(
                        f"Invalid parameter: Delivery protocol [{self.protocol}] does not "
                        "support raw message delivery."
                    )
                parsed[name] = raw
            elif name == "FilterPolicyScope":
                if value not in SCOPES:
                    raise InvalidParameter(
                        f"Invalid parameter: FilterPolicyScope: Invalid value [{value}]. "
                        "Please use either MessageBody or MessageAttributes"
                    )
                parsed[name] = value
            elif name == "FilterPolicy":
                parsed[name] = None if value in (None, "") else value
            elif name == "DeliveryPolicy":
                parsed[name] = DeliveryPolicy.parse_subscription(value)
            elif name == "RedrivePolicy":
                arn = parse_redrive_policy(value, topic.loop.region, topic.loop.account_id)
                if arn is not None:
                    self._check_dlq_type(arn)
                parsed[name] = arn
            elif name == "ReplayPolicy":
                if not topic.is_fifo:
                    raise InvalidParameter(
                        "Invalid parameter: ReplayPolicy: replay is available on FIFO topics only"
                    )
                policy = ReplayPolicy.parse(value)
                if policy is not None:
                    topic._check_replay(policy)
                parsed[name] = policy
            else:
                if value is not None and not isinstance(value, str):
                    raise InvalidParameter(f"Invalid parameter: {name} must be a string")
                parsed[name] = value or None
        # The policy is compiled against the scope it will run under.
        if "FilterPolicy" in parsed or "FilterPolicyScope" in parsed:
            text = parsed.get("FilterPolicy", self._policy_text) if "FilterPolicy" in parsed \
                else self._policy_text
            scope = parsed.get("FilterPolicyScope", self._scope)
            compiled = None
            if text is not None:
                compiled = topic._compile_policy(text, scope)
                if self._policy is None and topic._n_filter_policies() >= MAX_FILTER_POLICIES:
                    raise FilterPolicyLimitExceeded(
                        "Filter policy limit exceeded: a topic can have at most "
                        f"{MAX_FILTER_POLICIES} subscriptions with a filter policy."
                    )
            parsed["_compiled"] = (
                compiled,
                None if text is None else (text if isinstance(text, str) else
                                           json.dumps(text, separators=(",", ":"))),
            )
        return parsed

    def _check_dlq_type(self, arn: str) -> None:
        dlq_fifo = arn.endswith(".fifo")
        sub_fifo = self.topic.is_fifo and self.protocol == "sqs" and self.endpoint.endswith(".fifo")
        if sub_fifo and not dlq_fifo:
            raise InvalidParameter(
                "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
                "Subscription to a FIFO Topic."
            )
        if not sub_fifo and dlq_fifo:
            raise InvalidParameter(
                "Invalid parameter: RedrivePolicy: must use a standard queue as DLQ for this "
                "subscription (FIFO dead-letter queues serve FIFO queue subscriptions of FIFO "
                "topics)."
            )

    def _apply(self, parsed: Mapping[str, Any]) -> None:
        replay_changed = False
        for name, value in parsed.items():
            if name == "RawMessageDelivery":
                self._raw = value
            elif name == "FilterPolicyScope":
                self._scope = value
                self._scope_set = True
            elif name == "_compiled":
                self._policy, self._policy_text = value
            elif name == "DeliveryPolicy":
                self._delivery = value
            elif name == "RedrivePolicy":
                self._dlq_arn = value
                self._redrive_text = None if value is None else json.dumps(
                    {"deadLetterTargetArn": value}, separators=(",", ":"))
            elif name == "ReplayPolicy":
                self._replay_policy = value
                replay_changed = True
            elif name == "SubscriptionRoleArn":
                self._role_arn = value
        if self.protocol in ("http", "https"):
            self._rate = self.effective_delivery_policy().max_receives_per_second
        self.topic._routes_changed()
        if replay_changed:
            self.topic._start_replay(self)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set attributes by AWS name (``SetSubscriptionAttributes``); all are checked first, and
        on any error nothing changes. Values take AWS's string forms or Python values
        (``True``, dicts for JSON policies).

        Setting ``ReplayPolicy`` starts a replay (replacing a running one).

        Raises:
            InvalidParameter: an unknown name or a bad value. FilterPolicyLimitExceeded: the
            topic has 200 filter policies. NotFound: the subscription was deleted.
        """
        with self.topic._lock:
            self._check_alive()
            self._apply(self._parse(attributes))

    def set_attribute(self, name: str, value: Any) -> None:
        """Set one attribute (``SetSubscriptionAttributes`` with one name)."""
        self.set_attributes({name: value})

    def get_attributes(self) -> dict[str, str]:
        """The attributes by AWS name, values as strings (``GetSubscriptionAttributes``)."""
        with self.topic._lock:
            self._check_alive()
            loop = self.topic.loop
            out = {
                "ConfirmationWasAuthenticated": "true" if not self._pending else "false",
                "Endpoint": self.endpoint,
                "Owner": loop.account_id,
                "PendingConfirmation": "true" if self._pending else "false",
                "Protocol": self.protocol,
                "RawMessageDelivery": "true" if self._raw else "false",
                "SubscriptionArn": self.arn,
                "SubscriptionPrincipal": f"arn:{loop.partition}:iam::{loop.account_id}:root",
                "TopicArn": self.topic.arn,
            }
            if self._delivery is not None:
                out["DeliveryPolicy"] = self._delivery.to_subscription_json()
            if self.protocol in ("http", "https"):
                out["EffectiveDeliveryPolicy"] = effective_subscription_json(
                    self.effective_delivery_policy()
                )
            if self._policy_text is not None:
                out["FilterPolicy"] = self._policy_text
            if self._policy_text is not None or self._scope_set:
                out["FilterPolicyScope"] = self._scope
            if self._redrive_text is not None:
                out["RedrivePolicy"] = self._redrive_text
            if self._replay_policy is not None:
                out["ReplayPolicy"] = self._replay_policy.text
            if self._replay_status is not None:
                out["ReplayStatus"] = self._replay_status
            if self._role_arn is not None:
                out["SubscriptionRoleArn"] = self._role_arn
            return out

    def _differs(self, parsed: Mapping[str, Any]) -> bool:
        """Whether parsed attributes (from :meth:`_parse`) differ from the current ones."""
        current: dict[str, Any] = {
            "RawMessageDelivery": self._raw,
            "FilterPolicyScope": self._scope,
            "DeliveryPolicy": self._delivery,
            "RedrivePolicy": self._dlq_arn,
            "ReplayPolicy": self._replay_policy,
            "SubscriptionRoleArn": self._role_arn,
        }
        for name, value in parsed.items():
            if name == "_compiled":
                compiled = value[0]
                mine = None if self._policy is None else self._policy.policy
                if (None if compiled is None else compiled.policy) != mine:
                    return True
            elif name == "ReplayPolicy":
                mine_replay = self._replay_policy
                if (value is None) != (mine_replay is None) or (
                    value is not None and mine_replay is not None
                    and (value.starting_ms, value.ending_ms)
                    != (mine_replay.starting_ms, mine_replay.ending_ms)
                ):
                    return True
            elif name in current and current[name] != value:
                return True
        return False

    def _check_alive(self) -> None:
        if not self._active:
            raise NotFound("Subscription does not exist")

    def unsubscribe(self) -> None:
        """Delete the subscription (``Unsubscribe``); pending retries stop."""
        self.topic.unsubscribe(self)

    def to_aws(self) -> dict[str, str]:
        """The ``ListSubscriptionsByTopic`` entry: ``SubscriptionArn`` is
        ``PendingConfirmation`` until confirmed."""
        return {
            "SubscriptionArn": "PendingConfirmation" if self._pending else self.arn,
            "Owner": self.topic.loop.account_id,
            "Protocol": self.protocol,
            "Endpoint": self.endpoint,
            "TopicArn": self.topic.arn,
        }

    def __repr__(self) -> str:
        state = " pending" if self._pending else ""
        return f"Subscription({self.protocol!r}, {self.endpoint!r}{state})"
