"""S3 operations for the boto3 bridge, on :class:`~decoupling.Bucket`.

Shapes follow botocore's S3 service model (``botocore/data/s3/2006-03-01/service-2.json``,
REST-XML protocol) and the S3 API reference
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html).
The bucket comes from the ``Bucket`` parameter, so virtual-host and path-style clients are the
same here. Request bodies (``PutObject``, ``UploadPart``) are read from the caller's stream in
1 MiB chunks; ``GetObject``'s ``Body`` is a botocore ``StreamingBody`` reading the object as it
is read (a large object is never held twice). What S3 sends as headers only
(``x-amz-meta-*``, ``ETag``, ``Content-Range``, ``x-amz-version-id`` ...) is in both the parsed
response and ``ResponseMetadata["HTTPHeaders"]``.

Listings honour ``EncodingType="url"`` (boto3 asks for it on every list call and decodes the
answer): keys and prefixes come back URL-encoded, as S3 sends them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from botocore.response import StreamingBody
from botocore.utils import parse_timestamp

from ..errors import (
    DecouplingError,
    IllegalLocationConstraintException,
    InvalidArgument,
    MalformedXML,
    NoSuchBucket,
    NotModified,
    ObjectLockConfigurationNotFoundError,
    PreconditionFailed,
)
from ..loop import EventLoop
from ..s3.bucket import Bucket, ObjectInfo, account_bucket, find_bucket
from ._reply import Reply

__all__ = ["OPERATIONS"]

_MALFORMED = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def _bucket(loop: EventLoop, name: str) -> Bucket:
    """The account's bucket, in whichever region it lives (see ``account_bucket``)."""
    return account_bucket(loop, name)


def _time(ms: int) -> datetime:
    """A timestamp as botocore parses S3's XML dates (UTC, millisecond precision)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _header_time(ms: int) -> datetime:
    """A timestamp as botocore parses S3's ``Last-Modified`` header (whole seconds)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC)


def _http_date(ms: int) -> str:
    return formatdate(ms // 1000, usegmt=True)


def _owner(loop: EventLoop) -> dict[str, str]:
    """The account's canonical user (64 hex digits, stable for an account id)."""
    return {
        "DisplayName": "decoupling",
        "ID": hashlib.sha256(f"decoupling:{loop.account_id}".encode()).hexdigest(),
    }


def _body(p: dict[str, Any]) -> Any:
    """The request body as bytes or a readable stream; s3transfer's chunk readers are told the
    transfer started, so their progress callbacks run as the body is read."""
    body = p.get("Body", b"")
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    signal = getattr(body, "signal_transferring", None)
    if callable(signal):
        signal()
    return body


def _tagging(text: str | None) -> list[dict[str, str]] | None:
    """The ``x-amz-tagging`` header (``k1=v1&k2=v2``, URL-encoded) as a ``TagSet``."""
    if text is None:
        return None
    return [{"Key": k, "Value": v} for k, v in parse_qsl(text, keep_blank_values=True)]


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "etag": info.etag,
        "last-modified": _http_date(info.last_modified_ms),
        "content-type": info.content_type,
        "accept-ranges": "bytes",
    }
    if info.version_id is not None:
        headers["x-amz-version-id"] = info.version_id
    for name, value in info.metadata.items():
        headers[f"x-amz-meta-{name}"] = value
    return headers


def _object_fields(info: ObjectInfo) -> dict[str, Any]:
    found: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": _header_time(info.last_modified_ms),
        "ContentLength": info.size,
        "ETag": info.etag,
        "ContentType": info.content_type,
        "Metadata": dict(info.metadata),
    }
    if info.version_id is not None:
        found["VersionId"] = info.version_id
    return found


