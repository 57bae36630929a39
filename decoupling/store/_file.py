"""Which files are stores: the identity a store carries, and how a new one comes to exist.

A store is an SQLite database whose header carries :data:`APPLICATION_ID` (``PRAGMA
application_id``: 0x6463706C, the ASCII letters ``dcpl``; SQLite keeps it at offset 68 of the
file, where ``file(1)`` and other tools read it) and whose ``meta`` table holds its format,
``version`` = :data:`~decoupling.store._load.SCHEMA_VERSION`. Opening anything else fails with
:class:`~decoupling.errors.InvalidParameterValue` naming the file and what was found, before a
byte of it changes (no table added, no journal mode switched), and the connection is closed, so
the file's lock is released:

* a file that is not an SQLite database, or an SQLite database of another application (another
  ``application_id``, or tables that are not a store's);
* a store of another format (a later version of decoupling; a ``meta.version`` that is not a
  number): this version reads format 2 and upgrades format 1 (stores written before the
  ``application_id`` existed: exactly a store's six tables, ``meta.version`` = ``'1'``; the
  upgrade adds the body digests and the quarantine table in one transaction);
* a zero-length file or an SQLite database without tables, unless ``create="empty"``: a store is
  never zero-length — :func:`create_whole` builds a new one under a temporary name and links it
  into place complete, so a process starting beside another never sees a store half-made —
  so a zero-length file at a store's path is a store truncated, or a file someone else just made;
  either way, starting an empty store over it would lose what it held without a word.
  ``create="empty"`` (for a file from :func:`tempfile.mkstemp`, say) makes it a store in place,
  inside SQLite's write lock, after looking again under that lock: of several processes doing so
  at once, one creates the store and the others open it (what no lock shows is a program that
  is not SQLite writing that file at the same moment: ``create="empty"`` says there is none);
* a zero-length file with a non-empty ``-wal`` file beside it (SQLite would delete that log on
  open), and a missing file with a non-empty ``-wal`` (the log of a store deleted without it;
  SQLite would apply it to the new file): both refused, with any ``create``.

``create="never"`` refuses a missing file too (a process that must find its queues there).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from typing import TYPE_CHECKING

from ..errors import InvalidParameterValue
from . import _load as rows

if TYPE_CHECKING:
    from .sqlite_store import SqliteStore

__all__ = ["APPLICATION_ID", "CREATE", "check_path", "create_whole", "identify"]

#: ``PRAGMA application_id`` of every store: the ASCII bytes ``dcpl``.
APPLICATION_ID = 0x6463706C
#: The ``create`` settings of :class:`~decoupling.SqliteStore`.
CREATE = ("missing", "empty", "never")
_MAGIC = b"SQLite format 3\x00"
#: The tables of a format 1 store (before ``application_id``): how one is recognised.
_V1_TABLES = frozenset({"meta", "queues", "messages", "dedup", "handles", "changes"})


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def check_path(store: SqliteStore) -> bool:
    """Before SQLite opens ``store.path``: refuse what must not be opened, create a missing
    store whole (unless ``create="never"``). Returns True for a zero-length file that
    ``create="empty"`` allows to become a store in place."""
    path = store.path
    size = _size(path)
    wal = _size(path + "-wal") or 0
    if size is None and not os.path.lexists(path):
        if wal:
            raise InvalidParameterValue(
                f"Cannot create a store at {path}: a write-ahead log {path}-wal ({wal} bytes) of "
                "an earlier database is there; restore its database file or remove the log."
            )
        if store.create == "never":
            raise InvalidParameterValue(f"There is no store at {path} (create='never').")
        create_whole(store)
        return False
    if size == 0:
        if wal:
            raise InvalidParameterValue(
                f"The file {path} is empty but its write-ahead log {path}-wal holds {wal} bytes: "
                "a damaged database (SQLite would discard the log), not opened."
            )
        if store.create != "empty":
            raise InvalidParameterValue(
                f"The file {path} is empty (0 bytes), not a store: a store is never written "
                "empty, so it was truncated or made by something else. Remove it, or pass "
                "SqliteStore(path, create='empty') to make it a new store."
            )
        return True
    if size is not None:
        try:
            with open(path, "rb") as file:
                head = file.read(len(_MAGIC))
        except OSError:
            return False  # SQLite says why, in its own words
        if head != _MAGIC:
            raise InvalidParameterValue(
                f"The file {path} is not a store: not an SQLite database (it begins with "
                f"{head[:8]!r})."
            )
    return False


def create_whole(store: SqliteStore) -> None:
    """Make a new, empty store at ``store.path`` (which was missing): built and closed under a
    temporary name beside it, then hard-linked into place, which fails if the name was taken
    meanwhile (another process's store: then that one is used). On a file system without hard
    links the store is made in place, and a process opening it in that instant may find it
    empty and refuse it."""
    path = store.path
    temp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.new"
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        try:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only before the first table
            conn.execute("BEGIN IMMEDIATE")
            initialize(conn)
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")  # every later opener uses the WAL
        finally:
            conn.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            return  # another process made it first
        except OSError:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                return
            with open(temp, "rb") as source, os.fdopen(fd, "wb") as target:
                target.write(source.read())
                target.flush()
                os.fsync(target.fileno())
        _sync_directory(path)
    except sqlite3.Error as error:
        raise InvalidParameterValue(f"Cannot create a store at {path}: {error}.") from None
    except OSError as error:
        raise InvalidParameterValue(f"Cannot create a store at {path}: {error}.") from None
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(temp + suffix)
            except OSError:
                pass


def _sync_directory(path: str) -> None:
    """Make the new name durable (POSIX): else a power loss could leave the store's WAL without
    the file it belongs to."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return  # not possible here (Windows); the name is durable with the next metadata sync
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def initialize(conn: sqlite3.Connection) -> None:
    """Create a store's tables and identity in an empty database (in the caller's
    transaction)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for statement in rows.SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('version', ?)", (str(rows.SCHEMA_VERSION),))


def identify(conn: sqlite3.Connection, path: str, *, allow_empty: bool) -> None:
    """Inside a write transaction on a file that may be a store: make sure it is one (making an
    empty database one when ``allow_empty``, upgrading a format 1 store), or raise
    :class:`~decoupling.errors.InvalidParameterValue` saying what the file is. Writes nothing
    unless the file is empty or a format 1 store."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )}
    objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app == 0 and not objects:
        if not allow_empty:
            raise InvalidParameterValue(
                f"The file {path} is an empty SQLite database (no tables), not a store; pass "
                "SqliteStore(path, create='empty') to make it one."
            )
        initialize(conn)
        return
    if app not in (0, APPLICATION_ID) or (app == 0 and tables != _V1_TABLES):
        shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
        raise InvalidParameterValue(
            f"The file {path} is not a store: an SQLite database with application_id "
            f"{app:#x} (a store's is {APPLICATION_ID:#x}) and tables: {shown or 'none'}."
        )
    try:
        found = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    except sqlite3.OperationalError:
        found = None
    version = found[0] if found is not None else None
    if version == str(rows.SCHEMA_VERSION) and app == APPLICATION_ID:
        return
    if version == "1":
        _upgrade_from_1(conn)
        return
    shown_version = "missing" if found is None else repr(version)
    raise InvalidParameterValue(
        f"The store {path} has format (meta.version) {shown_version}; this version of "
        f"decoupling reads format {rows.SCHEMA_VERSION} and upgrades format 1."
    )


def _upgrade_from_1(conn: sqlite3.Connection) -> None:
    """Format 1 -> 2: each message row gets its body's MD5 (its body now is trusted as it
    is), the quarantine table is added, and the file gets its ``application_id``."""
    conn.create_function(
        "decoupling_md5", 1,
        lambda body: hashlib.md5(body, usedforsecurity=False).hexdigest(),
        deterministic=True,
    )
    conn.execute("ALTER TABLE messages ADD COLUMN md5 TEXT")
    conn.execute("UPDATE messages SET md5 = decoupling_md5(CAST(body AS BLOB))")
    conn.execute(rows.QUARANTINE_TABLE)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(rows.SCHEMA_VERSION),))
