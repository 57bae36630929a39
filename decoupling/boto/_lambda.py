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
  handler is imported from ``sys.path``;
* ``Code={"S3Bucket": ..., "S3Key": ..., "S3ObjectVersion": ...}``: the zip archive is read
  from the loop's own S3 bucket (:class:`~decoupling.Bucket`, or a bucket made through the
  bridge's S3 client), then as ``ZipFile``. A missing bucket or key is Lambda's
  ``InvalidParameterValueException`` "Error occurred while GetObject. S3 Error Code:
  NoSuchKey. S3 Error Message: The specified key does not exist." (``NoSuchBucket``: "The
  specified bucket does not exist");
* ``PackageType="Image"`` with ``Code={"ImageUri": uri}``: the handler registered for the URI
  with :func:`register_image` (``register_image(loop, uri, handler)``: a callable or handler
  string). An image never registered still creates the function, as its configuration is
  all AWS checks here; invoking it fails with ``Runtime.InvalidEntrypoint`` naming the URI.

``UpdateFunctionCode`` takes the same ``ZipFile``/``S3*``/``ImageUri`` forms; new invocations
run the new code in new execution environments. Versions (``PublishVersion``,
``Publish=True``), aliases, layers, resource policies, tags and function URLs are in the
``_lambda_*`` modules beside this one, and their operations are merged into
:data:`OPERATIONS` at the end of this module.

What AWS reports but the runtime has no notion of (role, runtime name, code hash and size,
revision id, tags) is kept beside each function here.
"""

from __future__ import annotations

import atexit
import base64
import copy
import hashlib
import io
import itertools
import re
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
    AccessDeniedException,
    DecouplingError,
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
    ValidationException,
)
from ..functions.layers import MAX_UNZIPPED_SIZE, _extract_package
from ..functions.runtime import Function, FunctionRuntime, _validate_function
from ..functions.versions import retire_environments
from ..loop import EventLoop
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS", "inline_code", "use_runtime", "runtime_for", "register_image"]

_INLINE_PREFIX = b"decoupling-inline:"
_inline: dict[bytes, Callable[..., Any]] = {}
_inline_ids = itertools.count(1)
_code_ids = itertools.count(1)
_runtimes: weakref.WeakKeyDictionary[EventLoop, FunctionRuntime] = weakref.WeakKeyDictionary()
_meta: weakref.WeakKeyDictionary[Function, _Meta] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_code_root: str | None = None
_images: weakref.WeakKeyDictionary[EventLoop, dict[str, Any]] = weakref.WeakKeyDictionary()


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


def register_image(loop: EventLoop, uri: str, handler: Callable[..., Any] | str) -> None:
    """Run functions created with ``PackageType="Image"``, ``Code={"ImageUri": uri}`` on
    ``loop`` with ``handler``: a callable ``handler(event, context)`` or an importable handler
    string (``"app.orders.handler"``). Registering a URI again replaces its handler for
    functions created (or updated) afterwards."""
    if not isinstance(uri, str) or not uri:
        raise TypeError(f"register_image needs an image URI, got {uri!r}")
    if not callable(handler) and not isinstance(handler, str):
        raise TypeError(f"register_image needs a callable or a handler string, got {handler!r}")
    with _lock:
        _images.setdefault(loop, {})[uri] = handler


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
        self.loop = loop
        self.function_name = fn.name
        self.runtime = runtime
        self.role = role or f"arn:{loop.partition}:iam::{loop.account_id}:role/decoupling"
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
        self.tracing = "PassThrough"
        self.package_type = "Zip"
        self.image_uri: str | None = None
        self.ephemeral_storage = 512
        self.layers: list[dict[str, Any]] = []
        self.kms_key_arn: str | None = None
        self.vpc: dict[str, Any] | None = None
        self.logging: dict[str, Any] | None = None
        self.image_config: dict[str, Any] | None = None
        self.recursive_loop = "Terminate"
        self.update_runtime_on = "Auto"
        self.runtime_version_arn: str | None = None

    def set_code(self, code: bytes) -> None:
        self.code_sha256 = base64.b64encode(hashlib.sha256(code).digest()).decode()
        self.code_size = len(code)

    def set_image(self, uri: str) -> None:
        """An image function's code: ``CodeSize`` 0 and ``CodeSha256`` the image digest (hex,
        as Lambda reports a container image; the digest in a ``@sha256:`` URI, otherwise the
        SHA-256 of the URI: the bridge has no registry to resolve a tag)."""
        self.image_uri = uri
        self.code_sha256 = _image_digest(uri)
        self.code_size = 0

    def touch(self) -> None:
        """A new ``RevisionId`` and ``LastModified`` after a change."""
        self.revision = self.loop.new_id()
        self.last_modified = _aws_time(self.loop.clock.wall())

    def snapshot(self) -> _Meta:
        """A frozen copy for a published version (its own revision, no tags)."""
        copied = copy.copy(self)
        copied.tags = {}
        copied.layers = [dict(layer) for layer in self.layers]
        copied.revision = self.loop.new_id()
        return copied


def _image_digest(uri: str) -> str:
    """The hex digest of an image URI: its own (``repo@sha256:HEX``) or the URI's SHA-256."""
    if "@sha256:" in uri:
        return uri.split("@sha256:", 1)[1]
    return hashlib.sha256(uri.encode()).hexdigest()