def _seconds(value: Any) -> float:
    when = value if isinstance(value, datetime) else parse_timestamp(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _check_conditions(p: dict[str, Any], info: ObjectInfo) -> None:
    """GetObject's and HeadObject's date and ``If-None-Match`` conditions, as S3 (RFC 7232)
    weighs them: ``If-Match`` (checked by the bucket) overrides ``If-Unmodified-Since``, and
    ``If-None-Match`` overrides ``If-Modified-Since``."""
    modified = info.last_modified_ms // 1000
    if p.get("IfMatch") is None and p.get("IfUnmodifiedSince") is not None and (
        modified > _seconds(p["IfUnmodifiedSince"])
    ):
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold (If-Unmodified-Since)"
        )
    none_match = p.get("IfNoneMatch")
    if none_match is not None:
        if none_match == "*" or none_match.strip('"') == info.etag.strip('"'):
            raise NotModified("Not Modified")
    elif p.get("IfModifiedSince") is not None and modified <= _seconds(p["IfModifiedSince"]):
        raise NotModified("Not Modified")


# -- buckets --------------------------------------------------------------------------------------


def create_bucket(loop: EventLoop, p: dict[str, Any]) -> Any:
    """CreateBucket. Outside ``us-east-1`` the location constraint must name the loop's region;
    in ``us-east-1`` it may be left out, and re-creating a bucket you own answers 200, as S3
    does there for legacy compatibility (elsewhere: BucketAlreadyOwnedByYou)."""
    name = p["Bucket"]
    constraint = (p.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    region = loop.region
    if constraint:
        if constraint != region:
            raise IllegalLocationConstraintException(
                f"The {constraint} location constraint is incompatible for the region specific "
                "endpoint this request was sent to."
            )
    elif region != "us-east-1":
        raise IllegalLocationConstraintException(
            "The unspecified location constraint is incompatible for the region specific "
            "endpoint this request was sent to."
        )
    location = f"/{name}" if region == "us-east-1" else f"http://{name}.s3.amazonaws.com/"
    existing = find_bucket(loop, name)
    if region == "us-east-1" and existing is not None and existing.loop is loop:
        return Reply({"Location": location}, 200, {"location": location})
    Bucket(loop, name)
    return Reply({"Location": location}, 200, {"location": location})


def delete_bucket(loop: EventLoop, p: dict[str, Any]) -> Any:
    _bucket(loop, p["Bucket"]).delete_bucket()
    return {}


def list_buckets(loop: EventLoop, p: dict[str, Any]) -> Any:
    """ListBuckets: the account's buckets in every region (``BucketRegion`` says where);
    the ``BucketRegion`` parameter filters by region."""
    prefix = p.get("Prefix") or ""
    home = loop.home
    buckets = [
        b for member in [home, *home._siblings()] if member.account_id == loop.account_id
        for b in member._resources_of("s3") if b.name.startswith(prefix)
        and p.get("BucketRegion") in (None, member.region)
    ]
    buckets.sort(key=lambda b: b.name)
    token = p.get("ContinuationToken")
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise InvalidArgument("The continuation token provided is incorrect") from None
        buckets = [b for b in buckets if b.name > after]
    limit = p.get("MaxBuckets", 10000)
    page = buckets[:limit]
    out: dict[str, Any] = {
        "Buckets": [
            {"Name": b.name, "CreationDate": _time(b.created_ms), "BucketRegion": b.loop.region}
            for b in page
        ],
        "Owner": _owner(loop),
    }
    if prefix:
        out["Prefix"] = prefix
    if len(buckets) > limit:
        out["ContinuationToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
    return out


def head_bucket(loop: EventLoop, p: dict[str, Any]) -> Any:
    region = _bucket(loop, p["Bucket"]).loop.region
    return Reply(
        {"BucketRegion": region, "AccessPointAlias": False}, 200,
        {"x-amz-bucket-region": region, "x-amz-access-point-alias": "false"},
    )


def get_bucket_location(loop: EventLoop, p: dict[str, Any]) -> Any:
    region = _bucket(loop, p["Bucket"]).loop.region
    return {"LocationConstraint": None if region == "us-east-1" else region}


def put_bucket_versioning(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    status = (p.get("VersioningConfiguration") or {}).get("Status")
    if status is not None:
        bucket.put_versioning(status)
    return {}


def get_bucket_versioning(loop: EventLoop, p: dict[str, Any]) -> Any:
    status = _bucket(loop, p["Bucket"]).versioning
    return {} if status == "Disabled" else {"Status": status}


def put_bucket_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    tagset = (p.get("Tagging") or {}).get("TagSet")
    if tagset is None:
        raise MalformedXML(_MALFORMED)
    _bucket(loop, p["Bucket"]).put_tagging(tagset)
    return Reply({}, 204)


def get_bucket_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    tags = _bucket(loop, p["Bucket"]).get_tagging()
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def get_object_lock_configuration(loop: EventLoop, p: dict[str, Any]) -> Any:
    """Buckets of the bridge have no Object Lock (it is not built): S3's 404 for a bucket
    without it (GetObjectLockConfiguration's errors,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html)."""
    _bucket(loop, p["Bucket"])  # NoSuchBucket first
    raise ObjectLockConfigurationNotFoundError(
        "Object Lock configuration does not exist for this bucket")


def delete_bucket_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    _bucket(loop, p["Bucket"]).delete_tagging()
    return {}


def put_bucket_notification_configuration(loop: EventLoop, p: dict[str, Any]) -> Any:
    shape = dict(p.get("NotificationConfiguration") or {})
    if shape.pop("EventBridgeConfiguration", None) is not None:
        raise InvalidArgument("EventBridge notifications are not served by decoupling.")
    _bucket(loop, p["Bucket"]).put_notification_configuration(shape)
    return {}


def get_bucket_notification_configuration(loop: EventLoop, p: dict[str, Any]) -> Any:
    return _bucket(loop, p["Bucket"]).get_notification_configuration()


# -- objects --------------------------------------------------------------------------------------


def put_object(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    info = bucket.put(
        p["Key"], _body(p), metadata=p.get("Metadata"),
        content_type=p.get("ContentType") or "binary/octet-stream",
        if_match=p.get("IfMatch"), if_none_match=p.get("IfNoneMatch"),
        tags=_tagging(p.get("Tagging")),  # type: ignore[arg-type]
        content_md5=p.get("ContentMD5"),
    )
    out: dict[str, Any] = {"ETag": info.etag}
    headers = {"etag": info.etag}
    if info.version_id is not None:
        out["VersionId"] = headers["x-amz-version-id"] = info.version_id
    return Reply(out, 200, headers)


_RESPONSE_OVERRIDES = (
    ("ResponseContentType", "ContentType"),
    ("ResponseContentDisposition", "ContentDisposition"),
    ("ResponseContentEncoding", "ContentEncoding"),
    ("ResponseContentLanguage", "ContentLanguage"),
    ("ResponseCacheControl", "CacheControl"),
)


def get_object(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    stream = bucket.open(
        p["Key"], range=p.get("Range"), version_id=p.get("VersionId"), if_match=p.get("IfMatch")
    )
    info = stream.info
    _check_conditions(p, info)
    out = _object_fields(info)
    out["ContentLength"] = stream.size
    headers = _object_headers(info)
    headers["content-length"] = str(stream.size)
    if stream.content_range is not None:
        out["ContentRange"] = headers["content-range"] = stream.content_range
    if stream.tag_count:
        out["TagCount"] = stream.tag_count
        headers["x-amz-tagging-count"] = str(stream.tag_count)
    for asked, field in _RESPONSE_OVERRIDES:
        if p.get(asked) is not None:
            out[field] = p[asked]
    out["Body"] = StreamingBody(stream, stream.size)
    return Reply(out, 206 if stream.content_range is not None else 200, headers)


def head_object(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    info = bucket.head(p["Key"], version_id=p.get("VersionId"))
    if p.get("IfMatch") is not None:
        bucket.open(p["Key"], version_id=p.get("VersionId"), if_match=p["IfMatch"]).close()
    _check_conditions(p, info)
    headers = _object_headers(info)
    headers["content-length"] = str(info.size)
    return Reply(_object_fields(info), 200, headers)


def delete_object(loop: EventLoop, p: dict[str, Any]) -> Any:
    result = _bucket(loop, p["Bucket"]).delete(p["Key"], version_id=p.get("VersionId"))
    out: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if result.delete_marker:
        out["DeleteMarker"] = True
        headers["x-amz-delete-marker"] = "true"
    if result.version_id is not None:
        out["VersionId"] = headers["x-amz-version-id"] = result.version_id
    return Reply(out, 204, headers)


def delete_objects(loop: EventLoop, p: dict[str, Any]) -> Any:
    """DeleteObjects: up to 1,000 keys; each key's failure is reported in ``Errors``."""
    bucket = _bucket(loop, p["Bucket"])
    request = p.get("Delete") or {}
    objects = request.get("Objects") or []
    if not objects or len(objects) > 1000:
        raise MalformedXML(_MALFORMED)
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for entry in objects:
        key, version_id = entry["Key"], entry.get("VersionId")
        try:
            result = bucket.delete(key, version_id=version_id)
        except NoSuchBucket:
            raise
        except DecouplingError as error:
            failed = {"Key": key, "Code": error.code, "Message": error.message}
            if version_id is not None:
                failed["VersionId"] = version_id
            errors.append(failed)
            continue
        done: dict[str, Any] = {"Key": key}
        if version_id is not None:
            done["VersionId"] = version_id
        if result.delete_marker:
            done["DeleteMarker"] = True
            if result.version_id is not None:
                done["DeleteMarkerVersionId"] = result.version_id
        deleted.append(done)
    out: dict[str, Any] = {}
    if deleted and not request.get("Quiet"):
        out["Deleted"] = deleted
    if errors:
        out["Errors"] = errors
    return out


def _copy_source(loop: EventLoop, source: str) -> tuple[Bucket, str, str | None]:
    """``bucket/key[?versionId=v]`` (botocore URL-encodes the path) as its parts."""
    path, _, query = source.partition("?")
    version_id = None
    if query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name == "versionId":
                version_id = value
    bucket_name, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket_name or not key:
        raise InvalidArgument(
            f"Invalid copy source: {source!r} (expected 'bucket/key' or "
            "'bucket/key?versionId=...')"
        )
    return _bucket(loop, bucket_name), key, version_id


def copy_object(loop: EventLoop, p: dict[str, Any]) -> Any:
    target = _bucket(loop, p["Bucket"])
    source, source_key, source_version = _copy_source(loop, p["CopySource"])
    metadata = content_type = tags = None
    if p.get("MetadataDirective", "COPY") == "REPLACE":
        metadata = p.get("Metadata") or {}
        content_type = p.get("ContentType") or "binary/octet-stream"
    if p.get("TaggingDirective", "COPY") == "REPLACE":
        tags = _tagging(p.get("Tagging")) or []
    source_info = source.head(source_key, version_id=source_version)
    info = source.copy(
        source_key, p["Key"], dest_bucket=target, source_version_id=source_version,
        metadata=metadata, content_type=content_type, tags=tags,  # type: ignore[arg-type]
    )
    out: dict[str, Any] = {
        "CopyObjectResult": {"ETag": info.etag, "LastModified": _time(info.last_modified_ms)}
    }
    headers: dict[str, str] = {}
    if info.version_id is not None:
        out["VersionId"] = headers["x-amz-version-id"] = info.version_id
    if source_info.version_id is not None:
        out["CopySourceVersionId"] = source_info.version_id
        headers["x-amz-copy-source-version-id"] = source_info.version_id
    return Reply(out, 200, headers)


def put_object_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    tagset = (p.get("Tagging") or {}).get("TagSet")
    if tagset is None:
        raise MalformedXML(_MALFORMED)
    vid = _bucket(loop, p["Bucket"]).put_object_tagging(
        p["Key"], tagset, version_id=p.get("VersionId")
    )
    return {} if vid is None else {"VersionId": vid}


def get_object_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    tags = bucket.get_object_tagging(p["Key"], version_id=p.get("VersionId"))
    out: dict[str, Any] = {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    vid = bucket.head(p["Key"], version_id=p.get("VersionId")).version_id
    if vid is not None:
        out["VersionId"] = vid
    return out


def delete_object_tagging(loop: EventLoop, p: dict[str, Any]) -> Any:
    vid = _bucket(loop, p["Bucket"]).delete_object_tagging(
        p["Key"], version_id=p.get("VersionId")
    )
    return {} if vid is None else {"VersionId": vid}


# -- listing --------------------------------------------------------------------------------------


def _encoder(p: dict[str, Any]) -> Callable[[str], str]:
    if p.get("EncodingType") == "url":
        return lambda text: quote_plus(text, safe="/")
    return lambda text: text


def _entry(loop: EventLoop, info: ObjectInfo, enc: Callable[[str], str], owner: bool) -> Any:
    entry: dict[str, Any] = {
        "Key": enc(info.key),
        "LastModified": _time(info.last_modified_ms),
        "ETag": info.etag,
        "Size": info.size,
        "StorageClass": "STANDARD",
    }
    if owner:
        entry["Owner"] = _owner(loop)
    return entry


def list_objects_v2(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    prefix, delimiter = p.get("Prefix") or "", p.get("Delimiter") or None
    max_keys = p.get("MaxKeys", 1000)
    result = bucket.list_objects(
        prefix=prefix, delimiter=delimiter, max_keys=max_keys,
        continuation_token=p.get("ContinuationToken"), start_after=p.get("StartAfter"),
    )
    enc = _encoder(p)
    out: dict[str, Any] = {
        "IsTruncated": result.is_truncated,
        "Name": bucket.name,
        "Prefix": enc(prefix),
        "MaxKeys": max_keys,
        "KeyCount": result.key_count,
    }
    if result.contents:
        out["Contents"] = [
            _entry(loop, i, enc, bool(p.get("FetchOwner"))) for i in result.contents
        ]
    if result.common_prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(c)} for c in result.common_prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    if p.get("ContinuationToken"):
        out["ContinuationToken"] = p["ContinuationToken"]
    if result.next_continuation_token:
        out["NextContinuationToken"] = result.next_continuation_token
    if p.get("StartAfter"):
        out["StartAfter"] = enc(p["StartAfter"])
    return out


def list_objects(loop: EventLoop, p: dict[str, Any]) -> Any:
    """ListObjects (version 1): ``Marker`` in; ``NextMarker`` out when a delimiter is given."""
    bucket = _bucket(loop, p["Bucket"])
    prefix, delimiter = p.get("Prefix") or "", p.get("Delimiter") or None
    marker = p.get("Marker") or None
    max_keys = p.get("MaxKeys", 1000)
    token = None
    if marker and delimiter and marker.startswith(prefix) and marker.endswith(delimiter):
        # A common prefix as the marker: resume after every key under it (Bucket's token form).
        token = base64.urlsafe_b64encode(f"P:{marker}".encode()).decode()
    result = bucket.list_objects(
        prefix=prefix, delimiter=delimiter, max_keys=max_keys, continuation_token=token,
        start_after=None if token else marker,
    )
    enc = _encoder(p)
    out: dict[str, Any] = {
        "IsTruncated": result.is_truncated,
        "Marker": enc(marker or ""),
        "Name": bucket.name,
        "Prefix": enc(prefix),
        "MaxKeys": max_keys,
    }
    if result.contents:
        out["Contents"] = [_entry(loop, i, enc, True) for i in result.contents]
    if result.common_prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(c)} for c in result.common_prefixes]
    if delimiter:
        out["Delimiter"] = enc(delimiter)
        if result.is_truncated:
            last = max(
                [i.key for i in result.contents[-1:]] + list(result.common_prefixes[-1:])
            )
            out["NextMarker"] = enc(last)
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    return out


def list_object_versions(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    if p.get("Delimiter"):
        raise InvalidArgument("decoupling does not serve ListObjectVersions with a Delimiter.")
    prefix = p.get("Prefix") or ""
    max_keys = p.get("MaxKeys", 1000)
    result = bucket.list_versions(
        prefix=prefix, max_keys=max_keys, key_marker=p.get("KeyMarker") or None,
        version_id_marker=p.get("VersionIdMarker") or None,
    )
    enc = _encoder(p)
    owner = _owner(loop)
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for info in result.versions:
        common = {
            "Key": enc(info.key),
            "VersionId": info.version_id or "null",
            "IsLatest": info.is_latest,
            "LastModified": _time(info.last_modified_ms),
            "Owner": owner,
        }
        if info.is_delete_marker:
            markers.append(common)
        else:
            versions.append(
                {"ETag": info.etag, "Size": info.size, "StorageClass": "STANDARD", **common}
            )
    out: dict[str, Any] = {
        "IsTruncated": result.is_truncated,
        "KeyMarker": enc(p.get("KeyMarker") or ""),
        "VersionIdMarker": p.get("VersionIdMarker") or "",
        "Name": bucket.name,
        "Prefix": enc(prefix),
        "MaxKeys": max_keys,
    }
    if versions:
        out["Versions"] = versions
    if markers:
        out["DeleteMarkers"] = markers
    if result.next_key_marker is not None:
        out["NextKeyMarker"] = enc(result.next_key_marker)
        out["NextVersionIdMarker"] = result.next_version_id_marker
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    return out


# -- multipart ------------------------------------------------------------------------------------


def create_multipart_upload(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    upload_id = bucket.create_multipart_upload(
        p["Key"], metadata=p.get("Metadata"),
        content_type=p.get("ContentType") or "binary/octet-stream",
        tags=_tagging(p.get("Tagging")),  # type: ignore[arg-type]
    )
    return {"Bucket": bucket.name, "Key": p["Key"], "UploadId": upload_id}


def upload_part(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    etag = bucket.upload_part(p["Key"], p["UploadId"], p["PartNumber"], _body(p),
                              content_md5=p.get("ContentMD5"))
    return Reply({"ETag": etag}, 200, {"etag": etag})


def upload_part_copy(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    source, source_key, source_version = _copy_source(loop, p["CopySource"])
    source_info = source.head(source_key, version_id=source_version)
    part = bucket.upload_part_copy(
        p["Key"], p["UploadId"], p["PartNumber"], source, source_key,
        range=p.get("CopySourceRange"), source_version_id=source_version,
    )
    out: dict[str, Any] = {
        "CopyPartResult": {"ETag": part.etag, "LastModified": _time(part.last_modified_ms)}
    }
    if source_info.version_id is not None:
        out["CopySourceVersionId"] = source_info.version_id
    return out


def complete_multipart_upload(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    parts = (p.get("MultipartUpload") or {}).get("Parts") or []
    info = bucket.complete_multipart_upload(p["Key"], p["UploadId"], parts)
    out: dict[str, Any] = {
        "Location": f"https://{bucket.name}.s3.{bucket.loop.region}.amazonaws.com/"
                    f"{quote(info.key, safe='/')}",
        "Bucket": bucket.name,
        "Key": info.key,
        "ETag": info.etag,
    }
    headers: dict[str, str] = {}
    if info.version_id is not None:
        out["VersionId"] = headers["x-amz-version-id"] = info.version_id
    return Reply(out, 200, headers)


def abort_multipart_upload(loop: EventLoop, p: dict[str, Any]) -> Any:
    _bucket(loop, p["Bucket"]).abort_multipart_upload(p["Key"], p["UploadId"])
    return {}


def list_parts(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    marker = int(p.get("PartNumberMarker") or 0)
    limit = min(p.get("MaxParts", 1000), 1000)
    parts = [x for x in bucket.list_parts(p["Key"], p["UploadId"]) if x.part_number > marker]
    page = parts[:limit]
    owner = _owner(loop)
    out: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": p["Key"],
        "UploadId": p["UploadId"],
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(parts) > limit,
        "StorageClass": "STANDARD",
        "Owner": owner,
        "Initiator": owner,
    }
    if page:
        out["Parts"] = [
            {"PartNumber": x.part_number, "LastModified": _time(x.last_modified_ms),
             "ETag": x.etag, "Size": x.size}
            for x in page
        ]
        out["NextPartNumberMarker"] = page[-1].part_number
    return out


def list_multipart_uploads(loop: EventLoop, p: dict[str, Any]) -> Any:
    bucket = _bucket(loop, p["Bucket"])
    prefix = p.get("Prefix") or ""
    key_marker, id_marker = p.get("KeyMarker") or "", p.get("UploadIdMarker") or ""
    limit = min(p.get("MaxUploads", 1000), 1000)
    pairs = bucket.list_multipart_uploads()  # NoSuchBucket once deleted
    with bucket._lock:
        started = {uid: u.initiated_ms for uid, u in bucket._uploads.items()}
    uploads = [
        (key, uid, started.get(uid, 0)) for key, uid in pairs
        if key.startswith(prefix) and (key, uid) > (key_marker, id_marker)
    ]
    page = uploads[:limit]
    enc = _encoder(p)
    owner = _owner(loop)
    out: dict[str, Any] = {
        "Bucket": bucket.name,
        "KeyMarker": enc(key_marker),
        "UploadIdMarker": id_marker,
        "Prefix": enc(prefix),
        "MaxUploads": limit,
        "IsTruncated": len(uploads) > limit,
    }
    if page:
        out["Uploads"] = [
            {"UploadId": uid, "Key": enc(key), "Initiated": _time(ms),
             "StorageClass": "STANDARD", "Owner": owner, "Initiator": owner}
            for key, uid, ms in page
        ]
    if len(uploads) > limit:
        out["NextKeyMarker"] = enc(page[-1][0])
        out["NextUploadIdMarker"] = page[-1][1]
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    return out


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "CreateBucket": create_bucket,
    "DeleteBucket": delete_bucket,
    "ListBuckets": list_buckets,
    "HeadBucket": head_bucket,
    "GetBucketLocation": get_bucket_location,
    "PutBucketVersioning": put_bucket_versioning,
    "GetBucketVersioning": get_bucket_versioning,
    "PutBucketTagging": put_bucket_tagging,
    "GetBucketTagging": get_bucket_tagging,
    "DeleteBucketTagging": delete_bucket_tagging,
    "GetObjectLockConfiguration": get_object_lock_configuration,
    "PutBucketNotificationConfiguration": put_bucket_notification_configuration,
    "GetBucketNotificationConfiguration": get_bucket_notification_configuration,
    "PutObject": put_object,
    "GetObject": get_object,
    "HeadObject": head_object,
    "DeleteObject": delete_object,
    "DeleteObjects": delete_objects,
    "CopyObject": copy_object,
    "PutObjectTagging": put_object_tagging,
    "GetObjectTagging": get_object_tagging,
    "DeleteObjectTagging": delete_object_tagging,
    "ListObjectsV2": list_objects_v2,
    "ListObjects": list_objects,
    "ListObjectVersions": list_object_versions,
    "CreateMultipartUpload": create_multipart_upload,
    "UploadPart": upload_part,
    "UploadPartCopy": upload_part_copy,
    "CompleteMultipartUpload": complete_multipart_upload,
    "AbortMultipartUpload": abort_multipart_upload,
    "ListParts": list_parts,
    "ListMultipartUploads": list_multipart_uploads,
}
