"""The AWS backend (``decoupling.aws``) against moto's HTTP server on 127.0.0.1.

Figures:

* **Overhead**: wall seconds per send -> receive -> delete cycle through ``dc.Queue(account)``
  beside raw boto3 calls doing the same (``send_message``, ``receive_message`` asking for all
  attributes, ``delete_message``) on the same server, the two alternating cycle by cycle; the
  figure is the median over rounds of ours / raw (target <= 1.1: the backend adds nothing a
  request would notice; what it adds is microseconds of argument checks beside milliseconds
  of request).
* **Automatic batching**: 1,000 sends from 50 threads at once (20 each, one after another;
  ten threads share a queue at any moment), through an account with
  ``Batching(max_wait=0.02)`` and through one without: requests sent per 1,000 sends (target
  <= 110 in the worst round, where unbatched sends 1,000) and sends per second, batched over
  unbatched (target >= 5x, the median of three rounds in which the two alternate: one round
  of each moved 4.2-6.1x from run to run). The sends are spread over 100 fresh queues a side
  each round (10 messages each) because moto recomputes every attribute of
  a queue (an O(messages) scan) on each message it accepts: on one queue of 1,000 messages
  that scan, not the requests, would be the figure (about 90 ms per send at 1,000 messages,
  15 ms on an empty queue, on this machine).

The server is ``moto.server.ThreadedMotoServer`` in this process (fake credentials, never
AWS). Its per-request cost (milliseconds) dominates every figure: what is measured is how many
requests we make and what we add to each.

Run: ``python benchmarks/bench_aws.py`` (about 40 s; ``--quick`` for ~15 s).
"""

from __future__ import annotations

import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from _harness import emit, fmt, table

import decoupling as dc

BODY = "x" * 100
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
               "region_name": "us-east-1"}


def cycle(queue: dc.Queue) -> Callable[[], None]:
    def run() -> None:
        queue.send(BODY)
        message = queue.receive(1)[0]
        queue.delete(message.receipt_handle)
    return run