def _resolved_image_uri(uri: str) -> str:
    """``ResolvedImageUri``: the repository URI (no tag or digest) ``@sha256:`` the digest."""
    repository = uri.split("@", 1)[0]
    head, _, last = repository.rpartition("/")
    if ":" in last:
        repository = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]
    return f"{repository}@sha256:{_image_digest(uri)}"


def _meta_of(loop: EventLoop, fn: Function) -> _Meta:
    meta = _meta.get(fn)
    if meta is None:
        base = getattr(fn, "base", None)  # a version published without the bridge
        meta = _meta[fn] = (_meta_of(loop, base).snapshot() if base is not None
                            else _Meta(loop, fn))
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
    """The function, published version or alias's version a name/ARN and qualifier name."""
    name, qualified = _name(loop, value)
    if qualifier and qualified and qualifier != qualified:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified "
            "qualifier.")
    return runtime_for(loop).function_version(name, qualifier or qualified)


def _qualifier(loop: EventLoop, p: dict[str, Any]) -> str | None:
    """The qualifier of a request: ``Qualifier`` or the one in a qualified ARN."""
    return p.get("Qualifier") or _name(loop, p["FunctionName"])[1]


def _check_revision(p: dict[str, Any], current: str) -> None:
    """A ``RevisionId`` in the request must be the resource's (PreconditionFailedException)."""
    wanted = p.get("RevisionId")
    if wanted is not None and wanted != current:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id")


def _configuration(loop: EventLoop, fn: Function, *, state: str = "Active",
                   update: str = "Successful", qualified: bool = False) -> dict[str, Any]:
    """``FunctionConfiguration``: the unqualified ARN for ``$LATEST`` unless ``qualified``
    (as ListVersionsByFunction gives it), the version's ARN for a version."""
    meta = _meta_of(loop, fn)
    out: dict[str, Any] = {
        "FunctionName": fn.name,
        "FunctionArn": fn.qualified_arn if qualified or fn.version != "$LATEST" else fn.arn,
        "Runtime": meta.runtime,
        "Role": meta.role,
        "Handler": meta.handler,
        "CodeSize": meta.code_size,
        "Description": fn.description,
        "Timeout": fn.timeout,
        "MemorySize": fn.memory_mb,
        "LastModified": meta.last_modified,
        "CodeSha256": meta.code_sha256,
        "Version": fn.version,
        "TracingConfig": {"Mode": meta.tracing},
        "RevisionId": meta.revision,
        "State": state,
        "LastUpdateStatus": update,
        "PackageType": meta.package_type,
        "Architectures": [fn.architecture],
        "EphemeralStorage": {"Size": meta.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": meta.logging or {"LogFormat": "Text",
                                          "LogGroup": f"/aws/lambda/{fn.name}"},
    }
    if meta.package_type == "Image":
        del out["Runtime"], out["Handler"]
        if meta.image_config:
            out["ImageConfigResponse"] = {"ImageConfig": dict(meta.image_config)}
    if meta.layers:
        out["Layers"] = [dict(layer) for layer in meta.layers]
    if meta.kms_key_arn:
        out["KMSKeyArn"] = meta.kms_key_arn
    if meta.vpc is not None:
        out["VpcConfig"] = {"SubnetIds": list(meta.vpc.get("SubnetIds", [])),
                            "SecurityGroupIds": list(meta.vpc.get("SecurityGroupIds", [])),
                            "VpcId": meta.vpc.get("VpcId", "vpc-123abc")}
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


