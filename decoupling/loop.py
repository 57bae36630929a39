"""The event loop: one clock, one timer schedule and one registry of named resources.

An :class:`EventLoop` stands for one AWS "account" in one region. Every queue, topic and function
belongs to exactly one loop, and everything time-based that they do — long-poll deadlines,
redelivery, retries with backoff, pollers, schedules — runs on that loop's clock:

* Under a :class:`~decoupling.clock.ManualClock`, timers fire only when time is advanced (or
  auto-jumps), in due-time order, in the thread that advanced it. Runs are deterministic.
* Under a :class:`~decoupling.clock.MonotonicClock` (the default), a single background driver
  thread fires timers as they fall due. It starts on the first timer, or explicitly with
  :meth:`EventLoop.start` / ``with loop:``, and stops with :meth:`EventLoop.stop`. There is never
  a thread per queue or per message.

All public methods of the resources on a loop are thread-safe: they share the loop's one
re-entrant lock (the design measures before splitting it).

Blocking calls (a long-poll ``receive``) wait on a condition of the loop (:meth:`_wait`); their
asyncio peers (``receive_async``, ``invoke_async``) wait on a future registered beside the
threads in the same condition, on the running asyncio loop, without a thread
(:mod:`decoupling._waiters`). :meth:`EventLoop.stop` ends both kinds of long poll at once.
``asyncio`` is imported only when an asyncio method first waits.

Other regions and accounts are *siblings* of a loop (:meth:`EventLoop.in_region`,
:meth:`EventLoop.in_account`): loops of their own region/account, with their own resources,
ARNs and URLs, that share the home loop's clock, lock, timers and driver thread, made on first
use. The boto3 bridge routes each client to the sibling of its region (and account), and an SNS
topic delivers to queues of its siblings by ARN, as SNS does across regions and accounts.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ._waiters import AsyncWaiter, Waiters, _Deadlines, new_async_waiter
from .clock import Clock, ManualClock, MonotonicClock
from .errors import InvalidAddress

if TYPE_CHECKING:
    from types import TracebackType

    from .observe._tap import Tap
    from .sns.mail import EmailTransport
    from .sns.platform import PushTransport
    from .sns.sms import SmsTransport
    from .store.sqlite_store import SqliteStore

__all__ = ["EventLoop", "TimerHandle"]

_log = logging.getLogger("decoupling")


class TimerHandle:
    """A scheduled callback; :meth:`cancel` stops it from firing. Ordered by (when, seq)."""

    __slots__ = ("when", "seq", "callback", "cancelled")

    def __init__(self, when: float, seq: int, callback: Callable[[], object]) -> None:
        self.when = when
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the callback from firing (O(1); the entry is dropped when it reaches the top)."""
        self.cancelled = True

    def __lt__(self, other: TimerHandle) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def __repr__(self) -> str:
        return f"TimerHandle(when={self.when!r}, cancelled={self.cancelled})"


def _check_account(account_id: object) -> None:
    if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()
            and account_id.isascii()):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")


def _check_region(region: object) -> None:
    if not (isinstance(region, str) and region and region.isascii()
            and all(c.isalnum() or c == "-" for c in region)):
        raise ValueError(f"region must be letters, digits and '-', got {region!r}")


#: Region prefixes outside the ``aws`` partition, and their partitions.
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
               ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"),
               ("eusc-", "aws-eusc"))
#: Endpoint domain of each partition that is not ``amazonaws.com`` (botocore's
#: ``partitions.json``, ``dnsSuffix``).
_DNS_SUFFIXES = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov",
                 "aws-iso-b": "sc2s.sgov.gov", "aws-iso-e": "cloud.adc-e.uk",
                 "aws-iso-f": "csp.hci.ic.gov", "aws-eusc": "amazonaws.eu"}


