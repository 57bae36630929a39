"""EventBridge schedule expressions, as the Lambda "schedule" trigger uses them.

Three kinds, each answering one question -- "when is the first fire strictly after this time?":

* ``rate(value unit)`` -- :class:`RateSchedule`, every ``value`` minutes, hours or days;
* ``cron(minutes hours day-of-month month day-of-week year)`` -- :class:`CronSchedule`;
* ``at(yyyy-mm-ddThh:mm:ss)`` -- :class:`AtSchedule`, a one-time schedule (EventBridge Scheduler).

All times are epoch seconds, UTC; cron and at expressions are evaluated in UTC (the time zone of
scheduled rules). Fires fall on whole minutes for cron. An invalid expression raises
:class:`~decoupling.errors.ValidationException` (``Parameter ScheduleExpression is not valid: ...``)
saying what was wrong.

Rules mirrored:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
The scheduled event shape:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
"""

from __future__ import annotations

import calendar
import math
import re
import sys
from bisect import bisect_left
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from ..errors import ValidationException

__all__ = [
    "ScheduleExpression",
    "RateSchedule",
    "CronSchedule",
    "AtSchedule",
    "parse_schedule",
    "scheduled_event",
]

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_MIN_YEAR: Final = 1970
_MAX_YEAR: Final = 2199
#: 2200-01-01T00:00:00Z: no cron schedule fires at or after it (the year field ends at 2199).
_END_EPOCH: Final = (date(_MAX_YEAR + 1, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86400
_UNIT_SECONDS: Final = {"minute": 60, "hour": 3600, "day": 86400}
_UNITS: Final = {*_UNIT_SECONDS, *(unit + "s" for unit in _UNIT_SECONDS)}
_MONTHS: Final = {
    name: n
    for n, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)
}
_WEEKDAYS: Final = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_NUMBER: Final = re.compile(r"[0-9]+")


#: The longest ``ScheduleExpression`` (PutRule in the EventBridge API Reference: 256 characters).
MAX_EXPRESSION_LENGTH: Final = 256


def _invalid(why: str) -> ValidationException:
    return ValidationException(f"Parameter ScheduleExpression is not valid: {why}")


def _epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
    return days * 86400 + hour * 3600 + minute * 60 + second


@runtime_checkable
class ScheduleExpression(Protocol):
    """What every schedule answers: its expression text and its next fire time."""

    @property
    def expression(self) -> str:
        """The expression as AWS spells it, e.g. ``"rate(5 minutes)"``."""
        ...

    def next_fire(self, after_epoch: float) -> float | None:
        """The first fire time strictly after ``after_epoch`` (epoch seconds, UTC), or ``None``
        if the schedule never fires again."""
        ...


# --- rate(value unit) ---------------------------------------------------------------------------


@attrs.frozen
class RateSchedule:
    """``rate(value unit)``: fires every ``value`` minutes, hours or days.

    ``value`` is a positive integer; ``unit`` is ``minute|minutes|hour|hours|day|days``, singular
    when ``value`` is 1 and plural otherwise (``rate(1 hours)`` and ``rate(5 hour)`` are invalid).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html

    A rate rule "starts when you create" it, so fires are counted from an anchor:
    ``anchor_epoch + k * period_seconds`` for ``k = 1, 2, ...`` (epoch seconds, UTC). Pass the
    rule's creation time as the anchor: the first fire is then one period after creation, as for
    EventBridge rules. The default anchor ``0.0`` aligns fires to the epoch grid
    (``rate(5 minutes)`` fires at :00, :05, ...). EventBridge Scheduler without a ``StartDate``
    fires at creation; pass ``anchor_epoch = created - period_seconds`` for that.
    """

    value: int
    unit: str
    anchor_epoch: float = 0.0

    def __attrs_post_init__(self) -> None:
        value, unit = self.value, self.unit
        if type(value) is not int or value < 1:
            raise _invalid(f"rate value must be a positive integer, got {value!r}")
        if unit not in _UNITS:
            raise _invalid(
                f"rate unit must be minute, minutes, hour, hours, day or days, got {unit!r}"
            )
        if value == 1 and unit.endswith("s"):
            raise _invalid(f"rate unit must be singular for a value of 1: use {unit[:-1]!r}")
        if value > 1 and not unit.endswith("s"):
            raise _invalid(f"rate unit must be plural for a value above 1: use {unit + 's'!r}")
        if value * _UNIT_SECONDS[unit.rstrip("s")] > sys.float_info.max:
            raise _invalid(f"rate value {value} {unit} is longer than any time this clock can show")
        if not math.isfinite(self.anchor_epoch):
            raise ValueError(f"anchor_epoch must be finite, got {self.anchor_epoch!r}")

    @property
    def period_seconds(self) -> float:
        """The period between fires, in seconds (``value`` times 60, 3600 or 86400)."""
        return float(self.value * _UNIT_SECONDS[self.unit.rstrip("s")])

    @property
    def expression(self) -> str:
        """The expression text, e.g. ``"rate(5 minutes)"``."""
        return f"rate({self.value} {self.unit})"

    def next_fire(self, after_epoch: float) -> float | None:
        """The first ``anchor_epoch + k * period_seconds`` (``k >= 1``) strictly after
        ``after_epoch`` (epoch seconds, UTC). A rate schedule never ends. O(1).

        >>> RateSchedule(5, "minutes", anchor_epoch=100.0).next_fire(100.0)
        400.0
        """
        anchor, period = self.anchor_epoch, self.period_seconds
        if after_epoch < anchor:
            return anchor + period
        fire = anchor + (math.floor((after_epoch - anchor) / period) + 1) * period
        return fire if fire > after_epoch else fire + period  # guard float rounding


# --- cron(...) ----------------------------------------------------------------------------------


@attrs.frozen
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]
    slash: bool = True
    wraps: bool = True

    def value(self, token: str) -> int:
        if _NUMBER.fullmatch(token):
            number = int(token)
        elif token.upper() in self.names:
            number = self.names[token.upper()]
        else:
            allowed = f"{self.low}-{self.high}" + (" or names" if self.names else "")
            raise _invalid(f"{self.name} value {token!r} is not valid; allowed: {allowed}")
        if not self.low <= number <= self.high:
            raise _invalid(f"{self.name} value {token!r} is outside {self.low}-{self.high}")
        return number

    def parse(self, text: str) -> tuple[int, ...]:
        """Parse the ``, - * /`` grammar into the sorted values it selects."""
        values: set[int] = set()
        for item in text.split(","):
            base, slash, step_text = item.partition("/")
            step = 1
            if slash:
                if not self.slash:
                    raise _invalid(f"{self.name} does not allow '/' increments")
                if not _NUMBER.fullmatch(step_text) or int(step_text) < 1:
                    raise _invalid(
                        f"{self.name} increment {step_text!r} must be a positive integer"
                    )
                step = int(step_text)
            if base == "*":
                start, end = self.low, self.high
            elif "-" in base:
                first, _, last = base.partition("-")
                start, end = self.value(first), self.value(last)
                if end < start and not self.wraps:
                    raise _invalid(f"{self.name} range {base!r} runs backwards")
            else:
                start = self.value(base)
                end = self.high if slash else start
            span = self.high - self.low + 1  # a range like 20-2 wraps past the field's end
            length = (end - start) % span + 1
            values.update(self.low + (start - self.low + i) % span for i in range(0, length, step))
        return tuple(sorted(values))


