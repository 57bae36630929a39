"""decoupling: SQS queues, SNS topics and Lambda-style functions, in process.

Everything shares one :class:`EventLoop` (an AWS "account") and its clock: real time with
:class:`MonotonicClock`, or virtual time with :class:`ManualClock` for tests and simulations.
"""

from . import errors
from .clock import Clock, ManualClock, MonotonicClock
from .errors import DecouplingError
from .fifo import FifoQueue
from .loop import EventLoop, TimerHandle
from .message import Message, MessageAttributeValue
from .queue import BatchResult, Queue, SendResult
from .queue_config import RedriveAllowPolicy, RedrivePolicy
from .schedule import CronSchedule, RateSchedule, parse_schedule

__all__ = [
    "BatchResult",
    "Clock",
    "CronSchedule",
    "DecouplingError",
    "EventLoop",
    "FifoQueue",
    "ManualClock",
    "Message",
    "MessageAttributeValue",
    "MonotonicClock",
    "Queue",
    "RateSchedule",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SendResult",
    "TimerHandle",
    "errors",
    "parse_schedule",
]

__version__ = "0.1.0"
