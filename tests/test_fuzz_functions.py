"""Bad input, fuzzed: every public method of ``FunctionRuntime`` (and its constructor) with
hypothesis-generated arguments.

Wrong types, out-of-range and non-finite numbers, lone surrogates and forbidden characters,
unhashable names, malformed and reserved environment variables, payloads that are not JSON or
are over 6 MB / 1 MB, unknown invocation and log types, tenant ids where none belong (and none
where one must), bad destinations (FIFO queues, non-callables), event source options out of
range or unknown, malformed schedule expressions and rule names.

The same two rules as tests/test_fuzz_queue.py, checked on every example:

* the only exceptions are :class:`decoupling.errors.DecouplingError` subclasses carrying an AWS
  ``.code``;
* a rejected call changes nothing: a snapshot (every function's configuration, counters and
  environments, its asynchronous settings and backlog, the runtime's concurrency totals, the
  event source mappings, the schedules, the meter, the loop's registry and the clock) is the
  same after it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_support import attempt
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_queue import PROFILE, Big, anything, bad_text, keys, numbers, unhashables

import decoupling as dc
from decoupling.errors import DecouplingError

#: Examples per fuzzed callable: 10 by default (13 callables), 500 at soak.
EXAMPLES = int(os.environ.get("DECOUPLING_FUZZ_EXAMPLES", 500 if PROFILE == "soak" else 10))


def echo(event: Any, context: Any) -> Any:
    return event


def fails(event: Any, context: Any) -> Any:
    raise RuntimeError("boom")


# -- the world each example starts from ---------------------------------------------------------


class World:
    """A runtime (account limit 200, so at most 100 may be reserved) with four functions —
    ``echo`` (environment, an event source mapping and a schedule), ``capped`` (reserved
    concurrency 10, asynchronous settings with destinations), ``tenant`` (``PER_TENANT``) and
    ``shut`` (reserved 0: always throttled) — each invoked once where it can be."""

    def __init__(self) -> None:
        self.clock = dc.ManualClock(start=1000.0)
        self.loop = dc.EventLoop(clock=self.clock)
        self.other_loop = dc.EventLoop(clock=self.clock)
        self.queue = dc.Queue(self.loop, "src")
        self.fifo = dc.FifoQueue(self.loop, "src.fifo")
        self.dlq = dc.Queue(self.loop, "dlq")
        self.fdlq = dc.FifoQueue(self.loop, "dlq.fifo")
        self.topic = dc.Topic(self.loop, "t")
        self.foreign = dc.Queue(self.other_loop, "src")
        rt = self.rt = dc.FunctionRuntime(self.loop, concurrency_limit=200, isolation="inline")
        self.echo = rt.register("echo", echo, timeout=5, environment={"AB": "1"},
                                simulated_duration=0.5)
        rt.register("capped", fails, reserved_concurrency=10, maximum_retry_attempts=1,
                    on_success=self.topic, on_failure=self.dlq, dead_letter=self.dlq)
        rt.register("tenant", echo, tenant_isolation="PER_TENANT", architecture="arm64")
        rt.register("shut", echo, reserved_concurrency=0)
        self.mapping = rt.add_event_source(self.queue, "echo", batch_size=5)
        self.rule = rt.schedule("echo", "rate(1 hour)", name="hourly")
        rt.invoke("echo", {"x": 1})
        rt.invoke("capped", {"y": 2})
        rt.invoke("tenant", {}, tenant_id="t1")
        self.clock.advance(1)

    def close(self) -> None:
        self.rt.close()

    def snapshot(self) -> dict[str, Any]:
        rt = self.rt
        out: dict[str, Any] = {
            "now": self.clock.now(),
            "registry": sorted(self.loop._resources),
            "totals": (rt.concurrent, rt.peak_concurrent, rt._reserved_total,
                       rt._unreserved_in_use, rt.concurrency_limit, rt.unreserved_minimum),
            # Throttle counters are left out: a throttled invoke is refused *and* counted, as
            # Lambda's Throttles metric counts it.
            "meter": [(name, u.invocations, u.errors) for name, u in rt.meter._usage.items()],
            "records": len(rt.meter.records),
            "mappings": {uuid: (m.to_aws(), m.enabled, m.maximum_concurrency,
                                m.provisioned_pollers, m.function_name)
                         for uuid, m in rt.event_source_mappings.items()},
            "schedules": [(r.name, r.expression, r.function_name, r.enabled, r.payload,
                           r.next_fire) for r in rt.schedules],
            "discarded": list(rt._async.discarded),
            "logs": {name: (g.count, g.size, sorted(g.streams))
                     for name, g in rt._logs.groups.items()},
        }
        for name, fn in rt._functions.items():
            cfg = rt._async._configs.get(name)
            out[name] = {
                "config": (fn.timeout, fn.memory_mb, dict(fn.environment),
                           fn.reserved_concurrency, fn.tenant_isolation, fn.architecture,
                           fn.description, fn.handler, fn.simulated_duration,
                           fn.cold_start_duration, fn.init, fn._deleted),
                "counters": (fn.invocations, fn.errors, fn.timeouts, fn.cold_starts,
                             fn.concurrent, fn.peak_concurrent),
                "environments": [(e.id, e.tenant_id, e.invocations) for e in fn.environments],
                "async": None if cfg is None else (
                    cfg.max_retries, cfg.max_age, cfg.on_success, cfg.on_failure,
                    cfg.dead_letter),
                "backlog": rt._async.backlog(fn),
            }
        return out


# -- strategies ---------------------------------------------------------------------------------

names = st.one_of(anything, unhashables, bad_text, st.sampled_from(
    ["echo", "capped", "tenant", "shut", "new", "", "x" * 64, "x" * 65, "a b", "é", "new-1_A",
     "echo\n", "arn:aws:lambda:us-east-1:000000000000:function:echo"]))
handlers = st.one_of(anything, st.sampled_from(
    ["<echo>", "app.handler", "", "a b", "x" * 129, "\ud800", "<fails>"]))
durations = st.one_of(numbers, anything, st.sampled_from([0, 0.5, -1, float("inf"),
                                                          float("nan"), "1", True]))
env_names = st.one_of(keys, bad_text, st.sampled_from(
    ["A", "OK_1", "1A", "A-B", "A", "AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT", "é", "Ab"]))
env_values = st.one_of(st.text(max_size=8), bad_text, anything, st.just("v" * 5000))
environments = st.one_of(
    anything, unhashables, st.just("AB"), st.just([("A", "1")]), st.just(5),
    st.dictionaries(env_names, env_values, max_size=3),
    st.just({f"K{i}": "v" * 100 for i in range(40)}),  # over 4 KB
)
#: Destinations: markers swapped for the world's objects by :func:`resolve`.
destinations = st.one_of(anything, st.sampled_from(
    ["<dlq>", "<fdlq>", "<topic>", "<echo>", "<callable>", "<queue-class>", "echo", "nope", ""]))
async_options = st.fixed_dictionaries({}, optional={
    "maximum_retry_attempts": st.one_of(numbers, anything, st.sampled_from([0, 2, 3, -1])),
    "maximum_event_age": st.one_of(numbers, anything, st.sampled_from([59, 60, 21_600, 21_601])),
    "on_success": destinations, "on_failure": destinations, "dead_letter": destinations,
})
register_options = st.fixed_dictionaries({}, optional={
    "timeout": st.one_of(numbers, anything, st.sampled_from([0, 1, 900, 901, 3.0])),
    "memory_mb": st.one_of(numbers, anything, st.sampled_from([127, 128, 10_240, 10_241])),
    "environment": environments,
    "reserved_concurrency": st.one_of(numbers, anything, st.sampled_from(
        [0, 1, 89, 90, 91, 100, 101, 200, -1, True])),
    "tenant_isolation": st.one_of(anything, st.sampled_from(["PER_TENANT", "per_tenant", ""])),
    "architecture": st.one_of(anything, st.sampled_from(["x86_64", "arm64", "ARM64", ""])),
    "description": st.one_of(anything, bad_text, st.just("d" * 256), st.just("d" * 257)),
    "simulated_duration": st.one_of(durations, st.just("<callable>")),
    "cold_start_duration": durations,
    "init": st.one_of(anything, st.just("<callable>")),
}).flatmap(lambda opts: st.builds(lambda extra: {**opts, **extra}, async_options))
payloads = st.one_of(
    anything, bad_text, st.binary(max_size=8), unhashables,
    st.sampled_from([b"{", b'{"a": 1}', b"\xff", bytearray(b"[1]"), b"", "", None, {1: 2},
                     {(1,): 2}, float("nan"), 10**5000, [set()]]),
    st.just(Big("x" * 1_048_600)), st.just(Big("x" * 6_291_500)),
)
invocation_types = st.one_of(anything, st.sampled_from(
    ["RequestResponse", "Event", "DryRun", "event", "", "Event "]))
log_types = st.one_of(anything, st.sampled_from(["None", "Tail", "tail", None]))
tenant_ids = st.one_of(st.none(), anything, bad_text, st.sampled_from(
    ["t1", "t2", "", "a b", "x" * 256, "x" * 257, "é", "\x7f"]))
concurrencies = st.one_of(numbers, anything, st.sampled_from(
    [0, 1, 10, 89, 90, 91, 100, 101, -1, True, 2.0, "5"]))
mapping_options = st.dictionaries(
    st.sampled_from(["batch_size", "maximum_batching_window", "report_batch_item_failures",
                     "filter_criteria", "enabled", "maximum_concurrency", "provisioned_pollers",
                     "batchSize", "BatchSize", "unknown"]),
    st.one_of(numbers, anything, st.sampled_from(
        [1, 10, 11, 10_000, 10_001, 0, 300, 301, 2, 1000, 1001, (2, 200), (1, 5), (3, 2),
         (2, 10_001), True, {"Filters": [{"Pattern": '{"body": {"a": ["x"]}}'}]},
         {"Filters": [{"Pattern": "{"}]}, {"Filters": []}, {"Filters": [{}]}, {"Filters": 5}])),
    max_size=4)
queues = st.one_of(anything, st.sampled_from(["<queue>", "<fifo>", "<topic>", "<foreign>",
                                              "<dlq>", "src"]))
expressions = st.one_of(anything, bad_text, st.sampled_from([
    "rate(1 minute)", "rate(1 minutes)", "rate(5 minutes)", "rate(0 hours)", "rate(-1 days)",
    "rate(1 hour)", "rate(2 fortnights)", "rate(1.5 hours)", "rate()", "rate(", "",
    "cron(0 12 * * ? *)", "cron(* * * * * *)", "cron(0 12 * * ?)", "cron(61 0 * * ? *)",
    "cron(0 0 31 2 ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 0 L * ? *)",
    "at(2026-01-02T03:04:05)", "at(1999-01-01T00:00:00)", "at(2026-13-01T00:00:00)",
    "at(now)", "rate(99999999999999999999 days)",
]))
schedule_options = st.fixed_dictionaries({}, optional={
    "name": st.one_of(anything, bad_text, st.sampled_from(
        ["hourly", "nightly", "x" * 64, "x" * 65, "", "a b", "a.b-c_D"])),
    "payload": st.one_of(anything, st.sampled_from([{"a": 1}, {1: set()}, object()])),
    "enabled": st.one_of(anything, st.booleans()),
})


def resolve(world: World, value: Any) -> Any:
    """Swap markers for the world's objects."""
    if isinstance(value, str) and value.startswith("<"):
        table: dict[str, Any] = {
            "<dlq>": world.dlq, "<fdlq>": world.fdlq, "<topic>": world.topic,
            "<echo>": echo, "<fails>": fails, "<callable>": lambda *args: 0.1,
            "<queue-class>": dc.Queue, "<queue>": world.queue, "<fifo>": world.fifo,
            "<foreign>": world.foreign,
        }
        return table.get(value, value)
    return value


