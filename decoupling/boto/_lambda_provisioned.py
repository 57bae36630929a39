"""Provisioned concurrency for the boto3 bridge: Put/Get/Delete/ListProvisionedConcurrencyConfigs
(the runtime initialises the environments: :mod:`decoupling.functions.provisioned`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..functions.provisioned import ProvisionedConcurrencyConfig
from ..loop import EventLoop
from ._lambda import _name, runtime_for
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS"]


def _shape(config: ProvisionedConcurrencyConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "RequestedProvisionedConcurrentExecutions": config.requested,
        "AvailableProvisionedConcurrentExecutions": config.available,
        "AllocatedProvisionedConcurrentExecutions": config.allocated,
        "Status": config.status,
        "LastModified": config.last_modified,
    }
    if config.status_reason:
        out["StatusReason"] = config.status_reason
    return out


def put_provisioned_concurrency_config(loop: EventLoop, p: dict[str, Any]) -> Reply:
    config = runtime_for(loop).put_provisioned_concurrency(
        _name(loop, p["FunctionName"])[0], p["Qualifier"], p["ProvisionedConcurrentExecutions"])
    return Reply(_shape(config), 202)


def get_provisioned_concurrency_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _shape(runtime_for(loop).get_provisioned_concurrency(
        _name(loop, p["FunctionName"])[0], p["Qualifier"]))


def delete_provisioned_concurrency_config(loop: EventLoop, p: dict[str, Any]) -> Reply:
    runtime_for(loop).delete_provisioned_concurrency(_name(loop, p["FunctionName"])[0],
                                                     p["Qualifier"])
    return Reply({}, 204)


def list_provisioned_concurrency_configs(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime = runtime_for(loop)
    fn = runtime.get_function(_name(loop, p["FunctionName"])[0])
    configs = runtime.list_provisioned_concurrency(fn.name)
    page, next_marker = lambda_page(configs, p, lambda c: c.qualifier, 50)
    out: dict[str, Any] = {"ProvisionedConcurrencyConfigs": [
        {"FunctionArn": f"{fn.arn}:{c.qualifier}", **_shape(c)} for c in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "PutProvisionedConcurrencyConfig": put_provisioned_concurrency_config,
    "GetProvisionedConcurrencyConfig": get_provisioned_concurrency_config,
    "DeleteProvisionedConcurrencyConfig": delete_provisioned_concurrency_config,
    "ListProvisionedConcurrencyConfigs": list_provisioned_concurrency_configs,
}
