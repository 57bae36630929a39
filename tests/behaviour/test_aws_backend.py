"""What only the AWS backend does: error translation, batch splitting, automatic batching,
the account's request meter, queue policies for topics, self-hosted event source pollers, and
clear errors for what exists only in process. Against moto's HTTP server on 127.0.0.1
(see conftest.py); the real-time waits are bounded by long polls of 1 s."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

import decoupling as dc
from decoupling import errors

aws = pytest.importorskip("decoupling.aws")
from decoupling.aws._errors import AwsServiceError, translate  # noqa: E402

ACCOUNT_ID = "123456789012"  # moto's


@pytest.fixture
def account(make_account: Any) -> Any:
    acct = make_account()
    yield acct
    acct.close()


def _client_error(error: dict[str, str], status: int = 400) -> ClientError:
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # SQS JSON protocol: the legacy code and the shape name.
        ({"Code": "AWS.SimpleQueueService.NonExistentQueue", "QueryErrorCode": "QueueDoesNotExist",
          "Message": "m", "Type": "Sender"}, errors.QueueDoesNotExist),
        # Query protocol (or an older server): the legacy code only.
        ({"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "m"},
         errors.QueueDoesNotExist),
        ({"Code": "QueueAlreadyExists", "QueryErrorCode": "QueueNameExists", "Message": "m"},
         errors.QueueAlreadyExists),
        ({"Code": "AWS.SimpleQueueService.PurgeQueueInProgress", "Message": "m"},
         errors.PurgeQueueInProgress),
        ({"Code": "InvalidParameterValue", "QueryErrorCode": "InvalidParameterValue",
          "Message": "m"}, errors.InvalidParameterValue),
        ({"Code": "NotFound", "Message": "m", "Type": "Sender"}, errors.NotFound),
        ({"Code": "InvalidParameter", "Message": "m"}, errors.InvalidParameter),
    ],
)
def test_client_errors_become_the_class_of_their_code(error: dict[str, str], expected: type) -> None:
    translated = translate(_client_error(error))
    assert type(translated) is expected
    assert translated.message == "m"


def test_unknown_codes_keep_their_code() -> None:
    throttled = translate(_client_error({"Code": "ThrottlingException", "Message": "slow down"}))
    assert isinstance(throttled, AwsServiceError) and isinstance(throttled, dc.DecouplingError)
    assert (throttled.code, throttled.message, throttled.sender_fault) == (
        "ThrottlingException", "slow down", True)
    again = translate(_client_error({"Code": "ThrottlingException", "Message": "x"}))
    assert type(again) is type(throttled)  # one class per code
    failed = translate(_client_error({"Code": "KMS.InternalFailure", "Message": "m",
                                      "Type": "Receiver"}, 500))
    assert (failed.code, failed.status, failed.sender_fault) == ("KMS.InternalFailure", 500, False)


def test_botocore_parameter_errors_are_invalid_parameter_value() -> None:
    translated = translate(ParamValidationError(report="Invalid type for parameter X"))
    assert type(translated) is errors.InvalidParameterValue


def test_connect_refuses_unknown_arguments() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="regionname"):
        aws.connect(regionname="eu-west-1")
    with pytest.raises(errors.InvalidParameterValue):
        aws.Batching(max_entries=11)
    with pytest.raises(errors.UnsupportedOperation, match="only in process"):
        aws.connect(clock=dc.ManualClock())


# -- batches -----------------------------------------------------------------------------------


def test_batches_of_more_than_ten_are_split(account: Any) -> None:
    queue = dc.Queue(account, "split", visibility_timeout=60)
    entries: list[Any] = [{"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(25)]
    entries[12] = {"Id": "e12", "MessageBody": "bad \x00"}
    result = queue.send_batch(entries)
    assert [ok["Id"] for ok in result.successful] == [f"e{i}" for i in range(25) if i != 12]
    assert [(bad["Id"], bad["Code"]) for bad in result.failed] == [("e12", "InvalidMessageContents")]
    assert account.meter.calls(queue, "SendMessageBatch") == 3  # 10 + 10 + 4
    received: list[dc.Message] = []
    while len(received) < 24:
        received += queue.receive(10, wait_seconds=1)
    changed = queue.change_visibility_batch([
        {"Id": f"v{i}", "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 120}
        for i, m in enumerate(received)])
    assert (len(changed.successful), changed.failed) == (24, [])
    deleted = queue.delete_batch([m.receipt_handle for m in received])
    assert [ok["Id"] for ok in deleted.successful] == [str(i) for i in range(24)]
    assert account.meter.calls(queue, "DeleteMessageBatch") == 3
    assert account.meter.calls(queue, "ChangeMessageVisibilityBatch") == 3
    assert len(queue) == 0
    # In process, the same call is refused whole:
    with pytest.raises(errors.TooManyEntriesInBatchRequest):
        dc.Queue(dc.EventLoop(clock=dc.ManualClock()), "split").send_batch(entries)


def test_batches_are_split_at_one_mebibyte_and_billed_by_64_kib(account: Any) -> None:
    queue = dc.Queue(account, "big")
    result = queue.send_batch(["a" * 400_000, "b" * 400_000, "c" * 400_000])
    assert len(result.successful) == 3
    assert account.meter.calls(queue, "SendMessageBatch") == 2  # 800,000 + 400,000 bytes
    # ceil(800,000 / 65,536) + ceil(400,000 / 65,536) billed requests
    assert account.meter.requests(queue, "SendMessageBatch") == 13 + 7


# -- automatic batching ------------------------------------------------------------------------


def _concurrently(n: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = call(i)
        except dc.DecouplingError as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.realtime
def test_automatic_batching_coalesces_concurrent_calls(make_account: Any) -> None:
    account = make_account(batching=aws.Batching(max_wait=1.0))
    queue = dc.Queue(account, "coalesced", visibility_timeout=60)
    sent = _concurrently(40, lambda i: queue.send(f"m{i}"))
    assert all(isinstance(r, dc.SendResult) for r in sent)
    assert len({r.message_id for r in sent}) == 40
    assert account.meter.calls(queue, "SendMessageBatch") == 4
    assert account.meter.calls(queue, "SendMessage") == 0
    received: list[dc.Message] = []
    while len(received) < 40:
        received += queue.receive(10, wait_seconds=1)
    assert sorted(m.body for m in received) == sorted(f"m{i}" for i in range(40))
    assert {m.message_id for m in received} == {r.message_id for r in sent}
    handles = [m.receipt_handle for m in received]
    assert _concurrently(40, lambda i: queue.delete(handles[i])) == [None] * 40
    assert account.meter.calls(queue, "DeleteMessageBatch") == 4
    # (Not asserted: that the queue is empty now. moto 5.2.1 deletes by rebuilding the queue's
    # message list without a lock, so two DeleteMessageBatch requests served at once can undo
    # each other's deletes; SQS has no such race.)
    # A per-entry failure reaches only its caller, a whole-request failure every caller:
    outcomes = _concurrently(10, lambda i: queue.change_visibility(
        handles[0] if i == 3 else "junk-handle", 10))
    assert [type(o).__name__ for o in outcomes] == ["ReceiptHandleIsInvalid"] * 10
    queue.delete_queue()
    lost = _concurrently(3, lambda i: queue.send("x"))
    assert [type(o) for o in lost] == [errors.QueueDoesNotExist] * 3
    account.close()


def test_request_meter_prices_what_was_sent(account: Any) -> None:
    queue = dc.Queue(account, "metered")
    fifo = dc.FifoQueue(account, "metered.fifo", content_based_deduplication=True)
    account.meter.reset()
    for i in range(3):
        queue.send(f"m{i}")
    fifo.send("f", message_group_id="g")
    queue.receive(10, wait_seconds=0)
    assert account.meter.by_action() == {"SendMessage": 4, "ReceiveMessage": 1}
    assert account.meter.requests() == 5
    assert account.meter.cost() == (Decimal("0.40") * 4 + Decimal("0.50")) / 1_000_000


# -- queues and topics -------------------------------------------------------------------------


def test_redrive_policy_resolves_the_dead_letter_queue_arn(account: Any) -> None:
    dlq = dc.Queue(account, "orders-dlq")
    policy = dc.RedrivePolicy(dlq, max_receive_count=3)
    assert policy.dead_letter_target_arn == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:orders-dlq"
    orders = dc.Queue(account, "orders", redrive_policy=policy)
    assert json.loads(orders.get_attributes(["RedrivePolicy"])["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}
    assert [q.url for q in dlq.list_dead_letter_source_queues()] == [orders.url]


def test_subscribe_writes_the_queue_policy_that_lets_the_topic_send(account: Any) -> None:
    first = dc.Topic(account, "first")
    second = dc.Topic(account, "second")
    queue = dc.Queue(account, "fed")
    sub = first.subscribe(queue)
    first.subscribe(queue)  # again: no second statement
    second.subscribe(queue.arn)  # by ARN: the queue is found by name and owner
    policy = json.loads(queue.get_attributes(["Policy"])["Policy"])
    assert policy["Statement"] == [
        {"Sid": f"topic-{topic.name}-sends", "Effect": "Allow",
         "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
         "Resource": queue.arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic.arn}}}
        for topic in (first, second)
    ]
    assert (sub.protocol, sub.endpoint, sub.target) == ("sqs", queue.arn, queue)
    assert sub.raw_message_delivery is False
    sub.set_attribute("RawMessageDelivery", True)
    assert sub.raw_message_delivery is True
    sub.unsubscribe()
    assert [s["TopicArn"] for s in first.list_subscriptions()] == []


def test_in_process_features_raise_a_clear_error(account: Any) -> None:
    queue = dc.Queue(account, "plain")
    topic = dc.Topic(account, "plain-topic")
    for make in (lambda: dc.Journal(account), lambda: dc.Metrics(account),
                 lambda: dc.RequestMeter(account), lambda: dc.Chaos(seed=1).attach(queue),
                 lambda: dc.Chaos(seed=1).attach(topic), lambda: topic.outbox,
                 lambda: queue.add_observer(print), lambda: topic.subscribe(print),
                 lambda: account.clock.advance(30), lambda: dc.Chaos(seed=1).attach(account)):
        with pytest.raises(errors.UnsupportedOperation, match="only in process"):
            make()
    with pytest.raises(AttributeError):
        account.no_such_thing  # noqa: B018 - a plain typo stays an AttributeError


# -- self-hosted event source pollers -----------------------------------------------------------


@pytest.mark.realtime
def test_event_source_polls_invokes_and_deletes(account: Any) -> None:
    queue = dc.Queue(account, "work", visibility_timeout=30)
    runtime = dc.FunctionRuntime(account)
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    @runtime.function("work", timeout=10)
    def work(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(event["Records"])
        if sum(r["body"] != "bad" for r in seen) >= 2:
            done.set()
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"] == "bad"]}

    sent = queue.send_batch(["ok-1", "bad", "ok-2"])
    mapping = runtime.add_event_source(queue, "work", batch_size=10,
                                       report_batch_item_failures=True)
    assert done.wait(10)
    runtime.close()  # stops the poller after its batch (and its deletes)
    bad_id = sent.successful[1]["MessageId"]
    record = next(r for r in seen if r["messageId"] == bad_id)
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs", queue.arn, "us-east-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    metrics = mapping.metrics
    assert (metrics["records"], metrics["deleted"], metrics["failed_records"]) == (3, 2, 1)
    assert queue.get_attributes(["ApproximateNumberOfMessages",
                                 "ApproximateNumberOfMessagesNotVisible"]) == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}
    assert mapping.state == "Deleting"


@pytest.mark.realtime
def test_failed_batches_are_left_to_the_queue_redrive_policy(account: Any) -> None:
    dlq = dc.Queue(account, "work-dlq")
    queue = dc.Queue(account, "work", visibility_timeout=1,
                     redrive_policy=dc.RedrivePolicy(dlq, max_receive_count=1))
    runtime = dc.FunctionRuntime(account)

    @runtime.function("fail", timeout=10)
    def fail(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("always")

    sent = queue.send("poison")
    runtime.add_event_source(queue, "fail")
    dead: list[dc.Message] = []
    for _ in range(8):  # visibility 1 s, then SQS moves it on the next receive
        dead = dlq.receive(wait_seconds=1)
        if dead:
            break
    runtime.close()
    assert [(m.message_id, m.body) for m in dead] == [(sent.message_id, "poison")]


@pytest.mark.realtime
def test_pollers_scale_up_to_maximum_concurrency(account: Any) -> None:
    queue = dc.Queue(account, "wide")
    runtime = dc.FunctionRuntime(account)
    together = threading.Barrier(3, timeout=8)
    passed = threading.Semaphore(0)

    @runtime.function("slow", timeout=20)
    def slow(event: dict[str, Any], context: Any) -> None:
        together.wait()  # passes only when three batches run at once
        passed.release()

    queue.send_batch(["a", "b", "c"])
    mapping = runtime.add_event_source(queue, "slow", batch_size=1, maximum_concurrency=3)
    assert all(passed.acquire(timeout=10) for _ in range(3))
    runtime.close()  # each poller finishes its batch: deletes included
    metrics = mapping.metrics
    assert (metrics["invocations"], metrics["deleted"], metrics["peak_concurrency"]) == (3, 3, 3)


# -- examples ------------------------------------------------------------------------------------


@pytest.mark.realtime
def test_orders_example_runs_on_aws(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    from pathlib import Path

    for name, value in {"DECOUPLING_BACKEND": "aws", "AWS_ENDPOINT_URL": aws_endpoint,
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    path = Path(__file__).resolve().parents[2] / "examples" / "orders.py"
    spec = importlib.util.spec_from_file_location("orders_on_aws", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == {"accepted": 5, "processed": 4, "dead_lettered": 1, "lost": 0}
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "web tier: accepted 5 orders, queue holds 5"
    assert out[-2:] == ["dead-letter queue holds: ['3']",
                        "summary: accepted=5, processed=4, dead_lettered=1, lost=0"]


@pytest.mark.realtime
def test_order_pipeline_example_runs_on_aws(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    from pathlib import Path

    for name, value in {"DECOUPLING_BACKEND": "aws", "AWS_ENDPOINT_URL": aws_endpoint,
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    path = Path(__file__).resolve().parents[2] / "examples" / "aws" / "order_pipeline.py"
    spec = importlib.util.spec_from_file_location("order_pipeline_on_aws", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == {"records": ["1", "3", "4"], "deleted": 2,
                             "left_for_retry": 1, "audited": ["1", "2", "3", "4"]}
    assert sorted(capsys.readouterr().out.splitlines()[:3]) == [
        "ship: order 1 (book) shipped", "ship: order 3 cannot be shipped yet",
        "ship: order 4 (lamp) shipped"]


# -- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize(("impl", "public"), [
    ("AwsQueue", dc.Queue), ("AwsFifoQueue", dc.FifoQueue), ("AwsTopic", dc.Topic),
    ("AwsSubscription", dc.Subscription), ("AwsEventSourceMapping", dc.EventSourceMapping),
])
def test_every_public_method_is_reimplemented(impl: str, public: type) -> None:
    """An AWS class never falls back on an in-process method, which would reach for state it
    does not have (mypy checks the signatures)."""
    cls = getattr(aws, impl)
    assert issubclass(cls, public)
    assert _inherited(cls, public, "decoupling.aws") == []


def test_the_contract_check_sees_inherited_methods() -> None:
    assert "receive" not in _inherited(dc.FifoQueue, dc.Queue, "decoupling.sqs.fifo")
    assert "purge" in _inherited(dc.FifoQueue, dc.Queue, "decoupling.sqs.fifo")


def _inherited(cls: type, public: type, package: str) -> list[str]:
    """Public methods and properties of ``public`` that ``cls`` takes from outside ``package``."""
    missing = []
    for name in dir(public):
        if name.startswith("_") and name not in ("__len__", "__init__"):
            continue
        member = getattr(public, name)
        if not (callable(member) or isinstance(member, property)):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if not owner.__module__.startswith(package):
            missing.append(name)
    return missing


@pytest.mark.realtime
def test_a_batching_window_gathers_more_than_ten_messages(account: Any) -> None:
    queue = dc.Queue(account, "windowed")
    runtime = dc.FunctionRuntime(account)
    sizes: list[int] = []
    done = threading.Event()

    @runtime.function("count", timeout=10)
    def count(event: dict[str, Any], context: Any) -> None:
        sizes.append(len(event["Records"]))
        done.set()

    queue.send_batch([f"m{i}" for i in range(15)])
    mapping = runtime.add_event_source(queue, "count", batch_size=20, maximum_batching_window=1)
    assert done.wait(10)
    runtime.close()
    assert sizes == [15]
    assert mapping.metrics["deleted"] == 15


def test_import_decoupling_does_not_import_boto3() -> None:
    import subprocess
    import sys

    code = ("import sys, decoupling; print(sorted(m for m in ('boto3', 'botocore', "
            "'decoupling.aws') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_connect_retries_in_standard_mode_and_keeps_the_callers_config(
        aws_endpoint: str) -> None:
    from botocore.config import Config

    account = aws.connect(endpoint_url=aws_endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="eu-west-1",
                          config=Config(read_timeout=25))
    for client in (account.sqs, account.sns):
        config = client.meta.config
        assert (config.retries["mode"], config.read_timeout, config.max_pool_connections) == (
            "standard", 25, 50)
    assert account.region == "eu-west-1"
    account.close()


@pytest.mark.realtime
def test_asyncio_calls_run_in_worker_threads(account: Any) -> None:
    import asyncio

    queue = dc.Queue(account, "async")

    async def round_trip() -> list[str]:
        await queue.send_async("hello")
        await queue.send_batch_async(["a", "b"])
        messages: list[dc.Message] = []
        while len(messages) < 3:
            messages += await queue.receive_async(10, wait_seconds=1)
        await queue.delete_async(messages[0].receipt_handle)
        result = await queue.delete_batch_async([m.receipt_handle for m in messages[1:]])
        assert len(result.successful) == 2
        return sorted(m.body for m in messages)

    assert asyncio.run(round_trip()) == ["a", "b", "hello"]
    assert len(queue) == 0


def test_the_readme_aws_block_runs(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's AWS example (a ``py`` block: tests/test_readme.py runs only the in-process
    ``python`` blocks), with ``connect`` pointed at moto."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## When you outgrow one machine", 1)[1]
    block = re.search(r"```py\n(.*?)```", section, re.S)
    assert block is not None
    real_connect = aws.connect
    monkeypatch.setattr(aws, "connect", lambda **kw: real_connect(
        **{**kw, "endpoint_url": aws_endpoint, "aws_access_key_id": "testing",
           "aws_secret_access_key": "testing"}))
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # noqa: S102
    orders = namespace["orders"]
    assert isinstance(orders, aws.AwsQueue)
    assert orders.arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT_ID}:orders"
    assert [m.body for m in orders.receive(10, wait_seconds=1)] == ["order-1"]


@pytest.mark.realtime
def test_event_source_filters_delete_what_matches_no_pattern(account: Any) -> None:
    queue = dc.Queue(account, "filtered")
    runtime = dc.FunctionRuntime(account)
    bodies: list[str] = []
    done = threading.Event()

    @runtime.function("books", timeout=10)
    def books(event: dict[str, Any], context: Any) -> None:
        bodies.extend(r["body"] for r in event["Records"])
        done.set()

    queue.send_batch(['{"kind": "pen"}', '{"kind": "book"}'])
    mapping = runtime.add_event_source(
        queue, "books", filter_criteria={"Filters": [{"Pattern": {"body": {"kind": ["book"]}}}]})
    assert done.wait(10)
    runtime.close()
    assert bodies == ['{"kind": "book"}']
    metrics = mapping.metrics
    assert (metrics["filtered"], metrics["deleted"], metrics["records"]) == (1, 2, 1)
    assert mapping.to_aws()["FilterCriteria"] == {
        "Filters": [{"Pattern": {"body": {"kind": ["book"]}}}]}