# -- the calls ------------------------------------------------------------------------------------

CALLS: dict[str, tuple[st.SearchStrategy[Any], Callable[[World, Any], Callable[[], object]]]] = {}


def fuzz(name: str, strategy: st.SearchStrategy[Any]) -> Callable[[Any], Any]:
    def register(make: Callable[[World, Any], Callable[[], object]]) -> Any:
        CALLS[name] = (strategy, make)
        return make
    return register


def _closed(runtime: dc.FunctionRuntime) -> None:
    runtime.close()


@fuzz("FunctionRuntime", st.fixed_dictionaries({}, optional={
    "concurrency_limit": concurrencies,
    "prices": st.one_of(anything, st.just(dc.LambdaPrices())),
    "unreserved_minimum": concurrencies,
    "max_workers": concurrencies,
    "isolation": st.one_of(anything, st.sampled_from(["thread", "inline", "process"])),
    "hang_guard": durations,
    "keep_records": st.one_of(concurrencies, st.none()),
    "environment_idle_timeout": st.one_of(durations, st.none()),
    "seed": st.one_of(concurrencies, anything),
    "enforce_resource_policies": anything,
    "log_events": st.one_of(concurrencies, st.none(), anything),
    "log_bytes": st.one_of(concurrencies, st.none(), anything),
}))
def _runtime(world: World, kwargs: Any) -> Callable[[], object]:
    return lambda: _closed(dc.FunctionRuntime(world.loop, **kwargs))


