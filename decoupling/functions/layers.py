"""Lambda layers: versioned archives whose ``python/`` directory is on a function's import
path, as ``/opt/python`` is on Lambda (https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html,
"Layer paths for each Lambda runtime").

:meth:`~decoupling.FunctionRuntime.publish_layer_version` unpacks a zip archive into a private
directory; a function created with ``layers=[...]`` (or given them through the boto3 bridge's
``Layers``) gets each layer's ``python/`` directory on ``sys.path`` when an execution
environment loads its handler. ``sys.path`` is the process's: once a layer is on it, other
functions of the process can import from it too (decoupling does not isolate imports between
functions). Version numbers count up from 1 per layer name and are never reused, even after a
version is deleted. A layer version's resource policy (AddLayerVersionPermission) is kept with
it (:attr:`LayerVersion.statements`).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import itertools
import re
import shutil
import tempfile
import zipfile
from typing import TYPE_CHECKING, Any, Final

from ..errors import InvalidParameterValueException, ResourceNotFoundException

if TYPE_CHECKING:
    from ..loop import EventLoop

__all__ = ["LayerVersion", "LAYER_NAME", "MAX_UNZIPPED_SIZE"]

#: A layer name: 1-140 of ``A-Za-z0-9-_`` (the model's ``LayerName`` without the ARN form).
LAYER_NAME: Final = re.compile(r"[a-zA-Z0-9-_]{1,140}")
#: A function and its layers, unzipped, at most 262,144,000 bytes ("Lambda quotas").
MAX_UNZIPPED_SIZE: Final = 262_144_000

_dirs = itertools.count(1)
_root: str | None = None


def _layer_root() -> str:
    global _root
    if _root is None:
        _root = tempfile.mkdtemp(prefix="decoupling-layers-")
        atexit.register(shutil.rmtree, _root, True)
    return _root


class LayerVersion:
    """One published version of a layer (PublishLayerVersion).

    Attributes:
        name: the layer name.
        version: 1, 2, ...
        layer_arn: ``arn:aws:lambda:<region>:<account>:layer:<name>``.
        arn: the version's ARN, ``<layer_arn>:<version>``.
        description, license_info: free text.
        compatible_runtimes, compatible_architectures: lists, as given.
        code_sha256: base64 SHA-256 of the archive; code_size: its bytes.
        created: loop wall-clock seconds when published.
        directory: where it was unpacked; python_path: its ``python/`` directory.
        statements: its resource policy, statement id -> statement.
    """

    def __init__(self, loop: EventLoop, name: str, version: int, content: bytes,
                 description: str, compatible_runtimes: list[str],
                 compatible_architectures: list[str], license_info: str | None) -> None:
        self.name = name
        self.version = version
        self.layer_arn = loop.arn("lambda", f"layer:{name}")
        self.arn = f"{self.layer_arn}:{version}"
        self.description = description
        self.compatible_runtimes = list(compatible_runtimes)
        self.compatible_architectures = list(compatible_architectures)
        self.license_info = license_info
        self.code_sha256 = base64.b64encode(hashlib.sha256(content).digest()).decode()
        self.code_size = len(content)
        self.created = loop.clock.wall()
        self.directory = f"{_layer_root()}/layer_{next(_dirs)}"
        self.python_path = f"{self.directory}/python"
        self.statements: dict[str, dict[str, Any]] = {}
        self.revision_id = loop.new_id()
        _unpack(content, self.directory)

    def __repr__(self) -> str:
        return f"LayerVersion({self.name!r}, {self.version})"


_UNZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
                 ValueError)


def _extract_package(archive: zipfile.ZipFile, directory: str) -> None:
    """Extract a deployment package or layer archive into ``directory`` after checking Lambda's
    unzipped-size quota (the archive's declared sizes: ``zipfile`` never writes more than an
    entry declares). Shared with the bridge's ``CreateFunction``/``UpdateFunctionCode``."""
    if sum(info.file_size for info in archive.infolist()) >= MAX_UNZIPPED_SIZE:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_SIZE} bytes")
    try:
        archive.extractall(directory)
    except _UNZIP_ERRORS as error:
        shutil.rmtree(directory, ignore_errors=True)
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from error


