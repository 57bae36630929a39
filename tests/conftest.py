"""Shared fixtures: a loop on a ManualClock for every test that wants virtual time."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import decoupling as dc

# Hypothesis profiles: "ci" (default) keeps the suite within minutes on 2 cores; "soak" runs
# ten times as many examples. Select with DECOUPLING_HYPOTHESIS_PROFILE=soak.
settings.register_profile("ci", max_examples=100, deadline=None)
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
