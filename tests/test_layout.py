"""The package layout: few top-level modules, one-way dependencies between subpackages.

Dependencies run ``_core`` <- ``sqs`` <- ``sns`` <- ``functions``; ``store`` and ``observe``
sit on top and attach through hooks. Every import a module makes at run time counts — at
module level or inside a function — and only ``if TYPE_CHECKING:`` imports are exempt.
"""

from __future__ import annotations

import ast
import functools
import pathlib

import decoupling

PACKAGE = pathlib.Path(decoupling.__file__).parent
SHARED = {"clock", "loop", "errors", "message"}
SUBPACKAGES = {"_core", "sqs", "sns", "functions", "store", "observe", "boto", "aws", "s3"}
# What each subpackage may import at run time (besides the shared modules).
ALLOWED = {
    "_core": set(),
    "sqs": {"_core"},
    "sns": {"_core", "sqs"},
    "functions": {"_core", "sqs", "sns"},
    "store": {"_core", "sqs", "s3"},
    # s3 reaches queues, topics and functions through the loop's registry, importing none.
    "s3": {"_core"},
    "observe": {"_core", "sqs", "sns", "functions"},
    "boto": {"_core", "sqs", "sns", "functions", "s3", "store", "observe"},
    # The AWS backend: the public classes reach it only through the account object they are
    # given (duck typing), never by import.
    "aws": {"_core", "sqs", "sns", "functions", "observe", "boto"},
}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(path: pathlib.Path) -> set[str]:
    """Absolute names of the ``decoupling`` modules ``path`` imports outside TYPE_CHECKING."""
    name = _module_name(path)
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" in ast.unparse(node.test):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "decoupling":  # from . import module
                found.update(f"decoupling.{a.name}" for a in node.names)
            elif target.startswith("decoupling."):
                found.add(target)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.startswith("decoupling."))

    Visitor().visit(ast.parse(path.read_text()))
    return found


def _part(module: str) -> str:
    """The top-level part a module belongs to: a subpackage name or a shared module name."""
    return module.split(".")[1] if module.count(".") else "decoupling"


@functools.lru_cache(maxsize=1)  # parsed once for the tests that read it (callers only read)
def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        src = _part(_module_name(path))
        for target in _runtime_imports(path):
            dst = _part(target)
            if dst != src:
                edges.setdefault(src, set()).add(dst)
    return edges


def test_at_most_ten_modules_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
    assert {"clock.py", "loop.py", "errors.py", "message.py", "__init__.py"} <= set(top)


def test_the_subpackages_exist() -> None:
    for name in SUBPACKAGES:
        init = PACKAGE / name / "__init__.py"
        assert init.exists(), name
        assert ast.get_docstring(ast.parse(init.read_text())), f"{name}/__init__.py has no docstring"


def test_subpackages_import_only_what_lies_below_them() -> None:
    edges = _edges()
    wrong = {
        (src, dst)
        for src, dsts in edges.items()
        if src in ALLOWED
        for dst in dsts
        if dst in SUBPACKAGES and dst not in ALLOWED[src]
    }
    assert wrong == set()


def test_shared_modules_import_no_subpackage_at_module_level() -> None:
    # The one exception is EventLoop(store=...), which opens the store inside __init__.
    for name in SHARED:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in SUBPACKAGES, (name, node.module)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``edges`` as a path (first node repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_no_import_cycle_between_subpackages() -> None:
    edges = {k: v & SUBPACKAGES for k, v in _edges().items() if k in SUBPACKAGES}
    assert _cycle(edges) is None


def test_the_checker_sees_cycles_and_lazy_imports() -> None:
    assert _cycle({"sqs": {"sns"}, "sns": {"functions"}, "functions": {"sqs"}}) == [
        "functions", "sqs", "sns", "functions"
    ]
    assert _cycle({"sqs": {"_core"}, "sns": {"sqs", "_core"}}) is None
    # An import inside a function is a run-time edge too; a TYPE_CHECKING one is not.
    assert "decoupling.store.sqlite_store" in _runtime_imports(PACKAGE / "loop.py")
    assert "decoupling.observe._tap" not in _runtime_imports(PACKAGE / "loop.py")
