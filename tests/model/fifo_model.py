"""A reference model of SQS FIFO queues: message groups, their order and lock, and the
5-minute deduplication window, plainly, for model-based tests.

Messages are kept by ``MessageId`` (a duplicate send creates no message). Each queue numbers
the messages it takes in (``order``): a group's messages go out in that order.

Rules, with the AWS pages they come from (SQS Developer Guide, "Amazon SQS FIFO queues" and its
sub-pages, and the API Reference):

* Send: ``MessageGroupId`` is required (``MissingParameter``); a deduplication id is required
  unless ``ContentBasedDeduplication`` is on, which uses the SHA-256 hex digest of the body
  (``InvalidParameterValue``). A send whose deduplication id was sent in the last 5 minutes
  is accepted, not delivered, and answers with the original's ``MessageId`` and
  ``SequenceNumber``; the window outlives deletion and a purge clears it
  ("Using the message deduplication ID"). With ``DeduplicationScope=messageGroup`` ids are
  per group. ``SequenceNumber`` grows strictly per queue.
* Receive: within a group messages go out in order, and none is handed out while an earlier
  message of its group is in flight (a message that came back while a later one is in flight
  may go out again: only *later* messages wait). A receive takes as many messages as it can
  from one group before moving to the next ("FIFO queue delivery logic"). Which group comes
  first is not a rule (this library usually serves the group whose next message is oldest),
  so the model accepts any, and learns from the real DLQ the order in which one receive's dead
  letters of different groups arrived. At the in-flight limit a receive returns nothing (no
  error) ("Amazon SQS message quotas").
* Handles: a delete or visibility change with a handle whose visibility timeout has ended
  fails ``InvalidParameterValue`` ("The receipt handle has expired"); deleting again with the
  handle of a message deleted while that handle was valid succeeds until the handle would
  have expired.
* Dead letters: a message whose receive count reached ``maxReceiveCount`` moves to the FIFO
  DLQ on the next receive that reaches it; there its retention restarts ("Setting-up
  dead-letter queue retention"), its deduplication id becomes its ``MessageId``
  ("Learn how to configure a dead-letter queue redrive") and it gets the DLQ's next sequence
  number; it keeps its receive count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .sqs_model import (
    HELD,
    MAX_VISIBILITY,
    PURGE_COOLDOWN,
    Place,
    expect,
)

__all__ = ["FifoMessage", "FifoQueueModel", "FifoModel", "FifoDelivery", "DEDUP_WINDOW"]

DEDUP_WINDOW = 300.0


@dataclass
class FifoMessage:
    message_id: str
    body: str
    group: str
    dedup_id: str
    sequence_number: int
    queue: str | None
    place: Place
    order: int  # arrival rank in `queue`
    sent_at: float
    available_at: float = 0.0
    deadline: float = 0.0
    receive_count: int = 0
    receipt: str | None = None
    received_at: float = -1.0
    first_received_at: float | None = None
    dead_letter_source: str | None = None

    @property
    def held(self) -> bool:
        return self.place in HELD


@dataclass
class FifoQueueModel:
    name: str
    visibility_timeout: int = 30
    retention: int = 345_600
    delay: int = 0
    content_based: bool = False
    scope: str = "queue"  # DeduplicationScope: "queue" or "messageGroup"
    dead_letter_queue: str | None = None
    max_receive_count: int = 0
    max_in_flight: int | None = None
    last_purge: float | None = None
    # (group or None, deduplication id) -> (expires at, MessageId, SequenceNumber)
    dedup: dict[tuple[str | None, str], tuple[float, str, int]] = field(default_factory=dict)
    # handle of a message deleted while in flight -> when that handle would have expired
    deleted_handles: dict[str, float] = field(default_factory=dict)
    last_sequence: int = 0
    arrivals: int = 0


@dataclass(frozen=True)
class FifoDelivery:
    message_id: str
    body: str
    group: str | None
    dedup_id: str | None
    sequence_number: int
    receipt: str
    receive_count: int
    dead_letter_source: str | None


class FifoModel:
    def __init__(self) -> None:
        self.queues: dict[str, FifoQueueModel] = {}
        self.messages: dict[str, FifoMessage] = {}
        self.handles: dict[str, tuple[str, str]] = {}  # handle -> (queue, MessageId)

    def add_queue(self, queue: FifoQueueModel) -> None:
        self.queues[queue.name] = queue

    def held(self, queue: str, place: Place | None = None) -> list[FifoMessage]:
        out = [m for m in self.messages.values()
               if m.queue == queue and m.held and (place is None or m.place == place)]
        return sorted(out, key=lambda m: m.order)

    def counts(self, queue: str) -> tuple[int, int, int]:
        return (len(self.held(queue, Place.VISIBLE)), len(self.held(queue, Place.IN_FLIGHT)),
                len(self.held(queue, Place.DELAYED)))

    def live_dedup(self, queue: str, now: float) -> dict[tuple[str | None, str], tuple[str, int]]:
        return {k: (mid, seq) for k, (until, mid, seq) in self.queues[queue].dedup.items()
                if now < until}

    # -- time -----------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        for m in self.messages.values():
            if not m.held:
                continue
            assert m.queue is not None
            if m.sent_at + self.queues[m.queue].retention <= now:
                m.place, m.queue, m.receipt = Place.EXPIRED, None, None
            elif m.place is Place.DELAYED and m.available_at <= now:
                m.place = Place.VISIBLE
            elif m.place is Place.IN_FLIGHT and m.deadline <= now:
                m.place = Place.VISIBLE

    def change_times(self, queue: str) -> list[float]:
        """When a message of ``queue`` changes place by itself: its delay or visibility timeout
        ends, or its retention period does. (A message in flight when its retention ends is
        deleted -- "messages that remain in the queue longer than the retention period are
        deleted", in flight or not -- and that frees its group: a long poll waiting on the group
        returns then with the group's next message.)"""
        retention = self.queues[queue].retention
        out = {m.available_at for m in self.held(queue, Place.DELAYED)}
        out |= {m.deadline for m in self.held(queue, Place.IN_FLIGHT)}
        out |= {m.sent_at + retention for m in self.held(queue)}
        return sorted(out)

    # -- sending --------------------------------------------------------------------------------

    def send_errors(self, queue: str, group: str | None, dedup_id: str | None,
                    delay: int | None) -> set[str]:
        codes = set()
        if group is None:
            codes.add("MissingParameter")
        if delay not in (None, 0):
            codes.add("InvalidParameterValue")
        if dedup_id is None and not self.queues[queue].content_based:
            codes.add("InvalidParameterValue")
        return codes

    def dedup_key(self, queue: str, body: str, group: str,
                  dedup_id: str | None) -> tuple[str | None, str]:
        q = self.queues[queue]
        token = dedup_id if dedup_id is not None else hashlib.sha256(body.encode()).hexdigest()
        return (group if q.scope == "messageGroup" else None, token)

    def send(self, queue: str, body: str, group: str, dedup_id: str | None, now: float,
             message_id: str, sequence_number: int) -> bool:
        """Judge and apply a send that succeeded; return whether it was a duplicate."""
        q = self.queues[queue]
        key = self.dedup_key(queue, body, group, dedup_id)
        original = self.live_dedup(queue, now).get(key)
        if original is not None:
            expect((message_id, sequence_number) == original,
                   f"duplicate send answered {message_id}/{sequence_number}, "
                   f"expected the original {original}")
            return True
        expect(message_id not in self.messages, f"MessageId {message_id} issued twice")
        expect(sequence_number > q.last_sequence,
               f"SequenceNumber {sequence_number} not above {q.last_sequence}")
        q.last_sequence = sequence_number
        q.arrivals += 1
        self.messages[message_id] = FifoMessage(
            message_id, body, group, key[1], sequence_number, queue,
            Place.DELAYED if q.delay else Place.VISIBLE, q.arrivals, now,
            available_at=now + q.delay,
        )
        q.dedup[key] = (now + DEDUP_WINDOW, message_id, sequence_number)
        return False

    # -- receiving ------------------------------------------------------------------------------

    def dead(self, m: FifoMessage) -> bool:
        assert m.queue is not None
        q = self.queues[m.queue]
        return q.max_receive_count > 0 and m.receive_count >= q.max_receive_count

    def servable(self, queue: str, group: str) -> list[FifoMessage]:
        """The group's visible messages that may go out now: those before its first message in
        flight, in order."""
        mine = [m for m in self.held(queue) if m.group == group]
        flying = [m.order for m in mine if m.place is Place.IN_FLIGHT]
        block = min(flying) if flying else float("inf")
        return [m for m in mine if m.place is Place.VISIBLE and m.order < block]

    def _room(self, q: FifoQueueModel) -> float:
        if q.max_in_flight is None:
            return float("inf")
        return q.max_in_flight - len(self.held(q.name, Place.IN_FLIGHT))

    def _groups(self, queue: str) -> dict[str, list[FifoMessage]]:
        """Each group's messages that may go out now (dead letters among them)."""
        groups = {m.group for m in self.held(queue, Place.VISIBLE)}
        return {g: s for g in sorted(groups) if (s := self.servable(queue, g))}

    def _deliverable(self, queue: str) -> bool:
        if self._room(self.queues[queue]) <= 0:
            return False
        return any(not self.dead(m) for s in self._groups(queue).values() for m in s)

    def receive_plan(self, queue: str, t0: float, wait: int | None) -> float:
        """When a receive begun at ``t0`` returns; settles the model to then and applies the
        dead letters moved by the looks before the last (each of which found nothing to hand
        out, so it moved every dead letter it could reach)."""
        deadline = t0 + (wait or 0)
        t = t0
        while True:
            self.settle(t)
            if self._deliverable(queue) or t >= deadline:
                return t
            if self._room(self.queues[queue]) > 0:
                for servable in self._groups(queue).values():
                    for m in servable:
                        self._dead_letter(m, t)
            later = [x for x in self.change_times(queue) if t < x <= deadline]
            t = later[0] if later else deadline

    def _dead_letter(self, m: FifoMessage, now: float) -> None:
        """Move ``m`` to its queue's DLQ. Its place among the DLQ's arrivals and its new
        SequenceNumber are learnt from the real DLQ (:meth:`learn_arrivals`): the order in
        which one receive moves messages of different groups is not a rule."""
        assert m.queue is not None
        source = self.queues[m.queue]
        assert source.dead_letter_queue is not None
        m.queue, m.place, m.order = source.dead_letter_queue, Place.VISIBLE, -1
        m.sent_at = now  # a FIFO DLQ restarts retention
        m.dedup_id = m.message_id
        m.sequence_number = -1
        m.receipt = None
        m.dead_letter_source = source.name

    def learn_arrivals(self, queue: str, observed: dict[str, tuple[int, int]]) -> None:
        """Place new arrivals in ``queue`` as the real queue ordered them (``observed``: message
        -> (arrival rank, SequenceNumber)); their SequenceNumbers must grow in that order."""
        q = self.queues[queue]
        new = [m for m in self.messages.values() if m.queue == queue and m.order == -1]
        for m in sorted(new, key=lambda m: observed[m.message_id][0]):
            number = observed[m.message_id][1]
            expect(number > q.last_sequence,
                   f"{queue}: SequenceNumber {number} of {m.message_id} not above "
                   f"{q.last_sequence}: arrivals numbered out of order")
            q.arrivals += 1
            m.order, m.sequence_number, q.last_sequence = q.arrivals, number, number

    def receive(self, queue: str, now: float, max_messages: int, timeout: int | None,
                delivered: list[FifoDelivery], moved_ids: set[str]) -> None:
        """Judge and apply the last look of a receive at ``now``; ``moved_ids`` are the
        messages the real queue dead-lettered in it.

        The rules: messages of a group come in order, none while an earlier one of its group
        is in flight (``servable``); a group is drained before the next is served (so each
        group appears once, and every group but the last served gives all it has); as many
        as allowed are handed out; a dead letter moves when the look reaches it."""
        q = self.queues[queue]
        room = min(max_messages, self._room(q))
        groups = self._groups(queue) if room > 0 else {}
        ok = {g: [m for m in s if not self.dead(m)] for g, s in groups.items()}
        dead = {g: [m for m in s if self.dead(m)] for g, s in groups.items()}
        ids = [d.message_id for d in delivered]
        available = sum(len(v) for v in ok.values())
        expect(len(ids) == min(room, available),
               f"receive(max {max_messages}) on {queue} at {now} returned {len(ids)}; "
               f"{available} could go out (room {room})")
        runs: list[tuple[str, list[str]]] = []
        for d in delivered:
            expect(d.group in ok, f"{d.message_id} of group {d.group} may not go out now")
            assert d.group is not None
            if runs and runs[-1][0] == d.group:
                runs[-1][1].append(d.message_id)
            else:
                runs.append((d.group, [d.message_id]))
        expect(len({g for g, _ in runs}) == len(runs),
               f"a receive came back to a group it had left: {[g for g, _ in runs]}")
        filled = runs[-1][0] if runs and len(ids) == room else None
        for g, run in runs:
            expect(run == [m.message_id for m in ok[g][:len(run)]],
                   f"group {g}: got {run}, its next messages are "
                   f"{[m.message_id for m in ok[g]]}")
            expect(g == filled or len(run) == len(ok[g]),
                   f"group {g} was left with messages before the receive moved on")
        for g, ds in dead.items():
            here = {m.message_id for m in ds} & moved_ids
            everything = {m.message_id for m in ds}
            if g == filled:
                last = next(m for m in ok[g] if m.message_id == runs[-1][1][-1])
                reached = {m.message_id for m in ds if m.order < last.order}
                expect(here == reached, f"group {g}: dead letters moved {here}, reached {reached}")
            elif any(g == rg for rg, _ in runs) or len(ids) < room:
                expect(here == everything, f"group {g}: dead letters {everything - here} left")
            else:
                expect(here in (set(), everything), f"group {g}: half its dead letters moved")
        everyone = {m.message_id for ds in dead.values() for m in ds}
        expect(moved_ids <= everyone, f"moved without reaching maxReceiveCount: "
                                      f"{moved_ids - everyone}")
        timeout = q.visibility_timeout if timeout is None else timeout
        for d in delivered:
            m = self.messages[d.message_id]
            expect(d.body == m.body and d.group == m.group and d.dedup_id == m.dedup_id,
                   f"{m.message_id}: body/group/dedup id differ")
            expect(d.sequence_number == m.sequence_number,
                   f"{m.message_id}: SequenceNumber {d.sequence_number}, expected "
                   f"{m.sequence_number}")
            expect(d.receive_count == m.receive_count + 1, f"{m.message_id}: receive count")
            expect(d.receipt not in self.handles, f"receipt handle {d.receipt} reused")
            expect(d.dead_letter_source == m.dead_letter_source, f"{m.message_id}: DLQ source")
            m.place, m.deadline = Place.IN_FLIGHT, now + timeout
            m.receive_count += 1
            m.receipt, m.received_at = d.receipt, now
            if m.first_received_at is None:
                m.first_received_at = now
            self.handles[d.receipt] = (queue, m.message_id)
        for mid in moved_ids:
            self._dead_letter(self.messages[mid], now)
        self.settle(now)

    # -- handles ----------------------------------------------------------------------------------

    def issued_by(self, queue: str, handle: object) -> bool:
        return isinstance(handle, str) and self.handles.get(handle, ("",))[0] == queue

    def _in_flight(self, queue: str, handle: object) -> FifoMessage | None:
        if not self.issued_by(queue, handle):
            return None
        assert isinstance(handle, str)
        m = self.messages[self.handles[handle][1]]
        if m.queue == queue and m.receipt == handle and m.place is Place.IN_FLIGHT:
            return m
        return None

    def delete(self, queue: str, handle: object, now: float, well_formed: bool) -> set[str]:
        if not self.issued_by(queue, handle) and not well_formed:
            return {"ReceiptHandleIsInvalid"}
        q = self.queues[queue]
        m = self._in_flight(queue, handle)
        if m is not None:
            assert isinstance(handle, str)
            q.deleted_handles[handle] = m.deadline
            m.place, m.queue, m.receipt = Place.DELETED, None, None
            return set()
        if isinstance(handle, str) and now < q.deleted_handles.get(handle, -1.0):
            return set()  # deleted while this handle was valid, which it still is
        return {"InvalidParameterValue"}  # "The receipt handle has expired."

    def change_visibility_errors(self, queue: str, handle: object, timeout: object, now: float,
                                 well_formed: bool) -> set[str]:
        codes = set()
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not (
            0 <= timeout <= MAX_VISIBILITY
        ):
            codes.add("InvalidParameterValue")
        if not self.issued_by(queue, handle) and not well_formed:
            return codes | {"ReceiptHandleIsInvalid"}
        m = self._in_flight(queue, handle)
        if m is None:
            codes.add("InvalidParameterValue")
        elif isinstance(timeout, int) and now + timeout - m.received_at > MAX_VISIBILITY:
            codes.add("InvalidParameterValue")
        return codes

    def change_visibility(self, queue: str, handle: str, timeout: int, now: float) -> None:
        m = self._in_flight(queue, handle)
        assert m is not None
        m.deadline = now + timeout
        self.settle(now)

    # -- purge ------------------------------------------------------------------------------------

    def purge(self, queue: str, now: float) -> set[str]:
        q = self.queues[queue]
        if q.last_purge is not None and now - q.last_purge < PURGE_COOLDOWN:
            return {"PurgeQueueInProgress"}
        q.last_purge = now
        for m in self.held(queue):
            m.place, m.queue, m.receipt = Place.DELETED, None, None
        q.dedup.clear()
        q.deleted_handles.clear()
        return set()
