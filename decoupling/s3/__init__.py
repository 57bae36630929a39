"""S3 in process: buckets, objects, multipart uploads and event notifications.

- ``bucket``: :class:`Bucket` (put, get with ranges, head, delete, copy, list, versioning) and
  the value types its calls return.
- ``_body``: object bodies, as ``bytes`` or spooled temporary files, shared (never copied)
  between versions, copies and the parts of a multipart object.
- ``multipart``: multipart uploads and their ``-N`` ETags.
- ``notifications``: notification configurations, their validation, S3 event records and
  their delivery.

May import ``_core`` and the shared modules only. Notifications reach queues, topics and
functions through the loop's registry by ARN (``loop._lookup``) and duck-typed calls
(``send``, ``publish``, ``runtime.invoke``), so nothing here imports ``sqs``, ``sns`` or
``functions``. Buckets live in memory; the durable store does not hold them yet.
"""
