"""Shared fixtures: a loop on a ManualClock for every test that wants virtual time."""

from __future__ import annotations

import os
import sys

import pytest

import decoupling as dc


def _leave_hypothesis_unrewritten() -> None:
    """pytest rewrites the asserts of every module of a distribution that provides a pytest
    plugin, so all of hypothesis (~90 modules) is rewritten on import: 1-2 s of CPU per run where
    bytecode is not cached (a fresh checkout, or PYTHONDONTWRITEBYTECODE). hypothesis's own
    asserts gain nothing from it. Uses the rewrite hook's private set of marked names; if a
    pytest version lacks it, this does nothing (hypothesis is then rewritten as before)."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(marked, set) and isinstance(cache, dict) and "hypothesis" not in sys.modules:
            marked.discard("hypothesis")
            cache.clear()


_leave_hypothesis_unrewritten()

from hypothesis import settings  # noqa: E402  (after the call above, so it is not rewritten)

# Hypothesis profiles, selected with DECOUPLING_HYPOTHESIS_PROFILE:
# - "ci" (default): derandomized (the same examples on every run, as each test's seed derives
#   from its name) and no example database, so a run never depends on an earlier one;
# - "random": fresh random examples each run, failures saved in .hypothesis/ and replayed first;
# - "soak": "random" with ten times the examples (the fuzz and model tests scale with it too).
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None)
settings.register_profile("random", max_examples=100, deadline=None)
settings.register_profile("soak", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def clock() -> dc.ManualClock:
    """A virtual clock at 0.0 s (wall time 2026-01-01T00:00:00Z) that auto-jumps when idle."""
    return dc.ManualClock()


@pytest.fixture
def loop(clock: dc.ManualClock) -> dc.EventLoop:
    """An event loop (account 000000000000, us-east-1) on the virtual clock."""
    return dc.EventLoop(clock=clock)
