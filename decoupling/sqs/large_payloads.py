"""The claim-check pattern of AWS's extended clients: large payloads in a bucket, pointers in
the queue.

``PayloadOffload`` is what ``Queue(..., large_payloads=...)``, ``FifoQueue`` and ``Topic`` take.
A body over the threshold is stored as an object and the message carries a pointer, in the
format of ``amazon-sqs-extended-client`` / ``amazon-sns-extended-client`` for Python (and the
Java ``amazon-sqs-java-extended-client-lib`` / ``payloadoffloading-common`` they follow), so
either end can be ours or theirs:

- the body: ``["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b",
  "s3Key": "k"}]`` (the legacy ``com.amazon.sqs.javamessaging.MessageS3Pointer`` is read too);
- the message attribute ``ExtendedPayloadSize`` (``Number``: the payload's UTF-8 length; the
  legacy ``SQSLargePayloadSize`` is read too); a user's ``S3Key`` attribute names the key;
- the receipt handle of a resolved message:
  ``-..s3BucketName..-<bucket>-..s3BucketName..--..s3Key..-<key>-..s3Key..-<handle>``.

AWS references: "Managing large Amazon SQS messages using Amazon S3"
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-s3-messages.html,
payloads up to 2 GB) and "Publishing large messages with Amazon SNS and Amazon S3"
(https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html).

The bucket is duck-typed (``name``, ``loop``, ``put``, ``get``, ``delete``, ``keys``): ``sqs`` and
``sns`` do not import ``s3``; pointers naming another bucket are resolved through the loop's
registry. Calls served to boto3 clients (``decoupling.boto``) see the queue as SQS does, raw:
the claim-check is a client-side feature, and AWS's own extended clients do it themselves.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from ..errors import (
    DecouplingError,
    InvalidMessageContents,
    InvalidParameterValue,
    NoSuchBucket,
)
from ..message import Message, MessageAttributeValue, error_entry
from .results import BatchResult

if TYPE_CHECKING:
    from .queue import Queue
    from .results import SendResult

__all__ = ["PayloadOffload", "DEFAULT_THRESHOLD", "MAX_PAYLOAD_BYTES"]

#: The extended clients' default threshold (bytes of body plus attributes).
DEFAULT_THRESHOLD = 262_144
#: The largest threshold accepted: SQS's largest ``MaximumMessageSize`` (1 MiB).
MAX_THRESHOLD = 1_048_576
#: "up to a size of 2 GB" (the extended clients' documentation): 2 GiB.
MAX_PAYLOAD_BYTES = 2 * 1024**3

POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"
LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer"
SIZE_ATTRIBUTE = "ExtendedPayloadSize"
LEGACY_SIZE_ATTRIBUTE = "SQSLargePayloadSize"
KEY_ATTRIBUTE = "S3Key"
BUCKET_MARKER = "-..s3BucketName..-"
KEY_MARKER = "-..s3Key..-"
#: User metadata on an object a topic stored for several readers: how many (``-1``: unknown,
#: a reader other than a queue). A delete that finds it but no count in memory (the process
#: restarted) keeps the object: :meth:`PayloadOffload.orphans` reports it once unreferenced.
READERS_METADATA = "payload-readers"
#: At most 10 attributes on SQS; the extended clients keep one for the size.
MAX_USER_ATTRIBUTES = 9

# True while a call is served to a boto3 client: queues and topics then act as the services do.
_raw: ContextVar[bool] = ContextVar("decoupling_raw_payloads", default=False)

# Objects a topic offloaded for several subscribers: bucket -> key -> deletes still to come
# (-1: never deleted by a queue, a non-queue subscriber may read it any time).
_shared: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def raw() -> Iterator[None]:
    """Within this block, queues and topics ignore their ``large_payloads`` (the service's
    view, used by ``decoupling.boto``): nothing is offloaded, resolved or deleted."""
    token = _raw.set(True)
    try:
        yield
    finally:
        _raw.reset(token)


def is_raw() -> bool:
    """Whether the current call is served raw (see :func:`raw`)."""
    return _raw.get()


def pointer_body(bucket: str, key: str) -> str:
    """The message body that points at ``s3://bucket/key``, as the extended clients write it."""
    return json.dumps([POINTER_CLASS, {"s3BucketName": bucket, "s3Key": key}])


