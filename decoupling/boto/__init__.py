"""``decoupling.boto``: real boto3 clients for ``sqs``, ``sns``, ``lambda`` and ``s3``, served in-process
by an :class:`~decoupling.EventLoop` (the ``decoupling[boto3]`` extra).

No HTTP and no AWS account: botocore still validates every parameter against its service model
and raises its own ``ClientError`` and modeled exceptions (``client.exceptions.QueueDoesNotExist``)
with the AWS error codes, HTTP status and messages; the calls are answered by the loop, on its
clock, so a 20-second long poll on a :class:`~decoupling.ManualClock` returns at once::

    import boto3
    import decoupling as dc
    from decoupling.boto import serve

    loop = dc.EventLoop(clock=dc.ManualClock())
    with serve(loop):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)

* :func:`serve` — context manager and decorator: every served client created inside it talks
  to the loop; a client of any other service is refused (:class:`UnservedService`) before it
  can connect anywhere.
* :func:`attach` / :func:`detach` — bind one existing client to a loop, or unbind it.
* :func:`served_loop` — the loop a client is bound to.
* ``logs`` clients read the functions' logs (``DescribeLogGroups``, ``DescribeLogStreams``,
  ``GetLogEvents``, ``FilterLogEvents`` over the groups ``/aws/lambda/<name>``; see
  :mod:`decoupling.functions.logs`).
* :func:`inline_code` — ``Code=inline_code(handler)`` creates a Lambda function from a Python
  callable; :func:`register_image` — the handler of ``PackageType="Image"`` functions of
  an image URI; :func:`use_runtime` / :func:`runtime_for` — the
  :class:`~decoupling.FunctionRuntime` that serves a loop's Lambda calls.
"""

from __future__ import annotations

from ._lambda import inline_code, register_image, runtime_for, use_runtime
from ._serve import SERVICES, Serving, UnservedService, attach, detach, serve, served_loop

__all__ = [
    "serve",
    "attach",
    "detach",
    "served_loop",
    "Serving",
    "SERVICES",
    "UnservedService",
    "inline_code",
    "register_image",
    "use_runtime",
    "runtime_for",
]
