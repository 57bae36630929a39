"""Run moto's own SQS, SNS and Lambda tests twice — as moto runs them, and through
``decoupling.boto.serve`` — and print pass counts per file side by side.

Usage::

    python3 tools/moto_suite.py MOTO [--services sqs,sns,lambda] [--out /work/moto-results]
                                     [--decoupling DIR] [--refresh-moto] [-k EXPR]
                                     [--no-docker-tests]

``MOTO`` is a moto checkout (a directory holding ``tests/test_sqs`` ...) or a moto git directory
(a bare clone or mirror: the test files are exported from its ``HEAD`` with ``git archive``).
moto's tests are read and run from there, never copied into this project. The ``moto``
package that runs them is the installed one (``pip install moto``); moto's own test
dependencies (``freezegun``) must be installed too. Docker is never used. moto's own run sets
``TESTS_SKIP_REQUIRES_DOCKER=true``, so it skips the tests moto marks ``requires_docker`` (it
cannot run a function without Docker). Our run runs them too (since the ``logs`` branch): through
the bridge a function runs in process and needs no Docker. ``--no-docker-tests`` skips them in
our run as well (the counts before that change).

Both runs load ``tools/loopback_only.py``: name lookups and connections reach loopback only, so
an endpoint such as ``http://example.com/`` in a test is never contacted. Our run loads
``tools/moto_shim.py`` (``-p moto_shim``), which swaps ``moto.mock_aws`` for a
fresh :class:`decoupling.EventLoop` served to boto3 for each test (see that file). ``--decoupling``
picks the ``decoupling`` source tree to test (default: the tree this script is in), so the
same script measures main or another branch's worktree.

The files counted are the ones issues #20 and #21 count (SQS 163 tests, SNS 192, Lambda 156 in
moto's snapshot of August 2026); see :data:`FILES` for what is left out and why.

Outputs, in ``--out`` (default ``/work/moto-results``):

* ``sqs.txt``, ``sns.txt``, ``lambda.txt``: every test not passing through the bridge, with
  moto's own outcome and the first line of our error, then the passing ones (with ``-k``:
  ``<service>.partial.txt``);
* ``moto-own-<key>.json``: moto's own outcomes, cached by the installed moto version and the
  tests' content (``--refresh-moto`` runs them again).

Lives in ``tools/`` (not ``benchmarks/``, which measures speed, nor ``tests/``, which the project's
own suite collects): a developer tool that needs moto and a moto checkout, both outside the
project; ``.ci/run`` lints it with ruff.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

TOOLS = pathlib.Path(__file__).resolve().parent
REPO = TOOLS.parent

#: The test files counted, per service (paths under moto's ``tests/``). Left out: server-mode
#: files (``test_server.py``: moto's Flask app), CloudFormation files (``*_cloudformation.py``),
#: ``test_sqs_authentication.py`` / ``test_sqs_multiaccount.py`` (moto's IAM enforcement and
#: cross-account backends), ``test_sns/test_utils.py`` (moto's filter-policy class directly),
#: ``test_sns/test_http_message_verification.py`` (moto's HTTP server helper),
#: ``test_lambda_layers_invoked.py`` and ``test_policy.py`` (Docker; moto's policy class).
FILES: dict[str, list[str]] = {
    "sqs": [
        "test_sqs/test_sqs.py",
        "test_sqs/test_sqs_message_attributes.py",
        "test_sqs/test_sqs_integration.py",
    ],
    "sns": [
        "test_sns/test_application.py",
        "test_sns/test_publish_batch.py",
        "test_sns/test_publishing.py",
        "test_sns/test_subscriptions.py",
        "test_sns/test_topics.py",
    ],
    "lambda": [
        "test_awslambda/test_lambda.py",
        "test_awslambda/test_lambda_alias.py",
        "test_awslambda/test_lambda_concurrency.py",
        "test_awslambda/test_lambda_eventsourcemapping.py",
        "test_awslambda/test_lambda_function_urls.py",
        "test_awslambda/test_lambda_invoke.py",
        "test_awslambda/test_lambda_layers.py",
        "test_awslambda/test_lambda_policy.py",
        "test_awslambda/test_lambda_tags.py",
    ],
}

#: Changes when the way moto's own run is done changes (cached runs are then redone).
RUN_VERSION = 2  # 2: loopback_only loaded

#: Where each service's missing operations are being built (for the differences table).
ISSUES = {
    "sns": " (issue #20, branch `snsops`)",
    "lambda": " (issue #21, branch `lambda`)",
    "sqs": "",
}

#: What the counted files import from moto's ``tests`` package besides their own directories.
SUPPORT = [
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/markers.py",
    "tests/test_core/__init__.py",
    "tests/test_core/utilities.py",
    "tests/test_s3/__init__.py",
    "tests/test_ecr/__init__.py",
    "tests/test_ecr/test_ecr_helpers.py",
]
DIRS = ["tests/test_sqs", "tests/test_sns", "tests/test_awslambda"]


def _git(args: list[str], cwd: pathlib.Path) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _is_git_dir(path: pathlib.Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def checkout_root(moto: pathlib.Path, scratch: pathlib.Path) -> tuple[pathlib.Path, str]:
    """The directory holding moto's ``tests/`` and a description of where it came from."""
    if (moto / "tests" / "test_sqs").is_dir():
        try:
            return moto, f"{moto} @ {_git(['rev-parse', 'HEAD'], moto)[:12]}"
        except (subprocess.CalledProcessError, FileNotFoundError):
            return moto, str(moto)
    if not _is_git_dir(moto):
        sys.exit(f"{moto}: neither a moto checkout (no tests/test_sqs) nor a git directory")
    commit = _git(["rev-parse", "HEAD"], moto)
    root = scratch / f"moto-{commit[:12]}"
    if not (root / "tests" / "test_sqs").is_dir():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(moto), "archive", commit, *DIRS, *SUPPORT],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root, f"{moto} @ {commit[:12]} (exported)"