@fuzz("register", st.tuples(names, handlers, register_options))
def _register(world: World, args: Any) -> Callable[[], object]:
    name, handler, kwargs = args
    kwargs = {k: resolve(world, v) for k, v in kwargs.items()}
    return lambda: world.rt.register(name, resolve(world, handler), **kwargs)


@fuzz("function", st.tuples(st.one_of(st.none(), names), handlers, register_options))
def _function(world: World, args: Any) -> Callable[[], object]:
    name, handler, kwargs = args
    kwargs = {k: resolve(world, v) for k, v in kwargs.items()}
    return lambda: world.rt.function(name, **kwargs)(resolve(world, handler))


@fuzz("get_function", names)
def _get_function(world: World, name: Any) -> Callable[[], object]:
    return lambda: world.rt.get_function(name)


@fuzz("invoke", st.tuples(names, payloads, invocation_types, tenant_ids, log_types))
def _invoke(world: World, args: Any) -> Callable[[], object]:
    name, payload, invocation_type, tenant_id, log_type = args
    return lambda: world.rt.invoke(name, payload, invocation_type, tenant_id=tenant_id,
                                   log_type=log_type)


@fuzz("invoke_async", st.tuples(names, payloads, invocation_types, tenant_ids, log_types))
def _invoke_async(world: World, args: Any) -> Callable[[], object]:
    name, payload, invocation_type, tenant_id, log_type = args
    return lambda: asyncio.run(world.rt.invoke_async(
        name, payload, invocation_type, tenant_id=tenant_id, log_type=log_type))


