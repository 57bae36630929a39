"""Lambda layers for the boto3 bridge: PublishLayerVersion, GetLayerVersion,
GetLayerVersionByArn, ListLayers, ListLayerVersions, DeleteLayerVersion and layer version
permissions (AddLayerVersionPermission, GetLayerVersionPolicy, RemoveLayerVersionPermission).

The runtime keeps the layers (:mod:`decoupling.functions.layers`); ``Content`` is a
``ZipFile`` or an object of the loop's S3 bucket, as for a function's code. A function's
``Layers`` are version ARNs; one that names no layer version is refused with
``ResourceNotFoundException`` "One or more LayerVersion does not exist [...]".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from ..functions.layers import LayerVersion
from ..loop import EventLoop
from ._lambda import _s3_object, runtime_for
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS", "layers_for"]


def _created(layer: LayerVersion) -> str:
    when = datetime.fromtimestamp(layer.created, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _layer_name(loop: EventLoop, value: str) -> str:
    """The layer name in a name or layer ARN of this account."""
    if value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) not in (7, 8) or parts[5] != "layer":
            raise InvalidParameterValueException(f"Invalid layer ARN: {value}")
        if parts[3] != loop.region or parts[4] != loop.account_id:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return parts[6]
    return value


def layers_for(loop: EventLoop, arns: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """A function's ``Layers`` (version ARNs): their ``Layers`` configuration and their
    ``python/`` directories."""
    runtime = runtime_for(loop)
    found: list[LayerVersion] = []
    missing: list[str] = []
    if len(arns) > 5:
        raise InvalidParameterValueException("Cannot reference more than 5 layers.")
    for arn in arns:
        parts = arn.split(":")
        layer = None
        if (len(parts) == 8 and parts[5] == "layer" and parts[3] == loop.region
                and parts[4] == loop.account_id and parts[7].isdigit()):
            try:
                layer = runtime.get_layer_version(parts[6], int(parts[7]))
            except ResourceNotFoundException:
                layer = None
        if layer is None:
            missing.append(arn)
        else:
            found.append(layer)
    if missing:
        raise ResourceNotFoundException(f"One or more LayerVersion does not exist {missing}")
    return ([{"Arn": x.arn, "CodeSize": x.code_size} for x in found],
            [x.python_path for x in found])


def _version_shape(layer: LayerVersion, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LayerVersionArn": layer.arn,
        "Version": layer.version,
        "CreatedDate": _created(layer),
    }
    if layer.description:
        out["Description"] = layer.description
    if layer.compatible_runtimes:
        out["CompatibleRuntimes"] = list(layer.compatible_runtimes)
    if layer.license_info:
        out["LicenseInfo"] = layer.license_info
    if layer.compatible_architectures:
        out["CompatibleArchitectures"] = list(layer.compatible_architectures)
    if full:
        out.update(LayerArn=layer.layer_arn, Content={
            "Location": f"https://awslambda-{layer.layer_arn.split(':')[3]}-layers.s3."
                        f"amazonaws.com/snapshots/{layer.name}-{layer.version}",
            "CodeSha256": layer.code_sha256,
            "CodeSize": layer.code_size,
        })
        out["Description"] = layer.description
    return out


def publish_layer_version(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    name = _layer_name(loop, p["LayerName"])
    content = p.get("Content") or {}
    if content.get("S3Bucket") or content.get("S3Key"):
        data = _s3_object(loop, content)
    else:
        raw = content.get("ZipFile")
        data = raw if isinstance(raw, bytes) else bytes(raw.read()) if raw is not None else b""
    if not data:
        raise InvalidParameterValueException("Missing Content")
    layer = runtime_for(loop).publish_layer_version(
        name, data, description=p.get("Description", ""),
        compatible_runtimes=p.get("CompatibleRuntimes"),
        compatible_architectures=p.get("CompatibleArchitectures"),
        license_info=p.get("LicenseInfo"))
    return _version_shape(layer, full=True)


def get_layer_version(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    layer = runtime_for(loop).get_layer_version(_layer_name(loop, p["LayerName"]),
                                                p["VersionNumber"])
    return _version_shape(layer, full=True)


def get_layer_version_by_arn(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    parts = p["Arn"].split(":")
    if len(parts) != 8 or not parts[7].isdigit():
        raise InvalidParameterValueException(f"Invalid layer version ARN: {p['Arn']}")
    layer = runtime_for(loop).get_layer_version(_layer_name(loop, ":".join(parts[:7])),
                                                int(parts[7]))
    return _version_shape(layer, full=True)


def _matches(layer: LayerVersion, p: dict[str, Any]) -> bool:
    runtime = p.get("CompatibleRuntime")
    arch = p.get("CompatibleArchitecture")
    return ((runtime is None or runtime in layer.compatible_runtimes)
            and (arch is None or arch in layer.compatible_architectures))


def list_layers(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime = runtime_for(loop)
    rows: list[tuple[LayerVersion, LayerVersion]] = []
    for newest in runtime.list_layers():
        matching = [v for v in runtime.list_layer_versions(newest.name) if _matches(v, p)]
        if matching:
            rows.append((newest, matching[0]))
    page, next_marker = lambda_page(rows, p, lambda row: row[0].name, 50)
    out: dict[str, Any] = {"Layers": [
        {"LayerName": newest.name, "LayerArn": newest.layer_arn,
         "LatestMatchingVersion": _version_shape(match, full=False)}
        for newest, match in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def list_layer_versions(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    versions = [v for v in runtime_for(loop).list_layer_versions(
        _layer_name(loop, p["LayerName"])) if _matches(v, p)]
    page, next_marker = lambda_page(versions, p, lambda v: str(v.version), 50)
    out: dict[str, Any] = {"LayerVersions": [_version_shape(v, full=False) for v in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


def delete_layer_version(loop: EventLoop, p: dict[str, Any]) -> Reply:
    runtime_for(loop).delete_layer_version(_layer_name(loop, p["LayerName"]), p["VersionNumber"])
    return Reply({}, 204)


# -- layer version permissions -------------------------------------------------------------------


def add_layer_version_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime = runtime_for(loop)
    layer = runtime.get_layer_version(_layer_name(loop, p["LayerName"]), p["VersionNumber"])
    sid = p["StatementId"]
    if p["Action"] != "lambda:GetLayerVersion":
        raise InvalidParameterValueException(
            f"Action {p['Action']} is not supported: layer permissions allow "
            "lambda:GetLayerVersion.")
    if p.get("RevisionId") is not None and p["RevisionId"] != layer.revision_id:
        from ._lambda import _check_revision

        _check_revision(p, layer.revision_id)
    if sid in layer.statements:
        raise ResourceConflictException(
            f"The statement id ({sid}) provided already exists. Please provide a new statement "
            "id, or remove the existing statement.")
    principal = p["Principal"]
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {
            "AWS": f"arn:{loop.partition}:iam::{principal}:root" if principal.isdigit()
            else principal},
        "Action": "lambda:GetLayerVersion",
        "Resource": layer.arn,
    }
    if p.get("OrganizationId"):
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": p["OrganizationId"]}}
    with runtime._lock:
        layer.statements[sid] = statement
        layer.revision_id = loop.new_id()
    return {"Statement": json.dumps(statement), "RevisionId": layer.revision_id}


def get_layer_version_policy(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    layer = runtime_for(loop).get_layer_version(_layer_name(loop, p["LayerName"]),
                                                p["VersionNumber"])
    if not layer.statements:
        raise ResourceNotFoundException("The resource you requested does not exist.")
    policy = {"Version": "2012-10-17", "Id": "default",
              "Statement": list(layer.statements.values())}
    return {"Policy": json.dumps(policy), "RevisionId": layer.revision_id}


def remove_layer_version_permission(loop: EventLoop, p: dict[str, Any]) -> Reply:
    runtime = runtime_for(loop)
    layer = runtime.get_layer_version(_layer_name(loop, p["LayerName"]), p["VersionNumber"])
    if p.get("RevisionId") is not None:
        from ._lambda import _check_revision

        _check_revision(p, layer.revision_id)
    with runtime._lock:
        if layer.statements.pop(p["StatementId"], None) is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        layer.revision_id = loop.new_id()
    return Reply({}, 204)


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "PublishLayerVersion": publish_layer_version,
    "GetLayerVersion": get_layer_version,
    "GetLayerVersionByArn": get_layer_version_by_arn,
    "ListLayers": list_layers,
    "ListLayerVersions": list_layer_versions,
    "DeleteLayerVersion": delete_layer_version,
    "AddLayerVersionPermission": add_layer_version_permission,
    "GetLayerVersionPolicy": get_layer_version_policy,
    "RemoveLayerVersionPermission": remove_layer_version_permission,
}
