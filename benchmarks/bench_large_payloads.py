"""A 50 MB payload through the claim-check (``PayloadOffload``), beside a file.

One cycle: a producer builds the text and sends it through a queue with ``large_payloads``
(the payload goes to an in-process bucket, the queue carries the pointer) and lets go of it; a
consumer receives it (the pointer is resolved), checks it and deletes it (the object goes too).
The baseline writes the same text to a file and reads it back (``open(..., "w")`` /
``read()``, UTF-8), in the same run. The same pair again on disk for good: the claim-check on a
durable loop (``SqliteStore``: the pointer message in SQLite, the payload an fsynced body file)
beside the file write fsynced.

Figures: seconds per cycle (median of rounds, the two alternating), and the peak of Python's
allocations during one cycle (``tracemalloc``) as a multiple of the payload: the goal is at most
2x — the text and its UTF-8 bytes, never a third copy. The process's peak RSS is printed too.

Run: ``python benchmarks/bench_large_payloads.py`` (``--quick``: 10 MB, fewer rounds).
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from _harness import emit, table

import decoupling as dc

MB = 1_000_000
QUICK = "--quick" in sys.argv
SIZE = (10 if QUICK else 50) * MB
ROUNDS = 3  # the figures held are peak allocations; the seconds are for reading
_STORES: list[dc.SqliteStore] = []  # closed before their directory goes


def document(size: int) -> str:
    line = "scan-line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    return (line * (size // len(line) + 1))[:size]


def claimcheck(size: int, store: Path | None = None) -> Callable[[], None]:
    if store is None:
        loop = dc.EventLoop(clock=dc.ManualClock())
    else:  # durable: the message in SQLite, the payload an fsynced file beside it
        _STORES.append(dc.SqliteStore(str(store)))
        loop = dc.EventLoop(store=_STORES[-1])
    bucket = dc.Bucket(loop, "large-payloads")
    queue = dc.Queue(loop, "documents", large_payloads=dc.PayloadOffload(bucket))

    def cycle() -> None:
        payload = document(size)  # the producer's text
        queue.send(payload)
        del payload  # the producer is done with it
        [message] = queue.receive()
        assert len(message.body) == size
        queue.delete(message.receipt_handle)
        assert not bucket.keys()

    return cycle


def to_file(size: int, path: Path, fsync: bool = False) -> Callable[[], None]:
    def cycle() -> None:
        payload = document(size)
        with open(path, "w", encoding="utf-8") as f:
            f.write(payload)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        del payload
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert len(text) == size
        path.unlink()

    return cycle


def peak(cycle: Callable[[], None]) -> int:
    """Bytes allocated at the peak of one cycle, over what was held before it."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    cycle()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - base


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        contenders = {
            "claim-check (queue + bucket)": claimcheck(SIZE),
            "file (write + read)": to_file(SIZE, Path(tmp) / "payload.txt"),
            "claim-check, durable loop": claimcheck(SIZE, Path(tmp) / "store.db"),
            "file, fsynced": to_file(SIZE, Path(tmp) / "synced.txt", fsync=True),
        }
        seconds: dict[str, list[float]] = {name: [] for name in contenders}
        for round_ in range(ROUNDS + 1):
            for name, cycle in contenders.items():
                gc.collect()
                start = time.perf_counter()
                cycle()
                if round_:  # the first round warms up
                    seconds[name].append(time.perf_counter() - start)
        peaks = {name: peak(cycle) for name, cycle in contenders.items()}
        for store in _STORES:
            store.close()
    median = {name: statistics.median(values) for name, values in seconds.items()}
    names = list(contenders)
    rows = [("cycle", "seconds (median)", "peak allocations (x payload)")]
    for name in names:
        rows.append((name, f"{median[name]:.3f} s", f"{peaks[name] / SIZE:.3f}x"))
    table(f"{SIZE // MB} MB payload: produce, send/write, receive/read, delete; "
          f"median of {ROUNDS} rounds (goal: claim-check peak <= 2x the payload)", rows)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of the whole run: {rss_mb:.0f} MB (pid {os.getpid()})")
    cc, fl, dcc, dfl = names
    emit(
        "large_payloads",
        payload_mb=SIZE // MB,
        claimcheck_seconds=round(median[cc], 4),
        file_seconds=round(median[fl], 4),
        claimcheck_vs_file_time=round(median[cc] / median[fl], 3),
        claimcheck_peak_ratio=round(peaks[cc] / SIZE, 4),
        file_peak_ratio=round(peaks[fl] / SIZE, 4),
        durable_claimcheck_seconds=round(median[dcc], 4),
        fsynced_file_seconds=round(median[dfl], 4),
        durable_vs_fsynced_file_time=round(median[dcc] / median[dfl], 3),
        durable_claimcheck_peak_ratio=round(peaks[dcc] / SIZE, 4),
        peak_rss_mb=round(rss_mb, 1),
    )


if __name__ == "__main__":
    main()
