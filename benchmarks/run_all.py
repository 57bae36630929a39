"""Run every benchmark script and print one summary of figures, targets and which hold.

Run: ``python benchmarks/run_all.py`` (``--quick`` passes ``--quick`` to each script; names
given, e.g. ``run_all.py queue fifo``, run only the scripts whose names contain them;
``--serial`` runs every script alone). Each script runs in its own process, so one's memory
does not weigh on the next; its last output line is its JSON figures. ``bench_longrun.py``,
whose figures are memory and counts (no timing), runs in the background beside the
single-threaded CPU-timed scripts and ``bench_scale.py``'s memory part (see ``BACKGROUND``,
``BESIDE`` and ``SPLIT``): one of those at a time while the background runs, two at a time
after. Every other script runs alone. The summary ends with each script's wall and CPU seconds.

Every throughput target is a ratio to a peer measured in the same interleaved rounds (issue
#23): ``queue.Queue``, ``asyncio.Queue``, the standard queue, persist-queue, moto, a canned
botocore floor. Issue #9's absolute targets were figures of its reference machine, where
``queue.Queue`` put+get runs 1.1M/s; they are kept as that ratio (a target of T/s is a ratio of
T / 1.1M to ``queue.Queue`` put+get in the same rounds), with no machine factor.
The whole run should take under 4 minutes here (``--quick``: 90 s); the summary says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE_STDLIB_RATE = 1_100_000  # queue.Queue put+get/s on issue #9's reference machine
#: Wall seconds the whole run should take (issue #23), full and --quick.
BUDGET_S = {False: 240.0, True: 90.0}

# (benchmark, figure, target text, check on the figures).
Check = Callable[[dict[str, float]], bool]


def reference_ratio(bench: str, figure: str, per_s: float, what: str) -> tuple[str, str, str, Check]:
    """Issue #9's absolute target ``per_s`` as a ratio to ``queue.Queue`` put+get in the same
    rounds (``figure`` is that ratio, as the script prints it)."""
    minimum = per_s / REFERENCE_STDLIB_RATE
    return (bench, figure, f">= {minimum:.4f}x queue.Queue ({what} {per_s:,.0f}/s at 1.1M/s)",
            lambda f: f[figure] >= minimum)


def at_least(bench: str, figure: str, minimum: float, text: str) -> tuple[str, str, str, Check]:
    return (bench, figure, text, lambda f: f[figure] >= minimum)


def below(bench: str, figure: str, limit: float, text: str) -> tuple[str, str, str, Check]:
    return (bench, figure, text, lambda f: f[figure] < limit)


TARGETS: list[tuple[str, str, str, Check]] = [
    reference_ratio("core", "cycles_vs_queue_queue", 300_000, "core cycles"),
    at_least("core", "ratio_big_to_small", 0.8, ">= 0.8 (1e6 vs 1e3 in flight)"),
    at_least("queue", "ratio_to_moto", 200, ">= 200x moto"),
    ("scale", "bytes_per_message", "<= 250 B", lambda f: f["bytes_per_message"] <= 250),
    below("scale", "longest_gc_pause_ms", 20, "< 20 ms (steady cycling)"),
    # Issue #23: a backlog filling to 1e6, and the cycle with 1e6 in flight.
    below("scale", "longest_gc_pause_backlog_ms", 20, "< 20 ms (backlog filling to 1e6)"),
    below("scale", "full_collection_ms_backlog", 50, "< 50 ms (a full collection, 1e6 held)"),
    at_least("scale", "cycle_1e6_vs_1e3", 0.9, ">= 0.9x the cycle with 1e3 in flight"),
    # Issue #23: ratios to queue.Queue put+get in the same interleaved rounds.
    at_least("queue", "single_ratio_to_queue_queue", 0.25, ">= 0.25x queue.Queue"),
    at_least("queue", "batch10_ratio_to_queue_queue", 0.33, ">= 0.33x queue.Queue"),
    below("threads", "wake_median_ms", 0.5, "< 0.5 ms"),
    below("threads", "wake_p99_ms", 5, "< 5 ms"),
    at_least("threads", "threads_4x4_ratio_to_queue_queue", 0.5,
             ">= 0.5x queue.Queue (same layout, batch 10)"),
    # Issue #17: 2 producer + 2 consumer tasks, receive_async(10) + delete_batch_async, beside
    # asyncio.Queue in the same rounds.
    at_least("asyncio", "ratio_to_asyncio_queue_batch10", 0.25, ">= 0.25x asyncio.Queue (2+2 tasks)"),
    at_least("fifo", "ratio_1000_groups_1e3", 0.7, ">= 0.7 of standard (issue #23)"),
    at_least("fifo", "ratio_1000_groups_1e5", 0.7, ">= 0.7 of standard (issue #23)"),
    ("fifo", "ratio_hot_group_1e5", "hot group O(log n): 1e5 ~ 1e3",
     lambda f: f["ratio_hot_group_1e5"] >= 0.8 * f["ratio_hot_group_1e3"]),
    reference_ratio("topic", "publish_10_vs_queue_queue", 25_000, "publish to 10 queues"),
    at_least("topic", "filtered_ratio_10", 0.6, ">= 0.6 of unfiltered"),
    reference_ratio("functions", "esm_batch10_inline_vs_queue_queue", 50_000, "ESM batch 10"),
    at_least("boto", "ratio_to_moto_single", 8, ">= 8x moto"),
    at_least("boto", "ratio_to_moto_batch10", 8, ">= 8x moto"),
    at_least("boto", "ratio_to_canned_single", 0.75, ">= 0.75x canned floor"),
    at_least("boto", "ratio_to_canned_batch10", 0.75, ">= 0.75x canned floor"),
    # Issue #19: a process that runs for months holds a bounded amount.
    ("longrun", "memory_flat", "RSS day 30 within 5 % of day 2 (metrics, journal, outbox)",
     lambda f: bool(f["memory_flat"])),
    # Issue #23: Metrics + Journal + RequestMeter on, beside off in the same rounds.
    at_least("observe", "on_vs_off", 0.7, ">= 0.7x observability off"),
    below("longrun", "sys_path_growth", 1, "sys.path flat (daily redeploys)"),
    ("longrun", "outbox_last", "<= 1,000 outbox entries", lambda f: f["outbox_last"] <= 1_000),
    # Durable mode at FULL beside persist-queue's SQLiteAckQueue run as a long-running app runs
    # it (acked rows cleared), same rounds (issue #23).
    at_least("durable", "tmpfs_full_cycles_vs_persist_queue", 3, ">= 3x persist-queue (tmpfs)"),
    at_least("durable", "tmpfs_full_batch_vs_persist_queue", 15, ">= 15x persist-queue (tmpfs)"),
    at_least("durable", "disk_full_cycles_vs_persist_queue", 2, ">= 2x persist-queue (disk)"),
    at_least("durable", "disk_full_batch_vs_persist_queue", 15, ">= 15x persist-queue (disk)"),
    # The AWS backend against moto's HTTP server (issue #18).
    ("aws", "overhead_ratio", "<= 1.1x raw boto3", lambda f: f["overhead_ratio"] <= 1.1),
    ("aws", "requests_per_1000_sends_batched", "<= 110 (automatic batching)",
     lambda f: f["requests_per_1000_sends_batched"] <= 110),
    at_least("aws", "batching_speedup", 5, ">= 5x unbatched"),
    # A 50 MB payload through the claim-check (issue #22): two copies at most (text and bytes).
    ("large_payloads", "claimcheck_peak_ratio", "<= 2x the payload (+0.1% bookkeeping)",
     lambda f: f["claimcheck_peak_ratio"] <= 2.001),
    # CPU of a fresh process's import (issue #17), cached bytecode; moto's beside it, same rounds.
    ("import", "decoupling_ms", "<= 100 ms CPU", lambda f: f["decoupling_ms"] <= 100),
    ("import", "decoupling_all_names_ms", "<= import moto's (whole library)",
     lambda f: f["decoupling_all_names_ms"] <= f.get("moto_ms", float("inf"))),
]


#: Scripts whose figures hold no timing (resident memory, counts), run in the background
#: beside ``BESIDE``: they cost a core for a minute or more and change nothing they are
#: compared with. ``--serial`` runs every script alone, one after another.
BACKGROUND = ("bench_longrun",)
#: The scripts run while a background one runs: single-threaded work timed in CPU seconds,
#: every target a ratio to a peer run in the same interleaved rounds, so a steady neighbour on
#: the other core weighs on both sides of each ratio alike (as other work on a shared machine
#: does); and scale's bytes per message (tracemalloc: a count of bytes, no timing). Kept out:
#: wall-clock figures (threads; scale's GC pauses and worst calls; durable's disk; moto's
#: server in aws; large_payloads' file I/O; functions' timing) and core's 1e6-vs-1e3 ledger
#: ratio, which a neighbour's use of the shared cache could move.
#: Run in this order, the longest first (CPU seconds of a full run), so that the two at a time
#: after the background ends finish close together.
BESIDE = ("bench_scale --part memory", "bench_queue", "bench_durable --place tmpfs",
          "bench_boto", "bench_import", "bench_topic", "bench_fifo", "bench_observe",
          "bench_asyncio")
#: How many of ``BESIDE`` run at once when no background script runs: their figures are CPU
#: seconds and ratios to peers in the same rounds, which a neighbour on the other core weighs
#: on alike.
LANES = 2
#: Scripts run in two parts (their JSON figures merged): durable's tmpfs half is timed in CPU
#: seconds and runs beside the background script, its disk half, wall-clock, alone; scale's
#: memory part (1e6 sends traced by tracemalloc, ~20 s of CPU) beside it, its timing part alone.
SPLIT = {"bench_durable": ("--place tmpfs", "--place disk"),
         "bench_scale": ("--part memory", "--part timing")}


class Run:
    """One script in its own process, its output in temporary files (so a background one
    never blocks on a pipe); :meth:`finish` waits for it and reads its CPU time from
    ``os.wait4`` (the process's own and its waited-for children's)."""

    def __init__(self, script: Path, quick: bool, extra: tuple[str, ...] = ()) -> None:
        self.script = script
        self.out = tempfile.TemporaryFile("w+")
        self.err = tempfile.TemporaryFile("w+")
        self.started = time.perf_counter()
        args = [sys.executable, str(script), *extra] + (["--quick"] if quick else [])
        self.proc = subprocess.Popen(args, cwd=HERE, stdout=self.out, stderr=self.err, text=True)

    def finish(self) -> tuple[dict[str, float] | None, float, float]:
        """Wait; print the script's output; return its figures (None if it failed), wall
        seconds and CPU seconds."""
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - self.started
        cpu = usage.ru_utime + usage.ru_stime
        self.out.seek(0)
        self.err.seek(0)
        stdout, stderr = self.out.read(), self.err.read()
        self.out.close()
        self.err.close()
        print(stdout, end="")
        if self.proc.returncode != 0:
            print(f"!! {self.script.name} failed:\n{stderr[-2000:]}")
            return None, elapsed, cpu
        last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
        try:
            figures: dict[str, float] = json.loads(last)
        except ValueError:
            print(f"!! {self.script.name} printed no JSON line last")
            return None, elapsed, cpu
        return figures, elapsed, cpu


def main() -> int:
    quick = "--quick" in sys.argv
    serial = "--serial" in sys.argv
    started = time.perf_counter()
    results: dict[str, dict[str, float]] = {}
    times: list[tuple[str, float, float]] = []
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    # A job: a script and its extra arguments; its key, e.g. "bench_durable --place disk".
    jobs = [(s, tuple(part.split())) for s in sorted(HERE.glob("bench_*.py"))
            if not only or any(name in s.stem for name in only)
            for part in SPLIT.get(s.stem, ("",))]

    def key(job: tuple[Path, tuple[str, ...]]) -> str:
        return " ".join([job[0].stem, *job[1]])

    def label(job: tuple[Path, tuple[str, ...]]) -> str:
        return key(job).removeprefix("bench_").replace(" --place ", " ").replace(" --part ", " ")

    def report(job: tuple[Path, tuple[str, ...]],
               outcome: tuple[dict[str, float] | None, float, float], note: str = "") -> None:
        figures, elapsed, cpu = outcome
        times.append((label(job), elapsed, cpu))
        print(f"({elapsed:.1f} s wall, {cpu:.1f} s CPU{note})")
        if figures is not None:  # a split script's parts merge
            results.setdefault(str(figures.get("benchmark", job[0].stem)), {}).update(figures)

    background = [] if serial else [j for j in jobs if j[0].stem in BACKGROUND]
    beside = sorted((j for j in jobs if key(j) in BESIDE), key=lambda j: BESIDE.index(key(j))
                    ) if background else []
    rest = [j for j in jobs if j not in background and j not in beside]
    running = [(j, Run(j[0], quick, j[1])) for j in background]
    # The scripts beside the background: one at a time while a background script runs (it
    # holds a core or two), two at a time once none does (--quick's background ends early).
    # Each is reported as it ends; a background script too, when it ends.
    pending, active = list(beside), []
    while pending or active:
        lanes = 1 if running else LANES
        while pending and len(active) < lanes:
            job = pending.pop(0)
            active.append((job, Run(job[0], quick, job[1])))
        if hasattr(os, "waitid"):  # the first child to end, left for its Run to reap
            ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            pid = ended.si_pid if ended is not None else None
        else:  # (no waitid on this platform: in the order they started)
            pid = active[0][1].proc.pid
        for job, run in active:
            if run.proc.pid == pid:
                others = [label(j) for j, _ in active + running if j != job]
                print(f"\n=== {key(job)}" + (f" (beside {', '.join(others)})" if others else ""))
                report(job, run.finish())
                active.remove((job, run))
                break
        else:
            for job, run in running:
                if run.proc.pid == pid:
                    print(f"\n=== {key(job)} (in the background, beside "
                          f"{', '.join(label(b) for b in beside)})")
                    report(job, run.finish(), ", in the background")
                    running.remove((job, run))
                    break
            else:  # not one of ours: reap it, or waitid would return it again
                if pid is not None:
                    os.waitpid(pid, 0)
    for waiting, run in running:  # the background ones end before the rest
        print(f"\n=== {key(waiting)} (in the background"
              + (f", beside {', '.join(label(b) for b in beside)})" if beside else ")"))
        report(waiting, run.finish(), ", in the background")
    for job in rest:
        print(f"\n=== {key(job)}")
        report(job, Run(job[0], quick, job[1]).finish())
    print("\n=== Summary")
    held = 0
    checked = 0
    for bench, figure, target, check in TARGETS:
        figures = results.get(bench)
        if figures is None or figure not in figures:
            print(f"  {bench:9} {figure:34} {'-':>14}  {target:46} not measured")
            continue
        checked += 1
        ok = check(figures)
        held += ok
        print(f"  {bench:9} {figure:34} {figures[figure]:>14,}  {target:46} "
              f"{'holds' if ok else 'MISSED'}")
    for bench, figures in sorted(results.items()):
        if bench not in {t[0] for t in TARGETS}:
            shown = {k: v for k, v in figures.items() if k != "benchmark"}
            print(f"  {bench:9} {json.dumps(shown)}")
    print(f"\n{held} of {checked} measured targets hold.")
    print("\nPer script, wall / CPU seconds (CPU counts every process the script started; on a "
          "busy machine the wall time grows and the CPU time much less; a background script's "
          "wall time overlaps the others'):")
    for name, wall, cpu in sorted(times, key=lambda t: -t[1]):
        print(f"  {name:16} {wall:6.1f} s wall {cpu:6.1f} s CPU")
    print(f"  {'total':16} {sum(t[1] for t in times):6.1f} s wall {sum(t[2] for t in times):6.1f} s CPU")
    elapsed = time.perf_counter() - started
    budget = BUDGET_S[quick]
    print(f"The whole run took {elapsed:.0f} s (goal < {budget:.0f} s"
          f"{' with --quick' if quick else ''}): {'holds' if elapsed < budget else 'MISSED'}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
