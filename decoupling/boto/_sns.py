"""SNS operations for the boto3 bridge, on :class:`~decoupling.Topic`.

Shapes follow botocore's SNS service model (``botocore/data/sns/2010-03-31/service-2.json``,
query protocol). Endpoints are what SNS takes: an SQS queue ARN (``sqs``), a function ARN
(``lambda``), an ``http(s)://`` URL, an email address, a phone number, a mobile push endpoint
ARN (``application``). Lists page 100 entries at a time with opaque ``NextToken`` values, as SNS
does. Mobile push and SMS account operations live in :mod:`._sns_platform`.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameter, NotFound, ResourceNotFound, TagLimitExceeded
from ..loop import EventLoop
from ..sns.sms_account import SmsAccount
from ..sns.subscription import Subscription
from ..sns.topic import Topic
from . import _sns_platform
from ._sqs import _message_attributes

__all__ = ["OPERATIONS"]

_PAGE = 100
#: Tags by topic ARN, per loop (kept beside the topics, which have no tags of their own).
_tag_store: weakref.WeakKeyDictionary[EventLoop, dict[str, dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def _tags(loop: EventLoop, arn: str) -> dict[str, str]:
    return _tag_store.setdefault(loop, {}).setdefault(arn, {})


def _topic(loop: EventLoop, arn: str) -> Topic:
    parts = arn.split(":")
    topic = None
    if len(parts) == 6 and parts[2] == "sns" and parts[4] == loop.account_id:
        topic = loop._lookup("sns", parts[5])
    if topic is None or topic.arn != arn:
        raise NotFound("Topic does not exist")
    return topic  # type: ignore[no-any-return]


def _subscription(loop: EventLoop, arn: str) -> Subscription:
    sub = loop._lookup("sns-subscription", arn)
    if sub is None:
        raise NotFound("Subscription does not exist")
    return sub  # type: ignore[no-any-return]


def _page(items: list[Any], token: str | None) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidParameter("Invalid parameter: NextToken") from None
    page = items[start : start + _PAGE]
    more = start + _PAGE < len(items)
    return page, base64.urlsafe_b64encode(str(start + _PAGE).encode()).decode() if more else None


# -- topics ---------------------------------------------------------------------------------------


def create_topic(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    attributes = dict(p.get("Attributes") or {})
    if str(p["Name"]).endswith(".fifo") and str(attributes.get("FifoTopic", "")).lower() != "true":
        # CreateTopic infers nothing from the name: a .fifo name needs FifoTopic=true (the
        # native Topic infers it; AWS-validated wording: LocalStack's
        # test_create_topic_name_constraints snapshot).
        raise InvalidParameter("Invalid parameter: Topic Name")
    if p.get("DataProtectionPolicy"):
        attributes["DataProtectionPolicy"] = p["DataProtectionPolicy"]
    topic = Topic(loop, p["Name"], attributes=attributes or None)
    if p.get("Tags"):
        _tags(loop, topic.arn).update({tag["Key"]: tag["Value"] for tag in p["Tags"]})
    return {"TopicArn": topic.arn}


def delete_topic(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    try:
        topic = _topic(loop, p["TopicArn"])
    except NotFound:
        return {}  # SNS: deleting a topic that does not exist succeeds
    topic.delete()
    _tag_store.get(loop, {}).pop(topic.arn, None)
    return {}


def list_topics(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    arns = sorted(t.arn for t in loop._resources_of("sns"))
    page, token = _page(arns, p.get("NextToken"))
    out: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in page]}
    if token:
        out["NextToken"] = token
    return out


def get_topic_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"Attributes": _topic(loop, p["TopicArn"]).get_attributes()}


def set_topic_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _topic(loop, p["TopicArn"]).set_attribute(p["AttributeName"], p.get("AttributeValue", ""))
    return {}


# -- subscriptions ------------------------------------------------------------------------------


def subscribe(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(loop, p["TopicArn"])
    if "Endpoint" not in p:
        raise InvalidParameter("Invalid parameter: Endpoint")
    sub = topic.subscribe(p["Endpoint"], p["Protocol"], attributes=p.get("Attributes") or None)
    if sub.pending_confirmation and not p.get("ReturnSubscriptionArn"):
        return {"SubscriptionArn": "pending confirmation"}
    return {"SubscriptionArn": sub.arn}


def confirm_subscription(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    sub = _topic(loop, p["TopicArn"]).confirm_subscription(p["Token"])
    return {"SubscriptionArn": sub.arn}


def unsubscribe(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _subscription(loop, p["SubscriptionArn"]).unsubscribe()
    return {}


def _listing(subs: list[dict[str, str]], token: str | None) -> dict[str, Any]:
    page, next_token = _page(subs, token)
    out: dict[str, Any] = {"Subscriptions": page}
    if next_token:
        out["NextToken"] = next_token
    return out


def list_subscriptions(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topics = sorted(loop._resources_of("sns"), key=lambda t: t.arn)
    return _listing([s for t in topics for s in t.list_subscriptions()], p.get("NextToken"))


def list_subscriptions_by_topic(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _listing(_topic(loop, p["TopicArn"]).list_subscriptions(), p.get("NextToken"))


def get_subscription_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"Attributes": _subscription(loop, p["SubscriptionArn"]).get_attributes()}


def set_subscription_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _subscription(loop, p["SubscriptionArn"]).set_attribute(
        p["AttributeName"], p.get("AttributeValue", "")
    )
    return {}


# -- publishing ---------------------------------------------------------------------------------


def publish(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    arn = p.get("TopicArn") or p.get("TargetArn")
    phone = p.get("PhoneNumber")
    attributes = _message_attributes(p.get("MessageAttributes"))
    if phone is not None:
        if arn:
            raise InvalidParameter(
                "Invalid parameter: PhoneNumber Reason: give only one of TopicArn, TargetArn "
                "and PhoneNumber"
            )
        message_id = SmsAccount.of(loop).publish(
            phone, p["Message"], message_attributes=attributes,
            message_structure=p.get("MessageStructure"),
        )
        return {"MessageId": message_id}
    if not arn:
        raise InvalidParameter(
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
        )
    if p.get("TargetArn") and ":endpoint/" in arn:
        device = loop._lookup("sns-endpoint", arn)
        if device is None:
            raise InvalidParameter(
                "Invalid parameter: TargetArn Reason: No endpoint found for the target arn "
                "specified"
            )
        return {"MessageId": device.publish(
            p["Message"], message_structure=p.get("MessageStructure"),
            message_attributes=attributes,
        )}
    result = _topic(loop, arn).publish(
        p["Message"],
        subject=p.get("Subject"),
        message_attributes=attributes,
        message_structure=p.get("MessageStructure"),
        message_group_id=p.get("MessageGroupId"),
        message_deduplication_id=p.get("MessageDeduplicationId"),
    )
    return result.to_aws()


def publish_batch(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(loop, p["TopicArn"])
    entries = []
    for entry in p["PublishBatchRequestEntries"]:
        if entry.get("MessageAttributes"):
            entry = {**entry, "MessageAttributes": _message_attributes(entry["MessageAttributes"])}
        entries.append(entry)
    result = topic.publish_batch(entries)
    return {"Successful": result.successful, "Failed": result.failed}


# -- tags -----------------------------------------------------------------------------------------


def _tagged(loop: EventLoop, arn: str) -> Topic:
    try:
        return _topic(loop, arn)
    except NotFound:
        raise ResourceNotFound("Resource does not exist") from None


def tag_resource(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topic = _tagged(loop, p["ResourceArn"])
    keys = [t["Key"] for t in p["Tags"]]
    if len(set(keys)) < len(keys):
        raise InvalidParameter("Invalid parameter: Duplicated keys are not allowed.")
    tags = _tags(loop, topic.arn)
    if len(set(tags) | set(keys)) > 50:
        raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
    tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
    return {}


def untag_resource(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topic = _tagged(loop, p["ResourceArn"])
    tags = _tags(loop, topic.arn)
    for key in p["TagKeys"]:
        tags.pop(key, None)
    return {}


def list_tags_for_resource(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    topic = _tagged(loop, p["ResourceArn"])
    tags = _tags(loop, topic.arn)
    return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


# -- permissions and data protection -----------------------------------------------------------


def add_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _topic(loop, p["TopicArn"]).add_permission(p["Label"], p["AWSAccountId"], p["ActionName"])
    return {}


def remove_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _topic(loop, p["TopicArn"]).remove_permission(p["Label"])
    return {}


def get_data_protection_policy(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    policy = _topic(loop, p["ResourceArn"]).get_data_protection_policy()
    return {"DataProtectionPolicy": policy} if policy else {}


def put_data_protection_policy(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    _topic(loop, p["ResourceArn"]).put_data_protection_policy(p["DataProtectionPolicy"])
    return {}


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], dict[str, Any]]] = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes,
    "SetTopicAttributes": set_topic_attributes,
    "Subscribe": subscribe,
    "ConfirmSubscription": confirm_subscription,
    "Unsubscribe": unsubscribe,
    "ListSubscriptions": list_subscriptions,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes,
    "Publish": publish,
    "PublishBatch": publish_batch,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "GetDataProtectionPolicy": get_data_protection_policy,
    "PutDataProtectionPolicy": put_data_protection_policy,
    **_sns_platform.OPERATIONS,
}
