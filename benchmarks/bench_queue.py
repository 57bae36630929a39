"""``Queue`` through its public API, beside ``queue.Queue`` and moto's SQS in the same run.

Figures (100-byte bodies, median of 5 after a warm-up):

* send -> receive -> delete cycles/s with single-message calls, on a ManualClock and on the real
  clock (target >= 100,000/s);
* messages/s with batches of 10 (send_batch, receive 10, delete_batch; target >= 250,000/s);
* a skeleton of the batch-10 cycle that does only what no SQS-shaped queue can skip (ids,
  MD5s, records, handles, snapshots; no lock, retention, deadlines or checks): the floor pure
  Python sets under the batch target;
* ``queue.Queue`` put+get on one thread (what an app uses in-process today);
* moto's SQS through boto3 (``mock_aws``), if moto is installed (target: ours >= 200x).

Observability on vs off is ``bench_observe.py``'s (each instrument alone and all three, in
more rounds of their own).

Run: ``python benchmarks/bench_queue.py`` (about 10 s; ``--quick`` for a smaller run).
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
import sys
from collections import deque
from collections.abc import Callable

from _harness import emit, fmt, interleaved, paired_ratio, table, yardstick

import decoupling as dc

BODY = "x" * 100


def single_cycles(loop: dc.EventLoop, n: int) -> Callable[[], int]:
    q = dc.Queue(loop, f"single-{id(loop)}")
    send, receive, delete = q.send, q.receive, q.delete

    def run() -> int:
        for _ in range(n):
            send(BODY)
            delete(receive()[0].receipt_handle)
        return n

    return run


def batch_messages(loop: dc.EventLoop, n_batches: int) -> Callable[[], int]:
    q = dc.Queue(loop, f"batch-{id(loop)}")
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]

    def run() -> int:
        for _ in range(n_batches):
            q.send_batch(entries)
            got = q.receive(10)
            q.delete_batch([{"Id": str(i), "ReceiptHandle": m.receipt_handle}
                            for i, m in enumerate(got)])
        return n_batches * 10

    return run


class _Held:
    """The skeleton's record of one message: what any queue must keep per message."""

    __slots__ = ("message_id", "body", "state", "receipt", "receive_count", "deadline")

    def __init__(self, message_id: str, body: str) -> None:
        self.message_id = message_id
        self.body = body
        self.state = 1
        self.receipt: str | None = None
        self.receive_count = 0
        self.deadline = 0.0


class _Snapshot:
    __slots__ = ("message_id", "body", "receipt_handle", "receive_count")

    def __init__(self, message_id: str, body: str, receipt: str, count: int) -> None:
        self.message_id = message_id
        self.body = body
        self.receipt_handle = receipt
        self.receive_count = count


