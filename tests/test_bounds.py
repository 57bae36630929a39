"""Every size, count and duration argument is bounded: past its bound it raises the AWS error of
its API (``InvalidParameterValueException`` Lambda-style, ``InvalidParameterValue`` SQS-style)
instead of an ``OverflowError`` from a ``deque(maxlen=...)`` or a float conversion, or a
sampling loop without end; at its bound it is accepted. The clock, which is no AWS API, raises
``ValueError`` for every value it cannot take (never ``OverflowError`` or ``TypeError``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import (
    InvalidParameterValue,
    InvalidParameterValueException,
    ValidationException,
)
from decoupling.functions.usage import Meter

TOO_BIG = [2**31, 2**63, 2**64, 10**400]


def _runtime(**kwargs: Any) -> dc.FunctionRuntime:
    loop = dc.EventLoop(clock=dc.ManualClock())
    return dc.FunctionRuntime(loop, isolation="inline", **kwargs)


def _register(**kwargs: Any) -> dc.Function:
    return _runtime().register("f", lambda event, context: event, **kwargs)


def _journal(max_entries: Any) -> dc.Journal:
    return dc.Journal(dc.EventLoop(clock=dc.ManualClock()), max_entries=max_entries)


def _metrics(period: Any) -> dc.Metrics:
    return dc.Metrics(dc.EventLoop(clock=dc.ManualClock()), period=period)


def _pool(**kwargs: Any) -> dc.ConsumerPool:
    queue = dc.Queue(dc.EventLoop(clock=dc.ManualClock()), "work")
    return dc.ConsumerPool(queue, lambda message: None, **kwargs)


# (what, make it with a value, the largest value accepted, values refused, the error)
BOUNDS: list[tuple[str, Callable[[Any], object], Any, list[Any], type[Exception]]] = [
    ("FunctionRuntime keep_records", lambda v: _runtime(keep_records=v), sys.maxsize,
     [-1, sys.maxsize + 1, 10**400], InvalidParameterValueException),
    ("register cold_start_duration", lambda v: _register(cold_start_duration=v), 900,
     [900.001, 1e308, 10**400, -1], InvalidParameterValueException),
    ("register simulated_duration", lambda v: _register(simulated_duration=v), 900,
     [900.5, 10**400, float("inf"), -0.5], InvalidParameterValueException),
    ("Journal max_entries", _journal, 2**31 - 1, [0, *TOO_BIG], InvalidParameterValue),
    ("Metrics period", _metrics, 2**31 - 1,
     [0.999, 1e-300, 5e-324, 2**31, 10**400, float("inf")], InvalidParameterValue),
    ("Chaos duplicate_delay", lambda v: dc.Chaos(duplicate_delay=v), 1_209_600,
     [1_209_601, 2**63, 10**400, -1], InvalidParameterValue),
    ("ConsumerPool evaluation_period", lambda v: _pool(evaluation_period=v), 86_400,
     [0, 86_401, float("inf"), float("nan"), Decimal("60"), 10**400, True],
     InvalidParameterValueException),
    ("ConsumerPool scale_out_cooldown", lambda v: _pool(scale_out_cooldown=v), 86_400,
     [-1, float("nan"), 10**400], InvalidParameterValueException),
    ("ConsumerPool scale_in_cooldown", lambda v: _pool(scale_in_cooldown=v), 86_400,
     [-0.5, float("inf")], InvalidParameterValueException),
    ("ConsumerPool processing_time", lambda v: _pool(processing_time=v), 43_200,
     [43_200.5, 10**400, float("nan"), -1, "1"], InvalidParameterValueException),
    ("ConsumerPool target_backlog_per_worker", lambda v: _pool(target_backlog_per_worker=v),
     1_000_000_000, [0, float("inf"), 10**400], InvalidParameterValueException),
]


@pytest.mark.parametrize(("what", "make", "largest", "refused", "error"), BOUNDS,
                         ids=[row[0] for row in BOUNDS])
def test_past_its_bound_an_argument_is_refused_with_the_aws_error(
        what: str, make: Callable[[Any], object], largest: Any, refused: list[Any],
        error: type[Exception]) -> None:
    make(largest)  # the bound itself is accepted
    for value in refused:
        with pytest.raises(error) as info:
            make(value)
        assert info.value.code == error.__name__, (what, value)  # type: ignore[attr-defined]
        assert what.split()[-1] in info.value.message, (what, value)  # type: ignore[attr-defined]


def test_a_runtime_keeps_at_most_keep_records_records() -> None:
    rt = _runtime(keep_records=2)
    rt.register("f", lambda event, context: event)
    for i in range(3):
        rt.invoke("f", {"i": i})
    assert len(rt.meter.records) == 2
    assert rt.meter.records.maxlen == 2


def test_a_runtime_keeps_one_day_of_records_however_slowly_they_come() -> None:
    # Issue #19: 100,000 records fill over months at a few invocations a minute; memory must
    # be flat after the first day, so records older than a day of loop time go (totals stay).
    rt = _runtime()
    rt.register("f", lambda event, context: event)
    clock = rt.loop.clock
    assert isinstance(clock, dc.ManualClock)
    for _ in range(3 * 24):  # an invocation an hour for 3 days
        rt.invoke("f", {})
        clock.advance(3_600)
    starts = [record.start for record in rt.meter.records]
    assert starts == [3_600.0 * h for h in range(47, 72)]  # the last 24 hours and the newest
    assert rt.report().functions["f"].invocations == 72
    with pytest.raises(InvalidParameterValueException):
        Meter(dc.LambdaPrices(), keep_seconds=0)
    assert Meter(dc.LambdaPrices(), keep_seconds=None).keep_seconds is None


def test_a_cold_start_at_the_longest_timeout_is_billed_whole() -> None:
    rt = _runtime()
    rt.register("f", lambda event, context: event, cold_start_duration=900, timeout=900)
    result = rt.invoke("f", {})
    assert result.status_code == 200
    assert rt.loop.clock.now() == 900.0


CLOCK_CALLS: list[tuple[str, Callable[[Any], object]]] = [
    ("start", lambda v: dc.ManualClock(start=v)),
    ("epoch", lambda v: dc.ManualClock(epoch=v)),
    ("autojump_threshold", lambda v: dc.ManualClock(autojump_threshold=v)),
    ("advance", lambda v: dc.ManualClock().advance(v)),
    ("advance_to", lambda v: dc.ManualClock().advance_to(v)),
]


@pytest.mark.parametrize(("what", "call"), CLOCK_CALLS, ids=[c[0] for c in CLOCK_CALLS])
@pytest.mark.parametrize("value", [10**400, 1e308 * 10, float("nan"), Decimal("NaN"),
                                   Decimal("1e400"), "5", None])
def test_the_clock_refuses_what_it_cannot_take_with_a_value_error(
        what: str, call: Callable[[Any], object], value: Any) -> None:
    if what == "epoch" and value == 1e308 * 10:
        value = 1e300  # finite, but past year 9999
    if what == "autojump_threshold" and value is None:
        value = threading.TIMEOUT_MAX * 2  # None turns auto-jumping off
    with pytest.raises(ValueError) as info:
        call(value)
    assert type(info.value) is ValueError


def test_the_clock_takes_decimal_seconds() -> None:
    clock = dc.ManualClock(start=Decimal("1.5"))
    clock.advance(Decimal("0.25"))
    assert clock.now() == 1.75


def test_a_schedule_expression_is_at_most_256_characters_and_a_rate_fits_a_float() -> None:
    rt = _runtime()
    rt.register("f", lambda event, context: event)
    longest = "rate(" + "9" * 242 + " minutes)"
    assert len(longest) == 256
    assert rt.schedule("f", longest).expression == longest
    with pytest.raises(ValidationException) as info:
        rt.schedule("f", "rate(" + "9" * 243 + " minutes)")
    assert "Member must have length less than or equal to 256" in info.value.message
    with pytest.raises(ValidationException) as info:
        dc.RateSchedule(10**400, "minutes")
    assert "longer than any time this clock can show" in info.value.message
    assert len(rt.schedules) == 1


@pytest.mark.parametrize("retention", [10**400, float("inf"), 0, -1])
def test_a_metrics_retention_too_big_for_a_float_is_refused(retention: Any) -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    with pytest.raises(InvalidParameterValue, match="retention must be a positive number"):
        dc.Metrics(loop, retention=retention)
    assert loop._tap is None
