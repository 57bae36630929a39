"""decoupling: SQS queues, SNS topics and Lambda-style functions, in process.

Everything shares one :class:`EventLoop` (an AWS "account") and its clock: real time with
:class:`MonotonicClock`, or virtual time with :class:`ManualClock` for tests and simulations.
"""

# Names load on first use (PEP 562): ``import decoupling`` stays cheap, and a program pays only
# for the services it touches (sqlite3 with SqliteStore, http.client with an http subscription).
# The ``if TYPE_CHECKING`` block gives type checkers and IDEs the same names eagerly.
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import errors
    from .clock import Clock, ManualClock, MonotonicClock
    from .errors import DecouplingError
    from .functions.consumer_pool import ConsumerPool
    from .functions.context import LambdaContext
    from .functions.event_sources import EventSourceMapping
    from .functions.function import ExecutionEnvironment, Function
    from .functions.invocation import InvocationResult
    from .functions.logs import LogEvent, LogGroup, LogStream
    from .functions.runtime import FunctionRuntime
    from .functions.schedule_expressions import CronSchedule, RateSchedule, parse_schedule
    from .functions.schedules import ScheduleRule
    from .functions.usage import CostReport, InvocationRecord, LambdaPrices
    from .functions.versions import Alias, FunctionVersion
    from .loop import EventLoop, TimerHandle
    from .message import Message, MessageAttributeValue
    from .observe.chaos import Chaos
    from .observe.journal import Journal, JournalEvent
    from .observe.metrics import Metrics, Statistics
    from .observe.request_meter import Bill, Prices, RequestMeter, SnsPrices, SqsPrices
    from .s3.bucket import (
        Bucket,
        DeleteResult,
        GetResult,
        ListResult,
        ObjectInfo,
        ObjectStream,
        VersionList,
    )
    from .s3.multipart import PartInfo
    from .s3.notifications import NotificationConfiguration
    from .sns.delivery import ClientDeliveryError, OutboxEntry, ProtocolSpec, register_protocol
    from .sns.mail import EmailTransport, SmtpEmail
    from .sns.message import Notification
    from .sns.platform import PlatformApplication, PlatformEndpoint, PushMessage, PushTransport
    from .sns.policy import RetryPolicy
    from .sns.sms import SmsMessage, SmsTransport
    from .sns.sms_account import SmsAccount
    from .sns.subscription import Subscription
    from .sns.topic import PublishResult, Topic
    from .sqs.config import RedriveAllowPolicy, RedrivePolicy
    from .sqs.fifo import FifoQueue
    from .sqs.large_payloads import PayloadOffload
    from .sqs.queue import BatchResult, Queue, SendResult
    from .store.sqlite_store import SqliteStore

