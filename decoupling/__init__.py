"""decoupling: SQS queues, SNS topics and Lambda-style functions, in process.

Everything shares one :class:`EventLoop` (an AWS "account") and its clock: real time with
:class:`MonotonicClock`, or virtual time with :class:`ManualClock` for tests and simulations.
"""

from . import errors
from .clock import Clock, ManualClock, MonotonicClock
from .errors import DecouplingError
from .functions import topic_delivery as _lambda_subscription  # noqa: F401  (SNS 'lambda' protocol)
from .functions.consumer_pool import ConsumerPool
from .functions.context import LambdaContext
from .functions.event_sources import EventSourceMapping
from .functions.function import ExecutionEnvironment, Function
from .functions.invocation import InvocationResult
from .functions.runtime import FunctionRuntime
from .functions.schedule_expressions import CronSchedule, RateSchedule, parse_schedule
from .functions.schedules import ScheduleRule
from .functions.usage import CostReport, InvocationRecord, LambdaPrices
from .loop import EventLoop, TimerHandle
from .message import Message, MessageAttributeValue
from .observe.chaos import Chaos
from .observe.journal import Journal, JournalEvent
from .observe.metrics import Metrics, Statistics
from .observe.request_meter import Bill, Prices, RequestMeter, SnsPrices, SqsPrices
from .sns.delivery import ClientDeliveryError, OutboxEntry, ProtocolSpec, register_protocol
from .sns.message import Notification
from .sns.policy import RetryPolicy
from .sns.subscription import Subscription
from .sns.topic import PublishResult, Topic
from .sqs.config import RedriveAllowPolicy, RedrivePolicy
from .sqs.fifo import FifoQueue
from .sqs.queue import BatchResult, Queue, SendResult
from .store.sqlite_store import SqliteStore

__all__ = [
    "BatchResult",
    "Bill",
    "ClientDeliveryError",
    "Clock",
    "ConsumerPool",
    "Chaos",
    "CostReport",
    "CronSchedule",
    "DecouplingError",
    "EventLoop",
    "EventSourceMapping",
    "ExecutionEnvironment",
    "FifoQueue",
    "Function",
    "FunctionRuntime",
    "InvocationRecord",
    "InvocationResult",
    "Journal",
    "JournalEvent",
    "LambdaContext",
    "LambdaPrices",
    "ManualClock",
    "Message",
    "MessageAttributeValue",
    "Metrics",
    "MonotonicClock",
    "Notification",
    "OutboxEntry",
    "Prices",
    "ProtocolSpec",
    "PublishResult",
    "Queue",
    "RateSchedule",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "RequestMeter",
    "RetryPolicy",
    "ScheduleRule",
    "SendResult",
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
