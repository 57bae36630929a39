"""HTTP/S subscriptions: real POSTs from the loop's bounded worker pool.

Follows "Parsing message formats" and "HTTP/HTTPS headers" in the SNS Developer Guide
(https://docs.aws.amazon.com/sns/latest/dg/http-header.html):

* every POST carries ``x-amz-sns-message-type`` (``SubscriptionConfirmation``,
  ``Notification`` or ``UnsubscribeConfirmation``), ``x-amz-sns-message-id``,
  ``x-amz-sns-topic-arn``, ``x-amz-sns-subscription-arn`` (not on a subscription confirmation,
  as AWS sends it), ``Content-Type: text/plain; charset=UTF-8`` (or the delivery policy's
  ``headerContentType``) and ``User-Agent: Amazon Simple Notification Service Agent``; raw
  deliveries add ``x-amz-sns-rawdelivery: true``; a URL with ``user:password@`` sends them as
  basic authentication, as SNS does;
* a new subscription is ``PendingConfirmation`` until :meth:`Topic.confirm_subscription` is
  called with the ``Token`` POSTed in the ``SubscriptionConfirmation`` message;
* a 2xx answer is a delivery; 5xx, 429, a refused connection or a timeout are server-side
  errors, retried along the delivery policy; other answers (3xx, 4xx) are client-side errors,
  not retried (AWS does not document the split; this is our reading of "Amazon SNS dead-letter
  queues").

Safety, for a process that runs for months beside untrusted subscribers:

* the URL is checked at ``Subscribe`` (``InvalidParameter``, "Invalid parameter: Endpoint
  Reason: ..."): scheme of the protocol, a host name of letters, digits, ``-`` and ``.`` (no
  underscore: SNS refuses it) or an IP literal, a valid port, no whitespace or control
  character;
* link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, ``fd00:ec2::254``,
  100.100.100.200, ``metadata.google.internal``, ...) are refused ("Invalid parameter:
  Unreachable Endpoint", SNS's answer for an endpoint it cannot reach) unless the loop was
  made with ``allow_private_endpoints=True``: at ``Subscribe`` for a literal address or a known
  metadata name, and before every connection for each address the name resolves to (the
  connection goes to the address that was checked, so a name that changes between checks
  cannot redirect it). Loopback and private ranges are allowed;
* one deadline of :data:`HTTP_TIMEOUT` (15 s, SNS's) covers each attempt: connect, TLS
  handshake, sending and the answer together (a server dripping a byte at a time gets no more);
* at most :data:`MAX_RESPONSE_BYTES` of the answer are read: the status line and headers are
  what counts, a body is read only so far.

Proxies from the environment are not used and redirects are not followed. Heavy imports
(``socket``, ``ssl``, ``ipaddress``, ``urllib.parse``) happen inside the functions that use them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import InvalidParameter
from .delivery import ClientDeliveryError, WorkerPool, register_protocol
from .message import Notification, confirmation_body, iso_timestamp

if TYPE_CHECKING:
    import socket

    from ..loop import EventLoop
    from .subscription import Subscription

__all__ = ["HTTP_TIMEOUT", "USER_AGENT", "MAX_RESPONSE_BYTES"]

_log = logging.getLogger("decoupling.sns")

#: Real seconds one attempt (connect + send + answer) may take before it counts as a failed,
#: retried delivery (SNS waits 15 seconds for an endpoint).
HTTP_TIMEOUT = 15.0
#: Bytes of an answer read at most (status line, headers and body together): enough for any
#: status line and headers an acknowledgment needs, and a bound on what each worker holds
#: however large a body the endpoint sends.
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Amazon Simple Notification Service Agent"
#: Host names of cloud metadata services (refused like their link-local addresses).
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal",
})
#: Metadata addresses outside the link-local ranges (AWS's IPv6 IMDS, Alibaba Cloud's).
METADATA_ADDRESSES = frozenset({"fd00:ec2::254", "100.100.100.200"})
UNREACHABLE = "Invalid parameter: Unreachable Endpoint"


class ServerDeliveryError(Exception):
    """The endpoint failed in a way SNS retries (5xx, 429, no connection, timeout)."""


class _Url(NamedTuple):
    scheme: str
    host: str  # without brackets for IPv6
    port: int
    target: str  # path and query
    authorization: str | None  # basic authentication header value


# -- URL checks (at Subscribe) --------------------------------------------------------------------


def parse_url(url: Any, protocol: str) -> _Url:
    """Check an ``http``/``https`` endpoint URL as SNS does at Subscribe.

    Raises:
        InvalidParameter: "Invalid parameter: Endpoint Reason: ..." naming what is wrong.
    """
    from urllib.parse import unquote, urlsplit

    def bad(reason: str) -> InvalidParameter:
        return InvalidParameter(f"Invalid parameter: Endpoint Reason: {reason}")

    if not isinstance(url, str) or not url.startswith(f"{protocol}://"):
        raise bad(f"Endpoint must match the specified protocol ({protocol}://...)")
    if any(c <= " " or c == "\x7f" for c in url):
        raise bad("the URL contains whitespace or a control character")
    if len(url) > 2048:
        raise bad("the URL is longer than 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise bad(f"the URL is malformed ({error})") from None
    if port == 0:
        raise bad("port 0 is not a port to connect to")
    host = parts.hostname or ""
    if not host:
        raise bad("the URL has no host")
    if ":" not in host and not _is_host_name(host):
        raise bad(f"{host!r} is not a valid host name (letters, digits, '-' and '.')")
    if ":" in host:
        import ipaddress

        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} is not a valid IPv6 address") from None
    authorization = None
    if parts.username is not None:
        import base64

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if protocol == "https" else 80
    return _Url(protocol, host.lower(), port if port is not None else default, target,
                authorization)


def _is_host_name(host: str) -> bool:
    if len(host) > 253:
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(
        0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
        for label in labels
    )


def refusal(address: str) -> str | None:
    """Why ``address`` (an IP address, or a host name for the metadata names) may not be
    POSTed to without ``allow_private_endpoints``; ``None`` if it may."""
    import ipaddress

    name = address.lower().rstrip(".")
    if name in METADATA_HOSTS:
        return f"{name} is a cloud metadata service"
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            name.split("%", 1)[0])
    except ValueError:
        return None  # a name: its addresses are checked when it is resolved
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if ip.is_link_local:
        return f"{ip} is a link-local address (cloud metadata services live there)"
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not a host address"
    return None


def _resolve(protocol: str) -> Any:
    def resolve(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
        url = parse_url(endpoint, protocol)
        if not loop.allow_private_endpoints and refusal(url.host) is not None:
            raise InvalidParameter(UNREACHABLE)
        return endpoint, endpoint

    return resolve


# -- the POST (a worker thread) -------------------------------------------------------------------

#: ``getaddrinfo``-shaped resolver: ``(host, port) -> [(family, sockaddr), ...]``. Tests replace
#: it (and :data:`connector`) so that no packet leaves loopback.
Resolver = Callable[[str, int], list[tuple[int, tuple[Any, ...]]]]
#: ``(family, sockaddr, timeout) -> connected socket``.
Connector = Callable[[int, tuple[Any, ...], float], "socket.socket"]


def _getaddrinfo(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    import socket

    return [(family, sockaddr) for family, _, _, _, sockaddr in
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _connect(family: int, sockaddr: tuple[Any, ...], timeout: float) -> socket.socket:
    import socket

    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


resolver: Resolver = _getaddrinfo
connector: Connector = _connect
_ssl_context: Any = None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the attempt's deadline passed")
    return left


def _addresses(url: _Url, allow_private: bool) -> list[tuple[int, tuple[Any, ...]]]:
    """Resolve the host and check every address before any connection is attempted."""
    if not allow_private:
        reason = refusal(url.host)
        if reason is not None:
            raise ClientDeliveryError(f"{UNREACHABLE}: {reason}")
    try:
        found = resolver(url.host, url.port)
    except OSError as error:
        raise ServerDeliveryError(f"cannot resolve {url.host}: {error}") from None
    if not found:
        raise ServerDeliveryError(f"{url.host} has no address")
    if not allow_private:
        for _, sockaddr in found:
            reason = refusal(str(sockaddr[0]))
            if reason is not None:
                raise ClientDeliveryError(f"{UNREACHABLE}: {url.host} resolves to {reason}")
    return found


def _request_bytes(url: _Url, body: bytes, headers: dict[str, str]) -> bytes:
    host = f"[{url.host}]" if ":" in url.host else url.host
    default = 443 if url.scheme == "https" else 80
    lines = [f"POST {url.target} HTTP/1.1",
             f"Host: {host}" if url.port == default else f"Host: {host}:{url.port}"]
    fields = dict(headers)
    if url.authorization is not None:
        fields["Authorization"] = url.authorization
    fields["Content-Length"] = str(len(body))
    fields["Connection"] = "close"
    for name, value in fields.items():
        if any(c in value for c in "\r\n\0") or any(c in name for c in "\r\n\0: "):
            raise ClientDeliveryError(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1", "replace") + body


def _read_status(sock: socket.socket, deadline: float) -> int:
    """Read the answer up to :data:`MAX_RESPONSE_BYTES`; return its final status code."""
    data = b""
    while True:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            status = _status_of(data[:end])
            if 100 <= status < 200:  # an interim answer: the final one follows
                data = data[end + 4:]
                continue
            _drain_body(sock, deadline, data[end + 4:], data[:end],
                        MAX_RESPONSE_BYTES - end - 4)
            return status
        if len(data) >= MAX_RESPONSE_BYTES:
            raise ServerDeliveryError(
                f"the answer's headers exceed {MAX_RESPONSE_BYTES} bytes")
        sock.settimeout(_remaining(deadline))
        chunk = sock.recv(MAX_RESPONSE_BYTES - len(data))
        if not chunk:
            if data.startswith(b"HTTP/") and b"\r\n" in data:
                return _status_of(data.split(b"\r\n", 1)[0])
            raise ServerDeliveryError("the connection closed without an answer")
        data += chunk


def _status_of(head: bytes) -> int:
    line = head.split(b"\r\n", 1)[0].split(None, 2)
    if len(line) < 2 or not line[0].startswith(b"HTTP/") or not line[1].isdigit() \
            or len(line[1]) != 3:
        raise ServerDeliveryError(f"not an HTTP answer: {head[:80]!r}")
    return int(line[1])


def _drain_body(sock: socket.socket, deadline: float, got: bytes, head: bytes,
                budget: int) -> None:
    """Read what is announced of the body, within the budget and the deadline; the status is
    already known, so a slow or endless body ends the reading, not the delivery."""
    wanted = budget
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            wanted = min(budget, int(value.strip()))
    left = wanted - len(got)
    try:
        while left > 0:
            sock.settimeout(_remaining(deadline))
            chunk = sock.recv(min(left, 16_384))
            if not chunk:
                return
            left -= len(chunk)
    except (OSError, TimeoutError):
        return


def post(url: str, body: str, headers: dict[str, str], *, allow_private: bool = False) -> int:
    """POST ``body`` to ``url`` within one :data:`HTTP_TIMEOUT` deadline; return the status.

    Raises:
        ServerDeliveryError: no answer came (unresolvable, refused, reset, timed out).
        ClientDeliveryError: the URL resolves to an address refused without
            ``allow_private_endpoints``.
    """
    deadline = time.monotonic() + HTTP_TIMEOUT
    try:
        parsed = parse_url(url, url.split(":", 1)[0])
    except InvalidParameter as error:
        raise ClientDeliveryError(error.message) from None
    addresses = _addresses(parsed, allow_private)
    payload = _request_bytes(parsed, body.encode("utf-8", "surrogatepass"), headers)
    sock = None
    try:
        errors = []
        for family, sockaddr in addresses:
            try:
                sock = connector(family, sockaddr, _remaining(deadline))
                break
            except OSError as error:
                errors.append(f"{sockaddr[0]}: {error}")
        if sock is None:
            raise ServerDeliveryError(f"POST {url} failed: {'; '.join(errors)}")
        if parsed.scheme == "https":
            sock = _tls(sock, parsed.host, deadline)
        view = memoryview(payload)
        while view:
            sock.settimeout(_remaining(deadline))
            sent = sock.send(view)
            view = view[sent:]
        return _read_status(sock, deadline)
    except TimeoutError:
        raise ServerDeliveryError(
            f"POST {url} failed: no answer within {HTTP_TIMEOUT:g} s") from None
    except OSError as error:
        raise ServerDeliveryError(f"POST {url} failed: {error}") from None
    finally:
        if sock is not None:
            sock.close()


def _tls(sock: socket.socket, host: str, deadline: float) -> socket.socket:
    import ssl

    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    context: ssl.SSLContext = _ssl_context
    wrapped = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    # One call, its total bounded by the timeout (the ssl module counts it as a deadline).
    wrapped.settimeout(_remaining(deadline))
    wrapped.do_handshake()
    return wrapped


# -- deliveries -----------------------------------------------------------------------------------


def _headers(sub: Subscription, kind: str, message_id: str, content_type: str) -> dict[str, str]:
    headers = {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": sub.topic.arn,
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
    }
    if kind != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = sub.arn
    return headers


def _deliver(sub: Subscription, n: Notification) -> None:
    """Deliver one notification (a worker thread; no lock held)."""
    policy = sub.effective_delivery_policy()
    headers = _headers(sub, "Notification", n.message_id, policy.content_type or "")
    if n.raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    status = post(sub.endpoint, n.body, headers,
                  allow_private=sub.topic.loop.allow_private_endpoints)
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise ServerDeliveryError(f"the endpoint answered HTTP {status}")
    raise ClientDeliveryError(f"the endpoint answered HTTP {status}")


def send_confirmation(sub: Subscription, kind: str, token: str, text: str) -> None:
    """POST a ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation`` (lock held; the POST
    runs on the worker pool, in the subscription's lane, once, without retries)."""
    topic = sub.topic
    message_id = topic.loop.new_id()
    body = confirmation_body(
        kind, message_id, token, topic.arn, text, topic._subscribe_url(token),
        iso_timestamp(topic.loop.clock.wall_ms()), topic._signing,
    )
    headers = _headers(sub, kind, message_id, "text/plain; charset=UTF-8")
    url = sub.endpoint
    allow_private = topic.loop.allow_private_endpoints

    def job() -> None:
        try:
            status = post(url, body, headers, allow_private=allow_private)
            if not 200 <= status < 300:
                _log.info("%s to %s answered HTTP %s", kind, url, status)
        except (ServerDeliveryError, ClientDeliveryError) as error:
            _log.info("%s to %s failed: %s", kind, url, error)
        finally:
            with topic._lock:
                topic._in_pool -= 1
                topic._job_done()

    topic._pending += 1
    topic._in_pool += 1
    WorkerPool.of(topic.loop).submit(job, lane=sub)


for _name in ("http", "https"):
    register_protocol(
        _name, _deliver, resolve=_resolve(_name), mode="pool", retry="managed", raw=True,
        confirmation=True, delivery_policy=True,
    )