@fuzz("configure_async", st.tuples(names, async_options))
def _configure_async(world: World, args: Any) -> Callable[[], object]:
    name, kwargs = args
    kwargs = {k: resolve(world, v) for k, v in kwargs.items()}
    return lambda: world.rt.configure_async(name, **kwargs)


@fuzz("put_function_concurrency", st.tuples(names, concurrencies))
def _put_concurrency(world: World, args: Any) -> Callable[[], object]:
    name, value = args
    return lambda: world.rt.put_function_concurrency(name, value)


@fuzz("delete_function_concurrency", names)
def _delete_concurrency(world: World, name: Any) -> Callable[[], object]:
    return lambda: world.rt.delete_function_concurrency(name)


@fuzz("delete_function", names)
def _delete_function(world: World, name: Any) -> Callable[[], object]:
    return lambda: world.rt.delete_function(name)


@fuzz("add_event_source", st.tuples(queues, names, mapping_options))
def _add_event_source(world: World, args: Any) -> Callable[[], object]:
    queue, name, options = args
    return lambda: world.rt.add_event_source(resolve(world, queue), name, **options)


@fuzz("schedule", st.tuples(names, expressions, schedule_options))
def _schedule(world: World, args: Any) -> Callable[[], object]:
    name, expression, options = args
    return lambda: world.rt.schedule(name, expression, **options)


@fuzz("report", st.one_of(st.none(), anything, st.just(dc.LambdaPrices(per_million_requests=1.0))))
def _report(world: World, prices: Any) -> Callable[[], object]:
    return lambda: world.rt.report(prices)


@fuzz("log_streams", names)
def _log_streams(world: World, name: Any) -> Callable[[], object]:
    return lambda: world.rt.log_streams(name)