def _s3_object(loop: EventLoop, code: dict[str, Any]) -> bytes:
    """The bytes of ``Code``'s ``S3Bucket``/``S3Key``/``S3ObjectVersion``, from the loop's
    bucket; Lambda's InvalidParameterValueException when the object cannot be read, in
    Lambda's words (which carry S3's error code and message, not the bucket or key)."""
    bucket_name, key = code.get("S3Bucket"), code.get("S3Key")
    if not bucket_name or not key:
        raise InvalidParameterValueException(
            "Please provide a source for function code (S3Bucket and S3Key together).")
    bucket = loop._lookup("s3", bucket_name)
    if bucket is None:
        raise InvalidParameterValueException(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
            "The specified bucket does not exist")
    try:
        got = bucket.get(key, version_id=code.get("S3ObjectVersion"))
    except DecouplingError as error:
        message = {"NoSuchKey": "The specified key does not exist.",
                   "NoSuchVersion": "The specified version does not exist."}.get(
                       error.code, error.message)
        raise InvalidParameterValueException(
            f"Error occurred while GetObject. S3 Error Code: {error.code}. S3 Error Message: "
            f"{message}") from None
    return bytes(got.body)


def _image_handler(loop: EventLoop, uri: str) -> Any:
    """The handler registered for an image URI, or one that fails as a missing entry point."""
    with _lock:
        handler = _images.get(loop, {}).get(uri)
    if handler is not None:
        return handler

    def unregistered(event: Any, context: Any) -> Any:
        raise _InvalidEntrypoint(
            f"decoupling has no handler for image {uri}: call "
            f"decoupling.boto.register_image(loop, {uri!r}, handler) first")

    return unregistered


class _InvalidEntrypoint(Exception):
    """An image function whose URI has no registered handler."""


_InvalidEntrypoint.__name__ = "Runtime.InvalidEntrypoint"

_CODE_KEYS = ("ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri", "SourceKMSKeyArn")


def _handler_from_code(loop: EventLoop, code: dict[str, Any], handler: str | None,
                       package_type: str = "Zip") -> tuple[Any, bytes, str]:
    """The runtime's handler (callable or handler string), the code bytes, and the module
    prefix of unpacked code (``""`` otherwise)."""
    unsupported = sorted(k for k in code if k not in _CODE_KEYS)
    if unsupported:
        raise InvalidParameterValueException(
            f"decoupling runs code from ZipFile, S3 or ImageUri only, not {', '.join(unsupported)}.")
    if package_type == "Image":
        uri = code.get("ImageUri")
        if not uri:
            raise InvalidParameterValueException(
                "Please provide a source for function code: ImageUri is required for "
                "PackageType Image.")
        return _image_handler(loop, uri), uri.encode(), ""
    if code.get("ImageUri"):
        raise InvalidParameterValueException(
            "Please don't provide ImageUri when updating a function with packageType Zip.")
    if code.get("S3Bucket") or code.get("S3Key"):
        if code.get("ZipFile") is not None:
            raise InvalidParameterValueException(
                "Please do not provide more than one source for function code (ZipFile and "
                "S3Bucket/S3Key).")
        data = _s3_object(loop, code)
    else:
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
        package = unpack_package(data)
        return f"{package}.{handler}", data, f"{package}."
    return handler, data, ""


def unpack_package(data: bytes) -> str:
    """Unpack a zip archive into a private package directory (also put on ``sys.path``);
    return the package's name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    package = f"_decoupling_code_{next(_code_ids)}"
    directory = f"{_code_dir()}/{package}"
    _extract_package(archive, directory)
    module = types.ModuleType(package)
    module.__path__ = [directory]
    sys.modules[package] = module
    if directory not in sys.path:
        sys.path.append(directory)
    return package


# -- functions ------------------------------------------------------------------------------------


#: A role ARN as Lambda's API reference gives the ``Role`` pattern.
ROLE_ARN = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+")
#: Ephemeral storage (``/tmp``), MB: 512-10,240 (the model's ``EphemeralStorageSize``).
EPHEMERAL_STORAGE = (512, 10_240)
_TRACING_MODES = ("Active", "PassThrough")


def _validation(value: Any, field: str, constraint: str) -> ValidationException:
    """Lambda's wording of a model constraint failure."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}")


