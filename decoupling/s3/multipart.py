"""Multipart uploads: parts kept until completion, and S3's ``-N`` ETag.

Limits from https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html: part numbers
1-10,000; every part but the last at least 5 MiB. The completed object's ETag is the MD5 of the
concatenated binary MD5s of its parts, then ``-`` and the number of parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import attrs

from ..errors import EntityTooSmall, InvalidArgument, InvalidPart, InvalidPartOrder, MalformedXML
from ._body import _Body

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


@attrs.frozen
class PartInfo:
    """One uploaded part: ``part_number``, ``etag`` (quoted MD5), ``size`` (bytes),
    ``last_modified_ms`` (epoch milliseconds)."""

    part_number: int
    etag: str
    size: int
    last_modified_ms: int


@attrs.define
class _Upload:
    upload_id: str
    key: str
    metadata: dict[str, str]
    content_type: str
    initiated_ms: int
    parts: dict[int, tuple[_Body, PartInfo]] = attrs.field(factory=dict)
    tags: dict[str, str] = attrs.field(factory=dict)


def check_part_number(part_number: int) -> None:
    """Raises InvalidArgument unless 1 <= part_number <= 10,000."""
    if isinstance(part_number, bool) or not isinstance(part_number, int) or not (
        1 <= part_number <= MAX_PARTS
    ):
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")


def etag_of(body: _Body) -> str:
    """The quoted MD5 ETag of a single-part body."""
    return f'"{body.md5.hex()}"'


def assemble(upload: _Upload, parts: Sequence[Any]) -> tuple[_Body, str]:
    """The completed body and its ``"<md5>-N"`` ETag, from the caller's parts list.

    ``parts`` holds ``(part_number, etag)`` pairs or ``{"PartNumber": n, "ETag": e}`` dicts,
    in ascending order. Nothing changes on error.

    Raises:
        MalformedXML: an empty list. InvalidPartOrder: numbers not ascending.
        InvalidPart: a part not uploaded, or an ETag that differs. EntityTooSmall: a part other
        than the last under 5 MiB.
    """
    if not parts:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate against our "
            "published schema"
        )
    chosen: list[tuple[_Body, PartInfo]] = []
    last = 0
    for entry in parts:
        if isinstance(entry, dict):
            number, etag = entry.get("PartNumber"), entry.get("ETag")
        else:
            number, etag = entry
        check_part_number(number)  # type: ignore[arg-type]
        if number <= last:  # type: ignore[operator]
            raise InvalidPartOrder(
                "The list of parts was not in ascending order. The parts list must be "
                "specified in order by part number."
            )
        last = number  # type: ignore[assignment]
        held = upload.parts.get(number)  # type: ignore[arg-type]
        if held is None or (etag is not None and str(etag).strip('"') != held[1].etag.strip('"')):
            raise InvalidPart(
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag."
            )
        chosen.append(held)
    for body, _ in chosen[:-1]:
        if body.size < MIN_PART_BYTES:
            raise EntityTooSmall(
                "Your proposed upload is smaller than the minimum allowed object size."
            )
    digest = hashlib.md5(b"".join(body.md5 for body, _ in chosen)).hexdigest()
    return _Body.joined([body for body, _ in chosen]), f'"{digest}-{len(chosen)}"'
