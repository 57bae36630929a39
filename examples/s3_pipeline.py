"""An S3-triggered pipeline on virtual time: upload -> S3 event -> queue -> function -> result.

1. The ``uploads`` bucket notifies the ``upload-events`` queue of every object created under
   ``incoming/`` ending in ``.csv`` (S3 sends the queue an ``s3:TestEvent`` first).
2. An event source mapping feeds the queue's messages to the ``summarize`` function, which reads
   each uploaded CSV from the bucket (the key arrives URL-encoded, as S3 sends it), totals it and
   writes ``summaries/<name>.json`` to the ``results`` bucket.
3. A file outside the filter (``incoming/readme.txt``) starts nothing.

Run: ``python examples/s3_pipeline.py`` (well under a second).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import unquote_plus

import decoupling as dc

SALES = {
    "incoming/2026-01-01 sales.csv": [("book", 2, 12.5), ("pen", 10, 1.2), ("lamp", 1, 40.0)],
    "incoming/2026-01-02 sales.csv": [("book", 1, 12.5), ("desk", 1, 210.0)],
}


def as_csv(rows: list[tuple[str, int, float]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "quantity", "price"])
    writer.writerows(rows)
    return out.getvalue().encode()


def main(verbose: bool = True) -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    uploads = dc.Bucket(loop, "uploads")
    results = dc.Bucket(loop, "results")
    events = dc.Queue(loop, "upload-events", visibility_timeout=60)
    uploads.add_notification(events, ["s3:ObjectCreated:*"], prefix="incoming/", suffix=".csv")
    seen: list[str] = []

    @runtime.function("summarize", timeout=30, memory_mb=256, simulated_duration=0.1)
    def summarize(event: dict[str, Any], context: Any) -> None:
        for message in event["Records"]:  # SQS records; each body is an S3 event
            s3_event = json.loads(message["body"])
            if s3_event.get("Event") == "s3:TestEvent":
                seen.append("s3:TestEvent")
                continue
            for record in s3_event["Records"]:
                key = unquote_plus(record["s3"]["object"]["key"])
                seen.append(f"{record['eventName']} {key} ({record['s3']['object']['size']} bytes)")
                data = uploads.get(key).body.decode()
                rows = list(csv.DictReader(io.StringIO(data)))
                summary = {
                    "source": f"s3://{record['s3']['bucket']['name']}/{key}",
                    "lines": len(rows),
                    "items": sum(int(r["quantity"]) for r in rows),
                    "revenue": round(sum(int(r["quantity"]) * float(r["price"]) for r in rows), 2),
                }
                name = key.rsplit("/", 1)[-1].removesuffix(".csv")
                results.put(f"summaries/{name}.json", json.dumps(summary).encode(),
                            content_type="application/json")

    runtime.add_event_source(events, "summarize", batch_size=10)
    for key, rows in SALES.items():
        uploads.put(key, as_csv(rows), content_type="text/csv")
    uploads.put("incoming/readme.txt", b"not a csv")
    loop.run_until_idle(limit=600)

    summaries = {
        key: json.loads(results.get(key).body) for key in results.keys(prefix="summaries/")
    }
    figures: dict[str, Any] = {
        "events": seen,
        "summaries": summaries,
        "left_in_queue": events.approximate_number_of_messages
        + events.approximate_number_of_messages_not_visible,
    }
    if verbose:
        for line in seen:
            print(f"summarize got: {line}")
        for key, summary in summaries.items():
            print(f"{key}: {summary}")
        print(f"messages left in {events.name}: {figures['left_in_queue']}")
    runtime.close()
    return figures


if __name__ == "__main__":
    main()
