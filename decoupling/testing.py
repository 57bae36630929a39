"""pytest plugin: fixtures for testing code built on ``decoupling`` (and on boto3) on virtual time.

Registered through the ``pytest11`` entry point, so installing ``decoupling`` makes these
fixtures available in every test suite without a ``conftest.py``:

* ``decoupling_clock`` — a :class:`~decoupling.ManualClock` at 0.0 s (wall time
  2026-01-01T00:00:00Z) that auto-jumps when every waiter is blocked;
* ``decoupling_loop`` — an :class:`~decoupling.EventLoop` (us-east-1, account 000000000000) on
  that clock;
* ``decoupling_advance`` — ``advance(seconds)``: move virtual time forward, firing due timers;
  returns the new time;
* ``decoupling_boto`` — needs the ``decoupling[boto3]`` extra (skips the test without boto3):
  every boto3 ``sqs``/``sns``/``lambda`` client created during the test is served by
  ``decoupling_loop`` (:func:`decoupling.boto.serve`); the fixture offers a ready
  ``session`` and ``client(...)`` / ``resource(...)`` helpers.

The names start with ``decoupling_`` so they never clash with a project's own ``clock`` or
``loop`` fixtures. Example::

    def test_visibility(decoupling_boto, decoupling_advance):
        sqs = decoupling_boto.client("sqs")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="job")
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)
        decoupling_advance(30)
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "job"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .clock import ManualClock
from .loop import EventLoop

__all__ = [
    "BotoFixture",
    "decoupling_clock",
    "decoupling_loop",
    "decoupling_advance",
    "decoupling_boto",
]


@pytest.fixture
def decoupling_clock() -> ManualClock:
    """A virtual clock at 0.0 s (wall time 2026-01-01T00:00:00Z) that auto-jumps when idle."""
    return ManualClock()


@pytest.fixture
def decoupling_loop(decoupling_clock: ManualClock) -> Iterator[EventLoop]:
    """An event loop (us-east-1, account 000000000000) on ``decoupling_clock``."""
    loop = EventLoop(clock=decoupling_clock)
    yield loop
    loop.stop()


@pytest.fixture
def decoupling_advance(decoupling_loop: EventLoop) -> Callable[[float], float]:
    """``advance(seconds) -> now``: move the loop's virtual time forward, firing due timers in
    order (``ManualClock.advance``)."""
    clock = decoupling_loop.clock
    assert isinstance(clock, ManualClock)

    def advance(seconds: float) -> float:
        clock.advance(seconds)
        return clock.now()

    return advance


class BotoFixture:
    """What ``decoupling_boto`` yields: the served loop and boto3 helpers.

    Attributes:
        loop: the :class:`~decoupling.EventLoop` answering the calls.
        session: a ``boto3.Session`` in the loop's region with dummy credentials.
    """

    def __init__(self, loop: EventLoop) -> None:
        import boto3

        self.loop = loop
        self.session = boto3.Session(
            region_name=loop.region,
            aws_access_key_id="decoupling",
            aws_secret_access_key="decoupling",
        )
        self._clients: dict[str, Any] = {}

    def client(self, service: str, **kwargs: Any) -> Any:
        """A served ``session.client(service, ...)``; without arguments, one per service."""
        if kwargs:
            return self.session.client(service, **kwargs)
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def resource(self, service: str, **kwargs: Any) -> Any:
        """A served ``session.resource(service, ...)`` (``sqs``, ``sns``)."""
        return self.session.resource(service, **kwargs)


@pytest.fixture
def decoupling_boto(decoupling_loop: EventLoop) -> Iterator[BotoFixture]:
    """Serve every boto3 ``sqs``/``sns``/``lambda`` client made during the test from
    ``decoupling_loop``; skips the test when boto3 is not installed."""
    pytest.importorskip("boto3")
    from .boto import serve

    with serve(decoupling_loop):
        yield BotoFixture(decoupling_loop)