def tests_key(root: pathlib.Path) -> str:
    """Cache key of moto's own run: installed moto version + the tests' content."""
    import moto

    digest = hashlib.sha256(f"{moto.__version__} {RUN_VERSION}".encode())
    for path in sorted((root / "tests").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return f"{moto.__version__}-{digest.hexdigest()[:12]}"


def _environment(
    decoupling: pathlib.Path, shim: bool, timeout: int, docker_tests: bool = False
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_TEST_"))}
    paths = [str(decoupling), str(TOOLS)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        TESTS_SKIP_REQUIRES_DOCKER="true",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MOTO_SHIM_TIMEOUT=str(timeout),
    )
    if shim and docker_tests:
        del env["TESTS_SKIP_REQUIRES_DOCKER"]
    return env


def run_pytest(
    root: pathlib.Path,
    files: list[str],
    decoupling: pathlib.Path,
    shim: bool,
    junit: pathlib.Path,
    keyword: str | None,
    timeout: int = 30,
    docker_tests: bool = False,
) -> dict[str, tuple[str, str]]:
    """Run ``files``; return ``{nodeid: (outcome, first line of the error)}``."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-o",
        "addopts=",
        f"--rootdir={root}",
        f"--junitxml={junit}",
        "-W",
        "ignore",
    ]
    command += ["-p", "loopback_only"]  # nothing leaves the machine, in either run
    if shim:
        command += ["-p", "moto_shim"]
    if keyword:
        command += ["-k", keyword]
    command += [f"tests/{f}" for f in files]
    subprocess.run(
        command,
        cwd=root,
        env=_environment(decoupling, shim, timeout, docker_tests),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return parse_junit(junit, files)


def parse_junit(junit: pathlib.Path, files: list[str]) -> dict[str, tuple[str, str]]:
    modules = {f"tests.{f[:-3].replace('/', '.')}": f"tests/{f}" for f in files}
    results: dict[str, tuple[str, str]] = {}
    if not junit.exists():
        return results
    for case in ET.parse(junit).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        module, rest = classname, ""
        while module and module not in modules:
            module, _, last = module.rpartition(".")
            rest = f"{last}::{rest}" if rest else last
        path = modules.get(module, classname.replace(".", "/") + ".py")
        nodeid = "::".join(p for p in (path, rest, name) if p)
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = (child.get("message") or child.text or "").strip()
                break
            if child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                message = (child.get("message") or "").strip()
                break
        results[nodeid] = (outcome, message.splitlines()[0][:300] if message else "")
    return results


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _passed(results: dict[str, tuple[str, str]], file: str | None = None) -> tuple[int, int]:
    chosen = [o for n, (o, _) in results.items() if file is None or _file_of(n) == file]
    return sum(o == "passed" for o in chosen), len(chosen)


def report(
    service: str,
    ours: dict[str, tuple[str, str]],
    theirs: dict[str, tuple[str, str]],
    out: pathlib.Path,
    source: str,
    tree: str,
    suffix: str = "",
) -> list[str]:
    """Write ``out/<service>.txt``; return the table's lines for this service."""
    lines = []
    files = sorted({_file_of(n) for n in ours} | {_file_of(n) for n in theirs})
    for file in files:
        p, t = _passed(ours, file)
        mp, mt = _passed(theirs, file)
        lines.append(f"  {file:<56} {p:>4}/{t:<4} {mp:>4}/{mt:<4}")
    p, t = _passed(ours)
    mp, mt = _passed(theirs)
    lines.append(f"  {service.upper() + ' total':<56} {p:>4}/{t:<4} {mp:>4}/{mt:<4}")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = [
        f"# moto's own {service} tests through decoupling.boto.serve ({stamp})",
        f"# moto tests: {source}",
        f"# decoupling: {tree}",
        f"# through the bridge {p}/{t} pass; moto itself {mp}/{mt}",
        "# columns: our outcome, moto's own outcome, test id, first line of our error",
        "",
    ]
    order = {"failed": 0, "error": 0, "skipped": 1, "xfailed": 1, "passed": 2}
    for nodeid in sorted(ours, key=lambda n: (order[ours[n][0]], n)):
        outcome, message = ours[nodeid]
        theirs_outcome = theirs.get(nodeid, ("-", ""))[0]
        tail = f"  {message}" if outcome != "passed" and message else ""
        text.append(f"{outcome.upper():<8} moto:{theirs_outcome:<8} {nodeid}{tail}")
    (out / f"{service}{suffix}.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    return lines


def read_results(path: pathlib.Path) -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    """A results file back: its ``# key: value`` header lines and ``(outcome, moto's outcome,
    test id, error)`` rows."""
    header: dict[str, str] = {}
    rows: list[tuple[str, str, str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(": ")
            header[key] = value
        elif line.strip():
            outcome, theirs, rest = line.split(None, 2)
            nodeid, _, message = rest.partition("  ")
            rows.append((outcome.lower(), theirs.removeprefix("moto:"), nodeid, message.strip()))
    return header, rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_doc(out: pathlib.Path, doc: pathlib.Path, services: list[str]) -> None:
    """Write the differences table from ``out/<service>.txt`` (the latest run of each)."""
    from moto_reasons import REASONS

    def reason(nodeid: str, message: str) -> str:
        for pattern, why in REASONS.items():
            if fnmatch.fnmatchcase(nodeid, pattern):
                return why
        unserved = re.search(r"does not serve (\w+)\.(\w+)", message)
        if unserved:
            issue = ISSUES.get(unserved[1], "")
            return f"not built: the bridge does not serve `{unserved[2]}` yet{issue}."
        return f"not examined yet; first error line: `{message[:160]}`"

    summary = [
        "| service | files | through the bridge | moto itself | run on |",
        "|---|---|---|---|---|",
    ]
    sections: list[str] = []
    for service in services:
        path = out / f"{service}.txt"
        if not path.exists():
            continue
        header, rows = read_results(path)
        ours = sum(o == "passed" for o, _, _, _ in rows)
        theirs = sum(t == "passed" for _, t, _, _ in rows)
        files = sorted({n.split("::")[0].removeprefix("tests/") for _, _, n, _ in rows})
        summary.append(
            f"| {service.upper()} | {len(files)} ({len(rows)} tests) | {ours} | {theirs} | "
            f"{_cell(header.get('decoupling', '?'))}, {header.get('moto tests', '?').split(' (')[0]} |"
        )
        sections += [
            "",
            f"## {service.upper()}: {len(rows) - ours} not passing through the bridge",
            "",
            f"Files: {', '.join(f'`{f}`' for f in files)}.",
            "",
            "| test | moto itself | why it does not pass through the bridge |",
            "|---|---|---|",
        ]
        for outcome, their_outcome, nodeid, message in rows:
            if outcome == "passed":
                continue
            short = nodeid.removeprefix("tests/")
            why = reason(nodeid, message)
            if outcome == "skipped" and their_outcome == "skipped":
                why = f"skipped in both runs: {message or 'see the test'}"
            sections.append(f"| `{_cell(short)}` | {their_outcome} | {_cell(why)} |")
    text = [
        "# moto's own tests through the bridge: what differs and why",
        "",
        "`tools/moto_suite.py` runs moto's own SQS, SNS and Lambda test files twice: as moto runs",
        "them, and through `decoupling.boto.serve` with `mock_aws` replaced by a fresh served",
        "`EventLoop` per test (`tools/moto_shim.py`). This page lists every test that does not pass",
        "through the bridge, with the reason: AWS documents or was observed to do otherwise (the",
        "source is named), the test reads moto's internals, it needs Docker, or the feature is not",
        "built yet. The files counted are the ones issues #20 and #21 count; see `FILES` in the",
        "script for those left out and why. Reasons live in `tools/moto_reasons.py`.",
        "",
        "Tests moto marks `requires_docker` are skipped in moto's own run (it needs Docker to run",
        "a function) and run through the bridge, where a function runs in process; so a test can",
        "pass through the bridge and be `skipped` in moto's column. `--no-docker-tests` skips them",
        "in both runs.",
        "",
        "Regenerate (after a run, or from the latest results alone with `--services ''`):",
        "",
        "```",
        "python3 tools/moto_suite.py /path/to/moto --doc docs/moto_differences.md",
        "```",
        "",
        *summary,
        *sections,
    ]
    doc.write_text("\n".join(text) + "\n", encoding="utf-8")


def _describe(tree: pathlib.Path) -> str:
    try:
        branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], tree)
        commit = _git(["rev-parse", "--short", "HEAD"], tree)
        dirty = " (uncommitted changes)" if _git(["status", "--porcelain"], tree) else ""
        return f"{tree} {branch} @ {commit}{dirty}"
    except (subprocess.CalledProcessError, FileNotFoundError):
        return str(tree)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("moto", type=pathlib.Path, help="moto checkout or git directory")
    parser.add_argument("--services", default="sqs,sns,lambda")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("/work/moto-results"))
    parser.add_argument("--decoupling", type=pathlib.Path, default=REPO)
    parser.add_argument("--refresh-moto", action="store_true", help="ignore the cached run")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression (both runs)")
    parser.add_argument(
        "--timeout",
        type=int,
        default=30,
        help="seconds one test may take through the bridge before it fails (default 30)",
    )
    parser.add_argument(
        "--docker-tests",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run tests moto marks requires_docker through the bridge (default; moto's own run "
        "skips them); --no-docker-tests skips them in our run too",
    )
    parser.add_argument(
        "--doc", type=pathlib.Path, help="write the differences table (docs/moto_differences.md)"
    )
    args = parser.parse_args(argv)
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    unknown = set(services) - set(FILES)
    if unknown:
        parser.error(f"unknown services {sorted(unknown)}; known: {sorted(FILES)}")
    if shutil.which("git") is None:
        parser.error("git is needed")
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.gettempdir()) / "decoupling-moto-suite"
    root, source = checkout_root(args.moto.resolve(), scratch)
    key = tests_key(root)
    cache = args.out / f"moto-own-{key}.json"
    cached: dict[str, dict[str, list[str]]] = {}
    if cache.exists() and not args.refresh_moto and not args.keyword:
        cached = json.loads(cache.read_text())
    tree = _describe(args.decoupling.resolve())
    if args.docker_tests:
        tree += " (requires_docker tests run through the bridge)"
    else:
        tree += " (--no-docker-tests: requires_docker tests skipped, as in moto's own run)"
    print(f"moto tests: {source}; moto {key}")
    print(f"decoupling: {tree}")
    print(f"  {'file':<56} {'ours':>9} {'moto':>9}")
    for service in services:
        with tempfile.TemporaryDirectory() as tmp:
            junit = pathlib.Path(tmp) / "junit.xml"
            if service in cached:
                theirs = {n: (o, m) for n, (o, m) in cached[service].items()}
            else:
                theirs = run_pytest(
                    root, FILES[service], args.decoupling, False, junit, args.keyword
                )
                if not args.keyword:
                    cached[service] = {n: [o, m] for n, (o, m) in theirs.items()}
                    cache.write_text(json.dumps(cached, indent=1, sort_keys=True))
            ours = run_pytest(
                root,
                FILES[service],
                args.decoupling.resolve(),
                True,
                junit,
                args.keyword,
                args.timeout,
                args.docker_tests,
            )
        suffix = ".partial" if args.keyword else ""  # never clobber the full results
        for line in report(service, ours, theirs, args.out, source, tree, suffix):
            print(line, flush=True)
    if args.doc is not None:
        sys.path.insert(0, str(TOOLS))
        write_doc(args.out, args.doc, list(FILES))
        print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
