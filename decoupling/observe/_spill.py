"""Where :class:`~decoupling.Metrics` keeps points older than its memory window: SQLite.

One table of points, ``metric_points``, keyed by metric, resolution (seconds) and the
wall-clock start of the point (epoch seconds, so a point means the same after a restart), and a
table naming the metrics, ``metric_keys``. Each point is its sample count, sum, minimum and
maximum; only periods with samples are written (an empty period costs nothing on disk).

The file is the loop's durable store when it has one (``EventLoop(store=...)``): the tables
live beside the store's, writes join the store's transaction of the call that made them (the
loop's lock commits them), and a loop that opens the store again reads them back. Otherwise a
private temporary file is made on the first spill (``decoupling-metrics-*.sqlite3`` in the
temporary directory; its rollback journal, ``-journal``, exists only during a write) and
removed when the ``Metrics`` is closed or garbage collected.

Everything here runs with the loop's lock held, on the loop's clock: points are written in
bulk, one transaction per roll-up (never per event).
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import add, mul
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..loop import EventLoop

__all__ = ["Spill", "Row", "Run"]

#: (key, resolution seconds, wall-clock start, sample count, sum, minimum, maximum)
Row = tuple[tuple[str, str, str], float, float, float, float, float, float]
#: A run of points of one metric: (key, resolution seconds, index of the first, then its
#: sample counts, sums, minimums and maximums; a count of 0 is an empty period, not written).
Run = tuple[tuple[str, str, str], float, int, Sequence[float], Sequence[float],
            Sequence[float], Sequence[float]]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS metric_keys (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL,"
    " resource TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (namespace, resource, metric))",
    "CREATE TABLE IF NOT EXISTS metric_points (key INTEGER NOT NULL, res REAL NOT NULL,"
    " at REAL NOT NULL, n REAL NOT NULL, total REAL NOT NULL, low REAL NOT NULL,"
    " high REAL NOT NULL, PRIMARY KEY (key, res, at)) WITHOUT ROWID",
)
_UPSERT = (
    "INSERT INTO metric_points (key, res, at, n, total, low, high) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (key, res, at) DO UPDATE SET n = n + excluded.n,"
    " total = total + excluded.total, low = min(low, excluded.low),"
    " high = max(high, excluded.high)"
)


def clock_offset(clock: Any) -> float:
    """Wall-clock epoch seconds minus loop seconds for ``clock`` (fixed for a clock)."""
    for name in ("_epoch_offset", "_offset"):
        value = getattr(clock, name, None)
        if isinstance(value, float):
            return value
    return float(clock.wall() - clock.now())


def _close_private(conn: sqlite3.Connection, path: str) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()
    with contextlib.suppress(OSError):
        os.remove(path)


class Spill:
    """The SQLite side of one ``Metrics`` (internal)."""

    def __init__(self, owner: object, loop: EventLoop) -> None:
        self.loop = loop
        self.offset = clock_offset(loop.clock)
        self.store: Any = loop.store
        #: The private temporary file's path (``None`` until the first spill, or with a store).
        self.path: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._owner = weakref.ref(owner)
        self._keys: dict[tuple[str, str, str], int] = {}
        self._names: dict[int, tuple[str, str, str]] = {}
        self.rows_written = 0
        if self.store is not None:
            conn = self._begin()
            for statement in _SCHEMA:
                conn.execute(statement)
            self._load_keys(conn)

    # -- the connection -------------------------------------------------------------------------

    def _begin(self) -> sqlite3.Connection:
        """A connection inside a write transaction (the store's, or the private file's)."""
        store = self.store
        if store is not None:
            conn: sqlite3.Connection = store._live()
            store._tx()  # committed by the loop's lock at the end of the call
            return conn
        conn2 = self._conn
        if conn2 is None:
            conn2 = self._open_private()
        if not conn2.in_transaction:
            conn2.execute("BEGIN")
        return conn2

    def _commit(self) -> None:
        conn = self._conn
        if self.store is None and conn is not None and conn.in_transaction:
            conn.execute("COMMIT")

    def _open_private(self) -> sqlite3.Connection:
        fd, path = tempfile.mkstemp(prefix="decoupling-metrics-", suffix=".sqlite3")
        os.close(fd)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # The rollback journal stays a file (SQLite's default, deleted at each commit): in
        # memory, a roll-up touching tens of MB of pages would leave the process that much
        # bigger. No fsync: the data is disposable.
        conn.execute("PRAGMA synchronous = OFF")
        for statement in _SCHEMA:
            conn.execute(statement)
        self.path = path
        self._conn = conn
        owner = self._owner()
        if owner is not None:
            self._finalizer = weakref.finalize(owner, _close_private, conn, path)
        return conn

    def _reader(self) -> sqlite3.Connection | None:
        """A connection to read from, or ``None`` when nothing was ever spilled (or the store
        is closed)."""
        if self.store is not None:
            conn: sqlite3.Connection | None = self.store._conn
            return conn
        return self._conn

    def _load_keys(self, conn: sqlite3.Connection) -> None:
        for key_id, namespace, resource, metric in conn.execute(
                "SELECT id, namespace, resource, metric FROM metric_keys"):
            key = (namespace, resource, metric)
            self._keys[key] = key_id
            self._names[key_id] = key

    def _key_id(self, conn: sqlite3.Connection, key: tuple[str, str, str]) -> int:
        key_id = self._keys.get(key)
        if key_id is None:
            conn.execute("INSERT OR IGNORE INTO metric_keys (namespace, resource, metric) "
                         "VALUES (?, ?, ?)", key)
            found = conn.execute("SELECT id FROM metric_keys WHERE namespace = ? AND "
                                 "resource = ? AND metric = ?", key).fetchone()
            key_id = int(found[0])
            self._keys[key] = key_id
            self._names[key_id] = key
        return key_id

    # -- writing (lock held) --------------------------------------------------------------------

    def write(self, runs: Iterable[Run], rows: Iterable[Row],
              cuts: Iterable[tuple[float, float, float]]) -> None:
        """In one transaction: merge ``runs`` and ``rows`` in (points with the same metric,
        resolution and start add up), then apply ``cuts``: ``(resolution, before, coarser)``
        rolls every point of that resolution starting before loop second ``before`` into points
        of resolution ``coarser`` (0: drops them), in order."""
        runs = list(runs)
        rows = list(rows)
        cuts = list(cuts)
        if not runs and not rows and (not cuts or self._reader() is None):
            return
        conn = self._begin()
        try:
            offset = self.offset
            for key, res, base, ns, totals, lows, highs in runs:
                key_id = self._key_id(conn, key)
                # An iterator: SQLite takes the rows one by one, no list of them is built (a
                # spill of every metric at once would be tens of MB of short-lived tuples).
                # Built of C iterators (no Python frame a point): row i starts at
                # (base + i) * res + offset; compress keeps the rows with samples (n != 0).
                assert len(ns) == len(totals) == len(lows) == len(highs)
                starts = map(add, map(mul, range(base, base + len(ns)), repeat(res)),
                             repeat(offset))
                cursor = conn.executemany(_UPSERT, compress(
                    zip(repeat(key_id), repeat(res), starts, ns, totals, lows, highs),
                    ns))
                self.rows_written += max(cursor.rowcount, 0)
            self._upsert(conn, rows)
            for res, before, coarser in cuts:
                self._cut(conn, res, before, coarser)
        except BaseException:
            if self.store is None and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._commit()

    def _upsert(self, conn: sqlite3.Connection, rows: list[Row]) -> None:
        if not rows:
            return
        key_id = self._key_id
        conn.executemany(_UPSERT, [
            (key_id(conn, key), res, at, n, total, low, high)
            for key, res, at, n, total, low, high in rows
        ])
        self.rows_written += len(rows)

    def _cut(self, conn: sqlite3.Connection, res: float, before: float, coarser: float) -> None:
        limit = before + self.offset
        # One metric at a time: each statement reads a range of the primary key, and the
        # GROUP BY of a roll-up sorts one metric's points (a few thousand), not every metric's
        # (a million at the first 15-day roll-up: SQLite's sorter took 4 MB of heap for it, and
        # the heap it left behind was most of the memory growth after day 1, issue #19).
        for key_id in list(self._names):
            if coarser:
                # Each point goes to the coarser period holding its start: floor((at - offset) /
                # coarser), as an integer cast of a value shifted positive (SQLite may lack
                # floor).
                conn.execute(
                    "INSERT INTO metric_points (key, res, at, n, total, low, high) "
                    "SELECT key, :coarser, (CAST((at - :offset) / :coarser + 1e-9 + 1000000000 "
                    "AS INTEGER) - 1000000000) * :coarser + :offset AS start, sum(n), "
                    "sum(total), min(low), max(high) FROM metric_points WHERE key = :key "
                    "AND res = :res AND at < :limit "
                    "GROUP BY start "
                    "ON CONFLICT (key, res, at) DO UPDATE SET n = n + excluded.n, "
                    "total = total + excluded.total, low = min(low, excluded.low), "
                    "high = max(high, excluded.high)",
                    {"coarser": coarser, "offset": self.offset, "res": res, "limit": limit,
                     "key": key_id})
            conn.execute("DELETE FROM metric_points WHERE key = ? AND res = ? AND at < ?",
                         (key_id, res, limit))

    # -- reading (lock held) ----------------------------------------------------------------------

    def points(self, key: tuple[str, str, str]) -> list[tuple[float, float, float, float, float,
                                                              float]]:
        """Every point of one metric: (resolution, loop-second start, n, sum, min, max)."""
        conn = self._reader()
        key_id = self._keys.get(key)
        if conn is None or key_id is None:
            return []
        offset = self.offset
        out = []
        for res, at, n, total, low, high in conn.execute(
                "SELECT res, at, n, total, low, high FROM metric_points WHERE key = ?",
                (key_id,)):
            out.append((res, _snap(at - offset, res), n, total, low, high))
        return out

    def keys(self) -> list[tuple[str, str, str]]:
        """The metrics with points on disk."""
        conn = self._reader()
        if conn is None:
            return []
        return [self._names[k] for (k,) in conn.execute(  # one primary-key probe a metric
            "SELECT id FROM metric_keys WHERE EXISTS "
            "(SELECT 1 FROM metric_points WHERE key = metric_keys.id)") if k in self._names]

    def extents(self) -> list[tuple[tuple[str, str, str], float, float, float, int]]:
        """Per metric and resolution: (key, resolution, first start, last start, rows)."""
        conn = self._reader()
        if conn is None:
            return []
        offset = self.offset
        return [(self._names[k], res, _snap(first - offset, res), _snap(last - offset, res),
                 int(count))
                for k, res, first, last, count in conn.execute(
                    "SELECT key, res, min(at), max(at), count(*) FROM metric_points "
                    "GROUP BY key, res") if k in self._names]

    def earliest(self, resolutions: Iterable[float]) -> float | None:
        """The loop second of the oldest point on disk at any of ``resolutions``, or ``None``
        (one primary-key probe per metric and resolution, not a scan)."""
        conn = self._reader()
        if conn is None:
            return None
        best: float | None = None
        for res in resolutions:
            found = conn.execute(
                "SELECT min((SELECT min(at) FROM metric_points WHERE key = metric_keys.id "
                "AND res = ?)) FROM metric_keys", (res,)).fetchone()
            if found is not None and found[0] is not None and (best is None or found[0] < best):
                best = float(found[0])
        return None if best is None else best - self.offset

    def rows(self) -> int:
        """Points on disk."""
        conn = self._reader()
        if conn is None:
            return 0
        return int(conn.execute("SELECT count(*) FROM metric_points").fetchone()[0])

    def disk_bytes(self) -> int:
        """Bytes of the private file (0 without one); with a store, its tables' pages."""
        if self.store is None:
            if self.path is None or not os.path.exists(self.path):
                return 0
            return os.path.getsize(self.path)
        conn = self._reader()
        if conn is None:
            return 0
        try:
            found = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN "
                                 "('metric_points', 'metric_keys')").fetchone()
        except sqlite3.Error:  # dbstat is an optional SQLite extension
            return 0
        return int(found[0] or 0)

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the private file (points spilled to it stay readable until the ``Metrics``
        is garbage collected, on systems that let an open file be removed). Idempotent."""
        path = self.path
        if path is not None:
            with contextlib.suppress(OSError):
                os.remove(path)


def _bucket(seconds: float, width: float) -> float:
    """The start (loop seconds) of the period of ``width`` holding ``seconds``."""
    return math.floor(seconds / width + 1e-9) * width


def _snap(seconds: float, res: float) -> float:
    """A loop-second start read back from disk, snapped to its resolution's grid when within
    rounding of it (points written by this run always are)."""
    k = seconds / res
    r = round(k)
    return r * res if abs(k - r) < 1e-6 else seconds
