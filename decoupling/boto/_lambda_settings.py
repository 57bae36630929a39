"""Small per-function settings for the boto3 bridge: recursion detection
(Get/PutFunctionRecursionConfig), runtime management (Get/PutRuntimeManagementConfig), and the
deprecated InvokeAsync.

They are recorded and returned as AWS does; the runtime has no notion of them (decoupling does
not detect recursive loops, and its Python is the process's). Defaults as on AWS:
``RecursiveLoop`` ``Terminate``, ``UpdateRuntimeOn`` ``Auto``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameterValueException
from ..loop import EventLoop
from ._lambda import _function, _meta_of, _name, _payload_bytes, _qualifier, runtime_for
from ._reply import Reply

__all__ = ["OPERATIONS"]

_RECURSION = ("Allow", "Terminate")
_UPDATE_RUNTIME_ON = ("Auto", "Manual", "FunctionUpdate")


def get_function_recursion_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = runtime_for(loop).get_function(_name(loop, p["FunctionName"])[0])
    return {"RecursiveLoop": _meta_of(loop, fn).recursive_loop}


def put_function_recursion_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = runtime_for(loop).get_function(_name(loop, p["FunctionName"])[0])
    value = p["RecursiveLoop"]
    if value not in _RECURSION:
        raise InvalidParameterValueException(
            f"RecursiveLoop must be Allow or Terminate, got {value!r}.")
    _meta_of(loop, fn).recursive_loop = value
    return {"RecursiveLoop": value}


def _runtime_management(loop: EventLoop, p: dict[str, Any]) -> tuple[Any, str]:
    fn = _function(loop, p["FunctionName"], p.get("Qualifier"))
    qualifier = _qualifier(loop, p)
    arn = fn.arn if qualifier in (None, "$LATEST") else f"{fn.arn}:{qualifier}"
    return _meta_of(loop, fn), arn


def get_runtime_management_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    meta, arn = _runtime_management(loop, p)
    out: dict[str, Any] = {"UpdateRuntimeOn": meta.update_runtime_on, "FunctionArn": arn}
    if meta.runtime_version_arn:
        out["RuntimeVersionArn"] = meta.runtime_version_arn
    return out


def put_runtime_management_config(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    meta, arn = _runtime_management(loop, p)
    mode = p["UpdateRuntimeOn"]
    version_arn = p.get("RuntimeVersionArn")
    if mode not in _UPDATE_RUNTIME_ON:
        raise InvalidParameterValueException(
            f"UpdateRuntimeOn must be Auto, Manual or FunctionUpdate, got {mode!r}.")
    if (mode == "Manual") != (version_arn is not None):
        raise InvalidParameterValueException(
            "RuntimeVersionArn is required with UpdateRuntimeOn Manual, and only then.")
    meta.update_runtime_on = mode
    meta.runtime_version_arn = version_arn
    out: dict[str, Any] = {"UpdateRuntimeOn": mode, "FunctionArn": arn}
    if version_arn:
        out["RuntimeVersionArn"] = version_arn
    return out


def invoke_async(loop: EventLoop, p: dict[str, Any]) -> Reply:
    """InvokeAsync (deprecated by AWS in favour of Invoke with ``InvocationType=Event``)."""
    fn = _function(loop, p["FunctionName"])
    fn.runtime.invoke(fn.name, _payload_bytes(p["InvokeArgs"]), "Event",
                      qualifier=_qualifier(loop, p))
    return Reply({"Status": 202}, 202)


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "GetFunctionRecursionConfig": get_function_recursion_config,
    "PutFunctionRecursionConfig": put_function_recursion_config,
    "GetRuntimeManagementConfig": get_runtime_management_config,
    "PutRuntimeManagementConfig": put_runtime_management_config,
    "InvokeAsync": invoke_async,
}
