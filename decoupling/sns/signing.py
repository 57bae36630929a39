"""SNS message signatures: a key pair and certificate per loop, served over loopback HTTP.

SNS signs every ``Notification``, ``SubscriptionConfirmation`` and ``UnsubscribeConfirmation``
it writes to an endpoint or queue, so subscribers can check that a message came from SNS
(SNS Developer Guide, "Verifying the signatures of Amazon SNS messages",
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):

* the string signed is ``name\\nvalue\\n`` for each field, in this order: for a
  ``Notification`` ``Message``, ``MessageId``, ``Subject`` (only if the message has one),
  ``Timestamp``, ``TopicArn``, ``Type``; for the confirmations ``Message``, ``MessageId``,
  ``SubscribeURL``, ``Timestamp``, ``Token``, ``TopicArn``, ``Type``;
* ``SignatureVersion`` ``"1"`` signs it with SHA1withRSA, ``"2"`` with SHA256withRSA
  (RSASSA-PKCS1-v1_5), as the topic attribute ``SignatureVersion`` says (default ``"1"``);
* ``Signature`` is the base64 of the signature; ``SigningCertURL`` is where the X.509
  certificate holding the public key can be downloaded (PEM).

Here each loop (with its region and account siblings) has its own RSA-2048 key and a
self-signed certificate: the key is made on the first signature the loop needs (a few tens of
milliseconds, once), the certificate on its first download. It is served at
``SigningCertURL`` — ``http://127.0.0.1:<port>/SimpleNotificationService-<32 hex>.pem`` — by
one small HTTP server per process (stdlib :mod:`socketserver`), started on 127.0.0.1 (an
ephemeral port) on the first signature and shared by every loop: one daemon thread in all,
blocked between requests, rather than a server and thread per loop. Each certificate stays
reachable while its loop exists (the server holds loops' signers weakly), so a URL written
into a message keeps working after ``loop.stop()`` and a later ``start()``. Subscriber code that verifies SNS signatures verifies ours once
it is configured to trust that URL (real SNS certificates come from
``https://sns.<region>.amazonaws.com/``, which such code usually insists on).

What is signed is the loop's choice, ``EventLoop(sns_signatures=...)``, because an RSA
signature costs about a millisecond while an in-process fan-out to a queue costs microseconds:

* ``"endpoints"`` (the default): what leaves the process — confirmations, ``http``/``https``
  and ``email-json`` notifications — is signed; envelopes written into SQS queues, Lambda
  events and ``application`` callables carry ``Signature`` :data:`UNSIGNED_IN_PROCESS`;
* ``"all"``: every envelope, as SNS does (about a thousand publishes a second per core to
  enveloped queue subscriptions, instead of tens of thousands);
* ``"none"``: nothing (:data:`UNSIGNED_BY_CHOICE`), no key is ever made.

An unsigned envelope keeps every field, its ``SigningCertURL`` naming a certificate that does not
exist; its ``Signature``, starting ``UNSIGNED``, is not base64, so any verifier rejects it.

Signing needs the optional ``cryptography`` package (``pip install 'decoupling[signing]'``).
Without it nothing is signed: the envelopes keep their fields, with ``Signature`` set to
:data:`UNSIGNED` (a plain marker, not base64, so any verifier rejects it) and
``SigningCertURL`` naming a certificate that does not exist, and the ``decoupling`` logger warns
once per process. Costs: one RSA signature (about a millisecond) per published message and
protocol that has a signed enveloped subscription (every such subscription of that publish
shares it), one per confirmation message; raw deliveries and FIFO topics (whose envelopes carry
no signature, as AWS writes them) sign nothing.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..loop import EventLoop

__all__ = ["UNSIGNED", "Signer", "Signing", "signer_of"]

_log = logging.getLogger("decoupling")

#: ``Signature`` of every envelope when ``cryptography`` is not installed.
UNSIGNED = "UNSIGNED (install 'decoupling[signing]' to sign SNS messages)"
#: ``Signature`` of queue, function and callable deliveries under
#: ``EventLoop(sns_signatures="endpoints")`` (the default).
UNSIGNED_IN_PROCESS = ("UNSIGNED (EventLoop(sns_signatures='all') signs deliveries to queues, "
                       "functions and callables)")
#: ``Signature`` of every envelope under ``EventLoop(sns_signatures="none")``.
UNSIGNED_BY_CHOICE = "UNSIGNED (EventLoop(sns_signatures='none'))"

#: What ``EventLoop(sns_signatures=...)`` takes.
MODES = ("endpoints", "all", "none")
#: The protocols ``"endpoints"`` signs: the ones that leave the process.
ENDPOINT_PROTOCOLS = frozenset({"http", "https", "email-json"})

#: RSA key size (bits); SNS's signing certificates carry 2048-bit keys.
KEY_BITS = 2048

_warned = False


def available() -> bool:
    """Whether ``cryptography`` is installed (checked each call; cheap)."""
    return importlib.util.find_spec("cryptography") is not None


class _CertServer:
    """The process's certificate server: path -> signer, for every live signer.

    A minimal HTTP/1.0 responder on :mod:`socketserver` (``http.server`` would load ``email``
    and the HTTP client's modules into every program that publishes): ``GET <path>`` answers
    the signer's certificate (built on the first request), anything else 404/405.
    """

    def __init__(self) -> None:
        import socketserver

        self.signers: weakref.WeakValueDictionary[str, Signer] = weakref.WeakValueDictionary()
        signers = self.signers

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10.0

            def handle(self) -> None:
                request = self.rfile.readline(8192).decode("latin-1").split()
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # headers: none matter
                if len(request) < 2 or request[0] not in ("GET", "HEAD"):
                    self._answer(405, "Method Not Allowed", b"")
                    return
                signer = signers.get(request[1].partition("?")[0])
                if signer is None:
                    self._answer(404, "Not Found", b"")
                    return
                pem = signer._certificate()
                self._answer(200, "OK", pem if request[0] == "GET" else b"", len(pem))

            def _answer(self, status: int, reason: str, body: bytes, length: int = 0) -> None:
                head = (f"HTTP/1.0 {status} {reason}\r\nServer: decoupling\r\n"
                        f"Content-Type: application/x-pem-file\r\n"
                        f"Content-Length: {length or len(body)}\r\nConnection: close\r\n\r\n")
                self.wfile.write(head.encode("latin-1") + body)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self._serve, name="decoupling-sns-certs",
                                       daemon=True)
        self.thread.start()


    def _serve(self) -> None:
        # Each request is awaited in one blocking select (the server lives as long as the
        # process): serve_forever would wake every 0.5 s to look for a shutdown nobody asks.
        while True:
            self.server.handle_request()


_server: _CertServer | None = None
_server_lock = threading.Lock()


def _cert_server() -> _CertServer:
    global _server
    with _server_lock:
        if _server is None:
            _server = _CertServer()
        return _server


class Signer:
    """One loop family's signing key and certificate (both made on first use).

    Attributes:
        region: the home region (written into the unsigned marker URL).
        mode: the loop's ``sns_signatures``: ``"endpoints"``, ``"all"`` or ``"none"``.
    """

    def __init__(self, region: str, mode: str = "endpoints") -> None:
        self.region = region
        self.mode = mode
        self._lock = threading.Lock()
        self._key: Any = None
        self._pem: bytes | None = None
        self._url: str | None = None
        self._unsigned = False
        self._unsigned_url = (
            f"https://sns.{region}.amazonaws.com/SimpleNotificationService-"
            f"{hashlib.md5(region.encode(), usedforsecurity=False).hexdigest()}.pem"
        )

    def _ready(self) -> bool:
        """Make the key and URL if not yet made; ``False`` without the extra."""
        if self._url is not None:
            return True
        if self._unsigned or not available():
            self._unsigned = True
            global _warned
            if not _warned:
                _warned = True
                _log.warning(
                    "SNS messages are not signed: their Signature is %r. Install the "
                    "'cryptography' package (pip install 'decoupling[signing]') to sign them.",
                    UNSIGNED,
                )
            return False
        with self._lock:
            if self._url is None:
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.asymmetric import rsa

                key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
                public = key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                path = f"/SimpleNotificationService-{hashlib.sha256(public).hexdigest()[:32]}.pem"
                server = _cert_server()
                self._key = key
                server.signers[path] = self
                self._url = f"http://127.0.0.1:{server.port}{path}"
        return True

    def _certificate(self) -> bytes:
        """The certificate (PEM), made on first use (key ready)."""
        with self._lock:
            if self._pem is None:
                self._pem = _self_signed(self._key, self.region)
            return self._pem

    @property
    def cert_url(self) -> str:
        """``SigningCertURL``: where the certificate is served (starts the server on first use)."""
        return self._url if self._ready() else self._unsigned_url  # type: ignore[return-value]

    @property
    def certificate_pem(self) -> bytes | None:
        """The certificate (PEM), or ``None`` without ``cryptography``."""
        return self._certificate() if self._ready() else None

    def signs(self, protocol: str | None) -> bool:
        """Whether envelopes for ``protocol`` (``None``: a subscription confirmation) are
        signed under this loop's mode."""
        mode = self.mode
        if mode == "endpoints":
            return protocol is None or protocol in ENDPOINT_PROTOCOLS
        return mode == "all"

    def cert_url_for(self, protocol: str | None) -> str:
        """``SigningCertURL`` of an envelope for ``protocol``: the served certificate when it
        is signed, else a URL in SNS's form that names no certificate."""
        return self.cert_url if self.signs(protocol) else self._unsigned_url

    def sign(self, canonical: str, version: str, protocol: str | None = None) -> str:
        """``Signature`` of the canonical string for an envelope of ``protocol`` (``None``: a
        confirmation): base64 of SHA1withRSA (version ``"1"``) or SHA256withRSA (``"2"``);
        a marker starting ``UNSIGNED`` when the mode does not sign it
        (:data:`UNSIGNED_IN_PROCESS`, :data:`UNSIGNED_BY_CHOICE`) or without ``cryptography``
        (:data:`UNSIGNED`)."""
        if not self.signs(protocol):
            return UNSIGNED_BY_CHOICE if self.mode == "none" else UNSIGNED_IN_PROCESS
        if not self._ready():
            return UNSIGNED
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        data = canonical.encode("utf-8", "surrogatepass")
        return base64.b64encode(self._key.sign(data, padding.PKCS1v15(), algorithm)).decode()


class Signing:
    """A topic's signing settings: the loop's :class:`Signer` and the topic's
    ``SignatureVersion`` (``"1"`` or ``"2"``). Immutable: a new one replaces it on change."""

    __slots__ = ("signer", "version")

    def __init__(self, signer: Signer, version: str = "1") -> None:
        self.signer = signer
        self.version = version

    @property
    def cert_url(self) -> str:
        """``SigningCertURL`` of a confirmation message."""
        return self.signer.cert_url_for(None)

    def cert_url_for(self, protocol: str | None) -> str:
        """``SigningCertURL`` of an envelope for ``protocol``."""
        return self.signer.cert_url_for(protocol)

    def sign(self, canonical: str, protocol: str | None = None) -> str:
        """``Signature`` over ``canonical`` with this version's algorithm, for an envelope of
        ``protocol`` (``None``: a confirmation)."""
        return self.signer.sign(canonical, self.version, protocol)


def signer_of(loop: EventLoop) -> Signer:
    """The loop family's signer (one per home loop, shared by its region/account siblings;
    made on first call, key and certificate later still)."""
    home = loop._home
    with home._lock:
        signer = home._lookup("_sns", "signer")
        if signer is None:
            signer = Signer(home.region, home.sns_signatures)
            home._register("_sns", "signer", signer)
        assert isinstance(signer, Signer)
        return signer


def _self_signed(key: Any, region: str) -> bytes:
    """A self-signed X.509 certificate (PEM) for ``key``, named like SNS's host, valid from a
    day ago for ten years (real time: certificate checks use the real clock)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "decoupling"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"sns.{region}.amazonaws.com"),
    ])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem: bytes = cert.public_bytes(serialization.Encoding.PEM)
    return pem
