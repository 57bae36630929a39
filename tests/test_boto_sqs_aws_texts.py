"""SQS through the bridge answers with AWS's own codes, statuses and texts where moto's test
suite (run against the bridge by ``tools/moto_suite.py``) showed ours differed and AWS's answer
is known: empty batches, FIFO batch entries without a group, malformed queue URLs, attribute
types, tags, permissions, queue names, attribute-name wildcards.

Every failing call is also checked to change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")

from botocore.exceptions import ClientError  # noqa: E402

import decoupling as dc  # noqa: E402
from decoupling.boto import serve  # noqa: E402


@pytest.fixture
def sqs(loop: dc.EventLoop) -> Iterator[Any]:
    with serve(loop):
        yield boto3.client("sqs")


@pytest.fixture
def url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="q")["QueueUrl"])


def error(call: Callable[[], object]) -> tuple[str, int, str]:
    """``(Error.Code, HTTP status, Error.Message)`` of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


@pytest.mark.parametrize(
    ("operation", "entry_type"),
    [
        ("send_message_batch", "SendMessageBatchRequestEntry"),
        ("delete_message_batch", "DeleteMessageBatchRequestEntry"),
        ("change_message_visibility_batch", "ChangeMessageVisibilityBatchRequestEntry"),
    ],
)
def test_an_empty_batch_names_the_entry_type(
    sqs: Any, url: str, operation: str, entry_type: str
) -> None:
    assert error(lambda: getattr(sqs, operation)(QueueUrl=url, Entries=[])) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        400,
        f"There should be at least one {entry_type} in the request.",
    )


def test_a_fifo_batch_entry_without_a_group_is_a_missing_parameter(sqs: Any) -> None:
    fifo = sqs.create_queue(
        QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    entries = [
        {"Id": "a", "MessageBody": "1", "MessageGroupId": "g"},
        {"Id": "b", "MessageBody": "2"},
    ]
    assert error(lambda: sqs.send_message_batch(QueueUrl=fifo, Entries=entries)) == (
        "MissingParameter", 400, "The request must contain the parameter MessageGroupId."
    )
    attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


@pytest.mark.parametrize(
    "bad_url",
    [
        "http://whatever-incorrect-queue-address",
        "https://sqs.us-east-1.amazonaws.com/q",
        "https://sqs.us-east-1.amazonaws.com/",
        "https://sqs.us-east-1.amazonaws.com/000000000000/q/extra",
    ],
)
def test_a_url_without_account_and_name_is_a_queue_that_does_not_exist(
    sqs: Any, url: str, bad_url: str
) -> None:
    assert error(lambda: sqs.get_queue_attributes(QueueUrl=bad_url)) == (
        "AWS.SimpleQueueService.NonExistentQueue", 400, "The specified queue does not exist."
    )


def test_a_url_of_another_account_is_still_an_invalid_address(sqs: Any, url: str) -> None:
    other = "https://sqs.us-east-1.amazonaws.com/111111111111/q"
    assert error(lambda: sqs.get_queue_attributes(QueueUrl=other)) == (
        "InvalidAddress", 404, f"The address {other} is not valid for this endpoint."
    )


def test_an_unknown_attribute_type_lists_the_supported_prefixes(sqs: Any, url: str) -> None:
    attributes = {"timestamp": {"DataType": "InvalidNumber", "StringValue": "1"}}
    assert error(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    ) == (
        "InvalidParameterValue",
        400,
        "The message attribute 'timestamp' has an invalid message attribute type, the set of "
        "supported type prefixes is Binary, Number, and String.",
    )
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_tag_queue_needs_tags_and_allows_fifty(sqs: Any, url: str) -> None:
    sqs.tag_queue(QueueUrl=url, Tags={"team": "a"})
    assert error(lambda: sqs.tag_queue(QueueUrl=url, Tags={})) == (
        "MissingParameter", 400, "The request must contain the parameter Tags."
    )
    many = {f"k{i}": "v" for i in range(50)}  # 50 new + "team" = 51
    assert error(lambda: sqs.tag_queue(QueueUrl=url, Tags=many)) == (
        "InvalidParameterValue", 400, "Too many tags added for queue q."
    )
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(49)})
    assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 50