class EventLoop:
    """One account's clock, timers and resources.

    Args:
        clock: the clock to run on (default: a new :class:`MonotonicClock`, real time). Pass a
            :class:`ManualClock` for tests and simulations on virtual time.
        region: the AWS region written into ARNs and URLs (default ``"us-east-1"``).
        account_id: the 12-digit account id written into ARNs and URLs (default
            ``"000000000000"``).
        store: durable mode: a path to an SQLite file, or a :class:`~decoupling.SqliteStore`
            for its settings. Every change of every queue is written there before the call
            that made it returns, and opening the same store again restores the queues as they
            were (see :mod:`decoupling.store.sqlite_store`). Default ``None``: everything lives in memory,
            and nothing of the store is paid for.
        allow_private_endpoints: let HTTP/S subscriptions reach link-local and cloud metadata
            addresses (169.254.0.0/16 — 169.254.169.254 among them —, fe80::/10,
            ``fd00:ec2::254``, ``metadata.google.internal``, ...). Default ``False``: refused at
            ``Subscribe`` and again for every address a name resolves to before connecting.
            Loopback and private ranges are always allowed (local services are the usual
            endpoints).
        email: send ``email`` and ``email-json`` subscriptions' confirmations and
            notifications for real: a :class:`~decoupling.SmtpEmail`, or any object with a
            ``send(email.message.EmailMessage)`` method (:class:`~decoupling.EmailTransport`).
            Default ``None``: they are kept in each topic's ``outbox``.
        sms: send ``sms`` subscriptions' messages for real: a callable taking one
            :class:`~decoupling.SmsMessage` (:data:`~decoupling.SmsTransport`). Default
            ``None``: they are kept in each topic's ``outbox``.
        push: send mobile push notifications (to platform endpoints) for real: a callable
            taking one :class:`~decoupling.PushMessage` (:data:`~decoupling.PushTransport`).
            Default ``None``: they are kept in each platform application's ``outbox``.
        sns_signatures: which SNS envelopes get a real RSA ``Signature`` (verifiable with the
            certificate served at their ``SigningCertURL``; see
            :mod:`decoupling.sns.signing`): ``"endpoints"`` (default) signs what leaves the
            process — subscription confirmations, ``http``/``https`` and ``email-json``
            notifications —; ``"all"`` also queue, Lambda and callable deliveries, as SNS
            does (about 1 ms of CPU per published message); ``"none"`` nothing. Unsigned
            envelopes say so in ``Signature`` (a text starting ``UNSIGNED``). Signing needs
            the ``cryptography`` package (the ``signing`` extra).

    Use as a context manager to run the real-clock driver for the block's duration::

        with EventLoop() as loop:
            ...
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        store: str | os.PathLike[str] | SqliteStore | None = None,
        allow_private_endpoints: bool = False,
        email: EmailTransport | None = None,
        sms: SmsTransport | None = None,
        push: PushTransport | None = None,
        sns_signatures: Literal["endpoints", "all", "none"] = "endpoints",
    ) -> None:
        _check_account(account_id)
        _check_region(region)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.region = region
        self.account_id = account_id
        self.allow_private_endpoints = bool(allow_private_endpoints)
        if email is not None and not callable(getattr(email, "send", None)):
            raise ValueError(f"email must have a send(EmailMessage) method, got {email!r}")
        if sms is not None and not callable(sms):
            raise ValueError(f"sms must be a callable taking an SmsMessage, got {sms!r}")
        #: The email transport (``None``: email goes to topics' outboxes).
        self.email: EmailTransport | None = email
        #: The SMS transport (``None``: SMS go to topics' outboxes).
        self.sms: SmsTransport | None = sms
        if push is not None and not callable(push):
            raise ValueError(f"push must be a callable taking a PushMessage, got {push!r}")
        #: The mobile push transport (``None``: push messages go to applications' outboxes).
        self.push: PushTransport | None = push
        if sns_signatures not in ("endpoints", "all", "none"):
            raise ValueError(
                f"sns_signatures must be 'endpoints', 'all' or 'none', got {sns_signatures!r}")
        #: Which SNS envelopes are signed (set at construction; see the argument).
        self.sns_signatures: str = sns_signatures
        self._lock = threading.RLock()
        self._store: SqliteStore | None = None
        if store is not None:
            from .store.sqlite_store import SqliteStore

            # Durable mode: the store's lock is an RLock that commits each call's changes
            # when the call lets go of it.
            self._store = SqliteStore._attach(store, self)
            self._lock = self._store._lock
        self._timers: list[TimerHandle] = []
        self._timer_seq = itertools.count()
        self._conditions: list[Waiters] = []
        # asyncio loop -> its tasks waiting for it to go idle before virtual time jumps
        # (ManualClock with auto-jump; see decoupling._waiters).
        # Weak keys: an asyncio loop closed with a check pending is not kept alive.
        self._idle_jumps: weakref.WeakKeyDictionary[Any, list[AsyncWaiter]] = (
            weakref.WeakKeyDictionary()
        )
        # asyncio loop -> its waiters' real-clock deadlines (one asyncio timer each; an entry
        # leaves when its heap empties, or when another asyncio loop first waits after its
        # own closed: see decoupling._waiters._add_deadline).
        self._async_deadlines: dict[Any, _Deadlines] = {}
        self._resources: dict[tuple[str, str], Any] = {}
        self._deleted_at: dict[tuple[str, str], float] = {}
        self._ids = itertools.count(1)
        self._id_blocks = itertools.count(0)
        self._id_prefix = os.urandom(6).hex()
        self._id_head = f"{self._id_prefix[:8]}-{self._id_prefix[8:12]}-4000-a000-"
        self._driver: threading.Thread | None = None
        self._driver_cond = threading.Condition(self._lock)
        self._running = False
        # Set by stop(), cleared by start(): long polls do not wait while it is set.
        self._stopped = False
        # Observability (metrics, journal, request meter, chaos): None until one is attached;
        # resources check it at their request boundaries (see decoupling.observe._tap).
        self._tap: Tap | None = None
        # The loop whose clock, lock and timers this one uses (itself, except for siblings) and,
        # on it, the siblings by (region, account), made on first use.
        self._home: EventLoop = self
        self._family: dict[tuple[str, str], EventLoop] | None = None
        if isinstance(self.clock, ManualClock):
            self.clock._subscribe(self)
        if self._store is not None:
            self._store._restore()

    @property
    def store(self) -> SqliteStore | None:
        """The durable store this loop journals to, or ``None`` (in memory)."""
        return self._store

    # -- regions and accounts -------------------------------------------------------------------

    @property
    def home(self) -> EventLoop:
        """The loop made with ``EventLoop(...)`` that this one is a sibling of (itself for
        that loop)."""
        return self._home

    def in_region(self, region: str) -> EventLoop:
        """This account's loop in ``region``: itself for its own region, else a sibling.

        A sibling is an :class:`EventLoop` usable wherever a loop is
        (``Queue(loop.in_region("eu-west-1"), "q")``), with its own resources and its region in
        their ARNs and URLs; it shares the home loop's clock, lock, timers and driver thread
        (``start``/``stop`` on any of them act on all), its ``email``/``sms`` transports and
        ``allow_private_endpoints``. Made on first use and kept while the home loop lives:
        asking again returns the same object. Siblings live in memory: a durable store
        (``store=``) holds the home loop's resources only, and observability taps attach to
        one loop. O(1).

        Raises:
            ValueError: ``region`` is not letters, digits and ``-``.
        """
        return self._home._sibling(region, self.account_id)

    def in_account(self, account_id: str) -> EventLoop:
        """The loop of account ``account_id`` (12 digits) in this loop's region: itself for its
        own account, else a sibling (see :meth:`in_region`).

        Raises:
            ValueError: ``account_id`` is not 12 digits.
        """
        return self._home._sibling(self.region, account_id)

    def _sibling(self, region: str, account_id: str) -> EventLoop:
        """(home loop) The family member for (region, account), made on first use."""
        if region == self.region and account_id == self.account_id:
            return self
        _check_region(region)
        _check_account(account_id)
        with self._lock:
            family = self._family
            if family is None:
                family = self._family = {}
            found = family.get((region, account_id))
            if found is None:
                found = family[(region, account_id)] = _Sibling(self, region, account_id)
            return found

    def _siblings(self) -> list[EventLoop]:
        """(home loop) Every sibling made so far."""
        with self._lock:
            return list((self._family or {}).values())

    # -- identifiers ----------------------------------------------------------------------------

    @property
    def partition(self) -> str:
        """The AWS partition of the loop's region, as ARNs name it: ``aws``, or ``aws-cn``
        (``cn-*``), ``aws-us-gov``, ``aws-iso``, ``aws-iso-b``, ``aws-iso-e``, ``aws-iso-f``,
        ``aws-eusc`` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
        for prefix, partition in _PARTITIONS:
            if self.region.startswith(prefix):
                return partition
        return "aws"

    def arn(self, service: str, name: str) -> str:
        """The ARN of a resource of this account:
        ``arn:<partition>:<service>:<region>:<account>:<name>`` (partition ``aws`` outside China,
        GovCloud and the ISO regions)."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{name}"

    @property
    def _dns_suffix(self) -> str:
        """The partition's endpoint domain: ``amazonaws.com``, ``amazonaws.com.cn`` in China."""
        return _DNS_SUFFIXES.get(self.partition, "amazonaws.com")

    def queue_url(self, name: str) -> str:
        """The URL of a queue: ``https://sqs.<region>.amazonaws.com/<account>/<name>``
        (``amazonaws.com.cn`` in the China regions; each partition's own domain)."""
        return f"https://sqs.{self.region}.{self._dns_suffix}/{self.account_id}/{name}"

    def new_id(self) -> str:
        """A fresh identifier shaped like a UUID (8-4-4-4-12 hex), unique within this loop.

        A random per-loop prefix plus a counter: as unique as AWS's message ids for our purposes
        and about ten times cheaper than :func:`uuid.uuid4`.
        """
        n = next(self._ids)
        if n < 0x1000000000:  # the first 2**36 ids share a precomputed head
            return f"{self._id_head}{n:012x}"  # (an f-string: ~2x format()'s speed)
        p = self._id_prefix
        return f"{p[:8]}-{p[8:12]}-4{n >> 48 & 0xFFF:03x}-a{n >> 36 & 0xFFF:03x}-{n & 0xFFFFFFFFF:012x}"

    def _id_block(self) -> str:
        """The first 33 characters of 4,096 fresh identifiers shaped as :meth:`new_id`'s, for a
        caller that hands them out itself (``block + _HEX3[i]`` for i in 0-4095; a queue's
        send under its lock, where a counter and one concatenation beat formatting an int).
        Unique within this loop, and never equal to an id :meth:`new_id` returns (their UUID
        variant digit is ``b``, new_id's ``a``)."""
        k = next(self._id_blocks)
        p = self._id_prefix
        return f"{p[:8]}-{p[8:12]}-4{k >> 48 & 0xFFF:03x}-b{k >> 36 & 0xFFF:03x}-{k & 0xFFFFFFFFF:09x}"

    def queue_name_from(self, name_url_or_arn: str) -> str:
        """The queue name in a queue name, URL or ARN of this account.

        Raises:
            InvalidAddress: a URL of another account, an ARN of another account or region, or
            malformed.
        """
        s = name_url_or_arn
        if s.startswith(("https://", "http://")):
            head, _, name = s.rpartition("/")
            account = head.rpartition("/")[2]
            if account != self.account_id or not name:
                raise InvalidAddress(f"The address {s} is not valid for this endpoint.")
            return name
        if s.startswith("arn:"):
            parts = s.split(":")
            if (len(parts) != 6 or parts[2] != "sqs" or parts[4] != self.account_id
                    or parts[3] != self.region):
                raise InvalidAddress(f"The address {s} is not valid for this endpoint.")
            return parts[5]
        return s

    # -- registry -------------------------------------------------------------------------------

    def _register(self, kind: str, name: str, resource: Any) -> None:
        self._resources[(kind, name)] = resource
        self._deleted_at.pop((kind, name), None)
        if self._store is not None:
            self._store._registered(kind, resource)
        if self._tap is not None:
            self._tap.registered(kind, resource)

    def _unregister(self, kind: str, name: str) -> None:
        if self._resources.pop((kind, name), None) is not None:
            self._deleted_at[(kind, name)] = self.clock.now()
            if self._store is not None:
                self._store._unregistered(kind, name)

    def _lookup(self, kind: str, name: str) -> Any:
        return self._resources.get((kind, name))

    def _resources_of(self, kind: str) -> list[Any]:
        return [r for (k, _), r in sorted(self._resources.items()) if k == kind]

    # -- timers ---------------------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        """Run ``callback()`` once the clock reaches ``when`` (seconds on :attr:`clock`).

        Timers due at the same time fire in the order they were scheduled. O(log n).
        Under a real clock this starts the driver thread if it is not running.
        """
        if not math.isfinite(when):
            raise ValueError(f"a timer needs a finite due time, got {when}")
        handle = TimerHandle(when, next(self._timer_seq), callback)
        with self._lock:
            timers = self._timers
            earliest = not timers or handle < timers[0]
            heapq.heappush(timers, handle)
            if not self.clock.is_virtual:
                if not self._running:
                    self._start_driver()
                elif earliest:
                    self._driver_cond.notify()
        return handle

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        """Run ``callback()`` after ``delay`` seconds (>= 0) of this loop's clock. O(log n)."""
        if not delay >= 0:  # also refuses NaN
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        return self.call_at(self.clock.now() + delay, callback)

    def next_timer_due(self) -> float | None:
        """When the earliest pending timer is due, or ``None`` if there is none."""
        with self._lock:
            timers = self._timers
            while timers and timers[0].cancelled:
                heapq.heappop(timers)
            return timers[0].when if timers else None

    def _pop_due(self, until: float) -> TimerHandle | None:
        with self._lock:
            timers = self._timers
            while timers:
                top = timers[0]
                if top.cancelled:
                    heapq.heappop(timers)
                    continue
                if top.when > until:
                    return None
                return heapq.heappop(timers)
            return None

    def _run(self, handle: TimerHandle) -> None:
        try:
            handle.callback()
        except Exception:  # a failing callback must not stop the loop
            _log.exception("timer callback %r raised", handle.callback)

    def _fire_until(self, when: float) -> None:
        """(ManualClock) fire every timer due at or before ``when``, in order."""
        clock = self.clock
        assert isinstance(clock, ManualClock)
        while (handle := self._pop_due(when)) is not None:
            clock._set(handle.when)
            self._run(handle)

    def run_until_idle(self, limit: float | None = None) -> None:
        """(ManualClock) advance virtual time through every pending timer, up to ``limit``.

        Timers that schedule further timers are followed too; with ``limit`` (absolute seconds)
        time stops there. Raises ``TypeError`` on a real clock.
        """
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("run_until_idle needs a ManualClock")
        while (due := self.next_timer_due()) is not None and (limit is None or due <= limit):
            clock.advance_to(max(due, clock.now()))
        if limit is not None and limit > clock.now():
            clock.advance_to(limit)

    # -- waiting --------------------------------------------------------------------------------

    def _new_condition(self) -> Waiters:
        """A condition on the loop's lock, woken whenever a ManualClock moves or the loop stops;
        asyncio tasks wait on it too (:meth:`_async_waiter`)."""
        cond = Waiters(self._lock)
        self._conditions.append(cond)
        return cond

    def _drop_condition(self, cond: Waiters) -> None:
        """Forget a condition whose owner is gone (a deleted queue), so the list stays short."""
        with self._lock:
            if cond in self._conditions:
                self._conditions.remove(cond)

    def _wake_waiters(self) -> None:
        with self._lock:
            for cond in self._conditions:
                cond.notify_all()

    def _async_waiter(self, cond: Waiters, until: float) -> AsyncWaiter:
        """Register the running asyncio task on ``cond`` until clock time ``until`` (lock
        held); the asyncio face of :meth:`_wait`, without a thread.

        The caller releases the lock, awaits the waiter's ``future``, takes the lock again and
        calls ``finish()`` (or ``abandon()`` if it was cancelled), then looks again. The future
        resolves on a notify, at ``until`` (an asyncio timer on a real clock), when a
        ManualClock moves — with auto-jump on, it moves time itself once the asyncio loop has
        nothing else ready — and when the loop stops. See :mod:`decoupling._waiters`.
        """
        return new_async_waiter(self, cond, until)

    def _wait(self, cond: threading.Condition, until: float) -> None:
        """Block (lock held) until notified or until clock time ``until``, whichever is first.

        Real clock: a timed wait. Virtual clock with auto-jump: wait ``autojump_threshold`` real
        seconds for another thread, then move time to the earlier of ``until`` and the next due
        timer (firing the timers). Virtual clock without auto-jump: wait until another thread
        advances the clock or notifies. Callers loop, re-checking their condition.
        """
        clock = self.clock
        if not isinstance(clock, ManualClock):
            timeout = until - clock.now()
            if timeout > 0:
                if self._store is not None:  # shared stores: look for other processes' news
                    timeout = self._store._wait_cap(timeout)
                cond.wait(timeout)
            return
        threshold = clock.autojump_threshold
        if threshold is None:
            cond.wait()
            return
        if threshold > 0 and cond.wait(threshold):
            return
        target = until
        due = self.next_timer_due()
        if due is not None and due < target:
            target = due
        if not clock._try_advance_to(target):
            # Another thread is advancing the clock and needs this loop's lock to fire our
            # timers: release it (by waiting) instead of blocking on the clock, which would
            # deadlock. That thread wakes every waiter when it is done.
            cond.wait(0.05)

    # -- the real-clock driver ------------------------------------------------------------------

    def start(self) -> EventLoop:
        """Start the background driver that fires timers on a real clock (idempotent), and
        let long polls wait again after :meth:`stop`.

        On a virtual clock there is no driver: its timers fire as time is advanced.
        """
        with self._lock:
            self._stopped = False
            self._start_driver()
        return self

    def _start_driver(self) -> None:
        """Start the real-clock driver if it is not running (lock held). A timer scheduled
        after :meth:`stop` starts it again this way; long polls stay short until
        :meth:`start`."""
        if self.clock.is_virtual or self._running:
            return
        self._running = True
        self._driver = threading.Thread(target=self._drive, name="decoupling-loop", daemon=True)
        self._driver.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the driver thread (real clock) and end every long poll.

        Every ``receive`` / ``receive_async`` blocked in a long poll returns ``[]`` at once
        (it takes no message), on a real or a virtual clock. Until :meth:`start` is called
        again (``with loop:`` does), a receive does not wait: it answers as a short poll
        (``wait_seconds=0``) would, so a worker that checks a flag of its own between polls
        cannot miss the stop by starting a poll just after it. Pending timers stay scheduled
        (a timer scheduled later starts the driver again). ``timeout``: real seconds to wait
        for the driver thread to end (default 5.0; ``None`` waits for it).
        """
        with self._lock:
            self._running = False
            self._stopped = True
            self._driver_cond.notify_all()
            driver, self._driver = self._driver, None
            for cond in self._conditions:
                cond.notify_all()
        if driver is not None and driver is not threading.current_thread():
            driver.join(timeout)

    def _drive(self) -> None:
        clock = self.clock
        while True:
            with self._lock:
                if not self._running:
                    return
                now = clock.now()
                handle = self._pop_due(now)
                if handle is None:
                    due = self.next_timer_due()
                    self._driver_cond.wait(None if due is None else max(due - now, 0.0))
                    continue
            self._run(handle)

    def __enter__(self) -> EventLoop:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"EventLoop(clock={self.clock!r}, region={self.region!r}, "
            f"account_id={self.account_id!r}, resources={len(self._resources)})"
        )


class _Sibling(EventLoop):
    """A loop of another region or account that runs on its home loop's clock, lock, timers
    and driver (see :meth:`EventLoop.in_region`). Resources, ids and the registry are its own;
    no store, no tap."""

    def __init__(self, home: EventLoop, region: str, account_id: str) -> None:
        # Not EventLoop.__init__: everything time-based is the home's.
        self.clock = home.clock
        self.region = region
        self.account_id = account_id
        self.allow_private_endpoints = home.allow_private_endpoints
        self.email = home.email
        self.sms = home.sms
        self.sns_signatures = home.sns_signatures
        self._lock = home._lock
        self._store = None
        self._timers = home._timers
        self._timer_seq = home._timer_seq
        self._conditions = home._conditions
        self._idle_jumps = home._idle_jumps
        self._async_deadlines = home._async_deadlines
        self._resources = {}
        self._deleted_at = {}
        self._ids = home._ids
        self._id_blocks = home._id_blocks  # (a family shares its id space)
        self._id_prefix = home._id_prefix
        self._id_head = home._id_head
        self._driver = None
        self._driver_cond = home._driver_cond
        self._tap = None
        self._home = home
        self._family = None

    @property
    def _stopped(self) -> bool:
        return self._home._stopped

    @_stopped.setter
    def _stopped(self, value: bool) -> None:
        self._home._stopped = value

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        return self._home.call_at(when, callback)

    def start(self) -> EventLoop:
        self._home.start()
        return self

    def _start_driver(self) -> None:
        self._home._start_driver()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._home.stop(timeout)
