"""The README's quickstart is two commands, and its code blocks run and print what they say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
# A ``print(...)  # expected`` line: the comment is exactly the printed text.
EXPECTED = re.compile(r"^\s*print\(.*\)\s+#\s*(.*?)\s*$")


def test_quickstart_is_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.startswith("## Quickstart\n")
    first = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first is not None
    commands = [line for line in first.group(1).splitlines() if line.strip()]
    assert commands == [
        "python3 -m pip install -e . && python3 examples/orders.py",
        'python3 -m pip install -e ".[test]" && python3 -m pytest',
    ]


def test_code_blocks_run_and_print_what_they_say() -> None:
    pytest.importorskip("boto3")
    printed: list[str] = []

    def record(*args: Any) -> None:
        printed.append(" ".join(str(a) for a in args))

    namespace: dict[str, Any] = {"print": record}
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for number, block in enumerate(blocks, 1):
        expected = [m.group(1) for m in map(EXPECTED.match, block.splitlines()) if m]
        printed.clear()
        exec(compile(block, f"README.md block {number}", "exec"), namespace)
        assert printed == expected, f"block {number}"
