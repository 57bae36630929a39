"""``AwsTopic`` and ``AwsSubscription``: the public topic classes over boto3.

``Topic.subscribe(queue)`` on AWS also writes the queue policy that lets the topic send to the
queue (SNS Developer Guide, "Subscribing an Amazon SQS queue to an Amazon SNS topic",
https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html): without it
SNS's deliveries are refused by SQS and silently lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DecouplingError, InvalidParameter
from ..message import error_entry
from ..sns.message import (
    check_group_or_dedup_id,
    check_message,
    check_subject,
    normalize_sns_attributes,
    parse_structure,
)
from ..sns.policy import DeliveryPolicy, RetryPolicy
from ..sns.subscription import Subscription
from ..sns.topic import TOPIC_NAME, PublishResult, Topic, _requested
from ..sqs.large_payloads import PayloadOffload
from ..sqs.queue import Queue
from ..sqs.results import BatchResult
from .queue import AwsQueue

if TYPE_CHECKING:
    from .account import Account

__all__ = ["AwsTopic", "AwsSubscription"]


def _text(value: Any) -> str:
    """An attribute value as the string SNS takes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class AwsTopic(Topic):
    """An SNS topic on an AWS account: :class:`~decoupling.Topic`'s methods over boto3. Made by
    ``Topic(account, name, ...)``; an existing topic with the same attributes is attached
    (CreateTopic is idempotent).

    Attributes:
        account: the :class:`~decoupling.aws.Account`.
        name, arn, is_fifo: as on :class:`~decoupling.Topic`.
    """

    def __init__(self, loop: Account, name: str, **kwargs: Any) -> None:
        requested = _requested(**kwargs)
        if not isinstance(name, str) or not TOPIC_NAME.fullmatch(name.removesuffix(".fifo")):
            raise InvalidParameter("Invalid parameter: Topic Name")
        self.account = loop
        self.name = name
        self.is_fifo = name.endswith(".fifo")
        if self.is_fifo:
            requested.setdefault("FifoTopic", True)
        attributes = {k: _text(v) for k, v in requested.items()}
        out = self._request("CreateTopic", "create_topic", {"Name": name, "Attributes": attributes})
        self.arn = out["TopicArn"]

    def _request(self, action: str, method: str, params: dict[str, Any],
                 payload_bytes: int = 0) -> Any:
        return self.account._call(self.account.sns, "sns", action, method, self.name,
                                  self.is_fifo, payload_bytes, params)

    @property
    def large_payloads(self) -> None:
        """Always ``None``: the claim-check (``PayloadOffload``) runs in process only; on AWS,
        AWS's ``amazon-sns-extended-client`` does it."""
        return None

    @large_payloads.setter
    def large_payloads(self, offload: PayloadOffload | None) -> None:
        if offload is not None:
            raise InvalidParameter(
                "Invalid parameter: large_payloads is for in-process topics; on AWS use AWS's "
                "amazon-sns-extended-client"
            )

    # -- publishing -----------------------------------------------------------------------------

    def _publish_entry(self, message: object, subject: object, message_attributes: Any,
                       message_structure: object, group_id: object,
                       dedup_id: object) -> tuple[dict[str, Any], int]:
        """One publish checked as in process, as request fields, and its size."""
        text = check_message(message)
        parse_structure(text, message_structure)
        subj = check_subject(subject)
        entry: dict[str, Any] = {"Message": text}
        size = len(text.encode("utf-8", "surrogatepass"))
        if subj is not None:
            entry["Subject"] = subj
        if message_structure is not None:
            entry["MessageStructure"] = message_structure
        attributes = normalize_sns_attributes(message_attributes)
        if attributes:
            entry["MessageAttributes"] = {n: v.to_aws() for n, v in attributes.items()}
        if self.is_fifo:
            if group_id is None:
                raise InvalidParameter(
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
                )
        if group_id is not None:
            entry["MessageGroupId"] = check_group_or_dedup_id("MessageGroupId", group_id)
        if dedup_id is not None:
            if not self.is_fifo:
                raise InvalidParameter(
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                    "MessageDeduplicationId parameter that is not valid for this topic type"
                )
            entry["MessageDeduplicationId"] = check_group_or_dedup_id(
                "MessageDeduplicationId", dedup_id)
        return entry, size

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
        """Publish one message (Publish); see :meth:`decoupling.Topic.publish`."""
        entry, size = self._publish_entry(message, subject, message_attributes,
                                          message_structure, message_group_id,
                                          message_deduplication_id)
        out = self._request("Publish", "publish", {"TopicArn": self.arn, **entry}, size)
        return PublishResult(out["MessageId"], out.get("SequenceNumber"))

    async def publish_async(self, message: str, **kwargs: Any) -> PublishResult:
        """:meth:`publish` in a worker thread (a request blocks)."""
        return await asyncio.to_thread(self.publish, message, **kwargs)

    async def publish_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`publish_batch` in a worker thread."""
        return await asyncio.to_thread(self.publish_batch, entries)

    def publish_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Publish messages (PublishBatch); any number, in requests of 10, the results merged
        in the entries' order."""
        normalized = AwsQueue._entries(entries, "Message")
        successful: dict[str, dict[str, Any]] = {}
        failed: dict[str, dict[str, Any]] = {}
        ready: list[dict[str, Any]] = []
        sizes: list[int] = []
        for entry_id, entry in normalized:
            try:
                request, size = self._publish_entry(
                    entry.get("Message"), entry.get("Subject"), entry.get("MessageAttributes"),
                    entry.get("MessageStructure"), entry.get("MessageGroupId"),
                    entry.get("MessageDeduplicationId"))
            except DecouplingError as error:
                failed[entry_id] = error_entry(entry_id, error)
                continue
            ready.append({"Id": entry_id, **request})
            sizes.append(size)
        for start in range(0, len(ready), 10):
            chunk = ready[start:start + 10]
            out = self._request("PublishBatch", "publish_batch",
                                {"TopicArn": self.arn, "PublishBatchRequestEntries": chunk},
                                sum(sizes[start:start + 10]))
            for ok in out.get("Successful", []):
                successful[ok["Id"]] = dict(ok)
            for bad in out.get("Failed", []):
                failed[bad["Id"]] = {"Id": bad["Id"], "Code": bad.get("Code"),
                                     "Message": bad.get("Message", ""),
                                     "SenderFault": bool(bad.get("SenderFault", True))}
        order = [i for i, _ in normalized]
        return BatchResult([successful[i] for i in order if i in successful],
                           [failed[i] for i in order if i in failed])

    # -- subscribing ----------------------------------------------------------------------------

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
        """Subscribe an endpoint (Subscribe); see :meth:`decoupling.Topic.subscribe`.

        For a queue of this account (an ``AwsQueue``, or an SQS ARN whose queue this account
        can reach) this also adds to the queue's ``Policy`` a statement that lets this topic
        send to it (``sqs:SendMessage`` for principal ``sns.amazonaws.com``, condition
        ``aws:SourceArn`` = the topic's ARN), keeping the statements already there. A Python
        callable (the in-process ``application`` protocol) raises ``UnsupportedOperation``.
        """
        requested: dict[str, Any] = {}
        if isinstance(redrive_policy, Queue):
            redrive_policy = {"deadLetterTargetArn": redrive_policy.arn}
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
        queue: AwsQueue | None = None
        if isinstance(endpoint, AwsQueue):
            queue, endpoint_text, name = endpoint, endpoint.arn, protocol or "sqs"
        elif isinstance(endpoint, Queue):
            raise InvalidParameter(
                "Invalid parameter: Endpoint Reason: the queue lives in process (an EventLoop), "
                "not on this AWS account")
        elif callable(endpoint):
            raise self.account.in_process_only("Topic.subscribe(callable) (the 'application' "
                                               "protocol on a Python callable)")
        elif isinstance(endpoint, str):
            endpoint_text = endpoint
            name = protocol or _infer_protocol(endpoint)
            if name == "sqs" and endpoint.startswith("arn:"):
                queue = self._queue_for_arn(endpoint)
        else:
            raise InvalidParameter(f"Invalid parameter: Endpoint {endpoint!r}")
        if queue is not None:
            self._allow_topic(queue)
        out = self._request("Subscribe", "subscribe", {
            "TopicArn": self.arn, "Protocol": name, "Endpoint": endpoint_text,
            "Attributes": {k: _text(v) for k, v in requested.items()},
            "ReturnSubscriptionArn": True,
        })
        return AwsSubscription(self, name, endpoint_text, out["SubscriptionArn"], queue)

    def _queue_for_arn(self, arn: str) -> AwsQueue | None:
        parts = arn.split(":")
        if len(parts) != 6:
            return None
        try:
            out = self.account._call(self.account.sqs, "sqs", "GetQueueUrl", "get_queue_url",
                                     parts[5], parts[5].endswith(".fifo"), 0,
                                     {"QueueName": parts[5], "QueueOwnerAWSAccountId": parts[4]})
        except DecouplingError:
            return None  # another account's queue: its owner writes its policy
        return AwsQueue._attach(self.account, out["QueueUrl"])

    def _allow_topic(self, queue: AwsQueue) -> None:
        """Add the statement that lets this topic send to ``queue`` to its ``Policy``."""
        current = queue.get_attributes(["Policy"]).get("Policy")
        policy: dict[str, Any] = json.loads(current) if current else {
            "Version": "2012-10-17", "Statement": []}
        statements = policy.setdefault("Statement", [])
        if isinstance(statements, dict):
            statements = policy["Statement"] = [statements]
        sid = f"topic-{self.name}-sends"[:100]
        if any(isinstance(s, dict) and s.get("Sid") == sid for s in statements):
            return
        statements.append({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue.arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.arn}},
        })
        queue.set_attributes({"Policy": json.dumps(policy, separators=(",", ":"))})

    def confirm_subscription(self, token: str) -> Subscription:
        """Confirm a pending subscription with its token (ConfirmSubscription)."""
        out = self._request("ConfirmSubscription", "confirm_subscription",
                            {"TopicArn": self.arn, "Token": token})
        arn = out["SubscriptionArn"]
        return self._subscription(arn)

    def _subscription(self, arn: str) -> AwsSubscription:
        values = self.account._call(self.account.sns, "sns", "GetSubscriptionAttributes",
                                    "get_subscription_attributes", self.name, self.is_fifo, 0,
                                    {"SubscriptionArn": arn}).get("Attributes", {})
        return AwsSubscription(self, values.get("Protocol", ""), values.get("Endpoint", ""), arn,
                               None)

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Delete a subscription (Unsubscribe)."""
        arn = subscription if isinstance(subscription, str) else subscription.arn
        self._request("Unsubscribe", "unsubscribe", {"SubscriptionArn": arn})

    def list_subscriptions(self) -> list[dict[str, str]]:
        """The topic's subscriptions as ListSubscriptionsByTopic describes them (every page)."""
        found: list[dict[str, str]] = []
        params: dict[str, Any] = {"TopicArn": self.arn}
        while True:
            out = self._request("ListSubscriptionsByTopic", "list_subscriptions_by_topic",
                                params)
            found.extend(out.get("Subscriptions", []))
            token = out.get("NextToken")
            if not token:
                return found
            params["NextToken"] = token

    @property
    def subscriptions(self) -> list[Subscription]:
        """The topic's subscriptions (ListSubscriptionsByTopic)."""
        return [AwsSubscription(self, s["Protocol"], s["Endpoint"], s["SubscriptionArn"], None)
                for s in self.list_subscriptions()]

    # -- attributes -----------------------------------------------------------------------------

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes (one SetTopicAttributes each, as SNS takes one at a time)."""
        if not isinstance(attributes, Mapping):
            raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
        for name, value in attributes.items():
            self.set_attribute(name, value)

    def set_attribute(self, name: str, value: Any) -> None:
        """Set one attribute (SetTopicAttributes)."""
        self._request("SetTopicAttributes", "set_topic_attributes",
                      {"TopicArn": self.arn, "AttributeName": name, "AttributeValue": _text(value)})

    def get_attributes(self) -> dict[str, str]:
        """The topic's attributes (GetTopicAttributes)."""
        out = self._request("GetTopicAttributes", "get_topic_attributes", {"TopicArn": self.arn})
        values: dict[str, str] = out.get("Attributes", {})
        return values

    # -- permissions and the data protection policy ------------------------------------------

    def add_permission(
        self, label: str, account_ids: Sequence[str], actions: Sequence[str]
    ) -> None:
        """Allow other accounts actions on the topic (AddPermission)."""
        self._request("AddPermission", "add_permission", {
            "TopicArn": self.arn, "Label": label, "AWSAccountId": list(account_ids),
            "ActionName": list(actions),
        })

    def remove_permission(self, label: str) -> None:
        """Remove the policy statement ``label`` (RemovePermission)."""
        self._request("RemovePermission", "remove_permission",
                      {"TopicArn": self.arn, "Label": label})

    def get_data_protection_policy(self) -> str:
        """The data protection policy JSON, ``""`` when none (GetDataProtectionPolicy)."""
        out = self._request("GetDataProtectionPolicy", "get_data_protection_policy",
                            {"ResourceArn": self.arn})
        policy: str = out.get("DataProtectionPolicy", "")
        return policy

    def put_data_protection_policy(self, policy: str | Mapping[str, Any]) -> None:
        """Set the data protection policy (PutDataProtectionPolicy)."""
        self._request("PutDataProtectionPolicy", "put_data_protection_policy", {
            "ResourceArn": self.arn,
            "DataProtectionPolicy": policy if isinstance(policy, str) else _text(policy),
        })

    @property
    def maximum_message_size(self) -> int:
        """``MaximumMessageSize`` in bytes (default 262,144; one GetTopicAttributes)."""
        return int(self.get_attributes().get("MaximumMessageSize", "262144"))

    def drain(self, timeout: float = 5.0) -> bool:
        """Nothing to drain: SNS delivers on its own side. Returns ``True``."""
        return True

    def delete(self) -> None:
        """Delete the topic (DeleteTopic)."""
        self._request("DeleteTopic", "delete_topic", {"TopicArn": self.arn})

    def __getattr__(self, name: str) -> Any:
        if name in ("loop", "outbox"):  # chaos, archives and replay, the email/SMS outbox
            raise self.account.in_process_only(f"Topic.{name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"AwsTopic({self.name!r})"


def _infer_protocol(endpoint: str) -> str:
    if endpoint.startswith("arn:") and ":sqs:" in endpoint:
        return "sqs"
    if endpoint.startswith("arn:") and ":lambda:" in endpoint:
        return "lambda"
    if endpoint.startswith("https://"):
        return "https"
    if endpoint.startswith("http://"):
        return "http"
    raise InvalidParameter(
        f"Invalid parameter: Endpoint {endpoint!r}: give the protocol (email, sms, ...)")


class AwsSubscription(Subscription):
    """A subscription on an AWS account (made by :meth:`AwsTopic.subscribe`).

    Attributes:
        topic, arn, protocol, endpoint: as on :class:`~decoupling.Subscription`.
        target: the :class:`AwsQueue` for an ``sqs`` endpoint of this account, else ``None``.
    """

    def __init__(self, topic: AwsTopic, protocol: str, endpoint: str, arn: str,
                 target: AwsQueue | None) -> None:
        self.topic = topic
        self.protocol = protocol
        self.endpoint = endpoint
        self.arn = arn
        self.target = target
        self._account = topic.account

    def _request(self, action: str, method: str, params: dict[str, Any]) -> Any:
        return self._account._call(self._account.sns, "sns", action, method, self.topic.name,
                                   self.topic.is_fifo, 0, params)

    def get_attributes(self) -> dict[str, str]:
        """The subscription's attributes (GetSubscriptionAttributes)."""
        out = self._request("GetSubscriptionAttributes", "get_subscription_attributes",
                            {"SubscriptionArn": self.arn})
        values: dict[str, str] = out.get("Attributes", {})
        return values

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes (one SetSubscriptionAttributes each)."""
        if not isinstance(attributes, Mapping):
            raise InvalidParameter("Invalid parameter: Attributes must be a mapping")
        for name, value in attributes.items():
            self.set_attribute(name, value)

    def set_attribute(self, name: str, value: Any) -> None:
        """Set one attribute (SetSubscriptionAttributes)."""
        self._request("SetSubscriptionAttributes", "set_subscription_attributes",
                      {"SubscriptionArn": self.arn, "AttributeName": name,
                       "AttributeValue": _text(value)})

    @property
    def pending_confirmation(self) -> bool:
        """``PendingConfirmation`` (one request)."""
        return self.get_attributes().get("PendingConfirmation") == "true"

    @property
    def raw_message_delivery(self) -> bool:
        """``RawMessageDelivery`` (one request)."""
        return self.get_attributes().get("RawMessageDelivery") == "true"

    @property
    def filter_policy(self) -> dict[str, Any] | None:
        """The filter policy, parsed, or ``None`` (one request)."""
        text = self.get_attributes().get("FilterPolicy")
        if not text:
            return None
        policy: dict[str, Any] = json.loads(text)
        return policy

    @property
    def filter_policy_scope(self) -> str:
        """``FilterPolicyScope`` (one request)."""
        return self.get_attributes().get("FilterPolicyScope") or "MessageAttributes"

    @property
    def replay_status(self) -> str | None:
        """``ReplayStatus`` (one request), or ``None``."""
        return self.get_attributes().get("ReplayStatus")

    def retry_policy(self) -> RetryPolicy:
        """In process only (SNS applies its delivery policy on its side)."""
        raise self._account.in_process_only("Subscription.retry_policy")

    def effective_delivery_policy(self) -> DeliveryPolicy:
        """In process only (SNS applies its delivery policy on its side)."""
        raise self._account.in_process_only("Subscription.effective_delivery_policy")

    def unsubscribe(self) -> None:
        """Delete this subscription (Unsubscribe)."""
        self._request("Unsubscribe", "unsubscribe", {"SubscriptionArn": self.arn})

    def to_aws(self) -> dict[str, str]:
        """The ListSubscriptions shape."""
        return {"SubscriptionArn": self.arn, "Owner": self.arn.split(":")[4],
                "Protocol": self.protocol, "Endpoint": self.endpoint, "TopicArn": self.topic.arn}

    def __repr__(self) -> str:
        return f"AwsSubscription({self.protocol!r}, {self.endpoint!r})"
