"""A reference model of standard SQS queues: the rules, plainly, for model-based tests.

The model keeps every message it has ever seen in one dict, by body (the tests give every
message a unique body, which survives the new ``MessageId`` a move task gives). A message is in
exactly one place: held by one queue as ``DELAYED``, ``VISIBLE`` or ``IN_FLIGHT``, or gone for
good as ``DELETED`` (deleted or purged) or ``EXPIRED`` (past its retention period).

Standard queues choose freely which visible messages a receive returns and in which order
("best-effort ordering"), so the model does not predict *which* messages come back. Each
operation that involves such a choice takes the outcome the real queue produced, checks that it
is one the rules allow, and applies it. Where the rules leave no choice (counts, receive counts,
deadlines, which error), the model says what must happen.

Rules, with the AWS pages they come from (SQS Developer Guide and API Reference):

* Delays: a message sent with ``DelaySeconds`` (per message, else the queue's) becomes visible
  that many seconds later (SendMessage).
* Receive: 1-10 messages, ``WaitTimeSeconds`` 0-20, ``VisibilityTimeout`` 0-43,200. A long poll
  returns as soon as a message is available, else empty at its deadline (ReceiveMessage;
  "Amazon SQS short and long polling"). Every receive increments the receive count and issues a
  new receipt handle. With a redrive policy, a message whose receive count has reached
  ``maxReceiveCount`` moves to the dead-letter queue instead of being returned ("Using
  dead-letter queues in Amazon SQS"). This model expects a receive to return as many messages
  as it may (``min(max, available, room under the in-flight limit)``); a receive that returns
  fewer than it asked for has seen every visible message, so every dead letter among them has
  moved.
* In-flight limit: a standard queue with that many messages in flight fails a receive with
  ``OverLimit`` while messages are visible ("Amazon SQS message quotas").
* Visibility: a received message is invisible until ``now + timeout``, then visible again with
  the same receive count. ChangeMessageVisibility sets ``now + timeout`` (0: visible now);
  the total since the receive that issued the handle may not pass 43,200 s
  (ChangeMessageVisibility). The latest handle of a message that is visible again (and not
  received since) still works: it hides the message again (AWS-validated, see
  ``Queue.change_visibility``). A handle that no longer names a held message fails
  ``InvalidParameterValue``; a handle the queue never issued fails ``ReceiptHandleIsInvalid``.
* Delete: the latest handle deletes the message, in flight or visible again; an older handle,
  or one of a message already gone, succeeds and does nothing (DeleteMessage).
* Retention: a message is gone ``MessageRetentionPeriod`` seconds after it was enqueued. A
  standard dead-letter queue keeps the original enqueue time ("Setting-up dead-letter queue
  retention in Amazon SQS").
* Purge: removes every held message; a second purge within 60 s fails ``PurgeQueueInProgress``
  (PurgeQueue).
* Move tasks: moving a dead-letter queue's messages back gives each a new ``MessageId`` and a
  new enqueue time (retention starts again) and receive count ("Learn how to configure a
  dead-letter queue redrive in Amazon SQS": "All redriven messages are considered new
  messages"); the task moves at most ``MaxNumberOfMessagesPerSecond`` (default here 500) a
  second, the number of messages held when it started (StartMessageMoveTask,
  ListMessageMoveTasks).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Mismatch",
    "Place",
    "ModelMessage",
    "QueueModel",
    "TaskModel",
    "Delivery",
    "SqsModel",
    "MAX_VISIBILITY",
    "PURGE_COOLDOWN",
]

MAX_VISIBILITY = 43_200
PURGE_COOLDOWN = 60.0
MAX_BATCH = 10
DEFAULT_TASK_RATE = 500


class Mismatch(AssertionError):
    """The real queue did something the rules do not allow."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


class Place(enum.Enum):
    DELAYED = "delayed"
    VISIBLE = "visible"
    IN_FLIGHT = "in flight"
    DELETED = "deleted"
    EXPIRED = "expired"


HELD = (Place.DELAYED, Place.VISIBLE, Place.IN_FLIGHT)


