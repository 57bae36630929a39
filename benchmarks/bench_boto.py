"""boto3 send -> receive -> delete through the bridge, beside moto and a canned botocore floor.

Three ways to answer the same boto3 code, measured in the same run:

* the bridge: ``decoupling.boto.serve(loop)``, a real queue on a ManualClock;
* moto's ``mock_aws`` (HTTP-less too, but a full request/response round trip through its
  server model); skipped with a note when moto is not installed;
* the canned floor: a boto3 client whose ``before-call`` hook returns a prebuilt response, so
  all it pays is botocore itself (parameter validation, endpoint resolution, serialization,
  events). No bridge can beat it; the target is to stay within 25% of it.

Cases: one message per call (SendMessage, ReceiveMessage, DeleteMessage), and batches of 10
(SendMessageBatch, ReceiveMessage with MaxNumberOfMessages=10, DeleteMessageBatch). Figures are
messages per second, the median of 5 runs (3 with ``--quick``) after a warm-up, timed in CPU seconds; the
contenders run in turn within each round, and the bridge/floor ratio is the median of the
per-round ratios (each pair ran seconds apart), so a machine whose speed drifts during the run
moves both sides of each ratio alike; the ratio to moto likewise (and moto's ``mock_aws`` is
started once, outside the timed runs). Targets: >= 8x moto, >= 0.75x the floor.

Run: ``python benchmarks/bench_boto.py`` (``--quick`` for a shorter run).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from typing import Any

from _harness import emit, fmt, interleaved, paired_ratio, table

import decoupling as dc

BODY = '{"order_id": "o-1", "amount": 42}'
CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "bench",
    "aws_secret_access_key": "bench",
}


def single(sqs: Any, url: str, n: int) -> Callable[[], int]:
    def run() -> int:
        send, receive, delete = sqs.send_message, sqs.receive_message, sqs.delete_message
        for _ in range(n):
            send(QueueUrl=url, MessageBody=BODY)
            message = receive(QueueUrl=url)["Messages"][0]
            delete(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return n

    return run


def batched(sqs: Any, url: str, n_batches: int) -> Callable[[], int]:
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]

    def run() -> int:
        done = 0
        for _ in range(n_batches):
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
            pending = 10
            while pending:  # short polls may return fewer than asked
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if messages:
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(messages)
                        ],
                    )
                    pending -= len(messages)
                    done += len(messages)
        return done

    return run


Runners = tuple[Callable[[], int], Callable[[], int]]
ROUNDS = 3 if "--quick" in sys.argv else 5


def bridge(n: int, n_batches: int) -> Runners:
    import boto3

    from decoupling.boto import serve

    loop = dc.EventLoop(clock=dc.ManualClock())
    with serve(loop):
        sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    return single(sqs, url, n), batched(sqs, url, n_batches)


def moto(n: int, n_batches: int) -> tuple[Runners, Callable[[], None]] | None:
    """moto's SQS, and the function that ends its mock. ``mock_aws`` is started once here and
    stays active through the whole measurement, so its start and stop are not timed as moto's
    work (issue #23). The other contenders are unaffected by it: the bridge and the canned
    floor answer in botocore's ``before-call`` event, before moto's ``before-send`` hook."""
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return None
    mock = mock_aws()
    mock.start()
    sqs = boto3.client("sqs", **CREDENTIALS)
    url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    return (single(sqs, url, n), batched(sqs, url, n_batches)), mock.stop


def canned(n: int, n_batches: int) -> Runners:
    """botocore's own cost: every call answered by a prebuilt response in ``before-call``."""
    import boto3
    from botocore.awsrequest import AWSResponse

    sqs = boto3.client("sqs", **CREDENTIALS)
    url = "https://sqs.us-east-1.amazonaws.com/000000000000/bench"
    message = {
        "MessageId": "3b1e5a0c-0000-4000-a000-000000000001",
        "ReceiptHandle": "0123456789abcdef01234567/1",
        "MD5OfBody": "0" * 32,
        "Body": BODY,
    }
    metadata = {"RequestId": "r", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
    answers = {
        "SendMessage": {"MessageId": message["MessageId"], "MD5OfMessageBody": "0" * 32},
        "ReceiveMessage": {"Messages": [message]},
        "DeleteMessage": {},
        "SendMessageBatch": {
            "Successful": [
                {"Id": str(i), "MessageId": "m", "MD5OfMessageBody": "0" * 32} for i in range(10)
            ],
            "Failed": [],
        },
        "ReceiveMessageBatch": {"Messages": [message] * 10},
        "DeleteMessageBatch": {"Successful": [{"Id": str(i)} for i in range(10)], "Failed": []},
    }
    for answer in answers.values():
        answer["ResponseMetadata"] = metadata
    http = AWSResponse(url, 200, {}, None)
    batch = {"on": False}

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        name = model.name
        if name == "ReceiveMessage" and batch["on"]:
            name = "ReceiveMessageBatch"
        return http, answers[name]

    sqs.meta.events.register("before-call.sqs", answer)
    run_single, run_batched = single(sqs, url, n), batched(sqs, url, n_batches)

    def one() -> int:
        batch["on"] = False
        return run_single()

    def ten() -> int:
        batch["on"] = True
        return run_batched()

    return one, ten


def measure(contenders: dict[str, Callable[[], int]]) -> tuple[dict[str, float], dict[str, float]]:
    """Median messages/s of each contender over ``ROUNDS`` interleaved rounds after a warm-up,
    in CPU seconds, and the medians of the per-round ratios of the bridge to each other one."""
    samples = interleaved(contenders, ROUNDS)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return medians, {other: paired_ratio(samples, "bridge", other)
                     for other in contenders if other != "bridge"}


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    n, n_batches = (200, 40) if quick else (500, 100)  # ~0.15-0.3 s CPU a contender
    runners = {"bridge": bridge(n, n_batches), "canned": canned(n, n_batches)}
    # moto: ~0.1-0.2 s CPU a run at 25 cycles / 5 batches (~8 ms a cycle), as the others
    mocked_runners = moto(max(n // 20, 20), max(n_batches // 20, 5))
    if mocked_runners is not None:
        runners["moto"] = mocked_runners[0]
    try:
        measured = [measure({name: r[i] for name, r in runners.items()}) for i in (0, 1)]
    finally:
        if mocked_runners is not None:
            mocked_runners[1]()
    medians = [m for m, _ in measured]
    paired = [p["canned"] for _, p in measured]  # medians of per-round ratios
    to_moto = [p.get("moto", 0.0) for _, p in measured]
    ours = (medians[0]["bridge"], medians[1]["bridge"])
    floor = (medians[0]["canned"], medians[1]["canned"])
    mocked = (medians[0]["moto"], medians[1]["moto"]) if mocked_runners is not None else None
    rows = [("case", "messages/s", "baseline / target")]
    for i, label in enumerate(("single message", "batches of 10")):
        rows.append((f"bridge, {label}", fmt(ours[i]), ""))
        rows.append(
            (f"canned floor, {label}", fmt(floor[i]),
             f"bridge is {paired[i]:.2f}x (>= 0.75x; median of per-round ratios)")
        )
        if mocked is None:
            rows.append((f"moto, {label}", "skipped", "moto not installed (pip install moto)"))
        else:
            rows.append(
                (f"moto, {label}", fmt(mocked[i]), f"bridge is {to_moto[i]:.1f}x (>= 8x; median of per-round ratios)")
            )
    table(f"boto3 SQS send -> receive -> delete (median of {ROUNDS} after warm-up)", rows)
    figures: dict[str, float] = {
        "bridge_single_msgs_per_s": round(ours[0]),
        "bridge_batch10_msgs_per_s": round(ours[1]),
        "canned_single_msgs_per_s": round(floor[0]),
        "canned_batch10_msgs_per_s": round(floor[1]),
        "ratio_to_canned_single": round(paired[0], 3),
        "ratio_to_canned_batch10": round(paired[1], 3),
    }
    if mocked is not None:
        figures.update(
            moto_single_msgs_per_s=round(mocked[0], 1),
            moto_batch10_msgs_per_s=round(mocked[1], 1),
            ratio_to_moto_single=round(to_moto[0], 1),
            ratio_to_moto_batch10=round(to_moto[1], 1),
        )
    emit("boto", **figures)
    return figures


if __name__ == "__main__":
    main()