def parse_pointer(body: str) -> tuple[str, str]:
    """``(bucket, key)`` from a pointer body.

    Raises:
        InvalidMessageContents: not a pointer of either class.
    """
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    if (
        isinstance(found, list)
        and len(found) == 2
        and found[0] in (POINTER_CLASS, LEGACY_POINTER_CLASS)
        and isinstance(found[1], dict)
        and isinstance(found[1].get("s3BucketName"), str)
        and isinstance(found[1].get("s3Key"), str)
        and found[1]["s3BucketName"]
        and found[1]["s3Key"]
    ):
        return found[1]["s3BucketName"], found[1]["s3Key"]
    shown = body if len(body) <= 200 else body[:200] + "..."
    raise InvalidMessageContents(
        "The message carries an ExtendedPayloadSize attribute but its body is not a payload "
        f"pointer ([\"{POINTER_CLASS}\", {{\"s3BucketName\": ..., \"s3Key\": ...}}]): {shown!r}"
    )


def is_pointer(attributes: Mapping[str, Any] | None) -> bool:
    """Whether message attributes mark the body as a payload pointer."""
    return bool(attributes) and (
        SIZE_ATTRIBUTE in attributes or LEGACY_SIZE_ATTRIBUTE in attributes  # type: ignore[operator]
    )


def handle_with_pointer(bucket: str, key: str, handle: str) -> str:
    """The receipt handle the extended clients give a resolved message."""
    return f"{BUCKET_MARKER}{bucket}{BUCKET_MARKER}{KEY_MARKER}{key}{KEY_MARKER}{handle}"


def split_handle(handle: str) -> tuple[str, str, str] | None:
    """``(bucket, key, queue handle)`` of a handle made by :func:`handle_with_pointer`, or
    ``None`` for any other string."""
    if not handle.startswith(BUCKET_MARKER):
        return None
    end = handle.find(BUCKET_MARKER, len(BUCKET_MARKER))
    if end < 0 or not handle.startswith(KEY_MARKER, end + len(BUCKET_MARKER)):
        return None
    start = end + len(BUCKET_MARKER) + len(KEY_MARKER)
    stop = handle.find(KEY_MARKER, start)
    if stop < 0:
        return None
    return handle[len(BUCKET_MARKER):end], handle[start:stop], handle[stop + len(KEY_MARKER):]


def plain_handle(handle: object) -> object:
    """The queue's own handle inside an extended-client handle (else ``handle`` unchanged)."""
    if isinstance(handle, str):
        parts = split_handle(handle)
        if parts is not None:
            return parts[2]
    return handle


def _attributes_size(attributes: Mapping[str, MessageAttributeValue] | None) -> int:
    """Bytes of attributes as the extended clients count them: name, data type, value."""
    total = 0
    for name, value in (attributes or {}).items():
        total += len(name.encode()) + len(value.data_type.encode())
        if value.binary_value is not None:
            total += len(value.binary_value)
        elif value.string_value is not None:
            total += len(value.string_value.encode("utf-8", "surrogatepass"))
    return total


class _Plan:
    __slots__ = ("key", "payload", "body", "attributes")

    def __init__(
        self, key: str, payload: bytes, body: str, attributes: dict[str, MessageAttributeValue]
    ) -> None:
        self.key = key
        self.payload = payload
        self.body = body
        self.attributes = attributes


