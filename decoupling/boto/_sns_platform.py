"""SNS mobile push and SMS operations for the boto3 bridge.

Platform applications and endpoints (:mod:`decoupling.sns.platform`) and the account's SMS
side (:class:`decoupling.sns.sms_account.SmsAccount`). Shapes follow botocore's SNS model
(query protocol); lists page 100 entries at a time with opaque ``NextToken`` values.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from ..errors import InvalidParameter, ValidationError
from ..loop import EventLoop
from ..sns import platform
from ..sns.platform import PlatformApplication
from ..sns.sms_account import SmsAccount

__all__ = ["OPERATIONS"]

_PAGE = 100


def _null(name: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: "
        "Member must not be null"
    )


def _page(items: list[Any], token: str | None, size: int = _PAGE) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidParameter("Invalid parameter: NextToken") from None
    more = start + size < len(items)
    token_out = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
    return items[start : start + size], token_out


def _max_results(p: dict[str, Any], low: int, high: int) -> int:
    value = p.get("MaxResults", high)
    if not low <= value <= high:
        raise InvalidParameter(
            f"Invalid parameter: MaxResults Reason: must be between {low} and {high}, got {value}"
        )
    return int(value)


# -- platform applications ----------------------------------------------------------------------


def create_platform_application(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("Attributes"):
        raise _null("attributes")
    app = PlatformApplication(loop, p["Name"], p["Platform"], p["Attributes"])
    return {"PlatformApplicationArn": app.arn}


def get_platform_application_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"Attributes": platform.application(loop, p["PlatformApplicationArn"]).get_attributes()}


def set_platform_application_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    platform._check_arn("PlatformApplicationArn", p["PlatformApplicationArn"], 2)
    if not p.get("Attributes"):
        raise _null("attributes")
    platform.application(loop, p["PlatformApplicationArn"]).set_attributes(p["Attributes"])
    return {}


def delete_platform_application(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    found = loop._lookup("sns-app", p["PlatformApplicationArn"])
    if isinstance(found, PlatformApplication):
        found.delete()
    return {}  # deleting an application that does not exist succeeds


def list_platform_applications(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    apps = loop._resources_of("sns-app")
    page, token = _page(apps, p.get("NextToken"))
    out: dict[str, Any] = {"PlatformApplications": [
        {"PlatformApplicationArn": app.arn, "Attributes": app.get_attributes()} for app in page
    ]}
    if token:
        out["NextToken"] = token
    return out


# -- endpoints ------------------------------------------------------------------------------------


def create_platform_endpoint(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    app = platform.application(loop, p["PlatformApplicationArn"])
    endpoint = app.create_endpoint(p["Token"], p.get("CustomUserData"), p.get("Attributes"))
    return {"EndpointArn": endpoint.arn}


def get_endpoint_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"Attributes": platform.endpoint(loop, p["EndpointArn"]).get_attributes()}


def set_endpoint_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    platform._check_arn("EndpointArn", p["EndpointArn"], 3)
    if not p.get("Attributes"):
        raise _null("attributes")
    platform.endpoint(loop, p["EndpointArn"]).set_attributes(p["Attributes"])
    return {}


def delete_endpoint(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    found = loop._lookup("sns-endpoint", p["EndpointArn"])
    if isinstance(found, platform.PlatformEndpoint):
        found.delete()
    return {}  # idempotent, as SNS


def list_endpoints_by_platform_application(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    app = platform.application(loop, p["PlatformApplicationArn"])
    page, token = _page(app.endpoints(), p.get("NextToken"))
    out: dict[str, Any] = {"Endpoints": [
        {"EndpointArn": e.arn, "Attributes": e.get_attributes()} for e in page
    ]}
    if token:
        out["NextToken"] = token
    return out


# -- SMS ------------------------------------------------------------------------------------------


def set_sms_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    SmsAccount.of(loop).set_attributes(p.get("attributes") or {})
    return {}


def get_sms_attributes(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"attributes": SmsAccount.of(loop).get_attributes(p.get("attributes"))}


def check_if_phone_number_is_opted_out(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"isOptedOut": SmsAccount.of(loop).is_opted_out(p["phoneNumber"])}


def list_phone_numbers_opted_out(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    page, token = _page(SmsAccount.of(loop).opted_out(), p.get("nextToken"))
    out: dict[str, Any] = {"phoneNumbers": page}
    if token:
        out["nextToken"] = token
    return out


def opt_in_phone_number(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    SmsAccount.of(loop).opt_in(p["phoneNumber"])
    return {}


def create_sms_sandbox_phone_number(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    SmsAccount.of(loop).create_sandbox_number(p["PhoneNumber"], p.get("LanguageCode", "en-US"))
    return {}


def verify_sms_sandbox_phone_number(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    SmsAccount.of(loop).verify_sandbox_number(p["PhoneNumber"], p["OneTimePassword"])
    return {}


def delete_sms_sandbox_phone_number(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    SmsAccount.of(loop).delete_sandbox_number(p["PhoneNumber"])
    return {}


def list_sms_sandbox_phone_numbers(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    size = _max_results(p, 1, 100)
    page, token = _page(SmsAccount.of(loop).sandbox_numbers(), p.get("NextToken"), size)
    out: dict[str, Any] = {"PhoneNumbers": page}
    if token:
        out["NextToken"] = token
    return out


def get_sms_sandbox_account_status(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    return {"IsInSandbox": SmsAccount.of(loop).in_sandbox}


def list_origination_numbers(loop: EventLoop, p: dict[str, Any]) -> dict[str, Any]:
    size = _max_results(p, 1, 30)
    page, token = _page(SmsAccount.of(loop).origination_numbers(), p.get("NextToken"), size)
    out: dict[str, Any] = {"PhoneNumbers": page}
    if token:
        out["NextToken"] = token
    return out


OPERATIONS: dict[str, Callable[[EventLoop, dict[str, Any]], dict[str, Any]]] = {
    "CreatePlatformApplication": create_platform_application,
    "GetPlatformApplicationAttributes": get_platform_application_attributes,
    "SetPlatformApplicationAttributes": set_platform_application_attributes,
    "DeletePlatformApplication": delete_platform_application,
    "ListPlatformApplications": list_platform_applications,
    "CreatePlatformEndpoint": create_platform_endpoint,
    "GetEndpointAttributes": get_endpoint_attributes,
    "SetEndpointAttributes": set_endpoint_attributes,
    "DeleteEndpoint": delete_endpoint,
    "ListEndpointsByPlatformApplication": list_endpoints_by_platform_application,
    "SetSMSAttributes": set_sms_attributes,
    "GetSMSAttributes": get_sms_attributes,
    "CheckIfPhoneNumberIsOptedOut": check_if_phone_number_is_opted_out,
    "ListPhoneNumbersOptedOut": list_phone_numbers_opted_out,
    "OptInPhoneNumber": opt_in_phone_number,
    "CreateSMSSandboxPhoneNumber": create_sms_sandbox_phone_number,
    "VerifySMSSandboxPhoneNumber": verify_sms_sandbox_phone_number,
    "DeleteSMSSandboxPhoneNumber": delete_sms_sandbox_phone_number,
    "ListSMSSandboxPhoneNumbers": list_sms_sandbox_phone_numbers,
    "GetSMSSandboxAccountStatus": get_sms_sandbox_account_status,
    "ListOriginationNumbers": list_origination_numbers,
}
