"""``Bucket``: an S3 bucket in process, on the loop's clock.

Objects are kept in a ``SortedDict`` key -> versions (newest last) and a ``SortedList`` of the
keys whose current version is an object, so a list page costs O(log n + page) and a put, get or
delete O(log n). Bodies are shared, never copied (see ``_body``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any, BinaryIO, cast

import attrs
from sortedcontainers import SortedDict, SortedList

from ..errors import (
    AccessDenied,
    BadDigest,
    BadRequest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidRange,
    InvalidRequest,
    InvalidTag,
    KeyTooLongError,
    MetadataTooLarge,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchTagSet,
    NoSuchUpload,
    NoSuchVersion,
    PreconditionFailed,
)
from ..loop import EventLoop
from . import notifications as _notify
from ._body import _Body, _Reader
from .multipart import PartInfo, _Upload, assemble, check_part_number, etag_of
from .notifications import NotificationConfiguration

Body = bytes | bytearray | memoryview | BinaryIO | IO[bytes]

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_MAX_KEY_BYTES = 1024
_MAX_METADATA_BYTES = 2048
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
#: Tag limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html and
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/CostAllocTagging.html).
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
_MAX_TAG_KEY = 128
_MAX_TAG_VALUE = 256


def check_bucket_name(name: str) -> None:
    """Raises InvalidBucketName unless ``name`` follows S3's general-purpose bucket rules:
    3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a
    letter or digit, no ``..``, not shaped like an IP address, none of the reserved prefixes
    and suffixes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
    """
    ok = isinstance(name, str) and _NAME.fullmatch(name) is not None and ".." not in name
    if ok:
        try:
            ipaddress.IPv4Address(name)
            ok = False
        except ValueError:
            pass
    if not ok or name.startswith(_BAD_PREFIXES) or name.endswith(_BAD_SUFFIXES):
        raise InvalidBucketName(f"The specified bucket is not valid. ({name!r})")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidArgument("An object key must be a non-empty string.")
    if len(key.encode()) > _MAX_KEY_BYTES:
        raise KeyTooLongError("Your key is too long")


def _check_md5(content_md5: str | None) -> bytes | None:
    """The 16 bytes of a ``Content-MD5`` (base64), or None. Raises InvalidDigest."""
    if content_md5 is None:
        return None
    if not isinstance(content_md5, str):
        raise InvalidDigest(f"The Content-MD5 you specified was invalid. ({content_md5!r})")
    try:
        raw = base64.b64decode(content_md5.encode(), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise InvalidDigest(f"The Content-MD5 you specified was invalid. ({content_md5!r})")
    return raw


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    found = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
    if sum(len(k.encode()) + len(v.encode()) for k, v in found.items()) > _MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            "Your metadata headers exceed the maximum allowed metadata size (2 KB)."
        )
    return found


def check_tags(tags: Mapping[str, str] | Iterable[Any] | None, limit: int) -> dict[str, str]:
    """The tags as a dict, checked against S3's rules: at most ``limit`` tags (10 on an
    object, 50 on a bucket), keys 1-128 and values 0-256 characters, no repeated key, no key
    starting with ``aws:``. ``tags`` is a mapping or S3's ``TagSet`` list of ``{"Key": k,
    "Value": v}`` dicts.

    Raises:
        BadRequest: more than 10 tags on an object. InvalidTag: any other breach (and more
        than 50 tags on a bucket).
    """
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        pairs = list(tags.items())
    elif isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise InvalidTag(
            f"Tags are a mapping or a list of {{'Key': ..., 'Value': ...}}, got {tags!r}"
        )
    else:
        pairs = []
        for tag in tags:
            if not isinstance(tag, Mapping) or "Key" not in tag:
                raise InvalidTag(f"A tag is a {{'Key': ..., 'Value': ...}} mapping, got {tag!r}")
            pairs.append((tag["Key"], tag.get("Value", "")))
    found: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidTag(f"Tag keys and values are strings, got {key!r}: {value!r}")
        if not key or len(key) > _MAX_TAG_KEY:
            raise InvalidTag(f"The TagKey you have provided is invalid ({len(key)} characters; "
                             f"1-{_MAX_TAG_KEY} allowed)")
        if len(value) > _MAX_TAG_VALUE:
            raise InvalidTag(f"The TagValue you have provided is too long, max {_MAX_TAG_VALUE}")
        if key.startswith("aws:"):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:")
        if key in found:
            raise InvalidTag("Cannot provide multiple Tags with the same key")
        found[key] = value
    if len(found) > limit:
        if limit == MAX_OBJECT_TAGS:
            raise BadRequest(f"Object tags cannot be greater than {limit}")
        raise InvalidTag(f"Bucket tag count cannot be greater than {limit}")
    return found


def find_bucket(loop: EventLoop, name: str) -> Bucket | None:
    """The bucket called ``name`` anywhere in ``loop``'s family (its home loop and the
    siblings made so far: every region and account), or ``None``. Bucket names are global in
    S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). O(number
    of siblings)."""
    found = loop._lookup("s3", name)
    if found is not None:
        return found  # type: ignore[no-any-return]
    home = loop.home
    for member in [home, *home._siblings()]:
        if member is not loop:
            found = member._lookup("s3", name)
            if found is not None:
                return found  # type: ignore[no-any-return]
    return None


def account_bucket(loop: EventLoop, name: str) -> Bucket:
    """The bucket ``name`` of ``loop``'s account, in any region (a request sent to another
    region's endpoint reaches it, as botocore's redirects make it do against S3).

    Raises:
        NoSuchBucket: no bucket has that name. AccessDenied: another account's bucket.
    """
    bucket = find_bucket(loop, name)
    if bucket is None:
        raise NoSuchBucket(f"The specified bucket does not exist ({name})")
    if bucket.loop.account_id != loop.account_id:
        raise AccessDenied(f"Access Denied (the bucket {name} belongs to another account)")
    return bucket


@attrs.frozen
class ObjectInfo:
    """What HeadObject tells about one object version (no body).

    Attributes:
        key: the object key.
        size: the body's length in bytes.
        etag: the quoted ETag, ``'"<md5 hex>"'`` or ``'"<md5 hex>-<parts>"'`` for multipart.
        last_modified_ms: when it was written, epoch milliseconds of the loop's clock.
        metadata: user metadata, names lowercased.
        content_type: the ``Content-Type`` (default ``binary/octet-stream``).
        version_id: the version id, ``"null"`` on a suspended bucket, ``None`` if never
            versioned.
        is_delete_marker: ``True`` for a delete marker (only in version listings).
        is_latest: whether this is the key's current version.
    """

    key: str
    size: int
    etag: str
    last_modified_ms: int
    metadata: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str = "binary/octet-stream"
    version_id: str | None = None
    is_delete_marker: bool = False
    is_latest: bool = True


@attrs.frozen
class GetResult:
    """The answer to :meth:`Bucket.get`: ``info`` (the whole object's :class:`ObjectInfo`),
    ``body`` (the bytes asked for) and ``content_range`` (``"bytes a-b/size"`` for a range
    request, else ``None``)."""

    info: ObjectInfo
    body: bytes
    content_range: str | None = None


@attrs.frozen
class DeleteResult:
    """The answer to :meth:`Bucket.delete`: the ``version_id`` removed or created, and
    ``delete_marker`` (``True`` when a delete marker was created or removed)."""

    version_id: str | None = None
    delete_marker: bool = False


@attrs.frozen
class ListResult:
    """A page of :meth:`Bucket.list_objects` (ListObjectsV2).

    Attributes:
        contents: the objects, in UTF-8 byte order of their keys.
        common_prefixes: with a delimiter, the rolled-up prefixes (``"photos/"``).
        is_truncated: whether more keys follow.
        next_continuation_token: pass as ``continuation_token`` for the next page.
        key_count: ``len(contents) + len(common_prefixes)``.
    """

    contents: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_continuation_token: str | None
    key_count: int


@attrs.frozen
class VersionList:
    """A page of :meth:`Bucket.list_versions` (ListObjectVersions).

    Attributes:
        versions: versions and delete markers (``is_delete_marker``), keys in order, each key's
            newest first; ``is_latest`` marks the current one.
        is_truncated: whether more follow.
        next_key_marker, next_version_id_marker: where the next page starts.
    """

    versions: tuple[ObjectInfo, ...]
    is_truncated: bool
    next_key_marker: str | None = None
    next_version_id_marker: str | None = None


@attrs.define
class _Version:
    info: ObjectInfo
    body: _Body | None  # None for a delete marker
    tags: dict[str, str] = attrs.field(factory=dict)


class ObjectStream:
    """An object's bytes to read in pieces (:meth:`Bucket.open`): a binary file-like object.

    Attributes:
        info: the whole object's :class:`ObjectInfo`.
        content_range: ``"bytes a-b/size"`` for a range request, else ``None``.
        size: how many bytes the stream holds (the range's length, or the object's size).
        tags: the version's tag count.

    ``read(n)`` returns at most ``n`` bytes (all that is left with no argument); the bytes are
    read from the shared body as asked, so reading a large object in pieces never holds it
    whole. Safe to read from another thread than the one that opened it; the stream does not
    change if the object is overwritten or deleted meanwhile (it reads the version it opened).
    """

    def __init__(
        self, info: ObjectInfo, reader: _Reader, content_range: str | None, tag_count: int
    ) -> None:
        self.info = info
        self.content_range = content_range
        self.size = reader.size
        self.tag_count = tag_count
        self._reader = reader

    def read(self, amt: int | None = -1) -> bytes:
        """Up to ``amt`` bytes (default: every byte left); ``b""`` at the end."""
        return self._reader.read(amt)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Fill ``buffer`` from the stream; returns the number of bytes read (0 at the end)."""
        return self._reader.readinto(buffer)

    def tell(self) -> int:
        """How many bytes were read so far."""
        return self._reader.tell()

    def readable(self) -> bool:
        """``True``: the stream is readable."""
        return True

    def close(self) -> None:
        """Stop reading; later reads return ``b""``."""
        self._reader.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._reader.closed

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _verify(data: _Body, expected: bytes | None) -> None:
    if expected is not None and data.md5 != expected:
        raise BadDigest("The Content-MD5 you specified did not match what we received.")


def _after_all_with(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Bucket:
    """An S3 bucket of ``loop``'s account (CreateBucket).

    Args:
        loop: the event loop (account, region, clock).
        name: the bucket name (S3's rules: 3-63 lowercase letters, digits, dots, hyphens).

    Raises:
        InvalidBucketName, BucketAlreadyOwnedByYou (a live bucket of that name exists in this
        account, in any region), BucketAlreadyExists (another account of the loop's family
        has one: bucket names are global).

    Every method is thread-safe (the loop's lock) and raises NoSuchBucket once the bucket is
    deleted. With a durable store (``EventLoop(store=...)``) the bucket, its object versions,
    tags and notification configurations are kept in it, and bodies as files beside it (each
    written and fsynced before the row that refers to it commits); a multi-process store
    refuses buckets (InvalidArgument). Without one, buckets live in memory.
    """

    def __init__(self, loop: EventLoop, name: str) -> None:
        if not isinstance(loop, EventLoop):
            # An AWS account (decoupling.aws) has no bucket implementation yet.
            raise InvalidArgument(
                f"Bucket needs an EventLoop as its first argument (the account it belongs to), "
                f"got {type(loop).__name__}; buckets run in process only."
            )
        check_bucket_name(name)
        self.loop = loop
        self.name = name
        self.arn = f"arn:{loop.partition}:s3:::{name}"
        self._lock = loop._lock
        self._keys: SortedDict = SortedDict()  # key -> list[_Version], newest last
        self._live: SortedList = SortedList()  # keys whose newest version is an object
        self._versioning = "Disabled"
        self._uploads: dict[str, _Upload] = {}
        self._notifications: list[NotificationConfiguration] = []
        self._sequence = 0
        self._deleted = False
        self._tags: dict[str, str] | None = None
        #: When the bucket was created, epoch milliseconds of the loop's clock.
        self.created_ms = int(loop.clock.wall_ms())
        with self._lock:
            existing = find_bucket(loop, name)
            if existing is not None and existing.loop.account_id != loop.account_id:
                raise BucketAlreadyExists(
                    "The requested bucket name is not available. The bucket namespace is "
                    "shared by all users of the system. Please select a different name and try "
                    f"again. ({name})"
                )
            if existing is not None:
                raise BucketAlreadyOwnedByYou(
                    "Your previous request to create the named bucket succeeded and you "
                    f"already own it. ({name})"
                )
            loop._register("s3", name, self)

    def __repr__(self) -> str:
        return f"Bucket({self.name!r}, objects={len(self._live)})"

    # -- bucket ---------------------------------------------------------------------------------

    def _alive(self) -> None:
        if self._deleted:
            raise NoSuchBucket(f"The specified bucket does not exist. ({self.name})")

    def delete_bucket(self) -> None:
        """Delete this bucket (DeleteBucket); its name is free again.

        Raises:
            BucketNotEmpty: it still holds objects, versions or delete markers.
        """
        with self._lock:
            self._alive()
            if self._keys:
                raise BucketNotEmpty(f"The bucket you tried to delete is not empty. ({self.name})")
            self._deleted = True
            self._drop(body for upload in self._uploads.values()
                       for body, _ in upload.parts.values())
            self._uploads.clear()
            self.loop._unregister("s3", self.name)

    @property
    def versioning(self) -> str:
        """``"Disabled"`` (never enabled), ``"Enabled"`` or ``"Suspended"``."""
        return self._versioning

    def put_versioning(self, status: str) -> None:
        """Turn versioning on (``"Enabled"``) or off (``"Suspended"``); a bucket once versioned
        can only be suspended, never return to unversioned (PutBucketVersioning).

        Raises:
            InvalidArgument: another status.
        """
        if status not in ("Enabled", "Suspended"):
            raise InvalidArgument(f"The versioning status must be Enabled or Suspended, got {status!r}")
        with self._lock:
            self._alive()
            if status == "Suspended" and self._versioning == "Disabled":
                return
            self._versioning = status
            self._journal(None)

    # -- bucket tags ----------------------------------------------------------------------------

    def put_tagging(self, tags: Mapping[str, str] | Iterable[Any]) -> None:
        """Replace the bucket's tags (PutBucketTagging): a mapping or S3's ``TagSet`` list, at
        most 50 tags, keys 1-128 and values 0-256 characters.

        Raises:
            InvalidTag, NoSuchBucket. Nothing changes on error.
        """
        found = check_tags(tags, MAX_BUCKET_TAGS)
        with self._lock:
            self._alive()
            self._tags = found
            self._journal(None)

    def get_tagging(self) -> dict[str, str]:
        """The bucket's tags (GetBucketTagging).

        Raises:
            NoSuchTagSet: the bucket has no tags. NoSuchBucket.
        """
        with self._lock:
            self._alive()
            if not self._tags:
                raise NoSuchTagSet(f"The TagSet does not exist ({self.name})")
            return dict(self._tags)

    def delete_tagging(self) -> None:
        """Remove every tag of the bucket (DeleteBucketTagging); no tags is not an error."""
        with self._lock:
            self._alive()
            self._tags = None
            self._journal(None)

    # -- object tags ----------------------------------------------------------------------------

    def put_object_tagging(
        self, key: str, tags: Mapping[str, str] | Iterable[Any], *, version_id: str | None = None
    ) -> str | None:
        """Replace an object version's tags (PutObjectTagging): at most 10, keys 1-128 and
        values 0-256 characters, no repeated key, none starting with ``aws:``. Returns the
        version id tagged. Tags belong to one version; an overwrite starts without them.

        Raises:
            BadRequest (more than 10), InvalidTag, NoSuchKey, NoSuchVersion,
            MethodNotAllowed (a delete marker), NoSuchBucket. Nothing changes on error.
        """
        found = check_tags(tags, MAX_OBJECT_TAGS)
        with self._lock:
            self._alive()
            version = self._find(key, version_id)
            version.tags = found
            self._journal(key)
            return version.info.version_id

    def get_object_tagging(
        self, key: str, *, version_id: str | None = None
    ) -> dict[str, str]:
        """An object version's tags (GetObjectTagging); ``{}`` when it has none.

        Raises:
            NoSuchKey, NoSuchVersion, MethodNotAllowed, NoSuchBucket.
        """
        with self._lock:
            self._alive()
            return dict(self._find(key, version_id).tags)

    def delete_object_tagging(self, key: str, *, version_id: str | None = None) -> str | None:
        """Remove an object version's tags (DeleteObjectTagging); returns its version id.

        Raises:
            NoSuchKey, NoSuchVersion, MethodNotAllowed, NoSuchBucket.
        """
        with self._lock:
            self._alive()
            version = self._find(key, version_id)
            version.tags = {}
            self._journal(key)
            return version.info.version_id

    # -- objects --------------------------------------------------------------------------------

    # -- the durable store (duck-typed: ``loop._store`` is a SqliteStore or None) ---------------

    def _keep(self, data: _Body) -> _Body:
        """With a durable store: the body written to the store's files (outside the lock)."""
        store = self.loop._store
        return data if store is None else store._s3_body(data)

    def _drop(self, bodies: Iterable[_Body]) -> None:
        """Bodies no longer held here: the store removes their files once nothing refers to
        them (after the call's commit)."""
        store = self.loop._store
        if store is not None:
            store._s3_drop(bodies)

    def _journal(self, key: str | None) -> None:
        """Record the bucket (and ``key``'s versions, when given) in the durable store."""
        store = self.loop._store
        if store is not None:
            store._s3_write(self, key)

    def _now_ms(self) -> int:
        return int(self.loop.clock.wall_ms())

    def _new_version_id(self) -> str | None:
        if self._versioning == "Enabled":
            return self.loop.new_id().replace("-", "")
        return "null" if self._versioning == "Suspended" else None

    def _current(self, key: str) -> _Version | None:
        versions = self._keys.get(key)
        return versions[-1] if versions else None

    def _store(self, version: _Version) -> None:
        """Make ``version`` the key's newest; a null (or unversioned) one replaces its namesake."""
        key = version.info.key
        versions: list[_Version] = self._keys.setdefault(key, [])
        if versions:
            last = versions[-1]
            versions[-1] = _Version(
                attrs.evolve(last.info, is_latest=False), last.body, last.tags
            )
        vid = version.info.version_id
        if vid is None or vid == "null":  # at most one null version a key
            self._drop(v.body for v in versions
                       if v.info.version_id in (None, "null") and v.body is not None)
            versions[:] = [v for v in versions if v.info.version_id not in (None, "null")]
        versions.append(version)
        if version.body is not None:
            self._live.discard(key)
            self._live.add(key)
        else:
            self._live.discard(key)

    def put(
        self,
        key: str,
        body: Body = b"",
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str = "binary/octet-stream",
        if_match: str | None = None,
        if_none_match: str | None = None,
        tags: Mapping[str, str] | None = None,
        content_md5: str | None = None,
    ) -> ObjectInfo:
        """Store an object (PutObject). O(log n) plus reading the body once.

        Args:
            key: 1-1024 bytes of UTF-8.
            body: ``bytes`` (kept as given, not copied) or a binary stream, read in 1 MiB
                chunks (spilled to a temporary file past 8 MiB).
            metadata: user metadata (``x-amz-meta-*``), at most 2 KB; names are lowercased.
            content_type: the ``Content-Type`` (default ``binary/octet-stream``).
            if_match: write only if the current object's ETag is this.
            if_none_match: ``"*"``: write only if no object has this key.
            tags: the object's tags (at most 10; see :meth:`put_object_tagging`).
            content_md5: the base64 MD5 the body must have (``Content-MD5``); a body that
                differs is refused (BadDigest) and nothing is stored.

        Returns the new version's :class:`ObjectInfo`. Emits ``s3:ObjectCreated:Put``.

        Raises:
            KeyTooLongError, InvalidArgument, MetadataTooLarge, PreconditionFailed,
            InvalidTag, BadRequest, InvalidDigest, BadDigest, NoSuchBucket.
        """
        _check_key(key)
        meta = _check_metadata(metadata)
        tagset = check_tags(tags, MAX_OBJECT_TAGS)
        expected = _check_md5(content_md5)
        if if_none_match not in (None, "*"):
            raise InvalidArgument("If-None-Match only accepts '*' on writes")
        with self._lock:
            self._alive()
            self._check_write_conditions(key, if_match, if_none_match)
        data = _Body.of(body)  # read outside the lock: a slow stream holds no one up
        _verify(data, expected)
        data = self._keep(data)
        with self._lock:
            try:
                self._alive()
                self._check_write_conditions(key, if_match, if_none_match)
            except BaseException:
                self._drop([data])
                raise
            return self._write(
                key, data, etag_of(data), meta, content_type, "s3:ObjectCreated:Put", tagset
            )

    def _check_write_conditions(
        self, key: str, if_match: str | None, if_none_match: str | None
    ) -> None:
        current = self._current(key)
        exists = current is not None and current.body is not None
        if if_none_match == "*" and exists:
            raise PreconditionFailed(
                "At least one of the pre-conditions you specified did not hold (If-None-Match)"
            )
        if if_match is not None:
            if not exists:
                raise NoSuchKey(f"The specified key does not exist. ({key})")
            assert current is not None
            if if_match.strip('"') != current.info.etag.strip('"'):
                raise PreconditionFailed(
                    "At least one of the pre-conditions you specified did not hold (If-Match)"
                )

    def _write(
        self, key: str, data: _Body, etag: str, meta: dict[str, str], content_type: str,
        event: str, tags: dict[str, str] | None = None,
    ) -> ObjectInfo:
        info = ObjectInfo(
            key=key, size=data.size, etag=etag, last_modified_ms=self._now_ms(), metadata=meta,
            content_type=content_type, version_id=self._new_version_id(),
        )
        self._store(_Version(info, data, tags or {}))
        self._emit(event, key, size=info.size, etag=etag, version_id=info.version_id)
        self._journal(key)
        return info

    def _find(self, key: str, version_id: str | None) -> _Version:
        _check_key(key)
        versions = self._keys.get(key)
        if version_id is None:
            if not versions or versions[-1].body is None:
                raise NoSuchKey(f"The specified key does not exist. ({key})")
            return versions[-1]  # type: ignore[no-any-return]
        for v in versions or ():
            if (v.info.version_id or "null") == version_id:
                if v.body is None:
                    raise MethodNotAllowed(
                        "The specified method is not allowed against this resource. "
                        "(the version is a delete marker)"
                    )
                return v  # type: ignore[no-any-return]
        raise NoSuchVersion(
            f"The specified version does not exist. ({key} version {version_id})"
        )

    def head(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """An object's :class:`ObjectInfo` without its body (HeadObject). O(log n).

        Raises:
            NoSuchKey, NoSuchVersion, MethodNotAllowed (a delete marker's version id),
            NoSuchBucket.
        """
        with self._lock:
            self._alive()
            return self._find(key, version_id).info

    def get(
        self,
        key: str,
        *,
        range: str | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> GetResult:
        """An object's bytes (GetObject). O(log n) plus the bytes read.

        Args:
            range: an HTTP range, ``"bytes=0-99"``, ``"bytes=100-"`` or ``"bytes=-100"`` (the
                last 100). The end is clipped to the object; a malformed range is ignored and
                the whole object returned, as S3 does.
            version_id: a version other than the current one.
            if_match: read only if the ETag is this.

        Raises:
            NoSuchKey, NoSuchVersion, MethodNotAllowed, InvalidRange (the start lies past
            the end, or a ``bytes=-0`` suffix), PreconditionFailed, NoSuchBucket.
        """
        with self._lock:
            self._alive()
            version = self._find(key, version_id)
            info = version.info
            assert version.body is not None
            if if_match is not None and if_match.strip('"') != info.etag.strip('"'):
                raise PreconditionFailed(
                    "At least one of the pre-conditions you specified did not hold (If-Match)"
                )
            span = self._range(range, info.size) if range is not None else None
            if span is None:
                return GetResult(info, version.body.read())
            start, end = span
            return GetResult(
                info, version.body.read(start, end + 1), f"bytes {start}-{end}/{info.size}"
            )

    def download(self, key: str, out: IO[bytes], *, version_id: str | None = None) -> ObjectInfo:
        """Write an object's bytes to ``out`` in 1 MiB chunks, never whole in memory."""
        with self._lock:
            self._alive()
            version = self._find(key, version_id)
            assert version.body is not None
            for chunk in version.body.chunks(0, version.body.size):
                out.write(chunk)
            return version.info

    def open(
        self,
        key: str,
        *,
        range: str | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ObjectStream:
        """An object's bytes as a stream to read in pieces (GetObject's streaming body):
        nothing is read until the stream is. Arguments, checks and errors as :meth:`get`.
        O(log n)."""
        with self._lock:
            self._alive()
            version = self._find(key, version_id)
            info = version.info
            assert version.body is not None
            if if_match is not None and if_match.strip('"') != info.etag.strip('"'):
                raise PreconditionFailed(
                    "At least one of the pre-conditions you specified did not hold (If-Match)"
                )
            span = self._range(range, info.size) if range is not None else None
            if span is None:
                return ObjectStream(info, version.body.reader(0, info.size), None,
                                    len(version.tags))
            start, end = span
            return ObjectStream(
                info, version.body.reader(start, end + 1), f"bytes {start}-{end}/{info.size}",
                len(version.tags),
            )

    @staticmethod
    def _range(spec: str, size: int) -> tuple[int, int] | None:
        """``(first, last)`` byte positions (inclusive), or ``None`` for the whole object."""
        m = _RANGE.fullmatch(spec.strip())
        if m is None or (not m[1] and not m[2]):
            return None
        if not m[1]:  # a suffix: the last n bytes
            n = int(m[2])
            if n == 0 or size == 0:
                raise InvalidRange(f"The requested range is not satisfiable ({spec}, {size} bytes)")
            return max(size - n, 0), size - 1
        start = int(m[1])
        if m[2] and int(m[2]) < start:  # last before first: not a range, the whole object
            return None
        end = int(m[2]) if m[2] else size - 1
        if start >= size:
            raise InvalidRange(f"The requested range is not satisfiable ({spec}, {size} bytes)")
        return start, min(end, size - 1)

    def delete(self, key: str, *, version_id: str | None = None) -> DeleteResult:
        """Delete an object (DeleteObject). O(log n).

        Unversioned: the object goes (a missing key is not an error). Versioning enabled or
        suspended: a delete marker becomes the current version (``s3:ObjectRemoved:
        DeleteMarkerCreated``), unless ``version_id`` names a version to remove for good
        (``s3:ObjectRemoved:Delete``).

        Raises:
            KeyTooLongError, InvalidArgument, NoSuchBucket.
        """
        _check_key(key)
        with self._lock:
            self._alive()
            versions: list[_Version] | None = self._keys.get(key)
            if version_id is not None:
                for i, v in enumerate(versions or ()):
                    if (v.info.version_id or "null") == version_id:
                        return self._remove_version(key, versions, i)  # type: ignore[arg-type]
                return DeleteResult(version_id=version_id)
            if self._versioning == "Disabled":
                if not versions:
                    return DeleteResult()
                self._keys.pop(key)
                self._live.discard(key)
                self._drop(v.body for v in versions if v.body is not None)
                self._emit("s3:ObjectRemoved:Delete", key)
                self._journal(key)
                return DeleteResult()
            vid = self._new_version_id()
            marker = ObjectInfo(
                key=key, size=0, etag="", last_modified_ms=self._now_ms(), version_id=vid,
                is_delete_marker=True,
            )
            self._store(_Version(marker, None))
            self._emit("s3:ObjectRemoved:DeleteMarkerCreated", key, version_id=vid)
            self._journal(key)
            return DeleteResult(version_id=vid, delete_marker=True)

    def _remove_version(self, key: str, versions: list[_Version], i: int) -> DeleteResult:
        removed = versions.pop(i)
        if not versions:
            self._keys.pop(key)
            self._live.discard(key)
        elif i == len(versions):  # the newest went: the one before is current again
            last = versions[-1]
            versions[-1] = _Version(attrs.evolve(last.info, is_latest=True), last.body, last.tags)
            if last.body is not None:
                self._live.add(key)
            else:
                self._live.discard(key)
        vid = removed.info.version_id or "null"
        if removed.body is not None:
            self._drop([removed.body])
        self._emit("s3:ObjectRemoved:Delete", key, version_id=vid)
        self._journal(key)
        return DeleteResult(version_id=vid, delete_marker=removed.body is None)

    def copy(
        self,
        source_key: str,
        dest_key: str,
        *,
        dest_bucket: Bucket | None = None,
        source_version_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Copy an object (CopyObject) without copying its bytes (bodies are shared).

        Args:
            dest_bucket: another bucket of the same loop (default: this one).
            metadata: replace the metadata (``MetadataDirective=REPLACE``); default: copy it.
            content_type: replace the content type (with the metadata).
            tags: replace the tags (``TaggingDirective=REPLACE``); default: copy them.

        The copy's ETag is the MD5 of its bytes. Emits ``s3:ObjectCreated:Copy`` on the
        destination bucket.

        Raises:
            NoSuchKey, NoSuchVersion, InvalidRequest (onto itself with nothing changed),
            NoSuchBucket.
        """
        target = self if dest_bucket is None else dest_bucket
        _check_key(dest_key)
        meta = None if metadata is None else _check_metadata(metadata)
        tagset = None if tags is None else check_tags(tags, MAX_OBJECT_TAGS)
        with self._lock:
            self._alive()
            target._alive()
            source = self._find(source_key, source_version_id)
            assert source.body is not None
            if target is self and source_key == dest_key and meta is None and (
                content_type is None
            ):
                raise InvalidRequest(
                    "This copy request is illegal because it is trying to copy an object to "
                    "itself without changing the object's metadata, storage class, website "
                    "redirect location or encryption attributes."
                )
            info = source.info
            return target._write(
                dest_key, source.body, etag_of(source.body),
                dict(info.metadata) if meta is None else meta,
                content_type or info.content_type, "s3:ObjectCreated:Copy",
                dict(source.tags) if tagset is None else tagset,
            )

    # -- listing --------------------------------------------------------------------------------

    def list_objects(
        self,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListResult:
        """A page of the current objects (ListObjectsV2), in UTF-8 byte order of their keys.

        Args:
            prefix: only keys starting with this.
            delimiter: roll keys up to the first ``delimiter`` after the prefix into
                ``common_prefixes`` (each counts once towards ``max_keys``).
            max_keys: 0-1000 entries a page (default 1000; more is cut to 1000, as S3 does).
            continuation_token: the previous page's ``next_continuation_token``.
            start_after: only keys after this one (ignored with a continuation token).

        Cost: O(log n + page), plus O(log n) per common prefix.

        Raises:
            InvalidArgument: a negative ``max_keys`` or a token this bucket did not issue.
        """
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 0:
            raise InvalidArgument(f"max-keys must be a non-negative integer, got {max_keys!r}")
        max_keys = min(max_keys, 1000)
        after = start_after
        skip_rolled = False  # resume after every key under a common prefix of the last page
        if continuation_token is not None:
            try:
                raw = base64.urlsafe_b64decode(continuation_token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raw = ""
            if raw[:2] not in ("K:", "P:"):
                raise InvalidArgument("The continuation token provided is incorrect")
            after, skip_rolled = raw[2:], raw[0] == "P"
        with self._lock:
            self._alive()
            live = self._live
            contents: list[ObjectInfo] = []
            prefixes: list[str] = []
            if after is None or after < prefix:
                i = live.bisect_left(prefix)
            elif skip_rolled and after:
                i = live.bisect_left(_after_all_with(after))
            else:
                i = live.bisect_right(after)
            last: str | None = None
            truncated = False
            rolled = True
            while rolled:  # islice walks O(1) a key; each roll-up bisects again, O(log n)
                rolled = False
                for key in live.islice(i):
                    if not key.startswith(prefix):
                        break
                    if len(contents) + len(prefixes) == max_keys:
                        truncated = True
                        break
                    cut = key.find(delimiter, len(prefix)) if delimiter else -1
                    if cut >= 0:
                        common = key[: cut + len(delimiter or "")]
                        prefixes.append(common)
                        last = "P:" + common
                        i = live.bisect_left(_after_all_with(common))
                        rolled = True
                        break
                    contents.append(self._keys[key][-1].info)
                    last = "K:" + key
            token = None
            if truncated and last is not None:
                token = base64.urlsafe_b64encode(last.encode()).decode()
            return ListResult(
                tuple(contents), tuple(prefixes), truncated, token, len(contents) + len(prefixes)
            )

    def keys(self, prefix: str = "") -> list[str]:
        """Every current key starting with ``prefix``, in order. O(log n + k)."""
        with self._lock:
            self._alive()
            live = self._live
            return list(live.irange(prefix, _after_all_with(prefix), inclusive=(True, False))) \
                if prefix else list(live)

    def list_versions(
        self,
        *,
        prefix: str = "",
        max_keys: int = 1000,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
    ) -> VersionList:
        """A page of versions and delete markers (ListObjectVersions): keys in order, each
        key's newest version first. O(log n + page).

        Args:
            prefix: only keys starting with this.
            max_keys: 0-1000 entries a page (default 1000; more is cut to 1000).
            key_marker: start after this key, or, with ``version_id_marker``, after that
                version of it (pass the previous page's ``next_key_marker`` and
                ``next_version_id_marker``).

        Raises:
            InvalidArgument: a negative ``max_keys``, or a ``version_id_marker`` without a
                ``key_marker``.
        """
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 0:
            raise InvalidArgument(f"max-keys must be a non-negative integer, got {max_keys!r}")
        if version_id_marker is not None and key_marker is None:
            raise InvalidArgument("A version-id marker cannot be specified without a key marker.")
        max_keys = min(max_keys, 1000)
        with self._lock:
            self._alive()
            found: list[ObjectInfo] = []
            stop = _after_all_with(prefix) if prefix else None
            start: str | None = prefix or None
            skip_in_first = 0
            if key_marker is not None and (start is None or key_marker >= start):
                start = key_marker
                versions = self._keys.get(key_marker, [])
                ids = [v.info.version_id or "null" for v in reversed(versions)]
                if version_id_marker is not None and version_id_marker in ids:
                    skip_in_first = ids.index(version_id_marker) + 1
                else:
                    skip_in_first = len(ids)  # after the key itself
            keys = self._keys.irange(start, stop, inclusive=(True, False))
            truncated = False
            for key in keys:
                versions = self._keys[key]
                newest_first = list(reversed(versions))
                if key == key_marker:
                    newest_first = newest_first[skip_in_first:]
                for version in newest_first:
                    if len(found) == max_keys:
                        truncated = True
                        break
                    found.append(version.info)
                if truncated:
                    break
            last = found[-1] if truncated and found else None
            if max_keys == 0:
                truncated = next(iter(self._keys.irange(start, stop, inclusive=(True, False))),
                                 None) is not None
            return VersionList(
                tuple(found), truncated,
                last.key if last else None,
                (last.version_id or "null") if last else None,
            )

    # -- multipart ------------------------------------------------------------------------------

    def create_multipart_upload(
        self,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str = "binary/octet-stream",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Start a multipart upload (CreateMultipartUpload); returns its upload id. The
        metadata, content type and tags (at most 10) are the completed object's."""
        _check_key(key)
        meta = _check_metadata(metadata)
        tagset = check_tags(tags, MAX_OBJECT_TAGS)
        with self._lock:
            self._alive()
            upload_id = self.loop.new_id().replace("-", "")
            self._uploads[upload_id] = _Upload(
                upload_id, key, meta, content_type, self._now_ms(), tags=tagset
            )
            return upload_id

    def _upload(self, key: str, upload_id: str) -> _Upload:
        upload = self._uploads.get(upload_id)
        if upload is None or upload.key != key:
            raise NoSuchUpload(
                "The specified upload does not exist. The upload ID may be invalid, or the "
                f"upload may have been aborted or completed. ({upload_id})"
            )
        return upload

    def upload_part(
        self, key: str, upload_id: str, part_number: int, body: Body, *,
        content_md5: str | None = None,
    ) -> str:
        """Upload one part (UploadPart), 1-10,000; a part number uploaded again is replaced.
        Returns the part's quoted MD5 ETag. ``content_md5``: as :meth:`put`.

        Raises:
            NoSuchUpload, InvalidArgument (part number), InvalidDigest, BadDigest,
            NoSuchBucket.
        """
        check_part_number(part_number)
        expected = _check_md5(content_md5)
        with self._lock:
            self._alive()
            self._upload(key, upload_id)
        data = _Body.of(body)
        _verify(data, expected)
        data = self._keep(data)
        with self._lock:
            try:
                self._alive()
                upload = self._upload(key, upload_id)
            except BaseException:
                self._drop([data])
                raise
            etag = etag_of(data)
            replaced = upload.parts.get(part_number)
            if replaced is not None:
                self._drop([replaced[0]])
            upload.parts[part_number] = (
                data, PartInfo(part_number, etag, data.size, self._now_ms())
            )
            return etag

    def upload_part_copy(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        source: Bucket,
        source_key: str,
        *,
        range: str | None = None,
        source_version_id: str | None = None,
    ) -> PartInfo:
        """Upload one part from (a byte range of) an existing object (UploadPartCopy); a part
        number uploaded again is replaced. The bytes are read from the source version as it is
        when the call starts, in 1 MiB chunks.

        Args:
            source: the bucket holding the object (this one or another of the same loop
                family).
            range: ``"bytes=first-last"`` within the source object (default: all of it).

        Raises:
            NoSuchUpload, NoSuchKey, NoSuchVersion, InvalidArgument (part number, or a range
            that is not ``bytes=first-last`` inside the object), NoSuchBucket.
        """
        check_part_number(part_number)
        with self._lock:
            self._alive()
            self._upload(key, upload_id)
        info = source.head(source_key, version_id=source_version_id)
        span: tuple[int, int] | None = None
        if range is not None:
            m = _RANGE.fullmatch(range.strip())
            if m is None or not m[1] or not m[2] or not (
                int(m[1]) <= int(m[2]) < info.size
            ):
                raise InvalidArgument(
                    f"Range specified is not valid for source object of size: {info.size} "
                    f"({range})"
                )
            span = int(m[1]), int(m[2])
        stream = source.open(
            source_key, version_id=info.version_id if source_version_id else None,
            range=f"bytes={span[0]}-{span[1]}" if span else None, if_match=info.etag,
        )
        data = self._keep(_Body.of(cast(BinaryIO, stream)))  # (it has read())
        with self._lock:
            try:
                self._alive()
                upload = self._upload(key, upload_id)
            except BaseException:
                self._drop([data])
                raise
            replaced = upload.parts.get(part_number)
            if replaced is not None:
                self._drop([replaced[0]])
            part = PartInfo(part_number, etag_of(data), data.size, self._now_ms())
            upload.parts[part_number] = (data, part)
            return part

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        """The parts uploaded so far, by part number (ListParts)."""
        with self._lock:
            self._alive()
            upload = self._upload(key, upload_id)
            return [upload.parts[n][1] for n in sorted(upload.parts)]

    def list_multipart_uploads(self) -> list[tuple[str, str]]:
        """``(key, upload_id)`` of every upload in progress, by key (ListMultipartUploads)."""
        with self._lock:
            self._alive()
            return sorted((u.key, u.upload_id) for u in self._uploads.values())

    def complete_multipart_upload(
        self, key: str, upload_id: str, parts: Sequence[Any]
    ) -> ObjectInfo:
        """Join the listed parts into the object (CompleteMultipartUpload).

        Args:
            parts: ``(part_number, etag)`` pairs or ``{"PartNumber": n, "ETag": e}`` dicts in
                ascending order; parts not listed are discarded.

        The ETag is ``"<md5 of the parts' binary MD5s>-<number of parts>"``. Emits
        ``s3:ObjectCreated:CompleteMultipartUpload``. Nothing changes on error.

        Raises:
            NoSuchUpload, MalformedXML, InvalidPartOrder, InvalidPart, EntityTooSmall,
            NoSuchBucket.
        """
        with self._lock:
            self._alive()
            upload = self._upload(key, upload_id)
            data, etag = assemble(upload, parts)
            del self._uploads[upload_id]
            used = {id(segment) for segment in data.segments}
            self._drop(body for body, _ in upload.parts.values()
                       if not any(id(segment) in used for segment in body.segments))
            return self._write(
                key, data, etag, upload.metadata, upload.content_type,
                "s3:ObjectCreated:CompleteMultipartUpload", upload.tags,
            )

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Discard an upload and its parts (AbortMultipartUpload).

        Raises:
            NoSuchUpload, NoSuchBucket.
        """
        with self._lock:
            self._alive()
            upload = self._upload(key, upload_id)
            del self._uploads[upload_id]
            self._drop(body for body, _ in upload.parts.values())

    # -- notifications --------------------------------------------------------------------------

    def add_notification(
        self,
        target: Any,
        events: Iterable[str] = ("s3:ObjectCreated:*",),
        *,
        prefix: str = "",
        suffix: str = "",
        id: str | None = None,
    ) -> NotificationConfiguration:
        """Send this bucket's events to a queue, topic or function (one more entry of the
        bucket's NotificationConfiguration).

        Args:
            target: a ``Queue``, ``Topic`` or ``Function`` of this loop, or its ARN.
            events: S3 event types (``s3:ObjectCreated:*``, ``s3:ObjectCreated:Put``,
                ``s3:ObjectRemoved:Delete``, ...).
            prefix, suffix: key filters (default: every key).
            id: the configuration id (default: a generated one).

        A queue or topic receives an ``s3:TestEvent`` at once, as S3 sends one.

        Raises:
            InvalidArgument: an unsupported event, a destination that does not exist, or
                filters overlapping another configuration's for a common event type.
        """
        arn = target if isinstance(target, str) else target.arn
        with self._lock:
            self._alive()
            config = _notify.make_configuration(
                self.loop, arn, [events] if isinstance(events, str) else list(events), prefix,
                suffix, id,
            )
            self._set_notifications([*self._notifications, config], [config])
            return config

    def put_notification_configuration(self, configuration: Mapping[str, Any]) -> None:
        """Replace every notification configuration (PutBucketNotificationConfiguration),
        from S3's shape: ``{"QueueConfigurations": [{"Id", "QueueArn", "Events", "Filter":
        {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}}], "TopicConfigurations":
        [...], "LambdaFunctionConfigurations": [...]}``; ``{}`` removes them all.

        Raises:
            MalformedXML, InvalidArgument (as :meth:`add_notification`). Nothing changes.
        """
        with self._lock:
            self._alive()
            configs = _notify.parse_configuration(self.loop, configuration)
            self._set_notifications(configs, configs)

    def get_notification_configuration(self) -> dict[str, Any]:
        """The configurations in S3's shape (GetBucketNotificationConfiguration)."""
        with self._lock:
            self._alive()
            shape: dict[str, Any] = {}
            for config in self._notifications:
                section = _notify._SHAPES[config.kind][0]
                shape.setdefault(section, []).append(config.to_aws())
            return shape

    @property
    def notifications(self) -> tuple[NotificationConfiguration, ...]:
        """The bucket's notification configurations."""
        return tuple(self._notifications)

    def _set_notifications(
        self, configs: list[NotificationConfiguration], new: list[NotificationConfiguration]
    ) -> None:
        _notify.check_overlaps(configs)
        self._notifications = configs
        self._journal(None)
        for arn in dict.fromkeys(c.destination_arn for c in new if c.kind != "lambda"):
            request_id = self.loop.new_id().replace("-", "")[-16:].upper()
            _notify.deliver(self.loop, arn, _notify.test_event(self.name, request_id, self._now_ms()))

    def _emit(
        self, event: str, key: str, *, size: int | None = None, etag: str | None = None,
        version_id: str | None = None,
    ) -> None:
        self._sequence += 1
        if not self._notifications:
            return
        # Hex, fixed width, increasing with every change to the bucket (so per key too).
        sequencer = format(self._sequence, "016X")
        request_id = self.loop.new_id().replace("-", "")[-16:].upper()
        for config in self._notifications:
            if config.matches(event, key):
                record = _notify.event_record(
                    self.loop, config, self.name, event, key, size=size, etag=etag,
                    version_id=version_id, sequencer=sequencer, request_id=request_id,
                    wall_ms=self._now_ms(),
                )
                _notify.deliver(self.loop, config.destination_arn, {"Records": [record]})


__all__ = [
    "Bucket", "DeleteResult", "GetResult", "ListResult", "ObjectInfo", "ObjectStream",
    "VersionList", "account_bucket", "check_tags", "find_bucket",
]
