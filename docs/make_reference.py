"""Write ``docs/reference.md``: the public API of ``decoupling``, from its docstrings.

Every name in ``decoupling.__all__`` gets a section: classes with their constructor signature,
docstring, public methods and properties (those defined in ``decoupling``, in source order);
functions with their signature and docstring; the ``errors`` module as a table of exception
classes with their AWS error code and HTTP status.

Run from the repository root::

    python docs/make_reference.py           # rewrite docs/reference.md
    python docs/make_reference.py --check   # exit 1 if docs/reference.md is out of date

``tests/test_guide.py`` runs the check, so a docstring change needs a regenerated reference.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
from pathlib import Path
from typing import Any

import decoupling

OUT = Path(__file__).resolve().parent / "reference.md"

HEADER = """\
# API reference

Generated from the docstrings by `python docs/make_reference.py`; do not edit by hand.
Every name below is importable from `decoupling` (`import decoupling as dc; dc.Queue`).
The guide (`docs/guide.md`) shows them at work.

"""


def _doc(obj: Any) -> str:
    return inspect.getdoc(obj) or "(no docstring)"


class _Text:
    """An annotation shown as written (``from __future__ import annotations`` keeps them as
    strings, which ``inspect`` would quote)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _signature(obj: Any, *, drop_self: bool = False, returns: bool = True,
               indent: str = "") -> str:
    """``(a: int, *, b: str = 'x') -> bool``; one parameter a line when it is long."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = list(sig.parameters.values())
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    params = [p.replace(annotation=_Text(p.annotation)) if isinstance(p.annotation, str) else p
              for p in params]
    ret = sig.return_annotation
    if not returns or ret in ("None", None) or ret is inspect.Signature.empty:
        ret = inspect.Signature.empty
    elif isinstance(ret, str):
        ret = _Text(ret)
    text = str(sig.replace(parameters=params, return_annotation=ret))
    if len(indent) + len(text) <= 96:
        return text
    # One parameter a line, as black would lay it out.
    parts = [str(p) for p in params]
    kinds = [p.kind for p in params]
    out: list[str] = []
    for i, (part, kind) in enumerate(zip(parts, kinds, strict=True)):
        if kind is inspect.Parameter.KEYWORD_ONLY and (
                i == 0 or kinds[i - 1] in (inspect.Parameter.POSITIONAL_ONLY,
                                           inspect.Parameter.POSITIONAL_OR_KEYWORD)):
            out.append("*")
        out.append(part)
        if kind is inspect.Parameter.POSITIONAL_ONLY and (
                i + 1 == len(params) or kinds[i + 1] is not inspect.Parameter.POSITIONAL_ONLY):
            out.append("/")
    tail = "" if ret is inspect.Signature.empty else f" -> {ret!r}" if isinstance(
        ret, _Text) else f" -> {inspect.formatannotation(ret)}"
    return "(\n" + "".join(f"    {part},\n" for part in out) + ")" + tail


def _ours(owner: type) -> bool:
    return owner.__module__.split(".")[0] == "decoupling"


def _members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties defined in decoupling classes of ``cls``'s MRO, in source
    order, the most derived definition of each name."""
    seen: set[str] = set()
    out: list[tuple[str, Any]] = []
    for owner in cls.__mro__:
        if not _ours(owner):
            continue
        for name, value in vars(owner).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property) or inspect.isfunction(value):
                if (value.__doc__ if isinstance(value, property) else inspect.getdoc(value)):
                    out.append((name, value))
    return out


def _class(name: str, cls: type) -> list[str]:
    if getattr(cls, "_is_protocol", False):
        head = f"class {name}(typing.Protocol)"
    elif any("__init__" in vars(base) for base in cls.__mro__ if _ours(base)):
        head = f"class {name}" + _signature(cls.__init__, drop_self=True, returns=False,
                                             indent=f"class {name}")
    else:
        head = f"class {name}" + _signature(cls, returns=False, indent=f"class {name}")
    lines = [f"## {name}", "", "```python", head, "```", "", _doc(cls), ""]
    for member, value in _members(cls):
        if isinstance(value, property):
            lines += [f"### {name}.{member}", "", "*property*", "", _doc(value), ""]
        else:
            sig = _signature(value, drop_self=True, indent=member)
            lines += [f"### {name}.{member}", "", "```python", f"{member}{sig}", "```", "",
                      _doc(value), ""]
    return lines


def _function(name: str, fn: Any) -> list[str]:
    return [f"## {name}", "", "```python", f"{name}{_signature(fn, indent=name)}", "```", "",
            _doc(fn), ""]


def _errors(module: types.ModuleType) -> list[str]:
    lines = ["## errors", "", _doc(module), "", "| class | AWS code | HTTP status | summary |",
             "| --- | --- | --- | --- |"]
    functions = []
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, type):
            summary = _doc(obj).splitlines()[0]
            lines.append(f"| `{name}` | `{obj.code}` | {obj.status} | {summary} |")
        else:
            functions.append((name, obj))
    lines.append("")
    for name, fn in functions:
        lines += [f"### errors.{name}", "", "```python", f"{name}{_signature(fn, indent=name)}",
                  "```", "", _doc(fn), ""]
    return lines


def render() -> str:
    """The reference as Markdown text."""
    sections: list[str] = [HEADER.rstrip("\n"), "", "## Contents", ""]
    names = sorted(decoupling.__all__, key=str.lower)
    sections += [f"- [`{name}`](#{name.lower()})" for name in names]
    sections.append("")
    for name in names:
        obj = getattr(decoupling, name)
        if isinstance(obj, types.ModuleType):
            sections += _errors(obj)
        elif isinstance(obj, type):
            sections += _class(name, obj)
        else:
            sections += _function(name, obj)
    return "\n".join(sections).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/reference.md from the docstrings.")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/reference.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run python docs/make_reference.py")
            return 1
        print(f"{OUT} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(decoupling.__all__)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
