"""Lambda-style functions: the runtime, its functions and how they are invoked.

What lives here: :class:`~decoupling.functions.runtime.FunctionRuntime`; a function's settings and
execution environments (``function``) and their checks (``_checks``); running one handler
(``invocation``) and one invocation's life (``_lifecycle``); the context object (``context``);
asynchronous invocation with retries and destinations (``async_invoke``); SQS event source
mappings (``event_sources``) and their scaling (``scaling``); schedule expressions
(``schedule_expressions``) and scheduled invocations (``schedules``); plain worker pools
(``consumer_pool``); what each invocation used and cost (``usage``); and the SNS ``lambda``
protocol (``topic_delivery``).

May import: the top-level shared modules, ``decoupling._core``, ``decoupling.sqs`` and
``decoupling.sns``. Nothing here imports ``store`` or ``observe``.
"""
