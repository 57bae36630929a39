"""``Topic``: an SNS topic (standard or FIFO), in process.

Publish fans a message out to every confirmed subscription whose filter policy matches; a
message no subscription wants is dropped (topics store nothing, unless a FIFO topic archives).
Deliveries to queues, email, email-json and SMS happen inline during ``publish``; callables and
HTTP/S endpoints are delivered from the loop (see :mod:`decoupling.sns.delivery`), so a slow
or failing subscriber never blocks a publish or another subscriber. Rules: the SNS Developer
Guide and API reference (``CreateTopic``, ``Publish``, ``PublishBatch``, ``Subscribe``,
``SetTopicAttributes``), and "Publishing large messages with Amazon SNS" for
``MaximumMessageSize``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from ..clock import ManualClock
from ..errors import InvalidParameter, NotFound
from ..loop import EventLoop
from ..message import dumps_json
from ..sqs.large_payloads import PayloadOffload
from . import http as sns_http  # noqa: F401  (registers the http and https protocols)
from . import permissions
from .archive import Archive
from .delivery import OutboxEntry
from .filter_policy import FilterPolicy
from .message import iso_timestamp
from .policy import DeliveryPolicy, effective_topic_json, parse_archive_policy, parse_bool
from .publish import PublishResult, _Publishing
from .signing import Signing, signer_of
from .subscribe import DEFAULT_MAX_SIZE, SMALL_TOPIC_SUBSCRIPTIONS, _Subscribing
from .subscription import Subscription

__all__ = ["Topic", "PublishResult"]

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
LARGE_MAX_SIZE = 1_048_576
MIN_MAX_SIZE = 1_024
_FEEDBACK = re.compile(r"(HTTP|Firehose|Lambda|Application|SQS)(Success|Failure)Feedback"
                       r"(RoleArn|SampleRate)")
_OPAQUE = frozenset({"Policy", "KmsMasterKeyId", "DataProtectionPolicy", "TracingConfig",
                     "SignatureVersion"})


class Topic(_Publishing, _Subscribing):
    """An SNS topic.

    Args:
        loop: the :class:`~decoupling.EventLoop` (account) it belongs to, or an AWS account
            from ``decoupling.aws.connect()`` (then the topic is a real SNS topic).
        name: 1-256 characters of ``A-Za-z0-9-_``; FIFO topics end in ``.fifo``.
        fifo_topic: ``True`` for a FIFO topic; default: inferred from the ``.fifo`` suffix.
        content_based_deduplication: FIFO: deduplicate by the SHA-256 of the message body when
            no ``MessageDeduplicationId`` is given (default ``False``).
        fifo_throughput_scope: FIFO: ``"Topic"`` (default; deduplicate across the topic) or
            ``"MessageGroup"`` (per group).
        archive_policy: FIFO: ``{"MessageRetentionPeriod": "1".."365"}`` days to archive.
        maximum_message_size: bytes of message plus attributes accepted (1,024-1,048,576;
            default 262,144). Above 262,144 the topic allows at most 100 subscriptions, of
            protocols ``sqs`` (and registered large-message protocols such as ``lambda``).
        display_name: ``DisplayName`` (email "From" name).
        delivery_policy: the topic ``DeliveryPolicy`` (HTTP/S retry defaults), AWS JSON shape.
        attributes: further attributes by AWS name, as ``CreateTopic`` takes them.
        large_payloads: a :class:`~decoupling.PayloadOffload`: a message over its threshold is
            stored once in its bucket and every subscription gets the pointer, as AWS's
            ``amazon-sns-extended-client`` publishes it (default ``None``). Not an SNS
            attribute: given to an existing topic, it is set on it; also settable later as
            :attr:`large_payloads`. SQS subscriptions need raw message delivery for a queue
            with ``large_payloads`` (or AWS's SQS extended client) to resolve the pointer.

    Creating a topic whose name exists returns the existing object when the attributes asked
    for are the same, and raises ``InvalidParameter`` when they differ (as ``CreateTopic``).

    Attributes:
        arn: ``arn:<partition>:sns:<region>:<account>:<name>``.
        outbox: email, email-json and SMS messages "sent", oldest first
            (:class:`~decoupling.OutboxEntry`); the newest ``decoupling.sns.delivery.OUTBOX_LIMIT``
            (1,000) are kept, older ones are dropped as new ones come.
    """

    _initialized = False

    def __new__(cls, loop: EventLoop, name: str, **kwargs: Any) -> Topic:
        if type(loop) is not EventLoop and hasattr(loop, "_implementation"):
            if kwargs.get("large_payloads") is not None:
                raise InvalidParameter(
                    "Invalid parameter: large_payloads is for in-process topics; on AWS use "
                    "AWS's amazon-sns-extended-client"
                )
            made: Topic = object.__new__(loop._implementation(cls))  # another backend (AWS)
            return made
        if not isinstance(loop, EventLoop):
            raise InvalidParameter(
                "Invalid parameter: Topic needs an EventLoop as its first argument (the account "
                f"it belongs to), got {type(loop).__name__}"
            )
        with loop._lock:
            existing = loop._lookup("sns", name) if isinstance(name, str) else None
            if existing is None:
                return super().__new__(cls)
            if existing._created_with != _requested(**kwargs):
                raise InvalidParameter(
                    "Invalid parameter: Attributes Reason: Topic already exists with different "
                    "attributes"
                )
            assert isinstance(existing, Topic)
            return existing

    def __init__(
        self,
        loop: EventLoop,
        name: str,
        *,
        fifo_topic: bool | None = None,
        content_based_deduplication: bool | None = None,
        fifo_throughput_scope: str | None = None,
        archive_policy: str | Mapping[str, Any] | None = None,
        maximum_message_size: int | None = None,
        display_name: str | None = None,
        delivery_policy: str | Mapping[str, Any] | None = None,
        attributes: Mapping[str, Any] | None = None,
        large_payloads: PayloadOffload | None = None,
    ) -> None:
        if self._initialized:
            if large_payloads is not None:
                self.large_payloads = large_payloads
            return
        requested = _requested(
            fifo_topic=fifo_topic, content_based_deduplication=content_based_deduplication,
            fifo_throughput_scope=fifo_throughput_scope, archive_policy=archive_policy,
            maximum_message_size=maximum_message_size, display_name=display_name,
            delivery_policy=delivery_policy, attributes=attributes,
        )
        if not isinstance(name, str) or not TOPIC_NAME.fullmatch(name.removesuffix(".fifo")):
            raise InvalidParameter("Invalid parameter: Topic Name")
        fifo_value = requested.pop("FifoTopic", None)
        fifo = name.endswith(".fifo") if fifo_value is None else parse_bool("FifoTopic", fifo_value)
        if fifo != name.endswith(".fifo"):
            # AWS's wording for both cases (LocalStack's AWS-validated
            # test_create_topic_name_constraints snapshot).
            raise InvalidParameter("Invalid parameter: Topic Name")
        self.loop = loop
        self.name = name
        self.arn = loop.arn("sns", name)
        self.is_fifo = fifo
        self._lock = loop._lock
        self._display_name = ""
        self._content_dedup = False
        self._scope = "Topic"
        self._max_size = DEFAULT_MAX_SIZE
        self._max_size_set = False
        self._delivery: DeliveryPolicy | None = None
        self._archive: Archive | None = None
        self._archive_days: int | None = None
        self._opaque: dict[str, str] = {}
        self._subs: dict[str, Subscription] = {}
        self._by_endpoint: dict[tuple[str, str], Subscription] = {}
        self._tokens: dict[str, tuple[Subscription, float]] = {}
        self._deleted_subs = 0
        self._routes: tuple[tuple[FilterPolicy | None, str, tuple[Subscription, ...]], ...] = ()
        self._policies: dict[tuple[str, str], FilterPolicy] = {}
        self._dedup: dict[tuple[str | None, str], tuple[float, PublishResult]] = {}
        self._dedup_order: deque[tuple[float, tuple[str | None, str]]] = deque()
        self._sequence = 0
        self._published = 0
        self._sub_count = 0
        head = os.urandom(6).hex()
        self._id_head = f"{head[:8]}-{head[8:12]}-"
        self._sns_id_head = f"{self._id_head}4000-c000-"
        self._pending = 0
        self._in_pool = 0
        self._deleted = False
        self.outbox: list[OutboxEntry] = []
        # SignatureVersion "1" until set (AWS's default); the key is made on first signature.
        self._signing = Signing(signer_of(loop))
        with self._lock:
            self._apply(self._validate(requested))
            self._cond = loop._new_condition()
            self._created_with = _requested(
                fifo_topic=fifo_topic, content_based_deduplication=content_based_deduplication,
                fifo_throughput_scope=fifo_throughput_scope, archive_policy=archive_policy,
                maximum_message_size=maximum_message_size, display_name=display_name,
                delivery_policy=delivery_policy, attributes=attributes,
            )
            if large_payloads is not None:
                self.large_payloads = large_payloads
            loop._register("sns", name, self)
            self._initialized = True

    # -- attributes -----------------------------------------------------------------------------

    def _validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        fifo_only = ("ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy")
        for name, value in values.items():
            if name in fifo_only and not self.is_fifo:
                raise InvalidParameter(
                    f"Invalid parameter: Attributes Reason: {name} is only valid for FIFO topics"
                )
            if name == "ContentBasedDeduplication":
                parsed[name] = parse_bool(name, value)
            elif name == "FifoThroughputScope":
                if value not in ("Topic", "MessageGroup"):
                    raise InvalidParameter(
                        "Invalid parameter: FifoThroughputScope: must be Topic or MessageGroup, "
                        f"got {value!r}"
                    )
                parsed[name] = value
            elif name == "ArchivePolicy":
                parsed[name] = parse_archive_policy(value)
            elif name == "MaximumMessageSize":
                parsed[name] = self._check_max_size(value)
            elif name == "DisplayName":
                if not isinstance(value, str) or len(value) > 100:
                    raise InvalidParameter(
                        "Invalid parameter: DisplayName must be a string of at most 100 characters"
                    )
                parsed[name] = value
            elif name == "DeliveryPolicy":
                parsed[name] = DeliveryPolicy.parse_topic(value)
            elif isinstance(name, str) and (name in _OPAQUE or _FEEDBACK.fullmatch(name)):
                if name == "SignatureVersion" and value not in ("1", "2", 1, 2):
                    raise InvalidParameter("Invalid parameter: SignatureVersion must be 1 or 2")
                if name == "TracingConfig" and value not in ("PassThrough", "Active"):
                    raise InvalidParameter(
                        "Invalid parameter: TracingConfig must be PassThrough or Active"
                    )
                try:
                    parsed[name] = value if isinstance(value, str) else dumps_json(value)
                except (TypeError, ValueError):
                    raise InvalidParameter(
                        f"Invalid parameter: {name} must be a string or JSON value"
                    ) from None
            elif name == "FifoTopic":
                raise InvalidParameter(
                    "Invalid parameter: AttributeName Reason: FifoTopic can only be set when the "
                    "topic is created"
                )
            else:
                raise InvalidParameter("Invalid parameter: AttributeName")
        return parsed

    def _check_max_size(self, value: object) -> int:
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_MAX_SIZE <= value <= LARGE_MAX_SIZE
        ):
            raise InvalidParameter(
                "Invalid parameter: MaximumMessageSize must be an integer from "
                f"{MIN_MAX_SIZE} to {LARGE_MAX_SIZE} bytes, got {value!r}"
            )
        if value > DEFAULT_MAX_SIZE:
            subs = [s for s in self._subs.values() if s._active] if self._initialized else []
            if len(subs) > SMALL_TOPIC_SUBSCRIPTIONS or any(
                not s.spec.large_messages for s in subs
            ):
                raise InvalidParameter(
                    "Invalid parameter: MaximumMessageSize: a topic accepting messages over "
                    f"{DEFAULT_MAX_SIZE} bytes can have at most {SMALL_TOPIC_SUBSCRIPTIONS} "
                    "subscriptions, all of them SQS, Lambda or Firehose"
                )
        return value

    def _apply(self, parsed: Mapping[str, Any]) -> None:
        for name, value in parsed.items():
            if name == "ContentBasedDeduplication":
                self._content_dedup = value
            elif name == "FifoThroughputScope":
                self._scope = value
            elif name == "ArchivePolicy":
                self._archive_days = value
                if value is None:
                    self._archive = None
                elif self._archive is None:
                    self._archive = Archive(value, self.loop.clock.wall_ms())
                else:
                    self._archive.retention_ms = value * 86_400_000
            elif name == "MaximumMessageSize":
                self._max_size = value
                self._max_size_set = True
            elif name == "DisplayName":
                self._display_name = value
            elif name == "DeliveryPolicy":
                self._delivery = value
                for sub in self._subs.values():
                    if sub.protocol in ("http", "https"):
                        sub._rate = sub.effective_delivery_policy().max_receives_per_second
            else:
                self._opaque[name] = value
                if name == "SignatureVersion":
                    self._signing = Signing(self._signing.signer, value)

    @property
    def _signing_cert_url(self) -> str:
        return self._signing.cert_url

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Change attributes by AWS name (``SetTopicAttributes``); all are checked first, and on
        any error nothing changes.

        Raises:
            InvalidParameter: an unknown name, a bad value, or a FIFO-only attribute on a
            standard topic. NotFound: the topic was deleted.
        """
        with self._lock:
            self._check_alive()
            if not isinstance(attributes, Mapping):
                raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
            self._apply(self._validate(attributes))

    def set_attribute(self, name: str, value: Any) -> None:
        """Set one attribute (``SetTopicAttributes``)."""
        self.set_attributes({name: value})

    def get_attributes(self) -> dict[str, str]:
        """Every attribute by AWS name, values as strings (``GetTopicAttributes``)."""
        with self._lock:
            self._check_alive()
            subs = self._subs.values()
            pending = sum(1 for s in subs if s._pending)
            out = {
                "Owner": self.loop.account_id,
                "Policy": self._opaque.get("Policy", self._default_policy()),
                "TopicArn": self.arn,
                "DisplayName": self._display_name,
                "SubscriptionsConfirmed": str(len(self._subs) - pending),
                "SubscriptionsPending": str(pending),
                "SubscriptionsDeleted": str(self._deleted_subs),
                "EffectiveDeliveryPolicy": effective_topic_json(self._delivery),
            }
            if self._max_size_set:
                # Only when set: GetTopicAttributes of a topic created without it has none.
                out["MaximumMessageSize"] = str(self._max_size)
            if self._delivery is not None:
                out["DeliveryPolicy"] = self._delivery.to_topic_json()
            # The data protection policy is read with GetDataProtectionPolicy only.
            out.update({k: v for k, v in self._opaque.items()
                        if k not in ("Policy", "DataProtectionPolicy")})
            if self.is_fifo:
                out["FifoTopic"] = "true"
                out["ContentBasedDeduplication"] = "true" if self._content_dedup else "false"
                out["FifoThroughputScope"] = self._scope
                if self._archive is not None:
                    out["ArchivePolicy"] = json.dumps(
                        {"MessageRetentionPeriod": str(self._archive_days)},
                        separators=(",", ":"),
                    )
                    out["BeginningArchiveTime"] = iso_timestamp(
                        self._archive.beginning_ms(self.loop.clock.wall_ms())
                    )
            return out

    def _default_policy(self) -> str:
        return json.dumps({
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [{
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes",
                           "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
                           "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                "Resource": self.arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": self.loop.account_id}},
            }],
        }, separators=(",", ":"))

    # -- permissions and the data protection policy ------------------------------------------

    def add_permission(
        self, label: str, account_ids: Sequence[str], actions: Sequence[str]
    ) -> None:
        """Allow other accounts actions on the topic (``AddPermission``): a statement with
        ``Sid`` = ``label`` is added to the topic's ``Policy``.

        Args:
            label: the statement id, unique within the policy.
            account_ids: 12-digit AWS account ids (principals ``arn:<partition>:iam::<id>:root``).
            actions: action names without the ``SNS:`` prefix (``Publish``, ``Subscribe``,
                ``GetTopicAttributes``, ...).

        Raises:
            InvalidParameter: the label exists ("Statement already exists"), an action is not
            a topic action, or an empty list. NotFound: deleted.
        """
        with self._lock:
            self._check_alive()
            self._opaque["Policy"] = permissions.add(
                self._opaque.get("Policy") or self._default_policy(), self.arn,
                self.arn.split(":")[1], label, account_ids, actions,
            )

    def remove_permission(self, label: str) -> None:
        """Remove the policy statement ``label`` (``RemovePermission``). A label the policy
        does not have is not an error, as SNS answers.

        Raises:
            NotFound: deleted.
        """
        with self._lock:
            self._check_alive()
            self._opaque["Policy"] = permissions.remove(
                self._opaque.get("Policy") or self._default_policy(), label
            )

    def get_data_protection_policy(self) -> str:
        """The topic's data protection policy JSON (``GetDataProtectionPolicy``; ``""`` when
        none). Kept as given: messages are not inspected."""
        with self._lock:
            self._check_alive()
            return self._opaque.get("DataProtectionPolicy", "")

    def put_data_protection_policy(self, policy: str | Mapping[str, Any]) -> None:
        """Set the data protection policy (``PutDataProtectionPolicy``): a JSON object, as
        text or a mapping.

        Raises:
            InvalidParameter: not a JSON object. NotFound: deleted.
        """
        with self._lock:
            self._check_alive()
            self._opaque["DataProtectionPolicy"] = permissions.data_protection_policy(policy)

    @property
    def maximum_message_size(self) -> int:
        """Bytes of message plus attributes a publish may carry."""
        return self._max_size

    # -- waiting for deliveries ----------------------------------------------------------------

    def _job_done(self) -> None:
        self._pending -= 1
        self._cond.notify_all()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every delivery this topic started has finished: succeeded, or failed for
        good after its retries. Return ``False`` if ``timeout`` real seconds passed first.

        On a :class:`~decoupling.ManualClock` this *advances virtual time* through the pending
        retry timers (HTTP POSTs themselves are real and are waited for); on a real clock it
        just waits. Use it in tests after publishing to callables or HTTP/S endpoints.
        """
        deadline = time.monotonic() + timeout
        clock = self.loop.clock
        with self._lock:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if isinstance(clock, ManualClock) and self._in_pool == 0:
                    due = self.loop.next_timer_due()
                    if due is not None:
                        clock.advance_to(max(due, clock.now()))
                        continue
                self._cond.wait(min(remaining, 0.05))
            return True

    # -- lifecycle -----------------------------------------------------------------------------

    def delete(self) -> None:
        """Delete the topic and its subscriptions (``DeleteTopic``)."""
        with self._lock:
            if self._deleted:
                return
            for sub in list(self._subs.values()):
                if sub._replay is not None:
                    sub._replay.cancel()
                sub._active = False
                self.loop._unregister("sns-subscription", sub.arn)
            self._subs.clear()
            self._by_endpoint.clear()
            self._routes = ()
            self._deleted = True
            self.loop._unregister("sns", self.name)

    def _check_alive(self) -> None:
        if self._deleted:
            raise NotFound("Topic does not exist")

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"


def _requested(
    *,
    fifo_topic: bool | None = None,
    content_based_deduplication: bool | None = None,
    fifo_throughput_scope: str | None = None,
    archive_policy: Any = None,
    maximum_message_size: int | None = None,
    display_name: str | None = None,
    delivery_policy: Any = None,
    attributes: Mapping[str, Any] | None = None,
    large_payloads: Any = None,
) -> dict[str, Any]:
    """The requested attributes by AWS name (for creating, and comparing on re-create)."""
    out: dict[str, Any] = {}
    for key, value in (
        ("FifoTopic", fifo_topic), ("ContentBasedDeduplication", content_based_deduplication),
        ("FifoThroughputScope", fifo_throughput_scope), ("ArchivePolicy", archive_policy),
        ("MaximumMessageSize", maximum_message_size), ("DisplayName", display_name),
        ("DeliveryPolicy", delivery_policy),
    ):
        if value is not None:
            out[key] = value
    if attributes:
        if not isinstance(attributes, Mapping):
            raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
        out.update(attributes)
    return out
