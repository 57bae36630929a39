"""S3 in process: buckets, objects, multipart uploads and event notifications.

- ``bucket``: :class:`Bucket` (put, get with ranges, ``open`` to stream, head, delete, copy,
  list, versioning, object and bucket tags) and the value types its calls return.
- ``_body``: object bodies, as ``bytes``, spooled temporary files or the durable store's files,
  shared (never copied) between versions, copies and the parts of a multipart object, read in
  ranges with ``os.pread`` (several threads read one body at once).
- ``multipart``: multipart uploads and their ``-N`` ETags.
- ``notifications``: notification configurations, their validation, S3 event records and
  their delivery.

May import ``_core`` and the shared modules only. Notifications reach queues, topics and
functions through the loop's registry by ARN (``loop._lookup``) and duck-typed calls
(``send``, ``publish``, ``runtime.invoke``), so nothing here imports ``sqs``, ``sns`` or
``functions``. With a durable store a bucket reports each change to ``loop._store``
(duck-typed: ``_s3_body`` writes a body's file before the lock is taken, ``_s3_write`` rewrites
the bucket's and a key's rows in the call's transaction, ``_s3_drop`` hands over bodies whose
files may go); see :mod:`decoupling.store._buckets`. The boto3 bridge serves buckets as S3
(``decoupling/boto/_s3.py``).
"""
