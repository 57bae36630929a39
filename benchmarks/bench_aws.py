"""The AWS backend (``decoupling.aws``) against moto's HTTP server on 127.0.0.1.

Figures:

* **Overhead**: wall seconds per send -> receive -> delete cycle through ``dc.Queue(account)``
  beside raw boto3 calls doing the same (``send_message``, ``receive_message`` asking for all
  attributes, ``delete_message``) on the same server, the two alternating cycle by cycle; the
  figure is the median over rounds of ours / raw (target <= 1.1: the backend adds nothing a
  request would notice; what it adds is microseconds of argument checks beside milliseconds
  of request). 30 cycles of each a round, 5 rounds (each cycle 3 requests, ~25 ms of the
  server's CPU); the per-round ratios are printed.
* **Automatic batching**: 1,000 sends from 50 threads at once (20 each, one after another;
  ten threads share a queue at any moment) through an account with
  ``Batching(max_wait=0.02)``: requests sent per 1,000 sends (target <= 110 in the worst
  round, where unbatched sends 1,000) and sends per second, over the same 50 threads sending
  through an account without batching (target >= 5x, the median of three rounds in which the
  two alternate: one round of each moved 4.2-6.1x from run to run). The unbatched side sends
  10 apiece (500 in all): one request a send, its rate is the server's steady pace from the
  first requests on (all 50 threads keep a request waiting at the server), and half the
  sends halve the requests it costs (moto's server spends 5-10 ms of CPU on each). The sends
  are spread over fresh queues each round, 10 messages to a queue, because moto recomputes
  every attribute of a queue (an O(messages) scan) on each message it accepts: on one queue
  of 1,000 messages that scan, not the requests, would be the figure (about 90 ms per send at
  1,000 messages, 15 ms on an empty queue, on this machine). That every send arrived is
  checked by the message ids moto returned (one a send, all distinct), with no request.

The server is ``moto.server.ThreadedMotoServer`` in this process (fake credentials, never
AWS). Its per-request cost (milliseconds) dominates every figure: what is measured is how many
requests we make and what we add to each.

Run: ``python benchmarks/bench_aws.py`` (about 30 s of CPU; ``--quick`` for ~12 s).
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


def concurrent_sends(queues: list[dc.Queue], threads: int, each: int) -> tuple[float, int]:
    """Wall seconds for ``threads`` threads to send ``each`` messages apiece, all at once,
    and how many distinct message ids the sends returned.

    Threads go in groups of ten; at step ``j`` group ``g`` sends to queue ``g + 10 j`` (mod the
    queue count), so ten callers share a queue at every moment and each queue ends with ten
    messages."""
    start_line = threading.Barrier(threads + 1)
    groups = threads // 10
    ids: list[list[str]] = [[] for _ in range(threads)]

    def worker(i: int) -> None:
        start_line.wait()
        mine = ids[i]
        for step in range(each):
            mine.append(queues[(i // 10 + step * groups) % len(queues)].send(BODY).message_id)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    return elapsed, len({message_id for mine in ids for message_id in mine})


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
            cycle(ours), raw_cycle(account.sqs, raw_url), 15 if quick else 30,
            3 if quick else 5)
        ratios = [a / b for a, b in zip(ours_times, raw_times, strict=True)]
        ratio = statistics.median(ratios)
        ours_ms = statistics.median(ours_times) * 1000
        raw_ms = statistics.median(raw_times) * 1000

        threads, each = 50, 10 if quick else 20  # --quick: 500 sends, requests counted per 1,000
        sends_each = {"unbatched": each // 2, "batched": each}  # unbatched: the steady pace
        # Unbatched and batched alternate round by round (each side its own queues); the speed-up
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
                sent = threads * sends_each[label]
                acct = aws.connect(endpoint_url=endpoint, batching=batching, **CREDENTIALS)
                queues = [dc.Queue(acct, f"{label}-{round_no}-{k}") for k in range(sent // 10)]
                acct.meter.reset()
                elapsed, distinct_ids = concurrent_sends(queues, threads, sends_each[label])
                assert distinct_ids == sent, (distinct_ids, sent)  # every send arrived
                rates[label].append(sent / elapsed)
                requests = (acct.meter.calls(action="SendMessage")
                            + acct.meter.calls(action="SendMessageBatch"))
                requests_seen[label].append(round(requests * 1000 / sent))  # per 1,000 sends
                costs[label] = acct.meter.cost() * 1000 / sent
                acct.close()
        results = {label: (statistics.median(rates[label]), max(requests_seen[label]))
                   for label in rates}
        speedups = [b / u for b, u in zip(rates["batched"], rates["unbatched"], strict=True)]
        batched_rate, batched_requests = results["batched"]
        plain_rate, plain_requests = results["unbatched"]
        total = threads * each
        speedup = statistics.median(speedups)

        table("send -> receive -> delete, wall ms per cycle (moto on 127.0.0.1)", [
            ("dc.Queue(account)", f"{ours_ms:.2f} ms", f"raw boto3 {raw_ms:.2f} ms"),
            ("ours / raw (median of rounds)", f"{ratio:.3f}",
             "rounds " + ", ".join(f"{x:.3f}" for x in ratios) + "; target <= 1.1"),
        ])
        table(f"{total:,} concurrent sends, batched ({threads} threads x {each}; unbatched "
              f"{threads} x {sends_each['unbatched']})", [
            ("requests per 1,000 sends, batched (worst round)", f"{batched_requests:,}",
             f"unbatched {plain_requests:,}; target <= 110"),
            ("sends/s, batched", fmt(batched_rate), f"unbatched {fmt(plain_rate)}"),
            ("batched / unbatched (median of rounds)", f"{speedup:.1f}x",
             "rounds " + ", ".join(f"{x:.1f}x" for x in speedups) + "; target >= 5x"),
            ("bill per 1,000 sends (account.meter.cost())", f"${costs['batched']:.6f}",
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
