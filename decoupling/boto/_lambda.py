"""Lambda operations for the boto3 bridge, on a :class:`~decoupling.FunctionRuntime`.

Shapes follow botocore's Lambda service model (``botocore/data/lambda/2015-03-31/service-2.json``,
REST JSON). Each loop gets one runtime for the functions created through boto3: the runtime of
functions already registered on the loop, one given to :func:`use_runtime`, or a new
``FunctionRuntime(loop)``.

Code for ``CreateFunction``:

* ``Code={"ZipFile": <zip archive>}`` with ``Handler="module.function"``: the archive is unpacked
  into a private directory and the handler is imported from it per execution environment (the
  directory is also put on ``sys.path``, as Lambda's ``/var/task`` is, so the code's own
  modules import). At most 262,144,000 bytes unzipped, as Lambda's quota ("Lambda quotas":
  250 MB unzipped deployment package), refused with Lambda's own message before anything is
  written. ``DeleteFunction`` (and a failed ``CreateFunction``) removes the directory, its
  ``sys.path`` entry and the modules imported from it;
* ``Code=inline_code(callable)``: a Python callable, in-process;
* any other ``ZipFile`` bytes with an importable ``Handler`` (``"app.orders.handler"``): the
  handler is imported from ``sys.path``.

What AWS reports but the runtime has no notion of (role, runtime name, code hash and size,
revision id, tags) is kept beside each function here.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import itertools
import shutil
import sys
import tempfile
import threading
import types
import weakref
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.response import StreamingBody
from botocore.utils import parse_timestamp

from ..errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from ..functions.runtime import Function, FunctionRuntime, _validate_function
from ..loop import EventLoop
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS", "inline_code", "use_runtime", "runtime_for"]

_INLINE_PREFIX = b"decoupling-inline:"
_inline: dict[bytes, Callable[..., Any]] = {}
_inline_ids = itertools.count(1)
_code_ids = itertools.count(1)
_runtimes: weakref.WeakKeyDictionary[EventLoop, FunctionRuntime] = weakref.WeakKeyDictionary()
_meta: weakref.WeakKeyDictionary[Function, _Meta] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_code_root: str | None = None


def inline_code(handler: Callable[..., Any]) -> dict[str, bytes]:
    """A ``Code`` value for ``CreateFunction`` that carries a Python callable::

        lam.create_function(FunctionName="ship", Role=role, Runtime="python3.12",
                            Handler="app.ship", Code=decoupling.boto.inline_code(ship))
    """
    if not callable(handler):
        raise TypeError(f"inline_code needs a callable, got {type(handler).__name__}")
    token = _INLINE_PREFIX + str(next(_inline_ids)).encode()
    _inline[token] = handler
    return {"ZipFile": token}


def use_runtime(loop: EventLoop, runtime: FunctionRuntime) -> None:
    """Serve ``loop``'s Lambda calls from ``runtime`` (instead of a runtime of its own)."""
    if runtime.loop is not loop:
        raise ValueError("the runtime runs on another loop")
    _runtimes[loop] = runtime


def runtime_for(loop: EventLoop) -> FunctionRuntime:
    """The runtime that serves ``loop``'s Lambda calls (created on first use)."""
    with _lock:
        runtime = _runtimes.get(loop)
        if runtime is None:
            existing = loop._resources_of("lambda")
            runtime = existing[0].runtime if existing else FunctionRuntime(loop)
            _runtimes[loop] = runtime
        return runtime


class _Meta:
    """What AWS reports about a function beyond the runtime's configuration."""

    def __init__(self, loop: EventLoop, fn: Function, *, runtime: str = "python3.11",
                 role: str | None = None, handler: str | None = None, code: bytes = b"",
                 tags: dict[str, str] | None = None, dead_letter_arn: str | None = None) -> None:
        self.runtime = runtime
        self.role = role or f"arn:aws:iam::{loop.account_id}:role/decoupling"
        self.handler = handler or fn.handler_name
        self.code_sha256 = base64.b64encode(hashlib.sha256(code).digest()).decode()
        self.code_size = len(code)
        self.tags = tags or {}
        self.dead_letter_arn = dead_letter_arn
        self.revision = loop.new_id()
        self.last_modified = _aws_time(loop.clock.wall())
        self.event_invoke: dict[str, Any] | None = None
        #: For handler-string functions, what goes before ``Handler`` in the runtime's handler
        #: (the private package of unpacked code, or ""); ``None`` for callables.
        self.handler_prefix: str | None = "" if isinstance(fn.handler, str) else None


