"""The observability tap: the one object the hot paths ask about, and only when it exists.

Every queue, topic and function checks ``loop._tap`` at its request boundaries (one attribute
load and one ``if``). It is ``None`` until a :class:`~decoupling.Metrics`,
:class:`~decoupling.Journal`, :class:`~decoupling.RequestMeter` or :class:`~decoupling.Chaos` is
attached to the loop, and ``None`` again when the last one is closed, so a loop without
observability pays nothing else.

While it exists, the tap:

* watches every queue of the loop through its observer hook (:meth:`Queue.add_observer`),
  including queues created later (``EventLoop._register`` tells it);
* receives the request-level calls that observers cannot see (a receive that returned nothing,
  a delete with a stale handle, the bytes of a request, a publish filtered out, a Lambda
  invocation starting and ending, a throttle);
* forwards each to the instruments attached, in a fixed order: chaos first (it may change what
  happens), then metrics, then the request meter, then the journal.

Without chaos, a queue watched by the tap alone is *quiet* (``Queue._replan``): its plain send,
receive and delete keep their fast paths and make one call each (:meth:`Tap.plain_sent`,
:meth:`Tap.plain_received`, :meth:`Tap.flight_deleted` or :meth:`Tap.plain_deleted`): a plain
receive keeps its messages as one flight (``Ledger.admit_flight``), and the tap reads what it
needs from the messages returned and from the flight, never splitting it into entries. A
standard queue's other receives are journaled by :meth:`Tap.sqs_received`, one call a request.
Each call updates the instruments through the queue's slot (``Queue._tap_slot``: its metrics
counters of the period, its meter rows and the journal's list, made again once a period or
when an instrument comes or goes), testing only which of them are there; a request's count
is kept once in the slot for both Metrics and RequestMeter (``_Slot.settle`` adds it to theirs
before any read). With chaos attached the tap registers its general observer instead and every
queue takes its general paths.

Hooks run with the loop's lock held unless stated; they never block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..message import _PlainMessage, message_size

CHUNK = 65_536  # bytes per billed request chunk (request_meter.CHUNK)
_INF = float("inf")

if TYPE_CHECKING:
    from .._core.ledger import Entry
    from ..functions.runtime import Function, _Invocation
    from ..loop import EventLoop
    from ..message import Message
    from ..sns.delivery import SqsSink
    from ..sns.message import Notification, Published
    from ..sns.subscription import Subscription
    from ..sqs.queue import Queue
    from .chaos import Chaos
    from .journal import Journal
    from .metrics import Metrics, _QueueLive
    from .request_meter import RequestMeter

__all__ = ["Tap", "SnsContext", "time_reader"]


def time_reader(clock: Any) -> Callable[[], float]:
    """A zero-argument callable giving ``clock.now()``, as cheap as it can be: C functions for
    a :class:`~decoupling.ManualClock` (its time attribute) and a
    :class:`~decoupling.MonotonicClock` (``time.monotonic``), else the clock's method."""
    from ..clock import ManualClock, MonotonicClock

    if type(clock) is ManualClock:
        return partial(attrgetter("_now"), clock)
    if type(clock) is MonotonicClock:
        return time.monotonic
    now: Callable[[], float] = clock.now
    return now


class SnsContext:
    """What a topic is delivering into SQS right now (set while an ``SqsSink`` runs)."""

    __slots__ = ("sub", "pub", "sent", "failed")

    def __init__(self, sub: Subscription, pub: Published) -> None:
        self.sub = sub
        self.pub = pub
        #: (queue, message id, body, attributes) of each message the delivery sent.
        self.sent: list[tuple[Queue, str, str, Any]] = []
        self.failed = False


