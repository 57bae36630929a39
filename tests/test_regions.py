"""Regions and accounts: siblings of a loop, natively and through the boto3 bridge.

A sibling (``loop.in_region(...)``, ``loop.in_account(...)``) has its own resources and writes
its region and account into ARNs and URLs as AWS does; it runs on the home loop's clock. SNS
delivers to queues of other regions and accounts by ARN (SNS Developer Guide, "Sending Amazon
SNS messages to an Amazon SQS queue in a different Region").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import InvalidAddress

WEST = "us-west-2"
OTHER = "111122223333"


def test_a_sibling_is_a_loop_of_its_region(loop: dc.EventLoop) -> None:
    west = loop.in_region(WEST)
    assert isinstance(west, dc.EventLoop)
    assert (west.region, west.account_id) == (WEST, "000000000000")
    assert loop.in_region(WEST) is west and west.in_region(WEST) is west
    assert loop.in_region("us-east-1") is loop and west.in_region("us-east-1") is loop
    assert west.home is loop and loop.home is loop
    assert west.clock is loop.clock
    queue = dc.Queue(west, "orders")
    assert queue.arn == "arn:aws:sqs:us-west-2:000000000000:orders"
    assert queue.url == "https://sqs.us-west-2.amazonaws.com/000000000000/orders"
    topic = dc.Topic(west, "events")
    assert topic.arn == "arn:aws:sns:us-west-2:000000000000:events"


def test_same_names_in_two_regions_are_two_resources(loop: dc.EventLoop) -> None:
    east, west = dc.Queue(loop, "orders"), dc.Queue(loop.in_region(WEST), "orders")
    assert east is not west
    east.send("east")
    assert [m.body for m in west.receive()] == []
    assert [m.body for m in east.receive()] == ["east"]
    assert loop.in_region(WEST).queue_name_from(west.arn) == "orders"
    with pytest.raises(InvalidAddress):
        loop.queue_name_from(west.arn)  # an ARN of another region names no queue here


def test_siblings_run_on_the_home_clock(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    west = dc.Queue(loop.in_region(WEST), "q")
    west.send("later", delay_seconds=5)
    fired: list[float] = []
    loop.in_account(OTHER).call_later(3, lambda: fired.append(clock.now()))
    clock.advance(4.9)
    assert fired == [3.0] and west.receive() == []
    clock.advance(0.1)
    assert [m.body for m in west.receive()] == ["later"]


def test_stopping_any_member_ends_long_polls_of_all() -> None:
    import threading

    loop = dc.EventLoop(clock=dc.ManualClock(autojump_threshold=None))  # time never jumps
    west = dc.Queue(loop.in_region(WEST), "q")
    got: list[object] = []
    poller = threading.Thread(target=lambda: got.append(west.receive(wait_seconds=20)))
    poller.start()
    poller.join(0.05)
    assert poller.is_alive()  # blocked in its long poll
    loop.in_account(OTHER).stop()
    poller.join(5)
    assert not poller.is_alive() and got == [[]]
    west.send("m")
    assert west.receive(wait_seconds=20) != []  # does not wait: answers as a short poll would
    loop.in_region(WEST).start()
    assert not loop.in_region(WEST)._stopped and not loop._stopped


def test_account_siblings(loop: dc.EventLoop) -> None:
    other = loop.in_account(OTHER)
    assert (other.region, other.account_id) == ("us-east-1", OTHER)
    assert dc.Queue(other, "q").url == "https://sqs.us-east-1.amazonaws.com/111122223333/q"
    both = loop.in_region(WEST).in_account(OTHER)
    assert (both.region, both.account_id) == (WEST, OTHER)
    assert other.in_region(WEST) is both and both.home is loop
    assert both.in_account("000000000000") is loop.in_region(WEST)


@pytest.mark.parametrize("call, value", [
    ("in_region", ""), ("in_region", "us west"), ("in_region", "eu-west-1/x"),
    ("in_account", "1234"), ("in_account", "11112222333a"), ("in_account", "１１１１２２２２３３３３"),
])
def test_bad_regions_and_accounts_are_refused(loop: dc.EventLoop, call: str, value: str) -> None:
    with pytest.raises(ValueError, match="region must be|account_id must be"):
        getattr(loop, call)(value)
    assert loop.home._siblings() == []


def test_a_topic_delivers_to_a_queue_of_another_region(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "orders")
    west = dc.Queue(loop.in_region(WEST), "orders-west")
    sub = topic.subscribe(west.arn)
    assert sub.endpoint == "arn:aws:sqs:us-west-2:000000000000:orders-west"
    topic.publish("to the west", subject="S")
    (message,) = west.receive()
    envelope = json.loads(message.body)
    assert envelope["Message"] == "to the west"
    assert envelope["TopicArn"] == "arn:aws:sns:us-east-1:000000000000:orders"


def test_a_topic_delivers_to_a_queue_created_after_subscribing(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    topic.subscribe(f"arn:aws:sqs:eu-west-1:{OTHER}:late", raw_message_delivery=True)
    topic.publish("lost: no queue yet")
    late = dc.Queue(loop.in_region("eu-west-1").in_account(OTHER), "late")
    topic.publish("arrives")
    assert [m.body for m in late.receive(max_messages=10)] == ["arrives"]


def test_a_queue_object_of_a_sibling_can_be_subscribed(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop.in_region(WEST), "t")
    queue = dc.Queue(loop.in_account(OTHER), "q")
    topic.subscribe(queue, raw_message_delivery=True)
    topic.publish("across regions and accounts")
    assert [m.body for m in queue.receive()] == ["across regions and accounts"]
    stranger = dc.Queue(dc.EventLoop(clock=loop.clock), "q")
    with pytest.raises(dc.errors.InvalidParameter, match="another loop"):
        topic.subscribe(stranger)


def test_a_malformed_region_in_an_endpoint_arn_is_refused(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "t")
    with pytest.raises(dc.errors.InvalidParameter, match="SQS endpoint ARN"):
        topic.subscribe("arn:aws:sqs:us west:000000000000:q")
    assert topic.subscriptions == [] and loop._siblings() == []


def test_siblings_stay_in_memory_beside_a_durable_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    loop = dc.EventLoop(clock=dc.ManualClock(), store=db)
    dc.Queue(loop, "home").send("kept")
    dc.Queue(loop.in_region(WEST), "away").send("not kept")
    assert loop.in_region(WEST).store is None
    assert loop.store is not None
    loop.store.close()
    again = dc.EventLoop(clock=dc.ManualClock(), store=db)
    assert [m.body for m in dc.Queue(again, "home").receive()] == ["kept"]
    assert dc.Queue(again.in_region(WEST), "away").receive() == []


# -- through the boto3 bridge -------------------------------------------------------------------


def _boto3() -> Any:
    return pytest.importorskip("boto3")


def test_clients_of_two_regions_in_one_serve(loop: dc.EventLoop) -> None:
    boto3 = _boto3()
    from decoupling.boto import serve, served_loop

    with serve(loop):
        east = boto3.client("sqs")
        west = boto3.client("sqs", region_name=WEST)
        sns_west = boto3.client("sns", region_name=WEST)
    assert served_loop(east) is loop and served_loop(west) is loop.in_region(WEST)
    url = west.create_queue(QueueName="orders")["QueueUrl"]
    assert url == "https://sqs.us-west-2.amazonaws.com/000000000000/orders"
    arn = west.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert arn == {"QueueArn": "arn:aws:sqs:us-west-2:000000000000:orders"}
    assert "QueueUrls" not in east.list_queues()
    assert west.list_queues()["QueueUrls"] == [url]
    topic_arn = sns_west.create_topic(Name="events")["TopicArn"]
    assert topic_arn == "arn:aws:sns:us-west-2:000000000000:events"
    assert dc.Queue(loop.in_region(WEST), "orders").url == url  # the same queue, natively


def test_a_cross_region_subscription_through_boto3(loop: dc.EventLoop) -> None:
    boto3 = _boto3()
    from decoupling.boto import serve

    with serve(loop):
        sns = boto3.client("sns", region_name="us-east-1")
        sqs_west = boto3.client("sqs", region_name=WEST)
    url = sqs_west.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs_west.get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    sub_arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub_arn.startswith("arn:aws:sns:us-east-1:000000000000:news:")
    sns.publish(TopicArn=topic_arn, Message="from us-east-1")
    (message,) = sqs_west.receive_message(QueueUrl=url)["Messages"]
    body = json.loads(message["Body"])
    assert (body["Message"], body["TopicArn"]) == ("from us-east-1", topic_arn)


def test_a_twelve_digit_access_key_picks_the_account(loop: dc.EventLoop) -> None:
    boto3 = _boto3()
    from decoupling.boto import serve, served_loop

    with serve(loop):
        mine = boto3.client("sqs")
        theirs = boto3.client("sqs", aws_access_key_id=OTHER, aws_secret_access_key="x",
                              region_name=WEST)
        session = boto3.Session(aws_access_key_id=OTHER, aws_secret_access_key="x",
                                region_name="us-east-1")
        from_session = session.client("sqs")
        named = boto3.client("sqs", aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x")
    assert served_loop(theirs) is loop.in_region(WEST).in_account(OTHER)
    assert served_loop(from_session) is loop.in_account(OTHER)
    assert served_loop(named) is loop and served_loop(mine) is loop
    url = theirs.create_queue(QueueName="q")["QueueUrl"]
    assert url == "https://sqs.us-west-2.amazonaws.com/111122223333/q"
    assert "QueueUrls" not in mine.list_queues()
