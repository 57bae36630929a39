"""An order service written the way AWS tutorials write it, run in-process on virtual time.

The application part below is plain boto3: it creates an ``orders`` queue with a dead-letter
queue (``RedrivePolicy``, ``maxReceiveCount`` 2) and a 30-second visibility timeout, zips a
Lambda function (``lambda_function.py``, which reports partial batch failures), deploys it with
``create_function``, connects it to the queue with ``create_event_source_mapping``, places four
orders, and long-polls the dead-letter queue with ``WaitTimeSeconds=20``. It knows nothing of
``decoupling``.

``main()`` runs it inside ``decoupling.boto.serve(loop)`` on a ManualClock, so the long polls,
the visibility timeouts and the Lambda poller (60 seconds of virtual time) take milliseconds:

1. The event source mapping hands the four orders to the function as one batch.
2. Three ship; order o-3 (quantity 0) fails and is reported in ``batchItemFailures``.
3. o-3 comes back after its 30 s visibility timeout and fails again; at t=60 s a third receive
   would pass ``maxReceiveCount``, so SQS moves it to ``orders-dlq``.

Run: ``python examples/boto3_app.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

import decoupling as dc
from decoupling.boto import runtime_for, serve

# -- the application: plain boto3 -----------------------------------------------------------

#: The function's code, as it would sit in lambda_function.py.
LAMBDA_FUNCTION_PY = '''\
import json
import os

import boto3

sqs = boto3.client("sqs")
SHIPMENTS_URL = os.environ["SHIPMENTS_URL"]


def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        receives = record["attributes"]["ApproximateReceiveCount"]
        if order["quantity"] < 1:
            print(f"  failed {order['order_id']} on receive #{receives}: no items")
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        sqs.send_message(
            QueueUrl=SHIPMENTS_URL,
            MessageBody=json.dumps({"order_id": order["order_id"], "item": order["item"]}),
        )
        print(f"  shipped {order['order_id']} ({order['quantity']} x {order['item']})")
    return {"batchItemFailures": failures}
'''


def create_queues(sqs: Any) -> dict[str, str]:
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


def deploy_function(lambda_client: Any, sqs: Any, urls: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", LAMBDA_FUNCTION_PY)
    lambda_client.create_function(
        FunctionName="ship-orders",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/ship-orders-role",
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=30,
        Environment={"Variables": {"SHIPMENTS_URL": urls["shipments"]}},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName="ship-orders")
    orders_arn = sqs.get_queue_attributes(QueueUrl=urls["orders"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=orders_arn,
        FunctionName="ship-orders",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return str(mapping["UUID"])


def place_order(sqs: Any, queue_url: str, order_id: str, item: str, quantity: int) -> None:
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"order_id": order_id, "item": item, "quantity": quantity}),
    )


def wait_for_dead_letter(sqs: Any, dlq_url: str, clock: Any) -> dict[str, Any]:
    """Long-poll the dead-letter queue (20 s at a time) until a message arrives."""
    while True:
        response = sqs.receive_message(
            QueueUrl=dlq_url, WaitTimeSeconds=20, MessageSystemAttributeNames=["All"]
        )
        if "Messages" in response:
            return dict(response["Messages"][0])
        print(f"orders-dlq: nothing by t={clock.now():.0f}s")


# -- running it in-process ------------------------------------------------------------------


def main() -> dict[str, Any]:
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    with serve(loop):
        sqs = boto3.client("sqs")
        lambda_client = boto3.client("lambda")
        urls = create_queues(sqs)
        deploy_function(lambda_client, sqs, urls)
        for order_id, item, quantity in [
            ("o-1", "book", 1),
            ("o-2", "pen", 3),
            ("o-3", "lamp", 0),
            ("o-4", "mug", 2),
        ]:
            place_order(sqs, urls["orders"], order_id, item, quantity)
        print("placed 4 orders")
        dead = wait_for_dead_letter(sqs, urls["dlq"], clock)
        order = json.loads(dead["Body"])
        source = dead["Attributes"]["DeadLetterQueueSourceArn"].rsplit(":", 1)[1]
        print(f"orders-dlq: {order['order_id']} from {source} arrived at t={clock.now():.0f}s")
        shipped = sqs.get_queue_attributes(
            QueueUrl=urls["shipments"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        invocations = runtime_for(loop).get_function("ship-orders").invocations
        print(f"shipments queued: {shipped}; function invocations: {invocations}")
    return {
        "shipped": int(shipped),
        "dead": [order["order_id"]],
        "invocations": invocations,
        "virtual_seconds": clock.now(),
    }


if __name__ == "__main__":
    main()
