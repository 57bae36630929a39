"""examples/boto3_app.py runs unchanged through the bridge, on virtual time, in milliseconds."""

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
  failed o-3 on receive #1: order o-3 has no items
  shipped o-4 (2 x mug)
poll from t=0s returned 4 message(s) at t=0s
poll from t=0s returned 0 message(s) at t=20s
  failed o-3 on receive #2: order o-3 has no items
poll from t=20s returned 1 message(s) at t=30s
poll from t=30s returned 0 message(s) at t=50s
poll from t=50s returned 0 message(s) at t=70s
dead letter: o-3 from orders (ApproximateReceiveCount 3)
shipments queued: 3; virtual time elapsed: 70s
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
    assert result == {"shipped": 3, "dead": ["o-3"], "virtual_seconds": 70.0}
    assert elapsed < 1.0  # 70 s of long polls and visibility timeouts, in milliseconds
