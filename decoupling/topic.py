"""``Topic``: an SNS topic (standard or FIFO), in process.

Publish fans a message out to every confirmed subscription whose filter policy matches; a
message no subscription wants is dropped (topics store nothing, unless a FIFO topic archives).
Deliveries to queues, email, email-json and SMS happen inline during ``publish``; callables and
HTTP/S endpoints are delivered from the loop (see :mod:`decoupling.sns_delivery`), so a slow
or failing subscriber never blocks a publish or another subscriber. Rules: the SNS Developer
Guide and API reference (``CreateTopic``, ``Publish``, ``PublishBatch``, ``Subscribe``,
``SetTopicAttributes``), and "Publishing large messages with Amazon SNS" for
``MaximumMessageSize``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import sns_http  # noqa: F401  (registers the http and https protocols)
from .clock import ManualClock
from .errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    DecouplingError,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameter,
    NotFound,
    SubscriptionLimitExceeded,
    TooManyEntriesInBatchRequest,
)
from .filter_policy import FilterPolicy
from .loop import EventLoop
from .message import error_entry
from .queue import BatchResult, Queue
from .sns_archive import Archive, Replay
from .sns_delivery import OutboxEntry, protocol
from .sns_message import (
    Published,
    check_group_or_dedup_id,
    check_message,
    check_subject,
    iso_timestamp,
    message_size,
    normalize_sns_attributes,
    parse_structure,
)
from .sns_policy import (
    DeliveryPolicy,
    ReplayPolicy,
    effective_topic_json,
    parse_archive_policy,
    parse_bool,
)
from .subscription import Subscription

__all__ = ["Topic", "PublishResult"]

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
DEFAULT_MAX_SIZE = 262_144
LARGE_MAX_SIZE = 1_048_576
MIN_MAX_SIZE = 1_024
#: Subscriptions a FIFO topic, or a topic allowing messages over 256 KiB, may have.
SMALL_TOPIC_SUBSCRIPTIONS = 100
DEDUP_WINDOW = 300.0
TOKEN_VALIDITY = 3 * 86_400.0
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]*")
_FEEDBACK = re.compile(r"(HTTP|Firehose|Lambda|Application|SQS)(Success|Failure)Feedback"
                       r"(RoleArn|SampleRate)")
_OPAQUE = frozenset({"Policy", "KmsMasterKeyId", "DataProtectionPolicy", "TracingConfig",
                     "SignatureVersion"})
_BATCH_KEYS = frozenset({"Id", "Message", "Subject", "MessageStructure", "MessageAttributes",
                         "MessageGroupId", "MessageDeduplicationId"})


@attrs.frozen(slots=True)
class PublishResult:
    """What a publish returns: ``MessageId`` and, on FIFO topics, ``SequenceNumber``."""

    message_id: str
    sequence_number: str | None = None

    def to_aws(self) -> dict[str, str]:
        """The ``Publish`` response shape."""
        out = {"MessageId": self.message_id}
        if self.sequence_number is not None:
            out["SequenceNumber"] = self.sequence_number
        return out


class Topic:
    """An SNS topic.

    Args:
        loop: the :class:`~decoupling.EventLoop` (account) it belongs to.
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

    Creating a topic whose name exists returns the existing object when the attributes asked
    for are the same, and raises ``InvalidParameter`` when they differ (as ``CreateTopic``).

    Attributes:
        arn: ``arn:aws:sns:<region>:<account>:<name>``.
        outbox: email, email-json and SMS messages "sent", oldest first
            (:class:`~decoupling.OutboxEntry`).
    """

    _initialized = False

    def __new__(cls, loop: EventLoop, name: str, **kwargs: Any) -> Topic:
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
    ) -> None:
        if self._initialized:
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
            raise InvalidParameter(
                "Invalid parameter: Fifo Topic names must end with .fifo and Standard Topic "
                "cannot end with .fifo"
            )
        self.loop = loop
        self.name = name
        self.arn = loop.arn("sns", name)
        self.is_fifo = fifo
        self._lock = loop._lock
        self._display_name = ""
        self._content_dedup = False
        self._scope = "Topic"
        self._max_size = DEFAULT_MAX_SIZE
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
        self._pending = 0
        self._in_pool = 0
        self._deleted = False
        self.outbox: list[OutboxEntry] = []
        region = loop.region
        digest = hashlib.md5(region.encode(), usedforsecurity=False).hexdigest()
        self._signing_cert_url = (
            f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{digest}.pem"
        )
        with self._lock:
            self._apply(self._validate(requested))
            self._cond = loop._new_condition()
            self._created_with = _requested(
                fifo_topic=fifo_topic, content_based_deduplication=content_based_deduplication,
                fifo_throughput_scope=fifo_throughput_scope, archive_policy=archive_policy,
                maximum_message_size=maximum_message_size, display_name=display_name,
                delivery_policy=delivery_policy, attributes=attributes,
            )
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
            elif name in _OPAQUE or _FEEDBACK.fullmatch(name):
                if name == "SignatureVersion" and value not in ("1", "2", 1, 2):
                    raise InvalidParameter("Invalid parameter: SignatureVersion must be 1 or 2")
                if name == "TracingConfig" and value not in ("PassThrough", "Active"):
                    raise InvalidParameter(
                        "Invalid parameter: TracingConfig must be PassThrough or Active"
                    )
                parsed[name] = value if isinstance(value, str) else json.dumps(value)
            elif name == "FifoTopic":
                raise InvalidParameter(
                    "Invalid parameter: AttributeName Reason: FifoTopic can only be set when the "
                    "topic is created"
                )
            else:
                raise InvalidParameter("Invalid parameter: AttributeName")
        return parsed

    def _check_max_size(self, value: object) -> int:
        if isinstance(value, str) and value.strip().isdigit():
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
            elif name == "DisplayName":
                self._display_name = value
            elif name == "DeliveryPolicy":
                self._delivery = value
                for sub in self._subs.values():
                    if sub.protocol in ("http", "https"):
                        sub._rate = sub.effective_delivery_policy().max_receives_per_second
            else:
                self._opaque[name] = value

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
                "MaximumMessageSize": str(self._max_size),
            }
            if self._delivery is not None:
                out["DeliveryPolicy"] = self._delivery.to_topic_json()
            out.update({k: v for k, v in self._opaque.items() if k != "Policy"})
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

    @property
    def maximum_message_size(self) -> int:
        """Bytes of message plus attributes a publish may carry."""
        return self._max_size

    # -- publishing -----------------------------------------------------------------------------

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: Mapping[str, Any] | None = None,
        message_structure: str | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> PublishResult:
        """Publish one message to every matching subscription (``Publish``).

        Args:
            message: the text (or, with ``message_structure="json"``, a JSON object with a
                ``default`` key and optional per-protocol keys).
            subject: 1-100 characters; emails use it, envelopes carry it.
            message_attributes: up to 10, name to value (``str``, number, ``bytes``, list for
                ``String.Array``, or :class:`~decoupling.MessageAttributeValue`).
            message_structure: ``"json"`` or ``None``.
            message_group_id: required on FIFO topics; on standard topics forwarded only to
                standard SQS subscriptions (fair queues).
            message_deduplication_id: FIFO topics only; a duplicate within 5 minutes (per topic,
                or per group with ``FifoThroughputScope=MessageGroup``) is accepted, returns the
                first publish's ids, and is not delivered.

        Cost: O(s) for s subscriptions plus one filter evaluation per distinct filter policy;
        the envelope JSON is built once per distinct message shape.

        Raises:
            InvalidParameter, ParameterValueInvalid, NotFound (deleted topic).
        """
        with self._lock:
            self._check_alive()
            pub, duplicate = self._prepare(
                message, subject, message_attributes, message_structure, message_group_id,
                message_deduplication_id,
            )
            if pub is None:
                assert duplicate is not None
                return duplicate
            return self._commit(pub)

    def _prepare(
        self,
        message: object,
        subject: object,
        message_attributes: Mapping[str, Any] | None,
        message_structure: object,
        group_id: object,
        dedup_id: object,
    ) -> tuple[Published | None, PublishResult | None]:
        """Validate one publish; return its record, or the earlier result for a FIFO duplicate.
        Changes nothing."""
        text = check_message(message)
        structure = parse_structure(text, message_structure)
        subj = check_subject(subject)
        attributes = normalize_sns_attributes(message_attributes)
        if message_size(text, attributes) > self._max_size:
            raise InvalidParameter("Invalid parameter: Message too long")
        clock = self.loop.clock
        now = clock.now()
        group: str | None = None
        dedup: str | None = None
        if self.is_fifo:
            if group_id is None:
                raise InvalidParameter(
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
                )
            group = check_group_or_dedup_id("MessageGroupId", group_id)
            if dedup_id is not None:
                dedup = check_group_or_dedup_id("MessageDeduplicationId", dedup_id)
            elif self._content_dedup:
                dedup = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            else:
                raise InvalidParameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication "
                    "enabled or MessageDeduplicationId provided explicitly"
                )
            found = self._duplicate(group, dedup, now)
            if found is not None:
                return None, found
        else:
            if dedup_id is not None:
                raise InvalidParameter(
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                    "MessageDeduplicationId parameter that is not valid for this topic type"
                )
            if group_id is not None:
                group = check_group_or_dedup_id("MessageGroupId", group_id)
        sequence = None
        if self.is_fifo:
            sequence = str(10**19 + (self._sequence + 1) * 1000)
        pub = Published(
            self.arn, self._signing_cert_url, self.is_fifo, self.loop.new_id(), text, structure,
            subj, attributes, clock.wall_ms(), now, group, dedup, sequence,
            f"{self._published + 1:012x}",
        )
        return pub, None

    def _duplicate(self, group: str, dedup: str, now: float) -> PublishResult | None:
        order = self._dedup_order
        window = self._dedup
        while order and order[0][0] <= now:
            expires, key = order.popleft()
            entry = window.get(key)
            if entry is not None and entry[0] == expires:
                del window[key]
        entry = window.get((group if self._scope == "MessageGroup" else None, dedup))
        return None if entry is None else entry[1]

    def _commit(self, pub: Published) -> PublishResult:
        result = PublishResult(pub.message_id, pub.sequence_number)
        self._published += 1
        if self.is_fifo:
            self._sequence += 1
            assert pub.dedup_id is not None
            dedup_key = (pub.group_id if self._scope == "MessageGroup" else None, pub.dedup_id)
            expires = pub.published_at + DEDUP_WINDOW
            self._dedup[dedup_key] = (expires, result)
            self._dedup_order.append((expires, dedup_key))
            if self._archive is not None:
                self._archive.add(pub)
        filter_attributes = None
        for policy, key, subs in self._routes:
            if policy is not None:
                if key:
                    if not policy.matches_body(pub.message_for(key)):
                        continue
                else:
                    if filter_attributes is None:
                        filter_attributes = pub.filter_attributes()
                    if not policy.matches_attributes(filter_attributes):
                        continue
            for sub in subs:
                sub._fan(pub, False)
        pub.drop_shapes()
        return result

    def publish_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Publish up to 10 messages (``PublishBatch``).

        Entries are AWS-shaped (``{"Id": "1", "Message": ..., "Subject": ...,
        "MessageStructure": ..., "MessageAttributes": {...}, "MessageGroupId": ...,
        "MessageDeduplicationId": ...}``) or plain strings (``Id`` = index). Entries that fail
        validation are listed in ``failed``; the others are published, in order.

        Raises:
            EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId,
            BatchEntryIdsNotDistinct, BatchRequestTooLong, InvalidParameter (a FIFO entry
            without ``MessageGroupId``, or without a deduplication id when content-based
            deduplication is off): the whole call is refused.
        """
        with self._lock:
            self._check_alive()
            normalized = _batch_entries(entries)
            total = 0
            for _, entry in normalized:
                text = entry.get("Message")
                if isinstance(text, str):
                    try:
                        attrs_ = normalize_sns_attributes(entry.get("MessageAttributes"))
                    except DecouplingError:
                        attrs_ = None
                    total += message_size(text, attrs_)
                if self.is_fifo:
                    if entry.get("MessageGroupId") is None:
                        raise InvalidParameter(
                            "Invalid parameter: The MessageGroupId parameter is required for "
                            "FIFO topics"
                        )
                    if entry.get("MessageDeduplicationId") is None and not self._content_dedup:
                        raise InvalidParameter(
                            "Invalid parameter: The topic should either have "
                            "ContentBasedDeduplication enabled or MessageDeduplicationId "
                            "provided explicitly"
                        )
            if total > self._max_size:
                raise BatchRequestTooLong(
                    "The length of all the messages put together is more than the limit."
                )
            successful: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            for entry_id, entry in normalized:
                try:
                    unknown = set(entry) - _BATCH_KEYS
                    if unknown:
                        raise InvalidParameter(
                            f"Invalid parameter: unknown batch entry field(s) {sorted(unknown)}"
                        )
                    pub, duplicate = self._prepare(
                        entry.get("Message"), entry.get("Subject"),
                        entry.get("MessageAttributes"), entry.get("MessageStructure"),
                        entry.get("MessageGroupId"), entry.get("MessageDeduplicationId"),
                    )
                except DecouplingError as error:
                    failed.append(error_entry(entry_id, error))
                    continue
                result = duplicate if pub is None else self._commit(pub)
                assert result is not None
                successful.append({"Id": entry_id, **result.to_aws()})
            return BatchResult(successful, failed)

    # -- subscriptions --------------------------------------------------------------------------

    def subscribe(
        self,
        endpoint: Any,
        protocol_name: str | None = None,
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
                callable taking a :class:`~decoupling.Notification` (``application``), or what a
                registered protocol resolves.
            protocol_name: the protocol; inferred for queues, queue ARNs, URLs and callables.
            filter_policy, filter_policy_scope, raw_message_delivery, redrive_policy,
                delivery_policy, replay_policy: the subscription attributes of the same AWS
                names (JSON text or Python values; a queue object for ``redrive_policy``).
            attributes: further attributes by AWS name.

        HTTP/S and email subscriptions start pending confirmation: a ``SubscriptionConfirmation``
        is POSTed (HTTP/S) or put in :attr:`outbox` (email), carrying the ``Token`` for
        :meth:`confirm_subscription`. Subscribing the same endpoint again returns the same
        subscription, unless other attributes are asked for (``InvalidParameter``).

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
            name = protocol_name or _infer_protocol(endpoint)
            spec = protocol(name)
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
            sub = Subscription(self, spec, endpoint_text, target, self.loop.new_id())
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
        else:
            self.outbox.append(OutboxEntry(
                sub.protocol, sub.endpoint, "SubscriptionConfirmation",
                "AWS Notification - Subscription Confirmation",
                f"{text}\n{self._subscribe_url(token)}", self.loop.new_id(), sub.arn,
                iso_timestamp(self.loop.clock.wall_ms()), token,
            ))

    def _subscribe_url(self, token: str) -> str:
        return (
            f"https://sns.{self.loop.region}.amazonaws.com/?Action=ConfirmSubscription&"
            f"TopicArn={self.arn}&Token={token}"
        )

    def confirm_subscription(self, token: str) -> Subscription:
        """Confirm a pending subscription with the ``Token`` sent to its endpoint
        (``ConfirmSubscription``). Tokens are valid for 3 days of loop time.

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
            sub._fan = sub._live
            for pub in held:
                sub._live(pub, False)
            return
        replay = Replay(sub, policy)
        replay._held = held
        sub._replay = replay
        replay.start()

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


def _infer_protocol(endpoint: Any) -> str:
    if isinstance(endpoint, Queue):
        return "sqs"
    if isinstance(endpoint, str):
        if endpoint.startswith("arn:aws:sqs:"):
            return "sqs"
        if endpoint.startswith("https://"):
            return "https"
        if endpoint.startswith("http://"):
            return "http"
    elif callable(endpoint):
        return "application"
    raise InvalidParameter(
        f"Invalid parameter: Protocol is required for endpoint {endpoint!r} (e.g. 'email', 'sms')"
    )


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


def _batch_entries(entries: Sequence[Mapping[str, Any] | str]) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
        raise InvalidParameter("Invalid parameter: PublishBatchRequestEntries must be a list")
    if not entries:
        raise EmptyBatchRequest("The batch request doesn't contain any entries.")
    if len(entries) > 10:
        raise TooManyEntriesInBatchRequest(
            "The batch request contains more entries than permissible."
        )
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"Id": str(index), "Message": entry}
        if not isinstance(entry, Mapping):
            raise InvalidParameter(f"Invalid parameter: batch entry {index} must be a mapping")
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not entry_id:
            raise InvalidBatchEntryId("The Id of a batch entry in the batch request is missing.")
        if len(entry_id) > 80:
            raise InvalidBatchEntryId(
                f"The Id of a batch entry in the batch request is too long: {entry_id}"
            )
        if not _BATCH_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                "The Id of a batch entry in the batch request contains an impermissible "
                f"character: {entry_id}"
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(
                "Two or more batch entries in the request have the same Id."
            )
        seen.add(entry_id)
        out.append((entry_id, entry))
    return out
