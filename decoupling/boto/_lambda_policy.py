"""Lambda resource policies for the boto3 bridge: AddPermission, RemovePermission, GetPolicy.

The runtime keeps the statements (:mod:`decoupling.functions.policy`); ``GetPolicy`` returns
the document as AWS does, a JSON string, with the policy's ``RevisionId``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..loop import EventLoop
from ._lambda import _check_revision, _name, _qualifier, runtime_for
from ._reply import Reply

__all__ = ["OPERATIONS"]

def add_permission(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime = runtime_for(loop)
    name = _name(loop, p["FunctionName"])[0]
    qualifier = _qualifier(loop, p)
    if p.get("RevisionId") is not None:
        _check_revision(p, runtime.policy_revision(name, qualifier))
    statement = runtime.add_permission(
        name, p["StatementId"], p["Action"], p["Principal"], source_arn=p.get("SourceArn"),
        source_account=p.get("SourceAccount"), principal_org_id=p.get("PrincipalOrgID"),
        qualifier=qualifier, function_url_auth_type=p.get("FunctionUrlAuthType"),
        event_source_token=p.get("EventSourceToken"))
    return {"Statement": json.dumps(statement)}


def remove_permission(loop: EventLoop, p: dict[str, Any]) -> Reply:
    runtime = runtime_for(loop)
    name = _name(loop, p["FunctionName"])[0]
    qualifier = _qualifier(loop, p)
    if p.get("RevisionId") is not None:
        _check_revision(p, runtime.policy_revision(name, qualifier))
    runtime.remove_permission(name, p["StatementId"], qualifier=qualifier)
    return Reply({}, 204)


def get_policy(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    runtime = runtime_for(loop)
    name = _name(loop, p["FunctionName"])[0]
    qualifier = _qualifier(loop, p)
    policy = runtime.get_policy(name, qualifier=qualifier)
    return {"Policy": json.dumps(policy), "RevisionId": runtime.policy_revision(name, qualifier)}


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], Any]] = {
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "GetPolicy": get_policy,
}