class PayloadOffload:
    """Large message bodies go to a bucket; the message carries a pointer (claim-check).

    Args:
        bucket: a :class:`~decoupling.Bucket` of the queue's (or topic's) loop.
        threshold: a body whose UTF-8 bytes plus attribute bytes exceed this many is offloaded
            (0-1,048,576; default 262,144, the extended clients' default; attributes count
            name, data type and value, as they count them).
        always: offload every non-empty body, whatever its size (default ``False``; the
            extended clients' ``always_through_s3``).
        delete_on_delete: deleting a message deletes its payload object (default ``True``,
            as the Java client's ``cleanupS3Payload``; the Python SQS client's
            ``delete_payload_from_s3`` defaults to ``False``). A payload a topic offloaded
            for several queues is deleted with the last of their messages; it is kept (and
            :meth:`orphans` reports it once unreferenced) when a non-queue subscriber reads
            it too, when it came in a ``publish_batch``, or when the count was lost to a
            restart (the object's ``payload-readers`` metadata marks it shared).

    Payloads may be up to 2 GB (2,147,483,648 bytes of UTF-8). SQS's message size limit
    applies to the pointer message, not the payload. A body is held once as ``str`` (the
    caller's) and once as ``bytes`` (the object): never more.

    As with AWS's clients: the object is written before the message is sent, so a message
    never points at nothing, but a send cut short between the two (a crash) leaves an object
    no message points at; so do a purge, retention expiry, or a delete with
    ``delete_on_delete=False``. :meth:`orphans` lists them. (A message the queue or topic
    refuses stores nothing.) A pointer whose object is gone makes ``receive`` raise
    ``NoSuchKey``; the message stays in the queue. Calls served to boto3 clients through
    ``decoupling.boto`` see the queue as SQS does (pointers as they are): AWS's extended
    clients do the claim-check themselves. A message with a pointer is at
    most 9 user attributes plus ``ExtendedPayloadSize``. On a FIFO queue or topic,
    content-based deduplication hashes the pointer (which names a fresh key), so a large
    message is deduplicated only by an explicit deduplication id. With a durable loop the
    queue keeps the pointer messages and the bucket the objects; ``large_payloads`` itself is
    a client-side setting, given again after a restart.

    Raises:
        InvalidParameterValue: a bucket without ``put``/``get``/``delete``, or a threshold or
            flag out of range.
    """

    def __init__(
        self,
        bucket: Any,
        threshold: int = DEFAULT_THRESHOLD,
        always: bool = False,
        delete_on_delete: bool = True,
    ) -> None:
        if not all(hasattr(bucket, a) for a in ("name", "loop", "put", "get", "delete", "keys")):
            raise InvalidParameterValue(
                f"PayloadOffload needs a Bucket (decoupling.Bucket), got {type(bucket).__name__}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not (
            0 <= threshold <= MAX_THRESHOLD
        ):
            raise InvalidParameterValue(
                f"The payload threshold must be an integer from 0 to {MAX_THRESHOLD} bytes, "
                f"got {threshold!r}"
            )
        for name, flag in (("always", always), ("delete_on_delete", delete_on_delete)):
            if not isinstance(flag, bool):
                raise InvalidParameterValue(f"{name} must be True or False, got {flag!r}")
        self.bucket = bucket
        self.threshold = threshold
        self.always = always
        self.delete_on_delete = delete_on_delete

    def __repr__(self) -> str:
        return (
            f"PayloadOffload(bucket={self.bucket.name!r}, threshold={self.threshold}, "
            f"always={self.always}, delete_on_delete={self.delete_on_delete})"
        )

    def _check_loop(self, owner: Any) -> None:
        if self.bucket.loop is not owner.loop:
            raise InvalidParameterValue(
                f"large_payloads: bucket {self.bucket.name!r} belongs to another EventLoop than "
                f"{owner.name!r}; use a bucket of the same loop."
            )

    # -- sending --------------------------------------------------------------------------------

    def _plan(
        self,
        body: object,
        attributes: Mapping[str, Any] | None,
        normalize: Callable[[Any], dict[str, MessageAttributeValue] | None],
        client: str,
    ) -> _Plan | None:
        """What to store and send instead of ``body``, or ``None`` to send it as it is.
        Writes nothing. Raises for attributes the extended clients refuse."""
        if _raw.get() or type(body) is not str or not body:
            return None  # the queue's own checks answer
        if attributes and (SIZE_ATTRIBUTE in attributes or LEGACY_SIZE_ATTRIBUTE in attributes):
            try:
                parse_pointer(body)
                return None  # already a pointer (a topic's delivery, a forward): as it is
            except DecouplingError:
                pass
            name = SIZE_ATTRIBUTE if SIZE_ATTRIBUTE in attributes else LEGACY_SIZE_ATTRIBUTE
            raise InvalidParameterValue(
                f"Message attribute name {name} is reserved for use by the {client} extended "
                "client (large_payloads)."
            )
        normalized = normalize(attributes) if attributes else None
        attr_size = _attributes_size(normalized)
        if not self.always:
            size = len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
            if size + attr_size <= self.threshold:
                return None
        if len(body) > MAX_PAYLOAD_BYTES:
            raise InvalidParameterValue(_too_large(len(body)))
        try:
            payload = body.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidMessageContents(
                f"The payload is not valid Unicode text (it cannot be encoded as UTF-8): {error}"
            ) from None
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InvalidParameterValue(_too_large(len(payload)))
        user = dict(normalized or {})
        if len(user) > MAX_USER_ATTRIBUTES:
            raise InvalidParameterValue(
                f"Number of message attributes {len(user)} exceeds the maximum allowed for "
                f"large-payload messages {MAX_USER_ATTRIBUTES}."
            )
        # The SQS client holds attributes to its fixed 262,144 bytes, the SNS client to its
        # threshold (what each counts is the same: name, data type, value).
        limit = DEFAULT_THRESHOLD if client == "SQS" else self.threshold
        if attr_size > limit:
            raise InvalidParameterValue(
                f"Total size of message attributes is {attr_size} bytes which is larger than "
                f"the threshold of {limit} bytes. Consider including the payload in the "
                "message body instead of the message attributes."
            )
        key_value = user.get(KEY_ATTRIBUTE)
        if key_value is not None and key_value.string_value:
            key = key_value.string_value
        else:
            key = self.bucket.loop.new_id()
        user[SIZE_ATTRIBUTE] = MessageAttributeValue("Number", str(len(payload)))
        return _Plan(key, payload, pointer_body(self.bucket.name, key), user)

    def _store(self, plan: _Plan, readers: int | None = None) -> None:
        metadata = None if readers is None else {READERS_METADATA: str(readers)}
        self.bucket.put(plan.key, plan.payload, metadata=metadata)

    def _discard(self, key: str) -> None:
        """Delete an object written for a message that was then not sent."""
        with contextlib.suppress(DecouplingError):
            self.bucket.delete(key)

    def _send(
        self,
        queue: Queue,
        body: str,
        attributes: Mapping[str, Any] | None,
        delay: int | None,
        group_id: str | None,
        dedup_id: str | None,
        trace: str | None,
    ) -> SendResult:
        """``queue.send`` with this offload: validate the pointer message, write the object,
        send. A message that is not sent (an error, a FIFO duplicate) leaves no object."""
        from ..message import normalize_attributes

        plan = None if _raw.get() else self._plan(body, attributes, normalize_attributes, "SQS")
        if plan is None:
            return _send_now(queue, body, attributes, delay, group_id, dedup_id, trace)[0]
        self._check_loop(queue)
        with queue._lock:  # everything the send checks, before the object is written
            queue._check_alive()
            record, _, result = queue._prepare(
                plan.body, plan.attributes, delay, group_id, dedup_id, trace,
                queue.loop.clock.now(),
            )
        if record is None:
            return result  # a FIFO duplicate: nothing to store
        self._store(plan)
        try:
            result, sent = _send_now(
                queue, plan.body, plan.attributes, delay, group_id, dedup_id, trace
            )
        except BaseException:
            self._discard(plan.key)
            raise
        if not sent:
            self._discard(plan.key)
        return result

    def _send_batch(self, queue: Queue, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """``queue.send_batch`` with this offload: large entries' payloads are written, the
        batch sent with pointers; objects of entries that failed are deleted again."""
        from ..message import normalize_attributes

        with queue._lock:
            queue._check_alive()
            normalized = queue._batch_entries(entries)
        written: dict[str, str] = {}
        refused: list[dict[str, Any]] = []
        changed: list[tuple[str, Mapping[str, Any]]] = []
        try:
            for entry_id, entry in normalized:
                try:
                    plan = self._plan(
                        entry.get("MessageBody"), entry.get("MessageAttributes"),
                        normalize_attributes, "SQS",
                    )
                except DecouplingError as error:  # the entry fails, as a send would
                    refused.append(error_entry(entry_id, error))
                    continue
                if plan is None:
                    changed.append((entry_id, entry))
                    continue
                self._check_loop(queue)
                self._store(plan)
                written[entry_id] = plan.key
                changed.append((entry_id, {
                    **entry, "MessageBody": plan.body,
                    "MessageAttributes": {k: v for k, v in plan.attributes.items()},
                }))
            with queue._lock:
                queue._check_alive()
                result, total = queue._send_batch_entries(changed, queue.loop.clock.now())
                tap = queue.loop._tap
                if tap is not None:
                    tap.sqs_send_batch(queue, total)
        except BaseException:
            for key in written.values():
                self._discard(key)
            raise
        for failed in result.failed:
            failed_key = written.get(str(failed.get("Id")))
            if failed_key is not None:
                self._discard(failed_key)
        if refused:
            return BatchResult(result.successful, refused + result.failed)
        return result

    # -- receiving ------------------------------------------------------------------------------

    def _resolve(self, queue: Queue, messages: list[Message]) -> list[Message]:
        """Replace each pointer message by its payload (``receive`` with this offload).

        A pointer to a missing bucket or object, or a malformed pointer, raises (NoSuchBucket,
        NoSuchKey, InvalidMessageContents) and loses nothing: that message stays in flight
        until its visibility timeout, then is received again (and redriven to a dead-letter
        queue as the redrive policy says); the others of the same receive, which the caller
        never sees, are made visible again at once.
        """
        if _raw.get():
            return messages
        out: list[Message] = []
        for i, message in enumerate(messages):
            attributes = message.message_attributes
            if not is_pointer(attributes):
                out.append(message)
                continue
            try:
                out.append(self._resolved(message))
            except DecouplingError as error:
                others = [m.receipt_handle for j, m in enumerate(messages) if j != i]
                for handle in others:
                    with contextlib.suppress(DecouplingError):
                        queue.change_visibility(handle, 0)
                error.message = (
                    f"{error.message} (the payload of message {message.message_id} in "
                    f"{queue.name}; the message stays in the queue and is received again after "
                    "its visibility timeout)"
                )
                error.args = (error.message,)
                raise
        return out

    def _resolved(self, message: Message) -> Message:
        bucket_name, key = parse_pointer(message.body)
        bucket = self.bucket
        if bucket_name != bucket.name:
            bucket = bucket.loop._lookup("s3", bucket_name)
            if bucket is None:
                raise NoSuchBucket(f"The specified bucket does not exist. ({bucket_name})")
        data = bucket.get(key).body
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidMessageContents(
                f"The payload object s3://{bucket_name}/{key} is not UTF-8 text: {error}"
            ) from None
        del data
        attributes = {
            k: v for k, v in message.message_attributes.items()
            if k not in (SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE)
        }
        return Message(
            message.message_id, text,
            handle_with_pointer(bucket_name, key, message.receipt_handle), attributes,
            message.receive_count, message.sent_timestamp, message.first_receive_timestamp,
            message.sender_id, message.message_group_id, message.message_deduplication_id,
            message.sequence_number, message.dead_letter_queue_source_arn,
            message.aws_trace_header,
        )

    # -- deleting -------------------------------------------------------------------------------

    def _deleted(self, record: Any) -> None:
        """A message left its queue by delete (lock held): delete its payload object."""
        if not self.delete_on_delete or _raw.get() or not is_pointer(record.attributes):
            return
        try:
            bucket_name, key = parse_pointer(record.body)
        except DecouplingError:
            return
        bucket = self.bucket
        if bucket_name != bucket.name:
            bucket = bucket.loop._lookup("s3", bucket_name)
            if bucket is None:
                return
        shared = _shared.get(bucket)
        if shared is not None and key in shared:
            left = shared[key]
            if left < 0:
                return
            if left > 1:
                shared[key] = left - 1
                return
            del shared[key]
        else:
            try:
                if READERS_METADATA in bucket.head(key).metadata:
                    return  # shared, and its count was lost with a restart: kept
            except DecouplingError:
                return  # gone already
        with contextlib.suppress(DecouplingError):
            bucket.delete(key)

    # -- topics ---------------------------------------------------------------------------------

    def _before_publish(
        self,
        topic: Any,
        message: Any,
        subject: Any,
        attributes: Mapping[str, Any] | None,
        structure: Any,
        group_id: Any,
        dedup_id: Any,
        normalize: Callable[[Any], dict[str, MessageAttributeValue] | None],
    ) -> tuple[Any, Mapping[str, Any] | None]:
        """``topic.publish`` with this offload, before it publishes: the message and
        attributes to publish instead. A large message is checked as the publish will check
        its pointer, then stored once; every subscription gets the pointer. Nothing is stored
        for a message the publish would refuse, or a FIFO duplicate. ``normalize``: SNS's
        attribute check (``sqs`` does not import ``sns``)."""
        plan = self._plan(message, attributes, normalize, "SNS")
        if plan is None:
            return message, attributes
        if structure is not None:
            raise InvalidParameterValue(
                "A message_structure='json' message cannot be offloaded (the SNS extended "
                "client does not support sending JSON messages)."
            )
        self._check_loop(topic)
        with topic._lock:
            topic._check_alive()
            pub, _ = topic._prepare(plan.body, subject, plan.attributes, None, group_id, dedup_id)
            if pub is None:
                return plan.body, plan.attributes  # a FIFO duplicate: nothing to store
            routes = topic._route(pub)
        readers = _readers(routes)
        self._store(plan, readers)
        if readers is not None:
            with topic._lock:
                _shared.setdefault(self.bucket, {})[plan.key] = readers
        return plan.body, plan.attributes

    def _publish_batch(
        self,
        topic: Any,
        entries: Sequence[Mapping[str, Any] | str],
        normalize: Callable[[Any], dict[str, MessageAttributeValue] | None],
    ) -> Any:
        """``topic.publish_batch`` with this offload. A payload published in a batch to a topic
        with more than one subscription is kept (not deleted by the queues' deletes): see
        :meth:`orphans`."""
        out, written, refused = self._outgoing_batch(topic, entries, normalize)
        try:
            if out or not refused:
                result = topic._publish_batch_now(out)
            elif isinstance(entries, Sequence) and len(entries) > 10:
                result = topic._publish_batch_now(entries)  # TooManyEntriesInBatchRequest
            else:
                result = None
        except BaseException:
            for key in written.values():
                self._discard(key)
            raise
        if result is None:
            return BatchResult([], refused)
        for failed in result.failed:
            failed_key = written.pop(str(failed.get("Id")), None)
            if failed_key is not None:
                self._discard(failed_key)
        if written and len(topic._subs) > 1:
            with topic._lock:
                counts = _shared.setdefault(self.bucket, {})
                for key in written.values():
                    counts[key] = -1  # kept: a batch does not count its readers
        if refused:
            return BatchResult(result.successful, refused + result.failed)
        return result

    def _outgoing_batch(
        self,
        topic: Any,
        entries: Sequence[Mapping[str, Any] | str],
        normalize: Callable[[Any], dict[str, MessageAttributeValue] | None],
    ) -> tuple[Any, dict[str, str], list[dict[str, Any]]]:
        """``publish_batch`` entries with large messages replaced by pointers (objects
        written); entry id -> key written; and the failed entries of entries the extended
        client would refuse (left out of the batch)."""
        out: list[Any] = []
        written: dict[str, str] = {}
        refused: list[dict[str, Any]] = []
        if _raw.get() or isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
            return entries, written, refused  # publish_batch answers for what is not a list
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"Id": str(index), "Message": entry}
            if not isinstance(entry, Mapping) or entry.get("MessageStructure") is not None:
                out.append(entry)
                continue
            try:
                plan = self._plan(
                    entry.get("Message"), entry.get("MessageAttributes"), normalize, "SNS"
                )
            except DecouplingError as error:  # the entry fails, as a publish would
                refused.append(error_entry(str(entry.get("Id")), error))
                continue
            if plan is None:
                out.append(entry)
                continue
            self._check_loop(topic)
            self._store(plan, -1 if len(topic._subs) > 1 else None)
            written[str(entry.get("Id"))] = plan.key
            out.append({**entry, "Message": plan.body, "MessageAttributes": plan.attributes})
        return out, written, refused

    # -- housekeeping ---------------------------------------------------------------------------

    def orphans(self, *holders: Any) -> list[str]:
        """Keys of objects in the bucket that no message of ``holders`` (queues; visible,
        delayed or in flight) points at: payloads whose message was never sent (a crash
        between the object write and the send), deleted with ``delete_on_delete=False``,
        purged, expired or deleted by a raw client. AWS's extended clients leave such objects
        too (they write the object first, and ``purge_queue`` warns that payloads stay);
        delete them, or give the bucket a lifecycle rule. O(objects + messages)."""
        referenced: set[str] = set()
        lock = self.bucket.loop._lock
        with lock:
            for holder in holders:
                for entry in holder._ledger.entries():
                    record = entry.record
                    if is_pointer(record.attributes):
                        try:
                            name, key = parse_pointer(record.body)
                        except DecouplingError:
                            continue
                        if name == self.bucket.name:
                            referenced.add(key)
            return [k for k in self.bucket.keys() if k not in referenced]


