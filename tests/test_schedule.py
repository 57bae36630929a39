"""Tests for decoupling.functions.schedule_expressions: EventBridge rate, cron and at expressions.

Expected times are exact UTC datetimes worked out from the calendar (2026-11-24 is a Tuesday).
Rules: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from decoupling.errors import ValidationException
from decoupling.functions.schedule_expressions import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleExpression,
    parse_schedule,
    scheduled_event,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Epoch seconds of a UTC date and time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def show(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def assert_next(expression: str, after: float, expected: float | None) -> None:
    assert show(parse_schedule(expression).next_fire(after)) == show(expected)


# --- the AWS documentation's examples ----------------------------------------------------------

AWS_EXAMPLES = [
    # Run at 10:00 am (UTC+0) every day
    ("cron(0 10 * * ? *)", utc(2026, 11, 24, 9, 59), utc(2026, 11, 24, 10, 0)),
    ("cron(0 10 * * ? *)", utc(2026, 11, 24, 10, 0), utc(2026, 11, 25, 10, 0)),  # strictly after
    ("cron(0 10 * * ? *)", utc(2026, 11, 24, 9, 59, 59) + 0.5, utc(2026, 11, 24, 10, 0)),
    # Run at 12:15 pm (UTC+0) every day
    ("cron(15 12 * * ? *)", utc(2026, 11, 24, 12, 15, 30), utc(2026, 11, 25, 12, 15)),
    ("cron(15 12 * * ? *)", utc(2026, 12, 31, 13, 0), utc(2027, 1, 1, 12, 15)),
    # Run at 6:00 pm (UTC+0) every Monday through Friday
    ("cron(0 18 ? * MON-FRI *)", utc(2026, 11, 24, 17, 0), utc(2026, 11, 24, 18, 0)),
    ("cron(0 18 ? * MON-FRI *)", utc(2026, 11, 27, 18, 0), utc(2026, 11, 30, 18, 0)),  # Fri->Mon
    ("cron(0 18 ? * MON-FRI *)", utc(2026, 11, 28, 12, 0), utc(2026, 11, 30, 18, 0)),  # Sat
    # Run at 8:00 am (UTC+0) every 1st day of the month
    ("cron(0 8 1 * ? *)", utc(2026, 11, 1, 8, 0), utc(2026, 12, 1, 8, 0)),
    ("cron(0 8 1 * ? *)", utc(2026, 12, 15), utc(2027, 1, 1, 8, 0)),
    # Run every 15 minutes
    ("cron(0/15 * * * ? *)", utc(2026, 11, 24, 10, 14, 59), utc(2026, 11, 24, 10, 15)),
    ("cron(0/15 * * * ? *)", utc(2026, 12, 31, 23, 45), utc(2027, 1, 1, 0, 0)),
    # Run every 10 minutes Monday through Friday
    ("cron(0/10 * ? * MON-FRI *)", utc(2026, 11, 25, 10, 1), utc(2026, 11, 25, 10, 10)),
    ("cron(0/10 * ? * MON-FRI *)", utc(2026, 11, 27, 23, 55), utc(2026, 11, 30, 0, 0)),
    # Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)
    ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 11, 30, 7, 0), utc(2026, 11, 30, 8, 0)),
    ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 11, 30, 17, 50), utc(2026, 11, 30, 17, 55)),
    ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 11, 30, 17, 55), utc(2026, 12, 1, 8, 0)),
    ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 12, 4, 17, 56), utc(2026, 12, 7, 8, 0)),
    # The first Monday of the month at 9:00
    ("cron(0 9 ? * 2#1 *)", utc(2026, 11, 3), utc(2026, 12, 7, 9, 0)),
    ("cron(0 9 ? * 2#1 *)", utc(2026, 12, 31), utc(2027, 1, 4, 9, 0)),
    # Every 30 minutes Monday through Friday, hours 20-2 wrapping past midnight (per-day match)
    ("cron(0/30 20-2 ? * MON-FRI *)", utc(2026, 11, 27, 23, 30), utc(2026, 11, 30, 0, 0)),
    ("cron(0/30 20-2 ? * MON-FRI *)", utc(2026, 11, 30, 2, 30), utc(2026, 11, 30, 20, 0)),
    # Every day at 2:05 pm and 2:35 pm
    ("cron(5,35 14 * * ? *)", utc(2026, 11, 24, 14, 5), utc(2026, 11, 24, 14, 35)),
    # 10:15 am on the last Friday of each month during 2019 to 2022
    ("cron(15 10 ? * 6L 2019-2022)", utc(2022, 11, 1), utc(2022, 11, 25, 10, 15)),
    ("cron(15 10 ? * 6L 2019-2022)", utc(2022, 12, 30, 10, 15), None),
    ("cron(15 10 ? * 6L 2019-2022)", utc(2010, 1, 1), utc(2019, 1, 25, 10, 15)),
]


@pytest.mark.parametrize(("expression", "after", "expected"), AWS_EXAMPLES)
def test_aws_documentation_examples(expression: str, after: float, expected: float | None) -> None:
    assert_next(expression, after, expected)


# --- L, W and # ----------------------------------------------------------------------------------

SPECIAL_CHARACTERS = [
    # L in day-of-month: the last day, leap years included (2100 is not a leap year)
    ("cron(0 0 L * ? *)", utc(2026, 1, 31, 0, 0), utc(2026, 2, 28)),
    ("cron(0 0 L * ? *)", utc(2028, 2, 1), utc(2028, 2, 29)),
    ("cron(0 0 L * ? *)", utc(2100, 2, 1), utc(2100, 2, 28)),
    ("cron(0 0 L * ? *)", utc(2026, 4, 30, 0, 0), utc(2026, 5, 31)),
    # LW: the last weekday of the month
    ("cron(0 12 LW * ? *)", utc(2026, 1, 1), utc(2026, 1, 30, 12, 0)),  # the 31st is a Saturday
    ("cron(0 12 LW * ? *)", utc(2026, 5, 1), utc(2026, 5, 29, 12, 0)),  # the 31st is a Sunday
    ("cron(0 12 LW * ? *)", utc(2026, 8, 1), utc(2026, 8, 31, 12, 0)),  # the 31st is a Monday
    # nW: the weekday nearest day n, never leaving the month
    ("cron(0 12 1W * ? *)", utc(2026, 1, 1), utc(2026, 1, 1, 12, 0)),  # Thursday
    ("cron(0 12 1W * ? *)", utc(2026, 1, 2), utc(2026, 2, 2, 12, 0)),  # Sun 1st -> Mon 2nd
    ("cron(0 12 1W * ? *)", utc(2026, 7, 2), utc(2026, 8, 3, 12, 0)),  # Sat 1st -> Mon 3rd
    ("cron(0 12 15W * ? *)", utc(2026, 2, 1), utc(2026, 2, 16, 12, 0)),  # Sun -> Mon
    ("cron(0 12 15W * ? *)", utc(2026, 8, 1), utc(2026, 8, 14, 12, 0)),  # Sat -> Fri
    ("cron(0 12 31W * ? *)", utc(2026, 5, 1), utc(2026, 5, 29, 12, 0)),  # Sun 31st, last -> Fri
    ("cron(0 12 31W * ? *)", utc(2026, 5, 30), utc(2026, 7, 31, 12, 0)),  # June has no 31st
    ("cron(0 12 30W * ? *)", utc(2026, 2, 1), utc(2026, 3, 30, 12, 0)),  # February has no 30th
    # L alone in day-of-week: Saturday
    ("cron(0 0 ? * L *)", utc(2026, 11, 24), utc(2026, 11, 28)),
    # nL: the last such weekday of the month
    ("cron(15 10 ? * 6L *)", utc(2026, 11, 1), utc(2026, 11, 27, 10, 15)),
    ("cron(15 10 ? * 6L *)", utc(2026, 11, 27, 10, 15), utc(2026, 12, 25, 10, 15)),
    ("cron(0 0 ? * 5L *)", utc(2026, 11, 1), utc(2026, 11, 26)),  # last Thursday
    ("cron(0 0 ? * THUL *)", utc(2026, 11, 1), utc(2026, 11, 26)),
    # d#n: the nth such weekday of the month
    ("cron(0 0 ? * 3#2 *)", utc(2026, 11, 1), utc(2026, 11, 10)),  # second Tuesday
    ("cron(0 0 ? * 3#2 *)", utc(2026, 11, 10), utc(2026, 12, 8)),
    ("cron(0 0 ? * MON#5 *)", utc(2026, 11, 1), utc(2026, 11, 30)),
    ("cron(0 0 ? * MON#5 *)", utc(2026, 11, 30), utc(2027, 3, 29)),  # Dec, Jan, Feb have none
]


@pytest.mark.parametrize(("expression", "after", "expected"), SPECIAL_CHARACTERS)
def test_special_characters(expression: str, after: float, expected: float | None) -> None:
    assert_next(expression, after, expected)


# --- fields, calendars and the end of the year field ---------------------------------------------

CALENDAR = [
    # Leap day: only in leap years; 2100 is skipped
    ("cron(0 0 29 2 ? *)", utc(2026, 1, 1), utc(2028, 2, 29)),
    ("cron(0 0 29 FEB ? *)", utc(2096, 3, 1), utc(2104, 2, 29)),
    ("cron(59 23 29 2 ? *)", utc(2028, 2, 29, 23, 58, 59), utc(2028, 2, 29, 23, 59)),
    # Year end
    ("cron(59 23 31 DEC ? *)", utc(2026, 12, 31, 23, 59), utc(2027, 12, 31, 23, 59)),
    ("cron(* * * * ? *)", utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0, 0)),
    ("cron(* * * * ? *)", utc(2026, 12, 31, 23, 59, 59) + 0.999, utc(2027, 1, 1, 0, 0)),
    # Months, by number and name (names in any case), lists and wrapping ranges
    ("cron(0 0 1 JAN,jul ? *)", utc(2026, 1, 1), utc(2026, 7, 1)),
    ("cron(0 0 1 NOV-FEB ? *)", utc(2026, 2, 1), utc(2026, 11, 1)),
    ("cron(0 0 1 */5 ? *)", utc(2026, 6, 2), utc(2026, 11, 1)),  # months 1, 6, 11
    # Day-of-week names and a wrapping range
    ("cron(0 0 ? * FRI-MON *)", utc(2026, 11, 30, 0, 0), utc(2026, 12, 4)),
    ("cron(0 0 ? * 1,7 *)", utc(2026, 11, 24), utc(2026, 11, 28)),
    # Increments: a/n, */n and a-b/n
    ("cron(10-40/15 * * * ? *)", utc(2026, 11, 24, 10, 25), utc(2026, 11, 24, 10, 40)),
    ("cron(10-40/15 * * * ? *)", utc(2026, 11, 24, 10, 40), utc(2026, 11, 24, 11, 10)),
    ("cron(*/20 * * * ? *)", utc(2026, 11, 24, 10, 41), utc(2026, 11, 24, 11, 0)),
    ("cron(0 0 1/10 * ? *)", utc(2026, 11, 21), utc(2026, 12, 1)),  # days 1, 11, 21, 31
    ("cron(0 0 1/10 * ? *)", utc(2026, 12, 21), utc(2026, 12, 31)),
    ("cron(0 0 1 1 ? 2030/5)", utc(2026, 1, 1), utc(2030, 1, 1)),
    ("cron(0 0 1 1 ? 2030/5)", utc(2030, 1, 1), utc(2035, 1, 1)),
    # The year field exhausted: never again
    ("cron(0 10 * * ? 2026)", utc(2026, 12, 31, 9, 59), utc(2026, 12, 31, 10, 0)),
    ("cron(0 10 * * ? 2026)", utc(2026, 12, 31, 10, 0), None),
    ("cron(0 10 * * ? 2020-2025)", utc(2026, 1, 1), None),
    ("cron(59 23 31 12 ? *)", utc(2199, 12, 31, 23, 58), utc(2199, 12, 31, 23, 59)),
    ("cron(59 23 31 12 ? *)", utc(2199, 12, 31, 23, 59), None),
    ("cron(* * * * ? *)", 1e15, None),
    ("cron(* * * * ? *)", float("inf"), None),
    # Never fires at all: no day exists
    ("cron(0 0 30 2 ? *)", 0.0, None),
    ("cron(0 0 31 4,6,9,11 ? *)", 0.0, None),
    # Before 1970: the first minute of 1970 is the earliest fire
    ("cron(0 10 * * ? *)", -1.0, utc(1970, 1, 1, 10, 0)),
    ("cron(* * * * ? *)", -1e300, 0.0),
    ("cron(* * * * ? *)", float("-inf"), 0.0),
]


@pytest.mark.parametrize(("expression", "after", "expected"), CALENDAR)
def test_calendar_and_fields(expression: str, after: float, expected: float | None) -> None:
    assert_next(expression, after, expected)


def _aws_dow(moment: datetime) -> int:
    return (moment.weekday() + 1) % 7 + 1  # SUN = 1 ... SAT = 7


def _last_day(moment: datetime) -> int:
    return calendar.monthrange(moment.year, moment.month)[1]


BRUTE_FORCE: list[tuple[str, Callable[[datetime], bool]]] = [
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        lambda t: t.minute % 5 == 0 and 8 <= t.hour <= 17 and t.weekday() < 5,
    ),
    (
        "cron(0/30 20-2 ? * MON-FRI *)",
        lambda t: t.minute % 30 == 0 and (t.hour >= 20 or t.hour <= 2) and t.weekday() < 5,
    ),
    (
        "cron(1/10 3,15 */7 JAN-MAR,NOV ? *)",
        lambda t: (
            t.minute % 10 == 1 and t.hour in (3, 15) and t.day % 7 == 1 and t.month in (1, 2, 3, 11)
        ),
    ),
    (
        "cron(0 6 ? * 1,4-5 *)",
        lambda t: (t.minute, t.hour) == (0, 6) and _aws_dow(t) in (1, 4, 5),
    ),
    (
        "cron(30 23 L * ? *)",
        lambda t: (t.minute, t.hour) == (30, 23) and t.day == _last_day(t),
    ),
]


@pytest.mark.parametrize(("expression", "matches"), BRUTE_FORCE)
def test_chain_of_fires_equals_a_minute_by_minute_scan(
    expression: str, matches: Callable[[datetime], bool]
) -> None:
    """Following next_fire from fire to fire gives exactly the minutes a plain scan selects."""
    start = datetime(2026, 12, 20, tzinfo=UTC)
    minutes = 60 * 24 * 120  # four months, across a year end and a February
    expected = [
        (start + timedelta(minutes=i)).timestamp()
        for i in range(1, minutes)
        if matches(start + timedelta(minutes=i))
    ]
    schedule = parse_schedule(expression)
    fires: list[float] = []
    now, end = start.timestamp(), (start + timedelta(minutes=minutes)).timestamp()
    while True:
        fire = schedule.next_fire(now)
        assert fire is not None
        if fire >= end:
            break
        fires.append(fire)
        now = fire
    assert expected and fires == expected


def test_cron_exposes_its_fields() -> None:
    schedule = parse_schedule("cron(0/15 20-2 ? JAN,MAR MON-FRI 2026-2027)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.minutes == (0, 15, 30, 45)
    assert schedule.hours == (0, 1, 2, 20, 21, 22, 23)
    assert schedule.day_of_month == "?"
    assert schedule.months == (1, 3)
    assert schedule.day_of_week == "MON-FRI"
    assert schedule.years == (2026, 2027)
    assert schedule.expression == "cron(0/15 20-2 ? JAN,MAR MON-FRI 2026-2027)"
    assert schedule == CronSchedule("cron(0/15 20-2 ? JAN,MAR MON-FRI 2026-2027)")
    assert len(parse_schedule("cron(0 0 1 * ? *)").years) == 230  # type: ignore[union-attr]


def test_cron_rejects_nan() -> None:
    with pytest.raises(ValueError, match="nan"):
        parse_schedule("cron(0 0 * * ? *)").next_fire(float("nan"))


# --- rate(value unit) ----------------------------------------------------------------------------

RATE_PERIODS = [
    ("rate(1 minute)", 1, "minute", 60.0),
    ("rate(5 minutes)", 5, "minutes", 300.0),
    ("rate(1 hour)", 1, "hour", 3600.0),
    ("rate(12 hours)", 12, "hours", 43200.0),
    ("rate(1 day)", 1, "day", 86400.0),
    ("rate(7 days)", 7, "days", 604800.0),
]


@pytest.mark.parametrize(("expression", "value", "unit", "period"), RATE_PERIODS)
def test_rate_periods(expression: str, value: int, unit: str, period: float) -> None:
    schedule = parse_schedule(expression)
    assert schedule == RateSchedule(value, unit)
    assert isinstance(schedule, RateSchedule)
    assert (schedule.value, schedule.unit, schedule.period_seconds) == (value, unit, period)
    assert schedule.expression == expression
    assert schedule.anchor_epoch == 0.0


RATE_FIRES = [
    # anchor 0: the epoch grid
    ("rate(5 minutes)", 0.0, 0.0, 300.0),
    ("rate(5 minutes)", 0.0, 299.9, 300.0),
    ("rate(5 minutes)", 0.0, 300.0, 600.0),  # strictly after
    ("rate(5 minutes)", 0.0, utc(2026, 11, 24, 10, 3), utc(2026, 11, 24, 10, 5)),
    # anchored at creation: first fire one period later, then every period
    ("rate(1 hour)", 1000.0, 1000.0, 4600.0),
    ("rate(1 hour)", 1000.0, 4599.0, 4600.0),
    ("rate(1 hour)", 1000.0, 4600.0, 8200.0),
    ("rate(1 hour)", 1000.0, 0.0, 4600.0),  # asked before the anchor
    (
        "rate(2 days)",
        utc(2026, 11, 24, 13, 37),
        utc(2026, 11, 24, 13, 37),
        utc(2026, 11, 26, 13, 37),
    ),
    ("rate(2 days)", utc(2026, 11, 24, 13, 37), utc(2026, 12, 31), utc(2027, 1, 1, 13, 37)),
    ("rate(1 minute)", 0.1, 0.1 + 180.0, 0.1 + 240.0),
]


@pytest.mark.parametrize(("expression", "anchor", "after", "expected"), RATE_FIRES)
def test_rate_next_fire(expression: str, anchor: float, after: float, expected: float) -> None:
    schedule = parse_schedule(expression, anchor_epoch=anchor)
    assert schedule.next_fire(after) == pytest.approx(expected, abs=1e-6)
    assert schedule.next_fire(after) > after  # type: ignore[operator]


def test_rate_constructed_directly_is_validated() -> None:
    assert RateSchedule(3, "hours", anchor_epoch=60.0).next_fire(60.0) == 60.0 + 3 * 3600
    with pytest.raises(ValidationException, match="singular"):
        RateSchedule(1, "minutes")
    with pytest.raises(ValidationException, match="positive integer"):
        RateSchedule(True, "minute")
    with pytest.raises(ValueError, match="anchor_epoch"):
        RateSchedule(1, "minute", anchor_epoch=float("nan"))


# --- at(yyyy-mm-ddThh:mm:ss) ----------------------------------------------------------------------


def test_at_fires_once() -> None:
    schedule = parse_schedule("at(2026-11-25T00:00:00)")
    assert isinstance(schedule, AtSchedule)
    assert schedule.fire_epoch == utc(2026, 11, 25) == 1795564800.0
    assert schedule.next_fire(utc(2026, 11, 24, 23, 59, 59)) == 1795564800.0
    assert schedule.next_fire(utc(2026, 11, 25)) is None
    assert schedule.next_fire(utc(2027, 1, 1)) is None
    assert parse_schedule("at(2028-02-29T23:59:30)").next_fire(0.0) == utc(2028, 2, 29, 23, 59, 30)


# --- rejections ----------------------------------------------------------------------------------

INVALID = [
    # rate: value and unit, singular for 1 and plural otherwise
    ("rate(1 minutes)", "singular"),
    ("rate(1 hours)", "singular"),
    ("rate(1 days)", "singular"),
    ("rate(5 minute)", "plural"),
    ("rate(5 hour)", "plural"),
    ("rate(2 day)", "plural"),
    ("rate(0 minutes)", "positive integer"),
    ("rate(-5 minutes)", "positive integer"),
    ("rate(1.5 hours)", "positive integer"),
    ("rate(five minutes)", "positive integer"),
    ("rate(5 weeks)", "minute, minutes, hour, hours, day or days"),
    ("rate(5 seconds)", "minute, minutes, hour, hours, day or days"),
    ("rate(5)", "rate(value unit)"),
    ("rate()", "rate(value unit)"),
    ("rate(5 minutes now)", "rate(value unit)"),
    # not an expression at all
    ("every 5 minutes", "expected rate(value unit), cron(fields) or at"),
    ("", "expected rate(value unit), cron(fields) or at"),
    ("CRON(0 10 * * ? *)", "expected rate(value unit), cron(fields) or at"),
    ("cron(0 10 * * ? *", "expected cron(fields)"),
    # cron: six fields, exactly one of day-of-month and day-of-week '?'
    ("cron(0 10 * * ?)", "6 fields"),
    ("cron(0 0 10 * * ? *)", "6 fields"),
    ("cron(0 10 * * * *)", "exactly one of Day-of-month"),
    ("cron(0 10 ? * ? *)", "exactly one of Day-of-month"),
    ("cron(0 10 1 * MON *)", "exactly one of Day-of-month"),
    ("cron(? 10 * * ? *)", "Minutes does not allow '?'"),
    ("cron(0 10 * ? ? *)", "Month does not allow '?'"),
    ("cron(0 10 * * ? ?)", "Year does not allow '?'"),
    # ranges of each field
    ("cron(60 * * * ? *)", "Minutes value '60' is outside 0-59"),
    ("cron(0 24 * * ? *)", "Hours value '24' is outside 0-23"),
    ("cron(0 0 0 * ? *)", "Day-of-month value '0' is outside 1-31"),
    ("cron(0 0 32 * ? *)", "Day-of-month value '32' is outside 1-31"),
    ("cron(0 0 1 0 ? *)", "Month value '0' is outside 1-12"),
    ("cron(0 0 1 13 ? *)", "Month value '13' is outside 1-12"),
    ("cron(0 0 1 JANUARY ? *)", "Month value 'JANUARY' is not valid"),
    ("cron(0 0 ? * 0 *)", "Day-of-week value '0' is outside 1-7"),
    ("cron(0 0 ? * 8 *)", "Day-of-week value '8' is outside 1-7"),
    ("cron(0 0 ? * FUN *)", "Day-of-week value 'FUN' is not valid"),
    ("cron(0 0 1 * ? 1969)", "Year value '1969' is outside 1970-2199"),
    ("cron(0 0 1 * ? 2200)", "Year value '2200' is outside 1970-2199"),
    ("cron(0 0 1 * ? 2030-2020)", "Year range '2030-2020' runs backwards"),
    ("cron(0 0 1 JAN ? 2026-)", "Year value '' is not valid"),
    ("cron(1,,2 0 1 * ? *)", "Minutes value '' is not valid"),
    ("cron(L 0 1 * ? *)", "Minutes value 'L' is not valid"),
    # increments
    ("cron(0/0 * * * ? *)", "Minutes increment '0' must be a positive integer"),
    ("cron(0/x * * * ? *)", "Minutes increment 'x' must be a positive integer"),
    ("cron(0 0 ? * */2 *)", "Day-of-week does not allow '/'"),
    ("cron(0 0 ? * 1/2 *)", "Day-of-week does not allow '/'"),
    # L, W and #
    ("cron(0 0 L,15 * ? *)", "stand alone"),
    ("cron(0 0 1-5W * ? *)", "stand alone"),
    ("cron(0 0 1W,15W * ? *)", "stand alone"),
    ("cron(0 0 L-3 * ? *)", "stand alone"),
    ("cron(0 0 32W * ? *)", "Day-of-month value '32' is outside 1-31"),
    ("cron(0 0 W * ? *)", "Day-of-month value '' is not valid"),
    ("cron(0 0 ? * 5L,6 *)", "stand alone"),
    ("cron(0 0 ? * 8L *)", "Day-of-week value '8' is outside 1-7"),
    ("cron(0 0 ? * 3#1,6#3 *)", "only one expression"),
    ("cron(0 0 ? * 3#6 *)", "the number after '#' must be 1-5"),
    ("cron(0 0 ? * 3#0 *)", "the number after '#' must be 1-5"),
    ("cron(0 0 ? * 9#1 *)", "Day-of-week value '9' is outside 1-7"),
    ("cron(0 0 1# * ? *)", "Day-of-month value '1#' is not valid"),
    # at
    ("at(2026-11-25)", "expected at(yyyy-mm-ddThh:mm:ss)"),
    ("at(2026-11-25 00:00:00)", "expected at(yyyy-mm-ddThh:mm:ss)"),
    ("at(2026-13-01T00:00:00)", "not a real date and time"),
    ("at(2026-02-29T00:00:00)", "not a real date and time"),
    ("at(2026-11-25T24:00:00)", "not a real date and time"),
]


@pytest.mark.parametrize(("expression", "why"), INVALID)
def test_invalid_expressions_are_rejected(expression: str, why: str) -> None:
    with pytest.raises(ValidationException) as caught:
        parse_schedule(expression)
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400
    assert caught.value.message.startswith("Parameter ScheduleExpression is not valid: ")
    assert why in caught.value.message


def test_non_string_is_rejected() -> None:
    with pytest.raises(ValidationException, match="expected a string"):
        parse_schedule(5)  # type: ignore[arg-type]


# --- the protocol and the event ------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["rate(5 minutes)", "cron(0 10 * * ? *)", "at(2026-11-25T00:00:00)"]
)
def test_every_kind_is_a_schedule_expression(expression: str) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, ScheduleExpression)
    assert schedule.expression == expression


def test_scheduled_event_has_aws_shape() -> None:
    arn = "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"
    event = scheduled_event(
        arn,
        utc(2026, 11, 25) + 0.75,  # fractions of a second are dropped
        account="123456789012",
        region="us-east-1",
        event_id="53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    )
    assert event == {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T00:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {},
    }
    assert list(event) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]


def test_scheduled_event_from_a_cron_fire() -> None:
    fire = parse_schedule("cron(15 10 ? * 6L *)").next_fire(utc(2026, 11, 1))
    assert fire is not None
    event = scheduled_event("arn:r", fire, account="1", region="eu-west-1", event_id="x")
    assert event["time"] == "2026-11-27T10:15:00Z"
    assert event["resources"] == ["arn:r"] and event["detail"] == {}
