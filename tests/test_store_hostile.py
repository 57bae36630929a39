"""Durable stores given files that are not stores, damaged rows, and other processes.

What a user relies on: opening a path that holds anything but a store fails with
``InvalidParameterValue`` naming the file and what is there, changes none of its bytes and lets
go of it at once (plain ``sqlite3`` can lock it exclusively right after); a zero-length file is
refused unless ``create="empty"``; a message whose body no longer matches its MD5 is quarantined
and reported, never delivered; in multi-process mode every change, a queue's creation and
deletion included, reaches the other processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue, QueueAlreadyExists, QueueDoesNotExist

E = 1_800_000_000.0


def open_loop(path: Path, down_for: float = 0.0, **settings: object) -> dc.EventLoop:
    store = dc.SqliteStore(path, synchronous="OFF", **settings)  # type: ignore[arg-type]
    return dc.EventLoop(clock=dc.ManualClock(epoch=E + down_for), store=store)


def close(loop: dc.EventLoop) -> None:
    assert loop.store is not None
    loop.store.close()


def assert_released(path: Path) -> None:
    """Nothing holds the file: another connection takes SQLite's exclusive lock at once."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queues.db"


# -- files that are not stores ----------------------------------------------------------------


def test_another_applications_database_is_refused_untouched_and_released(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users VALUES (1, 'ada')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for multiprocess in (False, True):
        with pytest.raises(InvalidParameterValue) as caught:
            open_loop(path, multiprocess=multiprocess)
        assert caught.value.message == (
            f"The file {path} is not a store: an SQLite database with application_id 0x0 "
            "(a store's is 0x6463706c) and tables: users."
        )
        assert caught.value.code == "InvalidParameterValue"
        assert path.read_bytes() == before  # no table added, still a rollback-journal file
        assert files(tmp_path) == ["app.db"]  # no -wal or -shm left behind
        assert_released(path)


def test_a_database_with_another_application_id_is_refused(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidParameterValue, match="application_id 0x4d2 .* tables: meta"):
        open_loop(db)
    assert_released(db)


@pytest.mark.parametrize("version, shown", [("abc", "'abc'"), ("99", "'99'"), (None, "None")])
def test_a_store_of_another_format_is_refused_and_released(
    db: Path, version: str | None, shown: str
) -> None:
    loop = open_loop(db)
    dc.Queue(loop, "orders").send("a")
    close(loop)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version,))
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(InvalidParameterValue) as caught:
        open_loop(db)
    assert caught.value.message == (
        f"The store {db} has format (meta.version) {shown}; this version of decoupling reads "
        "format 2 and upgrades format 1."
    )
    assert db.read_bytes() == before
    assert_released(db)


def test_a_file_that_is_not_sqlite_is_refused(db: Path) -> None:
    db.write_bytes(b"PK\x03\x04 a zip file, say" * 200)
    with pytest.raises(InvalidParameterValue, match=r"not an SQLite database \(it begins with "
                                                    r"b'PK\\x03\\x04 a z'\)"):
        open_loop(db)
    assert db.read_bytes() == b"PK\x03\x04 a zip file, say" * 200


def test_a_zero_length_file_is_not_taken_for_an_empty_store(tmp_path: Path, db: Path) -> None:
    db.write_bytes(b"")
    with pytest.raises(InvalidParameterValue, match="is empty \\(0 bytes\\), not a store"):
        open_loop(db)
    assert db.stat().st_size == 0 and files(tmp_path) == ["queues.db"]
    # Asked for: it becomes a store, and then opens as one with any setting.
    loop = open_loop(db, create="empty")
    dc.Queue(loop, "orders").send("kept")
    close(loop)
    loop = open_loop(db, down_for=1)
    assert [m.body for m in loop._lookup("sqs", "orders").receive()] == ["kept"]


def test_an_empty_sqlite_database_is_a_store_only_when_asked(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")  # a valid database with no tables left
    conn.commit()
    conn.close()
    assert db.stat().st_size > 0
    with pytest.raises(InvalidParameterValue, match="an empty SQLite database"):
        open_loop(db)
    loop = open_loop(db, create="empty")
    assert loop.store is not None and loop.store._conn is not None
    assert loop.store._conn.execute("PRAGMA application_id").fetchone()[0] == 0x6463706C


def test_a_zero_length_file_beside_a_log_is_refused_even_with_create_empty(db: Path) -> None:
    db.write_bytes(b"")
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(60))
    with pytest.raises(InvalidParameterValue, match="write-ahead log .* holds 64 bytes"):
        open_loop(db, create="empty")
    assert wal.stat().st_size == 64  # SQLite would have deleted it
    db.unlink()
    with pytest.raises(InvalidParameterValue, match="write-ahead log .* of an earlier database"):
        open_loop(db)
    assert not db.exists()


