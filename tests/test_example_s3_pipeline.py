"""examples/s3_pipeline.py runs and reports what the function got and wrote, exactly."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "s3_pipeline.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("s3_pipeline_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("s3_pipeline_example", module)
    spec.loader.exec_module(module)
    return module


def test_s3_pipeline_output(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    got = load_example().main()
    assert time.monotonic() - started < 15.0  # did not hang; generous for a loaded machine (virtual time)
    assert got == {
        "events": [
            "s3:TestEvent",
            "ObjectCreated:Put incoming/2026-01-01 sales.csv (55 bytes)",
            "ObjectCreated:Put incoming/2026-01-02 sales.csv (45 bytes)",
        ],
        "summaries": {
            "summaries/2026-01-01 sales.json": {
                "source": "s3://uploads/incoming/2026-01-01 sales.csv", "lines": 3,
                "items": 13, "revenue": 77.0,
            },
            "summaries/2026-01-02 sales.json": {
                "source": "s3://uploads/incoming/2026-01-02 sales.csv", "lines": 2,
                "items": 2, "revenue": 222.5,
            },
        },
        "left_in_queue": 0,
    }
    assert capsys.readouterr().out.splitlines() == [
        "summarize got: s3:TestEvent",
        "summarize got: ObjectCreated:Put incoming/2026-01-01 sales.csv (55 bytes)",
        "summarize got: ObjectCreated:Put incoming/2026-01-02 sales.csv (45 bytes)",
        "summaries/2026-01-01 sales.json: {'source': 's3://uploads/incoming/2026-01-01 sales.csv',"
        " 'lines': 3, 'items': 13, 'revenue': 77.0}",
        "summaries/2026-01-02 sales.json: {'source': 's3://uploads/incoming/2026-01-02 sales.csv',"
        " 'lines': 2, 'items': 2, 'revenue': 222.5}",
        "messages left in upload-events: 0",
    ]
