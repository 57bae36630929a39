"""The account's SMS side natively: attributes, opt-outs, the sandbox, sending to a phone number
(``decoupling.sns.sms_account``)."""

from __future__ import annotations

import pytest

import decoupling as dc
from decoupling import errors


def test_one_account_per_loop_with_aws_defaults(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    assert dc.SmsAccount.of(loop) is account
    assert account.get_attributes() == {"MonthlySpendLimit": "1"}
    assert account.in_sandbox is False
    assert account.origination_numbers() == []


def test_set_and_filter_attributes(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.set_attributes({"DeliveryStatusSuccessSamplingRate": "100",
                            "DefaultSenderID": "LSTest", "DefaultSMSType": "Promotional"})
    assert account.get_attributes() == {
        "MonthlySpendLimit": "1", "DeliveryStatusSuccessSamplingRate": "100",
        "DefaultSenderID": "LSTest", "DefaultSMSType": "Promotional",
    }
    assert account.get_attributes(["DefaultSenderID", "DefaultSMSType"]) == {
        "DefaultSenderID": "LSTest", "DefaultSMSType": "Promotional"}


@pytest.mark.parametrize(
    ("attributes", "text"),
    [
        ({"InvalidAttribute": "invalid"}, "InvalidAttribute is not a valid attribute"),
        ({"DefaultSMSType": "invalid"}, "DefaultSMSType is invalid"),
        ({"DefaultSenderID": "a" * 12}, "DefaultSenderID is invalid"),
        ({"DefaultSenderID": "123456789"}, "DefaultSenderID is invalid"),
        ({"DeliveryStatusSuccessSamplingRate": "101"},
         "DeliveryStatusSuccessSamplingRate is invalid"),
        ({"DefaultSMSType": "Transactional", "MonthlySpendLimit": "-1"},
         "MonthlySpendLimit is invalid"),
    ],
)
def test_bad_attributes_change_nothing(
    loop: dc.EventLoop, attributes: dict[str, str], text: str
) -> None:
    account = dc.SmsAccount.of(loop)
    with pytest.raises(errors.InvalidParameter) as info:
        account.set_attributes(attributes)
    assert info.value.message == text
    assert account.get_attributes() == {"MonthlySpendLimit": "1"}


def test_opt_out_and_in(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    assert account.is_opted_out("+15555550100") is False
    account.opt_out("+15555550100")
    account.opt_out("+447700900123")
    assert account.is_opted_out("+15555550100") is True
    assert account.opted_out() == ["+15555550100", "+447700900123"]
    account.opt_in("+15555550100")
    account.opt_in("+15555550111")  # not opted out: nothing to do
    assert account.opted_out() == ["+447700900123"]
    for bad in ("15555550100", "+1a234", "+0123", ""):
        with pytest.raises(errors.InvalidParameter) as info:
            account.opt_in(bad)
        assert info.value.message == (
            "Invalid parameter: PhoneNumber Reason: input incorrectly formatted")


def test_publish_to_a_phone_number(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.set_attributes({"DefaultSenderID": "Shop"})
    message_id = account.publish("+15555550100", "Your code is 1234")
    [sms] = account.outbox
    assert (sms.phone_number, sms.text, sms.sender_name, sms.message_id) == (
        "+15555550100", "Your code is 1234", "Shop", message_id)
    account.publish("+15555550100", '{"default": "d", "sms": "short"}',
                    message_structure="json",
                    message_attributes={"AWS.SNS.SMS.SenderID": "Other"})
    assert (account.outbox[-1].text, account.outbox[-1].sender_name) == ("short", "Other")


def test_opted_out_numbers_are_not_sent_to(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.opt_out("+15555550100")
    assert account.publish("+15555550100", "hi")  # a MessageId, as SNS answers
    assert account.outbox == []
    topic = dc.Topic(loop, "alerts")
    dlq = dc.Queue(loop, "sms-dlq")
    sub = topic.subscribe("+15555550100", "sms", redrive_policy=dlq)
    topic.subscribe("+15555550101", "sms")
    topic.publish("news")
    assert [(e.endpoint, e.body) for e in topic.outbox] == [("+15555550101", "news")]
    assert sub.dead_lettered == 1


@pytest.mark.parametrize(
    ("number", "message", "text"),
    [
        ("+1a234", "hi", "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to"),
        ("NAA+15551234567", "hi",
         "Invalid parameter: PhoneNumber Reason: NAA+15551234567 is not valid to publish to"),
        ("+15555550100", "x" * 1601, "an SMS can be at most 1600 characters, got 1601"),
        ("+15555550100", "", "Invalid parameter: Empty message"),
    ],
)
def test_bad_sms_publishes_are_refused(
    loop: dc.EventLoop, number: str, message: str, text: str
) -> None:
    account = dc.SmsAccount.of(loop)
    with pytest.raises(errors.InvalidParameter) as info:
        account.publish(number, message)
    assert text in info.value.message
    assert account.outbox == []


def test_sms_transport_gets_direct_sends_from_the_loop(clock: dc.ManualClock) -> None:
    sent: list[dc.SmsMessage] = []
    loop = dc.EventLoop(clock, sms=sent.append)
    account = dc.SmsAccount.of(loop)
    account.publish("+15555550100", "hello")
    assert sent == []
    clock.advance(0)
    assert [(s.phone_number, s.text, s.attempt, s.topic_arn) for s in sent] == [
        ("+15555550100", "hello", 1, "")]
    assert account.outbox == []


def test_sandbox_numbers_verify_with_the_password_sent(clock: dc.ManualClock,
                                                       loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.create_sandbox_number("+15555550100")
    assert account.sandbox_numbers() == [{"PhoneNumber": "+15555550100", "Status": "Pending"}]
    [otp_sms] = account.outbox
    password = otp_sms.text.rsplit(" ", 1)[-1]
    assert otp_sms.phone_number == "+15555550100" and len(password) == 6
    with pytest.raises(errors.VerificationException):
        account.verify_sandbox_number("+15555550100", "wrong")
    with pytest.raises(errors.ResourceNotFound):
        account.verify_sandbox_number("+15555550199", password)
    account.verify_sandbox_number("+15555550100", password)
    assert account.sandbox_numbers() == [{"PhoneNumber": "+15555550100", "Status": "Verified"}]
    with pytest.raises(errors.UserError, match="24 hours"):
        account.delete_sandbox_number("+15555550100")
    clock.advance(86_400)
    account.delete_sandbox_number("+15555550100")
    assert account.sandbox_numbers() == []


def test_the_sandbox_sends_only_to_verified_numbers(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.in_sandbox = True
    with pytest.raises(errors.AuthorizationError, match="not a verified destination"):
        account.publish("+15555550100", "hi")
    account.create_sandbox_number("+15555550100")
    account.verify_sandbox_number("+15555550100", account.outbox[-1].text.rsplit(" ", 1)[-1])
    account.publish("+15555550100", "hi")
    assert account.outbox[-1].text == "hi"


def test_sandbox_limits(loop: dc.EventLoop) -> None:
    account = dc.SmsAccount.of(loop)
    account.opt_out("+15555550199")
    with pytest.raises(errors.OptedOut):
        account.create_sandbox_number("+15555550199")
    with pytest.raises(errors.InvalidParameter, match="LanguageCode"):
        account.create_sandbox_number("+15555550100", "xx-XX")
    for i in range(10):
        account.create_sandbox_number(f"+1555555010{i}")
    with pytest.raises(errors.UserError, match="at most 10"):
        account.create_sandbox_number("+15555550110")
    assert len(account.sandbox_numbers()) == 10


def test_sms_subscriptions_take_separated_numbers(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "alerts")
    sub = topic.subscribe("+12/34-567.890", "sms")
    assert sub.endpoint == "+12/34-567.890"
    for bad in ("+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567"):
        with pytest.raises(errors.InvalidParameter) as info:
            topic.subscribe(bad, "sms")
        assert info.value.message == f"Invalid SMS endpoint: {bad}"
    dc.SmsAccount.of(loop).opt_out("+1234567890")
    topic.publish("news")
    assert topic.outbox == [] and sub.undeliverable == 1
