"""examples/autoscaling.py: the pool grows with the backlog and shrinks after; the plot."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "autoscaling.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("autoscaling_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("autoscaling_example", module)
    spec.loader.exec_module(module)
    return module


def have_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def test_autoscaling_figures_and_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plot = tmp_path / "images" / "autoscaling.png"
    started = time.monotonic()
    figures = load_example().main(["--plot", str(plot)])
    assert time.monotonic() - started < 60.0  # 6 minutes of virtual time, not waited in real time
    assert figures == {
        "sent": 7680,  # 2/s for 240 s + 60/s for 120 s
        "processed": 7680,
        "peak_depth": 800,
        "peak_depth_at": 100.0,
        # (time, workers): the first order arrives at 0.5 s, so evaluations fall on x.5 s.
        "scaling": [(0.0, 1), (70.5, 5), (100.5, 8), (220.5, 1)],
        "peak_workers": 8,
        "caught_up_at": 140.0,
    }
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [
        "sent 7680 orders in 360 s: 2 a second, 60 a second from t=60 to t=180 s; "
        "processed 7680",
        "   time  waiting  workers",
        "    0 s        0        1",
        "   30 s        0        1",
        "   60 s        0        1",
        "   90 s      700        5",
        "  120 s      400        8",
        "  150 s        0        8",
        "  180 s        0        8",
        "  210 s        0        8",
        "  240 s        0        1",
        "  270 s        0        1",
        "  300 s        0        1",
        "  330 s        0        1",
        "  360 s        0        1",
        "workers: 1 at t=0 s, 5 at t=70.5 s, 8 at t=100.5 s, 1 at t=220.5 s",
        "deepest backlog 800 messages at t=100 s; the workers caught up by t=140 s",
    ]
    if have_matplotlib():
        assert out[-1] == f"plot written to {plot}"
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert out[-1] == ('matplotlib is not installed: no plot written '
                           '(pip install -e ".[examples]")')
        assert not plot.exists()


def test_autoscaling_without_matplotlib(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    plot = tmp_path / "autoscaling.png"
    load_example().main(["--plot", str(plot)])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == 'matplotlib is not installed: no plot written (pip install -e ".[examples]")'
    assert out[-2] == "deepest backlog 800 messages at t=100 s; the workers caught up by t=140 s"
    assert not plot.exists()
