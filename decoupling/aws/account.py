"""``connect()`` and ``Account``: one set of boto3 clients that ``Queue``, ``FifoQueue``,
``Topic`` and ``FunctionRuntime`` accept where they take an ``EventLoop``.

The public classes dispatch on what they are given: ``Queue(account, "orders")`` asks the
account for its implementation (``account._implementation(Queue)``, found by duck typing, so
nothing below ``decoupling.aws`` imports it) and gets an
:class:`~decoupling.aws.queue.AwsQueue`, a subclass of ``Queue`` with every public method
reimplemented over boto3.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import attrs
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from ..errors import InvalidParameterValue, UnsupportedOperation
from ..loop import EventLoop
from ._errors import translate
from .meter import AccountMeter

if TYPE_CHECKING:
    from ._batcher import Coalescer

__all__ = ["Account", "Batching", "connect"]

_SESSION_ARGS = frozenset({
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region_name",
    "profile_name", "botocore_session",
})
_CLIENT_ARGS = frozenset({"endpoint_url", "config", "verify", "use_ssl", "api_version"})
#: Throttling and 5xx answers are retried by botocore's "standard" mode (up to 3 attempts,
#: exponential backoff with jitter; https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
#: 50 pooled connections let concurrent callers and pollers share the clients.
_DEFAULT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3},
                         max_pool_connections=50)


@attrs.frozen
class Batching:
    """Automatic request batching (like the AWS SDK for Java v2's ``SqsAsyncBatchManager``).

    Concurrent ``send``, ``delete`` and ``change_visibility`` calls on one queue are coalesced
    into ``SendMessageBatch`` / ``DeleteMessageBatch`` / ``ChangeMessageVisibilityBatch``
    requests; each caller blocks until its entry's result is known and gets exactly what the
    single call returns or raises.

    Args:
        max_wait: seconds the first call of a batch waits for others (default 0.02). A batch
            goes as soon as it holds ``max_entries``.
        max_entries: entries per request, 1-10 (default 10, the SQS maximum).

    Messages larger than 1/10 of a batch's 1 MiB (102,400 bytes) are sent on their own.
    """

    max_wait: float = 0.02
    max_entries: int = 10

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_wait, bool) or not isinstance(self.max_wait, (int, float)) or not (
            0 <= self.max_wait <= 10
        ):
            raise InvalidParameterValue(f"max_wait must be 0-10 seconds, got {self.max_wait!r}.")
        if isinstance(self.max_entries, bool) or not isinstance(self.max_entries, int) or not (
            1 <= self.max_entries <= 10
        ):
            raise InvalidParameterValue(f"max_entries must be 1-10, got {self.max_entries!r}.")


if TYPE_CHECKING:
    # For type checkers an account goes wherever an EventLoop goes (Queue(account, ...) checks
    # under mypy); at run time it is no EventLoop, and what only a loop has raises a clear
    # UnsupportedOperation (__getattr__ below).
    _AccountBase = EventLoop
else:
    _AccountBase = object


class Account(_AccountBase):
    """An AWS account (or an SQS/SNS-compatible server) reached through boto3.

    Made by :func:`connect`. Pass it to ``Queue``, ``FifoQueue``, ``Topic`` and
    ``FunctionRuntime`` in place of an ``EventLoop``.

    Attributes:
        region: the client's region.
        sqs, sns: the boto3 clients (thread-safe; use them for anything not wrapped here).
        meter: the :class:`~decoupling.aws.meter.AccountMeter` of the requests sent.
        batching: the :class:`Batching` settings, or ``None`` (every call is its own request).
        poll_wait_seconds: the long-poll wait of self-hosted event source pollers (0-20 s).
    """

    def __init__(self, session: Any, client_args: dict[str, Any], batching: Batching | None,
                 poll_wait_seconds: int) -> None:
        self.session = session
        self.sqs: Any = session.client("sqs", **client_args)
        self.sns: Any = session.client("sns", **client_args)
        self.region: str = self.sqs.meta.region_name
        self.partition: str = self.sqs.meta.partition or "aws"
        self.meter = AccountMeter()
        self.batching = batching
        self.poll_wait_seconds = poll_wait_seconds
        self._coalescer: Coalescer | None = None
        if batching is not None:
            from ._batcher import Coalescer

            self._coalescer = Coalescer(batching.max_wait, batching.max_entries)

    # -- dispatch from the public classes ------------------------------------------------------

    def _implementation(self, public: type) -> type:
        """The AWS class for a public class (``Queue`` -> ``AwsQueue``)."""
        from ..functions.runtime import FunctionRuntime
        from ..sns.topic import Topic
        from ..sqs.fifo import FifoQueue
        from ..sqs.queue import Queue
        from .queue import AwsFifoQueue, AwsQueue
        from .runtime import AwsFunctionRuntime
        from .topic import AwsTopic

        table: dict[type, type] = {
            Queue: AwsQueue, FifoQueue: AwsFifoQueue, Topic: AwsTopic,
            FunctionRuntime: AwsFunctionRuntime,
        }
        impl = table.get(public)
        if impl is not None:
            return impl
        if public in table.values():
            return public
        raise UnsupportedOperation(
            f"{public.__name__} has no AWS implementation; use Queue, FifoQueue, Topic or "
            "FunctionRuntime on an AWS account."
        )

    # -- calls ---------------------------------------------------------------------------------

    def _call(self, client: Any, service: str, action: str, method: str, resource: str,
              fifo: bool, payload_bytes: int, params: dict[str, Any]) -> Any:
        """One API call, metered; botocore errors raised as ``decoupling.errors``."""
        self.meter._count(service, resource, action, fifo, payload_bytes)
        try:
            return getattr(client, method)(**params)
        except (ClientError, ParamValidationError) as error:
            raise translate(error) from None

    def in_process_only(self, feature: str) -> UnsupportedOperation:
        """The error for a feature that exists only in process (raise it)."""
        return UnsupportedOperation(
            f"{feature} exists only in process (an EventLoop); it is not available on an AWS "
            "account. See the README, 'When you outgrow one machine'."
        )

    def __getattr__(self, name: str) -> Any:
        # What in-process tools (Journal, Metrics, RequestMeter, Chaos, ConsumerPool, replay)
        # reach for on an EventLoop: a clear error instead of an AttributeError deep inside.
        if not name.startswith("__") and name in _loop_names():
            raise self.in_process_only(f"EventLoop.{name.lstrip('_')} (what in-process tools "
                                       "such as Journal, Metrics, RequestMeter, Chaos and "
                                       "ManualClock need)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def close(self) -> None:
        """Close the clients' connection pools."""
        for client in (self.sqs, self.sns):
            client.close()

    def __repr__(self) -> str:
        return f"Account(region={self.region!r}, endpoint={self.sqs.meta.endpoint_url!r})"


@functools.cache
def _loop_names() -> frozenset[str]:
    names = set(dir(EventLoop))
    names.update(("clock", "account_id", "_lock", "_tap", "_store", "_resources", "_timers",
                  "_deleted_at", "_driver", "_running", "_executor"))
    return frozenset(names)


def connect(*, batching: Batching | None = None, poll_wait_seconds: int = 20,
            **kwargs: Any) -> Account:
    """An :class:`Account` over boto3.

    Args:
        batching: a :class:`Batching` to coalesce concurrent sends, deletes and visibility
            changes into batch requests (default ``None``: one request per call).
        poll_wait_seconds: long-poll wait of self-hosted event source pollers (0-20; default
            20, as Lambda's pollers). Stopping a mapping waits for its current poll.
        **kwargs: what ``boto3.session.Session`` takes (``region_name``, ``profile_name``,
            ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``,
            ``botocore_session``) and what ``Session.client`` takes (``endpoint_url`` — e.g.
            an ElasticMQ or LocalStack server —, ``config`` (a ``botocore.config.Config``,
            merged over the defaults: standard retry mode, 50 pooled connections),
            ``verify``, ``use_ssl``).

    Raises:
        InvalidParameterValue: an unknown keyword or a bad ``poll_wait_seconds``.
        UnsupportedOperation: ``clock=`` or ``store=`` (in process only).
    """
    for name in ("clock", "store"):
        if name in kwargs:
            raise UnsupportedOperation(
                f"connect() takes no {name}: a {'ManualClock' if name == 'clock' else 'store'} "
                "exists only in process (EventLoop); time on AWS is real and SQS keeps the "
                "messages."
            )
    unknown = set(kwargs) - _SESSION_ARGS - _CLIENT_ARGS
    if unknown:
        raise InvalidParameterValue(
            f"connect() got unknown argument(s) {', '.join(sorted(unknown))}; it takes boto3 "
            f"session and client arguments: {', '.join(sorted(_SESSION_ARGS | _CLIENT_ARGS))}."
        )
    if isinstance(poll_wait_seconds, bool) or not isinstance(poll_wait_seconds, int) or not (
        0 <= poll_wait_seconds <= 20
    ):
        raise InvalidParameterValue(
            f"poll_wait_seconds must be an integer from 0 to 20, got {poll_wait_seconds!r}."
        )
    if batching is not None and not isinstance(batching, Batching):
        raise InvalidParameterValue(f"batching must be a Batching, got {batching!r}.")
    session = boto3.session.Session(**{k: v for k, v in kwargs.items() if k in _SESSION_ARGS})
    client_args = {k: v for k, v in kwargs.items() if k in _CLIENT_ARGS}
    user_config = client_args.get("config")
    client_args["config"] = (_DEFAULT_CONFIG if user_config is None
                             else _DEFAULT_CONFIG.merge(user_config))
    return Account(session, client_args, batching, poll_wait_seconds)
