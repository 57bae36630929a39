"""Large messages through SQS and SNS with the claim-check pattern (``PayloadOffload``).

SQS and SNS carry at most 1 MiB (256 KiB by default on SNS). AWS's answer is the extended
client libraries: the payload goes to an S3 bucket and the message carries a pointer. Here:

1. A 50 MB document goes through the ``documents`` queue: the queue holds a 150-byte pointer
   message, ``receive`` hands back the whole document, ``delete`` removes the object too.
2. The same document is published once to the ``scans`` topic and reaches two queues
   (``archive`` and ``ocr``, raw delivery): one object in the bucket, read by both; it goes with
   the second queue's delete.

The pointer is the extended clients' own format, so either end could be AWS's
``amazon-sqs-extended-client`` / ``amazon-sns-extended-client`` through ``decoupling.boto``.

Run: ``python examples/large_messages.py`` (a second or two; ``--mb N`` sends N MB instead).
"""

from __future__ import annotations

import sys
from typing import Any

import decoupling as dc
from decoupling.sqs.large_payloads import raw

MB = 1_000_000


def document(size: int) -> str:
    """``size`` characters of ASCII text (so ``size`` bytes of UTF-8)."""
    line = "scan-line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    return (line * (size // len(line) + 1))[:size]


def main(size: int | None = None, verbose: bool = True) -> dict[str, Any]:
    if size is None:
        size = 50 * MB
        if "--mb" in sys.argv:
            size = int(sys.argv[sys.argv.index("--mb") + 1]) * MB
    loop = dc.EventLoop(clock=dc.ManualClock())
    bucket = dc.Bucket(loop, "large-payloads")
    offload = dc.PayloadOffload(bucket)  # 256 KiB threshold, objects deleted with messages
    payload = document(size)
    figures: dict[str, Any] = {"payload_bytes": size}

    # 1. One queue.
    documents = dc.Queue(loop, "documents", large_payloads=offload)
    documents.send(payload, message_attributes={"type": "scan"})
    [key] = bucket.keys()
    figures["queue_object_bytes"] = bucket.head(key).size
    with raw():  # what SQS itself holds (as a plain boto3 client would see it)
        [pointer] = documents.receive()
        documents.change_visibility(pointer.receipt_handle, 0)
    figures["queue_message"] = pointer.body
    figures["key"] = key
    figures["queue_message_attributes"] = {
        k: v.value for k, v in pointer.message_attributes.items()
    }
    [message] = documents.receive()
    figures["queue_intact"] = message.body == payload
    figures["queue_attributes"] = {k: v.value for k, v in message.message_attributes.items()}
    documents.delete(message.receipt_handle)
    figures["objects_after_queue"] = len(bucket.keys())

    # 2. One topic, two queues.
    scans = dc.Topic(loop, "scans", large_payloads=offload)
    archive = dc.Queue(loop, "archive", large_payloads=offload)
    ocr = dc.Queue(loop, "ocr", large_payloads=offload)
    scans.subscribe(archive, raw_message_delivery=True)
    scans.subscribe(ocr, raw_message_delivery=True)
    scans.publish(payload, message_attributes={"type": "scan"})
    figures["objects_after_publish"] = len(bucket.keys())
    for queue in (archive, ocr):
        [message] = queue.receive()
        figures[f"{queue.name}_intact"] = message.body == payload
        queue.delete(message.receipt_handle)
        figures[f"objects_after_{queue.name}_delete"] = len(bucket.keys())

    if verbose:
        print(f"payload: {size:,} bytes")
        print(f"documents: the bucket holds a {figures['queue_object_bytes']:,} byte object; "
              f"the queue a {len(figures['queue_message'])} character message:")
        # The key is a fresh id each run: shown as <key>.
        print(f"  {figures['queue_message'].replace(key, '<key>')}")
        print(f"  attributes {figures['queue_message_attributes']}")
        print(f"documents: received intact: {figures['queue_intact']}; objects left after "
              f"delete: {figures['objects_after_queue']}")
        print(f"scans: published once, {figures['objects_after_publish']} object for two queues")
        print(f"archive: intact: {figures['archive_intact']}; objects left after its delete: "
              f"{figures['objects_after_archive_delete']}")
        print(f"ocr: intact: {figures['ocr_intact']}; objects left after its delete: "
              f"{figures['objects_after_ocr_delete']}")
    return figures


if __name__ == "__main__":
    main()
