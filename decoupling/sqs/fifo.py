"""``FifoQueue``: an SQS FIFO queue, in process.

A :class:`~decoupling.Queue` with the FIFO rules of the SQS Developer Guide ("Amazon SQS FIFO
queues", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html)
and the API reference:

* **Message groups.** Every send needs a ``MessageGroupId``. Within a group messages go out in
  the order they were sent; no message is handed out while an *earlier* message of its group is
  in flight, other groups keep flowing. A receive takes as many messages as it can from the
  first available group before moving to the next (FIFO-queues-understanding-logic.html). An
  earlier message that returns to view (its visibility timeout ended or was set to 0) while a
  later one is still in flight can be received again: only later messages wait (as AWS does;
  see the AWS-validated tests of LocalStack, ``test_fifo_group_visibility_extends_with_change_
  message_visibility``).
* **Exactly-once sends.** Each message has a deduplication id: ``MessageDeduplicationId``, or
  with ``ContentBasedDeduplication`` the SHA-256 hex digest of the body. A send whose id was
  seen in the last 5 minutes is accepted and not delivered; the answer carries the original
  ``MessageId`` and ``SequenceNumber`` (and the MD5s of what this request sent). The window
  outlives deletion and is cleared by a purge (using-messagededuplicationid-property.html).
  With ``DeduplicationScope=messageGroup`` ids are per group.
* **SequenceNumber**: a 20-digit, strictly increasing, non-consecutive number per queue.
* **No per-message delay**: ``DelaySeconds`` other than 0 fails ``InvalidParameterValue``; the
  queue's ``DelaySeconds`` applies (API_SendMessage.html). A change of the queue's
  ``DelaySeconds`` is retroactive: messages still waiting for their delay become visible at
  their send time plus the new delay (at once if that has passed); visible and in-flight
  messages are not affected ("For FIFO queues, the per-queue delay setting is retroactive",
  sqs-delay-queues.html; on a standard queue it is not).
* **Receipt handles expire**: a delete or visibility change with a handle whose visibility
  timeout has ended fails ``InvalidParameterValue`` ("The receipt handle has expired.").
* **ReceiveRequestAttemptId**: a retried receive with the same id within 5 minutes returns the
  same messages with the same receipt handles and restarts their visibility timeout, as long
  as none of them was deleted or had its visibility changed (API_ReceiveMessage.html).
* **In flight**: at 120,000 messages in flight receives return nothing (no error).
* **Dead letters**: a FIFO queue's dead-letter queue is a FIFO queue; a dead letter's retention
  restarts when it arrives there (setting-up-dead-letter-queue-retention.html) and its
  deduplication id becomes its message id (sqs-configure-dead-letter-queue-redrive.html).

Not modelled: throughput quotas (never enforced by default), and the rule that SQS looks for
available groups only among the first 120,000 messages of a backlog.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from heapq import heappop, heappush
from math import floor as _floor
from time import monotonic as _monotonic
from typing import Any, ClassVar, TypeGuard

from .._core.dedup import ExpiringKeys, ExpiringMap
from .._core.ledger import INFLIGHT, VISIBLE, Entry
from ..clock import ManualClock, MonotonicClock
from ..errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MissingParameter,
)
from ..loop import EventLoop
from ..message import AttributeInput, Message, _none, _unset_default
from . import large_payloads as _large
from .config import RedriveAllowPolicy, RedrivePolicy
from .large_payloads import PayloadOffload
from .queue import _HEX3, MAX_VISIBILITY, BatchResult, Queue, SendResult, _fill_from_record, _Record
from .results import _none_until_set

__all__ = ["FifoQueue", "DEDUPLICATION_INTERVAL"]

#: Seconds a deduplication id (and a ``ReceiveRequestAttemptId``) is remembered.
DEDUPLICATION_INTERVAL = 300.0
#: A FIFO queue name: up to 75 characters of ``A-Za-z0-9-_`` plus ``.fifo`` (80 in all).
FIFO_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
#: SequenceNumber n is ``SEQUENCE_BASE + n * SEQUENCE_STEP``: 20 digits, increasing, with gaps
#: (AWS: "a large, non-consecutive number"; its examples are 20 digits, e.g.
#: 18849496460467696128).
SEQUENCE_BASE = 18 * 10**18
SEQUENCE_STEP = 100_000
#: For n < 10**13 the SequenceNumber is ``f"{_SEQUENCE_HEAD + n}00000"``: the same digits
#: (SEQUENCE_BASE + n * SEQUENCE_STEP), from a short int's str instead of a padded format.
_SEQUENCE_HEAD = SEQUENCE_BASE // SEQUENCE_STEP
_SCOPES = ("queue", "messageGroup")
_LIMITS = ("perQueue", "perMessageGroupId")
_EXPIRED = "The receipt handle has expired."
_new = object.__new__


_RECORD_SLOT: Any = Entry.__dict__["record"]  # the slot (_FifoEntry's property shadows it)


class _FifoEntry(Entry):
    """The ledger entry of a message the common FIFO send stored, carrying the message's
    fields itself (its group is the entry's ``lane``; its ``SentTimestamp`` follows from
    ``sent_at``): its record is made on first read (a receive builds the ``Message`` from
    the fields; a delete never reads the record), after which ``_message_id`` is ``None``.
    One object per message instead of an entry and a record. Each queue has its own
    subclass (:func:`_fifo_entry_class`) carrying how its clock turns loop seconds into
    epoch milliseconds. ``cls()`` is a bare instance (``__init__`` is object's) whose fields
    the send sets, every one."""

    __slots__ = ("_message_id", "_body", "_dedup_id", "_sequence_number")
    __init__ = object.__init__
    _message_id: str | None
    _body: str
    _dedup_id: str
    _sequence_number: str
    #: The clock's fixed offset from loop seconds to epoch seconds.
    _offset: ClassVar[float] = 0.0
    #: round (ManualClock.wall_ms) or floor (MonotonicClock.wall_ms) of epoch milliseconds.
    _to_ms: ClassVar[Callable[[float], int]]

    @property
    def record(self) -> Any:
        try:
            return _RECORD_SLOT.__get__(self)
        except AttributeError:
            cls = type(self)
            record = _Record(self._message_id, self._body, None,  # type: ignore[arg-type]
                             cls._to_ms((self.sent_at + cls._offset) * 1000),
                             self.lane, self._dedup_id, self._sequence_number)  # type: ignore[arg-type]
            _RECORD_SLOT.__set__(self, record)
            self._message_id = None
            return record

    @record.setter
    def record(self, value: Any) -> None:
        _RECORD_SLOT.__set__(self, value)
        self._message_id = None


def _fifo_entry_class(offset: float, monotonic: bool) -> type[_FifoEntry]:
    """A queue's :class:`_FifoEntry`, for a clock whose epoch milliseconds at loop time ``t``
    are ``round((t + offset) * 1000)`` (ManualClock) or their floor (MonotonicClock)."""
    to_ms = _floor if monotonic else round
    return type("_FifoEntry", (_FifoEntry,), {
        "__slots__": (), "_offset": offset, "_to_ms": staticmethod(to_ms),
    })


class _Attempt:
    """What one receive with a ``ReceiveRequestAttemptId`` handed out."""

    __slots__ = ("entries", "receipts", "deadlines")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.receipts = [e.receipt for e in entries]
        self.deadlines = [e.deadline for e in entries]


class _FifoSendResult(SendResult):
    """A :class:`SendResult` as the common FIFO send makes it: ``_FifoSendResult()`` is a bare
    instance (``__init__`` is object's) whose ``message_id``, ``sequence_number`` and ``_body``
    the send sets (plain slot stores, no property calls); the digests and attributes read
    ``None`` until set. Behaves as ``SendResult`` in every way."""

    __slots__ = ()
    __init__ = object.__init__

    _md5 = _none_until_set("_md5")
    _md5_attributes = _none_until_set("_md5_attributes")
    _attributes = _none_until_set("_attributes")


class _FifoMessage(Message):
    """A :class:`Message` of a message the common FIFO send stored (a body, its group, its
    deduplication id and sequence number, nothing else), as a receive builds it: the fields
    such a message leaves empty (attributes, dead-letter source, trace header, the cached
    MD5) read as their defaults until set, so the receive does not store them one by one.
    Behaves as ``Message`` in every other way."""

    __slots__ = ()
    __init__ = object.__init__  # ``_FifoMessage()``: a bare instance for the receive to fill

    message_attributes = _unset_default("message_attributes", dict)
    dead_letter_queue_source_arn = _unset_default("dead_letter_queue_source_arn", _none)
    aws_trace_header = _unset_default("aws_trace_header", _none)
    _md5 = _unset_default("_md5", _none)


class FifoQueue(Queue):
    """An SQS FIFO queue: ordered message groups and exactly-once sends.

    Args:
        loop: the :class:`~decoupling.EventLoop` (account) the queue belongs to, or an AWS
            account from ``decoupling.aws.connect()``.
        name: 1-80 characters of ``A-Za-z0-9-_`` ending in ``.fifo`` (the suffix counts).
        content_based_deduplication: without an explicit ``message_deduplication_id``, use the
            SHA-256 hex digest of the body (``ContentBasedDeduplication``; default ``False``, and
            then every send needs an id).
        deduplication_scope: ``"queue"`` (default) or ``"messageGroup"``: whether a
            deduplication id is unique in the queue or within its message group. As observed
            on AWS, the scope a queue was created with stays in force: changing the attribute
            later is reported by :meth:`get_attributes` but does not change deduplication.
        fifo_throughput_limit: ``"perQueue"`` (default) or ``"perMessageGroupId"`` (high
            throughput mode; allowed only with ``deduplication_scope="messageGroup"``, per the
            SetQueueAttributes API reference). Accepted and reported; quotas are not enforced.
        **kwargs: every other :class:`~decoupling.Queue` argument (``visibility_timeout``,
            ``redrive_policy`` with a FIFO dead-letter queue, ``attributes``, ...).

    Sending: :meth:`send` needs ``message_group_id``; ``message_deduplication_id`` unless
    content-based deduplication is on; ``delay_seconds`` may only be 0. The
    :class:`~decoupling.SendResult` carries ``sequence_number``.

    Delay: a change of the queue's ``DelaySeconds`` (:meth:`set_attributes`) is retroactive,
    as on SQS FIFO queues: each message still waiting for the delay becomes visible at its send
    time plus the new delay (at once if that has passed; visible and in-flight messages are
    not affected), and observers see a ``"delay_changed"`` event for each.

    Raises:
        InvalidParameterValue: a name without ``.fifo`` or otherwise bad.
        InvalidAttributeValue: a bad FIFO attribute, or ``perMessageGroupId`` with queue scope.
    """

    is_fifo: ClassVar[bool] = True

    def __init__(
        self,
        loop: EventLoop,
        name: str,
        *,
        content_based_deduplication: bool = False,
        deduplication_scope: str = "queue",
        fifo_throughput_limit: str = "perQueue",
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        maximum_message_size: int | None = None,
        receive_message_wait_time_seconds: int | None = None,
        redrive_policy: RedrivePolicy | str | Mapping[str, Any] | None = None,
        redrive_allow_policy: RedriveAllowPolicy | str | Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        attributes: Mapping[str, Any] | None = None,
        large_payloads: PayloadOffload | None = None,
    ) -> None:
        if self._initialized:  # __new__ returned an existing, identical queue
            if large_payloads is not None:
                self.large_payloads = large_payloads
            return
        super().__init__(
            loop,
            name,
            visibility_timeout=visibility_timeout,
            message_retention_period=message_retention_period,
            delay_seconds=delay_seconds,
            maximum_message_size=maximum_message_size,
            receive_message_wait_time_seconds=receive_message_wait_time_seconds,
            redrive_policy=redrive_policy,
            redrive_allow_policy=redrive_allow_policy,
            tags=tags,
            attributes=_fifo_attributes(
                content_based_deduplication, deduplication_scope, fifo_throughput_limit,
                attributes,
            ),
            large_payloads=large_payloads,
        )

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def _requested(
        cls,
        loop: EventLoop,
        name: str,
        *,
        content_based_deduplication: Any = False,
        deduplication_scope: Any = "queue",
        fifo_throughput_limit: Any = "perQueue",
        attributes: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        merged = _fifo_attributes(
            content_based_deduplication, deduplication_scope, fifo_throughput_limit, attributes
        )
        return super()._requested(loop, name, attributes=merged, **kwargs)

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str) or not FIFO_QUEUE_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"Queue name {name!r} is invalid: a FIFO queue name is 1 to 80 characters of "
                "A-Za-z0-9, '-' and '_' ending in '.fifo' (the suffix counts)."
            )

    def _init_extra(self) -> None:
        # What turns loop seconds into SentTimestamp milliseconds for the plain send: the
        # clock's fixed offset (ManualClock, MonotonicClock), or None (ask the clock).
        clock = self.loop.clock
        self._wall_offset: float | None = (
            clock._epoch_offset if type(clock) is ManualClock
            else clock._offset if type(clock) is MonotonicClock
            else None
        )
        # A ManualClock's now() is its _now: the common paths read it without the call (and
        # a MonotonicClock's is time.monotonic(): see Queue._monotonic).
        self._manual_clock: bool = type(clock) is ManualClock
        # The entries of the common send (None: that send stores records, asking the clock).
        self._entry_class: type[_FifoEntry] | None = (
            None if self._wall_offset is None
            else _fifo_entry_class(self._wall_offset, type(clock) is MonotonicClock)
        )
        self._content_based = False
        self._scope = "queue"
        self._scope_in_effect = "queue"
        self._throughput = "perQueue"
        self._last_sequence = 0
        # _window_key(group or None, deduplication id) -> _window_value(MessageId,
        # SequenceNumber) of the original: strings, not tuples, so that a send creates no
        # object the garbage collector tracks (see ExpiringMap).
        self._dedup: ExpiringMap[str, str] = ExpiringMap()
        self._attempts: ExpiringMap[str, _Attempt] = ExpiringMap()
        # Handles of messages deleted while in flight, until their visibility would have ended.
        self._deleted_handles: ExpiringKeys[str] = ExpiringKeys()

    def _apply(self, parsed: Mapping[str, Any]) -> None:
        old_delay = self._values["DelaySeconds"]
        super()._apply(parsed)
        delay = self._values["DelaySeconds"]
        if self._initialized and delay != old_delay:
            self._redelay(float(delay))

    def _redelay(self, delay: float) -> None:
        """A new ``DelaySeconds`` reaches the messages still waiting for the queue's delay:
        each becomes visible ``delay`` seconds after it was sent (at once if that time has
        passed). Messages already visible or in flight are not affected. "For FIFO queues,
        the per-queue delay setting is retroactive—changing the setting affects the delay of
        messages already in the queue" (SQS Developer Guide, "Amazon SQS delay queues",
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html).
        FIFO queues take no per-message delay, so every delayed message waits for the
        queue's. Each re-timed message is a ``"delay_changed"`` event (the durable store
        writes its new time). O(d log d) for d delayed messages."""
        changed = self._ledger.redelay(self.loop.clock.now(), delay)
        if self._observers:
            for entry in changed:
                self._emit("delay_changed", entry)
        if changed and self._waiting:
            self._cond.notify_all()  # a poll's wake-up time may have moved

    # -- attributes -----------------------------------------------------------------------------

    def _validate(self, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        parsed = super()._validate(values, creating=creating)
        scope = parsed.get("DeduplicationScope", self._scope)
        limit = parsed.get("FifoThroughputLimit", self._throughput)
        if limit == "perMessageGroupId" and scope != "messageGroup":
            # SetQueueAttributes API reference: "The perMessageGroupId value is allowed only
            # when the value for DeduplicationScope is messageGroup."
            raise InvalidAttributeValue(
                "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId "
                f"is allowed only when DeduplicationScope is messageGroup (it is {scope})."
            )
        return parsed

    def _validate_extra(self, name: str, value: Any, *, creating: bool) -> Any:
        if name == "FifoQueue":
            if _parse_bool(value) is True:
                return True
            reason = (
                "a FifoQueue needs FifoQueue=true (use Queue for a standard queue)"
                if creating
                else "Modifying queue type is not supported"
            )
            raise InvalidAttributeValue(
                f"Invalid value for the parameter FifoQueue. Reason: {reason}."
            )
        if name == "ContentBasedDeduplication":
            flag = _parse_bool(value)
            if flag is None:
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter ContentBasedDeduplication: {value!r}. "
                    "It must be true or false."
                )
            return flag
        if name == "DeduplicationScope":
            if value not in _SCOPES:
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter DeduplicationScope: {value!r}. "
                    "It must be queue or messageGroup."
                )
            return value
        if name == "FifoThroughputLimit":
            if value not in _LIMITS:
                raise InvalidAttributeValue(
                    f"Invalid value for the parameter FifoThroughputLimit: {value!r}. "
                    "It must be perQueue or perMessageGroupId."
                )
            return value
        raise InvalidAttributeName(f"Unknown Attribute {name}.")  # pragma: no cover

    def _apply_extra(self, name: str, value: Any) -> None:
        if name == "ContentBasedDeduplication":
            self._content_based = bool(value)
        elif name == "DeduplicationScope":
            self._scope = value
            if not self._initialized:
                # Fixed at creation: AWS keeps deduplicating with the original scope after
                # SetQueueAttributes changes it (LocalStack's AWS-validated tests
                # test_fifo_change_to_high_throughput_after_creation and
                # test_fifo_change_to_regular_throughput_after_creation).
                self._scope_in_effect = value
        elif name == "FifoThroughputLimit":
            self._throughput = value

    def _extra_attribute_values(self) -> dict[str, str]:
        return {
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true" if self._content_based else "false",
            "DeduplicationScope": self._scope,
            "FifoThroughputLimit": self._throughput,
        }

    @property
    def content_based_deduplication(self) -> bool:
        """Whether a send without a deduplication id uses the SHA-256 of its body."""
        return self._content_based

    @property
    def deduplication_scope(self) -> str:
        """``"queue"`` or ``"messageGroup"`` (the attribute as last set)."""
        return self._scope

    @property
    def fifo_throughput_limit(self) -> str:
        """``"perQueue"`` or ``"perMessageGroupId"``."""
        return self._throughput

    # -- sending --------------------------------------------------------------------------------

    def send(
        self,
        body: str,
        *,
        message_attributes: Mapping[str, AttributeInput] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        aws_trace_header: str | None = None,
    ) -> SendResult:
        """Send one message (SendMessage): ``message_group_id`` is required, and
        ``message_deduplication_id`` unless content-based deduplication is on. A duplicate
        within the 5-minute window is accepted, not delivered, and answered with the original's
        ``MessageId`` and ``SequenceNumber``. O(log n).

        Args:
            body: the message text (1 character or more, XML-safe characters only).
            message_attributes: up to 10 attributes, name to value (``str``, number, ``bytes``
                or :class:`~decoupling.MessageAttributeValue`).
            delay_seconds: only 0 (FIFO queues take no per-message delay).
            message_group_id: the message group (1-128 printable ASCII characters but space).
            message_deduplication_id: the deduplication id (same characters).
            aws_trace_header: the ``AWSTraceHeader`` system attribute.

        Raises:
            MissingParameter, InvalidMessageContents, InvalidParameterValue, QueueDoesNotExist.
        """
        if (
            message_attributes is None
            and delay_seconds is None
            and aws_trace_header is None
            and type(body) is str
            and type(message_group_id) is str
            and type(message_deduplication_id) is str
            and 0 < len(message_group_id) <= 128
            and 0 < len(message_deduplication_id) <= 128
        ):
            # The common send: _are_tokens and _is_plain_body inline (the ids joined so that
            # each str method runs once over both).
            ids = message_group_id + message_deduplication_id
            if (
                ids.isascii() and ids.isprintable() and " " not in ids
                and body.isascii() and body.isprintable()
            ):
                with self._lock:
                    if (
                        # (attributes read here each time: a durable store sets _values and
                        # the scope directly when it reopens or syncs a queue)
                        0 < len(body) <= self._values["MaximumMessageSize"]
                        and self._offload is None
                        and not self._deleted
                    ):
                        # _prepare and _commit (FIFO and Queue) in one, with one lookup of
                        # the deduplication window: same ids, events and order as that path.
                        loop = self.loop
                        clock = loop.clock
                        now = (  # clock.now(), without the call
                            clock._now if self._manual_clock  # type: ignore[attr-defined]
                            else _monotonic() if self._monotonic else clock.now()
                        )
                        low = self._id_low  # a message id from the queue's block, as Queue's
                        if low > 4095:
                            self._id_block = loop._id_block()
                            low = 0
                        self._id_low = low + 1
                        message_id = self._id_block + _HEX3[low]
                        n = self._last_sequence + 1
                        # _sequence_number(n), inline for the first 10**13
                        sequence_number = (
                            f"{_SEQUENCE_HEAD + n}00000" if n < 10**13 else _sequence_number(n)
                        )
                        # ExpiringMap.add, inline: the original's window value, or None after
                        # remembering this one (_window_key and _window_value, inline).
                        window = self._dedup
                        if now >= window._due:
                            window.expire(now)
                        key = (
                            f"{message_group_id}\x00{message_deduplication_id}"
                            if self._scope_in_effect == "messageGroup"
                            else message_deduplication_id
                        )
                        values = window._values
                        held = values.get(key)  # (every held item is live once expired)
                        result: SendResult = _FifoSendResult()  # SendResult._lazy's fields, set here
                        result._body = body
                        if held is not None:
                            result.message_id, _, original = held.rpartition(" ")
                            result.sequence_number = original or None
                        else:
                            expires_at = now + DEDUPLICATION_INTERVAL
                            values[key] = f"{message_id} {sequence_number}"
                            window._expires[key] = expires_at
                            if expires_at >= window._last:  # in expiry order: the run
                                window._last = expires_at
                                window._times.append(expires_at)
                                window._keys.append(key)
                                if expires_at < window._due:  # (only when it was empty)
                                    window._due = expires_at
                            else:
                                window._track(key, expires_at)
                            self._last_sequence = n
                            ledger = self._ledger
                            lanes = ledger._lanes
                            group = lanes.get(message_group_id)
                            delay = self._values["DelaySeconds"]
                            entry_class = self._entry_class
                            if not delay and entry_class is not None and (
                                group[0].state == VISIBLE if group
                                else group is None
                                and message_group_id not in ledger._solo
                                and message_group_id not in ledger._lane_inflight
                            ):
                                # Ledger.enqueue_group, inline (the group has a live head, or
                                # holds nothing), with an entry whose record is made when read.
                                entry = entry_class()  # Entry.__init__'s fields, set once
                                entry._message_id = message_id
                                entry._body = body
                                entry._dedup_id = message_deduplication_id
                                entry._sequence_number = sequence_number
                                entry.seq = seq = next(ledger._seq)
                                entry.sent_at = entry.available_at = now
                                entry.lane = message_group_id
                                entry.state = VISIBLE
                                entry.receive_count = 0
                                entry.first_received_at = entry.received_at = -1.0
                                entry.deadline = entry.timeout = 0.0
                                entry.receipt = None
                                fresh = ledger._fresh
                                if not fresh or fresh[-1].sent_at <= now:
                                    fresh.append(entry)
                                else:
                                    heappush(ledger._retained, (now, seq, entry))
                                expiry = now + ledger._retention
                                if expiry < ledger._due:
                                    ledger._due = expiry
                                ledger.n_visible += 1
                                if group:
                                    group.append(entry)  # behind a live head: still as ready
                                else:  # the group's head, and nothing of it in flight
                                    lanes[message_group_id] = deque((entry,))
                                    ledger._mark_ready(message_group_id, seq)
                            else:
                                offset = self._wall_offset  # SentTimestamp from the send time
                                if offset is None:
                                    sent_ms = loop.clock.wall_ms()
                                elif self._monotonic:
                                    sent_ms = _floor((now + offset) * 1000)  # as wall_ms()
                                else:
                                    sent_ms = round((now + offset) * 1000)  # (ManualClock)
                                record = _Record(
                                    message_id, body, None, sent_ms, message_group_id,
                                    message_deduplication_id, sequence_number,
                                )
                                if delay:
                                    entry = ledger.enqueue(
                                        record, now, delay=delay, lane=message_group_id
                                    )
                                else:
                                    entry = ledger.enqueue_group(record, now, message_group_id)
                            if self._observers:
                                self._emit("sent", entry)
                            if self._waiting:  # as Queue._commit: one waiter, or all to re-plan
                                if delay <= 0:
                                    self._cond.notify(1)
                                else:
                                    self._cond.notify_all()
                            result.message_id = message_id
                            result.sequence_number = sequence_number
                        tap = loop._tap
                        if tap is not None:
                            tap.sqs_send(self, body, None)
                        return result
        if self._offload is not None:
            return self._offload._send(
                self, body, message_attributes, delay_seconds, message_group_id,
                message_deduplication_id, aws_trace_header,
            )
        return super().send(
            body, message_attributes=message_attributes, delay_seconds=delay_seconds,
            message_group_id=message_group_id,
            message_deduplication_id=message_deduplication_id,
            aws_trace_header=aws_trace_header,
        )

    def _prepare(
        self,
        body: object,
        message_attributes: Mapping[str, AttributeInput] | None,
        delay_seconds: object,
        group_id: object,
        dedup_id: object,
        trace_header: object,
        now: float,
    ) -> tuple[_Record | None, float, SendResult]:
        """Validate one FIFO message; a duplicate gives ``None`` and the original's identity.
        O(1) amortized plus the SHA-256 of the body under content-based deduplication."""
        if not _is_token(group_id):
            if group_id is None:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            raise InvalidParameterValue(
                f"Value {group_id} for parameter MessageGroupId is invalid. Reason: "
                "MessageGroupId can only include alphanumeric and punctuation characters. "
                "1 to 128 in length."
            )
        if delay_seconds is not None and self._check_delay(delay_seconds):
            raise InvalidParameterValue(
                f"Value {delay_seconds} for parameter DelaySeconds is invalid. Reason: The "
                "request include parameter that is not valid for this queue type."
            )
        if dedup_id is None:
            if not self._content_based:
                raise InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
        elif not _is_token(dedup_id):
            raise InvalidParameterValue(
                f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: "
                "MessageDeduplicationId can only include alphanumeric and punctuation "
                "characters. 1 to 128 in length."
            )
        loop = self.loop
        if (
            message_attributes is None
            and trace_header is None
            and _is_plain_body(body, self._values["MaximumMessageSize"])
        ):
            # The common message: built here outright, as SendMessageBatch's fast path does.
            assert isinstance(body, str)
            message_id = loop.new_id()
            sent_ms = loop.clock.wall_ms()
            delay = float(self._values["DelaySeconds"])
            attributes = None
            trace = None
        else:
            # The group was checked above: the base class need not check it again.
            record, delay, _ = super()._prepare(
                body, message_attributes, None, None, None, trace_header, now
            )
            assert record is not None
            body, attributes = record.body, record.attributes
            message_id, sent_ms, trace = record.message_id, record.sent_ms, record.trace_header
        assert isinstance(body, str)
        if dedup_id is None:
            dedup_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
        assert isinstance(dedup_id, str)
        scope_group = group_id if self._scope_in_effect == "messageGroup" else None
        held = self._dedup.get(_window_key(scope_group, dedup_id), now)
        if held is not None:
            # The original's MessageId and SequenceNumber, with the digests of what was sent.
            original_id, original_sequence = _window_original(held)
            return None, delay, SendResult._lazy(original_id, body, attributes, original_sequence)
        sequence_number = _sequence_number(self._last_sequence + 1)
        record = _Record(message_id, body, attributes, sent_ms, group_id, dedup_id,
                         sequence_number, None, trace)
        return record, delay, SendResult._lazy(message_id, body, attributes, sequence_number)

    def _commit(self, record: _Record, delay: float, now: float) -> None:
        # Runs right after _prepare under the same lock: the sequence number it chose is next.
        self._last_sequence += 1
        dedup_id = record.dedup_id
        assert dedup_id is not None
        scope_group = record.group_id if self._scope_in_effect == "messageGroup" else None
        self._dedup.put(
            _window_key(scope_group, dedup_id),
            _window_value(record.message_id, record.sequence_number),
            now + DEDUPLICATION_INTERVAL,
            now,
        )
        super()._commit(record, delay, now)

    def send_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Send up to 10 messages in order (SendMessageBatch on a FIFO queue).

        As on AWS, an entry without ``MessageGroupId`` (``MissingParameter``), or without
        ``MessageDeduplicationId`` while content-based deduplication is off
        (``InvalidParameterValue``), fails the whole request; other bad entries fail alone. Duplicates within the batch
        or the 5-minute window are listed as successful with the original's ``MessageId`` and
        ``SequenceNumber``.
        """
        with self._lock:
            self._check_alive()
            normalized = self._batch_entries(entries)
            for _, entry in normalized:
                if entry.get("MessageGroupId") is None:
                    # MissingParameter, as for SendMessage (moto's
                    # test_send_messages_to_fifo_without_message_group_id).
                    raise MissingParameter(
                        "The request must contain the parameter MessageGroupId."
                    )
            if not self._content_based:
                for _, entry in normalized:
                    if entry.get("MessageDeduplicationId") is None:
                        raise InvalidParameterValue(
                            "The queue should either have ContentBasedDeduplication enabled "
                            "or MessageDeduplicationId provided explicitly"
                        )
            return super().send_batch(entries)

    # -- receiving ------------------------------------------------------------------------------

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """Receive up to ``max_messages`` messages (ReceiveMessage): as many as can go from the
        group with the oldest message, then the next group. ``receive_request_attempt_id``
        makes a retry return the same messages (see the module notes). At 120,000 messages in
        flight nothing is returned (no ``OverLimit``). O(m + g log n) for m messages from g
        groups.

        Raises:
            InvalidParameterValue, QueueDoesNotExist.
        """
        with self._lock:
            if receive_request_attempt_id is None and not self._deleted and self.loop._tap is None:
                # The common receive: one look at the ledger, returned at once when it found
                # messages or may not wait (else the general path waits as usual).
                if (
                    type(max_messages) is int
                    and 1 <= max_messages <= 10
                    and wait_seconds is None
                    and visibility_timeout is None
                ):  # the common call: _check_receive_args's answer without the call
                    values = self._values
                    wait = values["ReceiveMessageWaitTimeSeconds"]
                    timeout = values["VisibilityTimeout"]
                else:
                    max_messages, wait, timeout = self._check_receive_args(
                        max_messages, wait_seconds, visibility_timeout
                    )
                clock = self.loop.clock
                now = (  # clock.now(), without the call
                    clock._now if self._manual_clock  # type: ignore[attr-defined]
                    else _monotonic() if self._monotonic else clock.now()
                )
                ledger = self._ledger
                if now >= ledger._due:  # (settle's own first test, without the call)
                    ledger.settle(now)
                room = self.max_in_flight - ledger.n_inflight
                if ledger.n_visible and room > 0 and self._redrive is None:
                    # _receive_ready, inline for a queue without a redrive policy
                    run, heap = ledger._ready_run, ledger._ready_heap
                    if max_messages == 1 and (run or heap):
                        # The one-message receive of Ledger.receive, inline: the oldest ready
                        # group's head, when it is live and nothing of its group is in flight
                        # (else Ledger.receive decides).
                        from_run = bool(run) and (not heap or run[0] <= heap[0])
                        seq = run[0] if from_run else heap[0]
                        ready_key = ledger._ready_key
                        key = ready_key.get(seq)  # (None: a stale item; no group is None)
                        solo = ledger._solo
                        if (
                            key is not None and key not in solo
                            and key not in ledger._lane_flight
                            and ledger._lanes[key][0].state == VISIBLE
                        ):
                            lane = ledger._lanes[key]
                            entry = lane.popleft()
                            if not lane:
                                del ledger._lanes[key]
                            del ledger._ready_seq[key]
                            del ready_key[seq]
                            if from_run:
                                run.popleft()
                            else:
                                heappop(heap)
                            # Ledger._hand_out, inline
                            deadline = now + timeout
                            handles = ledger.handles
                            old = entry.receipt
                            if old is not None:
                                handles.pop(old, None)
                            count = entry.receive_count
                            if not count:  # (a restored first-receive time may be < 0)
                                entry.first_received_at = now
                            receipt = entry.receipt = (
                                f"{ledger.receipt_prefix}{next(ledger._tick):x}"
                            )
                            entry.state = INFLIGHT
                            entry.receive_count = count = count + 1
                            entry.received_at = now
                            entry.deadline = deadline
                            entry.timeout = timeout
                            handles[receipt] = entry
                            solo[key] = entry  # the group's only message in flight
                            ledger.n_visible -= 1
                            ledger.n_inflight += 1
                            ledger._deadlines.push(deadline, timeout, entry)
                            if deadline < ledger._due:
                                ledger._due = deadline
                            if self._observers:
                                self._emit("received", entry)
                            message_id = (
                                entry._message_id
                                if type(entry) is self._entry_class else None
                            )
                            if message_id is None or self._offload is not None:
                                messages = self._messages([entry], now)
                                if self._offload is not None:
                                    return self._offload._resolve(self, messages)
                                return messages
                            # _messages, inline for one message the common send stored
                            m = _FifoMessage()
                            m.message_id = message_id
                            m.body = entry._body  # type: ignore[attr-defined]
                            wall_offset: float = self._wall_offset  # type: ignore[assignment]
                            m.sent_timestamp = (  # as the clock's wall_ms() at the send
                                _floor((entry.sent_at + wall_offset) * 1000) if self._monotonic
                                else round((entry.sent_at + wall_offset) * 1000)
                            )
                            m.message_group_id = key  # (a str)
                            m.message_deduplication_id = entry._dedup_id  # type: ignore[attr-defined]
                            m.sequence_number = entry._sequence_number  # type: ignore[attr-defined]
                            m.receipt_handle = receipt
                            m.receive_count = count
                            first = entry.first_received_at
                            m.first_receive_timestamp = wall_ms = (
                                _floor((now + wall_offset) * 1000) if self._monotonic
                                else round((now + wall_offset) * 1000)
                            )
                            if first != now:
                                m.first_receive_timestamp = wall_ms - int(
                                    round((now - first) * 1000)
                                )
                            m.sender_id = self.loop.account_id
                            return [m]
                    received, _ = ledger.receive(
                        now, max_messages if max_messages < room else room, timeout
                    )
                    if self._observers:
                        for entry in received:
                            self._emit("received", entry)
                    messages = self._messages(received, now)
                elif ledger.n_visible:
                    messages = self._receive_ready(now, max_messages, timeout)
                else:
                    messages = []
                if messages or not wait:
                    if self._offload is not None and messages:
                        return self._offload._resolve(self, messages)
                    return messages
        return super().receive(
            max_messages, wait_seconds=wait_seconds, visibility_timeout=visibility_timeout,
            receive_request_attempt_id=receive_request_attempt_id,
        )

    def _receive_now(
        self, now: float, max_messages: int, timeout: int, attempt_id: str | None
    ) -> list[Message]:
        ledger = self._ledger
        ledger.settle(now)  # before looking at counts or attempts
        if attempt_id is not None:
            if not _is_token(attempt_id):
                raise InvalidParameterValue(
                    f"Value {attempt_id} for parameter ReceiveRequestAttemptId is invalid. "
                    "Reason: ReceiveRequestAttemptId can only include alphanumeric and "
                    "punctuation characters. 1 to 128 in length."
                )
            attempt = self._attempts.get(attempt_id, now)
            if attempt is not None:
                replayed = self._replay(attempt, now, timeout)
                if replayed is not None:
                    return replayed
        messages = self._receive_ready(now, max_messages, timeout)
        if attempt_id is not None and messages:
            handles = ledger.handles
            entries = [handles[m.receipt_handle] for m in messages]
            self._attempts.put(attempt_id, _Attempt(entries), now + DEDUPLICATION_INTERVAL, now)
        return messages

    def _receive_ready(self, now: float, max_messages: int, timeout: int) -> list[Message]:
        """Queue._receive_now on a settled ledger, less OverLimit (lock held). O(m + g log n)."""
        ledger = self._ledger
        room = self.max_in_flight - ledger.n_inflight
        if room <= 0:
            # FIFO: no OverLimit error at the in-flight limit; delivery just stalls
            # (SQS Developer Guide, "Amazon SQS message quotas").
            return []
        redrive = self._redrive
        limit = 0
        if redrive is not None and self._dead_letter_queue() is not None:
            limit = redrive.max_receive_count
        received, dead = ledger.receive(now, max_messages if max_messages < room else room,
                                        timeout, limit)
        if dead:
            self._move_dead(dead, now)
        if self._observers:
            for entry in received:
                self._emit("received", entry)
        return self._messages(received, now)

    def _replay(self, attempt: _Attempt, now: float, timeout: int) -> list[Message] | None:
        """The messages of an earlier attempt with their handles, their visibility timeout
        restarted; ``None`` if any was deleted, changed or has left flight since."""
        entries = attempt.entries
        for entry, receipt, deadline in zip(entries, attempt.receipts, attempt.deadlines, strict=True):
            if entry.state != INFLIGHT or entry.receipt != receipt or entry.deadline != deadline:
                return None
        ledger = self._ledger
        for i, entry in enumerate(entries):
            allowed = MAX_VISIBILITY - (now - entry.received_at)
            ledger.change_visibility(entry, now, min(float(timeout), allowed))
            attempt.deadlines[i] = entry.deadline
            if self._observers:
                self._emit("visibility_changed", entry)
        if timeout == 0 and self._waiting:
            self._cond.notify(self._waiting)
        return self._messages(entries, now)

    def _messages(self, received: list[Entry], now: float) -> list[Message]:
        """The ``Message`` of each received entry (Queue._messages for FIFO entries: those the
        common send stored are read from their own fields, without making their record).
        O(k)."""
        if not received:
            return []
        loop = self.loop
        if self._monotonic:  # MonotonicClock.wall_ms() at ``now``, without two calls
            wall_ms = _floor((now + loop.clock._offset) * 1000)  # type: ignore[attr-defined]
        else:
            wall_ms = loop.clock.wall_ms()
        sender = loop.account_id
        out: list[Message] = []
        append = out.append
        entries: list[Any] = received  # (_FifoEntry or Entry)
        plain: Any = self._entry_class
        m: Message
        for entry in entries:
            if type(entry) is plain and entry._message_id is not None:
                m = _FifoMessage()  # (its empty fields are class defaults)
                m.message_id = entry._message_id
                m.body = entry._body
                m.sent_timestamp = plain._to_ms((entry.sent_at + plain._offset) * 1000)
                m.message_group_id = entry.lane
                m.message_deduplication_id = entry._dedup_id
                m.sequence_number = entry._sequence_number
            else:
                m = _new(Message)  # Message(...)'s fields set here, as its __init__ sets them
                _fill_from_record(m, entry.record)
            m.receipt_handle = entry.receipt or ""
            m.receive_count = entry.receive_count
            first = entry.first_received_at
            m.first_receive_timestamp = (
                wall_ms if first == now else wall_ms - int(round((now - first) * 1000))
            )
            m.sender_id = sender
            append(m)
        return out

    # -- deleting and changing visibility -------------------------------------------------------

    def delete(self, receipt_handle: str) -> None:
        """Delete the message a receipt handle names (DeleteMessage). O(log n).

        The handle must still be valid: after its visibility timeout ended the delete fails
        ``InvalidParameterValue`` ("The receipt handle has expired."). Deleting again with the
        handle of a message deleted while that handle was valid succeeds and does nothing, until
        the handle would have expired. A handle this queue did not issue raises
        ``ReceiptHandleIsInvalid``.
        """
        with self._lock:
            if self._deleted:
                self._check_alive()  # raises
            ledger = self._ledger
            clock = self.loop.clock
            now = (  # clock.now(), without the call
                clock._now if self._manual_clock  # type: ignore[attr-defined]
                else _monotonic() if self._monotonic else clock.now()
            )
            if now >= ledger._due:  # (settle's own first test, without the call)
                ledger.settle(now)
            entry = ledger.handles.get(receipt_handle) if type(receipt_handle) is str else None
            if entry is None or entry.state != INFLIGHT:
                self._delete_settled(receipt_handle)  # errors and repeated deletes
                return
            # A valid handle (in flight on a settled ledger): _delete_settled less the lookup,
            # and _after_delete inline.
            ledger.remove_group_solo(entry)
            if self._offload is not None:
                self._offload._deleted(entry.record)
            # Its handle stays valid until its deadline: ExpiringKeys.add, inline for the
            # common case (deadlines in order: two appends, then forget what expired).
            window = self._deleted_handles
            times = window._times
            deadline = entry.deadline
            if not times or times[-1] <= deadline:
                times.append(deadline)
                window._keys.append(entry.receipt)  # type: ignore[arg-type]  # (in flight)
                if times[0] <= now:
                    pop_time, pop_key = times.popleft, window._keys.popleft
                    while times and times[0] <= now:
                        pop_time()
                        pop_key()
            else:
                window.add(entry.receipt, deadline, now)  # type: ignore[arg-type]
            if self._waiting:
                self._cond.notify(self._waiting)  # the group (or in-flight room) may be free now
            if self._observers:
                self._emit("deleted", entry)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_deleted(self)

    def _entry_for(self, receipt_handle: object) -> Entry | None:
        """The in-flight message a handle names; ``None`` for a handle whose message was
        deleted while that handle was valid (deleting again succeeds and does nothing).

        Raises ``InvalidParameterValue`` for any other handle this queue issued (its visibility
        timeout ended: the message is visible again, was received again, moved to the
        dead-letter queue or purged), and ``ReceiptHandleIsInvalid`` for one it never issued.
        """
        if self._offload is not None:  # an extended client's handle: the queue's own inside
            receipt_handle = _large.plain_handle(receipt_handle)
        if isinstance(receipt_handle, str):  # the common case first: a handle in flight
            entry = self._ledger.handles.get(receipt_handle)
            if entry is not None and entry.state == INFLIGHT:
                return entry
        entry = super()._entry_for(receipt_handle)
        if entry is not None and entry.state == INFLIGHT:  # pragma: no cover - seen above
            return entry
        if entry is None:
            assert isinstance(receipt_handle, str)  # the base class checked it
            if self._deleted_handles.contains(receipt_handle, self.loop.clock.now()):
                return None
        raise InvalidParameterValue(
            f"Value {receipt_handle} for parameter ReceiptHandle is invalid. Reason: {_EXPIRED}"
        )

    def _after_delete(self, entry: Entry) -> None:
        # Only an in-flight message is deleted (_entry_for refuses the others), on a ledger
        # settled to now: its deadline is still ahead, so its handle stays valid until then.
        # Its receive time stands in for now (add only needs a time not past now, to forget
        # handles that expired before it).
        if self._offload is not None:
            self._offload._deleted(entry.record)
        receipt = entry.receipt
        if receipt is not None:
            self._deleted_handles.add(receipt, entry.deadline, entry.received_at)
        if self._waiting:
            self._cond.notify(self._waiting)  # the group (or in-flight room) may be free now

    def delete_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Delete up to 10 messages (DeleteMessageBatch). An expired handle fails its entry
        with ``ReceiptHandleIsInvalid`` / "The receipt handle has expired", as AWS reports it
        in batch results."""
        return _expired_in_batch(super().delete_batch(entries))

    def change_visibility_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Change the visibility of up to 10 messages (ChangeMessageVisibilityBatch); expired
        handles fail their entry as in :meth:`delete_batch`."""
        return _expired_in_batch(super().change_visibility_batch(entries))

    # -- dead letters and purge -----------------------------------------------------------------

    def _accept_dead_letter(
        self,
        record: _Record,
        sent_at: float,
        now: float,
        *,
        receive_count: int = 0,
        first_received_at: float = -1.0,
    ) -> None:
        """Take a dead letter: its retention restarts now (a FIFO DLQ resets the enqueue time),
        its deduplication id becomes its message id, and it gets this queue's next
        sequence number; it keeps its receive count as on a standard DLQ."""
        record.dedup_id = record.message_id
        self._last_sequence += 1
        record.sequence_number = _sequence_number(self._last_sequence)
        super()._accept_dead_letter(
            record, now, now, receive_count=receive_count, first_received_at=first_received_at
        )

    def _accept_moved(self, record: _Record, now: float) -> None:
        """A message moved back by a move task is a new message of this queue: it takes the
        next sequence number (its group is kept, so it joins the end of its group)."""
        self._last_sequence += 1
        record.sequence_number = _sequence_number(self._last_sequence)
        super()._accept_moved(record, now)

    def _after_purge(self) -> None:
        # PurgeQueue also clears the deduplication window (SQS Developer Guide, FIFO queues).
        self._dedup.clear()
        self._attempts.clear()
        self._deleted_handles.clear()


