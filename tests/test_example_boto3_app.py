"""examples/boto3_app.py (SQS, a zipped Lambda function and an event source mapping, all through
boto3) runs unchanged through the bridge, on virtual time, in milliseconds."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

pytest.importorskip("boto3")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "boto3_app.py"

EXPECTED = """\
placed 4 orders
  shipped o-1 (1 x book)
  shipped o-2 (3 x pen)
  failed o-3 on receive #1: no items
  shipped o-4 (2 x mug)
orders-dlq: nothing by t=20s
  failed o-3 on receive #2: no items
orders-dlq: nothing by t=40s
orders-dlq: o-3 from orders arrived at t=60s
shipments queued: 3; function invocations: 2
"""


def test_the_boto3_order_service_example(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("boto3_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    started = time.perf_counter()
    result = module.main()
    elapsed = time.perf_counter() - started
    assert capsys.readouterr().out == EXPECTED
    assert result == {"shipped": 3, "dead": ["o-3"], "invocations": 2, "virtual_seconds": 60.0}
    assert elapsed < 20.0  # 60 s of long polls and visibility timeouts, not waited in real time