def _readers(routes: list[tuple[bool, Sequence[Any]]]) -> int | None:
    """How many queue deliveries will delete the object a publish stores: ``None`` for at
    most one queue (its delete deletes it), ``-1`` when another protocol reads it too (kept)."""
    subs = [s for matched, group in routes if matched for s in group]
    if not all(s.protocol == "sqs" for s in subs):
        return -1
    return len(subs) if len(subs) > 1 else None


def _too_large(size: int) -> str:
    return (
        f"The payload is {size} bytes; a large payload may be at most {MAX_PAYLOAD_BYTES} "
        "bytes (2 GB)."
    )


def _send_now(
    queue: Queue,
    body: str,
    attributes: Mapping[str, Any] | None,
    delay: int | None,
    group_id: str | None,
    dedup_id: str | None,
    trace: str | None,
) -> tuple[SendResult, bool]:
    """Queue.send without the offload hook; and whether a message was enqueued."""
    with queue._lock:
        queue._check_alive()
        now = queue.loop.clock.now()
        record, delay_s, result = queue._prepare(
            body, attributes, delay, group_id, dedup_id, trace, now
        )
        if record is not None:
            queue._commit(record, delay_s, now)
        tap = queue.loop._tap
        if tap is not None:
            tap.sqs_send(queue, body, attributes)
        return result, record is not None
