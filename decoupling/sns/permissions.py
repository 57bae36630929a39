"""Topic access policy statements (``AddPermission``/``RemovePermission``) and the data
protection policy (``PutDataProtectionPolicy``).

Statements are added as SNS writes them: ``{"Sid": label, "Effect": "Allow", "Principal":
{"AWS": ...}, "Action": ..., "Resource": topic ARN}``, where a single principal or action is a
string and several are a list (as ``GetTopicAttributes`` then shows them). A label already in
the policy is ``InvalidParameter`` "Invalid parameter: Statement already exists"; an action that
is not a topic action "Invalid parameter: Policy statement action out of service scope!"; a
label not in the policy is removed without error (AWS-validated wording and behaviour:
LocalStack's ``test_add_permission_errors``/``test_remove_permission_errors`` snapshots).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidParameter
from ..message import dumps_json, loads_json

__all__ = ["add", "remove", "data_protection_policy", "ACTIONS"]

#: Actions ``AddPermission`` takes (``ActionName``: "any Amazon SNS action name").
ACTIONS = frozenset({
    "GetTopicAttributes", "SetTopicAttributes", "AddPermission", "RemovePermission",
    "DeleteTopic", "Subscribe", "ListSubscriptionsByTopic", "Publish", "Receive",
})
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"[0-9]{12}")


def _policy(text: str) -> dict[str, Any]:
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        policy = {}
    if not isinstance(policy.get("Statement"), list):
        statement = policy.get("Statement")
        policy["Statement"] = [statement] if isinstance(statement, dict) else []
    return policy


def add(
    policy_text: str, topic_arn: str, partition: str, label: object,
    account_ids: Sequence[str], actions: Sequence[str],
) -> str:
    """The policy with a statement for ``label`` added. Changes nothing on error."""
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise InvalidParameter(
            "Invalid parameter: Label Reason: must be 1 to 80 letters, digits, '-' and '_', "
            f"got {label!r}"
        )
    if not isinstance(account_ids, (list, tuple)) or not account_ids or not all(
        isinstance(a, str) and _ACCOUNT.fullmatch(a) for a in account_ids
    ):
        raise InvalidParameter(
            f"Invalid parameter: AWSAccountId Reason: a list of 12-digit account ids, got {account_ids!r}"
        )
    if not isinstance(actions, (list, tuple)) or not actions or not all(
        isinstance(a, str) for a in actions
    ):
        raise InvalidParameter(f"Invalid parameter: ActionName Reason: a list of actions, got {actions!r}")
    policy = _policy(policy_text)
    if any(isinstance(s, dict) and s.get("Sid") == label for s in policy["Statement"]):
        raise InvalidParameter("Invalid parameter: Statement already exists")
    if any(a not in ACTIONS for a in actions):
        raise InvalidParameter("Invalid parameter: Policy statement action out of service scope!")
    principals = [f"arn:{partition}:iam::{a}:root" for a in account_ids]
    names = [f"SNS:{a}" for a in actions]
    policy["Statement"].append({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": names[0] if len(names) == 1 else names,
        "Resource": topic_arn,
    })
    return json.dumps(policy, separators=(",", ":"))


def remove(policy_text: str, label: object) -> str:
    """The policy without the statement ``label`` (the same policy when it has none)."""
    if not isinstance(label, str):
        raise InvalidParameter(f"Invalid parameter: Label Reason: must be a string, got {label!r}")
    policy = _policy(policy_text)
    policy["Statement"] = [
        s for s in policy["Statement"] if not (isinstance(s, dict) and s.get("Sid") == label)
    ]
    return json.dumps(policy, separators=(",", ":"))


def data_protection_policy(policy: object) -> str:
    """A data protection policy as JSON text (a JSON object, given as text or a mapping)."""
    if isinstance(policy, Mapping):
        try:
            return dumps_json(dict(policy), allow_nan=False)
        except (TypeError, ValueError):
            pass
    elif isinstance(policy, str):
        try:
            parsed = loads_json(policy)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return policy
    raise InvalidParameter(
        "Invalid parameter: DataProtectionPolicy Reason: must be a JSON object"
    )