def test_create_never_needs_an_existing_store(tmp_path: Path, db: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=f"There is no store at {db}"):
        open_loop(db, create="never")
    assert files(tmp_path) == []
    close(open_loop(db))
    close(open_loop(db, create="never"))
    with pytest.raises(ValueError, match="create must be one of"):
        dc.SqliteStore(db, create="always")
    for special in ("", ":memory:"):  # SQLite's names for databases that are not files
        with pytest.raises(ValueError, match="path must name a file"):
            dc.SqliteStore(special)


def test_a_new_store_is_created_whole_with_its_identity(tmp_path: Path, db: Path) -> None:
    close(open_loop(db))
    assert files(tmp_path) == ["queues.db"]  # the temporary name it was built under is gone
    header = db.read_bytes()[:100]
    assert header[:16] == b"SQLite format 3\x00"
    assert int.from_bytes(header[68:72], "big") == 0x6463706C  # "dcpl"
    assert header[18:20] == b"\x02\x02"  # WAL
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta").fetchall() == [("2",)]
    conn.close()


def test_a_store_that_cannot_be_loaded_is_closed_again(db: Path) -> None:
    loop = open_loop(db)
    dc.Queue(loop, "orders")
    close(loop)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE queues SET meta = '{not json'")
    conn.commit()
    conn.close()
    store = dc.SqliteStore(db)
    with pytest.raises(InvalidParameterValue, match=f"The store {db} cannot be loaded: "
                                                    "JSONDecodeError"):
        dc.EventLoop(clock=dc.ManualClock(epoch=E), store=store)
    assert store._conn is None
    assert_released(db)


# A store written before the application_id (format 1), as it was: upgraded in place on open.
FORMAT_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE queues (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, fifo INTEGER NOT NULL,
    meta TEXT NOT NULL, receipt_prefix TEXT NOT NULL, next_seq INTEGER NOT NULL,
    next_tick INTEGER NOT NULL, last_sequence INTEGER NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, body TEXT NOT NULL,
    attributes TEXT, sent_ms INTEGER NOT NULL, group_id TEXT, dedup_id TEXT,
    sequence_number TEXT, dlq_source_arn TEXT, trace_header TEXT, sent_at REAL NOT NULL,
    available_at REAL NOT NULL, receive_count INTEGER NOT NULL, first_received_at REAL,
    received_at REAL, deadline REAL, timeout REAL, receipt TEXT);
CREATE TABLE dedup (qid INTEGER NOT NULL, scope TEXT NOT NULL, dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL, sequence_number TEXT, expires REAL NOT NULL,
    PRIMARY KEY (qid, scope, dedup_id)) WITHOUT ROWID;
CREATE TABLE handles (qid INTEGER NOT NULL, receipt TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (qid, receipt)) WITHOUT ROWID;
CREATE TABLE changes (id INTEGER PRIMARY KEY, qid INTEGER NOT NULL, kind TEXT NOT NULL,
    mid INTEGER, key TEXT);