@fuzz("log_events", st.tuples(names, st.one_of(st.none(), anything, unhashables, bad_text)))
def _log_events(world: World, args: Any) -> Callable[[], object]:
    name, stream = args
    return lambda: world.rt.log_events(name, stream)


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_bad_input_raises_only_aws_errors_and_changes_nothing(method: str, data: st.DataObject) -> None:
    strategy, make = CALLS[method]
    world = World()
    try:
        attempt(world, make(world, data.draw(strategy, label=method)))
    finally:
        world.close()


def test_every_public_method_is_fuzzed() -> None:
    public = {n for n in dir(dc.FunctionRuntime) if not n.startswith("_")}
    # Read-only views and the lifecycle call without AWS input (tested in test_functions.py).
    not_calls = {"functions", "metrics", "close", "log_groups"}
    assert public - not_calls <= set(CALLS), public - not_calls - set(CALLS)


def test_read_only_calls_change_nothing() -> None:
    world = World()
    before = world.snapshot()
    world.rt.functions  # noqa: B018 - reading is the point
    world.rt.metrics  # noqa: B018
    world.rt.get_function("echo")
    world.rt.report()
    world.rt.log_groups()
    world.rt.log_streams("echo")
    world.rt.log_events("echo")
    world.rt.invoke("echo", {"dry": 1}, "DryRun")
    assert world.snapshot() == before
    world.close()


def test_the_world_holds_what_it_should() -> None:
    world = World()
    snap = world.snapshot()
    assert sorted(world.rt._functions) == ["capped", "echo", "shut", "tenant"]
    assert snap["totals"][2] == 10  # capped 10 + shut 0 reserved
    assert snap["echo"]["counters"][0] == 1 and snap["tenant"]["environments"][0][1] == "t1"
    assert snap["capped"]["counters"][1] == 1  # its invoke failed
    assert len(snap["mappings"]) == 1 and [s[0] for s in snap["schedules"]] == ["hourly"]
    with pytest.raises(dc.errors.TooManyRequestsException):
        world.rt.invoke("shut")
    world.close()


# -- regressions found by this fuzzer -----------------------------------------------------------


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("call", [
    # unhashable function names reached a dict lookup: TypeError
    lambda w: w.rt.get_function(["echo"]),
    lambda w: w.rt.invoke([]),
    lambda w: w.rt.delete_function({}),
    lambda w: w.rt.put_function_concurrency([], 1),
    lambda w: w.rt.delete_function_concurrency([]),
    lambda w: w.rt.configure_async([], maximum_retry_attempts=1),
    lambda w: w.rt.add_event_source(w.queue, []),
    lambda w: w.rt.schedule([], "rate(1 hour)"),
    # unknown options reached the constructor: TypeError
    lambda w: w.rt.add_event_source(w.queue, "echo", batchSize=5),
    lambda w: w.rt.schedule("echo", "rate(1 hour)", Name="x"),
    # environments that are not mappings (TypeError, ValueError) or not UTF-8 (UnicodeEncodeError)
    lambda w: w.rt.register("new", echo, environment=5),
    lambda w: w.rt.register("new", echo, environment="AB"),
    lambda w: w.rt.register("new", echo, environment={"AB": "\ud800"}),
    # a decorator without a name on a nameless handler: AttributeError
    lambda w: w.rt.function()(5),
    # runtime settings of the wrong type: ValueError, TypeError
    lambda w: dc.FunctionRuntime(w.loop, keep_records=-1),
    lambda w: dc.FunctionRuntime(w.loop, hang_guard="x"),
    lambda w: dc.FunctionRuntime(w.loop, unreserved_minimum=None),
])
def test_regressions_raise_aws_errors_and_change_nothing(call: Callable[[World], object]) -> None:
    world = World()
    error = attempt(world, lambda: call(world))
    assert isinstance(error, DecouplingError)
    world.close()