def _meta_of(loop: EventLoop, fn: Function) -> _Meta:
    meta = _meta.get(fn)
    if meta is None:
        meta = _meta[fn] = _Meta(loop, fn)
    return meta


def _aws_time(epoch: float) -> str:
    """Lambda's ``LastModified``: ``2026-01-01T00:00:00.000+0000``."""
    when = datetime.fromtimestamp(epoch, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _name(loop: EventLoop, value: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` from a function name, ARN or partial ARN."""
    parts = value.split(":")
    if value.startswith("arn:") and len(parts) in (7, 8) and parts[5] == "function":
        if parts[4] != loop.account_id or parts[3] != loop.region:
            raise ResourceNotFoundException(f"Function not found: {value}")
        return parts[6], (parts[7] if len(parts) == 8 else None)
    if len(parts) in (3, 4) and parts[1] == "function":
        return parts[2], (parts[3] if len(parts) == 4 else None)
    if len(parts) == 2:
        return parts[0], parts[1]
    return value, None


def _function(loop: EventLoop, value: str, qualifier: str | None = None) -> Function:
    name, qualified = _name(loop, value)
    qualifier = qualifier or qualified
    fn = runtime_for(loop).get_function(name)
    if qualifier not in (None, "$LATEST"):
        raise ResourceNotFoundException(f"Function not found: {fn.arn}:{qualifier}")
    return fn


def _configuration(loop: EventLoop, fn: Function, *, state: str = "Active",
                   update: str = "Successful") -> dict[str, Any]:
    meta = _meta_of(loop, fn)
    out: dict[str, Any] = {
        "FunctionName": fn.name,
        "FunctionArn": fn.arn,
        "Runtime": meta.runtime,
        "Role": meta.role,
        "Handler": meta.handler,
        "CodeSize": meta.code_size,
        "Description": fn.description,
        "Timeout": fn.timeout,
        "MemorySize": fn.memory_mb,
        "LastModified": meta.last_modified,
        "CodeSha256": meta.code_sha256,
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": meta.revision,
        "State": state,
        "LastUpdateStatus": update,
        "PackageType": "Zip",
        "Architectures": [fn.architecture],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn.name}"},
    }
    if state == "Pending":
        out.update(StateReason="The function is being created.", StateReasonCode="Creating")
    if fn.environment:
        out["Environment"] = {"Variables": dict(fn.environment)}
    if meta.dead_letter_arn:
        out["DeadLetterConfig"] = {"TargetArn": meta.dead_letter_arn}
    if fn.tenant_isolation:
        out["TenancyConfig"] = {"TenantIsolationMode": fn.tenant_isolation}
    return out


def _destination(loop: EventLoop, arn: str | None, label: str) -> Any:
    """The object an ARN names, as the runtime takes destinations (Queue, topic, function)."""
    if not arn:
        return None
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[4] != loop.account_id:
        raise InvalidParameterValueException(f"{label}: {arn} is not a valid destination ARN.")
    service = parts[2]
    target: Any = None
    if service == "sqs":
        target = loop._lookup("sqs", parts[5])
    elif service == "sns":
        target = loop._lookup("sns", parts[5])
    elif service == "lambda" and len(parts) >= 7 and parts[5] == "function":
        target = loop._lookup("lambda", parts[6])
        target = target.name if target is not None else None
    else:
        raise InvalidParameterValueException(
            f"{label}: decoupling delivers to SQS queues, SNS topics and functions, not {arn}.")
    if target is None:
        raise InvalidParameterValueException(
            f"The destination ARN {arn} is invalid: the resource does not exist.")
    return target


# -- code -----------------------------------------------------------------------------------------


def _code_dir() -> str:
    global _code_root
    if _code_root is None:
        _code_root = tempfile.mkdtemp(prefix="decoupling-lambda-")
        atexit.register(shutil.rmtree, _code_root, True)
    return _code_root


#: Lambda's quota on a deployment package's unzipped size (bytes): "Unzipped size must be
#: smaller than 262144000 bytes" (InvalidParameterValueException).
MAX_UNZIPPED_SIZE = 262_144_000


def _unpack(archive: zipfile.ZipFile, directory: str) -> None:
    """Extract ``archive`` into ``directory`` after checking its unzipped size. The sizes are
    the archive's declared ones: ``zipfile`` never writes more than an entry declares."""
    unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped >= MAX_UNZIPPED_SIZE:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_SIZE} bytes")
    try:
        archive.extractall(directory)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
            ValueError) as error:
        shutil.rmtree(directory, ignore_errors=True)
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from error


def _release_code(prefix: str | None) -> None:
    """Forget unpacked code: its directory, ``sys.path`` entry and every module imported
    from it (``prefix`` is the private package plus ``.``; nothing for other code)."""
    if not prefix or _code_root is None:
        return
    package = prefix[:-1]
    directory = f"{_code_root}/{package}"
    while directory in sys.path:
        sys.path.remove(directory)
    inside = directory + "/"
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name == package or name.startswith(prefix) or origin.startswith(inside):
            sys.modules.pop(name, None)
    shutil.rmtree(directory, ignore_errors=True)


def _handler_from_code(code: dict[str, Any], handler: str | None) -> tuple[Any, bytes, str]:
    """The runtime's handler (callable or handler string), the code bytes, and the module
    prefix of unpacked code (``""`` otherwise)."""
    unsupported = sorted(k for k in code if k not in ("ZipFile", "SourceKMSKeyArn"))
    if unsupported:
        raise InvalidParameterValueException(
            f"decoupling runs code from ZipFile (or inline_code) only, not {', '.join(unsupported)}.")
    raw = code.get("ZipFile")
    data = raw if isinstance(raw, bytes) else (raw.encode() if isinstance(raw, str) else
                                               bytes(raw.read()) if raw is not None else b"")
    if data.startswith(_INLINE_PREFIX):
        fn = _inline.get(data)
        if fn is None:
            raise InvalidParameterValueException("Unknown inline_code token.")
        return fn, data, ""
    if not handler:
        raise InvalidParameterValueException("Handler is required for a ZipFile package.")
    if data.startswith(b"PK"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise InvalidParameterValueException(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from None
        package = f"_decoupling_code_{next(_code_ids)}"
        directory = f"{_code_dir()}/{package}"
        _unpack(archive, directory)
        module = types.ModuleType(package)
        module.__path__ = [directory]
        sys.modules[package] = module
        if directory not in sys.path:
            sys.path.append(directory)
        return f"{package}.{handler}", data, f"{package}."
    return handler, data, ""


# -- functions ------------------------------------------------------------------------------------


def create_function(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = _name(loop, p["FunctionName"])
    if qualifier is not None:
        raise InvalidParameterValueException("FunctionName cannot carry a qualifier here.")
    runtime_name = p.get("Runtime", "python3.11")
    if p.get("PackageType", "Zip") != "Zip" or not runtime_name.startswith("python3"):
        raise InvalidParameterValueException(
            f"decoupling runs Python zip functions only (Runtime {runtime_name!r}).")
    runtime = runtime_for(loop)
    if loop._lookup("lambda", name) is not None:
        raise ResourceConflictException(f"Function already exist: {name}")
    architectures = p.get("Architectures") or ["x86_64"]
    if len(architectures) != 1:
        raise InvalidParameterValueException("Architectures must hold exactly one value.")
    handler, code, prefix = _handler_from_code(p["Code"], p.get("Handler"))
    dead_letter_arn = (p.get("DeadLetterConfig") or {}).get("TargetArn")
    try:
        fn = runtime.register(
            name,
            handler,
            timeout=p.get("Timeout", 3),
            memory_mb=p.get("MemorySize", 128),
            environment=(p.get("Environment") or {}).get("Variables"),
            tenant_isolation=(p.get("TenancyConfig") or {}).get("TenantIsolationMode"),
            architecture=architectures[0],
            description=p.get("Description", ""),
            dead_letter=_destination(loop, dead_letter_arn, "DeadLetterConfig"),
        )
    except BaseException:
        _release_code(prefix)  # a refused function leaves no code behind
        raise
    meta = _meta[fn] = _Meta(loop, fn, runtime=runtime_name, role=p["Role"],
                             handler=p.get("Handler"), code=code, tags=p.get("Tags"),
                             dead_letter_arn=dead_letter_arn)
    meta.handler_prefix = prefix if not callable(handler) else None
    return _configuration(loop, fn, state="Pending")


def get_function(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    meta = _meta_of(loop, fn)
    out: dict[str, Any] = {
        "Configuration": _configuration(loop, fn),
        "Code": {
            "RepositoryType": "S3",
            "Location": f"https://awslambda-{loop.region}-tasks.s3.{loop.region}.amazonaws.com"
                        f"/snapshots/{loop.account_id}/{fn.name}-{meta.revision}",
        },
    }
    if meta.tags:
        out["Tags"] = dict(meta.tags)
    if fn.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
    return out


def get_function_configuration(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _configuration(loop, _function(loop, p["FunctionName"], p.get("Qualifier")))


def list_functions(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    functions = runtime_for(loop).functions
    page, next_marker = lambda_page(functions, p, lambda fn: fn.name, 50)
    out: dict[str, Any] = {"Functions": [_configuration(loop, fn) for fn in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def delete_function(loop: EventLoop, p: dict[str, Any]) -> Reply:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    runtime_for(loop).delete_function(fn.name)
    meta = _meta.pop(fn, None)
    if meta is not None:
        _release_code(meta.handler_prefix)
    return Reply({}, 204)


def update_function_configuration(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"])
    meta = _meta_of(loop, fn)
    runtime = fn.runtime
    environment = (p["Environment"].get("Variables") or {}) if "Environment" in p else fn.environment
    handler: Any = fn.handler
    handler_changed = (
        "Handler" in p and p["Handler"] != meta.handler and meta.handler_prefix is not None
    )
    if handler_changed:
        handler = f"{meta.handler_prefix}{p['Handler']}"
    cfg = _validate_function(
        fn.name, handler, p.get("Timeout", fn.timeout), p.get("MemorySize", fn.memory_mb),
        environment, fn.architecture, fn.tenant_isolation, p.get("Description", fn.description),
        fn.cold_start_duration,
    )
    dead_letter_arn = meta.dead_letter_arn
    if "DeadLetterConfig" in p:
        dead_letter_arn = p["DeadLetterConfig"].get("TargetArn") or None
        runtime.configure_async(
            fn.name, dead_letter=_destination(loop, dead_letter_arn, "DeadLetterConfig"))
    with runtime._lock:
        fn.timeout = cfg["timeout"]
        fn.memory_mb = cfg["memory_mb"]
        fn.environment = cfg["environment"]
        fn.description = cfg["description"]
        if handler_changed:
            fn.handler = handler
            fn.handler_name = handler
        # A new configuration gets new execution environments: retire the idle ones now, the
        # busy ones when their invocation ends.
        fn._generation += 1
        for idle in fn._idle.values():
            for env in idle:
                if env in fn.environments:
                    fn.environments.remove(env)
        fn._idle.clear()
        meta.runtime = p.get("Runtime", meta.runtime)
        meta.role = p.get("Role", meta.role)
        meta.handler = p.get("Handler", meta.handler)
        meta.dead_letter_arn = dead_letter_arn
        meta.revision = loop.new_id()
        meta.last_modified = _aws_time(loop.clock.wall())
    return _configuration(loop, fn, update="InProgress")


# -- invoking -------------------------------------------------------------------------------------


def _payload_bytes(raw: Any) -> bytes:
    if raw is None:
        return b"{}"
    if isinstance(raw, bytes):
        return raw or b"{}"
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw) or b"{}"
    if isinstance(raw, str):
        return raw.encode() or b"{}"
    data = raw.read()
    return (data.encode() if isinstance(data, str) else bytes(data)) or b"{}"


def invoke(loop: EventLoop, p: dict[str, Any]) -> Reply:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    result = fn.runtime.invoke(
        fn.name,
        _payload_bytes(p.get("Payload")),
        p.get("InvocationType", "RequestResponse"),
        tenant_id=p.get("TenantId"),
        log_type=p.get("LogType", "None"),
    )
    data = result.raw_payload if result.status_code == 200 else b""
    body: dict[str, Any] = {
        "StatusCode": result.status_code,
        "Payload": StreamingBody(io.BytesIO(data), len(data)),
    }
    headers = {"x-amzn-requestid": result.request_id}
    if result.function_error:
        body["FunctionError"] = headers["X-Amz-Function-Error"] = result.function_error
    if result.log_result:
        body["LogResult"] = headers["X-Amz-Log-Result"] = result.log_result
    if result.executed_version:
        body["ExecutedVersion"] = headers["X-Amz-Executed-Version"] = result.executed_version
    return Reply(body, result.status_code, headers)


# -- asynchronous invocation config -------------------------------------------------------------


def _event_invoke_config(loop: EventLoop, fn: Function) -> dict[str, Any]:
    config = _meta_of(loop, fn).event_invoke
    if config is None:
        raise ResourceNotFoundException(
            f"The function {fn.arn} doesn't have an EventInvokeConfig")
    return {
        "LastModified": config["LastModified"],
        "FunctionArn": f"{fn.arn}:$LATEST",
        "MaximumRetryAttempts": config["MaximumRetryAttempts"],
        "MaximumEventAgeInSeconds": config["MaximumEventAgeInSeconds"],
        "DestinationConfig": {
            kind: ({"Destination": config[kind]} if config[kind] else {})
            for kind in ("OnSuccess", "OnFailure")
        },
    }


def _set_event_invoke_config(loop: EventLoop, p: dict[str, Any], *, merge: bool) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    meta = _meta_of(loop, fn)
    old = meta.event_invoke if merge and meta.event_invoke else {
        "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21_600,
        "OnSuccess": None, "OnFailure": None,
    }
    destinations = p.get("DestinationConfig") or {}
    config: dict[str, Any] = {
        "MaximumRetryAttempts": p.get("MaximumRetryAttempts", old["MaximumRetryAttempts"]),
        "MaximumEventAgeInSeconds": p.get(
            "MaximumEventAgeInSeconds", old["MaximumEventAgeInSeconds"]),
    }
    for kind in ("OnSuccess", "OnFailure"):
        config[kind] = (destinations[kind].get("Destination") or None) if kind in destinations \
            else old[kind]
    runtime = fn.runtime
    on_success = _destination(loop, config["OnSuccess"], "OnSuccess")
    on_failure = _destination(loop, config["OnFailure"], "OnFailure")
    with runtime._lock:
        invoker = runtime._async
        dead_letter = invoker.config(fn).dead_letter
        invoker.check_config(fn, config["MaximumRetryAttempts"],
                             config["MaximumEventAgeInSeconds"], on_success, on_failure,
                             dead_letter)
        invoker.configure(fn, config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"],
                          on_success, on_failure, dead_letter)
        # A timestamp as botocore's parser gives it (timezone-aware, tzutc).
        config["LastModified"] = parse_timestamp(loop.clock.wall())
        meta.event_invoke = config
    return _event_invoke_config(loop, fn)


def put_function_event_invoke_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _set_event_invoke_config(loop, p, merge=False)


def update_function_event_invoke_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _set_event_invoke_config(loop, p, merge=True)


def get_function_event_invoke_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _event_invoke_config(loop, _function(loop, p["FunctionName"], p.get("Qualifier")))


def delete_function_event_invoke_config(loop: EventLoop, p: dict[str, Any]) -> Reply:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    _event_invoke_config(loop, fn)  # raises when there is none
    _set_event_invoke_config(loop, {"FunctionName": fn.name}, merge=False)
    _meta_of(loop, fn).event_invoke = None
    return Reply({}, 204)


# -- concurrency ----------------------------------------------------------------------------------


def put_function_concurrency(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"])
    fn.runtime.put_function_concurrency(fn.name, p["ReservedConcurrentExecutions"])
    return {"ReservedConcurrentExecutions": fn.reserved_concurrency}


def get_function_concurrency(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"])
    if fn.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": fn.reserved_concurrency}


def delete_function_concurrency(loop: EventLoop, p: dict[str, Any]) -> Reply:
    fn = _function(loop, p["FunctionName"])
    fn.runtime.delete_function_concurrency(fn.name)
    return Reply({}, 204)


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "CreateFunction": create_function,
    "GetFunction": get_function,
    "GetFunctionConfiguration": get_function_configuration,
    "ListFunctions": list_functions,
    "DeleteFunction": delete_function,
    "UpdateFunctionConfiguration": update_function_configuration,
    "Invoke": invoke,
    "PutFunctionEventInvokeConfig": put_function_event_invoke_config,
    "UpdateFunctionEventInvokeConfig": update_function_event_invoke_config,
    "GetFunctionEventInvokeConfig": get_function_event_invoke_config,
    "DeleteFunctionEventInvokeConfig": delete_function_event_invoke_config,
    "PutFunctionConcurrency": put_function_concurrency,
    "GetFunctionConcurrency": get_function_concurrency,
    "DeleteFunctionConcurrency": delete_function_concurrency,
}
