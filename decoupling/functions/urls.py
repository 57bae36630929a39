"""Function URLs: a function (or an alias) answering real HTTP requests on the loopback
interface (CreateFunctionUrlConfig; Lambda Developer Guide, "Lambda function URLs").

The first URL a runtime creates starts one stdlib HTTP server on ``127.0.0.1`` (a free port),
serving every URL of the runtime; :meth:`~decoupling.FunctionRuntime.close` stops it. A URL is::

    http://127.0.0.1:<port>/<url-id>/

and a request to ``http://127.0.0.1:<port>/<url-id>/orders?id=1`` invokes the function with
path ``/orders``. A request whose ``Host`` header is AWS's form of the URL,
``<url-id>.lambda-url.<region>.on.aws``, is routed by it instead (the whole path is the
function's). :attr:`FunctionUrl.aws_url` is that AWS form.

Requests and responses use Lambda's payload format 2.0 ("Invoking Lambda function URLs"):
the event carries ``version``, ``routeKey`` (``$default``), ``rawPath``, ``rawQueryString``,
``cookies``, ``headers`` (lower-cased, repeated values joined by commas),
``queryStringParameters``, ``requestContext`` (``accountId``, ``apiId``, ``domainName``,
``domainPrefix``, ``http`` with ``method``, ``path``, ``protocol``, ``sourceIp``,
``userAgent``, ``requestId``, ``routeKey``, ``stage``, ``time``, ``timeEpoch``), ``body``
(base64 with ``isBase64Encoded`` for a body that is not text) and ``isBase64Encoded``. A
handler's result with a ``statusCode`` is the response (``headers``, ``cookies``, ``body``,
``isBase64Encoded``); any other JSON result is a 200 ``application/json`` response with it as
the body. A function error or timeout answers 502 ``Internal Server Error``; throttling 429.

``AuthType`` ``NONE`` lets any request in; ``AWS_IAM`` refuses (403 ``{"Message":
"Forbidden"}``) a request without a SigV4 ``Authorization`` header (``AWS4-HMAC-SHA256
Credential=...``). The signature itself is not verified: decoupling has no credentials to
check it against. ``Cors`` settings answer preflight ``OPTIONS`` requests and add the
``Access-Control-*`` headers to responses.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import urllib.parse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ..errors import (
    DecouplingError,
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .function import Function
    from .invocation import InvocationResult

__all__ = ["FunctionUrl", "AUTH_TYPES"]

AUTH_TYPES: Final = ("NONE", "AWS_IAM")
INVOKE_MODES: Final = ("BUFFERED", "RESPONSE_STREAM")
_CORS_KEYS: Final = ("AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins",
                     "ExposeHeaders", "MaxAge")
_SIGV4: Final = re.compile(r"AWS4-HMAC-SHA256\s+Credential=\S+")
_TEXT_TYPES: Final = ("text/", "application/json", "application/xml", "application/javascript",
                      "application/x-www-form-urlencoded")


def _aws_time(epoch: float) -> str:
    when = datetime.fromtimestamp(epoch, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FunctionUrl:
    """A function URL (CreateFunctionUrlConfig).

    Attributes:
        function_name: its function; qualifier: ``None`` or an alias name.
        function_arn: the function's ARN (with ``:<alias>`` for an alias).
        url_id: 32 lower-case letters and digits.
        url: ``http://127.0.0.1:<port>/<url-id>/`` — what answers HTTP.
        aws_url: ``https://<url-id>.lambda-url.<region>.on.aws/``.
        auth_type: ``"NONE"`` or ``"AWS_IAM"``.
        cors: the ``Cors`` settings (keys as the API spells them), or ``None``.
        invoke_mode: ``"BUFFERED"`` (``"RESPONSE_STREAM"`` is answered buffered too).
        created, last_modified: ISO-8601 times of the loop's wall clock.
    """

    def __init__(self, fn: Function, qualifier: str | None, url_id: str, port: int,
                 auth_type: str, cors: dict[str, Any] | None, invoke_mode: str) -> None:
        loop = fn.runtime.loop
        self.function_name = fn.name
        self.qualifier = qualifier
        self.function_arn = fn.arn if qualifier is None else f"{fn.arn}:{qualifier}"
        self.url_id = url_id
        self.url = f"http://127.0.0.1:{port}/{url_id}/"
        self.domain = f"{url_id}.lambda-url.{loop.region}.on.aws"
        self.aws_url = f"https://{self.domain}/"
        self.auth_type = auth_type
        self.cors = cors
        self.invoke_mode = invoke_mode
        self.created = self.last_modified = _aws_time(loop.clock.wall())

    def __repr__(self) -> str:
        return f"FunctionUrl({self.url!r}, {self.function_arn!r}, auth_type={self.auth_type!r})"


def _check(auth_type: object, cors: object, invoke_mode: object) -> None:
    if auth_type not in AUTH_TYPES:
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{auth_type}' at 'authType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [NONE, AWS_IAM]")
    if invoke_mode not in INVOKE_MODES:
        raise InvalidParameterValueException(
            f"InvokeMode must be BUFFERED or RESPONSE_STREAM, got {invoke_mode!r}.")
    if cors is not None and (not isinstance(cors, dict) or set(cors) - set(_CORS_KEYS)):
        raise InvalidParameterValueException(
            f"Cors takes {', '.join(_CORS_KEYS)}, got {cors!r}.")
    for key, value in (cors or {}).items():
        if key == "AllowCredentials":
            good = isinstance(value, bool)
        elif key == "MaxAge":
            good = not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= 86400
        else:
            good = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not good:
            raise InvalidParameterValueException(f"Cors {key} is invalid: {value!r}.")


class _Urls:
    """Mixin of :class:`~decoupling.FunctionRuntime`: function URLs and their HTTP server.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    _lock: Any
    _urls: dict[tuple[str, str | None], FunctionUrl]
    _url_ids: dict[str, FunctionUrl]
    _url_server: _UrlServer | None

    if TYPE_CHECKING:

        def get_function(self, name: str) -> Function: ...

        def invoke(self, function_name: str, payload: Any = None,
                   invocation_type: str = "RequestResponse", *, tenant_id: str | None = None,
                   log_type: str = "None", qualifier: str | None = None) -> InvocationResult: ...

    def _url_key(self, name: str, qualifier: str | None) -> tuple[Function, str | None]:
        from .versions import check_qualifier

        check_qualifier(qualifier)
        fn = self.get_function(name)
        if qualifier in (None, "$LATEST"):
            return fn, None
        if qualifier not in fn.aliases:
            raise ResourceNotFoundException(f"Function not found: {fn.arn}:{qualifier}")
        return fn, qualifier

    def create_function_url(self, name: str, *, qualifier: str | None = None,
                            auth_type: str = "NONE", cors: dict[str, Any] | None = None,
                            invoke_mode: str = "BUFFERED") -> FunctionUrl:
        """Give a function (or one of its aliases) a URL; starts the HTTP server on first use.

        Raises:
            ResourceNotFoundException (no such function or alias), ResourceConflictException
            (it has a URL), InvalidParameterValueException (bad auth type, CORS, mode).
        """
        _check(auth_type, cors, invoke_mode)
        with self._lock:
            fn, qualifier = self._url_key(name, qualifier)
            if (fn.name, qualifier) in self._urls:
                raise ResourceConflictException(
                    f"Failed to create function url config for [functionArn = "
                    f"{fn.arn if qualifier is None else f'{fn.arn}:{qualifier}'}]. Error message:"
                    "  FunctionUrlConfig exists for this Lambda function")
            if self._url_server is None:
                self._url_server = _UrlServer(self)
            url_id = self.loop.new_id().replace("-", "")
            url = FunctionUrl(fn, qualifier, url_id, self._url_server.port, auth_type,
                              dict(cors) if cors is not None else None, invoke_mode)
            self._urls[(fn.name, qualifier)] = url
            self._url_ids[url_id] = url
            return url

    def get_function_url(self, name: str, *, qualifier: str | None = None) -> FunctionUrl:
        """A function's URL (GetFunctionUrlConfig). Raises ResourceNotFoundException."""
        with self._lock:
            fn, qualifier = self._url_key(name, qualifier)
            url = self._urls.get((fn.name, qualifier))
            if url is None:
                raise ResourceNotFoundException("The resource you requested does not exist.")
            return url

    def update_function_url(self, name: str, *, qualifier: str | None = None,
                            auth_type: str | None = None, cors: dict[str, Any] | None = None,
                            invoke_mode: str | None = None) -> FunctionUrl:
        """Change a URL's settings (UpdateFunctionUrlConfig); what is not given is kept."""
        with self._lock:
            url = self.get_function_url(name, qualifier=qualifier)
            new_auth = url.auth_type if auth_type is None else auth_type
            new_mode = url.invoke_mode if invoke_mode is None else invoke_mode
            _check(new_auth, cors, new_mode)
            new_cors = url.cors if cors is None else dict(cors)
            url.auth_type, url.cors, url.invoke_mode = new_auth, new_cors, new_mode
            url.last_modified = _aws_time(self.loop.clock.wall())
            return url

    def delete_function_url(self, name: str, *, qualifier: str | None = None) -> None:
        """Remove a URL (DeleteFunctionUrlConfig); requests to it then get 403."""
        with self._lock:
            url = self.get_function_url(name, qualifier=qualifier)
            del self._urls[(url.function_name, url.qualifier)]
            del self._url_ids[url.url_id]

    def list_function_urls(self, name: str) -> list[FunctionUrl]:
        """A function's URLs (ListFunctionUrlConfigs), ``$LATEST``'s first."""
        with self._lock:
            fn = self.get_function(name)
            return [u for (n, _), u in sorted(self._urls.items(),
                                              key=lambda kv: (kv[0][0], kv[0][1] or ""))
                    if n == fn.name]

    def _forget_urls(self, name: str) -> None:
        for key in [k for k in self._urls if k[0] == name]:
            self._url_ids.pop(self._urls.pop(key).url_id, None)

    def _stop_url_server(self) -> None:
        server, self._url_server = self._url_server, None
        if server is not None:
            server.stop()