_MINUTES = _Field("Minutes", 0, 59, {})
_HOURS = _Field("Hours", 0, 23, {})
_DAY_OF_MONTH = _Field("Day-of-month", 1, 31, {})
_MONTH = _Field("Month", 1, 12, _MONTHS)
_DAY_OF_WEEK = _Field("Day-of-week", 1, 7, _WEEKDAYS, slash=False)
_YEAR = _Field("Year", _MIN_YEAR, _MAX_YEAR, {}, wraps=False)


@attrs.frozen
class _DayRule:
    """Which days of a month a cron schedule fires on (from its day-of-month or day-of-week)."""

    kind: str  # days | last | last_weekday | nearest_weekday | weekdays | last_dow | nth_dow
    values: tuple[int, ...] = ()
    n: int = 0
    k: int = 0

    def days(self, year: int, month: int) -> tuple[int, ...]:
        """The sorted days of ``month`` that match. O(days in month)."""
        first, ndays = calendar.monthrange(year, month)  # first: Monday = 0

        def dow(day: int) -> int:  # AWS numbering: SUN = 1 ... SAT = 7
            return (first + day) % 7 + 1

        kind = self.kind
        if kind == "days":
            return tuple(d for d in self.values if d <= ndays)
        if kind == "weekdays":
            return tuple(d for d in range(1, ndays + 1) if dow(d) in self.values)
        if kind == "last":
            return (ndays,)
        if kind == "last_weekday":
            return (ndays - {7: 1, 1: 2}.get(dow(ndays), 0),)
        if kind == "nearest_weekday":
            day = self.n
            if day > ndays:
                return ()
            if dow(day) == 7:  # Saturday: the Friday before, or Monday if the 1st
                return (day - 1 if day > 1 else day + 2,)
            if dow(day) == 1:  # Sunday: the Monday after, or Friday if the last day
                return (day + 1 if day < ndays else day - 2,)
            return (day,)
        if kind == "last_dow":
            return (ndays - (dow(ndays) - self.n) % 7,)
        day = 1 + (self.n - dow(1)) % 7 + 7 * (self.k - 1)  # nth_dow
        return (day,) if day <= ndays else ()


