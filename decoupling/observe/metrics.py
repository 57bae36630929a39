"""``Metrics``: CloudWatch's SQS, SNS and Lambda metrics, per resource, on the loop's clock.

Each metric keeps CloudWatch's name and meaning (namespaces ``AWS/SQS``, ``AWS/SNS`` and
``AWS/Lambda``; the dimension is the queue, topic or function name):

SQS (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html)
    ``NumberOfMessagesSent`` — messages added to the queue by a send (yours, or a topic's
    delivery). A message moved in as a dead letter is *not* counted ("if a message is sent to a
    dead-letter queue as a result of a failed processing attempt, it isn't captured by this
    metric"); neither is one moved back by a message move task, nor a FIFO duplicate that was
    accepted but not stored. ``NumberOfMessagesReceived`` — messages returned by receives.
    ``NumberOfMessagesDeleted`` — every successful DeleteMessage with a valid receipt handle,
    *including* repeated deletes and deletes with an older handle, as AWS counts them.
    ``NumberOfEmptyReceives`` — ReceiveMessage calls that returned no message.
    ``SentMessageSize`` — bytes of each message sent (body plus attributes; use
    :meth:`Metrics.statistics` for SampleCount/Sum/Minimum/Maximum/Average).
    ``ApproximateNumberOfMessagesVisible`` / ``...NotVisible`` / ``...Delayed`` — gauges.
    ``ApproximateAgeOfOldestMessage`` — seconds since the oldest message still held was sent;
    on a standard queue a message received 3 times or more and not deleted no longer counts
    (SQS moves it to the back); in a dead-letter queue a dead letter's age counts from its move;
    no value while the queue is empty.
SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html)
    ``NumberOfMessagesPublished``; ``PublishSize`` (bytes of message plus attributes);
    ``NumberOfNotificationsDelivered`` (a subscription accepted the message);
    ``NumberOfNotificationsFailed`` (SQS, Lambda, email, SMS and other endpoints: 1 when SNS
    stops trying; HTTP/S: every failed attempt, retries included; filtered-out messages never);
    ``NumberOfNotificationsFilteredOut`` (once per subscription whose filter policy rejected
    the message).
Lambda (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)
    ``Invocations`` (every invocation that ran, failed or not; throttled requests are not
    counted — it equals the requests billed); ``Errors`` (function errors, timeouts included);
    ``Throttles`` (requests refused with ``TooManyRequestsException``); ``Duration`` (ms the
    handler ran, init excluded); ``ConcurrentExecutions`` (instances processing events; its
    Maximum per period is what CloudWatch plots); ``IteratorAge`` — CloudWatch reports it for
    stream sources only; here it is the same measure for SQS event source mappings: the age,
    in ms, of the last record of a batch when the mapping invokes the function.

Readable at any time (:meth:`Metrics.total`, :meth:`Metrics.statistics`, :meth:`Metrics.gauge`)
and as a time series of fixed periods on the loop's clock (:meth:`Metrics.series`): period *k*
covers ``[k * period, (k + 1) * period)`` seconds. Counts and distributions land in the period
of the loop time they happened at. Gauges are sampled at each period's end, after the loop's
timers due by then have fired: on a :class:`~decoupling.ManualClock` by a clock listener that
runs as time is advanced past each boundary (no timer of its own, so ``run_until_idle()`` and
auto-jumping waits behave exactly as without metrics); on a real clock by a loop timer.

Kept as CloudWatch keeps them, so a process that runs for months holds a bounded amount
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html,
"Amazon CloudWatch retains metric data as follows"): points of a period under 60 s for 3
hours, 1-minute points for 15 days, 5-minute points for 63 days, 1-hour points for 455 days.
Older points are rolled up (summed, min and max kept) into the next resolution that is a
multiple of the period, then dropped after 455 days (or ``retention``); :meth:`Metrics.series`
reads any resolution still held.

Memory stays flat however long the loop runs: only the points of the last ``memory_window``
seconds of loop time (default 1 day) are held in memory (32 bytes a period, empty periods
included); older ones are written to SQLite in bulk when the sampler rolls up (one transaction
per roll-up, on the loop's clock, never per event: about 23 bytes a point with samples on disk)
and rolled up there on the same schedule, so the file is bounded by the 455-day schedule
(about 50,000 points a metric at 1-minute resolution). The file is the loop's durable store when
it has one (tables ``metric_points`` and ``metric_keys``; a loop that reopens the store reads
them back and counting goes on from them), otherwise a private temporary file
(``decoupling-metrics-*.sqlite3`` in :func:`tempfile.gettempdir`) made on the first spill and
removed when the ``Metrics`` is closed or garbage collected. Reading (:meth:`Metrics.series`,
:meth:`Metrics.statistics`, :meth:`Metrics.total` over a range) merges disk and memory.
``memory_window=None`` holds every point in memory instead (then memory grows with the
schedule: about 1.4 MB a metric at 455 days).

SQS requests are counted into per-queue counters of the current period (a few integer
additions per request, merged into the points once a period or before a read), not as a point
update per metric. With no ``Metrics`` attached, queues, topics and functions pay one ``if``
per request.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..clock import ManualClock
from ..errors import InvalidParameterValue
from ..message import message_size
from ..sns.message import message_size as sns_message_size
from ._spill import Row, Run, Spill
from ._tap import Tap, time_reader

if TYPE_CHECKING:
    from .._core.ledger import Entry
    from ..functions.runtime import Function, _Invocation
    from ..loop import EventLoop, TimerHandle
    from ..message import Message
    from ..sns.message import Published
    from ..sns.topic import Topic
    from ..sqs._state import _Record
    from ..sqs.queue import Queue

__all__ = ["Metrics", "Statistics", "Datapoint", "METRICS", "MetricSpec", "RETENTION"]

SQS: Final = "AWS/SQS"
SNS: Final = "AWS/SNS"
LAMBDA: Final = "AWS/Lambda"
STATISTICS: Final = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")


@attrs.frozen(slots=True)
class MetricSpec:
    """What one metric is: its namespace, kind (``count``, ``distribution`` or ``gauge``) and
    unit (``Count``, ``Bytes``, ``Seconds``, ``Milliseconds``)."""

    namespace: str
    kind: str
    unit: str


#: Every metric this module keeps, by CloudWatch name.
METRICS: Final[dict[str, MetricSpec]] = {
    "NumberOfMessagesSent": MetricSpec(SQS, "count", "Count"),
    "NumberOfMessagesReceived": MetricSpec(SQS, "count", "Count"),
    "NumberOfMessagesDeleted": MetricSpec(SQS, "count", "Count"),
    "NumberOfEmptyReceives": MetricSpec(SQS, "count", "Count"),
    "SentMessageSize": MetricSpec(SQS, "distribution", "Bytes"),
    "ApproximateNumberOfMessagesVisible": MetricSpec(SQS, "gauge", "Count"),
    "ApproximateNumberOfMessagesNotVisible": MetricSpec(SQS, "gauge", "Count"),
    "ApproximateNumberOfMessagesDelayed": MetricSpec(SQS, "gauge", "Count"),
    "ApproximateAgeOfOldestMessage": MetricSpec(SQS, "gauge", "Seconds"),
    "NumberOfMessagesPublished": MetricSpec(SNS, "count", "Count"),
    "PublishSize": MetricSpec(SNS, "distribution", "Bytes"),
    "NumberOfNotificationsDelivered": MetricSpec(SNS, "count", "Count"),
    "NumberOfNotificationsFailed": MetricSpec(SNS, "count", "Count"),
    "NumberOfNotificationsFilteredOut": MetricSpec(SNS, "count", "Count"),
    "Invocations": MetricSpec(LAMBDA, "count", "Count"),
    "Errors": MetricSpec(LAMBDA, "count", "Count"),
    "Throttles": MetricSpec(LAMBDA, "count", "Count"),
    "Duration": MetricSpec(LAMBDA, "distribution", "Milliseconds"),
    "ConcurrentExecutions": MetricSpec(LAMBDA, "gauge", "Count"),
    "IteratorAge": MetricSpec(LAMBDA, "distribution", "Milliseconds"),
}

_SQS_GAUGES = ("ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible",
               "ApproximateNumberOfMessagesDelayed", "ApproximateAgeOfOldestMessage")
#: A standard-queue message received this many times without being deleted leaves the
#: ApproximateAgeOfOldestMessage computation (SQS moves it to the back of the queue).
POISON_RECEIVES: Final = 3
#: A period's bounds, seconds: CloudWatch's ``Period`` is an Integer of at least 1 (MetricStat in
#: the CloudWatch API Reference). A shorter one would make sampling loop without end.
MIN_PERIOD: Final = 1
MAX_PERIOD: Final = 2**31 - 1


@attrs.frozen(slots=True)
class Statistics:
    """CloudWatch statistics of a set of samples (``None`` where there is no sample)."""

    sample_count: int = 0
    sum: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    @property
    def average(self) -> float | None:
        """``sum / sample_count``, or ``None`` without samples."""
        return self.sum / self.sample_count if self.sample_count else None

    def get(self, statistic: str) -> float | None:
        """One statistic by its CloudWatch name (``SampleCount``, ``Sum``, ``Average``,
        ``Minimum``, ``Maximum``)."""
        if statistic == "SampleCount":
            return float(self.sample_count)
        if statistic == "Sum":
            return self.sum
        if statistic == "Average":
            return self.average
        if statistic == "Minimum":
            return self.minimum
        if statistic == "Maximum":
            return self.maximum
        raise InvalidParameterValue(
            f"Statistic {statistic!r} is invalid: use one of {', '.join(STATISTICS)}.")


@attrs.frozen(slots=True)
class Datapoint:
    """One period of a series: its start (loop seconds) and the statistic asked for (``None``
    when the period has no sample, e.g. the age of an empty queue)."""

    timestamp: float
    value: float | None


class _Stat:
    __slots__ = ("n", "total", "low", "high")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value

    def merge(self, other: _Stat) -> None:
        self.n += other.n
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)

    def freeze(self) -> Statistics:
        if not self.n:
            return Statistics()
        return Statistics(self.n, self.total, self.low, self.high)


#: More bytes than any message has (a small int: CPython compares it fastest).
_ABOVE_ANY_SIZE = (1 << 30) - 1


class _QueueLive:
    """One queue's SQS counts in the current period (see ``Metrics._flush_live``): a send
    adds to ``sent`` (one SentMessageSize sample each) and the size figures, a receive of
    *k* messages to ``receives[k]`` (0: an empty receive), a delete to ``deleted``."""

    __slots__ = ("sent", "size_total", "size_low", "size_high", "receives", "deleted")

    def __init__(self) -> None:
        self.sent = self.deleted = 0
        # Bytes as ints while the sizes are (Tap.plain_sent's are: integer arithmetic and
        # comparisons, the cheaper ones); ``stats`` gives floats. ``size_low`` starts above
        # any message's size (SQS: at most 1 MiB), ``size_high`` below.
        self.size_total: float = 0
        self.size_low: float = _ABOVE_ANY_SIZE
        self.size_high: float = -1
        # Receives by the number of messages they returned (a receive returns 0 to 10).
        self.receives = [0] * 11

    def stats(self) -> list[tuple[str, float, float, float, float]]:
        """(metric, sample count, sum, minimum, maximum) of each metric with samples."""
        out = []
        sent = self.sent
        if sent:
            out.append(("NumberOfMessagesSent", float(sent), float(sent), 1.0, 1.0))
            out.append(("SentMessageSize", float(sent), float(self.size_total),
                        float(self.size_low), float(self.size_high)))
        receives = self.receives
        counts = [k for k in range(1, len(receives)) if receives[k]]
        if counts:
            out.append(("NumberOfMessagesReceived", float(sum(receives[k] for k in counts)),
                        float(sum(k * receives[k] for k in counts)), float(counts[0]),
                        float(counts[-1])))
        if receives[0]:
            empty = float(receives[0])
            out.append(("NumberOfEmptyReceives", empty, empty, 1.0, 1.0))
        if self.deleted:
            out.append(("NumberOfMessagesDeleted", float(self.deleted), float(self.deleted),
                        1.0, 1.0))
        return out

    def received(self, count: int) -> None:
        """Count a receive that returned ``count`` messages."""
        receives = self.receives
        if count >= len(receives):  # (never from a receive; kept exact all the same)
            receives.extend([0] * (count + 1 - len(receives)))
        receives[count] += 1


_Key = tuple[str, str, str]  # (namespace, resource name, metric)

_HOUR = 3_600.0
_DAY = 86_400.0
#: CloudWatch's retention schedule: (resolution seconds, seconds its points are available).
RETENTION: Final = ((60.0, 15 * _DAY), (300.0, 63 * _DAY), (3_600.0, 455 * _DAY))
#: How long points of a period under 60 seconds (high resolution) are available.
HIGH_RESOLUTION_RETENTION: Final = 3 * _HOUR
_INF = math.inf
#: Loop seconds of points :class:`Metrics` holds in memory by default (1 day); older ones are
#: kept on disk.
DEFAULT_MEMORY_WINDOW: Final = _DAY


class _Tier:
    """One resolution of the schedule: its points are ``index * resolution`` seconds; it holds
    indices from ``start`` on (older ones were rolled into the next tier, or dropped)."""

    __slots__ = ("resolution", "keep", "ratio", "start", "origin", "chunk", "spilled",
                 "spill_chunk")

    def __init__(self, resolution: float, keep: float, ratio: int, started_at: float,
                 now: float, window: float | None) -> None:
        self.resolution = resolution
        self.keep = keep
        self.ratio = ratio  # next tier's resolution / this one's (0 for the last tier)
        self.start = int(started_at // resolution)
        self.origin = self.start  # start before any roll-up
        # Roll up in chunks of about an eighth of the retention: each point is moved (by a
        # memmove of the arrays) a bounded number of times, never one at a time.
        self.chunk = max(1, int(keep / resolution) // 8)
        # Points before index ``spilled`` are on disk; spilled in chunks of an eighth of the
        # memory window (0: this tier never spills, its points expire within the window).
        self.spilled = int(now // resolution)
        self.spill_chunk = (max(1, int(window / resolution) // 8)
                            if window is not None and keep > window else 0)


#: One empty point's sample count (and sum), minimum and maximum, repeated to fill gaps.
_EMPTY_N: Final = array("d", (0.0,))
_EMPTY_LOW: Final = array("d", (_INF,))
_EMPTY_HIGH: Final = array("d", (-_INF,))


class _Column:
    """One metric's points in one tier, dense from index ``base``: sample count, sum,
    minimum and maximum as four arrays of doubles (32 bytes a point; ``n == 0`` is empty).

    The first ``size`` positions hold points; the arrays are never shrunk: a roll-up moves the
    kept points to the front in place and later points reuse the room behind them, so once a
    tier is full its arrays keep one size (no reallocation, no fragmented heap)."""

    __slots__ = ("base", "size", "n", "total", "low", "high")

    def __init__(self, base: int) -> None:
        self.base = base
        self.size = 0
        self.n = array("d")
        self.total = array("d")
        self.low = array("d")
        self.high = array("d")

    def add(self, index: int, value: float) -> None:
        self.merge(index, 1.0, value, value, value)

    def merge(self, index: int, n: float, total: float, low: float, high: float) -> None:
        pos = index - self.base
        size = self.size
        if pos >= size:  # a new point (the usual case, in time order); empty ones before it
            if pos > size:
                self._gap(size, pos)
            ns = self.n
            if pos < len(ns):
                ns[pos] = n
                self.total[pos] = total
                self.low[pos] = low
                self.high[pos] = high
            else:
                ns.append(n)
                self.total.append(total)
                self.low.append(low)
                self.high.append(high)
            self.size = pos + 1
            return
        self.n[pos] += n
        self.total[pos] += total
        if low < self.low[pos]:
            self.low[pos] = low
        if high > self.high[pos]:
            self.high[pos] = high

    def _gap(self, start: int, end: int) -> None:
        """Make positions ``start`` to ``end - 1`` empty points (``start`` is at most the
        arrays' length): overwritten in place where the arrays reach, appended beyond."""
        length = len(self.n)
        inside = min(end, length)
        if start < inside:  # slices of the same length: written in place
            count = inside - start
            self.n[start:inside] = _EMPTY_N * count
            self.total[start:inside] = _EMPTY_N * count
            self.low[start:inside] = _EMPTY_LOW * count
            self.high[start:inside] = _EMPTY_HIGH * count
        if end > length:
            count = end - max(start, length)
            self.n.extend(_EMPTY_N * count)
            self.total.extend(_EMPTY_N * count)
            self.low.extend(_EMPTY_LOW * count)
            self.high.extend(_EMPTY_HIGH * count)

    def cut(self, end: int) -> int:
        """Forget the points before index ``end``; return how many positions went."""
        count = min(max(end - self.base, 0), self.size)
        if count:
            live = self.size - count
            for column in (self.n, self.total, self.low, self.high):
                column[:live] = column[count:self.size]  # same length: moved in place
            self.size = live
        self.base = max(self.base, end)
        return count

    def points(self) -> int:
        return self.size

    def stat(self, pos: int) -> _Stat:
        stat = _Stat()
        stat.n = int(self.n[pos])
        stat.total = self.total[pos]
        stat.low = self.low[pos]
        stat.high = self.high[pos]
        return stat


def _schedule(period: float, retention: float) -> list[tuple[float, float]]:
    """(resolution, keep) of each tier for a Metrics of ``period`` seconds."""
    keep = HIGH_RESOLUTION_RETENTION
    for resolution, available in RETENTION:
        if period >= resolution:
            keep = available
    tiers = [(period, min(keep, retention))]
    for resolution, available in RETENTION:
        ratio = resolution / tiers[-1][0]
        if resolution <= period or tiers[-1][1] >= retention:
            continue
        if abs(ratio - round(ratio)) > 1e-9:
            continue  # not a whole number of the finer periods: cannot be rolled into
        tiers.append((resolution, min(available, retention)))
    return tiers


class Metrics:
    """CloudWatch-style metrics of every queue, topic and function of a loop.

    Args:
        loop: the loop to observe (one ``Metrics`` per loop).
        period: seconds per datapoint of :meth:`series` (1 to 2**31 - 1; default 60, CloudWatch's
            standard resolution for these metrics).
        retention: the longest, in seconds, any point is kept (> 0; default ``None``:
            CloudWatch's 455 days). Within it points are rolled up on CloudWatch's schedule
            (see :mod:`decoupling.observe.metrics`).
        memory_window: seconds of loop time whose points are held in memory (at least
            ``period``; default 86,400: one day, or the period if longer); older points are kept in SQLite (the loop's
            durable store, or a private temporary file removed at :meth:`close`). Memory is
            about ``32 * memory_window / period`` bytes per metric. ``None``: every point in
            memory, no file.

    Counting starts now and stops at :meth:`close`. Reading methods take a resource (the
    :class:`~decoupling.Queue`, :class:`~decoupling.Topic` or Lambda
    :class:`~decoupling.Function`, or its name) and a metric name from :data:`METRICS`.

    Raises:
        InvalidParameterValue: a period outside 1 to 2**31 - 1 seconds, a retention that is
            not a positive number, a memory window that is not a number of seconds of at least
            the period, or a second ``Metrics`` on the same loop.
    """

    def __init__(self, loop: EventLoop, period: float = 60.0, *,
                 retention: float | None = None,
                 memory_window: float | None = DEFAULT_MEMORY_WINDOW) -> None:
        if isinstance(period, bool) or not isinstance(period, (int, float)) or not (
                MIN_PERIOD <= period <= MAX_PERIOD):
            raise InvalidParameterValue(
                f"period must be seconds from {MIN_PERIOD} to {MAX_PERIOD:,}, got {period!r}.")
        if retention is not None and not _positive(retention):
            raise InvalidParameterValue(
                f"retention must be a positive number of seconds, got {retention!r}.")
        if memory_window is DEFAULT_MEMORY_WINDOW:  # not given: a day, or a longer period
            memory_window = max(DEFAULT_MEMORY_WINDOW, float(period))
        if memory_window is not None and not (_positive(memory_window)
                                              and memory_window >= period):
            raise InvalidParameterValue(
                "memory_window must be a number of seconds of at least the period "
                f"({period!r}), or None, got {memory_window!r}.")
        self.loop = loop
        self.period = float(period)
        self.retention = RETENTION[-1][1] if retention is None else float(retention)
        #: Seconds of loop time whose points are held in memory (``None``: all of them).
        self.memory_window = None if memory_window is None else float(memory_window)
        # Every metric's points, one column per tier (finest first); see _roll_up.
        self._series: dict[_Key, list[_Column]] = {}
        self._totals: dict[_Key, _Stat] = {}
        # Each queue's gauge columns (``_SQS_GAUGES`` order; None until its first sample), the
        # ones ``_series`` holds: forgotten whenever a key leaves ``_series``.
        self._gauge_columns: dict[str, list[_Column | None]] = {}
        # Likewise each SQS count's column and total, by key (see _flush_live).
        self._count_columns: dict[_Key, tuple[_Column, _Stat]] = {}
        self._timer: TimerHandle | None = None
        self._listener: _Sampler | None = None
        # Boundary index k (time k * period) of the last gauge sample taken.
        self._sampled_k = 0
        # The SQS counts of the current period, per queue name: plain counters bumped per
        # request and merged into the columns once a period (or before a read), so a request
        # costs a few integer additions, not a point update per metric.
        self._now = time_reader(loop.clock)
        self._live: dict[str, _QueueLive] = {}
        self._live_index = 0
        self._live_until = -math.inf
        with loop._lock:
            tap = Tap.attach(loop)
            if tap.metrics is not None:
                raise InvalidParameterValue(
                    "This loop already has a Metrics: close it before attaching another.")
            tap.metrics = self
            tap.forget()
            self._tap: Tap | None = tap
            now = loop.clock.now()
            self._spill = Spill(self, loop)
            schedule = _schedule(self.period, self.retention)
            # With a durable store, counting goes on from the oldest point an earlier run left.
            earliest = self._spill.earliest(resolution for resolution, _ in schedule)
            self._started_at = now if earliest is None else min(now, earliest)
            self._tiers = [
                _Tier(resolution, keep,
                      round(schedule[i + 1][0] / resolution) if i + 1 < len(schedule) else 0,
                      self._started_at, now, self.memory_window)
                for i, (resolution, keep) in enumerate(schedule)
            ]
            self._sampled_k = self._k_at_or_before(now)
            self._live_index = int(now // self.period)
            self._live_until = (self._live_index + 1) * self.period
            self._start_sampler()

    # -- public: reading ------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether the metrics are still being collected."""
        return self._tap is not None

    def total(self, resource: Any, metric: str, *, start: float | None = None,
              end: float | None = None) -> float:
        """The ``Sum`` of a count or distribution metric since counting started (or over the
        periods that start in ``[start, end)``, loop seconds). O(periods) with a range, else
        O(1).

        Raises:
            InvalidParameterValue: an unknown metric, or a gauge (use :meth:`gauge`).
        """
        return self.statistics(resource, metric, start=start, end=end).sum

    def statistics(self, resource: Any, metric: str, *, start: float | None = None,
                   end: float | None = None) -> Statistics:
        """SampleCount, Sum, Minimum, Maximum (and Average) of a count or distribution
        metric, since counting started or over the periods starting in ``[start, end)`` (points
        older than 15 days count at the resolution they were rolled up to)."""
        key = self._key(resource, metric)
        if METRICS[metric].kind == "gauge":
            raise InvalidParameterValue(
                f"{metric} is a gauge: read it with gauge() or series().")
        with self.loop._lock:
            self._flush_live()
            if start is None and end is None:
                stat = self._totals.get(key)
                return stat.freeze() if stat is not None else Statistics()
            low = -math.inf if start is None else start
            high = math.inf if end is None else end
            acc = _Stat()
            for tier, column in zip(self._tiers, self._series.get(key, ()), strict=False):
                for pos in range(column.points()):
                    if column.n[pos] and low <= (column.base + pos) * tier.resolution < high:
                        acc.merge(column.stat(pos))
            for _, at, n, total, least, most in self._spill.points(key):
                if low <= at < high:
                    acc.merge(_stat_of(n, total, least, most))
            return acc.freeze()

    def gauge(self, resource: Any, metric: str) -> float | None:
        """A gauge's value now (``ApproximateNumberOfMessagesVisible``, ...,
        ``ConcurrentExecutions``); ``None`` for the age of an empty queue. O(1) (the age of a
        dead-letter queue, or of a queue holding poison pills, scans its messages)."""
        key = self._key(resource, metric)
        if METRICS[metric].kind != "gauge":
            raise InvalidParameterValue(
                f"{metric} is not a gauge: read it with total() or statistics().")
        with self.loop._lock:
            namespace, name, _ = key
            if namespace == LAMBDA:
                fn = self.loop._lookup("lambda", name)
                return float(fn.concurrent) if fn is not None else None
            queue = self.loop._lookup("sqs", name)
            if queue is None or queue._deleted:
                return None
            now = self.loop.clock.now()
            return _queue_gauges(queue, now)[metric]

    def series(self, resource: Any, metric: str, statistic: str = "Sum", *,
               period: float | None = None) -> list[Datapoint]:
        """One datapoint per complete period, oldest first, over the time still held at that
        resolution.

        ``period`` (seconds) defaults to the Metrics' own and must be a multiple of it; older
        data is available for periods that are multiples of 300 or 3,600 s (e.g. with
        ``Metrics(period=60)``: ``period=60`` gives the last 15 days, ``period=300`` the last
        63, ``period=3600`` the last 455, as CloudWatch does). Counts default to ``Sum`` (0 in
        a period without events); distributions take any statistic; gauges give the value
        sampled at the period's end (``ConcurrentExecutions`` is also sampled at every start
        and end of an invocation, so its default, ``Maximum``, is the peak in the period;
        ``Sum`` of a gauge reads as ``Maximum``; over a period of several samples ``Minimum``
        and ``Average`` read the samples).

        Raises:
            InvalidParameterValue: an unknown metric or statistic, or a period that is not a
                multiple of the Metrics' period.
        """
        key = self._key(resource, metric)
        kind = METRICS[metric].kind
        if statistic not in STATISTICS:
            raise InvalidParameterValue(
                f"Statistic {statistic!r} is invalid: use one of {', '.join(STATISTICS)}.")
        if kind == "gauge" and statistic == "Sum":
            statistic = "Maximum"  # a sum of gauge samples means nothing: the peak instead
        width = self.period if period is None else period
        multiple = width / self.period if _positive(width) else 0.0
        if multiple < 1 or abs(multiple - round(multiple)) > 1e-9:
            raise InvalidParameterValue(
                f"period must be a multiple of {self.period:g} seconds, got {period!r}.")
        with self.loop._lock:
            self._flush_live()
            now = self.loop.clock.now()
            # The tiers fine enough for this period: a prefix of the schedule.
            usable = 0
            for tier in self._tiers:
                ratio = width / tier.resolution
                if ratio < 1 - 1e-9 or abs(ratio - round(ratio)) > 1e-9:
                    break
                usable += 1
            oldest = self._tiers[usable - 1]
            if oldest.start == oldest.origin:
                first = int(self._started_at // width)
            else:
                first = math.ceil(oldest.start * oldest.resolution / width - 1e-9)
            last = int(now // width)  # periods first .. last - 1 are complete
            stats: dict[int, _Stat] = {}
            resolutions = {tier.resolution for tier in self._tiers[:usable]}
            for res, at, n, total, least, most in self._spill.points(key):
                if res not in resolutions:
                    continue
                index = int(at // width)
                if first <= index < last:
                    found = stats.get(index)
                    if found is None:
                        found = stats[index] = _Stat()
                    found.merge(_stat_of(n, total, least, most))
            for tier, column in zip(self._tiers[:usable], self._series.get(key, ()),
                                    strict=False):
                for pos in range(column.points()):
                    if not column.n[pos]:
                        continue
                    index = int((column.base + pos) * tier.resolution // width)
                    if first <= index < last:
                        found = stats.get(index)
                        if found is None:
                            found = stats[index] = _Stat()
                        found.merge(column.stat(pos))
            out = []
            for index in range(first, last):
                stat = stats.get(index)
                if stat is None:
                    value = 0.0 if kind == "count" else None
                else:
                    value = stat.freeze().get(statistic)
                out.append(Datapoint(index * width, value))
            return out

    def names(self, namespace: str | None = None) -> list[tuple[str, str, str]]:
        """``(namespace, resource name, metric)`` of every metric with data, sorted."""
        with self.loop._lock:
            self._flush_live()
            keys = set(self._totals) | set(self._series) | set(self._spill.keys())
            return sorted(k for k in keys if namespace is None or k[0] == namespace)

    def format(self) -> str:
        """A table of every resource's count totals and current gauges."""
        lines = [f"{'namespace':<11} {'resource':<24} {'metric':<38} {'value':>14}"]
        with self.loop._lock:
            self._flush_live()
            for namespace, name, metric in self.names():
                spec = METRICS[metric]
                if spec.kind == "gauge":
                    continue
                stat = self._totals[(namespace, name, metric)].freeze()
                shown = stat.sum if spec.kind == "count" else stat.average
                lines.append(f"{namespace:<11} {name:<24} {metric:<38} {shown or 0:>14,.1f}")
        return "\n".join(lines)

    def close(self) -> None:
        """Stop counting (what was counted stays readable). Idempotent.

        With a durable store, every point still in memory is written to it (a loop that opens
        the store again reads them). Without one, the private file is removed now: the points
        it held stay readable until this object is garbage collected where the system lets an
        open file be removed (Linux, macOS), else they are gone."""
        with self.loop._lock:
            tap = self._tap
            if tap is None:
                return
            self._flush_live()
            self._stop_sampler()
            tap.metrics = None
            tap.forget()
            self._tap = None
            tap.release()
            if self._spill.store is not None and self._spill.store._conn is not None:
                self._spill_all()  # kept with the store: a loop that reopens it reads them
            self._spill.close()

    def __repr__(self) -> str:
        return f"Metrics(period={self.period}, enabled={self.enabled})"

    # -- resolving names ------------------------------------------------------------------------

    def _key(self, resource: Any, metric: str) -> _Key:
        spec = METRICS.get(metric) if isinstance(metric, str) else None
        if spec is None:
            raise InvalidParameterValue(
                f"Metric {metric!r} is not kept: use one of {', '.join(METRICS)}.")
        name = resource if isinstance(resource, str) else getattr(resource, "name", None)
        if not isinstance(name, str):
            raise InvalidParameterValue(
                f"A resource is a queue, topic or function, or its name; got {resource!r}.")
        return spec.namespace, name, metric

    # -- recording (loop lock held) ---------------------------------------------------------------

    def _column(self, key: _Key) -> _Column:
        columns = self._series.get(key)
        if columns is None:
            columns = self._series[key] = [_Column(max(t.start, t.spilled))
                                            for t in self._tiers]
        return columns[0]

    def _add(self, namespace: str, name: str, metric: str, value: float) -> None:
        key = (namespace, name, metric)
        index = int(self.loop.clock.now() // self.period)
        self._column(key).add(index, value)
        total = self._totals.get(key)
        if total is None:
            total = self._totals[key] = _Stat()
        total.add(value)

    def _sample(self, index: int, namespace: str, name: str, metric: str,
                value: float | None) -> None:
        if value is None:
            return
        self._column((namespace, name, metric)).add(index, value)

    def _roll_up(self, now: float) -> None:
        """Move every metric's points that outlived their tier into the next one (or drop them
        from the last), a chunk at a time, and write the points older than the memory window
        to disk (lock held). O(points moved); one transaction for whatever reached disk."""
        tiers = self._tiers
        offset = self._spill.offset
        rows: list[Row] = []
        runs: list[Run] = []
        cuts: list[tuple[float, float, float]] = []
        rolled = False
        for t, tier in enumerate(tiers):
            cutoff = int((now - tier.keep) // tier.resolution)
            if tier.ratio:
                cutoff -= cutoff % tier.ratio  # whole buckets of the next tier only
            if cutoff - tier.start >= tier.chunk:
                coarse = tiers[t + 1].resolution if tier.ratio else 0.0
                for key, columns in self._series.items():
                    column = columns[t]
                    if tier.ratio:
                        coarser = columns[t + 1]
                        for pos in range(min(max(cutoff - column.base, 0), column.points())):
                            n = column.n[pos]
                            if not n:
                                continue
                            index = (column.base + pos) // tier.ratio
                            if index >= coarser.base:
                                coarser.merge(index, n, column.total[pos], column.low[pos],
                                              column.high[pos])
                            else:  # that coarser point is on disk already
                                rows.append((key, coarse, index * coarse + offset, n,
                                             column.total[pos], column.low[pos],
                                             column.high[pos]))
                    column.cut(cutoff)
                cuts.append((tier.resolution, cutoff * tier.resolution, coarse))
                tier.start = cutoff
                rolled = True
            if tier.spill_chunk:
                window = self.memory_window
                assert window is not None
                spill_to = int((now - window) // tier.resolution)
                if spill_to - tier.spilled >= tier.spill_chunk:
                    res = tier.resolution
                    for key, columns in self._series.items():
                        column = columns[t]
                        count = min(max(spill_to - column.base, 0), column.points())
                        if count:
                            runs.append((key, res, column.base, column.n[:count],
                                         column.total[:count], column.low[:count],
                                         column.high[:count]))
                        column.cut(spill_to)
                    tier.spilled = spill_to
                    rolled = True
        if runs or rows or cuts:
            self._spill.write(runs, rows, cuts)
        if not rolled:
            return
        dead = [key for key, columns in self._series.items()
                if not any(column.points() for column in columns)]
        for key in dead:  # a deleted resource's metric, every point expired or on disk
            del self._series[key]
        if dead:
            self._gauge_columns.clear()
            self._count_columns.clear()

    def _spill_all(self) -> None:
        """Write every point held in memory to disk and forget it there (lock held)."""
        runs: list[Run] = []
        for key, columns in self._series.items():
            for tier, column in zip(self._tiers, columns, strict=True):
                count = column.points()
                if count:
                    runs.append((key, tier.resolution, column.base, column.n[:count],
                                 column.total[:count], column.low[:count],
                                 column.high[:count]))
        self._spill.write(runs, (), ())
        self._series.clear()
        self._gauge_columns.clear()
        self._count_columns.clear()

    def _points_in_memory(self) -> int:
        """Positions held in memory over every metric and tier (empty periods between points
        included: the arrays are dense)."""
        self._flush_live()
        return sum(column.points() for columns in self._series.values() for column in columns)

    def _points_on_disk(self) -> int:
        """Points written to disk and still kept there (periods with samples only)."""
        return self._spill.rows()

    def _points(self) -> int:
        """Points held over every metric and tier, in memory and on disk, counted as dense
        arrays would hold them (from each metric's first point to its last at each resolution,
        empty periods included; for tests and benchmarks)."""
        held = self._points_in_memory()
        bases = {(key, tier.resolution): column.base  # where the memory part starts
                 for key, columns in self._series.items()
                 for tier, column in zip(self._tiers, columns, strict=True) if column.points()}
        for key, res, first, last, _ in self._spill.extents():
            base = bases.get((key, res))
            end = round(last / res) + 1
            if base is not None:
                end = max(end, base)
            held += end - round(first / res)
        return held

    def _live_for(self, name: str) -> _QueueLive:
        """The current period's counters of queue ``name`` (lock held), after moving to a new
        period if the clock passed the current one's end."""
        if self._now() >= self._live_until:
            self._flush_live(roll=True)
        live = self._live.get(name)
        if live is None:
            live = self._live[name] = _QueueLive()
        return live

    def _new_live(self, name: str) -> _QueueLive:
        live = self._live[name] = _QueueLive()
        return live

    def _live_of(self, name: str) -> _QueueLive:
        """The current period's counters of queue ``name``, made if new (lock held)."""
        live = self._live.get(name)
        if live is None:
            live = self._live[name] = _QueueLive()
        return live

    def _flush_live(self, roll: bool = False) -> None:
        """Merge the live counters into the points and totals (lock held); with ``roll``, start
        the period the clock is in now. O(queues with requests this period)."""
        tap = self._tap
        if tap is not None:
            tap.settle()  # (the requests its slots counted: into the live counters first)
        index = self._live_index
        cache = self._count_columns
        for name, live in self._live.items():
            for metric, n, total, low, high in live.stats():
                key = (SQS, name, metric)
                found = cache.get(key)
                if found is None:
                    acc = self._totals.get(key)
                    if acc is None:
                        acc = self._totals[key] = _Stat()
                    found = cache[key] = (self._column(key), acc)
                column, acc = found
                column.merge(index, n, total, low, high)
                acc.n += int(n)
                acc.total += total
                if low < acc.low:
                    acc.low = low
                if high > acc.high:
                    acc.high = high
        self._live.clear()
        if tap is not None:
            tap.forget()  # (its slots held the counters just merged)
        if roll:
            index = self._live_index = int(self._now() // self.period)
            self._live_until = (index + 1) * self.period

    def _queue_event(self, event: str, queue: Queue, entry: Entry | None) -> None:
        if event == "sent" and entry is not None:
            self._sent(queue.name, entry.record)

    def _sent(self, name: str, record: _Record) -> None:
        body = record.body
        attributes = record.attributes
        self._sent_size(name, float(len(body) if attributes is None and body.isascii()
                                    else message_size(body, attributes)))

    def _sent_plain(self, name: str, body: str) -> None:
        self._sent_size(name, float(len(body)))  # (ASCII, no attributes: see Tap.plain_sent)

    def _sent_size(self, name: str, size: float) -> None:
        if self._now() >= self._live_until:
            self._flush_live(roll=True)
        live = self._live.get(name)
        if live is None:
            live = self._live[name] = _QueueLive()
        live.sent += 1
        live.size_total += size
        if size < live.size_low:
            live.size_low = size
        if size > live.size_high:
            live.size_high = size

    def _received(self, queue: Queue, messages: list[Message]) -> None:
        # Every message a receive returned (a FIFO attempt-id retry's too).
        self._live_for(queue.name).received(len(messages))

    def _deleted(self, queue: Queue) -> None:
        self._live_for(queue.name).deleted += 1

    def _published(self, topic: Topic, pub: Published) -> None:
        self._add(SNS, topic.name, "NumberOfMessagesPublished", 1.0)
        self._add(SNS, topic.name, "PublishSize",
                  float(sns_message_size(pub.message, pub.attributes)))

    def _filtered(self, topic: Topic, count: int) -> None:
        self._add(SNS, topic.name, "NumberOfNotificationsFilteredOut", float(count))

    def _delivered(self, topic: Topic) -> None:
        self._add(SNS, topic.name, "NumberOfNotificationsDelivered", 1.0)

    def _failed(self, topic: Topic) -> None:
        self._add(SNS, topic.name, "NumberOfNotificationsFailed", 1.0)

    def _throttled(self, fn: Function) -> None:
        self._add(LAMBDA, fn.name, "Throttles", 1.0)

    def _invocation_begin(self, inv: _Invocation) -> None:
        fn = inv.function
        self._sample(int(self.loop.clock.now() // self.period), LAMBDA, fn.name,
                     "ConcurrentExecutions", float(fn.concurrent))
        if inv.invocation_type == "SQS":
            records = inv.event.get("Records") if isinstance(inv.event, dict) else None
            if records:
                sent = records[-1].get("attributes", {}).get("SentTimestamp")
                if sent is not None:
                    age = self.loop.clock.wall_ms() - int(sent)
                    self._add(LAMBDA, fn.name, "IteratorAge", float(max(age, 0)))

    def _invocation_end(self, inv: _Invocation) -> None:
        fn = inv.function
        outcome = inv.outcome
        assert outcome is not None
        self._add(LAMBDA, fn.name, "Invocations", 1.0)
        if outcome.status != "ok":
            self._add(LAMBDA, fn.name, "Errors", 1.0)
        self._add(LAMBDA, fn.name, "Duration", outcome.duration * 1000.0)
        self._sample(int(self.loop.clock.now() // self.period), LAMBDA, fn.name,
                     "ConcurrentExecutions", float(max(fn.concurrent - 1, 0)))

    # -- the gauge sampler ----------------------------------------------------------------------

    def _k_at_or_before(self, now: float) -> int:
        """The index of the last period boundary at or before ``now``."""
        return int(now // self.period)

    def _start_sampler(self) -> None:
        clock = self.loop.clock
        if isinstance(clock, ManualClock):
            # First in line: when the clock is advanced across a boundary, the loop's timers
            # up to the boundary fire, then the gauges are sampled, then the rest follows.
            self._listener = _Sampler(self)
            clock._listeners.insert(0, self._listener)
        else:
            self._arm_real(self._sampled_k + 1)

    def _stop_sampler(self) -> None:
        clock = self.loop.clock
        if isinstance(clock, ManualClock):
            if self._listener is not None:
                clock._unsubscribe(self._listener)
                self._listener = None
        elif self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _advance_to(self, when: float) -> None:
        """(ManualClock listener) sample every boundary up to ``when``, in time order."""
        loop = self.loop
        while self._tap is not None:
            k = self._sampled_k + 1
            boundary = k * self.period
            if boundary > when:
                return
            loop._fire_until(boundary)
            with loop._lock:
                # Settled at the boundary itself: every timer of this loop due by then has
                # fired (the clock is not moved, so other loops on it keep their own times).
                self._sample_gauges(k, boundary)
                self._sampled_k = k

    def _arm_real(self, k: int) -> None:
        self._timer = self.loop.call_at(k * self.period, self._tick_real)

    def _tick_real(self) -> None:
        with self.loop._lock:
            if self._tap is None:
                return
            last = self._k_at_or_before(self.loop.clock.now())
            now = self.loop.clock.now()
            for k in range(self._sampled_k + 1, last + 1):
                self._sample_gauges(k, now)
            self._sampled_k = max(self._sampled_k, last)
            self._arm_real(self._sampled_k + 1)

    def _sample_gauges(self, k: int, now: float) -> None:
        """Sample every gauge for the period that ends at boundary ``k``, as of loop time
        ``now`` (lock held)."""
        index = k - 1
        self._flush_live()
        self._roll_up(now)
        cache = self._gauge_columns
        for queue in self.loop._resources_of("sqs"):
            if queue._deleted:
                continue
            name = queue.name
            columns = cache.get(name)
            if columns is None:
                columns = cache[name] = [None, None, None, None]
            for slot, value in enumerate(_queue_gauge_values(queue, now)):
                if value is None:
                    continue  # (the age of an empty queue: no sample)
                column = columns[slot]
                if column is None:
                    column = columns[slot] = self._column((SQS, name, _SQS_GAUGES[slot]))
                # Column.merge's usual case inline (one sample a period, in time order).
                pos = index - column.base
                if pos == column.size:
                    ns = column.n
                    if pos < len(ns):
                        ns[pos] = 1.0
                        column.total[pos] = column.low[pos] = column.high[pos] = value
                    else:
                        ns.append(1.0)
                        column.total.append(value)
                        column.low.append(value)
                        column.high.append(value)
                    column.size = pos + 1
                else:
                    column.merge(index, 1.0, value, value, value)
        for fn in self.loop._resources_of("lambda"):
            self._sample(index, LAMBDA, fn.name, "ConcurrentExecutions", float(fn.concurrent))


def _stat_of(n: float, total: float, low: float, high: float) -> _Stat:
    stat = _Stat()
    stat.n = int(n)
    stat.total = total
    stat.low = low
    stat.high = high
    return stat


def _positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:  # an int too big for a float
        return False


class _Sampler:
    """A ManualClock listener that samples a Metrics' gauges as time passes each boundary."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def _fire_until(self, when: float) -> None:
        self.metrics._advance_to(when)

    def _wake_waiters(self) -> None:
        """Nothing waits on the sampler."""


def _queue_gauges(queue: Queue, now: float) -> dict[str, float | None]:
    return dict(zip(_SQS_GAUGES, _queue_gauge_values(queue, now), strict=True))


def _queue_gauge_values(queue: Queue, now: float) -> tuple[float, float, float, float | None]:
    """The queue's gauges as of loop time ``now``, in the order of ``_SQS_GAUGES``."""
    ledger = queue._ledger
    ledger.settle(now)
    reference = _age_reference(queue)
    return (float(ledger.n_visible), float(ledger.n_inflight), float(ledger.n_delayed),
            None if reference is None else max(now - reference, 0.0))


def _age_reference(queue: Queue) -> float | None:
    """When the message that ``ApproximateAgeOfOldestMessage`` measures arrived (loop seconds).

    O(1) when the oldest message is an ordinary one; otherwise (it is a poison pill, or a dead
    letter whose age counts from its move) every held message is looked at.
    """
    ledger = queue._ledger
    oldest = ledger.oldest_sent_at()
    if oldest is None:
        return None
    top = ledger.oldest_entry()
    assert top is not None
    if _eligible(queue, top) and top.record.dlq_source_arn is None:
        return oldest
    best: float | None = None
    for entry in ledger.entries():
        if not _eligible(queue, entry):
            continue
        at = entry.available_at if entry.record.dlq_source_arn is not None else entry.sent_at
        if best is None or at < best:
            best = at
    return best


def _eligible(queue: Queue, entry: Entry) -> bool:
    return queue.is_fifo or entry.receive_count < POISON_RECEIVES
