"""Metering: what every invocation used, and what it would have cost on AWS Lambda.

Every invocation a :class:`~decoupling.FunctionRuntime` runs leaves one
:class:`InvocationRecord`: its duration, billed duration (rounded up to the next whole
millisecond, as Lambda has billed since December 2020), configured memory, GB-seconds, whether it
was a cold start, and its outcome. :meth:`Meter.report` adds them up per function and prices them
with :class:`LambdaPrices`.

Prices are the published us-east-1 on-demand prices (https://aws.amazon.com/lambda/pricing/):
$0.20 per million requests, $0.0000166667 per GB-second on x86_64 and $0.0000133334 on arm64. The
free tier is not deducted. Since August 2025 Lambda bills the INIT phase of on-demand functions
too, so a cold start's init duration is added to its billed duration
(https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any, Final

import attrs

from ..errors import InvalidParameterValueException

__all__ = ["LambdaPrices", "InvocationRecord", "FunctionUsage", "CostReport", "Meter"]

#: Seconds of loop time of records a :class:`Meter` keeps by default (one day).
DEFAULT_KEEP_SECONDS: Final = 86_400.0

#: Outcomes an invocation can have.
OUTCOMES = ("Success", "Error", "Timeout")


@attrs.frozen(slots=True)
class LambdaPrices:
    """Lambda on-demand prices, in US dollars (defaults: us-east-1, 2026).

    Attributes:
        per_million_requests: price of one million requests (default 0.20).
        per_gb_second_x86_64: price of one GB-second on x86_64 (default 0.0000166667).
        per_gb_second_arm64: price of one GB-second on arm64 (default 0.0000133334).
    """

    per_million_requests: float = 0.20
    per_gb_second_x86_64: float = 0.0000166667
    per_gb_second_arm64: float = 0.0000133334

    def per_gb_second(self, architecture: str) -> float:
        """The GB-second price for ``"x86_64"`` or ``"arm64"``."""
        return self.per_gb_second_arm64 if architecture == "arm64" else self.per_gb_second_x86_64


@attrs.frozen(slots=True)
class InvocationRecord:
    """What one invocation used (one line of a Lambda ``REPORT`` log).

    Attributes:
        function_name: the function invoked.
        request_id: the invocation's ``aws_request_id``.
        invocation_type: ``"RequestResponse"``, ``"Event"`` or the trigger
            (``"SQS"``, ``"SNS"``, ``"Schedule"``).
        start: loop time (seconds) the invocation started.
        duration: seconds the handler ran (capped at the timeout).
        init_duration: seconds of the cold start's INIT phase (0.0 when warm).
        billed_duration_ms: ``ceil((duration + init_duration) * 1000)``, at least 1.
        memory_mb: configured memory.
        architecture: ``"x86_64"`` or ``"arm64"``.
        cold_start: ``True`` when a new execution environment was created.
        outcome: ``"Success"``, ``"Error"`` or ``"Timeout"``.
        tenant_id: the tenant of a tenant-isolated function, else ``None``.
    """

    function_name: str
    request_id: str
    invocation_type: str
    start: float
    duration: float
    init_duration: float
    billed_duration_ms: int
    memory_mb: int
    architecture: str
    cold_start: bool
    outcome: str
    tenant_id: str | None = None

    @property
    def gb_seconds(self) -> float:
        """Billed compute: ``memory_mb / 1024 * billed_duration_ms / 1000``."""
        return self.memory_mb / 1024 * self.billed_duration_ms / 1000


def billed_ms(seconds: float) -> int:
    """Billed milliseconds for a duration in seconds: rounded up to 1 ms, at least 1 ms.

    Rounds ``seconds * 1000`` to 9 decimals before the ceiling, so a float such as
    0.0020000000001 s bills 2 ms rather than 3.
    """
    return max(1, math.ceil(round(seconds * 1000, 6)))


@attrs.define(slots=True)
class FunctionUsage:
    """Totals for one function (or for everything, in :attr:`CostReport.total`)."""

    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    throttles: int = 0
    cold_starts: int = 0
    duration: float = 0.0
    billed_duration_ms: int = 0
    gb_seconds: float = 0.0
    request_cost: float = 0.0
    compute_cost: float = 0.0

    @property
    def cost(self) -> float:
        """Estimated dollars: requests plus compute."""
        return self.request_cost + self.compute_cost

    def add(self, record: InvocationRecord, prices: LambdaPrices) -> None:
        self.invocations += 1
        if record.outcome == "Error":
            self.errors += 1
        elif record.outcome == "Timeout":
            self.timeouts += 1
        if record.cold_start:
            self.cold_starts += 1
        self.duration += record.duration
        self.billed_duration_ms += record.billed_duration_ms
        gbs = record.gb_seconds
        self.gb_seconds += gbs
        self.request_cost += prices.per_million_requests / 1_000_000
        self.compute_cost += gbs * prices.per_gb_second(record.architecture)

    def merge(self, other: FunctionUsage) -> None:
        for field in attrs.fields(FunctionUsage):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def as_dict(self) -> dict[str, Any]:
        """Plain values, with ``cost`` included."""
        out = attrs.asdict(self)
        out["cost"] = self.cost
        return out


@attrs.frozen(slots=True)
class CostReport:
    """Usage and estimated cost per function, and in total.

    Attributes:
        functions: function name to :class:`FunctionUsage`, sorted by name.
        total: the sum over every function.
        prices: the prices used.
    """

    functions: dict[str, FunctionUsage]
    total: FunctionUsage
    prices: LambdaPrices

    def format(self) -> str:
        """A fixed-width table, one line per function and a total line."""
        head = (
            f"{'function':<20} {'invokes':>8} {'errors':>6} {'t/o':>4} {'throttle':>8} "
            f"{'cold':>5} {'billed ms':>11} {'GB-s':>11} {'cost $':>12}"
        )
        lines = [head, "-" * len(head)]
        rows = [*self.functions.items(), ("TOTAL", self.total)]
        for name, u in rows:
            lines.append(
                f"{name:<20} {u.invocations:>8} {u.errors:>6} {u.timeouts:>4} {u.throttles:>8} "
                f"{u.cold_starts:>5} {u.billed_duration_ms:>11} {u.gb_seconds:>11.3f} "
                f"{u.cost:>12.6f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class Meter:
    """Collects invocation records and keeps running totals per function.

    Args:
        prices: the prices :meth:`report` uses.
        keep: how many most recent records :attr:`records` holds (default 100,000; ``None``
            keeps all). Totals always cover every invocation.
        keep_seconds: and only the records of invocations that started in the last
            ``keep_seconds`` of loop time before the newest one (default 86,400: one day;
            ``None``: no time bound). Lambda's own REPORT lines go to CloudWatch Logs, kept
            as long as the log group's retention says (never expiring by default): this bound
            is ours, so that a process that runs for months holds one day of records however
            slowly they come, not a count that fills over weeks (issue #19).

    Recording is O(1) amortized; :meth:`report` is O(functions).

    Raises:
        InvalidParameterValueException: ``keep_seconds`` not a positive number or ``None``.
    """

    def __init__(self, prices: LambdaPrices, keep: int | None = 100_000,
                 keep_seconds: float | None = DEFAULT_KEEP_SECONDS) -> None:
        if keep_seconds is not None and (
                isinstance(keep_seconds, bool) or not isinstance(keep_seconds, (int, float))
                or not math.isfinite(keep_seconds) or keep_seconds <= 0):
            raise InvalidParameterValueException(
                f"keep_seconds must be a positive number of seconds or None, got "
                f"{keep_seconds!r}.")
        self.prices = prices
        self.records: deque[InvocationRecord] = deque(maxlen=keep)
        #: Seconds of loop time of records kept (``None``: no time bound).
        self.keep_seconds = None if keep_seconds is None else float(keep_seconds)
        self._usage: dict[str, FunctionUsage] = {}

    def _for(self, function_name: str) -> FunctionUsage:
        usage = self._usage.get(function_name)
        if usage is None:
            usage = self._usage[function_name] = FunctionUsage()
        return usage

    def record(self, record: InvocationRecord) -> None:
        """Add one invocation (and drop the kept records older than ``keep_seconds`` before
        it). O(1) amortized."""
        records = self.records
        records.append(record)
        window = self.keep_seconds
        if window is not None:
            horizon = record.start - window
            while records and records[0].start < horizon:  # (about in start order)
                records.popleft()
        self._for(record.function_name).add(record, self.prices)

    def throttled(self, function_name: str) -> None:
        """Count one throttled request (not billed)."""
        self._for(function_name).throttles += 1

    def report(self, prices: LambdaPrices | None = None) -> CostReport:
        """Totals per function and overall, priced with ``prices`` (default: the meter's).

        With other prices, the costs are recomputed from the kept records, so pass ``keep=None``
        and ``keep_seconds=None`` to the meter when that matters (a runtime's meter:
        ``FunctionRuntime(keep_records=None)`` and ``runtime.meter.keep_seconds = None``).
        """
        if prices is None or prices == self.prices:
            functions = {n: attrs.evolve(u) for n, u in sorted(self._usage.items())}
            prices = self.prices
        else:
            functions = {}
            for name in sorted(self._usage):
                usage = FunctionUsage(throttles=self._usage[name].throttles)
                for rec in self.records:
                    if rec.function_name == name:
                        usage.add(rec, prices)
                functions[name] = usage
        total = FunctionUsage()
        for usage in functions.values():
            total.merge(usage)
        return CostReport(functions, total, prices)

    def records_for(self, function_name: str) -> Iterable[InvocationRecord]:
        """The kept records of one function, oldest first."""
        return (r for r in self.records if r.function_name == function_name)
