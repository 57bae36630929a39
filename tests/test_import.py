"""``import decoupling`` is cheap and loads names on first use (PEP 562): a program pays only for
the services it touches, and heavy standard-library modules load where they are first needed.
The CPU figures are benchmarks/bench_import.py's; these tests pin which modules load when.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import decoupling

ROOT = Path(decoupling.__file__).resolve().parent.parent

#: Run in a fresh interpreter: after each step, the heavy modules loaded so far.
PROBE = """
import json, sys
HEAVY = ("asyncio", "sqlite3", "http.client", "urllib.request", "ipaddress", "ssl", "email")
before = set(sys.modules)  # what site-packages' .pth files loaded at start-up does not count
seen = {}
def note(step):
    seen[step] = {
        "heavy": sorted(m for m in HEAVY if m in sys.modules and m not in before),
        "ours": sorted(m for m in sys.modules if m.startswith("decoupling.")),
    }
import decoupling as dc
note("import")
loop = dc.EventLoop(clock=dc.ManualClock())
queue = dc.Queue(loop, "q")
queue.send("x")
queue.receive()
note("queue")
topic = dc.Topic(loop, "t")
topic.subscribe(queue)
topic.publish("y", message_attributes={"n": 5})
note("topic")
topic.subscribe(lambda message: None)
topic.subscribe(dc.Queue(loop, "r"), filter_policy={"n": [{"numeric": ["<=", 5]}]})
note("topic filters")
from decoupling.sns.delivery import protocol
seen["lambda before a runtime"] = protocol("lambda") is not None
runtime = dc.FunctionRuntime(loop)
seen["lambda with a runtime"] = protocol("lambda") is not None
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def steps() -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_import_decoupling_loads_no_submodule(steps: dict[str, dict[str, list[str]]]) -> None:
    assert steps["import"] == {"heavy": [], "ours": []}


def test_a_queue_program_loads_no_heavy_module(steps: dict[str, dict[str, list[str]]]) -> None:
    assert steps["queue"]["heavy"] == []
    assert not any(m.startswith(("decoupling.sns", "decoupling.functions", "decoupling.store",
                                 "decoupling.observe")) for m in steps["queue"]["ours"])


def test_a_topic_program_loads_neither_http_nor_the_functions(
        steps: dict[str, dict[str, list[str]]]) -> None:
    # The HTTP client's modules (ssl for https) load on the first POST only.
    assert steps["topic"]["heavy"] == []
    assert steps["topic filters"]["heavy"] == []
    assert not any(m.startswith("decoupling.functions") for m in steps["topic"]["ours"])


def test_the_lambda_protocol_registers_with_the_function_runtime(
        steps: dict[str, object]) -> None:
    assert steps["lambda before a runtime"] is False
    assert steps["lambda with a runtime"] is True


def test_every_public_name_resolves_to_its_home_module_object() -> None:
    import importlib

    for name in decoupling.__all__:
        value = getattr(decoupling, name)
        if name == "errors":
            assert value is importlib.import_module("decoupling.errors")
            continue
        home = importlib.import_module(f"decoupling.{decoupling._HOMES[name]}")
        assert value is getattr(home, name), name
    assert set(decoupling._HOMES) | {"errors"} == set(decoupling.__all__)
    assert set(decoupling.__all__) <= set(dir(decoupling))


def test_from_import_and_star_import_work() -> None:
    namespace: dict[str, object] = {}
    exec("from decoupling import *", namespace)
    assert set(decoupling.__all__) <= set(namespace)
    from decoupling import Queue, errors

    assert Queue is decoupling.Queue and errors.InvalidParameterValue.code == "InvalidParameterValue"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'decoupling' has no attribute 'Qeueu'"):
        decoupling.Qeueu  # type: ignore[attr-defined]  # noqa: B018
