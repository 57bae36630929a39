"""Lambda tags for the boto3 bridge (TagResource, UntagResource, ListTags), and
ListFunctionEventInvokeConfigs.

A function's tags are kept beside it (the bridge's record of what AWS reports); the resource
is the function's ARN (a qualified ARN is refused, as Lambda tags functions, not versions) or
an event source mapping's ARN (``arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID``,
https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html). At most 50 tags a resource
("Tagging Lambda functions").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameterValueException, ResourceNotFoundException
from ..functions.function import Function
from ..loop import EventLoop
from ._lambda import _event_invoke_config, _meta_of, _name, runtime_for
from ._reply import Reply

__all__ = ["OPERATIONS"]

#: Tags a function may carry.
MAX_TAGS = 50


def _tags(loop: EventLoop, arn: str) -> dict[str, str]:
    """The tags of the function or event source mapping ``arn`` names."""
    parts = arn.split(":")
    if arn.startswith("arn:") and len(parts) == 7 and parts[5] == "event-source-mapping":
        from ._esm import TAGS, _mapping

        if parts[3] != loop.region or parts[4] != loop.account_id:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return TAGS.setdefault(_mapping(loop, parts[6]), {})
    return _meta_of(loop, _tagged(loop, arn)).tags


def _set_tags(loop: EventLoop, arn: str, tags: dict[str, str]) -> None:
    current = _tags(loop, arn)
    current.clear()
    current.update(tags)


def _tagged(loop: EventLoop, arn: str) -> Function:
    parts = arn.split(":")
    if not arn.startswith("arn:") or len(parts) < 7 or parts[5] != "function":
        raise InvalidParameterValueException(f"Resource {arn} is not a Lambda function ARN.")
    name, qualifier = _name(loop, arn)
    if qualifier is not None:
        raise InvalidParameterValueException(
            "Tags are not supported on a function version or alias: use the unqualified ARN.")
    fn = loop._lookup("lambda", name)
    if fn is None:
        raise ResourceNotFoundException(f"Function not found: {arn}")
    return runtime_for(loop).get_function(name)


def tag_resource(loop: EventLoop, p: dict[str, Any]) -> Reply:
    tags = {**_tags(loop, p["Resource"]), **p["Tags"]}
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValueException(
            f"A function can have at most {MAX_TAGS} tags ({len(tags)} given).")
    _set_tags(loop, p["Resource"], tags)
    return Reply({}, 204)


def untag_resource(loop: EventLoop, p: dict[str, Any]) -> Reply:
    tags = _tags(loop, p["Resource"])
    _set_tags(loop, p["Resource"], {k: v for k, v in tags.items() if k not in set(p["TagKeys"])})
    return Reply({}, 204)


def list_tags(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": dict(_tags(loop, p["Resource"]))}


def list_function_event_invoke_configs(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    fn = runtime_for(loop).get_function(_name(loop, p["FunctionName"])[0])
    configs = [_event_invoke_config(loop, fn)] if _meta_of(loop, fn).event_invoke else []
    return {"FunctionEventInvokeConfigs": configs}


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTags": list_tags,
    "ListFunctionEventInvokeConfigs": list_function_event_invoke_configs,
}
