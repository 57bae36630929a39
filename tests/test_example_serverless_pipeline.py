"""The serverless pipeline example: its figures, exactly (virtual time makes them exact)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import serverless_pipeline  # noqa: E402


def test_serverless_pipeline_figures(capsys: object) -> None:
    started = time.perf_counter()
    figures = serverless_pipeline.main(verbose=True)
    assert time.perf_counter() - started < 60.0  # did not hang; generous for a loaded machine (virtual time)
    assert figures == {
        "published": 10_000,
        "processed": 9_980,
        "dead_letters": 20,
        "peak_concurrency": 45,
        "peak_target": 45,
        "target_after_drain": 5,
        "drained_at": 127.8,
        "warehouse_peak_workers": 20,
        "warehouse_final_workers": 1,
        "nightly_reports": [{"time": "2026-01-01T02:00:00Z", "dead_letters": 20}],
        "invocations": 1_040,
        "cost": 0.001092,
        "billed_ms": 210_000,
    }
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "published 10000 orders; processed 9980; 20 invalid orders in orders-dlq" in out
    assert "TOTAL                    1041" in out
