"""The attribute half of ``Queue``: creating with attributes, validating, applying, reporting,
and tags (CreateQueue, GetQueueAttributes, SetQueueAttributes, TagQueue, UntagQueue,
ListQueueTags)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue
from ..loop import EventLoop
from ..message import dumps_json
from ._state import _QueueState
from .config import (
    INTEGER_ATTRIBUTES,
    OPAQUE_ATTRIBUTES,
    QUEUE_NAME,
    RedriveAllowPolicy,
    RedrivePolicy,
    check_attribute_names,
    parse_int_attribute,
    parse_policy,
)

if TYPE_CHECKING:
    from .queue import Queue


class _QueueAttributes(_QueueState):
    """Mixin of :class:`~decoupling.Queue`: its attributes and tags."""

    # -- construction helpers (overridden by FifoQueue) ---------------------------------------

    @classmethod
    def _requested(
        cls,
        loop: EventLoop,
        name: str,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        maximum_message_size: int | None = None,
        receive_message_wait_time_seconds: int | None = None,
        redrive_policy: Any = None,
        redrive_allow_policy: Any = None,
        tags: Any = None,
        attributes: Mapping[str, Any] | None = None,
        large_payloads: Any = None,
        **fifo: Any,
    ) -> dict[str, Any]:
        """The requested attributes by AWS name, for creating and comparing
        (``large_payloads`` is not one: a client-side setting, in process only)."""
        if large_payloads is not None and not isinstance(loop, EventLoop):
            raise InvalidParameterValue(
                "large_payloads is for in-process queues; on AWS use AWS's "
                "amazon-sqs-extended-client with the queue's URL."
            )
        out: dict[str, Any] = {}
        for key, value in (
            ("VisibilityTimeout", visibility_timeout),
            ("MessageRetentionPeriod", message_retention_period),
            ("DelaySeconds", delay_seconds),
            ("MaximumMessageSize", maximum_message_size),
            ("ReceiveMessageWaitTimeSeconds", receive_message_wait_time_seconds),
            ("RedrivePolicy", redrive_policy),
            ("RedriveAllowPolicy", redrive_allow_policy),
            *fifo.items(),
        ):
            if value is not None:
                out[key] = value
        if attributes:
            if not isinstance(attributes, Mapping):
                raise InvalidAttributeValue("attributes must be a mapping of AWS names to values.")
            out.update(attributes)
        return {k: _canonical(v) for k, v in out.items()}

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str) or not QUEUE_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"Queue name {name!r} is invalid: use 1 to 80 characters of A-Za-z0-9, '-' and "
                "'_' (FIFO queue names end in '.fifo')."
            )

    def _init_extra(self) -> None:
        """Hook for subclasses to set their own state before attributes are applied."""

    def _differing_attribute(self, wanted: Mapping[str, Any]) -> str | None:
        """The first attribute of a repeated CreateQueue whose value differs from this queue's
        *current* value, or ``None``.

        As SQS does: only the attributes given are compared, against the values now in force
        (after any SetQueueAttributes), so a CreateQueue without attributes always returns the
        existing queue. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
        """
        check_attribute_names(wanted, fifo=self.is_fifo, writable=True)
        extra = self._extra_attribute_values()
        for name, value in wanted.items():
            if name in INTEGER_ATTRIBUTES:
                same = parse_int_attribute(name, value) == self._values[name]
            elif name == "RedrivePolicy":
                same = RedrivePolicy.parse(value) == self._redrive
            elif name == "RedriveAllowPolicy":
                same = RedriveAllowPolicy.parse(value) == self._redrive_allow
            elif name == "Policy":
                same = parse_policy(value) == self._opaque.get(name, "")
            elif name in OPAQUE_ATTRIBUTES:
                same = str(value) == self._opaque.get(name, "")
            else:
                same = str(value).lower() == str(extra.get(name, "")).lower()
            if not same:
                return name
        return None

    # -- attributes -----------------------------------------------------------------------------

    def _validate(self, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """Check every attribute before any is applied; return the parsed values."""
        check_attribute_names(values, fifo=self.is_fifo, writable=True)
        parsed: dict[str, Any] = {}
        for name, value in values.items():
            if name in INTEGER_ATTRIBUTES:
                parsed[name] = parse_int_attribute(name, value)
            elif name == "RedrivePolicy":
                policy = RedrivePolicy.parse(value)
                if policy is not None:
                    self._check_dead_letter_target(policy)
                parsed[name] = policy
            elif name == "RedriveAllowPolicy":
                parsed[name] = RedriveAllowPolicy.parse(value)
            elif name == "Policy":
                parsed[name] = parse_policy(value)
            elif name in OPAQUE_ATTRIBUTES:
                parsed[name] = str(value)
            else:
                parsed[name] = self._validate_extra(name, value, creating=creating)
        return parsed

    def _validate_extra(self, name: str, value: Any, *, creating: bool) -> Any:
        """Validate an attribute only a subclass knows (FIFO attributes)."""
        raise InvalidAttributeValue(f"Unknown Attribute {name}.")  # pragma: no cover

    def _check_dead_letter_target(self, policy: RedrivePolicy) -> None:
        target_name = policy.dead_letter_target_arn.rsplit(":", 1)[-1]
        target = self.loop._lookup("sqs", target_name)
        if target is None or target.arn != policy.dead_letter_target_arn:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does "
                f"not exist: {policy.dead_letter_target_arn}."
            )
        if target.is_fifo != self.is_fifo:
            kind = "FIFO" if self.is_fifo else "standard"
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: The dead-letter queue of "
                f"a {kind} queue must also be a {kind} queue."
            )
        if target is self:
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: A queue cannot be its own "
                "dead-letter queue."
            )
        allow = target._redrive_allow
        if allow is not None and not allow.allows(self.arn):
            raise InvalidAttributeValue(
                "Value for parameter RedrivePolicy is invalid. Reason: The dead-letter queue's "
                f"RedriveAllowPolicy does not allow {self.arn} as a source queue."
            )

    def _apply(self, parsed: Mapping[str, Any]) -> None:
        for name, value in parsed.items():
            if name in INTEGER_ATTRIBUTES:
                self._values[name] = value
                if name == "MessageRetentionPeriod" and hasattr(self, "_ledger"):
                    self._ledger.retention = float(value)
            elif name == "RedrivePolicy":
                self._redrive = value
            elif name == "RedriveAllowPolicy":
                self._redrive_allow = value
            elif name in OPAQUE_ATTRIBUTES:
                if value == "":
                    self._opaque.pop(name, None)  # "" unsets (as KmsMasterKeyId "" does on SQS)
                else:
                    self._opaque[name] = value
                    if name == "KmsMasterKeyId":
                        self._opaque["SqsManagedSseEnabled"] = "false"  # SSE-KMS replaces SSE-SQS
            else:
                self._apply_extra(name, value)

    def _apply_extra(self, name: str, value: Any) -> None:
        """Apply an attribute only a subclass knows."""

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Change attributes by their AWS names (SetQueueAttributes).

        All values are checked first; on any error nothing changes.
        """
        with self._lock:
            self._check_alive()
            if not isinstance(attributes, Mapping):
                raise InvalidAttributeValue("attributes must be a mapping of AWS names to values.")
            parsed = self._validate(attributes, creating=False)
            self._apply(parsed)
            self._modified_ms = self.loop.clock.wall_ms()
            self._cond.notify_all()  # a shorter wait or a new delay may matter to waiters
            if self._observers:
                self._emit("attributes_changed", None)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_request(cast("Queue", self), "SetQueueAttributes")

    def get_attributes(self, names: Iterable[str] = ("All",)) -> dict[str, str]:
        """Attributes by their AWS names, values as strings (GetQueueAttributes).

        ``names`` selects attributes; ``"All"`` (the default) selects every one.
        Raises ``InvalidAttributeName`` for an unknown name.
        """
        with self._lock:
            self._check_alive()
            wanted = [names] if isinstance(names, str) else names
            if not isinstance(wanted, (list, tuple, set, frozenset)) or not all(
                isinstance(name, str) for name in wanted
            ):
                raise InvalidAttributeName(
                    f"AttributeNames must be a list of attribute names, got {names!r}."
                )
            check_attribute_names(wanted, fifo=self.is_fifo, writable=False)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_request(cast("Queue", self), "GetQueueAttributes")
            ledger = self._ledger
            ledger.settle(self.loop.clock.now())
            values: dict[str, str] = {
                "QueueArn": self.arn,
                "ApproximateNumberOfMessages": str(ledger.n_visible),
                "ApproximateNumberOfMessagesNotVisible": str(ledger.n_inflight),
                "ApproximateNumberOfMessagesDelayed": str(ledger.n_delayed),
                "CreatedTimestamp": str(self._created_ms // 1000),
                "LastModifiedTimestamp": str(self._modified_ms // 1000),
            }
            for key, value in self._values.items():
                values[key] = str(value)
            if self._redrive is not None:
                values["RedrivePolicy"] = self._redrive.to_json()
            if self._redrive_allow is not None:
                values["RedriveAllowPolicy"] = self._redrive_allow.to_json()
            values.update(self._opaque)
            values.update(self._extra_attribute_values())
            if "All" in wanted:
                return values
            return {k: values[k] for k in wanted if k in values}

    def _extra_attribute_values(self) -> dict[str, str]:
        return {}

    @property
    def visibility_timeout(self) -> int:
        """The queue's default visibility timeout, seconds."""
        return int(self._values["VisibilityTimeout"])

    @property
    def delay_seconds(self) -> int:
        """The queue's delivery delay, seconds."""
        return int(self._values["DelaySeconds"])

    @property
    def message_retention_period(self) -> int:
        """Seconds a message is kept after it was sent."""
        return int(self._values["MessageRetentionPeriod"])

    @property
    def maximum_message_size(self) -> int:
        """Bytes of body plus attributes a message may have."""
        return int(self._values["MaximumMessageSize"])

    @property
    def receive_message_wait_time_seconds(self) -> int:
        """The default long-poll wait of :meth:`receive`, seconds."""
        return int(self._values["ReceiveMessageWaitTimeSeconds"])

    @property
    def redrive_policy(self) -> RedrivePolicy | None:
        """The dead-letter configuration, or ``None``."""
        return self._redrive

    @property
    def redrive_allow_policy(self) -> RedriveAllowPolicy | None:
        """Who may use this queue as a dead-letter queue (``None``: everyone)."""
        return self._redrive_allow

    # -- tags -----------------------------------------------------------------------------------

    def tag(self, tags: Mapping[str, str]) -> None:
        """Add or replace tags (TagQueue): at most 50, keys 1-128 and values 0-256 characters."""
        with self._lock:
            self._check_alive()
            if not isinstance(tags, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
            ):
                raise InvalidParameterValue("Tags must be a mapping of strings to strings.")
            for key, value in tags.items():
                if not 1 <= len(key) <= 128 or len(value) > 256:
                    raise InvalidParameterValue(
                        f"Tag {key!r}: keys must be 1-128 and values 0-256 characters."
                    )
            if len(set(self._tags) | set(tags)) > 50:
                raise InvalidParameterValue("A queue can have at most 50 tags.")
            self._tags.update(tags)
            if self._initialized and self._observers:
                self._emit("attributes_changed", None)

    def untag(self, keys: Iterable[str]) -> None:
        """Remove tags by key (UntagQueue); unknown keys are ignored."""
        with self._lock:
            self._check_alive()
            wanted = [keys] if isinstance(keys, str) else keys
            if not isinstance(wanted, (list, tuple, set, frozenset)) or not all(
                isinstance(key, str) for key in wanted
            ):
                raise InvalidParameterValue(f"TagKeys must be a list of strings, got {keys!r}.")
            for key in wanted:
                self._tags.pop(key, None)
            if self._observers:
                self._emit("attributes_changed", None)

    def list_tags(self) -> dict[str, str]:
        """The queue's tags (ListQueueTags)."""
        with self._lock:
            self._check_alive()
            return dict(self._tags)


def _canonical(value: Any) -> Any:
    """A comparable form of an attribute value (for "same attributes" on re-create)."""
    if isinstance(value, (RedrivePolicy, RedriveAllowPolicy)):
        return value.to_json()
    if isinstance(value, Mapping):
        try:
            return dumps_json(value, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return value  # not JSON (mixed key types, bytes...): validation refuses it next
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return value
