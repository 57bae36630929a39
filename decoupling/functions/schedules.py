"""Scheduled invocations: an EventBridge rule with a Lambda target, as timers on the loop.

``runtime.schedule("nightly", "cron(0 2 * * ? *)")`` invokes the function asynchronously
(EventBridge invokes Lambda with ``InvocationType=Event``) at every fire time of the expression,
with the scheduled event of
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
(``{"version": "0", "id", "detail-type": "Scheduled Event", "source": "aws.events", "account",
"time", "region", "resources": [rule ARN], "detail": {}}``). Expressions are parsed by
:mod:`decoupling.functions.schedule_expressions` (``rate(...)``, ``cron(...)``, ``at(...)``), in UTC, against the
loop's wall clock; a rate counts its periods from the rule's creation.

One timer per rule, re-armed after each fire; a schedule keeps the loop busy forever, so drive a
ManualClock with ``clock.advance(...)`` or ``loop.run_until_idle(limit=...)``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterValueException, ValidationException
from .schedule_expressions import parse_schedule, scheduled_event

if TYPE_CHECKING:
    from ..loop import TimerHandle
    from .runtime import FunctionRuntime

__all__ = ["ScheduleRule"]

_RULE_NAME = re.compile(r"[\.\-_A-Za-z0-9]{1,64}")


class ScheduleRule:
    """A schedule invoking one function.

    Args:
        runtime: the runtime.
        function_name: the function (not a ``PER_TENANT`` one).
        expression: ``rate(5 minutes)``, ``cron(0 12 * * ? *)`` or ``at(2026-01-02T03:04:05)``.
        name: the rule name (1-64 of ``.-_A-Za-z0-9``; default ``<function>-schedule-<n>``).
        payload: a constant input instead of the scheduled event (a rule target's ``Input``).
        enabled: arm the timer now (default ``True``).

    Attributes:
        arn: ``arn:aws:events:<region>:<account>:rule/<name>``.
        fires: wall-clock epoch seconds of every fire so far.

    Raises:
        ValidationException: a bad expression or name. ResourceNotFoundException: no function.
    """

    def __init__(self, runtime: FunctionRuntime, function_name: str, expression: str, *,
                 name: str | None = None, payload: Any = None, enabled: bool = True) -> None:
        fn = runtime.get_function(function_name)
        if fn.tenant_isolation is not None:
            raise InvalidParameterValueException(
                f"Function {function_name} uses tenant isolation; a schedule cannot invoke it.")
        loop = runtime.loop
        self.runtime = runtime
        self.loop = loop
        self.function_name = function_name
        self.expression = expression
        self._schedule = parse_schedule(expression, anchor_epoch=loop.clock.wall())
        if name is None:
            name = f"{function_name}-schedule-{len(runtime.schedules) + 1}"
        if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
            raise ValidationException(
                f"1 validation error detected: Value {name!r} at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
        self.name = name
        self.arn = loop.arn("events", f"rule/{name}")
        self.payload = payload
        self.fires: list[float] = []
        self.enabled = False
        self._timer: TimerHandle | None = None
        self._deleted = False
        with runtime._lock:
            runtime.schedules.append(self)
            if enabled:
                self.enable()

    @property
    def next_fire(self) -> float | None:
        """The next fire time, epoch seconds (``None`` when disabled or exhausted)."""
        if not self.enabled:
            return None
        return self._schedule.next_fire(self.loop.clock.wall())

    def _arm(self) -> None:
        clock = self.loop.clock
        fire = self._schedule.next_fire(clock.wall())
        if fire is None:
            self._timer = None
            return
        when = clock.now() + (fire - clock.wall())
        self._timer = self.loop.call_at(when, lambda: self._fire(fire))

    def _fire(self, fire_epoch: float) -> None:
        with self.runtime._lock:
            if not self.enabled or self._deleted:
                return
            self.fires.append(fire_epoch)
            self._arm()
        if self.payload is not None:
            event = self.payload
        else:
            loop = self.loop
            event = scheduled_event(self.arn, fire_epoch, account=loop.account_id,
                                    region=loop.region, event_id=loop.new_id())
        try:
            self.runtime.invoke(self.function_name, event, "Event")
        except Exception:  # the function was deleted meanwhile: the rule's target fails quietly
            pass

    def enable(self) -> None:
        """Arm the schedule (EnableRule)."""
        with self.runtime._lock:
            if self._deleted or self.enabled:
                return
            self.enabled = True
            self._arm()

    def disable(self) -> None:
        """Stop firing (DisableRule)."""
        with self.runtime._lock:
            self.enabled = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def delete(self) -> None:
        """Remove the rule (DeleteRule)."""
        with self.runtime._lock:
            self.disable()
            self._deleted = True
            if self in self.runtime.schedules:
                self.runtime.schedules.remove(self)

    def __repr__(self) -> str:
        return f"ScheduleRule({self.name!r}, {self.expression!r}, function={self.function_name!r})"
