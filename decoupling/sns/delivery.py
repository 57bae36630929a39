"""SNS delivery: the protocol registry, retries on the loop's timers, dead letters, outboxes.

How a publish reaches a subscription depends on its protocol's :class:`ProtocolSpec`:

* ``mode="publish"`` — delivered inline, during ``publish``, under the loop's lock. For cheap
  deliveries that cannot block: ``sqs``, and ``email``, ``email-json``, ``sms`` into the
  topic's outbox. A loop with an email transport sends email from the worker pool instead
  (:mod:`decoupling.sns.mail`), one with an SMS transport calls it like ``application``
  (:mod:`decoupling.sns.sms`).
* ``mode="loop"`` — delivered from a timer due now on the loop: on a
  :class:`~decoupling.ManualClock` in the thread that advances time (deterministic), on a real
  clock in a small worker pool so a slow callable never holds up the loop. ``application``
  (Python callables) uses it.
* ``mode="pool"`` — always delivered from the worker pool (real I/O): ``http``/``https``.

A delivery that raises is retried along the subscription's retry policy, each retry a timer on
the loop (so virtual time runs the backoff); a :class:`ClientDeliveryError` is not retried, as
SNS does not retry client-side errors. When retries are exhausted the message goes to the
subscription's ``RedrivePolicy`` dead-letter queue — the same body (envelope, or raw body with
its attributes as SQS message attributes) that would have been delivered, as AWS does — or is
dropped ("Amazon SNS dead-letter queues"). A raw message with more message attributes than SQS
takes (10) fails at its SQS subscription and reaches the dead-letter queue without them.

The worker pool is bounded (:data:`WORKERS` threads per loop, started lazily): never one thread
per message; each subscription runs at most :data:`LANE_WORKERS` deliveries at once, so a slow
endpoint delays its own subscription, not the others.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..clock import ManualClock
from ..errors import DecouplingError, InvalidParameter
from ..message import MAX_ATTRIBUTES as SQS_MAX_ATTRIBUTES
from ..message import MessageAttributeValue
from ..message import message_size as sqs_message_size
from ..sqs.queue import Queue, _Record
from .message import DEFAULT_EMAIL_SUBJECT, Notification, Published
from .policy import CUSTOMER_RETRY, MANAGED_RETRY, RetryPolicy

if TYPE_CHECKING:
    from ..loop import EventLoop
    from .subscription import Subscription

__all__ = [
    "ProtocolSpec",
    "ClientDeliveryError",
    "OutboxEntry",
    "register_protocol",
    "protocol",
    "WORKERS",
    "LANE_WORKERS",
    "OUTBOX_LIMIT",
    "DirectDelivery",
]

_log = logging.getLogger("decoupling.sns")

#: Threads at most in each loop's SNS worker pool (HTTP/S POSTs, callables on a real clock);
#: they start only as deliveries run at the same time.
WORKERS = 32
#: Deliveries of one subscription running at the same time, at most.
LANE_WORKERS = 4


class ClientDeliveryError(Exception):
    """Raise from a protocol's ``deliver`` function for a client-side failure (the endpoint is
    gone, or refuses the message): SNS does not retry it; it goes straight to the dead-letter
    queue, if any."""


Resolver = Callable[["EventLoop", Any], tuple[str, Any]]
Deliverer = Callable[["Subscription", Notification], None]


@attrs.frozen
class ProtocolSpec:
    """How one subscription protocol delivers (see :func:`register_protocol`)."""

    name: str
    deliver: Deliverer
    resolve: Resolver
    mode: str = "loop"
    retry: RetryPolicy = MANAGED_RETRY
    raw: bool = False
    fifo_topics: bool = False
    large_messages: bool = False
    confirmation: bool = False
    delivery_policy: bool = False


_PROTOCOLS: dict[str, ProtocolSpec] = {}
_MODES = ("publish", "loop", "pool")


def _default_resolve(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidParameter("Invalid parameter: Endpoint must be a non-empty string")
    return endpoint, endpoint


def register_protocol(
    name: str,
    deliver: Deliverer,
    *,
    resolve: Resolver | None = None,
    mode: str = "loop",
    retry: str | RetryPolicy = "managed",
    raw: bool = False,
    fifo_topics: bool = False,
    large_messages: bool = False,
    confirmation: bool = False,
    delivery_policy: bool = False,
    replace: bool = False,
) -> ProtocolSpec:
    """Teach topics a subscription protocol (e.g. ``lambda``, registered by the functions
    runtime).

    Args:
        name: the protocol string passed to :meth:`Topic.subscribe` (and the ``MessageStructure``
            key the protocol reads).
        deliver: ``deliver(subscription, notification)``: deliver one
            :class:`~decoupling.Notification` (``notification.body`` is the JSON envelope or the
            raw message; ``notification.lambda_event()`` the Lambda event). Return on success;
            raise :class:`ClientDeliveryError` for a failure not worth retrying; raise anything
            else for a failure retried along ``retry``. Called without the loop's lock held
            (except in ``"publish"`` mode).
        resolve: ``resolve(loop, endpoint) -> (endpoint_string, target)``: turn what the user
            passed (an object or an ARN) into the ``Endpoint`` attribute and the object
            ``deliver`` uses (``subscription.target``). Raise ``InvalidParameter`` for a bad
            endpoint. Default: a non-empty string, used as both.
        mode: ``"publish"`` (inline during publish; must be cheap and never block), ``"loop"``
            (default: a timer on the loop; a worker thread on real clocks) or ``"pool"``
            (always a worker thread: blocking I/O).
        retry: ``"managed"`` (AWS-managed endpoints: 100,015 retries over 23 days),
            ``"customer"`` (50 retries over 6 hours) or a :class:`RetryPolicy`.
        raw: the protocol supports ``RawMessageDelivery``.
        fifo_topics: FIFO topics may use it (AWS: only ``sqs``).
        large_messages: allowed on topics whose ``MaximumMessageSize`` exceeds 256 KiB (AWS:
            ``sqs``, ``lambda``, ``firehose``).
        confirmation: subscriptions start ``PendingConfirmation``.
        delivery_policy: the subscription's ``DeliveryPolicy`` sets its retries.
        replace: allow replacing an already registered protocol.

    Returns the registered :class:`ProtocolSpec`. Raises ``ValueError`` for a bad argument or a
    name already registered (without ``replace``).
    """
    if not isinstance(name, str) or not name or not name.replace("-", "").isalnum():
        raise ValueError(f"protocol name must be letters, digits and '-', got {name!r}")
    if name in _PROTOCOLS and not replace:
        raise ValueError(f"protocol {name!r} is already registered (pass replace=True)")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not callable(deliver):
        raise ValueError("deliver must be callable")
    if isinstance(retry, str):
        policies = {"managed": MANAGED_RETRY, "customer": CUSTOMER_RETRY}
        if retry not in policies:
            raise ValueError(f"retry must be 'managed', 'customer' or a RetryPolicy, got {retry!r}")
        retry = policies[retry]
    spec = ProtocolSpec(
        name, deliver, resolve or _default_resolve, mode, retry, raw, fifo_topics,
        large_messages, confirmation, delivery_policy,
    )
    _PROTOCOLS[name] = spec
    return spec


def protocol(name: str) -> ProtocolSpec | None:
    """The registered spec of a protocol, or ``None``."""
    return _PROTOCOLS.get(name) if isinstance(name, str) else None


# --- outbox (email, email-json, sms) ---------------------------------------------------------


@attrs.frozen(slots=True)
class OutboxEntry:
    """One email or SMS message a topic "sent" on a loop without an ``email`` or ``sms``
    transport (then nothing is sent: they are kept here).

    Attributes:
        protocol: ``email``, ``email-json`` or ``sms``.
        endpoint: the address or phone number.
        kind: ``Notification``, ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation``.
        subject: the email subject (``AWS Notification Message`` when the publish had none);
            ``None`` for SMS.
        body: the text sent: the message (``email``, ``sms``), the JSON envelope
            (``email-json``), or the confirmation text.
        message_id: the SNS ``MessageId``.
        subscription_arn: the subscription's ARN.
        timestamp: ISO-8601 publish time.
        token: the confirmation token of a ``SubscriptionConfirmation``.
    """

    protocol: str
    endpoint: str
    kind: str
    subject: str | None
    body: str
    message_id: str
    subscription_arn: str
    timestamp: str
    token: str | None = None


#: Entries a topic's ``outbox`` keeps (the newest): a process that runs for months sending
#: email or SMS notifications holds at most this many per topic.
OUTBOX_LIMIT = 1_000


def to_outbox(outbox: list[OutboxEntry], entry: OutboxEntry) -> None:
    """Append to a topic's outbox, dropping the oldest entry past :data:`OUTBOX_LIMIT` (lock
    held). O(OUTBOX_LIMIT) pointer moves at worst: a few microseconds."""
    outbox.append(entry)
    if len(outbox) > OUTBOX_LIMIT:
        del outbox[: len(outbox) - OUTBOX_LIMIT]


def _deliver_outbox(sub: Subscription, n: Notification) -> None:
    proto = sub.protocol
    if proto == "email":
        subject: str | None = n.subject or DEFAULT_EMAIL_SUBJECT
        body = n.message
    elif proto == "email-json":
        subject = n.subject or DEFAULT_EMAIL_SUBJECT
        body = n.body
    else:
        subject, body = None, n.message
    to_outbox(sub.topic.outbox,
              OutboxEntry(proto, sub.endpoint, "Notification", subject, body, n.message_id,
                          sub.arn, n.timestamp))


#: Protocols a loop's transport sends for real: protocol -> (the EventLoop attribute holding the
#: transport, the delivery mode it runs in). SMTP is blocking I/O ("pool"); an SMS transport is
#: an app's callable, run like an ``application`` subscription's ("loop").
_TRANSPORTS = {"email": ("email", "pool"), "email-json": ("email", "pool"), "sms": ("sms", "loop")}


def delivery_mode(sub: Subscription) -> str:
    """How this subscription's deliveries run: its protocol's mode, unless the loop has a
    transport for the protocol (then off the lock, on a timer or the worker pool). O(1)."""
    spec = sub.spec
    transport = _TRANSPORTS.get(spec.name)
    if transport is None or getattr(sub.topic.loop, transport[0], None) is None:
        return spec.mode
    return transport[1]


def _deliver_to_person(sub: Subscription, n: Notification) -> None:
    """Deliver an email, email-json or SMS notification: through the loop's transport if it has
    one (no lock held), else to the topic's outbox (inline, lock held)."""
    loop = sub.topic.loop
    if sub.protocol == "sms":
        account = loop._lookup("_sns", "sms-account")
        if account is not None and account._opted_out:
            number = _SMS_SEPARATORS.sub("", sub.endpoint)
            if ("+" + number.lstrip("+")) in account._opted_out:
                raise ClientDeliveryError(f"the phone number {sub.endpoint} has opted out")
        if loop.sms is not None:
            from . import sms

            sms.deliver(sub, n)
            return
    elif loop.email is not None:
        from . import mail

        mail.deliver(sub, n)
        return
    _deliver_outbox(sub, n)