class _Slot:
    """Everything the plain paths of one queue update, found once (``Tap._slot``) instead of
    per request: its metrics counters of the current period (``live``; ``None`` without
    :class:`~decoupling.Metrics`) and the loop time that period ends (``until``; infinite
    without), its request meter rows (``None`` without a :class:`~decoupling.RequestMeter`),
    and the journal's event list (``None`` without a :class:`~decoupling.Journal`; ``received``
    is it when the tap journals this queue's receives itself: a standard queue, no chaos).
    Dropped when any of them may change (:meth:`Tap.forget`).

    The plain paths count their requests in the slot itself (``sent``, ``received``: receives
    of one message, ``deleted``), once for both instruments that count them, instead of in
    the metrics counters and the meter rows each: :meth:`settle` adds them to both before
    anything reads those or the slot is dropped (issue #23: a count a request, not two)."""

    __slots__ = ("until", "live", "send", "receive", "delete", "events", "received", "cap",
                 "journal", "name", "sent", "received1", "deleted")

    def __init__(self, name: str) -> None:
        self.name = name
        self.until = _INF
        self.sent = self.received1 = self.deleted = 0
        self.live: _QueueLive | None = None
        self.send: list[int] | None = None
        self.receive: list[int] | None = None
        self.delete: list[int] | None = None
        self.events: list[Any] | None = None
        self.received: list[Any] | None = None
        self.cap = 0
        self.journal: Journal | None = None

    def settle(self) -> None:
        """Add the requests counted here to the metrics counters and the meter rows this slot
        holds (lock held), and count from zero again."""
        sent, received, deleted = self.sent, self.received1, self.deleted
        if not (sent or received or deleted):
            return
        self.sent = self.received1 = self.deleted = 0
        live = self.live
        if live is not None:
            live.sent += sent
            live.receives[1] += received
            live.deleted += deleted
        if self.send is not None:
            self.send[0] += sent
        if self.receive is not None:
            self.receive[0] += received
        if self.delete is not None:
            self.delete[0] += deleted


#: The slot every observed queue holds until its first plain request (out of date at once).
_STALE = _Slot("")
_STALE.until = -_INF


