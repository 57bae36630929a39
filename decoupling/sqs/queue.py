"""``Queue``: a standard SQS queue, in process.

At-least-once delivery, best-effort order, visibility timeouts, delays, retention, long polling,
dead-letter queues, fair queues and message move tasks, as the SQS Developer Guide describes
them. Time comes from the loop's clock; nothing runs on a timer per message: the ledger settles
lazily on every call (see :mod:`decoupling._core.ledger`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from math import floor as _floor
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from .._core.ledger import _CHUNK, _FLIGHT, INFLIGHT, Entry, Ledger
from ..clock import ManualClock, MonotonicClock
from ..errors import (
    InvalidParameterValue,
    OverLimit,
    PurgeQueueInProgress,
    QueueAlreadyExists,
    QueueDeletedRecently,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
)
from ..loop import EventLoop
from ..message import (
    AttributeInput,
    Message,
    _PlainMessage,
    message_size,
    normalize_attributes,
    validate_body,
)
from . import large_payloads as _large
from ._attributes import _QueueAttributes
from ._batches import _HEX3 as _HEX3  # re-exported: FIFO's plain send uses it too
from ._batches import _QueueBatches
from ._state import QueueObserver, _plain_records
from ._state import _Record as _Record  # re-exported: FIFO, SNS and the store build records
from .config import INTEGER_ATTRIBUTES, RedriveAllowPolicy, RedrivePolicy
from .results import BatchResult, SendResult, _PlainSendResult

if TYPE_CHECKING:
    from .large_payloads import PayloadOffload
    from .move_tasks import MessageMoveTask

__all__ = ["Queue", "SendResult", "BatchResult"]

#: ``MessageGroupId``: 1-128 characters of alphanumerics and punctuation (printable ASCII).
GROUP_ID = re.compile(r"[\x21-\x7e]{1,128}")
#: Messages a standard queue may have in flight before receive fails ``OverLimit``.
IN_FLIGHT_LIMIT = 120_000
MAX_VISIBILITY = 43_200
_new = object.__new__


def _fill_from_record(m: Message, r: Any) -> None:
    """Set the fields of a ``Message`` made without ``__init__`` that its stored record
    (``_Record``) gives; the receive-specific ones (handle, counts, sender) are the caller's."""
    m.message_id = r.message_id
    m.body = r.body
    attributes = r.attributes
    m.message_attributes = attributes if attributes else {}
    m.sent_timestamp = r.sent_ms
    m.message_group_id = r.group_id
    m.message_deduplication_id = r.dedup_id
    m.sequence_number = r.sequence_number
    m.dead_letter_queue_source_arn = r.dlq_source_arn
    m.aws_trace_header = r.trace_header
    m._md5 = None
def _block_ids(loop: EventLoop) -> Iterator[str]:
    """The 4,096 message ids of a fresh block of ``loop`` (EventLoop._id_block), in turn."""
    return map(loop._id_block().__add__, _HEX3)


def _message_ids(loop: EventLoop) -> Iterator[str]:
    """Message ids for a queue's plain sends: ``next()`` gives the next (a block of 4,096
    from the loop at a time, in turn; computed in C but for the block's first)."""
    return chain.from_iterable(map(_block_ids, repeat(loop)))


#: Consumes an iterator in C (a deque that keeps nothing).
_exhaust: Callable[[Iterable[object]], None] = deque[object](maxlen=0).extend
PURGE_COOLDOWN = 60.0
DELETED_NAME_COOLDOWN = 60.0


