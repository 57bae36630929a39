"""``RequestMeter``: billable SQS and SNS requests as AWS counts them, and what a run costs.

Counting rules (us-east-1 pricing pages, 2026; prices configurable):

* **SQS** (https://aws.amazon.com/sqs/pricing/): every API action is a request; each 64 KiB
  chunk of a request's payload is billed as one request (a 256 KiB send is 4); a batch call is
  one request per 64 KiB chunk of its whole payload, however many entries it has; an empty
  receive is a request like any other. The payload of a send is its messages' bytes (body plus
  attributes), of a receive the messages it returned; deletes and visibility changes carry
  handles only (1 request). Actions that send, receive, delete or change the visibility of
  messages of a FIFO queue are charged at the FIFO rate ($0.50 per million), every other
  request at the standard rate ($0.40 per million).
* **SNS** (https://aws.amazon.com/sns/pricing/): each 64 KiB chunk of published data is one
  request ($0.50 per million on standard topics; a ``PublishBatch`` counts its whole payload,
  not its entries). Deliveries are priced per protocol: HTTP/S $0.60 per million, email $2.00
  per 100,000, SQS and Lambda free on SNS's side. FIFO topics are priced differently (per
  million publish requests plus per GB of payload; see :class:`SnsPrices`).
* Deliveries into SQS are sends into the queue: a topic's delivery to a queue is counted as a
  SendMessage of that queue (SNS charges nothing for it; the queue's requests are SQS's), as a
  Lambda invocation from a topic is billed by Lambda.
* **Lambda** comes from each :class:`~decoupling.FunctionRuntime`'s own meter
  (:mod:`decoupling.functions.usage`, which counts every invocation since the runtime was made):
  $0.20 per million requests plus GB-seconds — billed milliseconds times the configured memory
  — at the architecture's price (https://aws.amazon.com/lambda/pricing/).

Not counted: the free tiers (1 million SQS and SNS requests a month), data transfer, the
requests Lambda's pollers would make while a queue is idle (here a mapping polls only when
messages are visible), CreateQueue/ListQueues-style control-plane calls and tag calls.

Money is computed in :class:`~decimal.Decimal`, so figures are exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..errors import InvalidParameterValue
from ..functions.usage import LambdaPrices
from ._tap import Tap

if TYPE_CHECKING:
    from ..loop import EventLoop
    from ..sns.subscription import Subscription
    from ..sns.topic import Topic
    from ..sqs.queue import Queue

__all__ = ["RequestMeter", "SqsPrices", "SnsPrices", "Prices", "Bill", "BillLine", "CHUNK"]

#: Bytes per billed request chunk (64 KiB).
CHUNK: Final = 65_536
#: SQS actions billed at the FIFO rate on FIFO queues.
FIFO_RATED: Final = frozenset({
    "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
    "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
})
_MILLION = Decimal(1_000_000)
_GB = Decimal(1024**3)


def _default_deliveries() -> dict[str, float]:
    return {"http": 0.60, "https": 0.60, "email": 20.00, "email-json": 20.00,
            "sqs": 0.0, "lambda": 0.0, "application": 0.50, "sms": 0.0}


@attrs.frozen(slots=True)
class SqsPrices:
    """SQS request prices in US dollars per million requests (us-east-1, first 100 billion a
    month): ``standard`` 0.40, ``fifo`` 0.50 (https://aws.amazon.com/sqs/pricing/)."""

    standard: float = 0.40
    fifo: float = 0.50


@attrs.frozen(slots=True)
class SnsPrices:
    """SNS prices in US dollars (us-east-1; https://aws.amazon.com/sns/pricing/).

    Attributes:
        publish: per million publish requests (64 KiB chunks) on standard topics (0.50).
        deliveries: per million deliveries, by protocol: ``http``/``https`` 0.60, ``email`` and
            ``email-json`` 20.00 ($2.00 per 100,000), ``sqs`` and ``lambda`` 0 (free on SNS's
            side), ``application`` (mobile push) 0.50, ``sms`` 0 (priced per country: set yours).
        fifo_publish: per million publish requests on FIFO topics (0.30).
        fifo_publish_per_gb: per GB of payload published to FIFO topics (0.017).
        fifo_delivery: per million messages a FIFO topic delivers (0.01).
        fifo_delivery_per_gb: per GB a FIFO topic delivers (0.001).

    The four FIFO figures are the pricing page's FIFO-topic rows as we read them; check the
    page for your region.
    """

    publish: float = 0.50
    deliveries: Mapping[str, float] = attrs.field(factory=_default_deliveries)
    fifo_publish: float = 0.30
    fifo_publish_per_gb: float = 0.017
    fifo_delivery: float = 0.01
    fifo_delivery_per_gb: float = 0.001


@attrs.frozen(slots=True)
class Prices:
    """All the prices a :class:`Bill` uses."""

    sqs: SqsPrices = attrs.field(factory=SqsPrices)
    sns: SnsPrices = attrs.field(factory=SnsPrices)
    lambda_: LambdaPrices = attrs.field(factory=LambdaPrices)


@attrs.frozen(slots=True)
class BillLine:
    """One priced quantity: ``quantity`` units of ``item`` (billed requests, deliveries,
    bytes or billed milliseconds) of one resource, costing ``cost`` US dollars."""

    service: str
    resource: str
    item: str
    quantity: int
    cost: Decimal


@attrs.frozen(slots=True)
class Bill:
    """What a run would have cost, line by line and in total (US dollars, exact)."""

    lines: list[BillLine]
    sqs: Decimal
    sns: Decimal
    lambda_: Decimal

    @property
    def total(self) -> Decimal:
        """SQS + SNS + Lambda."""
        return self.sqs + self.sns + self.lambda_

    def format(self) -> str:
        """A fixed-width table, one line per priced quantity, then the totals."""
        head = f"{'service':<7} {'resource':<24} {'item':<34} {'quantity':>10} {'cost $':>14}"
        out = [head, "-" * len(head)]
        for line in self.lines:
            out.append(f"{line.service:<7} {line.resource:<24} {line.item:<34} "
                       f"{line.quantity:>10,} {line.cost:>14.8f}")
        out.append("-" * len(head))
        for label, value in (("SQS", self.sqs), ("SNS", self.sns), ("Lambda", self.lambda_),
                             ("TOTAL", self.total)):
            out.append(f"{label:<78} {value:>14.8f}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.format()


def chunks(payload_bytes: int) -> int:
    """Billed requests for one call carrying ``payload_bytes``: one per 64 KiB, at least 1."""
    return max(1, math.ceil(payload_bytes / CHUNK))


def _price(value: float) -> Decimal:
    return Decimal(str(value))


class RequestMeter:
    """Counts the billable SQS and SNS requests of a loop and prices a run.

    Args:
        loop: the loop to meter (one meter per loop).
        prices: default prices for :meth:`bill` (default: :class:`Prices`).

    Counting starts now and stops at :meth:`close`. O(1) per request.

    Raises:
        InvalidParameterValue: a second meter on the same loop, or ``prices`` not a
            :class:`Prices`.
    """

    def __init__(self, loop: EventLoop, prices: Prices | None = None) -> None:
        if prices is not None and not isinstance(prices, Prices):
            raise InvalidParameterValue(f"prices must be a decoupling.Prices, got {prices!r}.")
        self.loop = loop
        self.prices = prices or Prices()
        # (resource, action) -> [calls, billed requests beyond one a call] (a request over
        # 64 KiB adds to the second; the tap's slots may make a row before its first call).
        self._sqs_rows: dict[tuple[str, str], list[int]] = {}
        # The same rows by queue name, then action (the per-request lookup).
        self._sqs_by_name: dict[str, dict[str, list[int]]] = {}
        self._sqs_fifo: set[str] = set()
        self._sns_rows: dict[tuple[str, str], list[int]] = {}
        self._sns_fifo: set[str] = set()
        self._sns_bytes: dict[str, int] = {}
        self._delivery_rows: dict[tuple[str, str], list[int]] = {}
        self._delivery_bytes: dict[str, int] = {}
        with loop._lock:
            tap = Tap.attach(loop)
            if tap.requests is not None:
                raise InvalidParameterValue(
                    "This loop already has a RequestMeter: close it before attaching another.")
            tap.requests = self
            tap.forget()
            self._tap: Tap | None = tap

    # -- reading --------------------------------------------------------------------------------

    def requests(self, resource: Any = None, action: str | None = None, *,
                 service: str = "sqs") -> int:
        """Billed requests (64 KiB chunks) of ``service`` (``"sqs"``, ``"sns"`` publishes,
        or ``"sns-delivery"``), optionally of one resource (object or name) and one action
        (``"ReceiveMessage"``, ``"Publish"``, or a protocol for deliveries)."""
        return self._sum(resource, action, service, 1)

    def calls(self, resource: Any = None, action: str | None = None, *,
              service: str = "sqs") -> int:
        """API calls (not chunks), filtered as :meth:`requests`."""
        return self._sum(resource, action, service, 0)

    def _sum(self, resource: Any, action: str | None, service: str, column: int) -> int:
        table = {"sqs": self._sqs_rows, "sns": self._sns_rows,
                 "sns-delivery": self._delivery_rows}.get(service)
        if table is None:
            raise InvalidParameterValue(
                f"service must be 'sqs', 'sns' or 'sns-delivery', got {service!r}.")
        name = resource if resource is None or isinstance(resource, str) else getattr(
            resource, "name", None)
        with self.loop._lock:
            self._settle()
            rows = [v for (r, a), v in table.items()
                    if (name is None or r == name) and (action is None or a == action)]
            if column and table is self._sqs_rows:  # (calls and the chunks beyond them)
                return sum(calls + extra for calls, extra in rows)
            return sum(v[column] for v in rows)

    def bill(self, prices: Prices | None = None, *, include_lambda: bool = True) -> Bill:
        """Price everything counted (and, with ``include_lambda``, every function's
        invocations from its runtime's meter)."""
        prices = prices or self.prices
        if not isinstance(prices, Prices):
            raise InvalidParameterValue(f"prices must be a decoupling.Prices, got {prices!r}.")
        lines: list[BillLine] = []
        sqs_total = sns_total = lambda_total = Decimal(0)
        with self.loop._lock:
            self._settle()
            for (name, action), (calls, extra) in sorted(self._sqs_rows.items()):
                if not calls:
                    continue  # (a row made ahead of its first call)
                billed = calls + extra
                fifo = name in self._sqs_fifo and action in FIFO_RATED
                rate = _price(prices.sqs.fifo if fifo else prices.sqs.standard)
                cost = billed * rate / _MILLION
                kind = "FIFO" if fifo else "standard"
                lines.append(BillLine("SQS", name, f"{action} ({kind} requests)", billed, cost))
                sqs_total += cost
            for (name, action), (_, billed) in sorted(self._sns_rows.items()):
                fifo = name in self._sns_fifo
                rate = _price(prices.sns.fifo_publish if fifo else prices.sns.publish)
                cost = billed * rate / _MILLION
                lines.append(BillLine("SNS", name, f"{action} requests", billed, cost))
                sns_total += cost
            for name in sorted(self._sns_fifo & set(self._sns_bytes)):
                size = self._sns_bytes[name]
                cost = size * _price(prices.sns.fifo_publish_per_gb) / _GB
                lines.append(BillLine("SNS", name, "FIFO publish payload (bytes)", size, cost))
                sns_total += cost
            for (name, protocol), (_, billed) in sorted(self._delivery_rows.items()):
                if name in self._sns_fifo:
                    rate = _price(prices.sns.fifo_delivery)
                else:
                    rate = _price(prices.sns.deliveries.get(protocol, 0.0))
                cost = billed * rate / _MILLION
                lines.append(BillLine("SNS", name, f"{protocol} deliveries", billed, cost))
                sns_total += cost
            for name in sorted(self._sns_fifo & set(self._delivery_bytes)):
                size = self._delivery_bytes[name]
                cost = size * _price(prices.sns.fifo_delivery_per_gb) / _GB
                lines.append(BillLine("SNS", name, "FIFO delivered payload (bytes)", size, cost))
                sns_total += cost
            functions = self.loop._resources_of("lambda") if include_lambda else []
        per_request = _price(prices.lambda_.per_million_requests) / _MILLION
        for fn in functions:
            report = fn.runtime.report(prices.lambda_)
            usage = report.functions.get(fn.name)
            if usage is None or not usage.invocations:
                continue
            # GB-seconds from billed milliseconds at the configured memory, in Decimal.
            gb_seconds = Decimal(fn.memory_mb) * usage.billed_duration_ms / Decimal(1_024_000)
            requests = usage.invocations * per_request
            compute = gb_seconds * _price(prices.lambda_.per_gb_second(fn.architecture))
            lines.append(BillLine("Lambda", fn.name, "requests", usage.invocations, requests))
            lines.append(BillLine("Lambda", fn.name, "compute (billed ms)",
                                  usage.billed_duration_ms, compute))
            lambda_total += requests + compute
        return Bill(lines, sqs_total, sns_total, lambda_total)

    @property
    def enabled(self) -> bool:
        """Whether requests are still being counted."""
        return self._tap is not None

    def reset(self) -> None:
        """Forget every count (e.g. after a warm-up)."""
        with self.loop._lock:
            for table in (self._sqs_rows, self._sns_rows, self._delivery_rows):
                table.clear()
            self._sqs_by_name.clear()
            if self._tap is not None:
                self._tap.forget()  # (its slots held the rows just dropped)
            self._sns_bytes.clear()
            self._delivery_bytes.clear()

    def close(self) -> None:
        """Stop counting (counts stay readable). Idempotent."""
        with self.loop._lock:
            tap = self._tap
            if tap is None:
                return
            tap.requests = None
            tap.forget()
            self._tap = None
            tap.release()

    def __repr__(self) -> str:
        return f"RequestMeter(enabled={self.enabled})"

    # -- counting (loop lock held) --------------------------------------------------------------

    def _settle(self) -> None:
        """Bring the rows up to date with the calls the tap's slots counted (lock held)."""
        if self._tap is not None:
            self._tap.settle()

    def _sqs(self, queue: Queue, action: str, payload_bytes: int) -> None:
        rows = self._sqs_by_name.get(queue.name)
        row = None if rows is None else rows.get(action)
        if row is None:
            row = self._sqs_row(queue, action)
        row[0] += 1
        if payload_bytes > CHUNK:
            row[1] += -(-payload_bytes // CHUNK) - 1

    def _sqs_row(self, queue: Queue, action: str) -> list[int]:
        """The row of (queue, action), made if new; found by name and action from then on."""
        key = (queue.name, action)
        row = self._sqs_rows.get(key)
        if row is None:
            row = self._sqs_rows[key] = [0, 0]
            if queue.is_fifo:
                self._sqs_fifo.add(queue.name)
        self._sqs_by_name.setdefault(queue.name, {})[action] = row
        return row

    def _sqs_batch(self, queue: Queue, action: str, single: str, singles: int) -> None:
        if singles:
            if self._tap is not None:  # (the single calls may be counted in its slot)
                self._tap.settle(queue.name)
            row = self._sqs_rows.get((queue.name, single))
            if row is not None and row[0]:
                row[0] -= singles  # (each billed as one request)
                if not row[0]:
                    del self._sqs_rows[(queue.name, single)]
                    del self._sqs_by_name[queue.name][single]
                    if self._tap is not None:
                        self._tap.forget(queue.name)  # (its slot may hold the row)
        self._sqs(queue, action, 0)

    def _sns_publish(self, topic: Topic, action: str, payload_bytes: int) -> None:
        key = (topic.name, action)
        row = self._sns_rows.get(key)
        if row is None:
            row = self._sns_rows[key] = [0, 0]
            if topic.is_fifo:
                self._sns_fifo.add(topic.name)
        row[0] += 1
        row[1] += chunks(payload_bytes)
        if topic.is_fifo:
            self._sns_bytes[topic.name] = self._sns_bytes.get(topic.name, 0) + payload_bytes

    def _sns_delivery(self, sub: Subscription, size: int) -> None:
        topic = sub.topic
        key = (topic.name, sub.protocol)
        row = self._delivery_rows.get(key)
        if row is None:
            row = self._delivery_rows[key] = [0, 0]
            if topic.is_fifo:
                self._sns_fifo.add(topic.name)
        row[0] += 1
        row[1] += chunks(size)
        if topic.is_fifo:
            self._delivery_bytes[topic.name] = self._delivery_bytes.get(topic.name, 0) + size