class Tap:
    """The hub between a loop's resources and its instruments (internal; one per loop)."""

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self._now = time_reader(loop.clock)
        self.metrics: Metrics | None = None
        self.journal: Journal | None = None
        self.requests: RequestMeter | None = None
        self.chaos: Chaos | None = None
        #: Chaos attached to single resources: id(resource) -> (resource, chaos).
        self.chaos_by_resource: dict[int, tuple[object, Chaos]] = {}
        self.sns_context: SnsContext | None = None
        self._observed: list[Queue] = []
        self._slots: dict[str, _Slot] = {}
        #: The observer a queue may treat as nobody watching (``Queue._replan``): its plain
        #: send and delete then skip the observer and call :meth:`plain_sent` and
        #: :meth:`plain_deleted`. Registered while no chaos is attached; with chaos, the
        #: queues get :meth:`_on_queue_any` instead and take their general paths.
        self.quiet: Callable[[str, Queue, Entry | None], None] = self._on_queue
        self._hook: Callable[[str, Queue, Entry | None], None] = self.quiet

    # -- life -----------------------------------------------------------------------------------

    @classmethod
    def attach(cls, loop: EventLoop) -> Tap:
        """The loop's tap, installed (and every queue observed) if it was not there."""
        with loop._lock:
            tap: Tap | None = loop._tap
            if tap is None:
                tap = cls(loop)
                loop._tap = tap
                for queue in loop._resources_of("sqs"):
                    tap._observe(queue)
            return tap

    def release(self) -> None:
        """Remove the tap from its loop once no instrument is attached any more."""
        with self.loop._lock:
            if (self.metrics or self.journal or self.requests or self.chaos
                    or self.chaos_by_resource):
                return
            observed = list(self._observed)
            self._observed.clear()
            self.forget()
            if self.loop._tap is self:
                self.loop._tap = None
            for queue in observed:  # (after: a queue re-plans without the tap)
                queue.remove_observer(self._hook)

    def forget(self, name: str | None = None) -> None:
        """Drop the slot of queue ``name`` (``None``: of every queue): an instrument was
        attached or closed, a period ended, or meter rows went. A dropped slot is marked
        out of date (``until`` minus infinity), so a queue holding it asks for a new one.
        What a dropped slot counted is settled first (:meth:`_Slot.settle`)."""
        if name is None:
            for slot in self._slots.values():
                slot.settle()
                slot.until = -_INF
            self._slots.clear()
        else:
            dropped = self._slots.pop(name, None)
            if dropped is not None:
                dropped.settle()
                dropped.until = -_INF

    def settle(self, name: str | None = None) -> None:
        """Add what the slots of queue ``name`` (``None``: of every queue) counted to the
        metrics counters and the meter rows (lock held): before those are read or changed
        other than by adding."""
        if name is None:
            for slot in self._slots.values():
                slot.settle()
        else:
            one = self._slots.get(name)
            if one is not None:
                one.settle()

    def _slot(self, queue: Queue, now: float) -> _Slot:
        """The slot of ``queue`` at loop time ``now``, made anew (lock held): after ending the
        metrics period if ``now`` is past it (that drops every slot)."""
        metrics = self.metrics
        if metrics is not None and now >= metrics._live_until:
            metrics._flush_live(roll=True)
        name = queue.name
        old = self._slots.get(name)
        if old is not None:  # (a queue of the same name before: its slot goes out of date)
            old.settle()
            old.until = -_INF
        slot = self._slots[name] = queue._tap_slot = _Slot(name)
        if metrics is not None:
            slot.until = metrics._live_until
            slot.live = metrics._live_of(name)
        requests = self.requests
        if requests is not None:  # (rows without calls are not billed)
            slot.send = requests._sqs_row(queue, "SendMessage")
            slot.receive = requests._sqs_row(queue, "ReceiveMessage")
            slot.delete = requests._sqs_row(queue, "DeleteMessage")
        journal = self.journal
        if journal is not None:
            slot.journal = journal
            slot.events = journal._events
            slot.cap = journal._cap
            if not queue.is_fifo and self._hook is self.quiet:  # (else the observer journals)
                slot.received = journal._events
        return slot

    def rewire(self) -> None:
        """Register the observer that fits the instruments attached (after chaos is attached
        or detached): chaos needs every queue on its general paths (lock held)."""
        hook = self._on_queue_any if (self.chaos is not None or self.chaos_by_resource) \
            else self.quiet
        if hook is self._hook:
            return
        self.forget()  # (a slot's ``received`` follows the hook)
        old, self._hook = self._hook, hook
        for queue in self._observed:
            queue.remove_observer(old)
            queue.add_observer(hook)

    def registered(self, kind: str, resource: Any) -> None:
        """``EventLoop._register`` hook: a resource was created (observe new queues)."""
        if kind == "sqs":
            self._observe(resource)

    def _observe(self, queue: Queue) -> None:
        queue._tap_slot = _STALE  # (made by the first plain request: Tap._slot)
        queue.add_observer(self._hook)
        if queue not in self._observed:
            self._observed.append(queue)

    def chaos_for(self, resource: object) -> Chaos | None:
        """The chaos that applies to ``resource``: its own, else the loop's."""
        own = self.chaos_by_resource.get(id(resource))
        if own is not None and own[0] is resource:
            return own[1]
        return self.chaos

    # -- SQS: per-message changes (queue observer) ----------------------------------------------

    def _on_queue(self, event: str, queue: Queue, entry: Entry | None) -> None:
        # The common events (a send, receive or delete, no chaos, not inside an SNS delivery)
        # are handled here flat: they are most of what a busy queue does, and every call
        # saved is a measurable share of a cycle (issue #23: observed >= 0.7x of off).
        # (Registered only while no chaos is attached: see rewire.)
        if entry is None or self.sns_context is not None:
            self._on_queue_any(event, queue, entry)
            return
        journal = self.journal
        if event == "sent":
            metrics = self.metrics
            if metrics is not None:
                metrics._sent(queue.name, entry.record)
            if journal is not None:  # (Journal._record, inline)
                events = journal._events
                events.extend((journal._now(), "sent", entry.record.message_id, queue.name,
                               None, None, None))
                if len(events) >= journal._cap:
                    journal._seal()
        elif event == "received":
            # A standard queue's receives are journaled by sqs_received, one call a request
            # (a quiet queue does not emit them at all); a FIFO queue's here (its retried
            # attempts return messages again without receiving them again).
            if journal is not None and queue.is_fifo:  # (Journal._record, inline)
                events = journal._events
                events.extend((journal._now(), "received", entry.record.message_id,
                               queue.name, entry.receive_count, entry.receipt, entry.deadline))
                if len(events) >= journal._cap:
                    journal._seal()
        elif event == "deleted":
            if journal is not None:  # (Journal._record, inline)
                events = journal._events
                events.extend((journal._now(), "deleted", entry.record.message_id, queue.name,
                               None, None, None))
                if len(events) >= journal._cap:
                    journal._seal()
        else:
            self._on_queue_any(event, queue, entry)

    def _on_queue_any(self, event: str, queue: Queue, entry: Entry | None) -> None:
        ctx = self.sns_context
        if ctx is not None and event == "sent" and entry is not None:
            record = entry.record
            ctx.sent.append((queue, record.message_id, record.body, record.attributes))
        if self.chaos is not None or self.chaos_by_resource:
            chaos = self.chaos_for(queue)
            if chaos is not None:
                chaos._queue_event(event, queue, entry)
        metrics = self.metrics
        if metrics is not None:
            metrics._queue_event(event, queue, entry)
        journal = self.journal
        if journal is not None:
            journal._queue_event(event, queue, entry, ctx)

    # -- SQS: the plain paths of a quiet queue (lock held) ---------------------------------------

    def plain_sent(self, queue: Queue, message_id: str, body: str, now: float) -> None:
        """A plain send (a printable ASCII body, nothing else; see ``Queue.send``) was stored
        at loop time ``now`` without an observer event: count it, bill it and journal it here,
        in one call, through the queue's slot."""
        if self.sns_context is not None:  # a topic delivering through the public send
            self.sns_context.sent.append((queue, message_id, body, None))
            self._plain_sent_any(queue, message_id, body)
            return
        slot: _Slot = queue._tap_slot
        if now >= slot.until:
            slot = self._slot(queue, now)
        slot.sent += 1  # (the metrics' and the meter's count: _Slot.settle)
        size = len(body)  # (ASCII, no attributes: its bytes)
        live = slot.live
        if live is not None:  # (Metrics._sent_size, inline)
            live.size_total += size
            if size < live.size_low:
                live.size_low = size
            if size > live.size_high:
                live.size_high = size
        if size > CHUNK and slot.send is not None:  # (RequestMeter._sqs, inline)
            slot.send[1] += -(-size // CHUNK) - 1
        events = slot.events
        if events is not None:  # (Journal._record, inline)
            events += (now, "sent", message_id, slot.name, None, None, None)  # (extend)
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    def _plain_sent_any(self, queue: Queue, message_id: str, body: str) -> None:
        """:meth:`plain_sent` inside a topic's delivery (the journal links the two)."""
        if self.metrics is not None:
            self.metrics._sent_plain(queue.name, body)
        if self.requests is not None:
            self.requests._sqs(queue, "SendMessage", len(body))
        journal = self.journal
        if journal is not None:
            journal._sent(queue.name, message_id, self.sns_context)

    def plain_deleted(self, queue: Queue, entry: Entry, now: float) -> None:
        """A delete by a current receipt handle at loop time ``now``, without an observer
        event: count it, bill it and journal it here, in one call, through the queue's
        slot."""
        slot: _Slot = queue._tap_slot
        if now >= slot.until:
            slot = self._slot(queue, now)
        slot.deleted += 1  # (the metrics' and the meter's count: _Slot.settle)
        events = slot.events
        if events is not None:  # (Journal._record, inline)
            item = getattr(entry, "_item", None)  # a backlog entry's (sent_at, id, body)
            events.extend((now, "deleted", entry.record.message_id if item is None else item[1],
                           slot.name, None, None, None))
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    def plain_received(self, queue: Queue, messages: list[Message], now: float,
                       deadline: float) -> None:
        """A plain receive (``Queue._receive_plain``: first receives from the backlog, held
        as one flight until ``deadline``) returned ``messages`` (one or more plain messages:
        printable ASCII bodies, no attributes, receive count 1) at loop time ``now``:
        :meth:`sqs_received` without looking anything up."""
        slot: _Slot = queue._tap_slot
        if now >= slot.until:
            slot = self._slot(queue, now)
        if len(messages) != 1:
            self._plain_received_many(slot, messages, now, deadline)
            return
        m = messages[0]
        slot.received1 += 1  # (the metrics' and the meter's count: _Slot.settle)
        row = slot.receive
        if row is not None:
            size = len(m.body)  # (ASCII, no attributes: its bytes)
            if size > CHUNK:
                row[1] += -(-size // CHUNK) - 1
        events = slot.received
        if events is not None:  # (Journal._record, inline)
            events += (now, "received", m.message_id, slot.name, 1, m.receipt_handle, deadline)
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    @staticmethod
    def _plain_received_many(slot: _Slot, messages: list[Message], now: float,
                             deadline: float) -> None:
        """:meth:`plain_received` of several messages."""
        live = slot.live
        if live is not None:
            live.receives[len(messages)] += 1
        row = slot.receive
        if row is not None:
            row[0] += 1
            size = sum([len(m.body) for m in messages])
            if size > CHUNK:
                row[1] += -(-size // CHUNK) - 1
        events = slot.received
        if events is not None:  # (Journal._record, inline)
            name = slot.name
            for m in messages:
                events.extend((now, "received", m.message_id, name, 1, m.receipt_handle,
                               deadline))
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    def flight_deleted(self, queue: Queue, receipt: str, flight: Any, now: float) -> None:
        """A delete at loop time ``now`` of the message of ``flight`` (``_Flight``: what a
        plain receive handed out, still whole) that the current handle ``receipt`` names:
        :meth:`plain_deleted` without making its entry."""
        slot: _Slot = queue._tap_slot
        if now >= slot.until:
            slot = self._slot(queue, now)
        slot.deleted += 1  # (the metrics' and the meter's count: _Slot.settle)
        events = slot.events
        if events is not None:  # (Journal._record, inline)
            items = flight.items
            if len(items) == 1:
                message_id = items[0][1]
            else:  # message i has the handle of tick flight.tick + i (Ledger.new_flight)
                tick = int(receipt[len(queue._ledger.receipt_prefix):], 16)
                message_id = items[tick - flight.tick][1]
            events += (now, "deleted", message_id, slot.name, None, None, None)
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    # -- SQS: requests --------------------------------------------------------------------------

    def sqs_send(self, queue: Queue, body: str, attributes: Any) -> None:
        """A successful SendMessage (billing: its bytes in 64 KiB chunks)."""
        requests = self.requests
        if requests is not None:
            if attributes is None and body.isascii():
                size = len(body)
            else:
                from ..message import normalize_attributes

                size = message_size(body, normalize_attributes(attributes))
            rows = requests._sqs_by_name.get(queue.name)
            row = None if rows is None else rows.get("SendMessage")
            if row is None:
                row = requests._sqs_row(queue, "SendMessage")
            row[0] += 1
            if size > CHUNK:
                row[1] += -(-size // CHUNK) - 1

    def sqs_send_batch(self, queue: Queue, total_bytes: int) -> None:
        """A SendMessageBatch that was accepted (even if some entries failed)."""
        if self.requests is not None:
            self.requests._sqs(queue, "SendMessageBatch", total_bytes)

    def sqs_receive_limit(self, queue: Queue, max_messages: int, wait: int) -> int:
        """How many messages this receive may take: fewer under chaos short-poll sampling."""
        if self.chaos is None and not self.chaos_by_resource:
            return max_messages
        chaos = self.chaos_for(queue)
        if chaos is None or wait != 0 or queue.is_fifo:
            return max_messages
        return chaos._short_poll(queue, max_messages)

    def sqs_received(self, queue: Queue, messages: list[Message]) -> None:
        """A ReceiveMessage that returned ``messages`` (possibly none: an empty receive)."""
        now = self._now()
        slot: _Slot = queue._tap_slot
        if now >= slot.until:
            slot = self._slot(queue, now)
        live = slot.live
        if live is not None:  # (every message a receive returned: a FIFO retry's too)
            live.receives[len(messages)] += 1
        row = slot.receive
        if row is not None:
            row[0] += 1
            size = 0
            for m in messages:
                # A plain send's message: a printable ASCII body, no attributes (reading its
                # unset message_attributes would make a dict, raising inside).
                size += (len(m.body) if type(m) is _PlainMessage
                         else message_size(m.body, m.message_attributes))
            if size > CHUNK:
                row[1] += -(-size // CHUNK) - 1
        events = slot.received
        if events is not None and messages:  # (Journal._record, inline)
            handles = queue._ledger.handles
            name = slot.name
            for m in messages:
                handle = m.receipt_handle
                entry = handles.get(handle)
                events.extend((now, "received", m.message_id, name, m.receive_count, handle,
                               None if entry is None else entry.deadline))
            if len(events) >= slot.cap:
                slot.journal._seal()  # type: ignore[union-attr]

    def sqs_deleted(self, queue: Queue) -> None:
        """A successful DeleteMessage (counted even when the handle was stale: AWS does)."""
        metrics = self.metrics
        if metrics is not None:
            if metrics._now() >= metrics._live_until:
                metrics._flush_live(roll=True)
            live = metrics._live.get(queue.name)
            if live is None:
                live = metrics._new_live(queue.name)
            live.deleted += 1
        requests = self.requests
        if requests is not None:
            rows = requests._sqs_by_name.get(queue.name)
            row = None if rows is None else rows.get("DeleteMessage")
            if row is None:
                row = requests._sqs_row(queue, "DeleteMessage")
            row[0] += 1

    def sqs_batch(self, queue: Queue, action: str, single: str, singles: int) -> None:
        """A batch call that ran ``singles`` successful single calls of action ``single``
        inside: it is billed as one ``action`` request instead of those."""
        if self.requests is not None:
            self.requests._sqs_batch(queue, action, single, singles)

    def sqs_request(self, queue: Queue, action: str) -> None:
        """Any other successful SQS request (ChangeMessageVisibility, PurgeQueue, ...)."""
        if self.requests is not None:
            self.requests._sqs(queue, action, 0)
        if action == "DeleteQueue" and queue in self._observed:
            queue.remove_observer(self._hook)
            self._observed.remove(queue)

    # -- SNS ------------------------------------------------------------------------------------

    def sns_publish_request(self, topic: Any, message: Any, attributes: Any) -> None:
        """A successful Publish (billing: its bytes in 64 KiB chunks)."""
        if self.requests is not None:
            from ..sns.message import message_size as sns_size
            from ..sns.message import normalize_sns_attributes

            text = message if isinstance(message, str) else str(message)
            self.requests._sns_publish(topic, "Publish",
                                       sns_size(text, normalize_sns_attributes(attributes)))

    def sns_batch_request(self, topic: Any, total_bytes: int) -> None:
        """A PublishBatch that was accepted."""
        if self.requests is not None:
            self.requests._sns_publish(topic, "PublishBatch", total_bytes)

    def sns_published(self, topic: Any, pub: Published) -> None:
        """A message accepted by a topic, before it fans out."""
        if self.metrics is not None:
            self.metrics._published(topic, pub)
        if self.journal is not None:
            self.journal._published(topic, pub)

    def sns_filtered(self, topic: Any, subs: tuple[Subscription, ...], pub: Published) -> None:
        """Subscriptions whose filter policy rejected ``pub``."""
        if self.metrics is not None:
            self.metrics._filtered(topic, len(subs))
        if self.journal is not None:
            self.journal._filtered(subs, pub)

    def sns_sqs_delivery(self, sink: SqsSink, pub: Published, replayed: bool) -> None:
        """Run one delivery into SQS (``SqsSink.deliver``) and observe what it did."""
        sub = sink.sub
        ctx = SnsContext(sub, pub)
        self.sns_context = ctx
        try:
            sink.deliver(pub, replayed)
        finally:
            self.sns_context = None
        if ctx.failed:
            return  # sns_undeliverable saw it
        target = sink.queue
        sent = next((s for s in ctx.sent if s[0] is target), None)
        if self.metrics is not None:
            self.metrics._delivered(sub.topic)
        requests = self.requests
        if requests is not None and sent is not None and target is not None:
            size = message_size(sent[2], sent[3])
            requests._sns_delivery(sub, size)
            if sink.fast:
                # The trusted fast path skipped Queue.send: count its SendMessage here.
                requests._sqs(target, "SendMessage", size)
        if self.journal is not None:
            self.journal._delivered(sub, pub, None if sent is None else sent[1])

    def sns_before_delivery(self, sub: Subscription, n: Notification) -> None:
        """Before a non-SQS delivery attempt: chaos may make it fail (it raises)."""
        chaos = self.chaos_for(sub.topic)
        if chaos is not None:
            chaos._delivery_attempt(sub, n)

    def sns_attempt(self, sub: Subscription, pub: Published, n: Notification,
                    error: str | None) -> None:
        """The result of one non-SQS delivery attempt (``error`` ``None``: delivered)."""
        if error is None:
            if self.metrics is not None:
                self.metrics._delivered(sub.topic)
            if self.requests is not None:
                body = n.body
                self.requests._sns_delivery(sub, len(body.encode("utf-8", "surrogatepass")))
            if self.journal is not None:
                self.journal._delivered(sub, pub, None, attempt=n.attempt)
            return
        if self.metrics is not None and sub.protocol in ("http", "https"):
            # HTTP/S: every failed attempt counts (CloudWatch NumberOfNotificationsFailed).
            self.metrics._failed(sub.topic)
        if self.journal is not None:
            self.journal._delivery_failed(sub, pub, n.attempt, error)

    def sns_undeliverable(self, sub: Subscription, pub: Published, reason: str) -> None:
        """SNS gives up on a message for a subscription (dead letter or drop)."""
        ctx = self.sns_context
        if ctx is not None:
            ctx.failed = True
        if self.metrics is not None and sub.protocol not in ("http", "https"):
            self.metrics._failed(sub.topic)
        if self.journal is not None:
            self.journal._undeliverable(sub, pub, reason)

    # -- Lambda ---------------------------------------------------------------------------------

    def lambda_throttle(self, fn: Function) -> bool:
        """Chaos: should this synchronous invoke be throttled although there is capacity?"""
        chaos = self.chaos_for(fn)
        return chaos is not None and chaos._throttle(fn)

    def lambda_throttled(self, fn: Function) -> None:
        """A synchronous invoke was refused with TooManyRequestsException."""
        if self.metrics is not None:
            self.metrics._throttled(fn)

    def lambda_begin(self, inv: _Invocation) -> None:
        """An invocation starts (its concurrency is already counted)."""
        if self.metrics is not None:
            self.metrics._invocation_begin(inv)
        if self.journal is not None:
            self.journal._invoked(inv)

    def lambda_finish(self, inv: _Invocation) -> None:
        """An invocation ends; chaos may turn its outcome into an error first."""
        chaos = self.chaos_for(inv.function)
        if chaos is not None:
            chaos._invocation_outcome(inv)
        if self.metrics is not None:
            self.metrics._invocation_end(inv)
        if self.journal is not None:
            self.journal._invocation_finished(inv)
