"""Publishing to a topic: ``Publish`` and ``PublishBatch``.

Validation follows the SNS API reference (``Publish``, ``PublishBatch``); FIFO topics add
``MessageGroupId`` (required), deduplication within 5 minutes (``MessageDeduplicationId`` or
the SHA-256 of the message with ``ContentBasedDeduplication``; per topic, or per group with
``FifoThroughputScope=MessageGroup``) and a strictly increasing ``SequenceNumber``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from ..errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    DecouplingError,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameter,
    TooManyEntriesInBatchRequest,
)
from ..message import error_entry
from ..sqs.large_payloads import PayloadOffload
from ..sqs.queue import BatchResult
from .archive import Archive
from .filter_policy import PreparedAttributes
from .message import (
    Published,
    check_group_or_dedup_id,
    check_message,
    check_subject,
    message_size,
    normalize_sns_attributes,
    parse_structure,
    plain_attributes,
    plain_attributes_size,
)

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .filter_policy import FilterPolicy
    from .signing import Signing
    from .subscription import Subscription

__all__ = ["PublishResult"]

DEDUP_WINDOW = 300.0
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]*")
_BATCH_KEYS = frozenset({"Id", "Message", "Subject", "MessageStructure", "MessageAttributes",
                         "MessageGroupId", "MessageDeduplicationId"})


@attrs.frozen(slots=True)
class PublishResult:
    """What a publish returns: ``MessageId`` and, on FIFO topics, ``SequenceNumber``."""

    message_id: str
    sequence_number: str | None = None

    def to_aws(self) -> dict[str, str]:
        """The ``Publish`` response shape."""
        out = {"MessageId": self.message_id}
        if self.sequence_number is not None:
            out["SequenceNumber"] = self.sequence_number
        return out


class _Publishing:
    """The publishing half of :class:`~decoupling.Topic` (a mixin; state lives on Topic)."""

    loop: EventLoop
    arn: str
    is_fifo: bool
    _lock: threading.RLock
    _max_size: int
    _content_dedup: bool
    _scope: str
    _signing: Signing
    _archive: Archive | None
    _routes: tuple[tuple[FilterPolicy | None, str, tuple[Subscription, ...]], ...]
    _dedup: dict[tuple[str | None, str], tuple[float, PublishResult]]
    _dedup_order: deque[tuple[float, tuple[str | None, str]]]
    _sequence: int
    _published: int
    _sns_id_head: str
    #: The claim-check (``large_payloads``); ``None``: messages travel whole.
    _offload: PayloadOffload | None = None

    def _check_alive(self) -> None:
        raise NotImplementedError

    @property
    def large_payloads(self) -> PayloadOffload | None:
        """The :class:`~decoupling.PayloadOffload` large messages are published through, or
        ``None`` (default). Settable; ``None`` turns it off.

        Raises:
            InvalidParameter: not a ``PayloadOffload``, or its bucket is of another loop.
        """
        return self._offload

    @large_payloads.setter
    def large_payloads(self, offload: PayloadOffload | None) -> None:
        if offload is not None:
            if not isinstance(offload, PayloadOffload):
                raise InvalidParameter(
                    "Invalid parameter: large_payloads must be a PayloadOffload, got "
                    f"{type(offload).__name__}"
                )
            offload._check_loop(self)
        self._offload = offload

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        message_attributes: Mapping[str, Any] | None = None,
        message_structure: str | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> PublishResult:
        """Publish one message to every matching subscription (``Publish``).

        Args:
            message: the text (or, with ``message_structure="json"``, a JSON object with a
                ``default`` key and optional per-protocol keys).
            subject: 1-100 characters; emails use it, envelopes carry it.
            message_attributes: name to value (``str``, number, ``bytes``, list for
                ``String.Array``, or :class:`~decoupling.MessageAttributeValue`); any number
                (the message plus attributes within ``MaximumMessageSize``). A raw-delivery SQS
                subscription cannot take more than SQS's 10: such a message is a client-side
                delivery failure there (to its dead-letter queue, if any), while enveloped
                subscriptions receive it.
            message_structure: ``"json"`` or ``None``. With ``"json"`` the message attributes
                are used by filter policies but not delivered, as SNS does.
            message_group_id: required on FIFO topics; on standard topics forwarded only to
                standard SQS subscriptions (fair queues).
            message_deduplication_id: FIFO topics only; a duplicate within 5 minutes (per topic,
                or per group with ``FifoThroughputScope=MessageGroup``) is accepted, returns the
                first publish's ids, and is not delivered.

        Cost: O(s) for s subscriptions plus one filter evaluation per distinct filter policy;
        the envelope JSON is built once per distinct message shape.

        With :attr:`large_payloads`, a message over its threshold is stored once in its bucket
        and published as the extended clients' pointer (``message_structure`` is then refused,
        as the SNS extended client refuses it).

        Raises:
            InvalidParameter, ParameterValueInvalid, NotFound (deleted topic).
        """
        if self._offload is not None:
            message, message_attributes = self._offload._before_publish(
                self, message, subject, message_attributes, message_structure,
                message_group_id, message_deduplication_id, normalize_sns_attributes,
            )
        with self._lock:
            self._check_alive()
            pub, duplicate = self._prepare(
                message, subject, message_attributes, message_structure, message_group_id,
                message_deduplication_id,
            )
            if pub is None:
                assert duplicate is not None
                result = duplicate
            else:
                result = self._commit(pub)
            tap = self.loop._tap
            if tap is not None:
                tap.sns_publish_request(self, message, message_attributes)
            return result

    def _prepare(
        self,
        message: object,
        subject: object,
        message_attributes: Mapping[str, Any] | None,
        message_structure: object,
        group_id: object,
        dedup_id: object,
    ) -> tuple[Published | None, PublishResult | None]:
        """Validate one publish; return its record, or the earlier result for a FIFO duplicate.
        Changes nothing."""
        text = check_message(message)
        structure = parse_structure(text, message_structure)
        subj = check_subject(subject)
        plain = plain_attributes(message_attributes)
        attributes = None
        if plain is not None:
            size = message_size(text, None) + plain_attributes_size(plain)
        else:
            attributes = normalize_sns_attributes(message_attributes)
            size = message_size(text, attributes)
        if size > self._max_size:
            raise InvalidParameter("Invalid parameter: Message too long")
        clock = self.loop.clock
        now = clock.now()
        group: str | None = None
        dedup: str | None = None
        if self.is_fifo:
            if group_id is None:
                raise InvalidParameter(
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
                )
            group = check_group_or_dedup_id("MessageGroupId", group_id)
            if dedup_id is not None:
                dedup = check_group_or_dedup_id("MessageDeduplicationId", dedup_id)
            elif self._content_dedup:
                dedup = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            else:
                raise InvalidParameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication "
                    "enabled or MessageDeduplicationId provided explicitly"
                )
            found = self._duplicate(group, dedup, now)
            if found is not None:
                return None, found
        else:
            if dedup_id is not None:
                raise InvalidParameter(
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                    "MessageDeduplicationId parameter that is not valid for this topic type"
                )
            if group_id is not None:
                group = check_group_or_dedup_id("MessageGroupId", group_id)
        sequence = None
        if self.is_fifo:
            sequence = str(10**19 + (self._sequence + 1) * 1000)
        # MessageId: the topic's random head plus its publish counter (the "c" variant nibble
        # keeps these apart from EventLoop.new_id's ids); the same counter, in hex, ends the
        # SQS message ids of this publish's queue deliveries (Subscription._sqs_id_head).
        suffix = f"{self._published + 1:012x}"
        pub = Published(
            self.arn, self._signing, self.is_fifo, self._sns_id_head + suffix, text,
            structure, subj, attributes, clock.wall_ms(), now, group, dedup, sequence, suffix,
            plain,
        )
        if structure is not None and (plain is not None or attributes is not None):
            # MessageStructure="json": the attributes still count (size, filter policies) but
            # are not delivered, as SNS does (no MessageAttributes in envelopes, none on raw
            # deliveries).
            pub._filter_attributes = pub.filter_attributes()
            pub._attributes = pub._plain = None
        return pub, None

    def _duplicate(self, group: str, dedup: str, now: float) -> PublishResult | None:
        order = self._dedup_order
        window = self._dedup
        while order and order[0][0] <= now:
            expires, key = order.popleft()
            entry = window.get(key)
            if entry is not None and entry[0] == expires:
                del window[key]
        entry = window.get((group if self._scope == "MessageGroup" else None, dedup))
        return None if entry is None else entry[1]

    def _commit(self, pub: Published) -> PublishResult:
        # Every filter is evaluated before anything changes: a policy that cannot match a
        # message (or fails on it) leaves the topic, its subscribers and observers untouched.
        routes = self._route(pub)
        result = PublishResult(pub.message_id, pub.sequence_number)
        self._published += 1
        if self.is_fifo:
            self._sequence += 1
            assert pub.dedup_id is not None
            dedup_key = (pub.group_id if self._scope == "MessageGroup" else None, pub.dedup_id)
            expires = pub.published_at + DEDUP_WINDOW
            self._dedup[dedup_key] = (expires, result)
            self._dedup_order.append((expires, dedup_key))
            if self._archive is not None:
                self._archive.add(pub)
        tap = self.loop._tap
        if tap is not None:
            tap.sns_published(self, pub)
        for matched, subs in routes:
            if not matched:
                if tap is not None:
                    tap.sns_filtered(self, subs, pub)
                continue
            for sub in subs:
                sub._fan(pub, False)
        pub.drop_shapes()
        return result

    def _route(self, pub: Published) -> list[tuple[bool, tuple[Subscription, ...]]]:
        """Whether each group of subscriptions (one filter policy each) takes ``pub``, in
        route order. Changes nothing."""
        out: list[tuple[bool, tuple[Subscription, ...]]] = []
        filter_attributes = None
        for policy, key, subs in self._routes:
            if policy is None:
                matched = True
            elif key:
                matched = policy.matches_body(pub.message_for(key))
            else:
                if filter_attributes is None:
                    filter_attributes = PreparedAttributes(pub.filter_attributes())
                # FilterPolicy.matches_attributes, inlined (it runs once per policy).
                matched = policy._empty or filter_attributes.filterable and \
                    policy._match_attributes(filter_attributes)
            out.append((matched, subs))
        return out

    async def publish_async(self, message: str, **kwargs: Any) -> PublishResult:
        """:meth:`publish` for asyncio, on the running asyncio loop (a publish never blocks:
        slow subscribers are served from the loop; same arguments and errors)."""
        return self.publish(message, **kwargs)

    async def publish_batch_async(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`publish_batch` for asyncio (never blocks; same arguments and errors)."""
        return self.publish_batch(entries)

    def publish_batch(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """Publish up to 10 messages (``PublishBatch``).

        Entries are AWS-shaped (``{"Id": "1", "Message": ..., "Subject": ...,
        "MessageStructure": ..., "MessageAttributes": {...}, "MessageGroupId": ...,
        "MessageDeduplicationId": ...}``) or plain strings (``Id`` = index). Entries that fail
        validation are listed in ``failed``; the others are published, in order.

        Raises:
            EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId,
            BatchEntryIdsNotDistinct, BatchRequestTooLong, InvalidParameter (a FIFO entry
            without ``MessageGroupId``, or without a deduplication id when content-based
            deduplication is off): the whole call is refused.
        """
        if self._offload is not None:
            return cast(
                BatchResult,
                self._offload._publish_batch(self, entries, normalize_sns_attributes),
            )
        return self._publish_batch_now(entries)

    def _publish_batch_now(self, entries: Sequence[Mapping[str, Any] | str]) -> BatchResult:
        """:meth:`publish_batch` without the claim-check."""
        with self._lock:
            self._check_alive()
            normalized = _batch_entries(entries)
            total = 0
            for _, entry in normalized:
                text = entry.get("Message")
                if isinstance(text, str):
                    try:
                        attrs_ = normalize_sns_attributes(entry.get("MessageAttributes"))
                    except DecouplingError:
                        attrs_ = None
                    total += message_size(text, attrs_)
                if self.is_fifo:
                    if entry.get("MessageGroupId") is None:
                        raise InvalidParameter(
                            "Invalid parameter: The MessageGroupId parameter is required for "
                            "FIFO topics"
                        )
                    if entry.get("MessageDeduplicationId") is None and not self._content_dedup:
                        raise InvalidParameter(
                            "Invalid parameter: The topic should either have "
                            "ContentBasedDeduplication enabled or MessageDeduplicationId "
                            "provided explicitly"
                        )
            if total > self._max_size:
                raise BatchRequestTooLong(
                    "The length of all the messages put together is more than the limit."
                )
            successful: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            for entry_id, entry in normalized:
                try:
                    unknown = set(entry) - _BATCH_KEYS
                    if unknown:
                        raise InvalidParameter(
                            f"Invalid parameter: unknown batch entry field(s) {sorted(unknown, key=repr)}"
                        )
                    pub, duplicate = self._prepare(
                        entry.get("Message"), entry.get("Subject"),
                        entry.get("MessageAttributes"), entry.get("MessageStructure"),
                        entry.get("MessageGroupId"), entry.get("MessageDeduplicationId"),
                    )
                except DecouplingError as error:
                    failed.append(error_entry(entry_id, error))
                    continue
                result = duplicate if pub is None else self._commit(pub)
                assert result is not None
                successful.append({"Id": entry_id, **result.to_aws()})
            tap = self.loop._tap
            if tap is not None:
                tap.sns_batch_request(self, total)
            return BatchResult(successful, failed)


def _batch_entries(entries: Sequence[Mapping[str, Any] | str]) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
        raise InvalidParameter("Invalid parameter: PublishBatchRequestEntries must be a list")
    if not entries:
        raise EmptyBatchRequest("The batch request doesn't contain any entries.")
    if len(entries) > 10:
        raise TooManyEntriesInBatchRequest(
            "The batch request contains more entries than permissible."
        )
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"Id": str(index), "Message": entry}
        if not isinstance(entry, Mapping):
            raise InvalidParameter(f"Invalid parameter: batch entry {index} must be a mapping")
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not entry_id:
            raise InvalidBatchEntryId("The Id of a batch entry in the batch request is missing.")
        if len(entry_id) > 80:
            raise InvalidBatchEntryId(
                f"The Id of a batch entry in the batch request is too long: {entry_id}"
            )
        if not _BATCH_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                "The Id of a batch entry in the batch request contains an impermissible "
                f"character: {entry_id}"
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(
                "Two or more batch entries in the request have the same Id."
            )
        seen.add(entry_id)
        out.append((entry_id, entry))
    return out
