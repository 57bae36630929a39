"""The batch half of ``Queue``: SendMessageBatch, DeleteMessageBatch and
ChangeMessageVisibilityBatch, with AWS's whole-call errors and per-entry results."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, cast

from .._core.ledger import _CHUNK, _FLIGHT
from ..errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    DecouplingError,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameterValue,
    TooManyEntriesInBatchRequest,
)
from ..message import _md5, error_entry, message_size, normalize_attributes, utf8_len
from ._state import _QueueState, _Record
from .results import BatchResult

if TYPE_CHECKING:
    from .queue import Queue

_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
MAX_BATCH = 10
#: The most a batch's entries may hold together, bytes (the service maximum, whatever the
#: queue's MaximumMessageSize).
MAX_BATCH_BYTES = 1_048_576
#: The last three hex digits of a plain send's message id (see EventLoop._id_block).
_HEX3 = tuple(f"{i:03x}" for i in range(4096))
#: The ``Id`` of a plain-string batch entry: its index.
_INDEX_IDS = tuple(str(i) for i in range(MAX_BATCH))


class _QueueBatches(_QueueState):
    """Mixin of :class:`~decoupling.Queue`: its three batch calls."""

    def send_batch(
        self, entries: Sequence[Mapping[str, Any] | str]
    ) -> BatchResult:
        """Send up to 10 messages (SendMessageBatch).

        Each entry is AWS-shaped (``{"Id": "1", "MessageBody": "...", "DelaySeconds": 0,
        "MessageAttributes": {...}, "MessageGroupId": ..., "MessageDeduplicationId": ...}``) or a
        plain body string (its ``Id`` is then its index). Entries that fail validation are
        listed in ``failed``; the others are sent.

        Raises:
            EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId,
            BatchEntryIdsNotDistinct, BatchRequestTooLong: the whole call is refused.
        """
        offload = self._offload
        if offload is not None:  # large payloads go to a bucket first (PayloadOffload)
            return offload._send_batch(cast("Queue", self), entries)
        result: tuple[BatchResult, int] | None
        with self._lock:
            result = self._send_backlog_batch(entries) if self._plain_max else None
            if result is None:
                self._check_alive()
                normalized = self._batch_entries(entries)
                now = self.loop.clock.now()
                sent = None if self.is_fifo else self._send_plain_batch(normalized, now)
                if sent is not None:
                    result = sent, sum(len(entry["MessageBody"]) for _, entry in normalized)
                else:
                    result = self._send_batch_entries(normalized, now)
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_send_batch(self, result[1])  # type: ignore[arg-type]
            return result[0]

    def _send_backlog_batch(
        self, entries: Sequence[Mapping[str, Any] | str]
    ) -> tuple[BatchResult, int] | None:
        """The commonest batch, checked and sent in one call: a list of 1-10 dicts of an ``Id``
        (distinct, alphanumeric) and a printable ASCII ``MessageBody`` within the size limits,
        to a queue that takes plain sends (``_plain_max``: standard, no delay, quiet, not
        deleted) and that nobody observes. Every check of :meth:`_batch_entries` and the
        general path holds for it by construction; the messages go to the ledger's backlog as
        :meth:`_send_plain_batch` sends them. Returns the result and the bytes sent; ``None``
        (nothing checked to the end, nothing changed) for any other batch or queue. O(k)."""
        ledger = self._ledger
        if (
            type(entries) is not list
            or not 0 < len(entries) <= MAX_BATCH
            or self._observers
            or not ledger.accepts_plain
        ):
            return None
        limit = self._plain_max  # (MaximumMessageSize)
        total = 0
        ids: list[str] = []
        bodies: list[str] = []
        for entry in entries:
            if type(entry) is not dict or len(entry) != 2:
                return None
            entry_id = entry.get("Id")
            body = entry.get("MessageBody")
            if (
                type(entry_id) is not str
                or not entry_id.isascii()
                or not entry_id.isalnum()
                or len(entry_id) > 80
                or type(body) is not str
                or not body.isascii()
                or not body.isprintable()
                or not 0 < len(body) <= limit
            ):
                return None
            total += len(body)
            ids.append(entry_id)
            bodies.append(body)
        if total > MAX_BATCH_BYTES or len(set(ids)) != len(ids):
            return None  # the general path raises BatchRequestTooLong / BatchEntryIdsNotDistinct
        manual = self._manual
        now = (
            manual._now if manual is not None  # (ManualClock.now())
            else _monotonic() if self._monotonic else self.loop.clock.now()
        )
        # To the ledger's backlog, as a plain send (Queue.send) stores one message, with its
        # message ids from the queue's block (Ledger.push_visible, inlined).
        if not ledger.n_backlog:
            due = now + ledger._retention
            if due < ledger._due:
                ledger._due = due
        tail = ledger._tail  # (_seal_tail empties this list in place)
        new_id = self._ids.__next__
        successful: list[dict[str, Any]] = []
        append = successful.append
        for entry_id, body in zip(ids, bodies):  # noqa: B905 (the same length)
            message_id = new_id()
            tail.append((now, message_id, body))
            if len(tail) >= _CHUNK:
                ledger._seal_tail()
            append({
                "Id": entry_id,
                "MessageId": message_id,
                "MD5OfMessageBody": _md5(body.encode()).hexdigest(),
            })
        n = len(ids)
        ledger.n_visible += n
        ledger.n_backlog += n
        if self._waiting:
            self._cond.notify(n)  # one waiter per message
        return BatchResult(successful, []), total

    def _send_plain_batch(
        self, normalized: list[tuple[str, Mapping[str, Any]]], now: float
    ) -> BatchResult | None:
        """The common batch on a standard queue — every entry an ``Id`` and a printable ASCII
        body within the size limits — sent without the general checks (each holds for it by
        construction), with one ``SentTimestamp`` for the call. ``None`` (nothing changed) for
        any other batch."""
        # (A loop: checking the batch whole with set/map/join calls measured ~50% slower for
        # 10 entries than this specialised bytecode.)
        limit = self._values["MaximumMessageSize"]
        total = 0
        bodies: list[str] = []
        for _, entry in normalized:
            body = entry.get("MessageBody")
            if (
                len(entry) != 2
                or type(body) is not str
                or not body.isascii()
                or not body.isprintable()
                or not 0 < len(body) <= limit
            ):
                return None
            total += len(body)
            bodies.append(body)
        if total > MAX_BATCH_BYTES:
            return None  # the general path raises BatchRequestTooLong
        delay = float(self._values["DelaySeconds"])
        observed = bool(self._observers)
        ledger = self._ledger
        if delay <= 0 and not observed and ledger.accepts_plain:
            # To the ledger's backlog, as a plain send (Queue.send) stores one message, with
            # its message ids from the queue's block (Ledger.push_visible, inlined).
            queue = cast("Queue", self)
            if not ledger.n_backlog:
                due = now + ledger._retention
                if due < ledger._due:
                    ledger._due = due
            tail = ledger._tail  # (_seal_tail empties this list in place)
            new_id = queue._ids.__next__
            successful: list[dict[str, Any]] = []
            for (entry_id, _), body in zip(normalized, bodies, strict=True):
                message_id = new_id()
                tail.append((now, message_id, body))
                if len(tail) >= _CHUNK:
                    ledger._seal_tail()
                successful.append({
                    "Id": entry_id,
                    "MessageId": message_id,
                    "MD5OfMessageBody": _md5(body.encode()).hexdigest(),
                })
            ledger.n_visible += len(bodies)
            ledger.n_backlog += len(bodies)
            if self._waiting:
                self._cond.notify(len(successful))  # one waiter per message
            return BatchResult(successful, [])
        wall_ms = self.loop.clock.wall_ms()
        new_id = self.loop.new_id
        records = [_Record(new_id(), body, None, wall_ms) for body in bodies]
        if delay <= 0:
            held = self._ledger.enqueue_visible(records, now)
            if observed:  # one "sent" per message (a durable store), after the batch's enqueue
                for sent in held:
                    self._emit("sent", sent)
        elif observed:
            for record in records:
                self._commit(record, delay, now)
        else:
            enqueue = self._ledger.enqueue
            for record in records:
                enqueue(record, now, delay=delay)
        successful = [
            {
                "Id": entry_id,
                "MessageId": record.message_id,
                "MD5OfMessageBody": _md5(record.body.encode()).hexdigest(),
            }
            for (entry_id, _), record in zip(normalized, records, strict=True)
        ]
        if self._waiting and (delay <= 0 or not observed):  # _commit's waking, once a call
            if delay <= 0:
                self._cond.notify(len(successful))  # one waiter per message
            else:
                self._cond.notify_all()  # every waiter re-plans to the delay's end
        return BatchResult(successful, [])

    def _send_batch_entries(
        self, normalized: list[tuple[str, Mapping[str, Any]]], now: float
    ) -> tuple[BatchResult, int]:
        """Any batch: each entry checked and sent in order (a FIFO entry's deduplication sees
        the entries before it); returns the result and the bytes counted against 1 MiB."""
        total = 0
        for _, entry in normalized:
            body = entry.get("MessageBody")
            if isinstance(body, str):
                attrs_ = entry.get("MessageAttributes")
                if not attrs_:
                    total += utf8_len(body)
                    continue
                try:
                    total += message_size(body, normalize_attributes(attrs_))
                except DecouplingError:
                    total += len(body)
        # The sum is held to the service maximum (1 MiB), not the queue's MaximumMessageSize,
        # which applies to each message (SendMessageBatch API reference; AWS-validated in
        # LocalStack's test_send_message_batch_with_oversized_contents*).
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have "
                f"sent {total} bytes."
            )
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry_id, entry in normalized:
            try:
                if not _SEND_ENTRY_KEYS.issuperset(entry):
                    unknown = set(entry) - _SEND_ENTRY_KEYS
                    raise InvalidParameterValue(
                        f"Unknown batch entry field(s): {', '.join(sorted(map(str, unknown)))}."
                    )
                if "MessageBody" not in entry:
                    raise InvalidParameterValue("The request must contain MessageBody.")
                record, delay, sent = self._prepare(
                    entry["MessageBody"],
                    entry.get("MessageAttributes"),
                    entry.get("DelaySeconds"),
                    entry.get("MessageGroupId"),
                    entry.get("MessageDeduplicationId"),
                    _batch_trace_header(entry.get("MessageSystemAttributes")),
                    now,
                )
            except DecouplingError as error:
                failed.append(error_entry(entry_id, error))
                continue
            if record is not None:  # None: a FIFO duplicate, answered but not stored
                self._commit(record, delay, now)
            successful.append({"Id": entry_id, **sent.to_aws()})
        return BatchResult(successful, failed), total

    @staticmethod
    def _batch_entries(
        entries: Sequence[Mapping[str, Any] | str],
        body_key: str = "MessageBody",
        entry_type: str = "SendMessageBatchRequestEntry",
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """Check a batch's shape (count, ids) and return ``(Id, entry)`` pairs.

        ``entry_type``: the request's entry shape, named in the empty-batch message as SQS
        names it ("There should be at least one DeleteMessageBatchRequestEntry in the
        request."; checked against AWS by moto's ``test_delete_message_batch_with_zero_entries``).
        """
        if type(entries) is not list and (
            isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence)
        ):
            raise InvalidParameterValue("Batch entries must be a list.")
        if not entries:
            raise EmptyBatchRequest(f"There should be at least one {entry_type} in the request.")
        if len(entries) > MAX_BATCH:
            raise TooManyEntriesInBatchRequest(
                f"Maximum number of entries per request are {MAX_BATCH}. You have sent "
                f"{len(entries)}."
            )
        out: list[tuple[str, Mapping[str, Any]]] = []
        seen: set[str] = set()
        append = out.append
        for index, entry in enumerate(entries):
            if type(entry) is dict:
                pass  # the common case: no ABC check
            elif isinstance(entry, str):
                entry = {"Id": str(index), body_key: entry}
            elif not isinstance(entry, Mapping):
                raise InvalidParameterValue(f"Batch entry {index} must be a mapping or a string.")
            entry_id = entry.get("Id")
            if type(entry_id) is str and entry_id.isascii() and entry_id.isalnum() and (
                len(entry_id) <= 80
            ):
                pass  # the common id ("0", "msg1"): no regular expression needed
            elif not isinstance(entry_id, str) or not _BATCH_ID.fullmatch(entry_id):
                raise InvalidBatchEntryId(
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long."
                )
            if entry_id in seen:
                raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
            seen.add(entry_id)
            append((entry_id, entry))
        return out

    def delete_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Delete up to 10 messages (DeleteMessageBatch).

        Entries are ``{"Id": ..., "ReceiptHandle": ...}`` or plain handles (``Id`` = index).
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
            if (
                type(entries) is list
                and 0 < len(entries) <= MAX_BATCH
                and not self.is_fifo
                and self.loop._tap is None
                and self._offload is None  # (its deletes remove payloads)
            ):
                # The common batch: current handles, as plain strings (each Id its index) or
                # as dicts of exactly an Id (alphanumeric) and a ReceiptHandle, the ids
                # distinct, removed together. Anything else — a stale or invalid handle,
                # another entry — takes the general path below, which answers each entry;
                # nothing has changed until then.
                handles = ledger.handles
                found: list[Any] | None
                if type(entries[0]) is str:  # plain handles: looked up in C
                    try:
                        found = [*map(handles.get, entries)]
                    except TypeError:  # an unhashable entry: the general path says which
                        found = None
                    if found is not None and None not in found:
                        if self._observers:  # (they hear of entries: a flight's are made first)
                            found = [ledger.entry_for(receipt) for receipt in entries]
                            ledger.remove_many(found)
                            for held in dict.fromkeys(found):  # a handle given twice: one event
                                self._emit("deleted", held)
                        else:
                            ledger.remove_handles(entries, found)
                        return BatchResult([{"Id": i} for i in _INDEX_IDS[:len(found)]], [])
                found = []
                receipts: list[str] = []
                ids: list[str] = []
                for entry in entries:
                    if type(entry) is dict and len(entry) == 2:
                        receipt: Any = entry.get("ReceiptHandle")
                        entry_id: Any = entry.get("Id")
                        if (
                            type(receipt) is not str
                            or type(entry_id) is not str
                            or not entry_id.isascii()
                            or not entry_id.isalnum()
                            or len(entry_id) > 80
                        ):
                            break
                    else:
                        break
                    held = handles.get(receipt)
                    if held is None:
                        break
                    found.append(held)
                    receipts.append(receipt)
                    ids.append(entry_id)
                else:
                    if len(set(ids)) == len(ids):
                        if self._observers:  # (they hear of entries: a flight's are made first)
                            found = [ledger.entry_for(receipt) for receipt in receipts]
                            ledger.remove_many(found)
                            for held in dict.fromkeys(found):  # a handle given twice: one event
                                self._emit("deleted", held)
                        else:
                            ledger.remove_handles(receipts, found)
                        return BatchResult([{"Id": entry_id} for entry_id in ids], [])
            normalized = self._batch_entries(
                entries, "ReceiptHandle", "DeleteMessageBatchRequestEntry"
            )
            successful: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            tap = self.loop._tap
            # A standard queue without a tap: a current handle's delete is the ledger's remove,
            # then one "deleted" event per message for the observers (a durable store), after
            # the batch's removals rather than between them (FIFO hooks and taps take the full
            # path).
            ledger = self._ledger
            # (A claim-check's deletes take the full path too: its hook deletes the payload.)
            fast = not self.is_fifo and tap is None and self._offload is None
            handles = ledger.handles
            observed = bool(self._observers)
            found = []
            found_handles = []
            for entry_id, entry in normalized:
                handle = entry.get("ReceiptHandle")
                if fast and type(handle) is str:
                    held = handles.get(handle)
                    if held is not None:
                        if observed and type(held) is _FLIGHT:  # (observers hear of entries)
                            held = ledger.entry_for(handle)
                        found.append(held)
                        found_handles.append(handle)
                        successful.append({"Id": entry_id})
                        continue
                try:
                    self._delete_settled(handle)
                except DecouplingError as error:
                    failed.append(error_entry(entry_id, error))
                else:
                    successful.append({"Id": entry_id})
            if found:
                ledger.remove_handles(found_handles, found)
                if observed:
                    for held in dict.fromkeys(found):  # a handle given twice: one event
                        self._emit("deleted", held)
            if tap is not None:  # one request, not len(successful) DeleteMessage requests
                tap.sqs_batch(cast("Queue", self), "DeleteMessageBatch", "DeleteMessage", len(successful))
            return BatchResult(successful, failed)

    def change_visibility_batch(self, entries: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Change the visibility of up to 10 messages (ChangeMessageVisibilityBatch).

        Entries are ``{"Id": ..., "ReceiptHandle": ..., "VisibilityTimeout": ...}``.
        """
        with self._lock:
            self._check_alive()
            normalized = self._batch_entries(
                entries, "ReceiptHandle", "ChangeMessageVisibilityBatchRequestEntry"
            )
            successful: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            for entry_id, entry in normalized:
                try:
                    self.change_visibility(
                        entry.get("ReceiptHandle"),  # type: ignore[arg-type]
                        entry.get("VisibilityTimeout"),  # type: ignore[arg-type]
                    )
                except DecouplingError as error:
                    failed.append(error_entry(entry_id, error))
                else:
                    successful.append({"Id": entry_id})
            tap = self.loop._tap
            if tap is not None:
                tap.sqs_batch(cast("Queue", self), "ChangeMessageVisibilityBatch", "ChangeMessageVisibility",
                              len(successful))
            return BatchResult(successful, failed)


_SEND_ENTRY_KEYS = frozenset(
    {
        "Id",
        "MessageBody",
        "DelaySeconds",
        "MessageAttributes",
        "MessageSystemAttributes",
        "MessageGroupId",
        "MessageDeduplicationId",
    }
)


def _batch_trace_header(system: object) -> object:
    """``AWSTraceHeader``'s value from a batch entry's ``MessageSystemAttributes``
    (``{"AWSTraceHeader": {"DataType": "String", "StringValue": ...}}``), or ``None``."""
    if system is None:
        return None
    trace = system.get("AWSTraceHeader") if isinstance(system, Mapping) else system
    if trace is None:
        return None
    if not isinstance(trace, Mapping):
        raise InvalidParameterValue(
            "MessageSystemAttributes must be {\"AWSTraceHeader\": {\"DataType\": \"String\", "
            f"\"StringValue\": ...}}}}, got {system!r}."
        )
    return trace.get("StringValue")
