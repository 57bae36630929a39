"""The ``lambda`` subscription protocol: SNS topics invoking functions of a FunctionRuntime.

Registered with the topic's protocol registry when this module is imported, which
:mod:`decoupling.functions.runtime` does: a function exists only through a runtime. A subscription's endpoint is a :class:`~decoupling.functions.function.Function` or a
function ARN of the topic's account. A qualified ARN (``...:function:f:live``) invokes that version or alias. SNS invokes the
function asynchronously (``Event``), with
the record of the Lambda Developer Guide's "Using Lambda with Amazon SNS": ``{"Records":
[{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn", "Sns": {"Type",
"MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
"SigningCertUrl", "UnsubscribeUrl", "MessageAttributes": {name: {"Type", "Value"}}}}]}`` (built
by :meth:`~decoupling.sns.message.Notification.lambda_event`). Retries of the function's errors
are then Lambda's asynchronous retries (:mod:`decoupling.functions.async_invoke`); SNS retries only a
delivery that could not be queued, along the AWS-managed policy. A missing function is a client
error (no retry; the subscription's dead-letter queue, if any). With the runtime's
``enforce_resource_policies`` on, so is a function whose resource policy does not allow
``sns.amazonaws.com`` from the topic (see :mod:`decoupling.functions.policy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DecouplingError, InvalidParameter
from ..sns.delivery import ClientDeliveryError, protocol, register_protocol
from .function import Function

if TYPE_CHECKING:
    from ..loop import EventLoop
    from ..sns.message import Notification
    from ..sns.subscription import Subscription

__all__ = ["register"]


def _resolve(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    if isinstance(endpoint, Function):
        if endpoint.runtime.loop is not loop:
            raise InvalidParameter("Invalid parameter: Endpoint: the function belongs to another account")
        return endpoint.arn, endpoint
    if isinstance(endpoint, str):
        parts = endpoint.split(":")
        if (len(parts) in (7, 8) and parts[:3] == ["arn", "aws", "lambda"] and parts[5] == "function"
                and parts[3] == loop.region and parts[4] == loop.account_id):
            fn = loop._lookup("lambda", parts[6])
            if isinstance(fn, Function):
                return (endpoint if len(parts) == 8 else fn.arn), fn
        raise InvalidParameter(f"Invalid parameter: Lambda endpoint ARN {endpoint!r} names no function")
    raise InvalidParameter("Invalid parameter: a lambda endpoint is a Function or a function ARN")


def _deliver(subscription: Subscription, notification: Notification) -> None:
    fn: Function = subscription.target
    runtime = fn.runtime
    endpoint = subscription.endpoint
    # a qualified ARN (":1", ":live") invokes that version or alias
    parts = endpoint.split(":") if isinstance(endpoint, str) else []
    qualifier = parts[7] if len(parts) == 8 else None
    if runtime.enforce_resource_policies and not runtime.allows(
            fn, "sns.amazonaws.com", source_arn=subscription.topic.arn,
            source_account=subscription.topic.loop.account_id, qualifier=qualifier):
        # Lambda refuses the invoke (AccessDeniedException): a client error for SNS
        raise ClientDeliveryError(
            f"AccessDeniedException: the resource policy of {fn.arn} does not allow "
            f"sns.amazonaws.com to invoke it from {subscription.topic.arn}")
    try:
        runtime.invoke(fn.name, notification.lambda_event(), "Event", qualifier=qualifier)
    except DecouplingError as exc:
        raise ClientDeliveryError(f"{exc.code}: {exc.message}") from None


def register() -> None:
    """Register the ``lambda`` protocol (idempotent)."""
    if protocol("lambda") is None:
        register_protocol("lambda", _deliver, resolve=_resolve, mode="loop", retry="managed",
                          large_messages=True)


register()
