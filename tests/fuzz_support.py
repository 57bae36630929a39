"""What every bad-input fuzz test asserts about one call (shared by tests/test_fuzz_*.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pytest

from decoupling.errors import DecouplingError


class World(Protocol):
    """The resources under test, able to snapshot everything a call could change."""

    def snapshot(self) -> Any: ...


def attempt(world: World, call: Callable[[], object]) -> DecouplingError | None:
    """Run ``call``; a failure must be a DecouplingError subclass with an AWS code and a
    message, and must have changed nothing (the world's snapshot is the same after)."""
    before = world.snapshot()
    try:
        call()
    except DecouplingError as error:
        assert type(error) is not DecouplingError, f"bare DecouplingError: {error}"
        assert isinstance(error.code, str) and error.code and error.code != "InternalError"
        assert isinstance(error.message, str) and error.message
        assert world.snapshot() == before, f"a rejected call ({error.code}) changed state"
        return error
    except Exception as error:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{type(error).__name__} escaped (not a DecouplingError): {error!r}")
    return None
