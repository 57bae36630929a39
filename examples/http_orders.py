"""A small HTTP order service on the standard library, on the real clock.

``POST /orders`` with a JSON object sends the order to the ``orders`` queue and answers
``202 Accepted`` with the message id at once: the web tier waits only for the enqueue. A
:class:`~decoupling.ConsumerPool` of worker threads processes the orders in the background. An
order with ``"fail": true`` raises in its handler: it comes back after the visibility timeout and,
after ``--max-receive-count`` receives, lands in the dead-letter queue. An order may ask for
``"seconds"`` of work (default ``--work-seconds``). ``GET /stats`` reports the counts as JSON.

SIGTERM or SIGINT stops accepting requests, drains the pool (handlers in flight finish and their
orders are deleted; orders received but not started become visible again) and exits 0::

    python examples/http_orders.py [--port 8080] [--workers 4] [--visibility-timeout 30]
                                   [--max-receive-count 3] [--work-seconds 0.05]

The port may also come from ``HTTP_ORDERS_PORT``; 0 picks a free port. The service listens on
127.0.0.1 only and prints ``listening on http://127.0.0.1:PORT`` once it accepts requests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import decoupling as dc

#: The longest an order may ask to be worked on, in seconds.
MAX_ORDER_SECONDS = 5.0


class OrderFailed(Exception):
    """The order cannot be processed: the message stays and is received again."""


class OrderService:
    """The queues, the worker pool and the counts behind the HTTP endpoints."""

    def __init__(self, loop: dc.EventLoop, *, workers: int, visibility_timeout: int,
                 max_receive_count: int, work_seconds: float) -> None:
        self.dead_letters = dc.Queue(loop, "orders-dlq")
        self.orders = dc.Queue(loop, "orders", visibility_timeout=visibility_timeout,
                               redrive_policy=dc.RedrivePolicy(self.dead_letters,
                                                               max_receive_count=max_receive_count))
        self.work_seconds = work_seconds
        self.accepted = 0
        self.working = 0
        self._lock = threading.Lock()
        # Backlog per worker 10: a burst of 40 orders runs 4 workers; evaluated every second.
        self.pool = dc.ConsumerPool(self.orders, self.process, min_workers=1,
                                    max_workers=workers, target_backlog_per_worker=10,
                                    batch_size=10, evaluation_period=1.0,
                                    scale_out_cooldown=1.0, scale_in_cooldown=10.0)

    def accept(self, order: dict[str, Any]) -> str:
        """Enqueue an order; returns its message id."""
        message_id = self.orders.send(json.dumps(order)).message_id
        with self._lock:
            self.accepted += 1
        return message_id

    def process(self, message: dc.Message) -> None:
        """The worker: a blocking piece of work per order (a payment call, a database write)."""
        order = json.loads(message.body)
        with self._lock:
            self.working += 1
        try:
            if order.get("fail"):
                raise OrderFailed(f"order {order.get('id')!r} cannot be processed")
            time.sleep(float(order.get("seconds", self.work_seconds)))
        finally:
            with self._lock:
                self.working -= 1

    def stats(self) -> dict[str, int]:
        """What the service has done so far."""
        with self._lock:
            accepted, working = self.accepted, self.working
        waiting = self.orders.approximate_number_of_messages
        in_flight = self.orders.approximate_number_of_messages_not_visible
        dead = len(self.dead_letters)
        processed = self.pool.processed
        return {"accepted": accepted, "processed": processed,
                "failed_attempts": self.pool.failed, "working": working, "waiting": waiting,
                "in_flight": in_flight, "dead_lettered": dead, "workers": self.pool.workers,
                "lost": accepted - processed - dead - len(self.orders)}


def _order_problem(order: object) -> str | None:
    if not isinstance(order, dict):
        return "the body must be a JSON object"
    seconds = order.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
            0 <= seconds <= MAX_ORDER_SECONDS):
        return f"seconds must be a number from 0 to {MAX_ORDER_SECONDS}"
    return None


def handler_for(service: OrderService) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``service``."""

    class OrdersHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path != "/orders":
                self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                order = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                order = None
                problem: str | None = "the body is not JSON"
            else:
                problem = _order_problem(order)
            if problem is not None:
                self._reply(HTTPStatus.BAD_REQUEST, {"error": problem})
                return
            self._reply(HTTPStatus.ACCEPTED, {"message_id": service.accept(order)})

        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/stats":
                self._reply(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {self.path}"})
                return
            self._reply(HTTPStatus.OK, service.stats())

        def _reply(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the service prints only its start and its summary."""

    return OrdersHandler


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HTTP_ORDERS_PORT", 8080)),
                        help="port on 127.0.0.1; 0 picks a free one (default 8080 or "
                             "$HTTP_ORDERS_PORT)")
    parser.add_argument("--workers", type=int, default=4, help="most worker threads (default 4)")
    parser.add_argument("--visibility-timeout", type=int, default=30,
                        help="seconds a received order stays invisible (default 30)")
    parser.add_argument("--max-receive-count", type=int, default=3,
                        help="receives before an order goes to the dead-letter queue (default 3)")
    parser.add_argument("--work-seconds", type=float, default=0.05,
                        help="seconds of work per order (default 0.05)")
    parser.add_argument("--drain-timeout", type=float, default=30.0,
                        help="seconds to wait for handlers in flight at shutdown (default 30)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loop = dc.EventLoop().start()  # real time: one driver thread for the loop's timers
    service = OrderService(loop, workers=args.workers,
                           visibility_timeout=args.visibility_timeout,
                           max_receive_count=args.max_receive_count,
                           work_seconds=args.work_seconds)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(service))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)

    stopping.wait()
    print("stopping: no new orders; draining the workers", flush=True)
    server.shutdown()  # stop accepting; requests being answered finish
    server.server_close()
    still_running = service.pool.stop(drain=True, timeout=args.drain_timeout)
    loop.stop()
    stats = service.stats()
    print("stopped: " + ", ".join(f"{key}={stats[key]}" for key in (
        "accepted", "processed", "dead_lettered", "waiting", "in_flight", "lost"))
          + f", still_running={still_running}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