def _is_token(value: object) -> TypeGuard[str]:
    """A valid ``MessageGroupId``, ``MessageDeduplicationId`` or ``ReceiveRequestAttemptId``:
    1-128 printable ASCII characters but space (the ``GROUP_ID`` set), checked with str
    methods at a third of the regex's cost. O(length)."""
    return (
        isinstance(value, str) and 0 < len(value) <= 128 and value.isascii()
        and value.isprintable() and " " not in value
    )


def _are_tokens(first: object, second: object) -> TypeGuard[str]:
    """:func:`_is_token` of both, each ``str`` method run once over the two joined (the send
    path checks a deduplication id and a group id every time). ``str`` subclasses: ``False``
    (the caller's general path checks them). O(length)."""
    if (
        type(first) is not str or type(second) is not str
        or not 0 < len(first) <= 128 or not 0 < len(second) <= 128
    ):
        return False
    both = first + second
    return both.isascii() and both.isprintable() and " " not in both


def _is_plain_body(body: object, limit: int) -> bool:
    """The common body: a printable ASCII ``str`` of 1 to ``limit`` characters. Every check
    of ``Queue._prepare`` holds for it by construction (it is valid XML text and its size in
    bytes is its length). O(length)."""
    return type(body) is str and 0 < len(body) <= limit and body.isascii() and body.isprintable()


