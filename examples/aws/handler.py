"""The shipping handler: a plain Lambda handler for SQS events, with no import of
``decoupling``. The same function runs in process (``examples/aws/order_pipeline.py``), as a
self-hosted consumer of a real queue (``DECOUPLING_BACKEND=aws``), and as a real Lambda
function with a real SQS trigger (``template.yaml`` beside it).

It reports partial batch failures (``ReportBatchItemFailures``): an order it cannot ship is
named in ``batchItemFailures`` and comes back after the queue's visibility timeout; the others
are deleted.
"""

from __future__ import annotations

import json
from typing import Any


def ship(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ship each paid order of an SQS batch; name the ones that cannot be shipped."""
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order["item"] == "broken":
            print(f"ship: order {order['order']} cannot be shipped yet")
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            print(f"ship: order {order['order']} ({order['item']}) shipped")
    return {"batchItemFailures": failures}
