"""docs/guide.md tells the truth: every command it quotes prints exactly the output it shows,
its plot exists, and docs/reference.md matches the docstrings."""

from __future__ import annotations

import importlib.util
import re
import runpy
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide.md"
# A quoted run: a ```console block whose first line is "$ <command>", the rest its output.
CONSOLE = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)
PLOT_LINE = "plot written to docs/images/autoscaling.png"
NO_MATPLOTLIB = 'matplotlib is not installed: no plot written (pip install -e ".[examples]")'


def quoted_runs() -> list[tuple[str, list[str]]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [(m["command"], m["output"].splitlines()) for m in CONSOLE.finditer(text)]


RUNS = quoted_runs()


def test_guide_quotes_every_chapter_example() -> None:
    quoted = {shlex.split(command)[1] for command, _ in RUNS}
    examples = {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")}
    # boto3_app needs the boto3 extra and http_orders serves until stopped: the guide names
    # their commands without quoting output.
    unquoted = {"examples/boto3_app.py", "examples/http_orders.py"}
    assert quoted == examples - unquoted
    text = GUIDE.read_text(encoding="utf-8")
    assert all(f"python {example}" in text for example in unquoted)


@pytest.mark.parametrize(("command", "expected"), RUNS, ids=[c for c, _ in RUNS])
def test_quoted_output_is_what_the_script_prints(
    command: str, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    program, script, *args = shlex.split(command)
    assert program == "python" and script.startswith("examples/")
    if PLOT_LINE in expected and importlib.util.find_spec("matplotlib") is None:
        expected = [NO_MATPLOTLIB if line == PLOT_LINE else line for line in expected]
    # Run as `python <script> <args>` would, but in this process (a fresh interpreter per
    # example cost more than most examples), from an empty directory, so the autoscaling plot
    # lands there, not in docs/images.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(ROOT / script), *args])
    monkeypatch.syspath_prepend(str((ROOT / script).parent))
    try:
        runpy.run_path(str(ROOT / script), run_name="__main__")
    except SystemExit as stop:
        assert stop.code in (None, 0), stop.code
    assert capsys.readouterr().out.splitlines() == expected


def test_the_plot_the_guide_embeds_is_committed() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images == ["images/autoscaling.png"]
    png = GUIDE.parent / images[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def load_make_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_reference", ROOT / "docs" /
                                                  "make_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_up_to_date() -> None:
    make_reference = load_make_reference()
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert committed == make_reference.render(), (
        "docs/reference.md is out of date: run python docs/make_reference.py")


def test_reference_covers_every_public_name() -> None:
    import decoupling

    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)$", text, re.M))
    assert set(decoupling.__all__) <= headings