@pytest.mark.parametrize("call", [
    # accepted, then failed later: init at every cold start, the durations on the clock, the
    # payload at every fire (silently), the prices and idle timeout at first use
    lambda w: w.rt.register("new", echo, init=5),
    lambda w: w.rt.register("new", echo, simulated_duration=NAN),
    lambda w: w.rt.register("new", echo, cold_start_duration=INF),
    lambda w: w.rt.schedule("echo", "rate(1 hour)", payload={"a": {1, 2}}),
    lambda w: w.rt.report(5),
    lambda w: dc.FunctionRuntime(w.loop, prices=5),
    lambda w: dc.FunctionRuntime(w.loop, environment_idle_timeout="x"),
    lambda w: dc.FunctionRuntime(w.loop, hang_guard=NAN),
])
def test_bad_settings_are_refused_up_front(call: Callable[[World], object]) -> None:
    world = World()
    error = attempt(world, lambda: call(world))
    assert isinstance(error, (dc.errors.InvalidParameterValueException,
                              dc.errors.InvalidRequestContentException))  # the payload's
    world.close()


def test_good_settings_still_pass() -> None:
    world = World()
    rt = world.rt
    rt.register("new", echo, environment={"AB": "é😀"}, init=lambda: None,
                simulated_duration=2, cold_start_duration=0.25)
    assert rt.invoke("new", {"a": 1}).payload == {"a": 1}
    rule = rt.schedule("new", "rate(1 minute)", payload={"fixed": True})
    mapping = rt.add_event_source(world.queue, "new", batch_size=20, maximum_batching_window=1)
    assert rule.payload == {"fixed": True} and mapping.batch_size == 20

    @rt.function(timeout=10)
    def named(event: Any, context: Any) -> Any:
        return event

    assert rt.get_function("named").timeout == 10
    dc.FunctionRuntime(world.loop, hang_guard=2, keep_records=0, environment_idle_timeout=60,
                       prices=dc.LambdaPrices()).close()
    world.close()


# -- versions, aliases, layers, policies, URLs, provisioned concurrency ---------------------------

qualifiers = st.one_of(st.none(), anything, unhashables, bad_text, st.sampled_from(
    ["$LATEST", "1", "2", "live", "", "x" * 129, "0"]))
weights = st.one_of(anything, st.dictionaries(
    st.sampled_from(["1", "2", "$LATEST", "9"]),
    st.one_of(numbers, anything, st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, float("nan")])),
    max_size=2))
layer_names = st.one_of(anything, unhashables, bad_text, st.sampled_from(
    ["lib", "", "x" * 141, "a b", "arn:aws:lambda:us-east-1:000000000000:layer:lib"]))
contents = st.one_of(anything, st.sampled_from([b"", b"PK\x03\x04broken", b"not a zip"]))
strings = st.one_of(st.none(), anything, unhashables, bad_text, st.sampled_from(["", "sns", "x"]))
cors = st.one_of(st.none(), anything, st.sampled_from(
    [{}, {"AllowOrigins": ["*"]}, {"AllowOrigins": "*"}, {"MaxAge": -1}, {"MaxAge": True},
     {"AllowCredentials": 1}, {"Unknown": 1}]))


def _named(method: str, *extra: st.SearchStrategy[Any]) -> None:
    @fuzz(method, st.tuples(names, *extra))
    def make(world: World, args: Any) -> Callable[[], object]:
        return lambda: getattr(world.rt, method)(*args)


for _method in ("list_versions", "list_aliases", "list_function_urls",
                "list_provisioned_concurrency"):
    _named(_method)
_named("function_version", qualifiers)
_named("delete_version", qualifiers)
_named("get_alias", qualifiers)
_named("delete_alias", qualifiers)
_named("remove_permission", strings)
_named("put_provisioned_concurrency", qualifiers, concurrencies)
_named("get_provisioned_concurrency", qualifiers)
_named("delete_provisioned_concurrency", qualifiers)


@fuzz("publish_version", st.tuples(names, strings))
def _publish_version(world: World, args: Any) -> Callable[[], object]:
    name, description = args
    return lambda: world.rt.publish_version(name, description=description)


@fuzz("create_alias", st.tuples(names, qualifiers, qualifiers, strings, weights))
def _create_alias(world: World, args: Any) -> Callable[[], object]:
    name, alias, version, description, routing = args
    return lambda: world.rt.create_alias(name, alias, version,
                                         description=description or "", routing=routing)