def _unpack(content: bytes, directory: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except _UNZIP_ERRORS as error:
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from error
    _extract_package(archive, directory)


def _check_layer(name: object, version: object) -> None:
    if not isinstance(name, str) or not LAYER_NAME.fullmatch(name):
        raise InvalidParameterValueException(
            f"Layer name {name!r} is invalid: use 1-140 of A-Za-z0-9-_.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidParameterValueException(
            f"VersionNumber must be a positive integer, got {version!r}.")


class _Layers:
    """Mixin of :class:`~decoupling.FunctionRuntime`: the account's layers.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    _lock: Any
    _layers: dict[str, dict[int, LayerVersion]]
    _layer_seq: dict[str, int]

    def publish_layer_version(self, name: str, content: bytes, *, description: str = "",
                              compatible_runtimes: list[str] | None = None,
                              compatible_architectures: list[str] | None = None,
                              license_info: str | None = None) -> LayerVersion:
        """Publish a layer version from a zip archive (PublishLayerVersion). Its ``python/``
        directory goes on the import path of functions that use it.

        Raises:
            InvalidParameterValueException: a bad name, an empty or unreadable archive, or
                one over 262,144,000 bytes unzipped.
        """
        if not isinstance(name, str) or not LAYER_NAME.fullmatch(name):
            raise InvalidParameterValueException(
                f"Layer name {name!r} is invalid: use 1-140 of A-Za-z0-9-_.")
        if not isinstance(content, (bytes, bytearray)) or not content:
            raise InvalidParameterValueException("Missing Content")
        if not isinstance(description, str) or len(description) > 256:
            raise InvalidParameterValueException(
                "Description must be a string of at most 256 characters.")
        for label, values in (("compatible_runtimes", compatible_runtimes),
                              ("compatible_architectures", compatible_architectures)):
            if values is not None and (not isinstance(values, list) or len(values) > 15 or not all(
                    isinstance(v, str) for v in values)):
                raise InvalidParameterValueException(
                    f"{label} must be a list of at most 15 strings, got {values!r}.")
        if license_info is not None and (not isinstance(license_info, str)
                                         or len(license_info) > 512):
            raise InvalidParameterValueException(
                "LicenseInfo must be a string of at most 512 characters.")
        with self._lock:
            number = self._layer_seq.get(name, 0) + 1
            layer = LayerVersion(self.loop, name, number, bytes(content), description,
                                 compatible_runtimes or [], compatible_architectures or [],
                                 license_info)
            self._layer_seq[name] = number
            self._layers.setdefault(name, {})[number] = layer
            return layer

    def get_layer_version(self, name: str, version: int) -> LayerVersion:
        """A layer version (GetLayerVersion). Raises ResourceNotFoundException."""
        _check_layer(name, version)
        with self._lock:
            layer = self._layers.get(name, {}).get(version)
            if layer is None:
                raise ResourceNotFoundException("The resource you requested does not exist.")
            return layer

    def list_layer_versions(self, name: str) -> list[LayerVersion]:
        """A layer's versions, newest first (ListLayerVersions); ``[]`` for an unknown name."""
        _check_layer(name, 1)
        with self._lock:
            versions = self._layers.get(name, {})
            return [versions[v] for v in sorted(versions, reverse=True)]

    def list_layers(self) -> list[LayerVersion]:
        """The newest version of each layer that has one, by name (ListLayers)."""
        with self._lock:
            return [versions[max(versions)] for name, versions in sorted(self._layers.items())
                    if versions]

    def delete_layer_version(self, name: str, version: int) -> None:
        """Delete a layer version (DeleteLayerVersion); nothing happens if there is none, as
        on Lambda. Functions that use it keep its content."""
        _check_layer(name, version)
        with self._lock:
            self._layers.get(name, {}).pop(version, None)
