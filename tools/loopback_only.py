"""pytest plugin: let the process reach loopback addresses only.

``tools/moto_suite.py`` loads it (``-p loopback_only``) in both of its runs. moto's tests
subscribe endpoints such as ``http://example.com/``; through the bridge an SNS topic delivers to
HTTP endpoints for real, and nothing in a test run may leave the machine. So name lookups of
anything but ``localhost`` and loopback literals fail (``socket.gaierror``), and so does a TCP/UDP
connect to a non-loopback address (``ConnectionRefusedError``): a delivery to such an endpoint
fails as one to an unreachable host does.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name, an address literal or ``None``) stays on this machine."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refused(host: object) -> str:
    return f"loopback_only: {host!r} is not a loopback address; the moto suite stays local"


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, _refused(host))
    return _getaddrinfo(host, *args, **kwargs)


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        raise ConnectionRefusedError(_refused(address[0]))


def connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _connect(self, address)


def connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect  # type: ignore[method-assign]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