def _resolve_email(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    if not isinstance(endpoint, str) or endpoint.count("@") != 1 or endpoint.startswith("@") \
            or endpoint.endswith("@") or any(c.isspace() for c in endpoint):
        raise InvalidParameter(f"Invalid parameter: Email address: {endpoint!r}")
    return endpoint, endpoint


#: An SMS subscription endpoint: digits with an optional leading ``+``, single ``/``, ``-`` or
#: ``.`` separators between digit groups allowed (SNS accepts ``+12/34-567.890`` and refuses
#: ``+15--551234567``, ``+15551234567.``, ``/+15551234567``: LocalStack's AWS-validated
#: ``test_subscribe_sms_obscure_phone_number`` and ``test_subscribe_invalid_sms`` snapshots).
_SMS_ENDPOINT = re.compile(r"\+?[0-9]+(?:[-./][0-9]+)*")
_SMS_SEPARATORS = re.compile(r"[-./]")


def _resolve_sms(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    text = endpoint if isinstance(endpoint, str) else ""
    digits = sum(c.isdigit() for c in text)
    if not (_SMS_ENDPOINT.fullmatch(text) and 7 <= digits <= 15):
        raise InvalidParameter(f"Invalid SMS endpoint: {endpoint}")
    return text, text


def _resolve_callable(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    if isinstance(endpoint, str) and endpoint.startswith("arn:"):
        # A mobile push endpoint (decoupling.sns.platform), as SNS's ``application`` protocol.
        device = loop._lookup("sns-endpoint", endpoint)
        if device is None:
            raise InvalidParameter(
                "Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint "
                f"arn{endpoint}"
            )
        return endpoint, device
    if hasattr(endpoint, "_push_notification") and hasattr(endpoint, "application"):
        return endpoint.arn, endpoint
    if not callable(endpoint):
        raise InvalidParameter("Invalid parameter: Endpoint of protocol application must be callable")
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    module = getattr(endpoint, "__module__", None) or "builtins"
    return f"python:{module}.{name}#{id(endpoint):x}", endpoint


def _call_application(sub: Subscription, n: Notification) -> None:
    push = getattr(sub.target, "_push_notification", None)
    if push is not None:  # a mobile push endpoint
        push(sub, n)
    else:
        sub.target(n)


# --- sqs ----------------------------------------------------------------------------------------


def _queue_loop(loop: EventLoop, region: str, account: str) -> EventLoop:
    """The loop holding queues of (region, account): ``loop`` or a sibling of it. SNS delivers
    to queues of other regions and accounts (SNS Developer Guide, "Cross-Region delivery",
    https://docs.aws.amazon.com/sns/latest/dg/sns-cross-region-delivery.html, and "Sending
    Amazon SNS messages to an Amazon SQS queue in a different account")."""
    if region == loop.region and account == loop.account_id:
        return loop
    try:
        return loop.home._sibling(region, account)
    except ValueError:
        raise InvalidParameter("Invalid parameter: SQS endpoint ARN") from None


def _resolve_queue(loop: EventLoop, endpoint: Any) -> tuple[str, Any]:
    if isinstance(endpoint, Queue):
        if endpoint.loop is not loop and getattr(endpoint.loop, "home", None) is not loop.home:
            raise InvalidParameter("Invalid parameter: SQS endpoint belongs to another loop")
        return endpoint.arn, endpoint
    parts = endpoint.split(":") if isinstance(endpoint, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        raise InvalidParameter("Invalid parameter: SQS endpoint ARN")
    return endpoint, _queue_loop(loop, parts[3], parts[4])._lookup("sqs", parts[5])


class SqsSink:
    """Delivers a subscription's messages into its queue, inline during publish.

    A plain standard :class:`~decoupling.Queue` gets the message through a trusted fast path
    (the topic validated body and attributes already): one record, one ledger insert, at the
    publish's own timestamp. Other queues (FIFO) go through their public ``send``. Any failure
    is a client-side error (the queue is gone or refuses the message): no retry, straight to
    the dead-letter queue.
    """

    __slots__ = ("sub", "loop", "queue", "name", "fast")

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.loop = sub.topic.loop
        self.queue: Queue | None = None
        self.name = sub.endpoint.rsplit(":", 1)[-1]
        self.fast = False
        if isinstance(sub.target, Queue):
            self._use(sub.target)

    def _use(self, q: Queue) -> None:
        self.queue = q
        # Only the exact standard Queue is known to take a trusted record through _commit.
        self.fast = type(q) is Queue and hasattr(q, "_commit") and hasattr(q, "_values")

    def _queue(self) -> Queue | None:
        q = self.queue
        if q is None:
            parts = self.sub.endpoint.split(":")
            found = _queue_loop(self.loop, parts[3], parts[4])._lookup("sqs", self.name)
            if isinstance(found, Queue) and found.arn == self.sub.endpoint:
                self._use(found)
                q = found
        return q

    def deliver(self, pub: Published, replayed: bool = False) -> None:
        """Deliver one published message (under the loop's lock). O(log n) in the queue."""
        tap = self.loop._tap
        if tap is not None and tap.sns_context is None:
            tap.sns_sqs_delivery(self, pub, replayed)  # observes this same call, re-entered
            return
        sub = self.sub
        attributes: dict[str, MessageAttributeValue] | None
        if sub._raw:
            body, attributes = pub.message_for("sqs"), pub.attributes
            if attributes is not None and (len(attributes) > SQS_MAX_ATTRIBUTES or any(
                    name.startswith("AWS.") for name in attributes)):
                # SNS publishes take any number of attributes, and SNS's reserved AWS.SNS.*
                # names; SQS takes 10 at most, and no AWS.* names.
                dead_letter(sub, pub, body, attributes,
                            "the message attributes are more than SQS's 10, or use a name "
                            "reserved by AWS")
                return
        else:
            shape = pub.sqs_shape
            if shape is None or replayed:
                shape = pub.shape("sqs", replayed)
            body, attributes = shape[0] + sub._unsub_json + shape[1], None
        q = self.queue if self.queue is not None else self._queue()
        if q is None or q._deleted:
            dead_letter(sub, pub, body, attributes, "the SQS queue does not exist")
            return
        try:
            if self.fast:
                values = q._values
                size = (
                    len(body) if attributes is None and body.isascii()
                    else sqs_message_size(body, attributes)
                )
                if size > values["MaximumMessageSize"]:
                    raise InvalidParameter(
                        f"the message is over the queue's {values['MaximumMessageSize']} bytes"
                    )
                if replayed:
                    clock = self.loop.clock
                    now, wall_ms = clock.now(), clock.wall_ms()
                    message_id = self.loop.new_id()
                else:
                    now, wall_ms = pub.published_at, pub.wall_ms
                    message_id = sub._sqs_id_head + pub.id_suffix
                q._commit(
                    _Record(message_id, body, attributes, wall_ms,
                            None if pub.fifo else pub.group_id),
                    float(values["DelaySeconds"]), now,
                )
            elif q.is_fifo:
                q.send(body, message_attributes=attributes, message_group_id=pub.group_id,
                       message_deduplication_id=pub.dedup_id)
            else:
                q.send(body, message_attributes=attributes,
                       message_group_id=None if pub.fifo else pub.group_id)
        except DecouplingError as error:
            dead_letter(sub, pub, body, attributes, error.message)


def _sqs_deliver(sub: Subscription, n: Notification) -> None:  # pragma: no cover - via SqsSink
    raise RuntimeError("sqs subscriptions deliver through SqsSink")


# --- dead letters ---------------------------------------------------------------------------


def dead_letter(
    sub: Subscription,
    pub: Published,
    body: str,
    attributes: dict[str, MessageAttributeValue] | None,
    reason: str,
) -> None:
    """Send an undeliverable message to the subscription's DLQ, or drop it (lock held)."""
    sub.undeliverable += 1
    tap = sub.topic.loop._tap
    if tap is not None:
        tap.sns_undeliverable(sub, pub, reason)
    arn = sub._dlq_arn
    dlq = None
    if arn is not None:
        found = sub.topic.loop._lookup("sqs", arn.rsplit(":", 1)[-1])
        if isinstance(found, Queue) and found.arn == arn and not found._deleted:
            dlq = found
    if dlq is None:
        _log.warning("SNS message %s to %s dropped: %s", pub.message_id, sub.arn, reason)
        return
    if attributes is not None and (len(attributes) > SQS_MAX_ATTRIBUTES or any(
            name.startswith("AWS.") for name in attributes)):
        # The queue could not take them either: the message goes without its attributes.
        attributes = None
    try:
        if dlq.is_fifo:
            dedup = pub.dedup_id or hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
            dlq.send(body, message_attributes=attributes, message_group_id=pub.group_id or "sns",
                     message_deduplication_id=dedup)
        else:
            dlq.send(body, message_attributes=attributes)
        sub.dead_lettered += 1
    except DecouplingError as error:
        _log.warning("SNS message %s to %s could not be dead-lettered: %s", pub.message_id,
                     sub.arn, error)


# --- the worker pool and retried deliveries -------------------------------------------------


class WorkerPool:
    """A bounded pool of daemon threads, one pool per loop, with a lane per subscription.

    Threads start on demand, up to :data:`WORKERS`, when no started one is free. A lane (a
    subscription) runs at most :data:`LANE_WORKERS` jobs at once; its further jobs wait in the
    lane, in order, so a slow endpoint holds at most that many threads and delays only its own
    deliveries (as long as fewer than ``WORKERS // LANE_WORKERS`` subscriptions are slow at the
    same time; each attempt ends within its deadline anyway). Jobs without a lane share the
    queue of ready jobs. O(1) a job.
    """

    def __init__(self, workers: int = WORKERS, per_lane: int = LANE_WORKERS) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._ready: deque[tuple[object, Callable[[], None]]] = deque()
        # lane -> [jobs running, jobs waiting]
        self._lanes: dict[object, tuple[list[int], deque[Callable[[], None]]]] = {}
        self._max = workers
        self._per_lane = per_lane
        self._threads = 0
        self._idle = 0  # threads waiting for a job and not yet woken for one

    @classmethod
    def of(cls, loop: EventLoop) -> WorkerPool:
        """The loop's pool (created on first use)."""
        with loop._lock:
            pool = loop._lookup("_sns", "workers")
            if pool is None:
                pool = cls()
                loop._register("_sns", "workers", pool)
            assert isinstance(pool, WorkerPool)
            return pool

    def submit(self, job: Callable[[], None], lane: object = None) -> None:
        """Run ``job()`` on a worker thread, after the jobs of its lane submitted before it.
        O(1)."""
        with self._lock:
            if lane is not None:
                state = self._lanes.get(lane)
                if state is None:
                    state = self._lanes[lane] = ([0], deque())
                if state[0][0] >= self._per_lane:
                    state[1].append(job)
                    return
                state[0][0] += 1
            self._ready.append((lane, job))
            self._wake()

    def _wake(self) -> None:
        """Hand the newest ready job to a free thread, or start one (lock held)."""
        if self._idle:
            self._idle -= 1
            self._cond.notify()
        elif self._threads < self._max:
            self._threads += 1
            threading.Thread(target=self._work, name="decoupling-sns", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._ready:
                    self._idle += 1
                    self._cond.wait()
                lane, job = self._ready.popleft()
            try:
                job()
            except Exception:  # a job must never kill its worker
                _log.exception("SNS worker job failed")
            if lane is None:
                continue
            with self._lock:
                running, waiting = self._lanes[lane]
                if waiting:
                    self._ready.append((lane, waiting.popleft()))  # this thread takes it next
                else:
                    running[0] -= 1
                    if not running[0]:
                        del self._lanes[lane]


class DeliveryJob:
    """One message on its way to one non-inline subscription, retries included."""

    __slots__ = ("sub", "n", "pub")

    def __init__(self, sub: Subscription, pub: Published, n: Notification) -> None:
        self.sub = sub
        self.pub = pub
        self.n = n

    def schedule(self, delay: float) -> None:
        """Start (or retry) the delivery after ``delay`` seconds of loop time (lock held)."""
        sub = self.sub
        loop = sub.topic.loop
        rate = sub._rate
        if rate:
            now = loop.clock.now()
            slot = max(now + delay, sub._next_slot)
            sub._next_slot = slot + 1.0 / rate
            delay = slot - now
        on_loop = delivery_mode(sub) != "pool" and isinstance(loop.clock, ManualClock)
        if on_loop:
            loop.call_later(delay, self.run)
        elif delay <= 0:
            self._submit()
        else:
            loop.call_later(delay, self._submit)

    def _submit(self) -> None:
        """Hand the attempt to the worker pool, counting it as in flight on the topic."""
        topic = self.sub.topic
        with topic._lock:
            topic._in_pool += 1
        WorkerPool.of(topic.loop).submit(self._run_pooled, lane=self.sub)

    def _run_pooled(self) -> None:
        topic = self.sub.topic
        try:
            self.run()
        finally:
            with topic._lock:
                topic._in_pool -= 1
                topic._cond.notify_all()

    def run(self) -> None:
        """Attempt the delivery (no lock held while the protocol delivers)."""
        sub = self.sub
        topic = sub.topic
        if not sub._active:
            with topic._lock:
                topic._job_done()
            return
        client_error: str | None = None
        server_error: str | None = None
        tap = topic.loop._tap
        try:
            if tap is not None:
                tap.sns_before_delivery(sub, self.n)  # chaos may fail the attempt
            sub.spec.deliver(sub, self.n)
        except ClientDeliveryError as error:
            client_error = str(error) or type(error).__name__
        except Exception as error:
            server_error = f"{type(error).__name__}: {error}"
        with topic._lock:
            if tap is not None:
                tap.sns_attempt(sub, self.pub, self.n, client_error or server_error)
            if client_error is None and server_error is None:
                sub.delivered += 1
                topic._job_done()
                return
            delay = None
            if server_error is not None and sub._active:
                delay = sub.retry_policy().delay(self.n.attempt)
            if delay is None:
                dead_letter(sub, self.pub, self.n.body,
                            self.pub.attributes if self.n.raw else None,
                            client_error or server_error or "")
                topic._job_done()
                return
            self.n.attempt += 1
            self.schedule(delay)


class DirectDelivery:
    """A message sent without a topic (``Publish`` to a phone number or a push endpoint), with
    SNS's retries for customer-managed endpoints, on the loop's timers.

    ``attempt(n)`` makes attempt ``n`` (1, 2, ...; no lock held): return on success, raise
    :class:`ClientDeliveryError` for a permanent failure (not retried), anything else to retry
    along ``retry``. A message that is not delivered is dropped and logged (no subscription, so
    no dead-letter queue). On a :class:`~decoupling.ManualClock` attempts run from timers, in
    the thread that advances time; on a real clock on the loop's worker pool.
    """

    __slots__ = ("loop", "lane", "attempt", "what", "retry", "n", "failed")

    def __init__(self, loop: EventLoop, lane: object, attempt: Callable[[int], None], what: str,
                 retry: RetryPolicy = CUSTOMER_RETRY,
                 failed: Callable[[int, ClientDeliveryError], None] | None = None) -> None:
        self.loop = loop
        self.lane = lane
        self.attempt = attempt
        self.what = what
        self.retry = retry
        self.n = 1
        #: Called (no lock held) with the attempt number and the error when an attempt fails
        #: for good (a :class:`ClientDeliveryError`).
        self.failed = failed

    def schedule(self, delay: float = 0.0) -> None:
        """Make the next attempt after ``delay`` seconds of loop time."""
        loop = self.loop
        if isinstance(loop.clock, ManualClock):
            loop.call_later(delay, self.run)
        elif delay <= 0:
            WorkerPool.of(loop).submit(self.run, lane=self.lane)
        else:
            loop.call_later(delay, lambda: WorkerPool.of(loop).submit(self.run, lane=self.lane))

    def run(self) -> None:
        """One attempt (no lock held)."""
        try:
            self.attempt(self.n)
        except ClientDeliveryError as error:
            _log.warning("%s failed for good: %s", self.what, error)
            if self.failed is not None:
                self.failed(self.n, error)
        except Exception as error:
            delay = self.retry.delay(self.n)
            if delay is None:
                _log.warning("%s dropped after %d attempts: %s", self.what, self.n, error)
                return
            self.n += 1
            self.schedule(delay)


def dispatch(sub: Subscription, pub: Published, replayed: bool) -> None:
    """Deliver to a subscription whose protocol is not ``sqs`` (lock held)."""
    n = Notification(pub, sub.arn, sub._unsub_url, sub.protocol, replayed, sub._raw)
    spec = sub.spec
    topic = sub.topic
    if delivery_mode(sub) == "publish":
        tap = topic.loop._tap
        try:
            if tap is not None:
                tap.sns_before_delivery(sub, n)  # chaos may fail the attempt
            spec.deliver(sub, n)
        except ClientDeliveryError as error:
            dead_letter(sub, pub, n.body, pub.attributes if n.raw else None, str(error))
            return
        except Exception as error:
            if tap is not None:
                tap.sns_attempt(sub, pub, n, f"{type(error).__name__}: {error}")
            delay = sub.retry_policy().delay(1)
            if delay is None:
                dead_letter(sub, pub, n.body, pub.attributes if n.raw else None, str(error))
                return
            n.attempt = 2
            topic._pending += 1
            DeliveryJob(sub, pub, n).schedule(delay)
            return
        sub.delivered += 1
        if tap is not None:
            tap.sns_attempt(sub, pub, n, None)
        return
    topic._pending += 1
    DeliveryJob(sub, pub, n).schedule(0.0)


# --- built-in protocols -----------------------------------------------------------------------

register_protocol(
    "sqs", _sqs_deliver, resolve=_resolve_queue, mode="publish", retry="managed", raw=True,
    fifo_topics=True, large_messages=True,
)
register_protocol("email", _deliver_to_person, resolve=_resolve_email, mode="publish",
                  retry="customer", confirmation=True)
register_protocol("email-json", _deliver_to_person, resolve=_resolve_email, mode="publish",
                  retry="customer", confirmation=True)
register_protocol("sms", _deliver_to_person, resolve=_resolve_sms, mode="publish", retry="customer")
register_protocol(
    "application", _call_application, resolve=_resolve_callable, mode="loop", retry="customer",
    raw=True, delivery_policy=True,
)
