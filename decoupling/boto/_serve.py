"""The switch: botocore hooks that answer a client's calls from an :class:`~decoupling.EventLoop`.

How a call travels (botocore 1.3x-1.4x, ``BaseClient._make_api_call``):

1. ``provide-client-params`` / ``before-parameter-build``: our hook keeps the caller's parameters
   in the request context (they are the parameters botocore is about to validate);
2. botocore validates them against the service model (``ParamValidationError`` on a bad type or
   a missing required member), resolves the endpoint and serializes the request;
3. ``before-call``: our hook answers with ``(http_response, parsed_response)``, so no request is
   signed or sent. Success responses are built in their parsed form directly; error responses
   are rendered as the service's wire bytes and parsed by botocore's own parser for the
   service's protocol, so ``ClientError.response`` and the modeled exception classes are what
   botocore builds from the real service;
4. ``after-call``: botocore's own handlers run (for SQS, the query-compatibility handler that
   picks the modeled exception class), then botocore raises for a status >= 300.

Retries never happen here: botocore retries inside the HTTP send, which an answered call skips.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import threading
from collections.abc import Callable, Mapping
from email.utils import formatdate
from typing import Any

from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.client import BaseClient
from botocore.session import Session as BotocoreSession

from ..errors import DecouplingError
from ..loop import EventLoop
from ..sqs.large_payloads import _raw as _raw_payloads
from . import _errors
from ._reply import Reply

__all__ = [
    "serve", "attach", "detach", "Serving", "Reply", "served_loop", "SERVICES", "UnservedService",
]

#: Where the captured parameters wait in botocore's request context.
_PARAMS = "decoupling.params"
_UNIQUE = "decoupling-boto-bridge"
#: Credentials given to served clients created without explicit keys. No request is ever
#: signed, so they only keep botocore from searching the environment (and the instance
#: metadata service, which can take seconds to time out).
DUMMY_ACCESS_KEY = "decoupling"
DUMMY_SECRET_KEY = "decoupling"

Operation = Callable[[EventLoop, dict[str, Any]], Any]


def _services() -> dict[str, tuple[Mapping[str, Operation], str]]:
    """Served services: operation table and HTTP content type, by botocore service name."""
    table: dict[str, tuple[Mapping[str, Operation], str]] = {}
    for service, modules, content_type in (
        ("sqs", ("_sqs",), "application/x-amz-json-1.0"),
        ("sns", ("_sns",), "text/xml"),
        ("lambda", ("_lambda", "_esm"), "application/json"),
        ("s3", ("_s3",), "application/xml"),
        ("logs", ("_logs",), "application/x-amz-json-1.1"),
    ):
        operations: dict[str, Operation] = {}
        for module in modules:
            name = f"{__package__}.{module}"
            try:
                operations.update(importlib.import_module(name).OPERATIONS)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise
        if operations:
            table[service] = (operations, content_type)
    return table


SERVICES = _services()


class UnservedService(ValueError):
    """A client of a service the bridge does not serve was created inside :func:`serve`, or
    given to :func:`attach`. Raised before any connection is made: inside ``serve`` an
    unserved client would otherwise talk to the real AWS endpoint (with whatever credentials
    the environment holds). ``service`` is the botocore service name."""

    def __init__(self, service: str) -> None:
        self.service = service
        super().__init__(
            f"decoupling.boto does not serve {service!r} clients (it serves "
            f"{', '.join(sorted(SERVICES))}); inside serve() such a client would reach the real "
            f"AWS endpoint, so it is refused. Create it outside the serve() block to talk to "
            f"AWS on purpose."
        )


class _Response(AWSResponse):  # type: ignore[misc]
    """An answered call's ``AWSResponse``: no body, headers made case-insensitive on demand
    (only ``after-call`` hooks ever read them, and building them costs a few microseconds)."""

    def __init__(self, url: str, status_code: int, headers: dict[str, str]) -> None:
        self.url = url
        self.status_code = status_code
        self.raw = None
        self._content = b""
        self._plain_headers = headers
        self._headers: HeadersDict | None = None

    @property
    def headers(self) -> HeadersDict:
        if self._headers is None:
            self._headers = HeadersDict(self._plain_headers)
        return self._headers


class _Bridge:
    """One client's binding to a loop; its two bound methods are the botocore hooks."""

    __slots__ = ("loop", "service", "operations", "content_type", "url", "_date_cache")

    def __init__(self, loop: EventLoop, service: str, url: str) -> None:
        self.loop = loop
        self.service = service
        self.operations, self.content_type = SERVICES[service]
        self.url = url
        self._date_cache: tuple[int, str] = (-1, "")

    def capture(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """``before-parameter-build``: keep the caller's parameters for :meth:`respond`."""
        context[_PARAMS] = params

    def respond(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        """``before-call``: run the operation on the loop; return botocore's response pair."""
        params = context.pop(_PARAMS, None) or {}
        operation = self.operations.get(model.name)
        if operation is None:
            raise NotImplementedError(
                f"decoupling.boto does not serve {self.service}.{model.name}; served operations: "
                f"{', '.join(sorted(self.operations))}."
            )
        token = _raw_payloads.set(True)  # served calls see queues and topics as AWS does
        try:
            result = operation(self.loop, params)
        except DecouplingError as error:
            return _errors.render(self.service, model, error, self.loop.new_id(), self._date())
        finally:
            _raw_payloads.reset(token)
        if type(result) is dict:
            return self._success(result, model.http.get("responseCode", 200), None)
        assert isinstance(result, Reply)
        return self._success(result.body, result.status, result.headers)

    def _date(self) -> str:
        """The ``date`` header: the loop's wall clock, RFC 7231 (cached per second)."""
        second = int(self.loop.clock.wall())
        cached = self._date_cache
        if cached[0] != second:
            cached = (second, formatdate(second, usegmt=True))
            self._date_cache = cached
        return cached[1]

    def _success(
        self, body: dict[str, Any], status: int, extra: Mapping[str, str] | None
    ) -> tuple[AWSResponse, dict[str, Any]]:
        request_id = self.loop.new_id()
        if self.service == "s3":  # S3 names its request ids its own way
            return self._success_s3(body, status, extra, request_id)
        headers = {
            "x-amzn-requestid": request_id,
            "date": self._date(),
            "content-type": self.content_type,
        }
        if extra:
            headers.update((k.lower(), v) for k, v in extra.items())
            request_id = headers["x-amzn-requestid"]  # Lambda's Invoke: the invocation's id
        http = _Response(self.url, status, headers)
        body["ResponseMetadata"] = {
            "RequestId": request_id,
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        }
        return http, body

    def _success_s3(
        self, body: dict[str, Any], status: int, extra: Mapping[str, str] | None, request_id: str
    ) -> tuple[AWSResponse, dict[str, Any]]:
        request_id = request_id.replace("-", "")[-16:].upper()
        host_id = _errors.s3_host_id(request_id)
        headers = {
            "x-amz-id-2": host_id,
            "x-amz-request-id": request_id,
            "date": self._date(),
            "server": "AmazonS3",
        }
        if extra:
            headers.update(extra)
        http = _Response(self.url, status, headers)
        body["ResponseMetadata"] = {
            "RequestId": request_id,
            "HostId": host_id,
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        }
        return http, body


# -- attaching to one client ----------------------------------------------------------------


def attach(client: BaseClient, loop: EventLoop) -> BaseClient:
    """Make one existing boto3/botocore client talk to ``loop``; return the client.

    Works for ``sqs``, ``sns``, ``lambda`` and ``s3`` clients (whichever this version serves; see
    :data:`SERVICES`). Attaching again rebinds the client to the new loop. Every call still goes
    through botocore's parameter validation; no request is signed or sent.

    Raises:
        UnservedService: (a ``ValueError``) a client of a service the bridge does not serve;
            the client is left as it was.
    """
    service = client.meta.service_model.service_name
    if service not in SERVICES:
        raise UnservedService(service)
    detach(client)
    bridge = _Bridge(loop, service, client.meta.endpoint_url)
    events = client.meta.events
    service_id = client.meta.service_model.service_id.hyphenize()
    events.register(f"before-parameter-build.{service_id}", bridge.capture, unique_id=_UNIQUE + "-p")
    events.register(f"before-call.{service_id}", bridge.respond, unique_id=_UNIQUE + "-c")
    client._decoupling_bridge = bridge
    return client


def detach(client: BaseClient) -> BaseClient:
    """Undo :func:`attach`: the client talks to its real endpoint again. Returns the client."""
    bridge = getattr(client, "_decoupling_bridge", None)
    if bridge is not None:
        events = client.meta.events
        service_id = client.meta.service_model.service_id.hyphenize()
        events.unregister(f"before-parameter-build.{service_id}", unique_id=_UNIQUE + "-p")
        events.unregister(f"before-call.{service_id}", unique_id=_UNIQUE + "-c")
        del client._decoupling_bridge
    return client


def served_loop(client: BaseClient) -> EventLoop | None:
    """The loop a client is attached to, or ``None``."""
    bridge = getattr(client, "_decoupling_bridge", None)
    return bridge.loop if isinstance(bridge, _Bridge) else None


# -- serving every new client -----------------------------------------------------------------

_lock = threading.Lock()
_active: list[EventLoop] = []
_original_create_client: Callable[..., Any] | None = None
_signature = inspect.signature(BotocoreSession.create_client)


def _serving_create_client(self: BotocoreSession, *args: Any, **kwargs: Any) -> Any:
    """``botocore.session.Session.create_client`` while :func:`serve` is active."""
    original = _original_create_client
    assert original is not None
    loop = _active[-1] if _active else None
    bound = _signature.bind(self, *args, **kwargs)
    service = bound.arguments.get("service_name")
    if loop is None:
        return original(*bound.args, **bound.kwargs)
    if service not in SERVICES:
        raise UnservedService(str(service))
    arguments = bound.arguments
    config = arguments.get("config")
    if arguments.get("region_name") is None and getattr(config, "region_name", None) is None:
        arguments["region_name"] = loop.region
    access_key = arguments.get("aws_access_key_id")
    if access_key is None and arguments.get("aws_secret_access_key") is None:
        arguments["aws_access_key_id"] = DUMMY_ACCESS_KEY
        arguments["aws_secret_access_key"] = DUMMY_SECRET_KEY
        arguments["aws_session_token"] = None
    client = original(*bound.args, **bound.kwargs)
    return attach(client, _route(loop, self, client, access_key))


def _route(loop: EventLoop, session: BotocoreSession, client: BaseClient,
           access_key: object) -> EventLoop:
    """The loop of the client's region and account: ``loop`` or a sibling of it.

    The region is the client's (``region_name``, its ``Config``, else the loop's). The account
    is the served loop's, unless the client's access key id (explicit, or set on its session)
    is 12 digits: then that is the account id — our own convention, in the spirit of moto,
    which maps access keys to accounts (``moto.iam.models.get_account_id_from``).
    """
    if access_key is None:
        credentials = getattr(session, "_credentials", None)
        access_key = getattr(credentials, "access_key", None)
    account = loop.account_id
    if isinstance(access_key, str) and len(access_key) == 12 and access_key.isdigit():
        account = access_key
    region = client.meta.region_name or loop.region
    if region == loop.region and account == loop.account_id:
        return loop
    return loop.home._sibling(region, account)


class Serving(contextlib.ContextDecorator):
    """What :func:`serve` returns: a context manager (and decorator) for one loop.

    Entering it returns the loop. It can be entered again (as a decorator does on every call)
    and nested with other loops; the innermost active loop serves new clients.
    """

    def __init__(self, loop: EventLoop) -> None:
        if not isinstance(loop, EventLoop):
            raise TypeError(f"serve() needs an EventLoop, got {type(loop).__name__}")
        self.loop = loop

    def __enter__(self) -> EventLoop:
        global _original_create_client
        with _lock:
            if not _active:
                _original_create_client = BotocoreSession.create_client
                BotocoreSession.create_client = _serving_create_client
            _active.append(self.loop)
        return self.loop

    def __exit__(self, *exc: object) -> None:
        global _original_create_client
        with _lock:
            for index in range(len(_active) - 1, -1, -1):
                if _active[index] is self.loop:
                    del _active[index]
                    break
            if not _active and _original_create_client is not None:
                BotocoreSession.create_client = _original_create_client
                _original_create_client = None


def serve(loop: EventLoop) -> Serving:
    """Serve every ``sqs``/``sns``/``lambda``/``s3`` client created inside the block from ``loop``.

    Use it as a context manager or a decorator::

        with decoupling.boto.serve(loop):
            sqs = boto3.client("sqs")          # no region, no credentials needed
            url = sqs.create_queue(QueueName="orders")["QueueUrl"]

        @decoupling.boto.serve(loop)
        def test_orders(): ...

    Clients made through ``boto3.client``, ``boto3.resource``, any ``boto3.Session`` or
    ``botocore.session.Session.create_client`` are attached to the loop as they are created
    (see :func:`attach`). Creating a client of any other service inside the block raises
    :class:`UnservedService` at once, before botocore builds it (so before any connection):
    it would otherwise reach the real AWS endpoint. A client created without a
    region gets the loop's region, and one created without explicit keys gets dummy credentials,
    so no AWS configuration is read. A client of another region is attached to the loop's
    sibling in that region (:meth:`~decoupling.EventLoop.in_region`: its own resources, ARNs
    and URLs, the same clock), and a client whose access key id is 12 digits to the sibling of
    that account (:meth:`~decoupling.EventLoop.in_account`). A served client stays attached after the block ends (it
    never silently switches to real AWS); clients created before the block are not touched.

    The switch is process-wide (it patches ``botocore.session.Session.create_client`` while
    any ``serve`` block is active), so clients created by other threads meanwhile are served
    too (and clients of other services refused).
    """
    return Serving(loop)