"""


def test_a_format_1_store_is_upgraded_and_keeps_its_messages(db: Path) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders", visibility_timeout=45)
    sent = q.send("héllo")
    close(loop)
    conn = sqlite3.connect(db)
    queue_row = conn.execute("SELECT * FROM queues").fetchone()
    message_row = conn.execute("SELECT * FROM messages").fetchone()[:-1]  # without md5
    conn.close()
    db.unlink()
    conn = sqlite3.connect(db)
    conn.executescript(FORMAT_1)
    conn.execute("INSERT INTO meta VALUES ('version', 1)")
    conn.execute("INSERT INTO queues VALUES (?, ?, ?, ?, ?, ?, ?, ?)", queue_row)
    conn.execute(f"INSERT INTO messages VALUES ({', '.join('?' * 18)})", message_row)
    conn.commit()
    conn.close()
    loop = open_loop(db, down_for=1)
    q = loop._lookup("sqs", "orders")
    assert q.visibility_timeout == 45
    (m,) = q.receive()
    assert (m.message_id, m.body) == (sent.message_id, "héllo")
    assert loop.store is not None and loop.store.damaged == []
    close(loop)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x6463706C
    assert conn.execute("SELECT value FROM meta").fetchall() == [("2",)]
    assert conn.execute("SELECT md5 FROM messages").fetchall() == [
        (hashlib.md5("héllo".encode()).hexdigest(),)
    ]
    conn.close()


# -- damaged rows -----------------------------------------------------------------------------


def test_an_altered_body_is_quarantined_reported_and_never_delivered(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop = open_loop(db)
    q = dc.Queue(loop, "orders")
    q.send("pay 10")
    bad = q.send("pay 20")
    q.send("pay 30", message_attributes={"kind": "pay"})
    close(loop)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE messages SET body = 'pay 99' WHERE body = 'pay 20'")  # valid text
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, logger="decoupling"):
        loop = open_loop(db, down_for=1)
    q = loop._lookup("sqs", "orders")
    assert sorted(m.body for m in q.receive(10)) == ["pay 10", "pay 30"]
    assert len(q) == 2
    assert loop.store is not None
    key = (1 << 40) | 2
    digest = hashlib.md5(b"pay 99").hexdigest()
    assert loop.store.damaged == [{
        "queue": "orders", "message_id": bad.message_id, "key": key,
        "reason": f"its body's MD5 is {digest}, the row says "
                  f"'{hashlib.md5(b'pay 20').hexdigest()}'",
    }]
    (record,) = [r for r in caplog.records if r.name == "decoupling.store"]
    assert record.levelno == logging.WARNING
    assert f"message {bad.message_id} of queue orders is damaged" in record.getMessage()
    close(loop)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT queue, key, message_id, body FROM quarantine").fetchall() == [
        ("orders", key, bad.message_id, "pay 99")
    ]
    assert conn.execute("SELECT count(*) FROM messages").fetchone() == (2,)
    conn.close()
    # Reported once: the row no longer is a message.
    loop = open_loop(db, down_for=2)
    assert loop.store is not None and loop.store.damaged == []
    assert len(loop._lookup("sqs", "orders")) == 2


def test_a_body_that_is_no_longer_text_or_a_damaged_column_is_quarantined(db: Path) -> None:
    loop = open_loop(db)
    q = dc.FifoQueue(loop, "pay.fifo", content_based_deduplication=True)
    for body in ("a", "b", "c", "d", "e"):
        q.send(body, message_group_id="g")
    close(loop)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE messages SET body = CAST(x'ff00' AS TEXT) WHERE body = 'a'")
    conn.execute("UPDATE messages SET receive_count = 'many' WHERE body = 'b'")
    conn.execute("UPDATE messages SET attributes = '{bad' WHERE body = 'c'")
    # Not UTF-8, with a digest to match (damage that passes the MD5 check).
    conn.execute("UPDATE messages SET body = CAST(x'ff' AS TEXT), md5 = ? WHERE body = 'd'",
                 (hashlib.md5(b"\xff").hexdigest(),))
    conn.commit()
    conn.close()
    loop = open_loop(db, down_for=1)
    q = loop._lookup("sqs", "pay.fifo")
    assert [m.body for m in q.receive(10)] == ["e"]
    assert loop.store is not None
    reasons = [d["reason"] for d in loop.store.damaged]
    assert reasons[0] == (f"its body's MD5 is {hashlib.md5(bytes([255, 0])).hexdigest()}, the "
                          f"row says '{hashlib.md5(b'a').hexdigest()}'")
    assert reasons[1:] == [
        "a column holds a value of the wrong type",
        "it cannot be read (Expecting property name enclosed in double quotes: line 1 "
        "column 2 (char 1))",
        "it cannot be read ('utf-8' codec can't decode byte 0xff in position 0: invalid start "
        "byte)",
    ]
    close(loop)
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT CAST(body AS BLOB), receive_count FROM quarantine ORDER BY key"
    ).fetchall() == [(b"\xff\x00", 0), (b"b", "many"), (b"c", 0), (b"\xff", 0)]
    conn.close()


def test_damage_found_by_one_process_stops_the_others_serving_the_row(db: Path) -> None:
    a = open_loop(db, multiprocess=True)
    qa = dc.Queue(a, "orders")
    qa.send("fine")
    sent = qa.send("pay 20")
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("UPDATE messages SET body = 'pay 99' WHERE body = 'pay 20'")  # a has it in memory
    raw.close()
    b = open_loop(db, multiprocess=True)  # b loads the rows, finds the damage
    qb = b._lookup("sqs", "orders")
    assert b.store is not None
    assert [d["message_id"] for d in b.store.damaged] == [sent.message_id]
    assert len(qb) == 1
    assert len(qa) == 1  # a, told by b's change record, dropped its copy
    assert [m.body for m in qa.receive(10)] == ["fine"]
    assert a.store is not None and a.store.damaged == []


# -- several processes ------------------------------------------------------------------------


def test_a_queue_created_with_nothing_sent_reaches_the_other_process(db: Path) -> None:
    a = open_loop(db, multiprocess=True)
    b = open_loop(db, multiprocess=True)
    created = dc.Queue(a, "jobs", visibility_timeout=45)
    declared = dc.Queue(b, "jobs", visibility_timeout=45)  # CreateQueue again: the same queue
    assert declared.visibility_timeout == 45 and declared.arn == created.arn
    with pytest.raises(QueueAlreadyExists, match="VisibilityTimeout"):
        dc.Queue(b, "jobs", visibility_timeout=30)
    declared.send("from b")
    assert [m.body for m in created.receive()] == ["from b"]


def test_a_queue_deleted_with_nothing_else_reaches_the_other_process(db: Path) -> None:
    a = open_loop(db, multiprocess=True)
    b = open_loop(db, multiprocess=True)
    dc.Queue(a, "jobs")
    other = dc.Queue(a, "other")
    seen_by_b = dc.Queue(b, "jobs")
    a._lookup("sqs", "jobs").delete_queue()
    other.send("x")  # a's next call
    with pytest.raises(QueueDoesNotExist):
        seen_by_b.send("late")
    assert b._lookup("sqs", "jobs") is None


def test_a_queue_row_without_a_change_record_leaves_no_ghost(db: Path) -> None:
    # What a process of an earlier version left: a queue row the others were never told of.
    b = open_loop(db, multiprocess=True)
    dc.Queue(b, "warm-up")
    a = open_loop(db, multiprocess=True)
    dc.Queue(a, "jobs", visibility_timeout=45)
    assert a.store is not None and a.store._conn is not None
    a.store._conn.execute("UPDATE changes SET kind = '?' WHERE kind = 'c' AND qid = 2")
    with pytest.raises(dc.errors.ServiceUnavailable, match="UNIQUE constraint failed"):
        dc.Queue(b, "jobs", visibility_timeout=45)
    assert b._lookup("sqs", "jobs") is None  # no queue the store does not hold
    again = dc.Queue(b, "jobs", visibility_timeout=45)  # reloaded: a's queue
    again.send("one")
    assert len(a._lookup("sqs", "jobs")) == 1


CREATE_CHILD = r'''
import sys
import decoupling as dc
loop = dc.EventLoop(store=dc.SqliteStore(sys.argv[1], multiprocess=True))
dc.Queue(loop, "jobs", visibility_timeout=45)
'''


@pytest.mark.realtime
def test_a_queue_another_process_created_and_left_is_declared_again(
    tmp_path: Path, db: Path
) -> None:
    loop = dc.EventLoop(store=dc.SqliteStore(db, multiprocess=True))
    before = dc.Queue(loop, "first")
    script = tmp_path / "child.py"
    script.write_text(CREATE_CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(dc.__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, str(script), str(db)], env=env, check=True, timeout=60)
    jobs = dc.Queue(loop, "jobs", visibility_timeout=45)
    assert jobs.get_attributes(["VisibilityTimeout"]) == {"VisibilityTimeout": "45"}
    jobs.send("x")
    before.send("y")
    assert loop.store is not None
    assert loop.store._conn is not None
    assert loop.store._conn.execute("SELECT name FROM queues ORDER BY id").fetchall() == [
        ("first",), ("jobs",)
    ]


OPEN_CHILD = r'''
import os, sys, time
import decoupling as dc
path, create, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
loop = dc.EventLoop(store=dc.SqliteStore(path, multiprocess=True, create=create))
dc.Queue(loop, "jobs").send(str(os.getpid()))
loop.store.close()
print(os.getpid())
'''


@pytest.mark.parametrize("create", ["missing", "empty"])
def test_openers_racing_on_a_new_path_share_one_store(tmp_path: Path, db: Path, create: str) -> None:
    # Eight connections at once (threads: SQLite locks connections of one process as it locks
    # processes): exactly one makes the store, every other opens it.
    if create == "empty":
        db.write_bytes(b"")  # from tempfile.mkstemp, say
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def opener(n: int) -> None:
        try:
            barrier.wait()
            loop = dc.EventLoop(clock=dc.ManualClock(epoch=E),
                                store=dc.SqliteStore(db, multiprocess=True, create=create))
            dc.Queue(loop, "jobs").send(str(n))
            close(loop)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=opener, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loop = open_loop(db)
    assert sorted(m.body for m in loop._lookup("sqs", "jobs").receive(10)) == [
        str(n) for n in range(8)
    ]
    assert files(tmp_path) == ["queues.db", "queues.db-wal"]  # no temporary file left


@pytest.mark.realtime
def test_processes_starting_at_once_on_a_missing_path_share_one_store(
    tmp_path: Path, db: Path
) -> None:
    import time

    script = tmp_path / "child.py"
    script.write_text(OPEN_CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(dc.__file__).resolve().parent.parent)}
    start = time.time() + 0.3  # after the interpreters have started, on an idle machine
    children = [
        subprocess.Popen([sys.executable, str(script), str(db), "missing", str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(3)
    ]
    pids = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        pids.append(out.strip())
    loop = dc.EventLoop(store=db)  # the real clock, as the children's
    jobs = loop._lookup("sqs", "jobs")
    assert sorted(m.body for m in jobs.receive(10)) == sorted(pids)
    assert files(tmp_path) == ["child.py", "queues.db", "queues.db-wal"]  # no temporary left
