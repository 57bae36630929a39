"""The state every part of ``Queue`` shares: the stored record, and the attributes and methods
the attribute and batch mixins rely on (declared here so each part type-checks alone)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from math import floor as _floor
from typing import TYPE_CHECKING, Any, ClassVar

from .._core.ledger import Entry, Ledger
from ..clock import ManualClock, MonotonicClock
from ..loop import EventLoop
from ..message import AttributeInput, MessageAttributeValue
from .config import RedriveAllowPolicy, RedrivePolicy

if TYPE_CHECKING:
    from .._waiters import Waiters
    from .large_payloads import PayloadOffload
    from .queue import Queue
    from .results import SendResult

__all__ = ["QueueObserver"]


#: An observer of a queue: ``observer(event, queue, entry)``; see :meth:`Queue.add_observer`.
QueueObserver = Callable[[str, "Queue", "Entry | None"], None]


class _Record:
    """What a queue stores per message (the ledger's opaque record)."""

    __slots__ = (
        "message_id",
        "body",
        "attributes",
        "sent_ms",
        "group_id",
        "dedup_id",
        "sequence_number",
        "dlq_source_arn",
        "trace_header",
    )

    def __init__(
        self,
        message_id: str,
        body: str,
        attributes: dict[str, MessageAttributeValue] | None,
        sent_ms: int,
        group_id: str | None = None,
        dedup_id: str | None = None,
        sequence_number: str | None = None,
        dlq_source_arn: str | None = None,
        trace_header: str | None = None,
    ) -> None:
        self.message_id = message_id
        self.body = body
        self.attributes = attributes
        self.sent_ms = sent_ms
        self.group_id = group_id
        self.dedup_id = dedup_id
        self.sequence_number = sequence_number
        self.dlq_source_arn = dlq_source_arn
        self.trace_header = trace_header


def _plain_records(clock: object) -> Callable[[str, str, float], _Record] | None:
    """The ledger's ``make_record`` for a loop on ``clock``: the record of a message with only
    a body, sent at ``sent_at`` (loop seconds), with the ``SentTimestamp`` the clock's
    ``wall_ms()`` read then — what ``_Record(message_id, body, None, clock.wall_ms())`` made at
    the send, in one call. ``None`` for a clock whose wall time does not follow from its
    ``now()`` alone (then every message is stored as a record at its send)."""
    if type(clock) is MonotonicClock:
        offset = clock._offset

        def monotonic_record(message_id: str, body: str, sent_at: float) -> _Record:
            record = _new(_Record)
            record.message_id = message_id
            record.body = body
            # As MonotonicClock.wall_ms(): int() of a positive float (floor is the same, and
            # a cheaper call than int's).
            record.sent_ms = _floor((sent_at + offset) * 1000)
            record.attributes = record.group_id = record.dedup_id = None
            record.sequence_number = record.dlq_source_arn = record.trace_header = None
            return record

        return monotonic_record
    if type(clock) is ManualClock:
        epoch_offset = clock._epoch_offset

        def manual_record(message_id: str, body: str, sent_at: float) -> _Record:
            record = _new(_Record)
            record.message_id = message_id
            record.body = body
            record.sent_ms = round((sent_at + epoch_offset) * 1000)  # an int, as ManualClock's
            record.attributes = record.group_id = record.dedup_id = None
            record.sequence_number = record.dlq_source_arn = record.trace_header = None
            return record

        return manual_record
    return None


_new = object.__new__


class _QueueState:
    """Declarations only: :class:`~decoupling.Queue` sets these in ``__init__``."""

    is_fifo: ClassVar[bool]
    loop: EventLoop
    name: str
    arn: str
    url: str
    _initialized: bool
    _lock: threading.RLock
    _cond: Waiters
    _waiting: int
    _ledger: Ledger
    _values: dict[str, Any]
    _redrive: RedrivePolicy | None
    _redrive_allow: RedriveAllowPolicy | None
    _opaque: dict[str, str]
    _tags: dict[str, str]
    _deleted: bool
    _created_ms: int
    _modified_ms: int
    _created_with: dict[str, Any]
    _observers: tuple[QueueObserver, ...]
    # The plain paths' plan and state (Queue.__init__, Queue._replan).
    _offload: PayloadOffload | None
    _monotonic: bool
    _manual: ManualClock | None
    _plain_max: int
    _plain_out: bool
    _ids: Iterator[str]

    if TYPE_CHECKING:

        def _check_alive(self) -> None: ...

        def _emit(self, event: str, entry: Entry | None) -> None: ...

        def _prepare(
            self,
            body: object,
            message_attributes: Mapping[str, AttributeInput] | None,
            delay_seconds: object,
            group_id: object,
            dedup_id: object,
            trace_header: object,
            now: float,
        ) -> tuple[_Record | None, float, SendResult]: ...

        def _commit(self, record: _Record, delay: float, now: float) -> None: ...

        def _delete_settled(self, receipt_handle: object) -> None: ...

        def change_visibility(self, receipt_handle: str, visibility_timeout: int) -> None: ...
