"""A busy app for 30 virtual days: does its memory stay flat?

The app, on one ManualClock: 50 queues, each sent a message every 5 minutes and drained by a
consumer (receive + delete); a topic published to every 5 minutes that fans out to 5 of the
queues, an email address (the outbox) and a Lambda function; a second function fed by an
event source mapping on one of the queues; a function deleted and registered again every
day, and a zip function created, invoked and deleted every day through boto3 (if installed). Observed with ``Metrics(period=60)``, a ``Journal`` (100,000 events) and the outbox.

Each variant runs in its own process (resident memory does not shrink once freed):

* ``baseline`` — the same app without metrics, journal or email subscription;
* ``observed`` — with them, metrics kept on CloudWatch's schedule (1-minute points 15 days,
  5-minute 63 days, 1-hour 455 days): metric memory grows until day 15 by design, then by a
  fifth of that rate, and is bounded (about 1.4 MB a metric at 455 days);
* ``observed-1d`` — the same with ``Metrics(retention=86400)``: flat after the first day.

Figures at day 1, 2, 5, 15 and 30: resident set size (MB, from /proc; ``n/a`` elsewhere),
metric points held, journal events, outbox entries, ``sys.path`` entries and execution
environments. The journal reaches its 100,000-event bound during day 2 and the outbox its
1,000 entries during day 4: from there the observed-1d variant is flat (Python's traced memory,
checked with tracemalloc: 69.9 MB at day 2, 71.5 MB at day 5; resident memory also keeps what
the allocator does not give back).

A run (this machine, 2 shared cores): baseline 56.9 -> 61.8 MB from day 1 to 30 (the Lambda
meter's 100,000 invocation records filling); observed-1d 129.2 MB at day 2 -> 137.9 at day 30
(523,327 metric points throughout); observed 474 MB at day 30 with 9.4 million points.

Run: ``python benchmarks/bench_longrun.py`` (about 2 minutes of CPU; ``--quick`` runs 6 days).
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
QUEUES = 50


def rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def run(variant: str, days: int, checkpoints: list[int]) -> list[dict[str, float | None]]:
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock)
    observed = variant != "baseline"
    metrics = journal = None
    if observed:
        metrics = dc.Metrics(loop, period=60, retention=DAY if variant == "observed-1d" else None)
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
        if day in checkpoints:
            rows.append({
                "day": day,
                "rss_mb": rss_mb(),
                "metric_points": metrics._points() if metrics is not None else 0,
                "journal_events": len(journal._events) if journal is not None else 0,
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
    days = 6 if quick else 30
    checkpoints = [1, 2, 4, 6] if quick else [1, 2, 5, 15, 30]
    if "--variant" in sys.argv:
        variant = sys.argv[sys.argv.index("--variant") + 1]
        print(json.dumps(run(variant, days, checkpoints)))
        return
    results: dict[str, list[dict[str, float | None]]] = {}
    for variant in ("baseline", "observed", "observed-1d"):
        args = [sys.executable, __file__, "--variant", variant] + (["--quick"] if quick else [])
        out = subprocess.run(args, capture_output=True, text=True, check=True)
        results[variant] = json.loads(out.stdout.strip().splitlines()[-1])

    def mb(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} MB"

    for variant, rows in results.items():
        base = results["baseline"]
        table(f"{variant}: {days} virtual days, {QUEUES} queues, a topic, two functions", [
            ("day", "RSS (baseline)", "metric points / journal / outbox / sys.path / envs")
        ] + [
            (str(row["day"]), f"{mb(row['rss_mb'])} ({mb(b['rss_mb'])})",
             f"{row['metric_points']:,} / {row['journal_events']:,} / {row['outbox']} / "
             f"{row['sys_path']} / {row['environments']}")
            for row, b in zip(rows, base, strict=True)
        ])

    def growth(variant: str) -> float | None:
        rows = results[variant]
        first, last = rows[0]["rss_mb"], rows[-1]["rss_mb"]
        return None if first is None or last is None else round(last - first, 1)

    observed = results["observed"]
    flat = results["observed-1d"]
    emit(
        "longrun",
        days=days,
        baseline_rss_growth_mb=growth("baseline") or 0.0,
        observed_rss_growth_mb=growth("observed") or 0.0,
        observed_1d_rss_growth_mb=growth("observed-1d") or 0.0,
        observed_metric_points_last=float(observed[-1]["metric_points"] or 0),
        observed_1d_metric_points_growth=float(
            (flat[-1]["metric_points"] or 0) - (flat[0]["metric_points"] or 0)),
        journal_events_last=float(observed[-1]["journal_events"] or 0),
        outbox_last=float(observed[-1]["outbox"] or 0),
        sys_path_growth=float((observed[-1]["sys_path"] or 0) - (observed[0]["sys_path"] or 0)),
    )


if __name__ == "__main__":
    main()