def _day_of_month_rule(text: str) -> _DayRule:
    if text == "L":
        return _DayRule("last")
    if text == "LW":
        return _DayRule("last_weekday")
    if text.endswith("W") and "," not in text and "-" not in text and "/" not in text:
        return _DayRule("nearest_weekday", n=_DAY_OF_MONTH.value(text[:-1]))
    if "L" in text or "W" in text:
        raise _invalid(
            f"Day-of-month {text!r}: L, LW and nW (a single day) stand alone, without lists, "
            "ranges or increments"
        )
    return _DayRule("days", _DAY_OF_MONTH.parse(text))


def _day_of_week_rule(text: str) -> _DayRule:
    if "#" in text:
        day, _, nth = text.partition("#")
        if "," in text or "-" in text or text.count("#") > 1:
            raise _invalid(f"Day-of-week {text!r}: with '#' only one expression is allowed")
        if nth not in {"1", "2", "3", "4", "5"}:
            raise _invalid(f"Day-of-week {text!r}: the number after '#' must be 1-5")
        return _DayRule("nth_dow", n=_DAY_OF_WEEK.value(day), k=int(nth))
    if text == "L":  # the last day of the week: Saturday
        return _DayRule("weekdays", (7,))
    if text.endswith("L") and "," not in text and "-" not in text:
        return _DayRule("last_dow", n=_DAY_OF_WEEK.value(text[:-1]))
    if "L" in text:
        raise _invalid(f"Day-of-week {text!r}: L and nL stand alone, without lists or ranges")
    return _DayRule("weekdays", _DAY_OF_WEEK.parse(text))