@dataclass
class ModelMessage:
    """One message, wherever it is now."""

    body: str
    message_id: str
    queue: str | None  # the queue holding it; None once deleted or expired
    place: Place
    sent_at: float  # enqueue time: retention counts from here
    available_at: float = 0.0  # DELAYED: when it becomes visible
    deadline: float = 0.0  # IN_FLIGHT: when it becomes visible again
    receive_count: int = 0
    receipt: str | None = None  # the latest handle `queue` issued for it
    received_at: float = -1.0  # when that handle was issued (the 12-hour ceiling counts from it)
    first_received_at: float | None = None
    dead_letter_source: str | None = None  # the queue it was dead-lettered from
    past_ids: list[str] = field(default_factory=list)
    moved_by_task: bool = False

    @property
    def held(self) -> bool:
        return self.place in HELD


@dataclass
class QueueModel:
    """One queue's configuration and purge clock."""

    name: str
    visibility_timeout: int = 30
    retention: int = 345_600
    delay: int = 0
    wait: int = 0
    dead_letter_queue: str | None = None
    max_receive_count: int = 0  # 0: no redrive policy
    max_in_flight: int | None = None
    last_purge: float | None = None


@dataclass
class TaskModel:
    """A message move task."""

    source: str
    destination: str | None  # None: each message's dead-letter source
    rate: int | None
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    next_step: float | None = None


@dataclass(frozen=True)
class Delivery:
    """What a receive returned for one message."""

    body: str
    message_id: str
    receipt: str
    receive_count: int
    dead_letter_source: str | None


