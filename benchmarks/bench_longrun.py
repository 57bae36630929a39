"""A busy app for 30 virtual days: does its memory stay flat?

The app, on one ManualClock: 50 queues, each sent a message every 5 minutes and drained by a
consumer (receive + delete); a topic published to every 5 minutes that fans out to 5 of the
queues, an email address (the outbox) and a Lambda function; a second function fed by an
event source mapping on one of the queues; a function deleted and registered again every
day, and a zip function created, invoked and deleted every day through boto3 (if installed).
Observed with ``Metrics(period=60)`` (CloudWatch's schedule: 1-minute points 15 days, 5-minute
63 days, 1-hour 455 days), a ``Journal`` (100,000 events) and the outbox.

Each variant runs in its own process (resident memory does not shrink once freed):

* ``baseline`` — the same app without metrics, journal or email subscription;
* ``observed`` — with them, the metrics as by default: the last day of points in memory
  (``memory_window``), older ones in a temporary SQLite file, rolled up there;
* ``observed-in-memory`` (only with ``--variant``) — ``Metrics(memory_window=None)``: every
  point in memory, as before issue #19's second round (474 MB at day 30, 9.4 million points).

Printed per virtual day: resident set size (MB, from /proc; ``n/a`` elsewhere), metric points
in memory and on disk, the metrics file's size, journal events, outbox entries, ``sys.path``
entries and execution environments; then whether memory is flat after day 1 (day-N resident
size within 5 % of day 2's) and the disk the 455-day schedule bounds the file to (rows a metric
can hold at 1-minute resolution, times the metrics seen, times the bytes a row takes at day N).

Run: ``python benchmarks/bench_longrun.py`` (30 days, about 2 minutes of CPU per variant);
``--days N`` for another length, ``--quick`` for 4 days.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from _harness import emit, table

import decoupling as dc

DAY = 86_400
ROLE = "arn:aws:iam::000000000000:role/report"


def _zip(files: dict[str, str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


REPORT_ZIP = _zip({"report.py": "import report_lib\n\n"
                                "def handler(event, context):\n    return report_lib.VALUE\n",
                   "report_lib.py": "VALUE = 1\n"})
STEP = 300  # seconds of virtual time between rounds of traffic
#: 50 queues, each sent a message every 5 minutes: ~62,000 journal events and 288 emails a day,
#: so the bounded journal (100,000) and outbox (1,000) are full by day 2, the day the memory
#: is compared from. (20 queues cost ~40 % less CPU but fill them only on day 4: RSS then grew
#: 18 % from day 2 while flat from day 4, a false alarm.) Most of a day's CPU is the metrics'
#: work for that traffic; ``run_all.py`` runs this script beside the CPU-timed ones.
QUEUES = 50


def rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


#: Rows one metric can hold on CloudWatch's schedule at 1-minute resolution (15 days of 1-minute
#: points, then 48 of 5-minute, then 392 of 1-hour), each tier plus one roll-up chunk (1/8).
ROWS_PER_METRIC = (15 * 1440 + 48 * 288 + 392 * 24) * 9 // 8


def run(variant: str, days: int) -> list[dict[str, float | None]]:
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock)
    observed = variant != "baseline"
    metrics = journal = None
    if observed:
        if variant == "observed-in-memory":
            metrics = dc.Metrics(loop, period=60, memory_window=None)
        else:
            metrics = dc.Metrics(loop, period=60)  # the default memory window: 1 day
        journal = dc.Journal(loop)
    queues = [dc.Queue(loop, f"q{i:02d}") for i in range(QUEUES)]
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    handled = [0]

    def handler(event: object, context: object) -> None:
        handled[0] += 1

    runtime.register("ingest", handler)
    runtime.register("notify", handler)
    runtime.add_event_source(queues[0], "ingest", batch_size=10)
    topic = dc.Topic(loop, "events")
    for queue in queues[1:6]:
        topic.subscribe(queue)
    topic.subscribe(runtime.get_function("notify"), "lambda")
    if observed:
        topic.subscribe("ops@example.com", "email")
        token = topic.outbox[-1].token
        assert token is not None
        topic.confirm_subscription(token)
    lam = None
    serving = None
    try:
        import boto3

        from decoupling.boto import serve, use_runtime

        use_runtime(loop, runtime)
        serving = serve(loop)
        serving.__enter__()
        lam = boto3.client("lambda", region_name="us-east-1")
    except ImportError:  # boto3 is optional (the "bench" extra): no zip redeploys then
        pass
    rows: list[dict[str, float | None]] = []
    steps_a_day = DAY // STEP
    for day in range(1, days + 1):
        for _ in range(steps_a_day):
            topic.publish("event", message_attributes={"kind": "tick"})
            for queue in queues[1:]:
                queue.send("work")
                for message in queue.receive(10):
                    queue.delete(message.receipt_handle)
            queues[0].send("for ingest")
            clock.advance(STEP)
        runtime.delete_function("ingest")  # a daily redeploy
        runtime.register("ingest", handler)
        runtime.add_event_source(queues[0], "ingest", batch_size=10)
        if lam is not None:  # and a zip function deployed and deleted through boto3
            lam.create_function(FunctionName="report", Runtime="python3.12", Role=ROLE,
                                Handler="report.handler", Code={"ZipFile": REPORT_ZIP})
            lam.invoke(FunctionName="report", Payload=b"{}")
            lam.delete_function(FunctionName="report")
        rows.append({
            "day": day,
            "rss_mb": rss_mb(),
            "in_memory": metrics._points_in_memory() if metrics is not None else 0,
            "on_disk": metrics._points_on_disk() if metrics is not None else 0,
            "disk_mb": metrics._spill.disk_bytes() / 1e6 if metrics is not None else 0.0,
            "metrics": len(metrics.names()) if metrics is not None else 0,
            "journal_events": len(journal) if journal is not None else 0,
            "outbox": len(topic.outbox),
            "sys_path": len(sys.path),
            "environments": sum(len(f.environments) for f in runtime.functions),
            "handled": handled[0],
        })
    if serving is not None:
        serving.__exit__(None, None, None)
    runtime.close()
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    days = 4 if quick else 30
    if "--days" in sys.argv:
        days = int(sys.argv[sys.argv.index("--days") + 1])
    if "--variant" in sys.argv:
        variant = sys.argv[sys.argv.index("--variant") + 1]
        print(json.dumps(run(variant, days)))
        return
    results: dict[str, list[dict[str, float | None]]] = {}
    running = {  # side by side: one process each (2 cores: about as long as the observed one)
        variant: subprocess.Popen(
            [sys.executable, __file__, "--variant", variant, "--days", str(days)],
            stdout=subprocess.PIPE, text=True)
        for variant in ("baseline", "observed")
    }
    for variant, process in running.items():
        out, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"{variant} failed (exit {process.returncode})")
        results[variant] = json.loads(out.strip().splitlines()[-1])

    def mb(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} MB"

    base, observed = results["baseline"], results["observed"]
    table(f"{days} virtual days, {QUEUES} queues, a topic, two functions; observed: Metrics "
          "(period 60, CloudWatch's schedule, 1 day in memory), Journal, outbox", [
              ("day", "RSS observed (baseline)",
               "metric points in memory / on disk (file) / journal / outbox / sys.path / envs")
          ] + [
              (str(row["day"]), f"{mb(row['rss_mb'])} ({mb(b['rss_mb'])})",
               f"{row['in_memory']:,} / {row['on_disk']:,} ({row['disk_mb']:.1f} MB) / "
               f"{row['journal_events']:,} / {row['outbox']} / {row['sys_path']} / "
               f"{row['environments']}")
              for row, b in zip(observed, base, strict=True)
          ])
    last = observed[-1]
    second = observed[1] if len(observed) > 1 else observed[0]
    rss2, rss_last = second["rss_mb"], last["rss_mb"]
    growth = None if rss2 is None or rss_last is None else (rss_last - rss2) / rss2
    peak_in_memory = max(float(row["in_memory"] or 0) for row in observed[1:] or observed)
    flat = growth is not None and growth <= 0.05
    per_row = (float(last["disk_mb"] or 0) * 1e6 / float(last["on_disk"] or 1))
    bound_mb = float(last["metrics"] or 0) * ROWS_PER_METRIC * per_row / 1e6
    print(f"\nmemory flat after day 1: {'yes' if flat else 'NO'} (RSS day {last['day']} "
          f"{mb(rss_last)} vs day 2 {mb(rss2)}: "
          f"{'n/a' if growth is None else f'{growth:+.1%}'}; metric points in memory "
          f"{int(observed[1]['in_memory'] or 0) if len(observed) > 1 else 0:,} at day 2, "
          f"{int(last['in_memory'] or 0):,} at day {last['day']})")
    mid = observed[14] if len(observed) >= 15 else None
    if mid is not None and mid["rss_mb"] is not None and rss_last is not None:
        print(f"from day 15 (1-minute points on disk at their 15-day steady state): RSS "
              f"{mb(mid['rss_mb'])} -> {mb(rss_last)} "
              f"({(rss_last - mid['rss_mb']) / mid['rss_mb']:+.1%})")
    print(f"disk: {float(last['disk_mb'] or 0):.1f} MB for {int(last['on_disk'] or 0):,} points "
          f"at day {last['day']} ({per_row:.0f} B a point); bounded by the 455-day schedule to "
          f"{ROWS_PER_METRIC:,} points for each of the {int(last['metrics'] or 0)} metrics: "
          f"{bound_mb:,.0f} MB")
    emit(
        "longrun",
        days=days,
        baseline_rss_growth_mb=round(float((base[-1]["rss_mb"] or 0) - (base[0]["rss_mb"] or 0)), 1),
        observed_rss_day2_mb=round(float(rss2 or 0), 1),
        observed_rss_last_mb=round(float(rss_last or 0), 1),
        observed_rss_growth_after_day1=round(growth or 0.0, 4),
        memory_flat=flat,
        metric_points_in_memory_peak=peak_in_memory,
        metric_points_on_disk_last=float(last["on_disk"] or 0),
        metric_disk_mb_last=round(float(last["disk_mb"] or 0), 1),
        metric_disk_bound_mb=round(bound_mb),
        journal_events_last=float(last["journal_events"] or 0),
        outbox_last=float(last["outbox"] or 0),
        sys_path_growth=float((last["sys_path"] or 0) - (observed[0]["sys_path"] or 0)),
    )


if __name__ == "__main__":
    main()
