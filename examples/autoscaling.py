"""Scaling on backlog: a worker pool grows with the queue and shrinks after the burst.

A :class:`~decoupling.ConsumerPool` drains the ``orders`` queue with a target-tracking policy
on backlog per worker, as an EC2 Auto Scaling group behind SQS is scaled (AWS Auto Scaling User
Guide, "Scaling policy based on Amazon SQS"). On virtual time:

1. t=0-60 s: a trickle of 2 orders a second; the one worker keeps up.
2. t=60-180 s: a burst of 60 orders a second (7,200 orders). A worker takes batches of 10 at
   0.1 s an order (10 orders a second), so the backlog grows; every 10 s the pool asks for
   ``ceil(backlog / 100)`` workers (1-10) and scales out at once, then not again for 30 s.
3. With 8 workers (80 orders a second) the backlog drains while the burst goes on; the pool
   scales in only 120 s after its last change, after the burst.
4. t=180-360 s: the trickle again, on 1 worker.

It prints the queue depth and workers every 30 s, each scaling step and the deepest backlog,
and writes a plot of queue depth and worker count over time (``--plot PATH``, default
``docs/images/autoscaling.png``, relative to the current directory) if matplotlib is installed
(``pip install -e ".[examples]"``); without it, it says so and still prints everything else.

Run: ``python examples/autoscaling.py`` (well under 5 seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import decoupling as dc

END = 360.0  # seconds simulated
BURST = (60.0, 180.0)  # the burst's start and end, seconds
BURST_PER_SECOND = 60
TRICKLE_PER_SECOND = 2
SAMPLE_EVERY = 1.0  # seconds between samples of the plot
DEFAULT_PLOT = Path("docs/images/autoscaling.png")


def simulate() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    orders = dc.Queue(loop, "orders")
    pool = dc.ConsumerPool(orders, lambda message: None, min_workers=1, max_workers=10,
                           target_backlog_per_worker=100, processing_time=0.1, batch_size=10,
                           evaluation_period=10, scale_out_cooldown=30, scale_in_cooldown=120)
    samples: list[tuple[float, int, int]] = []  # (time, messages waiting, workers)
    sent = 0

    def arrive(second: int) -> None:
        nonlocal sent
        rate = BURST_PER_SECOND if BURST[0] <= second < BURST[1] else TRICKLE_PER_SECOND
        for start in range(0, rate, 10):
            orders.send_batch([f"order {sent + i}" for i in range(start, min(rate, start + 10))])
        sent += rate
        if second + 1 < END:
            loop.call_later(1.0, lambda: arrive(second + 1))

    def sample() -> None:
        samples.append((loop.clock.now(), orders.approximate_number_of_messages, pool.workers))
        if loop.clock.now() + SAMPLE_EVERY <= END:
            loop.call_later(SAMPLE_EVERY, sample)

    loop.call_later(0.5, lambda: arrive(0))  # orders arrive mid-second, samples on the second
    loop.call_later(0, sample)
    loop.run_until_idle(limit=END)
    pool.stop()

    peak_depth = max(samples, key=lambda s: s[1])
    # The pool's own record of each scaling evaluation: (time, workers, backlog).
    changes = [(t, w) for i, (t, w, _) in enumerate(pool.history)
               if i == 0 or w != pool.history[i - 1][1]]
    peak_workers = max(changes, key=lambda c: c[1])
    caught_up = next(t for t, depth, _ in samples
                     if t > peak_depth[0] and depth <= TRICKLE_PER_SECOND)
    return {
        "sent": sent,
        "processed": pool.processed,
        "peak_depth": peak_depth[1],
        "peak_depth_at": peak_depth[0],
        "scaling": changes,
        "peak_workers": peak_workers[1],
        "caught_up_at": caught_up,
        "samples": samples,
    }


def plot(samples: list[tuple[float, int, int]], path: Path) -> str:
    """Write the plot; return what happened in words."""
    try:
        import matplotlib
    except ImportError:
        return 'matplotlib is not installed: no plot written (pip install -e ".[examples]")'
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [t for t, _, _ in samples]
    fig, depth_axis = plt.subplots(figsize=(8, 4), dpi=100)
    depth_axis.plot(times, [d for _, d, _ in samples], color="tab:blue", label="queue depth")
    depth_axis.set_xlabel("time (s)")
    depth_axis.set_ylabel("messages waiting", color="tab:blue")
    depth_axis.axvspan(*BURST, color="0.92", label=f"burst ({BURST_PER_SECOND} orders/s)")
    workers_axis = depth_axis.twinx()
    workers_axis.step(times, [w for _, _, w in samples], where="post", color="tab:orange",
                      label="workers")
    workers_axis.set_ylabel("workers", color="tab:orange")
    workers_axis.set_ylim(0, 11)
    handles = depth_axis.get_legend_handles_labels()
    more = workers_axis.get_legend_handles_labels()
    depth_axis.legend(handles[0] + more[0], handles[1] + more[1], loc="upper right")
    depth_axis.set_title("ConsumerPool: target 100 messages per worker, 1-10 workers")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return f"plot written to {path}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, metavar="PATH",
                        help=f"where to write the PNG (default {DEFAULT_PLOT})")
    args = parser.parse_args(argv)
    figures = simulate()
    print(f"sent {figures['sent']} orders in {END:.0f} s: {TRICKLE_PER_SECOND} a second, "
          f"{BURST_PER_SECOND} a second from t={BURST[0]:.0f} to t={BURST[1]:.0f} s; "
          f"processed {figures['processed']}")
    print("   time  waiting  workers")
    for t, depth, workers in figures["samples"]:
        if t % 30 == 0:
            print(f"{t:5.0f} s  {depth:7d}  {workers:7d}")
    print("workers: " + ", ".join(f"{w} at t={t:g} s" for t, w in figures["scaling"]))
    print(f"deepest backlog {figures['peak_depth']} messages at t={figures['peak_depth_at']:.0f} s; "
          f"the workers caught up by t={figures['caught_up_at']:.0f} s")
    print(plot(figures["samples"], args.plot))
    return {k: v for k, v in figures.items() if k != "samples"}


if __name__ == "__main__":
    main()
