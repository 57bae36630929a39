"""examples/sns_vs_sqs.py: push vs poll, 1:N vs 1:1, dropped vs kept, with exact figures."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sns_vs_sqs.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sns_vs_sqs_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sns_vs_sqs_example", module)
    spec.loader.exec_module(module)
    return module


def test_sns_vs_sqs(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    figures = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    assert figures == {
        "pushed_at": [0.0, 10.0, 20.0],
        "polled_at": [30.0, 30.0, 30.0],
        "topic_deliveries": 9,
        "queue_deliveries": 3,
        "topic_late_subscriber": 0,
        "queue_after_3_days": 3,
        "queue_after_5_days": 0,
    }
    assert capsys.readouterr().out.splitlines() == [
        "the same events, order-1 at t=0 s, order-2 at t=10 s, order-3 at t=20 s, to an"
        " SNS topic and to an SQS queue",
        "1. push vs poll",
        "  SNS: the subscriber was called at t=0 s (order-1), t=10 s (order-2), t=20 s"
        " (order-3): as each was published",
        "  SQS: the consumer polls every 30 s and gets at t=30 s order-1, order-2,"
        " order-3; at t=60 s nothing",
        "  time from hand-over to consumer: SNS 0 s, 0 s, 0 s; SQS 30 s, 20 s, 10 s",
        "2. 1:N vs 1:1",
        "  SNS: 9 deliveries: inventory got order-1, order-2, order-3; billing got"
        " order-1, order-2, order-3; analytics got order-1, order-2, order-3",
        "  SQS: 3 deliveries: worker-1 got order-1; worker-2 got order-2; worker-3 got order-3",
        "3. nobody listening",
        "  SNS: 3 publishes accepted with no subscriber; a subscriber added an hour later"
        " got 0: the messages were dropped",
        "  SQS: a consumer that starts 3 days later gets order-1, order-2, order-3"
        " (retention 4 days)",
        "  SQS: a consumer that starts 5 days later gets 0: past the retention period",
        "in short: SNS pushes each message to every subscriber at once and keeps nothing;",
        "          SQS keeps each message until one consumer asks for it and deletes it",
    ]