def _check_role(loop: EventLoop, role: Any) -> str:
    """A role ARN of the loop's account (ValidationException; AccessDeniedException for
    another account's role: "Cross-account pass role is not allowed.")."""
    match = ROLE_ARN.fullmatch(role) if isinstance(role, str) else None
    if match is None:
        raise _validation(role, "role",
                          f"Member must satisfy regular expression pattern: {ROLE_ARN.pattern}")
    if match.group(2) != loop.account_id:
        raise AccessDeniedException("Cross-account pass role is not allowed.")
    return str(role)


def _check_settings(p: dict[str, Any]) -> None:
    """The settings the model constrains (before anything is created or changed)."""
    if "Architectures" in p:
        arch = p["Architectures"]
        if len(arch) != 1 or arch[0] not in ("x86_64", "arm64"):
            raise _validation(arch, "architectures",
                              "Member must satisfy constraint: [Member must satisfy enum value "
                              "set: [x86_64, arm64], Member must not be null]")
    if "EphemeralStorage" in p:
        size = p["EphemeralStorage"].get("Size")
        low, high = EPHEMERAL_STORAGE
        if not isinstance(size, int) or size > high:
            raise _validation(size, "ephemeralStorage.size",
                              f"Member must have value less than or equal to {high}")
        if size < low:
            raise _validation(size, "ephemeralStorage.size",
                              f"Member must have value greater than or equal to {low}")
    mode = (p.get("TracingConfig") or {}).get("Mode")
    if mode is not None and mode not in _TRACING_MODES:
        raise _validation(mode, "tracingConfig.mode",
                          "Member must satisfy enum value set: [Active, PassThrough]")


def _apply_settings(meta: _Meta, p: dict[str, Any]) -> None:
    if "TracingConfig" in p and p["TracingConfig"].get("Mode"):
        meta.tracing = p["TracingConfig"]["Mode"]
    if "EphemeralStorage" in p:
        meta.ephemeral_storage = p["EphemeralStorage"]["Size"]
    if "KMSKeyArn" in p:
        meta.kms_key_arn = p["KMSKeyArn"] or None
    if "VpcConfig" in p:
        meta.vpc = dict(p["VpcConfig"])
    if "LoggingConfig" in p:
        meta.logging = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{meta.function_name}",
                        **p["LoggingConfig"]}
    if "ImageConfig" in p:
        meta.image_config = dict(p["ImageConfig"])


