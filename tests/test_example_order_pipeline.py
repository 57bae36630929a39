"""examples/aws/order_pipeline.py runs in process and reports what happened, exactly (its AWS run
is tested in tests/behaviour/test_aws_backend.py)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "aws" / "order_pipeline.py"
SUMMARY = {"records": ["1", "3", "4"], "deleted": 2, "left_for_retry": 1,
           "audited": ["1", "2", "3", "4"]}


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_order_pipeline_in_process(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DECOUPLING_BACKEND", raising=False)
    started = time.monotonic()
    assert load_example("order_pipeline_example").main() == SUMMARY
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    assert capsys.readouterr().out.splitlines() == [
        "ship: order 1 (book) shipped",
        "ship: order 3 cannot be shipped yet",
        "ship: order 4 (lamp) shipped",
        f"summary: {SUMMARY}",
    ]
