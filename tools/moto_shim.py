"""pytest plugin: run moto's own tests against ``decoupling.boto.serve`` instead of moto.

Loaded by ``tools/moto_suite.py`` with ``-p moto_shim`` (``tools/`` on ``PYTHONPATH``); it is not
part of the ``decoupling`` package and is never loaded by the project's own test suite.

``moto.mock_aws`` is replaced, before any test module is imported, by a subclass of moto's own
mock whose outermost start also creates a fresh :class:`decoupling.EventLoop` (real clock,
moto's account ``123456789012``, region ``us-east-1``) and enters :func:`decoupling.boto.serve`
for it, and whose outermost stop leaves it. Every form the tests use keeps working because they
all go through ``start``/``stop``: ``@mock_aws``, ``@mock_aws(config=...)``, ``with mock_aws():``,
class decorators and ``mock_aws().start()`` / ``.stop()``.

Clients of the services ``decoupling.boto`` serves (``decoupling.boto.SERVICES``: sqs, sns,
lambda, s3, and whatever else a branch adds) are answered by the loop before botocore sends
anything. Every other client (IAM roles for Lambda, STS, CloudWatch Logs, ...) is created by
botocore's own ``create_client`` (``serve`` alone would refuse it) and answered by moto's mock,
so nothing ever leaves the process.

Environment:
    ``MOTO_SHIM_TIMEOUT``: seconds one test may run before it is failed (default 60; ``0``
    turns the limit off; ``tools/moto_suite.py`` sets it from its ``--timeout``). Uses
    ``SIGALRM``, so it needs a POSIX main thread.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Generator
from typing import Any

import moto
import moto.core.decorator
import pytest
from botocore.session import Session as BotocoreSession
from moto.core.models import MockAWS

import decoupling as dc
from decoupling.boto import SERVICES, serve

#: botocore's own ``create_client``, as it is before any ``serve`` block patches it.
_BOTOCORE_CREATE_CLIENT = BotocoreSession.create_client

#: moto's conventions (``moto.core.DEFAULT_ACCOUNT_ID``; most tests use us-east-1).
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _State:
    loop: dc.EventLoop | None = None
    serving: Any = None


class ServedMockAWS(MockAWS):  # type: ignore[misc]
    """moto's ``MockAWS`` whose outermost activation also serves a fresh loop.

    moto keeps its nesting count on ``self.__class__``, so this class counts on its own: every
    ``mock_aws`` in the run is one of these once the plugin is loaded.
    """

    def start(self, reset: bool = True) -> None:
        super().start(reset=reset)
        if type(self)._nested_count == 1:
            if reset or _State.loop is None:
                _new_loop()
            assert _State.loop is not None
            _State.serving = serve(_State.loop)
            _State.serving.__enter__()
            _let_moto_answer_the_rest()

    def stop(self, remove_data: bool = True) -> None:
        outermost = type(self)._nested_count == 1
        super().stop(remove_data=remove_data)
        if outermost:
            if _State.serving is not None:
                _State.serving.__exit__(None, None, None)
                _State.serving = None
            if remove_data:
                _drop_loop()


def _let_moto_answer_the_rest() -> None:
    """Inside ``serve``, clients of services the bridge does not serve are refused
    (``UnservedService``, so that they never reach AWS); here moto's mock is active and answers
    them, so they are created by botocore's own ``create_client``. ``serve``'s exit puts
    botocore's own method back."""
    serving_create_client = BotocoreSession.create_client

    def create_client(self: BotocoreSession, *args: Any, **kwargs: Any) -> Any:
        service = args[0] if args else kwargs.get("service_name")
        if service in SERVICES:
            return serving_create_client(self, *args, **kwargs)
        return _BOTOCORE_CREATE_CLIENT(self, *args, **kwargs)

    BotocoreSession.create_client = create_client  # type: ignore[method-assign]


def _new_loop() -> None:
    _drop_loop()
    _State.loop = dc.EventLoop(account_id=ACCOUNT_ID, region=REGION).start()


def _drop_loop() -> None:
    if _State.loop is not None:
        _State.loop.stop(timeout=1.0)
        _State.loop = None


def mock_aws(func: Any = None, config: Any = None) -> Any:
    """Drop-in for ``moto.mock_aws`` (same signature): decorator or context manager."""
    if func is not None:
        return ServedMockAWS()(func)
    return ServedMockAWS(config)


# Replace it where test modules (and tests/__init__.py, tests/conftest.py) import it from:
# ``-p`` plugins load before conftest files and test modules are imported.
moto.mock_aws = mock_aws
moto.core.decorator.mock_aws = mock_aws


def pytest_report_header() -> str:
    return (
        f"moto_shim: mock_aws serves {', '.join(sorted(_served()))} from a fresh "
        f"decoupling.EventLoop per test (account {ACCOUNT_ID}, {REGION}); moto answers the rest"
    )


def _served() -> list[str]:
    return list(SERVICES)


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"test ran longer than MOTO_SHIM_TIMEOUT={os.environ.get('MOTO_SHIM_TIMEOUT')}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    seconds = int(os.environ.get("MOTO_SHIM_TIMEOUT", "60"))
    if seconds <= 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
