"""Durable mode: every queue and bucket change journaled to SQLite and restored on open.

What lives here: :class:`~decoupling.store.sqlite_store.SqliteStore` (opening a store, observing
queues), which files are stores and how a new one is made (``_file``), its tables and loading,
body digests checked and damaged rows quarantined (``_load``), its write path (``_write``),
multi-process catch-up (``_sync``), waiting out other processes' locks (``_retry``), and
buckets with their body files (``_buckets``).

May import: the top-level shared modules, ``decoupling._core``, ``decoupling.sqs`` and
``decoupling.s3``. The store
attaches to queues as a queue observer; ``EventLoop(store=...)`` opens it (the one import of this
package from the top level, made only when a store is asked for).
"""
