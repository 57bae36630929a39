"""The account's SMS side: settings, opted-out numbers, the SMS sandbox, direct sends.

One :class:`SmsAccount` per loop (:meth:`SmsAccount.of`), as SNS keeps these per account and
region: ``SetSMSAttributes``/``GetSMSAttributes``, ``CheckIfPhoneNumberIsOptedOut``,
``ListPhoneNumbersOptedOut``, ``OptInPhoneNumber``, the sandbox operations
(``CreateSMSSandboxPhoneNumber``, ``VerifySMSSandboxPhoneNumber``,
``DeleteSMSSandboxPhoneNumber``, ``ListSMSSandboxPhoneNumbers``, ``GetSMSSandboxAccountStatus``),
``ListOriginationNumbers``, and ``Publish`` with ``PhoneNumber`` (:meth:`SmsAccount.publish`).

Sending goes through the loop's SMS transport (``EventLoop(sms=...)``, see
:mod:`decoupling.sns.sms`), or, without one, into :attr:`SmsAccount.outbox`. Numbers that have
opted out (a person replied STOP: :meth:`SmsAccount.opt_out` plays that part) are not sent to,
neither directly nor through topic subscriptions, as SNS does ("Opting out of receiving SMS
messages", SNS Developer Guide). A new loop's account is out of the sandbox; with
``in_sandbox = True`` only verified sandbox numbers can be sent to ("SMS sandbox").
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..errors import (
    AuthorizationError,
    InvalidParameter,
    OptedOut,
    ResourceNotFound,
    UserError,
    VerificationException,
)
from ..loop import EventLoop
from .delivery import OUTBOX_LIMIT, ClientDeliveryError, DirectDelivery
from .message import check_message, normalize_sns_attributes, parse_structure
from .sms import SmsMessage

__all__ = ["SmsAccount", "E164", "SMS_MAX_CHARACTERS"]

#: An E.164 phone number: ``+``, then up to 15 digits, the first not 0.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
#: "The total size limit for a single SMS Publish action is 1,600 characters" (``Publish``).
SMS_MAX_CHARACTERS = 1600
#: Destination numbers the SMS sandbox holds at most ("SMS sandbox", SNS Developer Guide).
SANDBOX_NUMBERS = 10
#: A verified sandbox number can be deleted 24 hours after its verification at the earliest
#: (``DeleteSMSSandboxPhoneNumber``).
SANDBOX_DELETE_AFTER = 86_400.0
_SMS_TYPES = ("Promotional", "Transactional")
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{1,11}")
_LANGUAGES = frozenset({
    "en-US", "en-GB", "es-419", "es-ES", "de-DE", "fr-CA", "fr-FR", "it-IT", "ja-JP", "pt-BR",
    "kr-KR", "zh-CN", "zh-TW",
})


def _page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidParameter("Invalid parameter: NextToken") from None
    more = start + size < len(items)
    token_out = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
    return items[start : start + size], token_out


class SmsAccount:
    """The SMS settings and state of one loop (account and region).

    Get it with :meth:`of`; there is one per loop.

    Attributes:
        in_sandbox: ``True``: only verified sandbox numbers can be sent to (default
            ``False``).
        outbox: SMS sent directly (:meth:`publish`, sandbox one-time passwords) on a loop
            without an SMS transport, oldest first (the newest 1,000 are kept).
    """

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self.in_sandbox = False
        self.outbox: list[SmsMessage] = []
        # A new account's only SMS attribute (GetSMSAttributes on an untouched region).
        self._attributes: dict[str, str] = {"MonthlySpendLimit": "1"}
        self._opted_out: dict[str, None] = {}
        # number -> [status, language, one-time password, verified at]
        self._sandbox: dict[str, list[Any]] = {}

    @classmethod
    def of(cls, loop: EventLoop) -> SmsAccount:
        """The loop's SMS account (created on first use)."""
        with loop._lock:
            found = loop._lookup("_sns", "sms-account")
            if found is None:
                found = cls(loop)
                loop._register("_sns", "sms-account", found)
            assert isinstance(found, SmsAccount)
            return found

    # -- attributes -------------------------------------------------------------------------

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set account SMS attributes (``SetSMSAttributes``): ``MonthlySpendLimit`` (whole
        USD), ``DeliveryStatusIAMRole``, ``DeliveryStatusSuccessSamplingRate`` (0-100),
        ``DefaultSenderID`` (1-11 letters and digits, at least one letter),
        ``DefaultSMSType`` (``Promotional`` or ``Transactional``), ``UsageReportS3Bucket``.
        All are checked first; on any error nothing changes. A new account has only
        ``MonthlySpendLimit`` = ``"1"``.

        Raises:
            InvalidParameter: an unknown name (``"<name> is not a valid attribute"``) or a bad
            value (``"<name> is invalid"``), as SNS words them.
        """
        if not isinstance(attributes, Mapping):
            raise InvalidParameter("Invalid parameter: attributes must be a mapping")
        parsed: dict[str, str] = {}
        for name, value in attributes.items():
            if not isinstance(value, str):
                raise InvalidParameter(f"{name} is invalid")
            if name == "MonthlySpendLimit":
                ok = value.isascii() and value.isdigit()
            elif name == "DeliveryStatusSuccessSamplingRate":
                ok = value.isascii() and value.isdigit() and int(value) <= 100
            elif name == "DefaultSenderID":
                ok = bool(_SENDER_ID.fullmatch(value))
            elif name == "DefaultSMSType":
                ok = value in _SMS_TYPES
            elif name in ("DeliveryStatusIAMRole", "UsageReportS3Bucket"):
                ok = True
            else:
                raise InvalidParameter(f"{name} is not a valid attribute")
            if not ok:
                raise InvalidParameter(f"{name} is invalid")
            parsed[name] = value
        with self.loop._lock:
            self._attributes.update(parsed)

    def get_attributes(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """The attributes set (``GetSMSAttributes``), all of them or those named."""
        with self.loop._lock:
            if not names:
                return dict(self._attributes)
            wanted = set(names)
            return {k: v for k, v in self._attributes.items() if k in wanted}

    # -- opting out -------------------------------------------------------------------------

    @staticmethod
    def _number(phone_number: object) -> str:
        if not isinstance(phone_number, str) or not E164.fullmatch(phone_number):
            raise InvalidParameter(
                "Invalid parameter: PhoneNumber Reason: input incorrectly formatted"
            )
        return phone_number

    def is_opted_out(self, phone_number: str) -> bool:
        """Whether the number has opted out (``CheckIfPhoneNumberIsOptedOut``).

        Raises:
            InvalidParameter: not an E.164 number.
        """
        number = self._number(phone_number)
        with self.loop._lock:
            return number in self._opted_out

    def opt_out(self, phone_number: str) -> None:
        """Opt a number out, as its owner replying STOP does (no AWS API does this)."""
        number = self._number(phone_number)
        with self.loop._lock:
            self._opted_out[number] = None

    def opt_in(self, phone_number: str) -> None:
        """Opt a number back in (``OptInPhoneNumber``); a number not opted out is left as is.

        Raises:
            InvalidParameter: not an E.164 number.
        """
        number = self._number(phone_number)
        with self.loop._lock:
            self._opted_out.pop(number, None)

    def opted_out(self) -> list[str]:
        """The numbers opted out, in the order they opted out (``ListPhoneNumbersOptedOut``)."""
        with self.loop._lock:
            return list(self._opted_out)

    # -- the sandbox ------------------------------------------------------------------------

    def create_sandbox_number(self, phone_number: str, language_code: str = "en-US") -> None:
        """Add a destination number to the sandbox (``CreateSMSSandboxPhoneNumber``): it is
        ``Pending`` and gets an SMS with a one-time password for
        :meth:`verify_sandbox_number`.

        Raises:
            InvalidParameter: a bad number or language. OptedOut: the number opted out.
            UserError: the sandbox already holds 10 numbers.
        """
        number = self._number(phone_number)
        if language_code not in _LANGUAGES:
            raise InvalidParameter(
                f"Invalid parameter: LanguageCode Reason: {language_code!r} is not one of "
                f"{', '.join(sorted(_LANGUAGES))}"
            )
        with self.loop._lock:
            if number in self._opted_out:
                raise OptedOut(f"The phone number {number} has opted out")
            if number not in self._sandbox and len(self._sandbox) >= SANDBOX_NUMBERS:
                raise UserError(
                    f"The SMS sandbox holds at most {SANDBOX_NUMBERS} destination phone numbers"
                )
            otp = f"{int.from_bytes(os.urandom(4), 'big') % 1_000_000:06d}"
            self._sandbox[number] = ["Pending", language_code, otp, None]
        self._send(number, f"Your one-time password is {otp}", {})

    def verify_sandbox_number(self, phone_number: str, one_time_password: str) -> None:
        """Verify a sandbox number with the password it was sent
        (``VerifySMSSandboxPhoneNumber``).

        Raises:
            ResourceNotFound: the number is not in the sandbox. VerificationException: wrong
            password.
        """
        number = self._number(phone_number)
        with self.loop._lock:
            entry = self._sandbox.get(number)
            if entry is None:
                raise ResourceNotFound(f"The phone number {number} is not in the SMS sandbox")
            if entry[0] == "Verified":
                return
            if one_time_password != entry[2]:
                raise VerificationException("Invalid one-time password")
            entry[0] = "Verified"
            entry[3] = self.loop.clock.now()

    def delete_sandbox_number(self, phone_number: str) -> None:
        """Remove a number from the sandbox (``DeleteSMSSandboxPhoneNumber``).

        Raises:
            ResourceNotFound: not in the sandbox. UserError: verified less than 24 hours ago.
        """
        number = self._number(phone_number)
        with self.loop._lock:
            entry = self._sandbox.get(number)
            if entry is None:
                raise ResourceNotFound(f"The phone number {number} is not in the SMS sandbox")
            if entry[3] is not None and self.loop.clock.now() - entry[3] < SANDBOX_DELETE_AFTER:
                raise UserError(
                    "A verified destination phone number can be deleted only 24 hours after "
                    "its verification"
                )
            del self._sandbox[number]

    def sandbox_numbers(self) -> list[dict[str, str]]:
        """``{"PhoneNumber": ..., "Status": "Pending" | "Verified"}`` per sandbox number, in
        the order added (``ListSMSSandboxPhoneNumbers``)."""
        with self.loop._lock:
            return [{"PhoneNumber": n, "Status": e[0]} for n, e in self._sandbox.items()]

    def origination_numbers(self) -> list[dict[str, Any]]:
        """The account's origination numbers (``ListOriginationNumbers``): none in process."""
        return []

    # -- sending ----------------------------------------------------------------------------

    def publish(
        self,
        phone_number: str,
        message: str,
        *,
        message_attributes: Mapping[str, Any] | None = None,
        message_structure: str | None = None,
    ) -> str:
        """Send one SMS (``Publish`` with ``PhoneNumber``); return its ``MessageId``.

        A number that opted out is not sent to (the call still succeeds, as SNS's does).

        Args:
            phone_number: E.164 (``+15555550100``).
            message: at most 1,600 characters.
            message_attributes: e.g. ``AWS.SNS.SMS.SenderID``, ``AWS.SNS.SMS.SMSType``.
            message_structure: ``"json"``: ``message`` is a JSON object whose ``sms`` key (else
                ``default``) is sent.

        Raises:
            InvalidParameter: a bad number or message. AuthorizationError: the account is in
            the sandbox and the number is not a verified sandbox number.
        """
        if not isinstance(phone_number, str) or not E164.fullmatch(phone_number):
            raise InvalidParameter(
                f"Invalid parameter: PhoneNumber Reason: {phone_number} is not valid to publish to"
            )
        text = check_message(message)
        structure = parse_structure(text, message_structure)
        if structure is not None:
            text = structure.get("sms", structure["default"])
        if len(text) > SMS_MAX_CHARACTERS:
            raise InvalidParameter(
                f"Invalid parameter: Message Reason: an SMS can be at most {SMS_MAX_CHARACTERS} "
                f"characters, got {len(text)}"
            )
        attributes = normalize_sns_attributes(message_attributes) or {}
        with self.loop._lock:
            if self.in_sandbox and (self._sandbox.get(phone_number) or [None])[0] != "Verified":
                raise AuthorizationError(
                    f"The account is in the SMS sandbox and {phone_number} is not a verified "
                    "destination phone number"
                )
            opted_out = phone_number in self._opted_out
        message_id = str(uuid.uuid4())
        if not opted_out:
            self._send(phone_number, text, attributes, message_id)
        return message_id

    def _send(self, number: str, text: str, attributes: Mapping[str, Any],
              message_id: str | None = None) -> None:
        sender = ""
        found = attributes.get("AWS.SNS.SMS.SenderID")
        if found is not None:
            sender = found.string_value or ""
        with self.loop._lock:
            sender = sender or self._attributes.get("DefaultSenderID", "")
        sms = SmsMessage(number, text, sender, message_id or str(uuid.uuid4()), "", "",
                         dict(attributes), 1)
        if self.loop.sms is None:
            with self.loop._lock:
                self.outbox.append(sms)
                if len(self.outbox) > OUTBOX_LIMIT:
                    del self.outbox[: len(self.outbox) - OUTBOX_LIMIT]
            return
        with self.loop._lock:
            DirectDelivery(self.loop, self, lambda n: self._attempt(sms, n),
                           f"SMS {sms.message_id} to {number}").schedule()

    def _attempt(self, sms: SmsMessage, attempt: int) -> None:
        transport = self.loop.sms
        if transport is None:
            raise ClientDeliveryError("the loop has no SMS transport")
        transport(attrs.evolve(sms, attempt=attempt))


def opted_out(loop: EventLoop, number: str) -> bool:
    """Whether ``number`` opted out on this loop (no account made if none exists; lock held)."""
    account = loop._lookup("_sns", "sms-account")
    return account is not None and number in account._opted_out