def _window_key(group: str | None, dedup_id: str) -> str:
    """The deduplication window's key: the id alone under queue scope, else the group, a NUL
    (never in a group id: printable ASCII only) and the id. O(length)."""
    return dedup_id if group is None else f"{group}\x00{dedup_id}"


def _window_value(message_id: str, sequence_number: str | None) -> str:
    """The original's MessageId and SequenceNumber as the window's one string (the sequence
    number, digits only, after the last space). O(length)."""
    return f"{message_id} {sequence_number or ''}"


def _window_original(value: str) -> tuple[str, str | None]:
    """The (MessageId, SequenceNumber) a :func:`_window_value` string holds. O(length)."""
    message_id, _, sequence_number = value.rpartition(" ")
    return message_id, sequence_number or None


def _sequence_number(n: int) -> str:
    """The ``n``-th SequenceNumber of a queue (20 digits, increasing, with gaps)."""
    if n < 10**13:  # the digits of SEQUENCE_BASE + n * SEQUENCE_STEP, without big-int math
        return f"{_SEQUENCE_HEAD + n}00000"
    return str(SEQUENCE_BASE + n * SEQUENCE_STEP)


def _parse_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _fifo_attributes(
    content_based_deduplication: Any,
    deduplication_scope: Any,
    fifo_throughput_limit: Any,
    attributes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The FIFO keyword arguments as AWS attributes, overridden by ``attributes``."""
    merged: dict[str, Any] = {
        "FifoQueue": "true",
        "ContentBasedDeduplication": content_based_deduplication,
        "DeduplicationScope": deduplication_scope,
        "FifoThroughputLimit": fifo_throughput_limit,
    }
    if attributes is not None:
        if not isinstance(attributes, Mapping):
            raise InvalidAttributeValue("attributes must be a mapping of AWS names to values.")
        merged.update(attributes)
    for key in ("FifoQueue", "ContentBasedDeduplication"):
        flag = _parse_bool(merged[key])
        if flag is not None:
            merged[key] = "true" if flag else "false"
    return merged


def _expired_in_batch(result: BatchResult) -> BatchResult:
    for failure in result.failed:
        if failure["Code"] == "InvalidParameterValue" and failure["Message"].endswith(_EXPIRED):
            failure["Code"] = "ReceiptHandleIsInvalid"
            failure["Message"] = _EXPIRED.rstrip(".")
    return result
