"""``Journal``: a bounded record of every message's life, queryable by message id.

Attach one to a loop and every queue, topic and function on it writes what happens to each
message, in order, with the loop time it happened at::

    journal = dc.Journal(loop, max_entries=10_000)
    ...
    journal.kinds(message_id)   # ["sent", "received", "received", "dead_lettered", ...]
    journal.history(message_id) # the same as JournalEvent(time, kind, message_id, resource, detail)

Events (``kind``, the resource it happened at, and ``detail``):

* ``sent`` (queue) — entered the queue by a send or a topic's delivery; a delivery's detail
  links it to the SNS message: ``sns_message_id``, ``topic``, ``subscription``
  (SNS-to-SQS delivery gives the SQS message a MessageId of its own);
* ``received`` (queue) — ``receive_count`` (this receive's *n*), ``receipt_handle``,
  ``visible_at`` (loop time its visibility timeout ends);
* ``visibility_changed`` (queue) — ``visible_at``;
* ``deleted`` (queue);
* ``dead_lettered`` (the source queue) — ``dead_letter_queue``; then ``dead_letter_arrived``
  (the dead-letter queue) — ``source_queue``, ``receive_count``;
* ``moved_out`` / ``moved_in`` (message move tasks; the moved message gets a new MessageId,
  so ``moved_in`` is recorded under the new id with ``previous_message_id``, and ``moved_out``
  under the old one with ``new_message_id``);
* ``duplicate_arrived`` (queue) — :class:`~decoupling.Chaos` put a second copy back;
* ``published`` (topic); ``delivered`` (topic) — ``subscription``, ``protocol``, ``endpoint``
  and, for SQS, the new ``sqs_message_id``; ``filtered_out`` (topic) — ``subscription``;
  ``delivery_failed`` (topic) — ``attempt``, ``error`` (SNS retries it); ``undeliverable``
  (topic) — SNS gave up: ``reason``;
* ``invoked`` (function) — a function was invoked with the message (an SQS event source
  mapping's batch, or an SNS notification): ``request_id``, ``invocation_type``; then
  ``invocation_finished`` — ``request_id``, ``outcome`` (``Success``, ``Error``, ``Timeout``).

Bounded: at most ``max_entries`` events are kept; the oldest go first (:attr:`dropped` counts
them). Recording costs O(1) per event; with no journal attached, nothing is recorded and the
hot paths pay one ``if``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import InvalidParameterValue
from ._tap import SnsContext, Tap, time_reader

if TYPE_CHECKING:
    from .._core.ledger import Entry
    from ..functions.runtime import _Invocation
    from ..loop import EventLoop
    from ..sns.message import Published
    from ..sns.subscription import Subscription
    from ..sns.topic import Topic
    from ..sqs.queue import Queue

__all__ = ["Journal", "JournalEvent"]

_OUTCOMES = {"ok": "Success", "error": "Error", "timeout": "Timeout"}
#: The detail keys of a receive, whose values are kept in its event's fields.
_RECEIVED = ("receive_count", "receipt_handle", "visible_at")
#: An event's fields, kept flat in the journal's chunks (W of them an event):
#: (time, kind, message_id, resource, detail, None, None), detail None or a dict; a receive's
#: (time, "received", message_id, resource, receive_count, receipt_handle, visible_at).
W = 7
_Raw = tuple[Any, Any, Any, Any, Any, Any, Any]
#: The most events a journal keeps: the largest 32-bit count, as AWS's Integer parameters.
MAX_ENTRIES = 2**31 - 1


def _chunk(max_entries: int) -> int:
    """Events a journal keeps in one chunk: an eighth of ``max_entries``, at least 64 and at
    most 1,024. A journal holds at most two chunks more than ``max_entries``: a few percent
    of a large one (issue #19: a long-running app's memory is flat once the journal is
    full)."""
    return min(max(max_entries // 8, 64), 1_024)


@attrs.frozen(slots=True)
class JournalEvent:
    """One thing that happened to one message.

    Attributes:
        time: loop seconds (the clock's :meth:`~decoupling.Clock.now`).
        kind: what happened (see :mod:`decoupling.observe.journal`).
        message_id: the SQS or SNS MessageId it happened to.
        resource: the queue, topic or function name.
        detail: facts of the event (receive count, receipt handle, linked ids, ...).
    """

    time: float
    kind: str
    message_id: str
    resource: str
    detail: Mapping[str, Any] = attrs.field(factory=dict)

    def __str__(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.detail.items())
        return f"{self.time:>12.3f}  {self.kind:<20} {self.resource:<24} {extra}".rstrip()


class Journal:
    """A bounded, in-order record of message lives on one loop.

    Args:
        loop: the loop to record (one journal per loop).
        max_entries: events kept (1 to 2**31 - 1; default 100,000); the oldest are dropped
            first.

    Events are kept as seven fields each in chunks (no object an event): a list being
    filled, then a tuple the garbage collector stops tracking (its fields are strings and
    numbers), so a full collection does not walk the journal. They become
    :class:`JournalEvent` objects only when read; the index by message id is brought up to
    date by the next read (O(events recorded since)). Recording an event costs one list
    extend and one length test; the oldest chunk goes as a whole once the others hold
    ``max_entries`` events (the events beyond ``max_entries`` are no longer readable).

    Raises:
        InvalidParameterValue: a bad ``max_entries``, or a second journal on the same loop.
    """

    def __init__(self, loop: EventLoop, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or not (
                1 <= max_entries <= MAX_ENTRIES):
            raise InvalidParameterValue(
                f"max_entries must be an integer from 1 to {MAX_ENTRIES:,}, got {max_entries!r}.")
        self.loop = loop
        self.max_entries = max_entries
        self._now = time_reader(loop.clock)
        # The events' fields, W an event (see _Raw), in chunks of _size events: the full ones
        # in _sealed (tuples), oldest first, then the one being filled (_events, a list the
        # recorders extend; at _cap fields they call _seal). Event number n (from 0) is
        # event k = n - _base of the chunks, at field (k % _size) * W of chunk k // _size;
        # the kept events are the last max_entries.
        self._size = _chunk(max_entries)
        self._sealed: deque[tuple[Any, ...]] = deque()
        self._events: list[Any] = []
        self._base = 0
        self._cap = self._size * W
        self._cleared = 0  # events forgotten by clear()
        # message id -> numbers of its events up to _indexed (some may have left the ring).
        self._index: dict[str, list[int]] = {}
        self._indexed = 0
        self._index_size = 0
        self._moved_from: dict[int, str] = {}  # id(record) -> its MessageId before a move task
        with loop._lock:
            tap = Tap.attach(loop)
            if tap.journal is not None:
                raise InvalidParameterValue(
                    "This loop already has a Journal: close it before attaching another.")
            tap.journal = self
            tap.forget()
            self._tap: Tap | None = tap

    # -- reading --------------------------------------------------------------------------------

    @property
    def _appended(self) -> int:
        """Events recorded since the journal was made (the next event's number)."""
        return self._base + self._held()

    def _held(self) -> int:
        """Events in the chunks, kept or not (lock held)."""
        return len(self._sealed) * self._size + len(self._events) // W

    def _gone(self) -> int:
        """Events at the start of the chunks that are no longer kept (lock held)."""
        return max(self._held() - self.max_entries, 0)

    def _at(self, k: int) -> tuple[list[Any] | tuple[Any, ...], int]:
        """The chunk holding event ``k`` of the chunks, and its first field there."""
        i, r = divmod(k, self._size)
        sealed = self._sealed
        return (sealed[i] if i < len(sealed) else self._events), r * W

    def _chunks_from(self, k: int) -> Iterator[tuple[list[Any] | tuple[Any, ...], int]]:
        """(chunk, first field) of events ``k`` on of the chunks, in order."""
        i, r = divmod(k, self._size)
        sealed = self._sealed
        for j in range(i, len(sealed)):
            yield sealed[j], (r * W if j == i else 0)
        if i <= len(sealed):
            yield self._events, (r * W if i == len(sealed) else 0)

    def _ids_from(self, k: int) -> list[str]:
        """The message ids of events ``k`` on of the chunks, in order."""
        ids: list[str] = []
        for chunk, first in self._chunks_from(k):
            ids.extend(chunk[first + 2::W])
        return ids

    @property
    def dropped(self) -> int:
        """Events dropped to stay within ``max_entries``."""
        return self._appended - self._cleared - len(self)

    def history(self, message_id: str) -> list[JournalEvent]:
        """Every kept event of one message, oldest first (``[]`` if none). O(events of it),
        plus indexing the events recorded since the last read."""
        with self.loop._lock:
            numbers = self._numbers(message_id)
            base = self._base
            return [_event(*self._at(n - base)) for n in numbers]

    def kinds(self, message_id: str) -> list[str]:
        """The ``kind`` of each event of :meth:`history` — handy in assertions."""
        with self.loop._lock:
            numbers = self._numbers(message_id)
            base = self._base
            out = []
            for n in numbers:
                chunk, at = self._at(n - base)
                out.append(chunk[at + 1])
            return out

    def events(self) -> list[JournalEvent]:
        """Every kept event, oldest first."""
        with self.loop._lock:
            return [_event(chunk, at) for chunk, first in self._chunks_from(self._gone())
                    for at in range(first, len(chunk), W)]

    def message_ids(self) -> list[str]:
        """The ids with kept events, in order of their first event (an id whose first events
        were dropped may come later, in order of its first kept event; so may the ids of
        messages sent before the journal was attached)."""
        with self.loop._lock:
            gone = self._gone()  # dropped, not cut off yet: their order still counts
            ids = dict.fromkeys(self._ids_from(0))
            if not gone:
                return list(ids)
            kept = set(self._ids_from(gone))
            return [message_id for message_id in ids if message_id in kept]

    def format(self, message_id: str) -> str:
        """The history of one message as text, one event a line."""
        return "\n".join(str(event) for event in self.history(message_id))

    def __len__(self) -> int:
        return min(self._held(), self.max_entries)

    @property
    def enabled(self) -> bool:
        """Whether events are still being recorded."""
        return self._tap is not None

    def clear(self) -> None:
        """Forget every kept event."""
        with self.loop._lock:
            self._cleared += len(self)
            self._base += self._held()
            self._sealed.clear()
            self._events.clear()
            self._index.clear()
            self._index_size = 0
            self._indexed = self._appended
            self._moved_from.clear()

    def close(self) -> None:
        """Stop recording (kept events stay readable). Idempotent."""
        with self.loop._lock:
            tap = self._tap
            if tap is None:
                return
            tap.journal = None
            tap.forget()
            self._tap = None
            tap.release()

    def __repr__(self) -> str:
        return f"Journal(events={len(self)}, max_entries={self.max_entries})"

    def _numbers(self, message_id: str) -> list[int]:
        """The numbers of the kept events of one id, oldest first (lock held)."""
        numbers = self._catch_up().get(message_id)
        if not numbers:
            return []
        first = self._appended - len(self)
        if numbers[0] < first:  # some left the ring: forget them
            keep = [n for n in numbers if n >= first]
            self._index_size -= len(numbers) - len(keep)
            if keep:
                self._index[message_id] = keep
            else:
                del self._index[message_id]
            return keep
        return numbers

    def _catch_up(self) -> dict[str, list[int]]:
        """The index by message id, up to date (lock held). Pruned of events that left the
        ring when it has grown to twice the ring's size."""
        base = self._base
        appended = base + self._held()
        kept = len(self)
        first = appended - kept
        index = self._index
        if self._index_size > 2 * kept + 1_024:
            size = 0
            for message_id, numbers in list(index.items()):
                if numbers[0] < first:
                    numbers = [n for n in numbers if n >= first]
                    if not numbers:
                        del index[message_id]
                        continue
                    index[message_id] = numbers
                size += len(numbers)
            self._index_size = size
        start = max(self._indexed, first)
        if start < appended:
            number = start
            for message_id in self._ids_from(start - base):
                found = index.get(message_id)
                if found is None:
                    index[message_id] = [number]
                else:
                    found.append(number)
                number += 1
            self._index_size += appended - start
            self._indexed = appended
        return index

    # -- recording (loop lock held) ---------------------------------------------------------------

    def _record(self, raw: _Raw) -> None:
        # (Tap._on_queue, Tap.plain_* and Tap.sqs_received do the same inline.)
        events = self._events
        events.extend(raw)
        if len(events) >= self._cap:
            self._seal()

    def _seal(self) -> None:
        """Seal the full chunk being filled (lock held; the recorders call it when it has
        ``_cap`` fields), and let the oldest chunks go while the others hold ``max_entries``
        events. O(chunk) once a chunk: O(1) an event."""
        events = self._events
        sealed = self._sealed
        cap = self._cap
        if len(events) == cap:  # (the common case: no slice copied, the list kept for reuse)
            sealed.append(tuple(events))  # (untracked by the collector once it looks)
            events.clear()
        while len(events) >= cap:  # (a receive of several messages may pass the end)
            sealed.append(tuple(events[:cap]))
            del events[:cap]
        size = self._size
        while (len(sealed) - 1) * size >= self.max_entries:
            sealed.popleft()
            self._base += size

    def _add(self, kind: str, message_id: str, resource: str, **detail: Any) -> None:
        self._record((self._now(), kind, message_id, resource, detail or None, None, None))

    def _queue_event(self, event: str, queue: Queue, entry: Entry | None,
                     ctx: SnsContext | None) -> None:
        if entry is None:
            return  # purge, attribute changes: not about one message
        record = entry.record
        message_id = record.message_id
        name = queue.name
        if event == "sent":
            self._sent(name, message_id, ctx)
        elif event == "received":
            self._record((self._now(), "received", message_id, name, entry.receive_count,
                          entry.receipt, entry.deadline))
        elif event == "deleted":
            self._record((self._now(), "deleted", message_id, name, None, None, None))
        elif event == "visibility_changed":
            self._add("visibility_changed", message_id, name, visible_at=entry.deadline)
        elif event == "dead_lettered":
            dlq = queue._dead_letter_queue()
            self._add("dead_lettered", message_id, name,
                      dead_letter_queue=None if dlq is None else dlq.name)
        elif event == "dead_letter_arrived":
            source = record.dlq_source_arn
            self._add("dead_letter_arrived", message_id, name,
                      source_queue=None if source is None else source.rsplit(":", 1)[-1],
                      receive_count=entry.receive_count)
        elif event == "moved_out":
            self._moved_from[id(record)] = message_id
            self._add("moved_out", message_id, name)
        elif event == "moved_in":
            previous = self._moved_from.pop(id(record), None)
            self._add("moved_in", message_id, name, previous_message_id=previous)
            if previous is not None:
                self._link_forward(previous, message_id)
        elif event == "duplicate_arrived":
            self._add("duplicate_arrived", message_id, name)

    def _sent(self, name: str, message_id: str, ctx: SnsContext | None) -> None:
        if ctx is not None:
            self._add("sent", message_id, name, sns_message_id=ctx.pub.message_id,
                      topic=ctx.sub.topic.name, subscription=ctx.sub.arn)
        else:
            self._record((self._now(), "sent", message_id, name, None, None, None))

    def _link_forward(self, previous: str, message_id: str) -> None:
        """Give the old id's last event, if it is the move out, the new id too."""
        numbers = self._numbers(previous)
        if not numbers:
            return
        k = numbers[-1] - self._base
        chunk, at = self._at(k)
        if chunk[at + 1] != "moved_out":
            return
        detail = dict(chunk[at + 4] or {})
        detail["new_message_id"] = message_id
        if isinstance(chunk, list):
            chunk[at + 4] = detail
        else:  # a sealed chunk: sealed anew with the new detail
            fields = list(chunk)
            fields[at + 4] = detail
            self._sealed[k // self._size] = tuple(fields)

    def _published(self, topic: Topic, pub: Published) -> None:
        self._add("published", pub.message_id, topic.name)

    def _filtered(self, subs: tuple[Subscription, ...], pub: Published) -> None:
        for sub in subs:
            self._add("filtered_out", pub.message_id, sub.topic.name, subscription=sub.arn)

    def _delivered(self, sub: Subscription, pub: Published, sqs_message_id: str | None,
                   attempt: int = 1) -> None:
        detail: dict[str, Any] = {"subscription": sub.arn, "protocol": sub.protocol,
                                  "endpoint": sub.endpoint}
        if sub.protocol == "sqs":
            detail["sqs_message_id"] = sqs_message_id
        if attempt > 1:
            detail["attempt"] = attempt
        self._add("delivered", pub.message_id, sub.topic.name, **detail)

    def _delivery_failed(self, sub: Subscription, pub: Published, attempt: int,
                         error: str) -> None:
        self._add("delivery_failed", pub.message_id, sub.topic.name, subscription=sub.arn,
                  attempt=attempt, error=error)

    def _undeliverable(self, sub: Subscription, pub: Published, reason: str) -> None:
        self._add("undeliverable", pub.message_id, sub.topic.name, subscription=sub.arn,
                  reason=reason)

    def _invoked(self, inv: _Invocation) -> None:
        for message_id in _message_ids(inv.event):
            self._add("invoked", message_id, inv.function.name, request_id=inv.request_id,
                      invocation_type=inv.invocation_type)

    def _invocation_finished(self, inv: _Invocation) -> None:
        outcome = inv.outcome
        status = "ok" if outcome is None else outcome.status
        for message_id in _message_ids(inv.event):
            self._add("invocation_finished", message_id, inv.function.name,
                      request_id=inv.request_id, outcome=_OUTCOMES.get(status, status))


def _event(chunk: list[Any] | tuple[Any, ...], at: int) -> JournalEvent:
    """The event whose fields start at ``chunk[at]``."""
    time, kind, message_id, resource, detail, handle, visible_at = chunk[at:at + W]
    if kind == "received":
        return JournalEvent(time, kind, message_id, resource,
                            dict(zip(_RECEIVED, (detail, handle, visible_at), strict=True)))
    return JournalEvent(time, kind, message_id, resource, {} if detail is None else dict(detail))


def _message_ids(event: Any) -> list[str]:
    """The SQS ``messageId`` or SNS ``MessageId`` of each record of a Lambda event."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return []
    out = []
    for record in records:
        if not isinstance(record, dict):
            continue
        message_id = record.get("messageId")
        if message_id is None:
            sns = record.get("Sns")
            message_id = sns.get("MessageId") if isinstance(sns, dict) else None
        if isinstance(message_id, str):
            out.append(message_id)
    return out
