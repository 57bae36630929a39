"""Lambda versions and aliases for the boto3 bridge (PublishVersion, ListVersionsByFunction,
CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases).

The runtime keeps the versions and aliases (:mod:`decoupling.functions.versions`); what AWS
reports beside them (code hash, role, revision) is copied from ``$LATEST``'s record when a
version is published. Shapes: botocore's Lambda model (``FunctionConfiguration``,
``AliasConfiguration``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameterValueException, ResourceNotFoundException
from ..functions.function import Function
from ..functions.versions import Alias
from ..loop import EventLoop
from ._lambda import (
    _check_revision,
    _configuration,
    _meta,
    _meta_of,
    _name,
    runtime_for,
)
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS", "publish"]


def publish(loop: EventLoop, fn: Function, description: str | None) -> Function:
    """Publish ``fn``'s ``$LATEST`` (or return the newest version when nothing changed),
    recording what AWS reports about the version."""
    runtime = fn.runtime
    with runtime._lock:
        before = len(fn.versions)
        version = runtime.publish_version(fn.name, description=description)
        if len(fn.versions) != before or version not in _meta:
            meta = _meta_of(loop, fn).snapshot()
            _meta[version] = meta
    return version


def _base(loop: EventLoop, p: dict[str, Any]) -> Function:
    return runtime_for(loop).get_function(_name(loop, p["FunctionName"])[0])


def publish_version(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    meta = _meta_of(loop, fn)
    wanted = p.get("CodeSha256")
    if wanted is not None and wanted != meta.code_sha256:
        raise InvalidParameterValueException(
            f"CodeSHA256 ({wanted}) is different from current CodeSHA256 in $LATEST "
            f"({meta.code_sha256}). Please try again with the CodeSHA256 in $LATEST.")
    _check_revision(p, meta.revision)
    return _configuration(loop, publish(loop, fn, p.get("Description")))


def list_versions_by_function(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    versions = runtime_for(loop).list_versions(fn.name)
    page, next_marker = lambda_page(versions, p, lambda v: v.version, 50)
    out: dict[str, Any] = {"Versions": [_configuration(loop, v, qualified=True) for v in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def _alias_shape(alias: Alias) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AliasArn": alias.arn,
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.routing:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.routing)}
    return out


def _routing(p: dict[str, Any]) -> dict[str, float] | None:
    if "RoutingConfig" not in p:
        return None
    return dict((p["RoutingConfig"] or {}).get("AdditionalVersionWeights") or {})


def create_alias(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    alias = runtime_for(loop).create_alias(
        fn.name, p["Name"], p["FunctionVersion"], description=p.get("Description", ""),
        routing=_routing(p))
    return _alias_shape(alias)


def get_alias(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    return _alias_shape(runtime_for(loop).get_alias(fn.name, p["Name"]))


def update_alias(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    runtime = runtime_for(loop)
    _check_revision(p, runtime.get_alias(fn.name, p["Name"]).revision_id)
    alias = runtime.update_alias(fn.name, p["Name"], function_version=p.get("FunctionVersion"),
                                 description=p.get("Description"), routing=_routing(p))
    return _alias_shape(alias)


def delete_alias(loop: EventLoop, p: dict[str, Any]) -> Reply:
    fn = _base(loop, p)
    runtime_for(loop).delete_alias(fn.name, p["Name"])
    return Reply({}, 204)


def list_aliases(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = _base(loop, p)
    version = p.get("FunctionVersion")
    if version is not None and version != "$LATEST" and version not in fn.versions:
        raise ResourceNotFoundException(f"Function not found: {fn.arn}:{version}")
    aliases = runtime_for(loop).list_aliases(fn.name, version)
    page, next_marker = lambda_page(aliases, p, lambda a: a.name, 50)
    out: dict[str, Any] = {"Aliases": [_alias_shape(a) for a in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "PublishVersion": publish_version,
    "ListVersionsByFunction": list_versions_by_function,
    "CreateAlias": create_alias,
    "GetAlias": get_alias,
    "UpdateAlias": update_alias,
    "DeleteAlias": delete_alias,
    "ListAliases": list_aliases,
}
