"""CPU time of ``import decoupling`` in fresh processes, beside ``import queue`` and ``import moto``.

Each figure is the median over 5 rounds of the CPU seconds (``time.process_time``: user +
system) a fresh child process spends in one statement, printed by the child itself, so the
interpreter's own start-up is left out and every contender is timed alike. Within a round the
contenders run one after another; one untimed child comes first, importing what every
statement imports (it fills the bytecode cache; each child's interpreter start-up, ~0.1 s of
CPU with this machine's ``.pth`` files, is most of the script's cost). Statements:

* ``import queue``: a small stdlib module, the floor;
* ``import decoupling``: what every program and test process pays (names load on first use);
* ``decoupling: a queue program``: ``import decoupling`` and the names a queue program touches
  (``EventLoop``, ``ManualClock``, ``Queue``);
* ``decoupling: every public name``: ``import decoupling`` and every name in ``__all__``, the
  whole library loaded;
* ``import moto``: moto's package, as a test suite that mocks AWS with it would import it
  (skipped with a note when moto is not installed; ``pip install -e ".[bench]"``).

Two columns: **cached bytecode** (the usual case: ``.pyc`` files exist, as after
``pip install``; the children write theirs to a temporary ``PYTHONPYCACHEPREFIX``, filled by the
untimed child) and **from source** (``python -B`` on a copy of the package with no ``.pyc``:
what a process pays where bytecode is never written, as under ``PYTHONDONTWRITEBYTECODE=1``;
other libraries keep their installed bytecode, so ``import moto`` runs in the first column
only). Target (issue #17): ``import decoupling``
<= 100 ms CPU with cached bytecode.

Run: ``python benchmarks/bench_import.py`` (~10 s; ``--quick``: 3 rounds, cached bytecode only).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import emit, table

PACKAGE = Path(__file__).resolve().parent.parent / "decoupling"
QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5

STATEMENTS = {
    "queue": "import queue",
    "decoupling": "import decoupling",
    "decoupling_queue_program": "import decoupling as dc; dc.EventLoop; dc.ManualClock; dc.Queue",
    "decoupling_all_names": "import decoupling as dc; [getattr(dc, n) for n in dc.__all__]",
    "moto": "import moto",
}
LABELS = {
    "queue": "import queue",
    "decoupling": "import decoupling",
    "decoupling_queue_program": "decoupling: a queue program",
    "decoupling_all_names": "decoupling: every public name",
    "moto": "import moto",
}
#: The child: time one statement in its own CPU seconds and print them.
CHILD = "import time\n_t0 = time.process_time()\n{stmt}\nprint(time.process_time() - _t0)\n"


def cpu_ms(stmt: str, env: dict[str, str], flags: list[str]) -> float:
    """CPU milliseconds a fresh interpreter spends running ``stmt``."""
    out = subprocess.run([sys.executable, *flags, "-c", CHILD.format(stmt=stmt)], env=env,
                         cwd=env["PYTHONPATH"], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    names = [n for n in STATEMENTS if n != "moto" or importlib.util.find_spec("moto")]
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        src = Path(tmp) / "src"
        # A copy of the package without bytecode: the "from source" column compiles it anew
        # each time, and neither column writes into the checkout.
        shutil.copytree(PACKAGE, src / "decoupling", ignore=shutil.ignore_patterns("__pycache__"))
        base = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        base["PYTHONPATH"] = str(src)
        modes = {
            "cached": (dict(base, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc")), []),
            "source": (base, ["-B"]),
        }
        if QUICK:  # the targets are on cached bytecode; the source column is for reading
            del modes["source"]
        samples: dict[tuple[str, str], list[float]] = {
            (n, m): [] for n in names for m in modes if (n, m) != ("moto", "source")}
        # The untimed child: every statement's imports, so the cache holds all their bytecode.
        cpu_ms("; ".join(STATEMENTS[name] for name in names), *modes["cached"])
        for _ in range(ROUNDS):
            for name in names:
                for mode, (env, flags) in modes.items():
                    if name == "moto" and mode == "source":
                        continue  # its installed bytecode either way: the same as cached
                    samples[(name, mode)].append(cpu_ms(STATEMENTS[name], env, flags))
    median = {key: statistics.median(values) for key, values in samples.items()}
    rows = [("statement", "cached bytecode", "from source (-B)")]
    for name in names:
        source = median.get((name, "source"))
        rows.append((LABELS[name], f"{median[(name, 'cached')]:.1f} ms",
                     "-" if source is None else f"{source:.1f} ms"))
    table(f"CPU time in a fresh process, median of {ROUNDS} rounds "
          "(target: import decoupling <= 100 ms, cached)", rows)
    if "moto" not in names:
        print("  (moto not installed: pip install -e \".[bench]\")")
    figures: dict[str, float] = {}
    for (name, mode), value in median.items():
        figures[f"{name}_ms" if mode == "cached" else f"{name}_source_ms"] = round(value, 2)
    emit("import", **figures)


if __name__ == "__main__":
    main()