def create_function(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    name, qualifier = _name(loop, p["FunctionName"])
    if qualifier is not None:
        raise InvalidParameterValueException("FunctionName cannot carry a qualifier here.")
    code_spec = p["Code"]
    package_type = p.get("PackageType") or ("Image" if code_spec.get("ImageUri") else "Zip")
    runtime_name = p.get("Runtime", "python3.11")
    if package_type == "Zip" and not runtime_name.startswith("python3"):
        raise InvalidParameterValueException(
            f"decoupling runs Python zip functions only (Runtime {runtime_name!r}).")
    role = _check_role(loop, p["Role"])
    _check_settings(p)
    runtime = runtime_for(loop)
    if loop._lookup("lambda", name) is not None:
        raise ResourceConflictException(f"Function already exist: {name}")
    architectures = p.get("Architectures") or ["x86_64"]
    from ._lambda_layers import layers_for

    layers, layer_paths = layers_for(loop, p.get("Layers") or [])
    handler, code, prefix = _handler_from_code(loop, code_spec, p.get("Handler"), package_type)
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
    fn.layer_paths = layer_paths
    meta = _meta[fn] = _Meta(loop, fn, runtime=runtime_name, role=role,
                             handler=p.get("Handler"), code=code, tags=p.get("Tags"),
                             dead_letter_arn=dead_letter_arn)
    meta.handler_prefix = prefix if not callable(handler) else None
    meta.package_type = package_type
    if package_type == "Image":
        meta.set_image(code_spec["ImageUri"])
    meta.layers = layers
    _apply_settings(meta, p)
    if p.get("Publish"):
        from ._lambda_versions import publish

        out = _configuration(loop, publish(loop, fn, None), state="Pending")
        out["FunctionArn"] = fn.arn  # as CreateFunction answers: the function's own ARN
        return out
    return _configuration(loop, fn, state="Pending")


def get_function(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    meta = _meta_of(loop, fn)
    code: dict[str, Any] = {
        "RepositoryType": "S3",
        "Location": f"https://awslambda-{loop.region}-tasks.s3.{loop.region}.amazonaws.com"
                    f"/snapshots/{loop.account_id}/{fn.name}-{meta.revision}",
    }
    if meta.package_type == "Image":
        code = {"RepositoryType": "ECR", "ImageUri": meta.image_uri,
                "ResolvedImageUri": _resolved_image_uri(meta.image_uri or "")}
    out: dict[str, Any] = {"Configuration": _configuration(
        loop, fn, qualified=_qualifier(loop, p) is not None), "Code": code}
    tags = _meta_of(loop, getattr(fn, "base", fn)).tags
    if tags:
        out["Tags"] = dict(tags)
    if fn.reserved_concurrency is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
    return out


def get_function_configuration(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """An explicit qualifier (``$LATEST`` too) gives the qualified ``FunctionArn``, as AWS
    answers ``arn:...:function:NAME:$LATEST`` for ``Qualifier="$LATEST"``."""
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    return _configuration(loop, fn, qualified=_qualifier(loop, p) is not None)


def list_functions(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """ListFunctions: ``$LATEST`` of each function, or with ``FunctionVersion="ALL"`` every
    version too (``$LATEST`` then with its qualified ARN, as ListVersionsByFunction)."""
    runtime = runtime_for(loop)
    every = p.get("FunctionVersion") == "ALL"
    functions: list[Function] = []
    for fn in runtime.functions:
        functions.extend(runtime.list_versions(fn.name) if every else [fn])
    page, next_marker = lambda_page(functions, p, lambda fn: f"{fn.name}:{fn.version}", 50)
    out: dict[str, Any] = {"Functions": [_configuration(loop, fn, qualified=every)
                                         for fn in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def get_account_settings(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """GetAccountSettings: the runtime's concurrency limits and the functions' code sizes
    (quotas of "Lambda quotas": 75 GB of code, 250 MB unzipped, 50 MB zipped)."""
    runtime = runtime_for(loop)
    functions = runtime.functions
    code = sum(_meta_of(loop, v).code_size for fn in functions
               for v in runtime.list_versions(fn.name))
    return {
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800,
            "CodeSizeUnzipped": MAX_UNZIPPED_SIZE,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": runtime.concurrency_limit,
            "UnreservedConcurrentExecutions":
                runtime.concurrency_limit - runtime._reserved_total,
        },
        "AccountUsage": {"TotalCodeSize": code, "FunctionCount": len(functions)},
    }


def delete_function(loop: EventLoop, p: dict[str, Any]) -> Reply:
    qualifier = _qualifier(loop, p)
    name = _name(loop, p["FunctionName"])[0]
    runtime = runtime_for(loop)
    if qualifier not in (None, "$LATEST"):
        version = runtime.function_version(name, None).versions.get(qualifier)
        runtime.delete_version(name, qualifier)
        if version is not None:
            meta = _meta.pop(version, None)
            _release_unused(loop, meta)
        return Reply({}, 204)
    fn = runtime.get_function(name)
    versions = list(fn.versions.values())
    runtime.delete_function(fn.name)
    for item in [fn, *versions]:
        meta = _meta.pop(item, None)
        if meta is not None:
            _release_code(meta.handler_prefix)
    return Reply({}, 204)


def _release_unused(loop: EventLoop, meta: _Meta | None) -> None:
    """Release a deleted version's unpacked code unless ``$LATEST`` or another version of
    its function still runs it."""
    if meta is None or not meta.handler_prefix:
        return
    fn = loop._lookup("lambda", meta.function_name)
    if fn is not None:
        for other in [fn, *fn.versions.values()]:
            held = _meta.get(other)
            if held is not None and held.handler_prefix == meta.handler_prefix:
                return
    _release_code(meta.handler_prefix)


def update_function_configuration(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = runtime_for(loop).get_function(_name(loop, p["FunctionName"])[0])
    meta = _meta_of(loop, fn)
    _check_revision(p, meta.revision)
    runtime = fn.runtime
    role = _check_role(loop, p["Role"]) if "Role" in p else meta.role
    _check_settings(p)
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
    layers: list[dict[str, Any]] | None = None
    if "Layers" in p:
        from ._lambda_layers import layers_for

        layers, layer_paths = layers_for(loop, p["Layers"] or [])
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
        if layers is not None:
            meta.layers = layers
            fn.layer_paths = layer_paths
        # A new configuration gets new execution environments: retire the idle ones now, the
        # busy ones when their invocation ends.
        retire_environments(fn)
        meta.runtime = p.get("Runtime", meta.runtime)
        meta.role = role
        meta.handler = p.get("Handler", meta.handler)
        meta.dead_letter_arn = dead_letter_arn
        _apply_settings(meta, p)
        meta.touch()
    return _configuration(loop, fn, update="InProgress")


def update_function_code(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionCode: ``ZipFile``, ``S3Bucket``/``S3Key``/``S3ObjectVersion`` or
    ``ImageUri`` (as the function's package type); ``Publish``; ``RevisionId``; ``DryRun``."""
    runtime = runtime_for(loop)
    fn = runtime.get_function(_name(loop, p["FunctionName"])[0])
    meta = _meta_of(loop, fn)
    _check_revision(p, meta.revision)
    if "Architectures" in p:
        _check_settings({"Architectures": p["Architectures"]})
    code_spec = {k: p[k] for k in ("ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")
                 if p.get(k) is not None}
    if not code_spec:
        raise InvalidParameterValueException(
            "Please provide a source for function code: ZipFile, S3Bucket and S3Key, or "
            "ImageUri.")
    if meta.package_type == "Zip" and "ImageUri" in code_spec:
        raise InvalidParameterValueException(
            "Please don't provide ImageUri when updating a function with packageType Zip.")
    if meta.package_type == "Image" and "ImageUri" not in code_spec:
        raise InvalidParameterValueException(
            "Please provide ImageUri when updating a function with packageType Image.")
    if meta.handler_prefix is None and meta.package_type == "Zip":
        # a callable (inline_code or FunctionRuntime.register): only inline_code replaces it
        pass
    handler, code, prefix = _handler_from_code(loop, code_spec, meta.handler,
                                               meta.package_type)
    if p.get("DryRun"):
        _release_code(prefix)
        return _configuration(loop, fn)
    old_prefix = meta.handler_prefix
    runtime.update_function_code(fn.name, handler)
    with runtime._lock:
        meta.set_code(code)
        meta.handler_prefix = prefix if not callable(handler) else None
        if meta.package_type == "Image":
            meta.set_image(code_spec["ImageUri"])
        meta.touch()
    if old_prefix and not any(
            (_meta.get(v) or meta).handler_prefix == old_prefix for v in fn.versions.values()):
        # running invocations hold their imported handler; new environments use the new code
        _release_code(old_prefix)
    if p.get("Publish"):
        from ._lambda_versions import publish

        return _configuration(loop, publish(loop, fn, None), update="InProgress")
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
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))  # checks the qualifier
    result = fn.runtime.invoke(
        fn.name,
        _payload_bytes(p.get("Payload")),
        p.get("InvocationType", "RequestResponse"),
        tenant_id=p.get("TenantId"),
        log_type=p.get("LogType", "None"),
        qualifier=_qualifier(loop, p),
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


#: The model's ``DestinationArn`` pattern (botocore's lambda service-2.json), which the service
#: checks (botocore does not): a refusal is a ``ValidationException`` in the service's words.
_DESTINATION_ARN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)


def _check_destination_arn(kind: str, value: object) -> None:
    if value is None or (isinstance(value, str) and re.fullmatch(_DESTINATION_ARN, value)):
        return
    member = "onSuccess" if kind == "OnSuccess" else "onFailure"
    raise ValidationException(
        f"1 validation error detected: Value '{value}' at 'destinationConfig.{member}."
        f"destination' failed to satisfy constraint: Member must satisfy regular expression "
        f"pattern: {_DESTINATION_ARN}")


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
        if kind in destinations:
            _check_destination_arn(kind, destinations[kind].get("Destination"))
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
    "UpdateFunctionCode": update_function_code,
    "GetAccountSettings": get_account_settings,
}


def _merge_operations() -> None:
    from . import (
        _lambda_layers,
        _lambda_policy,
        _lambda_provisioned,
        _lambda_settings,
        _lambda_tags,
        _lambda_urls,
        _lambda_versions,
    )

    for module in (_lambda_versions, _lambda_policy, _lambda_layers, _lambda_tags, _lambda_urls,
                   _lambda_provisioned, _lambda_settings):
        OPERATIONS.update(module.OPERATIONS)


_merge_operations()
