"""A function's resource-based policy (AddPermission, RemovePermission, GetPolicy), and its
optional enforcement.

Statements are kept, and returned, in AWS's JSON (Lambda Developer Guide, "Viewing
resource-based IAM policies in Lambda")::

    {"Version": "2012-10-17", "Id": "default", "Statement": [
        {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:...:function:f",
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:...:orders"}}}]}

A principal is a service (``"sns.amazonaws.com"`` -> ``{"Service": ...}``), an account id
(-> ``{"AWS": "arn:<partition>:iam::<id>:root"}``, in the loop's partition), an ARN
(``{"AWS": arn}``) or ``"*"``.
``SourceArn`` becomes ``ArnLike AWS:SourceArn``, ``SourceAccount`` ``StringEquals
AWS:SourceAccount``, ``PrincipalOrgID`` ``StringEquals aws:PrincipalOrgID`` and
``FunctionUrlAuthType`` ``StringEquals lambda:FunctionUrlAuthType``. Each qualifier (``None``
for the unqualified function, a version, an alias) has a policy of its own, as on Lambda.

Enforcement is off by default: with ``FunctionRuntime(enforce_resource_policies=True)``, an
invocation by a service of the loop (an SNS topic's delivery) runs only when a statement
allows that service's principal with its source ARN and account; SNS treats a refusal as a
client error (no retries; the subscription's dead-letter queue, if any), as SNS does when
Lambda refuses it ("Amazon SNS dead-letter queues": client-side errors). Direct calls of
:meth:`~decoupling.FunctionRuntime.invoke` are the account's own and are not checked.
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any, Final

from ..errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .function import Function

__all__ = ["STATEMENT_ID", "ACTION"]

#: A statement id: 1-100 of ``a-zA-Z0-9-_`` (the model's ``StatementId``).
STATEMENT_ID: Final = re.compile(r"[a-zA-Z0-9-_]{1,100}")
#: An action: ``lambda:<Name>``, ``lambda:*`` or ``*`` (the model's ``Action``).
ACTION: Final = re.compile(r"(lambda:[*]|lambda:[a-zA-Z]+|[*])")
_INVOKE_ACTIONS: Final = ("lambda:InvokeFunction", "lambda:*", "*")
_NO_POLICY = "No policy is associated with the given resource."
#: GetPolicy's answer for a function without statements.
_NO_RESOURCE = "The resource you requested does not exist."


def _principal(value: str, partition: str) -> Any:
    if value == "*":
        return "*"
    if value.isdigit() and len(value) == 12:
        return {"AWS": f"arn:{partition}:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    return {"Service": value}


class _Policies:
    """Mixin of :class:`~decoupling.FunctionRuntime`: resource policies.

    Declarations only below; the runtime sets them in ``__init__``."""

    loop: EventLoop
    _lock: Any
    _policies: dict[tuple[str, str | None], dict[str, dict[str, Any]]]
    _policy_revisions: dict[tuple[str, str | None], str]
    enforce_resource_policies: bool

    if TYPE_CHECKING:

        def get_function(self, name: str) -> Function: ...

        def function_version(self, name: str, qualifier: str | None) -> Function: ...

    def _policy_resource(self, name: str, qualifier: str | None) -> tuple[tuple[str, str | None], str]:
        from .versions import check_qualifier

        check_qualifier(qualifier)
        fn = self.get_function(name)
        if qualifier in (None, "$LATEST"):
            return (fn.name, None), fn.arn
        if qualifier not in fn.aliases:
            self.function_version(name, qualifier)  # raises for an unknown version
        return (fn.name, qualifier), f"{fn.arn}:{qualifier}"

    def add_permission(self, name: str, statement_id: str, action: str, principal: str, *,
                       source_arn: str | None = None, source_account: str | None = None,
                       principal_org_id: str | None = None, qualifier: str | None = None,
                       function_url_auth_type: str | None = None,
                       event_source_token: str | None = None) -> dict[str, Any]:
        """Add a statement to a function's policy (AddPermission); return the statement.

        Raises:
            ResourceNotFoundException: no such function, version or alias.
            ResourceConflictException: the statement id is taken.
            InvalidParameterValueException: a bad statement id or action.
        """
        if not isinstance(statement_id, str) or not STATEMENT_ID.fullmatch(statement_id):
            raise InvalidParameterValueException(
                f"StatementId {statement_id!r} is invalid: use 1-100 of a-zA-Z0-9-_.")
        if not isinstance(action, str) or not ACTION.fullmatch(action):
            raise InvalidParameterValueException(
                f"Action {action!r} is invalid: use lambda:<Action>, lambda:* or *.")
        if not isinstance(principal, str) or not principal:
            raise InvalidParameterValueException("Principal is required.")
        for label, value in (("SourceArn", source_arn), ("SourceAccount", source_account),
                             ("PrincipalOrgID", principal_org_id),
                             ("FunctionUrlAuthType", function_url_auth_type),
                             ("EventSourceToken", event_source_token)):
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidParameterValueException(
                    f"{label} must be a non-empty string, got {value!r}.")
        with self._lock:
            key, resource = self._policy_resource(name, qualifier)
            statements = self._policies.setdefault(key, {})
            if statement_id in statements:
                raise ResourceConflictException(
                    f"The statement id ({statement_id}) provided already exists. Please provide "
                    "a new statement id, or remove the existing statement.")
            statement: dict[str, Any] = {
                "Sid": statement_id,
                "Effect": "Allow",
                "Principal": _principal(principal, self.loop.partition),
                "Action": action,
                "Resource": resource,
            }
            condition: dict[str, dict[str, str]] = {}
            if source_arn is not None:
                condition.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
            if source_account is not None:
                condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = source_account
            if principal_org_id is not None:
                condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = principal_org_id
            if function_url_auth_type is not None:
                condition.setdefault("StringEquals", {})[
                    "lambda:FunctionUrlAuthType"] = function_url_auth_type
            if event_source_token is not None:
                condition.setdefault("StringEquals", {})[
                    "lambda:EventSourceToken"] = event_source_token
            if condition:
                statement["Condition"] = condition
            statements[statement_id] = statement
            self._policy_revisions[key] = self.loop.new_id()
            return dict(statement)

    def remove_permission(self, name: str, statement_id: str, *,
                          qualifier: str | None = None) -> None:
        """Remove a statement (RemovePermission). Raises ResourceNotFoundException."""
        if not isinstance(statement_id, str):
            raise InvalidParameterValueException(
                f"StatementId must be a string, got {statement_id!r}.")
        with self._lock:
            key, _ = self._policy_resource(name, qualifier)
            statements = self._policies.get(key)
            if not statements:
                raise ResourceNotFoundException(_NO_POLICY)
            if statements.pop(statement_id, None) is None:
                raise ResourceNotFoundException(
                    f"Statement {statement_id} is not found in resource policy.")
            if not statements:
                del self._policies[key]
            self._policy_revisions[key] = self.loop.new_id()

    def get_policy(self, name: str, *, qualifier: str | None = None) -> dict[str, Any]:
        """The policy document (GetPolicy). Raises ResourceNotFoundException ("The resource
        you requested does not exist.") when there is no statement."""
        with self._lock:
            key, _ = self._policy_resource(name, qualifier)
            statements = self._policies.get(key)
            if not statements:
                raise ResourceNotFoundException(_NO_RESOURCE)
            return {"Version": "2012-10-17", "Id": "default",
                    "Statement": [dict(s) for s in statements.values()]}

    def policy_revision(self, name: str, qualifier: str | None = None) -> str:
        """The ``RevisionId`` of a policy (changes with every statement added or removed)."""
        with self._lock:
            key, _ = self._policy_resource(name, qualifier)
            return self._policy_revisions.setdefault(key, self.loop.new_id())

    def _forget_policies(self, name: str) -> None:
        for key in [k for k in self._policies if k[0] == name]:
            del self._policies[key]
        for key in [k for k in self._policy_revisions if k[0] == name]:
            del self._policy_revisions[key]

    def allows(self, fn: Function, principal: str, *, source_arn: str | None = None,
               source_account: str | None = None, qualifier: str | None = None,
               action: str = "lambda:InvokeFunction") -> bool:
        """Whether ``fn``'s policy (of ``qualifier``) lets ``principal`` (a service such as
        ``"sns.amazonaws.com"`` or an account id) do ``action`` for ``source_arn``."""
        from .function import Function

        if not isinstance(fn, Function):
            raise InvalidParameterValueException(f"allows needs a Function, got {fn!r}.")
        for label, value in (("principal", principal), ("action", action)):
            if not isinstance(value, str):
                raise InvalidParameterValueException(f"{label} must be a string, got {value!r}.")
        for label, optional in (("source_arn", source_arn), ("source_account", source_account),
                                ("qualifier", qualifier)):
            if optional is not None and not isinstance(optional, str):
                raise InvalidParameterValueException(
                    f"{label} must be a string, got {optional!r}.")
        with self._lock:
            key = (fn.name, None if qualifier in (None, "$LATEST") else qualifier)
            for statement in self._policies.get(key, {}).values():
                if _matches(statement, principal, action, source_arn, source_account,
                            self.loop.partition):
                    return True
            return False


def _matches(statement: dict[str, Any], principal: str, action: str, source_arn: str | None,
             source_account: str | None, partition: str) -> bool:
    if statement["Effect"] != "Allow":
        return False
    wanted = statement["Action"]
    if wanted not in (action, "lambda:*", "*"):
        return False
    who = statement["Principal"]
    if who != "*":
        allowed = who.get("Service") or who.get("AWS")
        if allowed not in (principal, f"arn:{partition}:iam::{principal}:root"):
            return False
    condition = statement.get("Condition", {})
    pattern = condition.get("ArnLike", {}).get("AWS:SourceArn")
    if pattern is not None and (source_arn is None or not fnmatch.fnmatchcase(source_arn, pattern)):
        return False
    account = condition.get("StringEquals", {}).get("AWS:SourceAccount")
    return account is None or account == source_account