class Queue(_QueueAttributes, _QueueBatches):
    """A standard SQS queue.

    Args:
        loop: the :class:`~decoupling.EventLoop` (account) the queue belongs to, or an AWS
            account from ``decoupling.aws.connect()`` (then the queue is a real SQS queue).
        name: 1-80 characters of ``A-Za-z0-9-_``.
        visibility_timeout: seconds a received message stays invisible (0-43,200; default 30).
        message_retention_period: seconds a message is kept (60-1,209,600; default 345,600 =
            4 days).
        delay_seconds: seconds every new message waits before it is visible (0-900; default 0).
        maximum_message_size: bytes of body plus attributes accepted (1,024-1,048,576; default
            1,048,576).
        receive_message_wait_time_seconds: default long-poll wait of :meth:`receive` (0-20;
            default 0).
        redrive_policy: a :class:`RedrivePolicy` (or its AWS JSON) naming the dead-letter queue.
        redrive_allow_policy: a :class:`RedriveAllowPolicy` (or JSON): who may use this queue as
            a dead-letter queue.
        tags: initial tags.
        attributes: further attributes by their AWS names (``{"VisibilityTimeout": "60"}``),
            as CreateQueue takes them; they override the keyword arguments.
        large_payloads: a :class:`~decoupling.PayloadOffload`: bodies over its threshold go to
            its bucket and the message carries a pointer, as AWS's extended clients do
            (default ``None``). Not an SQS attribute: given to an existing queue, it is set on
            it. Also settable later as :attr:`large_payloads`.

    Creating a queue whose name exists with the same attributes returns the existing queue
    object; with different attributes it raises ``QueueAlreadyExists`` (as CreateQueue does).

    Raises:
        InvalidParameterValue: ``loop`` is not an :class:`~decoupling.EventLoop`, a bad name.
        InvalidAttributeName / InvalidAttributeValue: a bad attribute. QueueDeletedRecently:
        the name was deleted less than 60 s ago.
    """

    is_fifo: ClassVar[bool] = False
    _initialized = False
    #: The claim-check (``large_payloads``); ``None``: bodies travel in the message.
    _offload: PayloadOffload | None = None
    #: The observability tap's ``_Slot`` for this queue (``Tap._observe`` sets it).
    _tap_slot: Any

    def __new__(cls, loop: EventLoop, name: str, *args: Any, **kwargs: Any) -> Queue:
        if type(loop) is not EventLoop and hasattr(loop, "_implementation"):
            # Another backend (an AWS account, decoupling.aws) builds its own queue class, a
            # subclass of cls whose __init__ Python calls next.
            made: Queue = object.__new__(loop._implementation(cls))
            return made
        if not isinstance(loop, EventLoop):
            raise InvalidParameterValue(
                f"{cls.__name__} needs an EventLoop as its first argument (the account it "
                f"belongs to), got {type(loop).__name__}."
            )
        with loop._lock:
            existing = loop._lookup("sqs", name) if isinstance(name, str) else None
            if existing is None:
                # Created whole under the one hold of the lock that found the name free, so a
                # concurrent CreateQueue of the same name — another thread, or another process
                # of a shared store, whose calls take this lock in turn — either finds this
                # queue or made its own first. Python calls __init__ again after __new__
                # returns; it sees ``_initialized`` and returns at once.
                created = super().__new__(cls)
                cls.__init__(created, loop, name, *args, **kwargs)
                return created
            wanted = cls._requested(loop, name, *args, **kwargs)
            differing = (
                "FifoQueue" if type(existing) is not cls else existing._differing_attribute(wanted)
            )
            if differing is not None:
                # Text as SQS answers (CreateQueue, checked against AWS in LocalStack's
                # AWS-validated snapshot test_create_queue_with_different_attributes_raises_exception).
                raise QueueAlreadyExists(
                    "A queue already exists with the same name and a different value for "
                    f"attribute {differing}"
                )
            same: Queue = existing
            return same

    def __init__(
        self,
        loop: EventLoop,
        name: str,
        *,
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
        requested = self._requested(
            loop,
            name,
            visibility_timeout=visibility_timeout,
            message_retention_period=message_retention_period,
            delay_seconds=delay_seconds,
            maximum_message_size=maximum_message_size,
            receive_message_wait_time_seconds=receive_message_wait_time_seconds,
            redrive_policy=redrive_policy,
            redrive_allow_policy=redrive_allow_policy,
            attributes=attributes,
        )
        self._check_name(name)
        self.loop = loop
        self.name = name
        self.arn = loop.arn("sqs", name)
        self.url = loop.queue_url(name)
        self._lock = loop._lock
        with self._lock:
            deleted = loop._deleted_at.get(("sqs", name))
            if deleted is not None and loop.clock.now() - deleted < DELETED_NAME_COOLDOWN:
                raise QueueDeletedRecently(
                    f"You must wait 60 seconds after deleting a queue before you can create "
                    f"another with the same name ({name})."
                )
            self._values: dict[str, Any] = {
                k: default for k, (_, _, default) in INTEGER_ATTRIBUTES.items()
            }
            self._redrive: RedrivePolicy | None = None
            self._redrive_allow: RedriveAllowPolicy | None = None
            # New queues have SSE-SQS on (GetQueueAttributes returns SqsManagedSseEnabled "true";
            # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html).
            self._opaque: dict[str, str] = {"SqsManagedSseEnabled": "true"}
            self._deleted = False
            self._init_extra()
            self._apply(self._validate(requested, creating=True))
            if tags:
                self._tags: dict[str, str] = {}
                self.tag(tags)
            else:
                self._tags = {}
            self._created_ms = self._modified_ms = loop.clock.wall_ms()
            self._created_with = requested
            self._ledger = Ledger(
                float(self._values["MessageRetentionPeriod"]),
                f"{loop.new_id().replace('-', '')}/",  # the whole id: unique per queue
                lock_groups=self.is_fifo,
                make_record=_plain_records(loop.clock),
            )
            self._cond = loop._new_condition()
            # Message ids of the plain send: a block of 4,096 from the loop, handed out in turn.
            self._id_block = ""  # (FIFO's plain send: the block and the next of its 4,096)
            self._id_low = 4096
            # A standard queue's plain sends draw their message ids from this (in C).
            self._ids: Iterator[str] = _message_ids(loop)
            # Receipt handles of _receive_backlog: (block number, its text), ticks >> 12.
            self._tick_block: tuple[int, str, str] = (-1, "", "")
            self._waiting = 0
            self._last_purge = -PURGE_COOLDOWN - 1.0
            self.max_in_flight = IN_FLIGHT_LIMIT
            self._move_history: list[MessageMoveTask] = []
            # A tuple, replaced on add and remove: an event iterates it without a copy, and an
            # observer that removes itself mid-event changes only later events.
            self._observers: tuple[QueueObserver, ...] = ()
            # (Set here, before _register lets a tap observe the queue, so every queue's
            # attributes come in one order: CPython's shared-key instance dicts stay fast.)
            self._tap_slot = None
            if large_payloads is not None:
                self.large_payloads = large_payloads
            loop._register("sqs", name, self)
            self._initialized = True
            self._monotonic = type(loop.clock) is MonotonicClock
            #: The loop's clock if it is a ManualClock (its ``now()`` is ``_now``), else None.
            self._manual: ManualClock | None = (
                loop.clock if type(loop.clock) is ManualClock else None
            )
            self._replan()

    def _replan(self) -> None:
        """Recompute what the plain send checks in one comparison (lock held; after any change
        of the delay, the size limit, the observers or deletion): ``_plain_max`` is the
        size limit of a body it may take, 0 when it may take none."""
        values = self._values
        observers = self._observers
        tap = self.loop._tap
        # Quiet: nobody watches but the loop's observability tap (without chaos), which the
        # plain send and delete tell directly (Tap.plain_sent, Tap.plain_deleted).
        self._quiet: bool = not observers or (tap is not None and observers == (tap.quiet,))
        plain = (
            not self.is_fifo
            and not self._deleted
            and self._quiet
            and not values["DelaySeconds"]
        )
        self._plain_max: int = values["MaximumMessageSize"] if plain else 0
        # The plain receive and delete may run: quiet, no claim-check, not deleted (a standard
        # queue; FIFO's backlog is always empty).
        self._plain_out: bool = (
            not self.is_fifo and self._quiet and self._offload is None and not self._deleted
        )

    def _apply(self, parsed: Mapping[str, Any]) -> None:
        super()._apply(parsed)
        if self._initialized:
            self._replan()

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
        """Send one message (SendMessage). O(log n).

        Args:
            body: the message text (1 character or more, XML-safe characters only).
            message_attributes: up to 10 attributes, name to value (``str``, number, ``bytes``
                or :class:`~decoupling.MessageAttributeValue`).
            delay_seconds: seconds before the message is visible (0-900; default: the queue's
                ``DelaySeconds``).
            message_group_id: on a standard queue, the tenant key of a fair queue.
            message_deduplication_id: FIFO queues only.
            aws_trace_header: the ``AWSTraceHeader`` system attribute.

        With :attr:`large_payloads`, a body over its threshold is stored in its bucket first
        and the message carries the pointer (see :class:`~decoupling.PayloadOffload`).

        Raises:
            InvalidMessageContents, InvalidParameterValue, QueueDoesNotExist.
        """
        if (
            message_attributes is None
            and delay_seconds is None
            and message_group_id is None
            and message_deduplication_id is None
            and aws_trace_header is None
            and type(body) is str
            and body.isascii()
            and body.isprintable()
            and self._offload is None
            and self._plain_max  # (0 unless plain; read unlocked, checked again under the lock)
        ):
            # The common message (a printable ASCII body, nothing else), if the queue takes it
            # the plain way (no delay, observer, tap or lanes: see _replan). Every check of the
            # general path holds for it by construction, and it goes straight to the ledger's
            # backlog (Ledger.push_visible, inlined). O(1). (The lock is taken and let go
            # by hand: a ``with`` statement costs twice as much here, ~0.13 us a send.)
            lock = self._lock
            lock.acquire()
            try:
                ledger = self._ledger
                if (
                    0 < len(body) <= self._plain_max  # (0 unless plain: see _replan)
                    and ledger.accepts_plain
                ):
                    # (SentTimestamp follows from the send time: the ledger's make_record.)
                    manual = self._manual
                    now = (
                        manual._now if manual is not None  # (ManualClock.now())
                        else _monotonic() if self._monotonic else self.loop.clock.now()
                    )
                    message_id = next(self._ids)
                    tail = ledger._tail
                    tail.append((now, message_id, body))
                    ledger.n_visible += 1
                    if not ledger.n_backlog:
                        due = now + ledger._retention
                        if due < ledger._due:
                            ledger._due = due
                    ledger.n_backlog += 1
                    if len(tail) >= _CHUNK:
                        ledger._seal_tail()
                    tap = self.loop._tap
                    if tap is not None:
                        tap.plain_sent(self, message_id, body, now)
                    if self._waiting:
                        cond = self._cond
                        # Only a waiter not woken yet needs waking (a woken one takes a
                        # message when it runs): a burst of sends calls notify once per waiter.
                        if cond._tasks or cond._waiters:  # type: ignore[attr-defined]
                            cond.notify(1)
                    # SendResult._lazy's answer; the fields a plain message leaves None are
                    # _PlainSendResult's defaults.
                    result: SendResult = _PlainSendResult()
                    result.message_id = message_id
                    result._body = body
                    return result
            finally:
                lock.release()
        if self._offload is not None:
            return self._offload._send(
                self, body, message_attributes, delay_seconds, message_group_id,
                message_deduplication_id, aws_trace_header,
            )
        with self._lock:
            self._check_alive()
            now = self.loop.clock.now()
            record, delay, result = self._prepare(
                body, message_attributes, delay_seconds, message_group_id,
                message_deduplication_id, aws_trace_header, now,
            )
            if record is not None:
                self._commit(record, delay, now)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_send(self, body, message_attributes)
            return result

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
        """Validate one message; return its record (``None`` for a FIFO duplicate), delay and
        the send result. Changes nothing."""
        if (
            type(body) is str
            and message_attributes is None
            and delay_seconds is None
            and group_id is None
            and dedup_id is None
            and trace_header is None
            and body.isascii()
            and body.isprintable()
            and 0 < len(body) <= self._values["MaximumMessageSize"]
        ):
            # The common message (a printable ASCII body, nothing else): every check below
            # holds for it by construction.
            record = _Record(self.loop.new_id(), body, None, self.loop.clock.wall_ms())
            return (record, float(self._values["DelaySeconds"]),
                    SendResult._lazy(record.message_id, body, None))
        body = validate_body(body)
        attributes = normalize_attributes(message_attributes)
        size = message_size(body, attributes)
        limit = self._values["MaximumMessageSize"]
        if size > limit:
            raise InvalidParameterValue(
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{limit} bytes."
            )
        if delay_seconds is None:
            delay = self._values["DelaySeconds"]
        else:
            delay = self._check_delay(delay_seconds)
        if dedup_id is not None:
            raise InvalidParameterValue(
                "The request includes a parameter that is not valid for this queue type: "
                "MessageDeduplicationId is for FIFO queues only."
            )
        if group_id is not None and (not isinstance(group_id, str) or not GROUP_ID.fullmatch(group_id)):
            raise InvalidParameterValue(
                f"Value {group_id} for parameter MessageGroupId is invalid. Reason: MessageGroupId "
                "can only include alphanumeric and punctuation characters. 1 to 128 in length."
            )
        trace = self._check_trace_header(trace_header)
        record = _Record(
            self.loop.new_id(), body, attributes, self.loop.clock.wall_ms(),
            group_id, None, None, None, trace,
        )
        return record, float(delay), SendResult._lazy(record.message_id, body, attributes)

    @staticmethod
    def _check_delay(delay_seconds: object) -> int:
        if (
            isinstance(delay_seconds, bool)
            or not isinstance(delay_seconds, int)
            or not 0 <= delay_seconds <= 900
        ):
            raise InvalidParameterValue(
                f"Value {delay_seconds!r} for parameter DelaySeconds is invalid. Reason: must be "
                "an integer from 0 to 900."
            )
        return delay_seconds

    @staticmethod
    def _check_trace_header(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value or len(value) > 16_384:
            raise InvalidParameterValue("AWSTraceHeader must be a non-empty string.")
        return value

    def _commit(self, record: _Record, delay: float, now: float) -> None:
        entry = self._ledger.enqueue(record, now, delay=delay, lane=record.group_id)
        if self._observers:
            self._emit("sent", entry)
        if self._waiting:
            if delay <= 0:
                # One message needs one waiter: waking them all would stampede for the lock.
                # Only a waiter not woken yet needs it: a burst of sends notifies once each.
                cond = self._cond
                if cond._tasks or cond._waiters:  # type: ignore[attr-defined]
                    cond.notify(1)
            else:
                # Every waiter re-plans its wake-up to the delay's end: waking one only would
                # leave the others asleep until their own deadlines on a real clock, past the
                # moment the message becomes visible.
                self._cond.notify_all()

    # -- receiving ------------------------------------------------------------------------------

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """Receive up to ``max_messages`` messages (ReceiveMessage).

        Args:
            max_messages: 1-10 (default 1).
            wait_seconds: long-poll wait, 0-20 s (default: the queue's
                ``ReceiveMessageWaitTimeSeconds``). Returns as soon as one message is available,
                or an empty list at the deadline.
            visibility_timeout: seconds the messages stay invisible (0-43,200; default: the
                queue's ``VisibilityTimeout``).
            receive_request_attempt_id: FIFO queues only (ignored on standard queues, as SQS
                does).

        :meth:`EventLoop.stop` ends a waiting poll at once with ``[]``; after it (until
        :meth:`EventLoop.start`) a receive answers as a short poll.

        With :attr:`large_payloads`, a pointer message comes back with its payload as the body
        (see :class:`~decoupling.PayloadOffload`); a pointer to a missing object raises
        ``NoSuchKey`` and the message stays in the queue.

        Every receive increments each message's receive count and issues a new receipt handle.
        A message whose receive count has reached the redrive policy's ``maxReceiveCount``
        moves to the dead-letter queue instead of being returned. O(m log n) for m messages.

        Raises:
            InvalidParameterValue, OverLimit (120,000 in flight), QueueDoesNotExist.
        """
        with self._lock:
            # The common call: valid, queue defaults; _check_receive_args's answer without it.
            common = (
                type(max_messages) is int
                and 1 <= max_messages <= 10
                and wait_seconds is None
                and visibility_timeout is None
            )
            if common:
                # (_receive_plain, inline: one call less on the commonest receive)
                ledger = self._ledger
                if (
                    ledger.n_backlog
                    and self._plain_out
                    and not ledger._visible
                    and ledger.n_inflight + max_messages <= self.max_in_flight
                ):
                    manual = self._manual
                    now = (
                        manual._now if manual is not None  # (ManualClock.now())
                        else _monotonic() if self._monotonic else self.loop.clock.now()
                    )
                    if now < ledger._due:
                        timeout = self._values["VisibilityTimeout"]
                        out = self._receive_backlog(now, max_messages, timeout)
                        tap = self.loop._tap
                        if tap is not None:
                            tap.plain_received(self, out, now, now + timeout)
                        return out
            self._check_alive()
            if common:
                wait = self._values["ReceiveMessageWaitTimeSeconds"]
                timeout = self._values["VisibilityTimeout"]
            else:
                max_messages, wait, timeout = self._check_receive_args(
                    max_messages, wait_seconds, visibility_timeout
                )
            tap = self.loop._tap
            if tap is not None and not self._quiet:  # chaos: a short poll may see only some
                max_messages = tap.sqs_receive_limit(self, max_messages, wait)
            loop = self.loop
            clock = loop.clock
            now = clock.now()
            deadline = now + wait
            while True:
                messages = self._receive_now(
                    now, max_messages, timeout, receive_request_attempt_id
                )
                if messages or now >= deadline or loop._stopped:
                    break
                self._waiting += 1
                try:
                    loop._wait(self._cond, self._wake_time(deadline))
                finally:
                    self._waiting -= 1
                self._check_alive()
                if loop._stopped:  # loop.stop() ends the poll at once, taking nothing
                    messages = []
                    break
                now = clock.now()
            if tap is not None:
                tap.sqs_received(self, messages)
        if self._offload is not None and messages:
            return self._offload._resolve(self, messages)
        return messages

    def _receive_plain(self, max_messages: int) -> list[Message] | None:
        """The common receive of a plain queue (lock held, ``max_messages`` valid, the queue's
        own visibility timeout): first receives from the backlog with nothing due, what
        :meth:`_receive_now` does then, without its steps, and the observability tap told
        (:meth:`Tap.plain_received`: the queue is quiet, so the tap is all that watches).
        ``None`` (nothing done) in any other case."""
        ledger = self._ledger
        if (
            ledger.n_backlog
            and self._plain_out  # (quiet, no claim-check, not deleted: see _replan)
            and not ledger._visible
            and ledger.n_inflight + max_messages <= self.max_in_flight
        ):
            manual = self._manual
            now = (
                manual._now if manual is not None  # (ManualClock.now())
                else _monotonic() if self._monotonic else self.loop.clock.now()
            )
            if now < ledger._due:
                timeout = self._values["VisibilityTimeout"]
                out = self._receive_backlog(now, max_messages, timeout)
                tap = self.loop._tap
                if tap is not None:
                    tap.plain_received(self, out, now, now + timeout)
                return out
        return None

    def _wake_time(self, deadline: float) -> float:
        """When a poll with ``deadline`` must look again: then, or when a delayed or
        in-flight message becomes visible, if earlier (lock held)."""
        nxt = self._ledger.next_change()
        return deadline if nxt is None or nxt > deadline else nxt

    def _check_receive_args(
        self, max_messages: object, wait_seconds: object, visibility_timeout: object
    ) -> tuple[int, int, int]:
        if (
            type(max_messages) is int
            and 1 <= max_messages <= 10
            and visibility_timeout is None
            and (wait_seconds is None or type(wait_seconds) is int and 0 <= wait_seconds <= 20)
        ):
            values = self._values
            return (
                max_messages,
                values["ReceiveMessageWaitTimeSeconds"] if wait_seconds is None else wait_seconds,
                values["VisibilityTimeout"],
            )
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) or not (
            1 <= max_messages <= 10
        ):
            raise InvalidParameterValue(
                f"Value {max_messages!r} for parameter MaxNumberOfMessages is invalid. Reason: "
                "Must be between 1 and 10, if provided."
            )
        if wait_seconds is None:
            wait = self._values["ReceiveMessageWaitTimeSeconds"]
        elif isinstance(wait_seconds, bool) or not isinstance(wait_seconds, int) or not (
            0 <= wait_seconds <= 20
        ):
            raise InvalidParameterValue(
                f"Value {wait_seconds!r} for parameter WaitTimeSeconds is invalid. Reason: Must "
                ">= 0 and <= 20, if provided."
            )
        else:
            wait = wait_seconds
        if visibility_timeout is None:
            timeout = self._values["VisibilityTimeout"]
        else:
            timeout = self._check_visibility(visibility_timeout)
        return max_messages, wait, timeout

    @staticmethod
    def _check_visibility(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not (
            0 <= value <= MAX_VISIBILITY
        ):
            raise InvalidParameterValue(
                f"Value {value!r} for parameter VisibilityTimeout is invalid. Reason: Must be "
                f"between 0 and {MAX_VISIBILITY}, if provided."
            )
        return value

    def _receive_now(
        self, now: float, max_messages: int, timeout: int, attempt_id: str | None
    ) -> list[Message]:
        ledger = self._ledger
        if now >= ledger._due:  # (settle's own first test, without the call)
            ledger.settle(now)
        if (
            ledger.n_backlog
            and not ledger._visible
            and self._quiet
            and ledger.n_inflight + max_messages <= self.max_in_flight
        ):
            # Only never-received messages of a plain queue are visible: first receives, none
            # due for a dead-letter queue. (Quiet: no observer but the tap, which hears of the
            # whole receive from sqs_received: the flight's handles give it the deadline.)
            return self._receive_backlog(now, max_messages, timeout)
        room = self.max_in_flight - ledger.n_inflight
        if room <= 0 and ledger.n_visible:
            raise OverLimit(
                f"Too many messages in flight: the queue has {ledger.n_inflight} and the limit "
                f"is {self.max_in_flight}."
            )
        redrive = self._redrive
        limit = 0
        if redrive is not None and self._dead_letter_queue() is not None:
            limit = redrive.max_receive_count
        received, dead = ledger.receive(now, min(max_messages, room), timeout, limit)
        if dead:
            self._move_dead(dead, now)
        if not self._quiet:  # (the tap alone hears of a receive from sqs_received)
            for entry in received:
                self._emit("received", entry)
        return self._messages(received, now)

    def _receive_backlog(self, now: float, max_messages: int, timeout: int) -> list[Message]:
        """Hand out up to ``max_messages`` of the ledger's backlog (Ledger.take_backlog): their
        handles and ``Message`` objects in one pass, counted in flight together as one flight
        (Ledger.admit_flight: no entry per message until something other than a delete needs
        one). What Ledger.receive and :meth:`_messages` do for them. O(k)."""
        ledger = self._ledger
        head, pos = ledger._head, ledger._pos
        end = pos + max_messages
        items: Any
        if end < len(head):  # (Ledger.take_backlog's common cases, inline)
            items = head[pos:end]
            ledger._pos = end
        elif pos >= len(head) and not ledger._chunks and len(ledger._tail) <= max_messages:
            # The whole backlog is the unsealed tail (a queue kept near empty): take it all.
            tail = ledger._tail
            items = tuple(tail)
            tail.clear()  # (_seal_tail and push_visible keep this list: emptied in place)
            if head:
                ledger._head = ()
                ledger._pos = 0
        else:
            items = ledger.take_backlog(max_messages)
        loop = self.loop
        clock = loop.clock
        if self._monotonic:  # MonotonicClock.wall_ms() at ``now``, without two calls
            offset = clock._offset  # type: ignore[attr-defined]
            wall_ms = _floor((now + offset) * 1000)
            to_ms: Any = _floor
        else:  # a ManualClock (_state._plain_records): its wall_ms() at ``now``
            offset = clock._epoch_offset  # type: ignore[attr-defined]
            wall_ms = round((now + offset) * 1000)
            to_ms = round
        prefix = ledger.receipt_prefix
        sender = loop.account_id
        handles = ledger.handles
        out: list[Message] = []
        append = out.append
        seqs, ticks = ledger._seq, ledger._tick  # (Ledger.seqs and .ticks)
        tick = next(ticks)
        # (Ledger.new_flight, inline)
        flight: Any = _FLIGHT()  # (bare: its __init__ is object's)
        flight.items = items
        flight.seq = next(seqs)
        flight.tick = tick
        flight.sent_at = items[0][0]
        # A handle is the prefix and the tick in hex: ticks of one block of 4,096 share all
        # but their last three digits, formatted once (``_tick_block``: the block's number
        # and that text, for the prefix it was made with: a store may replace it).
        base, base_text, made_with = self._tick_block
        if made_with is not prefix:
            base = -1
        # (The first seq and tick are drawn above, the others after the loop: message i has
        # tick + i and seq + i.)
        for item in items:
            if tick >> 12 == base:
                receipt = base_text + _HEX3[tick & 4095]
            else:
                receipt = f"{prefix}{tick:x}"
                if tick > 4095:
                    base = tick >> 12
                    base_text = f"{prefix}{base:x}"
                    self._tick_block = (base, base_text, prefix)
            handles[receipt] = flight
            # The Message; the fields a plain message leaves empty are _PlainMessage's defaults.
            m = _PlainMessage()  # (bare: its __init__ is object's)
            sent_at, m.message_id, m.body = item
            m.receipt_handle = receipt
            m.receive_count = 1
            m.sent_timestamp = to_ms((sent_at + offset) * 1000)
            m.first_receive_timestamp = wall_ms
            m.sender_id = sender
            append(m)
            tick += 1
        if len(out) > 1:  # draw the other seqs and ticks (in C)
            _exhaust(zip(range(len(out) - 1), seqs, ticks))  # noqa: B905 (endless counters)
        ledger.admit_flight(flight, now, timeout)
        return out

    def _messages(self, received: list[Entry], now: float) -> list[Message]:
        if not received:
            return []
        clock = self.loop.clock
        if self._monotonic:  # MonotonicClock.wall_ms() at ``now``, without two calls
            offset = clock._offset  # type: ignore[attr-defined]
            wall_ms = _floor((now + offset) * 1000)
            to_ms: Any = _floor
        else:
            wall_ms = clock.wall_ms()
            # (A ManualClock's: only a MonotonicClock or a ManualClock has plain entries.)
            offset = getattr(clock, "_epoch_offset", 0.0)
            to_ms = round
        plain = self._ledger.plain_entry
        sender = self.loop.account_id
        out: list[Message] = []
        append = out.append
        m: Message
        for entry in received:
            first = entry.first_received_at
            # Message(...)'s fields set here, as its __init__ sets them (one call less).
            if type(entry) is plain:
                # A backlog message's entry: the record it would make (_state._plain_records),
                # read from the backlog item without making it; the fields such a message
                # leaves empty are _PlainMessage's defaults.
                m = _PlainMessage()
                sent_at, m.message_id, m.body = entry._item
                m.sent_timestamp = to_ms((sent_at + offset) * 1000)
            else:
                m = _new(Message)
                _fill_from_record(m, entry.record)
            m.receipt_handle = entry.receipt or ""
            m.receive_count = entry.receive_count
            m.first_receive_timestamp = (
                wall_ms if first == now else wall_ms - int(round((now - first) * 1000))
            )
            m.sender_id = sender
            append(m)
        return out

    # -- dead letters ---------------------------------------------------------------------------

    def _dead_letter_queue(self) -> Queue | None:
        redrive = self._redrive
        if redrive is None:
            return None
        target = self.loop._lookup("sqs", redrive.dead_letter_target_arn.rsplit(":", 1)[-1])
        return target if isinstance(target, Queue) and not target._deleted else None

    def _move_dead(self, dead: list[Entry], now: float) -> None:
        dlq = self._dead_letter_queue()
        assert dlq is not None
        for entry in dead:
            if self._observers:
                self._emit("dead_lettered", entry)
            record = entry.record
            record.dlq_source_arn = self.arn
            dlq._accept_dead_letter(
                record, entry.sent_at, now,
                receive_count=entry.receive_count, first_received_at=entry.first_received_at,
            )

    def _accept_dead_letter(
        self,
        record: _Record,
        sent_at: float,
        now: float,
        *,
        receive_count: int = 0,
        first_received_at: float = -1.0,
    ) -> None:
        """Take a message moved here as a dead letter.

        A standard DLQ keeps the original enqueue time for retention (SQS Developer Guide,
        "Setting-up dead-letter queue retention"). The message keeps its ``MessageId`` and its
        receive count: on SQS a message moved after one receive (``maxReceiveCount`` 1) shows
        ``ApproximateReceiveCount`` 2 on its first receive from the DLQ (AWS-validated snapshot
        of LocalStack's test_dead_letter_queue_message_attributes). Its first-receive time is
        kept with it.
        """
        entry = self._ledger.enqueue(
            record, now, sent_at=sent_at, lane=record.group_id, receive_count=receive_count
        )
        entry.first_received_at = first_received_at
        if self._observers:
            self._emit("dead_letter_arrived", entry)
        if self._waiting:
            self._cond.notify(self._waiting)

    def _accept_moved(self, record: _Record, now: float) -> None:
        """Take a message a move task brought back: a new message here (its ``MessageId`` was
        renewed by the task), visible at once."""
        entry = self._ledger.enqueue(record, now, lane=record.group_id)
        if self._observers:
            self._emit("moved_in", entry)
        if self._waiting:
            self._cond.notify(self._waiting)

    def list_dead_letter_source_queues(self) -> list[Queue]:
        """Queues whose redrive policy targets this queue (ListDeadLetterSourceQueues)."""
        with self._lock:
            self._check_alive()
            return [
                q for q in self.loop._resources_of("sqs")
                if q._redrive is not None and q._redrive.dead_letter_target_arn == self.arn
            ]

    # -- deleting and changing visibility -------------------------------------------------------

    def _entry_for(self, receipt_handle: object) -> Entry | None:
        """The message a handle names, ``None`` for a stale handle of this queue.

        Raises ``ReceiptHandleIsInvalid`` for a handle this queue never issued.
        """
        if not isinstance(receipt_handle, str):
            raise ReceiptHandleIsInvalid(
                f"The input receipt handle {receipt_handle!r} is not a valid receipt handle."
            )
        entry = self._ledger.entry_for(receipt_handle)
        if entry is not None:
            return entry
        if self._offload is not None:  # an extended client's handle: the queue's own inside
            plain = _large.plain_handle(receipt_handle)
            if plain is not receipt_handle:
                return self._entry_for(plain)
        prefix = self._ledger.receipt_prefix
        tail = receipt_handle[len(prefix):]
        if not receipt_handle.startswith(prefix) or not tail or not _is_hex(tail):
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{receipt_handle}" is not a valid receipt handle.'
            )
        return None

    def delete(self, receipt_handle: str) -> None:
        """Delete the message a receipt handle names (DeleteMessage). O(1) amortized.

        As on SQS: the most recent handle deletes the message even if its visibility timeout
        has ended; an older handle, or one of a message already deleted, succeeds and does
        nothing. A handle this queue did not issue raises ``ReceiptHandleIsInvalid``.
        """
        with self._lock:
            if self._deleted:
                self._check_alive()
            ledger = self._ledger
            manual = self._manual
            now = (
                manual._now if manual is not None  # (ManualClock.now())
                else _monotonic() if self._monotonic else self.loop.clock.now()
            )
            if now >= ledger._due:  # (settle's own first test, without the call)
                ledger.settle(now)
            # (Quiet, nobody watching but the tap; standard; no claim-check, whose delete
            # removes the payload: see _replan.)
            if self._plain_out:
                # The common delete: a current handle, nobody watching. Stale and invalid
                # handles take the general path below.
                handles = ledger.handles
                entry: Any = handles.get(receipt_handle) if type(receipt_handle) is str else None
                if entry is not None:
                    if type(entry) is _FLIGHT:  # a message of a receive's flight
                        # (Ledger.remove_handle, inline)
                        del handles[receipt_handle]
                        ledger.n_inflight -= 1
                        ledger._flight_msgs -= 1
                        left = entry.live = entry.live - 1
                        if not left:
                            ledger._flight_done(entry)
                        tap = self.loop._tap
                        if tap is not None:  # (the flight stays whole: no entry is made)
                            tap.flight_deleted(self, receipt_handle, entry, now)
                        return
                    ledger.remove_many([entry])
                    tap = self.loop._tap
                    if tap is not None:
                        tap.plain_deleted(self, entry, now)
                    return
            self._delete_settled(receipt_handle)

    def _delete_settled(self, receipt_handle: object) -> None:
        """Delete with the lock held and the ledger settled (shared by the batch call)."""
        entry = self._entry_for(receipt_handle)
        if entry is not None:
            self._check_deletable(entry)
            self._ledger.remove(entry)
            self._after_delete(entry)
            if self._observers:
                self._emit("deleted", entry)
        tap = self.loop._tap
        if tap is not None:  # a stale handle's delete succeeds and counts too
            tap.sqs_deleted(self)

    def _check_deletable(self, entry: Entry) -> None:
        """Hook: FIFO refuses handles whose visibility timeout has expired."""

    def _after_delete(self, entry: Entry) -> None:
        """Hook: FIFO may unblock a group; a claim-check deletes the payload."""
        if self._offload is not None:
            self._offload._deleted(entry.record)

    @property
    def large_payloads(self) -> PayloadOffload | None:
        """The :class:`~decoupling.PayloadOffload` this queue sends and receives large bodies
        through, or ``None`` (default). Settable; ``None`` turns it off (pointers then arrive
        as they are).

        Raises:
            InvalidParameterValue: not a ``PayloadOffload``, or its bucket is of another loop.
        """
        return self._offload

    @large_payloads.setter
    def large_payloads(self, offload: PayloadOffload | None) -> None:
        if offload is not None:
            if not isinstance(offload, _large.PayloadOffload):
                raise InvalidParameterValue(
                    f"large_payloads must be a PayloadOffload, got {type(offload).__name__}"
                )
            offload._check_loop(self)
        with self._lock:
            self._offload = offload
            if self._initialized:
                self._replan()

    def change_visibility(self, receipt_handle: str, visibility_timeout: int) -> None:
        """Set how long a received message stays invisible, counted from now
        (ChangeMessageVisibility). 0 makes it visible at once. O(log n).

        The total since the receive that issued the handle may not pass 12 hours.

        What a handle that is no longer current does (standard queues):

        * the latest handle of a message whose visibility timeout has already ended (and that
          nobody received since) still works: SQS answers 200 (AWS-validated in LocalStack's
          test_change_message_visibility_after_visibility_timeout_expiration), and here the
          message becomes invisible again for ``visibility_timeout`` seconds, as if it had
          not come back (0 leaves it visible);
        * the handle of a deleted message, or an older handle of a message received again
          since, fails ``InvalidParameterValue`` ("Message does not exist or is not available
          for visibility timeout change", AWS-validated in LocalStack's
          test_change_visibility_on_deleted_message_raises_invalid_parameter_value).

        Raises:
            ReceiptHandleIsInvalid: a handle this queue never issued.
            InvalidParameterValue: a timeout outside 0-43,200 s or past the 12-hour ceiling; a
                handle that no longer names a message (see above).
        """
        with self._lock:
            self._check_alive()
            timeout = self._check_visibility(visibility_timeout)
            now = self.loop.clock.now()
            self._ledger.settle(now)
            entry = self._entry_for(receipt_handle)
            if entry is None:
                raise InvalidParameterValue(
                    f"Value {receipt_handle} for parameter ReceiptHandle is invalid. Reason: "
                    "Message does not exist or is not available for visibility timeout change."
                )
            if entry.state != INFLIGHT:
                self._not_in_flight(entry)  # FIFO refuses; a standard queue re-hides below
            if now + timeout - entry.received_at > MAX_VISIBILITY:
                raise InvalidParameterValue(
                    f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                    f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY} "
                    "seconds]."
                )
            tap = self.loop._tap
            if tap is not None:  # nothing below can fail
                tap.sqs_request(self, "ChangeMessageVisibility")
            if entry.state != INFLIGHT:
                self._ledger.hide(entry, now, timeout)
                if self._observers:
                    self._emit("visibility_changed", entry)
                return
            earlier = now + timeout < entry.deadline
            self._ledger.change_visibility(entry, now, timeout)
            if self._observers:
                self._emit("visibility_changed", entry)
            if timeout == 0:
                self._after_return(entry)
                if self._waiting:
                    self._cond.notify(self._waiting)
            elif earlier and self._waiting:
                # A shorter timeout moves the message's return earlier than the wake-up time
                # the waiters planned: let them re-plan (on a real clock they would sleep on).
                self._cond.notify_all()

    def _not_in_flight(self, entry: Entry) -> None:
        """Hook: the latest handle of a message that is visible again. A standard queue lets
        the change go through (it hides the message again); FIFO refuses expired handles."""

    def _after_return(self, entry: Entry) -> None:
        """Hook: a message returned to visible early."""

    # -- whole queue ----------------------------------------------------------------------------

    def purge(self) -> None:
        """Delete every message, visible, in flight or delayed (PurgeQueue). O(n).

        Raises ``PurgeQueueInProgress`` within 60 seconds of the previous purge.
        """
        with self._lock:
            self._check_alive()
            now = self.loop.clock.now()
            if now - self._last_purge < PURGE_COOLDOWN:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {self.name} is allowed every 60 seconds."
                )
            self._last_purge = now
            self._ledger.purge()
            self._after_purge()
            if self._observers:
                self._emit("purged", None)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_request(self, "PurgeQueue")

    def _after_purge(self) -> None:
        """Hook: FIFO clears its deduplication window."""

    def delete_queue(self) -> None:
        """Delete the queue and its messages (DeleteQueue). The name can be reused after 60 s."""
        with self._lock:
            self._check_alive()
            self._deleted = True
            self._replan()
            self._ledger.purge()
            self.loop._unregister("sqs", self.name)
            self._cond.notify_all()  # its waiters wake and raise QueueDoesNotExist
            self.loop._drop_condition(self._cond)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_request(self, "DeleteQueue")

    # -- observers ------------------------------------------------------------------------------

    def add_observer(self, observer: QueueObserver) -> None:
        """Call ``observer(event, queue, entry)`` after each change of this queue.

        Events: ``"sent"``, ``"received"``, ``"deleted"``, ``"visibility_changed"``,
        ``"dead_lettered"`` (moved out to the DLQ), ``"dead_letter_arrived"`` (moved in),
        ``"moved_out"`` / ``"moved_in"`` (message move tasks), ``"purged"``,
        ``"attributes_changed"`` (SetQueueAttributes, tags) and ``"move_task"`` (a move task
        of this queue started, moved, ended or was cancelled) — the last three with entry
        ``None`` — and, on a FIFO queue, ``"delay_changed"`` (a ``DelaySeconds`` change
        re-timed a message still waiting for its delay; its entry's ``available_at`` is new).
        ``entry`` is the ledger's record of the message (``entry.record.message_id``, …);
        observers run with the loop's lock held and must not block. Time-driven changes
        (visibility timeouts ending, delays ending, retention) are not events: they follow
        from the times on the entry. With no observer the queue pays one ``if`` per call.
        """
        if not callable(observer):
            raise InvalidParameterValue(
                f"An observer must be callable(event, queue, entry), got {observer!r}."
            )
        with self._lock:
            if observer not in self._observers:
                self._observers = (*self._observers, observer)
                self._replan()

    def remove_observer(self, observer: QueueObserver) -> None:
        """Stop calling ``observer`` (no error if it was not added)."""
        with self._lock:
            if observer in self._observers:
                kept = list(self._observers)
                kept.remove(observer)
                self._observers = tuple(kept)
                self._replan()

    def _emit(self, event: str, entry: Entry | None) -> None:
        for observer in self._observers:
            observer(event, self, entry)

    def _check_alive(self) -> None:
        if self._deleted:
            raise QueueDoesNotExist(
                "The specified queue does not exist for this wsdl version."
                f" ({self.name})"
            )

    # -- counts ---------------------------------------------------------------------------------

    def _settled(self) -> Ledger:
        ledger = self._ledger
        ledger.settle(self.loop.clock.now())
        return ledger

    @property
    def approximate_number_of_messages(self) -> int:
        """Visible messages (``ApproximateNumberOfMessages``)."""
        with self._lock:
            return self._settled().n_visible

    @property
    def approximate_number_of_messages_not_visible(self) -> int:
        """Messages in flight (``ApproximateNumberOfMessagesNotVisible``)."""
        with self._lock:
            return self._settled().n_inflight

    @property
    def approximate_number_of_messages_delayed(self) -> int:
        """Delayed messages (``ApproximateNumberOfMessagesDelayed``)."""
        with self._lock:
            return self._settled().n_delayed

    def __len__(self) -> int:
        """All messages held: visible, in flight and delayed."""
        with self._lock:
            return len(self._settled())

    # -- message move tasks ---------------------------------------------------------------------

    def start_message_move_task(
        self,
        destination: Queue | str | None = None,
        *,
        max_messages_per_second: int | None = None,
    ) -> str:
        """Move this dead-letter queue's messages back (StartMessageMoveTask); return the task
        handle. See :mod:`decoupling.sqs.move_tasks`."""
        from .move_tasks import start_message_move_task

        return start_message_move_task(self, destination, max_messages_per_second)

    def list_message_move_tasks(self, max_results: int = 1) -> list[dict[str, Any]]:
        """The most recent move tasks of this queue, newest first (ListMessageMoveTasks)."""
        from .move_tasks import list_message_move_tasks

        return list_message_move_tasks(self, max_results)

    def cancel_message_move_task(self, task_handle: str) -> int:
        """Cancel a running move task (CancelMessageMoveTask); return messages moved so far."""
        from .move_tasks import cancel_message_move_task

        return cancel_message_move_task(self.loop, task_handle)

    # -- asyncio --------------------------------------------------------------------------------

    async def receive_async(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """:meth:`receive` for asyncio, on the running asyncio loop without a thread.

        Takes the same arguments, raises the same errors and returns the same messages. When
        nothing is visible the task waits on a future registered with the queue (the asyncio
        event loop keeps running); a send, a delay ending, a visibility timeout expiring, the
        poll's deadline or :meth:`EventLoop.stop` wakes it, and it takes its messages itself
        when it runs again. A cancelled receive (``asyncio.wait_for``, ``task.cancel()``)
        takes no message: what it would have got stays visible for the next receive, and a
        wake-up it had got passes on to another waiter.

        On a :class:`~decoupling.ManualClock` advancing the clock wakes waiting tasks. With
        auto-jump on (the default), a task that waits while its asyncio loop has nothing else
        ready to run moves virtual time itself, as a blocking :meth:`receive` does: to the
        earlier of its deadline and the next due timer (after ``autojump_threshold`` real
        seconds), so a single-threaded asyncio test never hangs. With auto-jump off it waits
        for a send or for another thread to advance the clock.
        O(m log n) for m messages, plus O(w) to leave w waiting tasks when cancelled.

        Raises:
            InvalidParameterValue, OverLimit (120,000 in flight), QueueDoesNotExist.
        """
        lock = self._lock
        with lock:
            if (
                type(max_messages) is int
                and 1 <= max_messages <= 10
                and visibility_timeout is None
                and (wait_seconds is None or type(wait_seconds) is int and 0 <= wait_seconds <= 20)
            ):  # valid arguments: messages at hand are the answer, whatever the wait
                ready = self._receive_plain(max_messages)
                if ready is not None:
                    return ready
            loop = self.loop
            clock = loop.clock
            self._check_alive()
            max_messages, wait, timeout = self._check_receive_args(
                max_messages, wait_seconds, visibility_timeout
            )
            tap = loop._tap
            if tap is not None:
                max_messages = tap.sqs_receive_limit(self, max_messages, wait)
            now = clock.now()
            deadline = now + wait
            messages = self._receive_now(now, max_messages, timeout, receive_request_attempt_id)
            if messages or now >= deadline or loop._stopped:
                if tap is not None:
                    tap.sqs_received(self, messages)
                if self._offload is not None and messages:
                    return self._offload._resolve(self, messages)
                return messages
            waiter = loop._async_waiter(self._cond, self._wake_time(deadline))
            self._waiting += 1
        while True:
            # The lock is never held across an await: tasks of one thread would share it.
            try:
                await waiter.future
            except BaseException:
                with lock:
                    self._waiting -= 1
                    waiter.abandon()
                raise
            with lock:
                self._waiting -= 1
                waiter.finish()
                self._check_alive()
                if loop._stopped:  # loop.stop() ends the poll at once, taking nothing
                    messages = []
                else:
                    now = clock.now()
                    messages = self._receive_now(
                        now, max_messages, timeout, receive_request_attempt_id
                    )
                if messages or now >= deadline or loop._stopped:
                    if tap is not None:
                        tap.sqs_received(self, messages)
                    if self._offload is not None and messages:
                        return self._offload._resolve(self, messages)
                    return messages
                waiter = loop._async_waiter(self._cond, self._wake_time(deadline))
                self._waiting += 1

    async def send_async(
        self,
        body: str,
        *,
        message_attributes: Mapping[str, AttributeInput] | None = None,
        delay_seconds: int | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        aws_trace_header: str | None = None,
    ) -> SendResult:
        """:meth:`send` for asyncio (a send never blocks; same arguments and errors). O(log n)."""
        if (
            message_attributes is None
            and delay_seconds is None
            and message_group_id is None
            and message_deduplication_id is None
            and aws_trace_header is None
        ):
            return self.send(body)
        return self.send(
            body, message_attributes=message_attributes, delay_seconds=delay_seconds,
            message_group_id=message_group_id, message_deduplication_id=message_deduplication_id,
            aws_trace_header=aws_trace_header,
        )

    async def send_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`send_batch` for asyncio (never blocks; same arguments and errors)."""
        return self.send_batch(entries)

    async def delete_async(self, receipt_handle: str) -> None:
        """:meth:`delete` for asyncio (a delete never blocks)."""
        self.delete(receipt_handle)

    async def delete_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`delete_batch` for asyncio (never blocks; same arguments and errors)."""
        return self.delete_batch(entries)

    async def change_visibility_async(self, receipt_handle: str, visibility_timeout: int) -> None:
        """:meth:`change_visibility` for asyncio (never blocks; same arguments and errors)."""
        self.change_visibility(receipt_handle, visibility_timeout)

    async def change_visibility_batch_async(
        self, entries: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        """:meth:`change_visibility_batch` for asyncio (never blocks; same arguments and
        errors)."""
        return self.change_visibility_batch(entries)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _is_hex(text: str) -> bool:
    # Only the lowercase hex digits the ledger writes: ``int(text, 16)`` would also take "-1",
    # " 1", "0x1" and "1_0", handles no queue issues, which must fail ReceiptHandleIsInvalid.
    return all(c in "0123456789abcdef" for c in text)