def raw_cycle(client: object, url: str) -> Callable[[], None]:
    send = client.send_message  # type: ignore[attr-defined]
    receive = client.receive_message  # type: ignore[attr-defined]
    delete = client.delete_message  # type: ignore[attr-defined]

    def run() -> None:
        send(QueueUrl=url, MessageBody=BODY)
        message = receive(QueueUrl=url, MaxNumberOfMessages=1,
                          MessageSystemAttributeNames=["All"],
                          MessageAttributeNames=["All"])["Messages"][0]
        delete(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return run


#: Untimed cycles of each before the rounds: the connections opened and the code paths warm
#: (the pairing within a round leaves nothing else for a longer warm-up to settle).
WARM_UP_CYCLES = 5


def interleaved_cycles(ours: Callable[[], None], raw: Callable[[], None], n: int,
                       rounds: int) -> tuple[list[float], list[float]]:
    """Wall seconds per cycle of each, per round (after ``WARM_UP_CYCLES`` untimed ones).
    Within a round the two alternate cycle by cycle (who goes first alternating too), so a
    shared machine's drift and the server's pauses fall on both alike."""
    ours_times: list[float] = []
    raw_times: list[float] = []
    clock = time.perf_counter
    for round_ in range(rounds + 1):
        spent = {"ours": 0.0, "raw": 0.0}
        for i in range(n if round_ else WARM_UP_CYCLES):
            order = (("ours", ours), ("raw", raw)) if i % 2 else (("raw", raw), ("ours", ours))
            for name, fn in order:
                start = clock()
                fn()
                spent[name] += clock() - start
        if round_:
            ours_times.append(spent["ours"] / n)
            raw_times.append(spent["raw"] / n)
    return ours_times, raw_times


def concurrent_sends(queues: list[dc.Queue], threads: int, each: int) -> float:
    """Wall seconds for ``threads`` threads to send ``each`` messages apiece, all at once.

    Threads go in groups of ten; at step ``j`` group ``g`` sends to queue ``g + 10 j`` (mod the
    queue count), so ten callers share a queue at every moment and each queue ends with ten
    messages."""
    start_line = threading.Barrier(threads + 1)
    groups = threads // 10

    def worker(i: int) -> None:
        start_line.wait()
        for step in range(each):
            queues[(i // 10 + step * groups) % len(queues)].send(BODY)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start


def main() -> None:
    quick = "--quick" in sys.argv
    from moto.server import ThreadedMotoServer

    import decoupling.aws as aws

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        account = aws.connect(endpoint_url=endpoint, **CREDENTIALS)
        ours = dc.Queue(account, "ours")
        raw_url = account.sqs.create_queue(QueueName="raw")["QueueUrl"]
        ours_times, raw_times = interleaved_cycles(
            cycle(ours), raw_cycle(account.sqs, raw_url), 15 if quick else 40,
            3 if quick else 5)
        ratio = statistics.median(a / b for a, b in zip(ours_times, raw_times, strict=True))
        ours_ms = statistics.median(ours_times) * 1000
        raw_ms = statistics.median(raw_times) * 1000

        threads, each = 50, 10 if quick else 20  # --quick: 500 sends, requests counted per 1,000
        total = threads * each
        # Unbatched and batched alternate round by round (each side its own 100 queues); the speed-up
        # is the median of per-round ratios, the request count the worst round's.
        rates: dict[str, list[float]] = {"unbatched": [], "batched": []}
        requests_seen: dict[str, list[int]] = {"unbatched": [], "batched": []}
        costs: dict[str, Decimal] = {}
        # Fresh accounts and queues each round, made before the round's timing starts: moto's
        # cost per accepted message grows with the messages a queue holds, and reusing queues
        # (10 more messages a queue each round) moved the batched rounds' request count from
        # 100 to 150 per 1,000 sends in run P.
        for round_no in range(1 if quick else 3):
            for label, batching in (("unbatched", None),
                                    ("batched", aws.Batching(max_wait=0.02))):
                acct = aws.connect(endpoint_url=endpoint, batching=batching, **CREDENTIALS)
                queues = [dc.Queue(acct, f"{label}-{round_no}-{k}")
                          for k in range(threads * each // 10)]
                acct.meter.reset()
                elapsed = concurrent_sends(queues, threads, each)
                rates[label].append(total / elapsed)
                requests_seen[label].append(acct.meter.calls(action="SendMessage")
                                            + acct.meter.calls(action="SendMessageBatch"))
                costs[label] = acct.meter.cost()
                held = sum(len(q) for q in queues)
                assert held == total, held
                acct.close()
        results = {label: (statistics.median(rates[label]), max(requests_seen[label]))
                   for label in rates}
        speedups = [b / u for b, u in zip(rates["batched"], rates["unbatched"], strict=True)]
        batched_rate, batched_requests = results["batched"]
        plain_rate, plain_requests = results["unbatched"]
        batched_requests = round(batched_requests * 1000 / total)  # per 1,000 sends
        plain_requests = round(plain_requests * 1000 / total)
        speedup = statistics.median(speedups)

        table("send -> receive -> delete, wall ms per cycle (moto on 127.0.0.1)", [
            ("dc.Queue(account)", f"{ours_ms:.2f} ms", f"raw boto3 {raw_ms:.2f} ms"),
            ("ours / raw (median of rounds)", f"{ratio:.3f}", "target <= 1.1"),
        ])
        table(f"{total:,} concurrent sends ({threads} threads x {each})", [
            ("requests per 1,000 sends, batched (worst round)", f"{batched_requests:,}",
             f"unbatched {plain_requests:,}; target <= 110"),
            ("sends/s, batched", fmt(batched_rate), f"unbatched {fmt(plain_rate)}"),
            ("batched / unbatched (median of rounds)", f"{speedup:.1f}x",
             "rounds " + ", ".join(f"{x:.1f}x" for x in speedups) + "; target >= 5x"),
            ("bill (account.meter.cost())", f"${costs['batched']:.6f}",
             f"unbatched ${costs['unbatched']:.6f}"),
        ])
        emit("aws", cycle_ms_ours=round(ours_ms, 3), cycle_ms_raw=round(raw_ms, 3),
             overhead_ratio=round(ratio, 3), requests_per_1000_sends_batched=batched_requests,
             requests_per_1000_sends_unbatched=plain_requests,
             sends_per_s_batched=round(batched_rate), sends_per_s_unbatched=round(plain_rate),
             batching_speedup=round(speedup, 2))
        account.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
