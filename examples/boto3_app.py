"""An order service written the way AWS tutorials write it, run in-process on virtual time.

The application part below is plain boto3 — clients from ``boto3.client``, queues with a
dead-letter queue through ``RedrivePolicy``, a Lambda-style ``lambda_handler(event, context)``
for SQS events with partial batch responses, and an SQS "trigger" loop that long-polls with
``WaitTimeSeconds=20`` and a 30-second visibility timeout. It knows nothing of ``decoupling``.

``main()`` runs it inside ``decoupling.boto.serve(loop)`` on a ManualClock: the long polls and
visibility timeouts (70 seconds of virtual time) take milliseconds.

1. Four orders arrive; the trigger loop hands them to the handler as one SQS event.
2. Three ship; order o-3 (quantity 0) fails and is reported in ``batchItemFailures``.
3. o-3 comes back after its 30 s visibility timeout, fails again, and after
   ``maxReceiveCount`` (2) receives it moves to ``orders-dlq``.

Run: ``python examples/boto3_app.py``.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

import decoupling as dc
from decoupling.boto import serve

# -- the application: plain boto3 -----------------------------------------------------------

sqs: Any = None  # created in setup(), as a Lambda module creates its client at import


def setup() -> dict[str, str]:
    """Create the queues; return their URLs by role."""
    global sqs
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    orders_url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    shipments_url = sqs.create_queue(QueueName="shipments")["QueueUrl"]
    return {"orders": orders_url, "dlq": dlq_url, "shipments": shipments_url}


def place_order(queue_url: str, order_id: str, item: str, quantity: int) -> None:
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"order_id": order_id, "item": item, "quantity": quantity}),
        MessageAttributes={"Source": {"DataType": "String", "StringValue": "web"}},
    )


SHIPMENTS_URL = ""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ship each order of an SQS event; report the ones that fail (ReportBatchItemFailures)."""
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        receives = record["attributes"]["ApproximateReceiveCount"]
        try:
            if order["quantity"] < 1:
                raise ValueError(f"order {order['order_id']} has no items")
            sqs.send_message(
                QueueUrl=SHIPMENTS_URL,
                MessageBody=json.dumps({"order_id": order["order_id"], "item": order["item"]}),
            )
            print(f"  shipped {order['order_id']} ({order['quantity']} x {order['item']})")
        except ValueError as error:
            print(f"  failed {order['order_id']} on receive #{receives}: {error}")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def to_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping would build from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {
                    name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


def poll(queue_url: str, queue_arn: str) -> int:
    """One turn of the SQS trigger: long poll, invoke the handler, delete what succeeded."""
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=20,
        VisibilityTimeout=30,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = response.get("Messages", [])
    if not messages:
        return 0
    result = lambda_handler(to_event(queue_arn, messages), None)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return len(messages)


# -- running it in-process ------------------------------------------------------------------


def main() -> dict[str, Any]:
    global SHIPMENTS_URL
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    with serve(loop):
        urls = setup()
        SHIPMENTS_URL = urls["shipments"]
        orders_arn = sqs.get_queue_attributes(QueueUrl=urls["orders"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        for order_id, item, quantity in [
            ("o-1", "book", 1),
            ("o-2", "pen", 3),
            ("o-3", "lamp", 0),
            ("o-4", "mug", 2),
        ]:
            place_order(urls["orders"], order_id, item, quantity)
        print("placed 4 orders")
        for _ in range(5):
            started = clock.now()
            received = poll(urls["orders"], orders_arn)
            print(f"poll from t={started:.0f}s returned {received} message(s) at t={clock.now():.0f}s")
        dead = sqs.receive_message(
            QueueUrl=urls["dlq"], MessageSystemAttributeNames=["All"], WaitTimeSeconds=20
        )["Messages"]
        shipped = sqs.get_queue_attributes(
            QueueUrl=urls["shipments"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        order = json.loads(dead[0]["Body"])
        source = dead[0]["Attributes"]["DeadLetterQueueSourceArn"].rsplit(":", 1)[1]
        count = dead[0]["Attributes"]["ApproximateReceiveCount"]
        print(f"dead letter: {order['order_id']} from {source} (ApproximateReceiveCount {count})")
        print(f"shipments queued: {shipped}; virtual time elapsed: {clock.now():.0f}s")
    return {"shipped": int(shipped), "dead": [order["order_id"]], "virtual_seconds": clock.now()}


if __name__ == "__main__":
    main()
