"""Watching a loop: metrics, the journal, request metering and cost, chaos, and the tap.

What lives here: :class:`~decoupling.observe.metrics.Metrics` (CloudWatch's metrics),
:class:`~decoupling.observe.journal.Journal` (each message's life),
:class:`~decoupling.observe.request_meter.RequestMeter` (billable SQS/SNS requests and a run's
cost), :class:`~decoupling.observe.chaos.Chaos` (seeded faults), and ``_tap``, the one object
the hot paths ask about.

May import: everything below it (the shared modules, ``_core``, ``sqs``, ``sns``, ``functions``).
Nothing below imports this package: queues, topics and functions only check ``loop._tap``.
"""
