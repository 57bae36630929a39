"""Durable buckets: bucket rows, object-version rows and body files beside the database.

Bodies are files, one a body, in the directory ``<store path>.blobs`` (not SQLite blobs):
a 50 MB body written as a blob would pass through SQLite's WAL and be copied again at the
checkpoint, and Python's ``sqlite3`` reads a blob whole into memory; a file is written once,
streamed in 1 MiB chunks, and read in ranges (``os.pread``) without holding it. Small bodies
pay one file each, as objects do in S3.

Crash safety, in this order:

1. the body is written to ``tmp-<name>``, fsynced (unless ``synchronous`` is ``NORMAL`` or
   ``OFF``: those keep a process crash only, which the page cache survives), renamed to
   ``<name>``, and the directory fsynced -- all before the bucket's lock is taken;
2. the row that refers to it commits with the call that made the version (one transaction).

A crash between 1 and 2 leaves a body file no row refers to: an *orphan*. A body file whose
version was removed is unlinked after the removal commits, once no row refers to it (a copy
shares its source's file); a crash in between leaves an orphan too. Orphans and ``tmp-`` files
are removed when the store is opened, listed in :attr:`SqliteStore.orphaned_bodies` and logged
as warnings on the ``decoupling.store`` logger. A row whose body file is missing (someone
removed it) is left out of the bucket, listed in :attr:`SqliteStore.damaged` and logged; it is
never served half.

Rows: ``s3_buckets`` (name, creation time, versioning, tags, notification configurations,
the event sequencer), ``s3_objects`` (one row per version, in order: metadata, tags, ETag,
MD5, the body's files) and ``s3_refs`` (which body file each version refers to, indexed by
file, to know when a file is free). A change to a key rewrites that key's rows (O(versions of
the key)). Not kept: multipart uploads in progress (their parts' files are orphans after a
restart), and other processes' changes in multi-process mode (buckets are per process).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..s3._body import _Blob, _Body
from ..s3.bucket import Bucket, ObjectInfo, _Version
from ..s3.notifications import NotificationConfiguration

if TYPE_CHECKING:
    import sqlite3

    from .sqlite_store import SqliteStore

__all__ = ["TABLES", "blob_dir", "write_body", "write_bucket", "drop_bucket", "collect",
           "load_buckets"]

_log = logging.getLogger("decoupling.store")

TABLES = """
CREATE TABLE IF NOT EXISTS s3_buckets (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    versioning TEXT NOT NULL,
    tags TEXT,
    notifications TEXT NOT NULL,
    sequence INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    version_id TEXT,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    md5 TEXT,
    last_modified_ms INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    content_type TEXT NOT NULL,
    tags TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (bucket, key, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_refs (
    blob TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS s3_refs_by_blob ON s3_refs (blob);
CREATE INDEX IF NOT EXISTS s3_refs_by_key ON s3_refs (bucket, key);
"""

_TMP = "tmp-"
_CHUNK = 1024 * 1024


def blob_dir(store: SqliteStore) -> str:
    """The directory of the store's body files."""
    return store.path + ".blobs"


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not possible here (Windows)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_body(store: SqliteStore, body: _Body) -> _Body:
    """``body`` written to a new file of the store (see the module's crash-safety steps), as a
    body read from that file. A body already in the store's files is returned as it is."""
    if all(isinstance(s, _Blob) for s in body.segments):
        return body
    directory = blob_dir(store)
    os.makedirs(directory, exist_ok=True)
    name = secrets.token_hex(16)
    temp = os.path.join(directory, _TMP + name)
    final = os.path.join(directory, name)
    durable = store.synchronous in ("FULL", "EXTRA")
    try:
        with open(temp, "wb") as file:
            for chunk in body.chunks(0, body.size):
                file.write(chunk)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.replace(temp, final)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    if durable:
        _fsync_dir(directory)
    return _Body((_Blob(final),), (body.size,), body.known_md5)


def blobs_of(body: _Body | None) -> list[str]:
    """The store's file names ``body`` is read from."""
    if body is None:
        return []
    names = []
    for segment in body.segments:
        if not isinstance(segment, _Blob):
            raise ValueError("a durable bucket's body is not in the store's files")
        names.append(segment.name)
    return names


def _bucket_row(bucket: Bucket) -> tuple[Any, ...]:
    notifications = [
        [c.id, c.destination_arn, list(c.events), c.prefix, c.suffix]
        for c in bucket._notifications
    ]
    return (
        bucket.name, bucket.created_ms, bucket._versioning,
        None if bucket._tags is None else json.dumps(bucket._tags),
        json.dumps(notifications), bucket._sequence,
    )


def write_bucket(store: SqliteStore, conn: sqlite3.Connection, bucket: Bucket,
                 key: str | None) -> None:
    """Rewrite the bucket's row and, when ``key`` is given, that key's version rows."""
    conn.execute(
        "INSERT OR REPLACE INTO s3_buckets (name, created_ms, versioning, tags, notifications, "
        "sequence) VALUES (?, ?, ?, ?, ?, ?)",
        _bucket_row(bucket),
    )
    if key is None:
        return
    name = bucket.name
    old = {b for (b,) in conn.execute(
        "SELECT blob FROM s3_refs WHERE bucket = ? AND key = ?", (name, key)
    )}
    conn.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (name, key))
    conn.execute("DELETE FROM s3_refs WHERE bucket = ? AND key = ?", (name, key))
    rows = []
    refs: list[tuple[str, str, str]] = []
    for position, version in enumerate(bucket._keys.get(key, ())):
        info = version.info
        body = version.body
        blobs = blobs_of(body)
        md5 = body.known_md5 if body is not None else None
        rows.append((
            name, key, position, info.version_id, int(body is None), info.size, info.etag,
            md5.hex() if md5 is not None else None, info.last_modified_ms,
            json.dumps(dict(info.metadata)), info.content_type, json.dumps(version.tags),
            json.dumps(blobs),
        ))
        refs.extend((blob, name, key) for blob in blobs)
    if rows:
        conn.executemany(
            "INSERT INTO s3_objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    if refs:
        conn.executemany("INSERT INTO s3_refs VALUES (?, ?, ?)", refs)
    store._s3_doomed.update(old.difference(r[0] for r in refs))


def drop_bucket(store: SqliteStore, conn: sqlite3.Connection, name: str) -> None:
    """A deleted bucket's rows go; its files once the deletion commits."""
    store._s3_doomed.update(b for (b,) in conn.execute(
        "SELECT blob FROM s3_refs WHERE bucket = ?", (name,)
    ))
    for table in ("s3_objects", "s3_refs"):
        conn.execute(f"DELETE FROM {table} WHERE bucket = ?", (name,))
    conn.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))


def doom(store: SqliteStore, bodies: Iterable[_Body]) -> None:
    """These bodies may be free: their files go after the commit if no row refers to them."""
    for body in bodies:
        for segment in body.segments:
            if isinstance(segment, _Blob):
                store._s3_doomed.add(segment.name)


def collect(store: SqliteStore, conn: sqlite3.Connection) -> None:
    """(after a commit) unlink the doomed files no committed row refers to."""
    doomed, store._s3_doomed = store._s3_doomed, set()
    directory = blob_dir(store)
    for name in doomed:
        if conn.execute("SELECT 1 FROM s3_refs WHERE blob = ? LIMIT 1", (name,)).fetchone():
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass


def _info(row: tuple[Any, ...], latest: bool) -> ObjectInfo:
    (_, key, _, version_id, marker, size, etag, _, modified, metadata, content_type, _,
     _) = row
    return ObjectInfo(
        key=key, size=size, etag=etag, last_modified_ms=modified,
        metadata=json.loads(metadata), content_type=content_type, version_id=version_id,
        is_delete_marker=bool(marker), is_latest=latest,
    )


def load_buckets(store: SqliteStore, conn: sqlite3.Connection, *, opening: bool = True) -> None:
    """Rebuild every bucket from its rows (inside the current transaction): on open, then
    remove the body files no row refers to (orphans of a crash) and report them; after a
    failed write (``opening=False``), the loop's ``Bucket`` objects are rebuilt in place, so
    they hold what the store holds again."""
    loop = store._loop
    directory = blob_dir(store)
    bucket_rows = conn.execute("SELECT * FROM s3_buckets ORDER BY name").fetchall()
    present = {row[0] for row in bucket_rows}
    for gone in loop._resources_of("s3"):
        if gone.name not in present:  # created by the call that failed
            gone._deleted = True
            loop._resources.pop(("s3", gone.name), None)
    for name, created, versioning, tags, notifications, sequence in bucket_rows:
        bucket = loop._lookup("s3", name)
        if bucket is None:
            bucket = Bucket(loop, name)
        else:
            bucket._keys.clear()
            bucket._live.clear()
            bucket._deleted = False
        bucket.created_ms = created
        bucket._versioning = versioning
        bucket._tags = None if tags is None else json.loads(tags)
        bucket._notifications = [
            NotificationConfiguration(
                id=i, destination_arn=arn, events=tuple(events), prefix=prefix, suffix=suffix
            )
            for i, arn, events, prefix, suffix in json.loads(notifications)
        ]
        bucket._sequence = sequence
        rows = conn.execute(
            "SELECT * FROM s3_objects WHERE bucket = ? ORDER BY key, position", (name,)
        ).fetchall()
        by_key: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_key.setdefault(row[1], []).append(row)
        for key, key_rows in by_key.items():
            versions: list[_Version] = []
            for index, row in enumerate(key_rows):
                latest = index == len(key_rows) - 1
                blobs = json.loads(row[12])
                body = None
                if not row[4]:
                    paths = [os.path.join(directory, b) for b in blobs]
                    sizes = [_size(p) for p in paths]
                    if None in sizes or sum(s or 0 for s in sizes) != row[5]:
                        _damaged(store, name, key, row[3], f"body file missing or cut short: "
                                 f"{', '.join(blobs)}")
                        continue
                    md5 = bytes.fromhex(row[7]) if row[7] else None
                    body = _Body(tuple(_Blob(p) for p in paths),
                                 tuple(s or 0 for s in sizes), md5)
                versions.append(_Version(_info(row, latest), body, json.loads(row[11])))
            if versions:
                if not versions[-1].info.is_latest:  # the newest row was left out
                    last = versions[-1]
                    versions[-1] = _Version(
                        attrs.evolve(last.info, is_latest=True), last.body, last.tags
                    )
                bucket._keys[key] = versions
                if versions[-1].body is not None:
                    bucket._live.add(key)
    if opening:
        _remove_orphans(store, conn, directory)


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _damaged(store: SqliteStore, bucket: str, key: str, version_id: str | None,
             reason: str) -> None:
    found = {"bucket": bucket, "key": key, "version_id": version_id, "reason": reason}
    store.damaged.append(found)
    _log.warning("store %s: object %s/%s (version %s) left out: %s", store.path, bucket, key,
                 version_id, reason)


def _remove_orphans(store: SqliteStore, conn: sqlite3.Connection, directory: str) -> None:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    referenced = {b for (b,) in conn.execute("SELECT DISTINCT blob FROM s3_refs")}
    for name in sorted(names):
        if name in referenced:
            continue
        path = os.path.join(directory, name)
        try:
            size = os.path.getsize(path)
            os.unlink(path)
        except OSError:
            continue
        store.orphaned_bodies.append({"file": path, "bytes": size})
        _log.warning("store %s: removed the body file %s (%d bytes), which no object refers "
                     "to (written by a call that did not complete)", store.path, path, size)
