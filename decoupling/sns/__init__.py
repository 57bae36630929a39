"""SNS: topics, subscriptions, filter policies, message shapes and delivery protocols.

What lives here: :class:`~decoupling.sns.topic.Topic` with its publish and subscribe halves
(``publish``, ``subscribe``), :class:`~decoupling.sns.subscription.Subscription`, filter policies
(``filter_policy``), message validation and the delivered shapes (``message``, ``attributes``),
delivery, retry, redrive and archive policies (``policy``), the protocol registry with the SQS,
email, email-json and SMS protocols (``delivery``), HTTP/S delivery (``http``), and FIFO archive
and replay (``archive``). The ``lambda`` protocol lives with the functions it invokes
(``decoupling.functions.topic_delivery``) and registers itself here when imported.

May import: the top-level shared modules, ``decoupling._core`` and ``decoupling.sqs``. Nothing
here imports ``functions``, ``store`` or ``observe``.
"""