class _UrlServer:
    """The runtime's HTTP server: one thread serving every function URL on 127.0.0.1."""

    def __init__(self, runtime: _Urls) -> None:
        from http.server import ThreadingHTTPServer  # imported on first URL only

        self.runtime = runtime
        handler = type("_Handler", (_handler_class(),), {"urls": runtime})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.timeout = 0  # handle_request() after select: never wait a second time
        self.port = self.httpd.server_address[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self.thread = threading.Thread(target=self._serve, name="decoupling-urls", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        """Serve until :meth:`stop`: the thread sleeps in one ``select`` on the listening socket
        and a wake-up socket (``serve_forever`` would wake every 0.5 s to look for a shutdown,
        and make ``stop`` wait up to that long)."""
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.httpd, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                self.httpd.handle_request()

    def stop(self) -> None:
        self._wake_w.send(b"\0")
        self.thread.join(timeout=5)
        self.httpd.server_close()
        self._wake_r.close()
        self._wake_w.close()


def _handler_class() -> type[Any]:
    """The request handler class (``http.server`` is imported here, on first use)."""
    from http.server import BaseHTTPRequestHandler

    class _Handler(BaseHTTPRequestHandler):
        urls: _Urls
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass  # no stderr noise per request

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                   cookies: list[str] | None = None) -> None:
            self.send_response(status)
            sent = {k.lower() for k in (headers or {})}
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            for cookie in cookies or ():
                self.send_header("Set-Cookie", cookie)
            if "content-type" not in sent and body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", self.urls.loop.new_id())
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _find(self) -> tuple[FunctionUrl | None, str]:
            parsed = urllib.parse.urlsplit(self.path)
            host = (self.headers.get("Host") or "").split(":")[0]
            with self.urls._lock:
                if host.endswith(".on.aws"):
                    return self.urls._url_ids.get(host.split(".")[0]), parsed.path or "/"
                segments = parsed.path.split("/", 2)
                url = self.urls._url_ids.get(segments[1]) if len(segments) > 1 else None
                return url, "/" + (segments[2] if len(segments) > 2 else "")

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url, path = self._find()
            if url is None:
                self._reply(403, b'{"Message":"Forbidden"}')
                return
            cors = _cors_headers(url, self.headers.get("Origin"))
            if self.command == "OPTIONS" and url.cors is not None:
                self._reply(200, b"", cors)
                return
            if url.auth_type == "AWS_IAM" and not _SIGV4.match(self.headers.get("Authorization", "")):
                self._reply(403, b'{"Message":"Forbidden"}')
                return
            event = self._event(url, path, body)
            try:
                result = self.urls.invoke(url.function_name, event, qualifier=url.qualifier)
            except DecouplingError as error:
                status = 429 if error.code == "TooManyRequestsException" else 502
                self._reply(status, json.dumps({"Message": error.message}).encode(), cors)
                return
            if result.function_error:
                self._reply(502, b"Internal Server Error", {"Content-Type": "text/plain", **cors})
                return
            self._respond(result.payload, cors)

        def _event(self, url: FunctionUrl, path: str, body: bytes) -> dict[str, Any]:
            loop = self.urls.loop
            query = urllib.parse.urlsplit(self.path).query
            headers: dict[str, str] = {}
            for key, value in self.headers.items():
                key = key.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
            params: dict[str, str] = {}
            for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
                params[key] = f"{params[key]},{value}" if key in params else value
            content_type = headers.get("content-type", "")
            text = not body or content_type.startswith(_TEXT_TYPES)
            wall = loop.clock.wall()
            event: dict[str, Any] = {
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": path,
                "rawQueryString": query,
                "headers": headers,
                "requestContext": {
                    "accountId": "anonymous" if url.auth_type == "NONE" else loop.account_id,
                    "apiId": url.url_id,
                    "domainName": url.domain,
                    "domainPrefix": url.url_id,
                    "http": {"method": self.command, "path": path, "protocol": self.request_version,
                             "sourceIp": self.client_address[0],
                             "userAgent": headers.get("user-agent", "")},
                    "requestId": loop.new_id(),
                    "routeKey": "$default",
                    "stage": "$default",
                    "time": datetime.fromtimestamp(wall, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                    "timeEpoch": int(wall * 1000),
                },
                "isBase64Encoded": not text,
            }
            if cookies:
                event["cookies"] = cookies
            if params:
                event["queryStringParameters"] = params
            if body:
                event["body"] = body.decode("utf-8", "replace") if text else \
                    base64.b64encode(body).decode()
            return event

        def _respond(self, value: Any, cors: dict[str, str]) -> None:
            if isinstance(value, dict) and "statusCode" in value:
                raw = value.get("body", "")
                if not isinstance(raw, str):
                    raw = json.dumps(raw)
                data = base64.b64decode(raw) if value.get("isBase64Encoded") else raw.encode()
                headers = {str(k): str(v) for k, v in (value.get("headers") or {}).items()}
                self._reply(int(value["statusCode"]), data, {**headers, **cors},
                            [str(c) for c in value.get("cookies") or ()])
                return
            self._reply(200, json.dumps(value).encode(),
                        {"Content-Type": "application/json", **cors})

    return _Handler


def _cors_headers(url: FunctionUrl, origin: str | None) -> dict[str, str]:
    cors = url.cors
    if not cors or origin is None:
        return {}
    origins = cors.get("AllowOrigins") or []
    if "*" not in origins and origin not in origins:
        return {}
    out = {"Access-Control-Allow-Origin": "*" if "*" in origins else origin}
    if cors.get("AllowMethods"):
        out["Access-Control-Allow-Methods"] = ",".join(cors["AllowMethods"])
    if cors.get("AllowHeaders"):
        out["Access-Control-Allow-Headers"] = ",".join(cors["AllowHeaders"])
    if cors.get("ExposeHeaders"):
        out["Access-Control-Expose-Headers"] = ",".join(cors["ExposeHeaders"])
    if cors.get("AllowCredentials"):
        out["Access-Control-Allow-Credentials"] = "true"
    if cors.get("MaxAge") is not None:
        out["Access-Control-Max-Age"] = str(cors["MaxAge"])
    return out
