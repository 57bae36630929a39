"""Durable queues (``EventLoop(store=...)``) beside the in-memory queue and ``persist-queue``.

Figures (100-byte bodies; the median of 5 timed rounds after a warm-up, each run at least 0.5 s
(0.2 s with ``--quick``); every ratio to persist-queue is the median of the per-round ratios,
as both ran seconds apart in the same round):

* send -> receive -> delete cycles/s with single-message calls, for ``synchronous`` EXTRA,
  FULL, NORMAL and OFF, and in memory;
* messages/s with batches of 10 (send_batch, receive 10, delete_batch), likewise;
* ``persistqueue.SQLiteAckQueue`` doing the same put -> get -> ack cycle (its defaults: WAL and
  SQLite's default ``synchronous=FULL``, one commit per call, so three fsyncs per cycle), and
  the batch figure as 10 such cycles (it has no batch calls).

Targets (issue #6), at a durability no weaker than persist-queue's defaults: single-message
cycles >= 2x persist-queue's, batches of 10 >= 10x its messages/s. The setting that matches is
``FULL``: every send and delete that returned survives a power loss (fsynced, as persist-queue's
put and ack); a receive commits without an fsync of its own and is made durable by the next
fsynced commit, so a power loss can only undo receives since then and those messages are
delivered again -- persist-queue redelivers every un-acked item after any restart anyway
(``auto_resume``), so its fsynced ``get`` keeps nothing ours does not. Two fsyncs per cycle
(single or batch of 10) against persist-queue's three per message. ``EXTRA`` fsyncs receives
too (three per cycle) and is stricter than persist-queue. See :mod:`decoupling.store.sqlite_store`.

Each figure is taken twice: with the files on the project's disk (where an fsync costs what the
disk makes it cost: about 3.5 ms on this project's virtual disk, so every FULL figure is the
fsync count times that for EXTRA and FULL) and on tmpfs (``/dev/shm``: fsync is free, so the figure is the
software's own cost). Every configuration runs once per round, in turn, for five rounds: a shared
disk's speed drifts, and taking turns exposes them all to the same drift.
Each is warmed up first until its WAL has wrapped once (see ``WARM_UP``).
``--dir PATH`` measures one directory only.

Run: ``python benchmarks/bench_durable.py`` (about a minute; ``--quick`` for ~20 s).
"""

from __future__ import annotations

import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _harness import emit, fmt, paired_ratio, table

import decoupling as dc

BODY = "x" * 100
SETTINGS = ("EXTRA", "FULL", "NORMAL", "OFF")
#: Operations each configuration does before it is timed: enough commits for SQLite's WAL to
#: fill (~1,000 pages) and start over from its beginning once. Until then every commit makes
#: the WAL file longer, and on ext4 an fsync after that also commits the file's new size
#: (about 3.5 ms here instead of 0.2 ms): a phase each store goes through once after it is
#: opened, which would otherwise be most of what a short run of a slow setting measures.
WARM_UP = 1_500


def measure(steps: dict[str, Callable[[], int]], seconds: float, repeats: int = 5
            ) -> dict[str, list[float]]:
    """Operations/s of each step (which returns how many operations it did) called repeatedly
    for at least ``seconds``, in each of ``repeats`` rounds after ``WARM_UP`` operations. The
    steps take turns within each round, so a neighbour's burst of work on the shared machine
    (or disk) hits them alike instead of one of them."""
    rates: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        done = 0
        while done < WARM_UP:
            done += step()
    for _ in range(repeats):
        for name, step in steps.items():
            gc.collect()
            ops = 0
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                ops += step()
            rates[name].append(ops / elapsed)
    return rates


def loop_for(directory: Path, setting: str | None) -> dc.EventLoop:
    if setting is None:
        return dc.EventLoop(clock=dc.ManualClock())
    path = Path(tempfile.mkdtemp(dir=directory)) / "bench.db"
    return dc.EventLoop(clock=dc.ManualClock(), store=dc.SqliteStore(path, synchronous=setting))


def single(loop: dc.EventLoop) -> Callable[[], int]:
    q = dc.Queue(loop, "single")
    send, receive, delete = q.send, q.receive, q.delete

    def step() -> int:
        for _ in range(10):
            send(BODY)
            delete(receive()[0].receipt_handle)
        return 10

    return step


