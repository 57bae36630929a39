"""Backends for the behaviour suite: in process, durable (SQLite), and AWS against moto.

The AWS backend talks HTTP to ``moto.server.ThreadedMotoServer`` — an independent
implementation of SQS and SNS, started once per test session on 127.0.0.1 — never to AWS:
the credentials are fake and given to ``connect()`` only, and ``endpoint_url`` is the local
server. Each AWS test starts from an empty server (moto's reset API).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import decoupling as dc

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                    "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server on 127.0.0.1 (a free port), for the whole session."""
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - 127.0.0.1 only
        reply.read()


_BOTOCORE_SESSION: list[Any] = []


def aws_account(endpoint: str, **kwargs: Any) -> Any:
    """An account on the moto server (``poll_wait_seconds`` 1: pollers stop fast).

    Every account shares one botocore session, so the SQS and SNS service models are loaded
    and parsed once per test run rather than twice per test (~0.3 s each time)."""
    import botocore.session

    import decoupling.aws as aws

    if not _BOTOCORE_SESSION:
        _BOTOCORE_SESSION.append(botocore.session.get_session())
    kwargs.setdefault("poll_wait_seconds", 1)
    kwargs.setdefault("botocore_session", _BOTOCORE_SESSION[0])
    return aws.connect(endpoint_url=endpoint, **FAKE_CREDENTIALS, **kwargs)


@pytest.fixture
def make_account(aws_endpoint: str) -> Any:
    """``make_account(**connect_kwargs)``: an account on the emptied moto server."""
    return lambda **kwargs: aws_account(aws_endpoint, **kwargs)


@pytest.fixture
def aws_endpoint(moto_endpoint: str) -> str:
    """The moto server, emptied for this test."""
    reset_moto(moto_endpoint)
    return moto_endpoint


@pytest.fixture(params=["memory", "durable", "aws"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """What ``Queue``/``Topic`` take: an EventLoop (in process, on a ManualClock), an EventLoop
    with a SQLite store, or an AWS account on moto. Tests marked ``virtual_time`` are skipped
    for AWS, whose time is real."""
    kind = request.param
    if kind == "aws":
        if request.node.get_closest_marker("virtual_time") is not None:
            pytest.skip("needs virtual time (ManualClock); AWS runs on real time")
        endpoint = request.getfixturevalue("aws_endpoint")
        account = aws_account(endpoint)
        yield account
        account.close()
    elif kind == "durable":
        loop = dc.EventLoop(clock=dc.ManualClock(), store=tmp_path / "queues.db")
        yield loop
        store = loop.store
        if store is not None:
            store.close()
    else:
        yield dc.EventLoop(clock=dc.ManualClock())