@fuzz("update_alias", st.tuples(names, qualifiers, qualifiers, strings, weights))
def _update_alias(world: World, args: Any) -> Callable[[], object]:
    name, alias, version, description, routing = args
    return lambda: world.rt.update_alias(name, alias, function_version=version,
                                         description=description, routing=routing)


@fuzz("update_function_code", st.tuples(names, handlers, st.one_of(st.none(), anything)))
def _update_function_code(world: World, args: Any) -> Callable[[], object]:
    name, handler, paths = args
    return lambda: world.rt.update_function_code(name, resolve(world, handler),
                                                 layer_paths=paths)


@fuzz("publish_layer_version", st.tuples(layer_names, contents, strings, anything, anything,
                                         strings))
def _publish_layer(world: World, args: Any) -> Callable[[], object]:
    name, content, description, runtimes, architectures, license_info = args
    return lambda: world.rt.publish_layer_version(
        name, content, description=description if description is not None else "",
        compatible_runtimes=runtimes, compatible_architectures=architectures,
        license_info=license_info)


@fuzz("get_layer_version", st.tuples(layer_names, concurrencies))
def _get_layer(world: World, args: Any) -> Callable[[], object]:
    return lambda: world.rt.get_layer_version(*args)


@fuzz("delete_layer_version", st.tuples(layer_names, concurrencies))
def _delete_layer(world: World, args: Any) -> Callable[[], object]:
    return lambda: world.rt.delete_layer_version(*args)


@fuzz("list_layer_versions", layer_names)
def _list_layer_versions(world: World, name: Any) -> Callable[[], object]:
    return lambda: world.rt.list_layer_versions(name)


@fuzz("list_layers", st.none())
def _list_layers(world: World, args: Any) -> Callable[[], object]:
    return lambda: world.rt.list_layers()


@fuzz("add_permission", st.tuples(names, strings, strings, strings, strings, strings,
                                  qualifiers))
def _add_permission(world: World, args: Any) -> Callable[[], object]:
    name, sid, action, principal, source_arn, account, qualifier = args
    return lambda: world.rt.add_permission(name, sid, action, principal, source_arn=source_arn,
                                           source_account=account, qualifier=qualifier)


@fuzz("get_policy", st.tuples(names, qualifiers))
def _get_policy(world: World, args: Any) -> Callable[[], object]:
    name, qualifier = args
    return lambda: world.rt.get_policy(name, qualifier=qualifier)


@fuzz("policy_revision", st.tuples(names, qualifiers))
def _policy_revision(world: World, args: Any) -> Callable[[], object]:
    return lambda: world.rt.policy_revision(*args)


@fuzz("allows", st.tuples(st.one_of(anything, st.just("<echo-fn>")), strings, strings, strings,
                          qualifiers))
def _allows(world: World, args: Any) -> Callable[[], object]:
    fn, principal, source_arn, account, qualifier = args
    target = world.echo if fn == "<echo-fn>" else fn
    return lambda: world.rt.allows(target, principal, source_arn=source_arn,
                                   source_account=account, qualifier=qualifier)


@fuzz("create_function_url", st.tuples(names, qualifiers, anything, cors, anything))
def _create_url(world: World, args: Any) -> Callable[[], object]:
    name, qualifier, auth_type, cors_value, mode = args
    return lambda: world.rt.create_function_url(name, qualifier=qualifier, auth_type=auth_type,
                                                cors=cors_value, invoke_mode=mode)


@fuzz("get_function_url", st.tuples(names, qualifiers))
def _get_url(world: World, args: Any) -> Callable[[], object]:
    name, qualifier = args
    return lambda: world.rt.get_function_url(name, qualifier=qualifier)


@fuzz("update_function_url", st.tuples(names, qualifiers, anything, cors, anything))
def _update_url(world: World, args: Any) -> Callable[[], object]:
    name, qualifier, auth_type, cors_value, mode = args
    return lambda: world.rt.update_function_url(name, qualifier=qualifier, auth_type=auth_type,
                                                cors=cors_value, invoke_mode=mode)


@fuzz("delete_function_url", st.tuples(names, qualifiers))
def _delete_url(world: World, args: Any) -> Callable[[], object]:
    name, qualifier = args
    return lambda: world.rt.delete_function_url(name, qualifier=qualifier)
