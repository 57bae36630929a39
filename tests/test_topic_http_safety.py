"""HTTP/S delivery against hostile or slow endpoints: URLs checked at Subscribe as SNS does,
link-local and metadata addresses refused before any connection (unless the loop opts in),
one deadline per attempt, a capped answer, and a slow endpoint that delays only its own
subscription.

No packet leaves loopback: every test runs under ``loopback_only``, which makes any
connection or name lookup for anything but loopback fail loudly, and the tests of refused
addresses replace the resolver and the connector so that they also prove no connection was
even attempted.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sns import http as sns_http


def _is_loopback(host: object) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup outside loopback raises instead of leaving the host."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address[0]):
            raise AssertionError(f"a test tried to connect to {address!r}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise AssertionError(f"a test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class Recorder:
    """Stands in for the resolver and the connector: records what would have been done."""

    def __init__(self, addresses: dict[str, list[str]] | None = None) -> None:
        self.addresses = addresses or {}
        self.resolved: list[str] = []
        self.connected: list[tuple[Any, ...]] = []

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
        self.resolved.append(host)
        found = self.addresses.get(host, [host])
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, (a, port)) for a in found]

    def connect(self, family: int, sockaddr: tuple[Any, ...], timeout: float) -> socket.socket:
        self.connected.append(sockaddr)
        raise ConnectionRefusedError("(recorder) no connection made")


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(sns_http, "resolver", rec.resolve, raising=False)
    monkeypatch.setattr(sns_http, "connector", rec.connect, raising=False)
    return rec


# -- URLs checked at Subscribe ---------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), [
    ("http://a b/", "whitespace or a control character"),
    ("http://hooks.local/x\r\nX-Injected: 1", "whitespace or a control character"),
    ("http://hooks.local/\x00", "whitespace or a control character"),
    ("http://my_host.example/", "'my_host.example' is not a valid host name"),
    ("http:///path", "the URL has no host"),
    ("http://hooks.local:99999/", "the URL is malformed"),
    ("http://hooks.local:0/", "port 0"),
    ("http://[::1/", "the URL is malformed"),
    ("http://-bad-.example/", "not a valid host name"),
])
def test_malformed_urls_are_refused_at_subscribe(
    loop: dc.EventLoop, recorder: Recorder, url: str, reason: str
) -> None:
    topic = dc.Topic(loop, "hooks")
    with pytest.raises(errors.InvalidParameter) as caught:
        topic.subscribe(url)
    assert caught.value.message.startswith("Invalid parameter: Endpoint Reason: ")
    assert reason in caught.value.message
    assert topic.list_subscriptions() == []
    assert topic.drain() and recorder.connected == [] and recorder.resolved == []


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.170.2/v2/credentials",
    "https://[fe80::1]/hook",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL./",
    "http://100.100.100.200/latest/meta-data/",
    "http://0.0.0.0:8080/",
])
def test_metadata_and_link_local_endpoints_are_refused_without_opt_in(
    loop: dc.EventLoop, recorder: Recorder, url: str
) -> None:
    topic = dc.Topic(loop, "hooks")
    with pytest.raises(errors.InvalidParameter) as caught:
        topic.subscribe(url)
    assert caught.value.message == "Invalid parameter: Unreachable Endpoint"
    assert topic.list_subscriptions() == []
    assert topic.drain() and recorder.connected == [] and recorder.resolved == []


def test_loopback_and_private_ranges_stay_allowed(loop: dc.EventLoop, recorder: Recorder) -> None:
    topic = dc.Topic(loop, "hooks")
    for url in ("http://127.0.0.1:8080/", "http://[::1]:8080/", "http://localhost/",
                "http://10.1.2.3/", "http://192.168.1.20/", "http://172.17.0.2:9000/"):
        assert topic.subscribe(url).pending_confirmation
    assert topic.drain()
    # The confirmations went to exactly those addresses (the recorder refused them all).
    assert sorted(a[0] for a in recorder.connected) == sorted(
        ["127.0.0.1", "::1", "localhost", "10.1.2.3", "192.168.1.20", "172.17.0.2"])


def test_opting_in_allows_the_metadata_address(recorder: Recorder) -> None:
    loop = dc.EventLoop(dc.ManualClock(), allow_private_endpoints=True)
    topic = dc.Topic(loop, "hooks")
    topic.subscribe("http://169.254.169.254/latest/")
    assert topic.drain()
    assert recorder.connected == [("169.254.169.254", 80)]  # the recorder refused it


def test_a_name_resolving_to_a_refused_address_is_refused_before_connecting(
    loop: dc.EventLoop, recorder: Recorder
) -> None:
    # DNS rebinding: a public-looking name whose answers include the metadata address.
    recorder.addresses["hooks.example"] = ["127.0.0.1", "169.254.169.254"]
    topic = dc.Topic(loop, "hooks")
    sub = topic.subscribe("http://hooks.example/in")
    assert topic.drain()
    assert recorder.resolved == ["hooks.example"] and recorder.connected == []
    assert sub._token is not None
    topic.confirm_subscription(sub._token)
    topic.publish("secret")
    assert topic.drain()
    # Refused as a client-side error: not retried, no connection attempted.
    assert recorder.resolved == ["hooks.example"] * 2 and recorder.connected == []
    assert (sub.delivered, sub.undeliverable) == (0, 1) and loop.clock.now() == 0.0


def test_refused_addresses_never_reach_the_connector_on_delivery(recorder: Recorder) -> None:
    # Every POST checks again (a subscription restored from elsewhere, a changed flag).
    with pytest.raises(dc.ClientDeliveryError,
                       match="Unreachable Endpoint: 169.254.169.254 is a link-local address"):
        sns_http.post("http://169.254.169.254/", "x", {})
    assert recorder.connected == [] and recorder.resolved == []


# -- one deadline per attempt, a capped answer ---------------------------------------------------


class RawServer:
    """A one-connection-at-a-time TCP server on 127.0.0.1 running ``serve(conn)``."""

    def __init__(self, serve: Any) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.sent = 0
        self._serve = serve
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65_536)
            try:
                self._serve(self, conn)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


@pytest.mark.realtime
def test_the_deadline_covers_the_whole_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sns_http, "HTTP_TIMEOUT", 0.3)
    stop = threading.Event()

    def drip(server: RawServer, conn: socket.socket) -> None:
        # 20 s of bytes, each 50 ms after the last: only a deadline for the whole attempt ends it
        for byte in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"." * 360 + b"\r\nContent-Length: 0\r\n\r\n":
            if stop.wait(0.05):
                return
            conn.sendall(bytes([byte]))

    server = RawServer(drip)
    started = time.monotonic()
    try:
        with pytest.raises(sns_http.ServerDeliveryError, match="no answer within 0.3 s"):
            sns_http.post(server.url, "hello", {})
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.close()
    # Each byte came within the timeout of the one before; the attempt still ended on time.
    assert 0.3 <= elapsed < 5  # at the 0.3 s deadline, not when the 20 s answer ends


@pytest.mark.realtime
def test_a_huge_answer_is_read_only_up_to_the_cap() -> None:
    import tracemalloc

    body_size = 64 * 1024 * 1024
    chunk = bytes(1 << 20)  # allocated before tracing starts: only the client is measured

    def flood(server: RawServer, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {body_size}\r\n\r\n".encode())
        while server.sent < body_size:
            conn.sendall(chunk)
            server.sent += len(chunk)

    server = RawServer(flood)
    tracemalloc.start()
    try:
        assert sns_http.post(server.url, "hello", {}) == 200
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        server.close()
    assert peak < 2 * 1024 * 1024  # the cap, not the 64 MiB body
    assert server.sent < body_size
    assert sns_http.MAX_RESPONSE_BYTES == 65_536


# -- a slow endpoint delays only its own subscription --------------------------------------------


class TimedEndpoint:
    """A local HTTP server that records when each notification arrived and answers after
    ``delay`` real seconds (confirmations at once)."""

    def __init__(self, delay: float) -> None:
        self.arrivals: list[tuple[str, float]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                if self.headers["x-amz-sns-message-type"] == "Notification":
                    endpoint.arrivals.append((json.loads(body)["Message"], time.monotonic()))
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def servers() -> Iterator[list[TimedEndpoint]]:
    made = [TimedEndpoint(0.3) for _ in range(4)] + [TimedEndpoint(0.0)]
    yield made
    for server in made:
        server.close()


@pytest.mark.realtime
def test_slow_endpoints_do_not_delay_another_subscription(servers: list[TimedEndpoint]) -> None:
    *slow, fast = servers
    with dc.EventLoop() as loop:
        topic = dc.Topic(loop, "fanout")
        subs = [topic.subscribe(server.url) for server in servers]
        assert topic.drain(timeout=2)
        for sub in subs:
            assert sub._token is not None
            topic.confirm_subscription(sub._token)
        published = {}
        for i in range(6):
            published[f"m{i}"] = time.monotonic()
            topic.publish(f"m{i}")
        deadline = time.monotonic() + 1.0
        while len(fast.arrivals) < 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        arrivals = list(fast.arrivals)
        assert topic.drain(timeout=3)
    assert sorted(m for m, _ in arrivals) == [f"m{i}" for i in range(6)]
    assert max(at - published[m] for m, at in arrivals) < 0.2
    assert all(len(server.arrivals) == 6 for server in slow)
