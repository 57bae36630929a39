"""A serverless order pipeline on virtual time: topic -> queue -> function -> results queue.

1. The web tier publishes a burst of 10,000 orders to the ``orders`` topic (20 of them invalid).
2. The ``orders-queue`` subscription (raw delivery) buffers them; an event source mapping feeds
   ``process-order`` in batches of 10, reporting partial batch failures. Lambda's scaling
   starts at 5 concurrent batches and adds 300 a minute while the backlog lasts (capped here at
   ``MaximumConcurrency`` 50), then falls back to 5 when the queue drains.
3. Invalid orders fail, return after the 60 s visibility timeout, and after 3 receives land in
   ``orders-dlq``.
4. Processed orders go to ``results``, drained by an autoscaled pool of warehouse workers.
5. A nightly schedule (``cron(0 2 * * ? *)``) runs ``nightly-report``.
6. The cost report prices every invocation.

Run: ``python examples/serverless_pipeline.py`` (well under 5 seconds).
"""

from __future__ import annotations

import json
from typing import Any

import decoupling as dc
from decoupling.sns.topic import Topic


def main(verbose: bool = True) -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    topic = Topic(loop, "orders")
    dlq = dc.Queue(loop, "orders-dlq")
    orders = dc.Queue(loop, "orders-queue", visibility_timeout=60,
                      redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=3))
    results = dc.Queue(loop, "results")
    topic.subscribe(orders, raw_message_delivery=True)

    @runtime.function("process-order", timeout=30, memory_mb=256, simulated_duration=0.2)
    def process_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            order = json.loads(record["body"])
            if order["total"] < 0:
                failures.append({"itemIdentifier": record["messageId"]})
                continue
            results.send(json.dumps({"id": order["id"], "charged": round(order["total"] * 1.2, 2)}))
        return {"batchItemFailures": failures}

    reports: list[dict[str, Any]] = []

    @runtime.function("nightly-report", timeout=60, memory_mb=512, simulated_duration=2.0)
    def nightly_report(event: dict[str, Any], context: Any) -> dict[str, Any]:
        report = {"time": event["time"], "dead_letters": dlq.approximate_number_of_messages}
        reports.append(report)
        return report

    mapping = runtime.add_event_source(orders, "process-order", batch_size=10,
                                       report_batch_item_failures=True, maximum_concurrency=50)
    runtime.schedule("nightly-report", "cron(0 2 * * ? *)", name="nightly")
    shipped: list[str] = []
    warehouse = dc.ConsumerPool(results, lambda m: shipped.append(m.body), min_workers=1,
                                max_workers=20, target_backlog_per_worker=200,
                                processing_time=0.05, evaluation_period=30,
                                scale_out_cooldown=30, scale_in_cooldown=120)

    for start in range(0, 10_000, 10):
        topic.publish_batch([
            json.dumps({"id": i, "total": -1 if i % 500 == 7 else 10 + i % 90})
            for i in range(start, start + 10)
        ])
    loop.run_until_idle(limit=3 * 3600)

    history = list(mapping.history)
    peak = max(running for _, _, running in history)
    drained_at = max(t for t, _, running in history if running)
    figures = {
        "published": 10_000,
        "processed": len(shipped),
        "dead_letters": dlq.approximate_number_of_messages,
        "peak_concurrency": peak,
        "peak_target": max(target for _, target, _ in history),
        "target_after_drain": mapping.target_concurrency,
        "drained_at": round(drained_at, 1),
        "warehouse_peak_workers": max(w for _, w, _ in warehouse.history),
        "warehouse_final_workers": warehouse.workers,
        "nightly_reports": reports,
        "invocations": runtime.get_function("process-order").invocations,
    }
    report = runtime.report()
    figures["cost"] = round(report.total.cost, 6)
    figures["billed_ms"] = report.total.billed_duration_ms
    if verbose:
        print(f"published {figures['published']} orders; processed {figures['processed']}; "
              f"{figures['dead_letters']} invalid orders in {dlq.name}")
        print(f"event source mapping: 5 batches at first, target up to {figures['peak_target']}, "
              f"peak {peak} running (MaximumConcurrency 50), back to {mapping.target_concurrency} after "
              f"the queue drained at t={figures['drained_at']} s")
        print(f"warehouse workers: peak {figures['warehouse_peak_workers']}, now "
              f"{warehouse.workers}")
        print(f"nightly report: {reports}")
        print()
        print(report.format())
    warehouse.stop()
    runtime.close()
    return figures


if __name__ == "__main__":
    main()
