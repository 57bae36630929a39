"""SQS: standard and FIFO queues on the loop.

What lives here: :class:`~decoupling.sqs.queue.Queue` and its attribute and batch halves
(``_attributes``, ``_batches``, ``_state``), :class:`~decoupling.sqs.fifo.FifoQueue`, queue
attributes and redrive policies (``config``), call results (``results``), DLQ redrive
(``move_tasks``), and how pollers are told that messages arrived (``_watch``).

May import: the top-level shared modules (``clock``, ``loop``, ``errors``, ``message``) and
``decoupling._core``. Nothing here imports ``sns``, ``functions``, ``store`` or ``observe``: the
store and the observability tools attach through queue observers and the loop's tap.
"""
