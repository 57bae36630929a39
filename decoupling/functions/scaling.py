"""How many batches an SQS event source mapping may run at once, as its backlog grows and drains.

Standard mode (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): "When
messages are available, Lambda starts processing five batches at a time with five concurrent
invocations of your function. If messages are still available, Lambda increases the number of
processes that are reading batches by up to 300 more concurrent invokes per minute. The maximum
number of invokes that an event source mapping can process simultaneously is 1,250. When traffic
is low, Lambda scales back the processing to five concurrent invokes." ``MaximumConcurrency``
(2-1,000) caps it. Here the target grows by 5 every second (300 a minute) while a backlog
remains, and returns to 5 (or the maximum concurrency, if lower) as soon as a poll finds the queue
empty.

Provisioned mode (``ProvisionedPollerConfig``,
https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html): between
``MinimumPollers`` (2-200, default 2) and ``MaximumPollers`` (2-10,000, default 200) event pollers
stay ready; each handles up to 10 concurrent invokes (Lambda Developer Guide, "Lambda parameters
for Amazon SQS event source mappings"), and pollers scale by up to 1,000 concurrent executions a
minute (100 pollers a minute) while a backlog remains. The target is ``pollers * 10``.

Both are pure functions of time and of whether a backlog exists, so runs are deterministic.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["StandardScaling", "ProvisionedScaling", "MAX_STANDARD_CONCURRENCY"]

#: Batches a standard-mode mapping runs at once when messages appear.
START_CONCURRENCY: Final = 5
#: Concurrent invokes added per minute while a backlog remains (standard mode).
STANDARD_PER_MINUTE: Final = 300
#: The most concurrent invokes of one standard-mode mapping.
MAX_STANDARD_CONCURRENCY: Final = 1250
#: Concurrent invokes one provisioned poller handles.
INVOKES_PER_POLLER: Final = 10
#: Pollers added per minute while a backlog remains (1,000 concurrent executions a minute).
POLLERS_PER_MINUTE: Final = 100


class _Scaling:
    """Target concurrency as a function of how long a backlog has lasted."""

    start: int
    cap: int
    per_minute: float
    unit: int

    def __init__(self) -> None:
        self._since: float | None = None

    def target(self, now: float, backlog: bool) -> int:
        """The concurrency allowed at ``now``; a poll reports whether messages are waiting."""
        if not backlog:
            self._since = None
            return self.start * self.unit
        if self._since is None:
            self._since = now
        steps = math.floor(self.per_minute * (now - self._since) / 60 + 1e-9)
        return min(self.cap, self.start + steps) * self.unit

    def next_step(self, now: float) -> float | None:
        """When the target next grows (``None`` when it cannot, or without a backlog)."""
        if self._since is None:
            return None
        steps = math.floor(self.per_minute * (now - self._since) / 60 + 1e-9)
        if self.start + steps >= self.cap:
            return None
        return self._since + (steps + 1) * 60 / self.per_minute


class StandardScaling(_Scaling):
    """Standard mode: 5 at first, +300 a minute, up to ``maximum_concurrency`` or 1,250."""

    def __init__(self, maximum_concurrency: int | None = None) -> None:
        super().__init__()
        self.cap = maximum_concurrency or MAX_STANDARD_CONCURRENCY
        self.start = min(START_CONCURRENCY, self.cap)
        self.per_minute = STANDARD_PER_MINUTE
        self.unit = 1


class ProvisionedScaling(_Scaling):
    """Provisioned mode: ``minimum_pollers`` ready, +100 pollers a minute up to
    ``maximum_pollers``; 10 concurrent invokes per poller."""

    def __init__(self, minimum_pollers: int, maximum_pollers: int) -> None:
        super().__init__()
        self.start = minimum_pollers
        self.cap = maximum_pollers
        self.per_minute = POLLERS_PER_MINUTE
        self.unit = INVOKES_PER_POLLER

    def pollers(self, now: float, backlog: bool) -> int:
        """Pollers running at ``now``."""
        return self.target(now, backlog) // self.unit