@attrs.frozen
class CronSchedule:
    """``cron(minutes hours day-of-month month day-of-week year)``, evaluated in UTC.

    Six fields separated by white space:

    ============  ================  ================
    Field         Values            Wildcards
    ============  ================  ================
    Minutes       0-59              ``, - * /``
    Hours         0-23              ``, - * /``
    Day-of-month  1-31              ``, - * ? / L W``
    Month         1-12 or JAN-DEC   ``, - * /``
    Day-of-week   1-7 or SUN-SAT    ``, - * ? L #``
    Year          1970-2199         ``, - * /``
    ============  ================  ================

    Exactly one of day-of-month and day-of-week is ``?``. ``a/n`` selects ``a, a+n, ...`` to the
    field's end (``*/n`` starts at its start, ``a-b/n`` stops at ``b``); a range may wrap
    (hours ``20-2`` is 20..23 and 0..2, matched on each day). Day-of-month: ``L`` the last day,
    ``LW`` the last weekday, ``15W`` the weekday (MON-FRI) nearest the 15th without leaving the
    month (``31W`` skips months without a 31st). Day-of-week (1 = SUN): ``L`` alone is Saturday,
    ``6L`` the last Friday, ``3#2`` the second Tuesday (none in a month without one).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html

    Attributes (derived from ``expression``): ``minutes``, ``hours``, ``months``, ``years`` --
    the sorted values each field selects; ``day_of_month``, ``day_of_week`` -- those fields' text.
    """

    expression: str
    minutes: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    hours: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    day_of_month: str = attrs.field(init=False, eq=False, repr=False)
    months: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    day_of_week: str = attrs.field(init=False, eq=False, repr=False)
    years: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _day_rule: _DayRule = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        match = re.fullmatch(r"cron\((.*)\)", self.expression, re.DOTALL)
        if match is None:
            raise _invalid(f"expected cron(fields), got {self.expression!r}")
        fields = match.group(1).split()
        if len(fields) != 6:
            raise _invalid(
                "a cron expression has 6 fields (minutes hours day-of-month month day-of-week "
                f"year), got {len(fields)}"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise _invalid(
                f"exactly one of Day-of-month ({dom!r}) and Day-of-week ({dow!r}) must be '?'"
            )
        for name, text in (("Minutes", minute), ("Hours", hour), ("Month", month), ("Year", year)):
            if "?" in text:
                raise _invalid(f"{name} does not allow '?' (only Day-of-month and Day-of-week do)")
        rule = _day_of_week_rule(dow) if dom == "?" else _day_of_month_rule(dom)
        setattr_ = object.__setattr__
        setattr_(self, "minutes", _MINUTES.parse(minute))
        setattr_(self, "hours", _HOURS.parse(hour))
        setattr_(self, "day_of_month", dom)
        setattr_(self, "months", _MONTH.parse(month))
        setattr_(self, "day_of_week", dow)
        setattr_(self, "years", _YEAR.parse(year))
        setattr_(self, "_day_rule", rule)

    def next_fire(self, after_epoch: float) -> float | None:
        """The first whole minute strictly after ``after_epoch`` (epoch seconds, UTC) that the
        expression selects, or ``None`` once the year field is exhausted.

        Jumps field by field (year, month, day, hour, minute), never minute by minute: O(1) for
        schedules that fire at least monthly; at worst O(years x 12 x 31) for one that never
        fires (``cron(0 0 30 2 ? *)`` scans 230 Februaries).

        >>> from datetime import datetime, UTC
        >>> s = CronSchedule("cron(0 9 ? * 2#1 *)")  # 09:00 on the first Monday of the month
        >>> datetime.fromtimestamp(s.next_fire(1767225600.0), UTC).isoformat()  # from 2026-01-01
        '2026-01-05T09:00:00+00:00'
        """
        if math.isnan(after_epoch):
            raise ValueError("after_epoch must be a number, got nan")
        if after_epoch >= _END_EPOCH:
            return None
        start = 0 if after_epoch < 0 else math.floor(after_epoch / 60) + 1  # next whole minute
        days, minute_of_day = divmod(start, 1440)
        today = date.fromordinal(_EPOCH_ORDINAL + days)
        y, mo, d = today.year, today.month, today.day
        h, mi = divmod(minute_of_day, 60)
        years, months, hours, minutes = self.years, self.months, self.hours, self.minutes
        day_rule = self._day_rule
        while True:
            i = bisect_left(years, y)
            if i == len(years):
                return None
            if years[i] != y:
                y, mo, d, h, mi = years[i], 1, 1, 0, 0
            i = bisect_left(months, mo)
            if i == len(months):
                y, mo, d, h, mi = y + 1, 1, 1, 0, 0
                continue
            if months[i] != mo:
                mo, d, h, mi = months[i], 1, 0, 0
            days_ok = day_rule.days(y, mo)
            i = bisect_left(days_ok, d)
            if i == len(days_ok):
                y, mo, d, h, mi = (y + 1, 1, 1, 0, 0) if mo == 12 else (y, mo + 1, 1, 0, 0)
                continue
            if days_ok[i] != d:
                d, h, mi = days_ok[i], 0, 0
            i = bisect_left(hours, h)
            if i == len(hours):
                d, h, mi = d + 1, 0, 0  # past the month's end, the day search moves on
                continue
            if hours[i] != h:
                h, mi = hours[i], 0
            i = bisect_left(minutes, mi)
            if i == len(minutes):
                h, mi = h + 1, 0
                continue
            return float(_epoch(y, mo, d, h, minutes[i]))


# --- at(...) ------------------------------------------------------------------------------------


@attrs.frozen
class AtSchedule:
    """``at(yyyy-mm-ddThh:mm:ss)``: a one-time schedule (EventBridge Scheduler), in UTC here.

    https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#one-time
    """

    expression: str
    fire_epoch: float = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        match = re.fullmatch(
            r"at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)",
            self.expression,
        )
        if match is None:
            raise _invalid(f"expected at(yyyy-mm-ddThh:mm:ss), got {self.expression!r}")
        y, mo, d, h, mi, s = (int(part) for part in match.groups())
        try:
            datetime(y, mo, d, h, mi, s)
        except ValueError as exc:
            raise _invalid(f"{self.expression!r} is not a real date and time: {exc}") from None
        object.__setattr__(self, "fire_epoch", float(_epoch(y, mo, d, h, mi, s)))

    def next_fire(self, after_epoch: float) -> float | None:
        """``fire_epoch`` if it is strictly after ``after_epoch`` (epoch seconds, UTC), else
        ``None``. O(1)."""
        return self.fire_epoch if self.fire_epoch > after_epoch else None


# --- entry points ------------------------------------------------------------------------------


def parse_schedule(
    expression: str, *, anchor_epoch: float = 0.0
) -> RateSchedule | CronSchedule | AtSchedule:
    """Parse a ``ScheduleExpression``: ``rate(...)``, ``cron(...)`` or ``at(...)``.

    ``anchor_epoch`` (epoch seconds, UTC; default 0.0) is where a rate schedule counts its periods
    from -- pass the rule's creation time; cron and at schedules ignore it.

    Raises:
        ValidationException: the expression is not valid; the message says why.

    >>> parse_schedule("rate(1 hour)").period_seconds
    3600.0
    """
    if not isinstance(expression, str):
        raise _invalid(f"expected a string, got {type(expression).__name__}")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ValidationException(
            "1 validation error detected: Value at 'scheduleExpression' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_EXPRESSION_LENGTH}")
    if expression.startswith("cron("):
        return CronSchedule(expression)
    if expression.startswith("at("):
        return AtSchedule(expression)
    match = re.fullmatch(r"rate\((.*)\)", expression, re.DOTALL)
    if match is None:
        raise _invalid(
            "expected rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss), "
            f"got {expression!r}"
        )
    parts = match.group(1).split()
    if len(parts) != 2:
        raise _invalid(f"a rate expression is rate(value unit), got {expression!r}")
    value, unit = parts
    if not _NUMBER.fullmatch(value):
        raise _invalid(f"rate value must be a positive integer, got {value!r}")
    return RateSchedule(int(value), unit, anchor_epoch)


def scheduled_event(
    rule_arn: str, fire_epoch: float, *, account: str, region: str, event_id: str
) -> dict[str, Any]:
    """The event a scheduled Lambda invocation receives, in AWS's shape.

    ``time`` is ``fire_epoch`` (epoch seconds, UTC) as ``YYYY-MM-DDThh:mm:ssZ``, fractions of a
    second dropped; ``resources`` holds the rule ARN; ``detail`` is empty.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html

    >>> scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r", 1795564800.0,
    ...                 account="123456789012", region="us-east-1", event_id="e1")["time"]
    '2026-11-25T00:00:00Z'
    """
    when = datetime.fromtimestamp(math.floor(fire_epoch), UTC)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
