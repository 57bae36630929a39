"""``decoupling.aws``: the same ``Queue``, ``FifoQueue``, ``Topic`` and ``FunctionRuntime`` on
real SQS and SNS, or on any SQS-compatible server (ElasticMQ, LocalStack): the
``decoupling[aws]`` extra (boto3 only)::

    import decoupling as dc
    import decoupling.aws

    account = decoupling.aws.connect(region_name="eu-west-1")   # or dc.EventLoop() in process
    orders = dc.Queue(account, "orders", visibility_timeout=30)

What lives here: :func:`connect` and :class:`Account` (``account``), automatic request batching
(:class:`Batching`, ``_batcher``), the request meter (``meter``), error translation
(``_errors``), and the AWS implementations of the public classes (``queue``, ``topic``,
``runtime``). The public classes find them through ``account._implementation(cls)``.

May import: everything below it (the shared modules, ``_core``, ``sqs``, ``sns``,
``functions``, ``observe``, ``boto``). Nothing else imports it at run time; ``import
decoupling`` does not import boto3.
"""

from __future__ import annotations

from .account import Account, Batching, connect
from .meter import AccountMeter
from .queue import AwsFifoQueue, AwsQueue
from .runtime import AwsEventSourceMapping, AwsFunctionRuntime
from .topic import AwsSubscription, AwsTopic

__all__ = [
    "Account",
    "AccountMeter",
    "AwsEventSourceMapping",
    "AwsFifoQueue",
    "AwsFunctionRuntime",
    "AwsQueue",
    "AwsSubscription",
    "AwsTopic",
    "Batching",
    "connect",
]
