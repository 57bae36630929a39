"""What queue calls return: ``SendResult`` and ``BatchResult``, in AWS's shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..message import MessageAttributeValue, md5_of_attributes, md5_of_body

__all__ = ["SendResult", "BatchResult"]


class SendResult:
    """What a send returns: ``MessageId``, the MD5s, and on FIFO queues ``SequenceNumber``.

    The digests are computed on first use: most callers never read them, and MD5 is a third of
    the cost of a send.
    """

    __slots__ = ("message_id", "sequence_number", "_md5", "_md5_attributes", "_body",
                 "_attributes")

    def __init__(
        self,
        message_id: str,
        md5_of_message_body: str | None,
        md5_of_message_attributes: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        self.message_id = message_id
        self.sequence_number = sequence_number
        self._md5 = md5_of_message_body
        self._md5_attributes = md5_of_message_attributes
        self._body: str | None = None
        self._attributes: Mapping[str, MessageAttributeValue] | None = None

    @classmethod
    def _lazy(
        cls,
        message_id: str,
        body: str,
        attributes: Mapping[str, MessageAttributeValue] | None,
        sequence_number: str | None = None,
    ) -> SendResult:
        result = cls(message_id, None, None, sequence_number)
        result._body = body
        result._attributes = attributes
        return result

    @property
    def md5_of_message_body(self) -> str:
        """``MD5OfMessageBody``: hex MD5 of the UTF-8 body."""
        if self._md5 is None:
            self._md5 = md5_of_body(self._body or "")
        return self._md5

    @property
    def md5_of_message_attributes(self) -> str | None:
        """``MD5OfMessageAttributes``, or ``None`` when the message has no attributes."""
        if self._md5_attributes is None and self._attributes:
            self._md5_attributes = md5_of_attributes(self._attributes)
        return self._md5_attributes

    def to_aws(self) -> dict[str, str]:
        """The SendMessage response shape."""
        out = {"MessageId": self.message_id, "MD5OfMessageBody": self.md5_of_message_body}
        md5_attributes = self.md5_of_message_attributes
        if md5_attributes is not None:
            out["MD5OfMessageAttributes"] = md5_attributes
        if self.sequence_number is not None:
            out["SequenceNumber"] = self.sequence_number
        return out

    def _key(self) -> tuple[str, str, str | None, str | None]:
        return (self.message_id, self.md5_of_message_body, self.md5_of_message_attributes,
                self.sequence_number)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SendResult) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"SendResult(message_id={self.message_id!r}, "
            f"md5_of_message_body={self.md5_of_message_body!r}, "
            f"md5_of_message_attributes={self.md5_of_message_attributes!r}, "
            f"sequence_number={self.sequence_number!r})"
        )


def _none_until_set(name: str) -> property:
    """A property over ``SendResult``'s slot ``name`` that reads ``None`` while it is unset."""
    slot = SendResult.__dict__[name]

    def get(self: SendResult) -> Any:
        try:
            return slot.__get__(self)
        except AttributeError:
            return None

    def set_(self: SendResult, value: Any) -> None:
        slot.__set__(self, value)

    return property(get, set_)


class _PlainSendResult(SendResult):
    """A :class:`SendResult` as the plain send makes it: ``_PlainSendResult()`` is a bare
    instance (``__init__`` is object's: a cheaper call than ``object.__new__``) whose
    ``message_id`` and ``_body`` the send sets; the other fields read ``None`` until set.
    Behaves as ``SendResult`` in every way."""

    __slots__ = ()
    __init__ = object.__init__

    sequence_number = _none_until_set("sequence_number")
    _md5 = _none_until_set("_md5")
    _md5_attributes = _none_until_set("_md5_attributes")
    _attributes = _none_until_set("_attributes")


@attrs.frozen(slots=True)
class BatchResult:
    """What a batch call returns, in AWS's shape.

    ``successful`` lists one dict per entry that worked (``{"Id": ..., ...}``); ``failed`` lists
    ``{"Id", "Code", "Message", "SenderFault"}`` for each entry that did not. One bad entry does
    not fail the others.
    """

    successful: list[dict[str, Any]]
    failed: list[dict[str, Any]]