def test_untag_queue_needs_keys(sqs: Any, url: str) -> None:
    sqs.tag_queue(QueueUrl=url, Tags={"team": "a"})
    assert error(lambda: sqs.untag_queue(QueueUrl=url, TagKeys=[])) == (
        "InvalidParameterValue", 400, "Tag keys must be between 1 and 128 characters in length."
    )
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}


def _statements(sqs: Any, url: str) -> list[dict[str, Any]]:
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    return list(json.loads(policy["Policy"])["Statement"])


def test_add_permission_writes_single_values_as_strings(sqs: Any, url: str) -> None:
    arn = "arn:aws:sqs:us-east-1:000000000000:q"
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111111111111"], Actions=["*"])
    sqs.add_permission(
        QueueUrl=url,
        Label="two",
        AWSAccountIds=["111111111111", "222222222222"],
        Actions=["SendMessage", "ReceiveMessage"],
    )
    assert _statements(sqs, url) == [
        {
            "Sid": "one",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "SQS:*",
            "Resource": arn,
        },
        {
            "Sid": "two",
            "Effect": "Allow",
            "Principal": {
                "AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
            },
            "Action": ["SQS:SendMessage", "SQS:ReceiveMessage"],
            "Resource": arn,
        },
    ]


@pytest.mark.parametrize(
    ("label", "accounts", "actions", "expected"),
    [
        ("new", ["111111111111"], [], (
            "MissingParameter", 400, "The request must contain the parameter Actions."
        )),
        ("new", [], ["SendMessage"], (
            "InvalidParameterValue", 400,
            "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.",
        )),
        ("new", ["111111111111"], ["SendMessage"] * 8, (
            "OverLimit", 403, "8 Actions were found, maximum allowed is 7."
        )),
        ("new", ["111111111111"], ["SendMessage", "RemovePermission"], (
            "InvalidParameterValue", 400,
            "Value SQS:RemovePermission for parameter ActionName is invalid. Reason: Only the "
            "queue owner is allowed to invoke this action.",
        )),
        ("taken", ["111111111111"], ["SendMessage"], (
            "InvalidParameterValue", 400,
            "Value taken for parameter Label is invalid. Reason: Already exists.",
        )),
    ],
)
def test_add_permission_errors(
    sqs: Any,
    url: str,
    label: str,
    accounts: list[str],
    actions: list[str],
    expected: tuple[str, int, str],
) -> None:
    sqs.add_permission(
        QueueUrl=url, Label="taken", AWSAccountIds=["111111111111"], Actions=["ReceiveMessage"]
    )
    before = _statements(sqs, url)
    assert error(
        lambda: sqs.add_permission(
            QueueUrl=url, Label=label, AWSAccountIds=accounts, Actions=actions
        )
    ) == expected
    assert _statements(sqs, url) == before


def test_remove_permission_of_an_unknown_label(sqs: Any, url: str) -> None:
    assert error(lambda: sqs.remove_permission(QueueUrl=url, Label="nope")) == (
        "InvalidParameterValue",
        400,
        "Value nope for parameter Label is invalid. Reason: can't find label on existing policy.",
    )


@pytest.mark.parametrize("name", ["", "x" * 81, "/my/test", "a b", "jobs.fifo"])
def test_an_invalid_queue_name(sqs: Any, name: str) -> None:
    assert error(lambda: sqs.create_queue(QueueName=name)) == (
        "InvalidParameterValue",
        400,
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    )
    assert "QueueUrls" not in sqs.list_queues()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["All"], ["Custom.x", "Custom1", "Other"]),
        ([".*"], ["Custom.x", "Custom1", "Other"]),
        (["Custom.*"], ["Custom.x", "Custom1"]),
        (["Custom.x"], ["Custom.x"]),
        (["Oth.*", "Custom1"], ["Custom1", "Other"]),
        (["Nothing.*"], []),
    ],
)
def test_message_attribute_names_select_by_prefix(
    sqs: Any, url: str, names: list[str], expected: list[str]
) -> None:
    attributes = {
        n: {"DataType": "String", "StringValue": n} for n in ("Custom1", "Custom.x", "Other")
    }
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=names)["Messages"][0]
    assert sorted(message.get("MessageAttributes", {})) == expected
