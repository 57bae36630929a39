"""Function URLs for the boto3 bridge: CreateFunctionUrlConfig, GetFunctionUrlConfig,
UpdateFunctionUrlConfig, DeleteFunctionUrlConfig, ListFunctionUrlConfigs.

``FunctionUrl`` is the URL that answers: ``http://127.0.0.1:<port>/<url-id>/``, served by the
runtime's HTTP server (see :mod:`decoupling.functions.urls`; ``runtime_for(loop).close()``
stops it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..functions.urls import FunctionUrl
from ..loop import EventLoop
from ._lambda import _name, _qualifier, runtime_for
from ._reply import Reply, lambda_page

__all__ = ["OPERATIONS"]


def _shape(url: FunctionUrl, *, modified: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FunctionUrl": url.url,
        "FunctionArn": url.function_arn,
        "AuthType": url.auth_type,
        "CreationTime": url.created,
        "InvokeMode": url.invoke_mode,
    }
    if modified:
        out["LastModifiedTime"] = url.last_modified
    if url.cors is not None:
        out["Cors"] = dict(url.cors)
    return out


def create_function_url_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    url = runtime_for(loop).create_function_url(
        _name(loop, p["FunctionName"])[0], qualifier=_qualifier(loop, p),
        auth_type=p["AuthType"], cors=p.get("Cors"), invoke_mode=p.get("InvokeMode", "BUFFERED"))
    return _shape(url, modified=False)


def get_function_url_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return _shape(runtime_for(loop).get_function_url(_name(loop, p["FunctionName"])[0],
                                                     qualifier=_qualifier(loop, p)))


def update_function_url_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    url = runtime_for(loop).update_function_url(
        _name(loop, p["FunctionName"])[0], qualifier=_qualifier(loop, p),
        auth_type=p.get("AuthType"), cors=p.get("Cors"), invoke_mode=p.get("InvokeMode"))
    return _shape(url)


def delete_function_url_config(loop: EventLoop, p: dict[str, Any]) -> Reply:
    runtime_for(loop).delete_function_url(_name(loop, p["FunctionName"])[0],
                                          qualifier=_qualifier(loop, p))
    return Reply({}, 204)


def list_function_url_configs(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    urls = runtime_for(loop).list_function_urls(_name(loop, p["FunctionName"])[0])
    page, next_marker = lambda_page(urls, p, lambda u: u.url_id, 50)
    out: dict[str, Any] = {"FunctionUrlConfigs": [_shape(u) for u in page]}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "CreateFunctionUrlConfig": create_function_url_config,
    "GetFunctionUrlConfig": get_function_url_config,
    "UpdateFunctionUrlConfig": update_function_url_config,
    "DeleteFunctionUrlConfig": delete_function_url_config,
    "ListFunctionUrlConfigs": list_function_url_configs,
}