class SqsModel:
    """Standard queues on one clock."""

    def __init__(self) -> None:
        self.queues: dict[str, QueueModel] = {}
        self.messages: dict[str, ModelMessage] = {}
        # Every handle ever issued: handle -> (queue, body).
        self.handles: dict[str, tuple[str, str]] = {}
        self.ids_seen: set[str] = set()
        self.tasks: list[TaskModel] = []  # newest first

    # -- looking ------------------------------------------------------------------------------

    def add_queue(self, queue: QueueModel) -> None:
        self.queues[queue.name] = queue

    def held(self, queue: str, place: Place | None = None) -> list[ModelMessage]:
        return [
            m for m in self.messages.values()
            if m.queue == queue and m.held and (place is None or m.place == place)
        ]

    def counts(self, queue: str) -> tuple[int, int, int]:
        """(visible, in flight, delayed): ``ApproximateNumberOfMessages``, ``...NotVisible``,
        ``...Delayed``."""
        return (
            len(self.held(queue, Place.VISIBLE)),
            len(self.held(queue, Place.IN_FLIGHT)),
            len(self.held(queue, Place.DELAYED)),
        )

    def is_dead_letter(self, message: ModelMessage) -> bool:
        """Whether the next receive moves this visible message to the dead-letter queue."""
        assert message.queue is not None
        q = self.queues[message.queue]
        return q.max_receive_count > 0 and message.receive_count >= q.max_receive_count

    def running_task(self) -> TaskModel | None:
        return next((t for t in self.tasks if t.status == "RUNNING"), None)

    # -- time ---------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Apply everything due by ``now``: retention ends, delays end, timeouts expire."""
        for m in self.messages.values():
            if not m.held:
                continue
            assert m.queue is not None
            if m.sent_at + self.queues[m.queue].retention <= now:
                self._leave(m, Place.EXPIRED)
            elif m.place is Place.DELAYED and m.available_at <= now:
                m.place = Place.VISIBLE
            elif m.place is Place.IN_FLIGHT and m.deadline <= now:
                m.place = Place.VISIBLE

    def _leave(self, m: ModelMessage, place: Place) -> None:
        m.place = place
        m.queue = None
        m.receipt = None

    def change_times(self, queue: str) -> list[float]:
        """When messages of ``queue`` may become visible (ends of delays and timeouts)."""
        out = []
        for m in self.held(queue):
            if m.place is Place.DELAYED:
                out.append(m.available_at)
            elif m.place is Place.IN_FLIGHT:
                out.append(m.deadline)
        return sorted(set(out))

    # -- sending ------------------------------------------------------------------------------

    @staticmethod
    def send_errors(body: object, delay: object) -> set[str]:
        """The error codes a send may fail with (empty: it must succeed)."""
        codes = set()
        if not isinstance(body, str):
            codes.add("InvalidParameterValue")
        elif not body:
            codes.add("MissingParameter")
        elif any(not _allowed(c) for c in body):
            codes.add("InvalidMessageContents")
        if delay is not None and not _int_in(delay, 0, 900):
            codes.add("InvalidParameterValue")
        return codes

    def send(self, queue: str, body: str, delay: int | None, now: float, message_id: str) -> None:
        expect(message_id not in self.ids_seen, f"MessageId {message_id} was issued twice")
        expect(body not in self.messages, f"test error: body {body!r} reused")
        self.ids_seen.add(message_id)
        q = self.queues[queue]
        wait = q.delay if delay is None else delay
        self.messages[body] = ModelMessage(
            body, message_id, queue,
            Place.DELAYED if wait > 0 else Place.VISIBLE,
            sent_at=now, available_at=now + wait,
        )

    @staticmethod
    def batch_errors(ids: list[object]) -> set[str]:
        """Errors that refuse a whole batch call (empty: the entries are judged one by one)."""
        if not ids:
            return {"EmptyBatchRequest"}
        if len(ids) > MAX_BATCH:
            return {"TooManyEntriesInBatchRequest"}
        codes = set()
        seen: set[object] = set()
        for entry_id in ids:
            if not (isinstance(entry_id, str) and 1 <= len(entry_id) <= 80
                    and all(c.isascii() and (c.isalnum() or c in "-_") for c in entry_id)):
                codes.add("InvalidBatchEntryId")
            elif entry_id in seen:
                codes.add("BatchEntryIdsNotDistinct")
            seen.add(entry_id)
        return codes

    # -- receiving ----------------------------------------------------------------------------

    @staticmethod
    def receive_errors(max_messages: object, wait: object, timeout: object) -> set[str]:
        if (not _int_in(max_messages, 1, 10) or (wait is not None and not _int_in(wait, 0, 20))
                or (timeout is not None and not _int_in(timeout, 0, MAX_VISIBILITY))):
            return {"InvalidParameterValue"}
        return set()

    def _room(self, q: QueueModel) -> float:
        if q.max_in_flight is None:
            return float("inf")
        return q.max_in_flight - len(self.held(q.name, Place.IN_FLIGHT))

    def _over_limit(self, q: QueueModel) -> bool:
        return self._room(q) <= 0 and bool(self.held(q.name, Place.VISIBLE))

    def receive_plan(self, queue: str, t0: float, wait: int | None) -> tuple[float, str]:
        """When a receive begun at ``t0`` ends and how: ``"deliver"``, ``"empty"`` or
        ``"OverLimit"``. Settles the model up to that time, moving the dead letters that the
        receive's earlier looks (which found nothing to return) moved."""
        q = self.queues[queue]
        deadline = t0 + (q.wait if wait is None else wait)
        t = t0
        while True:
            self.settle(t)
            if self._over_limit(q):
                return t, "OverLimit"
            if any(not self.is_dead_letter(m) for m in self.held(queue, Place.VISIBLE)):
                return t, "deliver"
            if t >= deadline:
                return t, "empty"
            if self._room(q) > 0:
                # Nothing to return: this look saw every visible message, so every dead
                # letter among them moved.
                for m in self.held(queue, Place.VISIBLE):
                    self._dead_letter(m, q)
            later = [x for x in self.change_times(queue) if t < x <= deadline]
            t = later[0] if later else deadline

    def _dead_letter(self, m: ModelMessage, q: QueueModel) -> None:
        assert q.dead_letter_queue is not None
        m.queue = q.dead_letter_queue
        m.place = Place.VISIBLE
        m.receipt = None
        m.dead_letter_source = q.name

    def receive(
        self,
        queue: str,
        now: float,
        max_messages: int,
        timeout: int | None,
        delivered: list[Delivery],
        moved: set[str],
    ) -> None:
        """Judge and apply a receive that ended at ``now`` (after :meth:`receive_plan`)."""
        q = self.queues[queue]
        visible = self.held(queue, Place.VISIBLE)
        deliverable = {m.body: m for m in visible if not self.is_dead_letter(m)}
        dead = {m.body for m in visible if self.is_dead_letter(m)}
        room = min(max_messages, self._room(q))
        want = int(min(room, len(deliverable)))
        bodies = [d.body for d in delivered]
        expect(len(set(bodies)) == len(bodies), f"a receive returned a message twice: {bodies}")
        for body in bodies:
            expect(body in deliverable, self._why_not_deliverable(body, queue, now))
        expect(
            len(delivered) == want,
            f"receive(max {max_messages}) on {queue} returned {len(delivered)} messages; "
            f"{len(deliverable)} were available, room {room}",
        )
        expect(moved <= dead, f"moved to the DLQ without reaching maxReceiveCount: {moved - dead}")
        if len(deliverable) < room:
            expect(moved == dead, f"dead letters left behind by a receive: {dead - moved}")
        timeout = q.visibility_timeout if timeout is None else timeout
        for d in delivered:
            m = deliverable[d.body]
            expect(d.message_id == m.message_id,
                   f"{d.body}: MessageId {d.message_id}, expected {m.message_id}")
            expect(d.receive_count == m.receive_count + 1,
                   f"{d.body}: receive count {d.receive_count}, expected {m.receive_count + 1}")
            expect(d.receipt not in self.handles, f"{d.body}: receipt handle {d.receipt} reused")
            expect(d.dead_letter_source == m.dead_letter_source,
                   f"{d.body}: DeadLetterQueueSourceArn {d.dead_letter_source}, "
                   f"expected {m.dead_letter_source}")
            expect(now < m.sent_at + q.retention, f"{d.body} delivered after its retention")
            m.place = Place.IN_FLIGHT
            m.receive_count += 1
            m.deadline = now + timeout
            m.receipt = d.receipt
            m.received_at = now
            if m.first_received_at is None:
                m.first_received_at = now
            self.handles[d.receipt] = (queue, d.body)
        for body in moved:
            self._dead_letter(self.messages[body], q)
        self.settle(now)

    def _why_not_deliverable(self, body: str, queue: str, now: float) -> str:
        m = self.messages.get(body)
        if m is None:
            return f"received {body!r}, which was never sent"
        if m.queue != queue or not m.held:
            return f"received {body!r} from {queue}, but it is {m.place.value} in {m.queue}"
        if m.place is not Place.VISIBLE:
            return f"received {body!r} at {now}, but it is {m.place.value}"
        return f"received {body!r}, whose receive count {m.receive_count} reached maxReceiveCount"

    # -- handles ------------------------------------------------------------------------------

    def _latest(self, queue: str, handle: object) -> ModelMessage | None:
        """The held message whose latest handle (issued by ``queue``) this is."""
        if not isinstance(handle, str) or handle not in self.handles:
            return None
        owner, body = self.handles[handle]
        m = self.messages[body]
        if owner != queue or m.queue != queue or m.receipt != handle:
            return None
        return m

    def issued_by(self, queue: str, handle: object) -> bool:
        return isinstance(handle, str) and self.handles.get(handle, ("",))[0] == queue

    def delete(self, queue: str, handle: object) -> set[str]:
        """Apply DeleteMessage; return the error codes allowed (empty: must succeed)."""
        if not self.issued_by(queue, handle):
            return {"ReceiptHandleIsInvalid"}
        m = self._latest(queue, handle)
        if m is not None:
            self._leave(m, Place.DELETED)
        return set()

    def change_visibility_errors(self, queue: str, handle: object, timeout: object,
                                 now: float) -> set[str]:
        codes = set()
        if not _int_in(timeout, 0, MAX_VISIBILITY):
            codes.add("InvalidParameterValue")
        if not self.issued_by(queue, handle):
            codes.add("ReceiptHandleIsInvalid")
            return codes
        m = self._latest(queue, handle)
        if m is None:
            codes.add("InvalidParameterValue")  # deleted, moved, or received again since
        elif isinstance(timeout, int) and now + timeout - m.received_at > MAX_VISIBILITY:
            codes.add("InvalidParameterValue")  # past the 12-hour ceiling
        return codes

    def change_visibility(self, queue: str, handle: str, timeout: int, now: float) -> None:
        """Apply a ChangeMessageVisibility that :meth:`change_visibility_errors` allowed."""
        m = self._latest(queue, handle)
        assert m is not None
        if m.place is Place.IN_FLIGHT or timeout > 0:
            m.place = Place.IN_FLIGHT
            m.deadline = now + timeout
        self.settle(now)

    # -- whole queues -------------------------------------------------------------------------

    def purge(self, queue: str, now: float) -> set[str]:
        """Apply PurgeQueue; return the error codes allowed (empty: must succeed)."""
        q = self.queues[queue]
        if q.last_purge is not None and now - q.last_purge < PURGE_COOLDOWN:
            return {"PurgeQueueInProgress"}
        q.last_purge = now
        for m in self.held(queue):
            self._leave(m, Place.DELETED)
        return set()

    # -- move tasks ---------------------------------------------------------------------------

    def start_task_errors(self, source: str, rate: object) -> set[str]:
        codes = set()
        if not any(q.dead_letter_queue == source for q in self.queues.values()):
            codes.add("InvalidParameterValue")
        if rate is not None and not _int_in(rate, 1, 500):
            codes.add("InvalidParameterValue")
        if self.running_task() is not None:
            # "There is already a task running. Only one active task is allowed for a source
            # queue arn at a given time." (StartMessageMoveTask; AWS answers 400
            # InvalidParameterValue)
            codes.add("InvalidParameterValue")
        return codes

    def start_task(self, source: str, destination: str | None, rate: int | None,
                   now: float) -> TaskModel:
        visible, in_flight, _ = self.counts(source)
        task = TaskModel(source, destination, rate, visible + in_flight, next_step=now)
        self.tasks.insert(0, task)
        return task

    def task_step_plan(self) -> tuple[TaskModel, int] | None:
        """The running task and how many messages its due step must move."""
        task = self.running_task()
        if task is None:
            return None
        quota = task.rate or DEFAULT_TASK_RATE
        visible = len(self.held(task.source, Place.VISIBLE))
        return task, min(quota, task.to_move - task.moved, visible)

    def task_step(self, now: float, moved: dict[str, str]) -> None:
        """Judge and apply one step of the running task at ``now`` (its due time), which moved
        ``moved`` (body -> new MessageId)."""
        plan = self.task_step_plan()
        assert plan is not None
        task, want = plan
        expect(task.next_step == now, f"move task stepped at {now}, due {task.next_step}")
        expect(len(moved) == want, f"move task step moved {len(moved)} messages, expected {want}")
        for body, new_id in moved.items():
            m = self.messages[body]
            expect(m.queue == task.source and m.place is Place.VISIBLE,
                   f"move task moved {body!r}, which is {m.place.value} in {m.queue}")
            destination = task.destination or m.dead_letter_source
            assert destination is not None
            expect(new_id != m.message_id and new_id not in self.ids_seen,
                   f"{body!r} kept or reused MessageId {new_id} when moved by a task")
            self.ids_seen.add(new_id)
            m.past_ids.append(m.message_id)
            m.message_id = new_id
            m.queue = destination
            m.place = Place.VISIBLE
            m.sent_at = now
            m.receive_count = 0
            m.receipt = None
            m.received_at = -1.0
            m.first_received_at = None
            m.dead_letter_source = None
            m.moved_by_task = True
        task.moved += len(moved)
        if task.moved >= task.to_move or not self.held(task.source):
            task.status = "COMPLETED"
            task.next_step = None
        else:
            task.next_step = now + 1.0

    def cancel_task(self) -> int | None:
        """Cancel the running task; its moved count, or ``None`` when none is running."""
        task = self.running_task()
        if task is None:
            return None
        task.status = "CANCELLED"
        task.next_step = None
        return task.moved

    # -- everything ---------------------------------------------------------------------------

    def bodies_by_place(self) -> dict[tuple[str | None, Place], set[str]]:
        out: dict[tuple[str | None, Place], set[str]] = {}
        for m in self.messages.values():
            out.setdefault((m.queue, m.place), set()).add(m.body)
        return out

    def all_messages(self) -> Iterable[ModelMessage]:
        return self.messages.values()


def _allowed(c: str) -> bool:
    n = ord(c)
    return (n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD
            or 0x10000 <= n <= 0x10FFFF)


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
