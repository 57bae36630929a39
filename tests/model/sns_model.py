"""A reference model of SNS fan-out to SQS queues, with filter policies: plainly, for tests.

The model knows which queues are subscribed to one topic, each subscription's raw/envelope
setting, filter policy and scope, and for every queue the list of messages it must hold, in
publish order. A publish is matched against each subscription's policy *at publish time*;
a queue that no subscription with a matching policy names gets nothing, and a message no
subscription wants is dropped (topics store nothing).

Rules, with the SNS Developer Guide pages they come from:

* Fan-out: every confirmed subscription whose filter policy matches gets the message once
  ("Fanout to Amazon SQS queues"). SQS subscriptions are confirmed at once.
* Envelope vs raw: without ``RawMessageDelivery`` the queue gets a JSON envelope with ``Type``
  ``Notification``, ``MessageId``, ``TopicArn``, ``Subject`` (only if given), ``Message``,
  ``Timestamp``, ``UnsubscribeURL``, and ``MessageAttributes`` (only if any, as
  ``{"Type", "Value"}``); FIFO topics add ``SequenceNumber``. With it, the queue gets the message
  text as body and the attributes as SQS message attributes ("Amazon SNS raw message
  delivery", "Parsing message formats").
* ``MessageStructure="json"``: the ``sqs`` key's text if present, else ``default``; body-scope
  policies read that same text ("Publish", "Subscription filter policy scope").
* Filter policies ("Subscription filter policies", "String value matching", "Numeric value
  matching", "Key matching"): keys ANDed, the conditions under a key ORed. Attribute scope:
  a message with no (non-Binary) attributes matches no non-empty policy; Binary attributes
  count as absent; ``String.Array`` matches if any element does; Number attributes compare by
  value. Body scope: the message must be a non-empty JSON object; nested keys walk into
  objects; arrays match if any element does. ``exists: true`` needs a present, non-null,
  non-empty value; ``exists: false`` matches only an absent key. ``anything-but`` matches when
  there is at least one non-null value and none is excluded. An empty policy ``{}`` matches
  everything.
* FIFO topics ("Message deduplication for FIFO topics", "Message ordering"): a publish whose
  deduplication id (explicit, or the SHA-256 of the message with content-based deduplication)
  was accepted less than 300 s earlier — per topic, or per group with
  ``FifoThroughputScope=MessageGroup`` — is accepted, returns the original ``MessageId`` and
  ``SequenceNumber``, and is not delivered. The FIFO queue then applies its own 5-minute
  window (per queue or per group, its ``DeduplicationScope``) to the id the topic passes on.
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Expected",
    "SubModel",
    "SnsModel",
    "attribute_matches",
    "body_matches",
    "policy_matches",
]

DEDUP_WINDOW = 300.0
_COMPARE = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}

# -- filter policies --------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


def _condition_matches(cond: Any, v: Any) -> bool:
    """One positive condition against one scalar value."""
    if isinstance(cond, str):
        return isinstance(v, str) and v == cond
    if _is_number(cond):
        return _is_number(v) and v == cond
    (op, arg), = cond.items()
    if op == "prefix":
        return isinstance(v, str) and v.startswith(arg)
    if op == "numeric":
        if not _is_number(v):
            return False
        return all(_COMPARE[arg[i]](v, arg[i + 1]) for i in range(0, len(arg), 2))
    raise AssertionError(f"not a positive condition: {cond}")


def _excluded(spec: Any, v: Any) -> bool:
    """Whether ``v`` is among what an ``anything-but`` excludes."""
    if isinstance(spec, dict):
        return isinstance(v, str) and v.startswith(spec["prefix"])
    values = spec if isinstance(spec, list) else [spec]
    return any(
        (isinstance(x, str) and isinstance(v, str) and x == v)
        or (_is_number(x) and _is_number(v) and x == v)
        for x in values
    )


def _key_matches(conditions: list[Any], present: bool, values: list[Any]) -> bool:
    """The conditions under one key (ORed), given whether the key is there and its values."""
    for cond in conditions:
        if isinstance(cond, dict) and "exists" in cond:
            if cond["exists"] is False and not present:
                return True
            if cond["exists"] is True and present and any(v is not None and v != ""
                                                          for v in values):
                return True
        elif isinstance(cond, dict) and "anything-but" in cond:
            candidates = [v for v in values if v is not None]
            if present and candidates and not any(_excluded(cond["anything-but"], v)
                                                  for v in candidates):
                return True
        elif present and any(_condition_matches(cond, v) for v in values):
            return True
    return False


def _attribute_values(data_type: str, text: str) -> tuple[bool, list[Any]]:
    base = data_type.split(".")[0]
    if data_type == "String.Array":
        return True, [e for e in json.loads(text) if not isinstance(e, (list, dict))]
    if base == "String":
        return True, [text]
    if base == "Number":
        return True, [float(text)]
    return False, []  # Binary: invisible to filter policies


def attribute_matches(policy: dict[str, Any], attributes: dict[str, tuple[str, str]]) -> bool:
    """Attribute scope. ``attributes``: name -> (DataType, StringValue or "" for Binary)."""
    if not policy:
        return True
    if not any(not t.startswith("Binary") for t, _ in attributes.values()):
        return False
    for key, conditions in policy.items():
        if key in attributes:
            present, values = _attribute_values(*attributes[key])
        else:
            present, values = False, []
        if not _key_matches(conditions, present, values):
            return False
    return True


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for e in value for x in _flatten(e)]
    return [] if isinstance(value, dict) else [value]


def _body_object_matches(policy: dict[str, Any], obj: Any) -> bool:
    for key, rule in policy.items():
        if isinstance(rule, dict):  # a nested policy
            child = obj.get(key) if isinstance(obj, dict) else None
            if isinstance(child, list):
                objects = [e for e in child if isinstance(e, dict)]
                ok = any(_body_object_matches(rule, e) for e in objects) if objects else \
                    _body_object_matches(rule, None)
            else:
                ok = _body_object_matches(rule, child if isinstance(child, dict) else None)
            if not ok:
                return False
        else:
            present = isinstance(obj, dict) and key in obj
            values = _flatten(obj[key]) if present else []
            if not _key_matches(rule, present, values):
                return False
    return True


def body_matches(policy: dict[str, Any], text: str) -> bool:
    """Body scope: the message text must be a non-empty JSON object."""
    if not policy:
        return True
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and bool(document) and _body_object_matches(policy,
                                                                                   document)


def policy_matches(policy: dict[str, Any] | None, scope: str, text: str,
                   attributes: dict[str, tuple[str, str]]) -> bool:
    if policy is None:
        return True
    if scope == "MessageBody":
        return body_matches(policy, text)
    return attribute_matches(policy, attributes)


# -- fan-out ----------------------------------------------------------------------------------


@dataclass
class SubModel:
    queue: str
    arn: str
    raw: bool = False
    policy: dict[str, Any] | None = None
    scope: str = "MessageAttributes"


@dataclass
class Expected:
    """A message a queue must hold."""

    message_id: str
    text: str  # the message text for the sqs protocol
    subject: str | None
    attributes: dict[str, tuple[str, str]]  # name -> (DataType, value as the envelope writes it)
    raw: bool
    sub_arn: str
    wall_ms: int
    group: str | None = None
    sequence_number: str | None = None


@dataclass
class Publish:
    message: str
    subject: str | None = None
    attributes: dict[str, tuple[str, str]] = field(default_factory=dict)
    structure: bool = False  # MessageStructure="json"
    group: str | None = None
    dedup_id: str | None = None

    def text_for_sqs(self) -> str:
        if not self.structure:
            return self.message
        data = json.loads(self.message)
        value = data.get("sqs")
        return value if isinstance(value, str) else data["default"]


@dataclass
class SnsModel:
    """One topic and the queues it may deliver to."""

    queues: list[str]
    fifo: bool = False
    content_dedup: bool = False
    topic_scope: str = "Topic"  # FifoThroughputScope
    queue_scope: dict[str, str] = field(default_factory=dict)  # FIFO queue DeduplicationScope
    subs: dict[str, SubModel] = field(default_factory=dict)  # by queue
    held: dict[str, list[Expected]] = field(default_factory=dict)
    dropped: int = 0
    # FIFO: (scope group or None, dedup id) -> (expires, message id, sequence number)
    topic_window: dict[tuple[str | None, str], tuple[float, str, str | None]] = \
        field(default_factory=dict)
    queue_window: dict[str, dict[tuple[str | None, str], float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for q in self.queues:
            self.held.setdefault(q, [])
            self.queue_window.setdefault(q, {})

    # subscriptions

    def subscribe_outcome(self, queue: str, raw: bool, policy: dict[str, Any] | None,
                          scope: str | None) -> str:
        """``new``, ``same`` (the existing subscription returned) or ``differs``
        (``InvalidParameter``: the endpoint is subscribed with other attributes)."""
        sub = self.subs.get(queue)
        if sub is None:
            return "new"
        if sub.raw != raw:
            return "differs"
        if scope is not None and sub.scope != scope:
            return "differs"
        if policy is not None and sub.policy != policy:
            return "differs"
        return "same"

    # publishing

    def duplicate(self, pub: Publish, now: float) -> tuple[str, str | None] | None:
        """FIFO: the original (MessageId, SequenceNumber) if ``pub`` is a topic duplicate."""
        key = self._topic_key(pub)
        found = self.topic_window.get(key)
        if found is not None and now < found[0]:
            return found[1], found[2]
        return None

    def _topic_key(self, pub: Publish) -> tuple[str | None, str]:
        dedup = pub.dedup_id
        if dedup is None:
            dedup = hashlib.sha256(pub.message.encode()).hexdigest()
        return (pub.group if self.topic_scope == "MessageGroup" else None, dedup)

    def publish(self, pub: Publish, message_id: str, sequence_number: str | None,
                now: float, wall_ms: int) -> list[str]:
        """Apply an accepted, non-duplicate publish; return the queues it reaches."""
        if self.fifo:
            key = self._topic_key(pub)
            self.topic_window[key] = (now + DEDUP_WINDOW, message_id, sequence_number)
        text = pub.text_for_sqs()
        reached = []
        for queue, sub in self.subs.items():
            if not policy_matches(sub.policy, sub.scope, text, pub.attributes):
                continue
            if self.fifo:
                qkey = (pub.group if self.queue_scope.get(queue) == "messageGroup" else None,
                        self._topic_key(pub)[1])
                window = self.queue_window[queue]
                if qkey in window and now < window[qkey]:
                    continue  # the queue's own deduplication drops it
                window[qkey] = now + DEDUP_WINDOW
            # MessageStructure="json": the attributes filter but are not delivered.
            delivered = {} if pub.structure else dict(pub.attributes)
            self.held[queue].append(Expected(
                message_id, text, pub.subject, delivered, sub.raw, sub.arn, wall_ms,
                pub.group, sequence_number,
            ))
            reached.append(queue)
        if not reached:
            self.dropped += 1
        return reached