def batches(loop: dc.EventLoop) -> Callable[[], int]:
    q = dc.Queue(loop, "batch")
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]

    def step() -> int:
        q.send_batch(entries)
        got = q.receive(10)
        q.delete_batch([{"Id": str(i), "ReceiptHandle": m.receipt_handle}
                        for i, m in enumerate(got)])
        return len(got)

    return step


def persist_queue(directory: Path) -> Callable[[], int] | None:
    try:
        import persistqueue  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(tempfile.mkdtemp(dir=directory)) / "pq"
    q = persistqueue.SQLiteAckQueue(str(path))

    def step() -> int:
        for _ in range(10):
            q.put(BODY)
            q.ack(q.get())
        return 10

    return step


def run(directory: Path, label: str, seconds: float) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-durable-", dir=directory))
    loops = []
    try:
        steps: dict[str, Callable[[], int]] = {}
        pq_step = persist_queue(work)
        if pq_step is not None:
            steps["persist_queue_cycles"] = pq_step
        for setting in (None, *SETTINGS):
            name = "memory" if setting is None else setting.lower()
            loop = loop_for(work, setting)
            loops.append(loop)
            steps[f"{name}_cycles"] = single(loop)
            steps[f"{name}_batch"] = batches(loop)
        samples = measure(steps, seconds)
        figures = {name: statistics.median(rates) for name, rates in samples.items()}
        pq = figures.get("persist_queue_cycles")
        if pq is not None:  # per-round ratios to persist-queue, for every configuration
            for name in list(figures):
                if name != "persist_queue_cycles":
                    figures[f"{name}_vs_persist_queue"] = paired_ratio(
                        samples, name, "persist_queue_cycles"
                    )
        rows = []
        for setting in ("memory", *(s.lower() for s in SETTINGS)):
            what = "in memory" if setting == "memory" else f"durable, synchronous={setting.upper()}"
            c, b = figures[f"{setting}_cycles"], figures[f"{setting}_batch"]
            if pq is None:
                beside = "persist-queue not installed (pip install persist-queue)"
            else:
                beside = (f"{figures[f'{setting}_cycles_vs_persist_queue']:,.1f}x / "
                          f"{figures[f'{setting}_batch_vs_persist_queue']:,.1f}x persist-queue")
            rows.append((what, f"{fmt(c, ' cycles/s')}  {fmt(b, ' msgs/s (batch 10)')}", beside))
        if pq is not None:
            rows.append(("persist-queue SQLiteAckQueue put/get/ack",
                         fmt(pq, " cycles/s = msgs/s"), "baseline (WAL, synchronous=FULL)"))
        table(f"Durable queues, files on {label} ({directory})", rows)
        if pq is not None:
            single_x = figures["full_cycles_vs_persist_queue"]
            batch_x = figures["full_batch_vs_persist_queue"]
            print(f"  targets at FULL: single {single_x:.1f}x (>= 2x: "
                  f"{'met' if single_x >= 2 else 'NOT met'}), batch 10 {batch_x:.1f}x "
                  f"(>= 10x: {'met' if batch_x >= 10 else 'NOT met'})")
        return figures
    finally:
        for loop in loops:
            if loop.store is not None:
                loop.store.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    quick = "--quick" in sys.argv
    seconds = 0.2 if quick else 0.5
    places: list[tuple[Path, str]] = []
    if "--dir" in sys.argv:
        places.append((Path(sys.argv[sys.argv.index("--dir") + 1]), "the given directory"))
    else:
        places.append((Path(tempfile.gettempdir()), "disk"))
        if Path("/dev/shm").is_dir():
            places.append((Path("/dev/shm"), "tmpfs (fsync free)"))
    out: dict[str, float | str | bool] = {}
    for directory, label in places:
        key = "tmpfs" if label.startswith("tmpfs") else "disk" if label == "disk" else "dir"
        for name, value in run(directory, label, seconds).items():
            out[f"{key}_{name}"] = round(value, 3 if name.endswith("_vs_persist_queue") else 1)
    emit("durable", **out)


if __name__ == "__main__":
    main()
