"""``AccountMeter``: the requests an AWS account object made, counted as AWS bills them.

The same rules as the in-process :class:`~decoupling.RequestMeter` (its module docstring cites
the pricing pages): every SQS API action is a request, each 64 KiB chunk of a request's payload
is one billed request, a batch call is one request per chunk of its whole payload, FIFO
queues' message actions are billed at the FIFO rate; an SNS publish is one request per 64 KiB
chunk. Here the requests are the ones this process really sent (a batch that automatic
batching built is one request), so "long polling and batching cut the bill" is measured on the
real service. Retries botocore makes for throttling and 5xx answers are not counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from ..observe.request_meter import CHUNK, FIFO_RATED, Prices

__all__ = ["AccountMeter"]

_MILLION = Decimal(1_000_000)


class AccountMeter:
    """Counts of the requests an account sent, by service, resource name and action.

    Thread-safe. ``requests()`` are billed requests (64 KiB chunks), ``calls()`` API calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (service, resource, action, fifo) -> [calls, billed requests]
        self._calls: Counter[tuple[str, str, str, bool]] = Counter()
        self._billed: Counter[tuple[str, str, str, bool]] = Counter()

    def _count(self, service: str, resource: str, action: str, fifo: bool,
               payload_bytes: int = 0) -> None:
        key = (service, resource, action, fifo)
        billed = max(1, -(-payload_bytes // CHUNK))
        with self._lock:
            self._calls[key] += 1
            self._billed[key] += billed

    def _sum(self, table: Counter[tuple[str, str, str, bool]], resource: object,
             action: str | None) -> int:
        name = getattr(resource, "name", resource)
        with self._lock:
            return sum(
                n for (_, res, act, _), n in table.items()
                if (name is None or res == name) and (action is None or act == action)
            )

    def requests(self, resource: object = None, action: str | None = None) -> int:
        """Billed requests (each 64 KiB chunk counts), optionally of one queue or topic (the
        object or its name) and one action (``"SendMessageBatch"``)."""
        return self._sum(self._billed, resource, action)

    def calls(self, resource: object = None, action: str | None = None) -> int:
        """API calls made, with the same filters as :meth:`requests`."""
        return self._sum(self._calls, resource, action)

    def by_action(self) -> dict[str, int]:
        """Billed requests per action name, e.g. ``{"SendMessageBatch": 100}``."""
        out: Counter[str] = Counter()
        with self._lock:
            for (_, _, action, _), n in self._billed.items():
                out[action] += n
        return dict(out)

    def cost(self, prices: Prices | None = None) -> Decimal:
        """What the counted SQS and SNS requests cost in US dollars (exact ``Decimal``; no
        free tier). Control-plane calls (create, attributes, tags) are counted but, as on the
        in-process meter, not priced."""
        prices = prices or Prices()
        total = Decimal(0)
        with self._lock:
            for (service, _, action, fifo), n in self._billed.items():
                if service == "sqs" and action in FIFO_RATED:
                    rate = prices.sqs.fifo if fifo else prices.sqs.standard
                elif service == "sqs" and action in ("GetQueueAttributes", "PurgeQueue"):
                    rate = prices.sqs.standard
                elif service == "sns" and action in ("Publish", "PublishBatch"):
                    rate = prices.sns.fifo_publish if fifo else prices.sns.publish
                else:
                    continue
                total += Decimal(str(rate)) * n / _MILLION
        return total

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._calls.clear()
            self._billed.clear()

    def __repr__(self) -> str:
        return f"AccountMeter(requests={self.requests()})"