#: Public name -> the module (relative to this package) that defines it.
_HOMES: dict[str, str] = {
    "Clock": "clock",
    "ManualClock": "clock",
    "MonotonicClock": "clock",
    "DecouplingError": "errors",
    "ConsumerPool": "functions.consumer_pool",
    "LambdaContext": "functions.context",
    "EventSourceMapping": "functions.event_sources",
    "ExecutionEnvironment": "functions.function",
    "Function": "functions.function",
    "InvocationResult": "functions.invocation",
    "LogEvent": "functions.logs",
    "LogGroup": "functions.logs",
    "LogStream": "functions.logs",
    "FunctionRuntime": "functions.runtime",
    "CronSchedule": "functions.schedule_expressions",
    "RateSchedule": "functions.schedule_expressions",
    "parse_schedule": "functions.schedule_expressions",
    "ScheduleRule": "functions.schedules",
    "CostReport": "functions.usage",
    "InvocationRecord": "functions.usage",
    "LambdaPrices": "functions.usage",
    "Alias": "functions.versions",
    "FunctionVersion": "functions.versions",
    "EventLoop": "loop",
    "TimerHandle": "loop",
    "Message": "message",
    "MessageAttributeValue": "message",
    "Chaos": "observe.chaos",
    "Journal": "observe.journal",
    "JournalEvent": "observe.journal",
    "Metrics": "observe.metrics",
    "Statistics": "observe.metrics",
    "Bill": "observe.request_meter",
    "Prices": "observe.request_meter",
    "RequestMeter": "observe.request_meter",
    "SnsPrices": "observe.request_meter",
    "SqsPrices": "observe.request_meter",
    "Bucket": "s3.bucket",
    "DeleteResult": "s3.bucket",
    "GetResult": "s3.bucket",
    "ListResult": "s3.bucket",
    "ObjectInfo": "s3.bucket",
    "ObjectStream": "s3.bucket",
    "VersionList": "s3.bucket",
    "PartInfo": "s3.multipart",
    "NotificationConfiguration": "s3.notifications",
    "ClientDeliveryError": "sns.delivery",
    "OutboxEntry": "sns.delivery",
    "ProtocolSpec": "sns.delivery",
    "register_protocol": "sns.delivery",
    "Notification": "sns.message",
    "EmailTransport": "sns.mail",
    "SmtpEmail": "sns.mail",
    "PlatformApplication": "sns.platform",
    "PlatformEndpoint": "sns.platform",
    "PushMessage": "sns.platform",
    "PushTransport": "sns.platform",
    "SmsMessage": "sns.sms",
    "SmsTransport": "sns.sms",
    "SmsAccount": "sns.sms_account",
    "RetryPolicy": "sns.policy",
    "Subscription": "sns.subscription",
    "PublishResult": "sns.topic",
    "Topic": "sns.topic",
    "RedriveAllowPolicy": "sqs.config",
    "RedrivePolicy": "sqs.config",
    "FifoQueue": "sqs.fifo",
    "PayloadOffload": "sqs.large_payloads",
    "BatchResult": "sqs.queue",
    "Queue": "sqs.queue",
    "SendResult": "sqs.queue",
    "SqliteStore": "store.sqlite_store",
}

__all__ = [
    "VersionList",
    "NotificationConfiguration",
    "PartInfo",
    "ObjectInfo",
    "ObjectStream",
    "ListResult",
    "GetResult",
    "DeleteResult",
    "Bucket",
    "BatchResult",
    "Bill",
    "ClientDeliveryError",
    "Clock",
    "ConsumerPool",
    "Chaos",
    "CostReport",
    "CronSchedule",
    "DecouplingError",
    "EmailTransport",
    "EventLoop",
    "EventSourceMapping",
    "ExecutionEnvironment",
    "FifoQueue",
    "Function",
    "FunctionRuntime",
    "FunctionVersion",
    "Alias",
    "InvocationRecord",
    "InvocationResult",
    "Journal",
    "JournalEvent",
    "LambdaContext",
    "LambdaPrices",
    "LogEvent",
    "LogGroup",
    "LogStream",
    "ManualClock",
    "Message",
    "MessageAttributeValue",
    "Metrics",
    "MonotonicClock",
    "Notification",
    "OutboxEntry",
    "PayloadOffload",
    "Prices",
    "PlatformApplication",
    "PlatformEndpoint",
    "ProtocolSpec",
    "PublishResult",
    "PushMessage",
    "PushTransport",
    "Queue",
    "RateSchedule",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "RequestMeter",
    "RetryPolicy",
    "ScheduleRule",
    "SendResult",
    "SmsAccount",
    "SmsMessage",
    "SmsTransport",
    "SmtpEmail",
    "SnsPrices",
    "SqsPrices",
    "SqliteStore",
    "Statistics",
    "Subscription",
    "TimerHandle",
    "Topic",
    "errors",
    "parse_schedule",
    "register_protocol",
]

__version__ = "0.1.0"


if not TYPE_CHECKING:  # type checkers see the imports above, and flag a misspelt name

    def __getattr__(name: str) -> Any:
        if name == "errors":
            value: Any = import_module(".errors", __name__)
        elif name in _HOMES:
            value = getattr(import_module("." + _HOMES[name], __name__), name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
