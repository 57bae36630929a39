"""decoupling: SQS queues, SNS topics and Lambda-style functions, in process.

Everything shares one :class:`EventLoop` (an AWS "account") and its clock: real time with
:class:`MonotonicClock`, or virtual time with :class:`ManualClock` for tests and simulations.
"""

from . import errors
from . import lambda_subscription as _lambda_subscription  # noqa: F401  (SNS 'lambda' protocol)
from .billing import Bill, Prices, RequestMeter, SnsPrices, SqsPrices
from .chaos import Chaos
from .clock import Clock, ManualClock, MonotonicClock
from .consumer_pool import ConsumerPool
from .context import LambdaContext
from .errors import DecouplingError
from .event_sources import EventSourceMapping
from .fifo import FifoQueue
from .functions import FunctionRuntime
from .invocation import InvocationResult
from .journal import Journal, JournalEvent
from .lambda_function import ExecutionEnvironment, Function
from .loop import EventLoop, TimerHandle
from .message import Message, MessageAttributeValue
from .metering import CostReport, InvocationRecord, LambdaPrices
from .metrics import Metrics, Statistics
from .queue import BatchResult, Queue, SendResult
from .queue_config import RedriveAllowPolicy, RedrivePolicy
from .schedule import CronSchedule, RateSchedule, parse_schedule
from .schedules import ScheduleRule
from .sns_delivery import ClientDeliveryError, OutboxEntry, ProtocolSpec, register_protocol
from .sns_message import Notification
from .sns_policy import RetryPolicy
from .store import SqliteStore
from .subscription import Subscription
from .topic import PublishResult, Topic

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
