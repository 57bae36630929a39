"""Versions, aliases, layers and resource policies of a FunctionRuntime (native API)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


@pytest.fixture
def rt(loop: dc.EventLoop) -> dc.FunctionRuntime:
    return dc.FunctionRuntime(loop, isolation="inline")


def v1(event: Any, context: Any) -> Any:
    return {"code": 1, "version": context.function_version}


def v2(event: Any, context: Any) -> Any:
    return {"code": 2, "version": context.function_version}


def test_a_published_version_keeps_running_its_code_after_update_function_code(
        rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1, timeout=10)
    version = rt.publish_version("f", description="first")
    assert (version.version, version.description, version.timeout) == ("1", "first", 10)
    assert version.qualified_arn == "arn:aws:lambda:us-east-1:000000000000:function:f:1"
    rt.update_function_code("f", v2)
    latest = rt.invoke("f")
    pinned = rt.invoke("f", qualifier="1")
    assert (latest.payload, latest.executed_version) == ({"code": 2, "version": "$LATEST"}, "$LATEST")
    assert (pinned.payload, pinned.executed_version) == ({"code": 1, "version": "1"}, "1")
    # versions share the function's counters
    assert rt.metrics["functions"]["f"]["invocations"] == 2


def test_publishing_without_a_change_returns_the_newest_version(rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1)
    assert rt.publish_version("f").version == "1"
    assert rt.publish_version("f").version == "1"
    rt.update_function_code("f", v2)
    assert rt.publish_version("f").version == "2"
    assert [v.version for v in rt.list_versions("f")] == ["$LATEST", "1", "2"]


def test_version_numbers_are_never_reused(rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1)
    rt.publish_version("f")
    rt.update_function_code("f", v2)
    rt.publish_version("f")
    rt.delete_version("f", "2")
    with pytest.raises(errors.ResourceNotFoundException, match="function:f:2"):
        rt.invoke("f", qualifier="2")
    rt.update_function_code("f", v1)
    assert rt.publish_version("f").version == "3"


def test_alias_weights_split_invocations_within_binomial_bounds(rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1)
    rt.publish_version("f")
    rt.update_function_code("f", v2)
    rt.publish_version("f")
    alias = rt.create_alias("f", "live", "1", routing={"2": 0.1})
    assert alias.arn == "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    n = 2_000
    ran = [rt.invoke("f", qualifier="live") for _ in range(n)]
    to_two = sum(r.executed_version == "2" for r in ran)
    assert all(r.payload["code"] == int(r.executed_version) for r in ran)
    # Binomial(n=2,000, p=0.1): mean 200, sigma = sqrt(n p (1-p)) = 13.4; bound: 4 sigma (a
    # weight of 0.07 or 0.13 has its mean outside it; a false alarm is 1 run in 15,000).
    sigma = math.sqrt(n * 0.1 * 0.9)
    assert abs(to_two - n * 0.1) <= 4 * sigma


def test_alias_routing_repeats_with_the_same_seed(loop: dc.EventLoop) -> None:
    def run(seed: int) -> list[str | None]:
        rt = dc.FunctionRuntime(dc.EventLoop(dc.ManualClock()), isolation="inline", seed=seed)
        rt.register("f", v1)
        rt.publish_version("f")
        rt.update_function_code("f", v2)
        rt.publish_version("f")
        rt.create_alias("f", "live", "1", routing={"2": 0.5})
        return [rt.invoke("f", qualifier="live").executed_version for _ in range(40)]

    assert run(7) == run(7)
    assert run(7) != run(8)


@pytest.mark.parametrize(("version", "routing", "error", "match"), [
    ("9", None, errors.ResourceNotFoundException, "function:f:9"),
    ("1", {"1": 0.5}, errors.InvalidParameterValueException, "already included"),
    ("1", {"2": 1.5}, errors.InvalidParameterValueException, "between 0.0 and 1.0"),
    ("$LATEST", {"2": 0.5}, errors.InvalidParameterValueException, r"\$LATEST is not supported"),
    ("1", {"2": 0.1, "3": 0.1}, errors.InvalidParameterValueException, "cannot be greater"),
])
def test_bad_aliases_are_refused_and_change_nothing(
        rt: dc.FunctionRuntime, version: str, routing: dict[str, float] | None,
        error: type[Exception], match: str) -> None:
    rt.register("f", v1)
    rt.publish_version("f")
    rt.update_function_code("f", v2)
    rt.publish_version("f")
    with pytest.raises(error, match=match):
        rt.create_alias("f", "live", version, routing=routing)
    assert rt.list_aliases("f") == []
    with pytest.raises(errors.InvalidParameterValueException, match="not all digits"):
        rt.create_alias("f", "12", "1")


def test_an_alias_pins_a_version_and_moves_with_update_alias(rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1)
    rt.publish_version("f")
    rt.create_alias("f", "live", "1")
    rt.update_function_code("f", v2)
    rt.publish_version("f")
    assert rt.invoke("f", qualifier="live").payload == {"code": 1, "version": "1"}
    with pytest.raises(errors.ResourceConflictException, match=r"\['live'\]"):
        rt.delete_version("f", "1")
    rt.update_alias("f", "live", function_version="2")
    assert rt.invoke("f", qualifier="live").payload == {"code": 2, "version": "2"}
    rt.delete_alias("f", "live")
    with pytest.raises(errors.ResourceNotFoundException, match="Cannot find alias arn"):
        rt.get_alias("f", "live")


def test_async_invocations_of_a_version_run_that_version(rt: dc.FunctionRuntime,
                                                         loop: dc.EventLoop) -> None:
    seen: list[Any] = []
    rt.register("f", lambda e, c: seen.append(("latest", e)))
    rt.publish_version("f")
    rt.update_function_code("f", lambda e, c: seen.append(("new", e)))
    rt.invoke("f", {"n": 1}, "Event", qualifier="1")
    rt.invoke("f", {"n": 2}, "Event")
    loop.run_until_idle()
    assert seen == [("latest", {"n": 1}), ("new", {"n": 2})]


def _zip(files: dict[str, str]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return archive.getvalue()


def test_a_layer_puts_its_python_directory_on_the_import_path(rt: dc.FunctionRuntime) -> None:
    layer = rt.publish_layer_version("helpers", _zip({"python/dc_layer_helpers.py": "X = 41\n"}),
                                     compatible_runtimes=["python3.12"])
    assert (layer.version, layer.arn) == (
        1, "arn:aws:lambda:us-east-1:000000000000:layer:helpers:1")

    def handler(event: Any, context: Any) -> Any:
        import dc_layer_helpers  # type: ignore[import-not-found]

        return dc_layer_helpers.X + 1

    rt.register("f", handler, layers=[layer])
    assert rt.invoke("f").payload == 42
    again = rt.publish_layer_version("helpers", _zip({"python/other.py": ""}))
    rt.delete_layer_version("helpers", 2)
    assert again.version == 2
    assert rt.publish_layer_version("helpers", _zip({"python/x.py": ""})).version == 3
    with pytest.raises(errors.InvalidParameterValueException, match="Missing Content"):
        rt.publish_layer_version("helpers", b"")
    with pytest.raises(errors.ResourceNotFoundException):
        rt.get_layer_version("helpers", 2)


def test_policy_statements_are_aws_json(rt: dc.FunctionRuntime) -> None:
    rt.register("f", v1)
    topic_arn = "arn:aws:sns:us-east-1:000000000000:orders"
    rt.add_permission("f", "sns", "lambda:InvokeFunction", "sns.amazonaws.com",
                      source_arn=topic_arn, source_account="000000000000")
    rt.add_permission("f", "acct", "lambda:InvokeFunction", "111111111111")
    assert rt.get_policy("f") == {
        "Version": "2012-10-17", "Id": "default", "Statement": [
            {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
             "Action": "lambda:InvokeFunction",
             "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
             "Condition": {"ArnLike": {"AWS:SourceArn": topic_arn},
                           "StringEquals": {"AWS:SourceAccount": "000000000000"}}},
            {"Sid": "acct", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
             "Action": "lambda:InvokeFunction",
             "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f"},
        ]}
    with pytest.raises(errors.ResourceConflictException, match=r"statement id \(sns\)"):
        rt.add_permission("f", "sns", "lambda:InvokeFunction", "s3.amazonaws.com")
    rt.remove_permission("f", "sns")
    rt.remove_permission("f", "acct")
    with pytest.raises(errors.ResourceNotFoundException,
                       match="The resource you requested does not exist"):
        rt.get_policy("f")
    with pytest.raises(errors.ResourceNotFoundException, match="No policy is associated"):
        rt.remove_permission("f", "sns")


def test_enforced_policy_refuses_sns_until_add_permission(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, isolation="inline", enforce_resource_policies=True)
    seen: list[str] = []
    fn = rt.register("f", lambda e, c: seen.append(e["Records"][0]["Sns"]["Message"]))
    topic = dc.Topic(loop, "orders")
    dlq = dc.Queue(loop, "orders-dlq")
    sub = topic.subscribe(fn, "lambda", redrive_policy={"deadLetterTargetArn": dlq.arn})
    topic.publish("refused")
    loop.run_until_idle()
    assert seen == []
    (dead,) = dlq.receive(max_messages=10)
    assert json.loads(dead.body)["Message"] == "refused"
    assert (sub.undeliverable, sub.dead_lettered, sub.delivered) == (1, 1, 0)
    rt.add_permission("f", "sns", "lambda:InvokeFunction", "sns.amazonaws.com",
                      source_arn=topic.arn)
    topic.publish("allowed")
    loop.run_until_idle()
    assert seen == ["allowed"]
    assert sub.delivered == 1


def test_policy_of_another_topic_does_not_allow(loop: dc.EventLoop) -> None:
    rt = dc.FunctionRuntime(loop, isolation="inline", enforce_resource_policies=True)
    fn = rt.register("f", v1)
    rt.add_permission("f", "sns", "lambda:InvokeFunction", "sns.amazonaws.com",
                      source_arn="arn:aws:sns:us-east-1:000000000000:other-*")
    assert rt.allows(fn, "sns.amazonaws.com",
                     source_arn="arn:aws:sns:us-east-1:000000000000:other-1")
    assert not rt.allows(fn, "sns.amazonaws.com",
                         source_arn="arn:aws:sns:us-east-1:000000000000:orders")
    assert not rt.allows(fn, "s3.amazonaws.com",
                         source_arn="arn:aws:sns:us-east-1:000000000000:other-1")


def test_provisioned_concurrency_initialises_environments_ahead(rt: dc.FunctionRuntime,
                                                                loop: dc.EventLoop) -> None:
    inits: list[str] = []
    rt.register("f", lambda e, c: __import__("os").environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
                init=lambda: inits.append("init"), cold_start_duration=2.0)
    rt.publish_version("f")
    with pytest.raises(errors.InvalidParameterValueException, match="unpublished"):
        rt.put_provisioned_concurrency("f", "$LATEST", 2)
    config = rt.put_provisioned_concurrency("f", "1", 2)
    assert (config.requested, config.available, config.status) == (2, 2, "READY")
    assert inits == ["init", "init"]
    start = loop.clock.now()
    first = rt.invoke("f", qualifier="1")
    assert (first.payload, first.cold_start) == ("provisioned-concurrency", False)
    assert loop.clock.now() == start  # no cold start duration spent
    assert rt.metrics["functions"]["f"]["cold_starts"] == 0
    rt.delete_provisioned_concurrency("f", "1")
    with pytest.raises(errors.ProvisionedConcurrencyConfigNotFoundException):
        rt.get_provisioned_concurrency("f", "1")


def test_sns_to_a_qualified_function_arn_runs_that_alias(rt: dc.FunctionRuntime,
                                                         loop: dc.EventLoop) -> None:
    seen: list[str] = []
    rt.register("f", lambda e, c: seen.append(c.function_version))
    rt.publish_version("f")
    rt.update_function_code("f", lambda e, c: seen.append("new " + c.function_version))
    rt.create_alias("f", "live", "1")
    topic = dc.Topic(loop, "orders")
    topic.subscribe("arn:aws:lambda:us-east-1:000000000000:function:f:live", "lambda")
    topic.subscribe("arn:aws:lambda:us-east-1:000000000000:function:f", "lambda")
    topic.publish("hello")
    loop.run_until_idle()
    assert sorted(seen) == ["1", "new $LATEST"]