def skeleton_batch_messages(n_batches: int) -> Callable[[], int]:
    """The pure-Python floor of a batch-10 cycle: only the steps no SQS-shaped queue can skip
    (check the body, a message id, MD5OfMessageBody, a record, a receipt handle, a snapshot
    per received message, the per-entry result dicts), with no lock, no retention index, no
    visibility deadlines, no settle and no argument checks. Not a queue: it shows how close to
    the 250k target pure Python can get at all."""
    visible: deque[_Held] = deque()
    handles: dict[str, _Held] = {}
    ids, ticks = itertools.count(), itertools.count()
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]

    def run() -> int:
        for _ in range(n_batches):
            sent = []
            for entry in entries:
                body = entry["MessageBody"]
                if type(body) is str and body.isascii() and body.isprintable():
                    message_id = "0b5c3e1a-7d2f-4c8e-a1b2-" + format(next(ids), "012x")
                    visible.append(_Held(message_id, body))
                    sent.append({"Id": entry["Id"], "MessageId": message_id,
                                 "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()})
            got = []
            for _ in range(10):
                held = visible.popleft()
                receipt = "q/" + format(next(ticks), "x")
                held.receipt, held.state, held.deadline = receipt, 2, 30.0
                held.receive_count += 1
                handles[receipt] = held
                got.append(_Snapshot(held.message_id, held.body, receipt, held.receive_count))
            done = []
            for d in [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(got)]:
                handles.pop(d["ReceiptHandle"]).state = 3
                done.append({"Id": d["Id"]})
        return n_batches * 10

    return run


def moto_cycles(n: int) -> tuple[Callable[[], int], Callable[[], None]] | None:
    """moto's SQS through boto3 as a contender (``n`` cycles a run), and the function that ends
    its mock. ``mock_aws`` is started here, once, so its start and stop are not timed; the
    other contenders never touch botocore, so it changes nothing for them."""
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return None
    mock = mock_aws()
    mock.start()
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    url = sqs.create_queue(QueueName="moto-bench")["QueueUrl"]

    def run() -> int:
        for _ in range(n):
            sqs.send_message(QueueUrl=url, MessageBody=BODY)
            msg = sqs.receive_message(QueueUrl=url)["Messages"][0]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        return n

    return run, mock.stop


def main() -> dict[str, float]:
    quick = "--quick" in sys.argv
    # Rounds of ~0.3 s CPU a contender (quick: ~0.15 s): per-round ratios of this length moved
    # a few percent between runs, as the longer rounds did. The queue.Queue yardstick runs
    # 100k put+get (~0.1 s) whatever n is: it is the peer of the main ratios.
    n = 6_000 if quick else 25_000
    # Every contender runs in the same interleaved rounds, so each ratio (to queue.Queue, to
    # moto) is a median of per-round ratios (issue #23).
    moto = moto_cycles(30)  # ~0.3 s CPU a round, as the other contenders (10 ms a cycle)
    contenders = {
        "single_manual": single_cycles(dc.EventLoop(clock=dc.ManualClock()), n),
        "single_real": single_cycles(dc.EventLoop(), n),
        "batch_manual": batch_messages(dc.EventLoop(clock=dc.ManualClock()), n // 10),
        "batch_real": batch_messages(dc.EventLoop(), n // 10),
        "skeleton": skeleton_batch_messages(n // 10),
        "yardstick": yardstick(50_000 if quick else 100_000),
    }
    if moto is not None:
        contenders["moto"] = moto[0]
    try:
        samples = interleaved(contenders)
    finally:
        if moto is not None:
            moto[1]()
    manual, real, batch_manual, batch_real, skeleton, stdlib = (
        statistics.median(samples[k]) for k in
        ("single_manual", "single_real", "batch_manual", "batch_real", "skeleton", "yardstick")
    )
    vs_stdlib = {name: paired_ratio(samples, name, "yardstick")
                 for name in ("single_manual", "single_real", "batch_manual", "batch_real")}
    rows = [
        ("case", "rate", "baseline / target"),
        ("single, ManualClock", fmt(manual),
         f"{vs_stdlib['single_manual']:.3f}x queue.Queue (target >= 0.25x)"),
        ("single, real clock", fmt(real), f"{vs_stdlib['single_real']:.3f}x queue.Queue"),
        ("batch of 10, ManualClock", fmt(batch_manual, " msg/s"),
         f"{vs_stdlib['batch_manual']:.3f}x queue.Queue (target >= 0.33x)"),
        ("batch of 10, real clock", fmt(batch_real, " msg/s"),
         f"{vs_stdlib['batch_real']:.3f}x queue.Queue"),
        ("pure-Python floor of batch of 10 (skeleton)", fmt(skeleton, " msg/s"),
         f"ours is {batch_manual / skeleton:.2f}x of it"),
        ("queue.Queue put+get", fmt(stdlib), "the peer of the ratios above"),
    ]
    to_moto = paired_ratio(samples, "single_manual", "moto") if moto is not None else None
    if to_moto is None:
        rows.append(("moto SQS via boto3", "skipped", "moto not installed (pip install moto)"))
    else:
        rows.append(("moto SQS via boto3", fmt(statistics.median(samples["moto"])),
                     f"ours is {to_moto:,.0f}x (target >= 200x)"))
    table("Queue public API: send -> receive -> delete (median of 5 interleaved rounds; "
          "ratios are medians of per-round ratios)", rows)
    figures: dict[str, float] = {
        "single_cycles_per_s_manual": round(manual),
        "single_cycles_per_s_real": round(real),
        "batch10_msgs_per_s_manual": round(batch_manual),
        "batch10_msgs_per_s_real": round(batch_real),
        # Issue #23: ratios to queue.Queue put+get in the same rounds (medians of per-round
        # ratios): single >= 0.25x, batch-10 per message >= 0.33x.
        "single_ratio_to_queue_queue": round(paired_ratio(samples, "single_manual", "yardstick"), 3),
        "batch10_ratio_to_queue_queue": round(paired_ratio(samples, "batch_manual", "yardstick"), 3),
        "skeleton_batch10_msgs_per_s": round(skeleton),
        "stdlib_queue_cycles_per_s": round(stdlib),
    }
    if to_moto is not None:
        figures["moto_cycles_per_s"] = round(statistics.median(samples["moto"]), 1)
        figures["ratio_to_moto"] = round(to_moto, 1)
    emit("queue", **figures)
    return figures


if __name__ == "__main__":
    main()
